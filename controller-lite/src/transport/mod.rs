//! Which MTP `uspctl` talks over, from its options, and the one place where a link is built:
//! [`open_link`]. Wiring a transport is one match arm there.
//!
//! - `--mqtt HOST[:PORT]` (1883, 8883 with TLS; `--mqtt-v311` for MQTT 3.1.1): our topic
//!   `--topic` (default `usp/controller/<our EID>`), the agent's `--agent-topic` (else learnt
//!   from its MQTTConnect Record or Response Topic), our ClientId `--client-id` (default: one
//!   of our own per process, see [`default_client_id`], so that two uspctl on one broker do
//!   not push each other off it).
//! - `--stomp HOST[:PORT]` (61613, 61614 with TLS): our destination `--dest` (default
//!   `/queue/uspctl.<our EID>`), the agent's `--agent-dest`, the virtual host `--vhost` (the
//!   CONNECT frame's `host` header; default: HOST).
//! - `--ws ws[s]://HOST[:PORT][/PATH]`: a WebSocket client of the agent's server.
//! - `--ws-listen [ADDR:]PORT`: a WebSocket server agents connect to (any path).
//! - `--user`/`--password` (MQTT and STOMP), `--tls`, `--tls-ca FILE`, `--tls-cert FILE` with
//!   `--tls-key FILE` (our certificate: client certificate, or the server's for
//!   `--ws-listen`), `--insecure` (no server verification, labs only).
//!
//! Owns option interpretation and link construction; never touches a socket itself.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use usp_mtp::mqtt::MqttConfig;
use usp_mtp::retry::RetryPolicy;
use usp_mtp::stomp::StompConfig;
use usp_mtp::tls::{ClientTls, ServerTls};
use usp_mtp::ws::{WsClientConfig, WsServerConfig};
use usp_mtp::{DEFAULT_MAX_RECORD, EventSink, Link, LinkId};

/// The transport chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Through an MQTT broker.
    Mqtt {
        /// Broker host.
        host: String,
        /// Broker port (`None`: 1883, or 8883 with TLS).
        port: Option<u16>,
        /// MQTT 5.0 (else 3.1.1).
        v5: bool,
    },
    /// Through a STOMP broker.
    Stomp {
        /// Broker host.
        host: String,
        /// Broker port (`None`: 61613, or 61614 with TLS).
        port: Option<u16>,
    },
    /// As a WebSocket client of the agent.
    WsClient(WsUrl),
    /// As a WebSocket server agents connect to.
    WsListen(SocketAddr),
}

/// A `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss`.
    pub tls: bool,
    /// Host name or address (without brackets).
    pub host: String,
    /// Port (default 80, 443 with TLS).
    pub port: u16,
    /// Path, starting with `/`.
    pub path: String,
}

/// Every transport option of the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransportOptions {
    /// The transport (`None`: none given).
    pub transport: Option<Transport>,
    /// MQTT: our topic.
    pub topic: Option<String>,
    /// MQTT: the agent's topic.
    pub agent_topic: Option<String>,
    /// MQTT: our ClientId (`None`: [`default_client_id`]).
    pub client_id: Option<String>,
    /// STOMP: our destination.
    pub dest: Option<String>,
    /// STOMP: the agent's destination.
    pub agent_dest: Option<String>,
    /// STOMP: the virtual host (`None`: the broker's host name, as STOMP 1.2 says).
    pub vhost: Option<String>,
    /// MQTT / STOMP user name.
    pub user: Option<String>,
    /// MQTT / STOMP password.
    pub password: Option<String>,
    /// Use TLS (implied by `tls_ca`, `insecure` and `wss://`).
    pub tls: bool,
    /// Trusted CAs (PEM).
    pub tls_ca: Option<PathBuf>,
    /// Our certificate chain (PEM).
    pub tls_cert: Option<PathBuf>,
    /// Our private key (PEM).
    pub tls_key: Option<PathBuf>,
    /// Do not verify the server's certificate.
    pub insecure: bool,
}

/// Why no link could be made.
#[derive(Debug)]
pub enum TransportError {
    /// No transport option was given.
    NoneChosen,
    /// The options do not fit together or a value is malformed.
    Config(String),
    /// The TLS files could not be used.
    Tls(usp_mtp::tls::TlsError),
    /// The WebSocket server could not listen (address in use, no permission).
    Listen(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::NoneChosen => {
                f.write_str("no transport: give --mqtt, --stomp, --ws or --ws-listen")
            }
            TransportError::Config(e) => f.write_str(e),
            TransportError::Tls(e) => write!(f, "TLS: {e}"),
            TransportError::Listen(e) => write!(f, "cannot listen: {e}"),
        }
    }
}

