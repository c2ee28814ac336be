//! The notification engine: which Notify messages the data-model events cause, to whom, and
//! the timers behind them (retries, TimeToLive, Periodic!, the polling of live parameters).
//!
//! After every message and timer the core drains the data model's events and hands each to
//! [`Core::dispatch_event`]: a committed value change, a created or deleted instance, a plugin
//! event, the end of an asynchronous command. The [`index`] says which enabled subscriptions
//! of that `NotifType` cover it, each gets one Notify (its own msg_id, its `ID` as
//! subscription_id) sent to its Recipient controller's Endpoint ID with `send_resp` =
//! `NotifRetry`; those with `send_resp` are tracked by [`retry`].
//!
//! The rest, one file each: [`subscriptions`] (the Subscription table, TTL, orphans, polling),
//! [`boot`] (`Boot!` and the remembered cause of a restart), [`periodic`] (`Periodic!`),
//! [`onboard`] (OnBoardRequest), [`trigger`] (TriggerAction).
//!
//! Decisions where TR-369 leaves room:
//! - ValueChange fires for parameters whose `value_change` is allowed only (never `UpTime`).
//!   The value of a secured parameter is carried to holders of a `SecuredRoles` Role only;
//!   every other recipient's notification holds an empty string.
//! - Object paths in a ReferenceList cover everything below them: every parameter for
//!   ValueChange, every event or command below for Event/OperationComplete. For
//!   ObjectCreation/ObjectDeletion a table path covers the rows of that table, a partial path
//!   (`Device.WiFi.`, `Device.X.1.`) the rows of every table below it.
//! - A subscription is not told of its own creation; an enabled subscription created or
//!   changed by a message sees the other changes of that same message.
//! - The `Enable` of the recipient controller is not looked at (messages from a disabled
//!   controller are answered too).
//! - `TriggerAction` `Config` and `NotifyAndConfig` apply `TriggerConfigSettings` ([`trigger`]).
//! - A search expression in a ReferenceList is evaluated when the change happens; for an
//!   ObjectDeletion the row is gone, so only wildcards and instance numbers match deletions.
//! - Notifications caused by one message are sent in the order of the events, after the
//!   response to that message.

mod boot;
mod index;
mod onboard;
mod periodic;
mod retry;
mod subscriptions;
mod trigger;

use std::collections::BTreeMap;
use std::time::Duration;

use usp_datamodel::access::Access;
use usp_datamodel::plugin::{DmEvent, Requester};
use usp_datamodel::schema::ObjId;
use usp_datamodel::value::Value;
use usp_proto::msg::notify::{self, Notification};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Msg, Notify};

pub use boot::BootInfo;
pub(crate) use index::{Kind, Leaf};

use super::{Core, Outgoing, PendingNotify, operate};

/// Rounds of event processing per message (an event's handling may cause events: a completed
/// operation deletes its Request row, a deleted controller deletes subscriptions).
const MAX_ROUNDS: usize = 8;

/// The state of the notification engine (owned by [`Core`]).
#[derive(Debug)]
pub(crate) struct Notifier {
    index: index::Index,
    /// The Subscription or Controller table changed: rebuild the index before matching.
    dirty: bool,
    /// The watch list of live parameters must be rebuilt.
    rewatch: bool,
    pending: Vec<retry::Pending>,
    periodic: periodic::Schedule,
    ttl: subscriptions::Ttl,
    /// Controller row → uptime of its next OnBoardRequest (`OnBoardingRestartTime`).
    onboard_again: BTreeMap<u32, Duration>,
    /// xorshift64 state for the retry waits (never zero).
    rng: u64,
}

