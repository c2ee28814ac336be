//! The Record layer and malformed input: each case its own regression test.

use usp_datamodel::ErrorCode;
use usp_proto::msg::header::MsgType;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Body, Header, Msg, body};
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::record::{PayloadSecurity, RecordType};
use usp_proto::record::stomp_connect_record::StompVersion;
use usp_proto::record::{self, Record};

use super::harness::*;
use crate::{ConnectKind, connect_record, disconnect_record};

fn get_msg(id: &str) -> Msg {
    Msg::request(
        id,
        ReqType::Get(msg::Get { param_paths: vec!["Device.Test.Label".into()], max_depth: 0 }),
    )
}

fn record_with(record_type: RecordType) -> Record {
    Record {
        record_type: Some(record_type),
        ..Record::no_session_context("1.4", AGENT, CTRL, vec![])
    }
}

#[test]
fn get_round_trip_answers_the_controller() {
    let mut h = Harness::new();
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, CTRL, &get_msg("x")));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].record.version, "1.4");
    let reply = decode_to_ctrl(&out[0]);
    assert_eq!(reply.msg_id(), Some("x"));
    assert_eq!(reply.msg_type(), Some(MsgType::GetResp));
}

#[test]
fn garbage_bytes_get_no_reply() {
    let mut h = Harness::new();
    assert!(h.bytes(&[0xff; 16]).is_empty());
    assert!(h.bytes(&[0x0a, 0x05, b'a']).is_empty());
}

#[test]
fn truncated_record_gets_no_reply() {
    let mut h = Harness::new();
    let full = Record::no_session_context_msg("1.4", AGENT, CTRL, &get_msg("x")).to_bytes();
    for len in 0..full.len() {
        assert!(h.bytes(&full[..len]).is_empty(), "prefix of {len} bytes");
    }
}

#[test]
fn empty_record_gets_no_reply() {
    let mut h = Harness::new();
    assert!(h.bytes(&[]).is_empty());
}

#[test]
fn undecodable_payload_gets_no_reply() {
    let mut h = Harness::new();
    let mut payload = get_msg("x").to_bytes();
    payload.truncate(payload.len() - 1);
    assert!(h.record(&Record::no_session_context("1.4", AGENT, CTRL, payload)).is_empty());
    assert!(h.record(&Record::no_session_context("1.4", AGENT, CTRL, vec![0xff; 8])).is_empty());
}

#[test]
fn encrypted_payload_without_session_is_ignored() {
    let mut h = Harness::new();
    let mut rec = Record::no_session_context_msg("1.4", AGENT, CTRL, &get_msg("x"));
    rec.payload_security = PayloadSecurity::Tls12.into();
    assert!(h.record(&rec).is_empty());
}

#[test]
fn record_without_type_is_ignored() {
    let mut h = Harness::new();
    let rec =
        Record { record_type: None, ..Record::no_session_context("1.4", AGENT, CTRL, vec![]) };
    assert!(h.record(&rec).is_empty());
}

#[test]
fn header_without_body_is_error_7004() {
    let mut h = Harness::new();
    let msg = Msg {
        header: Some(Header { msg_id: "h".into(), msg_type: MsgType::Get.into() }),
        body: None,
    };
    let replies = h.send(&msg);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].msg_id(), Some("h"));
    assert_eq!(error(replies[0].clone()).err_code, 7004);
}

#[test]
fn request_without_kind_is_error_7004() {
    let mut h = Harness::new();
    let msg = Msg {
        header: Some(Header { msg_id: "h".into(), msg_type: MsgType::Get.into() }),
        body: Some(Body {
            msg_body: Some(body::MsgBody::Request(msg::Request { req_type: None })),
        }),
    };
    assert_eq!(error(h.send(&msg).remove(0)).err_code, 7004);
}

#[test]
fn response_without_body_is_ignored() {
    let mut h = Harness::new();
    let msg = Msg {
        header: Some(Header { msg_id: "h".into(), msg_type: MsgType::GetResp.into() }),
        body: None,
    };
    assert!(h.send(&msg).is_empty());
}

