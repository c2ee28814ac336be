//! `Device.WiFi.` (TR-181 Device:2.19): radios, SSIDs, access points with their security, WPS
//! (`InitiateWPSPBC()`) and associated stations, station-mode end points with their profiles,
//! `Reset()` and the asynchronous `NeighboringWiFiDiagnostic()`.
//!
//! # Layout (the pattern for every router area)
//! - `tr181.rs`: the objects and parameters served, generated from the Broadband Forum's XML by
//!   `scripts/gen-wifi-schema.py`; `schema.rs` declares them and keeps the ids.
//! - `model.rs`: the backend-neutral [`Snapshot`] of rows, [`Change`]s and [`WifiError`].
//! - `backend.rs`: the [`Backend`] trait and the worker's [`Job`]s / [`Reply`]s.
//! - `lab.rs`: simulated radios (the worked example); `openwrt.rs`: UCI + ubus; `hostapd/`:
//!   plain Linux (hostapd's control interface); `nl80211/`: radio capabilities and scans from
//!   the kernel (generic netlink, over `crate::netlink`).
//! - `validate.rs`: device-dependent checks of writes (USP 7012 before anything is staged).
//! - this file: the [`WiFi`] plugin, which runs on the data-model thread and never blocks.
//!
//! # How a request flows
//! - Start: the first read of the backend runs on the worker (start-up never waits for it);
//!   until it ends, the tables cannot be listed (rows known from the database keep their
//!   numbers and read empty values) and Sets get 7003. When it ends, every table is listed
//!   (the first listing reports no ObjectCreation).
//! - Get: served from the cached [`Snapshot`]; rows are external tables keyed by backend keys
//!   (UCI section names, MAC addresses), so instance numbers stay stable across refreshes and
//!   restarts (the engine persists the key → number map). Passwords read `""`.
//! - Set: each write is checked (`validate.rs`) and staged; `commit` hands the whole
//!   transaction to the worker as ONE [`Job::Apply`] (one UCI commit and one reload on OpenWrt)
//!   and shows the new values at once; the backend is re-read after the apply.
//! - Refresh: every `period` (and whenever a watcher says something changed) the worker reads
//!   a new snapshot; rows that appeared or vanished give ObjectCreation / ObjectDeletion (the
//!   engine re-lists the table), changed configuration values give ValueChange.
//! - `NeighboringWiFiDiagnostic()` runs the scan on the worker and completes later.

pub mod backend;
pub mod hostapd;
pub mod lab;
pub mod model;
pub mod nl80211;
#[cfg(feature = "openwrt")]
pub mod openwrt;
mod schema;
mod sync;
#[rustfmt::skip]
mod tr181;
mod validate;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, Wake};
use usp_datamodel::schema::{CmdId, ParamId, SchemaBuilder};
use usp_datamodel::value::Value;

pub use backend::{Backend, Job, Reply};
pub use model::{Change, Kind, Row, Snapshot, WifiError};

use crate::worker::Worker;
use crate::{Host, Platform};
use schema::Ids;

/// How often the backend is re-read when nothing tells it a change happened.
pub const REFRESH_PERIOD: Duration = Duration::from_secs(10);

/// The Wi-Fi plugins for `host`: one [`WiFi`] on the platform's backend, none when the
/// platform has no Wi-Fi backend (logged).
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    let backend: Box<dyn Backend> = match host.platform {
        Platform::Lab => Box::new(lab::LabWifi::open(&host.paths.state_dir)),
        Platform::Linux => Box::new(hostapd::HostapdWifi::new(&host.paths)),
        #[cfg(feature = "openwrt")]
        Platform::OpenWrt => Box::new(openwrt::OpenWrtWifi::new(&host.paths)),
        #[cfg(not(feature = "openwrt"))]
        Platform::OpenWrt => {
            log::info!("Device.WiFi: this build has no OpenWrt backend; not served");
            return Vec::new();
        }
    };
    vec![Box::new(WiFi::new(backend, host.waker.clone(), REFRESH_PERIOD))]
}

