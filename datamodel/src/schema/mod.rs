//! The supported data model: every object, parameter, command and event the agent knows,
//! declared once at start-up by the plugins through [`SchemaBuilder`] and frozen into a
//! [`Schema`].
//!
//! Items live in arenas and are named by small `Copy` ids ([`ObjId`], [`ParamId`], [`CmdId`],
//! [`EventId`]); a plugin keeps the ids it was given at registration and matches on them.

mod builder;

pub use builder::{SchemaBuilder, SchemaError};

use crate::origin::{PluginId, Requester};
use crate::value::{Constraints, ParamType, Value};
use std::collections::HashMap;

/// Index of an object in the [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjId(pub(crate) u32);

/// Index of a parameter in the [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub(crate) u32);

/// Index of a command in the [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CmdId(pub(crate) u32);

/// Index of an event in the [`Schema`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(pub(crate) u32);

impl ObjId {
    /// The root object, `Device.`.
    pub const ROOT: ObjId = ObjId(0);
}

/// What a controller may do with the instances of an object (GetSupportedDM `access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjAccess {
    /// Instances can be neither added nor deleted by a controller.
    ReadOnly,
    /// Instances can be added and deleted.
    AddDelete,
    /// Instances can be added, not deleted.
    AddOnly,
    /// Instances can be deleted, not added.
    DeleteOnly,
}

impl ObjAccess {
    /// True when a controller may add instances.
    pub fn can_add(self) -> bool {
        matches!(self, ObjAccess::AddDelete | ObjAccess::AddOnly)
    }
    /// True when a controller may delete instances.
    pub fn can_delete(self) -> bool {
        matches!(self, ObjAccess::AddDelete | ObjAccess::DeleteOnly)
    }
}

/// Where the rows of a table come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// The engine keeps the rows (Controller, Subscription, ...): Add and Delete create and
    /// remove them, the plugin is told and may veto.
    Stored,
    /// The rows live outside the agent (UCI sections, Wi-Fi stations, packages): the plugin
    /// enumerates them by a stable external key and the engine maps each key to an instance
    /// number that survives restarts.
    External,
}

/// What a controller may do with a parameter (GetSupportedDM `access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamAccess {
    /// Readable only.
    ReadOnly,
    /// Readable and writable.
    ReadWrite,
    /// Writable, reads return an empty value.
    WriteOnly,
    /// Writable in the Add that creates the instance, read-only afterwards (TR-181
    /// `writeOnceReadOnly`); reported as read-write.
    WriteOnceReadOnly,
}

/// Where a parameter's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The engine keeps the value (in slot `n` of its instance node) and persists it if the
    /// parameter is persistent.
    Stored(u32),
    /// The owning plugin computes the value on every read (batched per object instance).
    Live,
    /// `<Table>NumberOfEntries`: the engine counts the rows of the given table.
    EntryCount(ObjId),
}

/// A supported object (single-instance or table).
#[derive(Clone, Debug)]
pub struct ObjectDef {
    /// The object's own name (`Controller`).
    pub name: Box<str>,
    /// The supported path (`Device.LocalAgent.Controller.{i}.`).
    pub path: Box<str>,
    /// The parent object; `None` for the root.
    pub parent: Option<ObjId>,
    /// True for a multi-instance object (table).
    pub multi: bool,
    /// What controllers may do with its instances.
    pub access: ObjAccess,
    /// Where its rows come from (tables only).
    pub rows: Rows,
    /// Whether its instances (and their instance numbers) are persisted.
    pub persist_rows: bool,
    /// Unique-key sets, each a list of parameter names of this object.
    pub unique_keys: Vec<Vec<ParamId>>,
    /// Parameters, in declaration order.
    pub params: Vec<ParamId>,
    /// Commands, in declaration order.
    pub commands: Vec<CmdId>,
    /// Events, in declaration order.
    pub events: Vec<EventId>,
    /// Child objects, in declaration order.
    pub children: Vec<ObjId>,
    /// The plugin that serves Add, Delete and row enumeration.
    pub plugin: PluginId,
    /// The nearest multi-instance ancestor-or-self, or the root: the instance node that holds
    /// this object's stored values.
    pub owner: ObjId,
    /// For a table: its slot among the tables of its parent's owner node.
    pub table_slot: u32,
    /// For an owner (root or table): the number of stored value slots of its node.
    pub(crate) value_slots: u32,
    /// For an owner: the number of table slots of its node.
    pub(crate) table_slots: u32,
    /// For an owner: the default values of its node's slots, in slot order.
    pub(crate) defaults: Vec<Value>,
    /// The tables from the root down to this object inclusive: one per instance number.
    pub(crate) chain: Box<[ObjId]>,
    /// For an owner: the stored parameter of each value slot.
    pub(crate) slot_params: Vec<ParamId>,
    /// For an owner: the table of each table slot.
    pub(crate) slot_tables: Vec<ObjId>,
}

