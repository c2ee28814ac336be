//! The USP Message Transfer Protocols, shared by the agent (`uspagent`) and the lab controller
//! (`uspctl`): MQTT 5.0 / 3.1.1, STOMP 1.2 and WebSocket (client and server), each optionally
//! over TLS.
//!
//! Every transport is a *link*: a thread (or a few) that owns one connection (or one listening
//! socket and its sessions), keeps it up by itself (reconnecting with the back-off the data
//! model configures, see [`retry::RetryPolicy`]) and talks to its owner in two directions:
//!
//! - owner → link: a [`Link`] handle with [`Link::send`] (a Record to a destination),
//!   [`Link::set_subscriptions`] (MQTT: new subscriptions on the live connection) and
//!   [`Link::stop`]; dropping the handle stops the link too.
//! - link → owner: [`MtpEvent`]s (up, a Record received, subscriptions changed, down) passed
//!   to an [`EventSink`], a callback the owner gives at spawn time (the agent forwards them
//!   into its single input channel; uspctl into its own).
//!
//! What this crate owns: sockets, framing, the MTP's own handshakes (MQTT CONNECT/SUBSCRIBE,
//! STOMP CONNECT/SUBSCRIBE, the WebSocket upgrade with `v1.usp`), keep-alives, reconnection,
//! TLS. What it never does: decode or build USP Records (the payload is opaque bytes; the agent
//! builds the Connect Records from [`ConnectInfo`]), read the data model (configuration arrives
//! as plain structs), or decide which controller a Record goes to (the owner names the
//! destination).
//!
//! Protocol logic that can be written without I/O is (the STOMP frame codec and session, the
//! MQTT session over rumqttc's packet codecs, the retry schedule), and is tested by scripted
//! exchanges; the I/O threads are thin, and no link uses an async runtime.
//!
//! Cargo features: `mqtt`, `stomp`, `websocket`, `tls` (all on by default) so integrators can
//! build small.

use std::sync::Arc;
use std::time::Duration;

pub mod endpoint_id;
pub mod mdns;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(any(feature = "mqtt", feature = "stomp"))]
mod net;
pub use usp_util::retry;
#[cfg(feature = "stomp")]
pub mod stomp;
#[cfg(feature = "tls")]
pub mod tls;
pub mod wake;
#[cfg(feature = "websocket")]
pub mod ws;

/// The owner's name for one link (an MQTT client, a STOMP connection, a WebSocket client
/// towards one controller, a WebSocket server). Chosen by the owner when it spawns the link;
/// echoed in every [`MtpEvent`].
pub type LinkId = u32;

/// A callback receiving the events of links. Called from the links' threads: it must be quick
/// and must not block (typically it sends into a channel).
pub type EventSink = Arc<dyn Fn(MtpEvent) + Send + Sync>;

/// An [`EventSink`] that forwards every event into a channel, and the channel's receiving end:
/// the simplest owner (tests, examples, a one-shot controller).
pub fn channel_sink() -> (EventSink, std::sync::mpsc::Receiver<MtpEvent>) {
    let (tx, rx) = std::sync::mpsc::channel();
    // A send fails only when the receiver is gone: the owner stopped listening.
    (Arc::new(move |e| drop(tx.send(e))), rx)
}

/// What a link reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MtpEvent {
    /// The link is up and ready to carry Records (for MQTT and STOMP: connected *and*
    /// subscribed; for a WebSocket server: one more session is open, `peer` says whose).
    Up {
        /// The link.
        link: LinkId,
        /// The peer's Endpoint ID when the MTP tells it (a WebSocket session's `eid`).
        peer: Option<String>,
        /// What the owner needs to send the Connect Record and to update the data model.
        info: ConnectInfo,
    },
    /// A message arrived: the bytes of one USP Record (not decoded).
    Received {
        /// The link.
        link: LinkId,
        /// The session's peer Endpoint ID when the MTP tells it (WebSocket).
        peer: Option<String>,
        /// Where answers go: MQTT's Response Topic (or the 3.1.1 `/reply-to=` suffix, decoded),
        /// STOMP's `reply-to-dest`. `None` when the MTP has no such notion (WebSocket: answer on
        /// the same session).
        reply_to: Option<String>,
        /// The Record.
        record: Vec<u8>,
    },
    /// The link (or, for a WebSocket server, the session of `peer`) went down. Client links
    /// retry by themselves; `retry_in` says when, `None` when they gave up (disabled by a
    /// protocol rule, e.g. MQTT without any topic to subscribe to).
    Down {
        /// The link.
        link: LinkId,
        /// The session's peer for a WebSocket server session.
        peer: Option<String>,
        /// Why, for logs and the data model's Status.
        reason: String,
        /// When the next connection attempt is made.
        retry_in: Option<Duration>,
    },
    /// An MQTT link changed its subscriptions while staying connected (after
    /// [`Link::set_subscriptions`]): the broker answered one of the SUBSCRIBE or UNSUBSCRIBE
    /// packets of the change.
    Subscribed {
        /// The link.
        link: LinkId,
        /// Every topic filter now subscribed, in order (as [`ConnectInfo::Mqtt::subscribed`]).
        subscribed: Vec<String>,
    },
}

