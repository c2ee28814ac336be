//! The TR-181 `Device.MQTT.Client.{i}` settings beyond TR-369's needs, as the plan hands them to
//! the MQTT link: the Last Will, the MQTT 5.0 session settings, `UserProperty.{i}`, and what a
//! 3.1.1 client ignores.

use super::plan::{MQTT, mqtt_of};
use super::*;
use usp_mtp::mqtt::{MqttConfig, MqttExtended, PacketType, UserProperty, Will};

const C: &str = "Device.MQTT.Client.1.";

/// The plan's config for client 1 of `MQTT` after the reset-file `lines`.
fn config_with(lines: &str) -> MqttConfig {
    let mut dm = dm(&format!("{MQTT}{lines}"));
    mqtt_of(&plan(&mut dm, EID, &no_tls()), C)
}

/// The problems the plan reports after `lines` (and that the client has no link).
fn problems_with(lines: &str) -> Vec<String> {
    let mut dm = dm(&format!("{MQTT}{lines}"));
    let plan = plan(&mut dm, EID, &no_tls());
    assert!(plan.link(C).is_none(), "{plan:#?}");
    plan.problems.iter().filter(|p| p.key == C).map(|p| p.reason.clone()).collect()
}

const WILL: &str = r#"
Device.MQTT.Client.1.WillEnable true
Device.MQTT.Client.1.WillTopic "usp/will/a1"
Device.MQTT.Client.1.WillValue "agent gone"
Device.MQTT.Client.1.WillQoS 2
Device.MQTT.Client.1.WillRetain true
Device.MQTT.Client.1.WillMessageExpiryInterval 600
Device.MQTT.Client.1.WillContentType "text/plain"
Device.MQTT.Client.1.WillResponseTopic "usp/will/reply"
"#;

#[test]
fn the_will_comes_from_the_will_parameters() {
    let will = config_with(WILL).extended.will.expect("a Will");
    let want = Will {
        topic: "usp/will/a1".into(),
        payload: b"agent gone".to_vec(),
        qos: 2,
        retain: true,
        // The TR-181 default.
        delay_interval: 5,
        message_expiry: 600,
        content_type: "text/plain".into(),
        response_topic: "usp/will/reply".into(),
    };
    assert_eq!(will, want);
    let no_delay = config_with(&format!("{WILL}{C}WillDelayInterval 0\n")).extended.will;
    assert_eq!(no_delay.expect("a Will").delay_interval, 0);
    // Disabled: none, whatever the other Will parameters say.
    let off = config_with(&format!("{WILL}{C}WillEnable false\n"));
    assert_eq!(off.extended.will, None);
}

#[test]
fn an_enabled_will_without_topic_or_value_or_with_a_bad_topic_is_misconfigured() {
    let empty_topic = problems_with(&format!("{WILL}{C}WillTopic \"\"\n"));
    assert!(empty_topic[0].contains("WillTopic or WillValue is empty"), "{empty_topic:?}");
    let empty_value = problems_with(&format!("{WILL}{C}WillValue \"\"\n"));
    assert!(empty_value[0].contains("WillTopic or WillValue is empty"), "{empty_value:?}");
    let wildcard = problems_with(&format!("{WILL}{C}WillTopic \"usp/will/#\"\n"));
    assert!(wildcard[0].contains("not a topic name"), "{wildcard:?}");
    let response = problems_with(&format!("{WILL}{C}WillResponseTopic \"a/+\"\n"));
    assert!(response[0].contains("WillResponseTopic"), "{response:?}");
}

#[test]
fn the_session_settings_map_zero_to_not_sent() {
    let x = config_with("").extended;
    assert_eq!(
        (x.session_expiry, x.receive_maximum, x.max_packet_size, x.topic_alias_max),
        (0, None, None, 0)
    );
    assert_eq!((x.publish_expiry, x.request_problem_info), (0, Some(false)));
    let x = config_with(&format!(
        "{C}SessionExpiryInterval 3600
{C}ReceiveMaximum 20
{C}MaximumPacketSize 65536
{C}TopicAliasMaximum 10
{C}RequestProblemInfo true
{C}PublishMessageExpiryInterval 30
"
    ))
    .extended;
    assert_eq!(x.session_expiry, 3600);
    assert_eq!(x.receive_maximum, Some(20));
    assert_eq!(x.max_packet_size, Some(65536));
    assert_eq!(x.topic_alias_max, 10);
    assert_eq!(x.request_problem_info, Some(true));
    assert_eq!(x.publish_expiry, 30);
    // MQTT's Receive Maximum is two bytes: larger values say "any", which 65535 says too.
    let big = config_with(&format!("{C}ReceiveMaximum 100000\n")).extended;
    assert_eq!(big.receive_maximum, Some(u16::MAX));
}

