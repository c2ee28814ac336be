//! `Device.SoftwareModules.` (TR-181 2.19, TR-369 Appendix "Software Module Management"):
//! `InstallDU()`, the `ExecEnv.{i}`, `DeploymentUnit.{i}` and `ExecutionUnit.{i}` tables with
//! `Update()`, `Uninstall()`, `SetRequestedState()`, `Restart()`, `SetRunLevel()`, `Reset()`,
//! and the `DUStateChange!` event.
//!
//! The plugin serves a cached [`backend::Snapshot`] of one execution environment
//! ([`backend::ExecEnv`]): [`opkg::OpkgEnv`] on OpenWrt (the opkg status database is the
//! source of truth), [`lab::LabEnv`] on Linux and in the lab (tarball DUs, supervised
//! processes). Downloads run on a fetcher thread ([`crate::transfer`]), installs and EU
//! changes on the environment's worker (`jobs`); the snapshot is re-read after every job
//! and every few seconds, so a package removed by hand or an EU that dies shows up without a
//! request. The data-model thread never waits for either.
//!
//! An operation ends with `DUStateChange!` (UUID, DeploymentUnitRef, Version, CurrentState,
//! Resolved, ExecutionUnitRefList, StartTime, CompleteTime, OperationPerformed,
//! Fault.FaultCode/FaultString) and its OperationComplete (TR-369 fault codes: 7004 bad URL,
//! 7033 unreachable or timed out, 7034 TLS, 7035 corrupt, 7223 unknown ExecEnv, 7225 wrong
//! environment or architecture, 7226 duplicate, 7227 no space, 7228 unknown DU, 7229 invalid
//! DU state). Row keys are DUIDs and EUIDs, so instance numbers stay stable across restarts.

pub mod backend;
mod flow;
mod jobs;
pub mod lab;
#[cfg(feature = "openwrt")]
pub mod opkg;
mod schema;
mod supervise;
pub mod sysinfo;
pub mod tarball;
#[cfg(any(test, feature = "testbed"))]
pub mod testing;
#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "openwrt"))]
mod tests_opkg;
mod tr181;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::{DateTime, Value};

use self::backend::{DuInfo, EuInfo, ExecEnv, Snapshot};
use self::jobs::{Job, Report};
use self::schema::{Cmd, DU_TABLE, ENV_TABLE, EU_TABLE, Ids, Table};
use crate::worker::Worker;
use crate::{Host, Platform};

/// How often the environment is re-read when nothing happens.
pub const REFRESH: Duration = Duration::from_secs(3);
/// The largest DU a download accepts.
pub const MAX_DU_SIZE: u64 = 64 << 20;

/// The SoftwareModules plugins for `host`'s platform.
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    let made = match host.platform {
        Platform::Lab | Platform::Linux => {
            lab::LabEnv::boot(host.platform.name(), &host.paths.state_dir, None)
                .map_err(|e| e.to_string())
                .and_then(|env| Software::new(host, Box::new(env)).map_err(|e| e.to_string()))
        }
        #[cfg(feature = "openwrt")]
        Platform::OpenWrt => opkg::OpkgEnv::system(&host.paths)
            .map_err(|e| e.to_string())
            .and_then(|env| Software::new(host, Box::new(env)).map_err(|e| e.to_string())),
        #[cfg(not(feature = "openwrt"))]
        Platform::OpenWrt => Err("built without the openwrt feature".to_owned()),
    };
    match made {
        Ok(s) => vec![Box::new(s)],
        Err(e) => {
            log::error!("software: no Device.SoftwareModules.: {e}");
            Vec::new()
        }
    }
}

/// The work of a worker thread of the area.
type Handler = Box<dyn FnMut(Job) -> Report + Send>;

/// What kind of operation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    Install,
    Update,
    Uninstall,
    Reset,
}

/// An InstallDU, Update, Uninstall or Reset in progress.
#[derive(Debug)]
struct Op {
    handle: OpHandle,
    kind: OpKind,
    start: DateTime,
    /// The DU it acts on (Update, Uninstall).
    duid: Option<String>,
    req: backend::DuRequest,
    /// The DUs' instance paths and EU lists before (Uninstall, Reset), for the event.
    before: Vec<(String, DuInfo, String, Vec<String>)>,
}

/// An event and completion waiting for the engine to number new rows.
#[derive(Debug)]
struct Pending {
    op: Op,
    result: Result<Vec<String>, jobs::Fault>,
}

/// The SoftwareModules plugin.
pub struct Software {
    ids: Ids,
    snap: Option<Snapshot>,
    ops: HashMap<u64, Op>,
    next_op: u64,
    pending: Vec<Pending>,
    staged: Vec<Job>,
    /// When the last worker report came (uptime), and whether a refresh is under way.
    refreshed: Option<Duration>,
    refreshing: bool,
    scratch: PathBuf,
    worker: Worker<Job, Report>,
    fetcher: Worker<Job, Report>,
    /// Trusted CAs for `https://` DUs (`None`: the system's).
    pub ca_file: Option<PathBuf>,
    /// The download time limit.
    pub timeout: Duration,
}

