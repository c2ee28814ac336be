//! The engine's side of access control: reading the ControllerTrust and Controller rows into
//! [`TrustRows`], keeping the compiled [`Acl`] until one of those tables changes, and the
//! [`DataModel::access`] every caller asks.
//!
//! Never decides anything about permissions itself (that is [`crate::access`]). A data model
//! without `Device.LocalAgent.ControllerTrust.Role.{i}.` has no access control: everyone gets
//! [`Access::Full`].

use super::DataModel;
use crate::Item;
use crate::access::{Access, Acl, ControllerRow, PermissionRow, RoleRow, TrustRows};
use crate::path::{Path, Segment};
use crate::plugin::Requester;
use crate::schema::{ObjId, ParamId, Schema};
use crate::tree::Tree;
use crate::value::{Value, list_items};

/// True when a target selects instances by value (a search expression) or follows a reference.
fn is_dynamic(path: &Path) -> bool {
    path.segments.iter().any(|s| matches!(s, Segment::Search(_) | Segment::Follow(_)))
}

const TRUST: &str = "Device.LocalAgent.ControllerTrust.";
const ROLE: &str = "Device.LocalAgent.ControllerTrust.Role.{i}.";
const PERMISSION: &str = "Device.LocalAgent.ControllerTrust.Role.{i}.Permission.{i}.";
const CONTROLLER: &str = "Device.LocalAgent.Controller.{i}.";

/// The compiled [`Acl`] and what it was compiled from.
#[derive(Debug)]
pub(crate) struct AclCache {
    /// The objects whose rows and values the ACL depends on; empty without a Role table.
    watched: Vec<ObjId>,
    /// The sum of their change counts when `acl` was built; `None` when it was built inside a
    /// transaction (from values that may still be undone: it is built again next time).
    stamp: Option<u64>,
    acl: Option<Acl>,
}

impl AclCache {
    pub(crate) fn new(schema: &Schema) -> AclCache {
        let watched = match schema.obj_by_path(ROLE) {
            None => Vec::new(),
            Some(role) => [TRUST, PERMISSION, CONTROLLER]
                .iter()
                .filter_map(|p| schema.obj_by_path(p))
                .chain([role])
                .collect(),
        };
        AclCache { watched, stamp: None, acl: None }
    }
}

impl DataModel {
    /// What `who` may do (see [`crate::access`]): [`Access::Full`] for the agent itself, the
    /// access of its Roles for a controller. Compiles the rules again first when the
    /// ControllerTrust or Controller tables changed since the last call (a committed change);
    /// callers ask before they open a transaction, so that its own changes apply from the next
    /// message on.
    pub fn access(&mut self, who: &Requester) -> Access {
        match who {
            Requester::Internal => Access::Full,
            Requester::Controller(id) => self.access_of(id),
        }
    }

    /// The access of the controller whose Endpoint ID is `endpoint_id` (see
    /// [`DataModel::access`]).
    pub fn access_of(&mut self, endpoint_id: &str) -> Access {
        self.acl().map_or(Access::Full, |acl| acl.of(endpoint_id))
    }

    /// Whether `who` reads the values of secured (hidden) parameters: the agent itself, and a
    /// controller holding one of the `SecuredRoles` ([`Acl::sees_secured`]). Without a Role
    /// table nobody else does.
    pub fn sees_secured(&mut self, who: &Requester) -> bool {
        match who {
            Requester::Internal => true,
            Requester::Controller(id) => self.acl().is_some_and(|acl| acl.sees_secured(id)),
        }
    }

    /// True when `who` reads the empty value of `param` instead of the real one: write-only
    /// parameters for everyone, secured (hidden) ones for controllers without a SecuredRole.
    pub(crate) fn conceals(&mut self, who: &Requester, param: ParamId) -> bool {
        let def = self.schema.param(param);
        if !def.concealed_from(who) {
            return false;
        }
        if def.access == crate::schema::ParamAccess::WriteOnly {
            return true;
        }
        !self.sees_secured(who)
    }

    /// The compiled rules, compiled again when their rows changed; `None` without a Role table.
    fn acl(&mut self) -> Option<&Acl> {
        if self.acl.watched.is_empty() {
            return None;
        }
        let stamp: u64 = self.acl.watched.iter().map(|o| self.changes[o.0 as usize]).sum();
        if self.acl.acl.is_none() || self.acl.stamp != Some(stamp) {
            let mut rows = trust_rows(&self.schema, &self.tree);
            let dynamic = self.expand_dynamic_targets(&mut rows);
            self.acl.acl = Some(Acl::build(&self.schema, &rows));
            // Targets that depend on values are resolved again at every check.
            self.acl.stamp = (self.tx.is_none() && !dynamic).then_some(stamp);
        }
        self.acl.acl.as_ref()
    }

