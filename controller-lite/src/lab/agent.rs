//! The lab's `uspagent` child process and its directory: started in its own process group (a
//! Ctrl-C at the terminal is for uspctl, not for the agent), logging to a file there, and
//! stopped — SIGTERM, at most [`STOP_WAIT`], then SIGKILL — with the directory removed unless
//! kept. Owns the child and the directory; never talks USP.

use std::fs::File;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a stopping agent gets after SIGTERM before SIGKILL.
pub const STOP_WAIT: Duration = Duration::from_secs(5);

/// The reset file's name in the lab directory.
pub const RESET_FILE: &str = "reset.txt";
/// The agent's log (its standard output and error) in the lab directory.
pub const LOG_FILE: &str = "agent.log";

/// Why the lab agent could not start.
#[derive(Debug)]
pub enum LabError {
    /// No `uspagent` next to `uspctl`, at `--agent-bin` or in `PATH`.
    NoAgent,
    /// The lab directory or a file in it could not be made.
    Dir(PathBuf, std::io::Error),
    /// The agent binary could not be run.
    Spawn(PathBuf, std::io::Error),
}

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LabError::NoAgent => f.write_str(
                "uspagent not found next to uspctl nor in PATH (build it: cargo build \
                 --release -p uspagent, or give --agent-bin FILE)",
            ),
            LabError::Dir(p, e) => write!(f, "{}: {e}", p.display()),
            LabError::Spawn(p, e) => write!(f, "cannot run {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for LabError {}

/// Where `uspagent` is: `explicit` when given, else next to the running `uspctl`, else the
/// first in `PATH`.
pub fn find_agent(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return p.is_file().then(|| p.to_owned());
    }
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join("uspagent")));
    if let Some(b) = beside.filter(|b| b.is_file()) {
        return Some(b);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("uspagent")).find(|p| p.is_file())
}

/// Makes a fresh private (0700) directory under the system's temporary directory.
pub fn make_dir() -> Result<PathBuf, LabError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("uspctl-lab-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| LabError::Dir(dir.clone(), e))?;
    Ok(dir)
}

struct Inner {
    child: Option<Child>,
    dir: PathBuf,
    keep_dir: bool,
}

/// The running lab agent; a cheap handle (clones share the process). Stopped when the last
/// handle is dropped, or by [`LabAgent::stop`] from any of them (e.g. a signal thread).
#[derive(Clone)]
pub struct LabAgent {
    inner: Arc<Mutex<Inner>>,
}

impl LabAgent {
    /// Writes `reset` into `dir` and starts `bin -r reset.txt -f usp.db -s cli` there, its
    /// output going to `agent.log`. `dir` belongs to the agent from now on (removed by
    /// [`LabAgent::stop`] unless `keep_dir`), also when starting fails.
    pub fn start(bin: &Path, dir: &Path, reset: &str, keep_dir: bool) -> Result<Self, LabError> {
        let agent = LabAgent {
            inner: Arc::new(Mutex::new(Inner { child: None, dir: dir.to_owned(), keep_dir })),
        };
        let in_dir = |name: &str| dir.join(name);
        std::fs::write(in_dir(RESET_FILE), reset)
            .map_err(|e| LabError::Dir(in_dir(RESET_FILE), e))?;
        let log = File::create(in_dir(LOG_FILE)).map_err(|e| LabError::Dir(in_dir(LOG_FILE), e))?;
        let log2 = log.try_clone().map_err(|e| LabError::Dir(in_dir(LOG_FILE), e))?;
        let child = Command::new(bin)
            .args(["-r", RESET_FILE, "-f", "usp.db", "-s", "cli", "--platform", "lab"])
            .current_dir(dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log2)
            .stderr(log)
            .spawn()
            .map_err(|e| LabError::Spawn(bin.to_owned(), e))?;
        agent.lock().child = Some(child);
        Ok(agent)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The agent's process id (`None` once stopped).
    pub fn pid(&self) -> Option<u32> {
        self.lock().child.as_ref().map(Child::id)
    }

    /// The lab directory.
    pub fn dir(&self) -> PathBuf {
        self.lock().dir.clone()
    }

    /// Whether the agent has exited by itself (its exit status as text).
    pub fn exited(&self) -> Option<String> {
        let mut inner = self.lock();
        let status = inner.child.as_mut()?.try_wait().ok()??;
        Some(status.to_string())
    }

    /// The last `lines` lines of the agent's log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(self.dir().join(LOG_FILE)).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops the agent (SIGTERM, at most [`STOP_WAIT`], then SIGKILL) and removes the
    /// directory unless kept. Idempotent.
    pub fn stop(&self) {
        let mut inner = self.lock();
        if let Some(mut child) = inner.child.take() {
            terminate(&mut child);
        }
        if !inner.keep_dir && inner.dir.exists() {
            if let Err(e) = std::fs::remove_dir_all(&inner.dir) {
                eprintln!("uspctl: {} not removed: {e}", inner.dir.display());
            }
        }
    }
}

/// SIGTERM, a bounded wait, then SIGKILL; the child is reaped in every case.
fn terminate(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let end = Instant::now() + STOP_WAIT;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("uspctl: the agent did not stop within {STOP_WAIT:?} of SIGTERM; killing it");
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
        if !self.keep_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
