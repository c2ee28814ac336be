//! What the SoftwareModules area needs from an execution environment ([`ExecEnv`]): the
//! deployment units (DUs) and execution units (EUs) it holds, as a [`Snapshot`] read from its
//! own source of truth, and the operations that change them. One trait for every environment
//! (opkg today, apk can follow; the Linux/lab tarball environment).
//!
//! Every method is slow (files, programs, processes) and runs on the area's worker thread,
//! never on the data-model thread.

use std::fmt;
use std::path::{Path, PathBuf};

/// `ExecutionUnit.{i}.Status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EuStatus {
    /// Not running.
    Idle,
    /// Running.
    Active,
}

impl EuStatus {
    /// The value as TR-181 spells it.
    pub fn name(self) -> &'static str {
        match self {
            EuStatus::Idle => "Idle",
            EuStatus::Active => "Active",
        }
    }
}

/// `ExecutionUnit.{i}.ExecutionFaultCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EuFault {
    /// No fault.
    NoFault,
    /// It failed when asked to start.
    FailureOnStart,
    /// It failed when started automatically.
    FailureOnAutoStart,
    /// It failed to stop.
    FailureOnStop,
    /// It ended with an error while active.
    FailureWhileActive,
}

impl EuFault {
    /// The value as TR-181 spells it.
    pub fn name(self) -> &'static str {
        match self {
            EuFault::NoFault => "NoFault",
            EuFault::FailureOnStart => "FailureOnStart",
            EuFault::FailureOnAutoStart => "FailureOnAutoStart",
            EuFault::FailureOnStop => "FailureOnStop",
            EuFault::FailureWhileActive => "FailureWhileActive",
        }
    }
}

/// One execution unit as the environment reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EuInfo {
    /// `EUID`: unique in the environment, stable across restarts (the row key).
    pub euid: String,
    /// `Name`.
    pub name: String,
    /// Running or not.
    pub status: EuStatus,
    /// The last fault.
    pub fault: EuFault,
    /// `ExecutionFaultMessage`.
    pub fault_message: String,
    /// `AutoStart`.
    pub auto_start: bool,
    /// `RunLevel`.
    pub run_level: u32,
    /// `MemoryInUse` in KiB (-1: unknown).
    pub memory_kib: i64,
    /// `CPUPercentInUse` (-1: unknown).
    pub cpu_percent: i64,
    /// `DiskSpaceInUse` in KiB (-1: unknown).
    pub disk_kib: i64,
    /// The process running it, if any.
    pub pid: Option<u32>,
}

/// One deployment unit as the environment reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuInfo {
    /// The row key and `DUID`: the package name (unique in the environment).
    pub duid: String,
    /// `UUID`.
    pub uuid: String,
    /// `Name`.
    pub name: String,
    /// `Version`.
    pub version: String,
    /// `Vendor`.
    pub vendor: String,
    /// `Description`.
    pub description: String,
    /// `URL` it was installed from (empty when installed otherwise).
    pub url: String,
    /// `Resolved`: its dependencies are met.
    pub resolved: bool,
    /// Unix time of the installation, when known.
    pub installed: Option<i64>,
    /// Its execution units.
    pub eus: Vec<EuInfo>,
}

/// The environment itself (`ExecEnv.{i}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvInfo {
    /// `Name` (also the row key).
    pub name: String,
    /// `Type`.
    pub kind: String,
    /// `Vendor`.
    pub vendor: String,
    /// `Version`.
    pub version: String,
    /// `Enable`.
    pub enabled: bool,
    /// `CurrentRunLevel`.
    pub run_level: i32,
    /// Whether it has run levels at all (`SetRunLevel()`, an EU's `RunLevel`).
    pub run_levels: bool,
    /// `AllocatedDiskSpace` in KiB (-1: no limit).
    pub allocated_disk_kib: i64,
    /// `AvailableDiskSpace` in KiB (-1: unknown).
    pub available_disk_kib: i64,
    /// `AvailableMemory` in KiB (-1: unknown).
    pub available_memory_kib: i64,
}

/// Everything the environment holds, read from its source of truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The environment.
    pub env: EnvInfo,
    /// Its DUs, in a stable order.
    pub dus: Vec<DuInfo>,
}

/// What the controller said about a DU it installs or updates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DuRequest {
    /// The URL it comes from.
    pub url: String,
    /// The UUID the controller gave (InstallDU's `UUID`), if any.
    pub uuid: Option<String>,
}