impl std::fmt::Debug for Software {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Software").field("ops", &self.ops.len()).finish()
    }
}

impl Software {
    /// Serves `env`, whose work runs on a worker; a first snapshot is asked at once. (A trait
    /// object, not a generic: one copy of the plugin and its worker for every environment.)
    pub fn new(host: &Host, mut env: Box<dyn ExecEnv>) -> std::io::Result<Software> {
        let scratch = env.scratch_dir();
        let first = env.snapshot().ok();
        // Both threads run a boxed handler: one copy of the thread's code in the agent.
        let run: Handler = Box::new(move |job| jobs::run(&mut *env, job));
        let worker = Worker::spawn("software", host.waker.clone(), run)?;
        let fetch: Handler = Box::new(jobs::fetch);
        let fetcher = Worker::spawn("software-fetch", host.waker.clone(), fetch)?;
        Ok(Software {
            ids: Ids::default(),
            snap: first,
            ops: HashMap::new(),
            next_op: 1,
            pending: Vec::new(),
            staged: Vec::new(),
            refreshed: None,
            refreshing: false,
            scratch,
            worker,
            fetcher,
            ca_file: None,
            timeout: Duration::from_secs(600),
        })
    }

    fn has_run_levels(&self) -> bool {
        self.snap.as_ref().is_some_and(|s| s.env.run_levels)
    }

    fn du(&self, duid: &str) -> Option<&DuInfo> {
        self.snap.as_ref()?.dus.iter().find(|d| d.duid == duid)
    }

    fn eu(&self, euid: &str) -> Option<(&DuInfo, &EuInfo)> {
        let snap = self.snap.as_ref()?;
        snap.dus.iter().find_map(|d| d.eus.iter().find(|e| e.euid == euid).map(|e| (d, e)))
    }

