//! The MQTT link against a real, private Mosquitto (apt package `mosquitto`), MQTT 5.0 and
//! 3.1.1: connect/subscribe/Up, Records both ways with both reply-to forms, two links talking,
//! the assigned ClientId, R-MQTT.16, reconnection after a broker crash, TLS, and payloads that
//! are too large or garbage. Raw rumqttc clients stand in for foreign peers where the wire form
//! itself is checked.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{FAST_RETRY, LIMIT, config, mqtt_info, raw_v5, sink, wait_log};
use rumqttc::v5::mqttbytes::v5::PublishProperties;
use usp_mtp::mqtt::{MqttConfig, spawn};
use usp_mtp::tls::ClientTls;
use usp_mtp::{Link, MtpEvent, Outbound, SendError};
use usp_testkit::certs::TestPki;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts, MosquittoTls};

fn out(dest: &str, record: &[u8]) -> Outbound {
    Outbound { dest: dest.into(), record: record.to_vec(), retain: false }
}

/// A raw 3.1.1 client subscribed to `filter`, like [`common::raw_v5`].
fn raw_v4(
    port: u16,
    id: &str,
    filter: &str,
) -> (rumqttc::Client, mpsc::Receiver<rumqttc::Publish>) {
    use rumqttc::{Event, Packet};
    let (client, mut conn) =
        rumqttc::Client::new(rumqttc::MqttOptions::new(id, "127.0.0.1", port), 16);
    client.subscribe(filter, rumqttc::QoS::AtLeastOnce).expect("subscribe");
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for e in conn.iter() {
            match e {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx.recv_timeout(LIMIT).expect("raw 3.1.1 client subscribed");
    (client, rx)
}

#[test]
fn v5_connects_subscribes_its_response_topic_and_reports_up() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let mut cfg = config(broker.port(), true, "agent-5", "usp/agent/a5");
    cfg.subscriptions = vec![("usp/broadcast".into(), 0)];
    let mut link = spawn(1, cfg, sink);
    let info = events.up(1);
    let (v5, own, assigned, subscribed) = mqtt_info(&info);
    assert!(v5);
    assert_eq!(own, "usp/agent/a5");
    assert_eq!(assigned, None);
    assert_eq!(subscribed, ["usp/broadcast", "usp/agent/a5"]);
    link.stop();
    assert!(broker.log().contains("as agent-5 (p5"), "{}", broker.log());
    wait_log(&broker, "Received DISCONNECT from agent-5");
}

#[test]
fn v311_uses_the_endpoint_id_and_the_wildcard_response_topic() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let cfg = config(broker.port(), false, "", "usp/agent/a4");
    let link = spawn(2, MqttConfig { endpoint_id: "proto::agent-a4".into(), ..cfg }, sink);
    let info = events.up(2);
    let (v5, own, assigned, subscribed) = mqtt_info(&info);
    assert!(!v5);
    assert_eq!(own, "usp/agent/a4");
    assert_eq!(assigned, None);
    assert_eq!(subscribed, ["usp/agent/a4/#"]);
    // R-MQTT.8: no ClientId configured, 3.1.1 uses the Endpoint ID.
    let log = broker.log();
    // Mosquitto logs protocol level 4 (3.1.1) as "p2".
    assert!(log.contains("as proto::agent-a4 (p2"), "{log}");
    drop(link);
}

/// A port where connections are accepted and closed at once (a broken broker); returns it.
fn broken_broker() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            drop(stream);
        }
    });
    port
}

