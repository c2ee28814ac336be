//! Declares the generated tables (`tr181.rs`) of the read-only live areas (IP, Ethernet,
//! Hosts, health) into a [`SchemaBuilder`] and keeps what their plugins dispatch on.

use std::collections::HashMap;

use crate::tr181::{self, C, O};
use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};

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
            let obj = tr181::object(b, o, ObjAccess::ReadOnly);
            if o.table {
                b.external(obj);
                ids.tables.insert(o.path, obj);
            }
            for p in o.params {
                tr181::param(b, obj, p).live();
                if let Some(id) = b.param_id(obj, p.name) {
                    ids.params.insert(id, (o.path, p.name));
                }
            }
            tr181::unique_keys(b, obj, o, |_| false);
        }
        for c in commands {
            if let Some(id) = tr181::command(b, c) {
                ids.commands.insert(id, c.name);
            }
        }
        ids
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