impl Notifier {
    /// A fresh engine; `seed` varies the random retry waits.
    pub(crate) fn new(seed: u64) -> Notifier {
        Notifier {
            index: index::Index::default(),
            dirty: true,
            rewatch: false,
            pending: Vec::new(),
            periodic: periodic::Schedule::default(),
            ttl: subscriptions::Ttl::default(),
            onboard_again: BTreeMap::new(),
            rng: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The earliest uptime at which a timer of the engine is due.
    pub(crate) fn next_timer(&self) -> Option<Duration> {
        let retries = self.pending.iter().map(retry::Pending::wake_at).min();
        let onboard = self.onboard_again.values().min().copied();
        [retries, self.ttl.next(), self.periodic.next(), onboard].into_iter().flatten().min()
    }

    /// The notifications waiting for a NotifyResp.
    pub(crate) fn pending(&self) -> Vec<PendingNotify> {
        self.pending.iter().map(|p| p.info.clone()).collect()
    }
}

impl Core {
    /// Runs the engine's timers due at the current time: TimeToLive, retries, Periodic!,
    /// OnBoardRequest restarts.
    pub(crate) fn notifier_timers(&mut self, out: &mut Vec<Outgoing>) {
        if self.notifier.dirty {
            self.rebuild_subscriptions();
        }
        let now = self.dm.now().uptime;
        self.expire_subscriptions(now);
        if self.notifier.dirty {
            // An expired subscription sends nothing more, not even in this tick.
            self.rebuild_subscriptions();
        }
        self.retry_due(now, out);
        self.periodic_due(out);
        self.onboard_due(now, out);
    }

    /// Drains the data model's events (and those their handling causes) and sends what they
    /// call for.
    pub(crate) fn process_events(&mut self, out: &mut Vec<Outgoing>) {
        for _ in 0..MAX_ROUNDS {
            let events = self.dm.drain_events();
            if events.is_empty() && !self.notifier.dirty {
                break;
            }
            for e in &events {
                self.note_event(e);
            }
            if self.notifier.dirty {
                self.rebuild_subscriptions();
            }
            for e in events {
                self.dispatch_event(e, out);
            }
        }
        if self.notifier.rewatch {
            self.rewatch();
        }
    }

    /// Notes what an event changes in the engine's own state (and the host's config watch).
    pub(crate) fn note_event(&mut self, event: &DmEvent) {
        match event {
            DmEvent::ValueChanged { .. } => {}
            DmEvent::ObjectCreated { .. } | DmEvent::ObjectDeleted { .. } => {
                if self.dm.watched() > 0 || !self.notifier.index.live_refs.is_empty() {
                    self.notifier.rewatch = true;
                }
            }
            _ => return,
        }
        let Some(path) = event.path(self.dm.schema()) else { return };
        self.note_change(&path);
        if subscriptions::INDEX_PREFIXES.iter().any(|p| path.starts_with(p)) {
            self.notifier.dirty = true;
        }
    }

    /// Sends the notifications one event calls for.
    fn dispatch_event(&mut self, event: DmEvent, out: &mut Vec<Outgoing>) {
        match event {
            DmEvent::ValueChanged { obj, numbers, param, value } => {
                if !self.notifier.index.has(Kind::ValueChange) {
                    return;
                }
                let schema = self.dm.schema();
                let def = schema.param(param);
                if !def.value_change {
                    return;
                }
                let param_path = format!("{}{}", schema.instance_path(obj, &numbers), def.name);
                let hidden = def.hidden;
                let leaf = Some(Leaf::Param(param));
                let index = &self.notifier.index;
                let hits = index.matching(&mut self.dm, Kind::ValueChange, obj, &numbers, leaf);
                for i in hits {
                    let Some(to) = self.notifier.index.subs.get(i).map(|s| s.to.clone()) else {
                        continue;
                    };
                    // A secured (hidden) value goes only to a holder of a SecuredRole (TR-369
                    // SecuredRoles); every other recipient gets an empty string.
                    let shown = !hidden || self.dm.sees_secured(&Requester::Controller(to.into()));
                    let param_value = if shown { value.to_string() } else { String::new() };
                    let n = notify::ValueChange { param_path: param_path.clone(), param_value };
                    self.notify_sub(i, Notification::ValueChange(n), out);
                }
            }
            DmEvent::ObjectCreated { obj, numbers, keys } => {
                if !self.notifier.index.has(Kind::ObjectCreation) {
                    return;
                }
                let own_row = self.subscription_row(obj, &numbers);
                let schema = self.dm.schema();
                let n = notify::ObjectCreation {
                    obj_path: schema.instance_path(obj, &numbers),
                    unique_keys: keys
                        .iter()
                        .map(|(p, v)| (schema.param(*p).name.to_string(), v.to_string()))
                        .collect::<BTreeMap<_, _>>(),
                };
                let index = &self.notifier.index;
                let hits = index.matching(&mut self.dm, Kind::ObjectCreation, obj, &numbers, None);
                for i in hits {
                    // A subscription is not told of its own creation.
                    if own_row.is_some()
                        && own_row == self.notifier.index.subs.get(i).map(|s| s.row)
                    {
                        continue;
                    }
                    self.notify_sub(i, Notification::ObjCreation(n.clone()), out);
                }
            }
            DmEvent::ObjectDeleted { obj, numbers } => {
                if !self.notifier.index.has(Kind::ObjectDeletion) {
                    return;
                }
                let n = notify::ObjectDeletion {
                    obj_path: self.dm.schema().instance_path(obj, &numbers),
                };
                self.notify_matching(
                    Kind::ObjectDeletion,
                    obj,
                    &numbers,
                    None,
                    &|| Notification::ObjDeletion(n.clone()),
                    out,
                );
            }
            DmEvent::Event { obj, numbers, name, args } => {
                self.data_model_event(obj, &numbers, &name, args, out)
            }
            DmEvent::OperationComplete { handle, result } => {
                let result = result.map(|args| {
                    args.into_iter().map(|(k, v)| (k.into_string(), v.to_string())).collect()
                });
                operate::completed(self, handle, result, out);
            }
            DmEvent::System(request) => self.system_request(request),
        }
    }

    /// The rights a BulkData profile's report is read with (TR-369: its `Controller`'s): that
    /// controller's, as for its Get; full for a profile without a Controller (the agent's own
    /// configuration); none when the Controller row is gone.
    fn profile_access(&mut self, obj: ObjId, numbers: &[u32]) -> Access {
        let Some(n) = usp_areas::bulkdata::profile_controller(&mut self.dm, obj, numbers) else {
            return Access::Full;
        };
        let Some((table, param)) = self.controller_table() else { return Access::Full };
        match self.controller_rows(table, param).into_iter().find(|(row, _)| *row == n) {
            Some((_, eid)) => self.dm.access(&Requester::Controller(eid.into())),
            None => {
                log::warn!("bulk data: Controller.{n} of a profile is gone; reporting nothing");
                Access::none()
            }
        }
    }

    /// A plugin's event: the internal OnBoardRequest trigger, or a USP Event notification.
    fn data_model_event(
        &mut self,
        obj: ObjId,
        numbers: &[u32],
        name: &str,
        args: Vec<(Box<str>, Value)>,
        out: &mut Vec<Outgoing>,
    ) {
        let obj_path = self.dm.schema().instance_path(obj, numbers);
        let Some(event) = self.dm.schema().event_by_name(obj, name) else {
            if name == usp_areas::local_agent::ONBOARD_REQUEST_EVENT {
                self.onboard_request(obj, numbers, out);
            } else if name == usp_areas::bulkdata::COLLECT_EVENT {
                let access = self.profile_access(obj, numbers);
                let dm = &mut self.dm;
                usp_areas::bulkdata::snapshot(dm, obj, numbers, &args, &self.bulkdata, &access);
            } else if name == usp_areas::local_agent::E2E_RESET_EVENT {
                self.e2e_reset(numbers, out);
            } else if name == usp_areas::local_agent::REMOVED_AT_START_EVENT {
                log::debug!("{obj_path} was removed at start-up (Core::boot was not called)");
            } else {
                log::warn!("event {name}! of {obj_path} is not declared; not notified");
            }
            return;
        };
        if !self.notifier.index.has(Kind::Event) {
            return;
        }
        let n = notify::Event {
            obj_path,
            event_name: format!("{name}!"),
            params: args.into_iter().map(|(k, v)| (k.into_string(), v.to_string())).collect(),
        };
        let leaf = Some(Leaf::Event(event));
        // A Bulk Data Push! goes only to the profile's Controller (TR-181 Profile.{i}.Controller).
        if let Some(only) = usp_areas::bulkdata::push_recipient(&mut self.dm, obj, numbers, name) {
            let hits = self.notifier.index.matching(&mut self.dm, Kind::Event, obj, numbers, leaf);
            for i in hits {
                if self.notifier.index.subs.get(i).is_some_and(|s| s.controller == only) {
                    self.notify_sub(i, Notification::Event(n.clone()), out);
                }
            }
            return;
        }
        self.notify_matching(
            Kind::Event,
            obj,
            numbers,
            leaf,
            &|| Notification::Event(n.clone()),
            out,
        );
    }

    /// The instance number when `obj`/`numbers` is a row of the Subscription table.
    fn subscription_row(&self, obj: ObjId, numbers: &[u32]) -> Option<u32> {
        let table = self.dm.schema().obj_by_path(subscriptions::TABLE)?;
        if obj == table { numbers.first().copied() } else { None }
    }

    /// Sends `make()` to every subscription of `kind` covering the change.
    pub(crate) fn notify_matching(
        &mut self,
        kind: Kind,
        obj: ObjId,
        numbers: &[u32],
        leaf: Option<Leaf>,
        make: &dyn Fn() -> Notification,
        out: &mut Vec<Outgoing>,
    ) {
        let hits = self.notifier.index.matching(&mut self.dm, kind, obj, numbers, leaf);
        for i in hits {
            self.notify_sub(i, make(), out);
        }
    }

    /// Carries out the `TriggerAction` of the subscription at position `i` of the index:
    /// sends it one notification, applies its configuration, or both (see `trigger`).
    fn notify_sub(&mut self, i: usize, notification: Notification, out: &mut Vec<Outgoing>) {
        let Some(sub) = self.notifier.index.subs.get(i).cloned() else { return };
        if sub.notify {
            self.send_notify(&sub, notification, out);
        }
        if !sub.config.is_empty() {
            self.apply_trigger_config(&sub.to, &sub.config);
        }
    }

    /// Sends one notification for `sub` (tracked for retries when it asks for NotifyResp).
    fn send_notify(
        &mut self,
        sub: &index::Sub,
        notification: Notification,
        out: &mut Vec<Outgoing>,
    ) {
        let notify = Notify {
            subscription_id: sub.id.clone(),
            send_resp: sub.retry,
            notification: Some(notification),
        };
        let msg_id = self.new_msg_id();
        let payload = Msg::request(msg_id.clone(), ReqType::Notify(notify)).to_bytes();
        if sub.retry {
            let info =
                PendingNotify { to: sub.to.clone(), msg_id, subscription_id: sub.id.clone() };
            self.track_notify(
                info,
                sub.controller,
                Some(sub.row),
                payload.clone(),
                sub.expiration,
                sub.persistent,
            );
        }
        out.push(self.notify_outgoing(&sub.to, payload));
    }
}