/// What a link learnt while connecting: what the Connect Record announces and what the data
/// model shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectInfo {
    /// An MQTT client is connected and subscribed.
    Mqtt {
        /// `true` for MQTT 5.0, `false` for 3.1.1.
        v5: bool,
        /// The topic the agent receives on (the first subscription that is its own address):
        /// the MQTTConnectRecord's `subscribed_topic`, and where Records should be addressed.
        subscribed_topic: String,
        /// The CONNACK Assigned Client Identifier (v5, when the client sent an empty one).
        assigned_client_id: Option<String>,
        /// The CONNACK Response Information (v5), for `ResponseTopicDiscovered`.
        response_information: Option<String>,
        /// Every topic subscribed, in order.
        subscribed: Vec<String>,
    },
    /// A STOMP connection is connected and subscribed.
    Stomp {
        /// The destination subscribed to (the STOMPConnectRecord's `subscribed_destination`).
        subscribed_destination: String,
        /// The CONNECTED frame's `subscribe-dest`, for `DestinationFromServer`.
        destination_from_server: Option<String>,
    },
    /// A WebSocket session is open (as client or as server).
    WebSocket,
}

/// One Record to send on a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    /// Where: the MQTT topic, the STOMP destination, or, on a WebSocket server, the peer's
    /// Endpoint ID (a WebSocket client link ignores it: it has one peer).
    pub dest: String,
    /// The bytes of the Record.
    pub record: Vec<u8>,
    /// MQTT: publish with the retain flag (`PublishRetainResponse` / `PublishRetainNotify`).
    pub retain: bool,
}

/// Data that is not a USP Record, published by an MQTT link for the agent: a Bulk Data report
/// (TR-369 "MQTT Bulk Data Collection", R-BULK.8a).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPublish {
    /// The topic (`PublishTopic`).
    pub topic: String,
    /// The report.
    pub payload: Vec<u8>,
    /// The MQTT 5.0 Content Type (`application/json; charset=UTF-8`); 3.1.1 sends none.
    pub content_type: String,
    /// QoS 0 or 1 (2 is sent as 1).
    pub qos: u8,
    /// The retain flag.
    pub retain: bool,
}

/// Why a Record could not be handed to a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The link is not connected (or, on a WebSocket server, no session with that peer).
    NotConnected,
    /// The link's thread has ended.
    Stopped,
    /// The Record is larger than the link accepts.
    TooLarge {
        /// The limit in bytes.
        max: usize,
    },
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NotConnected => f.write_str("not connected"),
            SendError::Stopped => f.write_str("link stopped"),
            SendError::TooLarge { max } => write!(f, "record larger than {max} bytes"),
        }
    }
}

impl std::error::Error for SendError {}

/// A running link cannot take a configuration change in place: the owner stops it and starts
/// a new one with the new configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartNeeded;

impl std::fmt::Display for RestartNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the link must be restarted to take this change")
    }
}

impl std::error::Error for RestartNeeded {}

/// The owner's handle on a running link. Dropping it stops the link (politely: MQTT
/// DISCONNECT, STOMP DISCONNECT, WebSocket Close) without waiting.
pub trait Link: Send {
    /// Queues a Record for sending; does not wait for the network.
    fn send(&self, out: Outbound) -> Result<(), SendError>;
    /// Stops the link and waits (at most a second or two) for its thread to close the
    /// connection politely.
    fn stop(&mut self);
    /// The owner could not parse a Record that arrived from `peer` (the `peer` of its
    /// [`MtpEvent::Received`]). WebSocket closes that session with status 1003 (R-WS.16; a
    /// client link then reconnects on its schedule); MTPs without such a rule ignore it, which
    /// is what this default does.
    fn close_unparseable(&self, peer: Option<&str>) {
        let _ = peer;
    }
    /// Publishes data that is not a Record while the link is up ([`DataPublish`]); only MQTT
    /// links can, every other one (this default) says [`SendError::NotConnected`].
    fn publish_data(&self, data: DataPublish) -> Result<(), SendError> {
        let _ = data;
        Err(SendError::NotConnected)
    }
    /// Replaces the topic filters the link subscribes to (`(filter, QoS)`, in order: MQTT's
    /// enabled `Client.{i}.Subscription.{i}`) without dropping its connection: the MQTT link
    /// sends SUBSCRIBE for new filters, then UNSUBSCRIBE for removed ones (R-MQTT.34), reports
    /// [`MtpEvent::Subscribed`] as the broker answers, and uses the new list on every later
    /// connection. `Err(RestartNeeded)` when the link cannot do it in place (this default, for
    /// every other MTP; MQTT when the change moves the link's own topic): the owner restarts it.
    fn set_subscriptions(&self, subscriptions: &[(String, u8)]) -> Result<(), RestartNeeded> {
        let _ = subscriptions;
        Err(RestartNeeded)
    }
}

/// The largest Record any link accepts or sends by default (obuspa 11 uses 5 MB).
pub const DEFAULT_MAX_RECORD: usize = 5 * 1024 * 1024;
