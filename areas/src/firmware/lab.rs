//! The lab's A/B firmware banks, as files under `<state_dir>/firmware/`:
//! `slot1.img`, `slot2.img` (lab images), `state` (the boot selector and the last bank that
//! booted, plus the banks marked unavailable) and `download.part` (a Download in progress).
//!
//! A lab image ([`make_image`]) is a header — magic `USPLABFW`, format 1, a flags byte (bit 0:
//! the image "does not boot"), the version (length byte + UTF-8) and the SHA-256 of the
//! payload — followed by the payload. A `download.part` left by a restart during a Download
//! is removed at start. [`LabFirmware::boot`] plays the bootloader at start-up:
//! it runs the selected bank, or, when that bank's image is missing, corrupt or marked bad,
//! falls back to the last bank that booted and says why in that bank's `BootFailureLog`,
//! leaving the selection (`BootFirmwareImage`) as it was. The first start creates bank 1 with
//! the identity's software version (the factory image) and an empty bank 2.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use super::backend::{Banks, FirmwareBackend, FirmwareError, SlotInfo};

/// The first bytes of a lab image.
pub const MAGIC: &[u8; 8] = b"USPLABFW";
/// The header's format number.
const FORMAT: u8 = 1;
/// Flag: the image validates but does not boot (to test the fall-back).
pub const FLAG_NO_BOOT: u8 = 1;
/// Banks of the lab.
pub const SLOTS: usize = 2;

/// A lab image of `version` with `payload`; `no_boot` marks it as one that fails to boot.
pub fn make_image(version: &str, payload: &[u8], no_boot: bool) -> Vec<u8> {
    let v = version.as_bytes();
    let len = u8::try_from(v.len()).unwrap_or(u8::MAX);
    let mut out = MAGIC.to_vec();
    out.push(FORMAT);
    out.push(if no_boot { FLAG_NO_BOOT } else { 0 });
    out.push(len);
    out.extend_from_slice(v.get(..usize::from(len)).unwrap_or(v));
    out.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, payload).as_ref());
    out.extend_from_slice(payload);
    out
}

/// What a valid lab image says of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabImage {
    /// Its version.
    pub version: String,
    /// Whether it is marked as failing to boot.
    pub no_boot: bool,
}

/// Checks the lab image in `path` (streaming: the payload is hashed in chunks).
pub fn inspect(path: &Path) -> Result<LabImage, FirmwareError> {
    let io = |e| FirmwareError::io(path, e);
    let mut r = BufReader::new(File::open(path).map_err(io)?);
    let bad = |why: &str| FirmwareError::Invalid(why.to_owned());
    let mut head = [0u8; 11];
    r.read_exact(&mut head).map_err(|_| bad("shorter than a header"))?;
    let [m0, m1, m2, m3, m4, m5, m6, m7, format, flags, len] = head;
    if [m0, m1, m2, m3, m4, m5, m6, m7] != *MAGIC {
        return Err(bad("not a lab image (wrong magic)"));
    }
    if format != FORMAT {
        return Err(FirmwareError::Invalid(format!("unknown image format {format}")));
    }
    let mut version = vec![0u8; usize::from(len)];
    r.read_exact(&mut version).map_err(|_| bad("truncated header"))?;
    let version = String::from_utf8(version).map_err(|_| bad("the version is not UTF-8"))?;
    if version.is_empty() {
        return Err(bad("no version"));
    }
    let mut want = [0u8; 32];
    r.read_exact(&mut want).map_err(|_| bad("truncated header"))?;
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        digest.update(buf.get(..n).unwrap_or_default());
    }
    if digest.finish().as_ref() != want {
        return Err(bad("the payload does not match its checksum"));
    }
    Ok(LabImage { version, no_boot: flags & FLAG_NO_BOOT != 0 })
}

/// The lab's banks.
#[derive(Debug)]
pub struct LabFirmware {
    dir: PathBuf,
    state: State,
}

/// The `state` file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    /// The bank selected for the next boot.
    boot: usize,
    /// The last bank that booted.
    good: usize,
    /// The banks marked unavailable.
    unavailable: Vec<usize>,
}

impl State {
    fn parse(text: &str) -> State {
        let mut s = State { boot: 0, good: 0, unavailable: Vec::new() };
        let slot = |v: &str| v.trim().parse::<usize>().ok().filter(|n| (1..=SLOTS).contains(n));
        for line in text.lines() {
            match line.split_once('=') {
                Some(("boot", v)) => s.boot = slot(v).map_or(0, |n| n - 1),
                Some(("good", v)) => s.good = slot(v).map_or(0, |n| n - 1),
                Some(("unavailable", v)) => {
                    s.unavailable = v.split(',').filter_map(slot).map(|n| n - 1).collect();
                }
                _ => {}
            }
        }
        s
    }

