//! The `sysupgrade` row of VendorConfigFile on an OpenWrt host: a test `sysupgrade` (a script
//! making a real tar.gz of a configuration directory for `-b`, recording `-r`), a real HTTP
//! server on 127.0.0.1 receiving the backup and serving it back for the restore.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use usp_datamodel::plugin::DmEvent;
use usp_testkit::http::{HttpServer, Route};

use crate::firmware::openwrt::flash_if_requested;
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

fn host(dir: &Path) -> Host {
    let mut h = Host::new(AgentIdentity::default(), Platform::OpenWrt, dir.join("state"));
    h.paths.tmp_dir = dir.join("tmp");
    h.paths.sysupgrade_program = dir.join("sysupgrade");
    h.waker = Arc::new(NoWake);
    h.router_areas = false;
    for d in ["state", "tmp", "etc/config"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etc/config/network"), "config interface 'lan'\n").unwrap();
    let script = format!(
        "#!/bin/sh\ncase \"$1\" in\n-b) tar czf \"$2\" -C '{etc}' config ;;\n-r) echo \"restore $2\" >> '{log}'; cp \"$2\" '{out}' ;;\n*) exit 1 ;;\nesac\n",
        etc = dir.join("etc").display(),
        log = dir.join("sysupgrade.log").display(),
        out = dir.join("restored.tar.gz").display(),
    );
    std::fs::write(&h.paths.sysupgrade_program, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::Permissions::from_mode(0o755);
    std::fs::set_permissions(&h.paths.sysupgrade_program, mode).unwrap();
    h
}

fn run(t: &mut Lab, path: &str, input: &[(&str, &str)]) -> Vec<DmEvent> {
    t.operate(path, input).expect("accepted");
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut seen = Vec::new();
    while std::time::Instant::now() < end {
        t.dm.tick(at(1), true);
        seen.extend(t.events());
        if seen.iter().any(|e| matches!(e, DmEvent::OperationComplete { .. })) {
            return seen;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("no OperationComplete: {seen:?}");
}

fn fault(events: &[DmEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            DmEvent::Event { name, args, .. } if &**name == "TransferComplete" => {
                args.iter().find(|(k, _)| &**k == "FaultString").map(|(_, v)| v.to_string())
            }
            _ => None,
        })
        .expect("TransferComplete!")
}

#[test]
fn the_sysupgrade_backup_goes_up_and_comes_back_through_sysupgrade_r() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    let server = HttpServer::start();
    let received = Arc::new(Mutex::new(None));
    server.route("/cfg.tgz", Route::Upload { digest: None, received: received.clone() });
    let mut t = Lab::new(crate::plugins(&h));
    let row = "Device.DeviceInfo.VendorConfigFile.1.";
    assert_eq!(t.get(&format!("{row}Name")), "sysupgrade");
    let url = server.url("/cfg.tgz");
    let args = [("URL", url.as_str()), ("Username", ""), ("Password", "")];
    let events = run(&mut t, &format!("{row}Backup()"), &args);
    assert_eq!(fault(&events), "");
    let archive = received.lock().unwrap().take().expect("uploaded");
    assert_eq!(archive[..2], [0x1f, 0x8b], "a gzip archive");
    let listed = std::process::Command::new("tar")
        .args(["tzf", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&archive)?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("config/network"));

    server.route("/junk.tgz", Route::File(b"plain text".to_vec()));
    let junk = server.url("/junk.tgz");
    let args = [("URL", junk.as_str()), ("Username", ""), ("Password", "")];
    let events = run(&mut t, &format!("{row}Restore()"), &args);
    assert!(fault(&events).contains("not a sysupgrade backup"), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, DmEvent::System(_))), "no restart");

    server.route("/back.tgz", Route::File(archive.clone()));
    let back = server.url("/back.tgz");
    let args = [("URL", back.as_str()), ("Username", ""), ("Password", "")];
    let events = run(&mut t, &format!("{row}Restore()"), &args);
    assert_eq!(fault(&events), "");
    assert!(events.iter().any(|e| matches!(e, DmEvent::System(_))), "a restart is asked");
    assert!(!dir.path().join("sysupgrade.log").exists(), "nothing restored before shutdown");
    drop(t);
    assert!(!flash_if_requested(&h.paths.state_dir).unwrap(), "a restore, not a flash");
    let log = std::fs::read_to_string(dir.path().join("sysupgrade.log")).unwrap();
    assert!(log.starts_with("restore "), "{log}");
    assert_eq!(std::fs::read(dir.path().join("restored.tar.gz")).unwrap(), archive);
}

/// The host's side of the database for these tests: a snapshot is a file naming its moment.
struct Snapshots(std::sync::atomic::AtomicU32);

impl crate::vendor_config::AgentDatabase for Snapshots {
    fn snapshot(&self, dest: &Path) -> Result<(), String> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::fs::write(dest, format!("snapshot {n}")).map_err(|e| e.to_string())
    }
    fn stage_restore(&self, _: &Path) -> Result<(), String> {
        Err("not in this test".into())
    }
}

#[test]
fn the_sysupgrade_archive_carries_a_snapshot_of_the_database_made_just_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = host(dir.path());
    h.database = Some(Arc::new(Snapshots(0.into())));
    // This sysupgrade archives the state directory, as the agent's keep list has it do.
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = -b ] && tar czf \"$2\" -C '{}' state\n",
        dir.path().display()
    );
    std::fs::write(&h.paths.sysupgrade_program, script).unwrap();
    let server = HttpServer::start();
    let received = Arc::new(Mutex::new(None));
    server.route("/cfg.tgz", Route::Upload { digest: None, received: received.clone() });
    let mut t = Lab::new(crate::plugins(&h));
    let row = "Device.DeviceInfo.VendorConfigFile.2.";
    assert_eq!(t.get(&format!("{row}Name")), "sysupgrade");
    let url = server.url("/cfg.tgz");
    let args = [("URL", url.as_str()), ("Username", ""), ("Password", "")];
    assert_eq!(fault(&run(&mut t, &format!("{row}Backup()"), &args)), "");
    let archive = received.lock().unwrap().take().expect("uploaded");
    let snapshot = format!("state/{}", crate::vendor_config::SNAPSHOT);
    let unpacked = std::process::Command::new("tar")
        .args(["xzOf", "-", &snapshot])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&archive)?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&unpacked.stdout), "snapshot 0");
    assert!(!h.paths.state_dir.join(crate::vendor_config::SNAPSHOT).exists(), "removed after");
    // Date: when a row's content was last applied, as the host recorded it.
    assert_eq!(t.get(&format!("{row}Date")), "0001-01-01T00:00:00Z");
    let when = usp_datamodel::value::DateTime::from_unix(1_700_000_000);
    crate::vendor_config::date::record_applied(&h.paths.state_dir, "sysupgrade", when);
    drop(t);
    let mut t = Lab::new(crate::plugins(&h));
    assert_eq!(t.get(&format!("{row}Date")), "2023-11-14T22:13:20Z");
    assert_eq!(t.get("Device.DeviceInfo.VendorConfigFile.1.Date"), "0001-01-01T00:00:00Z");
}
