//! The event side of one MQTT connection ([`Conn`]): rumqttc's events of either version
//! reduced to the few the link thread needs ([`Ev`]).
//!
//! Owns the translation from rumqttc's two event APIs to ours. Never acts on an event (the link
//! thread in `link.rs` does).

use rumqttc::v5::mqttbytes::v5 as p5;

use super::topics::{self, Connack};

/// What the link thread learns from the connection.
#[derive(Debug)]
pub(super) enum Ev {
    /// The broker accepted the CONNECT.
    ConnAck {
        /// The v5 Assigned Client Identifier.
        assigned: Option<String>,
        /// What matters for subscribing.
        connack: Connack,
    },
    /// The answer to one of our SUBSCRIBEs: success of each filter, in order.
    SubAck(Vec<bool>),
    /// The answer to one of our UNSUBSCRIBEs.
    UnsubAck,
    /// A message arrived.
    Publish(Incoming),
    /// Our DISCONNECT went out.
    DisconnectSent,
    /// Anything else (pings, acks of our publishes).
    Other,
}

/// A received PUBLISH, both versions.
#[derive(Debug)]
pub(super) struct Incoming {
    /// The topic name (for 3.1.1, with its `/reply-to=` suffix).
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
    /// The v5 Response Topic.
    pub response_topic: Option<String>,
    /// The v5 Content Type.
    pub content_type: Option<String>,
}

/// The event side of one connection, driven by the link thread only.
pub(super) enum Conn {
    /// MQTT 5.0.
    V5(Box<rumqttc::v5::Connection>),
    /// MQTT 3.1.1.
    V4(Box<rumqttc::Connection>),
}

impl Conn {
    /// Blocks for the next event. `Err` ends the connection (its text says why).
    pub(super) fn next(&mut self) -> Result<Ev, String> {
        match self {
            Conn::V5(c) => match c.recv() {
                Ok(Ok(e)) => Ok(ev5(e)),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("request queue closed".to_owned()),
            },
            Conn::V4(c) => match c.recv() {
                Ok(Ok(e)) => Ok(ev4(e)),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("request queue closed".to_owned()),
            },
        }
    }
}

fn ev5(e: rumqttc::v5::Event) -> Ev {
    use rumqttc::v5::{Event, Incoming as In};
    match e {
        Event::Incoming(In::ConnAck(ack)) => match ack.properties {
            Some(props) => {
                let subscribe_topics = props
                    .user_properties
                    .into_iter()
                    .filter(|(k, _)| k == topics::SUBSCRIBE_TOPIC_PROPERTY)
                    .map(|(_, v)| v)
                    .collect();
                let response_information = props.response_information;
                let connack = Connack { subscribe_topics, response_information };
                Ev::ConnAck { assigned: props.assigned_client_identifier, connack }
            }
            None => Ev::ConnAck { assigned: None, connack: Connack::default() },
        },
        Event::Incoming(In::SubAck(ack)) => Ev::SubAck(
            ack.return_codes
                .iter()
                .map(|c| matches!(c, p5::SubscribeReasonCode::Success(_)))
                .collect(),
        ),
        Event::Incoming(In::UnsubAck(ack)) => {
            let refused = ack.reasons.iter().any(|r| !matches!(r, p5::UnsubAckReason::Success));
            if refused {
                log::debug!("MQTT: UNSUBACK reasons {:?}", ack.reasons);
            }
            Ev::UnsubAck
        }
        Event::Incoming(In::Publish(p)) => {
            let (response_topic, content_type) = match p.properties {
                Some(pp) => (pp.response_topic, pp.content_type),
                None => (None, None),
            };
            match String::from_utf8(p.topic.to_vec()) {
                Ok(topic) => Ev::Publish(Incoming {
                    topic,
                    payload: p.payload.to_vec(),
                    response_topic,
                    content_type,
                }),
                Err(_) => {
                    log::warn!("MQTT: dropped a PUBLISH whose topic is not UTF-8");
                    Ev::Other
                }
            }
        }
        Event::Outgoing(rumqttc::Outgoing::Disconnect) => Ev::DisconnectSent,
        _ => Ev::Other,
    }
}

fn ev4(e: rumqttc::Event) -> Ev {
    use rumqttc::{Event, Packet};
    match e {
        Event::Incoming(Packet::ConnAck(_)) => {
            Ev::ConnAck { assigned: None, connack: Connack::default() }
        }
        Event::Incoming(Packet::SubAck(ack)) => Ev::SubAck(
            ack.return_codes
                .iter()
                .map(|c| matches!(c, rumqttc::SubscribeReasonCode::Success(_)))
                .collect(),
        ),
        Event::Incoming(Packet::UnsubAck(_)) => Ev::UnsubAck,
        Event::Incoming(Packet::Publish(p)) => Ev::Publish(Incoming {
            topic: p.topic,
            payload: p.payload.to_vec(),
            response_topic: None,
            content_type: None,
        }),
        Event::Outgoing(rumqttc::Outgoing::Disconnect) => Ev::DisconnectSent,
        _ => Ev::Other,
    }
}