    /// The status a DU shows while an operation acts on it.
    fn du_status(&self, duid: &str) -> &'static str {
        let busy = self.ops.values().find(|o| o.duid.as_deref() == Some(duid));
        match busy.map(|o| o.kind) {
            Some(OpKind::Update) => "Updating",
            Some(OpKind::Uninstall | OpKind::Reset) => "Uninstalling",
            _ => "Installed",
        }
    }

    fn env_value(&self, ctx: &Ctx, name: &str) -> Option<Value> {
        let snap = self.snap.as_ref()?;
        let env = &snap.env;
        let active = || -> Vec<String> {
            let eus = snap.dus.iter().flat_map(|d| d.eus.iter());
            eus.filter(|e| e.status == backend::EuStatus::Active)
                .filter_map(|e| row_path(ctx, EU_TABLE, &e.euid))
                .collect()
        };
        Some(match name {
            "Enable" => Value::Boolean(env.enabled),
            "Status" => text(if env.enabled { "Up" } else { "Disabled" }),
            "Name" => text(&env.name),
            "Type" => text(&env.kind),
            "CurrentRunLevel" => Value::Int(env.run_level),
            "Vendor" => text(&env.vendor),
            "Version" => text(&env.version),
            "AllocatedDiskSpace" => int(env.allocated_disk_kib),
            "AvailableDiskSpace" => int(env.available_disk_kib),
            "AllocatedMemory" => Value::Int(-1),
            "AvailableMemory" => int(env.available_memory_kib),
            "ActiveExecutionUnits" => text(&active().join(",")),
            _ => text(""),
        })
    }

    fn du_value(&self, ctx: &Ctx, key: &str, name: &str) -> Option<Value> {
        let du = self.du(key)?;
        let env = self.snap.as_ref().map(|s| s.env.name.as_str()).unwrap_or_default();
        Some(match name {
            "UUID" => text(&du.uuid),
            "DUID" => text(&du.duid),
            "Name" => text(&du.name),
            "Status" => text(self.du_status(key)),
            "Resolved" => Value::Boolean(du.resolved),
            "URL" => text(&du.url),
            "Description" => text(&du.description),
            "Vendor" => text(&du.vendor),
            "Version" => text(&du.version),
            "ExecutionUnitList" => text(&eu_paths(ctx, du).join(",")),
            "ExecutionEnvRef" => text(&row_path(ctx, ENV_TABLE, env).unwrap_or_default()),
            "Installed" => {
                Value::DateTime(du.installed.map_or(DateTime::UNKNOWN, DateTime::from_unix))
            }
            _ => text(""),
        })
    }

    fn eu_value(&self, ctx: &Ctx, key: &str, name: &str) -> Option<Value> {
        let (du, eu) = self.eu(key)?;
        let env = self.snap.as_ref().map(|s| s.env.name.as_str()).unwrap_or_default();
        Some(match name {
            "EUID" => text(&eu.euid),
            "Name" | "ExecEnvLabel" => text(&eu.name),
            "Status" => text(eu.status.name()),
            "ExecutionFaultCode" => text(eu.fault.name()),
            "ExecutionFaultMessage" => text(&eu.fault_message),
            "AutoStart" => Value::Boolean(eu.auto_start),
            "RunLevel" => Value::UnsignedInt(eu.run_level),
            "Vendor" => text(&du.vendor),
            "Version" => text(&du.version),
            "Description" => text(&du.description),
            "DiskSpaceInUse" => int(eu.disk_kib),
            "MemoryInUse" => int(eu.memory_kib),
            "CPUPercentInUse" => int(eu.cpu_percent),
            "ExecutionEnvRef" => text(&row_path(ctx, ENV_TABLE, env).unwrap_or_default()),
            _ => text(""),
        })
    }

    /// Takes a worker report: the new snapshot (rows re-listed), then what the job did.
    fn on_report(&mut self, ctx: &mut Ctx, report: Report) {
        match report.snapshot {
            Some(Ok(snap)) => self.take_snapshot(ctx, snap),
            Some(Err(e)) => log::warn!("software: cannot read the execution environment: {e}"),
            None => {}
        }
        match report.done {
            jobs::Done::Op { op, result } => {
                if let Some(op) = self.ops.remove(&op) {
                    self.pending.push(Pending { op, result });
                    ctx.wake_after(Duration::ZERO);
                }
            }
            jobs::Done::Failed(why) => log::warn!("software: {why}"),
            jobs::Done::Nothing => {}
            jobs::Done::Fetched(f) => self.on_fetched(f),
        }
    }

    /// Replaces the cache, telling the engine about changed rows and values.
    fn take_snapshot(&mut self, ctx: &mut Ctx, snap: Snapshot) {
        let old = self.snap.replace(snap);
        let keys = |s: &Option<Snapshot>| -> (Vec<String>, Vec<String>) {
            let dus = s.iter().flat_map(|s| s.dus.iter());
            let eus = dus.clone().flat_map(|d| d.eus.iter().map(|e| e.euid.clone()));
            (dus.map(|d| d.duid.clone()).collect(), eus.collect())
        };
        let (old_dus, old_eus) = keys(&old);
        let (new_dus, new_eus) = keys(&self.snap);
        for (path, changed) in [(DU_TABLE, old_dus != new_dus), (EU_TABLE, old_eus != new_eus)] {
            if let (true, Some(t)) = (changed, ctx.schema().obj_by_path(path)) {
                ctx.rows_changed(t);
            }
        }
        self.notify_eu_changes(ctx, old.as_ref());
    }

    /// ValueChange for EU Status and fault changes (the values a controller watches).
    fn notify_eu_changes(&self, ctx: &mut Ctx, old: Option<&Snapshot>) {
        let Some(old) = old else { return };
        let Some(table) = ctx.schema().obj_by_path(EU_TABLE) else { return };
        let new: Vec<EuInfo> =
            self.snap.iter().flat_map(|s| &s.dus).flat_map(|d| d.eus.clone()).collect();
        for eu in new {
            let before = old.dus.iter().flat_map(|d| &d.eus).find(|e| e.euid == eu.euid);
            let Some(before) = before else { continue };
            let Some(n) = ctx.row_number(table, &[], &eu.euid) else { continue };
            let inst = Instance {
                obj: table,
                numbers: vec![n],
                keys: vec![Some(eu.euid.as_str().into())],
            };
            for (name, changed, v) in [
                ("Status", before.status != eu.status, text(eu.status.name())),
                ("ExecutionFaultCode", before.fault != eu.fault, text(eu.fault.name())),
            ] {
                if let (true, Some(p)) = (changed, self.ids.id(Table::Eu, name)) {
                    ctx.value_changed(&inst, p, &v);
                }
            }
        }
    }

    fn table_keys(&self, table: &str) -> Vec<String> {
        let Some(snap) = &self.snap else { return Vec::new() };
        match table {
            ENV_TABLE => vec![snap.env.name.clone()],
            DU_TABLE => snap.dus.iter().map(|d| d.duid.clone()).collect(),
            _ => snap.dus.iter().flat_map(|d| d.eus.iter().map(|e| e.euid.clone())).collect(),
        }
    }
}

fn text(s: &str) -> Value {
    Value::String(s.into())
}

fn int(v: i64) -> Value {
    Value::Int(i32::try_from(v).unwrap_or(i32::MAX))
}

