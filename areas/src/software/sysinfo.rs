//! What the execution environments read from the running system: a process's memory and CPU
//! time (`/proc/<pid>/status`, `/proc/<pid>/stat`), the memory available
//! (`/proc/meminfo`), the free space of a file system (`df -Pk`) and the size of a directory.
//! Also the DU UUIDs the agent makes up (version 5, from the DU's name).
//!
//! Everything here is slow enough to belong on a worker thread; nothing here changes anything.

use std::path::Path;
use std::process::{Command, Stdio};

/// The resident memory of process `pid` in KiB.
pub fn rss_kib(pid: u32) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The CPU time of process `pid` (user + system) in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second of `/proc/<pid>/stat` (USER_HZ: 100 on every Linux port).
pub const TICKS_PER_SEC: u64 = 100;

/// The CPU use of one process, from two reads of its `/proc/<pid>/stat`.
#[derive(Debug, Default)]
pub struct CpuMeter {
    /// The pid, when and its ticks at the last read.
    last: Option<(u32, std::time::Instant, u64)>,
}

impl CpuMeter {
    /// The pid read last.
    pub fn pid(&self) -> Option<u32> {
        self.last.map(|l| l.0)
    }

    /// The percentage of one CPU process `pid` used since the last read of the same pid
    /// (`None` at the first read, or when the process is gone).
    pub fn sample(&mut self, pid: u32) -> Option<i64> {
        let now = std::time::Instant::now();
        let ticks = cpu_ticks(pid)?;
        let (was, then, before) = self.last.replace((pid, now, ticks))?;
        let wall = now.duration_since(then).as_secs_f64();
        let used = ticks.saturating_sub(before) as f64 / TICKS_PER_SEC as f64;
        (was == pid && wall > 0.0).then(|| ((used / wall) * 100.0).round().clamp(0.0, 100.0) as i64)
    }
}

/// Adds `name` to `names`, kept sorted (lists of a few names: cheaper in code than a sort).
pub fn insert_sorted(names: &mut Vec<String>, name: &str) {
    let at = names.partition_point(|n| n.as_str() < name);
    names.insert(at, name.to_owned());
}

/// `MemAvailable` of `/proc/meminfo` in KiB.
pub fn mem_available_kib() -> Option<i64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The free space of the file system holding `dir`, in KiB (`df -Pk`).
pub fn disk_available_kib(dir: &Path) -> Option<i64> {
    let out = Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

/// [`disk_available_kib`] of one directory, run again at most every 30 s (it runs `df`).
#[derive(Debug)]
pub struct DiskFree {
    dir: std::path::PathBuf,
    last: Option<(std::time::Instant, Option<i64>)>,
}

impl DiskFree {
    /// The free space of the file system of `dir`.
    pub fn new(dir: &Path) -> DiskFree {
        DiskFree { dir: dir.to_path_buf(), last: None }
    }

    /// The free space in KiB, from the last `df` if it is recent.
    pub fn get(&mut self) -> Option<i64> {
        match self.last {
            Some((at, v)) if at.elapsed() < std::time::Duration::from_secs(30) => v,
            _ => {
                let v = disk_available_kib(&self.dir);
                self.last = Some((std::time::Instant::now(), v));
                v
            }
        }
    }

    /// Forgets the last value (files were written or removed).
    pub fn stale(&mut self) {
        self.last = None;
    }
}

/// The bytes of the files under `dir` (symbolic links are not followed), bounded in depth.
pub fn dir_bytes(dir: &Path) -> u64 {
    fn walk(dir: &Path, depth: u32) -> u64 {
        if depth > 32 {
            return 0;
        }
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        let mut total = 0;
        for e in entries.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else { continue };
            if meta.is_dir() {
                total += walk(&e.path(), depth + 1);
            } else {
                total += meta.len();
            }
        }
        total
    }
    walk(dir, 0)
}

/// A version-5 UUID (RFC 4122, SHA-1) for the DU `name`, in the URL namespace: the same name
/// gives the same UUID on every device, as TR-369 asks when the controller gives none.
pub fn uuid_v5(name: &str) -> String {
    const URL_NS: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30,
        0xc8,
    ];
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&URL_NS);
    ctx.update(name.as_bytes());
    let digest = ctx.finish();
    let mut b: Vec<u8> = digest.as_ref().iter().take(16).copied().collect();
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | 0x50;
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// Whether `text` is a UUID in its canonical 8-4-4-4-12 hex form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}
