//! [`SqliteStore`]: the data model's persistent items in an SQLite database.
//!
//! One file holds four tables, one per kind of [`Item`]; the first three are keyed by instance
//! path:
//!
//! | table      | columns                                        | item              |
//! |------------|------------------------------------------------|-------------------|
//! | `values`   | `path TEXT PRIMARY KEY, value TEXT NOT NULL`   | [`Item::Value`]   |
//! | `rows`     | `path TEXT PRIMARY KEY, key TEXT` (NULL: none) | [`Item::Row`]     |
//! | `counters` | `path TEXT PRIMARY KEY, next INTEGER NOT NULL` | [`Item::Counter`] |
//! | `meta`     | `key TEXT PRIMARY KEY, value TEXT NOT NULL`    | [`Item::Meta`]    |
//!
//! The tables are `WITHOUT ROWID`: the path is the only key, so the row lives in the primary-key
//! b-tree itself and prefix deletion ([`Change::RemoveRow`]) is a range scan of that tree.
//! `PRAGMA user_version` holds the schema version ([`SCHEMA_VERSION`]); a version-1 database
//! (without `meta`) is upgraded in place when opened.
//!
//! A factory reset empties the configuration but keeps `meta`
//! ([`SqliteStore::clear_configuration`]): the core remembered there why the agent restarts
//! (`RemoteFactoryReset` and its CommandKey, reported by the next `Boot!`).
//!
//! Secret values (parameters named `…Password`, `…Passphrase`, `…Secret`, …) are stored
//! sealed with a device-local key (see [`secret`] for the format and the threat model); a
//! plaintext one left by an older agent is sealed when the database is first loaded, and the
//! freed bytes are zeroed (`secure_delete`, a WAL checkpoint).
//!
//! A database that cannot be used (not an SQLite file, corrupt, failing `PRAGMA quick_check`,
//! another program's database, or a schema from a newer agent) is moved aside by
//! [`SqliteStore::open_or_recover`], which starts a fresh one: the agent then rebuilds its
//! configuration from defaults and the factory-reset file, and the old file stays for analysis.

pub mod backup;
mod open;
mod secret;
#[cfg(feature = "openwrt")]
pub mod sysupgrade;

use open::{classify, move_aside, open_inner};
use rusqlite::{Connection, TransactionBehavior, params};
use std::fmt;
use std::path::{Path, PathBuf};
use usp_datamodel::store::{Change, Item, Store, StoreError};

/// The schema version written to `PRAGMA user_version` by this code.
pub const SCHEMA_VERSION: i64 = 2;

/// The tables, created together with `user_version` in one transaction.
const SCHEMA: &str = "
CREATE TABLE \"values\" (path TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE rows (path TEXT PRIMARY KEY NOT NULL, key TEXT) WITHOUT ROWID;
CREATE TABLE counters (path TEXT PRIMARY KEY NOT NULL, next INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
";

/// From version 1 to 2: the `meta` table.
const UPGRADE_1_TO_2: &str =
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;";

const SELECT_VALUES: &str = "SELECT path, value FROM \"values\"";
const SELECT_ROWS: &str = "SELECT path, key FROM rows";
const SELECT_COUNTERS: &str = "SELECT path, next FROM counters";
const SELECT_META: &str = "SELECT key, value FROM meta";

const PUT_VALUE: &str = "INSERT OR REPLACE INTO \"values\" (path, value) VALUES (?1, ?2)";
const PUT_ROW: &str = "INSERT OR REPLACE INTO rows (path, key) VALUES (?1, ?2)";
const PUT_COUNTER: &str = "INSERT OR REPLACE INTO counters (path, next) VALUES (?1, ?2)";
const PUT_META: &str = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)";
const REMOVE_META: &str = "DELETE FROM meta WHERE key = ?1";

/// `DELETE ... WHERE path >= ?1 AND path < ?2` for each table, and the unbounded form used when
/// the prefix has no successor (empty, or ending with `char::MAX`).
const REMOVE_RANGE: [&str; 3] = [
    "DELETE FROM \"values\" WHERE path >= ?1 AND path < ?2",
    "DELETE FROM rows WHERE path >= ?1 AND path < ?2",
    "DELETE FROM counters WHERE path >= ?1 AND path < ?2",
];
const REMOVE_FROM: [&str; 3] = [
    "DELETE FROM \"values\" WHERE path >= ?1",
    "DELETE FROM rows WHERE path >= ?1",
    "DELETE FROM counters WHERE path >= ?1",
];

