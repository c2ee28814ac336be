//! Typed readers of the MQTT clients' configuration and typed writers of their state, for the
//! host's MTP links: [`ClientConfig`] is one `Device.MQTT.Client.{i}` with its
//! `Subscription.{i}` and `UserProperty.{i}` rows; [`MqttIds::set_status`] and its siblings
//! write `Status`, `ResponseInformation`, a learnt `ClientID` and the subscriptions' `Status`.
//!
//! Built on [`MqttIds`], the parameter ids resolved once from the schema by the names the
//! registration uses (`names`). Values are taken as the schema types them; what they mean for
//! a connection is the links' business.

use usp_datamodel::DataModel;
use usp_datamodel::schema::{ObjId, ParamId, Schema};
use usp_datamodel::value::Value;

use super::names as n;
use super::status::{ClientStatus, SubscriptionStatus};
use crate::typed::{Lookup, SchemaMismatch, Values, Writes, rows};

/// One `Device.MQTT.Client.{i}` row, as configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// Its instance path (`Device.MQTT.Client.1.`).
    pub path: String,
    /// Its instance number.
    pub number: u32,
    /// `Enable`.
    pub enable: bool,
    /// `ProtocolVersion` (`3.1`, `3.1.1`, `5.0`).
    pub protocol_version: String,
    /// `BrokerAddress`.
    pub broker_address: String,
    /// `BrokerPort` (1..=65535).
    pub broker_port: u32,
    /// `TransportProtocol` (`TCP/IP`, `TLS`, `WebSocket`, `WebSocketTLS`).
    pub transport_protocol: String,
    /// `CleanSession` (MQTT 3.1.1).
    pub clean_session: bool,
    /// `CleanStart` (MQTT 5.0).
    pub clean_start: bool,
    /// `KeepAliveTime`, seconds.
    pub keep_alive_time: u32,
    /// `SessionExpiryInterval`, seconds.
    pub session_expiry_interval: u32,
    /// `ReceiveMaximum`.
    pub receive_maximum: u32,
    /// `MaximumPacketSize`.
    pub maximum_packet_size: u32,
    /// `TopicAliasMaximum`.
    pub topic_alias_maximum: u32,
    /// `RequestResponseInfo`.
    pub request_response_info: bool,
    /// `RequestProblemInfo`.
    pub request_problem_info: bool,
    /// `ClientID`.
    pub client_id: String,
    /// `Username`.
    pub username: String,
    /// `Password` (hidden from controllers, read here as the agent).
    pub password: String,
    /// `PublishMessageExpiryInterval`, seconds.
    pub publish_message_expiry_interval: u32,
    /// `ConnectRetryTime`, seconds.
    pub connect_retry_time: u32,
    /// `ConnectRetryIntervalMultiplier`, per mille.
    pub connect_retry_interval_multiplier: u32,
    /// `ConnectRetryMaxInterval`, seconds.
    pub connect_retry_max_interval: u32,
    /// The `Will...` parameters.
    pub will: WillConfig,
    /// The `Subscription.{i}` rows, in instance order.
    pub subscriptions: Vec<SubscriptionConfig>,
    /// The `UserProperty.{i}` rows, in instance order.
    pub user_properties: Vec<UserPropertyConfig>,
}

/// The Last Will parameters of a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WillConfig {
    /// `WillEnable`.
    pub enable: bool,
    /// `WillQoS`.
    pub qos: u32,
    /// `WillRetain`.
    pub retain: bool,
    /// `WillDelayInterval`, seconds.
    pub delay_interval: u32,
    /// `WillMessageExpiryInterval`, seconds.
    pub message_expiry_interval: u32,
    /// `WillContentType`.
    pub content_type: String,
    /// `WillResponseTopic`.
    pub response_topic: String,
    /// `WillTopic`.
    pub topic: String,
    /// `WillValue`.
    pub value: String,
}

/// One `Client.{i}.Subscription.{i}` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscriptionConfig {
    /// Its instance number.
    pub number: u32,
    /// `Enable`.
    pub enable: bool,
    /// `Status`, as last written.
    pub status: String,
    /// `Topic`.
    pub topic: String,
    /// `QoS` (0..=2).
    pub qos: u32,
}

/// One `Client.{i}.UserProperty.{i}` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPropertyConfig {
    /// Its instance path, for the log.
    pub path: String,
    /// `Enable`.
    pub enable: bool,
    /// `Name`.
    pub name: String,
    /// `Value`.
    pub value: String,
    /// `PacketType`: a comma-separated list of MQTT packet names.
    pub packet_type: String,
}

/// The ids of the `Device.MQTT.Client.{i}` parameters the readers and writers use, resolved
/// once from the schema ([`MqttIds::resolve`]).
#[derive(Clone, Debug)]
pub struct MqttIds {
    client: ObjId,
    c: ClientParams,
    subscription: ObjId,
    s: SubscriptionParams,
    user_property: ObjId,
    u: UserPropertyParams,
}

