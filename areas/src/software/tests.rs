//! Device.SoftwareModules. on the Linux/lab execution environment, with real tarballs served
//! by a real HTTP(S) server on 127.0.0.1 and real child processes: install, EU states and
//! faults, update, uninstall, restart of the agent, and every failure ending with its TR-369
//! fault and nothing half installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::plugin::{DmEvent, Outcome, Plugin};
use usp_testkit::http::{HttpServer, Route};

use super::Software;
use super::lab::LabEnv;
use super::tarball::pack;
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

fn host(dir: &Path) -> Host {
    Host { waker: Arc::new(NoWake), ..Host::new(AgentIdentity::default(), Platform::Lab, dir) }
}

/// The agent's own areas and a SoftwareModules plugin on a lab environment in `dir`.
fn plugins(
    dir: &Path,
    quota: Option<u64>,
    tweak: impl FnOnce(&mut Software),
) -> Vec<Box<dyn Plugin>> {
    let h = host(dir);
    let mut all = crate::builtin(&h.identity);
    let env = LabEnv::boot("lab", dir, quota).unwrap();
    let mut sw = Software::new(&h, Box::new(env)).unwrap();
    tweak(&mut sw);
    all.push(Box::new(sw));
    all
}

fn start(dir: &Path) -> Lab {
    Lab::new(plugins(dir, None, |_| {}))
}

/// A DU tarball: its manifest lines and extra files.
pub(crate) fn du(manifest: &str, files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut all: Vec<(&str, u32, &[u8])> = vec![("manifest", 0o644, manifest.as_bytes())];
    all.extend(files.iter().map(|(n, d)| (*n, 0o755, *d)));
    pack(&all)
}

fn hello(version: &str) -> Vec<u8> {
    let manifest = format!(
        "name=hello\nversion={version}\nvendor=Example\ndescription=say hello\neu.server=./server.sh\n"
    );
    du(&manifest, &[("server.sh", b"#!/bin/sh\nexec sleep 60\n")])
}

