//! TP-469 (the Broadband Forum's conformance test plan for USP agents, release 1.4.0) replayed
//! against the agent's **built-in** data model: each test follows the procedure of the test
//! case it is named after (the same messages, on `Device.LocalAgent.Subscription.`,
//! `Controller.{i}.BootParameter.` and the other tables the plan uses) and checks its metrics.
//! The other test modules cover the same behaviours on the small test model.
//!
//! One file per part of section 1 (`add`, `set`, `delete`, `get`, `notify`, `discovery` for
//! GetInstances / GetSupportedDM / GetSupportedProtocol, `operate`), `records` for sections
//! 2 and 3, and `access` for the Roles and Permissions of section 2. The helpers below build the
//! plan's messages and take the answers apart.

use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
use usp_proto::msg::delete_resp::deleted_object_result::operation_status::OperStatus as DelStatus;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;
use usp_proto::msg::{self, add as add_msg, set as set_msg};

use super::harness::*;

mod access;
mod add;
mod challenge;
mod delete;
mod discovery;
mod get;
mod notify;
mod operate;
mod records;
mod secured;
mod sessions;
mod set;
mod targets;
mod untrusted;

/// The Subscription table the plan writes to.
pub const SUBS: &str = "Device.LocalAgent.Subscription.";
/// The test controller's row ([`CTRL`] is `Controller.1` in [`Harness::builtin`]).
pub const CTRL_ROW: &str = "Device.LocalAgent.Controller.1.";

/// One parameter setting: name, value, `required`.
pub type Setting<'a> = (&'a str, &'a str, bool);

/// An Add request.
pub fn add_req(allow_partial: bool, objs: &[(&str, &[Setting])]) -> ReqType {
    let create_objs = objs
        .iter()
        .map(|(path, settings)| add_msg::CreateObject {
            obj_path: (*path).into(),
            param_settings: settings
                .iter()
                .map(|(p, v, r)| add_msg::CreateParamSetting {
                    param: (*p).into(),
                    value: (*v).into(),
                    required: *r,
                })
                .collect(),
        })
        .collect();
    ReqType::Add(msg::Add { allow_partial, create_objs })
}

/// A Set request.
pub fn set_req(allow_partial: bool, objs: &[(&str, &[Setting])]) -> ReqType {
    let update_objs = objs
        .iter()
        .map(|(path, settings)| set_msg::UpdateObject {
            obj_path: (*path).into(),
            param_settings: settings
                .iter()
                .map(|(p, v, r)| set_msg::UpdateParamSetting {
                    param: (*p).into(),
                    value: (*v).into(),
                    required: *r,
                })
                .collect(),
        })
        .collect();
    ReqType::Set(msg::Set { allow_partial, update_objs })
}

/// A Delete request.
pub fn del_req(allow_partial: bool, paths: &[&str]) -> ReqType {
    ReqType::Delete(msg::Delete {
        allow_partial,
        obj_paths: paths.iter().map(|p| (*p).into()).collect(),
    })
}

/// The (requested path, status) pairs of an AddResp.
pub fn add_results(h: &mut Harness, req: ReqType) -> Vec<(String, AddStatus)> {
    let RespType::AddResp(r) = h.response(req) else { panic!("not an AddResp") };
    r.created_obj_results
        .into_iter()
        .map(|o| (o.requested_path, o.oper_status.unwrap().oper_status.unwrap()))
        .collect()
}

/// The (requested path, status) pairs of a SetResp.
pub fn set_results(h: &mut Harness, req: ReqType) -> Vec<(String, SetStatus)> {
    let RespType::SetResp(r) = h.response(req) else { panic!("not a SetResp") };
    r.updated_obj_results
        .into_iter()
        .map(|o| (o.requested_path, o.oper_status.unwrap().oper_status.unwrap()))
        .collect()
}

/// The (requested path, status) pairs of a DeleteResp.
pub fn del_results(h: &mut Harness, req: ReqType) -> Vec<(String, DelStatus)> {
    let RespType::DeleteResp(r) = h.response(req) else { panic!("not a DeleteResp") };
    r.deleted_obj_results
        .into_iter()
        .map(|o| (o.requested_path, o.oper_status.unwrap().oper_status.unwrap()))
        .collect()
}

/// Adds an enabled ValueChange subscription on `Device.LocalAgent.SoftwareVersion` with the ID
/// `id` and the `extra` settings; returns its instance path.
pub fn new_subscription(h: &mut Harness, id: &str, extra: &[Setting]) -> String {
    let mut settings: Vec<Setting> = vec![
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", true),
    ];
    settings.extend_from_slice(extra);
    let mut r = add_results(h, add_req(false, &[(SUBS, &settings)]));
    let AddStatus::OperSuccess(ok) = r.remove(0).1 else { panic!("subscription refused") };
    ok.instantiated_path
}

/// The instance paths of the Subscription table.
pub fn subscriptions(h: &mut Harness) -> Vec<String> {
    h.rows(SUBS)
}

/// The value of `param` in the row `row` (`...Subscription.3.`).
pub fn value_of(h: &mut Harness, row: &str, param: &str) -> Option<String> {
    h.value(&format!("{row}{param}"))
}
