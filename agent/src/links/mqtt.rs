//! The MQTT client links: one [`usp_mtp::mqtt::MqttConfig`] per enabled
//! `Device.MQTT.Client.{i}`, with its enabled `Subscription.{i}` and `UserProperty.{i}` rows
//! and the agent MTP it serves.
//!
//! TR-181 (Device:2.19 `MQTT.Client.{i}`) meanings applied here: `WillEnable` with an empty
//! `WillTopic` or `WillValue` is `Error_Misconfigured`; zero or empty values of the MQTT
//! 5.0 properties mean "not sent" (`MaximumPacketSize` 0: no limit of the broker's choosing, the
//! link keeps its own); `ReceiveMaximum` above 65535 (MQTT's largest) is sent as 65535. A 3.1.1
//! client ignores every MQTT 5.0-only setting and the `UserProperty` table (with a debug log),
//! so that changing one of them does not restart it. `MessageRetryTime` applies to MQTT 3.1
//! only, which the agent does not speak; `AuthenticationMethod` (an AUTH exchange) and `ALPN`
//! are not supported by the MTP layer and are not applied.
//!
//! Never opens a connection; reads the data model only.

use usp_areas::mqtt::{ClientConfig, UserPropertyConfig};
use usp_datamodel::DataModel;
use usp_mtp::mqtt::topics::valid_topic;
use usp_mtp::mqtt::{MqttConfig, MqttExtended, PacketType, UserProperty, Will};

use super::build::{Ctx, client_tls, port, secs};
use super::read::{AgentMtp, Ids, owner_of};
use super::{LinkKind, LinkPlan, LinkSpec};

/// One link per enabled MQTT client.
pub(super) fn mqtt_links(
    dm: &mut DataModel,
    ids: &Ids,
    mtps: &[AgentMtp],
    ctx: &Ctx,
    plan: &mut LinkPlan,
) {
    for c in ids.mqtt.clients(dm).into_iter().filter(|c| c.enable) {
        let subscriptions = c
            .subscriptions
            .iter()
            .filter(|s| s.enable && !s.topic.is_empty())
            .map(|s| (s.topic.clone(), s.qos.min(2) as u8))
            .collect();
        let owner = owner_of(mtps, &c.path);
        let config =
            mqtt_config(&c, owner, ctx, subscriptions).and_then(|config| with_extended(config, &c));
        match config {
            Ok(config) => plan.links.push(LinkSpec {
                key: c.path,
                agent_mtp: owner.map(|m| m.path.clone()),
                kind: LinkKind::Mqtt(config),
            }),
            Err(why) => plan.problem(&c.path, why),
        }
    }
}

/// What TR-369's MQTT binding needs from the row and its agent MTP.
fn mqtt_config(
    v: &ClientConfig,
    owner: Option<&AgentMtp>,
    ctx: &Ctx,
    subscriptions: Vec<(String, u8)>,
) -> Result<MqttConfig, String> {
    if v.broker_address.is_empty() {
        return Err("BrokerAddress is empty".into());
    }
    let encrypt = match v.transport_protocol.as_str() {
        "TCP/IP" => false,
        "TLS" => true,
        other => return Err(format!("TransportProtocol '{other}' is not supported")),
    };
    let v5 = v.protocol_version == "5.0";
    let empty = usp_areas::local_agent::AgentMtpMqtt::default();
    let mtp = owner.map_or(&empty, |m| &m.config.mqtt);
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = client_tls(ctx, encrypt)?;
    Ok(MqttConfig {
        endpoint_id: ctx.endpoint_id.to_owned(),
        host: v.broker_address.clone(),
        port: port(v.broker_port),
        v5,
        client_id: v.client_id.clone(),
        username: v.username.clone(),
        password: v.password.clone(),
        keep_alive: secs(v.keep_alive_time),
        clean_start: if v5 { v.clean_start } else { v.clean_session },
        // R-MQTT.12: an agent's MQTT 5.0 client always asks for Response Information.
        request_response_info: v.request_response_info || owner.is_some(),
        subscriptions,
        response_topic: mtp.response_topic_configured.clone(),
        publish_qos: mtp.publish_qos.min(2) as u8,
        retry: usp_mtp::retry::RetryPolicy {
            min_wait_secs: v.connect_retry_time,
            multiplier_permille: v.connect_retry_interval_multiplier,
            max_wait_secs: v.connect_retry_max_interval,
        },
        #[cfg(feature = "tls")]
        tls,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
        extended: MqttExtended::default(),
    })
}