/// Polls the plugins until `done` holds for the events seen, at most 15 s.
pub(super) fn run_until(t: &mut Lab, done: impl Fn(&[DmEvent]) -> bool) -> Vec<DmEvent> {
    let end = Instant::now() + Duration::from_secs(15);
    let mut seen = Vec::new();
    let mut secs = 1;
    while Instant::now() < end {
        secs += 1;
        t.dm.tick(at(secs), true);
        seen.extend(t.events());
        if done(&seen) {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out; events so far: {seen:?}");
}

/// Polls until the parameter at `path` reads `want`, at most 15 s.
pub(super) fn wait_value(t: &mut Lab, path: &str, want: &str) {
    wait_match(t, path, want, |v| v == want);
}

/// Ticks the agent until `path` reads a value `ok` accepts (15 s at most; `what` says which).
pub(super) fn wait_match(t: &mut Lab, path: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + Duration::from_secs(15);
    let mut secs = 100;
    while Instant::now() < end {
        secs += 4;
        t.dm.tick(at(secs), true);
        t.events();
        if let Ok(v) = t.try_get(path).map(|v| v.to_string()) {
            if ok(&v) {
                return v;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{path} never read {what:?} (last: {:?})", t.try_get(path));
}

pub(super) fn completed(events: &[DmEvent]) -> bool {
    events.iter().any(|e| matches!(e, DmEvent::OperationComplete { .. }))
}

/// The arguments of the DUStateChange! among `events`.
pub(super) fn du_state_change(events: &[DmEvent]) -> Vec<(String, String)> {
    let args = events.iter().find_map(|e| match e {
        DmEvent::Event { name, args, .. } if &**name == "DUStateChange" => Some(args),
        _ => None,
    });
    args.expect("DUStateChange! emitted")
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn arg(args: &[(String, String)], name: &str) -> String {
    args.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The fault code of the OperationComplete among `events` (0: success).
pub(super) fn op_fault(events: &[DmEvent]) -> u32 {
    let r = events.iter().find_map(|e| match e {
        DmEvent::OperationComplete { result, .. } => Some(result),
        _ => None,
    });
    match r.expect("OperationComplete") {
        Ok(_) => 0,
        Err(e) => e.code.code(),
    }
}

pub(super) fn install(t: &mut Lab, input: &[(&str, &str)]) -> Vec<DmEvent> {
    let (_, outcome) = t.operate("Device.SoftwareModules.InstallDU()", input).expect("accepted");
    assert_eq!(outcome, Outcome::Running);
    run_until(t, completed)
}

fn du_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("software/du"))
        .map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn install_runs_the_eu_then_idle_active_and_uninstall_remove_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/hello.tar", Route::File(hello("1.0")));
    let mut t = start(dir.path());
    assert_eq!(t.get("Device.SoftwareModules.ExecEnvNumberOfEntries"), "1");
    assert_eq!(t.get("Device.SoftwareModules.ExecEnv.1.Status"), "Up");
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnitNumberOfEntries"), "0");

    let uuid = "6f1b0d6c-1a6e-4a4e-9d51-3c0d2b8a9e11";
    let events = install(&mut t, &[("URL", &server.url("/hello.tar")), ("UUID", uuid)]);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    let ev = du_state_change(&events);
    assert_eq!(arg(&ev, "CurrentState"), "Installed");
    assert_eq!(arg(&ev, "OperationPerformed"), "Install");
    assert_eq!(arg(&ev, "UUID"), uuid);
    assert_eq!(arg(&ev, "Version"), "1.0");
    assert_eq!(arg(&ev, "Fault.FaultCode"), "0");
    assert_eq!(arg(&ev, "DeploymentUnitRef"), "Device.SoftwareModules.DeploymentUnit.1.");
    assert_eq!(arg(&ev, "ExecutionUnitRefList"), "Device.SoftwareModules.ExecutionUnit.1.");
    let outputs = events.iter().find_map(|e| match e {
        DmEvent::OperationComplete { result: Ok(out), .. } => Some(out.clone()),
        _ => None,
    });
    let outputs: Vec<(String, String)> =
        outputs.unwrap().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(arg(&outputs, "UUID"), uuid);
    assert_eq!(arg(&outputs, "Version"), "1.0");
    assert_eq!(arg(&outputs, "ExecEnvRef"), "Device.SoftwareModules.ExecEnv.1.");
    let d = "Device.SoftwareModules.DeploymentUnit.1.";
    assert_eq!(t.get(&format!("{d}Name")), "hello");
    assert_eq!(t.get(&format!("{d}Vendor")), "Example");
    assert_eq!(t.get(&format!("{d}Status")), "Installed");
    assert_eq!(t.get(&format!("{d}URL")), server.url("/hello.tar"));
    assert_eq!(t.get(&format!("{d}ExecutionEnvRef")), "Device.SoftwareModules.ExecEnv.1.");

    let e = "Device.SoftwareModules.ExecutionUnit.1.";
    wait_value(&mut t, &format!("{e}Status"), "Active");
    assert_eq!(t.get(&format!("{e}EUID")), "hello/server");
    let memory: i64 = t.get(&format!("{e}MemoryInUse")).parse().unwrap();
    assert!(memory > 0, "MemoryInUse {memory}");
    assert_eq!(
        t.get("Device.SoftwareModules.ExecEnv.1.ActiveExecutionUnits"),
        "Device.SoftwareModules.ExecutionUnit.1."
    );

    let (_, o) =
        t.operate(&format!("{e}SetRequestedState()"), &[("RequestedState", "Idle")]).unwrap();
    assert_eq!(o, Outcome::Done(Vec::new()));
    wait_value(&mut t, &format!("{e}Status"), "Idle");
    assert_eq!(t.get(&format!("{e}ExecutionFaultCode")), "NoFault");
    t.operate(&format!("{e}SetRequestedState()"), &[("RequestedState", "Active")]).unwrap();
    wait_value(&mut t, &format!("{e}Status"), "Active");

    let (_, o) = t.operate(&format!("{d}Uninstall()"), &[]).unwrap();
    assert_eq!(o, Outcome::Running);
    let events = run_until(&mut t, completed);
    assert_eq!(op_fault(&events), 0);
    let ev = du_state_change(&events);
    assert_eq!(arg(&ev, "CurrentState"), "Uninstalled");
    assert_eq!(arg(&ev, "DeploymentUnitRef"), d);
    assert_eq!(arg(&ev, "UUID"), uuid);
    wait_value(&mut t, "Device.SoftwareModules.DeploymentUnitNumberOfEntries", "0");
    assert_eq!(t.get("Device.SoftwareModules.ExecutionUnitNumberOfEntries"), "0");
    assert!(du_dirs(dir.path()).is_empty(), "{:?}", du_dirs(dir.path()));
}

#[test]
fn an_eu_that_exits_with_an_error_shows_its_fault_and_restart_starts_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let manifest =
        "name=crashy\nversion=1\neu.quick=sh -c 'exit 3'\neu.later=sh -c 'sleep 1.5; exit 4'\n";
    server.route("/c.tar", Route::File(du(manifest, &[])));
    let mut t = start(dir.path());
    let events = install(&mut t, &[("URL", &server.url("/c.tar"))]);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    let eu = |n: u32, p: &str| format!("Device.SoftwareModules.ExecutionUnit.{n}.{p}");
    let quick = if t.get(&eu(1, "Name")) == "quick" { 1 } else { 2 };
    let later = 3 - quick;
    wait_value(&mut t, &eu(quick, "ExecutionFaultCode"), "FailureOnAutoStart");
    assert_eq!(t.get(&eu(quick, "ExecutionFaultMessage")), "exited with status 3");
    assert_eq!(t.get(&eu(quick, "Status")), "Idle");
    wait_value(&mut t, &eu(later, "ExecutionFaultCode"), "FailureWhileActive");
    assert_eq!(t.get(&eu(later, "ExecutionFaultMessage")), "exited with status 4");
    t.operate(&eu(later, "Restart()"), &[]).unwrap();
    wait_value(&mut t, &eu(later, "Status"), "Active");
    assert_eq!(t.get(&eu(later, "ExecutionFaultCode")), "NoFault");
}

#[test]
fn an_agent_restart_keeps_dus_and_numbers_and_restarts_autostart_eus() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/a.tar", Route::File(du("name=alpha\nversion=1\neu.a=sleep 60\n", &[])));
    let manifest = "name=beta\nversion=2\neu.b=sleep 60\nautostart.b=false\n";
    server.route("/b.tar", Route::File(du(manifest, &[])));
    let mut t = start(dir.path());
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/a.tar"))])), 0);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/b.tar"))])), 0);
    // Uninstalling alpha leaves beta as row 2; alpha again is row 3 (numbers are never
    // reused), and both must keep their numbers after a restart.
    t.operate("Device.SoftwareModules.DeploymentUnit.1.Uninstall()", &[]).unwrap();
    assert_eq!(op_fault(&run_until(&mut t, completed)), 0);
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/a.tar"))])), 0);
    let before: Vec<(String, String)> = ["1", "2", "3", "4"]
        .iter()
        .filter_map(|n| {
            let p = format!("Device.SoftwareModules.DeploymentUnit.{n}.Name");
            t.try_get(&p).ok().map(|v| (n.to_string(), v))
        })
        .collect();
    assert_eq!(before, [("2".to_owned(), "beta".to_owned()), ("3".to_owned(), "alpha".to_owned())]);
    let t2 = t.restart(plugins(dir.path(), None, |_| {}));
    let mut t = t2;
    for (n, name) in &before {
        assert_eq!(&t.get(&format!("Device.SoftwareModules.DeploymentUnit.{n}.Name")), name);
    }
    let alpha = before.iter().find(|(_, v)| v == "alpha").map(|(n, _)| n.clone()).unwrap();
    let eus = t.get(&format!("Device.SoftwareModules.DeploymentUnit.{alpha}.ExecutionUnitList"));
    wait_value(&mut t, &format!("{eus}Status"), "Active");
    let beta = before.iter().find(|(_, v)| v == "beta").map(|(n, _)| n.clone()).unwrap();
    let eus = t.get(&format!("Device.SoftwareModules.DeploymentUnit.{beta}.ExecutionUnitList"));
    assert_eq!(t.get(&format!("{eus}AutoStart")), "false");
    assert_eq!(t.get(&format!("{eus}Status")), "Idle");
}