/// The persistent store of the agent: an SQLite database file.
///
/// Durability: the database runs in WAL mode with `synchronous=NORMAL`. Every batch is one
/// transaction, appended to the write-ahead log with checksummed frames and fsynced only at
/// checkpoints. A crash of the agent loses nothing that was committed; a power cut or kernel
/// crash may lose the last few committed batches, but never leaves part of a batch: on the next
/// open SQLite ignores an incomplete transaction at the end of the log, so the database is always
/// in the state after some complete batch. This trades the last seconds of changes for far fewer
/// flash writes and fsyncs, which suits a router.
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    secrets: secret::Secrets,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Why opening failed: either the file is unusable as our database (moving it aside and
/// starting afresh helps) or something else is wrong (permissions, a missing directory, the
/// database locked by another process) and moving the file would only lose data.
enum OpenError {
    Unusable(String),
    Fatal(StoreError),
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its tables) if the file does not exist.
    ///
    /// Fails when the directory does not exist, the file cannot be opened or is not a usable
    /// uspagent database; use [`SqliteStore::open_or_recover`] to replace an unusable file.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        match open_inner(path) {
            Ok(store) => Ok(store),
            Err(OpenError::Fatal(e)) => Err(e),
            Err(OpenError::Unusable(reason)) => {
                Err(StoreError(format!("database {} is unusable: {reason}", path.display())))
            }
        }
    }

    /// Opens the database at `path` like [`SqliteStore::open`], then checks it with
    /// `PRAGMA quick_check`. When the file is unusable (not an SQLite database, corrupt, failing
    /// the check, another program's database, or a newer schema), it is renamed to
    /// `<path>.corrupt-<n>` (the first free `n` from 1; its `-wal` and `-shm` files follow as
    /// `<path>.corrupt-<n>-wal` and `-shm`, so SQLite still finds them when the moved file is
    /// opened), the reason is logged, and a fresh empty database is created at `path`.
    ///
    /// Returns the store and, when a file was moved aside, its new path: the caller then knows
    /// the configuration must be rebuilt from defaults. Failures that a fresh file would not
    /// cure (a missing directory, permissions, a lock held by another process) are returned as
    /// errors and nothing is moved.
    pub fn open_or_recover(
        path: impl AsRef<Path>,
    ) -> Result<(SqliteStore, Option<PathBuf>), StoreError> {
        let path = path.as_ref();
        let reason = match open_inner(path) {
            Ok(store) => match store.check() {
                Ok(()) => return Ok((store, None)),
                Err(OpenError::Fatal(e)) => return Err(e),
                Err(OpenError::Unusable(reason)) => reason,
            },
            Err(OpenError::Fatal(e)) => return Err(e),
            Err(OpenError::Unusable(reason)) => reason,
        };
        // The failed connection is closed by now: renaming under an open handle would leave
        // SQLite writing to the moved file.
        let aside = move_aside(path)?;
        log::error!(
            "database {} is unusable ({reason}); moved it aside to {} and starting with an \
             empty database",
            path.display(),
            aside.display()
        );
        let store = SqliteStore::open(path)?;
        Ok((store, Some(aside)))
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `PRAGMA quick_check`; an error describes the first problems SQLite found.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        self.check().map_err(|e| match e {
            OpenError::Fatal(e) => e,
            OpenError::Unusable(reason) => StoreError(format!("{}: {reason}", self.path.display())),
        })
    }

    fn check(&self) -> Result<(), OpenError> {
        let problems = (|| -> rusqlite::Result<Vec<String>> {
            let mut stmt = self.conn.prepare("PRAGMA quick_check(5)")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect()
        })()
        .map_err(|e| classify(&self.path, "running quick_check on", e))?;
        if problems.len() == 1 && problems[0] == "ok" {
            Ok(())
        } else {
            Err(OpenError::Unusable(format!("quick_check failed: {}", problems.join("; "))))
        }
    }

    /// Removes the whole configuration (values, rows, counters) in one transaction and keeps
    /// the private items ([`Item::Meta`]): what a factory reset does before the agent restarts
    /// on the factory-reset file. The core's remembered boot cause survives it.
    pub fn clear_configuration(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |e: rusqlite::Error| StoreError(format!("clearing {}: {e}", path.display()));
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        tx.execute_batch("DELETE FROM \"values\"; DELETE FROM rows; DELETE FROM counters;")
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Seals secret values found in plaintext (written by an agent before sealing existed),
    /// in one transaction, then checkpoints the WAL so that no copy of the plaintext stays in
    /// the log (`secure_delete` zeroed the old cells).
    fn seal_plaintext(&mut self, plaintext: &[(String, String)]) -> Result<(), StoreError> {
        if plaintext.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |e: rusqlite::Error| StoreError(format!("sealing in {}: {e}", path.display()));
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        for (p, value) in plaintext {
            let sealed = self.secrets.seal(value);
            tx.prepare_cached(PUT_VALUE)
                .and_then(|mut s| s.execute(params![p, sealed]))
                .map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| self.err("checkpointing", e))?;
        log::info!("database {}: {} stored password(s) sealed", path.display(), plaintext.len());
        Ok(())
    }

    fn err(&self, what: &str, e: rusqlite::Error) -> StoreError {
        StoreError(format!("{what} {}: {e}", self.path.display()))
    }
}

