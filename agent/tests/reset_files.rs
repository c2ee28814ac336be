//! Whole factory-reset files in obuspa's format parse unchanged.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use uspagent::reset_file::{ResetEntry, parse_reset_file};

fn fixture(name: &str) -> Vec<ResetEntry> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    match parse_reset_file(&text) {
        Ok(entries) => entries,
        Err(errors) => panic!("{}: {errors:?}", path.display()),
    }
}

fn value<'a>(entries: &'a [ResetEntry], path: &str) -> &'a str {
    let mut found = entries.iter().filter(|e| e.path == path);
    let last = found.next_back().unwrap_or_else(|| panic!("{path} missing"));
    &last.value
}

#[test]
fn mqtt_fixture() {
    let e = fixture("mqtt-reset.txt");
    assert_eq!(e.len(), 18);
    assert_eq!(e[0].line, 9);
    assert_eq!(value(&e, "Device.LocalAgent.EndpointID"), "os::012345-fixture-mqtt");
    assert_eq!(value(&e, "Device.LocalAgent.Subscription.1.ReferenceList"), "Device.Boot!");
    assert_eq!(value(&e, "Device.LocalAgent.Controller.1.BootParameter.1.Enable"), "true");
    assert_eq!(value(&e, "Device.MQTT.Client.1.Username"), "");
    assert_eq!(value(&e, "Device.MQTT.Client.1.ConnectRetryIntervalMultiplier"), "2000");
    assert_eq!(value(&e, "Internal.Reboot.Cause"), "LocalFactoryReset");
    let add_only: Vec<&str> = e.iter().filter(|e| e.add_only).map(|e| e.path.as_str()).collect();
    assert_eq!(add_only, ["Device.LocalAgent.Controller.1.MTP.1.Enable"]);
}

#[test]
fn stomp_fixture() {
    let e = fixture("stomp-reset.txt");
    assert_eq!(e.len(), 12);
    assert_eq!(value(&e, "Device.LocalAgent.Controller.1.MTP.1.Alias"), "cpe-1");
    assert_eq!(
        value(&e, "Device.LocalAgent.Controller.1.MTP.1.STOMP.Destination"),
        "fixture-notify-dest\""
    );
    assert_eq!(value(&e, "Device.LocalAgent.Controller.1.ControllerCode"), "");
    // The last line has no newline.
    assert_eq!(e.last().unwrap().path, "Internal.Reboot.Cause");
    assert!(e.iter().all(|e| !e.add_only));
}

#[test]
fn websocket_fixture() {
    let e = fixture("websocket-reset.txt");
    assert_eq!(e.len(), 8);
    let retry = "Device.LocalAgent.Controller.1.MTP.1.WebSocket.SessionRetryMinimumWaitInterval";
    assert_eq!(e.iter().filter(|e| e.path == retry).count(), 2);
    assert_eq!(value(&e, retry), "2000");
    assert_eq!(value(&e, "Device.LocalAgent.MTP.1.WebSocket.Path"), "");
}

/// Parses every `*.txt` file in the directory named by `USPAGENT_RESET_FILES_DIR`, when set:
/// a way to check real-world files (obuspa's `*_factory_reset_example.txt`, Oktopus's
/// `agent/oktopus-*-obuspa.txt`) without copying them into this repository.
#[test]
fn external_reset_files() {
    let Some(dir) = std::env::var_os("USPAGENT_RESET_FILES_DIR") else {
        return;
    };
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "txt") {
            let text = std::fs::read_to_string(&path).unwrap();
            match parse_reset_file(&text) {
                Ok(entries) => eprintln!("{}: {} parameters", path.display(), entries.len()),
                Err(errors) => panic!("{}: {errors:?}", path.display()),
            }
            checked += 1;
        }
    }
    assert!(checked > 0, "no .txt file in {}", PathBuf::from(dir).display());
}