#[derive(Clone, Debug)]
struct ClientParams {
    enable: ParamId,
    status: ParamId,
    protocol_version: ParamId,
    broker_address: ParamId,
    broker_port: ParamId,
    transport_protocol: ParamId,
    clean_session: ParamId,
    clean_start: ParamId,
    keep_alive_time: ParamId,
    session_expiry_interval: ParamId,
    receive_maximum: ParamId,
    maximum_packet_size: ParamId,
    topic_alias_maximum: ParamId,
    request_response_info: ParamId,
    request_problem_info: ParamId,
    client_id: ParamId,
    username: ParamId,
    password: ParamId,
    publish_message_expiry_interval: ParamId,
    connect_retry_time: ParamId,
    connect_retry_interval_multiplier: ParamId,
    connect_retry_max_interval: ParamId,
    response_information: ParamId,
    will: WillParams,
}

#[derive(Clone, Debug)]
struct WillParams {
    enable: ParamId,
    qos: ParamId,
    retain: ParamId,
    delay_interval: ParamId,
    message_expiry_interval: ParamId,
    content_type: ParamId,
    response_topic: ParamId,
    topic: ParamId,
    value: ParamId,
}

#[derive(Clone, Debug)]
struct SubscriptionParams {
    enable: ParamId,
    status: ParamId,
    topic: ParamId,
    qos: ParamId,
}

#[derive(Clone, Debug)]
struct UserPropertyParams {
    enable: ParamId,
    name: ParamId,
    value: ParamId,
    packet_type: ParamId,
}

impl MqttIds {
    /// Resolves the ids from the frozen schema; fails when the MQTT area is not registered or
    /// lacks one of them.
    pub fn resolve(schema: &Schema) -> Result<MqttIds, SchemaMismatch> {
        let c = Lookup::new(schema, n::CLIENT)?;
        let s = Lookup::new(schema, n::SUBSCRIPTION)?;
        let u = Lookup::new(schema, n::USER_PROPERTY)?;
        Ok(MqttIds {
            client: c.obj(),
            c: ClientParams::resolve(&c)?,
            subscription: s.obj(),
            s: SubscriptionParams {
                enable: s.param(n::ENABLE)?,
                status: s.param(n::STATUS)?,
                topic: s.param(n::TOPIC)?,
                qos: s.param(n::QOS)?,
            },
            user_property: u.obj(),
            u: UserPropertyParams {
                enable: u.param(n::ENABLE)?,
                name: u.param(n::NAME)?,
                value: u.param(n::VALUE)?,
                packet_type: u.param(n::PACKET_TYPE)?,
            },
        })
    }

    /// Every client row, in instance order.
    pub fn clients(&self, dm: &mut DataModel) -> Vec<ClientConfig> {
        dm.row_numbers(self.client, &[]).into_iter().map(|n| self.read(dm, n)).collect()
    }

    /// The client row `number`, if it exists.
    pub fn client(&self, dm: &mut DataModel, number: u32) -> Option<ClientConfig> {
        dm.row_numbers(self.client, &[]).contains(&number).then(|| self.read(dm, number))
    }

    /// The instance number of the client whose instance path is `path`
    /// (`Device.MQTT.Client.3.` → 3); `None` for other paths.
    pub fn number_of(&self, path: &str) -> Option<u32> {
        client_number(path)
    }

    fn read(&self, dm: &mut DataModel, number: u32) -> ClientConfig {
        let v = Values::read(dm, self.client, &[number]);
        let c = &self.c;
        let w = &c.will;
        let subscriptions = dm
            .row_numbers(self.subscription, &[number])
            .into_iter()
            .map(|row| {
                let s = Values::read(dm, self.subscription, &[number, row]);
                SubscriptionConfig {
                    number: row,
                    enable: s.flag(self.s.enable),
                    status: s.text(self.s.status),
                    topic: s.text(self.s.topic),
                    qos: s.num(self.s.qos),
                }
            })
            .collect();
        let user_properties = rows(dm, self.user_property, &[number])
            .into_iter()
            .map(|r| {
                let u = Values::read(dm, self.user_property, &r);
                UserPropertyConfig {
                    path: dm.schema().instance_path(self.user_property, &r),
                    enable: u.flag(self.u.enable),
                    name: u.text(self.u.name),
                    value: u.text(self.u.value),
                    packet_type: u.text(self.u.packet_type),
                }
            })
            .collect();
        ClientConfig {
            path: dm.schema().instance_path(self.client, &[number]),
            number,
            enable: v.flag(c.enable),
            protocol_version: v.text(c.protocol_version),
            broker_address: v.text(c.broker_address),
            broker_port: v.num(c.broker_port),
            transport_protocol: v.text(c.transport_protocol),
            clean_session: v.flag(c.clean_session),
            clean_start: v.flag(c.clean_start),
            keep_alive_time: v.num(c.keep_alive_time),
            session_expiry_interval: v.num(c.session_expiry_interval),
            receive_maximum: v.num(c.receive_maximum),
            maximum_packet_size: v.num(c.maximum_packet_size),
            topic_alias_maximum: v.num(c.topic_alias_maximum),
            request_response_info: v.flag(c.request_response_info),
            request_problem_info: v.flag(c.request_problem_info),
            client_id: v.text(c.client_id),
            username: v.text(c.username),
            password: v.text(c.password),
            publish_message_expiry_interval: v.num(c.publish_message_expiry_interval),
            connect_retry_time: v.num(c.connect_retry_time),
            connect_retry_interval_multiplier: v.num(c.connect_retry_interval_multiplier),
            connect_retry_max_interval: v.num(c.connect_retry_max_interval),
            will: WillConfig {
                enable: v.flag(w.enable),
                qos: v.num(w.qos),
                retain: v.flag(w.retain),
                delay_interval: v.num(w.delay_interval),
                message_expiry_interval: v.num(w.message_expiry_interval),
                content_type: v.text(w.content_type),
                response_topic: v.text(w.response_topic),
                topic: v.text(w.topic),
                value: v.text(w.value),
            },
            subscriptions,
            user_properties,
        }
    }

