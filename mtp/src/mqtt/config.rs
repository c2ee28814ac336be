//! The configuration of one MQTT link: [`MqttConfig`] (what TR-369's MQTT binding needs) and
//! [`MqttExtended`] (the other TR-181 `Device.MQTT.Client.{i}` settings: Last Will, MQTT 5.0
//! session settings, User Properties).
//!
//! Plain data, filled by the owner from its data model (the agent) or its command line
//! (`uspctl`); never read from anywhere by this crate. Values follow TR-181's meaning (0: not
//! sent, empty: not sent), already range-checked by the data model.

use std::time::Duration;

use crate::retry::RetryPolicy;

/// The configuration of one MQTT client link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttConfig {
    /// The agent's (or controller's) Endpoint ID: the v5 `usp-endpoint-id` user property and the
    /// 3.1.1 ClientId when `client_id` is empty.
    pub endpoint_id: String,
    /// `BrokerAddress`.
    pub host: String,
    /// `BrokerPort`.
    pub port: u16,
    /// `ProtocolVersion` is `5.0` (true) or `3.1.1` (false).
    pub v5: bool,
    /// `ClientID`; empty means: v5 sends an empty one and learns the assigned one, 3.1.1 uses
    /// the Endpoint ID.
    pub client_id: String,
    /// `Username` (empty: none).
    pub username: String,
    /// `Password` (empty: none).
    pub password: String,
    /// `KeepAliveTime` (0 disables keep-alive; more than 65535 s is sent as 65535 s). A v5
    /// CONNACK Server Keep Alive replaces it.
    pub keep_alive: Duration,
    /// `CleanSession` (3.1.1) / `CleanStart` (v5).
    pub clean_start: bool,
    /// `RequestResponseInfo` (v5): ask the broker for Response Information.
    pub request_response_info: bool,
    /// Topics to subscribe to with their QoS: the enabled `Client.{i}.Subscription.{i}`, in
    /// order. The first connection uses this list; [`crate::Link::set_subscriptions`] replaces
    /// it for the running connection and every later one.
    pub subscriptions: Vec<(String, u8)>,
    /// `LocalAgent.MTP.{i}.MQTT.ResponseTopicConfigured`: the agent's own topic when the broker
    /// gives none: subscribed unless a filter already covers it, as is for v5 and as `<topic>/#`
    /// for 3.1.1 (where Records arrive on `<topic>/reply-to=...`). Empty: none.
    pub response_topic: String,
    /// `LocalAgent.MTP.{i}.MQTT.PublishQoS` (0 or 1; 2 is sent as 1). Also the QoS of the
    /// filters the link adds itself (CONNACK `subscribe-topic`, Response Information,
    /// `response_topic`).
    pub publish_qos: u8,
    /// `ConnectRetryTime` / `ConnectRetryIntervalMultiplier` / `ConnectRetryMaxInterval`.
    pub retry: RetryPolicy,
    /// TLS (`TransportProtocol` = `TLS`); `None` for plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ClientTls>,
    /// The largest Record accepted or sent.
    pub max_record: usize,
    /// Everything else TR-181 configures; `Default` for none of it.
    pub extended: MqttExtended,
}

/// The `Device.MQTT.Client.{i}` settings beyond TR-369's needs (the `MQTTClientExtended:1`
/// profile and the Last Will). The MQTT 5.0-only ones (every field but `will`'s topic, value,
/// QoS and retain) are ignored by a 3.1.1 link. `Default`: none of them is sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MqttExtended {
    /// `WillEnable` and the `Will*` parameters; `None` when disabled.
    pub will: Option<Will>,
    /// `SessionExpiryInterval` in seconds (0: not sent, the session ends with the connection).
    pub session_expiry: u32,
    /// `ReceiveMaximum`: the most QoS 1/2 PUBLISHes the broker may have unacknowledged towards
    /// us (`None`: not sent, the broker assumes 65535).
    pub receive_maximum: Option<u16>,
    /// `MaximumPacketSize` sent in CONNECT and enforced on what arrives (`None`: the link's own
    /// limit, `max_record` plus room for the packet's header).
    pub max_packet_size: Option<u32>,
    /// `TopicAliasMaximum`: the highest Topic Alias the broker may use towards us (0: none,
    /// not sent). The link resolves the aliases.
    pub topic_alias_max: u16,
    /// `RequestProblemInfo` (`None`: not sent, the broker assumes true).
    pub request_problem_info: Option<bool>,
    /// `PublishMessageExpiryInterval` in seconds, on every PUBLISH (0: not sent).
    pub publish_expiry: u32,
    /// The enabled `UserProperty.{i}` rows. The link's own `usp-endpoint-id` CONNECT property
    /// (R-MQTT.13) always stays: a configured one of that name is not sent in CONNECT.
    pub user_properties: Vec<UserProperty>,
}

/// The Last Will the broker publishes when the connection ends without a DISCONNECT (MQTT
/// 3.1.2.5; TR-181 `WillEnable`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Will {
    /// `WillTopic` (a topic name: no wildcard).
    pub topic: String,
    /// `WillValue`.
    pub payload: Vec<u8>,
    /// `WillQoS` (0 to 2).
    pub qos: u8,
    /// `WillRetain`.
    pub retain: bool,
    /// `WillDelayInterval` in seconds (v5; 0: not sent, no delay).
    pub delay_interval: u32,
    /// `WillMessageExpiryInterval` in seconds (v5; 0: not sent).
    pub message_expiry: u32,
    /// `WillContentType` (v5; empty: not sent).
    pub content_type: String,
    /// `WillResponseTopic` (v5; empty: not sent).
    pub response_topic: String,
}

/// One MQTT 5.0 User Property and the packets it goes into (`Client.{i}.UserProperty.{i}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserProperty {
    /// `Name`.
    pub name: String,
    /// `Value`.
    pub value: String,
    /// `PacketType`, restricted to the packets the link can add properties to.
    pub packets: Vec<PacketType>,
}

/// A packet a User Property can be added to. TR-181 names more (AUTH, DISCONNECT and the
/// PUBLISH acknowledgements), which the link sends without user properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketType {
    /// CONNECT.
    Connect,
    /// Every PUBLISH of a Record.
    Publish,
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
    /// The Will properties inside CONNECT.
    Will,
}

impl MqttExtended {
    /// The `(name, value)` pairs configured for `packet`, in order.
    pub fn properties_for(&self, packet: PacketType) -> Vec<(String, String)> {
        self.user_properties
            .iter()
            .filter(|p| p.packets.contains(&packet))
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    }
}
