//! The FirmwareImage area on the lab backend, with real files and a real HTTP server on
//! 127.0.0.1: Oktopus' sequence, the restart into the new image, and every failure leaving
//! the old image running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::plugin::{DmEvent, Outcome, SystemRequest};
use usp_testkit::http::{HttpServer, Route};

use super::lab::make_image;
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

fn host(dir: &Path) -> Host {
    Host { waker: Arc::new(NoWake), ..Host::new(AgentIdentity::default(), Platform::Lab, dir) }
}

fn start(dir: &Path) -> Lab {
    Lab::new(crate::plugins(&host(dir)))
}

/// Polls the plugins (as the owner does when woken) until `done` holds for the events seen,
/// at most 10 s.
pub(super) fn run_until(t: &mut Lab, done: impl Fn(&[DmEvent]) -> bool) -> Vec<DmEvent> {
    let end = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < end {
        t.dm.tick(at(1), true);
        seen.extend(t.events());
        if done(&seen) {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out; events so far: {seen:?}");
}

pub(super) fn completed(events: &[DmEvent]) -> bool {
    events.iter().any(|e| matches!(e, DmEvent::OperationComplete { .. }))
}

pub(super) fn rebooting(events: &[DmEvent]) -> bool {
    events.iter().any(|e| matches!(e, DmEvent::System(SystemRequest::Reboot { .. })))
}

/// The arguments of the TransferComplete! event among `events`.
pub(super) fn transfer_complete(events: &[DmEvent]) -> Vec<(String, String)> {
    let args = events.iter().find_map(|e| match e {
        DmEvent::Event { name, args, .. } if &**name == "TransferComplete" => Some(args),
        _ => None,
    });
    let args = args.expect("TransferComplete! emitted");
    args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn arg(args: &[(String, String)], name: &str) -> String {
    args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Oktopus' Download: URL, AutoActivate=true, FileSize=0, on instance `n`.
fn download(t: &mut Lab, n: u32, extra: &[(&str, &str)], url: &str) -> Vec<DmEvent> {
    let mut input = vec![("URL", url), ("AutoActivate", "true"), ("FileSize", "0")];
    input.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    input.extend_from_slice(extra);
    let path = format!("Device.DeviceInfo.FirmwareImage.{n}.Download()");
    let (_, outcome) = t.operate(&path, &input).expect("Download accepted");
    assert_eq!(outcome, Outcome::Running);
    run_until(t, completed)
}

fn statuses(t: &mut Lab) -> (String, String) {
    (
        t.get("Device.DeviceInfo.FirmwareImage.1.Status"),
        t.get("Device.DeviceInfo.FirmwareImage.2.Status"),
    )
}

#[test]
fn first_start_runs_the_factory_image_in_bank_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = start(dir.path());
    let factory = AgentIdentity::default().software_version;
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImageNumberOfEntries"), "2");
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), factory);
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.Version"), factory);
    assert_eq!(statuses(&mut t), ("Available".into(), "NoImage".into()));
    assert_eq!(
        t.get("Device.DeviceInfo.ActiveFirmwareImage"),
        "Device.DeviceInfo.FirmwareImage.1."
    );
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.1.");
    assert_eq!(t.get("Device.DeviceInfo.MaxNumberOfActivateTimeWindows"), "5");
}

#[test]
fn oktopus_sequence_downloads_activates_and_boots_the_new_image() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(make_image("2.0.0-lab", &[7u8; 300_000], false)));
    let mut t = start(dir.path());
    // Oktopus picks the first Available image: the running one, bank 1.
    let mut events = download(&mut t, 1, &[], &server.url("/fw.img"));
    events.extend(run_until(&mut t, rebooting));
    let brief: Vec<String> = events.iter().filter_map(|e| e.describe(t.dm.schema())).collect();
    let status2 = |s: &str| format!("Device.DeviceInfo.FirmwareImage.2.Status={s}");
    let order: Vec<usize> = [status2("Downloading"), status2("Validating"), status2("Available")]
        .iter()
        .map(|s| brief.iter().position(|b| b == s).unwrap_or_else(|| panic!("{s} in {brief:?}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{brief:?}");
    let done = events.iter().position(|e| matches!(e, DmEvent::OperationComplete { .. })).unwrap();
    assert!(matches!(&events[done], DmEvent::OperationComplete { result: Ok(_), .. }));
    let tc = events
        .iter()
        .position(|e| matches!(e, DmEvent::Event { name, .. } if &**name == "TransferComplete"))
        .unwrap();
    let reboot = events.iter().position(|e| matches!(e, DmEvent::System(_))).unwrap();
    assert!(done < tc && tc < reboot, "OperationComplete, TransferComplete!, then the reboot");
    let args = transfer_complete(&events);
    assert_eq!(arg(&args, "Command"), "Device.DeviceInfo.FirmwareImage.1.Download()");
    assert_eq!(arg(&args, "Affected"), "Device.DeviceInfo.FirmwareImage.2.");
    assert_eq!(arg(&args, "TransferType"), "Download");
    assert_eq!(arg(&args, "TransferURL"), server.url("/fw.img"));
    assert_eq!(arg(&args, "Requestor"), "proto::controller");
    assert_eq!(arg(&args, "FaultCode"), "0");
    assert!(matches!(
        &events[reboot],
        DmEvent::System(SystemRequest::Reboot { cause, .. }) if cause == "RemoteReboot"
    ));
    // Still the old image until the restart.
    assert_eq!(
        t.get("Device.DeviceInfo.SoftwareVersion"),
        AgentIdentity::default().software_version
    );
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Version"), "2.0.0-lab");

    let mut t = t.restart(crate::plugins(&host(dir.path())));
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), "2.0.0-lab");
    assert_eq!(
        t.get("Device.DeviceInfo.ActiveFirmwareImage"),
        "Device.DeviceInfo.FirmwareImage.2."
    );
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.2.");
    assert_eq!(statuses(&mut t), ("Available".into(), "Available".into()));
    // The next Oktopus update picks bank 1 (the first Available), now the inactive one.
    server.route("/fw3.img", Route::File(make_image("3.0.0-lab", b"three", false)));
    let events = download(&mut t, 1, &[], &server.url("/fw3.img"));
    assert_eq!(arg(&transfer_complete(&events), "Affected"), "Device.DeviceInfo.FirmwareImage.1.");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.Version"), "3.0.0-lab");
}