    fn text(&self) -> String {
        let un: Vec<String> = self.unavailable.iter().map(|n| (n + 1).to_string()).collect();
        format!("boot={}\ngood={}\nunavailable={}\n", self.boot + 1, self.good + 1, un.join(","))
    }
}

impl LabFirmware {
    /// Boots the banks in `dir` (created with the factory image of `factory_version` on the
    /// first start): selects the image to run, falling back as the module doc says.
    pub fn boot(dir: &Path, factory_version: &str) -> Result<(LabFirmware, Banks), FirmwareError> {
        std::fs::create_dir_all(dir).map_err(|e| FirmwareError::io(dir, e))?;
        let mut fw = LabFirmware {
            dir: dir.to_owned(),
            state: State { boot: 0, good: 0, unavailable: Vec::new() },
        };
        let state_file = fw.dir.join("state");
        match std::fs::read_to_string(&state_file) {
            Ok(text) => fw.state = State::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let image = make_image(factory_version, b"factory image", false);
                let slot1 = fw.slot_file(0);
                std::fs::write(&slot1, image).map_err(|e| FirmwareError::io(&slot1, e))?;
                fw.save()?;
            }
            Err(e) => return Err(FirmwareError::io(&state_file, e)),
        }
        // A Download cut by a restart leaves its partial file: never an image, dropped.
        let _ = std::fs::remove_file(fw.scratch());
        let images: Vec<Result<LabImage, FirmwareError>> =
            (0..SLOTS).map(|s| inspect(&fw.slot_file(s))).collect();
        let boot = fw.state.boot;
        let mut boot_failure = None;
        let active = match images.get(boot) {
            Some(Ok(image)) if !image.no_boot => boot,
            other => {
                let why = match other {
                    Some(Ok(_)) => "the image did not come up".to_owned(),
                    Some(Err(e)) => e.to_string(),
                    None => "no such bank".to_owned(),
                };
                let good = fw.state.good;
                let log =
                    format!("boot of image {} failed ({why}); image {} runs", boot + 1, good + 1);
                log::error!("firmware: {log}");
                boot_failure = Some((boot, log));
                good
            }
        };
        if fw.state.good != active {
            fw.state.good = active;
            fw.save()?;
        }
        let slots = images
            .iter()
            .enumerate()
            .map(|(i, image)| SlotInfo {
                name: format!("bank {}", i + 1),
                version: image.as_ref().map(|m| m.version.clone()).unwrap_or_default(),
                present: image.is_ok(),
                available: image.is_ok() && !fw.state.unavailable.contains(&i),
            })
            .collect();
        Ok((fw, Banks { slots, active, boot, boot_failure }))
    }

    fn slot_file(&self, slot: usize) -> PathBuf {
        self.dir.join(format!("slot{}.img", slot + 1))
    }

    /// Writes the state file (through a temporary file and a rename: never half-written).
    fn save(&self) -> Result<(), FirmwareError> {
        let path = self.dir.join("state");
        let tmp = self.dir.join("state.tmp");
        std::fs::write(&tmp, self.state.text()).map_err(|e| FirmwareError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| FirmwareError::io(&path, e))
    }

    fn check_slot(&self, slot: usize) -> Result<(), FirmwareError> {
        if slot < SLOTS { Ok(()) } else { Err(FirmwareError::NoSuchImage(slot)) }
    }
}

impl FirmwareBackend for LabFirmware {
    fn scratch(&self) -> PathBuf {
        self.dir.join("download.part")
    }

    fn validate(&mut self, file: &Path) -> Result<String, FirmwareError> {
        inspect(file).map(|image| image.version)
    }

    fn install(&mut self, slot: usize, file: &Path) -> Result<(), FirmwareError> {
        self.check_slot(slot)?;
        let dest = self.slot_file(slot);
        std::fs::rename(file, &dest).map_err(|e| FirmwareError::io(&dest, e))?;
        self.state.unavailable.retain(|s| *s != slot);
        self.save()
    }

    fn set_boot(&mut self, slot: usize) -> Result<(), FirmwareError> {
        self.check_slot(slot)?;
        inspect(&self.slot_file(slot))?;
        self.state.boot = slot;
        self.save()
    }

    fn set_available(&mut self, slot: usize, available: bool) -> Result<(), FirmwareError> {
        self.check_slot(slot)?;
        self.state.unavailable.retain(|s| *s != slot);
        if !available {
            self.state.unavailable.push(slot);
        }
        self.save()
    }
}