/// An agent-like and a controller-like link exchange a Record and its answer; a third link
/// towards a broken broker keeps failing meanwhile without disturbing them.
fn two_links_talk(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let agent = spawn(1, config(broker.port(), v5, "agent", "usp/agent/a1"), sink.clone());
    let ctl = spawn(2, config(broker.port(), v5, "ctl", "usp/controller/c1"), sink.clone());
    let dead = spawn(3, config(broken_broker(), v5, "dead", "x"), sink);
    let (_, retry) = events.down(3);
    assert!(retry.is_some());
    events.up(1);
    events.up(2);
    ctl.send(out("usp/agent/a1", b"request")).expect("controller sends");
    let (reply_to, record) = events.received(1);
    assert_eq!(record, b"request");
    assert_eq!(reply_to.as_deref(), Some("usp/controller/c1"));
    agent.send(out(&reply_to.expect("reply-to"), b"response")).expect("agent answers");
    let (reply_to, record) = events.received(2);
    assert_eq!(record, b"response");
    assert_eq!(reply_to.as_deref(), Some("usp/agent/a1"));
    drop(dead);
}

#[test]
fn two_v5_links_talk() {
    two_links_talk(true);
}

#[test]
fn two_v311_links_talk() {
    two_links_talk(false);
}

#[test]
fn v5_wire_form_response_topic_content_type_qos_and_retain() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let link = spawn(1, config(broker.port(), true, "agent", "usp/agent/a1"), sink);
    events.up(1);
    let (_raw, seen) = raw_v5(broker.port(), "observer", "usp/controller/#");
    link.send(out("usp/controller/c1", b"notify")).expect("send");
    let p = seen.recv_timeout(LIMIT).expect("observer receives");
    assert_eq!(&p.topic[..], b"usp/controller/c1");
    assert_eq!(&p.payload[..], b"notify");
    assert_eq!(p.qos, rumqttc::v5::mqttbytes::QoS::AtLeastOnce);
    let props = p.properties.expect("properties");
    assert_eq!(props.response_topic.as_deref(), Some("usp/agent/a1"));
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));
    // Retain as the Outbound says: a later subscriber still gets it, flagged retained.
    let retained = Outbound { retain: true, ..out("usp/retained/c2", b"kept") };
    link.send(retained).expect("send retained");
    let (_late, late_seen) = raw_v5(broker.port(), "late", "usp/retained/#");
    let p = late_seen.recv_timeout(LIMIT).expect("retained message");
    assert!(p.retain);
    assert_eq!(&p.payload[..], b"kept");
}

#[test]
fn v311_wire_form_reply_to_suffix_and_qos_zero() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let mut cfg = config(broker.port(), false, "agent", "usp/agent/a1");
    cfg.publish_qos = 0;
    let link = spawn(1, cfg, sink);
    events.up(1);
    let (_raw, seen) = raw_v4(broker.port(), "observer", "usp/controller/#");
    link.send(out("usp/controller/c1", b"notify")).expect("send");
    let p = seen.recv_timeout(LIMIT).expect("observer receives");
    assert_eq!(p.topic, "usp/controller/c1/reply-to=usp%2Fagent%2Fa1");
    assert_eq!(p.qos, rumqttc::QoS::AtMostOnce);
    assert_eq!(&p.payload[..], b"notify");
}

#[test]
fn received_reply_to_both_forms_and_content_types() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let _v4 = spawn(4, config(broker.port(), false, "a4", "usp/agent/a4"), sink.clone());
    let _v5 = spawn(5, config(broker.port(), true, "a5", "usp/agent/a5"), sink);
    events.up(4);
    events.up(5);
    let (raw4, _) = raw_v4(broker.port(), "ctl4", "unused/4");
    let topic = "usp/agent/a4/reply-to=usp%2Fcontroller%2Fc%3A1";
    raw4.publish(topic, rumqttc::QoS::AtLeastOnce, false, b"r4".to_vec()).expect("publish");
    let (reply_to, record) = events.received(4);
    assert_eq!((reply_to.as_deref(), &record[..]), (Some("usp/controller/c%3A1"), &b"r4"[..]));

    let (raw5, _) = raw_v5(broker.port(), "ctl5", "unused/5");
    let qos = rumqttc::v5::mqttbytes::QoS::AtLeastOnce;
    let props = |ct: Option<&str>| PublishProperties {
        response_topic: Some("usp/controller/c5".into()),
        content_type: ct.map(str::to_owned),
        ..Default::default()
    };
    let publish = |ct: Option<&str>, body: &[u8]| {
        raw5.publish_with_properties("usp/agent/a5", qos, false, body.to_vec(), props(ct))
            .expect("publish");
    };
    publish(Some("text/plain"), b"not usp");
    publish(Some("application/vnd.bbf.usp.msg"), b"mime");
    publish(Some("usp.msg"), b"short");
    publish(None, b"none");
    for expected in [&b"mime"[..], b"short", b"none"] {
        let (reply_to, record) = events.received(5);
        assert_eq!(
            record, expected,
            "the text/plain message is dropped, the others arrive in order"
        );
        assert_eq!(reply_to.as_deref(), Some("usp/controller/c5"));
    }
}

