//! Configuration backup and restore of the agent's database, for
//! `Device.DeviceInfo.VendorConfigFile.` ([`usp_areas::vendor_config::AgentDatabase`]):
//!
//! - a backup is `VACUUM INTO` from a connection of its own: one consistent read transaction,
//!   never a torn copy of a file being written;
//! - a restore file is checked (an SQLite file of this agent's schema that passes
//!   `quick_check`) and staged as `<db>.restore`; [`apply_staged_restore`], called at start-up
//!   before the database is opened, moves the running database's `meta` (the core's private
//!   state: the boot cause of this very restart, notifications awaiting retry) into it, then
//!   replaces the database with it by a rename. A restart at any point leaves either the old
//!   database with the staged file (applied at the next start) or the new one.
//!
//! Never does: touch the database while the data model uses it, beyond the snapshot's read.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use usp_areas::vendor_config::{self, date};

use super::SqliteStore;

/// The agent's database at a path.
#[derive(Clone, Debug)]
pub struct Database {
    path: PathBuf,
}

impl Database {
    /// The database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Database {
        Database { path: path.into() }
    }
}

/// Where a restore is staged for the database `db`.
pub fn staged_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".restore");
    PathBuf::from(name)
}

fn sidecar(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl usp_areas::vendor_config::AgentDatabase for Database {
    fn snapshot(&self, dest: &Path) -> Result<(), String> {
        let _ = std::fs::remove_file(dest);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(|e| e.to_string())?;
        let target = dest.to_str().ok_or("the backup path is not UTF-8")?;
        conn.execute("VACUUM INTO ?1", [target])
            .map_err(|e| format!("cannot snapshot {}: {e}", self.path.display()))?;
        Ok(())
    }

    fn stage_restore(&self, file: &Path) -> Result<(), String> {
        let mut head = [0u8; 16];
        let read = std::fs::File::open(file).and_then(|mut f| {
            use std::io::Read;
            f.read_exact(&mut head)
        });
        if read.is_err() || &head != b"SQLite format 3\0" {
            return Err("not an agent database (no SQLite header)".into());
        }
        let version: i64 = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .map_err(|e| format!("not an agent database: {e}"))?;
        if version == 0 {
            return Err("not an agent database (no uspagent schema)".into());
        }
        let store = SqliteStore::open(file).map_err(|e| e.to_string())?;
        store.quick_check().map_err(|e| e.to_string())?;
        drop(store);
        let staged = staged_path(&self.path);
        std::fs::rename(file, &staged).map_err(|e| format!("cannot stage the restore: {e}"))?;
        log::warn!("configuration restore staged in {}", staged.display());
        Ok(())
    }
}

/// The snapshot a `sysupgrade -b` archive carries ([`vendor_config::SNAPSHOT`]) beside `db`.
pub fn sysupgrade_snapshot(db: &Path) -> PathBuf {
    db.parent().unwrap_or(Path::new(".")).join(vendor_config::SNAPSHOT)
}

/// Replaces the database `db` with a staged restore, if there is one (see the module doc).
/// Call before opening `db`. A failure is logged and the staged file set aside: the agent
/// starts on its old database.
///
/// A `sysupgrade -b` snapshot found beside `db` came from an archive restored by hand (LuCI,
/// `sysupgrade -r`: the agent removes its own once the archive is made) and is staged first:
/// it is the consistent copy of the database that archive holds.
pub fn apply_staged_restore(db: &Path) {
    let staged = staged_path(db);
    let snapshot = sysupgrade_snapshot(db);
    if snapshot.is_file() && !staged.exists() {
        log::warn!("restoring the agent's database from {}", snapshot.display());
        let _ = std::fs::rename(&snapshot, &staged);
    }
    let _ = std::fs::remove_file(&snapshot);
    if !staged.is_file() {
        return;
    }
    if let Err(e) = keep_meta(&staged, db) {
        log::error!("the staged restore {} cannot be applied: {e}", staged.display());
        let _ = std::fs::rename(&staged, sidecar(db, ".restore-failed"));
        return;
    }
    // The old database's journal files must not meet the new database.
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(sidecar(db, suffix));
    }
    match std::fs::rename(&staged, db) {
        Ok(()) => {
            log::warn!("the database was replaced by the restored configuration");
            let state = db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            date::record_applied(state, "uspagent", date::now());
        }
        Err(e) => log::error!("cannot replace {} by {}: {e}", db.display(), staged.display()),
    }
}

