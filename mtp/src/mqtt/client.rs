//! One MQTT connection attempt on rumqttc's blocking API, the same for v5 and 3.1.1: the
//! CONNECT options TR-369 asks for (R-MQTT.7–14) and those TR-181 configures (Last Will, MQTT
//! 5.0 session settings, CONNECT and Will User Properties), over TCP or TLS.
//!
//! Owns the building of rumqttc's options. Never retries (each [`open`] is one attempt; the
//! link thread decides when to try again), never sends anything itself (`requests.rs`) and never
//! interprets topics (`topics.rs`).

use std::time::Duration;

use rumqttc::v5::mqttbytes::v5 as p5;

use super::config::{MqttConfig, MqttExtended, PacketType, Will};
use super::events::Conn;
use super::requests::{Handle, PacketProps, qos4, qos5};
use super::topics;

/// Requests queued towards rumqttc's event loop before `send` reports the link as busy
/// (`SendError::NotConnected`). Each holds one Record.
pub(super) const REQUEST_QUEUE: usize = 256;

/// The most QoS 1 publishes awaiting their PUBACK at once (rumqttc preallocates a slot per
/// possible one; further publishes wait in the request queue).
pub(super) const MAX_INFLIGHT: u16 = 32;

/// The limit on a whole TCP connect + TLS handshake + CONNECT/CONNACK exchange, in seconds.
pub(super) const CONNECT_TIMEOUT_SECS: u64 = 10;

/// Room for the PUBLISH header and properties on top of the Record itself.
const PACKET_OVERHEAD: usize = 64 * 1024;

/// Prepares one connection attempt (nothing is sent until [`Conn::next`] is first called).
/// `client_id` is the ClientId to send (already chosen by R-MQTT.8/11).
pub(super) fn open(cfg: &MqttConfig, client_id: &str) -> Result<(Handle, Conn), String> {
    if cfg.v5 {
        let (client, conn) = rumqttc::v5::Client::new(options_v5(cfg, client_id)?, REQUEST_QUEUE);
        Ok((Handle::v5(client, PacketProps::of(cfg)), Conn::V5(Box::new(conn))))
    } else {
        let (client, mut conn) = rumqttc::Client::new(options_v4(cfg, client_id)?, REQUEST_QUEUE);
        // rumqttc's 3.1.1 event loop keeps its network options (TCP_NODELAY, timeout) itself.
        conn.eventloop.set_network_options(network());
        Ok((Handle::v4(client), Conn::V4(Box::new(conn))))
    }
}

fn network() -> rumqttc::NetworkOptions {
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(CONNECT_TIMEOUT_SECS);
    net
}

/// The largest packet the link accepts: `MaximumPacketSize` (v5), else the Record limit plus
/// room for the header.
fn max_packet(cfg: &MqttConfig) -> u32 {
    let own = u32::try_from(cfg.max_record.saturating_add(PACKET_OVERHEAD)).unwrap_or(u32::MAX);
    match cfg.extended.max_packet_size {
        Some(n) if cfg.v5 => n,
        _ => own,
    }
}

/// The MQTT 5.0 options of one attempt.
fn options_v5(cfg: &MqttConfig, client_id: &str) -> Result<rumqttc::v5::MqttOptions, String> {
    let mut o = rumqttc::v5::MqttOptions::new(client_id, broker_host(cfg), cfg.port);
    // rumqttc refuses keep-alives under 5 s and cannot send 0 (none): see MqttConfig.
    let keep_alive = match cfg.keep_alive.as_secs() {
        0 => u64::from(u16::MAX),
        s => s.clamp(5, u64::from(u16::MAX)),
    };
    o.set_keep_alive(Duration::from_secs(keep_alive));
    o.set_clean_start(cfg.clean_start);
    o.set_connection_timeout(CONNECT_TIMEOUT_SECS);
    o.set_request_channel_capacity(REQUEST_QUEUE);
    // rumqttc preallocates one slot per possible in-flight publish: its v5 default of 65535
    // costs ~14 MB of RSS. A USP agent needs a few.
    o.set_outgoing_inflight_upper_limit(MAX_INFLIGHT);
    o.set_network_options(network());
    o.set_connect_properties(connect_properties(cfg));
    if let Some(will) = &cfg.extended.will {
        o.set_last_will(will_v5(will, &cfg.extended));
    }
    if let Some((user, pass)) = credentials(cfg) {
        o.set_credentials(user, pass);
    }
    set_tls_v5(&mut o, cfg)?;
    Ok(o)
}

/// The v5 CONNECT properties: R-MQTT.12/13 and the configured session settings.
fn connect_properties(cfg: &MqttConfig) -> p5::ConnectProperties {
    let x = &cfg.extended;
    let mut props = p5::ConnectProperties::new();
    props.max_packet_size = Some(max_packet(cfg));
    props.request_response_info = cfg.request_response_info.then_some(1);
    props.session_expiry_interval = (x.session_expiry > 0).then_some(x.session_expiry);
    props.receive_maximum = x.receive_maximum;
    props.topic_alias_max = (x.topic_alias_max > 0).then_some(x.topic_alias_max);
    props.request_problem_info = x.request_problem_info.map(u8::from);
    let own = (topics::ENDPOINT_ID_PROPERTY.to_owned(), cfg.endpoint_id.clone());
    let configured = x.properties_for(PacketType::Connect).into_iter().filter(|(k, _)| {
        let ours = k == topics::ENDPOINT_ID_PROPERTY;
        if ours {
            log::debug!("MQTT: a configured {k:?} CONNECT User Property is not sent (R-MQTT.13)");
        }
        !ours
    });
    props.user_properties = std::iter::once(own).chain(configured).collect();
    props
}

