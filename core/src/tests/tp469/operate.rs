//! TP-469 1.61, 1.62, 1.64, 1.65, 1.79, 1.91, 1.100, 9.10, 9.11: Operate on the built-in
//! commands (`Device.Reboot()`, `Device.ScheduleTimer()`).

use usp_datamodel::plugin::SystemRequest;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::notify::operation_complete::OperationResp as Done;
use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::{Msg, Operate};

use super::super::subs::{notifies, send_raw};
use super::*;
use crate::BootInfo;

fn operate(command: &str, key: &str, send_resp: bool, args: &[(&str, &str)]) -> ReqType {
    ReqType::Operate(Operate {
        command: command.into(),
        command_key: key.into(),
        send_resp,
        input_args: args.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    })
}

/// Subscribes to the OperationComplete of `Device.ScheduleTimer()`.
fn timer_subscription(h: &mut Harness) {
    let settings = [
        ("Enable", "true", false),
        ("ID", "timer", false),
        ("NotifType", "OperationComplete", false),
        ("ReferenceList", "Device.ScheduleTimer()", true),
    ];
    let r = add_results(h, add_req(false, &[(SUBS, &settings)]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)));
}

#[test]
fn tp469_1_61_and_1_62_reboot() {
    let mut h = Harness::builtin();
    let RespType::OperateResp(r) = h.response(operate("Device.Reboot()", "test61", true, &[]))
    else {
        panic!()
    };
    assert_eq!(r.operation_results.len(), 1);
    assert_eq!(r.operation_results[0].executed_command, "Device.Reboot()");
    let Some(OperationResp::ReqOutputArgs(out)) = &r.operation_results[0].operation_resp else {
        panic!("{r:?}")
    };
    assert!(out.output_args.is_empty());
    assert!(matches!(h.core.take_system_requests()[..], [SystemRequest::Reboot { .. }]));
    let msg = Msg::request("m62", operate("Device.Reboot()", "test62", false, &[]));
    assert!(send_raw(&mut h, &msg).is_empty(), "no OperateResp with send_resp=false");
    assert!(matches!(h.core.take_system_requests()[..], [SystemRequest::Reboot { .. }]));
}

/// Runs `Device.ScheduleTimer()` with `DelaySeconds` = 30 and waits for its completion;
/// returns the OperateResp's `req_obj_path` (if any) and the OperationComplete's key.
fn timer(h: &mut Harness, key: &str, send_resp: bool, extra: &[(&str, &str)]) -> String {
    timer_subscription(h);
    let mut args = vec![("DelaySeconds", "30")];
    args.extend_from_slice(extra);
    let msg = Msg::request(key, operate("Device.ScheduleTimer()", key, send_resp, &args));
    let out = send_raw(h, &msg);
    assert_eq!(out.len(), usize::from(send_resp));
    if send_resp {
        let RespType::OperateResp(r) = response(decode_to_ctrl(&out[0])) else { panic!() };
        assert_eq!(r.operation_results[0].executed_command, "Device.ScheduleTimer()");
        let Some(OperationResp::ReqObjPath(p)) = &r.operation_results[0].operation_resp else {
            panic!("{r:?}")
        };
        assert!(p.starts_with("Device.LocalAgent.Request."), "{p}");
    }
    assert!(notifies(&h.advance(29)).is_empty());
    let sent = notifies(&h.advance(1));
    assert_eq!(sent.len(), 1);
    let Notification::OperComplete(c) = sent[0].notification() else { panic!("{sent:?}") };
    assert_eq!((c.obj_path.as_str(), c.command_name.as_str()), ("Device.", "ScheduleTimer()"));
    assert!(matches!(c.operation_resp, Some(Done::ReqOutputArgs(_))), "{c:?}");
    c.command_key.clone()
}

#[test]
fn tp469_1_64_1_79_and_9_11_schedule_timer_with_send_resp() {
    assert_eq!(timer(&mut Harness::builtin(), "test64", true, &[]), "test64");
}

#[test]
fn tp469_1_65_schedule_timer_without_send_resp() {
    assert_eq!(timer(&mut Harness::builtin(), "test65", false, &[]), "test65");
}

#[test]
fn tp469_1_91_unknown_arguments_are_ignored() {
    assert_eq!(timer(&mut Harness::builtin(), "t91", true, &[("InvalidArgument", "2")]), "t91");
}

#[test]
fn tp469_1_100_missing_mandatory_argument() {
    let mut h = Harness::builtin();
    timer_subscription(&mut h);
    let req = operate("Device.ScheduleTimer()", "test100", true, &[]);
    let RespType::OperateResp(r) = h.response(req) else { panic!() };
    let Some(OperationResp::CmdFailure(f)) = &r.operation_results[0].operation_resp else {
        panic!("{r:?}")
    };
    assert_eq!(f.err_code, 7027);
    assert!(notifies(&h.advance(120)).is_empty());
    assert!(h.rows("Device.LocalAgent.Request.").is_empty());
}

/// The plan's Boot! subscription is not `Persistent`: it still gets the Boot! of the restart
/// it does not survive (as obuspa does), then it is removed.
#[test]
fn tp469_9_10_boot_event_with_boot_parameters() {
    let mut h = Harness::builtin();
    let sub = [
        ("NotifType", "Event", false),
        ("ReferenceList", "Device.Boot!", false),
        ("Enable", "true", false),
    ];
    let boot_param =
        [("Enable", "true", false), ("ParameterName", "Device.DeviceInfo.SerialNumber", false)];
    let table = format!("{CTRL_ROW}BootParameter.");
    let r = add_results(&mut h, add_req(false, &[(SUBS, &sub), (&table, &boot_param)]));
    assert!(r.iter().all(|(_, s)| matches!(s, AddStatus::OperSuccess(_))), "{r:?}");
    let msg = Msg::request("m910", operate("Device.Reboot()", "", true, &[]));
    send_raw(&mut h, &msg);
    assert_eq!(h.core.take_system_requests().len(), 1);
    h.restart(None);
    let sent = notifies(&h.core.boot(h.now, BootInfo::local(false, false)));
    assert_eq!(sent.len(), 1);
    let Notification::Event(e) = sent[0].notification() else { panic!("{sent:?}") };
    assert_eq!(e.event_name, "Boot!");
    assert_eq!(e.params["ParameterMap"], "{\"Device.DeviceInfo.SerialNumber\":\"LAB0001\"}");
    assert!(h.rows(SUBS).is_empty(), "the subscription was not persistent: gone after its Boot!");
}
