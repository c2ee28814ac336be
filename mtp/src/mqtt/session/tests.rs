//! The session as scripted exchanges: broker packets in (encoded with rumqttc's codec), our
//! packets out (decoded with it), time as an argument.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::mqtt::tests_support::config;
use rumqttc::mqttbytes::v4;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{self as p5, Packet};

fn bytes5(p: Packet) -> Vec<u8> {
    let mut b = BytesMut::new();
    p.write(&mut b, None).unwrap();
    b.to_vec()
}

/// Every packet of `out`, in order.
fn packets5(out: BytesMut) -> Vec<Packet> {
    let mut out = out;
    let mut v = Vec::new();
    while !out.is_empty() {
        v.push(Packet::read(&mut out, None).unwrap());
    }
    v
}

/// CONNACK properties with nothing set.
fn ack_props() -> p5::ConnAckProperties {
    p5::ConnAckProperties {
        session_expiry_interval: None,
        receive_max: None,
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: None,
        topic_alias_max: None,
        reason_string: None,
        user_properties: Vec::new(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: None,
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    }
}

fn connack5(props: Option<p5::ConnAckProperties>) -> Vec<u8> {
    let ack = p5::ConnAck {
        session_present: false,
        code: p5::ConnectReturnCode::Success,
        properties: props,
    };
    bytes5(Packet::ConnAck(ack))
}

fn publish5(topic: &str, qos: QoS, pkid: u16, props: Option<p5::PublishProperties>) -> Vec<u8> {
    let mut p = p5::Publish::new(topic, qos, &b"rec"[..], props);
    p.pkid = pkid;
    bytes5(Packet::Publish(p))
}

/// A v5 session past its CONNACK (with `props`), its CONNECT taken.
fn connected(cfg: &MqttConfig, t0: Instant, props: Option<p5::ConnAckProperties>) -> Session {
    let mut s = Session::new(cfg, "agent-t", t0).unwrap();
    let out = packets5(s.take_output(t0).unwrap());
    assert!(matches!(out[..], [Packet::Connect(..)]), "{out:?}");
    s.handle_bytes(t0, &connack5(props)).unwrap();
    assert!(matches!(s.poll_event(), Some(Ev::ConnAck { .. })));
    s
}

#[test]
fn the_puback_of_a_request_leaves_with_the_response() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    s.handle_bytes(t0, &publish5("own", QoS::AtLeastOnce, 7, None)).unwrap();
    let Some(Ev::Publish(p)) = s.poll_event() else { panic!("no Publish") };
    assert_eq!((p.topic.as_str(), &p.payload[..]), ("own", &b"rec"[..]));
    assert!(s.take_output(t0).is_none(), "the PUBACK waits");
    assert_eq!(s.poll_timeout(), Some(t0 + ACK_DELAY));
    assert!(s.publish("ctl".into(), b"resp".to_vec(), false, "own".into()));
    let out = packets5(s.take_output(t0).unwrap());
    let [Packet::PubAck(ack), Packet::Publish(resp)] = &out[..] else { panic!("{out:?}") };
    assert_eq!(ack.pkid, 7);
    assert_eq!((&resp.topic[..], &resp.payload[..]), (&b"ctl"[..], &b"resp"[..]));
    assert_eq!(resp.qos, QoS::AtLeastOnce);
    let props = resp.properties.as_ref().unwrap();
    assert_eq!(props.response_topic.as_deref(), Some("own"));
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));
}

#[test]
fn an_unanswered_request_is_acknowledged_after_the_delay() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    s.handle_bytes(t0, &publish5("own", QoS::AtLeastOnce, 3, None)).unwrap();
    assert!(s.take_output(t0 + ACK_DELAY / 2).is_none());
    let out = packets5(s.take_output(t0 + ACK_DELAY).unwrap());
    assert!(matches!(&out[..], [Packet::PubAck(a)] if a.pkid == 3), "{out:?}");
}

