//! The CONNECT packet of one connection attempt, the same for v5 and 3.1.1: the fields TR-369
//! asks for (R-MQTT.7–14) and those TR-181 configures (Last Will, MQTT 5.0 session settings,
//! CONNECT and Will User Properties), as rumqttc's codec types ([`Connect`]).
//!
//! Owns only the mapping from [`MqttConfig`] to CONNECT fields. Never sends anything (the
//! session queues the packet) and never interprets topics (`topics.rs`).

use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::v5 as p5;

use super::config::{MqttConfig, MqttExtended, PacketType, Will};
use super::topics;
use super::wire::{qos4, qos5};

/// Room for the PUBLISH header and properties on top of the Record itself.
const PACKET_OVERHEAD: usize = 64 * 1024;

/// The CONNECT of either version.
#[derive(Debug)]
pub(super) enum Connect {
    /// MQTT 5.0: the packet, its Will and its credentials.
    V5(Box<(p5::Connect, Option<p5::LastWill>, Option<p5::Login>)>),
    /// MQTT 3.1.1.
    V4(Box<v4::Connect>),
}

/// The largest packet the link accepts: `MaximumPacketSize` (v5), else the Record limit plus
/// room for the header.
pub(super) fn max_packet(cfg: &MqttConfig) -> u32 {
    let own = u32::try_from(cfg.max_record.saturating_add(PACKET_OVERHEAD)).unwrap_or(u32::MAX);
    match cfg.extended.max_packet_size {
        Some(n) if cfg.v5 => n,
        _ => own,
    }
}

/// The keep-alive sent in CONNECT, in seconds (0: none).
pub(super) fn keep_alive_secs(cfg: &MqttConfig) -> u16 {
    u16::try_from(cfg.keep_alive.as_secs()).unwrap_or(u16::MAX)
}

/// The CONNECT of one attempt; `client_id` is the ClientId chosen by R-MQTT.8/11.
pub(super) fn connect(cfg: &MqttConfig, client_id: &str) -> Connect {
    if cfg.v5 {
        Connect::V5(Box::new(connect_v5(cfg, client_id)))
    } else {
        connect_v4(cfg, client_id)
    }
}

fn connect_v5(
    cfg: &MqttConfig,
    client_id: &str,
) -> (p5::Connect, Option<p5::LastWill>, Option<p5::Login>) {
    let connect = p5::Connect {
        keep_alive: keep_alive_secs(cfg),
        client_id: client_id.to_owned(),
        clean_start: cfg.clean_start,
        properties: Some(connect_properties(cfg)),
    };
    let will = cfg.extended.will.as_ref().map(|w| will_v5(w, &cfg.extended));
    let login = credentials(cfg).map(|(u, p)| p5::Login::new(u, p));
    (connect, will, login)
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

fn connect_v4(cfg: &MqttConfig, client_id: &str) -> Connect {
    if v5_only_in_use(&cfg.extended) {
        log::debug!("MQTT 3.1.1: the MQTT 5.0-only settings are ignored: {:?}", cfg.extended);
    }
    let mut c = v4::Connect::new(client_id);
    c.keep_alive = keep_alive_secs(cfg);
    // MQTT 3.1.1 refuses a persistent session without a ClientId (3.1.3-7).
    c.clean_session = cfg.clean_start || client_id.is_empty();
    c.last_will = cfg
        .extended
        .will
        .as_ref()
        .map(|w| v4::LastWill::new(w.topic.clone(), w.payload.clone(), qos4(w.qos), w.retain));
    if let Some((user, pass)) = credentials(cfg) {
        c.set_login(user, pass);
    }
    Connect::V4(Box::new(c))
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

#[cfg(test)]
mod tests;
