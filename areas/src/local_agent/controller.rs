//! `Device.LocalAgent.Controller.{i}.`: the controllers this agent serves, each with its MTPs
//! and boot parameters.
//!
//! `SendOnBoardRequest()` sets `OnBoardingComplete` to false and emits the undeclared event
//! [`ONBOARD_REQUEST_EVENT`] on the Controller instance (`DmEvent::Event { obj_path:
//! "Device.LocalAgent.Controller.2.", name: "OnBoardRequest", .. }`). The core recognises it
//! by name (and because the schema has no such event), never forwards it as a USP Event
//! notification, and sends an OnBoardRequest notification to that controller.

use crate::UINT_MAX;
use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjAccess, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

use super::PROTOCOLS;
use super::names as n;

/// The name of the internal event that asks the core to send an OnBoardRequest notification
/// to the controller it belongs to (see the module doc).
pub const ONBOARD_REQUEST_EVENT: &str = "OnBoardRequest";

/// The `Device.LocalAgent.Controller.{i}.` plugin.
#[derive(Debug, Default)]
pub struct Controllers;

impl Plugin for Controllers {
    fn name(&self) -> &'static str {
        "Controller"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let c = b.table(n::CONTROLLER, ObjAccess::AddDelete);
        b.alias(c);
        b.param(c, n::ENDPOINT_ID, ParamType::String).rw();
        b.unique_key(c, &[n::ENDPOINT_ID]);
        b.param(c, "ControllerCode", ParamType::String).rw().max_len(128);
        b.param(c, "ProvisioningCode", ParamType::String).rw().max_len(64);
        b.param(c, n::ENABLE, ParamType::Boolean).rw().default("false");
        b.param(c, "AssignedRole", ParamType::String).rw().list().reference();
        b.param(c, "InheritedRole", ParamType::String).list().reference().stored().volatile();
        b.param(c, "Credential", ParamType::String).rw().list().reference();
        b.param(c, "PeriodicNotifInterval", ParamType::UnsignedInt)
            .rw()
            .range(1, UINT_MAX)
            .default("86400");
        b.param(c, "PeriodicNotifTime", ParamType::DateTime).rw().default("0001-01-01T00:00:00Z");
        b.param(c, "USPNotifRetryMinimumWaitInterval", ParamType::UnsignedInt)
            .rw()
            .range(1, 65535)
            .default("5");
        b.param(c, "USPNotifRetryIntervalMultiplier", ParamType::UnsignedInt)
            .rw()
            .range(1000, 65535)
            .default("2000");
        b.param(c, "OnBoardingComplete", ParamType::Boolean).rw().default("false");
        b.param(c, "OnBoardingRestartTime", ParamType::UnsignedInt).rw().default("0");
        b.command(c, "SendOnBoardRequest", false);

        register_mtp(b);

        let bp =
            b.table("Device.LocalAgent.Controller.{i}.BootParameter.{i}.", ObjAccess::AddDelete);
        b.alias(bp);
        b.param(bp, "Enable", ParamType::Boolean).rw().default("false");
        b.param(bp, "ParameterName", ParamType::String).rw().max_len(256);
        b.unique_key(bp, &["ParameterName"]);
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if &*ctx.schema().command(cmd).name != "SendOnBoardRequest" {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        }
        if let Some(done) = ctx.schema().param_by_name(inst.obj, "OnBoardingComplete") {
            ctx.set_stored(inst, done, Value::Boolean(false));
        }
        ctx.emit(inst, ONBOARD_REQUEST_EVENT, Vec::new());
        Ok(Outcome::Done(Vec::new()))
    }
}

