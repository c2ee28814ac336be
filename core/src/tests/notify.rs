//! Subscriptions and the notifications they cause: ValueChange (pushed, committed and
//! polled), ObjectCreation, ObjectDeletion, Event, OperationComplete, recipients.

use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};

use super::harness::*;
use super::subs::*;

fn value_change(s: &Sent) -> (String, String) {
    let Notification::ValueChange(v) = s.notification() else { panic!("{s:?}") };
    (v.param_path.clone(), v.param_value.clone())
}

fn delete(h: &mut Harness, path: &str) -> Vec<crate::Outgoing> {
    let del = msg::Delete { allow_partial: false, obj_paths: vec![path.into()] };
    send_raw(h, &Msg::request("del", ReqType::Delete(del)))
}

#[test]
fn tp469_1_52_value_change_subscription_fires() {
    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "vc", "ValueChange", "Device.Test.Item.1.Count", &[]);
    assert_eq!(
        h.value(&format!("{s}Recipient")).as_deref(),
        Some("Device.LocalAgent.Controller.1"),
        "the agent fills in the creating controller"
    );
    let out = set(&mut h, "Device.Test.Item.1.", "Count", "7");
    let n = one_notify(&out);
    assert_eq!(n.to, CTRL);
    assert_eq!(n.notify.subscription_id, "vc");
    assert!(!n.notify.send_resp, "NotifRetry is false");
    assert_eq!(value_change(&n), ("Device.Test.Item.1.Count".into(), "7".into()));
    assert!(notifies(&set(&mut h, "Device.Test.Item.2.", "Count", "7")).is_empty());
    assert!(notifies(&set(&mut h, "Device.Test.Item.1.", "Count", "7")).is_empty(), "no change");
    assert!(h.core.pending_notifies().is_empty());
}

#[test]
fn tp469_1_53_deleting_the_subscription_stops_notifications() {
    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "vc", "ValueChange", "Device.Test.Label", &[]);
    assert_eq!(notifies(&set(&mut h, "Device.Test.", "Label", "a")).len(), 1);
    let out = delete(&mut h, &s);
    assert!(notifies(&out).is_empty());
    assert!(notifies(&set(&mut h, "Device.Test.", "Label", "b")).is_empty());
}

#[test]
fn disabled_subscriptions_send_nothing_until_enabled() {
    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "vc", "ValueChange", "Device.Test.Label", &[("Enable", "false")]);
    assert!(notifies(&set(&mut h, "Device.Test.", "Label", "a")).is_empty());
    set(&mut h, &s, "Enable", "true");
    assert_eq!(notifies(&set(&mut h, "Device.Test.", "Label", "b")).len(), 1);
    set(&mut h, &s, "ReferenceList", "Device.Test.Item.2.Name");
    assert!(notifies(&set(&mut h, "Device.Test.", "Label", "c")).is_empty(), "list changed");
}

#[test]
fn object_paths_and_wildcards_cover_what_is_below() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "obj", "ValueChange", "Device.Test.Item.1.", &[]);
    subscribe(&mut h, "wild", "ValueChange", "Device.Test.Item.*.Name", &[]);
    let n = notifies(&set(&mut h, "Device.Test.Item.1.Stats.", "Hits", "3"));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].notify.subscription_id, "obj");
    assert_eq!(value_change(&n[0]).0, "Device.Test.Item.1.Stats.Hits");
    let n = notifies(&set(&mut h, "Device.Test.Item.1.", "Name", "z"));
    let ids: Vec<_> = n.iter().map(|s| s.notify.subscription_id.as_str()).collect();
    assert_eq!(ids, ["obj", "wild"], "one Notify per subscription, in subscription order");
    let n = notifies(&set(&mut h, "Device.Test.Item.2.", "Name", "y"));
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].notify.subscription_id, "wild");
}

#[test]
fn tp469_1_84_search_path_reference_list() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "s", "ValueChange", "Device.Test.Item.[Enabled==true].Count", &[]);
    assert!(notifies(&set(&mut h, "Device.Test.Item.2.", "Count", "9")).is_empty());
    set(&mut h, "Device.Test.Item.2.", "Enabled", "true");
    let n = one_notify(&set(&mut h, "Device.Test.Item.2.", "Count", "10"));
    assert_eq!(value_change(&n), ("Device.Test.Item.2.Count".into(), "10".into()));
    assert!(notifies(&set(&mut h, "Device.Test.Item.1.", "Count", "10")).is_empty());
}