impl std::error::Error for TransportError {}

/// How quickly uspctl reconnects: 1–2 s, doubling, at most 30 s.
const RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 30 };

impl TransportOptions {
    /// Whether TLS is on.
    pub fn uses_tls(&self) -> bool {
        self.tls
            || self.tls_ca.is_some()
            || self.insecure
            || matches!(&self.transport, Some(Transport::WsClient(u)) if u.tls)
    }

    /// The agent's destination when configured (MQTT topic or STOMP destination).
    pub fn agent_destination(&self) -> Option<String> {
        self.agent_topic.clone().or_else(|| self.agent_dest.clone())
    }

    fn client_tls(&self) -> Result<Option<ClientTls>, TransportError> {
        if !self.uses_tls() {
            return Ok(None);
        }
        let client_cert = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((c.clone(), k.clone())),
            (None, None) => None,
            _ => return Err(config("--tls-cert and --tls-key go together")),
        };
        let tls = ClientTls {
            ca_file: self.tls_ca.clone(),
            client_cert,
            insecure_skip_verify: self.insecure,
        };
        // Fail now on unreadable files rather than in the link's reconnection loop.
        usp_mtp::tls::client_config(&tls).map_err(TransportError::Tls)?;
        Ok(Some(tls))
    }
}

fn config(text: &str) -> TransportError {
    TransportError::Config(text.to_owned())
}

