//! `Device.DeviceInfo.FirmwareImage.{i}.` and the firmware parameters of `Device.DeviceInfo.`
//! (TR-181 2.19): `ActiveFirmwareImage`, `BootFirmwareImage` (writable),
//! `MaxNumberOfActivateTimeWindows`, and per image `Alias`, `Name`, `Version`, `Available`
//! (writable), `Status`, `BootFailureLog`, with the async commands `Download()` and
//! `Activate()`. `SoftwareVersion` stays `Device.DeviceInfo.`'s: this area tells it the
//! running image's version through [`crate::RunningVersion`] when it boots.
//!
//! The flow (Oktopus' and TP-469 9.x's):
//! - `Download(URL, AutoActivate, Username, Password, FileSize, CheckSumAlgorithm, CheckSum)`:
//!   Status `Downloading` while the worker fetches the file ([`crate::transfer`]: size, time
//!   and redirect limits, Digest or Basic auth, resumed when cut; the checksum is computed
//!   while streaming), `Validating` while the backend checks and installs it, then
//!   `Available`, or `DownloadFailed` /
//!   `ValidationFailed` / `InstallationFailed` with the old image untouched. Then the
//!   Download's OperationComplete (7022 with the reason on failure) and
//!   `Device.LocalAgent.TransferComplete!` (FaultCode 0 or 7022). With `AutoActivate` the new
//!   bank is selected for boot and the agent asks the host to reboot (`Cause` `RemoteReboot`:
//!   TR-181's `Boot!` Cause has no firmware value; the next `Boot!` says
//!   `FirmwareUpdated=true` because `SoftwareVersion` changed).
//! - A Download on the running image (Oktopus picks the first image whose Status is
//!   `Available`, often the running one) writes the other bank: an A/B device never
//!   overwrites the bank it runs from. `Affected` in TransferComplete! names the bank written.
//! - One Download at a time; another is refused (7022) while one runs.
//! - `Device.LocalAgent.Request.{i}.Cancel()` stops a Download while it fetches (at the next
//!   chunk received): OperationComplete and TransferComplete! with 7023, the bank as it was.
//!   Once the image is being validated and installed the cancel is refused.
//! - `Activate()` selects the image for the next boot and reboots; its OperationComplete is
//!   sent before the restart. Its time windows ([`windows`]) choose when: at once, or at the
//!   start of the first `Immediately`/`AnyTime` window (the engine wakes the plugin then;
//!   `Request.{i}.Cancel()` withdraws it until then).
//! - `CheckSumAlgorithm` SHA-1, SHA-224, SHA-256, SHA-384, SHA-512 ([`crate::transfer::sum`]).
//!
//! Backends: [`lab::LabFirmware`] (A/B banks as files; `--platform lab`),
//! [`openwrt::OpenWrtFirmware`] (one bank written by sysupgrade, a staging row in RAM;
//! `--platform openwrt`) and [`fwslot::FwslotFirmware`] (`--platform linux` with a `fwslot`
//! boot selector); other platforms get no FirmwareImage table.

pub mod backend;
mod flow;
pub(crate) use flow::command_key;
pub mod fwslot;
pub mod lab;
#[cfg(feature = "openwrt")]
pub mod openwrt;
#[cfg(all(test, feature = "openwrt"))]
mod openwrt_tests;
#[cfg(test)]
mod tests;
pub mod windows;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::fields::Fields;
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::{DateTime, ParamType, Value};

use self::backend::{After, Banks, Done, FirmwareBackend, ImageStatus, Job};
use crate::worker::Worker;
use crate::{Host, Platform};

/// The table's path.
pub const TABLE: &str = "Device.DeviceInfo.FirmwareImage.{i}.";
/// The instance path prefix of its rows.
const ROW_PREFIX: &str = "Device.DeviceInfo.FirmwareImage.";
/// The largest image a Download accepts.
pub const MAX_IMAGE_SIZE: u64 = 256 << 20;