/// A supported parameter.
#[derive(Clone, Debug)]
pub struct ParamDef {
    /// The parameter's name.
    pub name: Box<str>,
    /// The object it belongs to.
    pub obj: ObjId,
    /// Its TR-106 type.
    pub ty: ParamType,
    /// Its access.
    pub access: ParamAccess,
    /// Its value constraints.
    pub constraints: Constraints,
    /// Its default value text (for stored parameters; `None` = the type's zero).
    pub default: Option<Box<str>>,
    /// Where its value comes from.
    pub storage: Storage,
    /// Whether a stored value survives a restart.
    pub persist: bool,
    /// Whether ValueChange notifications may be sent for it (GetSupportedDM `value_change`).
    pub value_change: bool,
    /// Whether controllers read the empty value instead of the real one (see
    /// [`ParamDef::hidden`]).
    pub hidden: bool,
    /// Whether it is part of a unique key that may never change once set (non-functional key,
    /// such as `Alias`).
    pub immutable_key: bool,
    /// Whether it is a reference to objects (its value is a path, or a list of paths).
    pub reference: bool,
    /// The plugin that serves it (live reads, writes, validation).
    pub plugin: PluginId,
    /// How the declaration chose its storage (resolved into `storage` when frozen).
    pub(crate) choice: StorageChoice,
}

impl ParamDef {
    /// True when `who` reads the type's empty value instead of the real one: write-only
    /// parameters for everyone, hidden ones for controllers.
    pub fn concealed_from(&self, who: &Requester) -> bool {
        self.access == ParamAccess::WriteOnly || (self.hidden && *who != Requester::Internal)
    }
}

/// A declaration's storage choice before the schema is frozen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StorageChoice {
    /// Stored when writable, live when read-only.
    ByAccess,
    /// Stored (`ParamDef::stored`).
    Stored,
    /// Live (`ParamDef::live`).
    Live,
}

/// An argument of a command or event.
#[derive(Clone, Debug)]
pub struct ArgDef {
    /// The argument's name.
    pub name: Box<str>,
    /// Its type.
    pub ty: ParamType,
    /// Its constraints.
    pub constraints: Constraints,
    /// Whether an input argument must be given (USP 7027 when missing).
    pub mandatory: bool,
    /// The value used when an optional input argument is omitted.
    pub default: Option<Box<str>>,
    /// For an argument of a multi-instance input object (a name with one `{i}`, as TR-181
    /// declares `TimeWindow.{i}.Start`): the highest instance number a given key may carry
    /// (`TimeWindow.1.Start` ... `TimeWindow.<instances>.Start`); 0 for a plain argument.
    pub instances: u32,
}

impl ArgDef {
    /// The instance number `key` gives this `{i}` argument, if it matches it (1..=instances).
    pub fn instance_of(&self, key: &str) -> Option<u32> {
        let (head, tail) = self.name.split_once("{i}")?;
        let digits = key.strip_prefix(head)?.strip_suffix(tail)?;
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return None;
        }
        digits.parse().ok().filter(|n| (1..=self.instances).contains(n))
    }
}

/// A supported command (`Reboot()`).
#[derive(Clone, Debug)]
pub struct CommandDef {
    /// Its name without `()`.
    pub name: Box<str>,
    /// The object it belongs to.
    pub obj: ObjId,
    /// True when it completes later with an OperationComplete notification.
    pub is_async: bool,
    /// Input arguments.
    pub inputs: Vec<ArgDef>,
    /// Output arguments.
    pub outputs: Vec<ArgDef>,
    /// The plugin that runs it.
    pub plugin: PluginId,
}

/// A supported event (`Boot!`).
#[derive(Clone, Debug)]
pub struct EventDef {
    /// Its name without `!`.
    pub name: Box<str>,
    /// The object it belongs to.
    pub obj: ObjId,
    /// Its arguments.
    pub args: Vec<ArgDef>,
}

/// The frozen supported data model.
#[derive(Debug)]
pub struct Schema {
    objects: Vec<ObjectDef>,
    params: Vec<ParamDef>,
    commands: Vec<CommandDef>,
    events: Vec<EventDef>,
    /// (parent, name) → child object.
    child_index: Vec<HashMap<Box<str>, ObjId>>,
    /// (object, name) → parameter.
    param_index: Vec<HashMap<Box<str>, ParamId>>,
}