#[test]
fn update_replaces_the_version_and_keeps_the_eu_running() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/h1.tar", Route::File(hello("1.0")));
    server.route("/h2.tar", Route::File(hello("2.0")));
    let mut t = start(dir.path());
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/h1.tar"))])), 0);
    let e = "Device.SoftwareModules.ExecutionUnit.1.";
    wait_value(&mut t, &format!("{e}Status"), "Active");
    let d = "Device.SoftwareModules.DeploymentUnit.1.";
    let (_, o) = t.operate(&format!("{d}Update()"), &[("URL", &server.url("/h2.tar"))]).unwrap();
    assert_eq!(o, Outcome::Running);
    assert_eq!(t.get(&format!("{d}Status")), "Updating");
    let events = run_until(&mut t, completed);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    let ev = du_state_change(&events);
    assert_eq!(arg(&ev, "OperationPerformed"), "Update");
    assert_eq!(arg(&ev, "Version"), "2.0");
    assert_eq!(t.get(&format!("{d}Version")), "2.0");
    assert_eq!(t.get(&format!("{d}URL")), server.url("/h2.tar"));
    wait_value(&mut t, &format!("{e}Status"), "Active");
    // The same version again is a duplicate; the DU stays as it was.
    t.operate(&format!("{d}Update()"), &[("URL", &server.url("/h2.tar"))]).unwrap();
    let events = run_until(&mut t, completed);
    assert_eq!(op_fault(&events), 7226);
    assert_eq!(t.get(&format!("{d}Version")), "2.0");
}