/// Runs a Download that must fail: the image's status, the fault text, and the old image
/// still running with no reboot asked.
fn failing(t: &mut Lab, url: &str, extra: &[(&str, &str)], status: &str, fault: &str) {
    let events = download(t, 1, extra, url);
    let err = events.iter().find_map(|e| match e {
        DmEvent::OperationComplete { result: Err(e), .. } => Some(e.clone()),
        _ => None,
    });
    let err = err.unwrap_or_else(|| panic!("{url}: the Download fails: {events:?}"));
    assert_eq!(err.code.code(), 7022);
    assert!(err.msg.contains(fault), "{url}: '{}' mentions '{fault}'", err.msg);
    let args = transfer_complete(&events);
    assert_eq!(arg(&args, "FaultCode"), "7022");
    assert!(arg(&args, "FaultString").contains(fault));
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Status"), status, "{url}");
    assert!(!rebooting(&events), "{url}: no reboot");
    assert_eq!(
        t.get("Device.DeviceInfo.SoftwareVersion"),
        AgentIdentity::default().software_version
    );
    assert_eq!(
        t.get("Device.DeviceInfo.ActiveFirmwareImage"),
        "Device.DeviceInfo.FirmwareImage.1."
    );
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.1.");
}

#[test]
fn failed_downloads_keep_the_old_image_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let good = make_image("2.0.0-lab", &[1u8; 50_000], false);
    server.route("/good.img", Route::File(good.clone()));
    server.route("/cut.img", Route::Truncated { body: good.clone(), sent: 20_000 });
    let mut corrupt = good.clone();
    if let Some(last) = corrupt.last_mut() {
        *last ^= 0xff;
    }
    server.route("/corrupt.img", Route::File(corrupt));
    server.route("/text.img", Route::File(b"not an image".to_vec()));
    let mut t = start(dir.path());
    failing(&mut t, &server.url("/missing.img"), &[], "DownloadFailed", "HTTP 404");
    failing(&mut t, &server.url("/cut.img"), &[], "DownloadFailed", "connection ended");
    let wrong_size = [("FileSize", "1234")];
    failing(&mut t, &server.url("/good.img"), &wrong_size, "DownloadFailed", "1234 expected");
    let sum = "0".repeat(64);
    let wrong_sum = [("CheckSumAlgorithm", "SHA-256"), ("CheckSum", sum.as_str())];
    failing(&mut t, &server.url("/good.img"), &wrong_sum, "ValidationFailed", "checksum mismatch");
    failing(&mut t, &server.url("/corrupt.img"), &[], "ValidationFailed", "does not match");
    failing(&mut t, &server.url("/text.img"), &[], "ValidationFailed", "invalid image");
    // Nothing was installed in bank 2.
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Version"), "");
    let e = t
        .set("Device.DeviceInfo.", &[("BootFirmwareImage", "Device.DeviceInfo.FirmwareImage.2.")])
        .unwrap_err();
    assert_eq!(e.code.code(), 7012, "bank 2 holds no image: {e}");
    // SHA-224 too (sha2's).
    let sum = sha224(&good);
    let args =
        [("CheckSumAlgorithm", "SHA-224"), ("CheckSum", sum.as_str()), ("AutoActivate", "false")];
    let events = download(&mut t, 1, &args, &server.url("/good.img"));
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
    let mut wrong = sum.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    let args =
        [("CheckSumAlgorithm", "SHA-224"), ("CheckSum", wrong.as_str()), ("AutoActivate", "false")];
    failing(&mut t, &server.url("/good.img"), &args, "ValidationFailed", "checksum mismatch");
    // A right checksum passes.
    let sum =
        crate::transfer::sum::hex(ring::digest::digest(&ring::digest::SHA256, &good).as_ref());
    let args = [("CheckSumAlgorithm", "SHA-256"), ("CheckSum", sum.as_str())];
    let events = download(&mut t, 1, &args, &server.url("/good.img"));
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
}

