//! The opkg execution environment (`--platform openwrt`): a DU is an `.ipk` package installed,
//! upgraded and removed with the device's real `opkg` (`--opkg-program`, optionally an
//! offline root `-o` and a configuration file `-f` of its own). The opkg status database
//! (`usr/lib/opkg/status` under the root) is the source of truth: every installed package is a
//! DU (one removed by hand disappears), its EUs are the services it installs under
//! `/etc/init.d/`, started, stopped, enabled and disabled through those scripts (procd's on
//! OpenWrt). The agent keeps only what opkg does not: the UUID and URL of the packages it
//! installed (`<state_dir>/software/opkg-dus`).
//!
//! Cost: a snapshot reads the status database (one file) every refresh; the services' states
//! (`running`, `enabled`: two script runs per service) are probed again only after an
//! operation of the agent, for services not seen before, or every [`PROBE_EVERY`].
//!
//! An EU's MemoryInUse and CPUPercentInUse come from `/proc/<pid>` of its running instances,
//! whose pids procd gives: one `ubus call service list {}` per snapshot (procd's reply:
//! `{"<svc>": {"instances": {"<inst>": {"running": true, "pid": N, ...}}}}`). Without ubus
//! (the call fails) they are -1, with a debug log line.
//!
//! Not served on opkg: run levels (procd orders services by their START number).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::backend::{
    DuInfo, DuRequest, EnvInfo, EuFault, EuInfo, EuStatus, ExecEnv, Snapshot, SwError, find, put,
};
use super::{sysinfo, tarball};
use crate::PlatformPaths;
use crate::openwrt::ubus::Ubus;

/// How long a service's probed state (running, enabled) is reused.
pub const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The opkg execution environment.
#[derive(Debug)]
pub struct OpkgEnv {
    /// Each service's (running, enabled), and when they were probed. (Vectors of pairs
    /// here, not maps: a few entries, and each map type would add its own code.)
    probed: Vec<(String, (bool, bool))>,
    probed_at: Option<std::time::Instant>,
    /// Each package's (version, Maintainer, Description) from its installed control file.
    about: Vec<(String, (String, String, String))>,
    free: sysinfo::DiskFree,
    program: PathBuf,
    root: Option<PathBuf>,
    conf: Option<PathBuf>,
    state: PathBuf,
    enabled: bool,
    faults: Vec<(String, (EuFault, String))>,
    /// procd over ubus, for the services' pids.
    ubus: Ubus,
    /// The CPU meter of each pid seen running.
    cpu: Vec<sysinfo::CpuMeter>,
}

/// The fields of a control file: (name, value).
type Fields = Vec<(String, String)>;

/// A package of the status database.
#[derive(Clone, Debug, Default)]
struct Package {
    name: String,
    version: String,
    installed: Option<i64>,
}

impl OpkgEnv {
    /// The environment of `paths` (opkg program, root, configuration; state in `state_dir`).
    pub fn system(paths: &PlatformPaths) -> Result<OpkgEnv, SwError> {
        let state = paths.state_dir.join("software");
        let scratch = state.join("scratch");
        std::fs::create_dir_all(&scratch).map_err(|e| SwError::io(&scratch, e))?;
        if let Some(root) = &paths.opkg_root {
            // opkg locks `<root>/var/lock/opkg.lock`; a fresh offline root lacks the directory.
            let lock = root.join("var/lock");
            std::fs::create_dir_all(&lock).map_err(|e| SwError::io(&lock, e))?;
        }
        Ok(OpkgEnv {
            program: paths.opkg_program.clone(),
            root: paths.opkg_root.clone(),
            conf: paths.opkg_conf.clone(),
            state,
            enabled: true,
            faults: Vec::new(),
            probed: Vec::new(),
            probed_at: None,
            about: Vec::new(),
            free: sysinfo::DiskFree::new(paths.opkg_root.as_deref().unwrap_or(Path::new("/"))),
            ubus: Ubus::new(paths.ubus_program.clone(), paths.ubus_socket.clone()),
            cpu: Vec::new(),
        })
    }

