//! Operate (TR-369 "Defined Operations Mechanism", "The Operate Message") and the end of
//! asynchronous commands.
//!
//! - The message itself fails (an Error, even with `send_resp=false`, as R-OPR.4's note
//!   allows) only when `command` is not a usable path: bad syntax 7008, not a command path or
//!   not in the supported model 7026, a missing instance in a non-search path 7016.
//! - Otherwise one `OperationResult` per matched command, failures in `cmd_failure`, never an
//!   Error (R-OPR.1); a missing mandatory argument is `cmd_failure` 7027 (R-OPR.5, from the
//!   engine), unknown arguments are ignored and defaults applied (R-OPR.6/7, engine).
//! - Synchronous: `req_output_args`. Asynchronous: a `Device.LocalAgent.Request.{i}.` row
//!   (Originator = controller, Command = the executed command path, CommandKey, Status =
//!   `Active`) is created as the agent itself and linked to the run; `req_obj_path` names it. If
//!   the data model has no Request table the run still proceeds and `req_obj_path` is empty.
//! - `send_resp=false`: no OperateResp at all (R-OPR.4, TP-469 1.62/1.65).
//! - Access control: a command without `CommandEvent` execute is a `cmd_failure` 7006 (the
//!   USP 1.4 behaviour TP-469 2.18 asks for); it is not run.
//! - When the run ends, the Request row gets Status `Success`/`Error` and is deleted (R-OPR.0),
//!   and a Notify OperationComplete goes to the recipient of every enabled
//!   `Device.LocalAgent.Subscription.{i}.` with NotifType `OperationComplete` whose
//!   ReferenceList names the command (a command path designating it, or an object path above
//!   it), with `send_resp` = NotifRetry (the notification engine's index, see `notify`). No
//!   Subscription table: no notification.

use std::collections::BTreeMap;

use usp_datamodel::access::Access;
use usp_datamodel::path::Tail;
use usp_datamodel::plugin::{OpHandle, Outcome, Requester};
use usp_datamodel::schema::ObjId;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::msg::notify::operation_complete::{self, OperationResp as DoneResp};
use usp_proto::msg::notify::{Notification, OperationComplete};
use usp_proto::msg::operate_resp::OperationResult;
use usp_proto::msg::operate_resp::operation_result::{CommandFailure, OperationResp, OutputArgs};
use usp_proto::msg::{self, Operate, OperateResp};

use super::kinds::{Kind, Leaf};
use super::{Core, Outgoing, PendingOp, parse_path};

fn error(e: UspError) -> msg::Error {
    msg::Error { err_code: e.code.code(), err_msg: e.msg, param_errs: Vec::new() }
}

/// Answers an Operate with the rights of `access`: `Ok(None)` when no response is to be sent.
pub(super) fn handle(
    core: &mut Core,
    from: &str,
    (who, access): (&Requester, &Access),
    req: &Operate,
) -> Result<Option<OperateResp>, msg::Error> {
    let path = parse_path(&req.command).map_err(error)?;
    if !matches!(path.tail, Tail::Command(_)) {
        return Err(error(UspError::new(
            ErrorCode::InvalidPath,
            format!("{} is not a command path", super::short(&req.command)),
        )));
    }
    let targets = core.dm.resolve(who, &path).map_err(error)?;
    let args: Vec<(String, String)> =
        req.input_args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut operation_results = Vec::with_capacity(targets.len());
    for target in targets {
        let Item::Command(cmd) = target.item else { continue };
        let def = core.dm.schema().command(cmd);
        let (name, is_async) = (format!("{}()", def.name), def.is_async);
        let obj_path = target.obj_path(&core.dm);
        let executed_command = format!("{obj_path}{name}");
        if !access.command(core.dm.schema(), cmd, &target.numbers).execute() {
            let resp = OperationResp::CmdFailure(CommandFailure {
                err_code: ErrorCode::PermissionDenied.code(),
                err_msg: format!("this controller may not run {executed_command}"),
            });
            operation_results
                .push(OperationResult { executed_command, operation_resp: Some(resp) });
            continue;
        }
        let resp = match core.dm.operate(who, &target, &args) {
            Err(e) => OperationResp::CmdFailure(CommandFailure {
                err_code: e.code.code(),
                err_msg: e.msg,
            }),
            Ok((_, Outcome::Done(out))) => OperationResp::ReqOutputArgs(OutputArgs {
                output_args: out
                    .into_iter()
                    .map(|(k, v)| (k.into_string(), v.to_string()))
                    .collect(),
            }),
            Ok((handle, Outcome::Running)) if is_async => {
                let request =
                    start_request(core, from, handle, &executed_command, &req.command_key);
                let req_path = request
                    .as_ref()
                    .map(|(t, n)| core.dm.schema().instance_path(*t, n))
                    .unwrap_or_default();
                core.ops.push(PendingOp {
                    handle,
                    request,
                    obj_path,
                    target: target.clone(),
                    command_name: name,
                    command_key: req.command_key.clone(),
                });
                OperationResp::ReqObjPath(req_path)
            }
            Ok((_, Outcome::Running)) => {
                log::error!("the synchronous command {executed_command} claims to run on");
                OperationResp::CmdFailure(CommandFailure {
                    err_code: ErrorCode::InternalError.code(),
                    err_msg: "the command did not complete".into(),
                })
            }
        };
        operation_results.push(OperationResult { executed_command, operation_resp: Some(resp) });
    }
    Ok(req.send_resp.then_some(OperateResp { operation_results }))
}

