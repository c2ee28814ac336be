//! The response bodies as JSON (see the parent module for the layout).

use serde_json::{Value, json};
use usp_proto::msg;

use super::{enum_name, failure, strings, with_oneof};

/// A GetResp.
pub fn get_resp(g: &msg::GetResp) -> Value {
    let results: Vec<Value> = g
        .req_path_results
        .iter()
        .map(|r| {
            let resolved: Vec<Value> = r
                .resolved_path_results
                .iter()
                .map(|p| {
                    let params = strings(&p.result_params);
                    json!({ "resolved_path": p.resolved_path, "result_params": params })
                })
                .collect();
            json!({ "requested_path": r.requested_path, "err_code": r.err_code,
                    "err_msg": r.err_msg, "resolved_path_results": resolved })
        })
        .collect();
    json!({ "req_path_results": results })
}

/// A GetInstancesResp.
pub fn instances_resp(g: &msg::GetInstancesResp) -> Value {
    let results: Vec<Value> = g
        .req_path_results
        .iter()
        .map(|r| {
            let insts: Vec<Value> = r
                .curr_insts
                .iter()
                .map(|i| {
                    let keys = strings(&i.unique_keys);
                    json!({ "instantiated_obj_path": i.instantiated_obj_path, "unique_keys": keys })
                })
                .collect();
            json!({ "requested_path": r.requested_path, "err_code": r.err_code,
                    "err_msg": r.err_msg, "curr_insts": insts })
        })
        .collect();
    json!({ "req_path_results": results })
}

/// A GetSupportedDMResp.
pub fn gsdm_resp(g: &msg::GetSupportedDmResp) -> Value {
    let results: Vec<Value> = g
        .req_obj_results
        .iter()
        .map(|r| {
            let objs: Vec<Value> = r.supported_objs.iter().map(supported_object).collect();
            json!({
                "req_obj_path": r.req_obj_path, "err_code": r.err_code, "err_msg": r.err_msg,
                "data_model_inst_uri": r.data_model_inst_uri, "supported_objs": objs,
            })
        })
        .collect();
    json!({ "req_obj_results": results })
}

fn supported_object(o: &msg::get_supported_dm_resp::SupportedObjectResult) -> Value {
    use msg::get_supported_dm_resp as d;
    let name = |v: i32, known: Option<&'static str>| enum_name(known, v);
    let commands: Vec<Value> = o
        .supported_commands
        .iter()
        .map(|c| {
            let t = d::CmdType::try_from(c.command_type).ok().map(|t| t.as_str_name());
            json!({
                "command_name": c.command_name, "input_arg_names": c.input_arg_names,
                "output_arg_names": c.output_arg_names, "command_type": name(c.command_type, t),
            })
        })
        .collect();
    let events: Vec<Value> = o
        .supported_events
        .iter()
        .map(|e| json!({ "event_name": e.event_name, "arg_names": e.arg_names }))
        .collect();
    let params: Vec<Value> = o
        .supported_params
        .iter()
        .map(|p| {
            let a = d::ParamAccessType::try_from(p.access).ok().map(|a| a.as_str_name());
            let t = d::ParamValueType::try_from(p.value_type).ok().map(|t| t.as_str_name());
            let c = d::ValueChangeType::try_from(p.value_change).ok().map(|c| c.as_str_name());
            json!({
                "param_name": p.param_name, "access": name(p.access, a),
                "value_type": name(p.value_type, t), "value_change": name(p.value_change, c),
            })
        })
        .collect();
    let keys: Vec<Value> =
        o.unique_key_sets.iter().map(|k| json!({ "key_names": k.key_names })).collect();
    let access = d::ObjAccessType::try_from(o.access).ok().map(|a| a.as_str_name());
    json!({
        "supported_obj_path": o.supported_obj_path,
        "access": name(o.access, access),
        "is_multi_instance": o.is_multi_instance,
        "supported_commands": commands,
        "supported_events": events,
        "supported_params": params,
        "divergent_paths": o.divergent_paths,
        "unique_key_sets": keys,
    })
}

/// `{"oper_success": ..}` or `{"oper_failure": ..}` (or `null` without a status).
fn oper_status(status: Option<(&str, Value)>) -> Value {
    with_oneof(json!({}), status)
}

fn param_errs(errs: impl Iterator<Item = (String, u32, String)>) -> Vec<Value> {
    errs.map(
        |(param, code, message)| json!({ "param": param, "err_code": code, "err_msg": message }),
    )
    .collect()
}

