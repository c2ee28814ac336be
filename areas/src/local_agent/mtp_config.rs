//! The typed reader of the agent's MTPs (`Device.LocalAgent.MTP.{i}` with its `MQTT.`,
//! `STOMP.` and `WebSocket.` sub-objects, [`AgentMtpConfig`]) and the typed writers of what
//! the links learn ([`AgentMtpIds::set_status`], `ResponseTopicDiscovered`,
//! `DestinationFromServer`); built on [`AgentMtpIds`], resolved once from the schema by the
//! names the registration uses (`names`).

use usp_datamodel::DataModel;
use usp_datamodel::schema::{ObjId, ParamId, Schema};
use usp_datamodel::value::Value;

use super::names as n;
use crate::typed::{Lookup, SchemaMismatch, Values, Writes};

/// `MTP.{i}.Status` (TR-181 enumeration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtpStatus {
    /// `Up`.
    Up,
    /// `Down`.
    Down,
    /// `Error`.
    Error,
}

impl MtpStatus {
    /// The TR-181 text.
    pub const fn as_str(self) -> &'static str {
        match self {
            MtpStatus::Up => "Up",
            MtpStatus::Down => "Down",
            MtpStatus::Error => "Error",
        }
    }
}

/// `MTP.{i}.Status` values (TR-181 enumeration).
pub const MTP_STATUS: &[&str] =
    &[MtpStatus::Up.as_str(), MtpStatus::Down.as_str(), MtpStatus::Error.as_str()];

/// One `Device.LocalAgent.MTP.{i}` row, as configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMtpConfig {
    /// Its instance path (`Device.LocalAgent.MTP.1.`).
    pub path: String,
    /// Its instance number.
    pub number: u32,
    /// `Enable`.
    pub enable: bool,
    /// `Protocol` (`WebSocket`, `STOMP`, `MQTT`, `UDS`).
    pub protocol: String,
    /// `MQTT.`.
    pub mqtt: AgentMtpMqtt,
    /// `STOMP.`.
    pub stomp: AgentMtpStomp,
    /// `WebSocket.`.
    pub websocket: AgentMtpWebSocket,
}

/// `LocalAgent.MTP.{i}.MQTT.`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMtpMqtt {
    /// `Reference`: the `Device.MQTT.Client.{i}` it uses.
    pub reference: String,
    /// `ResponseTopicConfigured`.
    pub response_topic_configured: String,
    /// `PublishQoS` (0..=2).
    pub publish_qos: u32,
}

/// `LocalAgent.MTP.{i}.STOMP.`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMtpStomp {
    /// `Reference`: the `Device.STOMP.Connection.{i}` it uses.
    pub reference: String,
    /// `Destination`.
    pub destination: String,
}

/// `LocalAgent.MTP.{i}.WebSocket.` (the agent's WebSocket server).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentMtpWebSocket {
    /// `Port` (1..=65535).
    pub port: u32,
    /// `Path`.
    pub path: String,
    /// `EnableEncryption`.
    pub enable_encryption: bool,
    /// `KeepAliveInterval`, seconds.
    pub keep_alive_interval: u32,
}

/// The ids of the `Device.LocalAgent.MTP.{i}` parameters the reader and writers use, resolved
/// once from the schema ([`AgentMtpIds::resolve`]).
#[derive(Clone, Debug)]
pub struct AgentMtpIds {
    mtp: ObjId,
    enable: ParamId,
    status: ParamId,
    protocol: ParamId,
    mqtt: ObjId,
    mqtt_reference: ParamId,
    response_topic_configured: ParamId,
    response_topic_discovered: ParamId,
    publish_qos: ParamId,
    stomp: ObjId,
    stomp_reference: ParamId,
    destination: ParamId,
    destination_from_server: ParamId,
    ws: ObjId,
    ws_port: ParamId,
    ws_path: ParamId,
    ws_enable_encryption: ParamId,
    ws_keep_alive_interval: ParamId,
}

