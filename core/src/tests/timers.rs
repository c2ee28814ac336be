//! Timers and start-up: TimeToLive, Periodic!, Boot! and the remembered restart cause,
//! OnBoardRequest.

use usp_areas::AgentIdentity;
use usp_datamodel::plugin::SystemRequest;
use usp_proto::msg::notify::{Event, Notification};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};

use super::harness::*;
use super::subs::*;
use crate::BootInfo;

fn event(s: &Sent) -> &Event {
    let Notification::Event(e) = s.notification() else { panic!("not an Event: {s:?}") };
    e
}

fn param<'a>(e: &'a Event, name: &str) -> &'a str {
    e.params.get(name).map(String::as_str).unwrap_or_else(|| panic!("no {name} in {e:?}"))
}

fn operate(h: &mut Harness, command: &str, key: &str) -> Vec<crate::Outgoing> {
    let op = msg::Operate {
        command: command.into(),
        command_key: key.into(),
        send_resp: true,
        input_args: Default::default(),
    };
    send_raw(h, &Msg::request("op", ReqType::Operate(op)))
}

#[test]
fn tp469_1_55_subscription_time_to_live() {
    let mut h = Harness::builtin();
    let extra = [("TimeToLive", "20"), ("NotifRetry", "true")];
    let s = subscribe(&mut h, "notify55", "ValueChange", "Device.Test.Label", &extra);
    let n = one_notify(&set(&mut h, "Device.Test.", "Label", "a"));
    ack(&mut h, &n);
    assert_eq!(h.core.poll_timeout(), Some(h.now.uptime + std::time::Duration::from_secs(20)));
    assert!(h.advance(19).is_empty());
    assert_eq!(h.rows("Device.LocalAgent.Subscription."), [s]);
    h.advance(1);
    assert!(h.rows("Device.LocalAgent.Subscription.").is_empty());
    assert!(notifies(&set(&mut h, "Device.Test.", "Label", "b")).is_empty());
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn time_to_live_counts_from_creation_and_restarts_when_changed() {
    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "t", "ValueChange", "Device.Test.Label", &[("TimeToLive", "30")]);
    h.advance(10);
    set(&mut h, &s, "TimeToLive", "15");
    // 10 s have passed since the creation: 5 s left.
    h.advance(4);
    assert_eq!(h.rows("Device.LocalAgent.Subscription.").len(), 1);
    h.advance(1);
    assert!(h.rows("Device.LocalAgent.Subscription.").is_empty());
}

#[test]
fn tp469_1_59_periodic_event() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.1.PeriodicNotifInterval", "60");
    subscribe(&mut h, "notify59", "Event", "Device.LocalAgent.Periodic!", &[]);
    let (first, out) = h.advance_to_timer(60);
    assert_eq!(first, 60, "no reference time: one interval after the subscription");
    let n = one_notify(&out);
    assert_eq!(n.notify.subscription_id, "notify59");
    let e = event(&n);
    assert_eq!((e.obj_path.as_str(), e.event_name.as_str()), ("Device.LocalAgent.", "Periodic!"));
    let (second, out) = h.advance_to_timer(60);
    assert_eq!(second, 60);
    assert_eq!(notifies(&out).len(), 1);
}

#[test]
fn periodic_events_align_to_the_reference_time() {
    let mut h = Harness::builtin();
    // The harness clock is 2023-11-14T22:13:20Z (1700000000); instants at :00 and :30 s.
    h.default("Device.LocalAgent.Controller.1.PeriodicNotifTime", "2023-01-01T00:00:00Z");
    h.default("Device.LocalAgent.Controller.1.PeriodicNotifInterval", "30");
    subscribe(&mut h, "p", "Event", "Device.LocalAgent.", &[]);
    let (first, out) = h.advance_to_timer(30);
    assert_eq!(first, 10, "the next :30");
    assert_eq!(h.now.wall.secs % 30, 0);
    assert_eq!(notifies(&out).len(), 1);
    assert_eq!(h.advance_to_timer(30).0, 30);
    // A new interval restarts the schedule.
    set(&mut h, "Device.LocalAgent.Controller.1.", "PeriodicNotifInterval", "3600");
    let (wait, out) = h.advance_to_timer(3600);
    assert_eq!(one_notify(&out).notify.subscription_id, "p");
    assert_eq!(h.now.wall.secs % 3600, 0, "on the hour, after {wait} s");
}

