//! The work of the SoftwareModules area's two worker threads: the fetcher downloads DUs
//! ([`crate::transfer::download`]), the environment worker owns the [`ExecEnv`] and runs
//! installs, updates, removals and EU changes, then reads a fresh [`Snapshot`]. Downloads
//! have a thread of their own so that starting or stopping an EU never waits for one. Both
//! threads take a [`Job`] and give a [`Report`] (one worker type: its channel code is in the
//! agent once).
//!
//! Everything here runs on worker threads, never on the data-model thread.

use std::path::PathBuf;

use super::backend::{DuRequest, ExecEnv, Snapshot, SwError, is_no_space};
use crate::transfer::{self, Fetch, TransferError};

/// A TR-369 fault: code and message (DUStateChange! `Fault.`, OperationComplete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The fault code (7002, 7033, 7035, 7223..7229, ...).
    pub code: u32,
    /// What went wrong.
    pub message: String,
}

impl Fault {
    /// A fault with `code` and `message`.
    pub fn new(code: u32, message: impl Into<String>) -> Fault {
        Fault { code, message: message.into() }
    }
}

impl From<SwError> for Fault {
    fn from(e: SwError) -> Fault {
        Fault::new(e.code(), e.to_string())
    }
}

/// The fault of a failed download (TR-181's DUStateChange! FaultCode list).
pub fn transfer_fault(e: &TransferError) -> Fault {
    let code = match e {
        TransferError::BadUrl(_) => 7004,
        TransferError::NoTrustAnchors(_) => 7034,
        TransferError::Connect(why) if insecure(why) => 7034,
        TransferError::Connect(_) | TransferError::TimedOut | TransferError::Redirects => 7033,
        TransferError::Auth(_) | TransferError::Status(_) => 7002,
        TransferError::TooLarge { .. } => 7227,
        TransferError::Write(io) if is_no_space(io) => 7227,
        TransferError::Write(_) | TransferError::Read(_) => 7002,
        TransferError::Canceled => 7023,
        TransferError::SizeMismatch { .. } | TransferError::Truncated { .. } => 7035,
    };
    Fault::new(code, format!("download failed: {e}"))
}

fn insecure(why: &str) -> bool {
    let why = why.to_ascii_lowercase();
    why.contains("certificate") || why.contains("tls") || why.contains("handshake")
}

/// A download for the fetcher: operation `op`, into `dest`.
#[derive(Debug)]
pub struct FetchJob {
    /// The operation it belongs to.
    pub op: u64,
    /// What to fetch.
    pub fetch: Box<Fetch>,
    /// Where to write it.
    pub dest: PathBuf,
}

/// What the fetcher did: the file, or the fault.
#[derive(Debug)]
pub struct Fetched {
    /// The operation.
    pub op: u64,
    /// The downloaded file.
    pub result: Result<PathBuf, Fault>,
}

/// Runs one download ([`Job::Fetch`]) on the fetcher thread; a failed one leaves no file.
pub fn fetch(job: Job) -> Report {
    let Job::Fetch(job) = job else {
        let done = Done::Failed("only downloads run on the fetcher".into());
        return Report { done, snapshot: None };
    };
    let result = match transfer::download(&job.fetch, &job.dest, &mut |_, _| {}) {
        Ok(_) => Ok(job.dest),
        Err(e) => {
            let _ = std::fs::remove_file(&job.dest);
            Err(transfer_fault(&e))
        }
    };
    Report { done: Done::Fetched(Fetched { op: job.op, result }), snapshot: None }
}

/// Work for the environment worker.
#[derive(Debug)]
pub enum Job {
    /// Install the downloaded `file` (then removed).
    Install { op: u64, file: PathBuf, req: DuRequest },
    /// Update DU `duid` from the downloaded `file` (then removed).
    Update { op: u64, duid: String, file: PathBuf, req: DuRequest },
    /// Uninstall DU `duid`.
    Uninstall { op: u64, duid: String },
    /// Uninstall every DU installed through the agent (`ExecEnv.Reset()`).
    Reset { op: u64 },
    /// Start or stop an EU.
    SetActive { euid: String, active: bool },
    /// Restart an EU.
    Restart { euid: String },
    /// Set AutoStart / RunLevel of an EU.
    Configure { euid: String, auto_start: Option<bool>, run_level: Option<u32> },
    /// Enable or disable the environment.
    Enable(bool),
    /// Change the run level.
    RunLevel(i32),
    /// Only read a fresh snapshot.
    Refresh,
    /// A download (the fetcher's only job).
    Fetch(FetchJob),
}

/// What a job did.
#[derive(Debug)]
pub enum Done {
    /// An operation ended: the DUIDs it touched, or its fault.
    Op { op: u64, result: Result<Vec<String>, Fault> },
    /// A change of an EU or of the environment failed.
    Failed(String),
    /// Nothing to report but the snapshot.
    Nothing,
    /// A download ended (from the fetcher).
    Fetched(Fetched),
}

/// A job's report: what it did and the environment's state after it.
#[derive(Debug)]
pub struct Report {
    /// What it did.
    pub done: Done,
    /// The state after it (`Err`: why it could not be read; `None` from the fetcher).
    pub snapshot: Option<Result<Snapshot, String>>,
}

/// Runs one job on the environment worker.
pub fn run(env: &mut dyn ExecEnv, job: Job) -> Report {
    let done = match job {
        Job::Install { op, file, req } => {
            let r = env.install(&file, &req).map(|duid| vec![duid]);
            let _ = std::fs::remove_file(&file);
            Done::Op { op, result: r.map_err(Fault::from) }
        }
        Job::Update { op, duid, file, req } => {
            let r = env.update(&duid, &file, &req).map(|()| vec![duid]);
            let _ = std::fs::remove_file(&file);
            Done::Op { op, result: r.map_err(Fault::from) }
        }
        Job::Uninstall { op, duid } => {
            let r = env.uninstall(&duid).map(|()| vec![duid]);
            Done::Op { op, result: r.map_err(Fault::from) }
        }
        Job::Reset { op } => Done::Op { op, result: reset(env) },
        Job::SetActive { euid, active } => applied(&euid, env.set_active(&euid, active)),
        Job::Restart { euid } => applied(&euid, env.restart(&euid)),
        Job::Configure { euid, auto_start, run_level } => {
            applied(&euid, env.configure(&euid, auto_start, run_level))
        }
        Job::Enable(on) => applied("the environment", env.set_enabled(on)),
        Job::RunLevel(level) => applied("the run level", env.set_run_level(level)),
        Job::Refresh => Done::Nothing,
        Job::Fetch(_) => Done::Failed("downloads run on the fetcher".into()),
    };
    Report { done, snapshot: Some(env.snapshot().map_err(|e| e.to_string())) }
}

fn applied(what: &str, r: Result<(), SwError>) -> Done {
    match r {
        Ok(()) => Done::Nothing,
        Err(e) => Done::Failed(format!("{what}: {e}")),
    }
}

fn reset(env: &mut dyn ExecEnv) -> Result<Vec<String>, Fault> {
    let mut removed = Vec::new();
    for duid in env.resettable() {
        env.uninstall(&duid).map_err(Fault::from)?;
        removed.push(duid);
    }
    Ok(removed)
}