/// Copies the `meta` table of `db` (when it exists) into the staged database, in one
/// transaction.
fn keep_meta(staged: &Path, db: &Path) -> Result<(), String> {
    let mut conn = Connection::open(staged).map_err(|e| e.to_string())?;
    if !db.is_file() {
        return Ok(());
    }
    let old = db.to_str().ok_or("the database path is not UTF-8")?;
    conn.execute("ATTACH DATABASE ?1 AS old", [old]).map_err(|e| e.to_string())?;
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    tx.execute_batch("DELETE FROM meta; INSERT INTO meta SELECT key, value FROM old.meta;")
        .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    conn.execute_batch("DETACH DATABASE old").map_err(|e| e.to_string())?;
    // Leave no WAL beside the staged file: it is renamed alone.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(|e| e.to_string())?;
    conn.execute_batch("PRAGMA journal_mode=DELETE").map_err(|e| e.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use usp_areas::vendor_config::AgentDatabase as _;
    use usp_datamodel::store::{Change, Item, Store};

    fn put(store: &mut SqliteStore, path: &str, value: &str) {
        let item = Item::Value { path: path.into(), value: value.into() };
        store.write(&[Change::Put(item)]).unwrap();
    }

    fn meta(store: &mut SqliteStore, key: &str, value: &str) {
        store.write(&[Change::Put(Item::Meta { key: key.into(), value: value.into() })]).unwrap();
    }

    fn value_of(db: &Path, path: &str) -> Option<String> {
        let mut store = SqliteStore::open(db).unwrap();
        store.load().unwrap().into_iter().find_map(|i| match i {
            Item::Value { path: p, value } if p == path => Some(value),
            Item::Meta { key, value } if key == path => Some(value),
            _ => None,
        })
    }

    #[test]
    fn a_snapshot_restored_replaces_the_configuration_and_keeps_the_running_meta() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usp.db");
        let mut store = SqliteStore::open(&db).unwrap();
        put(&mut store, "Device.A", "backed-up");
        meta(&mut store, "boot/cause", "old");
        let database = Database::new(&db);
        let snap = dir.path().join("snap.db");
        // Taken while the store's connection is open (and holds WAL frames).
        database.snapshot(&snap).unwrap();
        put(&mut store, "Device.A", "changed later");
        meta(&mut store, "boot/cause", "RemoteReboot");
        drop(store);
        database.stage_restore(&snap).unwrap();
        assert!(!snap.exists() && staged_path(&db).exists(), "staged by a rename");
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("changed later"), "not yet");
        apply_staged_restore(&db);
        assert!(!staged_path(&db).exists());
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("backed-up"));
        assert_eq!(value_of(&db, "boot/cause").as_deref(), Some("RemoteReboot"), "meta kept");
        apply_staged_restore(&db); // nothing staged: nothing happens
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("backed-up"));
    }

    #[test]
    fn bad_restore_files_are_refused_and_a_broken_staged_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("usp.db");
        let mut store = SqliteStore::open(&db).unwrap();
        put(&mut store, "Device.A", "kept");
        drop(store);
        let database = Database::new(&db);
        let junk = dir.path().join("junk");
        std::fs::write(&junk, b"SQLite format 3\0garbage that is no database").unwrap();
        assert!(database.stage_restore(&junk).is_err());
        let empty = dir.path().join("empty.db");
        Connection::open(&empty).unwrap().execute_batch("CREATE TABLE t(x)").unwrap();
        let e = database.stage_restore(&empty).unwrap_err();
        assert!(e.contains("no uspagent schema"), "{e}");
        assert!(!staged_path(&db).exists());
        // A staged file broken after staging (a torn write): the old database stays.
        std::fs::write(staged_path(&db), b"torn").unwrap();
        apply_staged_restore(&db);
        assert_eq!(value_of(&db, "Device.A").as_deref(), Some("kept"));
        assert!(sidecar(&db, ".restore-failed").exists());
    }
}
