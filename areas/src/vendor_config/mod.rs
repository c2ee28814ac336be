//! `Device.DeviceInfo.VendorConfigFile.{i}.` (TR-181 2.19), with the async commands
//! `Backup(URL, Username, Password)` and
//! `Restore(URL, Username, Password, FileSize, TargetFileName, CheckSumAlgorithm, CheckSum)`.
//! Its rows: `uspagent`, the agent's database (its whole USP configuration), whenever the host
//! gives one; on OpenWrt also `sysupgrade`, the router's configuration as `sysupgrade -b`
//! saves it (its keep list, /etc/config and the packages' conffiles, the agent's among them).
//!
//! - Backup: the host writes a consistent snapshot of the database ([`AgentDatabase::snapshot`],
//!   SQLite's `VACUUM INTO`: never a torn copy of a file being written) into the state
//!   directory, and the worker uploads it with HTTP PUT ([`crate::transfer::upload`]).
//! - Restore: the worker downloads the file (size limit, checksum), the host checks it is a
//!   usable agent database and stages it ([`AgentDatabase::stage_restore`]); the agent then
//!   restarts (`SystemRequest::Reboot`, Cause `RemoteReboot`, with the Restore's CommandKey)
//!   and the host swaps the staged file in before it opens the database. A bad file is refused
//!   (7022) and the running configuration is untouched.
//! - Both end with their OperationComplete and `Device.LocalAgent.TransferComplete!`
//!   (TransferType `Upload` / `Download`, Affected the row).
//! - The `sysupgrade` row: Backup runs `sysupgrade -b <file>` in the staging directory
//!   (`$TMPDIR`) and uploads it; Restore downloads a gzip archive, and the host runs
//!   `sysupgrade -r <file>` after its clean shutdown, then reboots
//!   ([`crate::firmware::openwrt::flash_if_requested`]). `sysupgrade -b` copies the agent's
//!   live database file as it is (SQLite in WAL mode changes the main file only at
//!   checkpoints), so before it runs the worker writes a consistent snapshot, [`SNAPSHOT`] in
//!   the state directory (kept by the agent's keep list), and removes it once the archive is
//!   made; after `sysupgrade -r` the host restores the agent's database from that snapshot.
//! - `Date` is when a row's content was last applied ([`date`]), recorded by the host.
//! - `FileSize` is a hint: per TR-181 a wrong one does not fail the Restore.
//!
//! Never does: touch the database file itself (the host does, through [`AgentDatabase`]), or
//! block the data-model thread.

use std::path::Path;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::fields::Fields;
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, Requester, SystemRequest};
use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::{DateTime, ParamType, Value};

use crate::Host;
use crate::transfer::Fetch;
use crate::transfer::sum::Algorithm;
use crate::worker::Worker;

pub mod date;
mod worker;
use worker::{Dirs, Done, Job, Source, run};

#[cfg(all(test, feature = "openwrt"))]
mod tests;

/// The table's path.
pub const TABLE: &str = "Device.DeviceInfo.VendorConfigFile.{i}.";
/// The largest backup or restore file.
pub const MAX_FILE: u64 = 32 << 20;
/// The consistent snapshot of the agent's database that goes into a `sysupgrade -b` archive
/// (a file of the state directory, present only while the archive is made).
pub const SNAPSHOT: &str = "uspagent-backup.db";

/// What the host does with its database for this area (the agent's SQLite store).
pub trait AgentDatabase: Send + Sync {
    /// Writes a consistent snapshot of the database to `dest` (replacing it).
    fn snapshot(&self, dest: &Path) -> Result<(), String>;
    /// Checks that `file` is a usable agent database and stages it to replace the database at
    /// the next start; the running database is untouched.
    fn stage_restore(&self, file: &Path) -> Result<(), String>;
}

