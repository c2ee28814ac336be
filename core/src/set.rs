//! Set (TR-369 "The Set Message", "Using Allow Partial and Required Parameters").
//!
//! - `allow_partial=false`: the whole message is one transaction; the first `obj_path` that
//!   fails aborts it and the answer is an Error with that object's code, its `param_errs`
//!   giving the full path of each failed parameter (TP-469 1.20), or the requested path when
//!   the failure is not about a parameter (bad path, missing instance). Nothing changes.
//! - `allow_partial=true`: one transaction per `obj_path`; a failed one becomes
//!   `oper_failure`, the others `oper_success` (R-SET.0).
//! - A failed `required` parameter fails its object with 7021 "Required parameter failed" (the
//!   code whose description is exactly this case; also what obuspa sends), with every failed
//!   parameter of that instance in `updated_inst_failures.param_errs`. A failed non-required
//!   parameter is reported in the success's `param_errs` and the others are still set.
//! - A search path is handled holistically (R-SET.2a): one failing instance fails the whole
//!   `obj_path`, and its changes are undone; a search path matching nothing gives an empty
//!   `oper_success` (TP-469 1.23).
//! - Unknown parameter: 7010 "Unsupported parameter" (the table: "did not match any
//!   instantiated Parameters"); read-only, immutable key (1.96), write-once (1.104), type and
//!   value errors: the engine's `check_value` codes (7013, 7011, 7012). When the engine refuses
//!   an instance's update as a whole (`set_values`: unique-key conflict 7025, a plugin veto),
//!   the instance fails with that code.
//! - An `obj_path` naming a table rather than instances, or a parameter: 7026; a missing
//!   instance in a non-search path: 7016.
//! - `updated_params` holds each parameter set, read back after the update; parameter names
//!   in `param_errs` of a response are relative.
//! - Access control: a parameter without `Param` write fails like any other parameter, with
//!   7006 (a required one fails its object, and the object's code is then 7006 rather than
//!   7021, as TP-469 2.16 expects); `updated_params` leaves out what the controller may not
//!   read (R-SET.3). The instances a search path selects are those the controller may read the
//!   search parameters of (see the engine's resolver).

use std::collections::BTreeMap;

use usp_datamodel::access::Access;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::{ObjId, ParamId};
use usp_datamodel::value::Value;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::msg::error::ParamError;
use usp_proto::msg::set_resp::updated_object_result::OperationStatus;
use usp_proto::msg::set_resp::updated_object_result::operation_status::{
    OperStatus, OperationFailure, OperationSuccess,
};
use usp_proto::msg::set_resp::{
    ParameterError, UpdatedInstanceFailure, UpdatedInstanceResult, UpdatedObjectResult,
};
use usp_proto::msg::{self, Set, SetResp};

use super::{parse_obj_path, relative_param};

/// One parameter setting of a Set or Add, by relative name.
pub(super) struct Setting<'a> {
    pub name: &'a str,
    pub value: &'a str,
    pub required: bool,
}

/// A setting that failed its checks.
pub(super) struct Failed {
    pub name: String,
    pub err: UspError,
    pub required: bool,
}

/// Settings checked against one object: the typed values to write and the failures.
pub(super) struct Checked {
    pub good: Vec<(ParamId, Value)>,
    pub good_names: Vec<String>,
    pub failed: Vec<Failed>,
}

impl Checked {
    pub(super) fn required_failed(&self) -> bool {
        self.failed.iter().any(|f| f.required)
    }

    /// The error of an object whose required parameters failed (`what` names it): 7006 when
    /// one was refused for lack of permission, else 7021.
    pub(super) fn required_error(&self, what: &str) -> UspError {
        let denied =
            self.failed.iter().any(|f| f.required && f.err.code == ErrorCode::PermissionDenied);
        if denied {
            UspError::new(
                ErrorCode::PermissionDenied,
                format!("a required parameter of {what} may not be written"),
            )
        } else {
            UspError::new(
                ErrorCode::RequiredParamFailed,
                format!("a required parameter of {what} failed"),
            )
        }
    }
}

