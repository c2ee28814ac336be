//! The `uspagent` binary run by a test: its own directory (database, CLI socket, reset file),
//! started with a reset file, driven through `-c`, stopped by PID.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A built binary of this workspace (`uspagent`, `uspctl`), found next to the test executable
/// (`target/<profile>/deps/<test>` → `target/<profile>/<name>`). `scripts/test.sh` builds every
/// binary before testing.
pub fn cargo_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no current exe: {e}"));
    let dir = exe.parent().and_then(Path::parent).unwrap_or_else(|| panic!("odd path {exe:?}"));
    let bin = dir.join(name);
    assert!(bin.exists(), "{} is not built: run `cargo build --workspace` first", bin.display());
    bin
}

/// A running agent; killed (by PID) when dropped.
pub struct RunningAgent {
    child: Child,
    /// Its directory: `reset.txt`, `usp.db`, `cli`, `agent.log`.
    pub dir: tempfile::TempDir,
}

impl RunningAgent {
    /// Starts `uspagent` with `reset` as its defaults file and `args` more, and waits (at most
    /// 10 s) until its CLI socket answers.
    pub fn start(reset: &str, args: &[&str]) -> RunningAgent {
        RunningAgent::start_with_env(reset, args, &[])
    }

    /// [`RunningAgent::start`] with these environment variables set for the agent (e.g.
    /// `TMPDIR`, so that its staging files stay in the test's own directory).
    pub fn start_with_env(reset: &str, args: &[&str], env: &[(&str, &str)]) -> RunningAgent {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::write(dir.path().join("reset.txt"), reset)
            .unwrap_or_else(|e| panic!("write reset file: {e}"));
        let log = std::fs::File::create(dir.path().join("agent.log"))
            .unwrap_or_else(|e| panic!("log file: {e}"));
        let child = Command::new(cargo_bin("uspagent"))
            .args(["-r", "reset.txt", "-f", "usp.db", "-s", "cli", "-v", "4", "-p"])
            .args(args)
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn uspagent: {e}"));
        let agent = RunningAgent { child, dir };
        agent.wait_ready();
        agent
    }

    fn wait_ready(&self) {
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if std::os::unix::net::UnixStream::connect(self.dir.path().join("cli")).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("uspagent did not open its CLI within 10 s; log:\n{}", self.log());
    }

    /// Runs `uspagent -c <words>` against it.
    pub fn cli(&self, words: &[&str]) -> Output {
        Command::new(cargo_bin("uspagent"))
            .args(["-s", "cli", "-c"])
            .args(words)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("uspagent -c: {e}"))
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("uspagent did not stop within 10 s of SIGTERM; log:\n{}", self.log());
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