/// The plugins for `host`: none when it has nothing to back up.
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    let mut sources = Vec::new();
    if let Some(db) = host.database.clone() {
        sources.push(("uspagent", Source::Database(db)));
    }
    if host.platform == crate::Platform::OpenWrt && cfg!(feature = "openwrt") {
        let program = host.paths.sysupgrade_program.clone();
        sources.push(("sysupgrade", Source::Sysupgrade(program, host.database.clone())));
    }
    if sources.is_empty() {
        log::info!("VendorConfigFile: nothing to back up on this host");
        return Vec::new();
    }
    match VendorConfig::new(host, sources) {
        Ok(p) => vec![Box::new(p)],
        Err(e) => {
            log::error!("VendorConfigFile: cannot start its worker: {e}");
            Vec::new()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Name,
    Version,
    Date,
    Description,
    UseForBackupRestore,
}

/// The command running (one at a time).
struct Running {
    handle: OpHandle,
    command: String,
    restore: bool,
    requestor: String,
    url: String,
    start: DateTime,
}

/// The VendorConfigFile plugin.
pub struct VendorConfig {
    fields: Fields<Field>,
    commands: Vec<(CmdId, bool)>,
    worker: Worker<Job, Done>,
    running: Option<Running>,
    rows: Vec<(&'static str, Source)>,
    /// When each row's content was applied (read once: a restore always restarts the agent).
    dates: Vec<(String, DateTime)>,
}

impl std::fmt::Debug for VendorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VendorConfig").finish()
    }
}

impl VendorConfig {
    /// The plugin for `rows` (name, source); the database's files in transit go to the state
    /// directory, sysupgrade's to the staging one.
    fn new(host: &Host, rows: Vec<(&'static str, Source)>) -> std::io::Result<VendorConfig> {
        let dirs = Dirs { state: host.paths.state_dir.clone(), tmp: host.paths.tmp_dir.clone() };
        let worker =
            Worker::spawn("vendor-config", host.waker.clone(), move |job| Done(run(&dirs, job)))?;
        Ok(VendorConfig {
            fields: Fields::default(),
            commands: Vec::new(),
            worker,
            running: None,
            rows,
            dates: date::applied(&host.paths.state_dir),
        })
    }

    fn source(&self, inst: &Instance) -> Result<&(&'static str, Source), UspError> {
        let key = inst.key().unwrap_or_default();
        self.rows
            .iter()
            .find(|(name, _)| *name == key)
            .ok_or_else(|| UspError::internal(format!("no configuration file {key}")))
    }
}

fn arg(input: &[(Box<str>, Value)], name: &str) -> String {
    input.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string()).unwrap_or_default()
}

impl VendorConfig {
    fn start(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        restore: bool,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if self.running.is_some() {
            return Err(UspError::new(ErrorCode::CommandFailure, "a Backup or Restore is running"));
        }
        let url = arg(input, "URL");
        let user = arg(input, "Username");
        let fetch = Fetch {
            credentials: (!user.is_empty()).then(|| (user, arg(input, "Password"))),
            max_size: MAX_FILE,
            ..Fetch::new(url.clone())
        };
        let source = self.source(inst)?.1.clone();
        let checksum = if restore {
            let (name, sum) = (arg(input, "CheckSumAlgorithm"), arg(input, "CheckSum"));
            Some(match (name.as_str(), sum.is_empty()) {
                (_, true) => None,
                (n, false) => Some((
                    Algorithm::from_name(n).ok_or_else(|| {
                        UspError::new(ErrorCode::InvalidCommandArgs, "CheckSum needs an algorithm")
                    })?,
                    sum.to_ascii_lowercase(),
                )),
            })
        } else {
            None
        };
        let job = Job { source, restore: checksum, fetch: Box::new(fetch) };
        self.worker
            .submit(job)
            .map_err(|e| UspError::new(ErrorCode::CommandFailure, e.to_string()))?;
        let name = if restore { "Restore()" } else { "Backup()" };
        self.running = Some(Running {
            handle,
            command: format!("{}{name}", inst.path(ctx.schema())),
            restore,
            requestor: match ctx.requester() {
                Requester::Controller(id) => id.to_string(),
                Requester::Internal => String::new(),
            },
            url,
            start: ctx.now().wall,
        });
        Ok(Outcome::Running)
    }