#[test]
fn many_unanswered_requests_are_acknowledged_at_once() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    for pkid in 1..MAX_HELD_ACKS as u16 {
        s.handle_bytes(t0, &publish5("own", QoS::AtLeastOnce, pkid, None)).unwrap();
    }
    assert!(s.take_output(t0).is_none());
    s.handle_bytes(t0, &publish5("own", QoS::AtLeastOnce, 99, None)).unwrap();
    let out = packets5(s.take_output(t0).unwrap());
    assert_eq!(out.len(), MAX_HELD_ACKS);
    assert!(out.iter().all(|p| matches!(p, Packet::PubAck(_))));
}

#[test]
fn keep_alive_pings_and_a_missing_pingresp_ends_the_connection() {
    let t0 = Instant::now();
    let ka = Duration::from_secs(30);
    let mut s = connected(&config("own"), t0, None);
    assert_eq!(s.poll_timeout(), Some(t0 + ka));
    s.handle_timeout(t0 + ka).unwrap();
    let out = packets5(s.take_output(t0 + ka).unwrap());
    assert!(matches!(out[..], [Packet::PingReq(_)]), "{out:?}");
    s.handle_bytes(t0 + ka, &bytes5(Packet::PingResp(p5::PingResp))).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + 2 * ka));
    s.handle_timeout(t0 + 2 * ka).unwrap();
    assert!(s.take_output(t0 + 2 * ka).is_some());
    assert_eq!(s.handle_timeout(t0 + 3 * ka), Err(ConnError::NoPingResp));
}

#[test]
fn the_server_keep_alive_replaces_ours_and_zero_disables_pings() {
    let t0 = Instant::now();
    let props = p5::ConnAckProperties { server_keep_alive: Some(5), ..ack_props() };
    let s = connected(&config("own"), t0, Some(props));
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    let none = MqttConfig { keep_alive: Duration::ZERO, ..config("own") };
    assert_eq!(connected(&none, t0, None).poll_timeout(), None);
}

#[test]
fn no_connack_in_time_and_refusals_end_the_connection() {
    let t0 = Instant::now();
    let mut s = Session::new(&config("own"), "agent-t", t0).unwrap();
    assert_eq!(s.poll_timeout(), Some(t0 + CONNACK_TIMEOUT));
    assert_eq!(s.handle_timeout(t0 + CONNACK_TIMEOUT), Err(ConnError::NoConnAck));
    let mut s = Session::new(&config("own"), "agent-t", t0).unwrap();
    let refused = p5::ConnAck {
        session_present: false,
        code: p5::ConnectReturnCode::NotAuthorized,
        properties: None,
    };
    let e = s.handle_bytes(t0, &bytes5(Packet::ConnAck(refused))).unwrap_err();
    assert!(matches!(e, ConnError::Refused(ref r) if r.contains("NotAuthorized")), "{e:?}");
    let mut s = Session::new(&config("own"), "agent-t", t0).unwrap();
    let e = s.handle_bytes(t0, &publish5("own", QoS::AtMostOnce, 0, None)).unwrap_err();
    assert!(matches!(e, ConnError::Malformed(_)), "{e:?}");
}

#[test]
fn the_broker_receive_maximum_bounds_our_publishes_in_flight() {
    let t0 = Instant::now();
    let props = p5::ConnAckProperties { receive_max: Some(2), ..ack_props() };
    let mut s = connected(&config("own"), t0, Some(props));
    for i in 0..3u8 {
        assert!(s.publish("ctl".into(), vec![i], false, "own".into()));
    }
    let out = packets5(s.take_output(t0).unwrap());
    let ids: Vec<u16> = out
        .iter()
        .map(|p| match p {
            Packet::Publish(p) => p.pkid,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 2]);
    s.handle_bytes(t0, &bytes5(Packet::PubAck(p5::PubAck::new(1, None)))).unwrap();
    let out = packets5(s.take_output(t0).unwrap());
    assert!(matches!(&out[..], [Packet::Publish(p)] if p.pkid == 3 && p.payload[..] == [2]));
}

