//! Device.SoftwareModules. on the opkg execution environment with OpenWrt's real `opkg`
//! (built from `USP_OPENWRT_SRC` by the testbed; skipped with a recorded line when the sources
//! are missing): real `.ipk` files built here (control data and an init script), served over
//! HTTP, installed into a temporary offline root with a configuration file of its own; the
//! opkg status database and the files on disk are checked after every operation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use usp_datamodel::plugin::Plugin;
use usp_testkit::http::{HttpServer, Route};

use super::testing::ipk_with;
use super::tests::{arg, du_state_change, install, op_fault, run_until, wait_match, wait_value};
use crate::openwrt::testbed::{Spec, Testbed, record_skip};
use crate::testutil::Lab;
use crate::{AgentIdentity, Host, NoWake, Platform};

/// The offline root, its opkg configuration and the host pointing at them.
pub(crate) struct Bed {
    pub root: PathBuf,
    pub host: Host,
}

pub(crate) fn bed(dir: &Path, root: PathBuf) -> Option<Bed> {
    let prefix = match Testbed::userland() {
        Ok(p) => p,
        Err(why) => {
            record_skip(&why);
            return None;
        }
    };
    std::fs::create_dir_all(&root).unwrap();
    let conf = dir.join("opkg.conf");
    let arch = std::env::consts::ARCH;
    let text = format!("dest root /\nlists_dir ext /var/opkg-lists\narch all 1\narch {arch} 10\n");
    std::fs::write(&conf, text).unwrap();
    let mut host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::OpenWrt, dir.join("state"))
    };
    host.paths.opkg_program = prefix.join("bin/opkg-cl");
    host.paths.opkg_root = Some(root.clone());
    host.paths.opkg_conf = Some(conf);
    // No ubus unless a test starts one: EUs' memory and CPU are -1.
    host.paths.ubus_program = dir.join("no-ubus");
    Some(Bed { root, host })
}

fn start(b: &Bed) -> Lab {
    let mut all: Vec<Box<dyn Plugin>> = crate::builtin(&b.host.identity);
    all.extend(super::build(&b.host));
    Lab::new(all)
}

fn status_db(root: &Path) -> String {
    std::fs::read_to_string(root.join("usr/lib/opkg/status")).unwrap_or_default()
}

#[test]
fn opkg_installs_updates_and_removes_real_packages_with_their_services() {
    let dir = tempfile::tempdir().unwrap();
    let Some(b) = bed(dir.path(), dir.path().join("root")) else { return };
    let server = HttpServer::start();
    server.route("/hello_1.ipk", Route::File(ipk_with("hello", "1.0-1", "all", &[])));
    server.route("/hello_2.ipk", Route::File(ipk_with("hello", "2.0-1", "all", &[])));
    let mut t = start(&b);
    assert_eq!(t.get("Device.SoftwareModules.ExecEnv.1.Name"), "opkg");

    let events = install(&mut t, &[("URL", &server.url("/hello_1.ipk"))]);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    let ev = du_state_change(&events);
    assert_eq!(arg(&ev, "CurrentState"), "Installed");
    assert_eq!(arg(&ev, "Version"), "1.0-1");
    assert_eq!(arg(&ev, "ExecutionUnitRefList"), "Device.SoftwareModules.ExecutionUnit.1.");
    assert!(
        status_db(&b.root).contains("Package: hello\nVersion: 1.0-1\n"),
        "{}",
        status_db(&b.root)
    );
    assert!(b.root.join("etc/init.d/hello").is_file());
    let d = "Device.SoftwareModules.DeploymentUnit.1.";
    assert_eq!(t.get(&format!("{d}Name")), "hello");
    assert_eq!(t.get(&format!("{d}Vendor")), "Example");
    assert_eq!(t.get(&format!("{d}Description")), "test hello");
    assert_eq!(t.get(&format!("{d}URL")), server.url("/hello_1.ipk"));

    // The EU is the package's service, driven through its init script.
    let e = "Device.SoftwareModules.ExecutionUnit.1.";
    assert_eq!(t.get(&format!("{e}Name")), "hello");
    assert_eq!(t.get(&format!("{e}Status")), "Idle");
    t.operate(&format!("{e}SetRequestedState()"), &[("RequestedState", "Active")]).unwrap();
    wait_value(&mut t, &format!("{e}Status"), "Active");
    assert!(b.root.join("var/run/hello.pid").is_file());
    // Without ubus procd cannot be asked for the service's pids.
    assert_eq!(t.get(&format!("{e}MemoryInUse")), "-1");
    assert_eq!(t.get(&format!("{e}CPUPercentInUse")), "-1");
    t.set(e, &[("AutoStart", "true")]).unwrap();
    wait_value(&mut t, &format!("{e}AutoStart"), "true");
    assert!(b.root.join("etc/rc.d/S50hello").exists());
    // procd orders services by START number: no run levels here.
    assert_eq!(t.set(e, &[("RunLevel", "2")]).unwrap_err().code.code(), 7012);
    let env = "Device.SoftwareModules.ExecEnv.1.SetRunLevel()";
    let err = t.operate(env, &[("RequestedRunLevel", "2")]).unwrap_err();
    assert_eq!(err.code.code(), 7022);

    t.operate(&format!("{d}Update()"), &[("URL", &server.url("/hello_2.ipk"))]).unwrap();
    let events = run_until(&mut t, super::tests::completed);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    assert_eq!(arg(&du_state_change(&events), "OperationPerformed"), "Update");
    assert!(status_db(&b.root).contains("Package: hello\nVersion: 2.0-1\n"));
    assert_eq!(t.get(&format!("{d}Version")), "2.0-1");

    t.operate(&format!("{d}Uninstall()"), &[]).unwrap();
    let events = run_until(&mut t, super::tests::completed);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    assert_eq!(arg(&du_state_change(&events), "CurrentState"), "Uninstalled");
    assert!(!status_db(&b.root).contains("Package: hello"));
    assert!(!b.root.join("etc/init.d/hello").exists());
    assert!(!b.root.join("var/run/hello.pid").exists(), "the service was stopped");
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnitNumberOfEntries"), "0");
}

