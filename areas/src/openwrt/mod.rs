//! What every OpenWrt backend shares: [`uci::Uci`] (configuration through the `uci` program)
//! and [`ubus::Ubus`] (calls and notifications through the `ubus` program), and [`OsError`].
//!
//! Both run programs, so they are called only from backend worker threads, never from the
//! data-model thread. Where the programs are: [`Programs`], from the host's
//! [`PlatformPaths`](crate::PlatformPaths) (`PATH` on a router, overridable with the
//! environment variables `USP_UCI` and `USP_UBUS` or the daemon's options).

#[cfg(any(test, feature = "testbed"))]
pub mod testbed;
pub mod ubus;
pub mod uci;

use std::fmt;
use std::path::PathBuf;

/// Why a platform program could not do what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OsError {
    /// The program could not be started (missing, not executable).
    Spawn(String),
    /// It ran and failed; its error text.
    Failed(String),
    /// It answered something unreadable.
    Malformed(String),
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OsError::Spawn(m) => write!(f, "cannot run {m}"),
            OsError::Failed(m) | OsError::Malformed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for OsError {}

/// Where the `uci` and `ubus` programs are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Programs {
    /// `uci`.
    pub uci: PathBuf,
    /// `ubus`.
    pub ubus: PathBuf,
}

impl Programs {
    /// The programs of `paths`.
    pub fn of(paths: &crate::PlatformPaths) -> Programs {
        Programs { uci: paths.uci_program.clone(), ubus: paths.ubus_program.clone() }
    }
}
