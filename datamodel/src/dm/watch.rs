//! The polling fallback for ValueChange: live parameters whose plugin cannot push changes
//! (see [`crate::plugin::Ctx::value_changed`]) are re-read at a fixed interval while someone
//! watches them, and a change becomes a [`DmEvent::ValueChanged`] like any other.
//!
//! Stored parameters never need it: the engine sees every write to them.

use super::DataModel;
use crate::plugin::{DmEvent, Requester};
use crate::schema::{ObjId, ParamId, Storage};
use crate::value::Value;
use std::collections::HashSet;
use std::time::Duration;

/// How often watched live parameters are re-read unless the host sets another interval.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// One watched live parameter and the value last seen.
#[derive(Clone, Debug)]
pub(crate) struct Watched {
    obj: ObjId,
    numbers: Vec<u32>,
    param: ParamId,
    last: Option<Value>,
}

/// The watch list and its schedule.
#[derive(Debug)]
pub(crate) struct Watches {
    list: Vec<Watched>,
    /// The parameters of `list`, so that watching is idempotent at O(1).
    keys: HashSet<(ParamId, Vec<u32>)>,
    interval: Duration,
    next: Option<Duration>,
}

impl Default for Watches {
    fn default() -> Watches {
        Watches {
            list: Vec::new(),
            keys: HashSet::new(),
            interval: DEFAULT_POLL_INTERVAL,
            next: None,
        }
    }
}

impl Watches {
    /// When the next poll is due, if anything is watched.
    pub(crate) fn next_poll(&self) -> Option<Duration> {
        self.next
    }
}

impl DataModel {
    /// Watches a parameter for ValueChange by polling, if it is live (stored parameters report
    /// changes without polling; watching one is a no-op). Idempotent.
    pub fn watch(&mut self, obj: ObjId, numbers: &[u32], param: ParamId) {
        if self.schema.param(param).storage != Storage::Live {
            return;
        }
        if !self.watches.keys.insert((param, numbers.to_vec())) {
            return;
        }
        let last = self.read_params(&Requester::Internal, obj, numbers, &[param]).pop();
        let last = last.and_then(Result::ok);
        self.watches.list.push(Watched { obj, numbers: numbers.to_vec(), param, last });
        if self.watches.next.is_none() {
            self.watches.next = Some(self.now.uptime + self.watches.interval);
        }
    }

    /// Stops watching everything (the core re-registers what its subscriptions still need).
    pub fn unwatch_all(&mut self) {
        self.watches.list.clear();
        self.watches.keys.clear();
        self.watches.next = None;
    }

    /// Sets the polling interval of watched live parameters.
    pub fn set_poll_interval(&mut self, interval: Duration) {
        self.watches.interval = interval.max(Duration::from_millis(100));
    }

    /// Number of watched live parameters.
    pub fn watched(&self) -> usize {
        self.watches.list.len()
    }

    /// Re-reads the watched parameters if their poll is due, emitting ValueChanged for each
    /// that changed (a parameter that became unreadable is dropped from the list).
    pub(crate) fn poll_watches(&mut self) {
        match self.watches.next {
            Some(at) if at <= self.now.uptime => {}
            _ => return,
        }
        let mut list = std::mem::take(&mut self.watches.list);
        let mut keys = std::mem::take(&mut self.watches.keys);
        let mut events = Vec::new();
        list.retain_mut(|w| {
            let keep = self.poll_one(w, &mut events);
            if !keep {
                keys.remove(&(w.param, w.numbers.clone()));
            }
            keep
        });
        self.watches.list = list;
        self.watches.keys = keys;
        self.effects.events.extend(events);
        self.watches.next =
            (!self.watches.list.is_empty()).then(|| self.now.uptime + self.watches.interval);
    }

    /// Re-reads one watched parameter; false when it can no longer be read.
    fn poll_one(&mut self, w: &mut Watched, events: &mut Vec<DmEvent>) -> bool {
        if let Some(&table) = self.schema.chain(w.obj).last() {
            self.sync_rows(table, &w.numbers);
        }
        if !self.tree.exists(&self.schema, w.obj, &w.numbers) {
            return false;
        }
        let now = self.read_params(&Requester::Internal, w.obj, &w.numbers, &[w.param]).pop();
        let Some(Ok(value)) = now else { return false };
        if w.last.as_ref() != Some(&value) {
            if w.last.is_some() && self.schema.param(w.param).value_change {
                events.push(DmEvent::ValueChanged {
                    obj: w.obj,
                    numbers: w.numbers.clone(),
                    param: w.param,
                    value: value.clone(),
                });
            }
            w.last = Some(value);
        }
        true
    }
}
