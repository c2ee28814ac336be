//! The request side of one MQTT connection ([`Handle`]): SUBSCRIBE, UNSUBSCRIBE, PUBLISH and
//! DISCONNECT queued into rumqttc, each v5 packet with the properties the configuration gives
//! it (User Properties per packet type, the PUBLISH Message Expiry Interval).
//!
//! Owns the translation from our requests to rumqttc's two client APIs. Never waits for the
//! network (every call only queues) and never decides what to subscribe to (`topics.rs`).

use std::sync::Arc;

use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5 as p5;

use super::config::{MqttConfig, PacketType};
use super::topics;

/// The request side of one connection. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub(super) struct Handle {
    client: Client,
    /// What v5 packets carry besides their own fields (empty for 3.1.1).
    props: Arc<PacketProps>,
}

/// rumqttc's client of either version.
#[derive(Clone)]
enum Client {
    /// MQTT 5.0.
    V5(rumqttc::v5::Client),
    /// MQTT 3.1.1.
    V4(rumqttc::Client),
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

pub(super) fn qos5(q: u8) -> QoS5 {
    match q {
        0 => QoS5::AtMostOnce,
        1 => QoS5::AtLeastOnce,
        _ => QoS5::ExactlyOnce,
    }
}

pub(super) fn qos4(q: u8) -> rumqttc::QoS {
    match q {
        0 => rumqttc::QoS::AtMostOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::ExactlyOnce,
    }
}

impl Handle {
    /// The handle of a v5 connection.
    pub(super) fn v5(client: rumqttc::v5::Client, props: PacketProps) -> Handle {
        Handle { client: Client::V5(client), props: Arc::new(props) }
    }

    /// The handle of a 3.1.1 connection.
    pub(super) fn v4(client: rumqttc::Client) -> Handle {
        Handle { client: Client::V4(client), props: Arc::new(PacketProps::default()) }
    }

    /// Queues one SUBSCRIBE with every filter (already validated by `topics::plan`).
    pub(super) fn subscribe(&self, filters: &[(String, u8)]) -> Result<(), String> {
        let queued = match &self.client {
            Client::V5(c) => {
                let filters = filters.iter().map(|(f, q)| p5::Filter::new(f.clone(), qos5(*q)));
                if self.props.subscribe.is_empty() {
                    c.try_subscribe_many(filters).is_ok()
                } else {
                    let props = p5::SubscribeProperties {
                        id: None,
                        user_properties: self.props.subscribe.clone(),
                    };
                    c.try_subscribe_many_with_properties(filters, props).is_ok()
                }
            }
            Client::V4(c) => c
                .try_subscribe_many(
                    filters.iter().map(|(f, q)| rumqttc::SubscribeFilter::new(f.clone(), qos4(*q))),
                )
                .is_ok(),
        };
        if queued { Ok(()) } else { Err("SUBSCRIBE could not be queued".to_owned()) }
    }

    /// Queues one UNSUBSCRIBE of `filter`.
    pub(super) fn unsubscribe(&self, filter: &str) -> Result<(), String> {
        let queued = match &self.client {
            Client::V5(c) if self.props.unsubscribe.is_empty() => c.try_unsubscribe(filter).is_ok(),
            Client::V5(c) => {
                let props =
                    p5::UnsubscribeProperties { user_properties: self.props.unsubscribe.clone() };
                c.try_unsubscribe_with_properties(filter, props).is_ok()
            }
            Client::V4(c) => c.try_unsubscribe(filter).is_ok(),
        };
        if queued { Ok(()) } else { Err("UNSUBSCRIBE could not be queued".to_owned()) }
    }

    /// Queues one PUBLISH carrying `reply_to` the way the version wants (R-MQTT.23/24/27).
    /// `Err` when rumqttc's queue is full or the connection is gone.
    pub(super) fn publish(
        &self,
        dest: &str,
        record: Vec<u8>,
        qos: u8,
        retain: bool,
        reply_to: &str,
    ) -> Result<(), ()> {
        let qos = qos.min(1);
        match &self.client {
            Client::V5(c) => {
                let props = p5::PublishProperties {
                    response_topic: Some(reply_to.to_owned()),
                    content_type: Some(topics::CONTENT_TYPE.to_owned()),
                    message_expiry_interval: self.props.publish_expiry,
                    user_properties: self.props.publish.clone(),
                    ..Default::default()
                };
                c.try_publish_with_properties(dest, qos5(qos), retain, record, props)
                    .map_err(|_| ())
            }
            Client::V4(c) => {
                let topic = topics::with_reply_to(dest, reply_to);
                c.try_publish(topic, qos4(qos), retain, record).map_err(|_| ())
            }
        }
    }

    /// Queues a DISCONNECT (normal disconnection). Best effort: when the queue is full the
    /// link thread notices the stop at its next event.
    pub(super) fn disconnect(&self) {
        let queued = match &self.client {
            Client::V5(c) => c.try_disconnect().is_ok(),
            Client::V4(c) => c.try_disconnect().is_ok(),
        };
        if !queued {
            log::debug!("MQTT: DISCONNECT not queued (request queue full or closed)");
        }
    }
}
