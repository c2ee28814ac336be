//! TP-469 1.66–1.77, 1.80, 1.83, 1.97–1.99, 1.105–1.107: GetInstances, GetSupportedDM and
//! GetSupportedProtocol.

use usp_proto::msg::get_instances_resp::RequestedPathResult as InstResult;
use usp_proto::msg::get_supported_dm_resp::{RequestedObjectResult, SupportedObjectResult};

use super::*;

fn instances(h: &mut Harness, paths: &[&str], first_level_only: bool) -> Vec<InstResult> {
    let gi = msg::GetInstances {
        obj_paths: paths.iter().map(|p| (*p).into()).collect(),
        first_level_only,
    };
    let RespType::GetInstancesResp(r) = h.response(ReqType::GetInstances(gi)) else { panic!() };
    assert_eq!(r.req_path_results.len(), paths.len());
    r.req_path_results
}

fn inst_paths(r: &InstResult) -> Vec<&str> {
    r.curr_insts.iter().map(|i| i.instantiated_obj_path.as_str()).collect()
}

/// The test controller with an MTP row and a BootParameter row, and a second controller.
fn controllers(h: &mut Harness) {
    h.default(&format!("{CTRL_ROW}MTP.1.Protocol"), "MQTT");
    h.default(&format!("{CTRL_ROW}BootParameter.1.ParameterName"), "Device.DeviceInfo.");
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::second");
    h.default("Device.LocalAgent.MTP.1.Protocol", "MQTT");
}

#[test]
fn tp469_1_66_get_instances_first_level_only() {
    let mut h = Harness::builtin();
    controllers(&mut h);
    let r = instances(&mut h, &["Device.LocalAgent.Controller."], true);
    assert_eq!(r[0].err_code, 0);
    assert_eq!(
        inst_paths(&r[0]),
        ["Device.LocalAgent.Controller.1.", "Device.LocalAgent.Controller.2."]
    );
    let keys: Vec<&str> = r[0].curr_insts[0].unique_keys.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Alias", "EndpointID"]);
}

#[test]
fn tp469_1_67_get_instances_all_levels() {
    let mut h = Harness::builtin();
    controllers(&mut h);
    let r = instances(&mut h, &["Device.LocalAgent.Controller."], false);
    let paths = inst_paths(&r[0]);
    for want in [
        "Device.LocalAgent.Controller.1.",
        "Device.LocalAgent.Controller.1.MTP.1.",
        "Device.LocalAgent.Controller.1.BootParameter.1.",
        "Device.LocalAgent.Controller.2.",
    ] {
        assert!(paths.contains(&want), "{want} in {paths:?}");
    }
}

#[test]
fn tp469_1_68_get_instances_multiple_objects() {
    let mut h = Harness::builtin();
    controllers(&mut h);
    let r = instances(&mut h, &["Device.LocalAgent.Controller.", "Device.LocalAgent.MTP."], true);
    assert!(!r[0].curr_insts.is_empty() && !r[1].curr_insts.is_empty());
    assert_eq!(inst_paths(&r[1]), ["Device.LocalAgent.MTP.1."]);
}

#[test]
fn tp469_1_70_get_instances_wildcard() {
    let mut h = Harness::builtin();
    controllers(&mut h);
    let r = instances(&mut h, &["Device.LocalAgent.Controller.*.MTP."], true);
    assert_eq!(inst_paths(&r[0]), ["Device.LocalAgent.Controller.1.MTP.1."]);
}

#[test]
fn tp469_1_71_and_1_83_get_instances_search_expression() {
    let mut h = Harness::builtin();
    controllers(&mut h);
    let alias = h.value(&format!("{CTRL_ROW}Alias")).unwrap();
    let path = format!("Device.LocalAgent.Controller.[Alias==\"{alias}\"].BootParameter.");
    let none = "Device.LocalAgent.Controller.[Alias==\"nobody\"].BootParameter.";
    let r = instances(&mut h, &[&path, none], false);
    assert_eq!(inst_paths(&r[0]), ["Device.LocalAgent.Controller.1.BootParameter.1."]);
    assert_eq!((r[1].err_code, r[1].curr_insts.len()), (0, 0));
}

fn gsdm(h: &mut Harness, paths: &[&str], first_level_only: bool, flags: [bool; 4]) -> GsdmResult {
    let [return_commands, return_events, return_params, return_unique_key_sets] = flags;
    let req = msg::GetSupportedDm {
        obj_paths: paths.iter().map(|p| (*p).into()).collect(),
        first_level_only,
        return_commands,
        return_events,
        return_params,
        return_unique_key_sets,
    };
    let RespType::GetSupportedDmResp(r) = h.response(ReqType::GetSupportedDm(req)) else {
        panic!()
    };
    assert_eq!(r.req_obj_results.len(), paths.len());
    r.req_obj_results
}

