//! Get (TR-369 "The Get Message").
//!
//! - One `RequestedPathResult` per requested path, errors per path: 7008 for bad syntax (and
//!   over-long paths), 7026 for a path outside the supported model **and** for a non-search
//!   path naming a missing instance (R-GET.0 asks 7026 where the engine says 7016), and for
//!   command and event paths (they match no Object or Parameter).
//! - A parameter path: `resolved_path` is the parent object instance, `result_params` holds
//!   that one parameter (R-GET.2/3); an unreadable parameter leaves its instance out.
//! - An object path: one `ResolvedPathResult` per object instance of the subtree (USP 1.2
//!   clarification: "each Sub-Object is returned in its own resolved_path"), with relative
//!   parameter names, depth limited by `max_depth` (0 = all; 1 = the object's own parameters,
//!   TP-469 1.89; a table and its rows count as one level, as in the spec's `max_depth` table).
//!   Objects that declare no parameter at all are not listed (they carry no data, and R-GET.1b
//!   asks an empty result for an object without parameters or sub-objects); objects whose
//!   parameters are all unreadable are listed with empty `result_params` (R-GET.4).
//! - A search path matching nothing: empty `resolved_path_results`, no error (R-GET.1a).
//! - A path that is not a parameter but an object written without its trailing dot
//!   (`Device.DeviceInfo`, TP-469 6.11/11.3) is read as that object path.
//! - Access control (R-GET.1, R-GET.4): what the controller may not read is treated as absent
//!   from the supported model. A non-search path naming a parameter without `Param` read, or an
//!   object or object instance without `Obj` read, is 7026 (R-GET.0); through a search path it
//!   is left out. In an object walk, an instance without `Obj` read is left out (its
//!   sub-objects may still be readable and are listed), and a readable instance lists only the
//!   parameters with `Param` read, possibly none (R-GET.4). A table path needs no read of the
//!   table itself: its rows are judged one by one.

use std::collections::BTreeMap;

use usp_datamodel::access::Access;
use usp_datamodel::plugin::Requester;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::Message;
use usp_proto::msg::get_resp::{RequestedPathResult, ResolvedPathResult};
use usp_proto::msg::{Get, GetResp};

use super::budget::Budget;
use super::parse_path;

/// Answers a Get with the rights of `access`; 7005 when the answer exceeds `budget`.
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &Get,
    budget: &mut Budget,
) -> Result<GetResp, UspError> {
    let mut req_path_results = Vec::with_capacity(req.param_paths.len());
    for p in &req.param_paths {
        let result = one_path(dm, who, access, p, req.max_depth, budget)?;
        budget.charge(result.requested_path.len() + result.err_msg.len() + 8)?;
        req_path_results.push(result);
    }
    Ok(GetResp { req_path_results })
}

fn one_path(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    text: &str,
    max_depth: u32,
    budget: &mut Budget,
) -> Result<RequestedPathResult, UspError> {
    Ok(match resolve_and_read(dm, who, access, text, max_depth, budget) {
        Ok(resolved_path_results) => RequestedPathResult {
            requested_path: text.to_owned(),
            err_code: 0,
            err_msg: String::new(),
            resolved_path_results,
        },
        Err(e) if e.code == ErrorCode::ResourcesExceeded => return Err(e),
        Err(e) => {
            let code = if e.code == ErrorCode::ObjectDoesNotExist {
                ErrorCode::InvalidPath
            } else {
                e.code
            };
            RequestedPathResult {
                requested_path: text.to_owned(),
                err_code: code.code(),
                err_msg: e.msg,
                resolved_path_results: Vec::new(),
            }
        }
    })
}

fn resolve_and_read(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    text: &str,
    max_depth: u32,
    budget: &mut Budget,
) -> Result<Vec<ResolvedPathResult>, UspError> {
    let path = parse_path(text)?;
    let (targets, search) = match dm.resolve(who, &path) {
        Ok(targets) => (targets, path.is_search()),
        Err(e) => object_without_dot(dm, who, text, &path).ok_or(e)?,
    };
    // R-GET.1: what a non-search path names and the controller may not read is "not present".
    let hidden = || UspError::invalid_path(super::short(text));
    let mut out = Vec::new();
    for target in targets {
        match target.item {
            Item::Param(param) => {
                if !access.param(dm.schema(), param, &target.numbers).read() {
                    if search {
                        continue;
                    }
                    return Err(hidden());
                }
                let value = dm.read_params(who, target.obj, &target.numbers, &[param]);
                let Some(Ok(value)) = value.into_iter().next() else { continue };
                let name = dm.schema().param(param).name.to_string();
                let result = ResolvedPathResult {
                    resolved_path: target.obj_path(dm),
                    result_params: BTreeMap::from([(name, value.into_text())]),
                };
                budget.charge(result.encoded_len())?;
                out.push(result);
            }
            Item::Object => {
                let own = !target.is_table(dm);
                if own && !search && !access.object(dm.schema(), target.obj, &target.numbers).read()
                {
                    return Err(hidden());
                }
                for w in dm.walk(&target, max_depth) {
                    if dm.schema().obj(w.obj).params.is_empty()
                        || !access.object(dm.schema(), w.obj, &w.numbers).read()
                    {
                        continue;
                    }
                    let values = dm.read_all(who, w.obj, &w.numbers);
                    let schema = dm.schema();
                    let result_params = values
                        .into_iter()
                        .filter(|(p, _)| access.param(schema, *p, &w.numbers).read())
                        .map(|(p, v)| (schema.param(p).name.to_string(), v.into_text()))
                        .collect();
                    let result = ResolvedPathResult {
                        resolved_path: dm.schema().instance_path(w.obj, &w.numbers),
                        result_params,
                    };
                    budget.charge(result.encoded_len())?;
                    out.push(result);
                }
            }
            Item::Command(_) | Item::Event(_) => {
                return Err(UspError::new(
                    ErrorCode::InvalidPath,
                    format!("{text} is a command or event path; Get reads objects and parameters"),
                ));
            }
        }
    }
    Ok(out)
}

/// The objects a "parameter" path names when it is an object path written without its
/// trailing dot (`Device.DeviceInfo`, as TP-469 6.11 and 11.3 send it), and whether that path
/// is a search path; `None` otherwise.
fn object_without_dot(
    dm: &mut DataModel,
    who: &Requester,
    text: &str,
    path: &usp_datamodel::path::Path,
) -> Option<(Vec<usp_datamodel::Target>, bool)> {
    if !matches!(path.tail, usp_datamodel::path::Tail::Param(_)) {
        return None;
    }
    let object = parse_path(&format!("{text}.")).ok()?;
    Some((dm.resolve(who, &object).ok()?, object.is_search()))
}
