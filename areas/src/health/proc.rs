//! Parsing `/proc` for `DeviceInfo.MemoryStatus` (`/proc/meminfo`), `ProcessStatus.CPUUsage`
//! (two samples of `/proc/stat`) and `ProcessStatus.Process.{i}` (`/proc/PID/stat` for the
//! table, one file per process; `cmdline` only for a `Command` asked). Functions take the file texts, so that they are tested on exact
//! inputs; the plugin reads the files.
//!
//! Never does: write to `/proc`, or signal a process.

use std::path::Path;

/// `USER_HZ`, the unit of `/proc/PID/stat`'s times (100 on every Linux ABI the agent targets).
const USER_HZ: u64 = 100;

/// A `/proc/meminfo` field in KiB (`MemTotal`, `MemFree`).
pub fn meminfo(text: &str, field: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// The busy and total jiffies of the `cpu` line of `/proc/stat` (idle and iowait are idle).
pub fn cpu_times(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The CPU use in percent between two samples, rounded up (TR-181).
pub fn cpu_usage(before: (u64, u64), after: (u64, u64)) -> u32 {
    let busy = after.0.saturating_sub(before.0);
    let total = after.1.saturating_sub(before.1);
    if total == 0 {
        return 0;
    }
    u32::try_from((busy * 100).div_ceil(total).min(100)).unwrap_or(100)
}

/// One process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    /// Its PID (the row key).
    pub pid: u32,
    /// Its name (`comm`), for the command line of a kernel thread.
    pub name: String,
    /// Its virtual size in KiB.
    pub size_kib: u32,
    /// Its priority, 0 (highest) to 99.
    pub priority: u32,
    /// The CPU time it used, in milliseconds.
    pub cpu_ms: u32,
    /// TR-181's state name.
    pub state: &'static str,
}

/// A process from its `stat` text.
pub fn process(pid: u32, stat: &str) -> Option<Process> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?;
    let f: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state (3rd field of the file), ... utime (14th), stime (15th),
    // priority (18th), vsize in bytes (23rd).
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    let ticks = u64::try_from(num(11)? + num(12)?).unwrap_or(0);
    let state = match f.first()?.chars().next()? {
        'R' => "Running",
        'S' => "Sleeping",
        'T' | 't' => "Stopped",
        'D' => "Uninterruptible",
        'Z' | 'X' | 'x' => "Zombie",
        _ => "Idle",
    };
    let vsize = u64::try_from(num(20)?).unwrap_or(0);
    Some(Process {
        pid,
        name: name.to_owned(),
        size_kib: u32::try_from(vsize / 1024).unwrap_or(u32::MAX),
        priority: u32::try_from(num(15)?.clamp(0, 99)).unwrap_or(0),
        cpu_ms: u32::try_from(ticks * 1000 / USER_HZ).unwrap_or(u32::MAX),
        state,
    })
}

/// TR-181's `Command` of a process: its command line (`cmdline`, NUL-separated), or its name
/// in brackets for a kernel thread (empty command line), at most 256 bytes.
pub fn command(name: &str, cmdline: &[u8]) -> String {
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut command = if args.is_empty() { format!("[{name}]") } else { args.join(" ") };
    if command.len() > 256 {
        let mut cut = 256;
        while !command.is_char_boundary(cut) {
            cut -= 1;
        }
        command.truncate(cut);
    }
    command
}

/// Every process of `/proc` (those that end while being read are skipped).
pub fn processes(proc: &Path) -> Vec<Process> {
    let Ok(dir) = std::fs::read_dir(proc) else { return Vec::new() };
    let mut out: Vec<Process> = dir
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
            process(pid, &stat)
        })
        .collect();
    out.sort_by_key(|p| p.pid);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn meminfo_and_cpu_lines_parse() {
        let mem =
            "MemTotal:        8000000 kB\nMemFree:          123456 kB\nMemAvailable: 5000000 kB\n";
        assert_eq!(meminfo(mem, "MemTotal"), Some(8_000_000));
        assert_eq!(meminfo(mem, "MemFree"), Some(123_456));
        assert_eq!(meminfo(mem, "Mem"), None);
        let a = cpu_times("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n").unwrap();
        assert_eq!(a, (200, 1000));
        let b = cpu_times("cpu  150 0 150 750 150 0 0 0 0 0\n").unwrap();
        assert_eq!(cpu_usage(a, b), 50);
        assert_eq!(cpu_usage(a, a), 0);
    }

    #[test]
    fn a_process_stat_with_a_tricky_name_parses() {
        let stat =
            "42 (a) b (c)) S 1 42 42 0 -1 4194560 0 0 0 0 250 50 0 0 20 0 1 0 100 2097152 10";
        let p = process(42, stat).unwrap();
        assert_eq!(p.name, "a) b (c)");
        assert_eq!(command(&p.name, b"/usr/bin/x\0--flag\0"), "/usr/bin/x --flag");
        assert_eq!((p.size_kib, p.priority, p.cpu_ms, p.state), (2048, 20, 3000, "Sleeping"));
        let kthread =
            process(2, "2 (kthreadd) I 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0").unwrap();
        assert_eq!((kthread.state, kthread.size_kib), ("Idle", 0));
        assert_eq!(command(&kthread.name, b""), "[kthreadd]");
        assert_eq!(command("x", &[b'a'; 300]).len(), 256);
        assert_eq!(process(1, "garbage"), None);
    }

    #[test]
    fn this_test_process_is_listed_from_proc() {
        let me = std::process::id();
        let all = processes(Path::new("/proc"));
        let p = all.iter().find(|p| p.pid == me).expect("this process");
        assert!(p.size_kib > 0);
        let cmdline = std::fs::read(format!("/proc/{me}/cmdline")).unwrap();
        assert!(command(&p.name, &cmdline).contains("usp_areas"));
        assert!(all.iter().any(|p| p.pid == 1));
    }
}
