//! A scripted fake MQTT 5.0 broker for the link tests: accepts the link's connections and reads
//! and writes packets with rumqttc's public v5 codec, so a test can check what the link sends
//! and answer what no real broker of ours sends.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use bytes::BytesMut;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnAckProperties, Connect, ConnectReturnCode, Disconnect, DisconnectReasonCode,
    LastWill, Packet, SubAck, Subscribe, SubscribeReasonCode, UnsubAck, UnsubAckReason,
    Unsubscribe,
};
use usp_mtp::mqtt::MqttConfig;

use super::{LIMIT, config};

/// One accepted client connection of the fake broker.
pub struct Peer {
    pub stream: TcpStream,
    buf: BytesMut,
}

/// Listens on a free port; `accept` takes the link's next connection.
pub struct FakeBroker(TcpListener);

impl FakeBroker {
    pub fn new() -> FakeBroker {
        FakeBroker(TcpListener::bind("127.0.0.1:0").expect("bind"))
    }

    pub fn port(&self) -> u16 {
        self.0.local_addr().expect("address").port()
    }

    pub fn accept(&self) -> Peer {
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
    pub fn read(&mut self) -> Packet {
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

    pub fn write(&mut self, p: Packet) {
        let mut out = BytesMut::new();
        p.write(&mut out, None).expect("encoding");
        self.stream.write_all(&out).expect("writing to the link");
    }

    /// Reads the CONNECT and answers with a CONNACK carrying `props`; returns the CONNECT.
    pub fn handshake(&mut self, props: ConnAckProperties) -> Connect {
        self.handshake_with_will(props).0
    }

    /// [`Peer::handshake`], returning the CONNECT's Will too.
    pub fn handshake_with_will(&mut self, props: ConnAckProperties) -> (Connect, Option<LastWill>) {
        let Packet::Connect(connect, will, login) = self.read() else { panic!("not a CONNECT") };
        assert_eq!(login.map(|l| (l.username, l.password)), Some(("user".into(), "pw".into())));
        let ack = ConnAck {
            session_present: false,
            code: ConnectReturnCode::Success,
            properties: Some(props),
        };
        self.write(Packet::ConnAck(ack));
        (connect, will)
    }

    /// Reads the SUBSCRIBE, answers with `codes`; returns its filters.
    pub fn subscribe(&mut self, codes: &[SubscribeReasonCode]) -> Vec<String> {
        let sub = self.subscribe_packet(codes);
        sub.filters.iter().map(|f| f.path.clone()).collect()
    }

    /// Reads the SUBSCRIBE, answers with `codes`; returns it.
    pub fn subscribe_packet(&mut self, codes: &[SubscribeReasonCode]) -> Subscribe {
        let Packet::Subscribe(sub) = self.read() else { panic!("not a SUBSCRIBE") };
        let suback = SubAck { pkid: sub.pkid, return_codes: codes.to_vec(), properties: None };
        self.write(Packet::SubAck(suback));
        sub
    }

    /// Reads the UNSUBSCRIBE, answers with success; returns it.
    pub fn unsubscribe(&mut self) -> Unsubscribe {
        let Packet::Unsubscribe(unsub) = self.read() else { panic!("not an UNSUBSCRIBE") };
        let reasons = vec![UnsubAckReason::Success; unsub.filters.len()];
        self.write(Packet::UnsubAck(UnsubAck { pkid: unsub.pkid, reasons, properties: None }));
        unsub
    }
}

pub fn connack(
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

pub fn link_config(port: u16, client_id: &str, response_topic: &str) -> MqttConfig {
    let mut cfg = config(port, true, client_id, response_topic);
    cfg.endpoint_id = "os::012345-CPE-1".into();
    cfg.username = "user".into();
    cfg.password = "pw".into();
    cfg.keep_alive = std::time::Duration::from_secs(45);
    cfg.subscriptions = vec![("cfg/topic".into(), 0)];
    cfg
}

pub const OK: SubscribeReasonCode = SubscribeReasonCode::Success(QoS::AtLeastOnce);