    /// A path of the managed system (under the offline root, if any).
    fn sys(&self, path: &str) -> PathBuf {
        match &self.root {
            Some(r) => r.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }

    fn opkg(&self, args: &[&str]) -> Result<Output, SwError> {
        let mut cmd = Command::new(&self.program);
        if let Some(c) = &self.conf {
            cmd.arg("-f").arg(c);
        }
        if let Some(r) = &self.root {
            cmd.arg("-o").arg(r);
        }
        cmd.args(args).stdin(Stdio::null());
        let what = self.program.display().to_string();
        cmd.output().map_err(|e| SwError::Failed(format!("cannot run {what}: {e}")))
    }

    fn packages(&self) -> Result<Vec<Package>, SwError> {
        let path = self.sys("/usr/lib/opkg/status");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(SwError::io(&path, e)),
        };
        let mut out = Vec::new();
        for stanza in text.split("\n\n") {
            let field = |k: &str| {
                stanza.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix(':')).map(str::trim)
            };
            let Some(name) = field("Package") else { continue };
            if !field("Status").is_some_and(|s| s.ends_with(" installed")) {
                continue;
            }
            // Kept sorted by name as it is read (cheaper in code than a sort).
            let at = out.partition_point(|p: &Package| p.name.as_str() < name);
            let p = Package {
                name: name.to_owned(),
                version: field("Version").unwrap_or_default().to_owned(),
                installed: field("Installed-Time").and_then(|t| t.parse().ok()),
            };
            out.insert(at, p);
        }
        Ok(out)
    }

    fn services(&self, pkg: &str) -> Vec<String> {
        let list = std::fs::read_to_string(self.sys(&format!("/usr/lib/opkg/info/{pkg}.list")));
        let mut out = Vec::new();
        let text = list.unwrap_or_default();
        let names = text.lines().filter_map(|l| l.trim().strip_prefix("/etc/init.d/"));
        for name in names.filter(|s| !s.is_empty() && !s.contains('/')) {
            sysinfo::insert_sorted(&mut out, name);
        }
        out
    }

    /// Runs `/etc/init.d/<service> <action>`; true when it exits 0.
    fn init(&self, service: &str, action: &str) -> Result<bool, SwError> {
        let script = self.sys(&format!("/etc/init.d/{service}"));
        let mut cmd = Command::new(&script);
        cmd.arg(action).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        if let Some(r) = &self.root {
            cmd.env("IPKG_INSTROOT", r);
        }
        let status =
            cmd.status().map_err(|e| SwError::Failed(format!("{}: {e}", script.display())))?;
        Ok(status.success())
    }

    /// Service `svc`'s (running, enabled), from the cache unless `fresh` or not cached.
    fn probe(&mut self, svc: &str, fresh: bool) -> (bool, bool) {
        if let (false, Some(state)) = (fresh, find(&self.probed, svc)) {
            return *state;
        }
        let state = (
            self.init(svc, "running").unwrap_or(false),
            self.init(svc, "enabled").unwrap_or(false),
        );
        put(&mut self.probed, svc, state);
        state
    }

    /// (Maintainer, Description) of installed package `p`, read once per version from
    /// `usr/lib/opkg/info/<name>.control`.
    fn about(&mut self, p: &Package) -> (String, String) {
        if let Some((v, vendor, text)) = find(&self.about, &p.name) {
            if *v == p.version {
                return (vendor.clone(), text.clone());
            }
        }
        let path = self.sys(&format!("/usr/lib/opkg/info/{}.control", p.name));
        let control = std::fs::read_to_string(path).unwrap_or_default();
        let field = |k: &str| {
            let line = control.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix(':'));
            line.map(|v| v.trim().chars().take(128).collect::<String>()).unwrap_or_default()
        };
        let (vendor, text) = (field("Maintainer"), field("Description"));
        put(&mut self.about, &p.name, (p.version.clone(), vendor.clone(), text.clone()));
        (vendor, text)
    }

    /// The pids of each procd service's running instances (`service list`); `None`, with a
    /// debug line, when ubus cannot be asked.
    fn procd_pids(&self) -> Option<Vec<(String, Vec<u32>)>> {
        let reply = match self.ubus.call("service", "list", &serde_json::json!({})) {
            Ok(r) => r,
            Err(e) => {
                log::debug!("software: no pids from procd, MemoryInUse/CPU are -1: {e}");
                return None;
            }
        };
        let services = reply.as_object()?;
        let pids = |svc: &serde_json::Value| -> Vec<u32> {
            let Some(inst) = svc.get("instances").and_then(|i| i.as_object()) else {
                return Vec::new();
            };
            inst.values()
                .filter(|i| i.get("running").and_then(|r| r.as_bool()) == Some(true))
                .filter_map(|i| u32::try_from(i.get("pid")?.as_u64()?).ok())
                .collect()
        };
        Some(services.iter().map(|(name, svc)| (name.clone(), pids(svc))).collect())
    }

    /// (MemoryInUse KiB, CPUPercentInUse) of the processes `pids`: 0 when there are none,
    /// -1 when /proc has no answer (CPU also at the first read of a pid).
    fn usage(&mut self, pids: &[u32]) -> (i64, i64) {
        if pids.is_empty() {
            return (0, 0);
        }
        let mut mem: Option<i64> = None;
        let mut cpu: Option<i64> = None;
        for &pid in pids {
            if let Some(kib) = sysinfo::rss_kib(pid) {
                mem = Some(mem.unwrap_or(0) + kib);
            }
            let i = match self.cpu.iter().position(|m| m.pid() == Some(pid)) {
                Some(i) => i,
                None => {
                    self.cpu.push(sysinfo::CpuMeter::default());
                    self.cpu.len() - 1
                }
            };
            if let Some(p) = self.cpu.get_mut(i).and_then(|m| m.sample(pid)) {
                cpu = Some(cpu.unwrap_or(0) + p);
            }
        }
        (mem.unwrap_or(-1), cpu.map_or(-1, |c| c.min(100)))
    }

    /// Forgets the probed states: an operation may have changed them.
    fn changed(&mut self) {
        self.probed_at = None;
        self.free.stale();
    }

    /// (UUID, URL) of the packages the agent installed.
    /// (name, (UUID, URL)), sorted by name.
    fn records(&self) -> Vec<(String, (String, String))> {
        let text = std::fs::read_to_string(self.state.join("opkg-dus")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut f = l.splitn(3, '\t');
                Some((f.next()?.to_owned(), (f.next()?.to_owned(), f.next()?.to_owned())))
            })
            .collect()
    }

    fn save_records(&self, records: &[(String, (String, String))]) -> Result<(), SwError> {
        let text: String =
            records.iter().map(|(n, (uuid, url))| format!("{n}\t{uuid}\t{url}\n")).collect();
        let path = self.state.join("opkg-dus");
        std::fs::write(&path, text).map_err(|e| SwError::io(&path, e))
    }

    /// The control fields of the `.ipk` in `file` and the files it installs (read without
    /// opkg: it is a tar.gz holding `control.tar.gz` and `data.tar.gz`).
    fn control(&self, file: &Path) -> Result<(Fields, Vec<String>), SwError> {
        let dir = self.state.join(format!("scratch/ipk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| SwError::io(&dir, e))?;
        let read = (|| {
            tarball::unpack(file, &dir, 256 << 20)?;
            let inner = dir.join("control");
            std::fs::create_dir_all(&inner).map_err(|e| SwError::io(&inner, e))?;
            tarball::unpack(&dir.join("control.tar.gz"), &inner, 1 << 20)?;
            let text = std::fs::read_to_string(inner.join("control"))
                .map_err(|_| SwError::Corrupt("the package has no control file".into()))?;
            Ok((text, tarball::file_names(&dir.join("data.tar.gz"))?))
        })();
        let _ = std::fs::remove_dir_all(&dir);
        let (text, files) = read.map_err(|e| match e {
            SwError::Corrupt(_) => e,
            other => SwError::Corrupt(other.to_string()),
        })?;
        let fields = text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Ok((fields, files))
    }

    fn architectures(&self) -> Result<Vec<String>, SwError> {
        let out = self.opkg(&["print-architecture"])?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("arch ")?.split_whitespace().next().map(str::to_owned))
            .collect())
    }

    /// Installs `file` (a new package or a new version of `expect`).
    fn opkg_install(&mut self, file: &Path, expect: Option<&str>) -> Result<String, SwError> {
        let (control, files) = self.control(file)?;
        let field = |k: &str| find(&control, k).cloned().unwrap_or_default();
        let (name, version) = (field("Package"), field("Version"));
        if name.is_empty() || version.is_empty() {
            return Err(SwError::Corrupt("the control file has no Package or Version".into()));
        }
        let arch = field("Architecture");
        if !self.architectures()?.contains(&arch) {
            return Err(SwError::Mismatch(format!("{name} is built for '{arch}'")));
        }
        let installed = self.packages()?.into_iter().find(|p| p.name == name);
        match (expect, &installed) {
            (None, Some(p)) => {
                return Err(SwError::Duplicate(format!("{name} {} is installed", p.version)));
            }
            (Some(e), _) if e != name => {
                return Err(SwError::Mismatch(format!("the file holds {name}, not {e}")));
            }
            (Some(_), Some(p)) if p.version == version => {
                return Err(SwError::Duplicate(format!("{name} {version} is installed")));
            }
            (Some(e), None) => return Err(SwError::Unknown(e.to_owned())),
            _ => {}
        }
        let fresh: Vec<PathBuf> = files
            .iter()
            .map(|f| self.sys(f.trim_start_matches('.')))
            .filter(|p| !p.exists())
            .collect();
        let path = file.to_string_lossy().into_owned();
        let out = self.opkg(&["install", &path])?;
        let now = self.packages()?.into_iter().find(|p| p.name == name);
        if out.status.success() && now.as_ref().is_some_and(|p| p.version == version) {
            return Ok(name);
        }
        if expect.is_none() && now.is_some() {
            // Half installed (a failing postinst): take it out again.
            let _ = self.opkg(&["remove", &name]);
        }
        if expect.is_none() {
            // opkg leaves the files it extracted before failing (a full disk): remove those
            // that did not exist before.
            for f in fresh.iter().filter(|f| f.is_file()) {
                let _ = std::fs::remove_file(f);
            }
        }
        Err(install_error(&out))
    }
}