/// A SetResp.
pub fn set_resp(s: &msg::SetResp) -> Value {
    use msg::set_resp::updated_object_result::operation_status::OperStatus;
    let errs = |e: &[msg::set_resp::ParameterError]| {
        param_errs(e.iter().map(|e| (e.param.clone(), e.err_code, e.err_msg.clone())))
    };
    let results: Vec<Value> =
        s.updated_obj_results
            .iter()
            .map(|r| {
                let status = r.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()).map(|s| {
                match s {
                    OperStatus::OperSuccess(ok) => ("oper_success", json!({
                        "updated_inst_results": ok.updated_inst_results.iter().map(|i| json!({
                            "affected_path": i.affected_path,
                            "updated_params": strings(&i.updated_params),
                            "param_errs": errs(&i.param_errs),
                        })).collect::<Vec<_>>(),
                    })),
                    OperStatus::OperFailure(f) => ("oper_failure", json!({
                        "err_code": f.err_code, "err_msg": f.err_msg,
                        "updated_inst_failures": f.updated_inst_failures.iter().map(|i| json!({
                            "affected_path": i.affected_path, "param_errs": errs(&i.param_errs),
                        })).collect::<Vec<_>>(),
                    })),
                }
            });
                json!({ "requested_path": r.requested_path, "oper_status": oper_status(status) })
            })
            .collect();
    json!({ "updated_obj_results": results })
}

/// An AddResp.
pub fn add_resp(a: &msg::AddResp) -> Value {
    use msg::add_resp::created_object_result::operation_status::OperStatus;
    let results: Vec<Value> = a
        .created_obj_results
        .iter()
        .map(|r| {
            let status =
                r.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()).map(|s| match s {
                    OperStatus::OperSuccess(ok) => (
                        "oper_success",
                        json!({
                            "instantiated_path": ok.instantiated_path,
                            "param_errs": param_errs(ok.param_errs.iter()
                                .map(|e| (e.param.clone(), e.err_code, e.err_msg.clone()))),
                            "unique_keys": strings(&ok.unique_keys),
                        }),
                    ),
                    OperStatus::OperFailure(f) => ("oper_failure", failure(f.err_code, &f.err_msg)),
                });
            json!({ "requested_path": r.requested_path, "oper_status": oper_status(status) })
        })
        .collect();
    json!({ "created_obj_results": results })
}

/// A DeleteResp.
pub fn delete_resp(d: &msg::DeleteResp) -> Value {
    use msg::delete_resp::deleted_object_result::operation_status::OperStatus;
    let results: Vec<Value> =
        d.deleted_obj_results
            .iter()
            .map(|r| {
                let status = r.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()).map(|s| {
                match s {
                    OperStatus::OperSuccess(ok) => ("oper_success", json!({
                        "affected_paths": ok.affected_paths,
                        "unaffected_path_errs": ok.unaffected_path_errs.iter().map(|e| json!({
                            "err_code": e.err_code, "err_msg": e.err_msg,
                            "unaffected_path": e.unaffected_path,
                        })).collect::<Vec<_>>(),
                    })),
                    OperStatus::OperFailure(f) => ("oper_failure", failure(f.err_code, &f.err_msg)),
                }
            });
                json!({ "requested_path": r.requested_path, "oper_status": oper_status(status) })
            })
            .collect();
    json!({ "deleted_obj_results": results })
}

/// An OperateResp (each result's outcome flattened in).
pub fn operate_resp(o: &msg::OperateResp) -> Value {
    use msg::operate_resp::operation_result::OperationResp as R;
    let results: Vec<Value> = o
        .operation_results
        .iter()
        .map(|r| {
            let resp = r.operation_resp.as_ref().map(|x| match x {
                R::ReqObjPath(p) => ("req_obj_path", json!(p)),
                R::ReqOutputArgs(a) => {
                    ("req_output_args", json!({ "output_args": strings(&a.output_args) }))
                }
                R::CmdFailure(f) => ("cmd_failure", failure(f.err_code, &f.err_msg)),
            });
            with_oneof(json!({ "executed_command": r.executed_command }), resp)
        })
        .collect();
    json!({ "operation_results": results })
}

pub(super) fn register_resp(r: &msg::RegisterResp) -> Value {
    use msg::register_resp::registered_path_result::operation_status::OperStatus;
    let results: Vec<Value> = r
        .registered_path_results
        .iter()
        .map(|p| {
            let status =
                p.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()).map(|s| match s {
                    OperStatus::OperSuccess(ok) => {
                        ("oper_success", json!({ "registered_path": ok.registered_path }))
                    }
                    OperStatus::OperFailure(f) => ("oper_failure", failure(f.err_code, &f.err_msg)),
                });
            json!({ "oper_status": oper_status(status), "requested_path": p.requested_path })
        })
        .collect();
    json!({ "registered_path_results": results })
}

pub(super) fn deregister_resp(d: &msg::DeregisterResp) -> Value {
    use msg::deregister_resp::deregistered_path_result::operation_status::OperStatus;
    let results: Vec<Value> = d
        .deregistered_path_results
        .iter()
        .map(|p| {
            let status =
                p.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()).map(|s| match s {
                    OperStatus::OperSuccess(ok) => {
                        ("oper_success", json!({ "deregistered_path": ok.deregistered_path }))
                    }
                    OperStatus::OperFailure(f) => ("oper_failure", failure(f.err_code, &f.err_msg)),
                });
            json!({ "requested_path": p.requested_path, "oper_status": oper_status(status) })
        })
        .collect();
    json!({ "deregistered_path_results": results })
}