#[test]
fn topic_aliases_are_resolved_and_unknown_ones_end_the_connection() {
    let t0 = Instant::now();
    let cfg = MqttConfig {
        extended: crate::mqtt::MqttExtended { topic_alias_max: 4, ..Default::default() },
        ..config("own")
    };
    let mut s = connected(&cfg, t0, None);
    let alias = |a| Some(p5::PublishProperties { topic_alias: Some(a), ..Default::default() });
    s.handle_bytes(t0, &publish5("own/x", QoS::AtMostOnce, 0, alias(2))).unwrap();
    s.handle_bytes(t0, &publish5("", QoS::AtMostOnce, 0, alias(2))).unwrap();
    for _ in 0..2 {
        let Some(Ev::Publish(p)) = s.poll_event() else { panic!("no Publish") };
        assert_eq!(p.topic, "own/x");
    }
    let e = s.handle_bytes(t0, &publish5("", QoS::AtMostOnce, 0, alias(3))).unwrap_err();
    assert!(matches!(e, ConnError::Malformed(ref m) if m.contains("unknown")), "{e:?}");
    let mut s = connected(&cfg, t0, None);
    let e = s.handle_bytes(t0, &publish5("t", QoS::AtMostOnce, 0, alias(5))).unwrap_err();
    assert!(matches!(e, ConnError::Malformed(ref m) if m.contains("range")), "{e:?}");
}

#[test]
fn qos2_is_delivered_once_and_completed() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    s.handle_bytes(t0, &publish5("own", QoS::ExactlyOnce, 9, None)).unwrap();
    s.handle_bytes(t0, &publish5("own", QoS::ExactlyOnce, 9, None)).unwrap();
    assert!(matches!(s.poll_event(), Some(Ev::Publish(_))));
    assert!(s.poll_event().is_none(), "a repeated QoS 2 PUBLISH is not delivered twice");
    s.handle_bytes(t0, &bytes5(Packet::PubRel(p5::PubRel::new(9, None)))).unwrap();
    let out = packets5(s.take_output(t0 + ACK_DELAY).unwrap());
    let kinds: Vec<&str> = out
        .iter()
        .map(|p| match p {
            Packet::PubRec(r) if r.pkid == 9 => "PUBREC",
            Packet::PubComp(c) if c.pkid == 9 => "PUBCOMP",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["PUBREC", "PUBREC", "PUBCOMP"]);
}

#[test]
fn garbage_packets_beyond_the_limit_and_a_broker_disconnect_end_the_connection() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    let e = s.handle_bytes(t0, &[0x00, 0x00]).unwrap_err();
    assert!(matches!(e, ConnError::Malformed(_)), "{e:?}");
    let small = MqttConfig {
        extended: crate::mqtt::MqttExtended { max_packet_size: Some(100), ..Default::default() },
        ..config("own")
    };
    let mut s = connected(&small, t0, None);
    let mut p = p5::Publish::new("own", QoS::AtMostOnce, vec![0u8; 200], None);
    p.pkid = 0;
    let e = s.handle_bytes(t0, &bytes5(Packet::Publish(p))).unwrap_err();
    assert!(matches!(e, ConnError::Malformed(_)), "{e:?}");
    let mut s = connected(&config("own"), t0, None);
    // DISCONNECT, reason Server shutting down (0x8B), no properties.
    let e = s.handle_bytes(t0, &[0xE0, 0x02, 0x8B, 0x00]).unwrap_err();
    assert!(matches!(e, ConnError::ClosedByBroker(ref r) if r.contains("ServerShuttingDown")));
    // The two-byte form (Normal disconnection) too.
    let mut s = connected(&config("own"), t0, None);
    let e = s.handle_bytes(t0, &[0xE0, 0x00]).unwrap_err();
    assert!(matches!(e, ConnError::ClosedByBroker(ref r) if r.contains("Normal")), "{e:?}");
}

