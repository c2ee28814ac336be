//! The MQTT 5.0 / 3.1.1 link (TR-369 "MQTT Binding"), a blocking thread per link.
//!
//! One link per `Device.MQTT.Client.{i}`: [`MqttConfig`] is everything the link needs, read by
//! the owner from the data model; [`spawn`] starts it and returns an [`MqttLink`], the owner's
//! [`Link`] handle. The link is role-neutral: the agent and the lab controller (`uspctl`) use it
//! the same way (each subscribes to its own topic and publishes to its peers').
//!
//! What the link does, per TR-369's MQTT binding:
//! - CONNECT: ClientId as configured, else empty (v5, the CONNACK Assigned Client Identifier is
//!   reported in [`crate::ConnectInfo::Mqtt`] and reused on every reconnect of this link) or the
//!   Endpoint ID (3.1.1); Username/Password; KeepAlive; CleanStart/CleanSession; v5 Request
//!   Response Information and the `usp-endpoint-id` User Property; and what TR-181 configures
//!   besides ([`MqttExtended`]): the Last Will, v5 Session Expiry Interval, Receive Maximum,
//!   Maximum Packet Size, Topic Alias Maximum, Request Problem Information, User Properties
//!   (3.1.1 ignores the v5-only ones).
//! - SUBSCRIBE (one packet) to the filters of R-MQTT.15 (see [`topics::plan`]); none at all:
//!   DISCONNECT and [`MtpEvent::Down`] with `retry_in: None`, the thread ends (R-MQTT.16). A
//!   refused SUBSCRIBE (every filter, or the one delivering our own topic): DISCONNECT and retry,
//!   nothing is published meanwhile (R-MQTT.17). [`MtpEvent::Up`] comes after the SUBACK.
//! - [`Link::set_subscriptions`] while up: SUBSCRIBE to the new filters, then UNSUBSCRIBE the
//!   removed ones (R-MQTT.34), [`MtpEvent::Subscribed`] after each answer; the connection stays
//!   (unless the change moves the own topic: the owner restarts the link). A refused filter
//!   delivering our own topic is handled as at connection time (R-MQTT.17).
//! - PUBLISH with our own topic as Response Topic and Content Type `usp.msg` (v5), or with
//!   `/reply-to=<own topic, / as %2F>` appended to the topic (3.1.1); QoS `publish_qos`
//!   (0 or 1); retain as [`Outbound::retain`] says; v5: the configured Message Expiry Interval
//!   and User Properties.
//! - [`Link::publish_data`]: other data the agent publishes on the link's connection (Bulk Data
//!   reports): the given topic, QoS (2 sent as 1), retain flag and v5 Content Type, no Response
//!   Topic and no `/reply-to=` suffix.
//! - Receive: payloads with Content Type `usp.msg`, `application/vnd.bbf.usp.msg` or none are
//!   reported with the reply-to topic (v5 Response Topic, else a decoded `/reply-to=` suffix);
//!   larger than `max_record`: dropped with a warning.
//! - Reconnect after every failure with [`crate::retry::Backoff`] over `retry`, reporting
//!   [`MtpEvent::Down`] with the wait each time; the wait never exceeds the configured maximum.
//! - [`Link::stop`] or dropping the handle sends DISCONNECT. After a stop the link reports
//!   nothing more (but an event already being delivered at that moment).
//!
//! Threads: each link has its own thread, which owns the socket (TCP or rustls) and drives the
//! MQTT session (`session.rs`, sans-IO, on rumqttc's packet codecs in `wire.rs`) itself, waiting
//! on the socket and the owner's queue at once ([`crate::wake`]); there is no async runtime. A
//! broken or slow broker delays no other link. `send` never waits for the network: the calling
//! thread encodes the PUBLISH into the session and writes it without blocking, together with the
//! PUBACK of the request it answers (held back for it), in one write; what the socket does not
//! take at once is left to the link thread.

mod config;
mod conn;
mod connect;
mod events;
mod link;
mod live;
mod requests;
mod session;
pub mod topics;
mod wire;

#[cfg(test)]
mod tests_support;

pub use config::{MqttConfig, MqttExtended, PacketType, UserProperty, Will};

use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{DataPublish, EventSink, Link, LinkId, MtpEvent, Outbound, RestartNeeded, SendError};

/// What the owner's handle and the link thread share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when `stopping` is set (ends a back-off wait early).
    wake: Condvar,
}

/// The link's state as the owner's handle sees it.
#[derive(Default)]
struct State {
    /// The owner asked the link to stop.
    stopping: bool,
    /// The link thread has ended.
    finished: bool,
    /// The request side of the current connection (connecting or up).
    current: Option<requests::Handle>,
    /// Our own topic while the link is up (subscribed): publishing is allowed only then.
    reply_to: Option<String>,
    /// The configured subscriptions every new connection plans from (see
    /// [`Link::set_subscriptions`]).
    configured: Vec<(String, u8)>,
    /// The subscriptions of the connection that is up; `None` unless up.
    live: Option<live::Live>,
}