#[test]
fn tp469_1_57_object_creation() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "oc", "ObjectCreation", "Device.Test.Item.", &[]);
    let add = msg::Add {
        allow_partial: false,
        create_objs: vec![msg::add::CreateObject {
            obj_path: "Device.Test.Item.".into(),
            param_settings: vec![msg::add::CreateParamSetting {
                param: "Name".into(),
                value: "new".into(),
                required: true,
            }],
        }],
    };
    let out = send_raw(&mut h, &Msg::request("a", ReqType::Add(add)));
    assert!(out[0].in_reply);
    let n = one_notify(&out);
    let Notification::ObjCreation(c) = n.notification() else { panic!("{n:?}") };
    assert_eq!(c.obj_path, "Device.Test.Item.3.");
    assert_eq!(c.unique_keys.get("Name").map(String::as_str), Some("new"));
    assert_eq!(c.unique_keys.get("Alias").map(String::as_str), Some("cpe-3"));
    // A row of another table is no creation of this one.
    h.default("Device.Test.Item.1.Sub.2.Value", "1");
    assert!(notifies(&h.advance(0)).is_empty());
}

#[test]
fn tp469_1_57_a_subscription_is_not_told_of_its_own_creation() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "notify57", "ObjectCreation", "Device.LocalAgent.Subscription.", &[]);
    let add = subscription_add("other", "ValueChange", "Device.Test.Label", &[]);
    let out = send_raw(&mut h, &Msg::request("a2", add));
    let n = one_notify(&out);
    assert_eq!(n.notify.subscription_id, "notify57");
    let Notification::ObjCreation(c) = n.notification() else { panic!("{n:?}") };
    assert_eq!(c.obj_path, "Device.LocalAgent.Subscription.2.");
    assert_eq!(c.unique_keys.get("ID").map(String::as_str), Some("other"));
    assert_eq!(
        c.unique_keys.get("Recipient").map(String::as_str),
        Some("Device.LocalAgent.Controller.1")
    );
}

#[test]
fn tp469_1_58_object_deletion_including_children() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "items", "ObjectDeletion", "Device.Test.Item.", &[]);
    subscribe(&mut h, "subs", "ObjectDeletion", "Device.Test.Item.*.Sub.", &[]);
    let out = delete(&mut h, "Device.Test.Item.1.");
    let n = notifies(&out);
    let got: Vec<(&str, String)> = n
        .iter()
        .map(|s| {
            let Notification::ObjDeletion(d) = s.notification() else { panic!("{s:?}") };
            (s.notify.subscription_id.as_str(), d.obj_path.clone())
        })
        .collect();
    assert_eq!(
        got,
        [
            ("subs", "Device.Test.Item.1.Sub.1.".to_string()),
            ("items", "Device.Test.Item.1.".into())
        ],
        "the child first, with its parent"
    );
}

#[test]
fn event_notification_carries_its_arguments() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "ev", "Event", "Device.Test.Ping!", &[]);
    subscribe(&mut h, "other", "Event", "Device.Boot!", &[]);
    let op = msg::Operate {
        command: "Device.Test.Item.1.Reset()".into(),
        command_key: "k".into(),
        send_resp: true,
        input_args: [("Level".to_string(), "99".to_string())].into(),
    };
    let out = send_raw(&mut h, &Msg::request("o", ReqType::Operate(op)));
    let n = one_notify(&out);
    assert_eq!(n.notify.subscription_id, "ev");
    let Notification::Event(e) = n.notification() else { panic!("{n:?}") };
    assert_eq!((e.obj_path.as_str(), e.event_name.as_str()), ("Device.Test.", "Ping!"));
    assert_eq!(e.params.get("Count").map(String::as_str), Some("99"));
}

#[test]
fn tp469_9_11_schedule_timer_operation_complete() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "oc", "OperationComplete", "Device.", &[]);
    let op = msg::Operate {
        command: "Device.ScheduleTimer()".into(),
        command_key: "timer".into(),
        send_resp: true,
        input_args: [("DelaySeconds".to_string(), "3".to_string())].into(),
    };
    assert!(notifies(&send_raw(&mut h, &Msg::request("o", ReqType::Operate(op)))).is_empty());
    assert!(h.advance(2).is_empty());
    let n = one_notify(&h.advance(1));
    let Notification::OperComplete(oc) = n.notification() else { panic!("{n:?}") };
    assert_eq!((oc.obj_path.as_str(), oc.command_name.as_str()), ("Device.", "ScheduleTimer()"));
    assert_eq!(oc.command_key, "timer");
}

#[test]
fn value_changes_pushed_by_a_plugin_are_notified() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "st", "ValueChange", "Device.Test.Item.2.Status", &[]);
    let op = msg::Operate {
        command: "Device.Test.Item.*.Reset()".into(),
        command_key: String::new(),
        send_resp: false,
        input_args: [("Level".to_string(), "98".to_string())].into(),
    };
    let n = one_notify(&send_raw(&mut h, &Msg::request("o", ReqType::Operate(op))));
    assert_eq!(value_change(&n), ("Device.Test.Item.2.Status".into(), "Down".into()));
}

