//! What the FirmwareImage area needs from the platform ([`FirmwareBackend`]), the status
//! values it reports, and the jobs its worker runs: a Download is two jobs (fetch, then
//! validate and install), so that the plugin can show `Downloading` then `Validating`.
//!
//! Everything here runs on the area's worker thread, never on the data-model thread.

use std::fmt;
use std::path::{Path, PathBuf};

use usp_datamodel::plugin::OpHandle;

use crate::transfer::sum::Algorithm;
use crate::transfer::{self, Fetch, TransferError};

/// `FirmwareImage.{i}.Status` (TR-181 2.19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageStatus {
    /// The bank holds no image.
    NoImage,
    /// A Download is fetching an image into it.
    Downloading,
    /// The fetched image is being checked.
    Validating,
    /// It holds a valid image that can be activated.
    Available,
    /// The last Download failed to fetch the file.
    DownloadFailed,
    /// The last Download fetched a file that is not a valid image (or whose checksum is wrong).
    ValidationFailed,
    /// The image could not be written to the bank.
    InstallationFailed,
    /// The image could not be activated.
    ActivationFailed,
}

impl ImageStatus {
    /// Every value, in TR-181's order (the enumeration of `Status`).
    pub const NAMES: &'static [&'static str] = &[
        "NoImage",
        "Downloading",
        "Validating",
        "Available",
        "DownloadFailed",
        "ValidationFailed",
        "InstallationFailed",
        "ActivationFailed",
    ];

    /// The value as TR-181 spells it.
    pub fn name(self) -> &'static str {
        match self {
            ImageStatus::NoImage => "NoImage",
            ImageStatus::Downloading => "Downloading",
            ImageStatus::Validating => "Validating",
            ImageStatus::Available => "Available",
            ImageStatus::DownloadFailed => "DownloadFailed",
            ImageStatus::ValidationFailed => "ValidationFailed",
            ImageStatus::InstallationFailed => "InstallationFailed",
            ImageStatus::ActivationFailed => "ActivationFailed",
        }
    }
}

/// What one bank holds, as found at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Its `Name` (`bank 1`, `running`).
    pub name: String,
    /// The image's version (empty when there is none).
    pub version: String,
    /// Whether the bank holds a valid image.
    pub present: bool,
    /// `Available`: whether the image may be activated.
    pub available: bool,
}

/// The banks as the platform booted them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banks {
    /// Every bank, in `FirmwareImage.{i}` order.
    pub slots: Vec<SlotInfo>,
    /// The bank running now.
    pub active: usize,
    /// The bank selected for the next boot (`BootFirmwareImage`): not rewritten when a boot
    /// fell back.
    pub boot: usize,
    /// A bank that failed to boot at this start, and why (its `BootFailureLog`).
    pub boot_failure: Option<(usize, String)>,
}

/// Why a firmware operation of the backend failed.
#[derive(Debug)]
pub enum FirmwareError {
    /// A file of the backend could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid image for this device.
    Invalid(String),
    /// The bank number does not exist or holds no image.
    NoSuchImage(usize),
}

impl FirmwareError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> FirmwareError {
        FirmwareError::Io { path: path.to_owned(), source }
    }
}

impl fmt::Display for FirmwareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FirmwareError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            FirmwareError::Invalid(why) => write!(f, "invalid image: {why}"),
            FirmwareError::NoSuchImage(slot) => write!(f, "image {} holds nothing", slot + 1),
        }
    }
}

impl std::error::Error for FirmwareError {}

/// The platform's image banks. Every method is slow (files, flash) and runs on the worker.
pub trait FirmwareBackend: Send + 'static {
    /// Where a Download writes the file it fetches, before validation.
    fn scratch(&self) -> PathBuf;
    /// Checks that `file` is a valid image for this device; returns its version.
    fn validate(&mut self, file: &Path) -> Result<String, FirmwareError>;
    /// Writes the validated `file` into bank `slot` (consuming the file).
    fn install(&mut self, slot: usize, file: &Path) -> Result<(), FirmwareError>;
    /// Selects bank `slot` for the next boot.
    fn set_boot(&mut self, slot: usize) -> Result<(), FirmwareError>;
    /// Marks bank `slot`'s image as (not) available for activation.
    fn set_available(&mut self, slot: usize, available: bool) -> Result<(), FirmwareError>;
}

/// A checksum a Download must match (`CheckSumAlgorithm`, `CheckSum`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The expected digest, lowercase hex.
    pub hex: String,
}

