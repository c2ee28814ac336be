//! The commands of [`super::Software`]: starting InstallDU, Update, Uninstall and Reset (a
//! download on the fetcher, then a job on the environment worker), the synchronous EU and
//! run-level commands, and the end of an operation: `DUStateChange!` then OperationComplete,
//! sent once the engine has numbered the DU's rows so that the references are right.

use std::path::PathBuf;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome};
use usp_datamodel::value::Value;

use super::backend::DuRequest;
use super::jobs::{Fault, FetchJob, Fetched, Job};
use super::schema::{DU_TABLE, ENV_TABLE, ROOT};
use super::{MAX_DU_SIZE, Op, OpKind, Pending, Software, eu_paths, row_path, sysinfo, text};
use crate::transfer::Fetch;

fn arg(input: &[(Box<str>, Value)], name: &str) -> String {
    input.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string()).unwrap_or_default()
}

fn failure(code: u32, msg: impl Into<String>) -> UspError {
    UspError::new(ErrorCode::Other(code), msg)
}

fn gone(e: impl std::fmt::Display) -> UspError {
    UspError::new(ErrorCode::CommandFailure, e.to_string())
}

/// Checks a DU URL: http(s), no user info (TR-181: 7004).
fn check_url(url: &str) -> Result<(), UspError> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(failure(7004, format!("unsupported URL '{url}' (http or https only)")));
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.contains('@') {
        return Err(failure(7004, "the URL must not carry user information"));
    }
    if authority.is_empty() {
        return Err(failure(7004, format!("the URL '{url}' names no host")));
    }
    Ok(())
}

impl Software {
    fn new_op(&mut self, ctx: &Ctx, handle: OpHandle, kind: OpKind, duid: Option<String>) -> Op {
        Op {
            handle,
            kind,
            start: ctx.now().wall,
            duid,
            req: DuRequest::default(),
            before: Vec::new(),
        }
    }

    fn fetch(&mut self, input: &[(Box<str>, Value)], url: &str) -> Result<u64, UspError> {
        let user = arg(input, "Username");
        let op = self.next_op;
        self.next_op += 1;
        let fetch = Fetch {
            credentials: (!user.is_empty()).then(|| (user, arg(input, "Password"))),
            max_size: MAX_DU_SIZE,
            timeout: self.timeout,
            ca_file: self.ca_file.clone(),
            ..Fetch::new(url)
        };
        // `.ipk`: opkg installs a local file only by that extension (the lab ignores it).
        let dest: PathBuf = self.scratch.join(format!("du-{op}.ipk"));
        let job = Job::Fetch(FetchJob { op, fetch: Box::new(fetch), dest });
        self.fetcher.submit(job).map_err(gone)?;
        Ok(op)
    }

    pub(super) fn install_du(
        &mut self,
        ctx: &mut Ctx,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let url = arg(input, "URL");
        check_url(&url)?;
        let env_ref = arg(input, "ExecutionEnvRef");
        let env_name = self.snap.as_ref().map(|s| s.env.name.clone()).unwrap_or_default();
        let ours = row_path(ctx, ENV_TABLE, &env_name).unwrap_or_default();
        if !env_ref.is_empty() && env_ref.trim_end_matches('.') != ours.trim_end_matches('.') {
            return Err(failure(7223, format!("unknown execution environment '{env_ref}'")));
        }
        if self.snap.as_ref().is_some_and(|s| !s.env.enabled) {
            return Err(failure(7224, "the execution environment is disabled"));
        }
        let uuid = arg(input, "UUID");
        if !uuid.is_empty() && !sysinfo::is_uuid(&uuid) {
            return Err(failure(7004, format!("'{uuid}' is not a UUID")));
        }
        let n = self.fetch(input, &url)?;
        let mut op = self.new_op(ctx, handle, OpKind::Install, None);
        op.req = DuRequest { url, uuid: (!uuid.is_empty()).then_some(uuid) };
        self.ops.insert(n, op);
        Ok(Outcome::Running)
    }

    fn idle_du(&self, inst: &Instance) -> Result<String, UspError> {
        let duid = inst.key().unwrap_or_default().to_owned();
        if self.du(&duid).is_none() {
            return Err(failure(7228, format!("no deployment unit {duid}")));
        }
        if self.ops.values().any(|o| o.duid.as_deref() == Some(&duid)) {
            return Err(failure(7229, format!("{duid} is being changed")));
        }
        Ok(duid)
    }

    pub(super) fn update_du(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let duid = self.idle_du(inst)?;
        let mut url = arg(input, "URL");
        if url.is_empty() {
            url = self.du(&duid).map(|d| d.url.clone()).unwrap_or_default();
        }
        check_url(&url)?;
        let n = self.fetch(input, &url)?;
        let mut op = self.new_op(ctx, handle, OpKind::Update, Some(duid));
        op.req = DuRequest { url, uuid: None };
        self.ops.insert(n, op);
        self.status_changed(ctx, inst);
        Ok(Outcome::Running)
    }

