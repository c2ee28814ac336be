//! The Linux/lab execution environment (`--platform linux` and `lab`): a DU is a tar archive
//! (optionally gzip-compressed, see [`super::tarball`]) holding a `manifest` of `key=value`
//! lines and the EU programs:
//!
//! ```text
//! name=hello            the DU's name (DUID), letters, digits, `-_.`
//! version=1.0
//! vendor=Example        description=...   arch=x86_64 (optional; `all` or this machine's)
//! eu.web=./web --port 8080     one line per EU: its name and the program it runs (with
//!                              arguments; `sh -c 'exec CMD'`, so a program, not a script)
//! autostart.web=false          (optional; default true) run.web=2  (optional RunLevel)
//! ```
//!
//! DUs live in `<state_dir>/software/du/<name>/` with the agent's record of each beside it
//! (`.du`: UUID, URL, install time; `.eu-<name>`: AutoStart, RunLevel), so they survive agent
//! restarts; at start the environment stops what a crashed predecessor left running and
//! starts the AutoStart EUs. Each EU is a child process (`supervise`).
//!
//! `AllocatedDiskSpace`: an optional quota on the bytes the DUs take (a full disk without
//! mounting one); an install past it fails with 7227 and leaves nothing behind.

use std::path::{Path, PathBuf};

use super::backend::{
    DuInfo, DuRequest, EnvInfo, EuFault, EuInfo, EuStatus, ExecEnv, Snapshot, SwError, find, put,
};
use super::supervise::{self, Supervisor};
use super::{sysinfo, tarball};

/// One EU of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EuSpec {
    name: String,
    command: String,
    auto_start: bool,
    run_level: u32,
}

/// A DU's manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Manifest {
    name: String,
    version: String,
    vendor: String,
    description: String,
    eus: Vec<EuSpec>,
}

/// The agent's record of a DU (`.du`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Record {
    uuid: String,
    url: String,
    installed: Option<i64>,
}

/// The Linux/lab execution environment.
#[derive(Debug)]
pub struct LabEnv {
    name: String,
    root: PathBuf,
    quota: Option<u64>,
    enabled: bool,
    run_level: i32,
    procs: Supervisor,
    /// Each DU's bytes on disk (measured once per install or update).
    sizes: Vec<(String, u64)>,
    free: sysinfo::DiskFree,
}

impl LabEnv {
    /// The environment named `name` (`lab`, `linux`) keeping its DUs under `state_dir`;
    /// `quota` limits the bytes the DUs may take. Stops what a previous agent left running and
    /// starts the AutoStart EUs.
    pub fn boot(name: &str, state_dir: &Path, quota: Option<u64>) -> Result<LabEnv, SwError> {
        let root = state_dir.join("software");
        for d in [root.join("du"), root.join("scratch")] {
            std::fs::create_dir_all(&d).map_err(|e| SwError::io(&d, e))?;
        }
        let settings = std::fs::read_to_string(root.join("env")).unwrap_or_default();
        let enabled = value(&settings, "enabled").is_none_or(|v| v != "false");
        let run_level = value(&settings, "runlevel").and_then(|v| v.parse().ok()).unwrap_or(-1);
        let mut env = LabEnv {
            name: name.to_owned(),
            free: sysinfo::DiskFree::new(&root),
            sizes: Vec::new(),
            root,
            quota,
            enabled,
            run_level,
            procs: Supervisor::default(),
        };
        for du in env.du_names() {
            let dir = env.du_dir(&du);
            for eu in env.manifest(&du).map(|m| m.eus).unwrap_or_default() {
                supervise::stop_leftover(&dir.join(format!(".pid-{}", eu.name)), &dir);
            }
        }
        env.autostart_all();
        Ok(env)
    }

    fn du_dir(&self, duid: &str) -> PathBuf {
        self.root.join("du").join(duid)
    }