#[test]
fn enabled_user_properties_with_the_packet_types_the_link_fills() {
    let x = config_with(&format!(
        r#"{C}UserProperty.1.Enable true
{C}UserProperty.1.Name "site"
{C}UserProperty.1.Value "lab-3"
{C}UserProperty.1.PacketType "CONNECT,PUBLISH,PUBACK,WILL"
{C}UserProperty.2.Enable false
{C}UserProperty.2.Name "off"
{C}UserProperty.2.PacketType "CONNECT"
{C}UserProperty.3.Enable true
{C}UserProperty.3.Name "only-acks"
{C}UserProperty.3.PacketType "PUBREC,AUTH,DISCONNECT"
{C}UserProperty.4.Enable true
{C}UserProperty.4.Name "subs"
{C}UserProperty.4.Value ""
{C}UserProperty.4.PacketType "SUBSCRIBE,UNSUBSCRIBE"
"#
    ))
    .extended;
    let want = vec![
        UserProperty {
            name: "site".into(),
            value: "lab-3".into(),
            packets: vec![PacketType::Connect, PacketType::Publish, PacketType::Will],
        },
        UserProperty {
            name: "subs".into(),
            value: String::new(),
            packets: vec![PacketType::Subscribe, PacketType::Unsubscribe],
        },
    ];
    assert_eq!(x.user_properties, want);
}

#[test]
fn a_3_1_1_client_keeps_the_will_and_ignores_every_v5_only_setting() {
    let v5_only = format!(
        r#"{C}ProtocolVersion "3.1.1"
{C}SessionExpiryInterval 3600
{C}ReceiveMaximum 20
{C}MaximumPacketSize 65536
{C}TopicAliasMaximum 10
{C}RequestProblemInfo true
{C}PublishMessageExpiryInterval 30
{C}UserProperty.1.Enable true
{C}UserProperty.1.Name "site"
{C}UserProperty.1.PacketType "CONNECT"
"#
    );
    let config = config_with(&format!("{WILL}{v5_only}"));
    assert!(!config.v5);
    let will = Will {
        topic: "usp/will/a1".into(),
        payload: b"agent gone".to_vec(),
        qos: 2,
        retain: true,
        ..Will::default()
    };
    assert_eq!(config.extended, MqttExtended { will: Some(will), ..MqttExtended::default() });
    // Changing a v5-only setting changes nothing the link sees: no restart for it.
    let plain = config_with(&format!("{WILL}{C}ProtocolVersion \"3.1.1\"\n"));
    assert_eq!(config, plain);
}

#[test]
fn a_live_subscription_change_updates_each_subscription_status() {
    let mut dm =
        dm(&format!("{MQTT}{C}Subscription.3.Enable true\n{C}Subscription.3.Topic \"x/#\"\n"));
    let status = |dm: &mut DataModel, i: u32| get(dm, &format!("{C}Subscription.{i}.Status"));
    record_subscribed(&mut dm, C, &["usp/agent/#".into(), "usp/agent/links".into()]).unwrap();
    assert_eq!(status(&mut dm, 1), "Subscribed");
    assert_eq!(status(&mut dm, 2), "Unsubscribed", "disabled");
    assert_eq!(status(&mut dm, 3), "Error", "not (yet) granted");
    record_subscribed(&mut dm, C, &["usp/agent/#".into(), "x/#".into()]).unwrap();
    assert_eq!(status(&mut dm, 3), "Subscribed");
    // Other links' keys are no MQTT client's.
    record_subscribed(&mut dm, "Device.STOMP.Connection.1.", &[]).unwrap();
    assert_eq!(status(&mut dm, 1), "Subscribed");
}
