//! Operate: synchronous and asynchronous commands, Request rows and OperationComplete.

use usp_proto::msg::notify::Notification;
use usp_proto::msg::notify::operation_complete::OperationResp as DoneResp;
use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg, body::MsgBody};

use std::time::Duration;

use super::harness::*;

fn operate(cmd: &str, args: &[(&str, &str)], send_resp: bool) -> ReqType {
    ReqType::Operate(msg::Operate {
        command: cmd.into(),
        command_key: "key-1".into(),
        send_resp,
        input_args: args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    })
}

fn results(h: &mut Harness, req: ReqType) -> Vec<(String, OperationResp)> {
    let RespType::OperateResp(r) = h.response(req) else { panic!() };
    r.operation_results
        .into_iter()
        .map(|o| (o.executed_command, o.operation_resp.unwrap()))
        .collect()
}

fn subscribe(h: &mut Harness, n: u32, refs: &str, retry: bool) {
    let base = format!("Device.LocalAgent.Subscription.{n}.");
    h.default(&format!("{base}ID"), &format!("sub-{n}"));
    h.default(&format!("{base}Enable"), "true");
    h.default(&format!("{base}NotifType"), "OperationComplete");
    h.default(&format!("{base}ReferenceList"), refs);
    h.default(&format!("{base}Recipient"), "Device.LocalAgent.Controller.1");
    h.default(&format!("{base}NotifRetry"), if retry { "true" } else { "false" });
}

fn notify(msg: &Msg) -> msg::Notify {
    match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
        Some(MsgBody::Request(msg::Request { req_type: Some(ReqType::Notify(n)) })) => n.clone(),
        other => panic!("not a Notify: {other:?}"),
    }
}

#[test]
fn tp469_1_61_sync_operate() {
    let mut h = Harness::new();
    let r = results(
        &mut h,
        operate("Device.Test.Item.1.Reset()", &[("Level", "2"), ("Note", "n")], true),
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, "Device.Test.Item.1.Reset()");
    let OperationResp::ReqOutputArgs(out) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(out.output_args.get("Result").map(String::as_str), Some("reset 2 n"));
}

#[test]
fn tp469_1_62_sync_operate_send_resp_false() {
    let mut h = Harness::new();
    let replies =
        h.send(&Msg::request("o", operate("Device.Test.Item.1.Reset()", &[("Level", "2")], false)));
    assert!(replies.is_empty());
}

#[test]
fn tp469_1_91_unknown_args_ignored_and_1_92_defaults_used() {
    let mut h = Harness::new();
    let r = results(
        &mut h,
        operate("Device.Test.Item.1.Reset()", &[("Level", "4"), ("Bogus", "x")], true),
    );
    let OperationResp::ReqOutputArgs(out) = &r[0].1 else { panic!() };
    assert_eq!(out.output_args.get("Result").map(String::as_str), Some("reset 4 none"));
}

#[test]
fn tp469_1_100_missing_mandatory_arg_is_cmd_failure_7027() {
    let mut h = Harness::new();
    let r = results(&mut h, operate("Device.Test.Item.1.Reset()", &[], true));
    let OperationResp::CmdFailure(f) = &r[0].1 else { panic!() };
    assert_eq!(f.err_code, 7027);
}

#[test]
fn operate_on_several_objects_reports_each_failure() {
    let mut h = Harness::new();
    let r = results(&mut h, operate("Device.Test.Item.*.Reset()", &[("Level", "0")], true));
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].0, "Device.Test.Item.2.Reset()");
    assert!(r.iter().all(|(_, o)| matches!(o, OperationResp::CmdFailure(f) if f.err_code == 7022)));
    // A search path matching nothing: an empty response.
    assert!(results(&mut h, operate("Device.Test.Item.[Count>9].Reset()", &[], true)).is_empty());
}

#[test]
fn operate_bad_paths_are_errors() {
    let mut h = Harness::new();
    assert_eq!(h.error(operate("Device.Test.Item.1.Nope()", &[], true)).err_code, 7026);
    assert_eq!(h.error(operate("Device.Test.Item.1.Name", &[], true)).err_code, 7026);
    assert_eq!(h.error(operate("Device.Test.Item.9.Reset()", &[], true)).err_code, 7016);
    assert_eq!(h.error(operate("Device.Test..Reset()", &[], false)).err_code, 7008);
}

