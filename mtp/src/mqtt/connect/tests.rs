//! The CONNECT built from a configuration: what it carries for each setting.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::mqtt::tests_support::config;
use crate::mqtt::wire::PacketProps;
use crate::mqtt::{MqttExtended, UserProperty};
use rumqttc::v5::mqttbytes::QoS as QoS5;

fn prop(name: &str, value: &str, packets: &[PacketType]) -> UserProperty {
    UserProperty { name: name.into(), value: value.into(), packets: packets.to_vec() }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The v5 CONNECT of `cfg`.
fn v5(cfg: &MqttConfig) -> (p5::Connect, Option<p5::LastWill>, Option<p5::Login>) {
    match connect(cfg, "agent-t") {
        Connect::V5(c) => *c,
        Connect::V4(_) => panic!("not v5"),
    }
}

fn will() -> Will {
    Will {
        topic: "usp/will/agent".into(),
        payload: b"gone".to_vec(),
        qos: 1,
        retain: true,
        delay_interval: 5,
        message_expiry: 600,
        content_type: "text/plain".into(),
        response_topic: "usp/will/reply".into(),
    }
}

/// Everything extended set to something.
fn extended() -> MqttExtended {
    MqttExtended {
        will: Some(will()),
        session_expiry: 3600,
        receive_maximum: Some(10),
        max_packet_size: Some(200_000),
        topic_alias_max: 16,
        request_problem_info: Some(false),
        publish_expiry: 30,
        user_properties: vec![
            prop("site", "lab", &[PacketType::Connect, PacketType::Publish]),
            prop("usp-endpoint-id", "spoofed", &[PacketType::Connect, PacketType::Will]),
            prop("w", "1", &[PacketType::Will, PacketType::Subscribe]),
            prop("u", "2", &[PacketType::Unsubscribe]),
        ],
    }
}

#[test]
fn a_plain_v5_connect_carries_only_what_tr369_asks() {
    let (c, will, login) = v5(&config("own"));
    assert_eq!((c.client_id.as_str(), c.keep_alive, c.clean_start), ("agent-t", 30, true));
    assert_eq!(login, None);
    let props = c.properties.unwrap();
    assert_eq!(props.user_properties, pairs(&[("usp-endpoint-id", "proto::agent-t")]));
    assert_eq!(props.request_response_info, Some(1));
    assert_eq!(props.max_packet_size, Some(64 * 1024 + 64 * 1024));
    assert_eq!(
        (props.session_expiry_interval, props.receive_maximum, props.topic_alias_max),
        (None, None, None)
    );
    assert_eq!(props.request_problem_info, None);
    assert_eq!(will, None);
}

#[test]
fn v5_connect_carries_the_session_settings_the_will_and_its_user_properties() {
    let cfg = MqttConfig { extended: extended(), ..config("own") };
    let (c, will, _) = v5(&cfg);
    let props = c.properties.unwrap();
    assert_eq!(props.session_expiry_interval, Some(3600));
    assert_eq!(props.receive_maximum, Some(10));
    assert_eq!(props.max_packet_size, Some(200_000));
    assert_eq!(props.topic_alias_max, Some(16));
    assert_eq!(props.request_problem_info, Some(0));
    // R-MQTT.13's property first; a configured one of the same name is not sent in CONNECT.
    assert_eq!(
        props.user_properties,
        pairs(&[("usp-endpoint-id", "proto::agent-t"), ("site", "lab")])
    );
    let w = will.unwrap();
    assert_eq!((&w.topic[..], &w.message[..]), (&b"usp/will/agent"[..], &b"gone"[..]));
    assert_eq!((w.qos, w.retain), (QoS5::AtLeastOnce, true));
    let wp = w.properties.unwrap();
    assert_eq!(wp.delay_interval, Some(5));
    assert_eq!(wp.message_expiry_interval, Some(600));
    assert_eq!(wp.content_type.as_deref(), Some("text/plain"));
    assert_eq!(wp.response_topic.as_deref(), Some("usp/will/reply"));
    assert_eq!(wp.user_properties, pairs(&[("usp-endpoint-id", "spoofed"), ("w", "1")]));
}

#[test]
fn zero_and_empty_will_properties_are_not_sent() {
    let bare = Will { topic: "t".into(), payload: b"v".to_vec(), ..Will::default() };
    let x = MqttExtended { will: Some(bare), ..MqttExtended::default() };
    let (_, will, _) = v5(&MqttConfig { extended: x, ..config("own") });
    let w = will.unwrap();
    assert_eq!((w.qos, w.retain), (QoS5::AtMostOnce, false));
    let wp = w.properties.unwrap();
    assert_eq!((wp.delay_interval, wp.message_expiry_interval), (None, None));
    assert_eq!((wp.content_type, wp.response_topic), (None, None));
    assert!(wp.user_properties.is_empty());
}

#[test]
fn v311_sends_the_will_and_ignores_the_v5_only_settings() {
    let cfg = MqttConfig { v5: false, extended: extended(), ..config("own") };
    assert!(v5_only_in_use(&cfg.extended));
    let Connect::V4(c) = connect(&cfg, "agent-t") else { panic!("not 3.1.1") };
    let w = c.last_will.unwrap();
    assert_eq!((w.topic.as_str(), &w.message[..]), ("usp/will/agent", &b"gone"[..]));
    assert_eq!((w.qos, w.retain), (rumqttc::QoS::AtLeastOnce, true));
    assert_eq!((c.client_id.as_str(), c.keep_alive, c.clean_session), ("agent-t", 30, true));
    // MaximumPacketSize is v5-only: 3.1.1 keeps the link's own limit.
    assert_eq!(max_packet(&cfg), 128 * 1024);
    assert_eq!(PacketProps::of(&cfg), PacketProps::default());
    let will_only = MqttExtended { will: Some(Will { qos: 2, ..will() }), ..Default::default() };
    assert!(v5_only_in_use(&will_only), "the Will's v5 properties");
    let plain =
        Will { topic: "t".into(), payload: b"v".to_vec(), qos: 2, retain: true, ..Will::default() };
    assert!(!v5_only_in_use(&MqttExtended { will: Some(plain), ..Default::default() }));
}

#[test]
fn packet_properties_per_packet_type() {
    let cfg = MqttConfig { extended: extended(), ..config("own") };
    let p = PacketProps::of(&cfg);
    assert_eq!(p.publish, pairs(&[("site", "lab")]));
    assert_eq!(p.subscribe, pairs(&[("w", "1")]));
    assert_eq!(p.unsubscribe, pairs(&[("u", "2")]));
    assert_eq!(p.publish_expiry, Some(30));
    let plain = PacketProps::of(&config("own"));
    assert_eq!(plain, PacketProps::default());
}

#[test]
fn credentials_keep_alive_and_persistent_sessions() {
    let cfg = MqttConfig {
        username: "u".into(),
        password: "p".into(),
        keep_alive: std::time::Duration::ZERO,
        clean_start: false,
        ..config("own")
    };
    let (c, _, login) = v5(&cfg);
    assert_eq!(login, Some(p5::Login::new("u", "p")));
    assert_eq!((c.keep_alive, c.clean_start), (0, false), "0: no keep-alive");
    let long = MqttConfig { keep_alive: std::time::Duration::from_secs(100_000), ..config("own") };
    assert_eq!(v5(&long).0.keep_alive, u16::MAX);
    // 3.1.1: a persistent session needs a ClientId.
    let Connect::V4(c) = connect(&MqttConfig { v5: false, ..cfg }, "") else { panic!("v5") };
    assert!(c.clean_session);
    assert_eq!(c.login.map(|l| (l.username, l.password)), Some(("u".into(), "p".into())));
}
