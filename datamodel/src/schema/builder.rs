//! Declaring the supported data model at start-up.

use super::*;
use std::fmt;

/// A mistake in a plugin's declarations, found at start-up (never at run time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    /// A path given to [`SchemaBuilder::object`] or [`SchemaBuilder::table`] is malformed or
    /// its parent was not declared first.
    BadObjectPath(String),
    /// An object was declared twice with different shapes (single vs table).
    Conflict(String),
    /// A parameter, command or event name is declared twice on one object.
    Duplicate(String),
    /// A unique key names a parameter the table does not have.
    UnknownKey(String),
    /// A default value does not parse under its parameter's type and constraints.
    BadDefault(String),
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::BadObjectPath(p) => write!(f, "bad object path or missing parent: {p}"),
            SchemaError::Conflict(p) => write!(f, "object declared twice differently: {p}"),
            SchemaError::Duplicate(p) => write!(f, "declared twice: {p}"),
            SchemaError::UnknownKey(p) => write!(f, "unique key names an unknown parameter: {p}"),
            SchemaError::BadDefault(p) => write!(f, "invalid default value: {p}"),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Collects the declarations of every plugin, then freezes them into a [`Schema`].
///
/// Mistakes do not panic: they are collected and reported by `finish`, so the agent refuses to
/// start with a clear message.
#[derive(Debug)]
pub struct SchemaBuilder {
    schema: Schema,
    plugin: PluginId,
    pending_keys: Vec<(ObjId, Vec<Box<str>>)>,
    errors: Vec<SchemaError>,
}

