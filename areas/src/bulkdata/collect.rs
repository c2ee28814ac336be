//! The snapshot of a profile's parameters, taken on the data-model (owner) thread, and the
//! seam that carries it to the profile's worker.
//!
//! A plugin cannot read other plugins' values (the engine calls it with a [`usp_datamodel::plugin::Ctx`]
//! that sees only stored values), so the profile asks the message core: when a report is due
//! it emits the undeclared event [`COLLECT_EVENT`] on its `Profile.{i}.` instance, with one
//! `Ticket` argument and, in order, one `Reference` argument per collected
//! `Parameter.{i}.Reference` and one `Exclude` argument per excluded one. The core intercepts
//! it (it is never notified) and calls [`snapshot`] with the data model and the [`Collector`] of
//! the [`crate::Host`]: the values are read through the data model's normal read path
//! (`resolve`, `walk`, `read_params`) and filtered by the [`Access`] the core passes in (that
//! of the profile's `Controller`, [`profile_controller`]; full for a profile without one),
//! then handed to the worker thread that encodes and sends them. The owner thread pays for the snapshot, never for an
//! encoding or a send.
//!
//! Unknown references (a path outside the supported model, an instance that does not exist)
//! are left out and the report keeps the rest, as TR-369 asks ("a filter applied against the
//! Instantiated Data Model at the time of report generation"); they are listed in
//! [`Snapshot::unresolved`] for the log.
//!
//! Hidden parameters (passwords) are never collected, although the agent could read them.
//!
//! TR-369 ("the Controller's permissions"): a parameter or object the profile's Controller may
//! not read is left out of the report, as it would be from that controller's Get.
//!
//! Never does: encoding, I/O, or anything slow; it never looks up roles itself (the core
//! compiles the [`Access`]).

use std::collections::HashSet;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

use usp_datamodel::access::Access;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::ObjId;
use usp_datamodel::value::{DateTime, Value};
use usp_datamodel::{DataModel, Item};

use super::pipeline::Job;

/// The undeclared event through which a profile asks the core for a snapshot.
pub const COLLECT_EVENT: &str = "BulkDataCollect";

/// One value read for a profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Collected {
    /// The position of the `Reference` argument it was read for.
    pub reference: usize,
    /// Its parameter path.
    pub path: String,
    /// Its value.
    pub value: Value,
}

/// The values read for one report.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The ticket of the request ([`COLLECT_EVENT`]'s `Ticket`).
    pub ticket: u64,
    /// When they were read (the wall time the core passed in).
    pub collected: DateTime,
    /// The values, reference by reference, each in data-model order.
    pub values: Vec<Collected>,
    /// The references that designate nothing now (or do not parse).
    pub unresolved: Vec<String>,
}

/// The way from the core to the bulk data worker: a clone lives in the [`crate::Host`], the
/// area connects its worker at start, the core delivers snapshots. Empty (deliveries are
/// dropped) until the area is built.
#[derive(Clone, Debug, Default)]
pub struct Collector(Arc<Mutex<Option<Sender<Job>>>>);

impl Collector {
    /// Connects the worker's job queue.
    pub(crate) fn connect(&self, jobs: Sender<Job>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(jobs);
        }
    }

    /// Hands `snapshot` to the worker; `false` when no worker takes it.
    pub fn deliver(&self, snapshot: Snapshot) -> bool {
        let Ok(slot) = self.0.lock() else { return false };
        slot.as_ref().is_some_and(|tx| tx.send(Job::Snapshot(snapshot)).is_ok())
    }
}

/// Reads what a [`COLLECT_EVENT`]'s `args` ask for, keeping only what `access` may read, and
/// delivers it through `collector`. Called by the core on the owner thread.
pub fn snapshot(
    dm: &mut DataModel,
    _obj: ObjId,
    _numbers: &[u32],
    args: &[(Box<str>, Value)],
    collector: &Collector,
    access: &Access,
) {
    let mut snap = Snapshot {
        ticket: 0,
        collected: dm.now().wall,
        values: Vec::new(),
        unresolved: Vec::new(),
    };
    let mut excluded = HashSet::new();
    let mut reference = 0;
    for (name, value) in args {
        match (&**name, value) {
            ("Ticket", Value::UnsignedLong(t)) => snap.ticket = *t,
            ("Reference", Value::String(path)) => {
                let found = read(dm, access, path, reference, &mut snap.values);
                if !found {
                    snap.unresolved.push(path.to_string());
                }
                reference += 1;
            }
            ("Exclude", Value::String(path)) => {
                let mut out = Vec::new();
                read_paths(dm, path, &mut out);
                excluded.extend(out);
            }
            _ => {}
        }
    }
    if !excluded.is_empty() {
        snap.values.retain(|c| !excluded.contains(&c.path));
    }
    if !collector.deliver(snap) {
        log::warn!("bulk data: no worker takes the snapshot");
    }
}