    /// Writes `Client.{client}.Status`.
    pub fn set_status(&self, w: &mut Writes, client: u32, status: ClientStatus) {
        w.set(self.client, &[client], self.c.status, string(status.as_str()));
    }

    /// Writes `Client.{client}.ResponseInformation` (what the broker's CONNACK said).
    pub fn set_response_information(&self, w: &mut Writes, client: u32, text: &str) {
        w.set(self.client, &[client], self.c.response_information, string(text));
    }

    /// Writes `Client.{client}.ClientID` (assigned by the broker, R-MQTT.9; it persists).
    pub fn set_client_id(&self, w: &mut Writes, client: u32, id: &str) {
        w.set(self.client, &[client], self.c.client_id, string(id));
    }

    /// Writes `Client.{client}.Subscription.{subscription}.Status`.
    pub fn set_subscription_status(
        &self,
        w: &mut Writes,
        client: u32,
        subscription: u32,
        status: SubscriptionStatus,
    ) {
        let numbers = [client, subscription];
        w.set(self.subscription, &numbers, self.s.status, string(status.as_str()));
    }
}

impl ClientParams {
    fn resolve(c: &Lookup) -> Result<ClientParams, SchemaMismatch> {
        Ok(ClientParams {
            enable: c.param(n::ENABLE)?,
            status: c.param(n::STATUS)?,
            protocol_version: c.param(n::PROTOCOL_VERSION)?,
            broker_address: c.param(n::BROKER_ADDRESS)?,
            broker_port: c.param(n::BROKER_PORT)?,
            transport_protocol: c.param(n::TRANSPORT_PROTOCOL)?,
            clean_session: c.param(n::CLEAN_SESSION)?,
            clean_start: c.param(n::CLEAN_START)?,
            keep_alive_time: c.param(n::KEEP_ALIVE_TIME)?,
            session_expiry_interval: c.param(n::SESSION_EXPIRY_INTERVAL)?,
            receive_maximum: c.param(n::RECEIVE_MAXIMUM)?,
            maximum_packet_size: c.param(n::MAXIMUM_PACKET_SIZE)?,
            topic_alias_maximum: c.param(n::TOPIC_ALIAS_MAXIMUM)?,
            request_response_info: c.param(n::REQUEST_RESPONSE_INFO)?,
            request_problem_info: c.param(n::REQUEST_PROBLEM_INFO)?,
            client_id: c.param(n::CLIENT_ID)?,
            username: c.param(n::USERNAME)?,
            password: c.param(n::PASSWORD)?,
            publish_message_expiry_interval: c.param(n::PUBLISH_MESSAGE_EXPIRY_INTERVAL)?,
            connect_retry_time: c.param(n::CONNECT_RETRY_TIME)?,
            connect_retry_interval_multiplier: c.param(n::CONNECT_RETRY_INTERVAL_MULTIPLIER)?,
            connect_retry_max_interval: c.param(n::CONNECT_RETRY_MAX_INTERVAL)?,
            response_information: c.param(n::RESPONSE_INFORMATION)?,
            will: WillParams {
                enable: c.param(n::WILL_ENABLE)?,
                qos: c.param(n::WILL_QOS)?,
                retain: c.param(n::WILL_RETAIN)?,
                delay_interval: c.param(n::WILL_DELAY_INTERVAL)?,
                message_expiry_interval: c.param(n::WILL_MESSAGE_EXPIRY_INTERVAL)?,
                content_type: c.param(n::WILL_CONTENT_TYPE)?,
                response_topic: c.param(n::WILL_RESPONSE_TOPIC)?,
                topic: c.param(n::WILL_TOPIC)?,
                value: c.param(n::WILL_VALUE)?,
            },
        })
    }
}

/// The instance number of the MQTT client whose instance path is `path`
/// (`Device.MQTT.Client.3.` → 3); `None` for other paths.
pub fn client_number(path: &str) -> Option<u32> {
    path.strip_prefix(n::CLIENT.strip_suffix("{i}.")?)?.strip_suffix('.')?.parse().ok()
}

/// A string value.
fn string(text: &str) -> Value {
    Value::String(text.into())
}
