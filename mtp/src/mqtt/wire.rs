//! MQTT packets on the wire, either version, on rumqttc's packet codecs (`mqttbytes` v4 and
//! v5): [`decode`] frames and parses what the broker sends into version-neutral [`In`] values;
//! [`Encoder`] appends the packets a client sends to an output buffer, each v5 packet with the
//! properties the configuration gives it ([`PacketProps`]).
//!
//! Owns the translation between our packet vocabulary and rumqttc's two codecs. Never keeps
//! protocol state (packet identifiers, in-flight windows, aliases: `session.rs`) and never does
//! I/O.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::{self as m4, v4};
use rumqttc::v5::mqttbytes::{self as m5, v5 as p5};

use super::config::{MqttConfig, PacketType};
use super::connect::Connect;
use super::session::Kind;
use super::topics;

/// The MQTT 5.0 QoS of a TR-181 QoS number (2 and above: exactly once).
pub(super) fn qos5(q: u8) -> m5::QoS {
    match q {
        0 => m5::QoS::AtMostOnce,
        1 => m5::QoS::AtLeastOnce,
        _ => m5::QoS::ExactlyOnce,
    }
}

/// The MQTT 3.1.1 QoS of a TR-181 QoS number (2 and above: exactly once).
pub(super) fn qos4(q: u8) -> m4::QoS {
    match q {
        0 => m4::QoS::AtMostOnce,
        1 => m4::QoS::AtLeastOnce,
        _ => m4::QoS::ExactlyOnce,
    }
}

/// Why bytes from the broker are not a packet we accept: the connection must end.
#[derive(Debug)]
pub(super) struct Malformed(pub String);

