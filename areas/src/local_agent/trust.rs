//! `Device.LocalAgent.ControllerTrust.`: roles and their permissions.
//!
//! A plugin cannot add rows, so the default role is a factory default: the core calls
//! [`apply_defaults`] after building the data model (or puts [`default_entries`] into its
//! factory-defaults file). Permission strings are checked on Add and Set:
//! four characters, each the letter of its position in `rwxn` or `-`. What the rows mean is the
//! evaluator's ([`usp_datamodel::access`]): the engine compiles them, with the Controller table's
//! `AssignedRole` and `InheritedRole`, whenever they change ([`DataModel::access`]).
//! `Challenge.{i}.` and its commands are in `challenge`.

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, Requester};
use usp_datamodel::schema::{CmdId, ObjAccess, ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};
use usp_datamodel::{DataModel, Item};

/// The four permission parameters of a `Permission.{i}` row.
const PERMISSION_PARAMS: &[&str] = &["Param", "Obj", "InstantiatedObj", "CommandEvent"];

/// The `Device.LocalAgent.ControllerTrust.` plugin.
#[derive(Debug, Default)]
pub struct ControllerTrust {
    challenges: super::challenge::Challenges,
}

/// The factory-default ControllerTrust entries: role 1 "Full Access", enabled, with one
/// permission granting everything on `Device.`. Path and value pairs for
/// `DataModel::apply_default`; [`apply_defaults`] applies them when no role exists.
pub fn default_entries() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Device.LocalAgent.ControllerTrust.Role.1.Alias", "full-access"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Name", "Full Access"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Enable", "true"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Alias", "all"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Enable", "true"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Order", "1"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Targets", "Device."),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Param", "rwxn"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.Obj", "rwxn"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.InstantiatedObj", "rwxn"),
        ("Device.LocalAgent.ControllerTrust.Role.1.Permission.1.CommandEvent", "rwxn"),
    ]
}

/// Applies [`default_entries`] in one transaction when the Role table is empty (first start,
/// or after a factory reset); returns whether it did. Call after `DataModel::new`.
pub fn apply_defaults(dm: &mut DataModel) -> Result<bool, UspError> {
    let count = Path::parse("Device.LocalAgent.ControllerTrust.RoleNumberOfEntries")
        .map_err(|e| UspError::internal(e.to_string()))?;
    let target = dm.resolve(&Requester::Internal, &count)?.remove(0);
    let Item::Param(param) = target.item else { return Err(UspError::internal("no count")) };
    let rows = dm.read_params(&Requester::Internal, target.obj, &target.numbers, &[param]);
    if rows.into_iter().next().and_then(|v| v.ok()).and_then(|v| v.as_u64()) != Some(0) {
        return Ok(false);
    }
    dm.begin(Requester::Internal);
    // Not `add_only`: the first entry creates the row, and the others must still apply.
    for (path, value) in default_entries() {
        if let Err(e) = dm.apply_default(path, value, false) {
            dm.abort();
            return Err(e);
        }
    }
    dm.commit();
    Ok(true)
}

/// Checks a permission string: `rwxn` with any letters replaced by `-`.
fn check_permission(name: &str, value: &Value) -> Result<(), UspError> {
    let text = value.as_str().unwrap_or_default();
    let ok = text.len() == 4
        && text.chars().zip("rwxn".chars()).all(|(c, letter)| c == letter || c == '-');
    if ok {
        Ok(())
    } else {
        Err(UspError::new(
            ErrorCode::InvalidValue,
            format!("{name} must be four characters, each its letter of rwxn or -: '{text}'"),
        ))
    }
}

/// Checks the permission strings among `changes`.
fn check_changes(ctx: &Ctx, changes: &[(ParamId, Value)]) -> Result<(), UspError> {
    for (p, v) in changes {
        let name = &*ctx.schema().param(*p).name;
        if PERMISSION_PARAMS.contains(&name) {
            check_permission(name, v)?;
        }
    }
    Ok(())
}

impl Plugin for ControllerTrust {
    fn name(&self) -> &'static str {
        "ControllerTrust"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let ct = b.object("Device.LocalAgent.ControllerTrust.");
        b.param(ct, "UntrustedRole", ParamType::String).rw().list().reference();
        b.param(ct, "BannedRole", ParamType::String).rw().reference();
        b.param(ct, "SecuredRoles", ParamType::String).rw().list().reference();
        b.param(ct, "TOFUAllowed", ParamType::Boolean).rw().default("false");
        b.param(ct, "TOFUInactivityTimer", ParamType::UnsignedInt).rw().default("0");
        super::challenge::register(b, ct);

