//! The channel from the link's threads (and from Ctrl-C) to the [`super::Controller`]: an
//! [`EventSink`] closure that forwards [`MtpEvent`]s, and [`Interrupter`]s that wake a wait.
//! Owns nothing else; never blocks a sender.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use usp_mtp::{EventSink, MtpEvent};

/// What the controller's wait loop receives.
#[derive(Debug)]
pub(crate) enum Input {
    /// An event of the link.
    Mtp(MtpEvent),
    /// Stop waiting ([`Interrupter::interrupt`]).
    Interrupt,
}

/// The receiving end of [`event_channel`], handed to [`super::Controller::new`].
#[derive(Debug)]
pub struct Inbox {
    rx: Receiver<Input>,
    tx: Sender<Input>,
}

/// Makes waits of a [`super::Controller`] return [`super::ClientError::Interrupted`]. Cheap to
/// clone, usable from any thread (the Ctrl-C thread holds one).
#[derive(Clone, Debug)]
pub struct Interrupter {
    tx: Sender<Input>,
}

impl Interrupter {
    /// Interrupts the current (or, when none is running, the next) wait of the controller.
    pub fn interrupt(&self) {
        // The controller may be gone already: nothing to interrupt then.
        let _ = self.tx.send(Input::Interrupt);
    }
}

/// A new channel: the [`EventSink`] to give the link when it is spawned, and the [`Inbox`] to
/// give the controller.
pub fn event_channel() -> (EventSink, Inbox) {
    let (tx, rx) = channel();
    let link_tx = tx.clone();
    let sink: EventSink = Arc::new(move |event| {
        // A closed receiver means the controller is gone: the event has nobody to go to.
        let _ = link_tx.send(Input::Mtp(event));
    });
    (sink, Inbox { rx, tx })
}

impl Inbox {
    /// A handle that interrupts waits on this inbox.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter { tx: self.tx.clone() }
    }

    /// The next input before `deadline`; `Ok(None)` when the deadline passes first.
    pub(crate) fn recv_until(&self, deadline: Instant) -> Result<Option<Input>, Closed> {
        let wait = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(wait) {
            Ok(input) => Ok(Some(input)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(Closed),
        }
    }

    /// An input already waiting, without blocking.
    pub(crate) fn try_recv(&self) -> Option<Input> {
        self.rx.try_recv().ok()
    }
}

/// The channel has no sender left (cannot happen while the inbox holds its own sender; kept
/// for completeness of the receive contract).
#[derive(Debug)]
pub(crate) struct Closed;

/// The deadline `timeout` from now, saturating far in the future for huge timeouts.
pub(crate) fn deadline_in(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout).unwrap_or_else(|| now + Duration::from_secs(86_400 * 365))
}