/// The SHA-224 of `data` in hex (the hash itself is checked against FIPS 180-4's examples in
/// `transfer::sum`; here the wiring into Download).
fn sha224(data: &[u8]) -> String {
    let mut h = crate::transfer::sum::Algorithm::Sha224.hasher();
    h.update(data);
    h.finish_hex()
}

#[test]
fn bad_arguments_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = start(dir.path());
    let path = "Device.DeviceInfo.FirmwareImage.1.Download()";
    let no_algo = [("URL", "http://127.0.0.1:1/x"), ("AutoActivate", "false"), ("CheckSum", "00")];
    assert_eq!(t.operate(path, &no_algo).unwrap_err().code.code(), 7027);
    let e = t.operate("Device.DeviceInfo.FirmwareImage.2.Activate()", &[]).unwrap_err();
    assert_eq!(e.code.code(), 7022, "bank 2 is empty: {e}");
    let e = t.set("Device.DeviceInfo.FirmwareImage.1.", &[("Available", "false")]).unwrap_err();
    assert_eq!(e.code.code(), 7012, "the running image stays available");
    // One Download at a time: the second is refused while the first runs.
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(make_image("2.0.0-lab", b"p", false)));
    let url = server.url("/fw.img");
    let args = [("URL", url.as_str()), ("AutoActivate", "false")];
    let (_, first) = t.operate(path, &args).unwrap();
    assert_eq!(first, Outcome::Running);
    assert_eq!(t.operate(path, &args).unwrap_err().code.code(), 7022);
    let events = run_until(&mut t, completed);
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
    assert_eq!(t.operate(path, &args).unwrap().1, Outcome::Running, "free again");
}

#[test]
fn basic_auth_credentials_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let body = make_image("2.1.0-lab", b"secret payload", false);
    server.route("/p.img", Route::Protected { user: "acs".into(), password: "pw".into(), body });
    let mut t = start(dir.path());
    failing(&mut t, &server.url("/p.img"), &[], "DownloadFailed", "HTTP 401");
    let creds = [("Username", "acs"), ("Password", "pw"), ("AutoActivate", "false")];
    let events = download(&mut t, 2, &creds, &server.url("/p.img"));
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Version"), "2.1.0-lab");
}

#[test]
fn an_image_that_does_not_boot_falls_back_without_rewriting_the_boot_image() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/bad.img", Route::File(make_image("9.9.9-broken", b"x", true)));
    let mut t = start(dir.path());
    let mut events = download(&mut t, 1, &[], &server.url("/bad.img"));
    events.extend(run_until(&mut t, rebooting));
    let mut t = t.restart(crate::plugins(&host(dir.path())));
    let factory = AgentIdentity::default().software_version;
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), factory);
    assert_eq!(
        t.get("Device.DeviceInfo.ActiveFirmwareImage"),
        "Device.DeviceInfo.FirmwareImage.1."
    );
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.2.");
    let log = t.get("Device.DeviceInfo.FirmwareImage.2.BootFailureLog");
    assert!(log.contains("boot of image 2 failed"), "{log}");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.BootFailureLog"), "");
    // Activating bank 1 again selects it and reboots.
    let (_, outcome) = t.operate("Device.DeviceInfo.FirmwareImage.1.Activate()", &[]).unwrap();
    assert_eq!(outcome, Outcome::Running);
    let events = run_until(&mut t, rebooting);
    assert!(events.iter().any(|e| matches!(e, DmEvent::OperationComplete { result: Ok(_), .. })));
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.1.");
}