/// The SwError of a failed `opkg install`, from its messages.
fn install_error(out: &Output) -> SwError {
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let tail: String = text.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
    let lower = text.to_ascii_lowercase();
    if lower.contains("no space left") || lower.contains("only have") {
        SwError::NoResources(tail)
    } else if lower.contains("cannot satisfy") || lower.contains("unsatisfied") {
        SwError::Unresolved(tail)
    } else if lower.contains("incompatible with the architectures") {
        SwError::Mismatch(tail)
    } else {
        SwError::Failed(format!("opkg install failed: {tail}"))
    }
}

impl ExecEnv for OpkgEnv {
    fn scratch_dir(&self) -> PathBuf {
        self.state.join("scratch")
    }

    fn snapshot(&mut self) -> Result<Snapshot, SwError> {
        let fresh = self.probed_at.is_none_or(|t| t.elapsed() >= PROBE_EVERY);
        if fresh {
            self.probed.clear();
            self.probed_at = Some(std::time::Instant::now());
        }
        let records = self.records();
        let procd = self.procd_pids();
        let live = |pid: Option<u32>| {
            procd.iter().flatten().any(|(_, p)| pid.is_some_and(|x| p.contains(&x)))
        };
        self.cpu.retain(|m| live(m.pid()));
        let mut dus = Vec::new();
        for p in self.packages()? {
            let mut eus = Vec::new();
            for svc in self.services(&p.name) {
                let (running, auto_start) = self.probe(&svc, fresh);
                let (fault, fault_message) =
                    find(&self.faults, &svc).cloned().unwrap_or((EuFault::NoFault, String::new()));
                // -1 without ubus or for a service procd does not run.
                let pids = procd.as_deref().and_then(|m| find(m, &svc));
                let (memory_kib, cpu_percent) = match pids {
                    Some(p) => self.usage(p),
                    None => (-1, -1),
                };
                eus.push(EuInfo {
                    euid: svc.clone(),
                    name: svc,
                    status: if running { EuStatus::Active } else { EuStatus::Idle },
                    fault,
                    fault_message,
                    auto_start,
                    run_level: 0,
                    memory_kib,
                    cpu_percent,
                    disk_kib: -1,
                    pid: pids.and_then(|p| p.first().copied()),
                });
            }
            let (vendor, description) = self.about(&p);
            let (uuid, url) = find(&records, &p.name)
                .cloned()
                .unwrap_or_else(|| (sysinfo::uuid_v5(&p.name), String::new()));
            dus.push(DuInfo {
                duid: p.name.clone(),
                uuid,
                name: p.name.clone(),
                version: p.version,
                vendor,
                description,
                url,
                resolved: true,
                installed: p.installed,
                eus,
            });
        }
        let env = EnvInfo {
            name: "opkg".into(),
            kind: "Package Manager".into(),
            vendor: "OpenWrt".into(),
            version: String::new(),
            enabled: self.enabled,
            run_level: -1,
            run_levels: false,
            allocated_disk_kib: -1,
            available_disk_kib: self.free.get().unwrap_or(-1),
            available_memory_kib: sysinfo::mem_available_kib().unwrap_or(-1),
        };
        Ok(Snapshot { env, dus })
    }

