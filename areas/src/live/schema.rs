//! The types of the generated declaration tables (`tr181.rs` in each area) and their
//! declaration into a [`SchemaBuilder`].

use std::collections::HashMap;

use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::ParamType;

/// One parameter of a generated table. `rw` is the XML's access, kept for reference: these
/// areas serve every parameter read-only.
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct P {
    pub name: &'static str,
    pub ty: ParamType,
    pub rw: bool,
    pub list: bool,
    pub hidden: bool,
    pub reference: bool,
    pub enumeration: Option<&'static [&'static str]>,
    pub range: Option<(i128, i128)>,
    pub max_len: Option<u32>,
}

/// One object of a generated table.
#[derive(Debug)]
pub(crate) struct O {
    pub path: &'static str,
    pub table: bool,
    pub unique_keys: &'static [&'static [&'static str]],
    pub params: &'static [P],
}

/// One input argument of a generated command (`rw`, `hidden` and `reference` are the XML's,
/// kept for reference; the engine checks type, range, enumeration and length).
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct A {
    pub name: &'static str,
    pub ty: ParamType,
    pub rw: bool,
    pub list: bool,
    pub hidden: bool,
    pub reference: bool,
    pub enumeration: Option<&'static [&'static str]>,
    pub range: Option<(i128, i128)>,
    pub max_len: Option<u32>,
    pub mandatory: bool,
}

/// One generated command: its object, name, whether it is async, its arguments (output rows
/// of a result table as `RouteHops.{i}.Host`) and the values of its `Status` output (which
/// the tests check every run against).
#[derive(Debug)]
#[allow(dead_code)]
pub(crate) struct C {
    pub obj: &'static str,
    pub name: &'static str,
    pub is_async: bool,
    pub inputs: &'static [A],
    pub outputs: &'static [(&'static str, ParamType)],
    pub statuses: &'static [&'static str],
}

/// What an area's plugin needs after declaring its tables.
#[derive(Debug, Default)]
pub struct Ids {
    /// Every declared parameter: the path of its object and its name.
    params: HashMap<ParamId, (&'static str, &'static str)>,
    /// Every declared table by path.
    tables: HashMap<&'static str, ObjId>,
    /// Every declared command by name.
    commands: HashMap<CmdId, &'static str>,
}

impl Ids {
    /// Declares `objects` (every parameter live and read-only, tables external) and
    /// `commands` (with the XML's argument constraints).
    pub(crate) fn register(b: &mut SchemaBuilder, objects: &'static [O], commands: &[C]) -> Ids {
        let mut ids = Ids::default();
        for o in objects {
            let obj = if o.table {
                let t = b.table(o.path, ObjAccess::ReadOnly);
                b.external(t);
                ids.tables.insert(o.path, t);
                t
            } else {
                b.object(o.path)
            };
            for p in o.params {
                let def = b.param(obj, p.name, p.ty);
                def.live();
                if p.list {
                    def.list();
                }
                if p.reference {
                    def.reference();
                }
                if let Some(values) = p.enumeration {
                    def.enumeration(values);
                }
                if let Some(len) = p.max_len {
                    def.max_len(len);
                }
                if let Some((lo, hi)) = p.range {
                    def.range(lo, hi);
                }
                if p.hidden {
                    def.hidden();
                }
                if let Some(id) = b.param_id(obj, p.name) {
                    ids.params.insert(id, (o.path, p.name));
                }
            }
            for key in o.unique_keys {
                b.unique_key(obj, key);
            }
        }
        for c in commands {
            ids.register_command(b, c);
        }
        ids
    }

    fn register_command(&mut self, b: &mut SchemaBuilder, c: &C) {
        let Some(obj) = b.lookup(c.obj) else { return };
        let def = b.command(obj, c.name, c.is_async);
        for a in c.inputs {
            if a.mandatory {
                def.mandatory(a.name, a.ty);
            } else {
                def.input(a.name, a.ty);
            }
            if let Some(arg) = def.inputs.last_mut() {
                arg.constraints.enumeration = a.enumeration;
                arg.constraints.range = a.range;
                arg.constraints.max_len = a.max_len;
                if a.list {
                    arg.constraints.list = Some(Default::default());
                }
            }
        }
        for (name, ty) in c.outputs {
            def.output(name, *ty);
        }
        if let Some(id) = b.command_id(obj, c.name) {
            self.commands.insert(id, c.name);
        }
    }

    /// The object path and name of a declared parameter.
    pub fn param(&self, id: ParamId) -> Option<(&'static str, &'static str)> {
        self.params.get(&id).copied()
    }

    /// The declared table at `path` (`"Device.IP.Interface.{i}."`).
    pub fn table(&self, path: &str) -> Option<ObjId> {
        self.tables.get(path).copied()
    }

    /// The name of a declared command.
    pub fn command(&self, id: CmdId) -> Option<&'static str> {
        self.commands.get(&id).copied()
    }
}