/// The v5 Last Will with its properties.
fn will_v5(will: &Will, x: &MqttExtended) -> p5::LastWill {
    let nonzero = |n: u32| (n > 0).then_some(n);
    let nonempty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let props = p5::LastWillProperties {
        delay_interval: nonzero(will.delay_interval),
        payload_format_indicator: None,
        message_expiry_interval: nonzero(will.message_expiry),
        content_type: nonempty(&will.content_type),
        response_topic: nonempty(&will.response_topic),
        correlation_data: None,
        user_properties: x.properties_for(PacketType::Will),
    };
    let qos = qos5(will.qos);
    p5::LastWill::new(will.topic.clone(), will.payload.clone(), qos, will.retain, Some(props))
}

/// The MQTT 3.1.1 options of one attempt.
fn options_v4(cfg: &MqttConfig, client_id: &str) -> Result<rumqttc::MqttOptions, String> {
    if v5_only_in_use(&cfg.extended) {
        log::debug!("MQTT 3.1.1: the MQTT 5.0-only settings are ignored: {:?}", cfg.extended);
    }
    let mut o = rumqttc::MqttOptions::new(client_id, broker_host(cfg), cfg.port);
    o.set_keep_alive(Duration::from_secs(cfg.keep_alive.as_secs().min(u64::from(u16::MAX))));
    // rumqttc (and MQTT 3.1.1) refuse a persistent session without a ClientId.
    o.set_clean_session(cfg.clean_start || client_id.is_empty());
    let max = usize::try_from(max_packet(cfg)).unwrap_or(usize::MAX);
    o.set_max_packet_size(max, max);
    o.set_request_channel_capacity(REQUEST_QUEUE);
    o.set_inflight(MAX_INFLIGHT);
    if let Some(w) = &cfg.extended.will {
        let will =
            rumqttc::LastWill::new(w.topic.clone(), w.payload.clone(), qos4(w.qos), w.retain);
        o.set_last_will(will);
    }
    if let Some((user, pass)) = credentials(cfg) {
        o.set_credentials(user, pass);
    }
    set_tls_v4(&mut o, cfg)?;
    Ok(o)
}

/// Whether `x` sets anything only MQTT 5.0 has (3.1.1 ignores it).
fn v5_only_in_use(x: &MqttExtended) -> bool {
    let will = x.will.as_ref().is_some_and(|w| {
        w.delay_interval > 0
            || w.message_expiry > 0
            || !w.content_type.is_empty()
            || !w.response_topic.is_empty()
    });
    will || MqttExtended { will: None, ..x.clone() } != MqttExtended::default()
}

/// Username/Password when a Username is configured (R-MQTT.7).
fn credentials(cfg: &MqttConfig) -> Option<(String, String)> {
    (!cfg.username.is_empty()).then(|| (cfg.username.clone(), cfg.password.clone()))
}

/// rumqttc joins host and port with a colon: an IPv6 literal needs brackets (TLS keeps the bare
/// address, which rustls' server-name parser wants).
fn broker_host(cfg: &MqttConfig) -> String {
    let v6 = cfg.host.parse::<std::net::Ipv6Addr>().is_ok();
    if v6 && !tls_enabled(cfg) { format!("[{}]", cfg.host) } else { cfg.host.clone() }
}

#[cfg(feature = "tls")]
fn tls_enabled(cfg: &MqttConfig) -> bool {
    cfg.tls.is_some()
}

#[cfg(not(feature = "tls"))]
fn tls_enabled(_: &MqttConfig) -> bool {
    false
}

/// The rumqttc transport for `cfg.tls`, built from our rustls/ring configuration.
#[cfg(feature = "tls")]
fn transport(cfg: &MqttConfig) -> Result<Option<rumqttc::Transport>, String> {
    let Some(tls) = &cfg.tls else { return Ok(None) };
    let config = crate::tls::client_config(tls).map_err(|e| format!("TLS: {e}"))?;
    Ok(Some(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config))))
}

#[cfg(feature = "tls")]
fn set_tls_v5(o: &mut rumqttc::v5::MqttOptions, cfg: &MqttConfig) -> Result<(), String> {
    if let Some(t) = transport(cfg)? {
        o.set_transport(t);
    }
    Ok(())
}

#[cfg(feature = "tls")]
fn set_tls_v4(o: &mut rumqttc::MqttOptions, cfg: &MqttConfig) -> Result<(), String> {
    if let Some(t) = transport(cfg)? {
        o.set_transport(t);
    }
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn set_tls_v5(_: &mut rumqttc::v5::MqttOptions, _: &MqttConfig) -> Result<(), String> {
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn set_tls_v4(_: &mut rumqttc::MqttOptions, _: &MqttConfig) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests;
