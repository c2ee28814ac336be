//! `uspctl lab` driven non-interactively: it starts `uspagent`, which connects; the commands
//! read from standard input are answered; the end of input stops the agent and removes the
//! lab directory (or keeps it with `--keep-dir`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use usp_testkit::agent::cargo_bin;

/// Runs `uspctl lab ARGS` with `input` on standard input; killed after 60 s.
fn lab(args: &[&str], input: &str) -> Output {
    let agent = cargo_bin("uspagent");
    let mut child = Command::new(env!("CARGO_BIN_EXE_uspctl"))
        .arg("lab")
        .arg("--agent-bin")
        .arg(&agent)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("uspctl starts");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("input written");
    let pid = child.id();
    let end = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            panic!("uspctl lab (pid {pid}) did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("uspctl ends")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// The agent's pid and the lab directory, from the "connected" line on standard error.
fn pid_and_dir(stderr: &str) -> (i32, PathBuf) {
    let line = stderr.lines().find(|l| l.contains("connected (pid ")).expect(stderr);
    let pid = line.split("(pid ").nth(1).and_then(|r| r.split(')').next()).expect(line);
    let dir = line.rsplit(" are in ").next().expect(line);
    (pid.parse().expect(line), PathBuf::from(dir))
}

fn gone(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_err()
}

#[test]
fn the_lab_answers_a_script_then_stops_the_agent_and_cleans_up() {
    let out = lab(
        &[],
        "get Device.DeviceInfo.ModelName
set Device.LocalAgent.Controller.1.PeriodicNotifInterval=600
get Device.LocalAgent.Controller.1.PeriodicNotifInterval
",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    // The agent's Boot! notification may be printed before the answers.
    let lines: Vec<&str> = stdout.lines().filter(|l| !l.contains(" Event Device.Boot! ")).collect();
    assert!(lines[0].starts_with("Device.DeviceInfo.ModelName "), "{stdout}");
    assert!(lines[0].len() > "Device.DeviceInfo.ModelName  ".len(), "a model name: {stdout}");
    let interval = "Device.LocalAgent.Controller.1.PeriodicNotifInterval  600";
    assert_eq!(lines.iter().filter(|l| **l == interval).count(), 2, "set, then get: {stdout}");
    let (pid, dir) = pid_and_dir(&stderr);
    assert!(gone(pid), "the agent (pid {pid}) still runs");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// The WebSocket session and the agent's WebSocketConnect Record both announce the agent;
/// the lab says so once. The Get makes sure the Record (sent before any answer) was read.
#[test]
fn the_agent_is_announced_once() {
    let out = lab(&[], "get Device.DeviceInfo.SerialNumber\n");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let ups = stderr.lines().filter(|l| l.starts_with("# agent ") && l.ends_with(" is up"));
    assert_eq!(ups.count(), 1, "one '# agent ... is up' line:\n{stderr}");
    assert_eq!(stderr.matches("uspctl lab: agent ").count(), 1, "{stderr}");
}

#[test]
fn keep_dir_keeps_the_agents_files_and_failures_set_the_exit_status() {
    let out = lab(&["--keep-dir", "--json"], "get Device.NoSuchThing.\n");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let (pid, dir) = pid_and_dir(&stderr);
    assert!(gone(pid), "the agent (pid {pid}) still runs");
    let reset = std::fs::read_to_string(dir.join("reset.txt")).expect("reset file kept");
    assert!(reset.contains("self::uspctl-lab"), "{reset}");
    let log = std::fs::read_to_string(dir.join("agent.log")).expect("log kept");
    assert!(log.contains("starting as"), "{log}");
    assert!(stderr.contains("kept"), "{stderr}");
    std::fs::remove_dir_all(&dir).expect("cleaned up");
}

#[test]
fn a_missing_agent_binary_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_uspctl"))
        .args(["lab", "--agent-bin", "/nonexistent/uspagent"])
        .stdin(Stdio::null())
        .output()
        .expect("uspctl runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("uspagent not found"), "{out:?}");
}

#[test]
fn an_agent_that_cannot_start_exits_3_with_its_log() {
    // `false` exits at once: the lab reports it with the (empty) log instead of waiting.
    let out = Command::new(env!("CARGO_BIN_EXE_uspctl"))
        .args(["lab", "--agent-bin", "/bin/false"])
        .stdin(Stdio::null())
        .output()
        .expect("uspctl runs");
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(text(&out.stderr).contains("the agent exited"), "{out:?}");
}

#[test]
fn the_lab_agent_serves_simulated_wifi() {
    let out = lab(
        &[],
        "get Device.WiFi.Radio.[Enable==true].Channel\nset Device.WiFi.Radio.1.Channel=11\n\
         set Device.WiFi.Radio.1.Channel=99\nget Device.WiFi.Radio.1.Channel\n",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(stdout.contains("Device.WiFi.Radio.3.Channel"), "{stdout}");
    assert!(stderr.contains("error 7012"), "a channel not of the band is refused: {stderr}");
    let last = stdout.lines().rev().find(|l| l.starts_with("Device.WiFi.Radio.1.Channel"));
    assert!(last.is_some_and(|l| l.trim_end().ends_with("11")), "{stdout}");
}