impl Schema {
    /// The object with id `id`.
    pub fn obj(&self, id: ObjId) -> &ObjectDef {
        &self.objects[id.0 as usize]
    }
    /// The parameter with id `id`.
    pub fn param(&self, id: ParamId) -> &ParamDef {
        &self.params[id.0 as usize]
    }
    /// The command with id `id`.
    pub fn command(&self, id: CmdId) -> &CommandDef {
        &self.commands[id.0 as usize]
    }
    /// The event with id `id`.
    pub fn event(&self, id: EventId) -> &EventDef {
        &self.events[id.0 as usize]
    }
    /// Number of objects (ids are `0..len`).
    pub fn object_count(&self) -> usize {
        self.objects.len()
    }
    /// The child object `name` of `parent`.
    pub fn child(&self, parent: ObjId, name: &str) -> Option<ObjId> {
        self.child_index.get(parent.0 as usize)?.get(name).copied()
    }
    /// The parameter `name` of `obj`.
    pub fn param_by_name(&self, obj: ObjId, name: &str) -> Option<ParamId> {
        self.param_index.get(obj.0 as usize)?.get(name).copied()
    }
    /// The command `name` of `obj`.
    pub fn command_by_name(&self, obj: ObjId, name: &str) -> Option<CmdId> {
        self.obj(obj).commands.iter().copied().find(|c| &*self.command(*c).name == name)
    }
    /// The event `name` of `obj`.
    pub fn event_by_name(&self, obj: ObjId, name: &str) -> Option<EventId> {
        self.obj(obj).events.iter().copied().find(|e| &*self.event(*e).name == name)
    }
    /// The object whose supported path is `path` (`Device.LocalAgent.Controller.{i}.`).
    pub fn obj_by_path(&self, path: &str) -> Option<ObjId> {
        let rest = path.strip_prefix("Device.")?;
        let mut obj = ObjId::ROOT;
        for part in rest.split('.').filter(|p| !p.is_empty()) {
            if part == "{i}" {
                if !self.obj(obj).multi {
                    return None;
                }
                continue;
            }
            obj = self.child(obj, part)?;
        }
        Some(obj)
    }
    /// The tables from the root down to `obj` inclusive: one per instance number in an
    /// instance path of `obj`.
    pub fn chain(&self, obj: ObjId) -> &[ObjId] {
        &self.obj(obj).chain
    }
    /// The number of instance numbers in an instance path of `obj`.
    pub fn depth(&self, obj: ObjId) -> usize {
        self.obj(obj).chain.len()
    }
    /// The instance path of `obj` with the given instance numbers (one per table in its
    /// chain); for a table, `insts` may omit its own number to name the table itself.
    pub fn instance_path(&self, obj: ObjId, insts: &[u32]) -> String {
        let mut names = Vec::new();
        let mut cur = Some(obj);
        while let Some(o) = cur {
            names.push(o);
            cur = self.obj(o).parent;
        }
        let mut out = String::with_capacity(64);
        let mut i = 0;
        for o in names.iter().rev() {
            let def = self.obj(*o);
            out.push_str(if def.parent.is_none() { "Device" } else { &def.name });
            out.push('.');
            if def.multi {
                if let Some(n) = insts.get(i) {
                    out.push_str(&n.to_string());
                    out.push('.');
                }
                i += 1;
            }
        }
        out
    }
    /// Objects in declaration order, with their ids.
    pub fn objects(&self) -> impl Iterator<Item = (ObjId, &ObjectDef)> {
        self.objects.iter().enumerate().map(|(i, o)| (ObjId(i as u32), o))
    }
}

#[cfg(test)]
mod arg_tests {
    use super::*;

    #[test]
    fn an_input_object_argument_matches_instance_keys_within_its_bound() {
        let a = ArgDef {
            name: "TimeWindow.{i}.Start".into(),
            ty: ParamType::UnsignedInt,
            constraints: Constraints::default(),
            mandatory: false,
            default: None,
            instances: 5,
        };
        assert_eq!(a.instance_of("TimeWindow.1.Start"), Some(1));
        assert_eq!(a.instance_of("TimeWindow.5.Start"), Some(5));
        for no in [
            "TimeWindow.6.Start",
            "TimeWindow.0.Start",
            "TimeWindow.01.Start",
            "TimeWindow..Start",
            "TimeWindow.x.Start",
            "TimeWindow.1.End",
            "TimeWindow.{i}.Start",
            "TimeWindow.99999999999999999999.Start",
        ] {
            assert_eq!(a.instance_of(no), None, "{no}");
        }
        let plain = ArgDef { name: "URL".into(), instances: 0, ..a };
        assert_eq!(plain.instance_of("URL"), None);
    }
}