    fn finish(&mut self, ctx: &mut Ctx, result: Result<u64, String>) {
        let Some(r) = self.running.take() else { return };
        let key = crate::firmware::command_key(ctx, &r.command);
        let (code, message) = match &result {
            Ok(_) => (0, String::new()),
            Err(e) => (ErrorCode::CommandFailure.code(), e.clone()),
        };
        if let Err(e) = &result {
            log::warn!("VendorConfigFile: {} failed: {e}", r.command);
        }
        let done =
            result.map(|_| Vec::new()).map_err(|e| UspError::new(ErrorCode::CommandFailure, e));
        let ok = done.is_ok();
        ctx.complete(r.handle, done);
        let affected =
            r.command.rsplit_once('.').map_or(String::new(), |(row, _)| format!("{row}."));
        let text = |s: &str| Value::String(s.into());
        let args = vec![
            ("Command".into(), text(&r.command)),
            ("CommandKey".into(), text(&key)),
            ("Requestor".into(), text(&r.requestor)),
            ("TransferType".into(), text(if r.restore { "Download" } else { "Upload" })),
            ("Affected".into(), text(&affected)),
            ("TransferURL".into(), text(&r.url)),
            ("StartTime".into(), Value::DateTime(r.start)),
            ("CompleteTime".into(), Value::DateTime(ctx.now().wall)),
            ("FaultCode".into(), Value::UnsignedInt(code)),
            ("FaultString".into(), text(&message)),
        ];
        if let Some(la) = ctx.schema().obj_by_path("Device.LocalAgent.") {
            let inst = Instance { obj: la, numbers: Vec::new(), keys: Vec::new() };
            ctx.emit(&inst, "TransferComplete", args);
        }
        if r.restore && ok {
            log::warn!("VendorConfigFile: configuration restored, restarting");
            ctx.system(SystemRequest::Reboot {
                cause: "RemoteReboot".into(),
                reason: "configuration restored".into(),
                command_key: Some(key),
            });
        }
    }
}

impl Plugin for VendorConfig {
    fn name(&self) -> &'static str {
        "VendorConfigFile"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let t = b.table(TABLE, ObjAccess::ReadOnly);
        b.external(t);
        b.alias(t);
        let f = &mut self.fields;
        f.param(b, t, "Name", ParamType::String, Field::Name).max_len(64).live();
        f.param(b, t, "Version", ParamType::String, Field::Version).max_len(16).live();
        f.param(b, t, "Date", ParamType::DateTime, Field::Date).live();
        f.param(b, t, "Description", ParamType::String, Field::Description).max_len(256).live();
        f.param(b, t, "UseForBackupRestore", ParamType::Boolean, Field::UseForBackupRestore).live();
        let auth = |c: &mut usp_datamodel::schema::CommandDef| {
            c.mandatory("URL", ParamType::String)
                .mandatory("Username", ParamType::String)
                .mandatory("Password", ParamType::String);
        };
        auth(b.command(t, "Backup", true));
        let restore = b.command(t, "Restore", true);
        auth(&mut *restore);
        restore
            .input("FileSize", ParamType::UnsignedInt)
            .input("TargetFileName", ParamType::String)
            .input("CheckSumAlgorithm", ParamType::String)
            .input("CheckSum", ParamType::HexBinary);
        for a in &mut restore.inputs {
            match &*a.name {
                "URL" => a.constraints.max_len = Some(2048),
                "Username" | "Password" | "TargetFileName" => a.constraints.max_len = Some(256),
                "CheckSumAlgorithm" => a.constraints.enumeration = Some(Algorithm::NAMES),
                _ => {}
            }
        }
        self.commands = [("Backup", false), ("Restore", true)]
            .into_iter()
            .filter_map(|(name, r)| Some((b.command_id(t, name)?, r)))
            .collect();
    }

    fn get(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let (name, source) = self.source(inst)?;
        let applied = self.dates.iter().find(|(row, _)| row == name).map(|(_, when)| *when);
        let description = match source {
            Source::Database(_) => "the agent's database: its whole USP configuration",
            Source::Sysupgrade(..) => "the router's configuration as sysupgrade -b saves it",
        };
        for &p in params {
            let field = self.fields.of(p).ok_or_else(|| UspError::internal("unknown parameter"))?;
            out.push(match field {
                Field::Name => Value::String((*name).into()),
                Field::Version => Value::String(env!("CARGO_PKG_VERSION").into()),
                Field::Date => Value::DateTime(applied.unwrap_or(DateTime::UNKNOWN)),
                Field::Description => Value::String(description.into()),
                Field::UseForBackupRestore => Value::Boolean(true),
            });
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        _table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        Ok(self.rows.iter().map(|(name, _)| (*name).to_owned()).collect())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        match self.commands.iter().find(|(id, _)| *id == cmd).map(|(_, r)| *r) {
            Some(restore) => self.start(ctx, inst, restore, input, handle),
            None => Err(UspError::new(ErrorCode::CommandFailure, "unknown command")),
        }
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let done: Vec<Done> = self.worker.results().collect();
        for Done(result) in done {
            self.finish(ctx, result);
        }
    }
}
