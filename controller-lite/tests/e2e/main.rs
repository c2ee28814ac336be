//! `uspctl` against the real `uspagent` daemon over each MTP: WebSocket (uspctl as server, and
//! as client of the agent's server), MQTT through a private mosquitto, STOMP through the shared
//! private RabbitMQ. One uspctl session (a script on standard input) per test runs get, set,
//! add, instances, del, gsdm, operate (async, waiting for OperationComplete), `--json`, a
//! ValueChange subscription delivering a Notify (the change made through the agent's CLI), and
//! a failing get (exit status 1). MQTT and STOMP are not covered yet (see the report).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_testkit::agent::RunningAgent;
use usp_testkit::free_port;

const AGENT: &str = "os::012345-E2E";
const CTL: &str = "self::uspctl-e2e";

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

impl Session {
    fn start(args: &[&str]) -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_uspctl"))
            .args(["--eid", CTL, "--timeout", "10"])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("uspctl starts");
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

    /// Waits (at most 20 s) until standard output contains `text`.
    fn wait_for(&self, text: &str, agent: &RunningAgent) {
        let end = Instant::now() + Duration::from_secs(20);
        while !self.stdout.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < end,
                "no '{text}' within 20 s:\n{}\n--- agent log:\n{}",
                self.output(),
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes standard input and waits (at most 20 s) for the exit status.
    fn finish(mut self) -> (i32, String, String) {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            assert!(Instant::now() < end, "uspctl did not end:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        };
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

/// The controller's part of every reset file (its MTP given by `mtp`).
fn controller(mtp: &str) -> String {
    format!(
        "Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
{mtp}"
    )
}

const INTERVAL: &str = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";

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

/// A ValueChange subscription delivering a Notify; the change is made through the agent's CLI.
fn notifications(s: &mut Session, agent: &RunningAgent) {
    s.send(&format!("subscribe ValueChange {INTERVAL} --count 1 --for 15"));
    // The subscription exists once the agent lists it; then the change is made locally.
    let end = Instant::now() + Duration::from_secs(15);
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
    s.wait_for("900", agent);
}

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
}

#[test]
fn over_websocket_uspctl_as_server() {
    let port = free_port();
    let mut s = Session::start(&["--ws-listen", &format!("127.0.0.1:{port}")]);
    let reset = controller(&format!(
        "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {port}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
"
    ));
    let agent = RunningAgent::start(&reset, &["--endpoint-id", AGENT, "--serial", "E2E"]);
    exercise(&mut s, &agent);
    check(s, &agent);
}

/// Known daemon bug: notifications to a controller that created the subscription never
/// arrive (OperationComplete neither; see the report).
#[test]
fn notifications_over_websocket() {
    let port = free_port();
    let mut s = Session::start(&["--ws", &format!("ws://127.0.0.1:{port}/usp")]);
    let agent = RunningAgent::start(&agent_server(port), &["--endpoint-id", AGENT]);
    notifications(&mut s, &agent);
    s.send("operate 'Device.ScheduleTimer()' DelaySeconds=1");
    let (_, out, err) = s.finish();
    let all = format!("{out}\n--- stderr:\n{err}");
    assert!(out.contains("ValueChange") && out.contains("900"), "the Notify: {all}");
    assert!(!out.contains("its output was not received"), "OperationComplete: {all}");
}

fn agent_server(port: u16) -> String {
    format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
"
    ) + &controller("")
}

#[test]
fn over_websocket_uspctl_as_client() {
    let port = free_port();
    let agent =
        RunningAgent::start(&agent_server(port), &["--endpoint-id", AGENT, "--serial", "E2E"]);
    let mut s = Session::start(&["--ws", &format!("ws://127.0.0.1:{port}/usp")]);
    exercise(&mut s, &agent);
    check(s, &agent);
}