/// Checks settings for an instance of `obj` (`numbers`; `0` for the number of a row not yet
/// created): unknown names fail with 7010, parameters without `Param` write in `access` with
/// 7006, values go through the engine's `check_value`. In an Add (`creating`), unique keys
/// count as required (TR-369: "Any Unique Key Parameter contained in the Add Message will be
/// considered as required").
pub(super) fn check_settings(
    dm: &DataModel,
    who: &Requester,
    access: &Access,
    (obj, numbers): (ObjId, &[u32]),
    settings: &[Setting],
    creating: bool,
) -> Checked {
    let mut out = Checked { good: Vec::new(), good_names: Vec::new(), failed: Vec::new() };
    for s in settings {
        let Some(param) = relative_param(dm, obj, s.name) else {
            out.failed.push(Failed {
                name: s.name.to_owned(),
                err: UspError::new(
                    ErrorCode::UnsupportedParameter,
                    format!("{} is not a parameter of {}", s.name, dm.schema().obj(obj).path),
                ),
                required: s.required,
            });
            continue;
        };
        let key = dm.schema().obj(obj).unique_keys.iter().flatten().any(|k| *k == param);
        let required = s.required || (creating && key);
        if !access.param(dm.schema(), param, numbers).write() {
            let err = UspError::new(
                ErrorCode::PermissionDenied,
                format!("{} may not be written by this controller", s.name),
            );
            out.failed.push(Failed { name: s.name.to_owned(), err, required });
            continue;
        }
        match dm.check_value(who, param, s.value, creating) {
            Ok(v) => {
                out.good.retain(|(p, _)| *p != param);
                out.good_names.retain(|n| n != s.name);
                out.good.push((param, v));
                out.good_names.push(s.name.to_owned());
            }
            Err(err) => out.failed.push(Failed { name: s.name.to_owned(), err, required }),
        }
    }
    out
}

/// Why an `obj_path` failed: its code and text, and per failed instance the failed
/// parameters (relative names).
pub(super) struct ObjFailure {
    pub err: UspError,
    pub instances: Vec<(String, Vec<(String, UspError)>)>,
}

impl ObjFailure {
    pub(super) fn plain(err: UspError) -> ObjFailure {
        ObjFailure { err, instances: Vec::new() }
    }

    /// The Error message for an `allow_partial=false` request: param_errs with full paths, or
    /// the requested path when no parameter is to blame.
    pub(super) fn into_error(self, requested: &str) -> msg::Error {
        let mut param_errs: Vec<ParamError> = self
            .instances
            .iter()
            .flat_map(|(inst, params)| {
                params.iter().map(move |(name, e)| ParamError {
                    param_path: format!("{inst}{name}"),
                    err_code: e.code.code(),
                    err_msg: e.msg.clone(),
                })
            })
            .collect();
        if param_errs.is_empty() {
            param_errs.push(ParamError {
                param_path: requested.to_owned(),
                err_code: self.err.code.code(),
                err_msg: self.err.msg.clone(),
            });
        }
        msg::Error { err_code: self.err.code.code(), err_msg: self.err.msg, param_errs }
    }
}

/// Answers a Set with the rights of `access`; `Err` is the Error message of a failed
/// `allow_partial=false` request.
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &Set,
) -> Result<SetResp, msg::Error> {
    let mut results = Vec::with_capacity(req.update_objs.len());
    if !req.allow_partial {
        dm.begin(who.clone());
    }
    for uo in &req.update_objs {
        if req.allow_partial {
            dm.begin(who.clone());
        }
        let status = match update(dm, who, access, uo) {
            Ok(updated_inst_results) => {
                if req.allow_partial {
                    dm.commit();
                }
                OperStatus::OperSuccess(OperationSuccess { updated_inst_results })
            }
            Err(failure) => {
                dm.abort();
                if !req.allow_partial {
                    return Err(failure.into_error(&uo.obj_path));
                }
                OperStatus::OperFailure(OperationFailure {
                    err_code: failure.err.code.code(),
                    err_msg: failure.err.msg,
                    updated_inst_failures: failure
                        .instances
                        .into_iter()
                        .map(|(affected_path, params)| UpdatedInstanceFailure {
                            affected_path,
                            param_errs: params.into_iter().map(param_error).collect(),
                        })
                        .collect(),
                })
            }
        };
        results.push(UpdatedObjectResult {
            requested_path: uo.obj_path.clone(),
            oper_status: Some(OperationStatus { oper_status: Some(status) }),
        });
    }
    if !req.allow_partial {
        dm.commit();
    }
    Ok(SetResp { updated_obj_results: results })
}

