//! The `uspctl` binary where it runs without a transport: help, usage errors and their exit
//! statuses, transport failures, `decode` on known byte vectors (one written by hand from the
//! protobuf wire format, others encoded by rusp-lib and checked against rusp-lib's JSON), and
//! `encode` piped into `decode`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn uspctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uspctl")).args(args).output().expect("uspctl runs")
}

fn uspctl_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_uspctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("uspctl starts");
    child.stdin.take().expect("stdin").write_all(input).expect("input written");
    child.wait_with_output().expect("uspctl ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Record { version "1.4", to_id "c", from_id "a", no_session_context { payload: Msg {
/// header { msg_id "m", msg_type GET }, body { request { get { param_paths "Device." } } } } } },
/// written field by field.
const KNOWN: &str = "0a03312e34 120163 1a0161 3a18 1216 0a05 0a016d 1001 \
                     120d 0a0b 0a09 0a07 4465766963652e";

#[test]
fn help_version_and_no_arguments() {
    for args in [&["--help"][..], &["help"], &[]] {
        let out = uspctl(args);
        assert_eq!(out.status.code(), Some(0));
        let help = text(&out.stdout);
        assert!(help.contains("EXIT STATUS"), "{help}");
        assert!(help.contains("set PATH=VALUE..."), "{help}");
    }
    let out = uspctl(&["--version"]);
    assert_eq!(text(&out.stdout), format!("uspctl {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2_with_a_reason() {
    for (args, reason) in [
        (&["frobnicate"][..], "unknown command 'frobnicate'"),
        (&["--bogus", "get", "Device."], "--bogus"),
        (&["set", "Alias=x"], "give the object first"),
        (&["get", "Device.", "--allow-partial"], "--allow-partial does not apply to get"),
        (&["get", "Device."], "no transport"),
        (&["--agent", "os::a", "encode", "watch"], "encode"),
        (&["encode", "get", "Device."], "--agent"),
    ] {
        let out = uspctl(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn transport_failures_exit_3() {
    let out = uspctl(&["--mqtt", "127.0.0.1", "--tls-ca", "/nonexistent/ca.pem", "get", "Device."]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("/nonexistent/ca.pem"));
    // Nothing listens on port 1: no link (3) in a build without the WebSocket link, no agent in
    // time (4) with it.
    let out = uspctl(&["--ws", "ws://127.0.0.1:1/", "--timeout", "1", "get", "Device."]);
    assert!(matches!(out.status.code(), Some(3 | 4)), "{out:?}");
    assert!(text(&out.stderr).starts_with("uspctl: "), "{out:?}");
}

#[test]
fn decode_a_hand_written_record() {
    let out = uspctl(&["decode", KNOWN]);
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.starts_with("Record version \"1.4\" from \"a\" to \"c\"\n"), "{t}");
    assert!(t.contains("msg_id: \"m\"") && t.contains("\"Device.\""), "{t}");
    let out = uspctl(&["decode", KNOWN, "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        json!({
            "version": "1.4", "to_id": "c", "from_id": "a", "payload_security": "PLAINTEXT",
            "mac_signature": [], "sender_cert": [],
            "payload": {
                "Header": { "msg_id": "m", "msg_type": "GET" },
                "Body": { "Request": { "Get": { "param_paths": ["Device."], "max_depth": 0 } } },
            },
        })
    );
}

/// A Notify encoded by rusp-lib.
fn rusp_notify() -> rusp_lib::usp_record::Record {
    use rusp_lib::usp_builder::{MsgBuilder, NotifyBuilder, RecordBuilder};
    let body = NotifyBuilder::new("sub-1".into())
        .with_send_resp(true)
        .with_value_change("Device.LocalAgent.Controller.1.Alias".into(), "x y".into())
        .build()
        .unwrap();
    let msg = MsgBuilder::new().with_msg_id("n-1".into()).with_body(body).build().unwrap();
    RecordBuilder::new()
        .with_version("1.3".into())
        .with_to_id("self::uspctl".into())
        .with_from_id("os::agent".into())
        .with_no_session_context_payload(&msg)
        .build()
        .unwrap()
}

#[test]
fn decode_matches_rusp_for_rusp_encoded_bytes_from_every_input_form() {
    let record = rusp_notify();
    let bytes = record.to_vec().unwrap();
    let theirs = serde_json::to_value(&record).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02X} ")).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notify.bin");
    std::fs::write(&file, &bytes).unwrap();
    for out in [
        uspctl(&["--json", "decode", &hex]),
        uspctl(&["decode", file.to_str().unwrap(), "-j"]),
        uspctl_stdin(&["decode", "--json"], &bytes),
        uspctl_stdin(&["decode", "--json"], hex.as_bytes()),
    ] {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(ours, theirs);
    }
}

#[test]
fn decode_refuses_garbage() {
    let out = uspctl(&["decode", "ffff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a USP Record or Msg"));
}

#[test]
fn encode_then_decode() {
    let out = uspctl(&[
        "--agent",
        "os::a",
        "--eid",
        "self::me",
        "encode",
        "set",
        "Device.LocalAgent.Controller.1.",
        "Alias=x",
        "Enable?=true",
        "--allow-partial",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let hex = text(&out.stdout);
    let out = uspctl_stdin(&["decode", "--json"], hex.as_bytes());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["from_id"].as_str(), v["to_id"].as_str()), (Some("self::me"), Some("os::a")));
    let set = &v["payload"]["Body"]["Request"]["Set"];
    assert_eq!(set["allow_partial"], true);
    assert_eq!(
        set["update_objs"][0],
        json!({
            "obj_path": "Device.LocalAgent.Controller.1.",
            "param_settings": [
                { "param": "Alias", "value": "x", "required": true },
                { "param": "Enable", "value": "true", "required": false },
            ],
        })
    );
}
