//! Compiling the ControllerTrust and Controller rows into an [`Acl`]: Role references, target
//! paths, permission strings, precedence. Pure: the rows are handed in as plain values.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{Access, Acl, Grants, Leaf, Rights, Role, Rule, Target};
use crate::path::{Path, Segment, Tail};
use crate::schema::{ObjId, Schema};
use crate::value::list_items;

/// The prefix of a reference to a Role row.
const ROLE_PREFIX: &str = "Device.LocalAgent.ControllerTrust.Role.";

/// One `ControllerTrust.Role.{i}.Permission.{i}.` row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PermissionRow {
    /// Its instance number.
    pub instance: u32,
    /// `Enable`.
    pub enable: bool,
    /// `Order`.
    pub order: u32,
    /// `Targets` (a comma-separated list of paths).
    pub targets: String,
    /// `Param`.
    pub param: String,
    /// `Obj`.
    pub obj: String,
    /// `InstantiatedObj`.
    pub instantiated_obj: String,
    /// `CommandEvent`.
    pub command_event: String,
}

/// One `ControllerTrust.Role.{i}.` row with its permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleRow {
    /// Its instance number.
    pub instance: u32,
    /// `Enable`.
    pub enable: bool,
    /// Its `Permission.{i}.` rows.
    pub permissions: Vec<PermissionRow>,
}

/// One `LocalAgent.Controller.{i}.` row, as far as access control is concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerRow {
    /// `EndpointID`.
    pub endpoint_id: String,
    /// `AssignedRole` (a list of Role references).
    pub assigned_role: String,
    /// `InheritedRole` (a list of Role references).
    pub inherited_role: String,
}

/// Everything an [`Acl`] is compiled from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustRows {
    /// The Role table.
    pub roles: Vec<RoleRow>,
    /// The Controller table.
    pub controllers: Vec<ControllerRow>,
    /// `ControllerTrust.UntrustedRole`.
    pub untrusted_role: String,
    /// `ControllerTrust.BannedRole`.
    pub banned_role: String,
    /// `ControllerTrust.SecuredRoles`.
    pub secured_roles: String,
}

/// Compiles the rows (see the module doc of [`super`] for the rules).
pub(super) fn compile(schema: &Schema, rows: &TrustRows) -> Acl {
    let roles: HashMap<u32, Arc<Role>> = rows
        .roles
        .iter()
        .filter(|r| r.enable)
        .map(|r| (r.instance, Arc::new(compile_role(schema, r))))
        .collect();
    let access_of = |refs: &[u32]| -> Access {
        let held: Vec<Arc<Role>> = refs.iter().filter_map(|n| roles.get(n).cloned()).collect();
        if held.iter().any(|r| r.full) { Access::Full } else { Access::Limited(Arc::from(held)) }
    };
    let untrusted = role_refs(&rows.untrusted_role);
    let banned = role_refs(&rows.banned_role);
    let secured_roles = role_refs(&rows.secured_roles);
    // A SecuredRole counts when it is enabled, like every Role.
    let holds_secured =
        |refs: &[u32]| refs.iter().any(|r| secured_roles.contains(r) && roles.contains_key(r));
    let mut secured = HashSet::new();
    let mut controllers = HashMap::with_capacity(rows.controllers.len());
    for c in &rows.controllers {
        let mut refs = role_refs(&c.assigned_role);
        refs.extend(role_refs(&c.inherited_role));
        let effective = if refs.is_empty() { &untrusted } else { &refs };
        if !refs.iter().any(|r| banned.contains(r)) && holds_secured(effective) {
            secured.insert(Box::<str>::from(c.endpoint_id.as_str()));
        }
        let access = if refs.iter().any(|r| banned.contains(r)) {
            log::info!("controller {} holds the BannedRole: no access", c.endpoint_id);
            Access::none()
        } else if refs.is_empty() && untrusted.is_empty() {
            // obuspa's rule (ROLE_DEFAULT is full access) so that an obuspa reset file without
            // AssignedRole keeps working with its controller; said once per rebuild.
            log::warn!(
                "controller {} has no AssignedRole, no InheritedRole and there is no \
                 UntrustedRole: it gets full access, as with obuspa (give it a Role, e.g. \
                 {ROLE_PREFIX}1, or set ControllerTrust.UntrustedRole to restrict it)",
                c.endpoint_id
            );
            Access::Full
        } else if refs.is_empty() {
            access_of(&untrusted)
        } else {
            access_of(&refs)
        };
        controllers.insert(c.endpoint_id.as_str().into(), access);
    }
    Acl {
        controllers,
        unknown: access_of(&untrusted),
        secured,
        unknown_secured: holds_secured(&untrusted),
    }
}