#[test]
fn tp469_1_64_async_operate_request_row_and_operation_complete() {
    let mut h = Harness::new();
    subscribe(&mut h, 1, "Device.Test.Item.1.Run()", true);
    let r = results(&mut h, operate("Device.Test.Item.1.Run()", &[("Delay", "5")], true));
    assert_eq!(
        r,
        [(
            "Device.Test.Item.1.Run()".to_string(),
            OperationResp::ReqObjPath("Device.LocalAgent.Request.1.".into())
        )]
    );
    assert_eq!(h.value("Device.LocalAgent.Request.1.Status").as_deref(), Some("Active"));
    assert_eq!(h.value("Device.LocalAgent.Request.1.Originator").as_deref(), Some(CTRL));
    assert_eq!(
        h.value("Device.LocalAgent.Request.1.Command").as_deref(),
        Some("Device.Test.Item.1.Run()")
    );
    assert_eq!(h.value("Device.LocalAgent.Request.1.CommandKey").as_deref(), Some("key-1"));
    assert_eq!(h.core.poll_timeout(), Some(h.now.uptime + Duration::from_secs(5)));
    assert!(h.advance(4).is_empty());
    let out = h.advance(1);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].record.version, "1.4");
    let msg = decode_to_ctrl(&out[0]);
    let n = notify(&msg);
    assert_eq!(n.subscription_id, "sub-1");
    assert!(n.send_resp);
    let Some(Notification::OperComplete(oc)) = n.notification else { panic!() };
    assert_eq!(oc.obj_path, "Device.Test.Item.1.");
    assert_eq!(oc.command_name, "Run()");
    assert_eq!(oc.command_key, "key-1");
    let Some(DoneResp::ReqOutputArgs(args)) = oc.operation_resp else { panic!() };
    assert_eq!(args.output_args.get("Elapsed").map(String::as_str), Some("5"));
    assert!(h.rows("Device.LocalAgent.Request.").is_empty(), "Request row removed");
    // Only the retry of the Notify is left to wake for.
    let retry = h.core.poll_timeout().unwrap() - h.now.uptime;
    assert!(retry >= Duration::from_secs(5) && retry <= Duration::from_secs(10), "{retry:?}");
    // The NotifyResp acknowledges it.
    assert_eq!(h.core.pending_notifies().len(), 1);
    let id = msg.msg_id().unwrap().to_string();
    let resp = Msg::response(
        id,
        RespType::NotifyResp(msg::NotifyResp { subscription_id: "sub-1".into() }),
    );
    assert!(h.send(&resp).is_empty());
    assert!(h.core.pending_notifies().is_empty());
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn tp469_1_65_async_operate_send_resp_false() {
    let mut h = Harness::new();
    subscribe(&mut h, 1, "Device.Test.", false);
    assert!(
        h.send(&Msg::request("a", operate("Device.Test.Item.2.Run()", &[("Delay", "13")], false)))
            .is_empty()
    );
    assert_eq!(h.rows("Device.LocalAgent.Request.").len(), 1);
    let out = h.advance(13);
    let n = notify(&decode_to_ctrl(&out[0]));
    assert!(!n.send_resp);
    let Some(Notification::OperComplete(oc)) = n.notification else { panic!() };
    let Some(DoneResp::CmdFailure(f)) = oc.operation_resp else { panic!() };
    assert_eq!(f.err_code, 7022);
    assert!(h.core.pending_notifies().is_empty());
}

#[test]
fn async_operate_without_matching_subscription_sends_nothing() {
    let mut h = Harness::new();
    subscribe(&mut h, 1, "Device.Test.Item.2.Run()", true);
    subscribe(&mut h, 2, "Device.Test.Item.1.Reset()", true);
    h.default("Device.LocalAgent.Subscription.3.ID", "off");
    h.default("Device.LocalAgent.Subscription.3.NotifType", "OperationComplete");
    h.default("Device.LocalAgent.Subscription.3.ReferenceList", "Device.");
    let r = results(&mut h, operate("Device.Test.Item.1.Run()", &[("Delay", "1")], true));
    assert!(matches!(r[0].1, OperationResp::ReqObjPath(_)));
    assert!(h.advance(1).is_empty());
    assert!(h.rows("Device.LocalAgent.Request.").is_empty());
}

#[test]
fn async_operate_without_local_agent_has_no_request_row() {
    let mut h = Harness::without_local_agent();
    let r = results(&mut h, operate("Device.Test.Item.1.Run()", &[("Delay", "1")], true));
    assert_eq!(r[0].1, OperationResp::ReqObjPath(String::new()));
    assert!(h.advance(1).is_empty());
}