#[test]
fn opkg_eus_show_memory_and_cpu_of_the_pids_procd_gives_over_ubus() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut b) = bed(dir.path(), dir.path().join("root")) else { return };
    let Some(procd) = Testbed::start_or_skip(&dir.path().join("ubus"), &Spec::default()) else {
        return;
    };
    b.host.paths.ubus_program = procd.paths.ubus_program.clone();
    b.host.paths.ubus_socket = procd.paths.ubus_socket.clone();
    let server = HttpServer::start();
    server.route("/hello.ipk", Route::File(ipk_with("hello", "1", "all", &[])));
    let mut t = start(&b);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/hello.ipk"))])), 0);
    let e = "Device.SoftwareModules.ExecutionUnit.1.";
    // procd runs no service of that name yet.
    assert_eq!(t.get(&format!("{e}MemoryInUse")), "-1");
    t.operate(&format!("{e}SetRequestedState()"), &[("RequestedState", "Active")]).unwrap();
    wait_value(&mut t, &format!("{e}Status"), "Active");
    let pidfile = std::fs::read_to_string(b.root.join("var/run/hello.pid")).unwrap();
    let pid: u32 = pidfile.trim().parse().unwrap();
    let args = serde_json::json!({ "name": "hello", "pid": pid });
    procd.ubus().call("test", "procd", &args).unwrap();

    // The resident memory of that very process (`sleep`: a few hundred KiB, never 0).
    let rss = super::sysinfo::rss_kib(pid).unwrap();
    let mem = wait_match(&mut t, &format!("{e}MemoryInUse"), "its VmRSS", |v| {
        v.parse::<i64>().is_ok_and(|m| m > 0 && (m - rss).abs() <= 256)
    });
    assert!(mem.parse::<i64>().unwrap() > 0);
    // CPU needs two reads; `sleep` uses none.
    wait_value(&mut t, &format!("{e}CPUPercentInUse"), "0");

    // procd reports the instance stopped: nothing in use.
    t.operate(&format!("{e}SetRequestedState()"), &[("RequestedState", "Idle")]).unwrap();
    wait_value(&mut t, &format!("{e}Status"), "Idle");
    wait_value(&mut t, &format!("{e}MemoryInUse"), "0");
    assert_eq!(t.get(&format!("{e}CPUPercentInUse")), "0");
}

#[test]
fn a_package_removed_by_hand_disappears_and_bad_packages_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(b) = bed(dir.path(), dir.path().join("root")) else { return };
    let server = HttpServer::start();
    server.route("/a.ipk", Route::File(ipk_with("alpha", "1", "all", &[])));
    server.route("/mips.ipk", Route::File(ipk_with("mipsy", "1", "mips_24kc", &[])));
    server.route("/junk.ipk", Route::File(b"this is no package".repeat(100)));
    let mut t = start(&b);
    let events = install(&mut t, &[("URL", &server.url("/a.ipk"))]);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/a.ipk"))])), 7226);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/mips.ipk"))])), 7225);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/junk.ipk"))])), 7035);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/none.ipk"))])), 7002);
    assert!(!status_db(&b.root).contains("mipsy"));
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnitNumberOfEntries"), "1");

    let opkg = &b.host.paths;
    let out = Command::new(&opkg.opkg_program)
        .arg("-f")
        .arg(opkg.opkg_conf.as_ref().unwrap())
        .arg("-o")
        .arg(&b.root)
        .args(["remove", "alpha"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    wait_value(&mut t, "Device.SoftwareModules.DeploymentUnitNumberOfEntries", "0");
}

/// Mounts a small tmpfs at `at` for the test's life (root only; `None` otherwise).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_install_with_7227_and_leaves_no_package() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let Some(_fs) = Tmpfs::mount(&root, "512k") else {
        record_skip("cannot mount a tmpfs here (not root)");
        return;
    };
    let Some(b) = bed(dir.path(), root) else { return };
    // 2 MB that gzip cannot shrink: a xorshift stream.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let blob: Vec<u8> = (0..2_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let server = HttpServer::start();
    server.route("/big.ipk", Route::File(ipk_with("big", "1", "all", &[("./etc/big.bin", &blob)])));
    server.route("/small.ipk", Route::File(ipk_with("small", "1", "all", &[])));
    let mut t = start(&b);
    let events = install(&mut t, &[("URL", &server.url("/big.ipk"))]);
    assert_eq!(op_fault(&events), 7227, "{events:?}");
    assert_eq!(arg(&du_state_change(&events), "CurrentState"), "Failed");
    assert!(!status_db(&b.root).contains("Package: big"), "{}", status_db(&b.root));
    assert!(!b.root.join("etc/big.bin").exists());
    // The agent keeps serving and a package that fits installs.
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/small.ipk"))])), 0);
}