/// A packet from the broker, either version.
#[derive(Debug)]
pub(super) enum In {
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK of our QoS 1 PUBLISH; `refused` is a v5 reason code of 0x80 or above.
    PubAck {
        /// The packet identifier.
        pkid: u16,
        /// The refusal, when the broker refused it.
        refused: Option<String>,
    },
    /// PUBREL of a QoS 2 PUBLISH we received.
    PubRel(u16),
    /// SUBACK: per filter, whether it was granted.
    SubAck(Vec<bool>),
    /// UNSUBACK.
    UnsubAck,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT from the broker (v5), with its reason.
    Disconnect(String),
    /// A packet a broker has no reason to send a client of ours (logged, ignored).
    Ignored(&'static str),
}

/// What a CONNACK says.
#[derive(Debug, Default)]
pub(super) struct ConnAck {
    /// `None` when the broker accepted the connection, else its refusal.
    pub refused: Option<String>,
    /// v5 Assigned Client Identifier.
    pub assigned: Option<String>,
    /// What matters for subscribing (v5 `subscribe-topic`, Response Information).
    pub connack: topics::Connack,
    /// v5 Receive Maximum: the most QoS 1/2 PUBLISHes the broker takes unacknowledged.
    pub receive_max: Option<u16>,
    /// v5 Maximum Packet Size the broker accepts.
    pub max_packet: Option<u32>,
    /// v5 Server Keep Alive, replacing ours.
    pub server_keep_alive: Option<u16>,
}

/// A PUBLISH from the broker.
#[derive(Debug)]
pub(super) struct Publish {
    /// The topic name; empty when a v5 Topic Alias stands for it.
    pub topic: Bytes,
    /// The payload.
    pub payload: Bytes,
    /// 0, 1 or 2.
    pub qos: u8,
    /// The packet identifier (QoS 1 and 2).
    pub pkid: u16,
    /// v5 Topic Alias.
    pub topic_alias: Option<u16>,
    /// v5 Response Topic.
    pub response_topic: Option<String>,
    /// v5 Content Type.
    pub content_type: Option<String>,
}

/// Frames and parses the next packet of `buf` (consuming it); `Ok(None)` when `buf` holds no
/// whole packet yet. Packets larger than `max` are refused before being read.
pub(super) fn decode(v5: bool, buf: &mut BytesMut, max: u32) -> Result<Option<In>, Malformed> {
    if buf.is_empty() {
        return Ok(None);
    }
    if v5 {
        // rumqttc's reader refuses the two-byte DISCONNECT MQTT 5 allows (reason code 0, Normal
        // disconnection, left out: 3.14.2.1).
        if buf.starts_with(&[0xE0, 0x00]) {
            let _ = buf.split_to(2);
            return Ok(Some(In::Disconnect("NormalDisconnection".into())));
        }
        match p5::Packet::read(buf, Some(max)) {
            Ok(p) => Ok(Some(in5(p))),
            Err(m5::Error::InsufficientBytes(_)) => Ok(None),
            Err(e) => Err(Malformed(e.to_string())),
        }
    } else {
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        match v4::Packet::read(buf, max) {
            Ok(p) => Ok(Some(in4(p))),
            Err(m4::Error::InsufficientBytes(_)) => Ok(None),
            Err(e) => Err(Malformed(e.to_string())),
        }
    }
}

fn in5(p: p5::Packet) -> In {
    use p5::Packet as P;
    match p {
        P::ConnAck(ack) => {
            let refused = (ack.code != p5::ConnectReturnCode::Success)
                .then(|| format!("connection refused: {:?}", ack.code));
            let Some(props) = ack.properties else {
                return In::ConnAck(ConnAck { refused, ..ConnAck::default() });
            };
            let subscribe_topics = props
                .user_properties
                .into_iter()
                .filter(|(k, _)| k == topics::SUBSCRIBE_TOPIC_PROPERTY)
                .map(|(_, v)| v)
                .collect();
            let response_information = props.response_information;
            In::ConnAck(ConnAck {
                refused,
                assigned: props.assigned_client_identifier,
                connack: topics::Connack { subscribe_topics, response_information },
                receive_max: props.receive_max,
                max_packet: props.max_packet_size,
                server_keep_alive: props.server_keep_alive,
            })
        }
        P::Publish(p) => {
            let (topic_alias, response_topic, content_type) = match p.properties {
                Some(pp) => (pp.topic_alias, pp.response_topic, pp.content_type),
                None => (None, None, None),
            };
            In::Publish(Publish {
                topic: p.topic,
                payload: p.payload,
                qos: p.qos as u8,
                pkid: p.pkid,
                topic_alias,
                response_topic,
                content_type,
            })
        }
        P::PubAck(ack) => {
            let ok = matches!(
                ack.reason,
                p5::PubAckReason::Success | p5::PubAckReason::NoMatchingSubscribers
            );
            In::PubAck { pkid: ack.pkid, refused: (!ok).then(|| format!("{:?}", ack.reason)) }
        }
        P::PubRel(rel) => In::PubRel(rel.pkid),
        P::SubAck(ack) => In::SubAck(
            ack.return_codes
                .iter()
                .map(|c| matches!(c, p5::SubscribeReasonCode::Success(_)))
                .collect(),
        ),
        P::UnsubAck(ack) => {
            if ack.reasons.iter().any(|r| !matches!(r, p5::UnsubAckReason::Success)) {
                log::debug!("MQTT: UNSUBACK reasons {:?}", ack.reasons);
            }
            In::UnsubAck
        }
        P::PingResp(_) => In::PingResp,
        P::Disconnect(d) => {
            let text = d.properties.and_then(|p| p.reason_string);
            In::Disconnect(format!(
                "{:?}{}",
                d.reason_code,
                text.map(|t| format!(": {t}")).unwrap_or_default()
            ))
        }
        P::Auth(_) => In::Ignored("AUTH"),
        P::Connect(..) => In::Ignored("CONNECT"),
        P::PingReq(_) => In::Ignored("PINGREQ"),
        P::Subscribe(_) => In::Ignored("SUBSCRIBE"),
        P::Unsubscribe(_) => In::Ignored("UNSUBSCRIBE"),
        P::PubRec(_) => In::Ignored("PUBREC"),
        P::PubComp(_) => In::Ignored("PUBCOMP"),
    }
}

fn in4(p: v4::Packet) -> In {
    use v4::Packet as P;
    match p {
        P::ConnAck(ack) => {
            let refused = (ack.code != v4::ConnectReturnCode::Success)
                .then(|| format!("connection refused: {:?}", ack.code));
            In::ConnAck(ConnAck { refused, ..ConnAck::default() })
        }
        P::Publish(p) => In::Publish(Publish {
            topic: Bytes::from(p.topic.into_bytes()),
            payload: p.payload,
            qos: p.qos as u8,
            pkid: p.pkid,
            topic_alias: None,
            response_topic: None,
            content_type: None,
        }),
        P::PubAck(ack) => In::PubAck { pkid: ack.pkid, refused: None },
        P::PubRel(rel) => In::PubRel(rel.pkid),
        P::SubAck(ack) => In::SubAck(
            ack.return_codes
                .iter()
                .map(|c| matches!(c, v4::SubscribeReasonCode::Success(_)))
                .collect(),
        ),
        P::UnsubAck(_) => In::UnsubAck,
        P::PingResp => In::PingResp,
        P::Disconnect => In::Ignored("DISCONNECT"),
        P::Connect(_) => In::Ignored("CONNECT"),
        P::PingReq => In::Ignored("PINGREQ"),
        P::Subscribe(_) => In::Ignored("SUBSCRIBE"),
        P::Unsubscribe(_) => In::Ignored("UNSUBSCRIBE"),
        P::PubRec(_) => In::Ignored("PUBREC"),
        P::PubComp(_) => In::Ignored("PUBCOMP"),
    }
}

/// The configured v5 properties of the packets the link sends after CONNECT.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PacketProps {
    /// User Properties of every PUBLISH.
    pub publish: Vec<(String, String)>,
    /// User Properties of every SUBSCRIBE.
    pub subscribe: Vec<(String, String)>,
    /// User Properties of every UNSUBSCRIBE.
    pub unsubscribe: Vec<(String, String)>,
    /// The Message Expiry Interval of every PUBLISH.
    pub publish_expiry: Option<u32>,
}

