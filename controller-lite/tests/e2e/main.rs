//! The `uspctl` binary against the real `uspagent` daemon over each MTP: WebSocket (uspctl as
//! server, and as client of the agent's server: `ws.rs`), MQTT 5.0 and 3.1.1 through a private
//! Mosquitto (`mqtt.rs`), STOMP through the shared private RabbitMQ (`stomp.rs`).
//!
//! Two ways of driving uspctl, both the real binary: a [`Session`] (one process reading a script
//! on standard input: [`exercise`], [`notifications`] and [`check`] run get, set, add,
//! instances, del, gsdm, operate (async, waiting for OperationComplete), `--json`, a
//! ValueChange subscription delivering a Notify, and a failing get setting exit status 1), and
//! [`one_shot::one_shots`] (one process per command, as a lab user types them, each with its
//! own exit status, then `watch` in a process of its own).
//!
//! The brokers need the apt packages `mosquitto` and `rabbitmq-server` (the tests fail naming
//! them when missing; `scripts/test.sh` installs both).
//!
//! `bulkdata.rs`: `uspctl subscribe Event` receives the agent's Bulk Data `Push!` reports.
//!
//! Owns the helpers shared by the MTP files; each MTP file owns its broker and reset file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulkdata;
mod mqtt;
mod one_shot;
mod stomp;
mod ws;

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_testkit::agent::RunningAgent;

/// The agent's Endpoint ID (serial `E2E`).
const AGENT: &str = "os::012345-E2E";
/// uspctl's Endpoint ID.
const CTL: &str = "self::uspctl-e2e";
/// The longest any wait lasts (a loaded machine is slow, never this slow).
const WAIT: Duration = Duration::from_secs(20);
/// The parameter every test sets and subscribes to.
const INTERVAL: &str = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";

/// A running `uspctl` reading a script from a pipe; its output collected as it comes.
struct Session {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let to = text.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            to.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

/// `uspctl --eid CTL --timeout 10 ARGS...`, its three standard streams piped.
fn uspctl(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_uspctl"))
        .args(["--eid", CTL, "--timeout", "10"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("uspctl starts")
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let mut child = uspctl(args);
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        Session { stdin: child.stdin.take(), child, stdout, stderr }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("open");
        writeln!(stdin, "{line}").expect("uspctl reads");
    }

    fn output(&self) -> String {
        format!("{}\n--- stderr:\n{}", self.stdout.lock().unwrap(), self.stderr.lock().unwrap())
    }

    /// Waits (at most [`WAIT`]) until standard output contains `text`.
    fn wait_for(&self, text: &str, agent: &RunningAgent) {
        let end = Instant::now() + WAIT;
        while !self.stdout.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < end,
                "no '{text}' within {WAIT:?}:\n{}\n--- agent log:\n{}",
                self.output(),
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes standard input and waits (at most [`WAIT`]) for the exit status.
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let status = wait_exit(&mut self.child, WAIT)
            .unwrap_or_else(|| panic!("uspctl did not end:\n{}", self.output()));
        std::thread::sleep(Duration::from_millis(100));
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (status.code().unwrap_or(-1), out, err)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits at most `limit` for `child` to exit.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().expect("try_wait") {
            return Some(s);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The controller's part of every reset file (its MTP given by `mtp`).
fn controller(mtp: &str) -> String {
    format!(
        "Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
{mtp}"
    )
}

/// Starts the agent with `reset`: Endpoint ID [`AGENT`], serial `E2E`.
fn agent(reset: &str) -> RunningAgent {
    RunningAgent::start(reset, &["--endpoint-id", AGENT, "--serial", "E2E"])
}

/// The session every MTP runs; the agent's CLI makes the change the subscription notifies.
fn exercise(s: &mut Session, agent: &RunningAgent) {
    s.send("get Device.DeviceInfo.SerialNumber");
    s.wait_for("Device.DeviceInfo.SerialNumber  E2E", agent);
    s.send(&format!("set {INTERVAL}=600"));
    s.send(&format!("get {INTERVAL}"));
    s.send("add Device.LocalAgent.Controller. EndpointID=e2e-extra Alias=extra");
    s.wait_for("Device.LocalAgent.Controller.2.  Alias=extra EndpointID=e2e-extra", agent);
    s.send("instances Device.LocalAgent.Controller. --first-level-only");
    s.send("del Device.LocalAgent.Controller.2.");
    s.send("gsdm Device.LocalAgent. --first-level-only");
    s.wait_for("Device.LocalAgent.Subscription.{i}.", agent);
    s.send("operate 'Device.ScheduleTimer()' DelaySeconds=1");
    s.send("get --json Device.DeviceInfo.ModelName");
    s.wait_for("\"ModelName\"", agent);
    s.send("get Device.NoSuchObject.");
}

/// A ValueChange subscription (`uspctl subscribe`) delivering a Notify; the change is made
/// through the agent's CLI once the agent lists the subscription.
fn notifications(s: &mut Session, agent: &RunningAgent) {
    s.send(&format!("subscribe ValueChange {INTERVAL} --count 1 --for 15"));
    let end = Instant::now() + WAIT;
    loop {
        let o = agent.cli(&["get", "Device.LocalAgent.Subscription.*.ReferenceList"]);
        if String::from_utf8_lossy(&o.stdout).contains(INTERVAL) {
            break;
        }
        assert!(Instant::now() < end, "no subscription:\n{}", s.output());
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = agent.cli(&["set", INTERVAL, "900"]);
    assert!(o.status.success(), "{o:?}");
    s.wait_for(&format!("ValueChange {INTERVAL} = 900"), agent);
}

/// Ends a session that ran [`exercise`] and checks what it printed (the agent announced once,
/// by its session or its Connect Record).
fn check(s: Session, agent: &RunningAgent) {
    let (code, out, err) = s.finish();
    let all = format!("{out}\n--- stderr:\n{err}\n--- agent log:\n{}", agent.log());
    assert_eq!(code, 1, "the failing get sets the exit status: {all}");
    assert_eq!(out.matches(&format!("{INTERVAL}  600")).count(), 2, "set and get: {all}");
    assert!(out.contains("Device.LocalAgent.Controller.1.  "), "instances: {all}");
    assert!(out.lines().any(|l| l == "Device.LocalAgent.Controller.2."), "del: {all}");
    assert!(out.contains("Device.ScheduleTimer()  done"), "operate: {all}");
    assert!(out.contains(r#""ModelName": "#), "--json: {all}");
    assert!(err.contains("Device.NoSuchObject.: error 7026"), "the failure: {all}");
    let up = format!("# agent {AGENT} is up");
    assert_eq!(err.lines().filter(|l| *l == up).count(), 1, "announced once: {all}");
}
