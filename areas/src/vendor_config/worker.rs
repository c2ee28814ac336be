//! The VendorConfigFile worker: what a row backs up ([`Source`]), and the slow work of a
//! Backup or Restore (snapshot or `sysupgrade -b`, upload; download, checksum, staging).
//!
//! Never does: run on the data-model thread, or touch the live database file itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::AgentDatabase;
use crate::transfer::sum::Algorithm;
use crate::transfer::{self, Fetch};

/// What a row backs up.
#[derive(Clone, Debug)]
pub(super) enum Source {
    /// The agent's database.
    Database(Arc<dyn AgentDatabase>),
    /// OpenWrt's `sysupgrade -b` archive, made and restored by this program; the agent's
    /// database, when there is one, goes into it as a consistent snapshot.
    Sysupgrade(PathBuf, Option<Arc<dyn AgentDatabase>>),
}

impl std::fmt::Debug for dyn AgentDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentDatabase")
    }
}

/// Work for the worker: the row's source, and what to do.
pub(super) struct Job {
    pub(super) source: Source,
    pub(super) restore: Option<Option<(Algorithm, String)>>,
    pub(super) fetch: Box<Fetch>,
}

/// What the worker did: the bytes moved, or why it failed.
pub(super) struct Done(pub(super) Result<u64, String>);

/// Where files in transit go.
pub(super) struct Dirs {
    pub(super) state: PathBuf,
    pub(super) tmp: PathBuf,
}

/// Runs one job on the worker thread.
pub(super) fn run(dirs: &Dirs, job: Job) -> Result<u64, String> {
    match (&job.source, job.restore) {
        (source, None) => {
            let file = match source {
                Source::Database(_) => dirs.state.join("backup.db.tmp"),
                Source::Sysupgrade(..) => dirs.tmp.join("uspagent-backup.tar.gz"),
            };
            let result = make_backup(source, &dirs.state, &file).and_then(|()| {
                transfer::upload(&job.fetch, &file).map_err(|e| format!("upload failed: {e}"))
            });
            let _ = std::fs::remove_file(&file);
            result
        }
        (source, Some(checksum)) => {
            let file = match source {
                Source::Database(_) => dirs.state.join("restore.part"),
                Source::Sysupgrade(..) => dirs.tmp.join("uspagent-restore.tar.gz"),
            };
            let result = fetch_checked(&job.fetch, &file, checksum.as_ref())
                .and_then(|size| stage(source, &dirs.state, &file).map(|()| size));
            if result.is_err() || matches!(source, Source::Database(_)) {
                let _ = std::fs::remove_file(&file);
            }
            result
        }
    }
}

/// Writes the backup of `source` into `file`; a sysupgrade archive gets the database's
/// snapshot from the state directory `state` (see the module doc of `vendor_config`).
fn make_backup(source: &Source, state: &Path, file: &Path) -> Result<(), String> {
    match source {
        Source::Database(db) => db.snapshot(file),
        Source::Sysupgrade(program, db) => {
            let snapshot = state.join(super::SNAPSHOT);
            if let Some(db) = db {
                db.snapshot(&snapshot)?;
            }
            let status = std::process::Command::new(program).arg("-b").arg(file).status();
            let _ = std::fs::remove_file(&snapshot);
            match status {
                Ok(s) if s.success() && file.is_file() => Ok(()),
                Ok(s) => Err(format!("{} -b failed ({s})", program.display())),
                Err(e) => Err(format!("cannot run {}: {e}", program.display())),
            }
        }
    }
}

/// Downloads `fetch` into `file`, checking the checksum; the size.
fn fetch_checked(
    fetch: &Fetch,
    file: &Path,
    checksum: Option<&(Algorithm, String)>,
) -> Result<u64, String> {
    let mut hasher = checksum.map(|(a, _)| a.hasher());
    let size = transfer::download(fetch, file, &mut |chunk, _| {
        if let Some(h) = hasher.as_mut() {
            h.update(chunk);
        }
    })
    .map_err(|e| format!("download failed: {e}"))?;
    if let (Some((_, want)), Some(h)) = (checksum, hasher) {
        let sum = h.finish_hex();
        if sum != *want {
            return Err(format!("checksum mismatch: {sum}, {want} expected"));
        }
    }
    Ok(size)
}

/// Checks the downloaded `file` and stages it for the host to apply at its restart.
fn stage(source: &Source, state: &Path, file: &Path) -> Result<(), String> {
    match source {
        Source::Database(db) => db.stage_restore(file),
        #[cfg(feature = "openwrt")]
        Source::Sysupgrade(program, _) => {
            let mut magic = [0u8; 2];
            let read = std::fs::File::open(file).and_then(|mut f| {
                use std::io::Read;
                f.read_exact(&mut magic)
            });
            if read.is_err() || magic != [0x1f, 0x8b] {
                return Err("not a sysupgrade backup (not a gzip archive)".into());
            }
            crate::firmware::openwrt::request_restore(state, program, file)
                .map_err(|e| e.to_string())
        }
        #[cfg(not(feature = "openwrt"))]
        Source::Sysupgrade(..) => {
            let _ = state;
            Err("no OpenWrt support in this build".into())
        }
    }
}