/// Our MQTT ClientId unless `--client-id` says otherwise: MQTT 5.0 sends none and the broker
/// assigns one; 3.1.1 (where the link would use our Endpoint ID, the same for every uspctl)
/// gets `uspctl` with the process id and clock bits in hex: alphanumeric and at most 23
/// bytes, which every 3.1.1 broker must accept, and different for two uspctl at once.
pub fn default_client_id(v5: bool) -> String {
    if v5 {
        return String::new();
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("uspctl{:x}{:06x}", std::process::id(), nanos & 0xff_ffff)
}

/// The MQTT link's configuration.
pub fn mqtt_config(o: &TransportOptions, eid: &str) -> Result<MqttConfig, TransportError> {
    let Some(Transport::Mqtt { host, port, v5 }) = &o.transport else {
        return Err(config("not an MQTT transport"));
    };
    let tls = o.client_tls()?;
    let topic = o.topic.clone().unwrap_or_else(|| format!("usp/controller/{eid}"));
    Ok(MqttConfig {
        endpoint_id: eid.to_owned(),
        host: host.clone(),
        port: port.unwrap_or(if tls.is_some() { 8883 } else { 1883 }),
        v5: *v5,
        client_id: o.client_id.clone().unwrap_or_else(|| default_client_id(*v5)),
        username: o.user.clone().unwrap_or_default(),
        password: o.password.clone().unwrap_or_default(),
        keep_alive: Duration::from_secs(60),
        clean_start: true,
        request_response_info: false,
        subscriptions: vec![(topic.clone(), 1)],
        response_topic: topic,
        publish_qos: 1,
        retry: RETRY,
        tls,
        max_record: DEFAULT_MAX_RECORD,
        extended: Default::default(),
    })
}

/// The STOMP link's configuration.
pub fn stomp_config(o: &TransportOptions, eid: &str) -> Result<StompConfig, TransportError> {
    let Some(Transport::Stomp { host, port }) = &o.transport else {
        return Err(config("not a STOMP transport"));
    };
    let tls = o.client_tls()?;
    Ok(StompConfig {
        endpoint_id: eid.to_owned(),
        host: host.clone(),
        port: port.unwrap_or(if tls.is_some() { 61614 } else { 61613 }),
        virtual_host: o.vhost.clone().unwrap_or_default(),
        username: o.user.clone().unwrap_or_default(),
        password: o.password.clone().unwrap_or_default(),
        heartbeat: None,
        destination: o.dest.clone().unwrap_or_else(|| format!("/queue/uspctl.{eid}")),
        retry: RETRY,
        tls,
        max_record: DEFAULT_MAX_RECORD,
    })
}

/// The WebSocket client link's configuration.
pub fn ws_client_config(
    o: &TransportOptions,
    eid: &str,
    agent: Option<&str>,
) -> Result<WsClientConfig, TransportError> {
    let Some(Transport::WsClient(url)) = &o.transport else {
        return Err(config("not a WebSocket client transport"));
    };
    Ok(WsClientConfig {
        endpoint_id: eid.to_owned(),
        peer_endpoint_id: agent.map(str::to_owned),
        host: url.host.clone(),
        port: url.port,
        path: url.path.clone(),
        keep_alive: Duration::from_secs(30),
        retry: RETRY,
        tls: o.client_tls()?,
        max_record: DEFAULT_MAX_RECORD,
    })
}

/// The WebSocket server link's configuration.
pub fn ws_server_config(o: &TransportOptions, eid: &str) -> Result<WsServerConfig, TransportError> {
    let Some(Transport::WsListen(addr)) = &o.transport else {
        return Err(config("not a WebSocket server transport"));
    };
    let tls = match (&o.tls_cert, &o.tls_key) {
        (Some(cert), Some(key)) => Some(ServerTls {
            cert_file: cert.clone(),
            key_file: key.clone(),
            client_ca_file: o.tls_ca.clone(),
            require_client_cert: false,
        }),
        (None, None) if o.tls => {
            return Err(config("--ws-listen with TLS needs --tls-cert and --tls-key"));
        }
        (None, None) => None,
        _ => return Err(config("--tls-cert and --tls-key go together")),
    };
    if let Some(tls) = &tls {
        usp_mtp::tls::server_config(tls).map_err(TransportError::Tls)?;
    }
    Ok(WsServerConfig {
        endpoint_id: eid.to_owned(),
        listen: vec![*addr],
        path: String::new(),
        keep_alive: Duration::from_secs(30),
        tls,
        max_record: DEFAULT_MAX_RECORD,
        max_sessions: 16,
        handshake_timeout: usp_mtp::ws::HANDSHAKE_TIMEOUT,
    })
}

/// Builds and starts the link the options choose, as `link`, reporting to `sink`. The one
/// place a transport is wired: each arm builds its configuration, then spawns its link.
pub fn open_link(
    o: &TransportOptions,
    eid: &str,
    agent: Option<&str>,
    link: LinkId,
    sink: EventSink,
) -> Result<Box<dyn Link>, TransportError> {
    match &o.transport {
        None => Err(TransportError::NoneChosen),
        Some(Transport::Mqtt { .. }) => {
            Ok(Box::new(usp_mtp::mqtt::spawn(link, mqtt_config(o, eid)?, sink)))
        }
        Some(Transport::Stomp { .. }) => {
            Ok(Box::new(usp_mtp::stomp::spawn(link, stomp_config(o, eid)?, sink)))
        }
        Some(Transport::WsClient(_)) => {
            Ok(Box::new(usp_mtp::ws::spawn_client(link, ws_client_config(o, eid, agent)?, sink)))
        }
        Some(Transport::WsListen(_)) => {
            let server = usp_mtp::ws::spawn_server(link, ws_server_config(o, eid)?, sink)
                .map_err(|e| TransportError::Listen(e.to_string()))?;
            Ok(Box::new(server))
        }
    }
}

/// `HOST[:PORT]`, `[V6]:PORT` or a bare IPv6 address.
pub fn parse_host_port(text: &str) -> Result<(String, Option<u16>), TransportError> {
    let bad = || TransportError::Config(format!("'{text}': expected HOST[:PORT]"));
    let port = |p: &str| p.parse::<u16>().map_err(|_| bad());
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(port(p)?)),
            None if after.is_empty() => (host, None),
            None => return Err(bad()),
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, p)) if !host.contains(':') => (host, Some(port(p)?)),
            _ => (text, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_owned(), port))
}

/// `ws://HOST[:PORT][/PATH]` or `wss://...`.
pub fn parse_ws_url(text: &str) -> Result<WsUrl, TransportError> {
    let (tls, rest) = if let Some(r) = text.strip_prefix("wss://") {
        (true, r)
    } else if let Some(r) = text.strip_prefix("ws://") {
        (false, r)
    } else {
        return Err(TransportError::Config(format!("'{text}': expected ws://... or wss://...")));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = parse_host_port(authority)?;
    Ok(WsUrl { tls, host, port: port.unwrap_or(if tls { 443 } else { 80 }), path: path.to_owned() })
}

/// `PORT` (all addresses) or `ADDR:PORT`.
pub fn parse_listen(text: &str) -> Result<SocketAddr, TransportError> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    text.parse()
        .map_err(|_| TransportError::Config(format!("'{text}': expected PORT or ADDR:PORT")))
}

#[cfg(test)]
mod tests;
