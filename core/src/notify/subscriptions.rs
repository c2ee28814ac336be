//! `Device.LocalAgent.Subscription.{i}.` as the engine sees it: the rows read into the
//! [`Index`], the removal of subscriptions whose recipient controller is gone (TP-469 1.78),
//! `TimeToLive` (TP-469 1.55), the non-`Persistent` rows deleted at start-up (indexed once more
//! for the `Boot!` of that start, TP-469 9.10), and the polling of live parameters named by
//! ValueChange subscriptions.
//!
//! - A row takes part when `Enable` is true, `NotifType` is known and `Recipient` names an
//!   existing `Device.LocalAgent.Controller.{i}` (with or without the trailing dot). A row
//!   whose `Recipient` names a controller instance that no longer exists is deleted; an empty
//!   `Recipient` (a row made by hand in the defaults file) is kept but sends nothing.
//! - `TimeToLive` (seconds, 0 = forever) counts from `CreationDate` when it and the clock are
//!   known, else from the moment the engine first saw the value; when it runs out the row is
//!   deleted, enabled or not. Changing it restarts the count the same way.
//! - `TriggerAction` and `TriggerConfigSettings` are read into the index (see `trigger`).
//! - Live parameters under the ValueChange ReferenceLists are watched by the data model's
//!   polling fallback (at most [`MAX_WATCHED`]); the list is rebuilt when subscriptions change
//!   and when instances are created or deleted while something is watched.

use std::collections::HashMap;
use std::time::Duration;

use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Now, Requester};
use usp_datamodel::schema::{ObjId, Storage};
use usp_datamodel::value::{DateTime, Value};
use usp_datamodel::{DataModel, Item, Target};

use super::index::{Index, Kind, Sub, has_live};
use crate::Core;

/// The Subscription table's supported path.
pub(crate) const TABLE: &str = "Device.LocalAgent.Subscription.{i}.";

/// The most live parameters watched for ValueChange by polling.
pub(crate) const MAX_WATCHED: usize = 10_000;

/// Changes under these prefixes rebuild the index.
pub(crate) const INDEX_PREFIXES: [&str; 2] =
    ["Device.LocalAgent.Subscription.", "Device.LocalAgent.Controller."];

/// One Subscription row as read.
#[derive(Debug)]
struct Row {
    n: u32,
    enable: bool,
    id: String,
    kind: Option<Kind>,
    refs: String,
    /// The controller instance `Recipient` names, `None` when empty or not a controller path.
    recipient: Option<u32>,
    persistent: bool,
    ttl: u32,
    retry: bool,
    expiration: u32,
    creation: Option<DateTime>,
    /// `TriggerAction`: (send the Notify, apply the configuration).
    action: (bool, bool),
    config: String,
}

/// The instance number named by a `Recipient` value.
pub(crate) fn controller_number(recipient: &str) -> Option<u32> {
    recipient
        .trim()
        .trim_end_matches('.')
        .strip_prefix("Device.LocalAgent.Controller.")?
        .parse()
        .ok()
}

/// The index entries of the enabled rows with a known recipient controller (`controllers`:
/// instance number → Endpoint ID).
fn index_entries(rows: Vec<Row>, controllers: Option<&HashMap<u32, String>>) -> Vec<(Sub, String)> {
    let mut subs = Vec::new();
    for r in rows {
        let (true, Some(kind), Some(c)) = (r.enable, r.kind, r.recipient) else { continue };
        let Some(to) = controllers.and_then(|m| m.get(&c)).cloned() else { continue };
        let sub = Sub {
            row: r.n,
            id: r.id,
            kind,
            to,
            controller: c,
            retry: r.retry,
            expiration: r.expiration,
            persistent: r.persistent,
            notify: r.action.0,
            config: if r.action.1 { r.config } else { String::new() },
        };
        subs.push((sub, r.refs));
    }
    subs
}

/// A row as the Subscription plugin handed it over when it deleted it at start-up: its
/// instance path and (parameter name, value) pairs (`REMOVED_AT_START_EVENT`).
fn removed_row(path: &str, args: &[(String, String)]) -> Option<Row> {
    let n = path.strip_prefix("Device.LocalAgent.Subscription.")?.trim_end_matches('.').parse();
    let arg = |name: &str| {
        args.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default()
    };
    let flag = |name: &str| matches!(arg(name), "true" | "1");
    Some(Row {
        n: n.ok()?,
        enable: flag("Enable"),
        id: arg("ID").to_owned(),
        kind: Kind::parse(arg("NotifType")),
        refs: arg("ReferenceList").to_owned(),
        recipient: controller_number(arg("Recipient")),
        persistent: false,
        ttl: 0,
        retry: flag("NotifRetry"),
        expiration: arg("NotifExpiration").parse().unwrap_or(0),
        creation: None,
        action: super::trigger::parse_action(arg("TriggerAction")),
        config: arg("TriggerConfigSettings").to_owned(),
    })
}

