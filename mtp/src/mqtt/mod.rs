//! The MQTT 5.0 / 3.1.1 link (TR-369 "MQTT Binding"), on rumqttc.
//!
//! One link per `Device.MQTT.Client.{i}`: [`MqttConfig`] is everything the link needs, read by
//! the owner from the data model.

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
    /// `KeepAliveTime` (0 disables keep-alive).
    pub keep_alive: Duration,
    /// `CleanSession` (3.1.1) / `CleanStart` (v5).
    pub clean_start: bool,
    /// `RequestResponseInfo` (v5): ask the broker for Response Information.
    pub request_response_info: bool,
    /// Topics to subscribe to with their QoS: the enabled `Client.{i}.Subscription.{i}`, in
    /// order.
    pub subscriptions: Vec<(String, u8)>,
    /// `LocalAgent.MTP.{i}.MQTT.ResponseTopicConfigured`: the agent's own topic when the broker
    /// gives none (subscribed too; for 3.1.1 as `<topic>/#`... see the spec). Empty: none.
    pub response_topic: String,
    /// `LocalAgent.MTP.{i}.MQTT.PublishQoS` (0 or 1; 2 is sent as 1).
    pub publish_qos: u8,
    /// `ConnectRetryTime` / `ConnectRetryIntervalMultiplier` / `ConnectRetryMaxInterval`.
    pub retry: RetryPolicy,
    /// TLS (`TransportProtocol` = `TLS`); `None` for plain TCP.
    #[cfg(feature = "tls")]
    pub tls: Option<crate::tls::ClientTls>,
    /// The largest Record accepted or sent.
    pub max_record: usize,
}
