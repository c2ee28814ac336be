//! The WebSocket links (TR-369 "WebSocket Binding", RFC 6455), on tungstenite: a client towards
//! one peer ([`spawn_client`]), and a server accepting sessions from many ([`spawn_server`]).
//!
//! What the binding asks and where it is done:
//! - `Sec-WebSocket-Protocol: v1.usp` both ways (R-WS.9–12a): the client offers it and refuses a
//!   server that does not select it; the server answers it and refuses a request without it
//!   (HTTP 400).
//! - The client's Endpoint ID in the request URI, `?eid=` with `%` escaped as `%25` (R-WS.10b/c,
//!   [`wire::encode_eid`]); the client also offers `bbf-usp-protocol; eid="..."` and accepts a
//!   server that ignores it (R-WS.11b). The server takes the peer's Endpoint ID from the query,
//!   else from the extension, and answers the extension with its own Endpoint ID when offered
//!   (R-WS.11a); a request naming no Endpoint ID at all is refused (HTTP 400).
//! - Records in binary messages (R-WS.14), sent unfragmented (R-WS.14a); fragmented messages
//!   are reassembled (R-WS.14b, by tungstenite). A text message is answered with Close 1003
//!   (R-WS.16). The links never parse Records: when the owner cannot parse one, it calls
//!   [`crate::Link::close_unparseable`], which closes that session with 1003.
//! - Ping every `keep_alive` and Pong to every Ping (R-WS.17/18). A peer from which nothing at
//!   all (not even a Pong) arrived for three keep-alive intervals, while we were not busy
//!   pushing a large message to it, is taken as dead and its session closed.
//! - Client reconnection with the TR-369 schedule (R-WS.19–21): [`crate::retry::Backoff`],
//!   whose windows stop growing after retry 10 as the binding's table says, reset after each
//!   successful session; `Reset()` closes the session and reconnects at once with the count
//!   reset.
//! - At most one session per peer (R-WS.4) on the server: a new session from an Endpoint ID
//!   that already has one *replaces* it (the old one is closed with 1000). Refusing the newcomer
//!   instead would lock a controller out until keep-alive notices that its previous connection
//!   is dead (the common case after a NAT or Wi-Fi change); replacing keeps exactly one session
//!   either way. Whether the agent should also drop its own client session to that controller
//!   is the owner's decision.
//! - Size limits: incoming messages and frames above `max_record` close the session with 1009
//!   (checked on the frame header, before allocating); [`crate::Link::send`] refuses larger
//!   Records.
//!
//! I/O: one thread per client link and one per server session (plus one per listening socket),
//! each on a non-blocking socket, sleeping in [`crate::wake::wait_io`] until the network or the
//! owner has something: a Record queued by the owner is on the wire at once, not at a poll tick.

use std::net::SocketAddr;
use std::time::Duration;

use crate::retry::RetryPolicy;

mod client;
mod outbox;
mod server;
mod session;
mod stream;
pub mod wire;

pub use client::{WsClientLink, spawn_client};
pub use server::{WsServerLink, spawn_server};

/// TR-369's defaults for `SessionRetryMinimumWaitInterval` (5 s) and
/// `SessionRetryIntervalMultiplier` (2000); the binding sets no cap.
pub const DEFAULT_RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 };

/// The retry number after which the windows stop growing (the binding's table: "#10 and
/// subsequent").
pub const RETRY_GROWTH_LIMIT: u32 = 10;

/// The keep-alive interval of the constructors (`KeepAliveInterval` is set by the owner).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How long a connection may take from TCP connect to the end of the WebSocket handshake
/// (TLS included), for the client, and the default for the server.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A client link towards one peer (`Controller.{i}.MTP.{i}.WebSocket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsClientConfig {
    /// Our Endpoint ID (the `eid` query parameter, `%`-escaped).
    pub endpoint_id: String,
    /// The peer's Endpoint ID, when known. When the server answers the `bbf-usp-protocol`
    /// extension with a different `eid`, the connection is refused (we reached the wrong
    /// controller); a server that does not answer the extension is accepted.
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

impl WsClientConfig {
    /// A plain-TCP client of `endpoint_id` towards `host:port` and `path`, with the TR-369
    /// retry defaults, a 30 s keep-alive and [`crate::DEFAULT_MAX_RECORD`].
    pub fn new(endpoint_id: &str, host: &str, port: u16, path: &str) -> WsClientConfig {
        WsClientConfig {
            endpoint_id: endpoint_id.to_owned(),
            peer_endpoint_id: None,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            keep_alive: DEFAULT_KEEP_ALIVE,
            retry: DEFAULT_RETRY,
            #[cfg(feature = "tls")]
            tls: None,
            max_record: crate::DEFAULT_MAX_RECORD,
        }
    }
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
    /// How long a new connection may take to complete TLS and the WebSocket handshake before
    /// it is dropped (so that a silent client cannot hold a slot).
    pub handshake_timeout: Duration,
}

impl WsServerConfig {
    /// A plain-TCP server of `endpoint_id` on `listen`, any path, a 30 s keep-alive,
    /// [`crate::DEFAULT_MAX_RECORD`], 8 sessions and [`HANDSHAKE_TIMEOUT`].
    pub fn new(endpoint_id: &str, listen: Vec<SocketAddr>) -> WsServerConfig {
        WsServerConfig {
            endpoint_id: endpoint_id.to_owned(),
            listen,
            path: String::new(),
            keep_alive: DEFAULT_KEEP_ALIVE,
            #[cfg(feature = "tls")]
            tls: None,
            max_record: crate::DEFAULT_MAX_RECORD,
            max_sessions: 8,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        }
    }
}
