//! The plugin's side of the worker: replies applied to the cache and turned into data-model
//! events (rows that appeared or vanished → the engine re-lists the table and reports
//! ObjectCreation / ObjectDeletion; configuration values that changed → ValueChange), scan
//! results turned into `NeighboringWiFiDiagnostic()` output arguments, and references between
//! rows (backend keys ↔ instance paths).

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance};
use usp_datamodel::value::Value;

use super::WiFi;
use super::backend::{Job, Reply};
use super::model::{Kind, Row, Snapshot};
use super::schema::Ids;

/// Values that move all the time: no ValueChange for them (a subscriber would drown).
const RESTLESS: &[&str] = &[
    "SignalStrength",
    "Noise",
    "SNR",
    "LastDataDownlinkRate",
    "LastDataUplinkRate",
    "Retransmissions",
    "LastChange",
    "AssociationTime",
    "ChannelsInUse",
];

impl WiFi {
    /// Applies one reply of the worker or a watcher.
    pub(super) fn on_reply(&mut self, ctx: &mut Ctx, reply: Reply) {
        match reply {
            Reply::Snapshot(Ok(snap)) => {
                self.install(ctx, snap);
                self.first_read_ended(ctx);
            }
            Reply::Snapshot(Err(e)) if !self.is_ready() => {
                log::warn!(
                    "Device.WiFi ({}): cannot read the Wi-Fi state: {e}; serving none",
                    self.backend
                );
                self.first_read_ended(ctx);
            }
            Reply::Snapshot(Err(e)) => {
                log::warn!(
                    "Device.WiFi ({}): refresh failed, keeping the last state: {e}",
                    self.backend
                )
            }
            Reply::Applied(result) => {
                self.in_flight.pop_front();
                if let Err(e) = result {
                    log::warn!("Device.WiFi ({}): applying a change failed: {e}", self.backend);
                }
                self.submit(Job::Refresh);
            }
            Reply::WasReset(result) => {
                if let Err(e) = result {
                    log::warn!("Device.WiFi ({}): reset failed: {e}", self.backend);
                }
                self.submit(Job::Refresh);
            }
            Reply::Scanned(handle, result) => {
                let outcome = result.map(|rows| scan_outputs(ctx, &self.ids, &self.snap, &rows));
                let outcome = outcome.map_err(|e| {
                    UspError::new(ErrorCode::CommandFailure, format!("neighbour scan failed: {e}"))
                });
                ctx.complete(handle, outcome);
            }
            Reply::WpsStarted(handle, result) => {
                let outcome = result
                    .map(|()| vec![("Status".into(), Value::String("Success".into()))])
                    .map_err(|e| {
                        UspError::new(ErrorCode::CommandFailure, format!("WPS not started: {e}"))
                    });
                ctx.complete(handle, outcome);
                self.submit(Job::Refresh);
            }
            Reply::Changed(why) => {
                log::debug!("Device.WiFi ({}): {why}; refreshing", self.backend);
                self.submit(Job::Refresh);
            }
            Reply::Watching(Err(e)) => {
                log::warn!("Device.WiFi ({}): no change events, polling only: {e}", self.backend)
            }
            Reply::Watching(Ok(())) => {}
        }
    }

    /// After the first read: lists every table now, so references (`LowerLayers`, scan
    /// results' `Radio`) have instance numbers before a controller lists them.
    fn first_read_ended(&mut self, ctx: &mut Ctx) {
        if self.ready.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        for kind in Kind::TABLES {
            if let Some(table) = self.ids.tables.get(&kind) {
                ctx.rows_changed(*table);
            }
        }
    }

    /// Replaces the cache, reporting what changed.
    fn install(&mut self, ctx: &mut Ctx, mut new: Snapshot) {
        for changes in &self.in_flight {
            new.apply(changes);
        }
        let old = std::mem::replace(&mut self.snap, new);
        for kind in Kind::TABLES {
            let keys = |s: &Snapshot| {
                s.rows(kind).iter().map(|r| (r.parent.clone(), r.key.clone())).collect::<Vec<_>>()
            };
            if keys(&old) != keys(&self.snap) {
                if let Some(table) = self.ids.tables.get(&kind) {
                    ctx.rows_changed(*table);
                }
            }
            for row in self.snap.rows(kind) {
                if let Some(before) = old.row(kind, &row.key) {
                    self.report_changes(ctx, kind, before, row);
                }
            }
        }
    }

