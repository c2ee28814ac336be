//! The typed reader of the controllers and how to reach them
//! (`Device.LocalAgent.Controller.{i}` with its `MTP.{i}` rows and their `MQTT.`, `STOMP.` and
//! `WebSocket.` sub-objects, [`ControllerConfig`]) and the typed writer of a WebSocket client
//! link's `CurrentRetryCount`; built on [`ControllerIds`], resolved once from the schema by the
//! names the registration uses (`names`).

use usp_datamodel::DataModel;
use usp_datamodel::schema::{ObjId, ParamId, Schema};
use usp_datamodel::value::Value;

use super::names as n;
use crate::typed::{Lookup, SchemaMismatch, Values, Writes, rows};

/// One `Device.LocalAgent.Controller.{i}` row, as configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerConfig {
    /// Its instance path (`Device.LocalAgent.Controller.1.`).
    pub path: String,
    /// `Enable`.
    pub enable: bool,
    /// `EndpointID`.
    pub endpoint_id: String,
    /// The `MTP.{i}` rows, in instance order.
    pub mtps: Vec<ControllerMtpConfig>,
}

/// One `Controller.{i}.MTP.{i}` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerMtpConfig {
    /// Its instance path (`Device.LocalAgent.Controller.1.MTP.2.`).
    pub path: String,
    /// `Enable`.
    pub enable: bool,
    /// `Protocol` (`WebSocket`, `STOMP`, `MQTT`, `UDS`).
    pub protocol: String,
    /// `Order`.
    pub order: u32,
    /// `MQTT.`.
    pub mqtt: ControllerMtpMqtt,
    /// `STOMP.`.
    pub stomp: ControllerMtpStomp,
    /// `WebSocket.`.
    pub websocket: ControllerMtpWebSocket,
}

/// `Controller.{i}.MTP.{i}.MQTT.`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerMtpMqtt {
    /// `Reference` (deprecated): the `Device.MQTT.Client.{i}` to use.
    pub reference: String,
    /// `Topic`: where the controller listens.
    pub topic: String,
    /// `PublishRetainResponse`.
    pub publish_retain_response: bool,
    /// `PublishRetainNotify`.
    pub publish_retain_notify: bool,
    /// `AgentMTPReference`: the `Device.LocalAgent.MTP.{i}` to use.
    pub agent_mtp_reference: String,
}

/// `Controller.{i}.MTP.{i}.STOMP.`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerMtpStomp {
    /// `Reference`: the `Device.STOMP.Connection.{i}` to use.
    pub reference: String,
    /// `Destination`: where the controller listens.
    pub destination: String,
}

/// `Controller.{i}.MTP.{i}.WebSocket.`
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerMtpWebSocket {
    /// `Host` (empty: the controller connects to the agent).
    pub host: String,
    /// `Port` (1..=65535).
    pub port: u32,
    /// `Path`.
    pub path: String,
    /// `EnableEncryption`.
    pub enable_encryption: bool,
    /// `KeepAliveInterval`, seconds.
    pub keep_alive_interval: u32,
    /// `CurrentRetryCount`, as last written.
    pub current_retry_count: u32,
    /// `SessionRetryMinimumWaitInterval`, seconds.
    pub session_retry_minimum_wait_interval: u32,
    /// `SessionRetryIntervalMultiplier`, per mille.
    pub session_retry_interval_multiplier: u32,
}

/// The ids of the `Device.LocalAgent.Controller.{i}` parameters the reader and writer use,
/// resolved once from the schema ([`ControllerIds::resolve`]).
#[derive(Clone, Debug)]
pub struct ControllerIds {
    controller: ObjId,
    enable: ParamId,
    endpoint_id: ParamId,
    mtp: ObjId,
    mtp_enable: ParamId,
    protocol: ParamId,
    order: ParamId,
    mqtt: ObjId,
    mqtt_reference: ParamId,
    topic: ParamId,
    publish_retain_response: ParamId,
    publish_retain_notify: ParamId,
    agent_mtp_reference: ParamId,
    stomp: ObjId,
    stomp_reference: ParamId,
    destination: ParamId,
    websocket: ObjId,
    ws: WebSocketParams,
}

#[derive(Clone, Debug)]
struct WebSocketParams {
    host: ParamId,
    port: ParamId,
    path: ParamId,
    enable_encryption: ParamId,
    keep_alive_interval: ParamId,
    current_retry_count: ParamId,
    session_retry_minimum_wait_interval: ParamId,
    session_retry_interval_multiplier: ParamId,
}