/// The `Device.WiFi.` plugin: a cache of the backend's state, a worker that talks to it.
pub struct WiFi {
    backend: &'static str,
    worker: Option<Worker<Job, Reply>>,
    ids: Ids,
    snap: Snapshot,
    /// Set once the first read of the backend has ended (well or not).
    ready: Arc<AtomicBool>,
    staged: Vec<Change>,
    /// Transactions handed to the worker and not yet applied, oldest first: laid over every
    /// snapshot until their apply ends (a refresh queued before them would undo them).
    in_flight: std::collections::VecDeque<Vec<Change>>,
    period: Duration,
    next_refresh: Duration,
    resets_security: bool,
    settable: Option<&'static [(Kind, &'static str)]>,
}

impl std::fmt::Debug for WiFi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WiFi").field("backend", &self.backend).finish()
    }
}

impl WiFi {
    /// Serves `backend` from its own worker thread, which wakes the data-model thread through
    /// `waker`: read first on that thread (start-up does not wait), then every `period`.
    pub fn new(mut backend: Box<dyn Backend>, waker: Arc<dyn Wake>, period: Duration) -> WiFi {
        let name = backend.name();
        let resets_security = backend.resets_security();
        let settable = backend.settable();
        let ready = Arc::new(AtomicBool::new(false));
        let worker = Worker::spawn("wifi", waker, move |job| backend::run(&mut *backend, job));
        let worker = match worker {
            Ok(w) => {
                let _ = w.submit(Job::Refresh);
                let _ = w.submit(Job::Watch(w.inbox()));
                Some(w)
            }
            Err(e) => {
                log::error!("Device.WiFi ({name}): cannot start the worker thread: {e}");
                ready.store(true, Ordering::Release);
                None
            }
        };
        let ids = Ids::default();
        WiFi {
            backend: name,
            worker,
            ids,
            snap: Snapshot::default(),
            ready,
            staged: Vec::new(),
            in_flight: Default::default(),
            period,
            next_refresh: period,
            resets_security,
            settable,
        }
    }

    /// A flag set once the first read of the backend has ended (the plugin answers from it).
    pub fn ready_flag(&self) -> Arc<AtomicBool> {
        self.ready.clone()
    }

    /// Whether the first read of the backend has ended.
    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// The error for a request that needs the rows before the first read ended.
    fn not_ready(&self) -> UspError {
        let msg = format!(
            "Device.WiFi ({}): the first read of the Wi-Fi state has not ended yet",
            self.backend
        );
        UspError::new(ErrorCode::InternalError, msg)
    }

    /// Hands a job to the worker; false (logged) when it is gone.
    fn submit(&self, job: Job) -> bool {
        let Some(worker) = &self.worker else { return false };
        match worker.submit(job) {
            Ok(()) => true,
            Err(e) => {
                log::error!("Device.WiFi ({}): {e}", self.backend);
                false
            }
        }
    }

    /// The row an instance names, by its key (`None` for `Device.WiFi.` and vanished rows).
    fn row(&self, kind: Kind, inst: &Instance) -> Option<&Row> {
        self.snap.row(kind, inst.key()?)
    }

    /// One parameter's value (references as instance paths, secrets empty).
    fn value(&self, ctx: &Ctx, kind: Kind, inst: &Instance, param: ParamId) -> Value {
        let Some((name, ty)) = self.ids.params.get(&param) else { return Value::String("".into()) };
        if kind == Kind::Root {
            return match name.as_str() {
                "ResetCounter" => Value::UnsignedInt(self.snap.reset_counter),
                _ => ty.zero(),
            };
        }
        let Some(row) = self.row(kind, inst) else { return ty.zero() };
        if model::is_secret(name) {
            return ty.zero();
        }
        if let Some(target) = sync::reference_kind(kind, name) {
            let path = sync::key_to_path(ctx, &self.ids, &self.snap, target, row.text(name));
            return Value::String(path.into());
        }
        // A write of this transaction shows (in the Set response) before its commit.
        let staged = self
            .staged
            .iter()
            .rev()
            .find(|c| c.kind == kind && c.key == row.key && c.name == *name);
        match staged.map(|c| &c.value).or_else(|| row.values.get(name.as_str())) {
            Some(v) if v.param_type() == *ty => v.clone(),
            _ => ty.zero(),
        }
    }