fn param_error((param, e): (String, UspError)) -> ParameterError {
    ParameterError { param, err_code: e.code.code(), err_msg: e.msg }
}

/// Updates every instance an `obj_path` matches, inside the current transaction.
fn update(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    uo: &msg::set::UpdateObject,
) -> Result<Vec<UpdatedInstanceResult>, ObjFailure> {
    let path = parse_obj_path(&uo.obj_path).map_err(ObjFailure::plain)?;
    let targets = dm.resolve(who, &path).map_err(ObjFailure::plain)?;
    let settings: Vec<Setting> = uo
        .param_settings
        .iter()
        .map(|s| Setting { name: &s.param, value: &s.value, required: s.required })
        .collect();
    let mut results = Vec::with_capacity(targets.len());
    let mut failures = Vec::new();
    let mut first_err: Option<UspError> = None;
    for target in targets {
        if target.item != Item::Object || target.is_table(dm) {
            return Err(ObjFailure::plain(UspError::new(
                ErrorCode::InvalidPath,
                format!("{} does not name object instances", super::short(&uo.obj_path)),
            )));
        }
        let affected_path = target.obj_path(dm);
        let checked =
            check_settings(dm, who, access, (target.obj, &target.numbers), &settings, false);
        if checked.required_failed() {
            first_err.get_or_insert_with(|| checked.required_error(&affected_path));
            let params: Vec<(String, UspError)> =
                checked.failed.into_iter().map(|f| (f.name, f.err)).collect();
            failures.push((affected_path, params));
            continue;
        }
        if let Err(e) = write(dm, &target.numbers, &checked.good) {
            let params = checked.good_names.iter().map(|n| (n.clone(), e.clone())).collect();
            first_err.get_or_insert(e);
            failures.push((affected_path, params));
            continue;
        }
        let mut updated_params = BTreeMap::new();
        for ((param, _), name) in checked.good.iter().zip(&checked.good_names) {
            let def = dm.schema().param(*param);
            let obj = def.obj;
            if !access.param(dm.schema(), *param, &target.numbers).read() {
                continue;
            }
            let read = dm.read_params(who, obj, &target.numbers, &[*param]);
            if let Some(Ok(v)) = read.into_iter().next() {
                updated_params.insert(name.clone(), v.to_string());
            }
        }
        results.push(UpdatedInstanceResult {
            affected_path,
            param_errs: checked.failed.into_iter().map(|f| param_error((f.name, f.err))).collect(),
            updated_params,
        });
    }
    match first_err {
        Some(err) => Err(ObjFailure { err, instances: failures }),
        None => Ok(results),
    }
}

/// Writes checked values into one instance, one `set_values` call per (sub-)object.
fn write(dm: &mut DataModel, numbers: &[u32], good: &[(ParamId, Value)]) -> Result<(), UspError> {
    let mut groups: Vec<(ObjId, Vec<(ParamId, Value)>)> = Vec::new();
    for (p, v) in good {
        let obj = dm.schema().param(*p).obj;
        match groups.iter_mut().find(|(o, _)| *o == obj) {
            Some((_, g)) => g.push((*p, v.clone())),
            None => groups.push((obj, vec![(*p, v.clone())])),
        }
    }
    for (obj, changes) in groups {
        dm.set_values(obj, numbers, &changes)?;
    }
    Ok(())
}