/// The FirmwareImage plugins for `host`'s platform (none where no backend exists).
pub fn build(host: &Host) -> Vec<Box<dyn usp_datamodel::plugin::Plugin>> {
    match host.platform {
        Platform::Linux => build_fwslot(host),
        Platform::Lab => {
            let dir = host.paths.state_dir.join("firmware");
            match lab::LabFirmware::boot(&dir, &host.identity.software_version) {
                Ok((backend, banks)) => plugin(host, backend, banks),
                Err(e) => {
                    log::error!("firmware: the lab banks in {} cannot be used: {e}", dir.display());
                    Vec::new()
                }
            }
        }
        #[cfg(feature = "openwrt")]
        Platform::OpenWrt => {
            match openwrt::OpenWrtFirmware::boot(&host.paths, &host.identity.software_version) {
                Ok((backend, banks)) => plugin(host, backend, banks),
                Err(e) => {
                    log::error!("firmware: the OpenWrt backend cannot start: {e}");
                    Vec::new()
                }
            }
        }
        #[cfg(not(feature = "openwrt"))]
        Platform::OpenWrt => {
            log::info!("no firmware backend for OpenWrt in this build (feature `openwrt`)");
            Vec::new()
        }
    }
}

fn plugin(
    host: &Host,
    backend: impl FirmwareBackend,
    banks: Banks,
) -> Vec<Box<dyn usp_datamodel::plugin::Plugin>> {
    match Firmware::new(host, backend, banks) {
        Ok(f) => vec![Box::new(f)],
        Err(e) => {
            log::error!("firmware: cannot start its worker: {e}");
            Vec::new()
        }
    }
}

