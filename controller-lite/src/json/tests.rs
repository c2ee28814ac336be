//! Our JSON equals rusp-lib's serde serialisation of the same bytes, for every Msg kind and
//! every Record kind rusp-lib can serialise; plus what we write where rusp-lib refuses.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};
use usp_proto::msg::{self as m, Msg, request::ReqType as Q, response::RespType as A};
use usp_proto::record::{self as r, Record, record::RecordType};

use super::*;

fn kv(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn strs(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|x| (*x).to_owned()).collect()
}

fn theirs(bytes: &[u8]) -> Value {
    let record = rusp_lib::usp_decoder::try_decode_record(bytes).unwrap();
    serde_json::to_value(&record).unwrap()
}

/// Ours and rusp-lib's JSON of `msg` inside a NoSessionContext Record.
fn check(msg: &Msg) {
    let record = Record::no_session_context_msg("1.4", "os::agent", "self::ctl", msg);
    let bytes = record.to_bytes();
    assert_eq!(super::record(&Record::from_bytes(&bytes).unwrap()), theirs(&bytes), "{msg:#?}");
}

fn requests() -> Vec<Q> {
    use m::notify::Notification as N;
    use m::notify::operation_complete::OperationResp as Done;
    let notify = |n: N| {
        Q::Notify(m::Notify { subscription_id: "s".into(), send_resp: true, notification: Some(n) })
    };
    let complete = |resp| {
        N::OperComplete(m::notify::OperationComplete {
            obj_path: "Device.".into(),
            command_name: "Timer()".into(),
            command_key: "k".into(),
            operation_resp: Some(resp),
        })
    };
    vec![
        Q::Get(m::Get { param_paths: strs(&["Device.", "Device.X."]), max_depth: 3 }),
        Q::GetSupportedDm(m::GetSupportedDm {
            obj_paths: strs(&["Device."]),
            first_level_only: true,
            return_commands: true,
            return_events: false,
            return_params: true,
            return_unique_key_sets: true,
        }),
        Q::GetInstances(m::GetInstances {
            obj_paths: strs(&["Device.X."]),
            first_level_only: true,
        }),
        Q::Set(m::Set {
            allow_partial: true,
            update_objs: vec![m::set::UpdateObject {
                obj_path: "Device.X.1.".into(),
                param_settings: vec![m::set::UpdateParamSetting {
                    param: "A".into(),
                    value: "1".into(),
                    required: true,
                }],
            }],
        }),
        Q::Add(m::Add {
            allow_partial: false,
            create_objs: vec![m::add::CreateObject {
                obj_path: "Device.X.".into(),
                param_settings: vec![m::add::CreateParamSetting {
                    param: "A".into(),
                    value: "v".into(),
                    required: false,
                }],
            }],
        }),
        Q::Delete(m::Delete { allow_partial: true, obj_paths: strs(&["Device.X.1."]) }),
        Q::Operate(m::Operate {
            command: "Device.Reboot()".into(),
            command_key: "k".into(),
            send_resp: true,
            input_args: kv(&[("Cause", "x"), ("Reason", "y")]),
        }),
        Q::GetSupportedProtocol(m::GetSupportedProtocol {
            controller_supported_protocol_versions: "1.3,1.4".into(),
        }),
        Q::Register(m::Register {
            allow_partial: true,
            reg_paths: vec![m::register::RegistrationPath { path: "Device.X.".into() }],
        }),
        Q::Deregister(m::Deregister { paths: strs(&["Device.X."]) }),
        notify(N::Event(m::notify::Event {
            obj_path: "Device.".into(),
            event_name: "Boot!".into(),
            params: kv(&[("Cause", "LocalReboot")]),
        })),
        notify(N::ValueChange(m::notify::ValueChange {
            param_path: "Device.X.A".into(),
            param_value: "2".into(),
        })),
        notify(N::ObjCreation(m::notify::ObjectCreation {
            obj_path: "Device.X.2.".into(),
            unique_keys: kv(&[("Alias", "cpe-2")]),
        })),
        notify(N::ObjDeletion(m::notify::ObjectDeletion { obj_path: "Device.X.2.".into() })),
        notify(complete(Done::ReqOutputArgs(m::notify::operation_complete::OutputArgs {
            output_args: kv(&[("R", "ok")]),
        }))),
        notify(complete(Done::CmdFailure(m::notify::operation_complete::CommandFailure {
            err_code: 7022,
            err_msg: "failed".into(),
        }))),
        notify(N::OnBoardReq(m::notify::OnBoardRequest {
            oui: "012345".into(),
            product_class: "P".into(),
            serial_number: "S".into(),
            agent_supported_protocol_versions: "1.4".into(),
        })),
    ]
}