    /// Turns a controller's write into a [`Change`] (paths of references into keys).
    fn change(
        &self,
        ctx: &Ctx,
        kind: Kind,
        key: &str,
        param: ParamId,
        v: &Value,
    ) -> Result<Change, UspError> {
        let Some((name, _)) = self.ids.params.get(&param) else {
            return Err(UspError::internal("unknown Wi-Fi parameter"));
        };
        let value = match sync::reference_kind(kind, name) {
            Some(target) => {
                let path = v.as_str().unwrap_or("");
                let key = sync::path_to_key(ctx, &self.ids, &self.snap, target, path).ok_or_else(
                    || {
                        UspError::new(
                            ErrorCode::InvalidValue,
                            format!("{path} names no {target:?} row"),
                        )
                    },
                )?;
                Value::String(key.into())
            }
            None => v.clone(),
        };
        Ok(Change { kind, key: key.to_owned(), name: name.clone(), value })
    }

    fn command(
        &mut self,
        ctx: &Ctx,
        cmd: CmdId,
        inst: &Instance,
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let job = if Some(cmd) == self.ids.scan {
            Job::Scan(handle)
        } else if Some(cmd) == self.ids.reset {
            Job::Reset(None)
        } else if Some(cmd) == self.ids.security_reset && !self.resets_security {
            let msg = format!("the {} backend has no factory security settings", self.backend);
            return Err(UspError::new(ErrorCode::CommandFailure, msg));
        } else if Some(cmd) == self.ids.security_reset {
            Job::Reset(inst.keys.first().cloned().flatten().map(String::from))
        } else if Some(cmd) == self.ids.wps_pbc {
            let ap = inst.keys.first().cloned().flatten().map(String::from).unwrap_or_default();
            Job::WpsPbc(handle, ap)
        } else {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown Wi-Fi command"));
        };
        let is_async = matches!(job, Job::Scan(_) | Job::WpsPbc(..));
        if !self.submit(job) {
            return Err(UspError::new(
                ErrorCode::CommandFailure,
                "the Wi-Fi backend is not running",
            ));
        }
        let _ = ctx;
        Ok(if is_async { Outcome::Running } else { Outcome::Done(Vec::new()) })
    }
}

impl Plugin for WiFi {
    fn name(&self) -> &'static str {
        "WiFi"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids = Ids::register(b, self.settable);
    }

    fn start(&mut self, ctx: &mut Ctx) {
        // The tables are listed when the first read ends (`sync.rs`), not here.
        ctx.wake_after(self.period);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let kind = self.ids.objects.get(&inst.obj).map_or(Kind::Root, |i| i.kind);
        out.extend(params.iter().map(|p| self.value(ctx, kind, inst, *p)));
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        table: usp_datamodel::schema::ObjId,
        parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        if !self.is_ready() {
            return Err(self.not_ready());
        }
        let kind = self.ids.objects.get(&table).map_or(Kind::Root, |i| i.kind);
        let parent_key = if kind.parent().is_some() { parent.key().unwrap_or("") } else { "" };
        Ok(self.snap.keys(kind, parent_key))
    }

    fn set(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        if !self.is_ready() {
            return Err(self.not_ready());
        }
        let kind = self.ids.objects.get(&inst.obj).map_or(Kind::Root, |i| i.kind);
        let Some(key) = inst.key().filter(|_| kind != Kind::Root) else {
            return Err(UspError::new(ErrorCode::ParamReadOnly, "nothing to write here"));
        };
        let mut batch = Vec::new();
        for (param, v) in changes {
            let change = self.change(ctx, kind, key, *param, v)?;
            let mut seen = self.staged.clone();
            seen.extend(batch.iter().cloned());
            validate::check(&self.snap, &seen, &change)?;
            batch.push(change);
        }
        self.staged.extend(batch);
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        self.command(ctx, cmd, inst, handle)
    }

    fn commit(&mut self, _ctx: &mut Ctx) {
        if self.staged.is_empty() {
            return;
        }
        let changes = std::mem::take(&mut self.staged);
        self.snap.apply(&changes);
        if self.submit(Job::Apply(changes.clone())) {
            self.in_flight.push_back(changes);
        }
    }

    fn abort(&mut self, _ctx: &mut Ctx) {
        self.staged.clear();
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let replies: Vec<Reply> =
            self.worker.as_ref().map(|w| w.results().collect()).unwrap_or_default();
        for reply in replies {
            self.on_reply(ctx, reply);
        }
        let now = ctx.now().uptime;
        if now >= self.next_refresh {
            self.submit(Job::Refresh);
            self.next_refresh = now + self.period;
        }
        ctx.wake_after(self.next_refresh.saturating_sub(now));
    }
}
