//! The links as the core sees them: Connect Records when a link comes up, notifications held
//! for unreachable controllers and released after the Connect Record, DisconnectRecords at
//! shutdown, and link state written by the host notified at once.

use usp_datamodel::plugin::Requester;
use usp_datamodel::value::Value;
use usp_datamodel::{DataModel, ErrorCode};
use usp_proto::msg::notify::Notification;
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::record::RecordType;

use super::harness::*;
use super::subs::*;
use crate::{BootInfo, ConnectKind, LinkUp, MAX_HELD, Outgoing, disconnect_record};

fn mqtt_up(controllers: &[&str]) -> LinkUp {
    LinkUp {
        controllers: controllers.iter().map(|c| (*c).to_owned()).collect(),
        kind: ConnectKind::Mqtt { version: MqttVersion::V5, subscribed_topic: "usp/agent".into() },
    }
}

fn is_mqtt_connect(o: &Outgoing) -> bool {
    matches!(&o.record.record_type, Some(RecordType::MqttConnect(c)) if c.subscribed_topic == "usp/agent")
}

#[test]
fn boot_is_held_until_a_link_reaches_the_controller_then_follows_the_connect_record() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "boot", "Event", "Device.Boot!", &[]);
    let out = h.core.boot(h.now, BootInfo::local(false, false));
    let boot = out.into_iter().next().unwrap();
    // The host had no link up towards the controller.
    h.core.undeliverable(boot.clone());
    assert_eq!(h.core.held(CTRL), 1);

    let out = h.core.link_up(h.now, mqtt_up(&[CTRL]));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].in_reply && is_mqtt_connect(&out[0]), "the Connect Record on the link");
    assert_eq!((out[0].record.to_id.as_str(), out[0].record.from_id.as_str()), (CTRL, AGENT));
    assert_eq!(out[1], boot, "then the held Boot!");
    let n = one_notify(&out[1..]);
    assert_eq!(n.notify.subscription_id, "boot");
    assert_eq!(h.core.held(CTRL), 0);

    // The next time the link comes up, only the Connect Record.
    let out = h.core.link_up(h.now, mqtt_up(&[CTRL]));
    assert_eq!(out.len(), 1);
}

#[test]
fn a_link_reaching_another_controller_releases_nothing_held_for_this_one() {
    let mut h = Harness::builtin();
    let bye = disconnect_record(CTRL, AGENT, "x", ErrorCode::Other(0));
    h.core.undeliverable(Outgoing { to: CTRL.into(), record: bye, in_reply: false });
    let out = h.core.link_up(
        h.now,
        LinkUp { controllers: vec!["proto::other".into()], kind: ConnectKind::WebSocket },
    );
    assert_eq!(out.len(), 1);
    assert!(matches!(out[0].record.record_type, Some(RecordType::WebsocketConnect(_))));
    assert_eq!(h.core.held(CTRL), 1);
}

#[test]
fn at_most_max_held_per_controller_the_oldest_dropped() {
    let mut h = Harness::builtin();
    for i in 0..MAX_HELD + 6 {
        let record = disconnect_record(CTRL, AGENT, &i.to_string(), ErrorCode::Other(0));
        h.core.undeliverable(Outgoing { to: CTRL.into(), record, in_reply: false });
    }
    assert_eq!(h.core.held(CTRL), MAX_HELD);
    let out = h.core.link_up(h.now, mqtt_up(&[CTRL]));
    assert_eq!(out.len(), 1 + MAX_HELD);
    let reason = |o: &Outgoing| match &o.record.record_type {
        Some(RecordType::Disconnect(d)) => d.reason.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(reason(&out[1]), "6", "the six oldest were dropped");
    assert_eq!(reason(&out[MAX_HELD]), (MAX_HELD + 5).to_string());
}

#[test]
fn shutdown_says_goodbye_to_each_reachable_controller() {
    let mut h = Harness::builtin();
    let out = h.core.shutdown(vec![CTRL.into(), "proto::other".into()], "agent shutting down");
    assert_eq!(out.len(), 2);
    for (o, to) in out.iter().zip([CTRL, "proto::other"]) {
        assert_eq!((o.to.as_str(), o.in_reply), (to, false));
        let Some(RecordType::Disconnect(d)) = &o.record.record_type else { panic!("{o:?}") };
        assert_eq!((d.reason.as_str(), d.reason_code), ("agent shutting down", 0));
    }
}

/// Writes `Device.Test.Label` as the host's link code would write a Status.
fn write_label(dm: &mut DataModel, text: &str) {
    let obj = dm.schema().obj_by_path("Device.Test.").unwrap();
    let label = dm.schema().param_by_name(obj, "Label").unwrap();
    dm.begin(Requester::Internal);
    dm.set_values(obj, &[], &[(label, Value::String(text.into()))]).unwrap();
    dm.commit();
}

#[test]
fn link_state_written_by_the_host_is_notified_at_once_and_is_no_configuration_change() {
    let mut h = Harness::builtin();
    h.core.watch_config(&["Device.Test."]);
    subscribe(&mut h, "lbl", "ValueChange", "Device.Test.Label", &[]);
    h.advance(0);
    let _ = h.core.take_config_changed();
    let ((), out) = h.core.with_links(h.now, |dm| write_label(dm, "Up"));
    let n = one_notify(&out);
    let Notification::ValueChange(v) = n.notification() else { panic!("{n:?}") };
    assert_eq!((v.param_path.as_str(), v.param_value.as_str()), ("Device.Test.Label", "Up"));
    assert!(!h.core.take_config_changed());
    assert_ne!(h.core.poll_timeout(), Some(h.now.uptime), "nothing left waiting");
}