    fn du_names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.join("du")) else { return Vec::new() };
        let mut names = Vec::new();
        let found = entries.flatten().filter(|e| e.path().join("manifest").is_file());
        for name in found.filter_map(|e| e.file_name().into_string().ok()) {
            if !name.starts_with('.') {
                sysinfo::insert_sorted(&mut names, &name);
            }
        }
        names
    }

    fn manifest(&self, duid: &str) -> Result<Manifest, SwError> {
        read_manifest(&self.du_dir(duid))
    }

    /// An EU's settings: the manifest's, overridden by the agent's record.
    fn eu_settings(&self, duid: &str, spec: &EuSpec) -> (bool, u32) {
        let text = std::fs::read_to_string(self.du_dir(duid).join(format!(".eu-{}", spec.name)))
            .unwrap_or_default();
        let auto = value(&text, "autostart").map_or(spec.auto_start, |v| v == "true");
        let level = value(&text, "runlevel").and_then(|v| v.parse().ok()).unwrap_or(spec.run_level);
        (auto, level)
    }

    fn wants_running(&self, level: u32) -> bool {
        self.enabled && (self.run_level < 0 || i64::from(level) <= i64::from(self.run_level))
    }

    fn autostart_all(&mut self) {
        for du in self.du_names() {
            self.autostart(&du);
        }
    }

    fn autostart(&mut self, duid: &str) {
        let Ok(m) = self.manifest(duid) else { return };
        for eu in &m.eus {
            let (auto, level) = self.eu_settings(duid, eu);
            if auto && self.wants_running(level) {
                if let Err(e) = self.start_eu(duid, eu, true) {
                    log::warn!("software: {e}");
                }
            }
        }
    }

    fn start_eu(&mut self, duid: &str, eu: &EuSpec, auto: bool) -> Result<(), SwError> {
        let dir = self.du_dir(duid);
        let pidfile = dir.join(format!(".pid-{}", eu.name));
        self.procs.start(&euid(duid, &eu.name), &dir, &eu.command, pidfile, auto)
    }

    fn stop_du(&mut self, duid: &str) {
        for eu in self.manifest(duid).map(|m| m.eus).unwrap_or_default() {
            let _ = self.procs.stop(&euid(duid, &eu.name));
        }
    }

    /// Finds the DU and EU of `euid`.
    fn find_eu(&self, id: &str) -> Result<(String, EuSpec), SwError> {
        let (duid, name) = id.split_once('/').ok_or_else(|| SwError::Unknown(id.to_owned()))?;
        let m = self.manifest(duid).map_err(|_| SwError::Unknown(id.to_owned()))?;
        let eu = m.eus.into_iter().find(|e| e.name == name);
        eu.map(|e| (duid.to_owned(), e)).ok_or_else(|| SwError::Unknown(id.to_owned()))
    }

    /// Unpacks `file` into a fresh staging directory and reads its manifest.
    fn stage(&self, file: &Path) -> Result<(PathBuf, Manifest), SwError> {
        let staging = self.root.join("du").join(format!(".staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| SwError::io(&staging, e))?;
        let used: u64 = sysinfo::dir_bytes(&self.root.join("du"));
        let limit = self.quota.map_or(u64::MAX, |q| q.saturating_sub(used));
        let staged = tarball::unpack(file, &staging, limit).and_then(|_| read_manifest(&staging));
        match staged {
            Ok(m) => Ok((staging, m)),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                Err(e)
            }
        }
    }

    fn write_record(&self, duid: &str, rec: &Record) -> Result<(), SwError> {
        let path = self.du_dir(duid).join(".du");
        let installed = rec.installed.map(|t| t.to_string()).unwrap_or_default();
        let text = format!("uuid={}\nurl={}\ninstalled={installed}\n", rec.uuid, rec.url);
        std::fs::write(&path, text).map_err(|e| SwError::io(&path, e))
    }

    fn record(&self, duid: &str) -> Record {
        let text = std::fs::read_to_string(self.du_dir(duid).join(".du")).unwrap_or_default();
        Record {
            uuid: value(&text, "uuid").unwrap_or_default().to_owned(),
            url: value(&text, "url").unwrap_or_default().to_owned(),
            installed: value(&text, "installed").and_then(|t| t.parse().ok()),
        }
    }

    fn save_settings(&self) -> Result<(), SwError> {
        let path = self.root.join("env");
        let text = format!("enabled={}\nrunlevel={}\n", self.enabled, self.run_level);
        std::fs::write(&path, text).map_err(|e| SwError::io(&path, e))
    }

    /// DU `duid`'s bytes on disk.
    fn du_bytes(&mut self, duid: &str) -> u64 {
        if let Some(n) = find(&self.sizes, duid) {
            return *n;
        }
        let n = sysinfo::dir_bytes(&self.du_dir(duid));
        put(&mut self.sizes, duid, n);
        n
    }

    /// Forgets what is known of DU `duid`'s files (installed, updated or removed).
    fn touched(&mut self, duid: &str) {
        self.sizes.retain(|s| s.0 != duid);
        self.free.stale();
    }

    fn du_info(&mut self, duid: &str) -> Option<DuInfo> {
        let m = self.manifest(duid).ok()?;
        let rec = self.record(duid);
        let disk = (self.du_bytes(duid) / 1024) as i64;
        let mut eus = Vec::new();
        for spec in &m.eus {
            let id = euid(duid, &spec.name);
            let (auto_start, run_level) = self.eu_settings(duid, spec);
            let p = self.procs.state(&id);
            let (fault, fault_message) = p.fault.unwrap_or((EuFault::NoFault, String::new()));
            eus.push(EuInfo {
                euid: id,
                name: spec.name.clone(),
                status: if p.pid.is_some() { EuStatus::Active } else { EuStatus::Idle },
                fault,
                fault_message,
                auto_start,
                run_level,
                memory_kib: p.memory_kib.unwrap_or(if p.pid.is_some() { -1 } else { 0 }),
                cpu_percent: p.cpu_percent.unwrap_or(if p.pid.is_some() { -1 } else { 0 }),
                disk_kib: disk,
                pid: p.pid,
            });
        }
        let uuid = if rec.uuid.is_empty() { sysinfo::uuid_v5(&m.name) } else { rec.uuid };
        Some(DuInfo {
            duid: duid.to_owned(),
            uuid,
            name: m.name,
            version: m.version,
            vendor: m.vendor,
            description: m.description,
            url: rec.url,
            resolved: true,
            installed: rec.installed,
            eus,
        })
    }
}

