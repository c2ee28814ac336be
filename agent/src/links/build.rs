//! Building each link's configuration from its row: STOMP connections, WebSocket servers and
//! clients (MQTT clients: `mqtt.rs`), and what they share. A row that cannot make a working link
//! becomes a [`Problem`] instead.
// Builds without some MTPs leave some helpers unused.
#![cfg_attr(
    not(all(feature = "mqtt", feature = "stomp", feature = "websocket", feature = "tls")),
    allow(dead_code, unused_imports)
)]

use super::read::{AgentMtp, Ids, owner_of};
use super::{LinkPlan, LinkSpec, Problem, TlsFiles};
use usp_datamodel::DataModel;

/// What every link configuration shares.
pub(super) struct Ctx<'a> {
    /// The agent's Endpoint ID.
    pub(super) endpoint_id: &'a str,
    /// The daemon's TLS files.
    pub(super) tls: &'a TlsFiles,
}

/// The most sessions the agent's WebSocket server keeps open at once.
pub const MAX_WS_SESSIONS: usize = 16;

impl LinkPlan {
    pub(super) fn problem(&mut self, key: &str, reason: impl Into<String>) {
        self.problems.push(Problem { key: key.to_owned(), reason: reason.into() });
    }
}

/// Reports what is wrong with an enabled agent MTP on its own (WebSocket ones become server
/// links in [`ws_server_links`]).
pub(super) fn check_agent_mtp(m: &AgentMtp, all: &[AgentMtp], plan: &mut LinkPlan) {
    match (m.protocol.as_str(), &m.link) {
        ("MQTT" | "STOMP", None) => {
            let what = if m.protocol == "MQTT" { "MQTT client" } else { "STOMP connection" };
            plan.problem(&m.path, format!("its {}.Reference names no {what}", m.protocol));
        }
        ("MQTT" | "STOMP", Some(link)) => {
            if let Some(first) = owner_of(all, link).filter(|first| first.path != m.path) {
                let why = format!("{link} already serves {}; only that one is used", first.path);
                plan.problem(&m.path, why);
            }
        }
        ("WebSocket", _) => {}
        (other, _) => plan.problem(&m.path, format!("Protocol '{other}' is not supported")),
    }
}

/// A TCP port number from a checked `unsignedInt` (the schema keeps it in 1..=65535).
pub(super) fn port(n: u32) -> u16 {
    u16::try_from(n).unwrap_or(0)
}

/// A duration from an `unsignedInt` count of seconds.
pub(super) fn secs(n: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(n))
}

/// TLS client settings from the daemon's files, when the row asks for encryption.
#[cfg(feature = "tls")]
pub(super) fn client_tls(
    ctx: &Ctx,
    encrypt: bool,
) -> Result<Option<usp_mtp::tls::ClientTls>, String> {
    let files = ctx.tls;
    Ok(encrypt.then(|| usp_mtp::tls::ClientTls {
        ca_file: files.ca_file.clone(),
        client_cert: files.client_cert.clone().zip(files.client_key.clone()),
        insecure_skip_verify: files.insecure,
    }))
}

/// Without TLS built in, a row asking for encryption cannot run (never a silent downgrade).
#[cfg(not(feature = "tls"))]
pub(super) fn client_tls(_ctx: &Ctx, encrypt: bool) -> Result<Option<()>, String> {
    if encrypt {
        Err("encryption is on but this agent is built without TLS".into())
    } else {
        Ok(None)
    }
}

/// Without MQTT built in, every enabled MQTT client is a problem.
#[cfg(not(feature = "mqtt"))]
pub(super) fn mqtt_links(
    dm: &mut DataModel,
    ids: &Ids,
    _: &[AgentMtp],
    _: &Ctx,
    plan: &mut LinkPlan,
) {
    for c in ids.mqtt.clients(dm).into_iter().filter(|c| c.enable) {
        plan.problem(&c.path, "this agent is built without MQTT");
    }
}

/// One link per enabled STOMP connection.
#[cfg(feature = "stomp")]
pub(super) fn stomp_links(
    dm: &mut DataModel,
    ids: &Ids,
    mtps: &[AgentMtp],
    ctx: &Ctx,
    plan: &mut LinkPlan,
) {
    for c in ids.stomp.connections(dm).into_iter().filter(|c| c.enable) {
        let owner = owner_of(mtps, &c.path);
        match stomp_config(&c, owner, ctx) {
            Ok(config) => plan.links.push(LinkSpec {
                key: c.path,
                agent_mtp: owner.map(|m| m.path.clone()),
                kind: super::LinkKind::Stomp(config),
            }),
            Err(why) => plan.problem(&c.path, why),
        }
    }
}

#[cfg(not(feature = "stomp"))]
pub(super) fn stomp_links(
    dm: &mut DataModel,
    ids: &Ids,
    _: &[AgentMtp],
    _: &Ctx,
    plan: &mut LinkPlan,
) {
    for c in ids.stomp.connections(dm).into_iter().filter(|c| c.enable) {
        plan.problem(&c.path, "this agent is built without STOMP");
    }
}