/// Why an operation of the environment failed; each maps to a TR-369 fault code.
#[derive(Debug)]
pub enum SwError {
    /// A file of the environment could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a deployment unit of this environment (7035 Corrupt Data).
    Corrupt(String),
    /// The DU is for another environment or architecture (7225).
    Mismatch(String),
    /// The same version is already installed (7226).
    Duplicate(String),
    /// Not enough disk space or memory (7227).
    NoResources(String),
    /// No such DU or EU (7228 for DUs).
    Unknown(String),
    /// Its dependencies cannot be met (7002, unresolved).
    Unresolved(String),
    /// The environment is disabled (7224).
    Disabled,
    /// A program of the environment failed (7002).
    Failed(String),
}

impl SwError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> SwError {
        SwError::Io { path: path.to_owned(), source }
    }

    /// The TR-369 fault code (DUStateChange! `Fault.FaultCode`, OperationComplete).
    pub fn code(&self) -> u32 {
        match self {
            SwError::Io { source, .. } if is_no_space(source) => 7227,
            SwError::Io { .. } | SwError::Failed(_) | SwError::Unresolved(_) => 7002,
            SwError::Corrupt(_) => 7035,
            SwError::Mismatch(_) => 7225,
            SwError::Duplicate(_) => 7226,
            SwError::NoResources(_) => 7227,
            SwError::Unknown(_) => 7228,
            SwError::Disabled => 7224,
        }
    }
}

/// Whether `e` says the disk is full (ENOSPC, EDQUOT).
pub fn is_no_space(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(28 | 122))
}

impl fmt::Display for SwError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SwError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            SwError::Corrupt(why) => write!(f, "not a valid deployment unit: {why}"),
            SwError::Mismatch(why) => write!(f, "wrong execution environment: {why}"),
            SwError::Duplicate(why) => write!(f, "already installed: {why}"),
            SwError::NoResources(why) => write!(f, "not enough resources: {why}"),
            SwError::Unknown(what) => write!(f, "no such unit: {what}"),
            SwError::Unresolved(why) => write!(f, "dependencies not met: {why}"),
            SwError::Disabled => f.write_str("the execution environment is disabled"),
            SwError::Failed(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SwError {}

/// An execution environment: opkg on OpenWrt, supervised processes on Linux and in the lab.
pub trait ExecEnv: Send + 'static {
    /// Where downloads are written before installation (a directory of the environment).
    fn scratch_dir(&self) -> PathBuf;
    /// Reads what is installed and running now.
    fn snapshot(&mut self) -> Result<Snapshot, SwError>;
    /// Installs the DU in `file`; returns its DUID. Nothing is left behind on failure.
    fn install(&mut self, file: &Path, req: &DuRequest) -> Result<String, SwError>;
    /// Replaces DU `duid` by the one in `file` (same name, another version).
    fn update(&mut self, duid: &str, file: &Path, req: &DuRequest) -> Result<(), SwError>;
    /// Removes DU `duid`, stopping its EUs first.
    fn uninstall(&mut self, duid: &str) -> Result<(), SwError>;
    /// Starts (`true`) or stops EU `euid`.
    fn set_active(&mut self, euid: &str, active: bool) -> Result<(), SwError>;
    /// Stops and starts EU `euid`.
    fn restart(&mut self, euid: &str) -> Result<(), SwError>;
    /// Sets `AutoStart` and/or `RunLevel` of EU `euid`.
    fn configure(
        &mut self,
        euid: &str,
        auto_start: Option<bool>,
        run_level: Option<u32>,
    ) -> Result<(), SwError>;
    /// Enables or disables the environment (disabling stops every EU).
    fn set_enabled(&mut self, enabled: bool) -> Result<(), SwError>;
    /// Changes the run level: EUs with AutoStart and a `RunLevel` at most `level` run, the
    /// others stop.
    fn set_run_level(&mut self, level: i32) -> Result<(), SwError>;
    /// The DUs that `Reset()` removes (those installed through the agent).
    fn resettable(&mut self) -> Vec<String>;
}

/// The value of `key` among `pairs` (the environments keep a few entries in vectors of
/// pairs, not maps: each map type would add its own code to the agent).
pub fn find<'a, V>(pairs: &'a [(String, V)], key: &str) -> Option<&'a V> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Sets `key` to `value` among `pairs`, sorted by key.
pub fn put<V>(pairs: &mut Vec<(String, V)>, key: &str, value: V) {
    match pairs.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
        Ok(i) => {
            if let Some(p) = pairs.get_mut(i) {
                p.1 = value;
            }
        }
        Err(i) => pairs.insert(i, (key.to_owned(), value)),
    }
}

/// Removes `key` from `pairs`; its value.
pub fn take<V>(pairs: &mut Vec<(String, V)>, key: &str) -> Option<V> {
    let i = pairs.iter().position(|(k, _)| k == key)?;
    Some(pairs.remove(i).1)
}
