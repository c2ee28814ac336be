//! The TR-181 names of the `Device.MQTT.` items that the registration declares and the typed
//! readers and writers (`config`) use: each is written here once, so a misspelling is a
//! compile error (an unknown constant) rather than a value silently read as "".

/// `Device.MQTT.Client.{i}.`
pub(crate) const CLIENT: &str = "Device.MQTT.Client.{i}.";
/// `Device.MQTT.Client.{i}.Subscription.{i}.`
pub(crate) const SUBSCRIPTION: &str = "Device.MQTT.Client.{i}.Subscription.{i}.";
/// `Device.MQTT.Client.{i}.UserProperty.{i}.`
pub(crate) const USER_PROPERTY: &str = "Device.MQTT.Client.{i}.UserProperty.{i}.";

/// `Enable` (of a client, a subscription, a user property).
pub(crate) const ENABLE: &str = "Enable";
/// `Status` (of a client, a subscription).
pub(crate) const STATUS: &str = "Status";
/// `ProtocolVersion`.
pub(crate) const PROTOCOL_VERSION: &str = "ProtocolVersion";
/// `BrokerAddress`.
pub(crate) const BROKER_ADDRESS: &str = "BrokerAddress";
/// `BrokerPort`.
pub(crate) const BROKER_PORT: &str = "BrokerPort";
/// `TransportProtocol`.
pub(crate) const TRANSPORT_PROTOCOL: &str = "TransportProtocol";
/// `CleanSession`.
pub(crate) const CLEAN_SESSION: &str = "CleanSession";
/// `CleanStart`.
pub(crate) const CLEAN_START: &str = "CleanStart";
/// `KeepAliveTime`.
pub(crate) const KEEP_ALIVE_TIME: &str = "KeepAliveTime";
/// `SessionExpiryInterval`.
pub(crate) const SESSION_EXPIRY_INTERVAL: &str = "SessionExpiryInterval";
/// `ReceiveMaximum`.
pub(crate) const RECEIVE_MAXIMUM: &str = "ReceiveMaximum";
/// `MaximumPacketSize`.
pub(crate) const MAXIMUM_PACKET_SIZE: &str = "MaximumPacketSize";
/// `TopicAliasMaximum`.
pub(crate) const TOPIC_ALIAS_MAXIMUM: &str = "TopicAliasMaximum";
/// `RequestResponseInfo`.
pub(crate) const REQUEST_RESPONSE_INFO: &str = "RequestResponseInfo";
/// `RequestProblemInfo`.
pub(crate) const REQUEST_PROBLEM_INFO: &str = "RequestProblemInfo";
/// `ClientID`.
pub(crate) const CLIENT_ID: &str = "ClientID";
/// `Username`.
pub(crate) const USERNAME: &str = "Username";
/// `Password`.
pub(crate) const PASSWORD: &str = "Password";
/// `PublishMessageExpiryInterval`.
pub(crate) const PUBLISH_MESSAGE_EXPIRY_INTERVAL: &str = "PublishMessageExpiryInterval";
/// `ConnectRetryTime`.
pub(crate) const CONNECT_RETRY_TIME: &str = "ConnectRetryTime";
/// `ConnectRetryIntervalMultiplier`.
pub(crate) const CONNECT_RETRY_INTERVAL_MULTIPLIER: &str = "ConnectRetryIntervalMultiplier";
/// `ConnectRetryMaxInterval`.
pub(crate) const CONNECT_RETRY_MAX_INTERVAL: &str = "ConnectRetryMaxInterval";
/// `ResponseInformation`.
pub(crate) const RESPONSE_INFORMATION: &str = "ResponseInformation";

/// `WillEnable`.
pub(crate) const WILL_ENABLE: &str = "WillEnable";
/// `WillQoS`.
pub(crate) const WILL_QOS: &str = "WillQoS";
/// `WillRetain`.
pub(crate) const WILL_RETAIN: &str = "WillRetain";
/// `WillDelayInterval`.
pub(crate) const WILL_DELAY_INTERVAL: &str = "WillDelayInterval";
/// `WillMessageExpiryInterval`.
pub(crate) const WILL_MESSAGE_EXPIRY_INTERVAL: &str = "WillMessageExpiryInterval";
/// `WillContentType`.
pub(crate) const WILL_CONTENT_TYPE: &str = "WillContentType";
/// `WillResponseTopic`.
pub(crate) const WILL_RESPONSE_TOPIC: &str = "WillResponseTopic";
/// `WillTopic`.
pub(crate) const WILL_TOPIC: &str = "WillTopic";
/// `WillValue`.
pub(crate) const WILL_VALUE: &str = "WillValue";

/// `Subscription.{i}.Topic`.
pub(crate) const TOPIC: &str = "Topic";
/// `Subscription.{i}.QoS`.
pub(crate) const QOS: &str = "QoS";

/// `UserProperty.{i}.Name`.
pub(crate) const NAME: &str = "Name";
/// `UserProperty.{i}.Value`.
pub(crate) const VALUE: &str = "Value";
/// `UserProperty.{i}.PacketType`.
pub(crate) const PACKET_TYPE: &str = "PacketType";