#[test]
fn v5_empty_client_id_gets_one_assigned_and_keeps_it_after_a_reconnect() {
    let mut broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let _link = spawn(1, config(broker.port(), true, "", "usp/agent/a1"), sink);
    let info = events.up(1);
    let assigned = mqtt_info(&info).2.expect("an assigned ClientId").to_owned();
    assert!(!assigned.is_empty());
    broker.restart();
    events.down(1);
    let info = events.up(1);
    // R-MQTT.11: the second CONNECT carries the assigned ClientId, so nothing is assigned.
    assert_eq!(mqtt_info(&info).2, None);
    let log = broker.log();
    assert_eq!(log.matches(&format!("as {assigned} (p5")).count(), 2, "{log}");
}

#[test]
fn nothing_to_subscribe_disconnects_and_disables_the_link() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    for v5 in [true, false] {
        let (sink, events) = sink();
        let id = if v5 { "none-5" } else { "none-4" };
        let link = spawn(1, config(broker.port(), v5, id, ""), sink);
        let (reason, retry_in) = events.down(1);
        assert_eq!(retry_in, None, "{reason}");
        assert!(reason.contains("no topic"), "{reason}");
        assert_eq!(link.send(out("a/b", b"x")), Err(SendError::Stopped));
        wait_log(&broker, &format!("Received DISCONNECT from {id}"));
        assert!(events.next_within(Duration::from_millis(300)).is_none(), "no retry");
    }
}

#[test]
fn broker_crash_and_restart_reconnects_within_the_backoff_bounds() {
    let mut broker = Mosquitto::start(MosquittoOpts::default());
    let (sink, events) = sink();
    let link5 = spawn(5, config(broker.port(), true, "r5", "usp/agent/r5"), sink.clone());
    let link4 = spawn(4, config(broker.port(), false, "r4", "usp/agent/r4"), sink);
    events.up(5);
    events.up(4);
    // Only what follows the crash counts (a slow machine may have seen a failed first try).
    events.clear();
    broker.stop();
    for link in [5, 4] {
        // The connection loss, then a refused attempt: waits in the first two windows (1–2 s,
        // then 2–4 s capped at 2 s).
        for n in 1..=2 {
            let (reason, retry_in) = events.down(link);
            let wait = retry_in.unwrap_or_else(|| panic!("link {link} gave up: {reason}"));
            let (low, high) = FAST_RETRY.window(n);
            assert!(wait >= low && wait <= high, "link {link} retry {n}: {wait:?} ({reason})");
            assert!(wait <= Duration::from_secs(2), "never beyond the maximum");
        }
    }
    assert_eq!(link5.send(out("a/b", b"x")), Err(SendError::NotConnected));
    broker.restart();
    events.up(5);
    events.up(4);
    let (_raw, seen) = raw_v5(broker.port(), "observer", "usp/controller/#");
    link4.send(out("usp/controller/c", b"again")).expect("send after reconnect");
    assert_eq!(&seen.recv_timeout(LIMIT).expect("delivered").payload[..], b"again");
}

