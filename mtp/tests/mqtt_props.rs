//! The MQTT link against a real, private Mosquitto (apt package `mosquitto`): subscriptions
//! changed on a live connection (MQTT 5.0 and 3.1.1; no reconnection, delivery starts and stops
//! with the filters), a list set before the link is up, and the PUBLISH User Properties and
//! Message Expiry Interval as a v5 subscriber receives them.

mod common;

use common::{LIMIT, config, raw_v5, sink, wait_log};
use usp_mtp::mqtt::{MqttConfig, MqttExtended, PacketType, UserProperty, spawn};
use usp_mtp::{Link, MtpEvent, Outbound};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

fn subs(list: &[(&str, u8)]) -> Vec<(String, u8)> {
    list.iter().map(|(f, q)| (f.to_string(), *q)).collect()
}

/// Publishes on behalf of foreign peers and checks what the link delivers.
struct Prober<'a> {
    client: rumqttc::v5::Client,
    events: &'a common::Events,
    /// Where markers go: a topic the link always receives.
    own: String,
    link: u32,
    n: u32,
}

impl Prober<'_> {
    /// Whether a message published on `topic` reaches the link: it is published, then a marker
    /// on the own topic; the broker keeps their order, so the probe, if delivered, comes first.
    fn reaches(&mut self, topic: &str) -> bool {
        self.n += 1;
        let probe = format!("probe-{}", self.n).into_bytes();
        let marker = format!("marker-{}", self.n).into_bytes();
        let qos = rumqttc::v5::mqttbytes::QoS::AtLeastOnce;
        self.client.publish(topic, qos, false, probe.clone()).expect("publish the probe");
        self.client.publish(self.own.as_str(), qos, false, marker.clone()).expect("publish marker");
        let mut seen = false;
        for _ in 0..100 {
            let (_, record) = self.events.received(self.link);
            if record == marker {
                return seen;
            }
            seen |= record == probe;
        }
        panic!("no marker among 100 Records")
    }
}

/// The next `Subscribed` of link `link`.
fn subscribed(events: &common::Events, link: u32) -> Vec<String> {
    let what = "Subscribed";
    match events.wait(what, |e| matches!(e, MtpEvent::Subscribed { link: l, .. } if *l == link)) {
        MtpEvent::Subscribed { subscribed, .. } => subscribed,
        _ => unreachable!(),
    }
}

fn subscriptions_change_without_reconnecting(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let id = if v5 { "agent-live5" } else { "agent-live4" };
    let mut cfg = config(broker.port(), v5, id, "usp/agent/live");
    cfg.subscriptions = subs(&[("bcast/a", 0)]);
    let own_filter = if v5 { "usp/agent/live" } else { "usp/agent/live/#" };
    let link = spawn(1, cfg, sink);
    events.up(1);
    let (client, _) = raw_v5(broker.port(), &format!("pub-{id}"), "nothing/here");
    let mut p = Prober { client, events: &events, own: "usp/agent/live".into(), link: 1, n: 0 };
    assert!(p.reaches("bcast/a") && !p.reaches("extra/x"));

    link.set_subscriptions(&subs(&[("bcast/a", 0), ("extra/#", 1)])).expect("in place");
    assert_eq!(subscribed(&events, 1), ["bcast/a", "extra/#", own_filter]);
    assert!(p.reaches("extra/x"));

    link.set_subscriptions(&subs(&[("extra/#", 1)])).expect("in place");
    assert_eq!(subscribed(&events, 1), ["extra/#", own_filter]);
    wait_log(&broker, &format!("Received UNSUBSCRIBE from {id}"));
    assert!(!p.reaches("bcast/a") && p.reaches("extra/y"));

    link.set_subscriptions(&[]).expect("in place");
    assert_eq!(subscribed(&events, 1), [own_filter]);
    assert!(!p.reaches("extra/z"));

    // One connection all along.
    let log = broker.log();
    let connects = log.matches("New client connected from 127.0.0.1").count();
    assert_eq!(connects, 2, "the link and the prober only:\n{log}");
    assert_eq!(log.matches(&format!(" as {id} ")).count(), 1, "{log}");
    assert!(!log.contains(&format!("Client {id} disconnected")), "{log}");
}

#[test]
fn v5_subscriptions_change_without_reconnecting() {
    subscriptions_change_without_reconnecting(true);
}

#[test]
fn v311_subscriptions_change_without_reconnecting() {
    subscriptions_change_without_reconnecting(false);
}

#[test]
fn a_list_set_before_the_link_is_up_is_the_one_subscribed() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let link = spawn(2, config(broker.port(), true, "agent-early", "usp/agent/early"), sink);
    // Whether the link is connecting or already up, the new list is what ends up subscribed.
    link.set_subscriptions(&subs(&[("early/#", 1)])).expect("in place");
    events.up(2);
    let (client, _) = raw_v5(broker.port(), "pub-early", "nothing/here");
    let mut p = Prober { client, events: &events, own: "usp/agent/early".into(), link: 2, n: 0 };
    assert!(p.reaches("early/1"));
}

#[test]
fn a_v5_subscriber_sees_the_publish_user_properties_and_expiry() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let extended = MqttExtended {
        publish_expiry: 300,
        user_properties: vec![
            UserProperty {
                name: "site".into(),
                value: "lab".into(),
                packets: vec![PacketType::Publish],
            },
            UserProperty {
                name: "only-connect".into(),
                value: "x".into(),
                packets: vec![PacketType::Connect],
            },
        ],
        ..MqttExtended::default()
    };
    let cfg = MqttConfig { extended, ..config(broker.port(), true, "agent-props", "usp/agent/p") };
    let link = spawn(3, cfg, sink);
    events.up(3);
    let (_client, rx) = raw_v5(broker.port(), "ctl-props", "usp/ctl/props");
    link.send(Outbound { dest: "usp/ctl/props".into(), record: b"rec".to_vec(), retain: false })
        .expect("send");
    let p = rx.recv_timeout(LIMIT).expect("the Record reaches the subscriber");
    assert_eq!(&p.payload[..], b"rec");
    let props = p.properties.expect("PUBLISH properties");
    assert_eq!(props.user_properties, vec![("site".to_owned(), "lab".to_owned())]);
    let expiry = props.message_expiry_interval.expect("a Message Expiry Interval");
    assert!(expiry > 0 && expiry <= 300, "{expiry}");
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));
}
