//! TP-469 8.2 (DHCP discovery) end to end on this machine: the OpenWrt udhcpc hook
//! (`openwrt/uspagent/files/uspagent-opt125.user`) run by `sh` as udhcpc's script would source
//! it, with the option 125 udhcpc would pass in `$opt125`; then the real `uspagent` started
//! with `--dhcp-options` on the file the hook wrote shows the controller in its data model.
//! No DHCP server or client is run: the option's bytes are the test's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use usp_testkit::agent::RunningAgent;

const HOOK: &str = "../openwrt/uspagent/files/uspagent-opt125.user";

/// Option 125: the Broadband Forum's element (enterprise 3561) with `subs`, as hex text.
fn option_hex(subs: &[(u8, &str)]) -> String {
    let mut bbf = Vec::new();
    for (code, value) in subs {
        bbf.push(*code);
        bbf.push(value.len() as u8);
        bbf.extend_from_slice(value.as_bytes());
    }
    let mut out = 3561u32.to_be_bytes().to_vec();
    out.push(bbf.len() as u8);
    out.extend(bbf);
    out.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sources the hook for the udhcpc event `event` with `$opt125` set to `hex` (as
/// dhcp.script does: the event is the sourcing script's `$1`).
fn run_hook(event: &str, hex: &str, file: &Path) {
    let status = Command::new("sh")
        .args(["-c", &format!(". {HOOK}"), "sh", event])
        .env("opt125", hex)
        .env("USPAGENT_OPT125", file)
        .status()
        .expect("run sh");
    assert!(status.success());
}

fn value(agent: &RunningAgent, path: &str) -> String {
    let out = agent.cli(&["get", path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(path).and_then(|r| r.strip_prefix(" => ")))
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned()
}

#[test]
fn tp469_8_2_the_udhcpc_hook_and_the_agent_configure_the_dhcp_controller() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run/dhcp-option-125");
    run_hook("deconfig", "00", &file);
    assert!(!file.exists(), "only bound and renew are kept");
    let hex = option_hex(&[(25, "ws://127.0.0.1:9/usp"), (26, "PC-DHCP"), (29, "proto::dhcp-ctl")]);
    run_hook("bound", &hex, &file);
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), hex);
    let reset = "Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"self::configured\"
";
    let agent = RunningAgent::start(
        reset,
        &["--endpoint-id", "os::012345-DHCP", "--dhcp-options", file.to_str().unwrap()],
    );
    let c = "Device.LocalAgent.Controller.2.";
    assert_eq!(value(&agent, &format!("{c}EndpointID")), "proto::dhcp-ctl", "{}", agent.log());
    assert_eq!(value(&agent, &format!("{c}ProvisioningCode")), "PC-DHCP");
    assert_eq!(value(&agent, &format!("{c}MTP.1.WebSocket.Host")), "127.0.0.1");
    assert_eq!(value(&agent, &format!("{c}MTP.1.WebSocket.Port")), "9");
    assert_eq!(value(&agent, "Device.LocalAgent.Controller.1.EndpointID"), "self::configured");
}

#[test]
fn a_broken_option_file_is_logged_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opt125");
    std::fs::write(&file, "0000 not hex").unwrap();
    let agent = RunningAgent::start(
        "",
        &["--endpoint-id", "os::012345-DHCP2", "--dhcp-options", file.to_str().unwrap()],
    );
    assert_eq!(value(&agent, "Device.LocalAgent.ControllerNumberOfEntries"), "0");
    assert!(agent.log().contains("DHCP option 125"), "{}", agent.log());
}
