//! The child processes of the Linux/lab execution environment: one per active EU, started
//! with `sh -c 'exec COMMAND'` in its DU's directory, stopped with SIGTERM then SIGKILL, and
//! watched at every snapshot (its exit status becomes the EU's fault; its memory and CPU come
//! from `/proc/<pid>`). Each running EU's pid is written beside its DU (`.pid-<eu>`) so that
//! an agent that restarts after a crash stops the processes its predecessor left (checked by
//! their working directory, never a guess by name).
//!
//! Never does: restart a process by itself (a controller or AutoStart at boot does).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::backend::{EuFault, SwError, find, put, take};
use super::sysinfo;

/// How long a process must have run for its end to count as a failure while active rather
/// than a failure to start.
const START_GRACE: Duration = Duration::from_secs(1);
/// How long a stopped process is given to end after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// One running EU.
#[derive(Debug)]
struct Running {
    child: Child,
    started: Instant,
    auto: bool,
    pidfile: PathBuf,
    cpu: sysinfo::CpuMeter,
}

/// What one EU looks like now.
#[derive(Clone, Debug, Default)]
pub struct ProcState {
    /// Its pid while it runs.
    pub pid: Option<u32>,
    /// Its last fault and message.
    pub fault: Option<(EuFault, String)>,
    /// Resident memory in KiB.
    pub memory_kib: Option<i64>,
    /// CPU use since the last look, in percent.
    pub cpu_percent: Option<i64>,
}

/// The running EUs, by EUID.
#[derive(Debug, Default)]
pub struct Supervisor {
    running: Vec<(String, Running)>,
    faults: Vec<(String, (EuFault, String))>,
}

impl Supervisor {
    /// Starts EU `euid` running `command` in `dir`; `auto` when AutoStart started it.
    pub fn start(
        &mut self,
        euid: &str,
        dir: &Path,
        command: &str,
        pidfile: PathBuf,
        auto: bool,
    ) -> Result<(), SwError> {
        if find(&self.running, euid).is_some() {
            return Ok(());
        }
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {command}"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let fault =
                    if auto { EuFault::FailureOnAutoStart } else { EuFault::FailureOnStart };
                put(&mut self.faults, euid, (fault, format!("cannot start: {e}")));
                return Err(SwError::Failed(format!("{euid} cannot start: {e}")));
            }
        };
        let _ = std::fs::write(&pidfile, child.id().to_string());
        self.faults.retain(|f| f.0 != euid);
        let run = Running {
            child,
            started: Instant::now(),
            auto,
            pidfile,
            cpu: sysinfo::CpuMeter::default(),
        };
        put(&mut self.running, euid, run);
        Ok(())
    }

    /// Stops EU `euid` (SIGTERM, then SIGKILL after a grace period); a stopped EU is fine.
    pub fn stop(&mut self, euid: &str) -> Result<(), SwError> {
        let Some(mut run) = take(&mut self.running, euid) else { return Ok(()) };
        let pid = run.child.id();
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = run.child.try_wait() {
                let _ = std::fs::remove_file(&run.pidfile);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = run.child.kill();
        let _ = run.child.wait();
        let _ = std::fs::remove_file(&run.pidfile);
        Ok(())
    }

    /// Whether EU `euid` runs.
    pub fn is_running(&self, euid: &str) -> bool {
        find(&self.running, euid).is_some()
    }

    /// Forgets the fault of EU `euid` (after a successful start by request).
    pub fn clear_fault(&mut self, euid: &str) {
        self.faults.retain(|f| f.0 != euid);
    }

    /// Looks at every running process: the ended ones are reaped and their exit status kept
    /// as their fault.
    pub fn reap(&mut self) {
        let mut ended = Vec::new();
        for (euid, run) in &mut self.running {
            if let Ok(Some(status)) = run.child.try_wait() {
                ended.push((euid.clone(), status, run.started.elapsed(), run.auto));
            }
        }
        for (euid, status, ran, auto) in ended {
            if let Some(run) = take(&mut self.running, &euid) {
                let _ = std::fs::remove_file(&run.pidfile);
            }
            if status.success() {
                self.faults.retain(|f| f.0 != euid);
                continue;
            }
            let fault = match (ran < START_GRACE, auto) {
                (true, true) => EuFault::FailureOnAutoStart,
                (true, false) => EuFault::FailureOnStart,
                _ => EuFault::FailureWhileActive,
            };
            let why = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => "killed by a signal".to_owned(),
            };
            log::warn!("software: EU {euid} {why}");
            put(&mut self.faults, &euid, (fault, why));
        }
    }

    /// EU `euid` as it is now (call [`Supervisor::reap`] first).
    pub fn state(&mut self, euid: &str) -> ProcState {
        let fault = find(&self.faults, euid).cloned();
        let Some((_, run)) = self.running.iter_mut().find(|r| r.0 == euid) else {
            return ProcState { fault, ..ProcState::default() };
        };
        let pid = run.child.id();
        let cpu_percent = run.cpu.sample(pid);
        ProcState { pid: Some(pid), fault, memory_kib: sysinfo::rss_kib(pid), cpu_percent }
    }

    /// Stops every process (the environment is disabled or the agent ends).
    pub fn stop_all(&mut self) {
        let all: Vec<String> = self.running.iter().map(|r| r.0.clone()).collect();
        for euid in all {
            let _ = self.stop(&euid);
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Stops a process a previous agent left running: the pid in `pidfile`, if that process still
/// runs in `dir` (its `/proc/<pid>/cwd`). Removes the pid file.
pub fn stop_leftover(pidfile: &Path, dir: &Path) {
    let pid = std::fs::read_to_string(pidfile).ok().and_then(|t| t.trim().parse::<u32>().ok());
    let _ = std::fs::remove_file(pidfile);
    let Some(pid) = pid else { return };
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if cwd.as_deref() != Some(dir.as_path()) {
        return;
    }
    log::info!("software: stopping process {pid} left by the previous agent in {}", dir.display());
    let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let deadline = Instant::now() + STOP_GRACE;
    while Instant::now() < deadline && Path::new(&format!("/proc/{pid}")).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    if Path::new(&format!("/proc/{pid}")).exists() {
        let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
    }
}
