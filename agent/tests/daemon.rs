//! The `uspagent` binary as a user runs it: start from a reset file, drive it with `-c`, stop
//! it with SIGTERM, start it again from its database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_uspagent");

const RESET: &str = "\
# a controller
Device.LocalAgent.Controller.1.EndpointID \"self::ctl\"
Device.LocalAgent.Controller.1.Enable true
";

/// A running agent, killed by PID when dropped if still running.
struct Agent {
    child: Child,
    dir: PathBuf,
}

impl Agent {
    fn start(dir: &Path, extra: &[&str]) -> Agent {
        let child = Command::new(AGENT)
            .args(["-r", "reset.txt", "-f", "usp.db", "-s", "cli", "--serial", "T1", "-v", "4"])
            .args(extra)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn uspagent");
        let agent = Agent { child, dir: dir.to_owned() };
        agent.wait_ready();
        agent
    }

    fn wait_ready(&self) {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if std::os::unix::net::UnixStream::connect(self.dir.join("cli")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the agent did not open its CLI socket within 10 s");
    }

    fn cli(&self, words: &str) -> Output {
        Command::new(AGENT)
            .args(["-s", "cli", "-c"])
            .args(words.split_whitespace())
            .current_dir(&self.dir)
            .output()
            .expect("run uspagent -c")
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let status = wait_exit(&mut self.child);
        let mut log = String::new();
        use std::io::Read;
        self.child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
        (status, log)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the agent did not exit within 10 s");
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn lab() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reset.txt"), RESET).unwrap();
    dir
}

#[test]
fn cli_commands_answer_and_values_survive_a_restart() {
    let dir = lab();
    let agent = Agent::start(dir.path(), &[]);
    let o = agent.cli("get Device.LocalAgent.EndpointID Device.DeviceInfo.SerialNumber");
    assert!(o.status.success(), "{o:?}");
    assert_eq!(
        stdout(&o),
        "Device.LocalAgent.EndpointID => os::00D09E-T1\nDevice.DeviceInfo.SerialNumber => T1\n"
    );
    let o = agent.cli("set Device.LocalAgent.Controller.1.PeriodicNotifInterval 300");
    assert!(o.status.success(), "{o:?}");
    let o = agent.cli("add Device.LocalAgent.Controller. EndpointID=self::two");
    assert_eq!(stdout(&o), "Added Device.LocalAgent.Controller.2.\n");
    let (status, log) = agent.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}\n{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(!dir.path().join("cli").exists(), "the CLI socket is removed at exit");

    let agent = Agent::start(dir.path(), &[]);
    let o = agent.cli("get Device.LocalAgent.Controller.*.EndpointID Device.LocalAgent.Controller.1.PeriodicNotifInterval");
    let text = stdout(&o);
    assert!(text.contains("Controller.2.EndpointID => self::two"), "{text}");
    assert!(text.contains("PeriodicNotifInterval => 300"), "{text}");
}

#[test]
fn usp_errors_and_usage_errors_have_their_own_exit_codes() {
    let dir = lab();
    let agent = Agent::start(dir.path(), &[]);
    let o = agent.cli("set Device.LocalAgent.Controller.1.PeriodicNotifInterval 0");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("7012"), "{o:?}");
    let o = agent.cli("get Device.NoSuchThing.");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let o = agent.cli("frobnicate");
    assert_eq!(o.status.code(), Some(2));
    let o = agent.cli("stop");
    assert!(o.status.success());
    let mut agent = agent;
    assert!(wait_exit(&mut agent.child).success());
}

#[test]
fn a_second_agent_on_the_same_socket_is_refused() {
    let dir = lab();
    let _first = Agent::start(dir.path(), &[]);
    let second = Command::new(AGENT)
        .args(["-r", "reset.txt", "-f", "other.db", "-s", "cli"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("another uspagent"), "{second:?}");
}

#[test]
fn a_broken_reset_file_stops_the_start_with_its_line_number() {
    let dir = lab();
    std::fs::write(dir.path().join("reset.txt"), "Device.LocalAgent.Controller.1.Enable maybe\n")
        .unwrap();
    let o = Command::new(AGENT)
        .args(["-r", "reset.txt", "-f", "usp.db", "-s", "cli"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("reset.txt: line 1") && err.contains("maybe"), "{err}");
    assert_eq!(err.matches("maybe").count(), 1, "said once: {err}");
}

#[test]
fn the_cli_without_an_agent_says_so() {
    let dir = lab();
    let o = Command::new(AGENT)
        .args(["-s", "cli", "-c", "get", "Device."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot reach the agent"));
}

#[test]
fn help_and_bad_options() {
    let o = Command::new(AGENT).arg("--help").output().unwrap();
    assert!(o.status.success());
    assert!(stdout(&o).contains("-r, --reset-file"));
    let o = Command::new(AGENT).arg("--bogus").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn reboot_restarts_the_agent_process() {
    let dir = lab();
    let agent = Agent::start(dir.path(), &[]);
    let o = agent.cli("operate Device.Reboot()");
    assert!(o.status.success(), "{o:?}");
    // The process re-executes itself: the socket goes away and comes back.
    std::thread::sleep(Duration::from_millis(300));
    agent.wait_ready();
    let o = agent.cli("get Device.LocalAgent.Controller.1.EndpointID");
    assert!(stdout(&o).contains("self::ctl"), "{o:?}");
}

#[test]
fn a_reset_file_may_name_the_agent_as_obuspa_files_do() {
    let dir = lab();
    std::fs::write(
        dir.path().join("reset.txt"),
        format!("{RESET}Device.LocalAgent.EndpointID \"oktopus-0-mqtt\"\n"),
    )
    .unwrap();
    let agent = Agent::start(dir.path(), &[]);
    let o = agent.cli("get Device.LocalAgent.EndpointID");
    assert_eq!(stdout(&o), "Device.LocalAgent.EndpointID => oktopus-0-mqtt\n");
}
