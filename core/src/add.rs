//! Add (TR-369 "The Add Message").
//!
//! - Transactions and `allow_partial` as for Set (see `set`): one for the whole message when
//!   false (any failure: an Error, nothing created), one per `obj_path` when true.
//! - `obj_path` names a table, or is a search path matching tables (R-ADD.2a, TP-469 1.95):
//!   one `CreatedObjectResult` per matched table, all sharing the requested path; one failing
//!   table fails the whole `obj_path`. A search path matching nothing gives one empty
//!   `oper_success` (R-MSG.4a).
//! - Not a table (a single-instance object or a row): 7018; a table controllers may not add
//!   to: 7019; unknown parameter 7010; bad value 7011/7012; a failed required parameter — and
//!   every unique key given, which TR-369 counts as required (TP-469 1.88) — fails the object
//!   with 7021 (the Error's `param_errs` name each failed parameter as `<table path><name>`,
//!   since no instance exists). A failed non-required parameter goes into the success's
//!   `param_errs` (relative name, R-ADD.4).
//! - `unique_keys` returns every unique key of the new row, the agent-assigned ones included
//!   (R-ADD.5).
//! - Access control: a table without `Obj` write fails with 7006. With `allow_partial=true`
//!   such a table of a search path gets its own failed `CreatedObjectResult` while the other
//!   tables get their rows (R-ADD.0, TP-469 2.23); with `allow_partial=false` the Error's
//!   `param_errs` names that table (TP-469 2.24). A parameter without `Param` write fails as
//!   in a Set (7006; a required one, or a unique key, fails the object with 7006, TP-469
//!   2.26); omitted ones keep their defaults (TP-469 2.25). The permission is judged for a row
//!   whose instance number is not known yet: only targets with `*` (or none) at that level
//!   apply. `unique_keys` leaves out what the controller may not read (R-ADD.6).
//! - A row of `Device.LocalAgent.Subscription.{i}.` gets the creating controller as its
//!   `Recipient` (`Device.LocalAgent.Controller.<n>`), whatever the request says: the
//!   parameter is read-only for controllers, the agent fills it in (TR-181). A row of
//!   `Device.BulkData.Profile.{i}.` gets it as its `Controller` the same way.

use usp_datamodel::access::Access;
use usp_datamodel::plugin::Requester;
use usp_datamodel::value::Value;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::msg::add_resp::created_object_result::OperationStatus;
use usp_proto::msg::add_resp::created_object_result::operation_status::{
    OperStatus, OperationFailure, OperationSuccess,
};
use usp_proto::msg::add_resp::{CreatedObjectResult, ParameterError};
use usp_proto::msg::{self, Add, AddResp};

use super::parse_obj_path;
use super::set::{ObjFailure, Setting, check_settings};

/// Answers an Add with the rights of `access`; `Err` is the Error message of a failed
/// `allow_partial=false` request. `recipient` is the requesting controller's instance path,
/// for new subscriptions.
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &Add,
    recipient: Option<String>,
) -> Result<AddResp, msg::Error> {
    let mut results = Vec::new();
    if !req.allow_partial {
        dm.begin(who.clone());
    }
    for co in &req.create_objs {
        if req.allow_partial {
            dm.begin(who.clone());
        }
        let ctx = Context { who, access, recipient: recipient.as_deref() };
        match create(dm, &ctx, co, req.allow_partial) {
            Ok(outcomes) => {
                if req.allow_partial {
                    dm.commit();
                }
                for outcome in outcomes {
                    let status = match outcome {
                        Ok(s) => OperStatus::OperSuccess(s),
                        Err(e) => OperStatus::OperFailure(OperationFailure {
                            err_code: e.code.code(),
                            err_msg: e.msg,
                        }),
                    };
                    results.push(result(&co.obj_path, status));
                }
            }
            Err(failure) => {
                dm.abort();
                if !req.allow_partial {
                    return Err(failure.into_error(&co.obj_path));
                }
                let status = OperStatus::OperFailure(OperationFailure {
                    err_code: failure.err.code.code(),
                    err_msg: failure.err.msg,
                });
                results.push(result(&co.obj_path, status));
            }
        }
    }
    if !req.allow_partial {
        dm.commit();
    }
    Ok(AddResp { created_obj_results: results })
}

fn result(requested: &str, status: OperStatus) -> CreatedObjectResult {
    CreatedObjectResult {
        requested_path: requested.to_owned(),
        oper_status: Some(OperationStatus { oper_status: Some(status) }),
    }
}