#[test]
fn live_parameters_are_polled_while_subscribed() {
    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "up", "ValueChange", "Device.Test.UpTime", &[]);
    assert_eq!(h.core.dm().watched(), 1);
    let (waited, out) = h.advance_to_timer(10);
    assert_eq!(waited, 5, "the default poll interval");
    let n = one_notify(&out);
    assert_eq!(value_change(&n), ("Device.Test.UpTime".into(), "105".into()));
    delete(&mut h, &s);
    assert_eq!(h.core.dm().watched(), 0, "nothing left to poll");
    assert!(h.advance(5).is_empty());
}

#[test]
fn polling_follows_new_instances_of_a_wildcard() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "st", "ValueChange", "Device.Test.Item.*.Status", &[]);
    assert_eq!(h.core.dm().watched(), 2);
    h.default("Device.Test.Item.5.Name", "e");
    h.advance(0);
    assert_eq!(h.core.dm().watched(), 3);
    // Status never changes: no notification.
    assert!(notifies(&h.advance(5)).is_empty());
}

#[test]
fn each_subscription_notifies_its_own_recipient() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::other");
    h.default("Device.LocalAgent.Controller.2.AssignedRole", FULL_ACCESS);
    h.default("Device.LocalAgent.Subscription.7.ID", "theirs");
    h.default("Device.LocalAgent.Subscription.7.NotifType", "ValueChange");
    h.default("Device.LocalAgent.Subscription.7.ReferenceList", "Device.Test.Label");
    h.default("Device.LocalAgent.Subscription.7.Recipient", "Device.LocalAgent.Controller.2.");
    h.default("Device.LocalAgent.Subscription.7.Enable", "true");
    subscribe(&mut h, "mine", "ValueChange", "Device.Test.Label", &[]);
    let n = notifies(&set(&mut h, "Device.Test.", "Label", "x"));
    let got: Vec<(&str, &str)> =
        n.iter().map(|s| (s.to.as_str(), s.notify.subscription_id.as_str())).collect();
    assert_eq!(got, [("self::other", "theirs"), (CTRL, "mine")]);
}

#[test]
fn tp469_1_78_subscriptions_of_a_deleted_controller_are_removed() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::other");
    h.default("Device.LocalAgent.Subscription.7.ID", "theirs");
    h.default("Device.LocalAgent.Subscription.7.Recipient", "Device.LocalAgent.Controller.2");
    subscribe(&mut h, "mine", "ValueChange", "Device.Test.Label", &[]);
    h.advance(0);
    assert_eq!(h.rows("Device.LocalAgent.Subscription.").len(), 2);
    delete(&mut h, "Device.LocalAgent.Controller.2.");
    assert_eq!(h.rows("Device.LocalAgent.Subscription."), ["Device.LocalAgent.Subscription.8."]);
    assert!(!h.store.has_row("Device.LocalAgent.Subscription.7."), "deleted from the store too");
}

#[test]
fn config_watch_still_reports_changes() {
    let mut h = Harness::builtin();
    h.core.watch_config(&["Device.LocalAgent.MTP."]);
    set(&mut h, "Device.Test.", "Label", "x");
    assert!(!h.core.take_config_changed());
    h.default("Device.LocalAgent.MTP.1.Protocol", "MQTT");
    h.advance(0);
    assert!(h.core.take_config_changed());
    assert!(!h.core.take_config_changed());
}

#[test]
fn trigger_config_applies_what_the_recipient_may_write() {
    let mut h = Harness::builtin();
    let settings =
        r#"Device.Test.Item.[Count>1].Name="x,y",Device.Test.UpTime=3,Device.Test.Item.1.Count=9"#;
    let extra = [("TriggerAction", "Config"), ("TriggerConfigSettings", settings)];
    subscribe(&mut h, "trig", "ValueChange", "Device.Test.Label", &extra);
    let out = set(&mut h, "Device.Test.", "Label", "go");
    assert!(notifies(&out).is_empty(), "Config alone sends no Notify");
    assert_eq!(h.value("Device.Test.Item.2.Name").as_deref(), Some("x,y"), "quoted, search path");
    assert_eq!(h.value("Device.Test.Item.1.Name").as_deref(), Some("a"));
    assert_eq!(h.value("Device.Test.Item.1.Count").as_deref(), Some("9"), "after a refused item");
}

#[test]
fn trigger_config_changes_are_notified_like_any_other() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "count", "ValueChange", "Device.Test.Item.1.Count", &[]);
    let extra = [
        ("TriggerAction", "NotifyAndConfig"),
        ("TriggerConfigSettings", "Device.Test.Item.1.Count=42"),
    ];
    subscribe(&mut h, "trig", "ValueChange", "Device.Test.Label", &extra);
    let sent = notifies(&set(&mut h, "Device.Test.", "Label", "go"));
    let got: Vec<(&str, String)> =
        sent.iter().map(|s| (s.notify.subscription_id.as_str(), value_change(s).1)).collect();
    assert_eq!(got, [("trig", "go".to_string()), ("count", "42".to_string())]);
}
