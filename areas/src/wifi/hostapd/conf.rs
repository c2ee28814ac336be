//! hostapd's configuration files (`hostapd.conf` format: `key=value` lines, `#` comments, the
//! first BSS from the top to the first `bss=<ifname>` line, each `bss=` line opening the next
//! BSS): which file holds a BSS, a field's value in a BSS's section, and an edited copy written
//! atomically (a temporary file in the same directory, then a rename) with every comment and
//! unknown line kept.
//!
//! Finding the file: hostapd's control interface does not name it, so every `*.conf` file in
//! the configuration directory (`--hostapd-conf`, default `/etc/hostapd`) whose `interface=`
//! or `bss=` line names the BSS is its file (one file per radio, as hostapd is started with
//! one file per interface).
//!
//! Never does: talk to hostapd, or validate values (the plugin and hostapd do).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::wifi::model::WifiError;

/// The most `*.conf` files looked at in the directory (a loop guard).
const MAX_FILES: usize = 256;

/// The section (line range) of each BSS of a file, by interface name, in file order.
fn sections(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut first: Option<String> = None;
    for (i, line) in lines.iter().enumerate() {
        match line.split_once('=') {
            Some(("interface", name)) if first.is_none() && out.is_empty() => {
                first = Some(name.trim().to_owned());
            }
            Some(("bss", name)) => {
                if out.is_empty() {
                    out.push((first.take().unwrap_or_default(), 0..i));
                } else if let Some(last) = out.last_mut() {
                    last.1.end = i;
                }
                out.push((name.trim().to_owned(), i..lines.len()));
            }
            _ => {}
        }
    }
    if out.is_empty() {
        out.push((first.unwrap_or_default(), 0..lines.len()));
    }
    out.retain(|(name, _)| !name.is_empty());
    out
}

/// The BSS interface names a file configures.
pub fn interfaces(text: &str) -> Vec<String> {
    sections(text).into_iter().map(|(n, _)| n).collect()
}

/// Which file of `dir` configures each BSS (the first file, by name, that names it).
pub fn index(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf") && p.is_file())
        .take(MAX_FILES)
        .collect();
    files.sort();
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        for name in interfaces(&text) {
            out.entry(name).or_insert_with(|| path.clone());
        }
    }
    out
}

/// The `key=value` settings of the section of `ifname`, in order (comments left out).
pub fn settings(text: &str, ifname: &str) -> Vec<(String, String)> {
    let Some((_, range)) = sections(text).into_iter().find(|(n, _)| n == ifname) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines
        .get(range)
        .unwrap_or_default()
        .iter()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The value of `key` in the section of `ifname` (the last line wins, as in hostapd).
pub fn get(text: &str, ifname: &str, key: &str) -> Option<String> {
    let (_, range) = sections(text).into_iter().find(|(n, _)| n == ifname)?;
    let lines: Vec<&str> = text.lines().collect();
    lines.get(range)?.iter().rev().find_map(|l| match l.split_once('=') {
        Some((k, v)) if k == key => Some(v.to_owned()),
        _ => None,
    })
}

/// Fields hostapd reads into the same setting (the last line of either wins): writing one
/// replaces the other's line.
const SAME_SETTING: &[(&str, &str)] = &[("ssid", "ssid2"), ("wpa_passphrase", "wpa_psk")];

/// Whether a line's key `k` sets what `key` sets.
fn same_setting(k: &str, key: &str) -> bool {
    k == key || SAME_SETTING.iter().any(|&(a, b)| (k, key) == (a, b) || (k, key) == (b, a))
}

/// `text` with `key=value` in the section of `ifname`: its last `key=` line (or the line of a
/// field setting the same, `ssid2=` for `ssid=`) replaced, else a line added after the
/// section's last setting. Every other line is kept as it was.
pub fn set(text: &str, ifname: &str, key: &str, value: &str) -> Result<String, WifiError> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(WifiError::Malformed(format!("{key}: a line break cannot be written")));
    }
    let (_, range) = sections(text)
        .into_iter()
        .find(|(n, _)| n == ifname)
        .ok_or_else(|| WifiError::Unavailable(format!("no section for {ifname}")))?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let is_setting = |l: &str| !l.starts_with('#') && l.contains('=');
    let line = format!("{key}={value}");
    let existing = range.clone().rev().find(|&i| {
        !lines[i].starts_with('#')
            && lines[i].split_once('=').is_some_and(|(k, _)| same_setting(k, key))
    });
    match existing {
        Some(i) => lines[i] = line,
        None => {
            let after = range.clone().rev().find(|&i| is_setting(&lines[i]));
            lines.insert(after.map_or(range.end, |i| i + 1), line);
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    Ok(out)
}

/// Replaces `path` with `text` atomically: a temporary file beside it (same permissions: it
/// holds passphrases), flushed to disk, then renamed over it. A symbolic link is followed: the
/// file it names is replaced, the link stays.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), WifiError> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let path = real.as_path();
    let io = |e: std::io::Error| WifiError::Io(format!("{}: {e}", path.display()));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.usp-new"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
