//! `VendorConfigFile.{i}.Date`: when each row's content was last applied (TR-181: "Date and
//! time when the content of the current version of this vendor configuration file was first
//! applied by the CPE"), kept in the small file `vendor-config-dates` of the state directory,
//! one `<row> <dateTime>` a line. The host writes it when it applies a restore (always before
//! the agent's next start); the plugin reads it once when it is built.
//!
//! Never does: write from the data-model thread, or fail the caller (a broken file reads as
//! no dates, and a failed write is logged).

use std::path::{Path, PathBuf};

use usp_datamodel::value::DateTime;

/// The file's name in the state directory.
pub const FILE: &str = "vendor-config-dates";

fn file(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The dates recorded in `state_dir`: (row, when applied).
pub fn applied(state_dir: &Path) -> Vec<(String, DateTime)> {
    let text = std::fs::read_to_string(file(state_dir)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (row, when) = line.split_once(' ')?;
            Some((row.to_owned(), DateTime::parse(when.trim())?))
        })
        .collect()
}

/// Records that the content of `row` was applied at `when` (replacing its earlier date).
pub fn record_applied(state_dir: &Path, row: &str, when: DateTime) {
    let mut dates = applied(state_dir);
    dates.retain(|(r, _)| r != row);
    dates.push((row.to_owned(), when));
    let text: String = dates.iter().map(|(r, w)| format!("{r} {w}\n")).collect();
    let tmp = state_dir.join(format!("{FILE}.tmp"));
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, file(state_dir)));
    if let Err(e) = written {
        log::error!("VendorConfigFile: cannot record the date of {row}: {e}");
    }
}

/// Now, on the host's clock.
pub fn now() -> DateTime {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    DateTime::from_unix(secs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_are_recorded_per_row_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        assert!(applied(dir.path()).is_empty());
        record_applied(dir.path(), "uspagent", DateTime::from_unix(1000));
        record_applied(dir.path(), "sysupgrade", DateTime::from_unix(2000));
        record_applied(dir.path(), "uspagent", DateTime::from_unix(3000));
        let got = applied(dir.path());
        assert_eq!(got.len(), 2);
        assert!(got.contains(&("uspagent".into(), DateTime::from_unix(3000))));
        assert!(got.contains(&("sysupgrade".into(), DateTime::from_unix(2000))));
        std::fs::write(dir.path().join(FILE), "garbage\nuspagent not-a-date\n").unwrap();
        assert!(applied(dir.path()).is_empty(), "a broken file reads as no dates");
    }
}