/// `Controller.{i}.MTP.{i}.` and its per-protocol sub-objects.
fn register_mtp(b: &mut SchemaBuilder) {
    let m = b.table(n::CONTROLLER_MTP, ObjAccess::AddDelete);
    b.alias(m);
    b.param(m, n::ENABLE, ParamType::Boolean).rw().default("false");
    b.param(m, n::PROTOCOL, ParamType::String).rw().enumeration(PROTOCOLS);
    b.param(m, n::ORDER, ParamType::UnsignedInt).rw().range(1, UINT_MAX).default("1");

    let mqtt = b.object(n::CONTROLLER_MTP_MQTT);
    b.param(mqtt, n::REFERENCE, ParamType::String).rw().reference();
    b.param(mqtt, n::TOPIC, ParamType::String).rw().max_len(65535);
    b.param(mqtt, n::PUBLISH_RETAIN_RESPONSE, ParamType::Boolean).rw().default("false");
    b.param(mqtt, n::PUBLISH_RETAIN_NOTIFY, ParamType::Boolean).rw().default("false");
    b.param(mqtt, n::AGENT_MTP_REFERENCE, ParamType::String).rw().reference();

    let stomp = b.object(n::CONTROLLER_MTP_STOMP);
    b.param(stomp, n::REFERENCE, ParamType::String).rw().reference();
    b.param(stomp, n::DESTINATION, ParamType::String).rw();

    let ws = b.object(n::CONTROLLER_MTP_WEBSOCKET);
    b.param(ws, n::HOST, ParamType::String).rw().max_len(256);
    b.param(ws, n::PORT, ParamType::UnsignedInt).rw().range(1, 65535).default("443");
    b.param(ws, n::PATH, ParamType::String).rw();
    b.param(ws, n::ENABLE_ENCRYPTION, ParamType::Boolean).rw().default("true");
    b.param(ws, n::KEEP_ALIVE_INTERVAL, ParamType::UnsignedInt)
        .rw()
        .range(1, UINT_MAX)
        .default("60");
    // Written by the MTP layer; `Reset()` is served by `WebSocketSessions`.
    b.param(ws, n::CURRENT_RETRY_COUNT, ParamType::UnsignedInt).stored().volatile().default("0");
    b.param(ws, n::SESSION_RETRY_MINIMUM_WAIT_INTERVAL, ParamType::UnsignedInt)
        .rw()
        .range(1, 65535)
        .default("5");
    b.param(ws, n::SESSION_RETRY_INTERVAL_MULTIPLIER, ParamType::UnsignedInt)
        .rw()
        .range(1000, 65535)
        .default("2000");

    let uds = b.object("Device.LocalAgent.Controller.{i}.MTP.{i}.UDS.");
    b.param(uds, "UnixDomainSocketRef", ParamType::String).rw().reference();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::LocalAgent;
    use crate::testutil::*;
    use usp_datamodel::plugin::DmEvent;

    fn lab() -> Lab {
        Lab::new(vec![Box::new(LocalAgent::new(Default::default())), Box::new(Controllers)])
    }

    #[test]
    fn add_and_delete_with_unique_endpoint_ids() {
        let mut t = lab();
        let c1 = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        assert_eq!(c1, "Device.LocalAgent.Controller.1.");
        let e = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
        let c2 = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::b")]).unwrap();
        assert_eq!(t.get("Device.LocalAgent.ControllerNumberOfEntries"), "2");
        let e = t.set(&c2, &[("EndpointID", "proto::a")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
        t.delete(&c1).unwrap();
        assert_eq!(t.get("Device.LocalAgent.ControllerNumberOfEntries"), "1");
        t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
    }

    #[test]
    fn defaults_and_ranges() {
        let mut t = lab();
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        let all = t.read_all(&c);
        assert_eq!(all.len(), 16, "{all:?}");
        assert_eq!(t.get(&format!("{c}PeriodicNotifInterval")), "86400");
        assert_eq!(t.get(&format!("{c}PeriodicNotifTime")), "0001-01-01T00:00:00Z");
        assert_eq!(t.get(&format!("{c}USPNotifRetryMinimumWaitInterval")), "5");
        assert_eq!(t.get(&format!("{c}USPNotifRetryIntervalMultiplier")), "2000");
        assert_eq!(t.get(&format!("{c}OnBoardingComplete")), "false");
        let e = t.set(&c, &[("USPNotifRetryIntervalMultiplier", "999")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let e = t.set(&c, &[("PeriodicNotifInterval", "0")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let e = t.set(&c, &[("InheritedRole", "x")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
    }

    #[test]
    fn alias_must_start_with_a_letter() {
        let mut t = lab();
        let e = t.add("Device.LocalAgent.Controller.", &[("Alias", "1abc")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let c = t.add("Device.LocalAgent.Controller.", &[("Alias", "abc")]).unwrap();
        assert_eq!(t.get(&format!("{c}Alias")), "abc");
    }

    #[test]
    fn mtp_and_boot_parameter_rows() {
        let mut t = lab();
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        let m = t.add(&format!("{c}MTP."), &[("Protocol", "MQTT")]).unwrap();
        t.set(&format!("{m}MQTT."), &[("Topic", "/usp/controller")]).unwrap();
        assert_eq!(t.get(&format!("{m}MQTT.Topic")), "/usp/controller");
        assert_eq!(t.read_all(&format!("{m}WebSocket.")).len(), 8);
        assert_eq!(t.get(&format!("{c}MTPNumberOfEntries")), "1");
        t.add(&format!("{c}BootParameter."), &[("ParameterName", "Device.DeviceInfo.")]).unwrap();
        let e = t
            .add(&format!("{c}BootParameter."), &[("ParameterName", "Device.DeviceInfo.")])
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
        assert_eq!(t.get(&format!("{c}BootParameterNumberOfEntries")), "1");
        t.delete(&c).unwrap();
        let deleted =
            t.events().into_iter().filter(|e| matches!(e, DmEvent::ObjectDeleted { .. })).count();
        assert_eq!(deleted, 3, "the controller, its MTP and its boot parameter");
    }

    #[test]
    fn send_onboard_request_resets_onboarding_and_tells_the_core() {
        let mut t = lab();
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        t.set(&c, &[("OnBoardingComplete", "true")]).unwrap();
        t.events();
        let (_, out) = t.operate(&format!("{c}SendOnBoardRequest()"), &[]).unwrap();
        assert_eq!(out, Outcome::Done(vec![]));
        assert_eq!(t.get(&format!("{c}OnBoardingComplete")), "false");
        let events = t.brief();
        let onboard = format!("{c} {ONBOARD_REQUEST_EVENT}!");
        assert!(events.contains(&onboard), "{events:?}");
        let schema = t.dm.schema();
        let obj = schema.obj_by_path("Device.LocalAgent.Controller.{i}.").unwrap();
        assert!(schema.event_by_name(obj, ONBOARD_REQUEST_EVENT).is_none());
    }
}