impl State {
    /// Forgets the current connection (it ended or is ending).
    fn clear_connection(&mut self) {
        self.current = None;
        self.reply_to = None;
        self.live = None;
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a thread panicked while holding it; the state stays usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the link stopping and queues a DISCONNECT on the current connection.
    fn begin_stop(&self) {
        let mut st = self.lock();
        st.stopping = true;
        st.reply_to = None;
        if let Some(h) = &st.current {
            h.disconnect();
        }
        drop(st);
        self.wake.notify_all();
    }
}

/// The owner's handle on one MQTT link (see the module documentation).
pub struct MqttLink {
    shared: Arc<Shared>,
    max_record: usize,
    thread: Option<JoinHandle<()>>,
    /// Disconnected when the thread ends.
    done: Option<mpsc::Receiver<()>>,
}

/// Starts the link for `config`; it reports to `sink` under `id`. Returns at once: the link
/// connects (and reconnects) by itself. If the thread cannot be created, `sink` receives a
/// [`MtpEvent::Down`] with `retry_in: None` and every `send` fails with [`SendError::Stopped`].
pub fn spawn(id: LinkId, config: MqttConfig, sink: EventSink) -> MqttLink {
    let state = State { configured: config.subscriptions.clone(), ..State::default() };
    let shared = Arc::new(Shared { state: Mutex::new(state), wake: Condvar::new() });
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let max_record = config.max_record;
    let thread_shared = Arc::clone(&shared);
    let thread_sink = Arc::clone(&sink);
    let spawned = std::thread::Builder::new().name(format!("mqtt-{id}")).spawn(move || {
        let _done = done_tx;
        link::run(id, &config, &thread_sink, &thread_shared);
    });
    let thread = match spawned {
        Ok(t) => Some(t),
        Err(e) => {
            shared.lock().finished = true;
            let reason = format!("cannot start the link thread: {e}");
            sink(MtpEvent::Down { link: id, peer: None, reason, retry_in: None });
            None
        }
    };
    MqttLink { shared, max_record, thread, done: Some(done_rx) }
}

impl Link for MqttLink {
    fn send(&self, out: Outbound) -> Result<(), SendError> {
        if out.record.len() > self.max_record {
            return Err(SendError::TooLarge { max: self.max_record });
        }
        if !topics::valid_topic(&out.dest) {
            log::warn!("MQTT: cannot publish to {:?}: not a topic name", out.dest);
            return Err(SendError::NotConnected);
        }
        let st = self.shared.lock();
        if st.finished || st.stopping {
            return Err(SendError::Stopped);
        }
        match (&st.current, &st.reply_to) {
            (Some(h), Some(reply_to)) => h
                .publish(&out.dest, out.record, out.retain, reply_to)
                .map_err(|()| SendError::NotConnected),
            _ => Err(SendError::NotConnected),
        }
    }

    fn publish_data(&self, data: DataPublish) -> Result<(), SendError> {
        if data.payload.len() > self.max_record {
            return Err(SendError::TooLarge { max: self.max_record });
        }
        if !topics::valid_topic(&data.topic) {
            log::warn!("MQTT: cannot publish to {:?}: not a topic name", data.topic);
            return Err(SendError::NotConnected);
        }
        let st = self.shared.lock();
        if st.finished || st.stopping {
            return Err(SendError::Stopped);
        }
        match (&st.current, &st.reply_to) {
            (Some(h), Some(_)) => h.publish_data(data).map_err(|()| SendError::NotConnected),
            _ => Err(SendError::NotConnected),
        }
    }

    fn set_subscriptions(&self, subscriptions: &[(String, u8)]) -> Result<(), RestartNeeded> {
        let mut st = self.shared.lock();
        if st.finished || st.stopping {
            return Err(RestartNeeded);
        }
        st.configured = subscriptions.to_vec();
        let State { current, live, .. } = &mut *st;
        match (current, live) {
            (Some(handle), Some(live)) => live.change(handle, subscriptions),
            // Not up: the connection being made checks the list once subscribed, later ones
            // plan from it.
            _ => Ok(()),
        }
    }

    fn stop(&mut self) {
        self.shared.begin_stop();
        if let Some(done) = self.done.take() {
            // Disconnected as soon as the thread ends; a thread stuck in a connect attempt is
            // left to finish it alone (it sends DISCONNECT and exits).
            if done.recv_timeout(Duration::from_secs(2)) != Err(mpsc::RecvTimeoutError::Timeout) {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Drop for MqttLink {
    fn drop(&mut self) {
        self.shared.begin_stop();
    }
}

impl std::fmt::Debug for MqttLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.shared.lock();
        f.debug_struct("MqttLink")
            .field("up", &st.reply_to.is_some())
            .field("stopping", &st.stopping)
            .field("finished", &st.finished)
            .finish()
    }
}
