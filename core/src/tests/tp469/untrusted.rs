//! TP-469 2.9 (a new Controller gets the UntrustedRole) and R-SEC.0a (a Record whose `from_id`
//! is not the identity its MTP session is bound to is not processed).

use usp_proto::msg::Msg;
use usp_proto::record::Record;

use super::*;

/// The secondary controller of 2.9, missing from the Controller table.
const SECONDARY: &str = "proto::secondary-controller";
const UNTRUSTED: &str = "Device.LocalAgent.ControllerTrust.Role.2";

fn get_msg(id: &str, path: &str) -> Msg {
    Msg::request(id, ReqType::Get(msg::Get { param_paths: vec![path.into()], max_depth: 0 }))
}

/// The builtin agent with Role 2 "Untrusted" (reading `Device.DeviceInfo.` only) as the
/// UntrustedRole, set by the trusted controller.
fn with_untrusted_role() -> Harness {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.ControllerTrust.Role.2.Name", "Untrusted");
    h.default("Device.LocalAgent.ControllerTrust.Role.2.Enable", "true");
    let perm = "Device.LocalAgent.ControllerTrust.Role.2.Permission.1.";
    for (k, v) in [
        ("Enable", "true"),
        ("Order", "1"),
        ("Targets", "Device.DeviceInfo."),
        ("Param", "r---"),
        ("Obj", "r---"),
        ("InstantiatedObj", "r---"),
    ] {
        h.default(&format!("{perm}{k}"), v);
    }
    let trust = "Device.LocalAgent.ControllerTrust.";
    let out = super::super::subs::set(&mut h, trust, "UntrustedRole", UNTRUSTED);
    assert!(matches!(response(decode_to_ctrl(&out[0])), RespType::SetResp(_)), "{out:?}");
    h
}

/// The one GetResp answered to `SECONDARY` for `path`, or `None` when nothing is answered.
fn secondary_get(h: &mut Harness, path: &str) -> Option<msg::GetResp> {
    let rec = Record::no_session_context_msg("1.4", AGENT, SECONDARY, &get_msg("s1", path));
    let out = h.record(&rec);
    let o = out.first()?;
    assert_eq!(o.to, SECONDARY);
    let reply = o.record.decode_no_session_context_msg().expect("a Msg");
    let RespType::GetResp(r) = response(reply) else { panic!() };
    Some(r)
}

#[test]
fn tp469_2_9_a_new_controller_gets_the_untrusted_role() {
    let mut h = with_untrusted_role();
    // 1. The secondary controller connects and sends a Get: it is answered, with what the
    // UntrustedRole grants (DeviceInfo, not the LocalAgent).
    let r = secondary_get(&mut h, "Device.DeviceInfo.Manufacturer").expect("answered");
    let ok = &r.req_path_results[0];
    assert_eq!(ok.err_code, 0, "{ok:?}");
    assert_eq!(ok.resolved_path_results.len(), 1);
    let r = secondary_get(&mut h, "Device.LocalAgent.EndpointID").expect("answered");
    let denied = &r.req_path_results[0];
    assert!(denied.resolved_path_results.iter().all(|p| p.result_params.is_empty()), "{r:?}");

    // 2. The primary controller reads the Controller table: the secondary's row holds the
    // UntrustedRole.
    let rows = h.rows("Device.LocalAgent.Controller.");
    assert_eq!(rows.len(), 2, "{rows:?}");
    let second = &rows[1];
    assert_eq!(h.value(&format!("{second}EndpointID")).as_deref(), Some(SECONDARY));
    let assigned = h.value(&format!("{second}AssignedRole"));
    assert_eq!(assigned, h.value("Device.LocalAgent.ControllerTrust.UntrustedRole"));
    assert_eq!(assigned.as_deref(), Some(UNTRUSTED));

    // Its second message reuses the row.
    secondary_get(&mut h, "Device.DeviceInfo.Manufacturer").expect("answered");
    assert_eq!(h.rows("Device.LocalAgent.Controller.").len(), 2);
}

/// Without an UntrustedRole the agent keeps to its configured controllers: silence, no row.
#[test]
fn tp469_2_9_without_an_untrusted_role_unknown_controllers_are_ignored() {
    let mut h = Harness::builtin();
    assert!(secondary_get(&mut h, "Device.DeviceInfo.Manufacturer").is_none());
    assert_eq!(h.rows("Device.LocalAgent.Controller.").len(), 1);
}

/// A flood of invented Endpoint IDs adds at most `MAX_CONTROLLERS` rows.
#[test]
fn tp469_2_9_unknown_controllers_cannot_grow_the_table_without_bound() {
    let mut h = with_untrusted_role();
    let mut answered = 0;
    for i in 0..40 {
        let msg = get_msg("f", "Device.DeviceInfo.Manufacturer");
        let rec = Record::no_session_context_msg("1.4", AGENT, format!("proto::flood-{i}"), &msg);
        answered += usize::from(!h.record(&rec).is_empty());
    }
    let max = crate::untrusted::MAX_CONTROLLERS;
    assert_eq!(answered, max - 1, "the trusted controller holds one row");
    assert_eq!(h.rows("Device.LocalAgent.Controller.").len(), max);
}

/// R-SEC.0a: on a session bound to one controller (a WebSocket peer, a client certificate),
/// a Record claiming another `from_id` is not processed, even from a known controller.
#[test]
fn tp469_2_from_id_must_match_the_mtp_identity() {
    let mut h = Harness::builtin();
    let rec = Record::no_session_context_msg("1.4", AGENT, CTRL, &get_msg("m", "Device."));
    let bytes = rec.to_bytes();
    let now = h.now;
    let out = h.core.handle_record_from(now, &bytes, Some("proto::someone-else")).outgoing();
    assert!(out.is_empty(), "{out:?}");
    let out = h.core.handle_record_from(now, &bytes, Some(CTRL)).outgoing();
    assert_eq!(out.len(), 1, "the same Record on its own session is answered");
}
