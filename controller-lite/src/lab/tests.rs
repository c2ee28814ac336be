#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn args(words: &[&str]) -> Result<LabOptions, ArgError> {
    parse_args(words.iter().map(OsString::from))
}

#[test]
fn options() {
    let o = args(&[]).unwrap();
    assert_eq!((o.agent_bin, o.keep_dir, o.port, o.help), (None, false, None, false));
    assert_eq!(o.global.eid, LAB_EID);
    let o = args(&["--agent-bin", "/x/uspagent", "--keep-dir", "--port", "9", "--json"]).unwrap();
    assert_eq!(o.agent_bin, Some(PathBuf::from("/x/uspagent")));
    assert!(o.keep_dir && o.global.json);
    assert_eq!(o.port, Some(9));
    assert_eq!(args(&["--timeout", "2.5"]).unwrap().global.timeout, Duration::from_millis(2500));
    assert!(args(&["-h"]).unwrap().help);
    for bad in [&["--port", "x"][..], &["--timeout", "-1"], &["--mqtt", "h"], &["get"]] {
        assert!(args(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_reset_file_parses_and_points_at_us() {
    let entries = uspagent::reset_file::parse_reset_file(&reset_file(4242)).expect("valid");
    let value =
        |path: &str| entries.iter().find(|e| e.path == path).map(|e| e.value.clone()).expect(path);
    let ctl = "Device.LocalAgent.Controller.1.";
    assert_eq!(value(&format!("{ctl}EndpointID")), LAB_EID);
    assert_eq!(value(&format!("{ctl}AssignedRole")), "Device.LocalAgent.ControllerTrust.Role.1");
    assert_eq!(value(&format!("{ctl}MTP.1.WebSocket.Port")), "4242");
    assert_eq!(value(&format!("{ctl}MTP.1.WebSocket.Path")), LAB_PATH);
    assert_eq!(value("Device.LocalAgent.Subscription.1.ReferenceList"), "Device.Boot!");
}

#[test]
fn an_explicit_agent_binary_must_exist() {
    assert_eq!(agent::find_agent(Some(std::path::Path::new("/nonexistent/uspagent"))), None);
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("uspagent");
    std::fs::write(&bin, "").unwrap();
    assert_eq!(agent::find_agent(Some(&bin)), Some(bin));
}