/// The smallest string greater than every string that starts with `prefix`: the prefix with
/// its last character incremented. SQLite compares TEXT bytewise and UTF-8 preserves code point
/// order, so `prefix <= path < successor` holds exactly for the paths starting with `prefix`.
/// `None` when no such string exists (empty prefix, or one ending with `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars = prefix.chars();
    let last = chars.next_back()?;
    let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32)?;
    let mut s = String::with_capacity(prefix.len() + 1);
    s.push_str(chars.as_str());
    s.push(next);
    Some(s)
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut stmt =
            self.conn.prepare_cached(SELECT_VALUES).map_err(|e| self.err("reading", e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err("reading", e))?;
        let mut plaintext = Vec::new();
        for row in rows {
            let (path, value) = row.map_err(|e| self.err("reading", e))?;
            let value = if secret::is_secret(&path) {
                match self.secrets.open(&value) {
                    None if value.is_empty() => value,
                    None => {
                        plaintext.push((path.clone(), value.clone()));
                        value
                    }
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        log::error!("stored value of {path} cannot be read ({e}); not loaded");
                        continue;
                    }
                }
            } else {
                value
            };
            items.push(Item::Value { path, value });
        }
        drop(stmt);
        self.seal_plaintext(&plaintext)?;
        let mut stmt = self.conn.prepare_cached(SELECT_ROWS).map_err(|e| self.err("reading", e))?;
        let rows = stmt
            .query_map([], |r| Ok(Item::Row { path: r.get(0)?, key: r.get(1)? }))
            .map_err(|e| self.err("reading", e))?;
        for item in rows {
            items.push(item.map_err(|e| self.err("reading", e))?);
        }
        drop(stmt);
        let mut stmt =
            self.conn.prepare_cached(SELECT_COUNTERS).map_err(|e| self.err("reading", e))?;
        let rows = stmt
            .query_map([], |r| Ok(Item::Counter { path: r.get(0)?, next: r.get(1)? }))
            .map_err(|e| self.err("reading", e))?;
        for item in rows {
            items.push(item.map_err(|e| self.err("reading", e))?);
        }
        drop(stmt);
        let mut stmt = self.conn.prepare_cached(SELECT_META).map_err(|e| self.err("reading", e))?;
        let rows = stmt
            .query_map([], |r| Ok(Item::Meta { key: r.get(0)?, value: r.get(1)? }))
            .map_err(|e| self.err("reading", e))?;
        for item in rows {
            items.push(item.map_err(|e| self.err("reading", e))?);
        }
        Ok(items)
    }

    fn write(&mut self, batch: &[Change]) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let err = |e: rusqlite::Error| StoreError(format!("writing to {}: {e}", path.display()));
        // IMMEDIATE takes the write lock up front; dropping the transaction without commit (on
        // any error below) rolls the whole batch back.
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        for change in batch {
            match change {
                Change::Put(Item::Value { path, value }) => {
                    let sealed;
                    let value = if secret::is_secret(path) && !value.is_empty() {
                        sealed = self.secrets.seal(value);
                        &sealed
                    } else {
                        value
                    };
                    tx.prepare_cached(PUT_VALUE)
                        .and_then(|mut s| s.execute(params![path, value]))
                        .map_err(err)?;
                }
                Change::Put(Item::Row { path, key }) => {
                    tx.prepare_cached(PUT_ROW)
                        .and_then(|mut s| s.execute(params![path, key]))
                        .map_err(err)?;
                }
                Change::Put(Item::Counter { path, next }) => {
                    tx.prepare_cached(PUT_COUNTER)
                        .and_then(|mut s| s.execute(params![path, next]))
                        .map_err(err)?;
                }
                Change::Put(Item::Meta { key, value }) => {
                    tx.prepare_cached(PUT_META)
                        .and_then(|mut s| s.execute(params![key, value]))
                        .map_err(err)?;
                }
                Change::RemoveMeta(key) => {
                    tx.prepare_cached(REMOVE_META)
                        .and_then(|mut s| s.execute(params![key]))
                        .map_err(err)?;
                }
                Change::RemoveRow(prefix) => match successor(prefix) {
                    Some(end) => {
                        for sql in REMOVE_RANGE {
                            tx.prepare_cached(sql)
                                .and_then(|mut s| s.execute(params![prefix, end]))
                                .map_err(err)?;
                        }
                    }
                    None => {
                        for sql in REMOVE_FROM {
                            tx.prepare_cached(sql)
                                .and_then(|mut s| s.execute(params![prefix]))
                                .map_err(err)?;
                        }
                    }
                },
            }
        }
        tx.commit().map_err(err)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
