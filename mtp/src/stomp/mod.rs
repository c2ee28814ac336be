//! The STOMP 1.2 link (TR-369 "STOMP Binding"): a frame codec and a session state machine with
//! no I/O, driven by a thin blocking thread.
//!
//! One link per `Device.STOMP.Connection.{i}`: [`StompConfig`] is everything it needs.

use std::time::Duration;

use crate::retry::RetryPolicy;

pub mod codec;

/// The configuration of one STOMP connection link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StompConfig {
    /// The Endpoint ID sent in the `endpoint-id` header.
    pub endpoint_id: String,
    /// `Host`.
    pub host: String,
    /// `Port`.
    pub port: u16,
    /// `VirtualHost` (the `host` header); empty: the `Host` value.
    pub virtual_host: String,
    /// `Username` (`login`).
    pub username: String,
    /// `Password` (`passcode`).
    pub password: String,
    /// `EnableHeartbeats` with `OutgoingHeartbeat` / `IncomingHeartbeat` (milliseconds); `None`
    /// sends `heart-beat:0,0`.
    pub heartbeat: Option<(Duration, Duration)>,
    /// `LocalAgent.MTP.{i}.STOMP.Destination`: subscribed when the server sends no
    /// `subscribe-dest`. Empty: none.
    pub destination: String,
    /// `ServerRetryInitialInterval` / `ServerRetryIntervalMultiplier` / `ServerRetryMaxInterval`.
    pub retry: RetryPolicy,
    /// TLS (`EnableEncryption`); `None` for plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ClientTls>,
    /// The largest frame body accepted or sent.
    pub max_record: usize,
}