/// Installs from `url` with `input` on a fresh environment and returns the fault code, the
/// DUStateChange! state and the DU directories left.
fn failing(dir: &Path, t: &mut Lab, input: &[(&str, &str)]) -> (u32, String, Vec<String>) {
    let events = install(t, input);
    let ev = du_state_change(&events);
    assert_eq!(arg(&ev, "Fault.FaultCode"), op_fault(&events).to_string());
    let entries = t.get("Device.SoftwareModules.DeploymentUnitNumberOfEntries");
    assert_eq!(entries, "0", "no DU row after a failed install");
    (op_fault(&events), arg(&ev, "CurrentState"), du_dirs(dir))
}

#[test]
fn failed_installs_end_with_their_fault_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    server.route("/junk", Route::File(b"<html>not a package</html>".repeat(40)));
    server.route("/arm.tar", Route::File(du("name=armonly\nversion=1\narch=mips\n", &[])));
    server.route("/cut", Route::Truncated { body: hello("1.0"), sent: 700 });
    server.route("/hello.tar", Route::File(hello("1.0")));
    let big = vec![7u8; 300_000];
    server.route("/big.tar", Route::File(du("name=big\nversion=1\n", &[("blob", &big)])));
    let mut t = Lab::new(plugins(dir.path(), Some(200_000), |_| {}));
    let cases: [(&str, u32); 5] = [
        ("/missing", 7002),
        ("/junk", 7035),
        ("/arm.tar", 7225),
        ("/cut", 7035),
        ("/big.tar", 7227),
    ];
    for (path, code) in cases {
        let (got, state, left) = failing(dir.path(), &mut t, &[("URL", &server.url(path))]);
        assert_eq!((path, got), (path, code));
        assert_eq!(state, "Failed");
        assert!(left.is_empty(), "{path} left {left:?}");
    }
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/hello.tar"))])), 0);
    let (got, _, _) = failing_dup(&mut t, &server.url("/hello.tar"));
    assert_eq!(got, 7226);
    // The agent keeps serving, and bad arguments are refused at once.
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnit.1.Name"), "hello");
    for url in ["ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "no url"] {
        let e = t.operate("Device.SoftwareModules.InstallDU()", &[("URL", url)]).unwrap_err();
        assert_eq!(e.code.code(), 7004, "{url}");
    }
    let e = t
        .operate(
            "Device.SoftwareModules.InstallDU()",
            &[("URL", &server.url("/x")), ("ExecutionEnvRef", "Device.SoftwareModules.ExecEnv.9.")],
        )
        .unwrap_err();
    assert_eq!(e.code.code(), 7223);
    // A closed port: unreachable.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let events = install(&mut t, &[("URL", &format!("http://127.0.0.1:{port}/x.tar"))]);
    assert_eq!(op_fault(&events), 7033);
}

