//! The request side of one MQTT connection ([`Handle`]): SUBSCRIBE, UNSUBSCRIBE, PUBLISH and
//! DISCONNECT written by the calling thread itself, straight into the connection's session and
//! socket, without waking the link thread for them.
//!
//! Owns the [`Wire`] (the connection's transport and session) that the owner's threads and the
//! link thread share under one lock, and the non-blocking write the owner's threads do. A write
//! the socket cannot take at once (or that fails) is left to the link thread, which is woken to
//! finish it when the socket can take more (or to end the connection). Never decides what to subscribe
//! to (`topics.rs`).

use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::events::ConnError;
use super::session::Session;
use crate::net::Transport;
use crate::wake::Waker;

/// One connected connection: its byte stream and its protocol state.
pub(super) struct Wire {
    /// The byte stream.
    pub t: Transport,
    /// The protocol state.
    pub session: Session,
    /// A write done by an owner's thread failed: the connection ends.
    pub failed: Option<ConnError>,
}

impl Wire {
    /// Writes what the session has to send now, without blocking; what the socket does not take
    /// goes back to the session. `true` when the link thread must take over (bytes left or the
    /// write failed).
    fn flush_nonblocking(&mut self, now: Instant) -> bool {
        let Some(mut out) = self.session.take_output(now) else { return false };
        match self.t.try_write(&out) {
            Ok(n) if n == out.len() && !self.t.has_pending() => false,
            Ok(n) => {
                self.session.unwrite(out.split_off(n));
                true
            }
            Err(e)
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
            {
                self.session.unwrite(out);
                true
            }
            Err(e) => {
                self.failed = Some(ConnError::Io(format!("write: {e}")));
                true
            }
        }
    }
}

/// The slot of a connection's [`Wire`]: empty until TCP (and TLS) are up, and after the end.
pub(super) type Slot = Arc<Mutex<Option<Wire>>>;

/// Locks a slot (a poisoned lock only means a thread panicked holding it).
pub(super) fn lock(slot: &Slot) -> MutexGuard<'_, Option<Wire>> {
    slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The request side of one connection. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub(super) struct Handle {
    slot: Slot,
    waker: Waker,
}

impl Handle {
    /// The handle of the connection whose wire goes into `slot`; `waker` wakes its link thread.
    pub(super) fn new(slot: Slot, waker: Waker) -> Handle {
        Handle { slot, waker }
    }

    /// Runs `f` on the connected session, then writes its output without blocking (waking the
    /// link thread when it must finish the write). `Err` when not connected or failed.
    fn with_session(
        &self,
        f: impl FnOnce(&mut Session) -> Result<(), ConnError>,
    ) -> Result<(), ConnError> {
        let mut slot = lock(&self.slot);
        let Some(wire) = slot.as_mut() else { return Err(ConnError::Closed) };
        if let Some(e) = &wire.failed {
            return Err(e.clone());
        }
        f(&mut wire.session)?;
        if wire.flush_nonblocking(Instant::now()) || wire.session.has_events() {
            self.waker.wake();
        }
        Ok(())
    }

    /// Sends one SUBSCRIBE with every filter (already validated by `topics::plan`).
    pub(super) fn subscribe(&self, filters: &[(String, u8)]) -> Result<(), String> {
        self.with_session(|s| s.subscribe(filters)).map_err(|e| format!("SUBSCRIBE: {e}"))
    }

    /// Sends one UNSUBSCRIBE of `filter`.
    pub(super) fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.with_session(|s| s.unsubscribe(filter)).map_err(|e| format!("UNSUBSCRIBE: {e}"))
    }

    /// Sends one PUBLISH carrying `reply_to` (R-MQTT.23/24/27) with the link's QoS, together
    /// with the acknowledgements the session holds back. `Err` when the connection is gone or
    /// too much output already waits for a broker that does not read.
    pub(super) fn publish(
        &self,
        dest: &str,
        record: Vec<u8>,
        retain: bool,
        reply_to: &str,
    ) -> Result<(), ()> {
        self.with_session(|s| {
            if s.publish(dest.to_owned(), record, retain, reply_to.to_owned()) {
                Ok(())
            } else {
                Err(ConnError::Io("the broker takes no more output".into()))
            }
        })
        .map_err(drop)
    }

    /// Sends one PUBLISH of data that is not a Record ([`crate::DataPublish`]).
    pub(super) fn publish_data(&self, data: crate::DataPublish) -> Result<(), ()> {
        let kind = super::session::Kind::Data { content_type: data.content_type, qos: data.qos };
        self.with_session(|s| {
            if s.publish_kind(data.topic, data.payload, data.retain, kind) {
                Ok(())
            } else {
                Err(ConnError::Io("the broker takes no more output".into()))
            }
        })
        .map_err(drop)
    }

    /// Sends DISCONNECT (normal disconnection); the link thread is woken to see it out. Before
    /// the connection is up this only wakes the link thread, which checks for a stop once
    /// connected.
    pub(super) fn disconnect(&self) {
        if let Err(e) = self.with_session(Session::disconnect) {
            log::debug!("MQTT: DISCONNECT not sent: {e}");
        }
        self.waker.wake();
    }
}
