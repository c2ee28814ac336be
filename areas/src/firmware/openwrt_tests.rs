//! The FirmwareImage area on the OpenWrt backend against the real ubusd and ubus CLI (procd's
//! `system` object served by `testdata/ubus-mock.lua`), a real HTTP server on 127.0.0.1 and a
//! test `sysupgrade` (a script that records its arguments and the keep list, as the real one
//! would flash them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use usp_datamodel::plugin::DmEvent;
use usp_testkit::http::{HttpServer, Route};

use super::openwrt::{flash_if_requested, image_version};
use super::tests::{arg, completed, rebooting, run_until, transfer_complete};
use crate::openwrt::testbed::{Spec, Testbed};
use crate::testutil::Lab;
use crate::{AgentIdentity, Host, NoWake, Platform};

const RUNNING: &str = "23.05.3 r23809-234f1a2efa";
const NEW: &str = "24.10.0 r28427-6df0e3d02a";

/// An image as OpenWrt's build makes it: the payload, then fwtool's metadata block (an 8-byte
/// header, the JSON, a 16-byte big-endian trailer: magic `FWx0`, CRC-32, type 1, padding,
/// the block's size).
fn image(payload: &[u8], board: &str, version: &str, revision: &str) -> Vec<u8> {
    let meta = json!({
        "metadata_version": "1.1", "compat_version": "1.0", "supported_devices": [board],
        "version": { "dist": "OpenWrt", "version": version, "revision": revision },
    });
    let json = meta.to_string().into_bytes();
    let size = u32::try_from(8 + json.len() + 16).unwrap();
    let mut out = payload.to_vec();
    out.extend_from_slice(&[0u8; 8]);
    out.extend_from_slice(&json);
    out.extend_from_slice(&0x4657_7830u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&[1, 0, 0, 0]);
    out.extend_from_slice(&size.to_be_bytes());
    out
}

/// The test sysupgrade: records its arguments, the image it was given and the keep list (the
/// package's keep.d file), then exits with `status`.
fn sysupgrade(bed: &Testbed, dir: &Path, status: i32) {
    let keep_d = dir.join("keep.d");
    std::fs::create_dir_all(&keep_d).unwrap();
    std::fs::write(keep_d.join("uspagent"), package_keep_list()).unwrap();
    let log = dir.join("sysupgrade.log");
    let script = format!(
        "#!/bin/sh\necho \"args: $*\" >> '{log}'\nfor a; do last=$a; done\ncp \"$last\" '{log}.image'\ncat '{keep}'/* >> '{log}'\nexit {status}\n",
        log = log.display(),
        keep = keep_d.display(),
    );
    let path = &bed.paths.sysupgrade_program;
    std::fs::write(path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// What the package keeps through a sysupgrade: its conffiles, which the build writes into
/// `/lib/upgrade/keep.d/uspagent` (openwrt/build-ipk.sh, as OpenWrt's package-ipkg.mk).
fn package_keep_list() -> String {
    let makefile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openwrt/uspagent/Makefile");
    let text = std::fs::read_to_string(makefile).unwrap();
    let block = text.split("define Package/uspagent/conffiles\n").nth(1).unwrap();
    block.split("endef").next().unwrap().to_owned()
}

fn host(bed: &Testbed) -> Host {
    let mut h = Host::new(AgentIdentity::default(), Platform::OpenWrt, &bed.paths.state_dir);
    h.paths = bed.paths.clone();
    h.waker = Arc::new(NoWake);
    h
}

/// The agent's own areas and this one (not Wi-Fi, which the testbed would also serve).
fn start(bed: &Testbed) -> Lab {
    let h = host(bed);
    let mut plugins = crate::plugins(&Host { router_areas: false, ..h.clone() });
    plugins.extend(super::build(&h));
    Lab::new(plugins)
}

fn download(t: &mut Lab, url: &str) -> Vec<DmEvent> {
    let input = [("URL", url), ("AutoActivate", "true"), ("FileSize", "0")];
    t.operate("Device.DeviceInfo.FirmwareImage.1.Download()", &input).expect("accepted");
    let mut events = run_until(t, completed);
    if events.iter().any(|e| matches!(e, DmEvent::OperationComplete { result: Ok(_), .. })) {
        events.extend(run_until(t, rebooting));
    }
    events
}

#[test]
fn fwtool_metadata_gives_the_version_and_none_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.bin");
    std::fs::write(&f, image(b"kernel+rootfs", "b", "24.10.0", "r1")).unwrap();
    assert_eq!(image_version(&f).as_deref(), Some("24.10.0 r1"));
    // A signature block after the metadata (fwtool -s) is skipped.
    let mut signed = image(b"x", "b", "24.10.0", "r2");
    signed.extend_from_slice(&[0u8; 8]);
    signed.extend_from_slice(b"sig");
    signed.extend_from_slice(&0x4657_7830u32.to_be_bytes());
    signed.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    signed.extend_from_slice(&27u32.to_be_bytes());
    std::fs::write(&f, signed).unwrap();
    assert_eq!(image_version(&f).as_deref(), Some("24.10.0 r2"));
    std::fs::write(&f, b"no trailer at all, just bytes").unwrap();
    assert_eq!(image_version(&f), None);
}

#[test]
fn oktopus_flow_stages_in_ram_and_flashes_after_shutdown_keeping_the_agent_state() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    sysupgrade(&bed, dir.path(), 0);
    let server = HttpServer::start();
    let fw = image(&[5u8; 200_000], "test,router", "24.10.0", "r28427-6df0e3d02a");
    server.route("/openwrt.bin", Route::File(fw.clone()));
    let mut t = start(&bed);
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImageNumberOfEntries"), "2");
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), RUNNING);
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.Status"), "Available");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Status"), "NoImage");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.Name"), "running");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Name"), "staging");

    let events = download(&mut t, &server.url("/openwrt.bin"));
    let args = transfer_complete(&events);
    assert_eq!(arg(&args, "FaultCode"), "0", "{args:?}");
    assert_eq!(arg(&args, "Affected"), "Device.DeviceInfo.FirmwareImage.2.");
    assert!(rebooting(&events));
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Version"), NEW);
    let staged = bed.paths.tmp_dir.join("uspagent-firmware/image.bin");
    assert_eq!(std::fs::read(&staged).unwrap(), fw, "staged in tmp, whole");
    assert!(!dir.path().join("sysupgrade.log").exists(), "nothing flashed before the shutdown");

    // The host's clean shutdown, then the flash it was asked for.
    drop(t);
    assert!(flash_if_requested(&bed.paths.state_dir).unwrap());
    let log = std::fs::read_to_string(dir.path().join("sysupgrade.log")).unwrap();
    assert!(log.starts_with(&format!("args: {}\n", staged.display())), "config kept: {log}");
    assert!(log.lines().any(|l| l == "/etc/uspagent/"), "the agent's state is kept: {log}");
    assert_eq!(std::fs::read(dir.path().join("sysupgrade.log.image")).unwrap(), fw);
    assert!(!flash_if_requested(&bed.paths.state_dir).unwrap(), "flashed once");

    // The router comes up on the new image (the state directory was kept).
    let r = bed.ubus().call(
        "test",
        "set_release",
        &json!({ "version": "24.10.0", "revision": "r28427-6df0e3d02a" }),
    );
    r.unwrap();
    let mut t = start(&bed);
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), NEW);
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.Version"), NEW);
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.1.BootFailureLog"), "");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.BootFailureLog"), "");
}