#[test]
fn every_request_kind_matches_rusp() {
    for (i, q) in requests().into_iter().enumerate() {
        check(&Msg::request(format!("q-{i}"), q));
    }
}

fn responses() -> Vec<A> {
    use m::add_resp::created_object_result::{OperationStatus as AddSt, operation_status as add};
    use m::delete_resp::deleted_object_result::{
        OperationStatus as DelSt, operation_status as del,
    };
    use m::operate_resp::operation_result::{self as op, OperationResp as Op};
    use m::set_resp::updated_object_result::{OperationStatus as SetSt, operation_status as set};
    let get = m::get_resp::RequestedPathResult {
        requested_path: "Device.X.".into(),
        err_code: 0,
        err_msg: String::new(),
        resolved_path_results: vec![m::get_resp::ResolvedPathResult {
            resolved_path: "Device.X.1.".into(),
            result_params: kv(&[("A", "1"), ("B", "")]),
        }],
    };
    let get_err = m::get_resp::RequestedPathResult {
        requested_path: "Device.Nope.".into(),
        err_code: 7026,
        err_msg: "Invalid path".into(),
        resolved_path_results: vec![],
    };
    let perr = |p: &str| m::set_resp::ParameterError {
        param: p.into(),
        err_code: 7012,
        err_msg: "no".into(),
    };
    let set_ok = set::OperStatus::OperSuccess(set::OperationSuccess {
        updated_inst_results: vec![m::set_resp::UpdatedInstanceResult {
            affected_path: "Device.X.1.".into(),
            param_errs: vec![perr("B")],
            updated_params: kv(&[("A", "2")]),
        }],
    });
    let set_fail = set::OperStatus::OperFailure(set::OperationFailure {
        err_code: 7021,
        err_msg: "bad".into(),
        updated_inst_failures: vec![m::set_resp::UpdatedInstanceFailure {
            affected_path: "Device.X.2.".into(),
            param_errs: vec![perr("C")],
        }],
    });
    let set_result = |s| m::set_resp::UpdatedObjectResult {
        requested_path: "Device.X.*.".into(),
        oper_status: Some(SetSt { oper_status: Some(s) }),
    };
    let add_ok = add::OperStatus::OperSuccess(add::OperationSuccess {
        instantiated_path: "Device.X.3.".into(),
        param_errs: vec![m::add_resp::ParameterError {
            param: "Z".into(),
            err_code: 7010,
            err_msg: "z".into(),
        }],
        unique_keys: kv(&[("Alias", "cpe-3")]),
    });
    let add_fail = add::OperStatus::OperFailure(add::OperationFailure {
        err_code: 7018,
        err_msg: "no add".into(),
    });
    let add_result = |s| m::add_resp::CreatedObjectResult {
        requested_path: "Device.X.".into(),
        oper_status: Some(AddSt { oper_status: Some(s) }),
    };
    let del_ok = del::OperStatus::OperSuccess(del::OperationSuccess {
        affected_paths: strs(&["Device.X.1."]),
        unaffected_path_errs: vec![m::delete_resp::UnaffectedPathError {
            unaffected_path: "Device.X.2.".into(),
            err_code: 7015,
            err_msg: "locked".into(),
        }],
    });
    let del_fail =
        del::OperStatus::OperFailure(del::OperationFailure { err_code: 7016, err_msg: "?".into() });
    let del_result = |s| m::delete_resp::DeletedObjectResult {
        requested_path: "Device.X.*.".into(),
        oper_status: Some(DelSt { oper_status: Some(s) }),
    };
    let op = |c: &str, r| m::operate_resp::OperationResult {
        executed_command: c.into(),
        operation_resp: Some(r),
    };
    vec![
        A::GetResp(m::GetResp { req_path_results: vec![get, get_err] }),
        A::SetResp(m::SetResp {
            updated_obj_results: vec![set_result(set_ok), set_result(set_fail)],
        }),
        A::AddResp(m::AddResp {
            created_obj_results: vec![add_result(add_ok), add_result(add_fail)],
        }),
        A::DeleteResp(m::DeleteResp {
            deleted_obj_results: vec![del_result(del_ok), del_result(del_fail)],
        }),
        A::OperateResp(m::OperateResp {
            operation_results: vec![
                op("Device.A()", Op::ReqObjPath("Device.LocalAgent.Request.1.".into())),
                op(
                    "Device.B()",
                    Op::ReqOutputArgs(op::OutputArgs { output_args: kv(&[("O", "1")]) }),
                ),
                op(
                    "Device.C()",
                    Op::CmdFailure(op::CommandFailure { err_code: 7022, err_msg: "x".into() }),
                ),
            ],
        }),
        A::NotifyResp(m::NotifyResp { subscription_id: "s".into() }),
        A::GetSupportedProtocolResp(m::GetSupportedProtocolResp {
            agent_supported_protocol_versions: "1.0,1.4".into(),
        }),
        A::GetInstancesResp(m::GetInstancesResp {
            req_path_results: vec![m::get_instances_resp::RequestedPathResult {
                requested_path: "Device.X.".into(),
                err_code: 0,
                err_msg: String::new(),
                curr_insts: vec![m::get_instances_resp::CurrInstance {
                    instantiated_obj_path: "Device.X.1.".into(),
                    unique_keys: kv(&[("Alias", "cpe-1"), ("Name", "a")]),
                }],
            }],
        }),
        A::GetSupportedDmResp(gsdm()),
    ]
}