impl SchemaBuilder {
    pub(crate) fn new() -> SchemaBuilder {
        let root = ObjectDef {
            name: "Device".into(),
            path: "Device.".into(),
            parent: None,
            multi: false,
            access: ObjAccess::ReadOnly,
            rows: Rows::Stored,
            persist_rows: true,
            unique_keys: Vec::new(),
            params: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
            children: Vec::new(),
            plugin: PluginId(0),
            owner: ObjId::ROOT,
            table_slot: 0,
            value_slots: 0,
            table_slots: 0,
            defaults: Vec::new(),
            chain: Box::new([]),
            slot_params: Vec::new(),
            slot_tables: Vec::new(),
        };
        SchemaBuilder {
            schema: Schema {
                objects: vec![root],
                params: Vec::new(),
                commands: Vec::new(),
                events: Vec::new(),
                child_index: vec![HashMap::new()],
                param_index: vec![HashMap::new()],
            },
            plugin: PluginId(0),
            pending_keys: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn set_plugin(&mut self, plugin: PluginId) {
        self.plugin = plugin;
    }

    /// Declares (or returns, if another plugin declared it already) the single-instance object
    /// at `path` (`Device.DeviceInfo.`, `Device.LocalAgent.Controller.{i}.BootParameter.{i}.Foo.`).
    pub fn object(&mut self, path: &str) -> ObjId {
        self.declare(path, false, ObjAccess::ReadOnly)
    }

    /// Declares the table at `path`, which ends in `.{i}.`, with the access controllers have.
    /// Its parent gets a read-only `<Name>NumberOfEntries` parameter kept by the engine.
    pub fn table(&mut self, path: &str, access: ObjAccess) -> ObjId {
        self.declare(path, true, access)
    }

    /// Marks a table's rows as living outside the agent (see [`Rows::External`]).
    pub fn external(&mut self, table: ObjId) -> &mut Self {
        self.schema.objects[table.0 as usize].rows = Rows::External;
        self
    }

    /// Marks a table's rows as lost on restart (e.g. `Request.{i}`).
    pub fn volatile_rows(&mut self, table: ObjId) -> &mut Self {
        self.schema.objects[table.0 as usize].persist_rows = false;
        self
    }

    /// Adds a unique-key set to a table; the names are resolved when the schema is frozen.
    pub fn unique_key(&mut self, table: ObjId, names: &[&str]) -> &mut Self {
        self.pending_keys.push((table, names.iter().map(|n| Box::from(*n)).collect()));
        self
    }

    /// Declares a parameter (read-only and live by default; see the [`ParamDef`] setters).
    pub fn param(&mut self, obj: ObjId, name: &str, ty: ParamType) -> &mut ParamDef {
        let id = ParamId(self.schema.params.len() as u32);
        match self.schema.param_index[obj.0 as usize].entry(Box::from(name)) {
            std::collections::hash_map::Entry::Occupied(_) => {
                let path = format!("{}{name}", self.schema.obj(obj).path);
                self.errors.push(SchemaError::Duplicate(path));
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(id);
                self.schema.objects[obj.0 as usize].params.push(id);
            }
        }
        self.schema.params.push(ParamDef {
            name: name.into(),
            obj,
            ty,
            access: ParamAccess::ReadOnly,
            constraints: Constraints::default(),
            default: None,
            storage: Storage::Live,
            persist: true,
            value_change: true,
            hidden: false,
            immutable_key: false,
            reference: false,
            plugin: self.plugin,
            choice: StorageChoice::ByAccess,
        });
        &mut self.schema.params[id.0 as usize]
    }

    /// Declares the standard `Alias` parameter of a table and makes it a unique key: stored,
    /// read-write, at most 64 characters, starting with a letter, assigned `cpe-<n>` by the
    /// engine when a controller does not give one, and immutable once set.
    pub fn alias(&mut self, table: ObjId) -> ParamId {
        let id = ParamId(self.schema.params.len() as u32);
        self.param(table, "Alias", ParamType::String).rw().max_len(64).immutable_key();
        self.unique_key(table, &["Alias"]);
        id
    }

    /// Declares a command; `is_async` commands complete later with OperationComplete.
    pub fn command(&mut self, obj: ObjId, name: &str, is_async: bool) -> &mut CommandDef {
        let id = CmdId(self.schema.commands.len() as u32);
        if self.schema.command_by_name(obj, name).is_some() {
            let path = format!("{}{name}()", self.schema.obj(obj).path);
            self.errors.push(SchemaError::Duplicate(path));
        }
        self.schema.objects[obj.0 as usize].commands.push(id);
        self.schema.commands.push(CommandDef {
            name: name.into(),
            obj,
            is_async,
            inputs: Vec::new(),
            outputs: Vec::new(),
            plugin: self.plugin,
        });
        &mut self.schema.commands[id.0 as usize]
    }

    /// Declares an event.
    pub fn event(&mut self, obj: ObjId, name: &str) -> &mut EventDef {
        let id = EventId(self.schema.events.len() as u32);
        if self.schema.event_by_name(obj, name).is_some() {
            let path = format!("{}{name}!", self.schema.obj(obj).path);
            self.errors.push(SchemaError::Duplicate(path));
        }
        self.schema.objects[obj.0 as usize].events.push(id);
        self.schema.events.push(EventDef { name: name.into(), obj, args: Vec::new() });
        &mut self.schema.events[id.0 as usize]
    }

    /// The id the next [`SchemaBuilder::param`] call gives its parameter.
    pub fn next_param_id(&self) -> ParamId {
        ParamId(self.schema.params.len() as u32)
    }

    /// The id of the parameter `name` of `obj`, declared earlier.
    pub fn param_id(&self, obj: ObjId, name: &str) -> Option<ParamId> {
        self.schema.param_by_name(obj, name)
    }

    /// The id of the command `name` of `obj`, declared earlier.
    pub fn command_id(&self, obj: ObjId, name: &str) -> Option<CmdId> {
        self.schema.command_by_name(obj, name)
    }

    /// Looks up an object declared earlier (by any plugin) by its supported path.
    pub fn lookup(&self, path: &str) -> Option<ObjId> {
        self.schema.obj_by_path(path)
    }

    fn declare(&mut self, path: &str, multi: bool, access: ObjAccess) -> ObjId {
        let Some((parent, name)) = self.split_parent(path, multi) else {
            self.errors.push(SchemaError::BadObjectPath(path.to_owned()));
            return ObjId::ROOT;
        };
        if let Some(existing) = self.schema.child(parent, &name) {
            if self.schema.obj(existing).multi != multi {
                self.errors.push(SchemaError::Conflict(path.to_owned()));
            }
            return existing;
        }
        let id = ObjId(self.schema.objects.len() as u32);
        let full = format!(
            "{}{}{}",
            self.schema.obj(parent).path,
            name,
            if multi { ".{i}." } else { "." }
        );
        self.schema.objects.push(ObjectDef {
            name: name.clone(),
            path: full.into(),
            parent: Some(parent),
            multi,
            access: if multi { access } else { ObjAccess::ReadOnly },
            rows: Rows::Stored,
            persist_rows: true,
            unique_keys: Vec::new(),
            params: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
            children: Vec::new(),
            plugin: self.plugin,
            owner: ObjId::ROOT,
            table_slot: 0,
            value_slots: 0,
            table_slots: 0,
            defaults: Vec::new(),
            chain: Box::new([]),
            slot_params: Vec::new(),
            slot_tables: Vec::new(),
        });
        self.schema.objects[parent.0 as usize].children.push(id);
        self.schema.child_index[parent.0 as usize].insert(name.clone(), id);
        self.schema.child_index.push(HashMap::new());
        self.schema.param_index.push(HashMap::new());
        if multi {
            let count = format!("{name}NumberOfEntries");
            self.param(parent, &count, ParamType::UnsignedInt).storage = Storage::EntryCount(id);
        }
        id
    }

    /// Splits `Device.A.{i}.B.` (or `...B.{i}.` for a table) into the declared parent and `B`.
    fn split_parent(&self, path: &str, multi: bool) -> Option<(ObjId, Box<str>)> {
        let body = path.strip_suffix('.')?;
        let body = if multi { body.strip_suffix(".{i}")? } else { body };
        let (parent_path, name) = body.rsplit_once('.')?;
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return None;
        }
        let parent = self.schema.obj_by_path(&format!("{parent_path}."))?;
        // A table's path must name its instances with `{i}`.
        let expected = format!("{parent_path}.");
        if *self.schema.obj(parent).path != *expected {
            return None;
        }
        Some((parent, name.into()))
    }

    /// Freezes the declarations: resolves unique keys, lays out instance nodes and checks
    /// defaults.
    pub(crate) fn finish(mut self) -> Result<Schema, SchemaError> {
        for (table, names) in std::mem::take(&mut self.pending_keys) {
            let mut set = Vec::new();
            for name in names {
                match self.schema.param_by_name(table, &name) {
                    Some(p) => set.push(p),
                    None => {
                        let path = format!("{}{name}", self.schema.obj(table).path);
                        self.errors.push(SchemaError::UnknownKey(path));
                    }
                }
            }
            self.schema.objects[table.0 as usize].unique_keys.push(set);
        }
        if let Some(e) = self.errors.into_iter().next() {
            return Err(e);
        }
        let mut schema = self.schema;
        layout(&mut schema)?;
        Ok(schema)
    }
}

/// Assigns owners, value slots and table slots; parents precede children in the arena.
fn layout(schema: &mut Schema) -> Result<(), SchemaError> {
    for i in 0..schema.objects.len() {
        let (owner, table_slot) = match schema.objects[i].parent {
            None => (ObjId(i as u32), 0),
            Some(parent) => {
                let parent_owner = schema.objects[parent.0 as usize].owner;
                if schema.objects[i].multi {
                    let o = &mut schema.objects[parent_owner.0 as usize];
                    o.table_slots += 1;
                    o.slot_tables.push(ObjId(i as u32));
                    (ObjId(i as u32), o.table_slots - 1)
                } else {
                    (parent_owner, 0)
                }
            }
        };
        let mut chain = match schema.objects[i].parent {
            Some(parent) => schema.objects[parent.0 as usize].chain.to_vec(),
            None => Vec::new(),
        };
        if schema.objects[i].multi {
            chain.push(ObjId(i as u32));
        }
        schema.objects[i].chain = chain.into();
        schema.objects[i].owner = owner;
        schema.objects[i].table_slot = table_slot;
        for p in schema.objects[i].params.clone() {
            let def = &schema.params[p.0 as usize];
            let stored = match (def.storage, def.choice) {
                (Storage::EntryCount(_), _) => false,
                (_, StorageChoice::Stored) => true,
                (_, StorageChoice::Live) => false,
                (_, StorageChoice::ByAccess) => def.access != ParamAccess::ReadOnly,
            };
            if !stored {
                continue;
            }
            let default = match &def.default {
                Some(text) => def.constraints.parse(def.ty, text).map_err(|e| {
                    SchemaError::BadDefault(format!("{}{}: {e}", schema.objects[i].path, def.name))
                })?,
                None => def.ty.zero(),
            };
            let o = &mut schema.objects[owner.0 as usize];
            o.value_slots += 1;
            o.defaults.push(default);
            o.slot_params.push(p);
            let slot = o.value_slots - 1;
            schema.params[p.0 as usize].storage = Storage::Stored(slot);
        }
    }
    Ok(())
}

impl ParamDef {
    /// Makes the parameter writable by controllers (stored by the engine unless `live()`).
    pub fn rw(&mut self) -> &mut Self {
        self.access = ParamAccess::ReadWrite;
        self
    }
    /// Makes the parameter write-only (reads return an empty value).
    pub fn write_only(&mut self) -> &mut Self {
        self.access = ParamAccess::WriteOnly;
        self
    }
    /// Makes the parameter writable only in the Add that creates its instance.
    pub fn write_once(&mut self) -> &mut Self {
        self.access = ParamAccess::WriteOnceReadOnly;
        self
    }
    /// Keeps the value in the engine (also for read-only parameters the agent itself sets).
    pub fn stored(&mut self) -> &mut Self {
        self.choice = StorageChoice::Stored;
        self
    }
    /// Makes the owning plugin compute the value on every read (and apply every write).
    pub fn live(&mut self) -> &mut Self {
        self.choice = StorageChoice::Live;
        self
    }
    /// Keeps a stored value in memory only: it is back to its default after a restart.
    pub fn volatile(&mut self) -> &mut Self {
        self.persist = false;
        self
    }
    /// The value of a stored parameter before anything sets it.
    pub fn default(&mut self, text: &str) -> &mut Self {
        self.default = Some(text.into());
        self
    }
    /// Restricts a string (or each list item) to these values.
    pub fn enumeration(&mut self, values: &'static [&'static str]) -> &mut Self {
        self.constraints.enumeration = Some(values);
        self
    }
    /// Restricts a number to `min..=max`.
    pub fn range(&mut self, min: i128, max: i128) -> &mut Self {
        self.constraints.range = Some((min, max));
        self
    }
    /// Restricts the length of a string (or of each list item).
    pub fn max_len(&mut self, len: u32) -> &mut Self {
        self.constraints.max_len = Some(len);
        self
    }
    /// Makes the value a comma-separated list of items of the type.
    pub fn list(&mut self) -> &mut Self {
        self.constraints.list = Some(Default::default());
        self
    }
    /// Declares that ValueChange notifications are never sent for this parameter.
    pub fn no_value_change(&mut self) -> &mut Self {
        self.value_change = false;
        self
    }
    /// Hides the value from controllers (TR-181 `hidden` / `secured` strings such as
    /// `Password`): a controller's Get, search expression or ValueChange sees the type's empty
    /// value, while the agent itself (`Requester::Internal`) reads the real one. The access
    /// reported to controllers is unchanged (a hidden read-write parameter is read-write).
    pub fn hidden(&mut self) -> &mut Self {
        self.hidden = true;
        self
    }
    /// Declares the parameter a reference (its value is a path, or a list of paths).
    pub fn reference(&mut self) -> &mut Self {
        self.reference = true;
        self
    }
    /// Declares the parameter a non-functional unique key: once set, it never changes.
    pub fn immutable_key(&mut self) -> &mut Self {
        self.immutable_key = true;
        self
    }
}

