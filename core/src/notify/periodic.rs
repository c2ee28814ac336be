//! `Device.LocalAgent.Periodic!`: one event per controller every `PeriodicNotifInterval`
//! seconds, for the controllers with an enabled Event subscription covering it (TP-469 1.59).
//!
//! - With a known `PeriodicNotifTime` and a known wall clock, each event falls on
//!   `PeriodicNotifTime + n·PeriodicNotifInterval` (recomputed from the wall clock at every
//!   event, so a clock set late or a long sleep realigns it; a missed instant is skipped, never
//!   sent twice).
//! - Otherwise (`0001-01-01T00:00:00Z`, or no time yet) the first event comes one interval
//!   after the schedule starts (the subscription or controller setting appears) and each next
//!   one interval after the previous.
//! - Each subscription of the controller covering the event gets its own Notify.
//! - Changing the controller's interval or time restarts its schedule.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use usp_datamodel::DataModel;
use usp_datamodel::plugin::{Now, Requester};
use usp_datamodel::schema::ObjId;
use usp_datamodel::value::{DateTime, Value};
use usp_proto::msg::notify::{self, Notification};

use super::{Kind, Leaf};
use crate::{Core, Outgoing};

/// One controller's schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    interval: u32,
    time: Option<DateTime>,
    next_at: Duration,
}

/// The Periodic! schedule of every controller that has a subscription for it.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    entries: BTreeMap<u32, Entry>,
}

impl Schedule {
    /// The uptime of the earliest event.
    pub(crate) fn next(&self) -> Option<Duration> {
        self.entries.values().map(|e| e.next_at).min()
    }
}

/// The uptime of the first event strictly after `now` (aligned), or one interval after
/// `base` (not aligned), skipping the instants already past.
fn next_fire(now: Now, interval: u32, time: Option<DateTime>, base: Duration) -> Duration {
    let i = u64::from(interval.max(1));
    match time {
        Some(t) if !now.wall.is_unknown() => {
            let i = i as i64;
            let since = now.wall.secs - t.secs;
            let wait = i - since.rem_euclid(i);
            now.uptime + Duration::from_secs(wait.unsigned_abs())
        }
        _ => {
            let elapsed = now.uptime.saturating_sub(base).as_secs();
            base + Duration::from_secs((elapsed / i + 1) * i)
        }
    }
}

/// `Device.LocalAgent.` and its `Periodic!` event, if declared.
fn periodic_event(dm: &DataModel) -> Option<(ObjId, Leaf)> {
    let la = dm.schema().child(ObjId::ROOT, "LocalAgent")?;
    Some((la, Leaf::Event(dm.schema().event_by_name(la, "Periodic")?)))
}

/// `PeriodicNotifInterval` and `PeriodicNotifTime` (unknown time as `None`) of a controller.
fn settings(dm: &mut DataModel, controller: u32) -> (u32, Option<DateTime>) {
    let mut found = (86_400, None);
    let Some(table) = dm.schema().obj_by_path("Device.LocalAgent.Controller.{i}.") else {
        return found;
    };
    let names = ["PeriodicNotifInterval", "PeriodicNotifTime"];
    let params: Vec<_> = names.iter().filter_map(|n| dm.schema().param_by_name(table, n)).collect();
    for (p, v) in
        params.iter().zip(dm.read_params(&Requester::Internal, table, &[controller], &params))
    {
        match (v, &*dm.schema().param(*p).name) {
            (Ok(Value::UnsignedInt(n)), "PeriodicNotifInterval") => found.0 = n.max(1),
            (Ok(Value::DateTime(t)), "PeriodicNotifTime") if !t.is_unknown() => found.1 = Some(t),
            _ => {}
        }
    }
    found
}

impl Core {
    /// The subscriptions covering `Periodic!`, by controller.
    fn periodic_subs(&mut self) -> BTreeMap<u32, Vec<usize>> {
        let mut by_controller: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        let Some((la, leaf)) = periodic_event(&self.dm) else { return by_controller };
        if !self.notifier.index.has(Kind::Event) {
            return by_controller;
        }
        for i in self.notifier.index.matching(&mut self.dm, Kind::Event, la, &[], Some(leaf)) {
            if let Some(s) = self.notifier.index.subs.get(i) {
                by_controller.entry(s.controller).or_default().push(i);
            }
        }
        by_controller
    }

    /// Brings the schedule in line with the subscriptions and controller settings.
    pub(crate) fn update_periodic(&mut self) {
        let now = self.dm.now();
        let controllers: BTreeSet<u32> = self.periodic_subs().into_keys().collect();
        let mut entries = BTreeMap::new();
        for c in controllers {
            let (interval, time) = settings(&mut self.dm, c);
            let entry = match self.notifier.periodic.entries.get(&c) {
                Some(e) if e.interval == interval && e.time == time => e.clone(),
                _ => Entry { interval, time, next_at: next_fire(now, interval, time, now.uptime) },
            };
            entries.insert(c, entry);
        }
        self.notifier.periodic.entries = entries;
    }

    /// Sends the Periodic! events that are due and schedules the next ones.
    pub(crate) fn periodic_due(&mut self, out: &mut Vec<Outgoing>) {
        let now = self.dm.now();
        let due: Vec<u32> = self
            .notifier
            .periodic
            .entries
            .iter()
            .filter(|(_, e)| e.next_at <= now.uptime)
            .map(|(c, _)| *c)
            .collect();
        if due.is_empty() {
            return;
        }
        let subs = self.periodic_subs();
        for c in due {
            for &i in subs.get(&c).into_iter().flatten() {
                let n = notify::Event {
                    obj_path: "Device.LocalAgent.".into(),
                    event_name: "Periodic!".into(),
                    params: Default::default(),
                };
                self.notify_sub(i, Notification::Event(n), out);
            }
            if let Some(e) = self.notifier.periodic.entries.get_mut(&c) {
                e.next_at = next_fire(now, e.interval, e.time, e.next_at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(uptime: u64, wall: i64) -> Now {
        Now { uptime: Duration::from_secs(uptime), wall: DateTime::from_unix(wall) }
    }

    #[test]
    fn aligned_to_the_reference_time() {
        let t = Some(DateTime::from_unix(1000));
        // Wall 1234: the next instant of 1000 + n·60 is 1240, 6 s away.
        assert_eq!(next_fire(at(50, 1234), 60, t, Duration::ZERO), Duration::from_secs(56));
        // Exactly on an instant: the next one, never the same twice.
        assert_eq!(next_fire(at(50, 1240), 60, t, Duration::ZERO), Duration::from_secs(110));
        // A reference time in the future works the same way.
        assert_eq!(next_fire(at(0, 900), 60, t, Duration::ZERO), Duration::from_secs(40));
    }

    #[test]
    fn unaligned_counts_from_the_base_and_skips_missed_instants() {
        let unknown = Now { uptime: Duration::from_secs(100), wall: DateTime::UNKNOWN };
        let base = Duration::from_secs(100);
        assert_eq!(next_fire(unknown, 60, None, base), Duration::from_secs(160));
        let late = Now { uptime: Duration::from_secs(300), ..unknown };
        assert_eq!(next_fire(late, 60, None, base), Duration::from_secs(340));
        // An unknown wall clock ignores the reference time.
        let t = Some(DateTime::from_unix(1000));
        assert_eq!(next_fire(unknown, 60, t, base), Duration::from_secs(160));
    }
}
