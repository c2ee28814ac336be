//! Every USP message type over MQTT 5.0 and 3.1.1, the Connect Record and Boot! at connect, a
//! ValueChange and an OperationComplete notification delivered over MQTT.

use std::collections::BTreeMap;

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
use usp_proto::msg::delete_resp::deleted_object_result::operation_status::OperStatus as DelStatus;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;
use usp_proto::msg::{
    Add, Delete, GetInstances, GetSupportedDm, GetSupportedProtocol, Operate, Set,
};
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::Ctl;
use crate::setup::{self, AGENT, AGENT_TOPIC, CTL};

/// Get of `paths`: every `path.param` → value; panics on a path error.
pub fn get(ctl: &mut Ctl, agent: &RunningAgent, paths: &[&str]) -> BTreeMap<String, String> {
    ctl.get_values(agent, paths)
}

/// Set of one parameter (`obj` is the object path with its dot); panics unless it succeeded.
pub fn set(ctl: &mut Ctl, agent: &RunningAgent, obj: &str, param: &str, value: &str) {
    let set = Set {
        allow_partial: false,
        update_objs: vec![UpdateObject {
            obj_path: obj.into(),
            param_settings: vec![UpdateParamSetting {
                param: param.into(),
                value: value.into(),
                required: true,
            }],
        }],
    };
    let RespType::SetResp(resp) = ctl.call(ReqType::Set(set), agent) else { panic!("SetResp") };
    let status = resp.updated_obj_results[0].oper_status.clone().and_then(|s| s.oper_status);
    assert!(matches!(status, Some(SetStatus::OperSuccess(_))), "{status:?}");
}

/// Adds a subscription for the controller; returns its instance path.
pub fn add_subscription(
    ctl: &mut Ctl,
    agent: &RunningAgent,
    id: &str,
    kind: &str,
    refs: &str,
) -> String {
    let param = |name: &str, value: &str| CreateParamSetting {
        param: name.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                param("ID", id),
                param("NotifType", kind),
                param("ReferenceList", refs),
                param("Persistent", "true"),
                param("Enable", "true"),
            ],
        }],
    };
    let RespType::AddResp(resp) = ctl.call(ReqType::Add(add), agent) else { panic!("AddResp") };
    match resp.created_obj_results[0].oper_status.clone().and_then(|s| s.oper_status) {
        Some(AddStatus::OperSuccess(ok)) => ok.instantiated_path,
        other => panic!("add failed: {other:?}"),
    }
}

/// The instances GetInstances lists under `obj`.
pub fn instances(ctl: &mut Ctl, agent: &RunningAgent, obj: &str) -> Vec<String> {
    let gi = GetInstances { obj_paths: vec![obj.into()], first_level_only: true };
    let RespType::GetInstancesResp(resp) = ctl.call(ReqType::GetInstances(gi), agent) else {
        panic!("GetInstancesResp")
    };
    assert_eq!(resp.req_path_results[0].err_code, 0, "{resp:?}");
    resp.req_path_results[0].curr_insts.iter().map(|i| i.instantiated_obj_path.clone()).collect()
}

fn operate(ctl: &mut Ctl, agent: &RunningAgent, cmd: &str, args: &[(&str, &str)]) -> OperationResp {
    let op = Operate {
        command: cmd.into(),
        command_key: "e2e-key".into(),
        send_resp: true,
        input_args: args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    };
    let RespType::OperateResp(resp) = ctl.call(ReqType::Operate(op), agent) else {
        panic!("OperateResp")
    };
    resp.operation_results[0].operation_resp.clone().expect("an operation result")
}

