//! TP-469 1.52, 1.53, 1.57, 1.58, 1.84, 1.93, 1.94, 1.101–1.103: subscriptions and
//! notifications on the built-in model (1.54–1.56, 1.59, 1.60 and 1.78 are in `retry`,
//! `timers` and `notify`).

use usp_proto::msg::notify::Notification;
use usp_proto::msg::{Msg, Operate};

use super::super::subs::{Sent, ack, notifies, one_notify, send_raw, set};
use super::*;

const PROVISIONING: &str = "Device.LocalAgent.Controller.1.ProvisioningCode";

/// The Add of 1.52: an enabled subscription `id` of `kind` on `refs`, with NotifRetry and the
/// `extra` settings; returns its instance path.
fn subscribe(h: &mut Harness, id: &str, kind: &str, refs: &str, extra: &[Setting]) -> String {
    let mut settings: Vec<Setting> = vec![
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", kind, false),
        ("ReferenceList", refs, true),
        ("NotifRetry", "true", false),
    ];
    settings.extend_from_slice(extra);
    let mut r = add_results(h, add_req(false, &[(SUBS, &settings)]));
    let AddStatus::OperSuccess(ok) = r.remove(0).1 else { panic!("refused") };
    ok.instantiated_path
}

fn provisioning(h: &mut Harness, value: &str) -> Vec<Sent> {
    notifies(&set(h, CTRL_ROW, "ProvisioningCode", value))
}

#[test]
fn tp469_1_52_and_1_53_value_change_until_the_subscription_is_deleted() {
    let mut h = Harness::builtin();
    h.default(PROVISIONING, "initial");
    h.advance(0);
    let row = subscribe(&mut h, "notify52", "ValueChange", PROVISIONING, &[]);
    let sent = provisioning(&mut h, "TestValue52");
    assert_eq!(sent.len(), 1);
    let n = &sent[0];
    assert_eq!((n.to.as_str(), n.notify.subscription_id.as_str()), (CTRL, "notify52"));
    let Notification::ValueChange(v) = n.notification() else { panic!("{n:?}") };
    assert_eq!((v.param_path.as_str(), v.param_value.as_str()), (PROVISIONING, "TestValue52"));
    ack(&mut h, n);
    let r = del_results(&mut h, del_req(false, &[&row]));
    assert!(matches!(r[0].1, DelStatus::OperSuccess(_)));
    assert!(provisioning(&mut h, "notify53-2").is_empty());
    assert!(h.advance(20).is_empty());
}

#[test]
fn tp469_1_57_object_creation() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "notify57", "ObjectCreation", SUBS, &[]);
    let settings = [
        ("Enable", "true", false),
        ("ID", "notify57-2", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", PROVISIONING, true),
    ];
    let out = send_raw(&mut h, &Msg::request("m57", add_req(false, &[(SUBS, &settings)])));
    let n = one_notify(&out);
    assert_eq!(n.notify.subscription_id, "notify57");
    let Notification::ObjCreation(c) = n.notification() else { panic!("{n:?}") };
    assert_eq!(c.obj_path, format!("{SUBS}2."));
    assert_eq!(c.unique_keys["ID"], "notify57-2");
    assert_eq!(c.unique_keys["Recipient"], "Device.LocalAgent.Controller.1");
    assert!(c.unique_keys.contains_key("Alias"));
}

#[test]
fn tp469_1_58_object_deletion() {
    let mut h = Harness::builtin();
    let victim = new_subscription(&mut h, "victim", &[]);
    subscribe(&mut h, "notify58", "ObjectDeletion", SUBS, &[]);
    let msg = Msg::request("m58", del_req(false, &[&victim]));
    let n = one_notify(&send_raw(&mut h, &msg));
    assert_eq!(n.notify.subscription_id, "notify58");
    let Notification::ObjDeletion(d) = n.notification() else { panic!("{n:?}") };
    assert_eq!(d.obj_path, victim);
}

#[test]
fn tp469_1_84_subscription_with_search_path_reference_list() {
    let mut h = Harness::builtin();
    for (n, name) in [(1, "Device.DeviceInfo."), (2, "Device.LocalAgent.")] {
        h.default(&format!("{CTRL_ROW}BootParameter.{n}.ParameterName"), name);
        h.default(&format!("{CTRL_ROW}BootParameter.{n}.Enable"), "true");
    }
    h.advance(0);
    let refs = format!("{CTRL_ROW}BootParameter.*.Enable");
    subscribe(&mut h, "notify84", "ValueChange", &refs, &[]);
    // The plan's obj_path has no trailing dot.
    let obj = format!("{CTRL_ROW}BootParameter.2");
    let n = one_notify(&set(&mut h, &obj, "Enable", "false"));
    assert_eq!(n.notify.subscription_id, "notify84");
    let Notification::ValueChange(v) = n.notification() else { panic!("{n:?}") };
    assert_eq!(v.param_path, format!("{CTRL_ROW}BootParameter.2.Enable"));
}

