//! The WebSocket links (TR-369 "WebSocket Binding", RFC 6455), on tungstenite: a client towards
//! one peer, and a server accepting sessions from many.

use std::net::SocketAddr;
use std::time::Duration;

use crate::retry::RetryPolicy;

/// A client link towards one peer (`Controller.{i}.MTP.{i}.WebSocket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsClientConfig {
    /// Our Endpoint ID (the `eid` query parameter, `%`-escaped).
    pub endpoint_id: String,
    /// The peer's Endpoint ID, when known (to check the `bbf-usp-protocol` extension's `eid`).
    pub peer_endpoint_id: Option<String>,
    /// `Host`.
    pub host: String,
    /// `Port`.
    pub port: u16,
    /// `Path` (with or without the leading `/`).
    pub path: String,
    /// `KeepAliveInterval`: a Ping this often; 0 disables.
    pub keep_alive: Duration,
    /// `SessionRetryMinimumWaitInterval` / `SessionRetryIntervalMultiplier` (no cap in TR-181).
    pub retry: RetryPolicy,
    /// TLS (`EnableEncryption`); `None` for plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ClientTls>,
    /// The largest Record accepted or sent.
    pub max_record: usize,
}

/// A server link (`LocalAgent.MTP.{i}.WebSocket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsServerConfig {
    /// Our Endpoint ID (the `bbf-usp-protocol` extension's `eid` when a client offers it).
    pub endpoint_id: String,
    /// Where to listen (`Port`, on the addresses of `Interfaces`; `0.0.0.0` when empty).
    pub listen: Vec<SocketAddr>,
    /// `Path`: the request path accepted (empty: any).
    pub path: String,
    /// `KeepAliveInterval`: a Ping this often on every session; 0 disables.
    pub keep_alive: Duration,
    /// TLS (`EnableEncryption`); `None` for plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ServerTls>,
    /// The largest Record accepted or sent.
    pub max_record: usize,
    /// The most sessions open at once (further connections are refused).
    pub max_sessions: usize,
}