#[test]
fn a_failed_flash_keeps_the_old_image_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    sysupgrade(&bed, dir.path(), 1);
    let server = HttpServer::start();
    server.route("/ok.bin", Route::File(image(b"new", "test,router", "24.10.0", "r2")));
    let mut t = start(&bed);
    let events = download(&mut t, &server.url("/ok.bin"));
    assert!(rebooting(&events));
    drop(t);
    let e = flash_if_requested(&bed.paths.state_dir).unwrap_err();
    assert!(e.to_string().contains("failed"), "{e}");
    let mut t = start(&bed);
    assert_eq!(t.get("Device.DeviceInfo.SoftwareVersion"), RUNNING);
    let log = t.get("Device.DeviceInfo.FirmwareImage.2.BootFailureLog");
    assert!(log.contains("24.10.0 r2") && log.contains("sysupgrade failed"), "{log}");
    assert_eq!(
        t.get("Device.DeviceInfo.ActiveFirmwareImage"),
        "Device.DeviceInfo.FirmwareImage.1."
    );
}

#[test]
fn procd_refuses_an_image_for_another_board_and_nothing_is_staged() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    sysupgrade(&bed, dir.path(), 0);
    let server = HttpServer::start();
    server.route("/other.bin", Route::File(image(b"x", "other,board", "24.10.0", "r3")));
    server.route("/cut.bin", Route::Truncated { body: vec![1u8; 50_000], sent: 1000 });
    let mut t = start(&bed);
    let events = download(&mut t, &server.url("/other.bin"));
    let args = transfer_complete(&events);
    assert_eq!(arg(&args, "FaultCode"), "7022");
    assert!(arg(&args, "FaultString").contains("fwtool_device_match"), "{args:?}");
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Status"), "ValidationFailed");
    assert!(!rebooting(&events));
    let events = download(&mut t, &server.url("/cut.bin"));
    assert!(arg(&transfer_complete(&events), "FaultString").contains("connection ended"));
    assert_eq!(t.get("Device.DeviceInfo.FirmwareImage.2.Status"), "DownloadFailed");
    assert!(!bed.paths.tmp_dir.join("uspagent-firmware/image.bin").exists());
    assert!(!bed.paths.tmp_dir.join("uspagent-firmware/download.part").exists());
    drop(t);
    assert!(!flash_if_requested(&bed.paths.state_dir).unwrap(), "nothing to flash");
}
