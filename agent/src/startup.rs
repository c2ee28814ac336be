//! Building the data model at start-up: the database when it holds a configuration, the
//! factory-reset file (obuspa's `-r FILE`) when it does not.
//!
//! Rules, as obuspa users expect them:
//! - first start, or a database that was unusable and moved aside: every line of the reset file
//!   is applied, then the default ControllerTrust role;
//! - later starts: the database is the configuration; only `+` lines whose row does not exist
//!   yet are applied (a firmware upgrade can add new defaults without overwriting settings);
//! - any bad line (syntax, unknown path, invalid value) stops the start with a message naming
//!   the file and the line, and nothing of the file is applied: the agent never starts half
//!   configured.
//!
//! Lines for obuspa's own `Internal.` namespace have no meaning here and are skipped. A
//! `Device.LocalAgent.EndpointID` line names the agent: the daemon reads it with
//! [`endpoint_id_in`] before building the data model, and it is not applied as a setting.
//!
//! "Holds a configuration" ignores the core's private items (`Item::Meta`): a factory reset
//! ([`factory_reset`]) empties the configuration but keeps them, so the first start after it
//! applies the reset file and still reports the remembered `RemoteFactoryReset` cause.

use crate::reset_file::{ResetEntry, parse_reset_file};
use crate::store::SqliteStore;
use std::fmt;
use std::path::{Path, PathBuf};
use usp_areas::{Host, MqttStats, local_agent};
use usp_datamodel::plugin::{Now, Requester};
use usp_datamodel::store::{Item, Store, StoreError};
use usp_datamodel::{BuildError, DataModel, UspError};

/// A data model ready to serve, and how it came to be.
pub struct Started {
    /// The data model.
    pub dm: DataModel,
    /// True when the configuration came from the reset file (first start or recovery).
    pub from_defaults: bool,
    /// Where an unusable database was moved, if it was.
    pub moved_aside: Option<PathBuf>,
    /// The counters the data model serves as `Device.MQTT.Client.{i}.Stats.` (the host's): the
    /// MTP layer counts into this handle.
    pub mqtt_stats: MqttStats,
}

/// Why the agent cannot start.
#[derive(Debug)]
pub enum StartError {
    /// The database could not be opened (and moving it aside would not help).
    Store(StoreError),
    /// The reset file could not be read.
    ReadResetFile {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Lines of the reset file are malformed; each error names its line.
    ResetFileSyntax {
        /// The file.
        file: PathBuf,
        /// Every malformed line.
        errors: Vec<crate::reset_file::ResetFileError>,
    },
    /// A line of the reset file names something the data model refuses.
    ResetFileValue {
        /// The file.
        file: PathBuf,
        /// The line number (from 1).
        line: usize,
        /// Why the data model refused it.
        error: UspError,
    },
    /// The data model could not be built.
    Build(BuildError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Store(e) => write!(f, "{e}"),
            StartError::ReadResetFile { file, error } => {
                write!(f, "cannot read the reset file {}: {error}", file.display())
            }
            StartError::ResetFileSyntax { file, errors } => {
                write!(f, "{} has errors:", file.display())?;
                errors.iter().try_for_each(|e| write!(f, "\n  {e}"))
            }
            StartError::ResetFileValue { file, line, error } => {
                write!(f, "{}: line {line}: {}", file.display(), error.msg)
            }
            StartError::Build(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Opens (or recovers) the database at `db` and builds the data model with the areas `host`
/// asks for ([`usp_areas::plugins`]), applying the reset file `reset_file` as described in the
/// module doc.
pub fn start(
    db: &Path,
    reset_file: Option<&Path>,
    host: &Host,
    now: Now,
) -> Result<Started, StartError> {
    let entries = match reset_file {
        Some(file) => read_entries(file)?,
        None => Vec::new(),
    };
    crate::store::backup::apply_staged_restore(db);
    let (mut store, moved_aside) = SqliteStore::open_or_recover(db).map_err(StartError::Store)?;
    let from_defaults = store.load().map_err(StartError::Store)?.iter().all(Item::is_meta);
    let mqtt_stats = host.mqtt_stats.clone();
    let plugins = usp_areas::plugins(host);
    let mut dm = DataModel::new(plugins, Box::new(store), now).map_err(StartError::Build)?;
    let file = reset_file.map(Path::to_path_buf).unwrap_or_default();
    apply_entries(&mut dm, &entries, from_defaults)
        .map_err(|(line, error)| StartError::ResetFileValue { file: file.clone(), line, error })?;
    if from_defaults {
        local_agent::apply_trust_defaults(&mut dm).map_err(|error| StartError::ResetFileValue {
            file: file.clone(),
            line: 0,
            error,
        })?;
    }
    dm.flush().map_err(StartError::Store)?;
    Ok(Started { dm, from_defaults, moved_aside, mqtt_stats })
}

/// Carries out a factory reset on the database at `db` (call it after the data model that
/// used it is dropped, before starting again): the configuration goes, the core's private items
/// (the remembered boot cause) stay. The next [`start`] applies the reset file.
pub fn factory_reset(db: &Path) -> Result<(), StoreError> {
    let (mut store, moved) = SqliteStore::open_or_recover(db)?;
    if let Some(aside) = moved {
        log::warn!("factory reset: the unusable database was moved to {}", aside.display());
    }
    store.clear_configuration()
}

fn read_entries(file: &Path) -> Result<Vec<ResetEntry>, StartError> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| StartError::ReadResetFile { file: file.to_path_buf(), error })?;
    parse_reset_file(&text)
        .map_err(|errors| StartError::ResetFileSyntax { file: file.to_path_buf(), errors })
}

/// The parameter obuspa reset files (Oktopus' among them) use to name the agent.
pub const ENDPOINT_ID_PATH: &str = "Device.LocalAgent.EndpointID";

/// The Endpoint ID a reset file sets with a `Device.LocalAgent.EndpointID` line, if any. That
/// parameter is read-only in the data model: the daemon takes the value as the agent's
/// identity before the data model is built (the command line and `USP_ENDPOINT_ID` win).
pub fn endpoint_id_in(file: &Path) -> Result<Option<String>, StartError> {
    let entries = read_entries(file)?;
    Ok(entries.into_iter().rev().find(|e| e.path == ENDPOINT_ID_PATH).map(|e| e.value))
}

/// Applies the entries in one transaction: all lines when `all`, else only `+` lines.
fn apply_entries(
    dm: &mut DataModel,
    entries: &[ResetEntry],
    all: bool,
) -> Result<(), (usize, UspError)> {
    dm.begin(Requester::Internal);
    for entry in entries {
        if entry.path.starts_with("Internal.") {
            log::info!(
                "reset file line {}: {} is obuspa-internal, skipped",
                entry.line,
                entry.path
            );
            continue;
        }
        if entry.path == ENDPOINT_ID_PATH {
            // Read by the daemon before start-up (see [`endpoint_id_in`]): it names the agent.
            continue;
        }
        if !all && !entry.add_only {
            continue;
        }
        if let Err(e) = dm.apply_default(&entry.path, &entry.value, !all) {
            dm.abort();
            return Err((entry.line, e));
        }
    }
    dm.commit();
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
