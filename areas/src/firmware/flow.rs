//! The Download and Activate flow of [`super::Firmware`]: starting a Download or an Activate
//! (at once or at its time window), the worker's
//! results (fetched, installed, boot selected) turned into statuses, OperationComplete,
//! `Device.LocalAgent.TransferComplete!` and the reboot request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Requester, SystemRequest};
use usp_datamodel::value::Value;

use super::backend::{After, Checksum, Done, DownloadFault, ImageStatus, Job};
use super::{Field, Firmware, MAX_IMAGE_SIZE, ROW_PREFIX, Transfer};
use crate::transfer::sum::Algorithm;
use crate::transfer::{Fetch, Progress};

impl Firmware {
    pub(super) fn download(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if self.transfer.is_some() {
            return Err(UspError::new(ErrorCode::CommandFailure, "a Download is already running"));
        }
        let asked = self.slot_of(inst)?;
        // Never the bank we run from (see the module doc).
        let slot =
            if asked == self.active { (asked + 1) % self.images.len().max(1) } else { asked };
        let text = |name: &str| arg(input, name).map(|v| v.to_string()).unwrap_or_default();
        let url = text("URL");
        let size = arg(input, "FileSize").and_then(Value::as_u64).filter(|s| *s > 0);
        let checksum = match (text("CheckSumAlgorithm").as_str(), text("CheckSum")) {
            (_, sum) if sum.is_empty() => None,
            ("", _) => return Err(invalid("CheckSum needs a CheckSumAlgorithm")),
            (name, sum) => match Algorithm::from_name(name) {
                Some(algorithm) => Some(Checksum { algorithm, hex: sum.to_ascii_lowercase() }),
                None => return Err(invalid(&format!("CheckSumAlgorithm {name} is not supported"))),
            },
        };
        let user = text("Username");
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Progress::default());
        let fetch = Fetch {
            progress: Some(Arc::clone(&progress)),
            credentials: (!user.is_empty()).then(|| (user, text("Password"))),
            expected_size: size,
            max_size: MAX_IMAGE_SIZE,
            cancel: Some(Arc::clone(&cancel)),
            ..Fetch::new(url.clone())
        };
        let job = Job::Fetch { slot, fetch: Box::new(fetch), checksum };
        self.worker
            .submit(job)
            .map_err(|e| UspError::new(ErrorCode::CommandFailure, e.to_string()))?;
        self.transfer = Some(Transfer {
            handle,
            command: format!("{}Download()", inst.path(ctx.schema())),
            requestor: match ctx.requester() {
                Requester::Controller(id) => id.to_string(),
                Requester::Internal => String::new(),
            },
            url,
            start: ctx.now().wall,
            auto_activate: arg(input, "AutoActivate").and_then(Value::as_bool) == Some(true),
            cancel: Some(cancel),
            progress,
        });
        ctx.wake_after(PROGRESS_EVERY);
        self.set_status(ctx, slot, ImageStatus::Downloading);
        Ok(Outcome::Running)
    }

    /// Ends the running Download: its OperationComplete, then TransferComplete!.
    fn finish(&mut self, ctx: &mut Ctx, slot: usize, result: Result<(), DownloadFault>) {
        let Some(t) = self.transfer.take() else { return };
        let (code, message) = match &result {
            Ok(()) => (0, String::new()),
            Err(f) => (fault_code(f).code(), f.message.clone()),
        };
        let done =
            result.map(|()| Vec::new()).map_err(|f| UspError::new(fault_code(&f), f.message));
        // Read before the command ends (its Request row goes with it); the reboot of an
        // AutoActivate reports it in Boot!.
        let key = command_key(ctx, &t.command);
        self.reboot_key = Some(key.clone());
        ctx.complete(t.handle, done);
        let Some(la) = ctx.schema().obj_by_path("Device.LocalAgent.") else { return };
        let text = |s: &str| Value::String(s.into());
        let args = vec![
            ("Command".into(), text(&t.command)),
            ("CommandKey".into(), text(&key)),
            ("Requestor".into(), text(&t.requestor)),
            ("TransferType".into(), text("Download")),
            ("Affected".into(), text(&format!("{ROW_PREFIX}{}.", slot + 1))),
            ("TransferURL".into(), text(&t.url)),
            ("StartTime".into(), Value::DateTime(t.start)),
            ("CompleteTime".into(), Value::DateTime(ctx.now().wall)),
            ("FaultCode".into(), Value::UnsignedInt(code)),
            ("FaultString".into(), text(&message)),
        ];
        let inst = Instance { obj: la, numbers: Vec::new(), keys: Vec::new() };
        ctx.emit(&inst, "TransferComplete", args);
    }

    pub(super) fn on_done(&mut self, ctx: &mut Ctx, done: Done) {
        match done {
            Done::Fetched { slot, result: Ok(_) } => {
                if let Some(t) = self.transfer.as_mut() {
                    // Validation and installation run to their end.
                    t.cancel = None;
                }
                self.set_status(ctx, slot, ImageStatus::Validating);
                if let Err(e) = self.worker.submit(Job::Install { slot }) {
                    let fault = DownloadFault {
                        status: ImageStatus::InstallationFailed,
                        message: e.to_string(),
                        canceled: false,
                    };
                    self.set_status(ctx, slot, fault.status);
                    self.finish(ctx, slot, Err(fault));
                }
            }
            Done::Fetched { slot, result: Err(fault), .. }
            | Done::Installed { slot, result: Err(fault), .. } => {
                log::warn!("firmware: Download into image {} failed: {}", slot + 1, fault.message);
                let status = match self.images.get(slot) {
                    // A cancel leaves the bank as it was.
                    Some(i) if fault.canceled && i.present => ImageStatus::Available,
                    _ if fault.canceled => ImageStatus::NoImage,
                    _ => fault.status,
                };
                self.set_status(ctx, slot, status);
                self.finish(ctx, slot, Err(fault));
            }
            Done::Installed { slot, result: Ok(version), .. } => {
                if let Some(image) = self.images.get_mut(slot) {
                    image.version = version.clone();
                    image.present = true;
                    image.available = true;
                }
                self.changed(ctx, slot, Field::Version, Value::String(version.into()));
                self.set_status(ctx, slot, ImageStatus::Available);
                let activate = self.transfer.as_ref().is_some_and(|t| t.auto_activate);
                self.finish(ctx, slot, Ok(()));
                if activate {
                    let job = Job::SetBoot { slot, after: After::Reboot(None) };
                    if let Err(e) = self.worker.submit(job) {
                        log::error!("firmware: cannot activate image {}: {e}", slot + 1);
                    }
                }
            }
            Done::BootSet { slot, after, result } => self.on_boot_set(ctx, slot, after, result),
            Done::AvailableSet { slot, result: Err(e) } => {
                log::error!("firmware: Available of image {} not applied: {e}", slot + 1);
            }
            Done::AvailableSet { .. } => {}
        }
    }

    fn on_boot_set(
        &mut self,
        ctx: &mut Ctx,
        slot: usize,
        after: After,
        result: Result<(), String>,
    ) {
        match (result, after) {
            (Ok(()), after) => {
                self.boot = slot;
                if let After::Reboot(handle) = after {
                    // Activate's own CommandKey, else the AutoActivate Download's.
                    let activate = self.activate_command.take();
                    let key = match activate {
                        Some(command) => Some(command_key(ctx, &command)),
                        None => self.reboot_key.take(),
                    };
                    if let Some(h) = handle {
                        ctx.complete(h, Ok(Vec::new()));
                    }
                    log::warn!("firmware: image {} activated, rebooting", slot + 1);
                    let reason = format!("firmware image {} activated", slot + 1);
                    let cause = "RemoteReboot".into();
                    ctx.system(SystemRequest::Reboot { cause, reason, command_key: key });
                }
            }
            (Err(e), After::Reboot(handle)) => {
                self.activate_command = None;
                log::error!("firmware: image {} not activated: {e}", slot + 1);
                self.set_status(ctx, slot, ImageStatus::ActivationFailed);
                if let Some(h) = handle {
                    ctx.complete(h, Err(UspError::new(ErrorCode::CommandFailure, e)));
                }
            }
            (Err(e), After::Stay) => {
                log::error!("firmware: BootFirmwareImage {} not applied: {e}", slot + 1);
            }
        }
    }
}

