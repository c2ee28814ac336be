//! The MQTT 5.0 link against a scripted fake broker, for what no real peer of ours sends:
//! CONNACK `subscribe-topic` User Properties and Response Information (R-MQTT.15/21), a refused
//! SUBSCRIBE (R-MQTT.17), and garbage bytes on the wire. The script reads and writes packets
//! with rumqttc's public v5 codec and checks the CONNECT fields of R-MQTT.8/12/13.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use bytes::BytesMut;
use common::{LIMIT, config, mqtt_info, sink};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnAckProperties, ConnectReturnCode, Disconnect, DisconnectReasonCode, Packet,
    Publish, PublishProperties, SubAck, SubscribeReasonCode,
};
use usp_mtp::mqtt::{MqttConfig, spawn};
use usp_mtp::{ConnectInfo, Link, Outbound};

/// One accepted client connection of the fake broker.
struct Peer {
    stream: TcpStream,
    buf: BytesMut,
}

/// Listens on a free port; `accept` takes the link's next connection.
struct FakeBroker(TcpListener);

impl FakeBroker {
    fn new() -> FakeBroker {
        FakeBroker(TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    fn port(&self) -> u16 {
        self.0.local_addr().expect("address").port()
    }

    fn accept(&self) -> Peer {
        self.0.set_nonblocking(true).expect("nonblocking listener");
        let end = std::time::Instant::now() + LIMIT;
        let stream = loop {
            match self.0.accept() {
                Ok((s, _)) => break s,
                Err(_) if std::time::Instant::now() < end => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                Err(e) => panic!("no connection within {LIMIT:?}: {e}"),
            }
        };
        stream.set_nonblocking(false).expect("blocking stream");
        stream.set_read_timeout(Some(LIMIT)).expect("read timeout");
        Peer { stream, buf: BytesMut::new() }
    }
}

impl Peer {
    /// The next packet (panics after [`LIMIT`] or on a closed connection).
    fn read(&mut self) -> Packet {
        loop {
            // rumqttc's reader refuses the two-byte DISCONNECT MQTT 5 allows (reason code
            // omitted: normal disconnection), which its writer sends.
            if self.buf.starts_with(&[0xE0, 0x00]) {
                let _ = self.buf.split_to(2);
                return Packet::Disconnect(Disconnect::new(
                    DisconnectReasonCode::NormalDisconnection,
                ));
            }
            match Packet::read(&mut self.buf, None) {
                Ok(p) => return p,
                Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(e) => panic!("bad packet from the link: {e:?}"),
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("reading from the link");
            assert!(n > 0, "the link closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn write(&mut self, p: Packet) {
        let mut out = BytesMut::new();
        p.write(&mut out, None).expect("encoding");
        self.stream.write_all(&out).expect("writing to the link");
    }

    /// Reads the CONNECT and answers with a CONNACK carrying `props`; returns the CONNECT.
    fn handshake(&mut self, props: ConnAckProperties) -> rumqttc::v5::mqttbytes::v5::Connect {
        let Packet::Connect(connect, _, login) = self.read() else { panic!("not a CONNECT") };
        assert_eq!(login.map(|l| (l.username, l.password)), Some(("user".into(), "pw".into())));
        let ack = ConnAck {
            session_present: false,
            code: ConnectReturnCode::Success,
            properties: Some(props),
        };
        self.write(Packet::ConnAck(ack));
        connect
    }

    /// Reads the SUBSCRIBE, answers with `codes`; returns its filters.
    fn subscribe(&mut self, codes: &[SubscribeReasonCode]) -> Vec<String> {
        let Packet::Subscribe(sub) = self.read() else { panic!("not a SUBSCRIBE") };
        let filters = sub.filters.iter().map(|f| f.path.clone()).collect();
        let suback = SubAck { pkid: sub.pkid, return_codes: codes.to_vec(), properties: None };
        self.write(Packet::SubAck(suback));
        filters
    }
}

fn connack(
    assigned: Option<&str>,
    subscribe_topics: &[&str],
    response_information: Option<&str>,
) -> ConnAckProperties {
    ConnAckProperties {
        session_expiry_interval: None,
        receive_max: None,
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: assigned.map(str::to_owned),
        topic_alias_max: None,
        reason_string: None,
        user_properties: subscribe_topics
            .iter()
            .map(|t| ("subscribe-topic".to_owned(), t.to_string()))
            .chain([("other".to_owned(), "ignored".to_owned())])
            .collect(),
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: response_information.map(str::to_owned),
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    }
}

fn link_config(port: u16, client_id: &str, response_topic: &str) -> MqttConfig {
    let mut cfg = config(port, true, client_id, response_topic);
    cfg.endpoint_id = "os::012345-CPE-1".into();
    cfg.username = "user".into();
    cfg.password = "pw".into();
    cfg.keep_alive = std::time::Duration::from_secs(45);
    cfg.subscriptions = vec![("cfg/topic".into(), 0)];
    cfg
}

const OK: SubscribeReasonCode = SubscribeReasonCode::Success(QoS::AtLeastOnce);

#[test]
fn connack_subscribe_topics_and_response_information_drive_the_subscription() {
    let broker = FakeBroker::new();
    let (sink, events) = sink();
    let mut link = spawn(7, link_config(broker.port(), "", "configured/ignored"), sink);
    let mut peer = broker.accept();
    let connect =
        peer.handshake(connack(Some("assigned-7"), &["st/one", "st/two/#"], Some("resp/info/7")));
    // R-MQTT.8, 12, 13, 14.
    assert_eq!(connect.client_id, "");
    assert_eq!(connect.keep_alive, 45);
    assert!(connect.clean_start);
    let props = connect.properties.expect("CONNECT properties");
    assert_eq!(props.request_response_info, Some(1));
    assert_eq!(
        props.user_properties,
        vec![("usp-endpoint-id".to_owned(), "os::012345-CPE-1".to_owned())]
    );
    let filters = peer.subscribe(&[OK, OK, OK, OK]);
    assert_eq!(filters, ["cfg/topic", "st/one", "st/two/#", "resp/info/7"]);
    let info = events.up(7);
    assert_eq!(
        info,
        ConnectInfo::Mqtt {
            v5: true,
            subscribed_topic: "resp/info/7".into(),
            assigned_client_id: Some("assigned-7".into()),
            response_information: Some("resp/info/7".into()),
            subscribed: filters.clone(),
        }
    );

    // A Record in, with its Response Topic.
    let props = PublishProperties {
        response_topic: Some("ctl/reply".into()),
        content_type: Some("usp.msg".into()),
        ..Default::default()
    };
    peer.write(Packet::Publish(Publish::new(
        "resp/info/7",
        QoS::AtMostOnce,
        &b"in"[..],
        Some(props),
    )));
    let (reply_to, record) = events.received(7);
    assert_eq!((reply_to.as_deref(), &record[..]), (Some("ctl/reply"), &b"in"[..]));

    // A Record out carries the Response Information as its Response Topic (R-MQTT.21/23).
    link.send(Outbound { dest: "ctl/reply".into(), record: b"out".to_vec(), retain: true })
        .expect("send");
    let Packet::Publish(p) = peer.read() else { panic!("not a PUBLISH") };
    assert_eq!(
        (&p.topic[..], &p.payload[..], p.qos, p.retain),
        (&b"ctl/reply"[..], &b"out"[..], QoS::AtLeastOnce, true)
    );
    let props = p.properties.expect("PUBLISH properties");
    assert_eq!(props.response_topic.as_deref(), Some("resp/info/7"));
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));

    // R-MQTT.35: DISCONNECT on stop.
    link.stop();
    assert!(matches!(peer.read(), Packet::Disconnect(_)));
}

#[test]
fn covered_response_information_and_oktopus_style_subscribe_topic() {
    let broker = FakeBroker::new();
    let (sink, events) = sink();
    let mut cfg = link_config(broker.port(), "dev-1", "oktopus/usp/v1/controller");
    cfg.subscriptions.clear();
    let link = spawn(1, cfg, sink.clone());
    let mut peer = broker.accept();
    let connect = peer.handshake(connack(None, &["st/two/#"], Some("st/two/x")));
    assert_eq!(connect.client_id, "dev-1");
    assert_eq!(peer.subscribe(&[OK]), ["st/two/#"], "Response Information already covered");
    assert_eq!(mqtt_info(&events.up(1)).1, "st/two/x");
    // Dropping the handle sends DISCONNECT too.
    drop(link);
    assert!(matches!(peer.read(), Packet::Disconnect(_)));

    // Oktopus: `subscribe-topic` only; the configured response topic is subscribed too, and
    // the subscribe-topic is the own address.
    let mut cfg = link_config(broker.port(), "dev-2", "oktopus/usp/v1/controller");
    cfg.subscriptions.clear();
    let _oktopus = spawn(2, cfg, sink);
    let mut peer = broker.accept();
    peer.handshake(connack(None, &["oktopus/usp/v1/agent/dev-2"], None));
    let filters = peer.subscribe(&[OK, OK]);
    assert_eq!(filters, ["oktopus/usp/v1/agent/dev-2", "oktopus/usp/v1/controller"]);
    let info = events.up(2);
    assert_eq!(mqtt_info(&info).1, "oktopus/usp/v1/agent/dev-2");
}

#[test]
fn a_refused_subscribe_disconnects_then_retries_with_the_assigned_client_id() {
    let broker = FakeBroker::new();
    let (sink, events) = sink();
    let link = spawn(3, link_config(broker.port(), "", ""), sink);
    let mut peer = broker.accept();
    peer.handshake(connack(Some("auto-3"), &["st/three"], None));
    let refused = SubscribeReasonCode::NotAuthorized;
    assert_eq!(peer.subscribe(&[refused, refused]), ["cfg/topic", "st/three"]);
    // R-MQTT.17: no publishing, DISCONNECT, retry.
    assert!(matches!(peer.read(), Packet::Disconnect(_)));
    let (reason, retry_in) = events.down(3);
    assert!(retry_in.is_some(), "{reason}");
    assert!(link.send(Outbound { dest: "a".into(), record: vec![1], retain: false }).is_err());

    let mut peer = broker.accept();
    let connect = peer.handshake(connack(None, &["st/three"], None));
    assert_eq!(connect.client_id, "auto-3", "R-MQTT.11: the assigned ClientId is reused");
    // One refusal among grants is tolerated when the own topic's filter is granted.
    peer.subscribe(&[refused, OK]);
    let info = events.up(3);
    let (_, own, _, subscribed) = mqtt_info(&info);
    assert_eq!((own, subscribed), ("st/three", &["st/three".to_owned()][..]));
}

#[test]
fn garbage_from_the_broker_drops_the_connection_and_the_link_reconnects() {
    let broker = FakeBroker::new();
    let (sink, events) = sink();
    let _link = spawn(4, link_config(broker.port(), "g", "own/g"), sink);
    let mut peer = broker.accept();
    peer.handshake(connack(None, &[], None));
    peer.subscribe(&[OK, OK]);
    events.up(4);
    // A reserved packet type (0) with a huge remaining length.
    peer.stream.write_all(&[0x00, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3]).expect("garbage");
    let (reason, retry_in) = events.down(4);
    assert!(retry_in.is_some(), "{reason}");
    let mut peer = broker.accept();
    peer.handshake(connack(None, &[], None));
    peer.subscribe(&[OK, OK]);
    events.up(4);
}
