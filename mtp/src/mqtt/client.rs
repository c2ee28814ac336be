//! One MQTT connection attempt on rumqttc's blocking API, the same for v5 and 3.1.1: the
//! CONNECT options TR-369 asks for, and the few events and requests the link needs.
//!
//! Owns the translation between rumqttc's two APIs and ours ([`Ev`], [`Handle`]). Never retries
//! (each [`open`] is one attempt; the link thread decides when to try again) and never
//! interprets topics (see `topics.rs`).

use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5 as p5;

use super::MqttConfig;
use super::topics::{self, Connack};

/// Requests queued towards rumqttc's event loop before `send` reports the link as busy
/// (`SendError::NotConnected`). Each holds one Record.
pub(super) const REQUEST_QUEUE: usize = 256;

/// The most QoS 1 publishes awaiting their PUBACK at once (rumqttc preallocates a slot per
/// possible one; further publishes wait in the request queue).
pub(super) const MAX_INFLIGHT: u16 = 32;

/// The limit on a whole TCP connect + TLS handshake + CONNECT/CONNACK exchange, in seconds.
pub(super) const CONNECT_TIMEOUT_SECS: u64 = 10;

/// Room for the PUBLISH header and properties on top of the Record itself.
const PACKET_OVERHEAD: usize = 64 * 1024;

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
    /// The answer to our SUBSCRIBE: success of each filter, in order.
    SubAck(Vec<bool>),
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

/// The request side of one connection. Cheap to clone; usable from any thread.
#[derive(Clone)]
pub(super) enum Handle {
    /// MQTT 5.0.
    V5(rumqttc::v5::Client),
    /// MQTT 3.1.1.
    V4(rumqttc::Client),
}

/// The event side of one connection, driven by the link thread only.
pub(super) enum Conn {
    /// MQTT 5.0.
    V5(Box<rumqttc::v5::Connection>),
    /// MQTT 3.1.1.
    V4(Box<rumqttc::Connection>),
}

/// Prepares one connection attempt (nothing is sent until [`Conn::next`] is first called).
/// `client_id` is the ClientId to send (already chosen by R-MQTT.8/11).
pub(super) fn open(cfg: &MqttConfig, client_id: &str) -> Result<(Handle, Conn), String> {
    let max_packet = cfg.max_record.saturating_add(PACKET_OVERHEAD);
    let mut net = rumqttc::NetworkOptions::new();
    net.set_tcp_nodelay(true);
    net.set_connection_timeout(CONNECT_TIMEOUT_SECS);
    let host = broker_host(cfg);
    if cfg.v5 {
        let mut o = rumqttc::v5::MqttOptions::new(client_id, host, cfg.port);
        // rumqttc refuses keep-alives under 5 s and cannot send 0 (none): see MqttConfig.
        let keep_alive = match cfg.keep_alive.as_secs() {
            0 => u64::from(u16::MAX),
            s => s.clamp(5, u64::from(u16::MAX)),
        };
        o.set_keep_alive(Duration::from_secs(keep_alive));
        o.set_clean_start(cfg.clean_start);
        o.set_connection_timeout(CONNECT_TIMEOUT_SECS);
        o.set_request_channel_capacity(REQUEST_QUEUE);
        // rumqttc preallocates one slot per possible in-flight publish: its v5 default of 65535
        // costs ~14 MB of RSS. A USP agent needs a few.
        o.set_outgoing_inflight_upper_limit(MAX_INFLIGHT);
        o.set_network_options(net);
        let mut props = p5::ConnectProperties::new();
        props.max_packet_size = Some(u32::try_from(max_packet).unwrap_or(u32::MAX));
        props.request_response_info = cfg.request_response_info.then_some(1);
        props.user_properties =
            vec![(topics::ENDPOINT_ID_PROPERTY.to_owned(), cfg.endpoint_id.clone())];
        o.set_connect_properties(props);
        if let Some((user, pass)) = credentials(cfg) {
            o.set_credentials(user, pass);
        }
        set_tls_v5(&mut o, cfg)?;
        let (client, conn) = rumqttc::v5::Client::new(o, REQUEST_QUEUE);
        Ok((Handle::V5(client), Conn::V5(Box::new(conn))))
    } else {
        let mut o = rumqttc::MqttOptions::new(client_id, host, cfg.port);
        o.set_keep_alive(Duration::from_secs(cfg.keep_alive.as_secs().min(u64::from(u16::MAX))));
        // rumqttc (and MQTT 3.1.1) refuse a persistent session without a ClientId.
        o.set_clean_session(cfg.clean_start || client_id.is_empty());
        o.set_max_packet_size(max_packet, max_packet);
        o.set_request_channel_capacity(REQUEST_QUEUE);
        o.set_inflight(MAX_INFLIGHT);
        if let Some((user, pass)) = credentials(cfg) {
            o.set_credentials(user, pass);
        }
        set_tls_v4(&mut o, cfg)?;
        let (client, mut conn) = rumqttc::Client::new(o, REQUEST_QUEUE);
        // rumqttc's 3.1.1 event loop keeps its network options (TCP_NODELAY, timeout) itself.
        conn.eventloop.set_network_options(net);
        Ok((Handle::V4(client), Conn::V4(Box::new(conn))))
    }
}

