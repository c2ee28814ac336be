//! `Device.`: the root's own items: `RootDataModelVersion`, the `Reboot()`, `FactoryReset()`
//! and `ScheduleTimer()` commands and the `Boot!` event (emitted by the core at start-up).
//!
//! `ScheduleTimer(DelaySeconds)` is asynchronous: it completes with an OperationComplete (no
//! output arguments) once the delay has passed, or with 7023 when its `Request.{i}` row is
//! canceled. TR-181 2.19 has no `Timer!` event (it belonged to the deleted
//! `Controller.{i}.ScheduleTimer()`), so none is declared or emitted.

use std::time::Duration;
use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, SystemRequest};
use usp_datamodel::schema::{CmdId, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The TR-181 version this agent's data model follows.
pub const ROOT_DATA_MODEL_VERSION: &str = "2.19";

/// The `Device.` root plugin. Keeps the running `ScheduleTimer()` runs in memory: they do not
/// survive a restart (TR-181 asks that they do; see the module doc of [`super`]).
#[derive(Debug, Default)]
pub struct Device {
    /// Running timers: handle and uptime at which each is due.
    timers: Vec<(OpHandle, Duration)>,
    /// The commands, by id (set at registration).
    commands: Vec<(CmdId, Command)>,
}

/// The commands of `Device.`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Reboot,
    FactoryReset,
    ScheduleTimer,
}

impl Device {
    /// Asks to be polled when the earliest running timer is due.
    fn arm(&self, ctx: &mut Ctx) {
        let now = ctx.now().uptime;
        if let Some(due) = self.timers.iter().map(|(_, d)| *d).min() {
            ctx.wake_after(due.saturating_sub(now));
        }
    }
}

/// The value of input argument `name` as text (empty when absent).
fn arg_text(input: &[(Box<str>, Value)], name: &str) -> String {
    input.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string()).unwrap_or_default()
}

impl Plugin for Device {
    fn name(&self) -> &'static str {
        "Device"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let root = ObjId::ROOT;
        b.param(root, "RootDataModelVersion", ParamType::String).max_len(32).live();

        let reboot = b.command(root, "Reboot", false);
        reboot
            .input_default("Cause", ParamType::String, "RemoteReboot")
            .input("Reason", ParamType::String);
        if let Some(cause) = reboot.inputs.first_mut() {
            cause.constraints.enumeration = Some(&["LocalReboot", "RemoteReboot"]);
        }

        let reset = b.command(root, "FactoryReset", false);
        reset
            .input_default("Cause", ParamType::String, "RemoteFactoryReset")
            .input("Reason", ParamType::String);
        if let Some(cause) = reset.inputs.first_mut() {
            cause.constraints.enumeration = Some(&["LocalFactoryReset", "RemoteFactoryReset"]);
        }

        let timer = b.command(root, "ScheduleTimer", true);
        timer.mandatory("DelaySeconds", ParamType::UnsignedInt);
        if let Some(delay) = timer.inputs.first_mut() {
            delay.constraints.range = Some((1, super::UINT_MAX));
        }

        self.commands = [
            ("Reboot", Command::Reboot),
            ("FactoryReset", Command::FactoryReset),
            ("ScheduleTimer", Command::ScheduleTimer),
        ]
        .into_iter()
        .filter_map(|(name, c)| Some((b.command_id(root, name)?, c)))
        .collect();