impl ControllerIds {
    /// Resolves the ids from the frozen schema; fails when the LocalAgent area is not
    /// registered or lacks one of them.
    pub fn resolve(schema: &Schema) -> Result<ControllerIds, SchemaMismatch> {
        let c = Lookup::new(schema, n::CONTROLLER)?;
        let m = Lookup::new(schema, n::CONTROLLER_MTP)?;
        let mqtt = Lookup::new(schema, n::CONTROLLER_MTP_MQTT)?;
        let stomp = Lookup::new(schema, n::CONTROLLER_MTP_STOMP)?;
        let ws = Lookup::new(schema, n::CONTROLLER_MTP_WEBSOCKET)?;
        Ok(ControllerIds {
            controller: c.obj(),
            enable: c.param(n::ENABLE)?,
            endpoint_id: c.param(n::ENDPOINT_ID)?,
            mtp: m.obj(),
            mtp_enable: m.param(n::ENABLE)?,
            protocol: m.param(n::PROTOCOL)?,
            order: m.param(n::ORDER)?,
            mqtt: mqtt.obj(),
            mqtt_reference: mqtt.param(n::REFERENCE)?,
            topic: mqtt.param(n::TOPIC)?,
            publish_retain_response: mqtt.param(n::PUBLISH_RETAIN_RESPONSE)?,
            publish_retain_notify: mqtt.param(n::PUBLISH_RETAIN_NOTIFY)?,
            agent_mtp_reference: mqtt.param(n::AGENT_MTP_REFERENCE)?,
            stomp: stomp.obj(),
            stomp_reference: stomp.param(n::REFERENCE)?,
            destination: stomp.param(n::DESTINATION)?,
            websocket: ws.obj(),
            ws: WebSocketParams {
                host: ws.param(n::HOST)?,
                port: ws.param(n::PORT)?,
                path: ws.param(n::PATH)?,
                enable_encryption: ws.param(n::ENABLE_ENCRYPTION)?,
                keep_alive_interval: ws.param(n::KEEP_ALIVE_INTERVAL)?,
                current_retry_count: ws.param(n::CURRENT_RETRY_COUNT)?,
                session_retry_minimum_wait_interval: ws
                    .param(n::SESSION_RETRY_MINIMUM_WAIT_INTERVAL)?,
                session_retry_interval_multiplier: ws
                    .param(n::SESSION_RETRY_INTERVAL_MULTIPLIER)?,
            },
        })
    }

    /// Every controller row with its MTP rows, in instance order.
    pub fn controllers(&self, dm: &mut DataModel) -> Vec<ControllerConfig> {
        rows(dm, self.controller, &[]).into_iter().map(|r| self.read(dm, &r)).collect()
    }

    /// The controller MTP row whose instance path is `path`
    /// (`Device.LocalAgent.Controller.1.MTP.2.`), if it exists.
    pub fn mtp_at(&self, dm: &mut DataModel, path: &str) -> Option<ControllerMtpConfig> {
        let numbers = self.mtp_numbers(path)?;
        crate::typed::exists(dm, self.mtp, &numbers).then(|| self.read_mtp(dm, &numbers))
    }

    /// The instance numbers of the controller MTP whose instance path is `path`
    /// (`Device.LocalAgent.Controller.1.MTP.2.` → `[1, 2]`); `None` for other paths.
    fn mtp_numbers(&self, path: &str) -> Option<Vec<u32>> {
        let rest = path.strip_prefix(n::CONTROLLER.strip_suffix("{i}.")?)?;
        let (controller, mtp) = rest.strip_suffix('.')?.split_once(".MTP.")?;
        Some(vec![controller.parse().ok()?, mtp.parse().ok()?])
    }

    /// Whether `path` is the instance path of a controller MTP row (existing or not).
    pub fn is_mtp_path(&self, path: &str) -> bool {
        self.mtp_numbers(path).is_some()
    }

    fn read(&self, dm: &mut DataModel, at: &[u32]) -> ControllerConfig {
        let v = Values::read(dm, self.controller, at);
        let mtps = rows(dm, self.mtp, at).into_iter().map(|r| self.read_mtp(dm, &r)).collect();
        ControllerConfig {
            path: dm.schema().instance_path(self.controller, at),
            enable: v.flag(self.enable),
            endpoint_id: v.text(self.endpoint_id),
            mtps,
        }
    }

    fn read_mtp(&self, dm: &mut DataModel, at: &[u32]) -> ControllerMtpConfig {
        let v = Values::read(dm, self.mtp, at);
        let mqtt = Values::read(dm, self.mqtt, at);
        let stomp = Values::read(dm, self.stomp, at);
        let ws = Values::read(dm, self.websocket, at);
        let p = &self.ws;
        ControllerMtpConfig {
            path: dm.schema().instance_path(self.mtp, at),
            enable: v.flag(self.mtp_enable),
            protocol: v.text(self.protocol),
            order: v.num(self.order),
            mqtt: ControllerMtpMqtt {
                reference: mqtt.text(self.mqtt_reference),
                topic: mqtt.text(self.topic),
                publish_retain_response: mqtt.flag(self.publish_retain_response),
                publish_retain_notify: mqtt.flag(self.publish_retain_notify),
                agent_mtp_reference: mqtt.text(self.agent_mtp_reference),
            },
            stomp: ControllerMtpStomp {
                reference: stomp.text(self.stomp_reference),
                destination: stomp.text(self.destination),
            },
            websocket: ControllerMtpWebSocket {
                host: ws.text(p.host),
                port: ws.num(p.port),
                path: ws.text(p.path),
                enable_encryption: ws.flag(p.enable_encryption),
                keep_alive_interval: ws.num(p.keep_alive_interval),
                current_retry_count: ws.num(p.current_retry_count),
                session_retry_minimum_wait_interval: ws.num(p.session_retry_minimum_wait_interval),
                session_retry_interval_multiplier: ws.num(p.session_retry_interval_multiplier),
            },
        }
    }

    /// Writes `WebSocket.CurrentRetryCount` of the controller MTP at `path`; nothing for a
    /// path that is not a controller MTP's.
    pub fn set_current_retry_count(&self, w: &mut Writes, path: &str, count: u32) {
        if let Some(numbers) = self.mtp_numbers(path) {
            w.set(self.websocket, &numbers, self.ws.current_retry_count, Value::UnsignedInt(count));
        }
    }
}