/// Why a Download failed, with the status its image gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadFault {
    /// The image's new status.
    pub status: ImageStatus,
    /// What went wrong, for the OperationComplete and TransferComplete!.
    pub message: String,
    /// Whether it was canceled (`Request.{i}.Cancel()`): 7023, the bank untouched.
    pub canceled: bool,
}

/// Work for the area's worker.
#[derive(Debug)]
pub(crate) enum Job {
    /// Fetch a file into the backend's scratch file and check its checksum.
    Fetch { slot: usize, fetch: Box<Fetch>, checksum: Option<Checksum> },
    /// Validate the scratch file and install it into `slot`.
    Install { slot: usize },
    /// Select `slot` for the next boot, then do `after`.
    SetBoot { slot: usize, after: After },
    /// Mark `slot` (un)available.
    SetAvailable { slot: usize, available: bool },
}

/// What follows a new boot selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Nothing: `BootFirmwareImage` was written; the selection counts at the next reboot.
    Stay,
    /// Reboot into it (Activate, or a Download with AutoActivate), completing this command
    /// first.
    Reboot(Option<OpHandle>),
}

/// What the worker did.
#[derive(Debug)]
pub(crate) enum Done {
    /// A [`Job::Fetch`] ended: the size received, or why it failed.
    Fetched { slot: usize, result: Result<u64, DownloadFault> },
    /// A [`Job::Install`] ended: the new image's version, or why it failed.
    Installed { slot: usize, result: Result<String, DownloadFault> },
    /// A [`Job::SetBoot`] ended.
    BootSet { slot: usize, after: After, result: Result<(), String> },
    /// A [`Job::SetAvailable`] ended.
    AvailableSet { slot: usize, result: Result<(), String> },
}

/// Runs one job on the worker thread.
pub(crate) fn run<B: FirmwareBackend>(backend: &mut B, job: Job) -> Done {
    match job {
        Job::Fetch { slot, fetch, checksum } => {
            Done::Fetched { slot, result: fetch_file(backend, &fetch, checksum.as_ref()) }
        }
        Job::Install { slot } => {
            let scratch = backend.scratch();
            let result = install(backend, slot, &scratch);
            let _ = std::fs::remove_file(&scratch);
            Done::Installed { slot, result }
        }
        Job::SetBoot { slot, after } => {
            let result = backend.set_boot(slot).map_err(|e| e.to_string());
            Done::BootSet { slot, after, result }
        }
        Job::SetAvailable { slot, available } => {
            let result = backend.set_available(slot, available).map_err(|e| e.to_string());
            Done::AvailableSet { slot, result }
        }
    }
}

fn fetch_file<B: FirmwareBackend>(
    backend: &mut B,
    fetch: &Fetch,
    checksum: Option<&Checksum>,
) -> Result<u64, DownloadFault> {
    let scratch = backend.scratch();
    let mut digest = checksum.map(|c| c.algorithm.hasher());
    let result = transfer::download(fetch, &scratch, &mut |chunk, _| {
        if let Some(d) = digest.as_mut() {
            d.update(chunk);
        }
    });
    let failed = |status, message: String| {
        let _ = std::fs::remove_file(&scratch);
        Err(DownloadFault { status, message, canceled: false })
    };
    let size = match result {
        Ok(size) => size,
        Err(TransferError::Canceled) => {
            let _ = std::fs::remove_file(&scratch);
            let message = TransferError::Canceled.to_string();
            return Err(DownloadFault {
                status: ImageStatus::DownloadFailed,
                message,
                canceled: true,
            });
        }
        Err(e @ TransferError::Write(_)) => {
            return failed(ImageStatus::InstallationFailed, e.to_string());
        }
        Err(e) => return failed(ImageStatus::DownloadFailed, e.to_string()),
    };
    if let (Some(want), Some(d)) = (checksum, digest) {
        let got = d.finish_hex();
        if got != want.hex {
            return failed(
                ImageStatus::ValidationFailed,
                format!("checksum mismatch: {got}, {} expected", want.hex),
            );
        }
    }
    Ok(size)
}

fn install<B: FirmwareBackend>(
    backend: &mut B,
    slot: usize,
    file: &Path,
) -> Result<String, DownloadFault> {
    let version = backend.validate(file).map_err(|e| DownloadFault {
        status: ImageStatus::ValidationFailed,
        message: e.to_string(),
        canceled: false,
    })?;
    backend.install(slot, file).map_err(|e| DownloadFault {
        status: ImageStatus::InstallationFailed,
        message: e.to_string(),
        canceled: false,
    })?;
    Ok(version)
}
