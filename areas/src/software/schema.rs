//! Declares `Device.SoftwareModules.` from the generated tables of [`super::tr181`] and keeps
//! what the plugin dispatches on: for every parameter its table and name, for every command
//! its [`Cmd`].
//!
//! Every parameter is live (the execution environment owns the values); the three tables are
//! external (rows come from the environment's snapshot) and read-only to controllers: DUs are
//! created by `InstallDU()`, never by a USP Add.

use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::ParamType;

use super::tr181::{COMMANDS, DU_STATE_CHANGE, OBJECTS};

/// One parameter of the generated table.
#[derive(Debug)]
pub(super) struct P {
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

/// One object of the generated table.
#[derive(Debug)]
pub(super) struct O {
    pub path: &'static str,
    pub table: bool,
    pub unique_keys: &'static [&'static [&'static str]],
    pub params: &'static [P],
}

/// One argument of a command or event.
#[derive(Debug)]
pub(super) struct A {
    pub name: &'static str,
    pub ty: ParamType,
    pub mandatory: bool,
    pub enumeration: Option<&'static [&'static str]>,
    pub max_len: Option<u32>,
}

/// One command of the generated table.
#[derive(Debug)]
pub(super) struct C {
    pub obj: &'static str,
    pub name: &'static str,
    pub is_async: bool,
    pub inputs: &'static [A],
    pub outputs: &'static [A],
}

/// The table a parameter belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Table {
    /// `ExecEnv.{i}.`
    Env,
    /// `DeploymentUnit.{i}.`
    Du,
    /// `ExecutionUnit.{i}.`
    Eu,
}

/// The commands served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmd {
    InstallDu,
    Update,
    Uninstall,
    SetRequestedState,
    Restart,
    SetRunLevel,
    Reset,
}

/// The table paths.
pub(super) const ROOT: &str = "Device.SoftwareModules.";
pub(super) const ENV_TABLE: &str = "Device.SoftwareModules.ExecEnv.{i}.";
pub(super) const DU_TABLE: &str = "Device.SoftwareModules.DeploymentUnit.{i}.";
pub(super) const EU_TABLE: &str = "Device.SoftwareModules.ExecutionUnit.{i}.";

/// The ids the plugin dispatches on, filled by [`Ids::register`]. Vectors, not maps: the
/// parameter ids come in increasing order (a binary search), and a map type of its own would
/// add its code to the agent.
#[derive(Debug, Default)]
pub(super) struct Ids {
    params: Vec<(ParamId, Table, &'static str)>,
    commands: Vec<(CmdId, Cmd)>,
}

impl Ids {
    /// Declares every object, parameter, command and the DUStateChange! event.
    pub(super) fn register(&mut self, b: &mut SchemaBuilder) {
        for o in OBJECTS {
            let obj = if o.table { b.table(o.path, ObjAccess::ReadOnly) } else { b.object(o.path) };
            let table = match o.path {
                ENV_TABLE => Some(Table::Env),
                DU_TABLE => Some(Table::Du),
                EU_TABLE => Some(Table::Eu),
                _ => None,
            };
            if o.table {
                b.external(obj);
                b.alias(obj);
                for k in o.unique_keys {
                    b.unique_key(obj, k);
                }
            }
            let Some(table) = table else { continue };
            for p in o.params {
                let id = b.next_param_id();
                declare(b, obj, p);
                self.params.push((id, table, p.name));
            }
        }
        for c in COMMANDS {
            let Some(obj) = b.lookup(c.obj) else { continue };
            let cmd = b.command(obj, c.name, c.is_async);
            for a in c.inputs {
                if a.mandatory {
                    cmd.mandatory(a.name, a.ty);
                } else {
                    cmd.input(a.name, a.ty);
                }
                if let Some(last) = cmd.inputs.last_mut() {
                    last.constraints.enumeration = a.enumeration;
                    last.constraints.max_len = a.max_len;
                }
            }
            for a in c.outputs {
                cmd.output(a.name, a.ty);
            }
            let which = match (c.obj, c.name) {
                (ROOT, _) => Cmd::InstallDu,
                (_, "Update") => Cmd::Update,
                (_, "Uninstall") => Cmd::Uninstall,
                (_, "SetRequestedState") => Cmd::SetRequestedState,
                (EU_TABLE, "Restart") => Cmd::Restart,
                (_, "SetRunLevel") => Cmd::SetRunLevel,
                _ => Cmd::Reset,
            };
            if let Some(id) = b.command_id(obj, c.name) {
                self.commands.push((id, which));
            }
        }
        if let Some(root) = b.lookup(ROOT) {
            let event = b.event(root, "DUStateChange");
            for a in DU_STATE_CHANGE {
                event.arg(a.name, a.ty);
            }
        }
    }

    /// The table and name of parameter `p`.
    pub(super) fn of(&self, p: ParamId) -> Option<(Table, &'static str)> {
        let i = self.params.binary_search_by_key(&p, |e| e.0).ok()?;
        self.params.get(i).map(|e| (e.1, e.2))
    }

    /// The id of parameter `name` of `table`.
    pub(super) fn id(&self, table: Table, name: &str) -> Option<ParamId> {
        self.params.iter().find(|e| e.1 == table && e.2 == name).map(|e| e.0)
    }

    /// The command `id` names.
    pub(super) fn command(&self, id: CmdId) -> Option<Cmd> {
        self.commands.iter().find(|(c, _)| *c == id).map(|(_, c)| *c)
    }
}

fn declare(b: &mut SchemaBuilder, obj: ObjId, p: &P) {
    let def = b.param(obj, p.name, p.ty);
    def.live();
    if p.rw {
        def.rw();
    }
    if p.list {
        def.list();
    }
    if p.hidden {
        def.hidden();
    }
    if p.reference {
        def.reference();
    }
    if let Some(e) = p.enumeration {
        def.enumeration(e);
    }
    if let Some((lo, hi)) = p.range {
        def.range(lo.max(if is_unsigned(p.ty) { 0 } else { lo }), hi);
    }
    if let Some(n) = p.max_len {
        def.max_len(n);
    }
}

fn is_unsigned(ty: ParamType) -> bool {
    matches!(ty, ParamType::UnsignedInt | ParamType::UnsignedLong)
}