/// The `Device.LocalAgent.Request.{i}.` table, if declared.
fn request_table(dm: &DataModel) -> Option<ObjId> {
    dm.schema().obj_by_path("Device.LocalAgent.Request.{i}.")
}

/// Creates and links the Request row of an asynchronous run.
fn start_request(
    core: &mut Core,
    from: &str,
    handle: OpHandle,
    command: &str,
    command_key: &str,
) -> Option<(ObjId, Vec<u32>)> {
    let dm = &mut core.dm;
    let table = request_table(dm)?;
    let internal = Requester::Internal;
    let mut values = Vec::new();
    for (name, text) in [
        ("Originator", from),
        ("Command", command),
        ("CommandKey", command_key),
        ("Status", "Active"),
    ] {
        let Some(p) = dm.schema().param_by_name(table, name) else { continue };
        match dm.check_value(&internal, p, text, true) {
            Ok(v) => values.push((p, v)),
            Err(e) => log::warn!("Request.{name}: {e}"),
        }
    }
    dm.begin(internal);
    match dm.add_row(table, &[], &values) {
        Ok(numbers) => {
            dm.commit();
            let inst = dm.instance(table, &numbers);
            dm.link_request(handle, inst);
            Some((table, numbers))
        }
        Err(e) => {
            dm.abort();
            log::error!("cannot create the Request row for {command}: {e}");
            None
        }
    }
}

/// An asynchronous run ended: close its Request row and notify the subscribers.
pub(super) fn completed(
    core: &mut Core,
    handle: OpHandle,
    result: Result<Vec<(String, String)>, UspError>,
    out: &mut Vec<Outgoing>,
) {
    let Some(i) = core.ops.iter().position(|o| o.handle == handle) else {
        log::debug!("completion of an operation the core did not start ({handle:?})");
        return;
    };
    let op = core.ops.remove(i);
    if let Some((table, numbers)) = &op.request {
        let dm = &mut core.dm;
        dm.begin(Requester::Internal);
        if let Some(p) = dm.schema().param_by_name(*table, "Status") {
            let status = if result.is_ok() { "Success" } else { "Error" };
            match dm.check_value(&Requester::Internal, p, status, true) {
                Ok(v) => {
                    if let Err(e) = dm.set_values(*table, numbers, &[(p, v)]) {
                        log::debug!("Request Status: {e}");
                    }
                }
                Err(e) => log::debug!("Request Status: {e}"),
            }
        }
        if let Err(e) = dm.delete_row(*table, numbers) {
            log::debug!("Request row already gone: {e}");
        }
        dm.commit();
    }
    let operation_resp = match result {
        Ok(args) => DoneResp::ReqOutputArgs(operation_complete::OutputArgs {
            output_args: args.into_iter().collect::<BTreeMap<_, _>>(),
        }),
        Err(e) => DoneResp::CmdFailure(operation_complete::CommandFailure {
            err_code: e.code.code(),
            err_msg: e.msg,
        }),
    };
    let Item::Command(cmd) = op.target.item else { return };
    let n = OperationComplete {
        obj_path: op.obj_path,
        command_name: op.command_name,
        command_key: op.command_key,
        operation_resp: Some(operation_resp),
    };
    let (obj, numbers) = (op.target.obj, op.target.numbers);
    let leaf = Some(Leaf::Command(cmd));
    let make = || Notification::OperComplete(n.clone());
    core.notify_matching(Kind::OperationComplete, obj, &numbers, leaf, &make, out);
}
