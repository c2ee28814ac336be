//! The A/B root slots of a Linux device booted by a `fwslot` boot selector (the lab firmware
//! image: image/files/fwslot, layout in image/build.sh): bank 1 is slot `a`, bank 2 slot `b`.
//! This backend owns the talk to the `fwslot` program (`status`, `version`, `check`, `write`,
//! `try`, `activate`, `confirm`) and the file of banks marked unavailable in the agent's state
//! directory. It never writes a block device or the selector itself: `fwslot` does, so the
//! shell (by hand) and the agent change the slots the same way.
//!
//! A new image is booted on trial (`fwslot try`): the boot stage clears the trial before it
//! boots it, so a boot that never comes up healthy falls back to the old slot at the next
//! reset (the image's init resets a trial boot that is not confirmed in time). The agent
//! coming up on a trial boot is the health check: [`FwslotFirmware::boot`] confirms the slot
//! (`fwslot confirm`). A trial that fell back is reported by `fwslot status` (`failed=`) and
//! shown in that bank's `BootFailureLog`.
//!
//! Chosen on the `linux` platform when the `fwslot` program (`USP_FWSLOT`, else `fwslot` from
//! `PATH`) answers `status`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::backend::{Banks, FirmwareBackend, FirmwareError, SlotInfo};

/// The slots, in bank order.
const SLOTS: [&str; 2] = ["a", "b"];

/// What `fwslot status` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// The slot running now (bank index).
    pub booted: usize,
    /// The slot selected for every boot.
    pub active: usize,
    /// The slot to boot once at the next boot, if any.
    pub trial: Option<usize>,
    /// Whether this boot is a trial boot (not yet confirmed).
    pub tried: bool,
    /// A slot whose trial boot did not come up healthy (and fell back).
    pub failed: Option<usize>,
}

/// The bank index of slot name `name`.
fn bank(name: &str) -> Option<usize> {
    SLOTS.iter().position(|s| *s == name.trim())
}

impl Status {
    /// Parses `fwslot status` (lines KEY=VALUE; unknown keys ignored).
    pub fn parse(text: &str) -> Status {
        let mut s = Status::default();
        for (k, v) in text.lines().filter_map(|l| l.split_once('=')) {
            let first = v.split_whitespace().next().unwrap_or_default();
            match k {
                "booted" => s.booted = bank(first).unwrap_or(0),
                "active" => s.active = bank(first).unwrap_or(0),
                "try" => s.trial = bank(first),
                "tried" => s.tried = first == "1",
                "failed" => s.failed = bank(first),
                _ => {}
            }
        }
        s
    }
}

/// The banks behind `fwslot`.
#[derive(Debug)]
pub struct FwslotFirmware {
    program: PathBuf,
    dir: PathBuf,
    booted: usize,
    unavailable: Vec<usize>,
}

/// The `fwslot` program to use, when one answers `status`.
pub fn detect() -> Option<PathBuf> {
    let program = std::env::var_os("USP_FWSLOT")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("fwslot"), PathBuf::from);
    let ok = Command::new(&program).arg("status").output().is_ok_and(|o| o.status.success());
    ok.then_some(program)
}

impl FwslotFirmware {
    /// Reads the slots through `program`, confirms a trial boot (the agent is up) and keeps
    /// its own state (the banks marked unavailable, Downloads in progress) in `dir`.
    pub fn boot(program: &Path, dir: &Path) -> Result<(FwslotFirmware, Banks), FirmwareError> {
        std::fs::create_dir_all(dir).map_err(|e| FirmwareError::io(dir, e))?;
        let mut fw = FwslotFirmware {
            program: program.to_owned(),
            dir: dir.to_owned(),
            booted: 0,
            unavailable: Vec::new(),
        };
        let _ = std::fs::remove_file(fw.scratch());
        if let Ok(text) = std::fs::read_to_string(fw.unavailable_file()) {
            fw.unavailable = text.split_whitespace().filter_map(bank).collect();
        }
        let mut status = Status::parse(&fw.run(&["status"])?);
        fw.booted = status.booted;
        if status.tried || status.active != status.booted {
            log::info!("firmware: confirming slot {} (trial boot came up)", SLOTS[status.booted]);
            fw.run(&["confirm"])?;
            status.active = status.booted;
            status.trial = None;
        }
        let slots = (0..SLOTS.len())
            .map(|i| {
                let version = fw.run(&["version", SLOTS[i]]).unwrap_or_default();
                let version = version.trim().to_owned();
                let present = !version.is_empty();
                let available = present && !fw.unavailable.contains(&i);
                SlotInfo { name: format!("slot {}", SLOTS[i]), version, present, available }
            })
            .collect();
        let boot_failure = status.failed.map(|f| {
            let log = format!(
                "trial boot of image {} did not come up healthy; image {} runs",
                f + 1,
                status.booted + 1
            );
            log::error!("firmware: {log}");
            (f, log)
        });
        let boot = status.trial.unwrap_or(status.active);
        Ok((fw, Banks { slots, active: status.booted, boot, boot_failure }))
    }

