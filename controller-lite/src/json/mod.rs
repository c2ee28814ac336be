//! USP Records and Messages as JSON (`uspctl --json`, `uspctl decode --json`), in the layout of
//! rusp-lib's serde serialisation, so that scripts written against `rusp` read ours:
//! - the `.proto` field names (`req_path_results`, `err_code`), every field present, enums by
//!   their `.proto` names (`GET_RESP`, `PARAM_READ_WRITE`, `V5`), maps as objects, `bytes` as
//!   arrays of numbers;
//! - a Msg is `{"Header": {...}, "Body": {"Request": {"Get": {...}}}}` (the kinds in their
//!   `.proto` message names); a Record's NoSessionContext payload is decoded in `payload`;
//! - the other oneofs are flattened into their parent (`{"subscription_id": .., "send_resp":
//!   .., "value_change": {...}}`), except the `oper_status` of results, which is an object
//!   holding `oper_success` or `oper_failure`.
//!
//! Where rusp-lib refuses to serialise (a payload that is not a Msg, a missing oneof, a
//! UDSConnect Record), we still write what there is: `payload_error`, a missing key,
//! `uds_connect: null`. The cross-check lives in `tests.rs`. Owns the conversion only; never
//! prints.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

mod resp;
pub use resp::{
    add_resp, delete_resp, get_resp, gsdm_resp, instances_resp, operate_resp, set_resp,
};
use resp::{deregister_resp, register_resp};
use usp_proto::msg::{self, Msg, body::MsgBody, request::ReqType, response::RespType};
use usp_proto::record::{Record, record::RecordType};

fn strings(m: &BTreeMap<String, String>) -> Value {
    json!(m)
}

fn failure(code: u32, message: &str) -> Value {
    json!({ "err_code": code, "err_msg": message })
}

/// An object from `fields`, with the flattened oneof `(name, value)` added when present.
fn with_oneof(mut fields: Value, oneof: Option<(&str, Value)>) -> Value {
    if let (Value::Object(map), Some((name, value))) = (&mut fields, oneof) {
        map.insert(name.to_owned(), value);
    }
    fields
}

/// An enum value by its `.proto` name, or its number when this schema does not know it.
fn enum_name(name: Option<&'static str>, number: i32) -> Value {
    name.map_or_else(|| json!(number), Value::from)
}

/// A Record; a NoSessionContext payload is decoded into `payload`.
pub fn record(r: &Record) -> Value {
    use usp_proto::record::mqtt_connect_record::MqttVersion;
    use usp_proto::record::session_context_record::PayloadSarState;
    use usp_proto::record::stomp_connect_record::StompVersion;
    let security = r.known_payload_security().map(|s| s.as_str_name());
    let mut out = json!({
        "version": r.version,
        "to_id": r.to_id,
        "from_id": r.from_id,
        "payload_security": enum_name(security, r.payload_security),
        "mac_signature": r.mac_signature,
        "sender_cert": r.sender_cert,
    });
    let sar = |v: i32| enum_name(PayloadSarState::try_from(v).ok().map(|s| s.as_str_name()), v);
    let kind = match &r.record_type {
        Some(RecordType::NoSessionContext(_)) => match r.decode_no_session_context_msg() {
            Ok(m) => Some(("payload", msg(&m))),
            Err(e) => Some(("payload_error", json!(e.to_string()))),
        },
        Some(RecordType::SessionContext(c)) => Some((
            "session_context",
            json!({
                "session_id": c.session_id,
                "sequence_id": c.sequence_id,
                "expected_id": c.expected_id,
                "retransmit_id": c.retransmit_id,
                "payload_sar_state": sar(c.payload_sar_state),
                "payloadrec_sar_state": sar(c.payloadrec_sar_state),
                "payload": c.payload,
            }),
        )),
        Some(RecordType::WebsocketConnect(_)) => Some(("websocket_connect", Value::Null)),
        Some(RecordType::MqttConnect(c)) => {
            let v = MqttVersion::try_from(c.version).ok().map(|v| v.as_str_name());
            let version = enum_name(v, c.version);
            let topic = &c.subscribed_topic;
            Some(("mqtt_connect", json!({ "version": version, "subscribed_topic": topic })))
        }
        Some(RecordType::StompConnect(c)) => {
            let v = StompVersion::try_from(c.version).ok().map(|v| v.as_str_name());
            let version = enum_name(v, c.version);
            let dest = &c.subscribed_destination;
            Some(("stomp_connect", json!({ "version": version, "subscribed_destination": dest })))
        }
        Some(RecordType::UdsConnect(_)) => Some(("uds_connect", Value::Null)),
        Some(RecordType::Disconnect(d)) => {
            Some(("disconnect", json!({ "reason": d.reason, "reason_code": d.reason_code })))
        }
        None => None,
    };
    out = with_oneof(out, kind);
    out
}