#[test]
fn unknown_msg_type_99_is_error_7001() {
    let mut h = Harness::new();
    // Header { msg_id: "q", msg_type: 99 }, built on the wire.
    let payload = vec![0x0a, 0x05, 0x0a, 0x01, b'q', 0x10, 99];
    let out = h.record(&Record::no_session_context("1.4", AGENT, CTRL, payload));
    let reply = decode_to_ctrl(&out[0]);
    assert_eq!(reply.msg_id(), Some("q"));
    assert_eq!(error(reply).err_code, 7001);
}

#[test]
fn header_body_mismatch_follows_the_body() {
    // R-MSG.10: the body's type "SHOULD be regarded as correct".
    let mut h = Harness::new();
    let mut msg = get_msg("mm");
    msg.header.as_mut().unwrap().msg_type = MsgType::Set.into();
    let reply = h.send(&msg).remove(0);
    assert_eq!(reply.msg_type(), Some(MsgType::GetResp));
}

#[test]
fn message_without_header_or_msg_id_is_ignored() {
    let mut h = Harness::new();
    let mut msg = get_msg("x");
    msg.header = None;
    assert!(h.send(&msg).is_empty());
    let mut msg = get_msg("");
    msg.header.as_mut().unwrap().msg_id.clear();
    assert!(h.send(&msg).is_empty());
}

#[test]
fn responses_and_errors_from_the_controller_are_not_answered() {
    let mut h = Harness::new();
    assert!(h.send(&Msg::response("r", RespType::GetResp(msg::GetResp::default()))).is_empty());
    assert!(h.send(&Msg::error("e", msg::Error::default())).is_empty());
}

#[test]
fn session_context_record_gets_disconnect_7106_when_forbidden() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.1.E2ESession.SessionMode", "Forbid");
    let out = h.record(&record_with(RecordType::SessionContext(record::SessionContextRecord {
        session_id: 5,
        sequence_id: 1,
        expected_id: 1,
        ..Default::default()
    })));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, CTRL);
    assert_eq!((out[0].record.to_id.as_str(), out[0].record.from_id.as_str()), (CTRL, AGENT));
    let Some(RecordType::Disconnect(d)) = &out[0].record.record_type else { panic!() };
    assert_eq!(d.reason_code, 7106);
}

#[test]
fn tp469_2_2_record_for_another_endpoint_is_ignored() {
    let mut h = Harness::new();
    let rec = Record::no_session_context_msg("1.4", "os::someone-else", CTRL, &get_msg("x"));
    assert!(h.record(&rec).is_empty());
}

#[test]
fn tp469_2_1_record_from_our_own_endpoint_id_is_ignored() {
    let mut h = Harness::new();
    assert!(
        h.record(&Record::no_session_context_msg("1.4", AGENT, AGENT, &get_msg("x"))).is_empty()
    );
    assert!(h.record(&Record::no_session_context_msg("1.4", AGENT, "", &get_msg("x"))).is_empty());
}

#[test]
fn unknown_controller_is_ignored() {
    let mut h = Harness::new();
    let rec = Record::no_session_context_msg("1.4", AGENT, "self::stranger", &get_msg("x"));
    assert!(h.record(&rec).is_empty());
    // Once it is added to the Controller table it is answered.
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::stranger");
    assert_eq!(h.record(&rec).len(), 1);
}

#[test]
fn without_controller_table_every_controller_is_accepted() {
    let mut h = Harness::without_local_agent();
    let rec = Record::no_session_context_msg("1.4", AGENT, "self::anyone", &get_msg("x"));
    let out = h.record(&rec);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, "self::anyone");
}

#[test]
fn connect_and_disconnect_records_are_consumed() {
    let mut h = Harness::new();
    for rt in [
        RecordType::WebsocketConnect(record::WebSocketConnectRecord {}),
        RecordType::MqttConnect(record::MqttConnectRecord {
            version: 1,
            subscribed_topic: "t".into(),
        }),
        RecordType::StompConnect(record::StompConnectRecord::default()),
        RecordType::UdsConnect(record::UdsConnectRecord {}),
        RecordType::Disconnect(record::DisconnectRecord {
            reason: "bye".into(),
            reason_code: 7105,
        }),
    ] {
        assert!(h.record(&record_with(rt)).is_empty());
    }
}