/// How often a running Download's progress is copied to its Request row.
pub(super) const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Firmware {
    /// Copies the running Download's progress to its `Request.{i}` row
    /// ([`crate::local_agent::PROGRESS`]) and asks to be woken for the next report.
    pub(super) fn report_progress(&self, ctx: &mut Ctx) {
        let Some(t) = &self.transfer else { return };
        if let Some(percent) = t.progress.percent() {
            crate::local_agent::report_progress(ctx, &t.command, percent);
        }
        ctx.wake_after(PROGRESS_EVERY);
    }
}

/// 7023 for a canceled Download, 7022 for a failed one.
fn fault_code(f: &DownloadFault) -> ErrorCode {
    if f.canceled { ErrorCode::CommandCanceled } else { ErrorCode::CommandFailure }
}

/// Asks the running Download to stop (`Request.{i}.Cancel()`): while it fetches; once the
/// image is being validated and installed it runs to its end.
pub(super) fn cancel(firmware: &mut Firmware, handle: OpHandle) -> Result<(), UspError> {
    match firmware.transfer.as_ref() {
        Some(t) if t.handle == handle => match &t.cancel {
            Some(flag) => {
                flag.store(true, Ordering::Relaxed);
                Ok(())
            }
            None => Err(UspError::new(ErrorCode::CommandFailure, "the image is being installed")),
        },
        _ => Err(UspError::new(ErrorCode::CommandFailure, "this command cannot be canceled")),
    }
}