    /// Replaces each permission target holding a search expression or a reference step by the
    /// instance paths it resolves to now, as the agent sees them (a target resolving to nothing
    /// covers nothing); returns whether there was any.
    fn expand_dynamic_targets(&mut self, rows: &mut TrustRows) -> bool {
        let mut dynamic = false;
        for p in rows.roles.iter_mut().flat_map(|r| r.permissions.iter_mut()) {
            if !p.targets.contains('[') && !p.targets.contains('+') {
                continue;
            }
            let mut out: Vec<String> = Vec::new();
            for text in list_items(&p.targets) {
                let path = match Path::parse(text) {
                    Ok(path) if is_dynamic(&path) => path,
                    _ => {
                        out.push(text.to_owned());
                        continue;
                    }
                };
                dynamic = true;
                match self.resolve(&Requester::Internal, &path) {
                    Ok(targets) => out.extend(targets.iter().map(|t| self.target_path(t))),
                    Err(e) => log::debug!("permission target '{text}' resolves to nothing: {e}"),
                }
            }
            p.targets = out.join(",");
        }
        dynamic
    }

    /// The path of a resolved target: an instance path, or an item inside one.
    fn target_path(&self, t: &crate::Target) -> String {
        let base = self.schema.instance_path(t.obj, &t.numbers);
        match t.item {
            Item::Object => base,
            Item::Param(p) => format!("{base}{}", self.schema.param(p).name),
            Item::Command(c) => format!("{base}{}()", self.schema.command(c).name),
            Item::Event(e) => format!("{base}{}!", self.schema.event(e).name),
        }
    }

    /// Counts a committed change of the instances of `obj` (rows or stored values).
    pub(crate) fn count_change(&mut self, obj: ObjId) {
        if let Some(c) = self.changes.get_mut(obj.0 as usize) {
            *c += 1;
        }
    }
}

/// Reads the rows the ACL is compiled from (stored tables: no plugin is called).
fn trust_rows(schema: &Schema, tree: &Tree) -> TrustRows {
    let reader = Reader { schema, tree };
    let mut rows = TrustRows::default();
    if let Some(trust) = schema.obj_by_path(TRUST) {
        rows.untrusted_role = reader.text(trust, &[], "UntrustedRole");
        rows.banned_role = reader.text(trust, &[], "BannedRole");
        rows.secured_roles = reader.text(trust, &[], "SecuredRoles");
    }
    if let Some(role) = schema.obj_by_path(ROLE) {
        let perm = schema.obj_by_path(PERMISSION);
        for n in reader.rows(role, &[]) {
            let permissions = match perm {
                Some(perm) => reader
                    .rows(perm, &[n])
                    .into_iter()
                    .map(|m| reader.permission(perm, &[n, m]))
                    .collect(),
                None => Vec::new(),
            };
            let enable = reader.flag(role, &[n], "Enable");
            rows.roles.push(RoleRow { instance: n, enable, permissions });
        }
    }
    if let Some(ctrl) = schema.obj_by_path(CONTROLLER) {
        for n in reader.rows(ctrl, &[]) {
            rows.controllers.push(ControllerRow {
                endpoint_id: reader.text(ctrl, &[n], "EndpointID"),
                assigned_role: reader.text(ctrl, &[n], "AssignedRole"),
                inherited_role: reader.text(ctrl, &[n], "InheritedRole"),
            });
        }
    }
    rows
}

/// Stored values by parameter name.
struct Reader<'a> {
    schema: &'a Schema,
    tree: &'a Tree,
}

impl Reader<'_> {
    fn rows(&self, table: ObjId, parent: &[u32]) -> Vec<u32> {
        self.tree
            .table(self.schema, table, parent)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }

    fn value(&self, obj: ObjId, numbers: &[u32], name: &str) -> Option<&Value> {
        let p: ParamId = self.schema.param_by_name(obj, name)?;
        self.tree.stored(self.schema, numbers, p)
    }

    fn text(&self, obj: ObjId, numbers: &[u32], name: &str) -> String {
        self.value(obj, numbers, name).map(|v| v.to_string()).unwrap_or_default()
    }

    fn flag(&self, obj: ObjId, numbers: &[u32], name: &str) -> bool {
        self.value(obj, numbers, name).and_then(Value::as_bool).unwrap_or(false)
    }

    fn permission(&self, perm: ObjId, numbers: &[u32]) -> PermissionRow {
        let order = self.value(perm, numbers, "Order").and_then(Value::as_u64).unwrap_or(0);
        PermissionRow {
            instance: numbers.last().copied().unwrap_or(0),
            enable: self.flag(perm, numbers, "Enable"),
            order: u32::try_from(order).unwrap_or(u32::MAX),
            targets: self.text(perm, numbers, "Targets"),
            param: self.text(perm, numbers, "Param"),
            obj: self.text(perm, numbers, "Obj"),
            instantiated_obj: self.text(perm, numbers, "InstantiatedObj"),
            command_event: self.text(perm, numbers, "CommandEvent"),
        }
    }
}