type GsdmResult = Vec<RequestedObjectResult>;

const ALL: [bool; 4] = [true; 4];

fn objs(r: &RequestedObjectResult) -> Vec<&str> {
    r.supported_objs.iter().map(|o| o.supported_obj_path.as_str()).collect()
}

fn is_bare(o: &SupportedObjectResult) -> bool {
    o.supported_params.is_empty()
        && o.supported_commands.is_empty()
        && o.supported_events.is_empty()
        && o.unique_key_sets.is_empty()
}

#[test]
fn tp469_1_72_gsdm_single_object_all_options() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device.LocalAgent."], false, ALL);
    assert_eq!(r[0].err_code, 0);
    let paths = objs(&r[0]);
    assert_eq!(paths[0], "Device.LocalAgent.");
    assert!(paths.contains(&"Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT."), "{paths:?}");
    let sub = &r[0].supported_objs[paths.iter().position(|p| *p == SUBS_SUPPORTED).unwrap()];
    assert!(sub.is_multi_instance);
    assert_eq!(sub.unique_key_sets.len(), 2);
    assert!(sub.supported_params.iter().all(|p| !p.param_name.is_empty()));
}

const SUBS_SUPPORTED: &str = "Device.LocalAgent.Subscription.{i}.";

#[test]
fn tp469_1_73_and_1_74_gsdm_first_level_only() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device.LocalAgent."], true, ALL);
    let paths = objs(&r[0]);
    assert_eq!(paths[0], "Device.LocalAgent.");
    assert!(paths.contains(&"Device.LocalAgent.Controller.{i}."));
    assert!(!paths.contains(&"Device.LocalAgent.Controller.{i}.MTP.{i}."), "{paths:?}");
    let top = &r[0].supported_objs[0];
    assert!(!top.supported_params.is_empty() && !top.supported_events.is_empty());
    assert!(top.unique_key_sets.is_empty(), "a single-instance object has no keys");
    for child in &r[0].supported_objs[1..] {
        assert!(child.supported_params.is_empty(), "{}", child.supported_obj_path);
        assert!(child.supported_commands.is_empty() && child.supported_events.is_empty());
    }
    let r = gsdm(&mut h, &["Device.LocalAgent."], true, [false; 4]);
    assert!(r[0].supported_objs.iter().all(is_bare));
}

#[test]
fn tp469_1_75_gsdm_multiple_objects_first_level_only() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device.LocalAgent.Controller.", "Device.LocalAgent.MTP."], true, ALL);
    assert_eq!(objs(&r[0])[0], "Device.LocalAgent.Controller.{i}.");
    assert!(objs(&r[0]).contains(&"Device.LocalAgent.Controller.{i}.BootParameter.{i}."));
    assert_eq!(objs(&r[1])[0], "Device.LocalAgent.MTP.{i}.");
    let ctrl = &r[0].supported_objs[0];
    assert!(!ctrl.supported_params.is_empty() && !ctrl.supported_commands.is_empty());
    assert_eq!(ctrl.unique_key_sets.len(), 2);
    let boot =
        r[0].supported_objs.iter().find(|o| o.supported_obj_path.ends_with("BootParameter.{i}."));
    assert_eq!(boot.unwrap().unique_key_sets.len(), 2, "key_names of immediate children too");
}

#[test]
fn tp469_1_76_gsdm_root() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device."], false, ALL);
    assert_eq!(r[0].err_code, 0);
    assert_eq!(r[0].supported_objs[0].supported_obj_path, "Device.");
    let commands: Vec<&str> =
        r[0].supported_objs[0].supported_commands.iter().map(|c| c.command_name.as_str()).collect();
    assert!(commands.contains(&"Reboot()") && commands.contains(&"ScheduleTimer()"));
}

#[test]
fn tp469_1_77_gsdm_unsupported_object() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device.LocalAgent.UnsupportedObject."], false, ALL);
    assert_eq!(r[0].err_code, 7026);
    assert!(r[0].supported_objs.is_empty());
}