        b.event(root, "Boot")
            .arg("CommandKey", ParamType::String)
            .arg("Cause", ParamType::String)
            .arg("Reason", ParamType::String)
            .arg("FirmwareUpdated", ParamType::Boolean)
            .arg("ParameterMap", ParamType::String);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        // RootDataModelVersion is the only live parameter declared here.
        for p in params {
            if ctx.schema().param(*p).obj != ObjId::ROOT {
                return Err(UspError::internal(format!("{p:?} is not served by Device")));
            }
            out.push(Value::String(ROOT_DATA_MODEL_VERSION.into()));
        }
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        _inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let command = self.commands.iter().find(|(id, _)| *id == cmd).map(|(_, c)| *c);
        match command {
            Some(Command::Reboot) => {
                let cause = arg_text(input, "Cause");
                let reason = arg_text(input, "Reason");
                ctx.system(SystemRequest::Reboot { cause, reason, command_key: None });
                Ok(Outcome::Done(Vec::new()))
            }
            Some(Command::FactoryReset) => {
                let cause = arg_text(input, "Cause");
                let reason = arg_text(input, "Reason");
                ctx.system(SystemRequest::FactoryReset { cause, reason });
                Ok(Outcome::Done(Vec::new()))
            }
            Some(Command::ScheduleTimer) => {
                let delay = input
                    .iter()
                    .find(|(k, _)| &**k == "DelaySeconds")
                    .and_then(|(_, v)| v.as_u64())
                    .ok_or_else(|| {
                        UspError::new(ErrorCode::InvalidCommandArgs, "no DelaySeconds")
                    })?;
                self.timers.push((handle, ctx.now().uptime + Duration::from_secs(delay)));
                self.arm(ctx);
                Ok(Outcome::Running)
            }
            None => Err(UspError::new(ErrorCode::CommandFailure, "unknown command")),
        }
    }

    fn cancel(&mut self, ctx: &mut Ctx, handle: OpHandle) -> Result<(), UspError> {
        let before = self.timers.len();
        self.timers.retain(|(h, _)| *h != handle);
        if self.timers.len() == before {
            return Err(UspError::new(ErrorCode::CommandFailure, "no such timer"));
        }
        ctx.complete(handle, Err(UspError::new(ErrorCode::CommandCanceled, "timer canceled")));
        Ok(())
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let now = ctx.now().uptime;
        let (due, waiting): (Vec<_>, Vec<_>) =
            self.timers.drain(..).partition(|(_, at)| *at <= now);
        self.timers = waiting;
        for (handle, _) in due {
            ctx.complete(handle, Ok(Vec::new()));
        }
        self.arm(ctx);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::Requests;
    use crate::testutil::*;
    use usp_datamodel::plugin::{DmEvent, Requester};

    fn lab() -> Lab {
        Lab::new(vec![
            Box::new(Device::default()),
            Box::new(crate::local_agent::LocalAgent::new(Default::default())),
            Box::new(Requests),
        ])
    }

    #[test]
    fn root_version_reads() {
        let mut t = lab();
        assert_eq!(t.get("Device.RootDataModelVersion"), "2.19");
        let all = t.read_all("Device.");
        assert!(all.contains(&("RootDataModelVersion".into(), "2.19".into())));
    }

    #[test]
    fn reboot_asks_the_host_with_the_default_cause() {
        let mut t = lab();
        let (_, out) = t.operate("Device.Reboot()", &[("Reason", "maintenance")]).unwrap();
        assert_eq!(out, Outcome::Done(vec![]));
        let want = SystemRequest::Reboot {
            cause: "RemoteReboot".into(),
            reason: "maintenance".into(),
            command_key: None,
        };
        assert_eq!(t.events(), vec![DmEvent::System(want)]);
        let e = t.operate("Device.Reboot()", &[("Cause", "Bogus")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
    }

    #[test]
    fn factory_reset_asks_the_host() {
        let mut t = lab();
        let (_, out) = t.operate("Device.FactoryReset()", &[("Reason", "rma")]).unwrap();
        assert_eq!(out, Outcome::Done(vec![]));
        let want = SystemRequest::FactoryReset {
            cause: "RemoteFactoryReset".into(),
            reason: "rma".into(),
        };
        assert_eq!(t.events(), vec![DmEvent::System(want)]);
    }

    #[test]
    fn schedule_timer_completes_when_due() {
        let mut t = lab();
        let (h, out) = t.operate("Device.ScheduleTimer()", &[("DelaySeconds", "5")]).unwrap();
        assert_eq!(out, Outcome::Running);
        assert_eq!(t.dm.next_wake(), Some(Duration::from_secs(5)));
        t.tick(4);
        assert!(t.events().is_empty());
        assert_eq!(t.dm.running(), vec![h]);
        t.tick(10);
        assert_eq!(t.events(), vec![DmEvent::OperationComplete { handle: h, result: Ok(vec![]) }]);
        assert!(t.dm.running().is_empty());
        assert_eq!(t.dm.next_wake(), None);
    }

    #[test]
    fn timers_complete_in_order() {
        let mut t = lab();
        let (h1, _) = t.operate("Device.ScheduleTimer()", &[("DelaySeconds", "20")]).unwrap();
        let (h2, _) = t.operate("Device.ScheduleTimer()", &[("DelaySeconds", "3")]).unwrap();
        assert_eq!(t.dm.next_wake(), Some(Duration::from_secs(3)));
        t.tick(3);
        assert_eq!(t.events(), vec![DmEvent::OperationComplete { handle: h2, result: Ok(vec![]) }]);
        assert_eq!(t.dm.next_wake(), Some(Duration::from_secs(20)));
        t.tick(25);
        assert_eq!(t.events(), vec![DmEvent::OperationComplete { handle: h1, result: Ok(vec![]) }]);
    }

    #[test]
    fn schedule_timer_needs_a_valid_delay() {
        let mut t = lab();
        let e = t.operate("Device.ScheduleTimer()", &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
        let e = t.operate("Device.ScheduleTimer()", &[("DelaySeconds", "0")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
        assert!(t.dm.running().is_empty());
    }

    #[test]
    fn canceling_the_request_cancels_the_timer() {
        let mut t = lab();
        let (h, _) = t.operate("Device.ScheduleTimer()", &[("DelaySeconds", "5")]).unwrap();
        let req = t
            .add_as(
                Requester::Internal,
                "Device.LocalAgent.Request.",
                &[("Originator", "proto::controller"), ("Command", "Device.ScheduleTimer()")],
            )
            .unwrap();
        let target =
            t.dm.resolve(&Requester::Internal, &usp_datamodel::path::Path::parse(&req).unwrap());
        let target = target.unwrap().remove(0);
        let inst = t.dm.instance(target.obj, &target.numbers);
        t.dm.link_request(h, inst);
        t.events();
        t.operate(&format!("{req}Cancel()"), &[]).unwrap();
        let events = t.events();
        let canceled = events.iter().any(|e| {
            matches!(e, DmEvent::OperationComplete { handle, result: Err(err) }
                if *handle == h && err.code == ErrorCode::CommandCanceled)
        });
        assert!(canceled, "{events:?}");
        assert_eq!(t.get(&format!("{req}Status")), "Canceling");
        t.tick(10);
        assert!(t.events().is_empty(), "a canceled timer never completes again");
    }
}
