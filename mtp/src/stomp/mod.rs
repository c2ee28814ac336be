//! The STOMP 1.2 link (TR-369 "STOMP Binding"): a frame codec ([`codec`]) and a session state
//! machine with no I/O ([`session`]), driven by a thin blocking thread ([`spawn`]).
//!
//! One link per `Device.STOMP.Connection.{i}`: [`StompConfig`] is everything it needs. The same
//! link serves the agent and uspctl: nothing in it depends on the role.

use std::time::Duration;

use crate::retry::RetryPolicy;

pub mod codec;
mod link;
pub mod session;

pub use link::{StompLink, max_queued, spawn};

/// TR-181's defaults for `ServerRetryInitialInterval` (60 s), `ServerRetryIntervalMultiplier`
/// (2000) and `ServerRetryMaxInterval` (30720 s).
pub const DEFAULT_RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 60, multiplier_permille: 2000, max_wait_secs: 30720 };

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
    /// omits the `heart-beat` header (R-STOMP.9), which STOMP reads as `0,0`.
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

impl StompConfig {
    /// A configuration with TR-181's defaults for everything but the endpoint and the server:
    /// no credentials, no virtual host, no heart-beats, no destination, [`DEFAULT_RETRY`], plain
    /// TCP, [`crate::DEFAULT_MAX_RECORD`].
    pub fn new(endpoint_id: &str, host: &str, port: u16) -> StompConfig {
        StompConfig {
            endpoint_id: endpoint_id.to_owned(),
            host: host.to_owned(),
            port,
            virtual_host: String::new(),
            username: String::new(),
            password: String::new(),
            heartbeat: None,
            destination: String::new(),
            retry: DEFAULT_RETRY,
            #[cfg(feature = "tls")]
            tls: None,
            max_record: crate::DEFAULT_MAX_RECORD,
        }
    }
}