#[test]
fn no_periodic_event_without_a_subscription() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.1.PeriodicNotifInterval", "1");
    h.advance(0);
    assert_eq!(h.core.poll_timeout(), None);
}

/// A persistent Boot! subscription and two boot parameters (one disabled) of controller 1.
fn boot_subscription(h: &mut Harness) {
    subscribe(h, "boot", "Event", "Device.Boot!", &[("Persistent", "true")]);
    let bp = "Device.LocalAgent.Controller.1.BootParameter";
    h.default(&format!("{bp}.1.ParameterName"), "Device.DeviceInfo.SoftwareVersion");
    h.default(&format!("{bp}.1.Enable"), "true");
    h.default(&format!("{bp}.2.ParameterName"), "Device.Test.Item.*.Name");
    h.default(&format!("{bp}.2.Enable"), "true");
    h.default(&format!("{bp}.3.ParameterName"), "Device.DeviceInfo.SerialNumber");
    h.advance(0);
}

fn boot(h: &mut Harness, info: BootInfo) -> Sent {
    let out = h.core.boot(h.now, info);
    let n = one_notify(&out);
    assert_eq!(n.notify.subscription_id, "boot");
    assert_eq!((event(&n).obj_path.as_str(), event(&n).event_name.as_str()), ("Device.", "Boot!"));
    n
}

#[test]
fn tp469_9_10_boot_with_boot_parameters() {
    let mut h = Harness::builtin();
    boot_subscription(&mut h);
    h.restart(None);
    let n = boot(&mut h, BootInfo::local(false, false));
    let e = event(&n);
    assert_eq!(param(e, "Cause"), "LocalReboot");
    assert_eq!(param(e, "CommandKey"), "");
    assert_eq!(param(e, "FirmwareUpdated"), "false");
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        param(e, "ParameterMap"),
        format!(
            "{{\"Device.DeviceInfo.SoftwareVersion\":\"{version}\",\
             \"Device.Test.Item.1.Name\":\"a\",\"Device.Test.Item.2.Name\":\"b\"}}"
        )
    );
}

#[test]
fn a_remote_reboot_is_reported_by_the_next_boot_and_only_it() {
    let mut h = Harness::builtin();
    boot_subscription(&mut h);
    let out = operate(&mut h, "Device.Reboot()", "ck-1");
    assert!(out[0].in_reply, "the OperateResp first");
    let requests = h.core.take_system_requests();
    let want = SystemRequest::Reboot {
        cause: "RemoteReboot".into(),
        reason: String::new(),
        command_key: None,
    };
    assert_eq!(requests, [want]);
    assert_eq!(h.store.meta("boot/cause").as_deref(), Some("RemoteReboot"), "stored before");
    h.restart(None);
    let e = boot(&mut h, BootInfo::local(false, false));
    assert_eq!(param(event(&e), "Cause"), "RemoteReboot");
    assert_eq!(param(event(&e), "CommandKey"), "ck-1");
    h.restart(None);
    let e = boot(&mut h, BootInfo::local(false, false));
    assert_eq!(param(event(&e), "Cause"), "LocalReboot", "the remembered cause is used once");
    assert_eq!(param(event(&e), "CommandKey"), "");
}