impl PacketProps {
    /// The properties `cfg` configures (none for 3.1.1).
    pub(super) fn of(cfg: &MqttConfig) -> PacketProps {
        if !cfg.v5 {
            return PacketProps::default();
        }
        let x = &cfg.extended;
        PacketProps {
            publish: x.properties_for(PacketType::Publish),
            subscribe: x.properties_for(PacketType::Subscribe),
            unsubscribe: x.properties_for(PacketType::Unsubscribe),
            publish_expiry: (x.publish_expiry > 0).then_some(x.publish_expiry),
        }
    }
}

/// Why a packet could not be encoded.
#[derive(Debug)]
pub(super) struct Unencodable(pub String);

/// Appends the packets of one connection to an output buffer.
#[derive(Debug)]
pub(super) struct Encoder {
    /// MQTT 5.0 (else 3.1.1).
    pub v5: bool,
    /// The largest packet the broker takes (v5 CONNACK Maximum Packet Size, else our own
    /// limit).
    pub max: u32,
    /// The configured v5 properties.
    pub props: PacketProps,
}

impl Encoder {
    fn put5(&self, p: &p5::Packet, out: &mut BytesMut) -> Result<(), Unencodable> {
        p.write(out, Some(self.max)).map(drop).map_err(|e| Unencodable(e.to_string()))
    }

    fn put4(&self, p: &v4::Packet, out: &mut BytesMut) -> Result<(), Unencodable> {
        let max = usize::try_from(self.max).unwrap_or(usize::MAX);
        p.write(out, max).map(drop).map_err(|e| Unencodable(e.to_string()))
    }

    /// CONNECT.
    pub(super) fn connect(&self, c: Connect, out: &mut BytesMut) -> Result<(), Unencodable> {
        match c {
            Connect::V5(c) => {
                let (connect, will, login) = *c;
                self.put5(&p5::Packet::Connect(connect, will, login), out)
            }
            Connect::V4(c) => self.put4(&v4::Packet::Connect(*c), out),
        }
    }

    /// One SUBSCRIBE of every filter.
    pub(super) fn subscribe(
        &self,
        pkid: u16,
        filters: &[(String, u8)],
        out: &mut BytesMut,
    ) -> Result<(), Unencodable> {
        if self.v5 {
            let filters = filters.iter().map(|(f, q)| p5::Filter::new(f.clone(), qos5(*q)));
            let props = (!self.props.subscribe.is_empty()).then(|| p5::SubscribeProperties {
                id: None,
                user_properties: self.props.subscribe.clone(),
            });
            let mut s = p5::Subscribe::new_many(filters, props);
            s.pkid = pkid;
            self.put5(&p5::Packet::Subscribe(s), out)
        } else {
            let filters =
                filters.iter().map(|(f, q)| v4::SubscribeFilter::new(f.clone(), qos4(*q)));
            let mut s = v4::Subscribe::new_many(filters);
            s.pkid = pkid;
            self.put4(&v4::Packet::Subscribe(s), out)
        }
    }

