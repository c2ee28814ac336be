//! The OpenWrt firmware backend: one flash bank written by `sysupgrade`, shown as two
//! FirmwareImage rows so that Oktopus' flow (Download on an `Available` image other than a
//! lone one) works: row 1 is the running image, row 2 the staging area in RAM.
//!
//! - Download: the image is fetched into `<tmp_dir>/uspagent-firmware/` (RAM on OpenWrt,
//!   never the flash; size and checksum checked while streaming by [`super::backend`]), then
//!   validated by procd (`ubus call system validate_firmware_image '{"path":...}'`: its reply's
//!   `valid`, and the names of the failed `tests`); the version comes from the image's fwtool
//!   metadata trailer (`version.version` and `version.revision`, as `ubus call system board`
//!   reports the running one).
//! - Activate (or AutoActivate) of row 2 writes `<state_dir>/firmware/pending` (the running
//!   version and the one expected) and `<state_dir>/firmware/flash` (what to flash). The host
//!   flashes with [`flash_if_requested`] only after its clean shutdown (database closed), when
//!   it would otherwise restart: `sysupgrade <image>` keeps the configuration files, among them
//!   `/etc/uspagent/` (the database, identity and this `pending` file) through the package's
//!   `/lib/upgrade/keep.d/uspagent`.
//! - At the next start [`OpenWrtFirmware::boot`] reads `pending`: the expected version running
//!   is a success (the core's Boot! says `FirmwareUpdated`); the old one still running means
//!   the flash failed or the image did not come up, said in row 2's `BootFailureLog`.
//!
//! Never does: write the flash itself, or keep an image on the flash.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};

use super::backend::{Banks, FirmwareBackend, FirmwareError, SlotInfo};
use crate::PlatformPaths;
use crate::openwrt::ubus::Ubus;

/// Row 1: the image running.
pub const RUNNING: usize = 0;
/// Row 2: the staged image, flashed at its activation.
pub const STAGING: usize = 1;
/// fwtool's trailer magic (`FWx0`).
const FWIMAGE_MAGIC: u32 = 0x4657_7830;
/// fwtool's trailer type of a metadata block.
const FWIMAGE_INFO: u8 = 1;
/// The largest fwtool block read (fwtool's own metadata limit is 30 KiB).
const MAX_BLOCK: u64 = 64 * 1024;

/// The OpenWrt backend (see the module doc).
#[derive(Debug)]
pub struct OpenWrtFirmware {
    staging: PathBuf,
    state: PathBuf,
    ubus: Ubus,
    sysupgrade: PathBuf,
    running: String,
    staged: Option<String>,
}

impl OpenWrtFirmware {
    /// Starts on `paths` (`factory_version` when procd cannot say which image runs), settling
    /// a flash asked for before this start.
    pub fn boot(
        paths: &PlatformPaths,
        factory_version: &str,
    ) -> Result<(OpenWrtFirmware, Banks), FirmwareError> {
        let staging = paths.tmp_dir.join("uspagent-firmware");
        let state = paths.state_dir.join("firmware");
        for dir in [&staging, &state] {
            std::fs::create_dir_all(dir).map_err(|e| FirmwareError::io(dir, e))?;
        }
        let ubus = Ubus::new(paths.ubus_program.clone(), paths.ubus_socket.clone());
        let running = running_version(&ubus).unwrap_or_else(|e| {
            log::warn!("firmware: the running version is unknown ({e}); {factory_version} assumed");
            factory_version.to_owned()
        });
        let mut fw = OpenWrtFirmware {
            staging,
            state,
            ubus,
            sysupgrade: paths.sysupgrade_program.clone(),
            running,
            staged: None,
        };
        let _ = std::fs::remove_file(fw.scratch());
        let boot_failure = fw.settle_pending().map(|log| (STAGING, log));
        fw.staged = std::fs::read_to_string(fw.staging.join("image.version"))
            .ok()
            .filter(|_| fw.image().is_file());
        let slots = vec![
            SlotInfo {
                name: "running".into(),
                version: fw.running.clone(),
                present: true,
                available: true,
            },
            SlotInfo {
                name: "staging".into(),
                version: fw.staged.clone().unwrap_or_default(),
                present: fw.staged.is_some(),
                available: fw.staged.is_some(),
            },
        ];
        Ok((fw, Banks { slots, active: RUNNING, boot: RUNNING, boot_failure }))
    }

    fn image(&self) -> PathBuf {
        self.staging.join("image.bin")
    }