/// Reads every row of the Subscription table (none when the table is not declared).
fn read_rows(dm: &mut DataModel) -> Vec<Row> {
    let Some(table) = dm.schema().obj_by_path(TABLE) else { return Vec::new() };
    const NAMES: [&str; 12] = [
        "Enable",
        "ID",
        "NotifType",
        "ReferenceList",
        "Recipient",
        "Persistent",
        "TimeToLive",
        "NotifRetry",
        "NotifExpiration",
        "CreationDate",
        "TriggerAction",
        "TriggerConfigSettings",
    ];
    let found: Vec<_> = NAMES.iter().map(|n| dm.schema().param_by_name(table, n)).collect();
    let params: Vec<_> = found.iter().flatten().copied().collect();
    let target = Target { obj: table, numbers: Vec::new(), item: Item::Object };
    let mut rows = Vec::new();
    for w in dm.instances(&target, true) {
        let read = dm.read_params(&Requester::Internal, table, &w.numbers, &params);
        let mut values = read.into_iter();
        let mut get = |i: usize| found[i].and_then(|_| values.next()).and_then(Result::ok);
        let text = |v: Option<Value>| v.map(|v| v.to_string()).unwrap_or_default();
        let flag = |v: Option<Value>| v.and_then(|v| v.as_bool()).unwrap_or(false);
        let number = |v: Option<Value>| {
            v.and_then(|v| v.as_u64()).map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let (enable, id, kind, refs) = (flag(get(0)), text(get(1)), text(get(2)), text(get(3)));
        let recipient = controller_number(&text(get(4)));
        let (persistent, ttl, retry) = (flag(get(5)), number(get(6)), flag(get(7)));
        let expiration = number(get(8));
        let creation = match get(9) {
            Some(Value::DateTime(d)) if !d.is_unknown() => Some(d),
            _ => None,
        };
        let action = super::trigger::parse_action(&text(get(10)));
        let config = text(get(11));
        let Some(&n) = w.numbers.last() else { continue };
        let kind = Kind::parse(&kind);
        rows.push(Row {
            n,
            enable,
            id,
            kind,
            refs,
            recipient,
            persistent,
            ttl,
            retry,
            expiration,
            creation,
            action,
            config,
        });
    }
    rows
}

/// The TimeToLive deadline of every row that has one: row → (TimeToLive, uptime deadline).
#[derive(Debug, Default)]
pub(crate) struct Ttl {
    deadlines: HashMap<u32, (u32, Duration)>,
}

impl Ttl {
    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Duration> {
        self.deadlines.values().map(|(_, at)| *at).min()
    }

    fn update(&mut self, rows: &[Row], now: Now) {
        let mut next = HashMap::new();
        for r in rows.iter().filter(|r| r.ttl > 0) {
            let at = match self.deadlines.get(&r.n) {
                Some(&(ttl, at)) if ttl == r.ttl => at,
                _ => {
                    let elapsed = match r.creation {
                        Some(c) if !now.wall.is_unknown() => (now.wall.secs - c.secs).max(0),
                        _ => 0,
                    };
                    let left = i64::from(r.ttl).saturating_sub(elapsed).max(0);
                    now.uptime + Duration::from_secs(left.unsigned_abs())
                }
            };
            next.insert(r.n, (r.ttl, at));
        }
        self.deadlines = next;
    }
}

impl Core {
    /// Reads the Subscription and Controller tables and rebuilds the index, the TimeToLive
    /// deadlines, the Periodic! schedule and the watch list; deletes the subscriptions whose
    /// recipient controller is gone.
    pub(crate) fn rebuild_subscriptions(&mut self) {
        let now = self.dm.now();
        let controllers: Option<HashMap<u32, String>> = self
            .controller_table()
            .map(|(table, param)| self.controller_rows(table, param).into_iter().collect());
        let rows = read_rows(&mut self.dm);
        if let Some(controllers) = &controllers {
            let orphans: Vec<u32> = rows
                .iter()
                .filter(|r| r.recipient.is_some_and(|c| !controllers.contains_key(&c)))
                .map(|r| r.n)
                .collect();
            self.delete_subscriptions(&orphans, "its recipient controller was deleted");
        }
        self.notifier.ttl.update(&rows, now);
        let subs = index_entries(rows, controllers.as_ref());
        self.notifier.index = Index::build(self.dm.schema(), subs);
        self.notifier.dirty = false;
        self.forget_orphaned_notifies();
        self.update_periodic();
        self.notifier.rewatch = true;
    }

    /// Deletes Subscription rows (as the agent), logging why.
    pub(crate) fn delete_subscriptions(&mut self, rows: &[u32], why: &str) {
        let Some(table) = self.dm.schema().obj_by_path(TABLE) else { return };
        if rows.is_empty() {
            return;
        }
        self.dm.begin(Requester::Internal);
        for n in rows {
            log::info!("deleting Device.LocalAgent.Subscription.{n}.: {why}");
            if let Err(e) = self.dm.delete_row(table, &[*n]) {
                log::warn!("cannot delete Device.LocalAgent.Subscription.{n}.: {e}");
            }
        }
        self.dm.commit();
        self.notifier.dirty = true;
    }

    /// An index of the subscriptions the Subscription plugin deleted at start-up because they
    /// are not `Persistent` (`removed`: the instance path and parameters of each, from its
    /// `REMOVED_AT_START_EVENT`), so that the `Boot!` of the restart reaches them too.
    pub(crate) fn removed_index(&mut self, removed: &[(String, Vec<(String, String)>)]) -> Index {
        let controllers: Option<HashMap<u32, String>> = self
            .controller_table()
            .map(|(table, param)| self.controller_rows(table, param).into_iter().collect());
        let rows = removed.iter().filter_map(|(path, args)| removed_row(path, args)).collect();
        Index::build(self.dm.schema(), index_entries(rows, controllers.as_ref()))
    }

    /// Deletes the subscriptions whose TimeToLive ran out by `now`.
    pub(crate) fn expire_subscriptions(&mut self, now: Duration) {
        let due: Vec<u32> = self
            .notifier
            .ttl
            .deadlines
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(n, _)| *n)
            .collect();
        for n in &due {
            self.notifier.ttl.deadlines.remove(n);
        }
        self.delete_subscriptions(&due, "its TimeToLive expired");
    }

    /// Registers the live parameters under the ValueChange ReferenceLists for polling.
    pub(crate) fn rewatch(&mut self) {
        self.notifier.rewatch = false;
        self.dm.unwatch_all();
        let refs = self.notifier.index.live_refs.clone();
        let mut live: HashMap<ObjId, bool> = HashMap::new();
        let mut budget = MAX_WATCHED;
        for path in &refs {
            self.watch_path(path, &mut live, &mut budget);
        }
        if budget == 0 {
            log::warn!("ValueChange polling limited to {MAX_WATCHED} live parameters");
        }
    }

    fn watch_path(&mut self, path: &Path, live: &mut HashMap<ObjId, bool>, budget: &mut usize) {
        let Ok(targets) = self.dm.resolve(&Requester::Internal, path) else { return };
        for t in targets {
            match t.item {
                Item::Param(p) if *budget > 0 => {
                    let def = self.dm.schema().param(p);
                    if def.storage == Storage::Live && def.value_change {
                        self.dm.watch(t.obj, &t.numbers, p);
                        *budget -= 1;
                    }
                }
                Item::Object => self.watch_below(t, live, budget),
                _ => {}
            }
        }
    }

    /// Watches the live parameters of `t` and below, visiting only the objects whose subtree
    /// declares live parameters.
    fn watch_below(&mut self, t: Target, live: &mut HashMap<ObjId, bool>, budget: &mut usize) {
        if *budget == 0 || !has_live(self.dm.schema(), t.obj, live) {
            return;
        }
        if t.is_table(&self.dm) {
            for w in self.dm.walk(&t, 1) {
                let row = Target { obj: w.obj, numbers: w.numbers, item: Item::Object };
                self.watch_below(row, live, budget);
            }
            return;
        }
        let def = self.dm.schema().obj(t.obj).clone();
        for p in def.params {
            let pd = self.dm.schema().param(p);
            if *budget > 0 && pd.storage == Storage::Live && pd.value_change {
                self.dm.watch(t.obj, &t.numbers, p);
                *budget -= 1;
            }
        }
        for child in def.children {
            let sub = Target { obj: child, numbers: t.numbers.clone(), item: Item::Object };
            self.watch_below(sub, live, budget);
        }
    }
}