    pub(super) fn uninstall_du(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let duid = self.idle_du(inst)?;
        let n = self.next_op;
        self.next_op += 1;
        self.worker.submit(Job::Uninstall { op: n, duid: duid.clone() }).map_err(gone)?;
        let mut op = self.new_op(ctx, handle, OpKind::Uninstall, Some(duid.clone()));
        op.before = self.describe(ctx, &[duid]);
        self.ops.insert(n, op);
        self.status_changed(ctx, inst);
        Ok(Outcome::Running)
    }

    pub(super) fn reset_env(
        &mut self,
        ctx: &mut Ctx,
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if !self.ops.is_empty() {
            return Err(failure(7229, "another software operation is running"));
        }
        let n = self.next_op;
        self.next_op += 1;
        self.worker.submit(Job::Reset { op: n }).map_err(gone)?;
        let all: Vec<String> =
            self.snap.iter().flat_map(|s| &s.dus).map(|d| d.duid.clone()).collect();
        let mut op = self.new_op(ctx, handle, OpKind::Reset, None);
        op.before = self.describe(ctx, &all);
        self.ops.insert(n, op);
        Ok(Outcome::Running)
    }

    /// The instance path, info and EU paths of each DU of `duids`, as they are now.
    fn describe(
        &self,
        ctx: &Ctx,
        duids: &[String],
    ) -> Vec<(String, super::DuInfo, String, Vec<String>)> {
        duids
            .iter()
            .filter_map(|d| {
                let du = self.du(d)?.clone();
                let path = row_path(ctx, DU_TABLE, d).unwrap_or_default();
                let eus = eu_paths(ctx, &du);
                Some((d.clone(), du, path, eus))
            })
            .collect()
    }

    fn status_changed(&self, ctx: &mut Ctx, inst: &Instance) {
        let duid = inst.key().unwrap_or_default();
        if let Some(p) = self.ids.id(super::Table::Du, "Status") {
            ctx.value_changed(inst, p, &text(self.du_status(duid)));
        }
    }

    pub(super) fn set_requested_state(
        &mut self,
        inst: &Instance,
        input: &[(Box<str>, Value)],
    ) -> Result<Outcome, UspError> {
        let euid = inst.key().unwrap_or_default().to_owned();
        if self.eu(&euid).is_none() {
            return Err(UspError::new(ErrorCode::CommandFailure, format!("no EU {euid}")));
        }
        let active = match arg(input, "RequestedState").as_str() {
            "Active" => true,
            "Idle" => false,
            other => {
                let msg = format!("RequestedState '{other}' is not Idle or Active");
                return Err(UspError::new(ErrorCode::InvalidCommandArgs, msg));
            }
        };
        if active && self.snap.as_ref().is_some_and(|s| !s.env.enabled) {
            let msg = "the execution environment is disabled";
            return Err(UspError::new(ErrorCode::CommandFailure, msg));
        }
        self.worker.submit(Job::SetActive { euid, active }).map_err(gone)?;
        Ok(Outcome::Done(Vec::new()))
    }

    pub(super) fn restart_eu(&mut self, inst: &Instance) -> Result<Outcome, UspError> {
        let euid = inst.key().unwrap_or_default().to_owned();
        if self.eu(&euid).is_none() {
            return Err(UspError::new(ErrorCode::CommandFailure, format!("no EU {euid}")));
        }
        self.worker.submit(Job::Restart { euid }).map_err(gone)?;
        Ok(Outcome::Done(Vec::new()))
    }

    /// `SetRunLevel()`: refused where the environment has no run levels (opkg).
    pub(super) fn set_run_level(
        &mut self,
        input: &[(Box<str>, Value)],
    ) -> Result<Outcome, UspError> {
        let level = arg(input, "RequestedRunLevel")
            .parse::<i32>()
            .ok()
            .filter(|l| (-1..=65535).contains(l));
        if !self.has_run_levels() {
            let msg = "this execution environment has no run levels";
            return Err(UspError::new(ErrorCode::CommandFailure, msg));
        }
        let Some(level) = level else {
            return Err(UspError::new(
                ErrorCode::InvalidCommandArgs,
                "RequestedRunLevel is -1..65535",
            ));
        };
        self.worker.submit(Job::RunLevel(level)).map_err(gone)?;
        Ok(Outcome::Done(Vec::new()))
    }