#[test]
fn reply_uses_the_request_version_when_supported() {
    let mut h = Harness::new();
    for (theirs, ours) in
        [("1.0", "1.0"), ("1.2", "1.2"), ("1.4", "1.4"), ("1.9", "1.4"), ("", "1.4")]
    {
        let out = h.record(&Record::no_session_context_msg(theirs, AGENT, CTRL, &get_msg("v")));
        assert_eq!(out[0].record.version, ours, "request version {theirs:?}");
    }
}

#[test]
fn register_and_deregister_are_error_7001() {
    let mut h = Harness::new();
    assert_eq!(h.error(ReqType::Register(msg::Register::default())).err_code, 7001);
    assert_eq!(h.error(ReqType::Deregister(msg::Deregister::default())).err_code, 7001);
    assert_eq!(h.error(ReqType::Notify(msg::Notify::default())).err_code, 7001);
}

#[test]
fn notify_resp_is_consumed_silently() {
    let mut h = Harness::new();
    let resp =
        Msg::response("n1", RespType::NotifyResp(msg::NotifyResp { subscription_id: "s".into() }));
    assert!(h.send(&resp).is_empty());
}

#[test]
fn huge_path_gets_a_per_path_error_not_a_panic() {
    let mut h = Harness::new();
    let huge = format!("Device.{}X", "Test.".repeat(20_000)); // 100 KB
    assert!(huge.len() >= 100_000);
    let r = h.get1(&huge, 0);
    assert_eq!(r.err_code, 7008);
    assert_eq!(r.requested_path, huge);
    // Just under the length limit, syntactically fine but unknown: 7026.
    let long = format!("Device.{}X", format!("{}.", "Nope".repeat(15)).repeat(60));
    assert!(long.len() > 3600);
    assert_eq!(h.get1(&long, 0).err_code, 7026);
    // As short, but deeper than 64 segments: 7008.
    let deep = format!("Device.{}X", "Nope.".repeat(800));
    assert_eq!(h.get1(&deep, 0).err_code, 7008);
    let set = msg::Set {
        allow_partial: true,
        update_objs: vec![msg::set::UpdateObject {
            obj_path: huge.clone(),
            param_settings: vec![],
        }],
    };
    let RespType::SetResp(r) = h.response(ReqType::Set(set)) else { panic!() };
    let Some(msg::set_resp::updated_object_result::operation_status::OperStatus::OperFailure(f)) =
        &r.updated_obj_results[0].oper_status.as_ref().unwrap().oper_status
    else {
        panic!()
    };
    assert_eq!(f.err_code, 7008);
    let op = msg::Operate { command: format!("{huge}()"), send_resp: true, ..Default::default() };
    assert_eq!(h.error(ReqType::Operate(op)).err_code, 7008);
}

#[test]
fn connect_record_builders() {
    let r = connect_record(ConnectKind::WebSocket, CTRL, AGENT);
    assert_eq!((r.version.as_str(), r.to_id.as_str(), r.from_id.as_str()), ("1.4", CTRL, AGENT));
    assert!(matches!(r.record_type, Some(RecordType::WebsocketConnect(_))));
    let r = connect_record(
        ConnectKind::Mqtt { version: MqttVersion::V5, subscribed_topic: "usp/agent".into() },
        CTRL,
        AGENT,
    );
    let Some(RecordType::MqttConnect(m)) = r.record_type else { panic!() };
    assert_eq!((m.version, m.subscribed_topic.as_str()), (1, "usp/agent"));
    let r = connect_record(
        ConnectKind::Stomp { version: StompVersion::V12, subscribed_destination: "/q/a".into() },
        CTRL,
        AGENT,
    );
    let Some(RecordType::StompConnect(s)) = r.record_type else { panic!() };
    assert_eq!((s.version, s.subscribed_destination.as_str()), (0, "/q/a"));
    let r = connect_record(ConnectKind::Uds, CTRL, AGENT);
    assert!(matches!(r.record_type, Some(RecordType::UdsConnect(_))));
    let r = disconnect_record(CTRL, AGENT, "shutting down", ErrorCode::SessionContextTerminated);
    let Some(RecordType::Disconnect(d)) = r.record_type else { panic!() };
    assert_eq!((d.reason.as_str(), d.reason_code), ("shutting down", 7105));
    // Round trip through bytes.
    let bytes = connect_record(ConnectKind::WebSocket, CTRL, AGENT).to_bytes();
    assert!(Record::from_bytes(&bytes).is_ok());
}