/// Who asks, with which rights, and the Recipient of the subscriptions it creates.
struct Context<'a> {
    who: &'a Requester,
    access: &'a Access,
    recipient: Option<&'a str>,
}

/// Creates one row in every table an `obj_path` matches, in the current transaction: one
/// outcome per table, a failed one (`Err`) only for a table the controller may not add to in a
/// search path with `allow_partial` (see the module doc).
fn create(
    dm: &mut DataModel,
    ctx: &Context,
    co: &msg::add::CreateObject,
    allow_partial: bool,
) -> Result<Vec<Result<OperationSuccess, UspError>>, ObjFailure> {
    let who = ctx.who;
    let path = parse_obj_path(&co.obj_path).map_err(ObjFailure::plain)?;
    let targets = dm.resolve(who, &path).map_err(ObjFailure::plain)?;
    if targets.is_empty() {
        return Ok(vec![Ok(OperationSuccess::default())]);
    }
    let several = path.is_search() && allow_partial;
    let settings: Vec<Setting> = co
        .param_settings
        .iter()
        .map(|s| Setting { name: &s.param, value: &s.value, required: s.required })
        .collect();
    let mut out = Vec::with_capacity(targets.len());
    for target in targets {
        let def = dm.schema().obj(target.obj);
        if target.item != Item::Object || !def.multi || !target.is_table(dm) {
            let what =
                if target.item == Item::Object { target.obj_path(dm) } else { co.obj_path.clone() };
            return Err(ObjFailure::plain(UspError::new(
                ErrorCode::NotATable,
                format!("{} is not a table", super::short(&what)),
            )));
        }
        if !def.access.can_add() {
            return Err(ObjFailure::plain(UspError::new(
                ErrorCode::ObjectNotCreatable,
                format!("{} does not allow Add", def.path),
            )));
        }
        let table_path = target.obj_path(dm);
        if !ctx.access.object(dm.schema(), target.obj, &target.numbers).write() {
            let err = UspError::new(
                ErrorCode::PermissionDenied,
                format!("this controller may not add to {table_path}"),
            );
            if several {
                out.push(Err(err));
                continue;
            }
            return Err(ObjFailure {
                err: err.clone(),
                instances: vec![(table_path, vec![(String::new(), err)])],
            });
        }
        let mut row = target.numbers.clone();
        row.push(0);
        let checked = check_settings(dm, who, ctx.access, (target.obj, &row), &settings, true);
        if checked.required_failed() {
            let err = checked.required_error(&format!("the new {table_path} instance"));
            let params = checked.failed.into_iter().map(|f| (f.name, f.err)).collect();
            return Err(ObjFailure { err, instances: vec![(table_path, params)] });
        }
        let mut good = checked.good;
        if let (Some(rec), Some(p)) = (ctx.recipient, creator_param(dm, target.obj)) {
            good.retain(|(q, _)| *q != p);
            good.push((p, Value::String(rec.into())));
        }
        let numbers = dm.add_row(target.obj, &target.numbers, &good).map_err(ObjFailure::plain)?;
        let keys = dm.unique_keys(target.obj, &numbers);
        let schema = dm.schema();
        let unique_keys = keys
            .into_iter()
            .filter(|(name, _)| {
                schema
                    .param_by_name(target.obj, name)
                    .is_some_and(|p| ctx.access.param(schema, p, &numbers).read())
            })
            .collect();
        out.push(Ok(OperationSuccess {
            instantiated_path: dm.schema().instance_path(target.obj, &numbers),
            param_errs: checked
                .failed
                .into_iter()
                .map(|f| ParameterError {
                    param: f.name,
                    err_code: f.err.code.code(),
                    err_msg: f.err.msg,
                })
                .collect(),
            unique_keys,
        }));
    }
    Ok(out)
}

/// The parameter that names the creating controller in a row of `table`: `Recipient` of the
/// Subscription table, `Controller` of `Device.BulkData.Profile.{i}.`.
fn creator_param(
    dm: &DataModel,
    table: usp_datamodel::schema::ObjId,
) -> Option<usp_datamodel::schema::ParamId> {
    let schema = dm.schema();
    if schema.obj_by_path("Device.LocalAgent.Subscription.{i}.") == Some(table) {
        return schema.param_by_name(table, "Recipient");
    }
    if schema.obj_by_path("Device.BulkData.Profile.{i}.") == Some(table) {
        return schema.param_by_name(table, "Controller");
    }
    None
}