        let role = b.table("Device.LocalAgent.ControllerTrust.Role.{i}.", ObjAccess::AddDelete);
        b.alias(role);
        b.param(role, "Enable", ParamType::Boolean).rw().default("false");
        b.param(role, "Name", ParamType::String).rw();
        b.unique_key(role, &["Name"]);

        let perm = b.table(
            "Device.LocalAgent.ControllerTrust.Role.{i}.Permission.{i}.",
            ObjAccess::AddDelete,
        );
        b.alias(perm);
        b.param(perm, "Enable", ParamType::Boolean).rw().default("false");
        b.param(perm, "Order", ParamType::UnsignedInt).rw().default("0");
        b.unique_key(perm, &["Order"]);
        b.param(perm, "Targets", ParamType::String).rw().list();
        for name in PERMISSION_PARAMS {
            b.param(perm, name, ParamType::String).rw().max_len(4).default("----");
        }
    }

    fn validate(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        check_changes(ctx, changes)
    }

    fn add(
        &mut self,
        ctx: &mut Ctx,
        _row: &Instance,
        params: &[(ParamId, Value)],
    ) -> Result<Option<String>, UspError> {
        check_changes(ctx, params)?;
        Ok(None)
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        _inst: &Instance,
        input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        match &*ctx.schema().command(cmd).name {
            "RequestChallenge" => self.challenges.request(ctx, input),
            "ChallengeResponse" => self.challenges.respond(ctx, input),
            _ => Err(UspError::new(ErrorCode::CommandFailure, "unknown command")),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::LocalAgent;
    use crate::testutil::*;

    fn plugins() -> Vec<Box<dyn Plugin>> {
        vec![Box::new(LocalAgent::new(Default::default())), Box::new(ControllerTrust::default())]
    }

    fn with_controllers() -> Vec<Box<dyn Plugin>> {
        vec![
            Box::new(LocalAgent::new(Default::default())),
            Box::new(crate::local_agent::Controllers),
            Box::new(ControllerTrust::default()),
        ]
    }

    const ROLE: &str = "Device.LocalAgent.ControllerTrust.Role.";

    #[test]
    fn default_entries_apply_when_no_role_exists() {
        let mut t = Lab::new(plugins());
        assert!(apply_defaults(&mut t.dm).unwrap());
        t.dm.flush().unwrap();
        assert_eq!(t.get("Device.LocalAgent.ControllerTrust.RoleNumberOfEntries"), "1");
        assert_eq!(t.get(&format!("{ROLE}1.Name")), "Full Access");
        assert_eq!(t.get(&format!("{ROLE}1.Alias")), "full-access");
        assert_eq!(t.get(&format!("{ROLE}1.Enable")), "true");
        assert_eq!(t.get(&format!("{ROLE}1.PermissionNumberOfEntries")), "1");
        let perm = t.read_all(&format!("{ROLE}1.Permission.1."));
        assert_eq!(perm.len(), 8);
        assert!(perm.contains(&("Targets".into(), "Device.".into())));
        assert!(perm.contains(&("Order".into(), "1".into())));
        for name in PERMISSION_PARAMS {
            assert!(perm.contains(&((*name).into(), "rwxn".into())), "{name}");
        }

        // A controller's change survives a restart: the defaults apply only to an empty table.
        t.set(&format!("{ROLE}1."), &[("Enable", "false")]).unwrap();
        let mut t = t.restart(plugins());
        assert!(!apply_defaults(&mut t.dm).unwrap());
        assert_eq!(t.get(&format!("{ROLE}1.Enable")), "false");
        assert_eq!(t.get("Device.LocalAgent.ControllerTrust.RoleNumberOfEntries"), "1");
    }

    #[test]
    fn every_parameter_reads() {
        let mut t = Lab::new(plugins());
        assert_eq!(t.read_all("Device.LocalAgent.ControllerTrust.").len(), 7);
        let r = t.add(ROLE, &[("Name", "Viewer")]).unwrap();
        assert_eq!(t.read_all(&r).len(), 4);
    }

    #[test]
    fn permission_strings_are_checked() {
        let mut t = Lab::new(plugins());
        let r = t.add(ROLE, &[("Name", "Viewer")]).unwrap();
        let table = format!("{r}Permission.");
        let e = t.add(&table, &[("Param", "wr--")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let p = t.add(&table, &[("Param", "r---"), ("Targets", "Device.DeviceInfo.")]).unwrap();
        assert_eq!(t.get(&format!("{p}Obj")), "----");
        let e = t.set(&p, &[("Obj", "rwx")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let e = t.set(&p, &[("Obj", "rwxnn")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        t.set(&p, &[("Obj", "r--n")]).unwrap();
        let e = t.add(ROLE, &[("Name", "Viewer")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
    }

    /// The engine compiles the roles again after each committed change of them, and a search
    /// condition on a parameter the controller may not read never holds.
    #[test]
    fn access_follows_the_rows() {
        let mut t = Lab::new(with_controllers());
        assert!(apply_defaults(&mut t.dm).unwrap());
        let ctrl = "Device.LocalAgent.Controller.";
        let missing = "Device.LocalAgent.ControllerTrust.Role.9";
        let values = [("EndpointID", "proto::controller"), ("AssignedRole", missing)];
        let c = t.add_as(Requester::Internal, ctrl, &values).unwrap();
        assert!(!t.dm.access(&t.who).is_full(), "a missing role grants nothing");
        t.set(&c, &[("AssignedRole", "Device.LocalAgent.ControllerTrust.Role.1")]).unwrap();
        assert!(t.dm.access(&t.who).is_full());
        assert!(t.dm.access(&Requester::Internal).is_full());

        let table = format!("{ROLE}1.Permission.");
        let deny = [
            ("Enable", "true"),
            ("Order", "2"),
            ("Targets", "Device.LocalAgent.Controller."),
            ("Param", "--w-"),
        ];
        // Not a valid string: nothing changes.
        assert!(t.add(&table, &deny).is_err());
        assert!(t.dm.access(&t.who).is_full());
        let deny = [deny[0], deny[1], deny[2], ("Param", "-w--")];
        let p = t.add(&table, &deny).unwrap();
        let access = t.dm.access(&t.who);
        assert!(!access.is_full());
        let schema = t.dm.schema();
        let obj = schema.obj_by_path("Device.LocalAgent.Controller.{i}.").unwrap();
        let eid = schema.param_by_name(obj, "EndpointID").unwrap();
        assert_eq!(access.param(schema, eid, &[1]).to_string(), "-w--");

        let search = usp_datamodel::path::Path::parse(
            "Device.LocalAgent.Controller.[EndpointID==\"proto::controller\"].",
        )
        .unwrap();
        assert_eq!(t.dm.resolve(&Requester::Internal, &search).unwrap().len(), 1);
        assert_eq!(t.dm.resolve(&t.who.clone(), &search).unwrap().len(), 0);

        t.set(&p, &[("Enable", "false")]).unwrap();
        assert!(t.dm.access(&t.who).is_full());
        assert_eq!(t.dm.resolve(&t.who.clone(), &search).unwrap().len(), 1);
        t.set(&format!("{ROLE}1."), &[("Enable", "false")]).unwrap();
        assert!(!t.dm.access(&t.who).is_full());
        t.delete(&c).unwrap();
        assert!(!t.dm.access(&t.who).is_full(), "an unknown controller gets the UntrustedRole");
    }

    /// Rules compiled inside a transaction (from values that may be undone) are not kept.
    #[test]
    fn access_compiled_inside_an_aborted_transaction_is_not_kept() {
        let mut t = Lab::new(with_controllers());
        assert!(apply_defaults(&mut t.dm).unwrap());
        let values = [
            ("EndpointID", "proto::controller"),
            ("AssignedRole", "Device.LocalAgent.ControllerTrust.Role.1"),
        ];
        t.add_as(Requester::Internal, "Device.LocalAgent.Controller.", &values).unwrap();
        let p = usp_datamodel::path::Path::parse(&format!("{ROLE}1.Enable")).unwrap();
        let target = t.dm.resolve(&Requester::Internal, &p).unwrap().remove(0);
        let usp_datamodel::Item::Param(enable) = target.item else { panic!() };
        t.dm.begin(Requester::Internal);
        t.dm.set_values(target.obj, &target.numbers, &[(enable, Value::Boolean(false))]).unwrap();
        assert!(!t.dm.access(&t.who).is_full(), "the open transaction's view");
        t.dm.abort();
        assert!(t.dm.access(&t.who).is_full());
    }
}
