//! TP-469 2.27: a controller holding one of the `SecuredRoles` reads secured parameters
//! (`Device.MQTT.Client.{i}.Password`, `secured` in TR-181 2.19); the others read an empty
//! string, even with full access.

use usp_areas::{AgentIdentity, Host, Platform};
use usp_proto::msg::Msg;
use usp_proto::msg::notify::Notification;
use usp_proto::record::Record;

use super::*;

const SECONDARY: &str = "proto::secondary-controller";
const PASSWORD: &str = "Device.MQTT.Client.1.Password";
const READER: &str = "Device.LocalAgent.ControllerTrust.Role.2";

/// The builtin agent with the lab router areas (MQTT among them), an MQTT client whose password
/// is set, and the secondary controller as `Controller.2` holding Role 2, which may read
/// `Device.MQTT.` (and is not a SecuredRole).
fn setup(dir: std::path::PathBuf) -> Harness {
    let mut h = Harness::with_host(move || {
        let identity = AgentIdentity { endpoint_id: AGENT.into(), ..Default::default() };
        Host::new(identity, Platform::Lab, dir.clone())
    });
    h.default("Device.MQTT.Client.1.BrokerAddress", "127.0.0.1");
    h.default(PASSWORD, "s3cret-pw");
    h.default("Device.LocalAgent.ControllerTrust.Role.2.Name", "MQTT reader");
    h.default("Device.LocalAgent.ControllerTrust.Role.2.Enable", "true");
    let perm = "Device.LocalAgent.ControllerTrust.Role.2.Permission.1.";
    for (k, v) in [
        ("Enable", "true"),
        ("Order", "1"),
        ("Targets", "Device.MQTT."),
        ("Param", "r---"),
        ("Obj", "r---"),
        ("InstantiatedObj", "r---"),
    ] {
        h.default(&format!("{perm}{k}"), v);
    }
    h.default("Device.LocalAgent.Controller.2.EndpointID", SECONDARY);
    h.default("Device.LocalAgent.Controller.2.Enable", "true");
    h.default("Device.LocalAgent.Controller.2.AssignedRole", READER);
    h
}

/// The value of `path` the secondary controller reads.
fn secondary_value(h: &mut Harness, path: &str) -> String {
    let get = msg::Get { param_paths: vec![path.into()], max_depth: 0 };
    let msg = Msg::request("s", ReqType::Get(get));
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, SECONDARY, &msg));
    assert_eq!(out.len(), 1, "{out:?}");
    let reply = out[0].record.decode_no_session_context_msg().expect("a Msg");
    let RespType::GetResp(r) = response(reply) else { panic!() };
    let result = &r.req_path_results[0];
    assert_eq!(result.err_code, 0, "{result:?}");
    result.resolved_path_results[0].result_params.values().next().cloned().expect("a value")
}

#[test]
fn tp469_2_27_use_of_secured_role() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut h = setup(dir.path().to_owned());
    // 1–2: the secondary controller's Role may read the parameter, but is not a SecuredRole.
    assert_eq!(secondary_value(&mut h, PASSWORD), "");
    assert_eq!(secondary_value(&mut h, "Device.MQTT.Client.1.BrokerAddress"), "127.0.0.1");
    // 3: the primary controller lists the Role in SecuredRoles.
    let trust = "Device.LocalAgent.ControllerTrust.";
    let out = super::super::subs::set(&mut h, trust, "SecuredRoles", READER);
    assert!(matches!(response(decode_to_ctrl(&out[0])), RespType::SetResp(_)), "{out:?}");
    // 4–5: the value is returned now.
    assert_eq!(secondary_value(&mut h, PASSWORD), "s3cret-pw");
    // Full access is not a SecuredRole: the primary controller still reads an empty string.
    assert_eq!(h.value(PASSWORD).as_deref(), Some(""));
    // A disabled SecuredRole reveals nothing.
    let out = super::super::subs::set(&mut h, &format!("{READER}."), "Enable", "false");
    assert!(matches!(response(decode_to_ctrl(&out[0])), RespType::SetResp(_)), "{out:?}");
    let get = msg::Get { param_paths: vec![PASSWORD.into()], max_depth: 0 };
    let msg = Msg::request("s2", ReqType::Get(get));
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, SECONDARY, &msg));
    let reply = out[0].record.decode_no_session_context_msg().expect("a Msg");
    let RespType::GetResp(r) = response(reply) else { panic!() };
    let values: Vec<&String> = r.req_path_results[0]
        .resolved_path_results
        .iter()
        .flat_map(|p| p.result_params.values())
        .collect();
    assert!(values.iter().all(|v| v.is_empty()), "{values:?}");
}

/// TR-369 SecuredRoles applied to notifications: a ValueChange of a secured parameter carries
/// the new value to the subscriber holding a SecuredRole and an empty string to the one that
/// does not (the primary controller, full access but no SecuredRole).
#[test]
fn tp469_2_27_value_change_of_secured_parameter_per_recipient() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut h = setup(dir.path().to_owned());
    h.default(&format!("{READER}.Permission.1.Param"), "r--n");
    h.default("Device.LocalAgent.ControllerTrust.SecuredRoles", READER);
    for (row, recipient) in
        [(1, "Device.LocalAgent.Controller.1"), (2, "Device.LocalAgent.Controller.2")]
    {
        let sub = format!("Device.LocalAgent.Subscription.{row}.");
        for (k, v) in [
            ("ID", format!("pw{row}")),
            ("Recipient", recipient.to_owned()),
            ("NotifType", "ValueChange".to_owned()),
            ("ReferenceList", PASSWORD.to_owned()),
            ("Enable", "true".to_owned()),
        ] {
            h.default(&format!("{sub}{k}"), &v);
        }
    }
    // The changes the defaults made are notified at the next turn: not part of this check.
    h.advance(1);
    let out = super::super::subs::set(&mut h, "Device.MQTT.Client.1.", "Password", "n3w-pw");
    let sent = super::super::subs::notifies(&out);
    let value_to = |to: &str| -> Vec<String> {
        sent.iter()
            .filter(|s| s.to == to)
            .map(|s| match s.notification() {
                Notification::ValueChange(v) => {
                    assert_eq!(v.param_path, PASSWORD);
                    v.param_value.clone()
                }
                other => panic!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(value_to(SECONDARY), vec!["n3w-pw".to_owned()], "{sent:?}");
    assert_eq!(value_to(CTRL), vec![String::new()], "{sent:?}");
}