#[test]
fn a_restart_during_a_download_leaves_the_banks_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    // The partial file a restart (or a power cut) in the middle of a transfer leaves.
    let t = start(dir.path());
    let partial = dir.path().join("firmware/download.part");
    std::fs::write(&partial, &make_image("2.0.0-lab", b"payload", false)[..20]).unwrap();
    let mut t = t.restart(crate::plugins(&host(dir.path())));
    assert!(!partial.exists(), "the partial download is dropped at start");
    assert_eq!(statuses(&mut t), ("Available".into(), "NoImage".into()));
    assert_eq!(
        t.get("Device.DeviceInfo.SoftwareVersion"),
        AgentIdentity::default().software_version
    );
    // And a new Download works.
    server.route("/fw.img", Route::File(make_image("2.0.0-lab", b"payload", false)));
    let events = download(&mut t, 2, &[("AutoActivate", "false")], &server.url("/fw.img"));
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
}

#[test]
fn activate_waits_for_its_time_window_on_the_core_clock() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/fw.img", Route::File(make_image("2.2.0-lab", b"windowed", false)));
    let mut t = start(dir.path());
    let events = download(&mut t, 2, &[("AutoActivate", "false")], &server.url("/fw.img"));
    assert_eq!(arg(&transfer_complete(&events), "FaultCode"), "0");
    let path = "Device.DeviceInfo.FirmwareImage.2.Activate()";
    // Only windows this agent cannot use: refused at once.
    let idle = [
        ("TimeWindow.1.Start", "0"),
        ("TimeWindow.1.End", "60"),
        ("TimeWindow.1.Mode", "WhenIdle"),
    ];
    assert_eq!(t.operate(path, &idle).unwrap_err().code.code(), 7022);
    let overlapping = [
        ("TimeWindow.1.Start", "0"),
        ("TimeWindow.1.End", "60"),
        ("TimeWindow.1.Mode", "AnyTime"),
        ("TimeWindow.2.Start", "30"),
        ("TimeWindow.2.End", "90"),
        ("TimeWindow.2.Mode", "AnyTime"),
    ];
    assert_eq!(t.operate(path, &overlapping).unwrap_err().code.code(), 7027);
    // Declared as TR-181 names them; a bad value in a window's key is the engine's 7027.
    let schema = t.dm.schema();
    let image = schema.obj_by_path("Device.DeviceInfo.FirmwareImage.{i}.").unwrap();
    let cmd = schema.command_by_name(image, "Activate").unwrap();
    let names: Vec<String> =
        schema.command(cmd).inputs.iter().map(|a| a.name.to_string()).collect();
    assert!(names.contains(&"TimeWindow.{i}.Start".to_owned()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("TimeWindow.1.")), "{names:?}");
    let bad_mode = [("TimeWindow.2.Start", "0"), ("TimeWindow.2.Mode", "Sometimes")];
    let e = t.operate(path, &bad_mode).unwrap_err();
    assert_eq!(e.code.code(), 7027);
    assert!(e.msg.contains("TimeWindow.2.Mode"), "{e:?}");
    // A confirmation window (skipped), then one opening 100 s after the command (at uptime 1).
    let windows = [
        ("TimeWindow.1.Start", "0"),
        ("TimeWindow.1.End", "50"),
        ("TimeWindow.1.Mode", "ConfirmationNeeded"),
        ("TimeWindow.2.Start", "100"),
        ("TimeWindow.2.End", "200"),
        ("TimeWindow.2.Mode", "Immediately"),
    ];
    t.tick(1);
    let (_, outcome) = t.operate(path, &windows).unwrap();
    assert_eq!(outcome, Outcome::Running);
    let mut seen = Vec::new();
    for secs in [2, 50, 100] {
        t.dm.tick(at(secs), true);
        std::thread::sleep(Duration::from_millis(20));
        t.dm.tick(at(secs), true);
        seen.extend(t.events());
    }
    assert!(!rebooting(&seen), "not before the window: {seen:?}");
    assert_eq!(t.operate(path, &[]).unwrap_err().code.code(), 7022, "one Activate at a time");
    let end = Instant::now() + Duration::from_secs(10);
    while !rebooting(&seen) && Instant::now() < end {
        t.dm.tick(at(101), true);
        seen.extend(t.events());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(rebooting(&seen), "activated when the window opened");
    assert!(completed(&seen), "its OperationComplete");
    assert_eq!(t.get("Device.DeviceInfo.BootFirmwareImage"), "Device.DeviceInfo.FirmwareImage.2.");
}