    /// Runs `fwslot ARGS`; its standard output, or its standard error as the error.
    fn run(&self, args: &[&str]) -> Result<String, FirmwareError> {
        let out = Command::new(&self.program)
            .args(args)
            .output()
            .map_err(|e| FirmwareError::io(&self.program, e))?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        let why = if why.is_empty() { format!("{}", out.status) } else { why };
        Err(FirmwareError::Invalid(format!("fwslot {}: {why}", args.join(" "))))
    }

    fn unavailable_file(&self) -> PathBuf {
        self.dir.join("unavailable")
    }

    fn slot_name(slot: usize) -> Result<&'static str, FirmwareError> {
        SLOTS.get(slot).copied().ok_or(FirmwareError::NoSuchImage(slot))
    }
}

impl FirmwareBackend for FwslotFirmware {
    fn scratch(&self) -> PathBuf {
        self.dir.join("download.part")
    }

    fn validate(&mut self, file: &Path) -> Result<String, FirmwareError> {
        let file = file.to_str().ok_or_else(|| FirmwareError::Invalid("path".into()))?;
        let version = self.run(&["check", file])?.trim().to_owned();
        if version.is_empty() {
            return Err(FirmwareError::Invalid("the image names no version".into()));
        }
        Ok(version)
    }

    fn install(&mut self, slot: usize, file: &Path) -> Result<(), FirmwareError> {
        Self::slot_name(slot)?;
        if slot == self.booted {
            return Err(FirmwareError::Invalid("the running slot is never written".into()));
        }
        let name = file.to_str().ok_or_else(|| FirmwareError::Invalid("path".into()))?;
        let result = self.run(&["write", name]);
        let _ = std::fs::remove_file(file);
        result?;
        self.set_available(slot, true)
    }

    fn set_boot(&mut self, slot: usize) -> Result<(), FirmwareError> {
        let name = Self::slot_name(slot)?;
        // A new slot boots on trial; the running one becomes the selection again.
        let verb = if slot == self.booted { "activate" } else { "try" };
        self.run(&[verb, name]).map(drop)
    }

    fn set_available(&mut self, slot: usize, available: bool) -> Result<(), FirmwareError> {
        Self::slot_name(slot)?;
        self.unavailable.retain(|s| *s != slot);
        if !available {
            self.unavailable.push(slot);
        }
        let text: Vec<&str> =
            self.unavailable.iter().filter_map(|s| SLOTS.get(*s)).copied().collect();
        let path = self.unavailable_file();
        std::fs::write(&path, text.join(" ")).map_err(|e| FirmwareError::io(&path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_are_parsed() {
        let s = Status::parse(
            "booted=b\nactive=a\ntry=\ntried=1\ninactive=a /dev/vda1\nfailed=\nversion=2\n",
        );
        assert_eq!(s, Status { booted: 1, active: 0, trial: None, tried: true, failed: None });
        let s = Status::parse("booted=a\nactive=a\ntry=b\nfailed=b\nnoise\n");
        assert_eq!(s.trial, Some(1));
        assert_eq!(s.failed, Some(1));
    }

    #[test]
    fn a_missing_program_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("fwslot-missing-{}", std::process::id()));
        let Err(err) = FwslotFirmware::boot(Path::new("/nonexistent/fwslot"), &dir) else {
            panic!("a missing fwslot booted");
        };
        assert!(err.to_string().contains("/nonexistent/fwslot"), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
