//! The failed reports of profiles with `HTTP.PersistAcrossReboot`: kept in a file per profile
//! (`bulkdata/profile-<n>.retained` under the platform's state directory) so that a restart
//! does not lose them, read back when the profile next reports.
//!
//! The format is ours and line-based: `R <unix seconds>` opens a report, then one
//! `<name>\t<TR-106 type>\t<value>` line per parameter, with `\`, tab and line breaks escaped. A
//! file that does not parse is ignored (logged), never a reason to stop reporting.
//!
//! Never does: encoding (reports are re-encoded with the current one), or anything on the
//! data-model thread (the worker calls it).

use std::fs;
use std::path::{Path, PathBuf};

use usp_datamodel::value::{DateTime, ParamType};

use super::encode::{Item, Report};

/// The file of profile `n` in `dir`.
fn file(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("profile-{n}.retained"))
}

/// Writes `reports` for profile `n` (removes the file when there are none).
pub fn save(dir: &Path, n: u32, reports: &[Report]) {
    if reports.is_empty() {
        remove(dir, n);
        return;
    }
    let mut text = String::new();
    for r in reports {
        text.push_str(&format!("R {}\n", r.collected.secs));
        for i in &r.items {
            let ty = i.value.param_type().name();
            text.push_str(&format!(
                "{}\t{ty}\t{}\n",
                escape(&i.name),
                escape(&i.value.to_string())
            ));
        }
    }
    let path = file(dir, n);
    let tmp = path.with_extension("tmp");
    let written = fs::create_dir_all(dir)
        .and_then(|()| fs::write(&tmp, text))
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(e) = written {
        log::warn!("bulk data: cannot keep the failed reports in {}: {e}", path.display());
    }
}

/// The reports kept for profile `n`, oldest first (none when there is no file).
pub fn load(dir: &Path, n: u32) -> Vec<Report> {
    let path = file(dir, n);
    let Ok(text) = fs::read_to_string(&path) else { return Vec::new() };
    match parse(&text) {
        Some(reports) => reports,
        None => {
            log::warn!("bulk data: {} does not parse; its reports are dropped", path.display());
            Vec::new()
        }
    }
}

/// Forgets the reports of profile `n`.
pub fn remove(dir: &Path, n: u32) {
    let _ = fs::remove_file(file(dir, n));
}

fn parse(text: &str) -> Option<Vec<Report>> {
    let mut reports: Vec<Report> = Vec::new();
    for line in text.lines() {
        if let Some(secs) = line.strip_prefix("R ") {
            let collected = DateTime::from_unix(secs.parse().ok()?);
            reports.push(Report { collected, items: Vec::new() });
            continue;
        }
        let mut fields = line.splitn(3, '\t');
        let (name, ty, value) = (fields.next()?, fields.next()?, fields.next()?);
        let value = ParamType::from_name(ty)?.parse(&unescape(value)).ok()?;
        reports.last_mut()?.items.push(Item { name: unescape(name), value });
    }
    Some(reports)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n").replace('\r', "\\r")
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use usp_datamodel::value::Value;

    #[test]
    fn reports_round_trip_through_the_file_and_garbage_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let item = |n: &str, v| Item { name: n.into(), value: v };
        let reports = vec![
            Report {
                collected: DateTime::from_unix(1),
                items: vec![
                    item("a\tb", Value::String("x\ny\\z".into())),
                    item("n", Value::UnsignedLong(7)),
                ],
            },
            Report {
                collected: DateTime::from_unix(2),
                items: vec![item("t", Value::Boolean(true))],
            },
        ];
        save(dir.path(), 3, &reports);
        assert_eq!(load(dir.path(), 3), reports);
        assert!(load(dir.path(), 4).is_empty());
        std::fs::write(dir.path().join("profile-5.retained"), "garbage\tno\n").unwrap();
        assert!(load(dir.path(), 5).is_empty());
        save(dir.path(), 3, &[]);
        assert!(!dir.path().join("profile-3.retained").exists());
    }
}
