//! The TR-181 names of the `Device.LocalAgent.MTP.{i}` and `Device.LocalAgent.Controller.{i}`
//! items that the registration declares and the typed readers and writers (`mtp_config`,
//! `controller_config`) use, each written here once.

/// `Device.LocalAgent.MTP.{i}.`
pub(crate) const MTP: &str = "Device.LocalAgent.MTP.{i}.";
/// `Device.LocalAgent.MTP.{i}.MQTT.`
pub(crate) const MTP_MQTT: &str = "Device.LocalAgent.MTP.{i}.MQTT.";
/// `Device.LocalAgent.MTP.{i}.STOMP.`
pub(crate) const MTP_STOMP: &str = "Device.LocalAgent.MTP.{i}.STOMP.";
/// `Device.LocalAgent.MTP.{i}.WebSocket.`
pub(crate) const MTP_WEBSOCKET: &str = "Device.LocalAgent.MTP.{i}.WebSocket.";
/// `Device.LocalAgent.Controller.{i}.`
pub(crate) const CONTROLLER: &str = "Device.LocalAgent.Controller.{i}.";
/// `Device.LocalAgent.Controller.{i}.MTP.{i}.`
pub(crate) const CONTROLLER_MTP: &str = "Device.LocalAgent.Controller.{i}.MTP.{i}.";
/// `Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.`
pub(crate) const CONTROLLER_MTP_MQTT: &str = "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.";
/// `Device.LocalAgent.Controller.{i}.MTP.{i}.STOMP.`
pub(crate) const CONTROLLER_MTP_STOMP: &str = "Device.LocalAgent.Controller.{i}.MTP.{i}.STOMP.";
/// `Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.`
pub(crate) const CONTROLLER_MTP_WEBSOCKET: &str =
    "Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.";

/// `Enable` (of an agent MTP, a controller, a controller MTP).
pub(crate) const ENABLE: &str = "Enable";
/// `Status` of an agent MTP.
pub(crate) const STATUS: &str = "Status";
/// `Protocol` (of an agent MTP, a controller MTP).
pub(crate) const PROTOCOL: &str = "Protocol";
/// `Controller.{i}.EndpointID`.
pub(crate) const ENDPOINT_ID: &str = "EndpointID";
/// `Controller.{i}.MTP.{i}.Order`.
pub(crate) const ORDER: &str = "Order";
/// `MQTT.Reference`, `STOMP.Reference`.
pub(crate) const REFERENCE: &str = "Reference";
/// `MTP.{i}.MQTT.ResponseTopicConfigured`.
pub(crate) const RESPONSE_TOPIC_CONFIGURED: &str = "ResponseTopicConfigured";
/// `MTP.{i}.MQTT.ResponseTopicDiscovered`.
pub(crate) const RESPONSE_TOPIC_DISCOVERED: &str = "ResponseTopicDiscovered";
/// `MTP.{i}.MQTT.PublishQoS`.
pub(crate) const PUBLISH_QOS: &str = "PublishQoS";
/// `STOMP.Destination`.
pub(crate) const DESTINATION: &str = "Destination";
/// `MTP.{i}.STOMP.DestinationFromServer`.
pub(crate) const DESTINATION_FROM_SERVER: &str = "DestinationFromServer";
/// `WebSocket.Port`.
pub(crate) const PORT: &str = "Port";
/// `WebSocket.Path`.
pub(crate) const PATH: &str = "Path";
/// `WebSocket.EnableEncryption`.
pub(crate) const ENABLE_ENCRYPTION: &str = "EnableEncryption";
/// `WebSocket.KeepAliveInterval`.
pub(crate) const KEEP_ALIVE_INTERVAL: &str = "KeepAliveInterval";
/// `Controller.{i}.MTP.{i}.MQTT.Topic`.
pub(crate) const TOPIC: &str = "Topic";
/// `Controller.{i}.MTP.{i}.MQTT.PublishRetainResponse`.
pub(crate) const PUBLISH_RETAIN_RESPONSE: &str = "PublishRetainResponse";
/// `Controller.{i}.MTP.{i}.MQTT.PublishRetainNotify`.
pub(crate) const PUBLISH_RETAIN_NOTIFY: &str = "PublishRetainNotify";
/// `Controller.{i}.MTP.{i}.MQTT.AgentMTPReference`.
pub(crate) const AGENT_MTP_REFERENCE: &str = "AgentMTPReference";
/// `Controller.{i}.MTP.{i}.WebSocket.Host`.
pub(crate) const HOST: &str = "Host";
/// `Controller.{i}.MTP.{i}.WebSocket.CurrentRetryCount`.
pub(crate) const CURRENT_RETRY_COUNT: &str = "CurrentRetryCount";
/// `Controller.{i}.MTP.{i}.WebSocket.SessionRetryMinimumWaitInterval`.
pub(crate) const SESSION_RETRY_MINIMUM_WAIT_INTERVAL: &str = "SessionRetryMinimumWaitInterval";
/// `Controller.{i}.MTP.{i}.WebSocket.SessionRetryIntervalMultiplier`.
pub(crate) const SESSION_RETRY_INTERVAL_MULTIPLIER: &str = "SessionRetryIntervalMultiplier";