fn arg<'a>(input: &'a [(Box<str>, Value)], name: &str) -> Option<&'a Value> {
    input.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

fn invalid(msg: &str) -> UspError {
    UspError::new(ErrorCode::InvalidCommandArgs, msg)
}

/// The CommandKey of the running command `command`, from its `Request.{i}` row (the core
/// creates the row after the plugin started the command, so it is looked up at the end).
pub(crate) fn command_key(ctx: &Ctx, command: &str) -> String {
    let Some(table) = ctx.schema().obj_by_path("Device.LocalAgent.Request.{i}.") else {
        return String::new();
    };
    let (Some(cmd), Some(key)) = (
        ctx.schema().param_by_name(table, "Command"),
        ctx.schema().param_by_name(table, "CommandKey"),
    ) else {
        return String::new();
    };
    for n in ctx.rows(table, &[]) {
        let row = Instance { obj: table, numbers: vec![n], keys: vec![None] };
        if ctx.stored(&row, cmd).is_some_and(|v| v.to_string() == command) {
            return ctx.stored(&row, key).map(|v| v.to_string()).unwrap_or_default();
        }
    }
    String::new()
}

impl Firmware {
    /// `Activate()`: at once, or at the start of its first usable time window.
    pub(super) fn activate(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let slot = self.slot_of(inst)?;
        if !self.images.get(slot).is_some_and(|i| i.present && i.available) {
            let msg = format!("image {} cannot be activated", slot + 1);
            return Err(UspError::new(ErrorCode::CommandFailure, msg));
        }
        if self.pending.is_some() || self.activate_command.is_some() {
            return Err(UspError::new(ErrorCode::CommandFailure, "an Activate is pending"));
        }
        let offset = super::windows::activation_offset(&super::windows::parse(input)?)
            .map_err(|e| UspError::new(ErrorCode::CommandFailure, e))?;
        self.activate_command = Some(format!("{}Activate()", inst.path(ctx.schema())));
        if offset == 0 {
            self.worker.submit(Job::SetBoot { slot, after: After::Reboot(Some(handle)) }).map_err(
                |e| {
                    self.activate_command = None;
                    UspError::new(ErrorCode::CommandFailure, e.to_string())
                },
            )?;
        } else {
            let wait = std::time::Duration::from_secs(u64::from(offset));
            log::info!("firmware: image {} is activated in {offset} s", slot + 1);
            self.pending = Some((slot, handle, ctx.now().uptime + wait));
            ctx.wake_after(wait);
        }
        Ok(Outcome::Running)
    }

    /// Starts a waiting Activate whose window opened.
    pub(super) fn submit_activation(&mut self, ctx: &mut Ctx, slot: usize, handle: OpHandle) {
        if let Err(e) =
            self.worker.submit(Job::SetBoot { slot, after: After::Reboot(Some(handle)) })
        {
            self.activate_command = None;
            ctx.complete(handle, Err(UspError::new(ErrorCode::CommandFailure, e.to_string())));
        }
    }
}