#[test]
fn bytes_split_anywhere_give_the_same_packets() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    let mut all = publish5("own", QoS::AtMostOnce, 0, None);
    all.extend(publish5("own/2", QoS::AtMostOnce, 0, None));
    for b in &all {
        s.handle_bytes(t0, std::slice::from_ref(b)).unwrap();
    }
    let topics: Vec<String> = std::iter::from_fn(|| match s.poll_event() {
        Some(Ev::Publish(p)) => Some(p.topic),
        _ => None,
    })
    .collect();
    assert_eq!(topics, ["own", "own/2"]);
}

#[test]
fn disconnect_is_the_last_packet_and_is_reported_once_written() {
    let t0 = Instant::now();
    let mut s = connected(&config("own"), t0, None);
    s.disconnect().unwrap();
    assert!(s.publish("ctl".into(), b"late".to_vec(), false, "own".into()));
    // DISCONNECT, Normal disconnection: the two-byte form.
    let out = s.take_output(t0).unwrap();
    assert_eq!(&out[..], [0xE0, 0x00]);
    // Half of it written: not out yet.
    let mut out = out;
    s.unwrite(out.split_off(1));
    s.written();
    assert!(s.poll_event().is_none(), "a DISCONNECT still being written is not reported");
    assert_eq!(&s.take_output(t0).unwrap()[..], [0x00]);
    s.written();
    assert!(matches!(s.poll_event(), Some(Ev::DisconnectSent)));
    assert!(s.poll_event().is_none(), "reported once");
}

#[test]
fn v311_publishes_with_the_reply_to_suffix_and_acknowledges() {
    let t0 = Instant::now();
    let cfg = MqttConfig { v5: false, ..config("own") };
    let mut s = Session::new(&cfg, "agent-t", t0).unwrap();
    let mut out = s.take_output(t0).unwrap();
    assert!(matches!(v4::Packet::read(&mut out, 1 << 20).unwrap(), v4::Packet::Connect(_)));
    let mut b = BytesMut::new();
    v4::Packet::ConnAck(v4::ConnAck::new(v4::ConnectReturnCode::Success, false))
        .write(&mut b, 1 << 20)
        .unwrap();
    let mut p = v4::Publish::new("own/reply-to=ctl", rumqttc::QoS::AtLeastOnce, b"r".to_vec());
    p.pkid = 4;
    v4::Packet::Publish(p).write(&mut b, 1 << 20).unwrap();
    s.handle_bytes(t0, &b).unwrap();
    assert!(matches!(s.poll_event(), Some(Ev::ConnAck { assigned: None, .. })));
    assert!(matches!(s.poll_event(), Some(Ev::Publish(p)) if p.topic == "own/reply-to=ctl"));
    assert!(s.publish("ctl".into(), b"a".to_vec(), true, "own/x".into()));
    let mut out = s.take_output(t0).unwrap();
    assert_eq!(
        v4::Packet::read(&mut out, 1 << 20).unwrap(),
        v4::Packet::PubAck(v4::PubAck::new(4))
    );
    let v4::Packet::Publish(p) = v4::Packet::read(&mut out, 1 << 20).unwrap() else { panic!() };
    assert_eq!((p.topic.as_str(), p.retain, p.pkid), ("ctl/reply-to=own%2Fx", true, 1));
}

#[test]
fn data_is_published_without_reply_to_with_its_own_qos() {
    let t0 = Instant::now();
    let cfg = MqttConfig { v5: false, ..config("own") };
    let mut s = Session::new(&cfg, "agent-t", t0).unwrap();
    let _ = s.take_output(t0).unwrap();
    let mut b = BytesMut::new();
    v4::Packet::ConnAck(v4::ConnAck::new(v4::ConnectReturnCode::Success, false))
        .write(&mut b, 1 << 20)
        .unwrap();
    s.handle_bytes(t0, &b).unwrap();
    let data = |qos| Kind::Data { content_type: "text/csv; charset=UTF-8".into(), qos };
    assert!(s.publish_kind("bulk/1".into(), b"a,b".to_vec(), true, data(2)));
    assert!(s.publish_kind("bulk/2".into(), b"c".to_vec(), false, data(0)));
    let mut out = s.take_output(t0).unwrap();
    let v4::Packet::Publish(p) = v4::Packet::read(&mut out, 1 << 20).unwrap() else { panic!() };
    // 3.1.1 has no Content Type; QoS 2 is sent as 1.
    assert_eq!((p.topic.as_str(), p.retain, p.qos), ("bulk/1", true, rumqttc::QoS::AtLeastOnce));
    let v4::Packet::Publish(p) = v4::Packet::read(&mut out, 1 << 20).unwrap() else { panic!() };
    assert_eq!(
        (p.topic.as_str(), p.qos, &p.payload[..]),
        ("bulk/2", rumqttc::QoS::AtMostOnce, &b"c"[..])
    );
}