/// Reads the parameters `text` designates that `access` may read into `out`; `false` when it
/// designates nothing.
fn read(
    dm: &mut DataModel,
    access: &Access,
    text: &str,
    reference: usize,
    out: &mut Vec<Collected>,
) -> bool {
    let before = out.len();
    let Ok(path) = Path::parse(text) else { return false };
    let Ok(targets) = dm.resolve(&Requester::Internal, &path) else { return false };
    let who = Requester::Internal;
    for target in targets {
        match target.item {
            Item::Param(p) if dm.schema().param(p).hidden => {}
            Item::Param(p) if !access.param(dm.schema(), p, &target.numbers).read() => {}
            Item::Param(p) => {
                let Some(Ok(value)) = dm.read_params(&who, target.obj, &target.numbers, &[p]).pop()
                else {
                    continue;
                };
                let name = &dm.schema().param(p).name;
                let path =
                    format!("{}{name}", dm.schema().instance_path(target.obj, &target.numbers));
                out.push(Collected { reference, path, value });
            }
            Item::Object => {
                for w in dm.walk(&target, 0) {
                    if !access.object(dm.schema(), w.obj, &w.numbers).read() {
                        continue;
                    }
                    let prefix = dm.schema().instance_path(w.obj, &w.numbers);
                    for (p, value) in dm.read_all(&who, w.obj, &w.numbers) {
                        let schema = dm.schema();
                        if schema.param(p).hidden || !access.param(schema, p, &w.numbers).read() {
                            continue;
                        }
                        let path = format!("{prefix}{}", dm.schema().param(p).name);
                        out.push(Collected { reference, path, value });
                    }
                }
            }
            Item::Command(_) | Item::Event(_) => {}
        }
    }
    out.len() > before || matches!(Path::parse(text), Ok(p) if p.is_search())
}

/// The parameter paths `text` designates (for `Exclude`), without reading their values.
fn read_paths(dm: &mut DataModel, text: &str, out: &mut Vec<String>) {
    let Ok(path) = Path::parse(text) else { return };
    let Ok(targets) = dm.resolve(&Requester::Internal, &path) else { return };
    for target in targets {
        match target.item {
            Item::Param(p) => {
                let prefix = dm.schema().instance_path(target.obj, &target.numbers);
                out.push(format!("{prefix}{}", dm.schema().param(p).name));
            }
            Item::Object => {
                for w in dm.walk(&target, 0) {
                    let schema = dm.schema();
                    let prefix = schema.instance_path(w.obj, &w.numbers);
                    let names = schema.obj(w.obj).params.iter().map(|p| &schema.param(*p).name);
                    out.extend(names.map(|n| format!("{prefix}{n}")));
                }
            }
            Item::Command(_) | Item::Event(_) => {}
        }
    }
}

/// When `name` is the `Push!` event of a `Device.BulkData.Profile.{i}.` instance whose
/// `Controller` names a controller, that controller's instance number: the core notifies only
/// it (TR-181: "only the USP Controller referenced by this parameter will receive a Push!
/// Event"). `None` for every other event, and for a profile without a Controller (one made by
/// the agent's own configuration), whose `Push!` goes to every subscriber.
pub fn push_recipient(dm: &mut DataModel, obj: ObjId, numbers: &[u32], name: &str) -> Option<u32> {
    if name != super::tr181::PUSH_EVENT.0 {
        return None;
    }
    profile_controller(dm, obj, numbers)
}

/// The instance number of the `Device.LocalAgent.Controller.{i}.` a
/// `Device.BulkData.Profile.{i}.` instance names as its `Controller`: the core reads its
/// snapshots with that controller's rights. `None` for any other object and for a profile
/// without a Controller (one made by the agent's own configuration), read with full rights.
pub fn profile_controller(dm: &mut DataModel, obj: ObjId, numbers: &[u32]) -> Option<u32> {
    let schema = dm.schema();
    if schema.obj_by_path(super::schema::PROFILE) != Some(obj) {
        return None;
    }
    let p = schema.param_by_name(obj, "Controller")?;
    let value = dm.read_params(&Requester::Internal, obj, numbers, &[p]).pop()?.ok()?;
    let text = value.to_string();
    let n = text.strip_prefix("Device.LocalAgent.Controller.")?.trim_end_matches('.');
    n.parse().ok()
}