/// A Msg: `{"Header": .., "Body": ..}`.
pub fn msg(m: &Msg) -> Value {
    let header = m.header.as_ref().map(|h| {
        let t = h.known_msg_type().map(|t| t.as_str_name());
        json!({ "msg_id": h.msg_id, "msg_type": enum_name(t, h.msg_type) })
    });
    let body = m.body.as_ref().map(|b| match &b.msg_body {
        Some(MsgBody::Request(r)) => {
            json!({ "Request": r.req_type.as_ref().map_or(Value::Null, request) })
        }
        Some(MsgBody::Response(r)) => {
            json!({ "Response": r.resp_type.as_ref().map_or(Value::Null, response) })
        }
        Some(MsgBody::Error(e)) => json!({ "Error": error(e) }),
        None => json!({}),
    });
    json!({ "Header": header, "Body": body })
}

/// An Error message.
pub fn error(e: &msg::Error) -> Value {
    let params: Vec<Value> = e
        .param_errs
        .iter()
        .map(
            |p| json!({ "param_path": p.param_path, "err_code": p.err_code, "err_msg": p.err_msg }),
        )
        .collect();
    json!({ "err_code": e.err_code, "err_msg": e.err_msg, "param_errs": params })
}

fn settings<'a>(it: impl Iterator<Item = (&'a str, &'a str, bool)>) -> Vec<Value> {
    it.map(
        |(param, value, required)| json!({ "param": param, "value": value, "required": required }),
    )
    .collect()
}

/// A request, keyed by its kind (`{"Get": {...}}`).
pub fn request(r: &ReqType) -> Value {
    let (kind, body) = match r {
        ReqType::Get(g) => {
            ("Get", json!({ "param_paths": g.param_paths, "max_depth": g.max_depth }))
        }
        ReqType::GetSupportedDm(g) => (
            "GetSupportedDM",
            json!({
                "first_level_only": g.first_level_only,
                "return_commands": g.return_commands,
                "return_events": g.return_events,
                "return_params": g.return_params,
                "obj_paths": g.obj_paths,
                "return_unique_key_sets": g.return_unique_key_sets,
            }),
        ),
        ReqType::GetInstances(g) => (
            "GetInstances",
            json!({
                "first_level_only": g.first_level_only, "obj_paths": g.obj_paths,
            }),
        ),
        ReqType::Set(s) => (
            "Set",
            json!({
                "allow_partial": s.allow_partial,
                "update_objs": s.update_objs.iter().map(|o| json!({
                    "obj_path": o.obj_path,
                    "param_settings": settings(o.param_settings.iter()
                        .map(|p| (p.param.as_str(), p.value.as_str(), p.required))),
                })).collect::<Vec<_>>(),
            }),
        ),
        ReqType::Add(a) => (
            "Add",
            json!({
                "allow_partial": a.allow_partial,
                "create_objs": a.create_objs.iter().map(|o| json!({
                    "obj_path": o.obj_path,
                    "param_settings": settings(o.param_settings.iter()
                        .map(|p| (p.param.as_str(), p.value.as_str(), p.required))),
                })).collect::<Vec<_>>(),
            }),
        ),
        ReqType::Delete(d) => (
            "Delete",
            json!({
                "allow_partial": d.allow_partial, "obj_paths": d.obj_paths,
            }),
        ),
        ReqType::Operate(o) => (
            "Operate",
            json!({
                "command": o.command,
                "command_key": o.command_key,
                "send_resp": o.send_resp,
                "input_args": strings(&o.input_args),
            }),
        ),
        ReqType::Notify(n) => ("Notify", notify(n)),
        ReqType::GetSupportedProtocol(p) => (
            "GetSupportedProtocol",
            json!({
                "controller_supported_protocol_versions": p.controller_supported_protocol_versions,
            }),
        ),
        ReqType::Register(r) => (
            "Register",
            json!({
                "reg_paths": r.reg_paths.iter().map(|p| json!({ "path": p.path })).collect::<Vec<_>>(),
                "allow_partial": r.allow_partial,
            }),
        ),
        ReqType::Deregister(d) => ("Deregister", json!({ "paths": d.paths })),
    };
    let mut map = Map::new();
    map.insert(kind.to_owned(), body);
    Value::Object(map)
}