#[test]
fn factory_reset_causes() {
    let mut h = Harness::builtin();
    boot_subscription(&mut h);
    operate(&mut h, "Device.FactoryReset()", "fr");
    h.restart(None);
    let e = boot(&mut h, BootInfo::local(true, false));
    assert_eq!(param(event(&e), "Cause"), "RemoteFactoryReset");
    assert_eq!(param(event(&e), "CommandKey"), "fr");
    h.restart(None);
    let e = boot(&mut h, BootInfo::local(true, false));
    assert_eq!(param(event(&e), "Cause"), "LocalFactoryReset");
}

#[test]
fn firmware_updated_when_the_software_version_changed() {
    let mut h = Harness::builtin();
    boot_subscription(&mut h);
    h.restart(None);
    assert_eq!(
        param(event(&boot(&mut h, BootInfo::local(false, false))), "FirmwareUpdated"),
        "false"
    );
    let identity = AgentIdentity {
        endpoint_id: AGENT.into(),
        software_version: "9.9".into(),
        ..Default::default()
    };
    h.restart(Some(identity));
    let e = boot(&mut h, BootInfo::local(false, false));
    assert_eq!(param(event(&e), "FirmwareUpdated"), "true");
    h.restart(None);
    assert_eq!(
        param(event(&boot(&mut h, BootInfo::local(false, true))), "FirmwareUpdated"),
        "true"
    );
}

#[test]
fn the_start_up_itself_is_not_notified() {
    let mut h = Harness::builtin();
    subscribe(
        &mut h,
        "del",
        "ObjectDeletion",
        "Device.LocalAgent.Subscription.",
        &[("Persistent", "true")],
    );
    subscribe(&mut h, "volatile", "ValueChange", "Device.Test.Label", &[]);
    h.restart(None);
    // Building the model removed the volatile subscription: no ObjectDeletion for that.
    assert!(h.core.boot(h.now, BootInfo::local(false, false)).is_empty());
    assert_eq!(h.rows("Device.LocalAgent.Subscription."), ["Device.LocalAgent.Subscription.1."]);
}

#[test]
fn a_volatile_boot_subscription_gets_that_boot_but_no_retry() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "boot", "Event", "Device.Boot!", &[("NotifRetry", "true")]);
    subscribe(&mut h, "off", "Event", "Device.Boot!", &[("Enable", "false")]);
    h.restart(None);
    let n = boot(&mut h, BootInfo::local(false, false));
    assert!(n.notify.send_resp, "NotifRetry still asks for a NotifyResp");
    assert!(h.rows("Device.LocalAgent.Subscription.").is_empty());
    assert!(h.core.pending_notifies().is_empty(), "the subscription is gone: no retry");
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn boot_without_subscription_sends_nothing() {
    let mut h = Harness::builtin();
    assert!(h.core.boot(h.now, BootInfo::local(true, false)).is_empty());
}

#[test]
fn tp469_1_60_onboard_request_retried_until_notify_resp() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.1.OnBoardingComplete", "true");
    let out = operate(&mut h, "Device.LocalAgent.Controller.1.SendOnBoardRequest()", "");
    assert!(out[0].in_reply);
    let n = one_notify(&out);
    assert_eq!(n.to, CTRL);
    assert_eq!(n.notify.subscription_id, "");
    assert!(n.notify.send_resp);
    let Notification::OnBoardReq(r) = n.notification() else { panic!("{n:?}") };
    assert_eq!(r.oui, "00D09E");
    assert_eq!(r.product_class, "LabAgent");
    assert_eq!(r.serial_number, "LAB0001");
    assert_eq!(r.agent_supported_protocol_versions, "1.0,1.1,1.2,1.3,1.4");
    assert_eq!(
        h.value("Device.LocalAgent.Controller.1.OnBoardingComplete").as_deref(),
        Some("false")
    );
    let (w, out) = h.advance_to_timer(10);
    assert!((5..=10).contains(&w));
    assert_eq!(one_notify(&out).msg_id, n.msg_id);
    ack(&mut h, &n);
    assert!(h.core.pending_notifies().is_empty());
    assert_eq!(h.core.poll_timeout(), None);
}