/// 1.93 / 1.94: a subscription whose trigger disables itself.
fn trigger(action: &str) -> (Harness, String, Vec<Sent>) {
    let mut h = Harness::builtin();
    h.default(PROVISIONING, "initial");
    h.advance(0);
    let row = subscribe(
        &mut h,
        "notify93",
        "ValueChange",
        PROVISIONING,
        &[("TriggerAction", action, false)],
    );
    let config = format!("{row}Enable=false");
    set(&mut h, &row, "TriggerConfigSettings", &config);
    let sent = provisioning(&mut h, "TestValue93");
    (h, row, sent)
}

#[test]
fn tp469_1_93_trigger_action_config() {
    let (mut h, row, sent) = trigger("Config");
    assert!(sent.is_empty(), "Config sends no Notify: {sent:?}");
    assert_eq!(value_of(&mut h, &row, "Enable").as_deref(), Some("false"));
}

#[test]
fn tp469_1_94_trigger_action_notify_and_config() {
    let (mut h, row, sent) = trigger("NotifyAndConfig");
    assert_eq!(sent.len(), 1);
    let Notification::ValueChange(v) = sent[0].notification() else { panic!("{sent:?}") };
    assert_eq!(v.param_value, "TestValue93");
    ack(&mut h, &sent[0]);
    assert_eq!(value_of(&mut h, &row, "Enable").as_deref(), Some("false"));
}

fn send_onboard_request(h: &mut Harness, key: &str) -> Sent {
    let op = Operate {
        command: format!("{CTRL_ROW}SendOnBoardRequest()"),
        command_key: key.into(),
        send_resp: false,
        input_args: Default::default(),
    };
    let n = one_notify(&send_raw(h, &Msg::request(key, ReqType::Operate(op))));
    assert!(matches!(n.notification(), Notification::OnBoardReq(_)), "{n:?}");
    n
}

#[test]
fn tp469_1_101_onboarding_complete_is_false_after_the_request() {
    let mut h = Harness::builtin();
    h.default(&format!("{CTRL_ROW}OnBoardingComplete"), "true");
    let n = send_onboard_request(&mut h, "test101");
    ack(&mut h, &n);
    assert_eq!(value_of(&mut h, CTRL_ROW, "OnBoardingComplete").as_deref(), Some("false"));
    set(&mut h, CTRL_ROW, "OnBoardingComplete", "true");
}

#[test]
fn tp469_1_102_onboard_request_again_after_the_restart_time() {
    let mut h = Harness::builtin();
    set(&mut h, CTRL_ROW, "OnBoardingRestartTime", "60");
    let first = send_onboard_request(&mut h, "test102");
    ack(&mut h, &first);
    let (waited, out) = h.advance_to_timer(60);
    assert_eq!(waited, 60, "counted from the NotifyResp");
    let again = one_notify(&out);
    assert!(matches!(again.notification(), Notification::OnBoardReq(_)));
    assert!(again.notify.send_resp);
    assert_ne!(again.msg_id, first.msg_id, "a new OnBoardRequest");
    ack(&mut h, &again);
    set(&mut h, CTRL_ROW, "OnBoardingComplete", "true");
    assert!(h.advance(120).is_empty(), "none once onboarding is complete");
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn tp469_1_103_no_onboard_request_again_when_restart_time_is_zero() {
    let mut h = Harness::builtin();
    set(&mut h, CTRL_ROW, "OnBoardingRestartTime", "0");
    let first = send_onboard_request(&mut h, "test103");
    ack(&mut h, &first);
    assert_eq!(h.core.poll_timeout(), None);
    assert!(h.advance(60).is_empty());
}

#[test]
fn tp469_9_9_new_controller_gets_its_onboard_request() {
    let mut h = Harness::builtin();
    usp_areas::local_agent::apply_trust_defaults(h.core.dm()).unwrap();
    let controller = [
        ("Alias", "usp-111-Controller", false),
        ("EndpointID", "self::second", false),
        ("Enable", "true", false),
        ("AssignedRole", "Device.LocalAgent.ControllerTrust.Role.1", false),
    ];
    let r = add_results(&mut h, add_req(false, &[("Device.LocalAgent.Controller.", &controller)]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert!(ok.param_errs.is_empty(), "{ok:?}");
    let row = ok.instantiated_path.clone();
    let mtp = [("Enable", "true", false), ("Protocol", "MQTT", false)];
    let r = add_results(&mut h, add_req(false, &[(&format!("{row}MTP."), &mtp)]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)), "{r:?}");
    let op = Operate {
        command: format!("{row}SendOnBoardRequest()"),
        command_key: String::new(),
        send_resp: false,
        input_args: Default::default(),
    };
    let out = send_raw(&mut h, &Msg::request("m99", ReqType::Operate(op)));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].to, "self::second");
    let msg = out[0].record.decode_no_session_context_msg().unwrap();
    let Some(usp_proto::msg::body::MsgBody::Request(usp_proto::msg::Request {
        req_type: Some(ReqType::Notify(n)),
    })) = msg.body.and_then(|b| b.msg_body)
    else {
        panic!("not a Notify")
    };
    assert!(matches!(n.notification, Some(Notification::OnBoardReq(_))));
}
