//! The `sysupgrade` row of `Device.DeviceInfo.VendorConfigFile.` end to end on the OpenWrt
//! backend (`--platform openwrt`, the testbed's real ubusd): a test `sysupgrade` that really
//! archives (`-b`: a tar.gz of the agent's kept directory, as its keep list would) and restores
//! (`-r`: unpacks it), a recording reboot command, a 127.0.0.1 HTTP server. Backup() uploads an
//! archive holding the agent's consistent snapshot; Restore() stages the archive, the agent
//! shuts down cleanly, runs `sysupgrade -r <file>`, then the reboot command; the next agent
//! runs on the backed-up configuration, says Boot! with the Restore's cause and CommandKey and
//! gives both rows a Date.

use std::path::Path;
use std::sync::{Arc, Mutex};

use usp_areas::openwrt::testbed::{Spec, Testbed};
use usp_proto::msg::notify::Notification;
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::backup::{BOOT_PARAM, run_on, subscriptions_of};
use crate::ctl::Ctl;
use crate::firmware_openwrt::agent_with;
use crate::messages::{get, set};
use crate::setup;

const ROW: &str = "Device.DeviceInfo.VendorConfigFile.2.";

fn executable(path: &Path, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn listing(archive: &[u8]) -> String {
    use std::io::Write;
    let mut tar = std::process::Command::new("tar")
        .args(["tzf", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tar.stdin.take().unwrap().write_all(archive).unwrap();
    String::from_utf8(tar.wait_with_output().unwrap().stdout).unwrap()
}

fn wait_for(file: &Path) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !file.exists() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
}

#[test]
fn sysupgrade_backup_and_restore_round_trip_through_a_reboot() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    std::fs::create_dir_all(dir.path().join("etc-uspagent")).unwrap();
    std::fs::create_dir_all(&bed.paths.tmp_dir).unwrap();
    let (log, reboots) = (dir.path().join("sysupgrade.log"), dir.path().join("reboot.log"));
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\ncase \"$1\" in\n-b) tar czf \"$2\" -C '{d}' etc-uspagent ;;\n-r) tar xzf \"$2\" -C '{d}' ;;\n*) exit 1 ;;\nesac\n",
        log = log.display(),
        d = dir.path().display()
    );
    executable(&bed.paths.sysupgrade_program, &script);
    let reboot = dir.path().join("reboot");
    executable(&reboot, &format!("#!/bin/sh\necho rebooted >> '{}'\n", reboots.display()));
    let reboot_arg = ["--reboot-command", reboot.to_str().unwrap()];
    let server = HttpServer::start();
    let received = Arc::new(Mutex::new(None));
    server.route("/cfg.tgz", Route::Upload { digest: None, received: received.clone() });
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.port(), true) + &subscriptions_of(ROW);
    let mut first = agent_with(&reset, &bed, dir.path(), &reboot_arg);
    ctl.connect_record(&first);
    ctl.notify("Boot!", &first, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    let names = get(&mut ctl, &first, &[&format!("{ROW}Name"), &format!("{ROW}Date")]);
    assert_eq!(names[&format!("{ROW}Name")], "sysupgrade");
    assert_eq!(names[&format!("{ROW}Date")], "0001-01-01T00:00:00Z", "never applied");
    set(&mut ctl, &first, BOOT_PARAM, "ParameterName", "Device.DeviceInfo.ModelName");

    let url = server.url("/cfg.tgz");
    let args = [("URL", url.as_str()), ("Username", ""), ("Password", "")];
    let (code, tc) = run_on(&mut ctl, &first, &format!("{ROW}Backup()"), "bk", &args);
    assert_eq!((code, tc["FaultCode"].as_str()), (0, "0"), "{tc:?}");
    let archive = received.lock().unwrap().take().expect("uploaded");
    let files = listing(&archive);
    assert!(files.contains("etc-uspagent/uspagent-backup.db"), "the snapshot: {files}");
    let snapshot = dir.path().join("etc-uspagent/uspagent-backup.db");
    assert!(!snapshot.exists(), "the snapshot lives only in the archive");

    set(&mut ctl, &first, BOOT_PARAM, "ParameterName", "Device.DeviceInfo.Manufacturer");
    server.route("/back.tgz", Route::File(archive));
    let back = server.url("/back.tgz");
    let args = [("URL", back.as_str()), ("Username", ""), ("Password", "")];
    let (code, tc) = run_on(&mut ctl, &first, &format!("{ROW}Restore()"), "rs", &args);
    assert_eq!((code, tc["FaultCode"].as_str()), (0, "0"), "{tc:?}");
    // Clean shutdown, sysupgrade -r, then the reboot command; the agent exits.
    wait_for(&reboots);
    let status = first.terminate();
    assert!(status.success(), "{status:?}; log:\n{}", first.log());
    let recorded = std::fs::read_to_string(&log).unwrap();
    let restore = recorded.lines().last().unwrap_or_default();
    assert!(restore.starts_with("-r ") && restore.ends_with(".tar.gz"), "{recorded}");
    assert_eq!(std::fs::read_to_string(&reboots).unwrap(), "rebooted\n");

    // The router is up again: the backed-up configuration, this restart's Boot! cause.
    let second = agent_with(&reset, &bed, dir.path(), &reboot_arg);
    ctl.connect_record(&second);
    let (_, boot) = ctl.notify(
        "Boot!",
        &second,
        |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"),
    );
    let Some(Notification::Event(e)) = boot.notification else { unreachable!() };
    assert_eq!(e.params["Cause"], "RemoteReboot", "{:?}", e.params);
    assert_eq!(e.params["CommandKey"], "rs");
    let param = format!("{BOOT_PARAM}ParameterName");
    let dates = ["Device.DeviceInfo.VendorConfigFile.1.Date", &format!("{ROW}Date")];
    let now = get(&mut ctl, &second, &[&param, dates[0], dates[1]]);
    assert_eq!(now[&param], "Device.DeviceInfo.ModelName");
    for date in dates {
        assert!(now[date].starts_with("20"), "{date}: {}", now[date]);
    }
}