#[test]
fn oversized_and_garbage_payloads_leave_the_link_running() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    for v5 in [true, false] {
        let (sink, events) = sink();
        let mut cfg = config(broker.port(), v5, if v5 { "big5" } else { "big4" }, "usp/agent/big");
        cfg.max_record = 1000;
        let link = spawn(1, cfg, sink);
        events.up(1);
        assert_eq!(link.send(out("a/b", &[0; 1001])), Err(SendError::TooLarge { max: 1000 }));
        let (raw, _) = raw_v4(broker.port(), "sender", "unused");
        let publish = |body: Vec<u8>| {
            raw.publish("usp/agent/big", rumqttc::QoS::AtLeastOnce, false, body).expect("publish")
        };
        publish(vec![0xAB; 1001]);
        let garbage: Vec<u8> =
            (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        publish(garbage.clone());
        publish(Vec::new());
        let (_, record) = events.received(1);
        assert_eq!(record, garbage, "the 1001-byte payload was dropped, garbage passed as is");
        assert_eq!(events.received(1).1, Vec::<u8>::new());
        drop(link);
    }
}

#[test]
fn a_packet_beyond_the_limit_costs_at_most_a_reconnect() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    for v5 in [true, false] {
        let (sink, events) = sink();
        let mut cfg = config(broker.port(), v5, if v5 { "huge5" } else { "huge4" }, "usp/agent/h");
        cfg.max_record = 1000;
        let link = spawn(1, cfg, sink);
        events.up(1);
        let (raw, _) = raw_v4(broker.port(), "sender", "unused");
        // Far beyond max_record plus the packet overhead: v5 brokers do not deliver it
        // (Maximum Packet Size), 3.1.1 makes rumqttc drop the connection.
        let mut opts = rumqttc::MqttOptions::new("huge-sender", "127.0.0.1", broker.port());
        opts.set_max_packet_size(1 << 20, 1 << 20);
        let (big, mut conn) = rumqttc::Client::new(opts, 4);
        big.publish("usp/agent/h", rumqttc::QoS::AtMostOnce, false, vec![1; 200_000])
            .expect("publish");
        let sent = conn.iter().take(10).any(|e| {
            matches!(
                e.expect("huge sender"),
                rumqttc::Event::Outgoing(rumqttc::Outgoing::Publish(_))
            )
        });
        assert!(sent, "the huge PUBLISH went out");
        // Whatever happened, the link is up (again) and receives the next Record.
        let end = std::time::Instant::now() + LIMIT;
        loop {
            raw.publish("usp/agent/h", rumqttc::QoS::AtLeastOnce, false, b"after".to_vec())
                .expect("publish");
            match events.next_within(Duration::from_millis(500)) {
                Some(MtpEvent::Received { record, .. }) if record == b"after" => break,
                Some(e @ MtpEvent::Received { .. }) => panic!("unexpected {e:?}"),
                _ => assert!(std::time::Instant::now() < end, "link never received again"),
            }
        }
        drop(link);
    }
}

#[test]
fn tls_with_the_test_ca_and_not_with_another() {
    let pki = TestPki::generate("MQTT test CA", "client-1");
    let stranger = TestPki::generate("Another CA", "client-1");
    let broker = Mosquitto::start(MosquittoOpts { tls: Some((&pki).into()), ..Default::default() });
    let (sink, events) = sink();
    for (id, v5) in [(1, true), (2, false)] {
        let mut cfg = config(broker.tls_port(), v5, &format!("tls{id}"), "usp/agent/tls");
        cfg.tls = Some(ClientTls { ca_file: Some(pki.ca.clone()), ..Default::default() });
        let link = spawn(id, cfg, sink.clone());
        events.up(id);
        drop(link);
    }
    let mut cfg = config(broker.tls_port(), true, "wrong-ca", "usp/agent/tls");
    cfg.tls = Some(ClientTls { ca_file: Some(stranger.ca.clone()), ..Default::default() });
    let _wrong = spawn(3, cfg, sink);
    let (reason, retry_in) = events.down(3);
    assert!(retry_in.is_some());
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
}