    fn install(&mut self, file: &Path, req: &DuRequest) -> Result<String, SwError> {
        self.changed();
        if !self.enabled {
            return Err(SwError::Disabled);
        }
        let name = self.opkg_install(file, None)?;
        let mut records = self.records();
        let uuid = req.uuid.clone().unwrap_or_else(|| sysinfo::uuid_v5(&name));
        put(&mut records, &name, (uuid, req.url.clone()));
        self.save_records(&records)?;
        Ok(name)
    }

    fn update(&mut self, duid: &str, file: &Path, req: &DuRequest) -> Result<(), SwError> {
        self.changed();
        self.opkg_install(file, Some(duid))?;
        let mut records = self.records();
        let uuid = find(&records, duid).map_or_else(|| sysinfo::uuid_v5(duid), |r| r.0.clone());
        put(&mut records, duid, (uuid, req.url.clone()));
        self.save_records(&records)
    }

    fn uninstall(&mut self, duid: &str) -> Result<(), SwError> {
        self.changed();
        if !self.packages()?.iter().any(|p| p.name == duid) {
            return Err(SwError::Unknown(duid.to_owned()));
        }
        for svc in self.services(duid) {
            let _ = self.init(&svc, "stop");
        }
        let out = self.opkg(&["remove", duid])?;
        if self.packages()?.iter().any(|p| p.name == duid) {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            return Err(SwError::Failed(format!("opkg remove failed: {}", text.trim())));
        }
        let mut records = self.records();
        if let Some(i) = records.iter().position(|r| r.0 == duid) {
            records.remove(i);
            self.save_records(&records)?;
        }
        Ok(())
    }

