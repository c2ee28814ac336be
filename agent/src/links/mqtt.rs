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

use usp_datamodel::DataModel;
use usp_mtp::mqtt::topics::valid_topic;
use usp_mtp::mqtt::{MqttConfig, MqttExtended, PacketType, UserProperty, Will};

use super::build::{Ctx, client_tls, port, secs};
use super::read::{AgentMtp, Row, Values, owner_of, rows};
use super::{LinkKind, LinkPlan, LinkSpec};

/// One link per enabled MQTT client.
pub(super) fn mqtt_links(dm: &mut DataModel, mtps: &[AgentMtp], ctx: &Ctx, plan: &mut LinkPlan) {
    for c in rows(dm, "Device.MQTT.Client.").into_iter().filter(|c| c.values.flag("Enable")) {
        let subscriptions = rows(dm, &format!("{}Subscription.", c.path))
            .into_iter()
            .filter(|s| s.values.flag("Enable") && !s.values.text("Topic").is_empty())
            .map(|s| (s.values.text("Topic").to_owned(), s.values.num("QoS").min(2) as u8))
            .collect();
        let properties = rows(dm, &format!("{}UserProperty.", c.path));
        let owner = owner_of(mtps, &c.path);
        let config = mqtt_config(&c.values, owner, ctx, subscriptions)
            .and_then(|config| with_extended(config, &c.values, &properties));
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
    v: &Values,
    owner: Option<&AgentMtp>,
    ctx: &Ctx,
    subscriptions: Vec<(String, u8)>,
) -> Result<MqttConfig, String> {
    let host = v.text("BrokerAddress");
    if host.is_empty() {
        return Err("BrokerAddress is empty".into());
    }
    let encrypt = match v.text("TransportProtocol") {
        "TCP/IP" => false,
        "TLS" => true,
        other => return Err(format!("TransportProtocol '{other}' is not supported")),
    };
    let v5 = v.text("ProtocolVersion") == "5.0";
    let empty = Values::default();
    let mtp = owner.map_or(&empty, |m| &m.sub);
    #[cfg_attr(not(feature = "tls"), allow(unused_variables))]
    let tls = client_tls(ctx, encrypt)?;
    Ok(MqttConfig {
        endpoint_id: ctx.endpoint_id.to_owned(),
        host: host.to_owned(),
        port: port(v, "BrokerPort"),
        v5,
        client_id: v.text("ClientID").to_owned(),
        username: v.text("Username").to_owned(),
        password: v.text("Password").to_owned(),
        keep_alive: secs(v, "KeepAliveTime"),
        clean_start: v.flag(if v5 { "CleanStart" } else { "CleanSession" }),
        // R-MQTT.12: an agent's MQTT 5.0 client always asks for Response Information.
        request_response_info: v.flag("RequestResponseInfo") || owner.is_some(),
        subscriptions,
        response_topic: mtp.text("ResponseTopicConfigured").to_owned(),
        publish_qos: mtp.num("PublishQoS").min(2) as u8,
        retry: usp_mtp::retry::RetryPolicy {
            min_wait_secs: v.num32("ConnectRetryTime"),
            multiplier_permille: v.num32("ConnectRetryIntervalMultiplier"),
            max_wait_secs: v.num32("ConnectRetryMaxInterval"),
        },
        #[cfg(feature = "tls")]
        tls,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
        extended: MqttExtended::default(),
    })
}

/// `config` with the Will, the MQTT 5.0 settings and the User Properties of the row.
fn with_extended(
    mut config: MqttConfig,
    v: &Values,
    properties: &[Row],
) -> Result<MqttConfig, String> {
    let will = will(v, config.v5)?;
    if !config.v5 {
        log::debug!("MQTT 3.1.1 client: MQTT 5.0-only settings and User Properties are ignored");
        config.extended = MqttExtended { will, ..MqttExtended::default() };
        return Ok(config);
    }
    let receive_maximum = match v.num("ReceiveMaximum") {
        0 => None,
        n => Some(u16::try_from(n).unwrap_or(u16::MAX)),
    };
    config.extended = MqttExtended {
        will,
        session_expiry: v.num32("SessionExpiryInterval"),
        receive_maximum,
        max_packet_size: Some(v.num32("MaximumPacketSize")).filter(|n| *n > 0),
        topic_alias_max: u16::try_from(v.num("TopicAliasMaximum")).unwrap_or(u16::MAX),
        request_problem_info: Some(v.flag("RequestProblemInfo")),
        publish_expiry: v.num32("PublishMessageExpiryInterval"),
        user_properties: properties.iter().filter_map(user_property).collect(),
    };
    Ok(config)
}

/// The Last Will when `WillEnable` is true (its v5 properties only for `v5`).
fn will(v: &Values, v5: bool) -> Result<Option<Will>, String> {
    if !v.flag("WillEnable") {
        return Ok(None);
    }
    let (topic, value) = (v.text("WillTopic"), v.text("WillValue"));
    if topic.is_empty() || value.is_empty() {
        return Err("WillEnable is true but WillTopic or WillValue is empty".into());
    }
    if !valid_topic(topic) {
        return Err(format!("WillTopic {topic:?} is not a topic name"));
    }
    let mut will = Will {
        topic: topic.to_owned(),
        payload: value.as_bytes().to_vec(),
        qos: v.num("WillQoS").min(2) as u8,
        retain: v.flag("WillRetain"),
        ..Will::default()
    };
    if v5 {
        let response_topic = v.text("WillResponseTopic");
        if !response_topic.is_empty() && !valid_topic(response_topic) {
            return Err(format!("WillResponseTopic {response_topic:?} is not a topic name"));
        }
        will.delay_interval = v.num32("WillDelayInterval");
        will.message_expiry = v.num32("WillMessageExpiryInterval");
        will.content_type = v.text("WillContentType").to_owned();
        will.response_topic = response_topic.to_owned();
    }
    Ok(Some(will))
}

/// An enabled `UserProperty.{i}` row, with the packet types the link can fill; `None` when
/// disabled or for none of those.
fn user_property(row: &Row) -> Option<UserProperty> {
    let v = &row.values;
    if !v.flag("Enable") {
        return None;
    }
    let packets: Vec<PacketType> = v
        .text("PacketType")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .filter_map(|t| {
            let packet = packet_type(t);
            if packet.is_none() {
                log::debug!("{}: User Properties in {t} packets are not supported", row.path);
            }
            packet
        })
        .collect();
    (!packets.is_empty()).then(|| UserProperty {
        name: v.text("Name").to_owned(),
        value: v.text("Value").to_owned(),
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