    /// Reads and removes the `pending` file of a flash asked for before this start; the
    /// BootFailureLog when the old image still runs.
    fn settle_pending(&mut self) -> Option<String> {
        let path = self.state.join("pending");
        let text = std::fs::read_to_string(&path).ok()?;
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_file(self.state.join("flash"));
        let field = |name: &str| {
            text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix('=')).unwrap_or("")
        };
        let (previous, expected, failed) = (field("previous"), field("expected"), field("failed"));
        let updated =
            if expected.is_empty() { self.running != previous } else { self.running == expected };
        if updated {
            log::info!("firmware: {} runs (was {previous})", self.running);
            return None;
        }
        let why = if failed.is_empty() { "the new image did not come up" } else { failed };
        let log = format!("image {expected} was to be flashed, but {} runs: {why}", self.running);
        log::error!("firmware: {log}");
        Some(log)
    }

    /// Writes `name` in the state directory through a temporary file and a rename.
    fn write_state(&self, name: &str, text: &str) -> Result<(), FirmwareError> {
        let path = self.state.join(name);
        let tmp = self.state.join(format!("{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|e| FirmwareError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| FirmwareError::io(&path, e))
    }
}

impl FirmwareBackend for OpenWrtFirmware {
    fn scratch(&self) -> PathBuf {
        self.staging.join("download.part")
    }

    fn validate(&mut self, file: &Path) -> Result<String, FirmwareError> {
        let path = file.to_string_lossy();
        let reply =
            self.ubus
                .call("system", "validate_firmware_image", &json!({ "path": path }))
                .map_err(|e| FirmwareError::Invalid(format!("procd cannot validate it: {e}")))?;
        if reply.get("valid").and_then(Json::as_bool) != Some(true) {
            let failed: Vec<&str> = reply
                .get("tests")
                .and_then(Json::as_object)
                .map(|t| t.iter().filter(|(_, v)| v.as_bool() != Some(true)).collect::<Vec<_>>())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, _)| k.as_str())
                .collect();
            return Err(FirmwareError::Invalid(format!(
                "procd refused it (failed tests: {})",
                if failed.is_empty() { "none named".to_owned() } else { failed.join(", ") }
            )));
        }
        Ok(image_version(file).unwrap_or_default())
    }

    fn install(&mut self, slot: usize, file: &Path) -> Result<(), FirmwareError> {
        if slot != STAGING {
            return Err(FirmwareError::Invalid("the running image is never overwritten".into()));
        }
        let version = image_version(file).unwrap_or_default();
        let dest = self.image();
        std::fs::rename(file, &dest).map_err(|e| FirmwareError::io(&dest, e))?;
        let vfile = self.staging.join("image.version");
        std::fs::write(&vfile, &version).map_err(|e| FirmwareError::io(&vfile, e))?;
        self.staged = Some(version);
        Ok(())
    }

    fn set_boot(&mut self, slot: usize) -> Result<(), FirmwareError> {
        match slot {
            RUNNING => {
                // Selecting the running image again withdraws a flash not yet done.
                for name in ["flash", "pending"] {
                    let _ = std::fs::remove_file(self.state.join(name));
                }
                Ok(())
            }
            STAGING => {
                let expected = self.staged.clone().ok_or(FirmwareError::NoSuchImage(slot))?;
                if !self.image().is_file() {
                    return Err(FirmwareError::NoSuchImage(slot));
                }
                let pending = format!("previous={}\nexpected={expected}\n", self.running);
                self.write_state("pending", &pending)?;
                let request =
                    format!("{}\n{}\n", self.sysupgrade.display(), self.image().display());
                self.write_state("flash", &request)
            }
            _ => Err(FirmwareError::NoSuchImage(slot)),
        }
    }

    fn set_available(&mut self, slot: usize, available: bool) -> Result<(), FirmwareError> {
        match (slot, available) {
            (RUNNING, false) => Err(FirmwareError::Invalid("the running image stays".into())),
            (RUNNING | STAGING, _) => Ok(()),
            _ => Err(FirmwareError::NoSuchImage(slot)),
        }
    }
}

/// The running image's version from procd: `release.version` and `release.revision` of
/// `ubus call system board`.
fn running_version(ubus: &Ubus) -> Result<String, String> {
    let board = ubus.call("system", "board", &json!({})).map_err(|e| e.to_string())?;
    let release = board.get("release").ok_or("no release in the board information")?;
    let text = |k: &str| release.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let version = format!("{} {}", text("version"), text("revision")).trim().to_owned();
    if version.is_empty() { Err("an empty release".into()) } else { Ok(version) }
}

/// The version in an image's fwtool metadata trailer (`version.version version.revision`),
/// `None` when it has none. The trailer: 16 bytes at the end (big-endian magic, CRC-32, type,
/// 3 padding bytes, the block's size with its 8-byte header and the trailer); a signature
/// block may follow the metadata block.
pub fn image_version(file: &Path) -> Option<String> {
    let mut f = std::fs::File::open(file).ok()?;
    let mut end = f.metadata().ok()?.len();
    for _ in 0..2 {
        let (kind, size) = trailer(&mut f, end)?;
        if size < 24 || size > end || size > MAX_BLOCK {
            return None;
        }
        if kind == FWIMAGE_INFO {
            let mut json = vec![0u8; usize::try_from(size - 24).ok()?];
            f.seek(SeekFrom::Start(end - size + 8)).ok()?;
            f.read_exact(&mut json).ok()?;
            let meta: Json = serde_json::from_slice(&json).ok()?;
            let v = meta.get("version")?;
            let text = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
            let version = format!("{} {}", text("version"), text("revision")).trim().to_owned();
            return (!version.is_empty()).then_some(version);
        }
        end -= size;
    }
    None
}

