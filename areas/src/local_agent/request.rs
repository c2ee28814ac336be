//! `Device.LocalAgent.Request.{i}.`: the asynchronous commands in progress.
//!
//! Rows belong to the core: when an asynchronous Operate starts, the core adds a row as
//! [`Requester::Internal`](usp_datamodel::plugin::Requester::Internal) with `Originator`, `Command`,
//! `CommandKey` (and `Status` `Active`), then calls `DataModel::link_request(handle, row)`.
//! When the command's OperationComplete arrives, the core deletes the row. Rows are volatile:
//! none survives a restart. Controllers cannot add or delete them.
//!
//! `Cancel()` sets `Status` to `Canceling` and asks the engine to cancel the linked command;
//! its plugin then completes it with 7023 (the core deletes the row as for any completion).

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjAccess, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The vendor parameter (TR-106 `X_<OUI>_`, the agent's default OUI) giving the share of a
/// running command's work done, in percent: a transfer's bytes received of its size. TR-181
/// has no progress of its own; controllers (`uspctl`'s progress bar) read or subscribe to it.
pub const PROGRESS: &str = "X_00D09E_Progress";

/// Sets the progress of the running command `command` (its path, `Device.X.1.Download()`) on
/// its `Request.{i}` row, when it changed. Does nothing when no row names it.
pub fn report_progress(ctx: &mut Ctx, command: &str, percent: u32) {
    let Some(table) = ctx.schema().obj_by_path("Device.LocalAgent.Request.{i}.") else { return };
    let (Some(cmd), Some(progress)) =
        (ctx.schema().param_by_name(table, "Command"), ctx.schema().param_by_name(table, PROGRESS))
    else {
        return;
    };
    for n in ctx.rows(table, &[]) {
        let row = Instance { obj: table, numbers: vec![n], keys: vec![None] };
        if ctx.stored(&row, cmd).is_some_and(|v| v.to_string() == command) {
            let value = Value::UnsignedInt(percent.min(100));
            if ctx.stored(&row, progress) != Some(&value) {
                ctx.set_stored(&row, progress, value);
            }
            return;
        }
    }
}

/// The `Status` values of a request.
const STATUS: &[&str] = &["Requested", "Active", "Canceling", "Canceled", "Success", "Error"];

/// The `Device.LocalAgent.Request.{i}.` plugin.
#[derive(Debug, Default)]
pub struct Requests;

impl Plugin for Requests {
    fn name(&self) -> &'static str {
        "Request"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let r = b.table("Device.LocalAgent.Request.{i}.", ObjAccess::ReadOnly);
        b.volatile_rows(r);
        b.alias(r);
        b.param(r, "Originator", ParamType::String).stored();
        b.param(r, "Command", ParamType::String).stored();
        b.param(r, "CommandKey", ParamType::String).stored();
        b.param(r, "Status", ParamType::String)
            .enumeration(STATUS)
            .stored()
            .volatile()
            .default("Requested");
        b.param(r, PROGRESS, ParamType::UnsignedInt).range(0, 100).stored().volatile().default("0");
        b.command(r, "Cancel", false);
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if &*ctx.schema().command(cmd).name != "Cancel" {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        }
        let status = ctx.schema().param_by_name(inst.obj, "Status");
        let current = status.and_then(|s| ctx.stored(inst, s)).and_then(Value::as_str);
        if !matches!(current, Some("Requested" | "Active")) {
            return Err(UspError::new(
                ErrorCode::CommandFailure,
                format!("the request is {}", current.unwrap_or("gone")),
            ));
        }
        if let Some(status) = status {
            ctx.set_stored(inst, status, Value::String("Canceling".into()));
        }
        ctx.cancel_request(inst);
        Ok(Outcome::Done(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::LocalAgent;
    use crate::testutil::*;
    use usp_datamodel::plugin::Requester;

    fn plugins() -> Vec<Box<dyn Plugin>> {
        vec![Box::new(LocalAgent::new(Default::default())), Box::new(Requests)]
    }

    #[test]
    fn rows_are_the_cores_and_volatile() {
        let mut t = Lab::new(plugins());
        let e = t.add("Device.LocalAgent.Request.", &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ObjectNotCreatable);
        let r = t
            .add_as(
                Requester::Internal,
                "Device.LocalAgent.Request.",
                &[
                    ("Originator", "proto::a"),
                    ("Command", "Device.ScheduleTimer()"),
                    ("CommandKey", ""),
                    ("Status", "Active"),
                ],
            )
            .unwrap();
        assert_eq!(t.read_all(&r).len(), 6);
        assert_eq!(t.get(&format!("{r}{PROGRESS}")), "0");
        assert_eq!(t.get(&format!("{r}CommandKey")), "", "an empty CommandKey stays empty");
        assert_eq!(t.get(&format!("{r}Status")), "Active");
        assert_eq!(t.get("Device.LocalAgent.RequestNumberOfEntries"), "1");
        let e = t.delete(&r).unwrap_err();
        assert_eq!(e.code, ErrorCode::ObjectNotDeletable);
        let e = t.set(&r, &[("Status", "Canceled")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        let mut t = t.restart(plugins());
        assert_eq!(t.get("Device.LocalAgent.RequestNumberOfEntries"), "0");
    }

    #[test]
    fn cancel_of_an_ended_request_fails() {
        let mut t = Lab::new(plugins());
        let r = t
            .add_as(Requester::Internal, "Device.LocalAgent.Request.", &[("Status", "Success")])
            .unwrap();
        let e = t.operate(&format!("{r}Cancel()"), &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::CommandFailure);
    }
}