fn gsdm() -> m::GetSupportedDmResp {
    use m::get_supported_dm_resp as d;
    m::GetSupportedDmResp {
        req_obj_results: vec![d::RequestedObjectResult {
            req_obj_path: "Device.".into(),
            err_code: 0,
            err_msg: String::new(),
            data_model_inst_uri: "urn:x".into(),
            supported_objs: vec![d::SupportedObjectResult {
                supported_obj_path: "Device.X.{i}.".into(),
                access: d::ObjAccessType::ObjAddDelete.into(),
                is_multi_instance: true,
                supported_commands: vec![d::SupportedCommandResult {
                    command_name: "Run()".into(),
                    input_arg_names: strs(&["Delay"]),
                    output_arg_names: strs(&["Elapsed"]),
                    command_type: d::CmdType::CmdAsync.into(),
                }],
                supported_events: vec![d::SupportedEventResult {
                    event_name: "Ping!".into(),
                    arg_names: strs(&["Count"]),
                }],
                supported_params: vec![d::SupportedParamResult {
                    param_name: "Name".into(),
                    access: d::ParamAccessType::ParamReadWrite.into(),
                    value_type: d::ParamValueType::ParamBase64.into(),
                    value_change: d::ValueChangeType::ValueChangeWillIgnore.into(),
                }],
                divergent_paths: strs(&["Device.X.1."]),
                unique_key_sets: vec![d::SupportedUniqueKeySet { key_names: strs(&["Name"]) }],
            }],
        }],
    }
}

#[test]
fn every_response_kind_and_errors_match_rusp() {
    for (i, a) in responses().into_iter().enumerate() {
        check(&Msg::response(format!("a-{i}"), a));
    }
    let error = m::Error {
        err_code: 7004,
        err_msg: "Invalid arguments".into(),
        param_errs: vec![m::error::ParamError {
            param_path: "Device.X.A".into(),
            err_code: 7012,
            err_msg: "ro".into(),
        }],
    };
    check(&Msg::error("e-1", error));
}

#[test]
fn other_record_kinds_match_rusp() {
    let base = Record {
        version: "1.3".into(),
        to_id: "a".into(),
        from_id: "b".into(),
        payload_security: 1,
        mac_signature: vec![1, 2],
        sender_cert: vec![3],
        record_type: None,
    };
    let kinds = [
        RecordType::WebsocketConnect(r::WebSocketConnectRecord {}),
        RecordType::MqttConnect(r::MqttConnectRecord { version: 1, subscribed_topic: "t".into() }),
        RecordType::StompConnect(r::StompConnectRecord {
            version: 0,
            subscribed_destination: "d".into(),
        }),
        RecordType::Disconnect(r::DisconnectRecord { reason: "bye".into(), reason_code: 7100 }),
        RecordType::SessionContext(r::SessionContextRecord {
            session_id: 1,
            sequence_id: 2,
            expected_id: 3,
            retransmit_id: 4,
            payload_sar_state: 1,
            payloadrec_sar_state: 3,
            payload: vec![vec![9, 8]],
        }),
    ];
    for kind in kinds {
        let record = Record { record_type: Some(kind), ..base.clone() };
        assert_eq!(super::record(&record), theirs(&record.to_bytes()), "{record:#?}");
    }
}

#[test]
fn what_rusp_refuses_is_still_written() {
    let record = Record::no_session_context("1.4", "a", "b", vec![0xff, 0xff]);
    let v = super::record(&record);
    assert!(v["payload_error"].as_str().unwrap().contains("not a valid USP Msg"), "{v}");
    let uds =
        Record { record_type: Some(RecordType::UdsConnect(r::UdsConnectRecord {})), ..record };
    assert_eq!(super::record(&uds)["uds_connect"], Value::Null);
    assert!(super::record(&uds).as_object().unwrap().contains_key("uds_connect"));
    let no_body = Msg { header: None, body: None };
    assert_eq!(super::msg(&no_body), json!({ "Header": null, "Body": null }));
    let empty_notify =
        m::Notify { subscription_id: "s".into(), send_resp: false, notification: None };
    assert_eq!(notify(&empty_notify), json!({ "subscription_id": "s", "send_resp": false }));
}