/// The fwtool trailer ending at `end`: its type and block size.
fn trailer(f: &mut std::fs::File, end: u64) -> Option<(u8, u64)> {
    let mut t = [0u8; 16];
    f.seek(SeekFrom::Start(end.checked_sub(16)?)).ok()?;
    f.read_exact(&mut t).ok()?;
    let word = |i: usize| {
        let b: [u8; 4] = t.get(i..i + 4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    };
    (word(0)? == FWIMAGE_MAGIC).then_some((*t.get(8)?, u64::from(word(12)?)))
}

/// Runs what was asked of `sysupgrade` before this shutdown, if anything (call only after the
/// clean shutdown, the database closed, from the host):
/// - a flash asked by an activation: `sysupgrade <image>`, which on a router reboots and does
///   not return; `Ok(true)` when it ran and succeeded. On failure the reason is recorded for
///   the next start's BootFailureLog and the host restarts as usual.
/// - a configuration restore (`Device.DeviceInfo.VendorConfigFile.`'s sysupgrade row):
///   `sysupgrade -r <backup>`; then `Ok(false)`: the host restarts (reboots) as usual.
///
/// `Ok(false)` too when nothing was asked.
pub fn flash_if_requested(state_dir: &Path) -> Result<bool, FirmwareError> {
    flash_with(state_dir, &mut ())
}

/// What the host does around a configuration restore's `sysupgrade -r`, which overwrites the
/// kept files (the agent's database among them) with the archive's.
pub trait RestoreHooks {
    /// Called just before `sysupgrade -r` runs.
    fn before(&mut self) {}
    /// Called once it ran: `ok` when it succeeded.
    fn after(&mut self, ok: bool) {
        let _ = ok;
    }
}

/// No hooks.
impl RestoreHooks for () {}

/// [`flash_if_requested`], calling `hooks` around a restore.
pub fn flash_with(state_dir: &Path, hooks: &mut dyn RestoreHooks) -> Result<bool, FirmwareError> {
    let dir = state_dir.join("firmware");
    if let Some(argv) = take_request(&dir.join("restore"))? {
        hooks.before();
        let result = run_request(&argv);
        if let Err(e) = &result {
            log::error!("the configuration restore failed: {e}");
        }
        hooks.after(result.is_ok());
    }
    let Some(argv) = take_request(&dir.join("flash"))? else { return Ok(false) };
    let failure = match run_request(&argv) {
        Ok(()) => return Ok(true),
        Err(failure) => failure,
    };
    log::error!("firmware: {failure}");
    let pending = dir.join("pending");
    if let Ok(mut text) = std::fs::read_to_string(&pending) {
        text.push_str(&format!("failed={failure}\n"));
        let _ = std::fs::write(&pending, text);
    }
    Err(FirmwareError::Invalid(failure))
}

/// Asks the host to run `sysupgrade -r <backup>` after its clean shutdown (see
/// [`flash_if_requested`]).
pub fn request_restore(
    state_dir: &Path,
    program: &Path,
    backup: &Path,
) -> Result<(), FirmwareError> {
    let dir = state_dir.join("firmware");
    std::fs::create_dir_all(&dir).map_err(|e| FirmwareError::io(&dir, e))?;
    let text = format!("{}\n-r\n{}\n", program.display(), backup.display());
    let tmp = dir.join("restore.tmp");
    std::fs::write(&tmp, text).map_err(|e| FirmwareError::io(&tmp, e))?;
    let path = dir.join("restore");
    std::fs::rename(&tmp, &path).map_err(|e| FirmwareError::io(&path, e))
}

/// The program and arguments of the request file `path` (one a line), removing the file.
fn take_request(path: &Path) -> Result<Option<Vec<String>>, FirmwareError> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    let _ = std::fs::remove_file(path);
    let argv: Vec<String> = text.lines().map(str::to_owned).collect();
    if argv.len() < 2 {
        return Err(FirmwareError::Invalid(format!("{} is malformed", path.display())));
    }
    Ok(Some(argv))
}

fn run_request(argv: &[String]) -> Result<(), String> {
    let (program, args) = argv.split_first().ok_or("an empty request")?;
    log::warn!("running {program} {}", args.join(" "));
    match Command::new(program).args(args).status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{program} failed ({s})")),
        Err(e) => Err(format!("cannot run {program}: {e}")),
    }
}