/// `config` with the Will, the MQTT 5.0 settings and the User Properties of the row.
fn with_extended(mut config: MqttConfig, v: &ClientConfig) -> Result<MqttConfig, String> {
    let will = will(v, config.v5)?;
    if !config.v5 {
        log::debug!("MQTT 3.1.1 client: MQTT 5.0-only settings and User Properties are ignored");
        config.extended = MqttExtended { will, ..MqttExtended::default() };
        return Ok(config);
    }
    let receive_maximum = match v.receive_maximum {
        0 => None,
        n => Some(u16::try_from(n).unwrap_or(u16::MAX)),
    };
    config.extended = MqttExtended {
        will,
        session_expiry: v.session_expiry_interval,
        receive_maximum,
        max_packet_size: Some(v.maximum_packet_size).filter(|n| *n > 0),
        topic_alias_max: u16::try_from(v.topic_alias_maximum).unwrap_or(u16::MAX),
        request_problem_info: Some(v.request_problem_info),
        publish_expiry: v.publish_message_expiry_interval,
        user_properties: v.user_properties.iter().filter_map(user_property).collect(),
    };
    Ok(config)
}

/// The Last Will when `WillEnable` is true (its v5 properties only for `v5`).
fn will(c: &ClientConfig, v5: bool) -> Result<Option<Will>, String> {
    let v = &c.will;
    if !v.enable {
        return Ok(None);
    }
    let (topic, value) = (v.topic.as_str(), v.value.as_str());
    if topic.is_empty() || value.is_empty() {
        return Err("WillEnable is true but WillTopic or WillValue is empty".into());
    }
    if !valid_topic(topic) {
        return Err(format!("WillTopic {topic:?} is not a topic name"));
    }
    let mut will = Will {
        topic: topic.to_owned(),
        payload: value.as_bytes().to_vec(),
        qos: v.qos.min(2) as u8,
        retain: v.retain,
        ..Will::default()
    };
    if v5 {
        let response_topic = v.response_topic.as_str();
        if !response_topic.is_empty() && !valid_topic(response_topic) {
            return Err(format!("WillResponseTopic {response_topic:?} is not a topic name"));
        }
        will.delay_interval = v.delay_interval;
        will.message_expiry = v.message_expiry_interval;
        will.content_type = v.content_type.clone();
        will.response_topic = response_topic.to_owned();
    }
    Ok(Some(will))
}

/// An enabled `UserProperty.{i}` row, with the packet types the link can fill; `None` when
/// disabled or for none of those.
fn user_property(v: &UserPropertyConfig) -> Option<UserProperty> {
    if !v.enable {
        return None;
    }
    let packets: Vec<PacketType> = v
        .packet_type
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .filter_map(|t| {
            let packet = packet_type(t);
            if packet.is_none() {
                log::debug!("{}: User Properties in {t} packets are not supported", v.path);
            }
            packet
        })
        .collect();
    (!packets.is_empty()).then(|| UserProperty {
        name: v.name.clone(),
        value: v.value.clone(),
        packets,
    })
}

/// The TR-181 `PacketType` names the link can add User Properties to.
fn packet_type(name: &str) -> Option<PacketType> {
    match name {
        "CONNECT" => Some(PacketType::Connect),
        "PUBLISH" => Some(PacketType::Publish),
        "SUBSCRIBE" => Some(PacketType::Subscribe),
        "UNSUBSCRIBE" => Some(PacketType::Unsubscribe),
        "WILL" => Some(PacketType::Will),
        _ => None,
    }
}