    /// One UNSUBSCRIBE of `filter`.
    pub(super) fn unsubscribe(
        &self,
        pkid: u16,
        filter: &str,
        out: &mut BytesMut,
    ) -> Result<(), Unencodable> {
        if self.v5 {
            let props = (!self.props.unsubscribe.is_empty()).then(|| p5::UnsubscribeProperties {
                user_properties: self.props.unsubscribe.clone(),
            });
            let mut u = p5::Unsubscribe::new(filter, props);
            u.pkid = pkid;
            self.put5(&p5::Packet::Unsubscribe(u), out)
        } else {
            let mut u = v4::Unsubscribe::new(filter);
            u.pkid = pkid;
            self.put4(&v4::Packet::Unsubscribe(u), out)
        }
    }

    /// One PUBLISH of a Record carrying `reply_to` the way the version wants (R-MQTT.23/24/27).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn publish(
        &self,
        pkid: u16,
        dest: &str,
        record: Vec<u8>,
        qos: u8,
        retain: bool,
        kind: &Kind,
        out: &mut BytesMut,
    ) -> Result<(), Unencodable> {
        if self.v5 {
            let (response_topic, content_type) = match kind {
                Kind::Record { reply_to } => {
                    (Some(reply_to.clone()), topics::CONTENT_TYPE.to_owned())
                }
                Kind::Data { content_type, .. } => (None, content_type.clone()),
            };
            let props = p5::PublishProperties {
                response_topic,
                content_type: Some(content_type),
                message_expiry_interval: self.props.publish_expiry,
                user_properties: self.props.publish.clone(),
                ..Default::default()
            };
            let mut p = p5::Publish::new(dest, qos5(qos), record, Some(props));
            p.retain = retain;
            p.pkid = pkid;
            self.put5(&p5::Packet::Publish(p), out)
        } else {
            let topic = match kind {
                Kind::Record { reply_to } => topics::with_reply_to(dest, reply_to),
                Kind::Data { .. } => dest.to_owned(),
            };
            let mut p = v4::Publish::new(topic, qos4(qos), record);
            p.retain = retain;
            p.pkid = pkid;
            self.put4(&v4::Packet::Publish(p), out)
        }
    }

    /// PUBACK of a QoS 1 PUBLISH received.
    pub(super) fn puback(&self, pkid: u16, out: &mut BytesMut) -> Result<(), Unencodable> {
        if self.v5 {
            self.put5(&p5::Packet::PubAck(p5::PubAck::new(pkid, None)), out)
        } else {
            self.put4(&v4::Packet::PubAck(v4::PubAck::new(pkid)), out)
        }
    }

    /// PUBREC of a QoS 2 PUBLISH received.
    pub(super) fn pubrec(&self, pkid: u16, out: &mut BytesMut) -> Result<(), Unencodable> {
        if self.v5 {
            self.put5(&p5::Packet::PubRec(p5::PubRec::new(pkid, None)), out)
        } else {
            self.put4(&v4::Packet::PubRec(v4::PubRec::new(pkid)), out)
        }
    }

    /// PUBCOMP answering a PUBREL.
    pub(super) fn pubcomp(&self, pkid: u16, out: &mut BytesMut) -> Result<(), Unencodable> {
        if self.v5 {
            self.put5(&p5::Packet::PubComp(p5::PubComp::new(pkid, None)), out)
        } else {
            self.put4(&v4::Packet::PubComp(v4::PubComp::new(pkid)), out)
        }
    }

    /// PINGREQ.
    pub(super) fn pingreq(&self, out: &mut BytesMut) -> Result<(), Unencodable> {
        if self.v5 {
            self.put5(&p5::Packet::PingReq(p5::PingReq), out)
        } else {
            self.put4(&v4::Packet::PingReq, out)
        }
    }

    /// DISCONNECT (normal disconnection).
    pub(super) fn disconnect(&self, out: &mut BytesMut) -> Result<(), Unencodable> {
        if self.v5 {
            let d = p5::Disconnect::new(p5::DisconnectReasonCode::NormalDisconnection);
            self.put5(&p5::Packet::Disconnect(d), out)
        } else {
            self.put4(&v4::Packet::Disconnect, out)
        }
    }
}
