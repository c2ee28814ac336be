//! TR-369 "Challenges" (R-SEC.13–17; TP-469 has no case of its own): a controller admitted
//! under the UntrustedRole raises its Role with `RequestChallenge()` and
//! `ChallengeResponse()`; failures count per challenge and lock it for `LockoutPeriod`.

use std::collections::HashMap;

use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::{Msg, Operate};
use usp_proto::record::Record;

use super::*;

const SECONDARY: &str = "proto::secondary-controller";
const TRUST: &str = "Device.LocalAgent.ControllerTrust.";
const CHALLENGE: &str = "Device.LocalAgent.ControllerTrust.Challenge.1";
/// `s3cret`, base64.
const PASSPHRASE: &str = "czNjcmV0";

/// The builtin agent with Role 2 as the UntrustedRole (it may run the two commands and read
/// `Device.DeviceInfo.`), and Challenge 1 granting Role 1 (Full Access) for the passphrase,
/// two tries, locked 60 s after.
fn setup() -> Harness {
    let mut h = Harness::builtin();
    let role = "Device.LocalAgent.ControllerTrust.Role.2.";
    h.default(&format!("{role}Name"), "Untrusted");
    h.default(&format!("{role}Enable"), "true");
    let rows: [(&str, &[(&str, &str)]); 2] = [
        ("1", &[("Targets", "Device.DeviceInfo."), ("Param", "r---"), ("Obj", "r---")]),
        (
            "2",
            &[
                (
                    "Targets",
                    "Device.LocalAgent.ControllerTrust.RequestChallenge(),Device.LocalAgent.ControllerTrust.ChallengeResponse()",
                ),
                ("CommandEvent", "r-x-"),
            ],
        ),
    ];
    for (n, values) in rows {
        let perm = format!("{role}Permission.{n}.");
        h.default(&format!("{perm}Enable"), "true");
        h.default(&format!("{perm}Order"), n);
        for (k, v) in values {
            h.default(&format!("{perm}{k}"), v);
        }
    }
    h.default(&format!("{TRUST}UntrustedRole"), "Device.LocalAgent.ControllerTrust.Role.2");
    for (k, v) in [
        ("Enable", "true"),
        ("Description", "Request full access"),
        ("Role", FULL_ACCESS),
        ("Value", PASSPHRASE),
        ("Instruction", "RW50ZXIgdGhlIHBhc3NwaHJhc2U="),
        ("Retries", "2"),
        ("LockoutPeriod", "60"),
    ] {
        h.default(&format!("{CHALLENGE}.{k}"), v);
    }
    h
}

/// Sends `req` from the secondary controller; its one reply.
fn secondary(h: &mut Harness, req: ReqType) -> Msg {
    let msg = Msg::request("s", req);
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, SECONDARY, &msg));
    assert_eq!(out.len(), 1, "{out:?}");
    out[0].record.decode_no_session_context_msg().expect("a Msg")
}

/// Runs `command` as the secondary controller: its output arguments, or the failure's code.
fn run(
    h: &mut Harness,
    command: &str,
    args: &[(&str, &str)],
) -> Result<HashMap<String, String>, u32> {
    let req = ReqType::Operate(Operate {
        command: format!("{TRUST}{command}"),
        command_key: "k".into(),
        send_resp: true,
        input_args: args.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    });
    let RespType::OperateResp(r) = response(secondary(h, req)) else { panic!() };
    match r.operation_results[0].operation_resp.clone() {
        Some(OperationResp::ReqOutputArgs(out)) => Ok(out.output_args.into_iter().collect()),
        Some(OperationResp::CmdFailure(f)) => Err(f.err_code),
        other => panic!("{other:?}"),
    }
}

fn request(h: &mut Harness) -> Result<String, u32> {
    let out = run(h, "RequestChallenge()", &[("ChallengeRef", CHALLENGE)])?;
    assert_eq!(out["Instruction"], "RW50ZXIgdGhlIHBhc3NwaHJhc2U=");
    assert_eq!(out["InstructionType"], "text/plain");
    assert_eq!(out["ValueType"], "text/plain");
    Ok(out["ChallengeID"].clone())
}

fn respond(h: &mut Harness, id: &str, value: &str) -> Result<(), u32> {
    run(h, "ChallengeResponse()", &[("ChallengeID", id), ("Value", value)]).map(|_| ())
}

/// The secondary controller's AssignedRole, as the agent stores it.
fn assigned(h: &mut Harness) -> String {
    let rows = h.rows("Device.LocalAgent.Controller.");
    let row =
        rows.iter().find(|r| h.value(&format!("{r}EndpointID")).as_deref() == Some(SECONDARY));
    let row = row.expect("the secondary controller's row").clone();
    h.value(&format!("{row}AssignedRole")).unwrap_or_default()
}

fn can_read_local_agent(h: &mut Harness) -> bool {
    let get = msg::Get { param_paths: vec!["Device.LocalAgent.EndpointID".into()], max_depth: 0 };
    let RespType::GetResp(r) = response(secondary(h, ReqType::Get(get))) else { panic!() };
    r.req_path_results[0].resolved_path_results.iter().any(|p| !p.result_params.is_empty())
}

#[test]
fn r_sec_challenge_response_grants_the_challenge_role() {
    let mut h = setup();
    assert!(!can_read_local_agent(&mut h), "admitted under the UntrustedRole");
    assert_eq!(assigned(&mut h), "Device.LocalAgent.ControllerTrust.Role.2");
    // A reference to no challenge: Invalid Value.
    let bad = run(
        &mut h,
        "RequestChallenge()",
        &[("ChallengeRef", "Device.LocalAgent.ControllerTrust.Challenge.9")],
    );
    assert_eq!(bad.unwrap_err(), 7012);
    let id = request(&mut h).unwrap();
    assert_eq!(respond(&mut h, "not-the-id", PASSPHRASE).unwrap_err(), 7022);
    assert_eq!(respond(&mut h, &id, "d3Jvbmc=").unwrap_err(), 7022, "a wrong value");
    respond(&mut h, &id, PASSPHRASE).unwrap();
    // The challenge's Role replaced the UntrustedRole.
    assert_eq!(assigned(&mut h), FULL_ACCESS);
    assert!(can_read_local_agent(&mut h));
    // The ChallengeID is spent.
    assert_eq!(respond(&mut h, &id, PASSPHRASE).unwrap_err(), 7022);
}

#[test]
fn r_sec_16_17_failed_challenges_lock_it_for_the_lockout_period() {
    let mut h = setup();
    let id = request(&mut h).unwrap();
    for _ in 0..2 {
        assert_eq!(respond(&mut h, &id, "d3Jvbmc=").unwrap_err(), 7022);
    }
    // Locked: even the right value fails, and so does a new request.
    assert_eq!(respond(&mut h, &id, PASSPHRASE).unwrap_err(), 7022);
    assert_eq!(request(&mut h).unwrap_err(), 7022);
    assert_eq!(assigned(&mut h), "Device.LocalAgent.ControllerTrust.Role.2");
    h.advance(61);
    let id = request(&mut h).unwrap();
    respond(&mut h, &id, PASSPHRASE).unwrap();
    assert_eq!(assigned(&mut h), FULL_ACCESS);
}

/// The challenge's Value is secured: the controllers read it empty.
#[test]
fn the_challenge_value_is_secured() {
    let mut h = setup();
    assert_eq!(h.value(&format!("{CHALLENGE}.Value")).as_deref(), Some(""));
    assert_eq!(
        h.value(&format!("{CHALLENGE}.Description")).as_deref(),
        Some("Request full access")
    );
}