/// The EUID of EU `name` of DU `duid`.
fn euid(duid: &str, name: &str) -> String {
    format!("{duid}/{name}")
}

fn now_unix() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The value of `key=value` line `key` in `text`.
fn value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix('=')).map(str::trim)
}

fn read_manifest(dir: &Path) -> Result<Manifest, SwError> {
    let path = dir.join("manifest");
    let text = std::fs::read_to_string(&path)
        .map_err(|_| SwError::Corrupt("the archive has no manifest".into()))?;
    parse_manifest(&text)
}

fn parse_manifest(text: &str) -> Result<Manifest, SwError> {
    let name = value(text, "name").unwrap_or_default().to_owned();
    let good = |c: char| c.is_ascii_alphanumeric() || "-_.".contains(c);
    if name.is_empty() || name.starts_with('.') || name.len() > 64 || !name.chars().all(good) {
        return Err(SwError::Corrupt(format!("bad or missing DU name {name:?}")));
    }
    let version = value(text, "version").unwrap_or_default().to_owned();
    if version.is_empty() || version.len() > 32 {
        return Err(SwError::Corrupt("bad or missing version".into()));
    }
    if let Some(arch) = value(text, "arch").filter(|a| *a != "all" && *a != std::env::consts::ARCH)
    {
        return Err(SwError::Mismatch(format!(
            "built for {arch}, this is {}",
            std::env::consts::ARCH
        )));
    }
    let mut eus = Vec::new();
    for line in text.lines() {
        let Some((eu, command)) = line.strip_prefix("eu.").and_then(|l| l.split_once('=')) else {
            continue;
        };
        if eu.is_empty() || !eu.chars().all(good) || command.trim().is_empty() {
            return Err(SwError::Corrupt(format!("bad EU line {line:?}")));
        }
        eus.push(EuSpec {
            name: eu.to_owned(),
            command: command.trim().to_owned(),
            auto_start: value(text, &format!("autostart.{eu}")).is_none_or(|v| v != "false"),
            run_level: value(text, &format!("run.{eu}")).and_then(|v| v.parse().ok()).unwrap_or(0),
        });
    }
    Ok(Manifest {
        name,
        version,
        vendor: value(text, "vendor").unwrap_or_default().to_owned(),
        description: value(text, "description").unwrap_or_default().to_owned(),
        eus,
    })
}

impl ExecEnv for LabEnv {
    fn scratch_dir(&self) -> PathBuf {
        self.root.join("scratch")
    }

    fn snapshot(&mut self) -> Result<Snapshot, SwError> {
        self.procs.reap();
        let dus: Vec<DuInfo> = self.du_names().iter().filter_map(|d| self.du_info(d)).collect();
        let used: u64 = dus.iter().map(|d| find(&self.sizes, &d.duid).copied().unwrap_or(0)).sum();
        let available = match self.quota {
            Some(q) => Some((q.saturating_sub(used) / 1024) as i64),
            None => self.free.get(),
        };
        let env = EnvInfo {
            name: self.name.clone(),
            kind: "Linux processes".into(),
            vendor: "uspagent".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            enabled: self.enabled,
            run_level: self.run_level,
            run_levels: true,
            allocated_disk_kib: self.quota.map_or(-1, |q| (q / 1024) as i64),
            available_disk_kib: available.unwrap_or(-1),
            available_memory_kib: sysinfo::mem_available_kib().unwrap_or(-1),
        };
        Ok(Snapshot { env, dus })
    }

