//! The agent's database around an OpenWrt configuration restore (`sysupgrade -r`, asked by
//! `Device.DeviceInfo.VendorConfigFile.{i}.Restore()` on the `sysupgrade` row and run by the
//! host after its clean shutdown). `sysupgrade -r` overwrites the kept files with the
//! archive's, the agent's database among them: a copy of a live file (possibly torn) whose
//! `meta` is the backup's, not this restart's. So:
//!
//! - before: a snapshot of the (closed) database is set aside, its `meta` holding this
//!   restart's Boot! cause and CommandKey;
//! - after a success: the archive's consistent snapshot ([`super::backup::sysupgrade_snapshot`],
//!   or else a snapshot of the database file the archive brought) is staged as a restore, and
//!   the set-aside database is put back, so the next start's
//!   [`super::backup::apply_staged_restore`] swaps the archive's configuration in with this
//!   restart's `meta`; the `sysupgrade` row's Date is recorded;
//! - after a failure: the set-aside database is put back, an unpacked snapshot removed.
//!
//! Never does: run while the database is open.

use std::path::{Path, PathBuf};

use usp_areas::firmware::openwrt::RestoreHooks;
use usp_areas::vendor_config::{AgentDatabase as _, date};

use super::backup::{Database, staged_path, sysupgrade_snapshot};

/// The hooks for the database at a path.
#[derive(Debug)]
pub struct Hooks {
    db: PathBuf,
    /// Set aside before `sysupgrade -r` ran.
    saved: bool,
}

impl Hooks {
    /// The hooks for the database `db`.
    pub fn new(db: impl Into<PathBuf>) -> Hooks {
        Hooks { db: db.into(), saved: false }
    }

    fn aside(&self) -> PathBuf {
        with_suffix(&self.db, ".pre-restore")
    }

    fn state_dir(&self) -> &Path {
        self.db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
    }

    /// Puts the set-aside database back (no journal of the archive's file may meet it).
    fn put_back(&self) {
        for suffix in ["-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(with_suffix(&self.db, suffix));
        }
        if let Err(e) = std::fs::rename(self.aside(), &self.db) {
            log::error!("cannot put the database back from {}: {e}", self.aside().display());
        }
    }