    fn set_active(&mut self, euid: &str, active: bool) -> Result<(), SwError> {
        self.changed();
        if active && !self.enabled {
            return Err(SwError::Disabled);
        }
        let ok = self.init(euid, if active { "start" } else { "stop" })?;
        if ok {
            self.faults.retain(|f| f.0 != euid);
            return Ok(());
        }
        let fault = if active { EuFault::FailureOnStart } else { EuFault::FailureOnStop };
        let msg = format!("/etc/init.d/{euid} {} failed", if active { "start" } else { "stop" });
        put(&mut self.faults, euid, (fault, msg.clone()));
        Err(SwError::Failed(msg))
    }

    fn restart(&mut self, euid: &str) -> Result<(), SwError> {
        self.set_active(euid, false)?;
        self.set_active(euid, true)
    }

    fn configure(
        &mut self,
        euid: &str,
        auto: Option<bool>,
        level: Option<u32>,
    ) -> Result<(), SwError> {
        if level.is_some() {
            return Err(SwError::Failed(
                "opkg services have no run level (procd START order)".into(),
            ));
        }
        if let Some(on) = auto {
            self.changed();
            if !self.init(euid, if on { "enable" } else { "disable" })? {
                return Err(SwError::Failed(format!("/etc/init.d/{euid} enable/disable failed")));
            }
        }
        Ok(())
    }

    fn set_enabled(&mut self, enabled: bool) -> Result<(), SwError> {
        self.changed();
        self.enabled = enabled;
        Ok(())
    }

    fn set_run_level(&mut self, _level: i32) -> Result<(), SwError> {
        Err(SwError::Failed("opkg has no run levels".into()))
    }

    fn resettable(&mut self) -> Vec<String> {
        self.records().into_iter().map(|r| r.0).collect()
    }
}
