//! The request side of one MQTT connection ([`Handle`]): SUBSCRIBE, UNSUBSCRIBE, PUBLISH and
//! DISCONNECT queued for the link thread, which is woken to send them.
//!
//! Owns the queue between the owner's threads and the link thread. Never waits for the network
//! (every call only queues) and never decides what to subscribe to (`topics.rs`).

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};

use crate::wake::Waker;

/// Requests queued towards the link thread before `send` reports the link as busy
/// (`SendError::NotConnected`). Each holds one Record at most.
pub(super) const REQUEST_QUEUE: usize = 256;

/// One request for the link thread.
pub(super) enum Command {
    /// PUBLISH a Record.
    Publish {
        /// The topic.
        dest: String,
        /// The Record.
        record: Vec<u8>,
        /// The retain flag.
        retain: bool,
        /// Our own topic, given as the reply-to.
        reply_to: String,
    },
    /// One SUBSCRIBE of these filters.
    Subscribe(Vec<(String, u8)>),
    /// One UNSUBSCRIBE of this filter.
    Unsubscribe(String),
    /// DISCONNECT and end the connection.
    Disconnect,
}

/// The request side of one connection. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub(super) struct Handle {
    tx: SyncSender<Command>,
    waker: Waker,
}

/// A new request queue: the owner's side and the link thread's.
pub(super) fn queue(waker: Waker) -> (Handle, Receiver<Command>) {
    let (tx, rx) = mpsc::sync_channel(REQUEST_QUEUE);
    (Handle { tx, waker }, rx)
}

impl Handle {
    fn push(&self, c: Command) -> Result<(), TrySendError<Command>> {
        self.tx.try_send(c)?;
        self.waker.wake();
        Ok(())
    }

    /// Queues one SUBSCRIBE with every filter (already validated by `topics::plan`).
    pub(super) fn subscribe(&self, filters: &[(String, u8)]) -> Result<(), String> {
        self.push(Command::Subscribe(filters.to_vec()))
            .map_err(|_| "SUBSCRIBE could not be queued".to_owned())
    }

    /// Queues one UNSUBSCRIBE of `filter`.
    pub(super) fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        self.push(Command::Unsubscribe(filter.to_owned()))
            .map_err(|_| "UNSUBSCRIBE could not be queued".to_owned())
    }

    /// Queues one PUBLISH carrying `reply_to` (R-MQTT.23/24/27) with the link's QoS. `Err`
    /// when the queue is full or the connection is gone.
    pub(super) fn publish(
        &self,
        dest: &str,
        record: Vec<u8>,
        retain: bool,
        reply_to: &str,
    ) -> Result<(), ()> {
        let c = Command::Publish {
            dest: dest.to_owned(),
            record,
            retain,
            reply_to: reply_to.to_owned(),
        };
        self.push(c).map_err(drop)
    }

    /// Queues a DISCONNECT (normal disconnection). Best effort: when the queue is full the
    /// link thread notices the stop at its next event.
    pub(super) fn disconnect(&self) {
        if self.push(Command::Disconnect).is_err() {
            log::debug!("MQTT: DISCONNECT not queued (request queue full or closed)");
        }
    }
}