/// The FirmwareImage plugin on the A/B slots of a `fwslot` boot selector, when there is one.
fn build_fwslot(host: &Host) -> Vec<Box<dyn usp_datamodel::plugin::Plugin>> {
    let Some(program) = fwslot::detect() else {
        log::info!("no firmware backend: no fwslot boot selector (USP_FWSLOT) on this Linux host");
        return Vec::new();
    };
    let dir = host.paths.state_dir.join("firmware");
    match fwslot::FwslotFirmware::boot(&program, &dir) {
        Ok((backend, banks)) => plugin(host, backend, banks),
        Err(e) => {
            log::error!("firmware: the fwslot slots cannot be used: {e}");
            Vec::new()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Active,
    Boot,
    MaxWindows,
    Name,
    Version,
    Available,
    Status,
    BootFailureLog,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Command {
    Download,
    Activate,
}

/// One bank as the plugin shows it.
#[derive(Clone, Debug)]
struct Image {
    name: String,
    version: String,
    present: bool,
    available: bool,
    status: ImageStatus,
    boot_failure_log: String,
}

/// The Download running.
#[derive(Clone, Debug)]
struct Transfer {
    handle: OpHandle,
    command: String,
    requestor: String,
    url: String,
    start: DateTime,
    auto_activate: bool,
    /// Set to stop the fetch; `None` once it is over (validation runs to its end).
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// The fetch's bytes so far, reported on the Request row.
    progress: std::sync::Arc<crate::transfer::Progress>,
}

/// The FirmwareImage plugin.
pub struct Firmware {
    fields: Fields<Field>,
    commands: Vec<(CmdId, Command)>,
    images: Vec<Image>,
    active: usize,
    boot: usize,
    transfer: Option<Transfer>,
    staged: Vec<Job>,
    worker: Worker<Job, Done>,
    /// The running `Activate()`'s command path (its CommandKey goes into the next Boot!).
    activate_command: Option<String>,
    /// The CommandKey of the last Download, for the Boot! after its AutoActivate.
    reboot_key: Option<String>,
    /// An `Activate()` waiting for its time window: the bank, the command, and when (uptime).
    pending: Option<(usize, OpHandle, std::time::Duration)>,
}

impl std::fmt::Debug for Firmware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firmware").field("active", &self.active).field("boot", &self.boot).finish()
    }
}

impl Firmware {
    /// Serves `banks` as booted by `backend`, whose slow work runs on a worker; records the
    /// running image's version in `host.running_version`.
    pub fn new(
        host: &Host,
        mut backend: impl FirmwareBackend,
        banks: Banks,
    ) -> std::io::Result<Firmware> {
        let worker = Worker::spawn("firmware", host.waker.clone(), move |job| {
            backend::run(&mut backend, job)
        })?;
        let images: Vec<Image> = banks
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| Image {
                name: s.name.clone(),
                version: s.version.clone(),
                present: s.present,
                available: s.available,
                status: if s.present { ImageStatus::Available } else { ImageStatus::NoImage },
                boot_failure_log: match &banks.boot_failure {
                    Some((slot, log)) if *slot == i => log.clone(),
                    _ => String::new(),
                },
            })
            .collect();
        if let Some(running) = images.get(banks.active) {
            host.running_version.set(&running.version);
        }
        Ok(Firmware {
            fields: Fields::default(),
            commands: Vec::new(),
            images,
            active: banks.active,
            boot: banks.boot,
            transfer: None,
            staged: Vec::new(),
            worker,
            activate_command: None,
            reboot_key: None,
            pending: None,
        })
    }

    fn slot_of(&self, inst: &Instance) -> Result<usize, UspError> {
        inst.key()
            .and_then(|k| k.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|s| *s < self.images.len())
            .ok_or_else(|| UspError::internal(format!("no firmware bank for {:?}", inst.key())))
    }

    /// Sets bank `slot`'s status and notifies the change.
    fn set_status(&mut self, ctx: &mut Ctx, slot: usize, status: ImageStatus) {
        let Some(image) = self.images.get_mut(slot) else { return };
        image.status = status;
        self.changed(ctx, slot, Field::Status, Value::String(status.name().into()));
    }

    fn changed(&self, ctx: &mut Ctx, slot: usize, field: Field, value: Value) {
        let (Some(obj), Some(p)) = (ctx.schema().obj_by_path(TABLE), self.fields.id(field)) else {
            return;
        };
        let key = Some(Box::from((slot + 1).to_string()));
        let inst = Instance { obj, numbers: vec![slot as u32 + 1], keys: vec![key] };
        ctx.value_changed(&inst, p, &value);
    }

    /// The bank a `BootFirmwareImage` value names, if it can boot.
    fn bootable(&self, value: &Value) -> Result<usize, UspError> {
        let text = value.to_string();
        let slot = text
            .strip_prefix(ROW_PREFIX)
            .map(|n| n.trim_end_matches('.'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|s| self.images.get(*s).is_some_and(|i| i.present && i.available));
        slot.ok_or_else(|| {
            UspError::new(ErrorCode::InvalidValue, format!("'{text}' is no available image"))
        })
    }
}

impl Plugin for Firmware {
    fn name(&self) -> &'static str {
        "FirmwareImage"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let info = b.object("Device.DeviceInfo.");
        let f = &mut self.fields;
        f.param(b, info, "ActiveFirmwareImage", ParamType::String, Field::Active)
            .reference()
            .live();
        f.param(b, info, "BootFirmwareImage", ParamType::String, Field::Boot)
            .reference()
            .rw()
            .live();
        f.param(
            b,
            info,
            "MaxNumberOfActivateTimeWindows",
            ParamType::UnsignedInt,
            Field::MaxWindows,
        )
        .range(1, 5)
        .live();
        let img = b.table(TABLE, ObjAccess::ReadOnly);
        b.external(img);
        b.alias(img);
        f.param(b, img, "Name", ParamType::String, Field::Name).max_len(64).live();
        f.param(b, img, "Version", ParamType::String, Field::Version).max_len(64).live();
        f.param(b, img, "Available", ParamType::Boolean, Field::Available).rw().live();
        f.param(b, img, "Status", ParamType::String, Field::Status)
            .enumeration(ImageStatus::NAMES)
            .live();
        f.param(b, img, "BootFailureLog", ParamType::String, Field::BootFailureLog).live();

        let download = b.command(img, "Download", true);
        download
            .mandatory("URL", ParamType::String)
            .mandatory("AutoActivate", ParamType::Boolean)
            .input("Username", ParamType::String)
            .input("Password", ParamType::String)
            .input("FileSize", ParamType::UnsignedInt)
            .input("CheckSumAlgorithm", ParamType::String)
            .input("CheckSum", ParamType::HexBinary);
        for a in &mut download.inputs {
            match &*a.name {
                "URL" => a.constraints.max_len = Some(1024),
                "Username" | "Password" => a.constraints.max_len = Some(256),
                "CheckSumAlgorithm" => {
                    a.constraints.enumeration = Some(crate::transfer::sum::Algorithm::NAMES);
                }
                _ => {}
            }
        }
        windows::declare(b.command(img, "Activate", true));
        self.commands = [("Download", Command::Download), ("Activate", Command::Activate)]
            .into_iter()
            .filter_map(|(name, c)| Some((b.command_id(img, name)?, c)))
            .collect();
    }

    fn get(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let row = |s: usize| Value::String(format!("{ROW_PREFIX}{}.", s + 1).into());
        for &p in params {
            let field = self
                .fields
                .of(p)
                .ok_or_else(|| UspError::internal("FirmwareImage: unknown parameter"))?;
            let value = match field {
                Field::Active => row(self.active),
                Field::Boot => row(self.boot),
                Field::MaxWindows => Value::UnsignedInt(windows::MAX_WINDOWS as u32),
                _ => {
                    let slot = self.slot_of(inst)?;
                    let image =
                        self.images.get(slot).ok_or_else(|| UspError::internal("no bank"))?;
                    match field {
                        Field::Name => Value::String(image.name.as_str().into()),
                        Field::Version => Value::String(image.version.as_str().into()),
                        Field::Available => Value::Boolean(image.available),
                        Field::Status => Value::String(image.status.name().into()),
                        _ => Value::String(image.boot_failure_log.as_str().into()),
                    }
                }
            };
            out.push(value);
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        _table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        Ok((1..=self.images.len()).map(|n| n.to_string()).collect())
    }

    fn set(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        for (p, v) in changes {
            match self.fields.of(*p) {
                Some(Field::Boot) => {
                    let slot = self.bootable(v)?;
                    self.staged.push(Job::SetBoot { slot, after: After::Stay });
                }
                Some(Field::Available) => {
                    let slot = self.slot_of(inst)?;
                    let available = v.as_bool() == Some(true);
                    let present = self.images.get(slot).is_some_and(|i| i.present);
                    if (!available && slot == self.active) || (available && !present) {
                        let why = if present {
                            "the running image stays available"
                        } else {
                            "no image to make available"
                        };
                        return Err(UspError::new(ErrorCode::InvalidValue, why));
                    }
                    self.staged.push(Job::SetAvailable { slot, available });
                }
                _ => return Err(UspError::new(ErrorCode::ParamReadOnly, "not writable")),
            }
        }
        Ok(())
    }

    fn commit(&mut self, _ctx: &mut Ctx) {
        for job in std::mem::take(&mut self.staged) {
            match &job {
                Job::SetBoot { slot, .. } => self.boot = *slot,
                Job::SetAvailable { slot, available } => {
                    if let Some(i) = self.images.get_mut(*slot) {
                        i.available = *available;
                    }
                }
                _ => {}
            }
            if let Err(e) = self.worker.submit(job) {
                log::error!("firmware: {e}");
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
        match self.commands.iter().find(|(id, _)| *id == cmd).map(|(_, c)| *c) {
            Some(Command::Download) => self.download(ctx, inst, input, handle),
            Some(Command::Activate) => self.activate(ctx, inst, input, handle),
            None => Err(UspError::new(ErrorCode::CommandFailure, "unknown command")),
        }
    }

    fn cancel(&mut self, ctx: &mut Ctx, handle: OpHandle) -> Result<(), UspError> {
        if self.pending.is_some_and(|(_, h, _)| h == handle) {
            self.pending = None;
            self.activate_command = None;
            let e = UspError::new(ErrorCode::CommandCanceled, "canceled before its time window");
            ctx.complete(handle, Err(e));
            return Ok(());
        }
        flow::cancel(self, handle)
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let done: Vec<Done> = self.worker.results().collect();
        for d in done {
            self.on_done(ctx, d);
        }
        self.report_progress(ctx);
        if let Some((slot, handle, due)) = self.pending {
            if ctx.now().uptime >= due {
                self.pending = None;
                self.submit_activation(ctx, slot, handle);
            } else {
                ctx.wake_after(due - ctx.now().uptime);
            }
        }
    }
}