#[test]
fn output_the_socket_does_not_take_is_bounded() {
    let t0 = Instant::now();
    let cfg = MqttConfig { publish_qos: 0, max_record: 8 * 1024 * 1024, ..config("own") };
    let mut s = connected(&cfg, t0, None);
    let big = vec![0u8; 1024 * 1024];
    let mut taken = 0;
    while s.publish("ctl".into(), big.clone(), false, "own".into()) {
        taken += 1;
        assert!(taken < 100, "never refused");
    }
    // Each PUBLISH is a little more than its Record: the fifth finds more than 4 MiB waiting.
    assert_eq!(taken, MAX_UNSENT / big.len());
    // What the socket did not take goes back first; once written, Records are taken again.
    let out = s.take_output(t0).unwrap();
    let (head, rest) = (out.len() / 2, out.len() - out.len() / 2);
    let mut out = out;
    s.unwrite(out.split_off(head));
    assert!(s.has_unsent());
    assert_eq!(s.take_output(t0).unwrap().len(), rest);
    assert!(!s.has_unsent());
    assert!(s.publish("ctl".into(), big, false, "own".into()));
}

#[test]
fn one_destination_cannot_take_the_whole_waiting_queue() {
    let t0 = Instant::now();
    let props = p5::ConnAckProperties { receive_max: Some(1), ..ack_props() };
    let mut s = connected(&config("own"), t0, Some(props));
    // One in flight; then a flooding controller's answers wait, up to its share.
    for i in 0..200u16 {
        assert!(s.publish("flooder".into(), i.to_be_bytes().to_vec(), false, "own".into()));
    }
    assert_eq!(s.waiting.len(), MAX_WAITING_PER_DEST.0);
    // Another controller's answers still find room.
    assert!(s.publish("polite".into(), vec![1], false, "own".into()));
    assert_eq!(s.waiting.back().map(|w| w.dest.as_str()), Some("polite"));
    assert_eq!(s.waiting.len(), MAX_WAITING_PER_DEST.0 + 1);
}

#[test]
fn waiting_records_are_bounded_in_bytes() {
    let t0 = Instant::now();
    let props = p5::ConnAckProperties { receive_max: Some(1), ..ack_props() };
    let cfg = MqttConfig { max_record: 8 * 1024 * 1024, ..config("own") };
    let mut s = connected(&cfg, t0, Some(props));
    let big = vec![0u8; 1024 * 1024];
    for i in 0..40 {
        // Taken from the session (the output drained as a socket would) or dropped.
        assert!(s.publish(format!("ctl-{}", i % 4), big.clone(), false, "own".into()));
        let _ = s.take_output(t0);
    }
    let bytes: usize = s.waiting.iter().map(|w| w.record.len()).sum();
    assert!(bytes <= MAX_WAITING_BYTES, "{bytes} bytes wait");
    assert!(bytes + big.len() > MAX_WAITING_BYTES, "the bound was not reached: {bytes}");
    // One destination holds at most half of it.
    let first: usize = s.waiting.iter().filter(|w| w.dest == "ctl-0").map(|w| w.record.len()).sum();
    assert!(first <= MAX_WAITING_PER_DEST.1, "{first}");
}