/// The Role instance numbers a list of references names (`Device.LocalAgent.ControllerTrust.
/// Role.1`, with or without the trailing dot); other entries are logged and skipped.
fn role_refs(list: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for item in list_items(list) {
        let compact: String = item.chars().filter(|c| !c.is_whitespace()).collect();
        let n = compact
            .trim_end_matches('.')
            .strip_prefix(ROLE_PREFIX)
            .and_then(|n| n.parse::<u32>().ok());
        match n {
            Some(n) if !out.contains(&n) => out.push(n),
            Some(_) => {}
            None => log::warn!("'{item}' is not a reference to a ControllerTrust Role; ignored"),
        }
    }
    out
}

/// Compiles an enabled Role: its enabled rows, highest precedence first.
fn compile_role(schema: &Schema, row: &RoleRow) -> Role {
    let mut rules: Vec<Rule> = row
        .permissions
        .iter()
        .filter(|p| p.enable)
        .map(|p| Rule {
            order: p.order,
            instance: p.instance,
            targets: list_items(&p.targets).filter_map(|t| compile_target(schema, t)).collect(),
            grants: Grants {
                param: rights(&p.param),
                obj: rights(&p.obj),
                instantiated_obj: rights(&p.instantiated_obj),
                command_event: rights(&p.command_event),
            },
        })
        .collect();
    rules.sort_by_key(|r| std::cmp::Reverse((r.order, r.instance)));
    let everything = |t: &Target| t.obj == ObjId::ROOT && t.numbers.is_empty() && t.leaf.is_none();
    let full =
        rules.iter().take_while(|r| r.grants.is_all()).any(|r| r.targets.iter().any(everything));
    Role { rules, full }
}

/// A permission string; a malformed one (the plugin refuses them) grants nothing.
fn rights(text: &str) -> Rights {
    Rights::parse(text).unwrap_or(Rights::NONE)
}

/// Compiles one entry of `Targets`; `None` (logged) when it names nothing this evaluator can
/// match (see the module doc of [`super`]).
fn compile_target(schema: &Schema, text: &str) -> Option<Target> {
    let of = |t: &str| Path::parse(t).ok().and_then(|p| target_of(schema, &p));
    // An object path written without its trailing dot (`Device.X.1`) is read as one.
    let target = of(text).or_else(|| (!text.ends_with('.')).then(|| of(&format!("{text}.")))?);
    if target.is_none() {
        log::warn!("permission target '{text}' is not supported or names nothing; ignored");
    }
    target
}

fn target_of(schema: &Schema, path: &Path) -> Option<Target> {
    let mut segments = path.segments.iter();
    if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
        return None;
    }
    let mut obj = ObjId::ROOT;
    let mut numbers: Vec<Option<u32>> = Vec::new();
    for segment in segments {
        let at_table = numbers.len() < schema.depth(obj);
        match segment {
            Segment::Name(name) if !at_table => obj = schema.child(obj, name)?,
            Segment::Instance(n) if at_table => numbers.push(Some(*n)),
            Segment::Wildcard | Segment::Placeholder if at_table => numbers.push(None),
            _ => return None,
        }
    }
    let at_instance = numbers.len() == schema.depth(obj);
    let leaf = match &path.tail {
        Tail::Object => None,
        Tail::Param(name) if at_instance && schema.param_by_name(obj, name).is_some() => {
            Some(Leaf::Param(schema.param_by_name(obj, name)?))
        }
        // An object path written without its trailing dot.
        Tail::Param(name) if at_instance => {
            obj = schema.child(obj, name)?;
            None
        }
        Tail::Command(name) if at_instance => {
            Some(Leaf::Command(schema.command_by_name(obj, name)?))
        }
        Tail::Event(name) if at_instance => Some(Leaf::Event(schema.event_by_name(obj, name)?)),
        _ => return None,
    };
    Some(Target { obj, numbers, leaf })
}
