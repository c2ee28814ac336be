//! `Device.LocalAgent.Controller.{i}.E2ESession.`: how the agent uses an End-to-End Session
//! Context (TR-369 "E2E Message Exchange") with each controller.
//!
//! Owns the declaration of the object (names, types, ranges and defaults from TR-181 2.19,
//! `tr-181-2-19-0-usp.xml`; the deleted `Enable` and `SegmentedPayloadChunkSize` are left out)
//! and its `Reset()` command. Never runs the session itself: that is the sans-IO core's
//! (`usp_core`'s `e2e` module), which reads this configuration for every Record and writes
//! `Status`. `Reset()` only emits the undeclared event [`E2E_RESET_EVENT`] on the Controller
//! instance, which the core recognises by name (like the OnBoardRequest trigger).
//!
//! Decisions:
//! - `SessionMode` has no default in TR-181; this agent uses `Allow` (it accepts a controller's
//!   session context, never imposes one).
//! - `PayloadSecurity` offers `Plaintext` only: the agent does not implement TLS inside Records
//!   (a Record with `payload_security` TLS12 is answered with a DisconnectRecord 7102), so the
//!   TR-181 default `TLS` would be a value it cannot honour.

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The object path.
pub const E2E_SESSION: &str = "Device.LocalAgent.Controller.{i}.E2ESession.";

/// The internal event `Reset()` emits on the `Controller.{i}.` instance (see the module doc).
pub const E2E_RESET_EVENT: &str = "E2ESessionReset";

/// The `SessionMode` values (TR-181 2.19).
pub const SESSION_MODES: &[&str] = &["Require", "Allow", "Forbid"];

/// The smallest non-zero `MaxUSPRecordSize` TR-181 allows.
pub const MIN_RECORD_SIZE: u32 = 512;

/// The plugin declaring `Controller.{i}.E2ESession.` and serving its `Reset()`.
#[derive(Debug, Default)]
pub struct E2ESessions;

impl Plugin for E2ESessions {
    fn name(&self) -> &'static str {
        "E2ESession"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let e = b.object(E2E_SESSION);
        b.param(e, "SessionMode", ParamType::String)
            .rw()
            .enumeration(SESSION_MODES)
            .default("Allow");
        b.param(e, "Status", ParamType::String)
            .stored()
            .volatile()
            .enumeration(&["Up", "Negotiating", "Down"])
            .default("Down");
        b.param(e, "SessionExpiration", ParamType::UnsignedInt).rw().default("0");
        b.param(e, "SessionRetryMinimumWaitInterval", ParamType::UnsignedInt)
            .rw()
            .range(1, 65535)
            .default("5");
        b.param(e, "SessionRetryIntervalMultiplier", ParamType::UnsignedInt)
            .rw()
            .range(1000, 65535)
            .default("2000");
        b.param(e, "CurrentRetryCount", ParamType::UnsignedInt).stored().volatile().default("0");
        b.param(e, "MaxUSPRecordSize", ParamType::UnsignedInt).rw().default("0");
        b.param(e, "MaxRetransmitTries", ParamType::Int).rw().range(-1, 10).default("0");
        b.param(e, "PayloadSecurity", ParamType::String)
            .rw()
            .enumeration(&["Plaintext"])
            .default("Plaintext");
        b.command(e, "Reset", false);
    }

    fn validate(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        for (param, value) in changes {
            let name = &ctx.schema().param(*param).name;
            if &**name == "MaxUSPRecordSize"
                && matches!(value, Value::UnsignedInt(n) if *n != 0 && *n < MIN_RECORD_SIZE)
            {
                let path = ctx.schema().instance_path(inst.obj, &inst.numbers);
                return Err(UspError::new(
                    ErrorCode::InvalidValue,
                    format!("{path}MaxUSPRecordSize: 0 or at least {MIN_RECORD_SIZE}"),
                ));
            }
        }
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let schema = ctx.schema();
        let (true, Some(controller)) =
            (&*schema.command(cmd).name == "Reset", schema.obj(inst.obj).parent)
        else {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        };
        let at = Instance { obj: controller, ..inst.clone() };
        ctx.emit(&at, E2E_RESET_EVENT, Vec::new());
        Ok(Outcome::Done(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::{Controllers, LocalAgent};
    use crate::testutil::*;
    use usp_datamodel::plugin::DmEvent;

    fn lab() -> (Lab, String) {
        let mut t = Lab::new(vec![
            Box::new(LocalAgent::new(Default::default())),
            Box::new(Controllers),
            Box::new(E2ESessions),
        ]);
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::a")]).unwrap();
        (t, c)
    }

    #[test]
    fn defaults_and_ranges_follow_tr181() {
        let (mut t, c) = lab();
        let e = format!("{c}E2ESession.");
        assert_eq!(t.get(&format!("{e}SessionMode")), "Allow");
        assert_eq!(t.get(&format!("{e}Status")), "Down");
        assert_eq!(t.get(&format!("{e}MaxUSPRecordSize")), "0");
        assert_eq!(t.get(&format!("{e}MaxRetransmitTries")), "0");
        let err = t.set(&e, &[("MaxUSPRecordSize", "511")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidValue);
        t.set(&e, &[("MaxUSPRecordSize", "512")]).unwrap();
        t.set(&e, &[("MaxUSPRecordSize", "0")]).unwrap();
        let err = t.set(&e, &[("MaxRetransmitTries", "11")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidValue);
        let err = t.set(&e, &[("PayloadSecurity", "TLS")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidValue);
        let err = t.set(&e, &[("Status", "Up")]).unwrap_err();
        assert_eq!(err.code, ErrorCode::ParamReadOnly);
    }

    #[test]
    fn reset_emits_the_internal_event_on_the_controller() {
        let (mut t, c) = lab();
        t.events();
        t.operate(&format!("{c}E2ESession.Reset()"), &[]).unwrap();
        let want = DmEvent::Event {
            obj: t.dm.schema().obj_by_path("Device.LocalAgent.Controller.{i}.").unwrap(),
            numbers: vec![1],
            name: E2E_RESET_EVENT.into(),
            args: vec![],
        };
        assert_eq!(t.events(), vec![want]);
    }
}