    /// ValueChange for every configuration value of `row` that differs from `before`.
    fn report_changes(&self, ctx: &mut Ctx, kind: Kind, before: &Row, row: &Row) {
        for (name, value) in &row.values {
            let restless = name.starts_with("Stats.") || RESTLESS.contains(&name.as_str());
            if restless || before.values.get(name) == Some(value) {
                continue;
            }
            let Some((obj, param)) = self.ids.by_name.get(&(kind, name.clone())) else { continue };
            let Some(numbers) = numbers_of(ctx, &self.ids, kind, row) else { continue };
            let keys = numbers.iter().map(|_| None).collect();
            let inst = Instance { obj: *obj, numbers, keys };
            // A reference changes as the instance path a Get shows, never as a backend key.
            let value = match reference_kind(kind, name) {
                Some(target) => {
                    let key = value.as_str().unwrap_or("");
                    Value::String(key_to_path(ctx, &self.ids, &self.snap, target, key).into())
                }
                None => value.clone(),
            };
            ctx.value_changed(&inst, *param, &value);
        }
    }
}

/// The instance numbers of a listed row (`None` before the engine listed it).
fn numbers_of(ctx: &Ctx, ids: &Ids, kind: Kind, row: &Row) -> Option<Vec<u32>> {
    let table = *ids.tables.get(&kind)?;
    if let Some(parent_kind) = kind.parent() {
        let parent_table = *ids.tables.get(&parent_kind)?;
        let parent = ctx.row_number(parent_table, &[], &row.parent)?;
        return Some(vec![parent, ctx.row_number(table, &[parent], &row.key)?]);
    }
    Some(vec![ctx.row_number(table, &[], &row.key)?])
}

/// The kind of row a reference parameter of `kind` points at.
pub(super) fn reference_kind(kind: Kind, name: &str) -> Option<Kind> {
    match (kind, name) {
        (Kind::Ssid, "LowerLayers") => Some(Kind::Radio),
        (Kind::AccessPoint | Kind::EndPoint, "SSIDReference") => Some(Kind::Ssid),
        (Kind::EndPoint, "ProfileReference") => Some(Kind::Profile),
        _ => None,
    }
}

/// The instance path of the row `key` of `kind` (`""` if absent or not listed yet).
pub(super) fn key_to_path(ctx: &Ctx, ids: &Ids, snap: &Snapshot, kind: Kind, key: &str) -> String {
    let (Some(table), Some(row)) = (ids.tables.get(&kind), snap.row(kind, key)) else {
        return String::new();
    };
    match numbers_of(ctx, ids, kind, row) {
        Some(numbers) if !key.is_empty() => ctx.schema().instance_path(*table, &numbers),
        _ => String::new(),
    }
}

/// The key of the top-level row of `kind` whose instance path is `path` (with or without
/// the final dot).
pub(super) fn path_to_key(
    ctx: &Ctx,
    ids: &Ids,
    snap: &Snapshot,
    kind: Kind,
    path: &str,
) -> Option<String> {
    let want = path.trim_end_matches('.');
    if want.is_empty() {
        return None;
    }
    snap.rows(kind)
        .iter()
        .find(|r| key_to_path(ctx, ids, snap, kind, &r.key).trim_end_matches('.') == want)
        .map(|r| r.key.clone())
}

/// `NeighboringWiFiDiagnostic()`'s output arguments for the scanned rows.
fn scan_outputs(ctx: &Ctx, ids: &Ids, snap: &Snapshot, rows: &[Row]) -> Vec<(Box<str>, Value)> {
    let mut out: Vec<(Box<str>, Value)> = vec![("Status".into(), Value::String("Complete".into()))];
    for (i, row) in rows.iter().enumerate() {
        for (name, value) in &row.values {
            let value = if name == "Radio" {
                Value::String(
                    key_to_path(ctx, ids, snap, Kind::Radio, value.as_str().unwrap_or("")).into(),
                )
            } else {
                value.clone()
            };
            out.push((format!("Result.{}.{name}", i + 1).into(), value));
        }
    }
    out
}