impl AgentMtpIds {
    /// Resolves the ids from the frozen schema; fails when the LocalAgent area is not
    /// registered or lacks one of them.
    pub fn resolve(schema: &Schema) -> Result<AgentMtpIds, SchemaMismatch> {
        let m = Lookup::new(schema, n::MTP)?;
        let mqtt = Lookup::new(schema, n::MTP_MQTT)?;
        let stomp = Lookup::new(schema, n::MTP_STOMP)?;
        let ws = Lookup::new(schema, n::MTP_WEBSOCKET)?;
        Ok(AgentMtpIds {
            mtp: m.obj(),
            enable: m.param(n::ENABLE)?,
            status: m.param(n::STATUS)?,
            protocol: m.param(n::PROTOCOL)?,
            mqtt: mqtt.obj(),
            mqtt_reference: mqtt.param(n::REFERENCE)?,
            response_topic_configured: mqtt.param(n::RESPONSE_TOPIC_CONFIGURED)?,
            response_topic_discovered: mqtt.param(n::RESPONSE_TOPIC_DISCOVERED)?,
            publish_qos: mqtt.param(n::PUBLISH_QOS)?,
            stomp: stomp.obj(),
            stomp_reference: stomp.param(n::REFERENCE)?,
            destination: stomp.param(n::DESTINATION)?,
            destination_from_server: stomp.param(n::DESTINATION_FROM_SERVER)?,
            ws: ws.obj(),
            ws_port: ws.param(n::PORT)?,
            ws_path: ws.param(n::PATH)?,
            ws_enable_encryption: ws.param(n::ENABLE_ENCRYPTION)?,
            ws_keep_alive_interval: ws.param(n::KEEP_ALIVE_INTERVAL)?,
        })
    }

    /// Every agent MTP row, in instance order.
    pub fn mtps(&self, dm: &mut DataModel) -> Vec<AgentMtpConfig> {
        dm.row_numbers(self.mtp, &[]).into_iter().map(|n| self.read(dm, n)).collect()
    }

    /// The instance number of the agent MTP whose instance path is `path`
    /// (`Device.LocalAgent.MTP.2.` → 2); `None` for other paths.
    pub fn number_of(&self, path: &str) -> Option<u32> {
        path.strip_prefix(n::MTP.strip_suffix("{i}.")?)?.strip_suffix('.')?.parse().ok()
    }

    fn read(&self, dm: &mut DataModel, number: u32) -> AgentMtpConfig {
        let at = [number];
        let v = Values::read(dm, self.mtp, &at);
        let mqtt = Values::read(dm, self.mqtt, &at);
        let stomp = Values::read(dm, self.stomp, &at);
        let ws = Values::read(dm, self.ws, &at);
        AgentMtpConfig {
            path: dm.schema().instance_path(self.mtp, &at),
            number,
            enable: v.flag(self.enable),
            protocol: v.text(self.protocol),
            mqtt: AgentMtpMqtt {
                reference: mqtt.text(self.mqtt_reference),
                response_topic_configured: mqtt.text(self.response_topic_configured),
                publish_qos: mqtt.num(self.publish_qos),
            },
            stomp: AgentMtpStomp {
                reference: stomp.text(self.stomp_reference),
                destination: stomp.text(self.destination),
            },
            websocket: AgentMtpWebSocket {
                port: ws.num(self.ws_port),
                path: ws.text(self.ws_path),
                enable_encryption: ws.flag(self.ws_enable_encryption),
                keep_alive_interval: ws.num(self.ws_keep_alive_interval),
            },
        }
    }

    /// Writes `MTP.{number}.Status`.
    pub fn set_status(&self, w: &mut Writes, number: u32, status: MtpStatus) {
        w.set(self.mtp, &[number], self.status, Value::String(status.as_str().into()));
    }

    /// Writes `MTP.{number}.MQTT.ResponseTopicDiscovered`.
    pub fn set_response_topic_discovered(&self, w: &mut Writes, number: u32, topic: &str) {
        w.set(self.mqtt, &[number], self.response_topic_discovered, Value::String(topic.into()));
    }

    /// Writes `MTP.{number}.STOMP.DestinationFromServer`.
    pub fn set_destination_from_server(&self, w: &mut Writes, number: u32, destination: &str) {
        let value = Value::String(destination.into());
        w.set(self.stomp, &[number], self.destination_from_server, value);
    }
}
