//! The seam between the Wi-Fi plugin and the platform: the [`Backend`] trait, the [`Job`]s the
//! plugin hands the backend's worker thread and the [`Reply`]s it gets back.
//!
//! A backend is plain blocking code: it runs only on its [`Worker`](crate::worker::Worker)
//! thread (and its own watcher threads), never on the data-model thread, so it may run
//! programs, talk to sockets and write files. Its contract:
//! - [`Backend::refresh`] reads everything and returns a full [`Snapshot`]. A part the platform
//!   lacks (no `hostapd.*` object, an unreadable section) is logged once per refresh with a clear
//!   line and left out; only a total failure is an error (the plugin then keeps its last
//!   snapshot).
//! - [`Backend::apply`] gets all the [`Change`]s of one USP transaction and applies them at once
//!   (one UCI commit and one reload on OpenWrt; one file write in the lab). They were validated
//!   already (see `validate.rs`).
//! - [`Backend::scan`] runs a neighbour scan (`NeighboringWiFiDiagnostic()`);
//!   [`Backend::wps_pbc`] starts a WPS push-button session (`InitiateWPSPBC()`).
//! - [`Backend::watch`] may start a thread that pushes [`Reply`]s through the [`Inbox`] when the
//!   platform says something changed (a station associated); the default watches nothing and the
//!   plugin only refreshes periodically.
//!
//! To add a backend: implement this trait in a file beside `lab.rs` and add a line to
//! `super::build`. `lab.rs` is the worked example.

use usp_datamodel::plugin::OpHandle;

use super::model::{Change, Kind, Row, Snapshot, WifiError};
use crate::worker::Inbox;

/// A Wi-Fi platform: simulated, OpenWrt, plain Linux.
pub trait Backend: Send + 'static {
    /// A short name for logs (`"lab"`, `"openwrt"`).
    fn name(&self) -> &'static str;

    /// Reads the whole current state.
    fn refresh(&mut self) -> Result<Snapshot, WifiError>;

    /// Applies one transaction's changes, at once.
    fn apply(&mut self, changes: &[Change]) -> Result<(), WifiError>;

    /// Scans for neighbouring networks: one row per BSS, values named as the
    /// `NeighboringWiFiDiagnostic()` `Result.{i}.` arguments (`Radio` holding a radio key).
    fn scan(&mut self) -> Result<Vec<Row>, WifiError>;

    /// `Device.WiFi.Reset()` (`None`) or `AccessPoint.{i}.Security.Reset()` (`Some(key)`).
    fn reset(&mut self, access_point: Option<&str>) -> Result<(), WifiError>;

    /// `AccessPoint.{i}.WPS.InitiateWPSPBC()` on the access point `access_point`: starts a WPS
    /// push-button session (hostapd's `WPS_PBC`). The default: the backend has no WPS.
    fn wps_pbc(&mut self, access_point: &str) -> Result<(), WifiError> {
        Err(WifiError::Unavailable(format!("no WPS on {access_point} with this backend")))
    }

    /// The writable TR-181 parameters this backend can apply, by row kind and relative name;
    /// the others are declared read-only (so controllers see it in GetSupportedDM and get 7013).
    /// `None`: every writable parameter. Asked once, at start.
    fn settable(&self) -> Option<&'static [(Kind, &'static str)]> {
        None
    }

    /// Whether `AccessPoint.{i}.Security.Reset()` can be carried out (the backend knows the
    /// factory security settings); asked once, at start.
    fn resets_security(&self) -> bool {
        true
    }

    /// Starts watching for unasked changes, delivering them through `inbox`.
    fn watch(&mut self, _inbox: Inbox<Reply>) -> Result<(), WifiError> {
        Ok(())
    }
}

/// Work for the backend's thread.
#[derive(Debug)]
pub enum Job {
    /// Read everything.
    Refresh,
    /// Apply one transaction.
    Apply(Vec<Change>),
    /// Run `NeighboringWiFiDiagnostic()` for this command run.
    Scan(OpHandle),
    /// Run a `Reset()`.
    Reset(Option<String>),
    /// Run `InitiateWPSPBC()` on this access point for this command run.
    WpsPbc(OpHandle, String),
    /// Start the backend's watcher, delivering through this inbox (sent once, at start).
    Watch(Inbox<Reply>),
}

/// What comes back to the plugin, from a job or a watcher.
#[derive(Debug)]
pub enum Reply {
    /// A refresh ended (or a watcher has a new state).
    Snapshot(Result<Snapshot, WifiError>),
    /// An apply ended.
    Applied(Result<(), WifiError>),
    /// A reset ended.
    WasReset(Result<(), WifiError>),
    /// A scan ended.
    Scanned(OpHandle, Result<Vec<Row>, WifiError>),
    /// A WPS push-button session started (or could not).
    WpsStarted(OpHandle, Result<(), WifiError>),
    /// A watcher heard that something changed: refresh.
    Changed(String),
    /// The watcher started, or why it could not.
    Watching(Result<(), WifiError>),
}

/// Runs one job on `backend` (the worker thread's handler).
pub fn run(backend: &mut dyn Backend, job: Job) -> Reply {
    match job {
        Job::Refresh => Reply::Snapshot(backend.refresh()),
        Job::Apply(changes) => Reply::Applied(backend.apply(&changes)),
        Job::Scan(handle) => Reply::Scanned(handle, backend.scan()),
        Job::Reset(ap) => Reply::WasReset(backend.reset(ap.as_deref())),
        Job::WpsPbc(handle, ap) => Reply::WpsStarted(handle, backend.wps_pbc(&ap)),
        Job::Watch(inbox) => Reply::Watching(backend.watch(inbox)),
    }
}