/// The instance path of the row of `table` keyed `key`, once the engine has numbered it.
fn row_path(ctx: &Ctx, table: &str, key: &str) -> Option<String> {
    let obj = ctx.schema().obj_by_path(table)?;
    let n = ctx.row_number(obj, &[], key)?;
    Some(ctx.schema().instance_path(obj, &[n]))
}

fn eu_paths(ctx: &Ctx, du: &DuInfo) -> Vec<String> {
    du.eus.iter().filter_map(|e| row_path(ctx, EU_TABLE, &e.euid)).collect()
}

impl Plugin for Software {
    fn name(&self) -> &'static str {
        "SoftwareModules"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids.register(b);
    }

    fn start(&mut self, ctx: &mut Ctx) {
        // Number every row now: references (ExecutionUnitList, ...) name rows of tables a
        // controller may not have read yet.
        for path in [ENV_TABLE, DU_TABLE, EU_TABLE] {
            if let Some(t) = ctx.schema().obj_by_path(path) {
                ctx.rows_changed(t);
            }
        }
        ctx.wake_after(REFRESH);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let key = inst.key().unwrap_or_default().to_owned();
        for &p in params {
            let (table, name) = self
                .ids
                .of(p)
                .ok_or_else(|| UspError::internal("SoftwareModules: unknown parameter"))?;
            let v = match table {
                Table::Env => self.env_value(ctx, name),
                Table::Du => self.du_value(ctx, &key, name),
                Table::Eu => self.eu_value(ctx, &key, name),
            };
            // A row that vanished between listing and reading reads as empty.
            out.push(v.unwrap_or_else(|| ctx.schema().param(p).ty.zero()));
        }
        Ok(())
    }

    fn list(&mut self, ctx: &mut Ctx, table: ObjId, _: &Instance) -> Result<Vec<String>, UspError> {
        let path = ctx.schema().obj(table).path.to_string();
        Ok(self.table_keys(&path))
    }

    fn set(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        let key = inst.key().unwrap_or_default().to_owned();
        for (p, v) in changes {
            match self.ids.of(*p) {
                Some((Table::Env, "Enable")) => {
                    self.staged.push(Job::Enable(v.as_bool() == Some(true)));
                }
                Some((Table::Eu, "AutoStart")) => self.staged.push(Job::Configure {
                    euid: key.clone(),
                    auto_start: v.as_bool(),
                    run_level: None,
                }),
                Some((Table::Eu, "RunLevel")) if !self.has_run_levels() => {
                    let msg = "this execution environment has no run levels";
                    return Err(UspError::new(ErrorCode::InvalidValue, msg));
                }
                Some((Table::Eu, "RunLevel")) => self.staged.push(Job::Configure {
                    euid: key.clone(),
                    auto_start: None,
                    run_level: v.as_u64().and_then(|n| u32::try_from(n).ok()),
                }),
                _ => return Err(UspError::new(ErrorCode::ParamReadOnly, "not writable")),
            }
        }
        Ok(())
    }

    fn commit(&mut self, _ctx: &mut Ctx) {
        for job in std::mem::take(&mut self.staged) {
            if let Err(e) = self.worker.submit(job) {
                log::error!("software: {e}");
            }
        }
    }

    fn abort(&mut self, _ctx: &mut Ctx) {
        self.staged.clear();
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let which = self.ids.command(cmd).ok_or_else(|| UspError::internal("unknown command"))?;
        match which {
            Cmd::InstallDu => self.install_du(ctx, input, handle),
            Cmd::Update => self.update_du(ctx, inst, input, handle),
            Cmd::Uninstall => self.uninstall_du(ctx, inst, handle),
            Cmd::Reset => self.reset_env(ctx, handle),
            Cmd::SetRequestedState => self.set_requested_state(inst, input),
            Cmd::Restart => self.restart_eu(inst),
            Cmd::SetRunLevel => self.set_run_level(input),
        }
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        // Operations that ended at an earlier poll: the engine has numbered their rows since.
        let ready = std::mem::take(&mut self.pending);
        let fetched: Vec<Report> = self.fetcher.results().collect();
        for f in fetched {
            self.on_report(ctx, f);
        }
        let reports: Vec<Report> = self.worker.results().collect();
        let now = ctx.now().uptime;
        if !reports.is_empty() {
            self.refreshed = Some(now);
            self.refreshing = false;
        }
        for r in reports {
            self.on_report(ctx, r);
        }
        self.flush(ctx, ready);
        if !self.pending.is_empty() {
            ctx.wake_after(Duration::ZERO);
        }
        // Polls come at every wake of the agent (a request, a link event): refresh at most
        // once per REFRESH, one at a time.
        let due = self.refreshed.is_none_or(|t| now.saturating_sub(t) >= REFRESH);
        if due && !self.refreshing && self.worker.submit(Job::Refresh).is_ok() {
            self.refreshing = true;
        }
        if self.pending.is_empty() {
            ctx.wake_after(REFRESH);
        }
    }
}