    fn install(&mut self, file: &Path, req: &DuRequest) -> Result<String, SwError> {
        if !self.enabled {
            return Err(SwError::Disabled);
        }
        let (staging, m) = self.stage(file)?;
        let dest = self.du_dir(&m.name);
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&staging);
            let old = self.manifest(&m.name).map(|o| o.version).unwrap_or_default();
            return Err(SwError::Duplicate(format!("{} {old} is installed", m.name)));
        }
        std::fs::rename(&staging, &dest).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staging);
            SwError::io(&dest, e)
        })?;
        let uuid = req.uuid.clone().unwrap_or_else(|| sysinfo::uuid_v5(&m.name));
        let rec = Record { uuid, url: req.url.clone(), installed: Some(now_unix()) };
        if let Err(e) = self.write_record(&m.name, &rec) {
            let _ = std::fs::remove_dir_all(&dest);
            return Err(e);
        }
        self.touched(&m.name);
        self.autostart(&m.name);
        Ok(m.name)
    }

    fn update(&mut self, duid: &str, file: &Path, req: &DuRequest) -> Result<(), SwError> {
        let old = self.manifest(duid).map_err(|_| SwError::Unknown(duid.to_owned()))?;
        let (staging, m) = self.stage(file)?;
        let refuse = |e: SwError| {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        };
        if m.name != duid {
            return refuse(SwError::Mismatch(format!("the file holds {}, not {duid}", m.name)));
        }
        if m.version == old.version {
            return refuse(SwError::Duplicate(format!("{duid} {} is installed", m.version)));
        }
        let was: Vec<EuSpec> =
            old.eus.into_iter().filter(|e| self.procs.is_running(&euid(duid, &e.name))).collect();
        self.stop_du(duid);
        let dir = self.du_dir(duid);
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".du" || name.starts_with(".eu-") {
                let _ = std::fs::rename(entry.path(), staging.join(&name));
            }
        }
        let aside = self.root.join("du").join(format!(".old-{duid}"));
        let _ = std::fs::remove_dir_all(&aside);
        std::fs::rename(&dir, &aside).map_err(|e| SwError::io(&dir, e))?;
        if let Err(e) = std::fs::rename(&staging, &dir) {
            let _ = std::fs::rename(&aside, &dir);
            return Err(SwError::io(&dir, e));
        }
        let _ = std::fs::remove_dir_all(&aside);
        self.touched(duid);
        let mut rec = self.record(duid);
        if !req.url.is_empty() {
            rec.url = req.url.clone();
        }
        self.write_record(duid, &rec)?;
        for eu in m.eus.iter().filter(|e| was.iter().any(|w| w.name == e.name)) {
            self.start_eu(duid, eu, false)?;
        }
        Ok(())
    }

    fn uninstall(&mut self, duid: &str) -> Result<(), SwError> {
        let dir = self.du_dir(duid);
        if !dir.join("manifest").is_file() {
            return Err(SwError::Unknown(duid.to_owned()));
        }
        self.stop_du(duid);
        self.touched(duid);
        std::fs::remove_dir_all(&dir).map_err(|e| SwError::io(&dir, e))
    }

    fn set_active(&mut self, id: &str, active: bool) -> Result<(), SwError> {
        let (duid, eu) = self.find_eu(id)?;
        if !active {
            return self.procs.stop(id);
        }
        if !self.enabled {
            return Err(SwError::Disabled);
        }
        self.procs.clear_fault(id);
        self.start_eu(&duid, &eu, false)
    }

    fn restart(&mut self, id: &str) -> Result<(), SwError> {
        let (duid, eu) = self.find_eu(id)?;
        self.procs.stop(id)?;
        self.procs.clear_fault(id);
        self.start_eu(&duid, &eu, false)
    }

    fn configure(
        &mut self,
        id: &str,
        auto_start: Option<bool>,
        run_level: Option<u32>,
    ) -> Result<(), SwError> {
        let (duid, eu) = self.find_eu(id)?;
        let (auto, level) = self.eu_settings(&duid, &eu);
        let path = self.du_dir(&duid).join(format!(".eu-{}", eu.name));
        let text = format!(
            "autostart={}\nrunlevel={}\n",
            auto_start.unwrap_or(auto),
            run_level.unwrap_or(level)
        );
        std::fs::write(&path, text).map_err(|e| SwError::io(&path, e))
    }

    fn set_enabled(&mut self, enabled: bool) -> Result<(), SwError> {
        self.enabled = enabled;
        self.save_settings()?;
        if enabled {
            self.autostart_all();
        } else {
            self.procs.stop_all();
        }
        Ok(())
    }

    fn set_run_level(&mut self, level: i32) -> Result<(), SwError> {
        self.run_level = level;
        self.save_settings()?;
        for du in self.du_names() {
            for eu in self.manifest(&du).map(|m| m.eus).unwrap_or_default() {
                let (auto, eu_level) = self.eu_settings(&du, &eu);
                if !self.wants_running(eu_level) {
                    let _ = self.procs.stop(&euid(&du, &eu.name));
                } else if auto {
                    let _ = self.start_eu(&du, &eu, true);
                }
            }
        }
        Ok(())
    }

    fn resettable(&mut self) -> Vec<String> {
        self.du_names()
    }
}