/// Username/Password when a Username is configured (R-MQTT.7).
fn credentials(cfg: &MqttConfig) -> Option<(String, String)> {
    (!cfg.username.is_empty()).then(|| (cfg.username.clone(), cfg.password.clone()))
}

/// rumqttc joins host and port with a colon: an IPv6 literal needs brackets (TLS keeps the bare
/// address, which rustls' server-name parser wants).
fn broker_host(cfg: &MqttConfig) -> String {
    let v6 = cfg.host.parse::<std::net::Ipv6Addr>().is_ok();
    if v6 && !tls_enabled(cfg) { format!("[{}]", cfg.host) } else { cfg.host.clone() }
}

#[cfg(feature = "tls")]
fn tls_enabled(cfg: &MqttConfig) -> bool {
    cfg.tls.is_some()
}

#[cfg(not(feature = "tls"))]
fn tls_enabled(_: &MqttConfig) -> bool {
    false
}

/// The rumqttc transport for `cfg.tls`, built from our rustls/ring configuration.
#[cfg(feature = "tls")]
fn transport(cfg: &MqttConfig) -> Result<Option<rumqttc::Transport>, String> {
    let Some(tls) = &cfg.tls else { return Ok(None) };
    let config = crate::tls::client_config(tls).map_err(|e| format!("TLS: {e}"))?;
    Ok(Some(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(config))))
}

#[cfg(feature = "tls")]
fn set_tls_v5(o: &mut rumqttc::v5::MqttOptions, cfg: &MqttConfig) -> Result<(), String> {
    if let Some(t) = transport(cfg)? {
        o.set_transport(t);
    }
    Ok(())
}

#[cfg(feature = "tls")]
fn set_tls_v4(o: &mut rumqttc::MqttOptions, cfg: &MqttConfig) -> Result<(), String> {
    if let Some(t) = transport(cfg)? {
        o.set_transport(t);
    }
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn set_tls_v5(_: &mut rumqttc::v5::MqttOptions, _: &MqttConfig) -> Result<(), String> {
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn set_tls_v4(_: &mut rumqttc::MqttOptions, _: &MqttConfig) -> Result<(), String> {
    Ok(())
}

fn qos5(q: u8) -> QoS5 {
    match q {
        0 => QoS5::AtMostOnce,
        1 => QoS5::AtLeastOnce,
        _ => QoS5::ExactlyOnce,
    }
}

fn qos4(q: u8) -> rumqttc::QoS {
    match q {
        0 => rumqttc::QoS::AtMostOnce,
        1 => rumqttc::QoS::AtLeastOnce,
        _ => rumqttc::QoS::ExactlyOnce,
    }
}

impl Handle {
    /// Sends one SUBSCRIBE with every filter (already validated by `topics::plan`).
    pub(super) fn subscribe(&self, filters: &[(String, u8)]) -> Result<(), String> {
        let queued = match self {
            Handle::V5(c) => c
                .try_subscribe_many(
                    filters.iter().map(|(f, q)| p5::Filter::new(f.clone(), qos5(*q))),
                )
                .is_ok(),
            Handle::V4(c) => c
                .try_subscribe_many(
                    filters.iter().map(|(f, q)| rumqttc::SubscribeFilter::new(f.clone(), qos4(*q))),
                )
                .is_ok(),
        };
        if queued { Ok(()) } else { Err("SUBSCRIBE could not be queued".to_owned()) }
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
        match self {
            Handle::V5(c) => {
                let props = p5::PublishProperties {
                    response_topic: Some(reply_to.to_owned()),
                    content_type: Some(topics::CONTENT_TYPE.to_owned()),
                    ..Default::default()
                };
                c.try_publish_with_properties(dest, qos5(qos), retain, record, props)
                    .map_err(|_| ())
            }
            Handle::V4(c) => {
                let topic = topics::with_reply_to(dest, reply_to);
                c.try_publish(topic, qos4(qos), retain, record).map_err(|_| ())
            }
        }
    }

    /// Queues a DISCONNECT (normal disconnection). Best effort: when the queue is full the
    /// link thread notices the stop at its next event.
    pub(super) fn disconnect(&self) {
        let queued = match self {
            Handle::V5(c) => c.try_disconnect().is_ok(),
            Handle::V4(c) => c.try_disconnect().is_ok(),
        };
        if !queued {
            log::debug!("MQTT: DISCONNECT not queued (request queue full or closed)");
        }
    }
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
