//! Declares `Device.SoftwareModules.` from the generated tables of [`super::tr181`] and keeps
//! what the plugin dispatches on: for every parameter its table and name, for every command
//! its [`Cmd`].
//!
//! Every parameter is live (the execution environment owns the values); the three tables are
//! external (rows come from the environment's snapshot) and read-only to controllers: DUs are
//! created by `InstallDU()`, never by a USP Add.

use usp_datamodel::schema::{CmdId, ObjAccess, ParamId, SchemaBuilder};

use super::tr181::{COMMANDS, DU_STATE_CHANGE, OBJECTS};
use crate::tr181;

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
            let obj = tr181::object(b, o, ObjAccess::ReadOnly);
            let table = match o.path {
                ENV_TABLE => Some(Table::Env),
                DU_TABLE => Some(Table::Du),
                EU_TABLE => Some(Table::Eu),
                _ => None,
            };
            if o.table {
                b.external(obj);
                b.alias(obj);
                tr181::unique_keys(b, obj, o, |_| false);
            }
            let Some(table) = table else { continue };
            for p in o.params {
                let id = b.next_param_id();
                let def = tr181::param(b, obj, p);
                def.live();
                if p.rw {
                    def.rw();
                }
                self.params.push((id, table, p.name));
            }
        }
        for c in COMMANDS {
            let which = match (c.obj, c.name) {
                (ROOT, _) => Cmd::InstallDu,
                (_, "Update") => Cmd::Update,
                (_, "Uninstall") => Cmd::Uninstall,
                (_, "SetRequestedState") => Cmd::SetRequestedState,
                (EU_TABLE, "Restart") => Cmd::Restart,
                (_, "SetRunLevel") => Cmd::SetRunLevel,
                _ => Cmd::Reset,
            };
            if let Some(id) = tr181::command(b, c) {
                self.commands.push((id, which));
            }
        }
        if let Some(root) = b.lookup(ROOT) {
            let event = b.event(root, "DUStateChange");
            for (name, ty) in DU_STATE_CHANGE {
                event.arg(name, *ty);
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