fn every_message_type(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), v5, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), v5), &[]);

    // The MQTTConnectRecord first, then Boot! with the serial number as ParameterMap.
    let hello = ctl.connect_record(&agent);
    assert_eq!((hello.record.from_id.as_str(), hello.record.to_id.as_str()), (AGENT, CTL));
    let Some(RecordType::MqttConnect(c)) = &hello.record.record_type else { unreachable!() };
    let want = if v5 { MqttVersion::V5 } else { MqttVersion::V311 };
    assert_eq!((c.version, c.subscribed_topic.as_str()), (want as i32, AGENT_TOPIC));
    let (boot, _) = ctl.notify("Boot!", &agent, |n| {
        matches!(n, Notification::Event(e) if e.event_name == "Boot!"
            && e.params.get("ParameterMap").is_some_and(|m| m.contains("S-E2E")))
    });
    assert!(boot.seq > hello.seq, "Boot! came before the MQTTConnectRecord");

    // Get and Set.
    let serial = get(&mut ctl, &agent, &["Device.DeviceInfo.SerialNumber"]);
    assert_eq!(serial["Device.DeviceInfo.SerialNumber"], "S-E2E");
    let interval = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";
    set(&mut ctl, &agent, "Device.LocalAgent.Controller.1.", "PeriodicNotifInterval", "3600");
    assert_eq!(get(&mut ctl, &agent, &[interval])[interval], "3600");

    // Add a ValueChange subscription; a Set then notifies over MQTT.
    let vc = add_subscription(&mut ctl, &agent, "vc", "ValueChange", interval);
    set(&mut ctl, &agent, "Device.LocalAgent.Controller.1.", "PeriodicNotifInterval", "7200");
    ctl.notify("ValueChange", &agent, |n| {
        matches!(n, Notification::ValueChange(v) if v.param_path == interval && v.param_value == "7200")
    });

    // GetInstances sees it, Delete removes it.
    assert!(instances(&mut ctl, &agent, "Device.LocalAgent.Subscription.").contains(&vc));
    let del = Delete { allow_partial: false, obj_paths: vec![vc.clone()] };
    let RespType::DeleteResp(resp) = ctl.call(ReqType::Delete(del), &agent) else { panic!() };
    let status = resp.deleted_obj_results[0].oper_status.clone().and_then(|s| s.oper_status);
    assert!(matches!(status, Some(DelStatus::OperSuccess(_))), "{status:?}");
    assert!(!instances(&mut ctl, &agent, "Device.LocalAgent.Subscription.").contains(&vc));

    // Operate, synchronous: output arguments in the response, and the OnBoardRequest sent.
    let sync =
        operate(&mut ctl, &agent, "Device.LocalAgent.Controller.1.SendOnBoardRequest()", &[]);
    assert!(matches!(sync, OperationResp::ReqOutputArgs(_)), "{sync:?}");
    ctl.notify("OnBoardRequest", &agent, |n| matches!(n, Notification::OnBoardReq(_)));

    // Operate, asynchronous: a Request object, then OperationComplete when subscribed.
    add_subscription(&mut ctl, &agent, "done", "OperationComplete", "Device.ScheduleTimer()");
    let timer = operate(&mut ctl, &agent, "Device.ScheduleTimer()", &[("DelaySeconds", "1")]);
    let OperationResp::ReqObjPath(req) = timer else { panic!("not async: {timer:?}") };
    assert!(req.starts_with("Device.LocalAgent.Request."), "{req}");
    ctl.notify(
        "OperationComplete",
        &agent,
        |n| matches!(n, Notification::OperComplete(o) if o.command_name == "ScheduleTimer()"),
    );

    // GetSupportedDM and GetSupportedProtocol.
    let gsdm = GetSupportedDm {
        obj_paths: vec!["Device.LocalAgent.".into()],
        first_level_only: false,
        return_commands: true,
        return_events: true,
        return_params: true,
        return_unique_key_sets: true,
    };
    let RespType::GetSupportedDmResp(dm) = ctl.call(ReqType::GetSupportedDm(gsdm), &agent) else {
        panic!("GetSupportedDMResp")
    };
    assert_eq!(dm.req_obj_results[0].err_code, 0, "{dm:?}");
    let objs = &dm.req_obj_results[0].supported_objs;
    assert!(objs.iter().any(|o| o.supported_obj_path == "Device.LocalAgent.Subscription.{i}."));
    let gsp = GetSupportedProtocol { controller_supported_protocol_versions: "1.3,1.4".into() };
    let RespType::GetSupportedProtocolResp(p) =
        ctl.call(ReqType::GetSupportedProtocol(gsp), &agent)
    else {
        panic!("GetSupportedProtocolResp")
    };
    assert!(p.agent_supported_protocol_versions.split(',').any(|v| v == "1.4"), "{p:?}");
}

#[test]
fn every_message_type_over_mqtt_5() {
    every_message_type(true);
}

#[test]
fn every_message_type_over_mqtt_3_1_1() {
    every_message_type(false);
}

/// `Device.MQTT.Client.1.Stats.` counts every Record the agent publishes and receives.
#[test]
fn mqtt_stats_count_every_record_both_ways() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    ctl.notify("Boot!", &agent, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    let stats = "Device.MQTT.Client.1.Stats.";
    let before = get(&mut ctl, &agent, &[stats]);
    for _ in 0..5 {
        get(&mut ctl, &agent, &["Device.DeviceInfo.SerialNumber"]);
    }
    let after = get(&mut ctl, &agent, &[stats]);
    let text = |m: &BTreeMap<String, String>, name: &str| m[&format!("{stats}{name}")].clone();
    let n = |m: &BTreeMap<String, String>, name: &str| -> u64 {
        text(m, name).parse().unwrap_or_else(|e| panic!("{name}: {e}: {m:?}"))
    };
    // Between the two reads: in, the 5 Gets and the second read; out, the answer to the first
    // read and the 5 answers.
    for name in ["PublishReceived", "PublishSent", "MQTTMessagesReceived", "MQTTMessagesSent"] {
        assert_eq!(n(&after, name) - n(&before, name), 6, "{name}: {before:?} {after:?}");
    }
    // Before the first read: the MQTTConnectRecord and Boot! out; the read itself in;
    // CONNECT and SUBSCRIBE out, CONNACK and SUBACK in.
    assert!(n(&before, "PublishSent") >= 2, "{before:?}");
    assert!(n(&before, "PublishReceived") >= 1, "{before:?}");
    assert!(n(&before, "SubscribeSent") >= 1, "{before:?}");
    assert!(n(&before, "MQTTMessagesSent") >= n(&before, "PublishSent") + 2, "{before:?}");
    assert_eq!((n(&after, "ConnectionErrors"), n(&after, "PublishErrors")), (0, 0));
    let unknown = "0001-01-01T00:00:00Z";
    for name in ["BrokerConnectionEstablished", "LastPublishMessageSent"] {
        assert_ne!(text(&before, name), unknown, "{name}");
    }
    let last = |m: &BTreeMap<String, String>| text(m, "LastPublishMessageReceived");
    assert!(last(&before) != unknown && last(&after) >= last(&before), "{before:?} {after:?}");
}