fn failing_dup(t: &mut Lab, url: &str) -> (u32, String, ()) {
    let events = install(t, &[("URL", url)]);
    (op_fault(&events), arg(&du_state_change(&events), "CurrentState"), ())
}

#[test]
fn tls_basic_auth_and_a_slow_server_through_the_real_client() {
    let dir = tempfile::tempdir().unwrap();
    let pki = usp_testkit::certs::TestPki::generate("software test CA", "agent");
    let server = HttpServer::start_tls(&pki.server_cert, &pki.server_key);
    server.route("/hello.tar", Route::File(hello("1.0")));
    let body = du("name=secret\nversion=1\n", &[]);
    server.route("/secret.tar", Route::Protected { user: "u".into(), password: "p".into(), body });
    // A server that accepts and never answers.
    let slow = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let slow_url = format!("http://{}/x.tar", slow.local_addr().unwrap());
    let ca = pki.ca.clone();
    let mut t = Lab::new(plugins(dir.path(), None, move |s| {
        s.ca_file = Some(ca);
        s.timeout = Duration::from_secs(1);
    }));
    let url = server.url("/hello.tar");
    assert!(url.starts_with("https://"));
    assert_eq!(op_fault(&install(&mut t, &[("URL", &url)])), 0);
    let secret = server.url("/secret.tar");
    assert_eq!(
        op_fault(&install(&mut t, &[("URL", &secret), ("Username", "u"), ("Password", "bad")])),
        7002
    );
    let events = install(&mut t, &[("URL", &secret), ("Username", "u"), ("Password", "p")]);
    assert_eq!(op_fault(&events), 0, "{events:?}");
    let started = Instant::now();
    assert_eq!(op_fault(&install(&mut t, &[("URL", &slow_url)])), 7033);
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(slow);
    // Another CA's server: insecure.
    let other = usp_testkit::certs::TestPki::generate("another CA", "agent");
    let server2 = HttpServer::start_tls(&other.server_cert, &other.server_key);
    server2.route("/hello.tar", Route::File(hello("1.0")));
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server2.url("/hello.tar"))])), 7034);
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnitNumberOfEntries"), "2");
}

#[test]
fn gzip_tarballs_are_unpacked_through_the_gzip_program() {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("h.tar");
    std::fs::write(&tar, hello("3.1")).unwrap();
    let ok = std::process::Command::new("gzip").arg("-k").arg(&tar).status().unwrap();
    assert!(ok.success());
    let server = HttpServer::start();
    server.route("/h.tar.gz", Route::File(std::fs::read(dir.path().join("h.tar.gz")).unwrap()));
    let mut t = start(&dir.path().join("agent"));
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/h.tar.gz"))])), 0);
    assert_eq!(t.get("Device.SoftwareModules.DeploymentUnit.1.Version"), "3.1");
}

#[test]
fn the_lab_platform_registers_the_area() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Lab::new(crate::plugins(&host(dir.path())));
    assert_eq!(t.get("Device.SoftwareModules.ExecEnv.1.Name"), "lab");
    assert_eq!(t.get("Device.SoftwareModules.ExecEnv.1.Type"), "Linux processes");
    let _ = at(0);
}

