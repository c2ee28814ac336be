//! Opening the SQLite database: configuration, creation and upgrade of the schema, and
//! telling an unusable file (moved aside by `SqliteStore::open_or_recover`) from other
//! failures. Never reads or writes items (the parent module does).

use rusqlite::{Connection, ErrorCode, OptionalExtension as _, TransactionBehavior};
use std::path::{Path, PathBuf};
use usp_datamodel::store::StoreError;

use super::{
    OpenError, SCHEMA, SCHEMA_VERSION, SELECT_COUNTERS, SELECT_META, SELECT_ROWS, SELECT_VALUES,
    SqliteStore, UPGRADE_1_TO_2,
};

/// Opens, configures and (when new) initializes the database.
pub(super) fn open_inner(path: &Path) -> Result<SqliteStore, OpenError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(OpenError::Fatal(StoreError(format!(
            "cannot open database {}: directory {} does not exist",
            path.display(),
            dir.display()
        ))));
    }
    let mut conn = Connection::open(path).map_err(|e| classify(path, "opening", e))?;
    // The first statement that reads the file: a file that is not a database fails here.
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| classify(path, "reading the schema version of", e))?;
    if version == 0 {
        // Version 0 is also what another program's database says (obuspa's, say): refuse to
        // touch it, not even to switch its journal mode.
        let foreign: Option<String> = conn
            .query_row("SELECT name FROM sqlite_master LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| classify(path, "reading", e))?;
        if let Some(name) = foreign {
            return Err(OpenError::Unusable(format!(
                "not a uspagent database (schema version 0, but it holds `{name}`)"
            )));
        }
    } else if version != SCHEMA_VERSION && version != 1 {
        return Err(OpenError::Unusable(format!(
            "schema version {version} is not {SCHEMA_VERSION}, the version this agent uses"
        )));
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| classify(path, "setting WAL mode on", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!("database {}: journal_mode is {mode}, not wal", path.display());
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL")
        .map_err(|e| classify(path, "configuring", e))?;
    if version == 0 {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(path, "initializing", e))?;
        tx.execute_batch(SCHEMA)
            .and_then(|()| tx.pragma_update(None, "user_version", SCHEMA_VERSION))
            .and_then(|()| tx.commit())
            .map_err(|e| classify(path, "initializing", e))?;
    } else if version == 1 {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| classify(path, "upgrading", e))?;
        tx.execute_batch(UPGRADE_1_TO_2)
            .and_then(|()| tx.pragma_update(None, "user_version", SCHEMA_VERSION))
            .and_then(|()| tx.commit())
            .map_err(|e| classify(path, "upgrading", e))?;
        log::info!("database {}: upgraded to schema version {SCHEMA_VERSION}", path.display());
    }
    for sql in [SELECT_VALUES, SELECT_ROWS, SELECT_COUNTERS, SELECT_META] {
        if let Err(e) = conn.prepare_cached(sql) {
            return Err(match classify(path, "reading", e) {
                OpenError::Unusable(r) => OpenError::Unusable(r),
                OpenError::Fatal(e) => OpenError::Unusable(format!("schema does not match: {e}")),
            });
        }
    }
    // Freed cells are zeroed: a secret sealed in place leaves no plaintext behind.
    conn.execute_batch("PRAGMA secure_delete=ON").map_err(|e| classify(path, "configuring", e))?;
    let secrets = super::secret::Secrets::load_or_create(&super::secret::key_path(path))
        .map_err(OpenError::Fatal)?;
    Ok(SqliteStore { conn, path: path.to_path_buf(), secrets })
}

/// Sorts an SQLite error into "the file is unusable" (corrupt, not a database) and the rest.
pub(super) fn classify(path: &Path, what: &str, e: rusqlite::Error) -> OpenError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            OpenError::Unusable(e.to_string())
        }
        _ => OpenError::Fatal(StoreError(format!("{what} database {}: {e}", path.display()))),
    }
}

/// Renames the database and its `-wal`/`-shm` files to the first free `<path>.corrupt-<n>`.
pub(super) fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
    let with_suffix = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_os_string();
        s.push(suffix);
        PathBuf::from(s)
    };
    let taken = |p: &Path| p.symlink_metadata().is_ok();
    let mut n = 1u32;
    let aside = loop {
        let candidate = with_suffix(path, &format!(".corrupt-{n}"));
        if !taken(&candidate)
            && !taken(&with_suffix(&candidate, "-wal"))
            && !taken(&with_suffix(&candidate, "-shm"))
        {
            break candidate;
        }
        n = n
            .checked_add(1)
            .ok_or_else(|| StoreError(format!("no free name to move {} aside", path.display())))?;
    };
    for suffix in ["", "-wal", "-shm"] {
        let from = with_suffix(path, suffix);
        if !taken(&from) {
            continue;
        }
        let to = with_suffix(&aside, suffix);
        std::fs::rename(&from, &to).map_err(|e| {
            StoreError(format!("cannot move {} aside to {}: {e}", from.display(), to.display()))
        })?;
    }
    Ok(aside)
}