impl CommandDef {
    /// Adds an optional input argument.
    pub fn input(&mut self, name: &str, ty: ParamType) -> &mut Self {
        self.inputs.push(arg(name, ty, false, None));
        self
    }
    /// Adds an optional input argument with the value used when it is omitted.
    pub fn input_default(&mut self, name: &str, ty: ParamType, default: &str) -> &mut Self {
        self.inputs.push(arg(name, ty, false, Some(default)));
        self
    }
    /// Adds an optional argument of a multi-instance input object, named as TR-181 declares it
    /// (`TimeWindow.{i}.Start`): it takes the keys `TimeWindow.1.Start` ... up to instance
    /// `max`, each passed to the command under its own name.
    pub fn input_rows(&mut self, name: &str, ty: ParamType, max: u32) -> &mut Self {
        let mut a = arg(name, ty, false, None);
        a.instances = max;
        self.inputs.push(a);
        self
    }
    /// Adds a mandatory input argument (USP 7027 when missing).
    pub fn mandatory(&mut self, name: &str, ty: ParamType) -> &mut Self {
        self.inputs.push(arg(name, ty, true, None));
        self
    }
    /// Adds an output argument.
    pub fn output(&mut self, name: &str, ty: ParamType) -> &mut Self {
        self.outputs.push(arg(name, ty, false, None));
        self
    }
}

impl EventDef {
    /// Adds an argument.
    pub fn arg(&mut self, name: &str, ty: ParamType) -> &mut Self {
        self.args.push(arg(name, ty, false, None));
        self
    }
}

fn arg(name: &str, ty: ParamType, mandatory: bool, default: Option<&str>) -> ArgDef {
    ArgDef {
        name: name.into(),
        ty,
        constraints: Constraints::default(),
        mandatory,
        default: default.map(Box::from),
        instances: 0,
    }
}