#[cfg(feature = "stomp")]
fn stomp_config(
    c: &usp_areas::stomp::ConnectionConfig,
    owner: Option<&AgentMtp>,
    ctx: &Ctx,
) -> Result<usp_mtp::stomp::StompConfig, String> {
    if c.host.is_empty() {
        return Err("Host is empty".into());
    }
    let ms = |n: u32| std::time::Duration::from_millis(u64::from(n));
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = client_tls(ctx, c.enable_encryption)?;
    Ok(usp_mtp::stomp::StompConfig {
        endpoint_id: ctx.endpoint_id.to_owned(),
        host: c.host.clone(),
        port: port(c.port),
        virtual_host: c.virtual_host.clone(),
        username: c.username.clone(),
        password: c.password.clone(),
        heartbeat: c
            .enable_heartbeats
            .then(|| (ms(c.outgoing_heartbeat), ms(c.incoming_heartbeat))),
        destination: owner.map_or("", |m| &m.config.stomp.destination).to_owned(),
        retry: usp_mtp::retry::RetryPolicy {
            min_wait_secs: c.server_retry_initial_interval,
            multiplier_permille: c.server_retry_interval_multiplier,
            max_wait_secs: c.server_retry_max_interval,
        },
        #[cfg(feature = "tls")]
        tls,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
    })
}

/// One server link per enabled WebSocket agent MTP. It listens on every address:
/// `Interfaces` names `Device.IP.Interface.{i}` rows, which this agent does not serve yet.
pub(super) fn ws_server_links(mtps: &[AgentMtp], ctx: &Ctx, plan: &mut LinkPlan) {
    for m in mtps.iter().filter(|m| m.protocol == "WebSocket") {
        #[cfg(feature = "websocket")]
        match ws_server_config(&m.config.websocket, ctx) {
            Ok(config) => plan.links.push(LinkSpec {
                key: m.path.clone(),
                agent_mtp: Some(m.path.clone()),
                kind: super::LinkKind::WsServer(config),
            }),
            Err(why) => plan.problem(&m.path, why),
        }
        #[cfg(not(feature = "websocket"))]
        {
            let _ = ctx;
            plan.problem(&m.path, "this agent is built without WebSocket");
        }
    }
}

#[cfg(feature = "websocket")]
fn ws_server_config(
    v: &usp_areas::local_agent::AgentMtpWebSocket,
    ctx: &Ctx,
) -> Result<usp_mtp::ws::WsServerConfig, String> {
    let encrypt = v.enable_encryption;
    #[cfg(feature = "tls")]
    let tls = match (encrypt, &ctx.tls.server_cert, &ctx.tls.server_key) {
        (false, _, _) => None,
        (true, Some(cert), Some(key)) => Some(usp_mtp::tls::ServerTls {
            cert_file: cert.clone(),
            key_file: key.clone(),
            client_ca_file: ctx.tls.ca_file.clone(),
            require_client_cert: ctx.tls.require_client_cert,
        }),
        (true, _, _) => {
            return Err(
                "EnableEncryption is true but no server certificate and key are given".into()
            );
        }
    };
    #[cfg(not(feature = "tls"))]
    client_tls(ctx, encrypt)?;
    Ok(usp_mtp::ws::WsServerConfig {
        endpoint_id: ctx.endpoint_id.to_owned(),
        listen: vec![std::net::SocketAddr::from(([0, 0, 0, 0], port(v.port)))],
        path: v.path.clone(),
        keep_alive: secs(v.keep_alive_interval),
        #[cfg(feature = "tls")]
        tls,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
        max_sessions: MAX_WS_SESSIONS,
        handshake_timeout: usp_mtp::ws::HANDSHAKE_TIMEOUT,
    })
}

/// The client link towards `controller` of a WebSocket `Controller.{i}.MTP.{i}.WebSocket.`.
#[cfg(feature = "websocket")]
pub(super) fn ws_client_config(
    v: &usp_areas::local_agent::ControllerMtpWebSocket,
    controller: &str,
    ctx: &Ctx,
) -> Result<usp_mtp::ws::WsClientConfig, String> {
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = client_tls(ctx, v.enable_encryption)?;
    Ok(usp_mtp::ws::WsClientConfig {
        endpoint_id: ctx.endpoint_id.to_owned(),
        peer_endpoint_id: Some(controller.to_owned()),
        host: v.host.clone(),
        port: port(v.port),
        path: v.path.clone(),
        keep_alive: secs(v.keep_alive_interval),
        // TR-181 has no maximum for WebSocket session retries.
        retry: usp_mtp::retry::RetryPolicy {
            min_wait_secs: v.session_retry_minimum_wait_interval,
            multiplier_permille: v.session_retry_interval_multiplier,
            max_wait_secs: 0,
        },
        #[cfg(feature = "tls")]
        tls,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
    })
}
