//! Interop of the E2E Session Context: the real `uspctl --e2e` against the real daemon through a
//! private Mosquitto, over MQTT 5.0 and 3.1.1: requests and answers in SessionContext Records,
//! `E2ESession.Status`, an answer segmented by `MaxUSPRecordSize` and reassembled by uspctl,
//! and `SessionMode` Forbid refusing the session with 7106.
//!
//! Needs the `uspctl` and `uspagent` binaries built (`cargo build -p uspctl -p uspagent`).

use std::process::{Command, Output};

use usp_testkit::agent::cargo_bin;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::setup::{self, AGENT, AGENT_TOPIC, CTL, CTL_TOPIC};

const E2E: &str = "Device.LocalAgent.Controller.1.E2ESession.";

/// Runs `uspctl` against the broker on `port` (`--e2e` when `e2e`), with the Record trace.
fn uspctl(port: u16, v5: bool, e2e: bool, words: &[&str]) -> Output {
    let broker = format!("127.0.0.1:{port}");
    let mut args = vec!["--mqtt", &broker];
    if !v5 {
        args.push("--mqtt-v311");
    }
    args.extend(["--eid", CTL, "--agent", AGENT, "--topic", CTL_TOPIC]);
    args.extend(["--agent-topic", AGENT_TOPIC, "--timeout", "10", "--trace"]);
    if e2e {
        args.push("--e2e");
    }
    args.extend_from_slice(words);
    Command::new(cargo_bin("uspctl")).args(&args).output().expect("run uspctl")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// The trace lines of Records uspctl received in a session.
fn received_sessions(out: &Output) -> Vec<String> {
    text(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("Received: ") && l.contains(": SessionContext "))
        .map(str::to_owned)
        .collect()
}

fn e2e_conversation(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let port = broker.port();
    let agent = setup::agent(&setup::reset(port, v5), &[]);
    let first = uspctl(port, v5, true, &["get", "Device.DeviceInfo.SerialNumber"]);
    assert!(first.status.success(), "{}{}", text(&first.stdout), text(&first.stderr));
    assert!(text(&first.stdout).contains("S-E2E"), "{}", text(&first.stdout));
    let got = received_sessions(&first);
    assert_eq!(got.len(), 1, "{}", text(&first.stderr));
    assert!(got[0].contains(" seq=1 expected=2 "), "{}", got[0]);
    assert_eq!(setup::cli_value(&agent, &format!("{E2E}Status")).as_deref(), Some("Up"));

    let set = format!("{E2E}MaxUSPRecordSize=512");
    let out = uspctl(port, v5, true, &["set", &set]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let big = uspctl(port, v5, true, &["get", "Device.LocalAgent."]);
    assert!(big.status.success(), "{}", text(&big.stderr));
    let all = text(&big.stdout);
    assert!(all.contains(CTL_TOPIC) && all.contains("MaxUSPRecordSize"), "reassembled: {all}");
    let segments = received_sessions(&big);
    assert!(segments.len() > 2, "segmented: {}", text(&big.stderr));
    assert!(segments[0].ends_with("sar=1"), "{}", segments[0]);
    assert!(segments.last().unwrap().ends_with("sar=3"));

    let out = uspctl(port, v5, false, &["set", &format!("{E2E}SessionMode=Forbid")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let refused = uspctl(port, v5, true, &["get", "Device.DeviceInfo.SerialNumber"]);
    assert!(!refused.status.success());
    assert!(text(&refused.stderr).contains("Disconnect 7106"), "{}", text(&refused.stderr));
}

#[test]
fn uspctl_e2e_session_over_mqtt_5() {
    e2e_conversation(true);
}

#[test]
fn uspctl_e2e_session_over_mqtt_3_1_1() {
    e2e_conversation(false);
}
