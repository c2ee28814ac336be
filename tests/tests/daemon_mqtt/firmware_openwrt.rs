//! Oktopus' firmware update on the OpenWrt backend, end to end: the `uspagent` binary with
//! `--platform openwrt` against the real ubusd (procd's `system` object served by the testbed's
//! Lua mock), a test `sysupgrade` (a script recording what it would flash), a 127.0.0.1 HTTP
//! server. The agent stages the image, answers, shuts down cleanly, runs sysupgrade and exits
//! (a router reboots then); the router "comes up" on the new release (the mock's release is
//! changed) and the next agent on the kept database says `Boot!` with FirmwareUpdated=true,
//! Cause RemoteReboot and the Download's CommandKey.

use std::path::Path;

use usp_areas::openwrt::testbed::{Spec, Testbed};
use usp_proto::msg::Operate;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::Ctl;
use crate::messages::get;
use crate::setup::{self, AGENT};

/// An OpenWrt sysupgrade image: payload and fwtool's metadata trailer naming the test board.
fn image(version: &str, revision: &str) -> Vec<u8> {
    let json = format!(
        r#"{{"supported_devices":["test,router"],"version":{{"dist":"OpenWrt","version":"{version}","revision":"{revision}"}}}}"#
    )
    .into_bytes();
    let mut out = vec![7u8; 100_000];
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&json);
    out.extend_from_slice(&0x4657_7830u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&[1, 0, 0, 0]);
    out.extend_from_slice(&u32::try_from(json.len() + 24).unwrap().to_be_bytes());
    out
}

pub(crate) fn agent(reset: &str, bed: &Testbed, dir: &Path) -> RunningAgent {
    agent_with(reset, bed, dir, &[])
}

/// [`agent`] with more arguments.
pub(crate) fn agent_with(reset: &str, bed: &Testbed, dir: &Path, more: &[&str]) -> RunningAgent {
    let s = |p: &Path| p.to_str().expect("UTF-8").to_owned();
    let db = s(&dir.join("etc-uspagent/usp.db"));
    let (socket, ubus) = (s(bed.paths.ubus_socket.as_deref().unwrap()), s(&bed.programs.ubus));
    let (uci, sysupgrade, tmp) =
        (s(&bed.programs.uci), s(&bed.paths.sysupgrade_program), s(&bed.paths.tmp_dir));
    let args = [
        "--endpoint-id",
        AGENT,
        "--serial",
        "S-E2E",
        "-f",
        &db,
        "--platform",
        "openwrt",
        "--ubus-socket",
        &socket,
        "--ubus-program",
        &ubus,
        "--uci-program",
        &uci,
        "--uci-dir",
        &s(&bed.paths.uci_dir),
        "--sysupgrade-program",
        &sysupgrade,
        // Never the test machine's /sbin/reboot (OpenWrt's default); a later one wins.
        "--reboot-command",
        "true",
    ];
    let args: Vec<&str> = args.iter().copied().chain(more.iter().copied()).collect();
    RunningAgent::start_with_env(reset, &args, &[("TMPDIR", &tmp)])
}

#[test]
fn oktopus_update_on_openwrt_flashes_after_shutdown_and_boots_the_new_release() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    std::fs::create_dir_all(dir.path().join("etc-uspagent")).unwrap();
    std::fs::create_dir_all(&bed.paths.tmp_dir).unwrap();
    let log = dir.path().join("sysupgrade.log");
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\ncp \"$1\" '{log}.image'\n",
        log = log.display()
    );
    std::fs::write(&bed.paths.sysupgrade_program, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(&bed.paths.sysupgrade_program, mode).unwrap();
    let fw = image("24.10.0", "r28427-6df0e3d02a");
    let server = HttpServer::start();
    server.route("/openwrt.bin", Route::File(fw.clone()));
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.port(), true);
    let mut first = agent(&reset, &bed, dir.path());
    ctl.connect_record(&first);
    ctl.notify("Boot!", &first, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    let before = get(&mut ctl, &first, &["Device.DeviceInfo.SoftwareVersion"]);
    assert_eq!(before["Device.DeviceInfo.SoftwareVersion"], "23.05.3 r23809-234f1a2efa");

    let operate = Operate {
        command: "Device.DeviceInfo.FirmwareImage.1.Download()".into(),
        command_key: "Download()".into(),
        send_resp: true,
        input_args: [("URL", server.url("/openwrt.bin")), ("AutoActivate", "true".into())]
            .into_iter()
            .chain([("FileSize", "0".into())])
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    };
    let resp = ctl.call(ReqType::Operate(operate), &first);
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    // The agent downloads, restarts to flash (sysupgrade runs) and stops by itself (a router
    // reboots then); waited for at most 20 s before it is reaped.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !log.exists() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let status = first.terminate();
    assert!(status.success(), "{status:?}; log:\n{}", first.log());
    let recorded = std::fs::read_to_string(&log).expect("sysupgrade ran");
    assert!(recorded.contains("uspagent-firmware/image.bin"), "{recorded}");
    assert_eq!(std::fs::read(format!("{}.image", log.display())).unwrap(), fw);

    // The router comes up on the new release, the agent's directory kept.
    let release = r#"{"version":"24.10.0","revision":"r28427-6df0e3d02a"}"#;
    let set = std::process::Command::new(&bed.programs.ubus)
        .arg("-s")
        .arg(bed.paths.ubus_socket.as_deref().unwrap())
        .args(["call", "test", "set_release", release])
        .status()
        .unwrap();
    assert!(set.success());
    let second = agent(&reset, &bed, dir.path());
    ctl.connect_record(&second);
    let (_, boot) = ctl.notify(
        "Boot!",
        &second,
        |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"),
    );
    let Some(Notification::Event(e)) = boot.notification else { unreachable!() };
    assert_eq!(e.params["FirmwareUpdated"], "true", "{:?}", e.params);
    assert_eq!(e.params["Cause"], "RemoteReboot");
    assert_eq!(e.params["CommandKey"], "Download()");
    let now = get(&mut ctl, &second, &["Device.DeviceInfo.SoftwareVersion"]);
    assert_eq!(now["Device.DeviceInfo.SoftwareVersion"], "24.10.0 r28427-6df0e3d02a");
}