    /// Stages the archive's configuration of the agent; false when it has none usable.
    fn stage_archive(&self) -> bool {
        let (snapshot, staged) = (sysupgrade_snapshot(&self.db), staged_path(&self.db));
        if snapshot.is_file() {
            return match std::fs::rename(&snapshot, &staged) {
                Ok(()) => true,
                Err(e) => {
                    log::error!("cannot stage {}: {e}", snapshot.display());
                    false
                }
            };
        }
        // An archive made by other means: the best copy is a snapshot of the file it brought.
        match Database::new(&self.db).snapshot(&staged) {
            Ok(()) => true,
            Err(e) => {
                log::error!("the restored archive has no usable agent database: {e}");
                let _ = std::fs::remove_file(&staged);
                false
            }
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl RestoreHooks for Hooks {
    fn before(&mut self) {
        match Database::new(&self.db).snapshot(&self.aside()) {
            Ok(()) => self.saved = true,
            Err(e) => log::error!("cannot set the database aside before the restore: {e}"),
        }
    }

    fn after(&mut self, ok: bool) {
        if ok {
            date::record_applied(self.state_dir(), "sysupgrade", date::now());
            if self.saved {
                self.stage_archive();
            }
        } else {
            // What a failed restore may have unpacked of the agent's is not applied.
            let _ = std::fs::remove_file(sysupgrade_snapshot(&self.db));
        }
        if self.saved {
            self.put_back();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::SqliteStore;
    use crate::store::backup::apply_staged_restore;
    use usp_areas::firmware::openwrt::{flash_with, request_restore};
    use usp_datamodel::store::{Change, Item, Store};

    fn put(db: &Path, items: &[(&str, &str, bool)]) {
        let mut store = SqliteStore::open(db).unwrap();
        let changes: Vec<Change> = items
            .iter()
            .map(|&(k, v, meta)| {
                Change::Put(if meta {
                    Item::Meta { key: k.into(), value: v.into() }
                } else {
                    Item::Value { path: k.into(), value: v.into() }
                })
            })
            .collect();
        store.write(&changes).unwrap();
    }

    fn value_of(db: &Path, name: &str) -> Option<String> {
        let mut store = SqliteStore::open(db).unwrap();
        store.load().unwrap().into_iter().find_map(|i| match i {
            Item::Value { path, value } if path == name => Some(value),
            Item::Meta { key, value } if key == name => Some(value),
            _ => None,
        })
    }

    /// A sysupgrade that unpacks its archive into `root` (`-r`), failing after it when `fail`.
    fn sysupgrade(root: &Path, fail: bool) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let program = root.join("sysupgrade");
        let end = if fail { "exit 1" } else { "exit 0" };
        let text = format!("#!/bin/sh\ntar xzf \"$2\" -C '{}'\n{end}\n", root.display());
        std::fs::write(&program, text).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        program
    }

    /// An archive as `sysupgrade -b` makes it while the agent writes: the database file torn,
    /// the agent's snapshot beside it.
    fn archive(root: &Path, db: &Path) -> PathBuf {
        let staging = root.join("archive/state");
        std::fs::create_dir_all(&staging).unwrap();
        Database::new(db).snapshot(&staging.join(usp_areas::vendor_config::SNAPSHOT)).unwrap();
        std::fs::write(staging.join("usp.db"), b"SQLite format 3\0torn in the middle").unwrap();
        let file = root.join("backup.tar.gz");
        let status = std::process::Command::new("tar")
            .arg("czf")
            .arg(&file)
            .arg("-C")
            .arg(root.join("archive"))
            .arg("state")
            .status()
            .unwrap();
        assert!(status.success());
        file
    }

    #[test]
    fn a_sysupgrade_restore_brings_the_snapshot_back_with_this_restarts_meta() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let db = state.join("usp.db");
        put(&db, &[("Device.A", "backed-up", false), ("boot/cause", "old", true)]);
        let backup = archive(dir.path(), &db);
        put(&db, &[("Device.A", "changed", false), ("boot/cause", "RemoteReboot", true)]);
        request_restore(&state, &sysupgrade(dir.path(), false), &backup).unwrap();
        assert!(!flash_with(&state, &mut Hooks::new(&db)).unwrap(), "a restore, no flash");
        assert!(!sysupgrade_snapshot(&db).exists() && staged_path(&db).exists());
        assert_eq!(value_of(&db, "boot/cause").as_deref(), Some("RemoteReboot"), "put back");
        apply_staged_restore(&db);
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("backed-up"), "not the torn file");
        assert_eq!(value_of(&db, "boot/cause").as_deref(), Some("RemoteReboot"), "meta kept");
        let rows: Vec<String> = date::applied(&state).into_iter().map(|(r, _)| r).collect();
        assert!(rows.contains(&"sysupgrade".into()) && rows.contains(&"uspagent".into()));
    }

    #[test]
    fn a_failed_sysupgrade_restore_leaves_the_database_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        let db = state.join("usp.db");
        put(&db, &[("Device.A", "backed-up", false)]);
        let backup = archive(dir.path(), &db);
        put(&db, &[("Device.A", "changed", false)]);
        request_restore(&state, &sysupgrade(dir.path(), true), &backup).unwrap();
        assert!(!flash_with(&state, &mut Hooks::new(&db)).unwrap());
        assert!(!staged_path(&db).exists());
        apply_staged_restore(&db);
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("changed"));
        assert!(date::applied(&state).is_empty(), "nothing applied");
    }

    #[test]
    fn a_snapshot_found_at_start_comes_from_a_restore_by_hand_and_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usp.db");
        put(&db, &[("Device.A", "backed-up", false)]);
        Database::new(&db).snapshot(&sysupgrade_snapshot(&db)).unwrap();
        put(&db, &[("Device.A", "torn copy", false)]);
        apply_staged_restore(&db);
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("backed-up"));
        assert!(!sysupgrade_snapshot(&db).exists());
    }
}