/// Records both ways over TLS, v5 and 3.1.1: the owner's thread writes through rustls itself,
/// the link thread reads through it and flushes the held-back acknowledgements; a large Record
/// needs more than one TLS record and more than one read.
#[test]
fn records_travel_both_ways_over_tls() {
    let pki = TestPki::generate("MQTT test CA", "client-1");
    let broker = Mosquitto::start(MosquittoOpts { tls: Some((&pki).into()), ..Default::default() });
    let (sink, events) = sink();
    for (base, v5) in [(10, true), (20, false)] {
        let tls = || Some(ClientTls { ca_file: Some(pki.ca.clone()), ..Default::default() });
        let mut a =
            config(broker.tls_port(), v5, &format!("tls-a{base}"), &format!("usp/a/{base}"));
        a.tls = tls();
        let mut c =
            config(broker.tls_port(), v5, &format!("tls-c{base}"), &format!("usp/c/{base}"));
        c.tls = tls();
        c.max_record = 1024 * 1024;
        a.max_record = 1024 * 1024;
        let agent = spawn(base, a, sink.clone());
        let ctl = spawn(base + 1, c, sink.clone());
        events.up(base);
        events.up(base + 1);
        for i in 0..20u8 {
            let big = vec![i; if i % 5 == 0 { 200_000 } else { 100 }];
            ctl.send(out(&format!("usp/a/{base}"), &big)).expect("controller sends");
            let (reply_to, record) = events.received(base);
            assert_eq!(record, big);
            agent.send(out(&reply_to.expect("reply-to"), &[i])).expect("agent answers");
            assert_eq!(events.received(base + 1).1, [i]);
        }
    }
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = TestPki::generate("MQTT test CA", "client-1");
    let tls = MosquittoTls { require_certificate: true, ..(&pki).into() };
    let broker = Mosquitto::start(MosquittoOpts { tls: Some(tls), ..Default::default() });
    let (sink, events) = sink();
    let mut cfg = config(broker.tls_port(), true, "mtls", "usp/agent/mtls");
    let client_cert = Some((pki.client_cert.clone(), pki.client_key.clone()));
    cfg.tls = Some(ClientTls { ca_file: Some(pki.ca.clone()), client_cert, ..Default::default() });
    let _with = spawn(1, cfg.clone(), sink.clone());
    events.up(1);
    cfg.client_id = "no-cert".into();
    cfg.tls = Some(ClientTls { ca_file: Some(pki.ca.clone()), ..Default::default() });
    let _without = spawn(2, cfg, sink);
    let (_, retry_in) = events.down(2);
    assert!(retry_in.is_some());
}

#[test]
fn username_and_password_are_sent() {
    let users = vec![("alice".to_owned(), "s3cret".to_owned())];
    let broker = Mosquitto::start(MosquittoOpts { users, ..Default::default() });
    let (sink, events) = sink();
    let mut good = config(broker.port(), true, "alice-1", "usp/agent/u");
    good.username = "alice".into();
    good.password = "s3cret".into();
    let _good = spawn(1, good.clone(), sink.clone());
    events.up(1);
    let bad =
        usp_mtp::mqtt::MqttConfig { client_id: "alice-2".into(), password: "nope".into(), ..good };
    let _bad = spawn(2, bad, sink);
    let (reason, retry_in) = events.down(2);
    assert!(retry_in.is_some(), "{reason}");
}

#[test]
fn stop_ends_a_back_off_wait_and_the_thread() {
    let (sink, events) = sink();
    let mut cfg = config(broken_broker(), true, "waiting", "own/w");
    // A long wait: only the stop's wake-up can end it before `stop` gives up waiting (2 s).
    cfg.retry.min_wait_secs = 600;
    cfg.retry.max_wait_secs = 0;
    let mut link = spawn(1, cfg, sink);
    let (_, retry_in) = events.down(1);
    assert!(retry_in >= Some(Duration::from_secs(600)));
    link.stop();
    assert!(format!("{link:?}").contains("finished: true"), "{link:?}");
    assert_eq!(link.send(out("a/b", b"x")), Err(SendError::Stopped));
    assert!(events.next_within(Duration::from_millis(200)).is_none(), "nothing after a stop");
}
