//! Declares `Device.BulkData.` from the generated tables of [`super::tr181`] and keeps the ids
//! the plugin reads its profiles with.
//!
//! Storage: every read-write parameter is stored by the engine (profiles persist like the other
//! configuration tables); `Controller` is stored and read-only; `Device.BulkData.Status` and
//! the capabilities (`MinReportingInterval`, `Protocols`, `EncodingTypes`,
//! `ParameterWildCardSupported`, `MaxNumberOf...`, `HTTP.CompressionsSupported`,
//! `HTTP.MethodsSupported`) are live values of this agent.
//!
//! Where TR-181 gives a read-write parameter no default, this module gives one (see
//! [`OUR_DEFAULTS`]) so that a new profile holds valid values.

use std::collections::HashMap;

use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::ParamType;

use super::tr181::{FORCE_COLLECTION, OBJECTS, PUSH_EVENT};
use crate::tr181::{self, P};

/// Defaults of ours where TR-181 has none: `(object, parameter, value)`.
pub(super) const OUR_DEFAULTS: &[(&str, &str, &str)] = &[
    ("Device.BulkData.Profile.{i}.", "Protocol", "HTTP"),
    ("Device.BulkData.Profile.{i}.", "EncodingType", "JSON"),
    ("Device.BulkData.Profile.{i}.MQTT.", "PublishQoS", "0"),
];

/// The profile table's path.
pub(super) const PROFILE: &str = "Device.BulkData.Profile.{i}.";
/// The parameter table's path.
pub(super) const PARAMETER: &str = "Device.BulkData.Profile.{i}.Parameter.{i}.";
/// The URI parameter table's path.
pub(super) const URI_PARAMETER: &str = "Device.BulkData.Profile.{i}.HTTP.RequestURIParameter.{i}.";

/// The ids the plugin reads with, filled by [`Ids::register`].
#[derive(Debug, Default)]
pub(super) struct Ids {
    /// Every declared parameter by object path and name.
    params: HashMap<(&'static str, &'static str), ParamId>,
    /// The objects by path.
    objects: HashMap<&'static str, ObjId>,
    /// `ForceCollection()`.
    pub force: Option<CmdId>,
}

impl Ids {
    /// Declares the objects, parameters, the command and the event.
    pub fn register(&mut self, b: &mut SchemaBuilder) {
        for o in OBJECTS {
            let obj = tr181::object(b, o, ObjAccess::AddDelete);
            self.objects.insert(o.path, obj);
            for p in o.params {
                let id = if p.name == "Alias" { b.alias(obj) } else { declare(b, obj, o.path, p) };
                self.params.insert((o.path, p.name), id);
            }
            tr181::unique_keys(b, obj, o, |k| k == ["Alias"]);
        }
        let profile = self.objects[PROFILE];
        let event = b.event(profile, PUSH_EVENT.0);
        for arg in PUSH_EVENT.1 {
            event.arg(arg, ParamType::String);
        }
        b.command(profile, FORCE_COLLECTION.0, FORCE_COLLECTION.1);
        self.force = b.command_id(profile, FORCE_COLLECTION.0);
    }

    /// The id of `name` in the object `obj`.
    pub fn param(&self, obj: &'static str, name: &'static str) -> Option<ParamId> {
        self.params.get(&(obj, name)).copied()
    }

    /// The object at `path`.
    pub fn obj(&self, path: &'static str) -> Option<ObjId> {
        self.objects.get(path).copied()
    }

    /// The object and name of a parameter id, for dispatching live reads.
    pub fn name_of(&self, id: ParamId) -> Option<(&'static str, &'static str)> {
        self.params.iter().find(|(_, v)| **v == id).map(|(k, _)| *k)
    }
}

/// Declares `p` with this area's storage (stored when read-write, `Controller` stored and
/// read-only, the rest live) and, where TR-181 has none, our default.
fn declare(b: &mut SchemaBuilder, obj: ObjId, path: &'static str, p: &P) -> ParamId {
    let id = b.next_param_id();
    let d = tr181::param(b, obj, p);
    if p.rw {
        d.rw();
    } else if p.name == "Controller" {
        d.stored();
    } else {
        d.live();
    }
    let ours = OUR_DEFAULTS.iter().find(|(o, n, _)| *o == path && *n == p.name).map(|d| d.2);
    if let (None, Some(v)) = (p.default, ours) {
        d.default(v);
    }
    id
}