#[test]
fn tp469_1_80_get_supported_protocol() {
    let mut h = Harness::builtin();
    let req = msg::GetSupportedProtocol { controller_supported_protocol_versions: "1.4".into() };
    let RespType::GetSupportedProtocolResp(r) = h.response(ReqType::GetSupportedProtocol(req))
    else {
        panic!()
    };
    assert_eq!(r.agent_supported_protocol_versions, "1.0,1.1,1.2,1.3,1.4");
}

#[test]
fn tp469_1_97_and_1_98_gsdm_root_commands_and_events() {
    let mut h = Harness::builtin();
    let r = gsdm(&mut h, &["Device."], false, [true, false, false, false]);
    assert!(r[0].supported_objs.iter().all(|o| o.supported_params.is_empty()
        && o.supported_events.is_empty()
        && o.unique_key_sets.is_empty()));
    let timer = r[0].supported_objs[0]
        .supported_commands
        .iter()
        .find(|c| c.command_name == "ScheduleTimer()")
        .unwrap();
    assert_eq!(timer.input_arg_names, ["DelaySeconds"]);
    let r = gsdm(&mut h, &["Device."], false, [false, true, false, false]);
    assert!(r[0].supported_objs.iter().all(|o| o.supported_commands.is_empty()));
    let boot = r[0].supported_objs[0].supported_events.iter().find(|e| e.event_name == "Boot!");
    assert!(boot.unwrap().arg_names.contains(&"ParameterMap".to_string()));
}

#[test]
fn tp469_1_99_gsdm_unique_key_sets() {
    let mut h = Harness::builtin();
    // The plan's path has no trailing dot.
    let r = gsdm(&mut h, &["Device.LocalAgent.Subscription"], false, [false, false, false, true]);
    assert_eq!(r[0].err_code, 0, "{:?}", r[0]);
    let sub = &r[0].supported_objs[0];
    assert_eq!(sub.supported_obj_path, SUBS_SUPPORTED);
    let sets: Vec<&Vec<String>> = sub.unique_key_sets.iter().map(|s| &s.key_names).collect();
    assert_eq!(sets, [&vec!["Alias".to_string()], &vec!["Recipient".into(), "ID".into()]]);
    assert!(sub.supported_params.is_empty());
}

#[test]
fn tp469_1_105_to_1_107_gsdm_command_event_parameter() {
    let mut h = Harness::builtin();
    let paths = ["Device.Reboot()", "Device.Boot!", "Device.LocalAgent.EndpointID"];
    let r = gsdm(&mut h, &paths, false, ALL);
    for one in &r {
        assert_eq!(one.err_code, 0, "{one:?}");
        assert_eq!(one.supported_objs.len(), 1);
    }
    let reboot = &r[0].supported_objs[0];
    assert_eq!(reboot.supported_commands.len(), 1);
    assert!(reboot.supported_events.is_empty() && reboot.supported_params.is_empty());
    let boot = &r[1].supported_objs[0];
    assert_eq!(boot.supported_events.len(), 1);
    assert!(boot.supported_commands.is_empty() && boot.unique_key_sets.is_empty());
    let eid = &r[2].supported_objs[0];
    assert_eq!(eid.supported_params.len(), 1);
    assert_eq!(eid.supported_params[0].param_name, "EndpointID");
    assert!(eid.supported_commands.is_empty() && eid.supported_events.is_empty());
}

