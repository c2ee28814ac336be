//! Delete (TR-369 "The Delete Message").
//!
//! - `allow_partial=false`: one transaction; any failed `obj_path` aborts it and the answer is
//!   an Error whose `param_errs` names the failed path (TP-469 1.26). `allow_partial=true`: one
//!   transaction per `obj_path`.
//! - A path that is valid but resolves to nothing — a search path matching nothing (R-DEL.2a,
//!   TP-469 1.90) **or an instance number that does not exist** (TP-469 1.25/1.29: "an empty
//!   oper_success") — succeeds with empty lists. USP 1.4.1's R-DEL.1 rewording lists "an
//!   Object Instance that does not exist" among Error conditions for `allow_partial=false`;
//!   the current test plan (TP-469 1.4.0, 1.25) still expects success, and that is followed.
//! - A path outside the supported model: 7026 (TP-469 1.26/1.30); a table path or a parameter
//!   path: 7026 (Delete takes object instance paths); a single-instance object: 7018; a row of
//!   a table controllers may not delete from: 7024.
//! - A search path is handled per instance: rows that cannot be deleted are reported in
//!   `unaffected_path_errs` (R-DEL.3) and the others deleted; with `allow_partial=false` any
//!   such row fails the message. For a non-search path the single row's failure is the
//!   `obj_path`'s failure.
//! - `affected_paths` lists each deleted row (the rows below it go with it).
//! - Access control: a row without `InstantiatedObj` write fails like a non-deletable one,
//!   with 7006 (R-DEL.1; TP-469 2.14). Rows whose instance the controller may not read
//!   (`InstantiatedObj` read) are left out of `affected_paths` and `unaffected_path_errs`
//!   (R-DEL.2, R-DEL.4).

use usp_datamodel::access::Access;
use usp_datamodel::plugin::Requester;
use usp_datamodel::{DataModel, ErrorCode, Item, UspError};
use usp_proto::msg::delete_resp::deleted_object_result::OperationStatus;
use usp_proto::msg::delete_resp::deleted_object_result::operation_status::{
    OperStatus, OperationFailure, OperationSuccess,
};
use usp_proto::msg::delete_resp::{DeletedObjectResult, UnaffectedPathError};
use usp_proto::msg::{self, Delete, DeleteResp};

use super::set::ObjFailure;
use super::{parse_obj_path, parse_path};

/// Answers a Delete with the rights of `access`; `Err` is the Error message of a failed
/// `allow_partial=false` request.
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &Delete,
) -> Result<DeleteResp, msg::Error> {
    let mut results = Vec::with_capacity(req.obj_paths.len());
    if !req.allow_partial {
        dm.begin(who.clone());
    }
    for text in &req.obj_paths {
        if req.allow_partial {
            dm.begin(who.clone());
        }
        let status = match delete(dm, (who, access), text, req.allow_partial) {
            Ok(success) => {
                if req.allow_partial {
                    dm.commit();
                }
                OperStatus::OperSuccess(success)
            }
            Err(failure) => {
                dm.abort();
                if !req.allow_partial {
                    return Err(failure.into_error(text));
                }
                OperStatus::OperFailure(OperationFailure {
                    err_code: failure.err.code.code(),
                    err_msg: failure.err.msg,
                })
            }
        };
        results.push(DeletedObjectResult {
            requested_path: text.clone(),
            oper_status: Some(OperationStatus { oper_status: Some(status) }),
        });
    }
    if !req.allow_partial {
        dm.commit();
    }
    Ok(DeleteResp { deleted_obj_results: results })
}

fn delete(
    dm: &mut DataModel,
    (who, access): (&Requester, &Access),
    text: &str,
    allow_partial: bool,
) -> Result<OperationSuccess, ObjFailure> {
    let path = parse_obj_path(text).map_err(ObjFailure::plain)?;
    let search = path.is_search();
    let targets = match dm.resolve(who, &path) {
        Ok(t) => t,
        Err(e) if e.code == ErrorCode::ObjectDoesNotExist => Vec::new(),
        Err(e) => return Err(ObjFailure::plain(e)),
    };
    let mut success = OperationSuccess::default();
    for target in targets {
        let inst_path = target.obj_path(dm);
        if target.item != Item::Object || target.is_table(dm) {
            return Err(ObjFailure::plain(UspError::new(
                ErrorCode::InvalidPath,
                format!("{} is not an object instance path", super::short(text)),
            )));
        }
        if !dm.schema().obj(target.obj).multi {
            return Err(ObjFailure::plain(UspError::new(
                ErrorCode::NotATable,
                format!("{inst_path} is not a table row"),
            )));
        }
        // A row already deleted with its parent earlier in this message is gone: skip it.
        let Ok(again) = parse_path(&inst_path).and_then(|p| dm.resolve(who, &p)) else {
            continue;
        };
        if again.is_empty() {
            continue;
        }
        let schema = dm.schema();
        let rights = access.instance(schema, target.obj, &target.numbers);
        let visible = rights.read();
        let result = if rights.write() {
            dm.delete_row(target.obj, &target.numbers)
        } else {
            Err(UspError::new(
                ErrorCode::PermissionDenied,
                format!("this controller may not delete {inst_path}"),
            ))
        };
        match result {
            Ok(()) if visible => success.affected_paths.push(inst_path),
            Ok(()) => {}
            Err(e) if search && allow_partial => {
                if visible {
                    success.unaffected_path_errs.push(UnaffectedPathError {
                        unaffected_path: inst_path,
                        err_code: e.code.code(),
                        err_msg: e.msg,
                    });
                }
            }
            Err(e) => return Err(ObjFailure::plain(e)),
        }
    }
    Ok(success)
}