    /// A download ended: install or update from the file, or end the operation.
    pub(super) fn on_fetched(&mut self, f: Fetched) {
        let Some(op) = self.ops.get(&f.op) else { return };
        let file = match f.result {
            Ok(file) => file,
            Err(fault) => {
                if let Some(op) = self.ops.remove(&f.op) {
                    log::warn!("software: {}", fault.message);
                    self.pending.push(Pending { op, result: Err(fault) });
                }
                return;
            }
        };
        let req = op.req.clone();
        let job = match (&op.kind, &op.duid) {
            (OpKind::Update, Some(duid)) => Job::Update { op: f.op, duid: duid.clone(), file, req },
            _ => Job::Install { op: f.op, file, req },
        };
        if let Err(e) = self.worker.submit(job) {
            if let Some(op) = self.ops.remove(&f.op) {
                self.pending.push(Pending { op, result: Err(Fault::new(7002, e.to_string())) });
            }
        }
    }

    /// Sends the DUStateChange! and OperationComplete of ended operations.
    pub(super) fn flush(&mut self, ctx: &mut Ctx, ready: Vec<Pending>) {
        for p in ready {
            self.finish(ctx, p);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, p: Pending) {
        let Pending { op, result } = p;
        let (fault, duids) = match &result {
            Ok(d) => (Fault::new(0, ""), d.clone()),
            Err(f) => (f.clone(), op.duid.iter().cloned().collect()),
        };
        let uninstall = matches!(op.kind, OpKind::Uninstall | OpKind::Reset);
        // A failed install names no DU: one event about the URL's unit all the same.
        let targets = if duids.is_empty() && !uninstall { vec![String::new()] } else { duids };
        let mut outputs = Vec::new();
        for duid in targets {
            let facts = self.facts(ctx, &op, &duid, uninstall);
            self.emit_state_change(ctx, &op, &facts, &fault);
            if op.kind == OpKind::Install && fault.code == 0 {
                let env = self.snap.as_ref().map(|s| s.env.name.clone()).unwrap_or_default();
                let env_ref = row_path(ctx, ENV_TABLE, &env).unwrap_or_default();
                outputs = vec![
                    ("UUID".into(), text(&facts.uuid)),
                    ("Version".into(), text(&facts.version)),
                    ("ExecEnvRef".into(), text(&env_ref)),
                ];
            }
        }
        let done =
            if fault.code == 0 { Ok(outputs) } else { Err(failure(fault.code, fault.message)) };
        ctx.complete(op.handle, done);
    }

    /// What DUStateChange! says of DU `duid`: as it was before an uninstall, as it is now
    /// otherwise, or only the UUID asked for when the install failed.
    fn facts(&self, ctx: &Ctx, op: &Op, duid: &str, uninstall: bool) -> DuFacts {
        let before = op.before.iter().find(|b| b.0 == duid);
        match (uninstall, before, self.du(duid)) {
            (true, Some((_, du, path, eus)), _) => DuFacts {
                uuid: du.uuid.clone(),
                path: path.clone(),
                version: du.version.clone(),
                eus: eus.clone(),
                resolved: du.resolved,
            },
            (_, _, Some(du)) => DuFacts {
                uuid: du.uuid.clone(),
                path: row_path(ctx, DU_TABLE, duid).unwrap_or_default(),
                version: du.version.clone(),
                eus: eu_paths(ctx, du),
                resolved: du.resolved,
            },
            _ => DuFacts { uuid: op.req.uuid.clone().unwrap_or_default(), ..DuFacts::default() },
        }
    }

    fn emit_state_change(&self, ctx: &mut Ctx, op: &Op, facts: &DuFacts, fault: &Fault) {
        let (performed, state) = match (op.kind, fault.code) {
            (OpKind::Install, 0) => ("Install", "Installed"),
            (OpKind::Install, _) => ("Install", "Failed"),
            (OpKind::Update, _) => ("Update", "Installed"),
            (OpKind::Uninstall | OpKind::Reset, 0) => ("Uninstall", "Uninstalled"),
            (OpKind::Uninstall | OpKind::Reset, _) => ("Uninstall", "Installed"),
        };
        let args = vec![
            ("UUID".into(), text(&facts.uuid)),
            ("DeploymentUnitRef".into(), text(&facts.path)),
            ("Version".into(), text(&facts.version)),
            ("CurrentState".into(), text(state)),
            ("Resolved".into(), Value::Boolean(facts.resolved)),
            ("ExecutionUnitRefList".into(), text(&facts.eus.join(","))),
            ("StartTime".into(), Value::DateTime(op.start)),
            ("CompleteTime".into(), Value::DateTime(ctx.now().wall)),
            ("OperationPerformed".into(), text(performed)),
            ("Fault.FaultCode".into(), Value::UnsignedInt(fault.code)),
            ("Fault.FaultString".into(), text(&fault.message)),
        ];
        if let Some(root) = ctx.schema().obj_by_path(ROOT) {
            let inst = Instance { obj: root, numbers: Vec::new(), keys: Vec::new() };
            ctx.emit(&inst, "DUStateChange", args);
        }
    }
}

/// The DU facts of a DUStateChange!.
#[derive(Debug, Default)]
struct DuFacts {
    uuid: String,
    path: String,
    version: String,
    eus: Vec<String>,
    resolved: bool,
}