/// The parameters of the profiles TP-469 6.1 (STOMPConn:1, STOMPController:1) and 11.1
/// (MQTTClientCon:1, MQTTClientSubscribe:1 with MQTTClientBase:1, MQTTAgent:1,
/// MQTTController:1 with Controllers:1) ask for, as TR-181 2.19.1 lists them, plus LocalAgent:1,
/// Subscriptions:1 (the plan's minimum) and Reboot:1.
const PROFILES: &[&str] = &[
    "Device.STOMP.ConnectionNumberOfEntries",
    "Device.STOMP.Connection.{i}.Alias",
    "Device.STOMP.Connection.{i}.Enable",
    "Device.STOMP.Connection.{i}.Status",
    "Device.STOMP.Connection.{i}.Host",
    "Device.STOMP.Connection.{i}.Port",
    "Device.STOMP.Connection.{i}.VirtualHost",
    "Device.STOMP.Connection.{i}.ServerRetryInitialInterval",
    "Device.STOMP.Connection.{i}.ServerRetryIntervalMultiplier",
    "Device.STOMP.Connection.{i}.ServerRetryMaxInterval",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.STOMP.Reference",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.STOMP.Destination",
    "Device.MQTT.ClientNumberOfEntries",
    "Device.MQTT.Capabilities.ProtocolVersionsSupported",
    "Device.MQTT.Capabilities.TransportProtocolSupported",
    "Device.MQTT.Client.{i}.Enable",
    "Device.MQTT.Client.{i}.Status",
    "Device.MQTT.Client.{i}.ProtocolVersion",
    "Device.MQTT.Client.{i}.BrokerAddress",
    "Device.MQTT.Client.{i}.BrokerPort",
    "Device.MQTT.Client.{i}.CleanSession",
    "Device.MQTT.Client.{i}.KeepAliveTime",
    "Device.MQTT.Client.{i}.Name",
    "Device.MQTT.Client.{i}.ClientID",
    "Device.MQTT.Client.{i}.Username",
    "Device.MQTT.Client.{i}.Password",
    "Device.MQTT.Client.{i}.TransportProtocol",
    "Device.MQTT.Client.{i}.MessageRetryTime",
    "Device.MQTT.Client.{i}.ConnectRetryTime",
    "Device.MQTT.Client.{i}.ConnectRetryIntervalMultiplier",
    "Device.MQTT.Client.{i}.ConnectRetryMaxInterval",
    "Device.MQTT.Client.{i}.ResponseInformation",
    "Device.MQTT.Client.{i}.Stats.BrokerConnectionEstablished",
    "Device.MQTT.Client.{i}.Stats.MQTTMessagesSent",
    "Device.MQTT.Client.{i}.Stats.MQTTMessagesReceived",
    "Device.MQTT.Client.{i}.Stats.ConnectionErrors",
    "Device.MQTT.Client.{i}.SubscriptionNumberOfEntries",
    "Device.MQTT.Client.{i}.Subscription.{i}.Topic",
    "Device.MQTT.Client.{i}.Subscription.{i}.QoS",
    "Device.MQTT.Client.{i}.Subscription.{i}.Enable",
    "Device.LocalAgent.MTP.{i}.MQTT.Reference",
    "Device.LocalAgent.MTP.{i}.MQTT.ResponseTopicConfigured",
    "Device.LocalAgent.MTP.{i}.MQTT.ResponseTopicDiscovered",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Reference",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Topic",
    "Device.LocalAgent.ControllerNumberOfEntries",
    "Device.LocalAgent.Controller.{i}.Enable",
    "Device.LocalAgent.Controller.{i}.Alias",
    "Device.LocalAgent.Controller.{i}.EndpointID",
    "Device.LocalAgent.Controller.{i}.AssignedRole",
    "Device.LocalAgent.Controller.{i}.PeriodicNotifInterval",
    "Device.LocalAgent.Controller.{i}.MTPNumberOfEntries",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.Enable",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.Alias",
    "Device.LocalAgent.Controller.{i}.MTP.{i}.Protocol",
    "Device.LocalAgent.EndpointID",
    "Device.LocalAgent.AdvertisedDeviceSubtypes",
    "Device.LocalAgent.MTPNumberOfEntries",
    "Device.LocalAgent.MTP.{i}.Alias",
    "Device.LocalAgent.MTP.{i}.Protocol",
    "Device.LocalAgent.SubscriptionNumberOfEntries",
    "Device.LocalAgent.Subscription.{i}.Enable",
    "Device.LocalAgent.Subscription.{i}.Alias",
    "Device.LocalAgent.Subscription.{i}.ID",
    "Device.LocalAgent.Subscription.{i}.Recipient",
    "Device.LocalAgent.Subscription.{i}.CreationDate",
    "Device.LocalAgent.Subscription.{i}.NotifType",
    "Device.LocalAgent.Subscription.{i}.ReferenceList",
    "Device.LocalAgent.Subscription.{i}.Persistent",
    "Device.LocalAgent.Controller.{i}.BootParameter.{i}.Enable",
    "Device.LocalAgent.Controller.{i}.BootParameter.{i}.ParameterName",
];

#[test]
fn tp469_6_1_and_11_1_required_profiles() {
    let mut h = Harness::builtin();
    let paths = ["Device.STOMP.", "Device.MQTT.", "Device.LocalAgent."];
    let r = gsdm(&mut h, &paths, false, [false, false, true, false]);
    let mut supported = Vec::new();
    for one in &r {
        assert_eq!(one.err_code, 0);
        for o in &one.supported_objs {
            for p in &o.supported_params {
                supported.push(format!("{}{}", o.supported_obj_path, p.param_name));
            }
        }
    }
    let missing: Vec<&&str> =
        PROFILES.iter().filter(|p| !supported.iter().any(|s| s == *p)).collect();
    assert!(missing.is_empty(), "missing: {missing:?}");
}