/// A Notify (its notification flattened in).
pub fn notify(n: &msg::Notify) -> Value {
    use msg::notify::Notification as N;
    use msg::notify::operation_complete::OperationResp as Done;
    let kind = n.notification.as_ref().map(|k| match k {
        N::Event(e) => (
            "event",
            json!({
                "obj_path": e.obj_path, "event_name": e.event_name, "params": strings(&e.params),
            }),
        ),
        N::ValueChange(v) => (
            "value_change",
            json!({
                "param_path": v.param_path, "param_value": v.param_value,
            }),
        ),
        N::ObjCreation(c) => (
            "obj_creation",
            json!({
                "obj_path": c.obj_path, "unique_keys": strings(&c.unique_keys),
            }),
        ),
        N::ObjDeletion(d) => ("obj_deletion", json!({ "obj_path": d.obj_path })),
        N::OperComplete(c) => {
            let resp = c.operation_resp.as_ref().map(|r| match r {
                Done::ReqOutputArgs(o) => {
                    ("req_output_args", json!({ "output_args": strings(&o.output_args) }))
                }
                Done::CmdFailure(f) => ("cmd_failure", failure(f.err_code, &f.err_msg)),
            });
            let fields = json!({
                "command_name": c.command_name, "obj_path": c.obj_path,
                "command_key": c.command_key,
            });
            ("oper_complete", with_oneof(fields, resp))
        }
        N::OnBoardReq(o) => (
            "on_board_req",
            json!({
                "oui": o.oui, "product_class": o.product_class, "serial_number": o.serial_number,
                "agent_supported_protocol_versions": o.agent_supported_protocol_versions,
            }),
        ),
    });
    with_oneof(json!({ "subscription_id": n.subscription_id, "send_resp": n.send_resp }), kind)
}

/// A response, keyed by its kind (`{"GetResp": {...}}`).
pub fn response(r: &RespType) -> Value {
    let (kind, body) = match r {
        RespType::GetResp(g) => ("GetResp", get_resp(g)),
        RespType::GetSupportedDmResp(g) => ("GetSupportedDMResp", gsdm_resp(g)),
        RespType::GetInstancesResp(g) => ("GetInstancesResp", instances_resp(g)),
        RespType::SetResp(s) => ("SetResp", set_resp(s)),
        RespType::AddResp(a) => ("AddResp", add_resp(a)),
        RespType::DeleteResp(d) => ("DeleteResp", delete_resp(d)),
        RespType::OperateResp(o) => ("OperateResp", operate_resp(o)),
        RespType::NotifyResp(n) => ("NotifyResp", json!({ "subscription_id": n.subscription_id })),
        RespType::GetSupportedProtocolResp(p) => (
            "GetSupportedProtocolResp",
            json!({
                "agent_supported_protocol_versions": p.agent_supported_protocol_versions,
            }),
        ),
        RespType::RegisterResp(r) => ("RegisterResp", register_resp(r)),
        RespType::DeregisterResp(d) => ("DeregisterResp", deregister_resp(d)),
    };
    let mut map = Map::new();
    map.insert(kind.to_owned(), body);
    Value::Object(map)
}

#[cfg(test)]
mod tests;