#[test]
fn run_levels_enable_and_reset_of_the_execution_environment() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let manifest = "name=levels\nversion=1\neu.low=sleep 60\neu.high=sleep 60\nrun.high=5\n";
    server.route("/l.tar", Route::File(du(manifest, &[])));
    server.route("/h.tar", Route::File(hello("1.0")));
    let mut t = start(dir.path());
    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/l.tar"))])), 0);
    let eu = |n: u32, p: &str| format!("Device.SoftwareModules.ExecutionUnit.{n}.{p}");
    let high = if t.get(&eu(1, "Name")) == "high" { 1 } else { 2 };
    let low = 3 - high;
    assert_eq!(t.get(&eu(high, "RunLevel")), "5");
    wait_value(&mut t, &eu(high, "Status"), "Active");
    let env = "Device.SoftwareModules.ExecEnv.1.";
    t.operate(&format!("{env}SetRunLevel()"), &[("RequestedRunLevel", "3")]).unwrap();
    wait_value(&mut t, &eu(high, "Status"), "Idle");
    assert_eq!(t.get(&eu(low, "Status")), "Active");
    assert_eq!(t.get(&format!("{env}CurrentRunLevel")), "3");
    t.operate(&format!("{env}SetRunLevel()"), &[("RequestedRunLevel", "-1")]).unwrap();
    wait_value(&mut t, &eu(high, "Status"), "Active");

    t.set(env, &[("Enable", "false")]).unwrap();
    wait_value(&mut t, &format!("{env}Status"), "Disabled");
    wait_value(&mut t, &eu(low, "Status"), "Idle");
    assert_eq!(t.get(&eu(high, "Status")), "Idle");
    let e = t.operate("Device.SoftwareModules.InstallDU()", &[("URL", &server.url("/h.tar"))]);
    assert_eq!(e.unwrap_err().code.code(), 7224);
    let e = t.operate(&eu(low, "SetRequestedState()"), &[("RequestedState", "Active")]);
    assert_eq!(e.unwrap_err().code.code(), 7022);
    t.set(env, &[("Enable", "true")]).unwrap();
    wait_value(&mut t, &eu(low, "Status"), "Active");

    assert_eq!(op_fault(&install(&mut t, &[("URL", &server.url("/h.tar"))])), 0);
    t.operate(&format!("{env}Reset()"), &[]).unwrap();
    let events = run_until(&mut t, completed);
    assert_eq!(op_fault(&events), 0);
    let states: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            DmEvent::Event { name, args, .. } if &**name == "DUStateChange" => {
                args.iter().find(|(k, _)| &**k == "CurrentState").map(|(_, v)| v.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(states, ["Uninstalled", "Uninstalled"]);
    wait_value(&mut t, "Device.SoftwareModules.DeploymentUnitNumberOfEntries", "0");
    assert!(du_dirs(dir.path()).is_empty());
}

#[test]
fn archives_that_reach_outside_their_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let escape =
        pack(&[("manifest", 0o644, b"name=evil\nversion=1\n"), ("../../escaped", 0o644, b"x")]);
    server.route("/escape.tar", Route::File(escape));
    let absolute =
        pack(&[("manifest", 0o644, b"name=evil\nversion=1\n"), ("/tmp/abs", 0o644, b"x")]);
    server.route("/absolute.tar", Route::File(absolute));
    let badname = du("name=../up\nversion=1\n", &[]);
    server.route("/badname.tar", Route::File(badname));
    let state = dir.path().join("agent");
    let mut t = start(&state);
    for path in ["/escape.tar", "/absolute.tar", "/badname.tar"] {
        let (code, state_after, left) = failing(&state, &mut t, &[("URL", &server.url(path))]);
        assert_eq!((path, code, state_after.as_str()), (path, 7035, "Failed"));
        assert!(left.is_empty(), "{left:?}");
    }
    assert!(!dir.path().join("escaped").exists());
    assert!(!state.join("escaped").exists());
}
