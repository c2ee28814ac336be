//! What one MQTT connection tells the link thread: the events it acts on ([`Ev`]) and why a
//! connection ended ([`ConnError`]), the same for v5 and 3.1.1.
//!
//! Owns only this vocabulary. Never acts on an event (the link thread in `link.rs` does).

use super::topics::Connack;

/// What the link thread learns from the connection.
#[derive(Debug)]
pub(super) enum Ev {
    /// The broker accepted the CONNECT.
    ConnAck {
        /// The v5 Assigned Client Identifier.
        assigned: Option<String>,
        /// What matters for subscribing.
        connack: Connack,
    },
    /// The answer to one of our SUBSCRIBEs: success of each filter, in order.
    SubAck(Vec<bool>),
    /// The answer to one of our UNSUBSCRIBEs.
    UnsubAck,
    /// A message arrived.
    Publish(Incoming),
    /// Our DISCONNECT went out.
    DisconnectSent,
}

/// A received PUBLISH, both versions.
#[derive(Debug)]
pub(super) struct Incoming {
    /// The topic name (for 3.1.1, with its `/reply-to=` suffix).
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The v5 Response Topic.
    pub response_topic: Option<String>,
    /// The v5 Content Type.
    pub content_type: Option<String>,
}

/// Why a connection ended (or could not be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ConnError {
    /// TCP or TLS could not be established.
    Connect(String),
    /// Reading, writing or waiting on the socket failed.
    Io(String),
    /// The broker closed the connection.
    Closed,
    /// The broker's bytes are not an MQTT packet we accept (malformed, too large, out of order,
    /// a bad Topic Alias).
    Malformed(String),
    /// A packet of ours could not be encoded (a configured value out of MQTT's ranges).
    Unencodable(String),
    /// The broker refused the CONNECT (its CONNACK reason).
    Refused(String),
    /// No CONNACK within the CONNECT timeout.
    NoConnAck,
    /// No PINGRESP within a keep-alive period after our PINGREQ.
    NoPingResp,
    /// The broker sent DISCONNECT (v5), with its reason.
    ClosedByBroker(String),
}

impl std::fmt::Display for ConnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnError::Connect(e) => write!(f, "cannot connect: {e}"),
            ConnError::Io(e) => write!(f, "I/O error: {e}"),
            ConnError::Closed => f.write_str("connection closed by the broker"),
            ConnError::Malformed(e) => write!(f, "protocol error: {e}"),
            ConnError::Unencodable(e) => write!(f, "cannot encode a packet: {e}"),
            ConnError::Refused(e) => f.write_str(e),
            ConnError::NoConnAck => f.write_str("no CONNACK in time"),
            ConnError::NoPingResp => f.write_str("no PINGRESP in time"),
            ConnError::ClosedByBroker(e) => write!(f, "the broker disconnected: {e}"),
        }
    }
}

impl std::error::Error for ConnError {}
