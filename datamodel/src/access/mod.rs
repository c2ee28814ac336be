//! Access control: what a controller may do with each element of the data model, from the
//! `Device.LocalAgent.ControllerTrust.` roles (TR-369 "Role Based Access Control", R-SEC.1;
//! TR-181 `ControllerTrust.Role.{i}.Permission.{i}.`).
//!
//! Owns the permission evaluator: [`Acl`] is compiled once from the ControllerTrust and
//! Controller rows ([`TrustRows`], see `build`) and answers, for one controller, an [`Access`]
//! that the message core asks about each element it touches. Never reads the data model itself
//! (the engine hands it the rows and rebuilds it when they change, see
//! [`crate::DataModel::access`]) and never decides what a message does with a refusal: that is
//! the core's (7006, omission, …).
//!
//! # Semantics (TR-181 2.19, TR-369 1.4)
//!
//! - A Permission row applies when it is enabled, its Role is enabled, and one of its
//!   `Targets` covers the element. A partial path (`Device.LocalAgent.`, `Device.X.1.`) covers
//!   that object and everything below it; a table path (`Device.X.`) covers the table and its
//!   rows; a parameter, command or event path covers that item only. Instance numbers, `*` and
//!   `{i}` are understood. A target with a search expression or a reference step is
//!   resolved by the engine, as the agent sees the data model, to the instances it selects
//!   at the time of each check (see `DataModel::access`); one naming nothing in the supported
//!   data model covers nothing (it is logged when compiled).
//! - Within one Role, among the rows covering an element, the one with the largest `Order`
//!   wins and **all** its four strings apply (lower ones are overridden, bits granted or not);
//!   equal Orders (the unique key forbids them) are broken by the larger instance number.
//!   No row covering the element: nothing is granted.
//! - A controller's Roles are its `AssignedRole` and `InheritedRole` entries; the rights are
//!   the union (bitwise or) of what each Role grants. A controller with neither gets the
//!   `UntrustedRole` (TR-369: "the Role the Agent will automatically assign to any Controller
//!   that has not been authorized for a different Role"); when that is empty too it gets full
//!   access with a warning, as obuspa does (its `ROLE_DEFAULT`), so that an obuspa reset file
//!   without `AssignedRole` keeps working with its controller. A controller holding the `BannedRole` gets nothing. References to missing or
//!   disabled Roles grant nothing.
//! - Secured parameters (TR-181 `secured`, declared `hidden`) read as empty for every
//!   controller except those holding an enabled Role listed in `SecuredRoles`
//!   ([`Acl::sees_secured`]); their Roles must still grant the read.
//! - Which string answers which question: `Param` for parameters (r Get/GetSupportedDM, w
//!   Set/Add, n ValueChange), `Obj` for objects and tables (r Get resolves it and
//!   GetSupportedDM reports it, w Add to the table, n ObjectCreation), `InstantiatedObj` for
//!   object instances (r GetInstances, w Delete, n ObjectDeletion), `CommandEvent` for commands
//!   and events (r GetSupportedDM, x Operate, n OperationComplete / Event).
//!
//! # Instance numbers of an element
//!
//! An element is named by its object, one instance number per table on its path (one short for
//! a table itself), and for an item its id. The number `0` (never a real instance) stands for
//! an instance not known: GetSupportedDM asks about `Device.X.{i}.`, an Add about the row it
//! is about to create. Only `*` (or `{i}`) in a target matches it.
//!
//! # Fast path
//!
//! A Role "grants everything" when one of its enabled rows targets `Device.` with `rwxn` in all
//! four strings and every row of a larger Order also grants `rwxn` everywhere. A controller
//! holding such a Role gets [`Access::Full`], whose answers cost one comparison.

mod build;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use crate::schema::{CmdId, EventId, ObjId, ParamId, Schema};

pub use build::{ControllerRow, PermissionRow, RoleRow, TrustRows};

/// A set of the four permission bits of one permission string (`rwxn`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rights(u8);

impl Rights {
    /// No permission (`----`).
    pub const NONE: Rights = Rights(0);
    /// Read (`r`).
    pub const READ: Rights = Rights(1);
    /// Write (`w`).
    pub const WRITE: Rights = Rights(2);
    /// Execute (`x`).
    pub const EXECUTE: Rights = Rights(4);
    /// Notify (`n`).
    pub const NOTIFY: Rights = Rights(8);
    /// Every permission (`rwxn`).
    pub const ALL: Rights = Rights(15);

    /// Parses a permission string: four characters, each the letter of its position in
    /// `rwxn` (granted) or anything else (`-`, not granted). `None` when not four characters.
    pub fn parse(text: &str) -> Option<Rights> {
        let bytes = text.as_bytes();
        if bytes.len() != 4 {
            return None;
        }
        let bits = b"rwxn"
            .iter()
            .zip(bytes)
            .enumerate()
            .filter(|(_, (letter, c))| letter == c)
            .fold(0u8, |acc, (i, _)| acc | (1 << i));
        Some(Rights(bits))
    }

    /// True when every bit of `other` is granted.
    pub fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }
    /// `r`.
    pub fn read(self) -> bool {
        self.contains(Rights::READ)
    }
    /// `w`.
    pub fn write(self) -> bool {
        self.contains(Rights::WRITE)
    }
    /// `x`.
    pub fn execute(self) -> bool {
        self.contains(Rights::EXECUTE)
    }
    /// `n`.
    pub fn notify(self) -> bool {
        self.contains(Rights::NOTIFY)
    }
}

impl std::ops::BitOr for Rights {
    type Output = Rights;
    fn bitor(self, rhs: Rights) -> Rights {
        Rights(self.0 | rhs.0)
    }
}

impl std::fmt::Display for Rights {
    /// The permission string (`r--n`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, letter) in "rwxn".chars().enumerate() {
            let granted = self.0 & (1 << i) != 0;
            write!(f, "{}", if granted { letter } else { '-' })?;
        }
        Ok(())
    }
}

/// The four permission strings of one Permission row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// `Param`.
    pub param: Rights,
    /// `Obj`.
    pub obj: Rights,
    /// `InstantiatedObj`.
    pub instantiated_obj: Rights,
    /// `CommandEvent`.
    pub command_event: Rights,
}

impl Grants {
    /// `rwxn` in all four strings.
    pub const ALL: Grants = Grants {
        param: Rights::ALL,
        obj: Rights::ALL,
        instantiated_obj: Rights::ALL,
        command_event: Rights::ALL,
    };

    /// True when all four strings are `rwxn`.
    pub fn is_all(&self) -> bool {
        *self == Grants::ALL
    }
}

/// An item inside an object instance, as targets and elements name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Leaf {
    Param(ParamId),
    Command(CmdId),
    Event(EventId),
}

/// One compiled entry of `Targets`: an object, the instance constraint for each table on its
/// path that the target names (`None` = `*` or `{i}`), and the item, if it names one.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    obj: ObjId,
    numbers: Vec<Option<u32>>,
    leaf: Option<Leaf>,
}

impl Target {
    /// True when the target covers the element `obj`/`numbers` (and `leaf` inside it).
    fn covers(&self, schema: &Schema, obj: ObjId, numbers: &[u32], leaf: Option<Leaf>) -> bool {
        let k = self.numbers.len();
        let fits = numbers.len() >= k
            && self.numbers.iter().zip(numbers).all(|(want, n)| want.is_none_or(|w| w == *n));
        match self.leaf {
            Some(own) => leaf == Some(own) && obj == self.obj && numbers.len() == k && fits,
            None => fits && is_ancestor_or_self(schema, self.obj, obj),
        }
    }
}

/// True when `a` is `b` or an object above it.
fn is_ancestor_or_self(schema: &Schema, a: ObjId, b: ObjId) -> bool {
    let mut cur = Some(b);
    while let Some(o) = cur {
        if o == a {
            return true;
        }
        cur = schema.obj(o).parent;
    }
    false
}

/// One enabled Permission row, compiled.
#[derive(Clone, Debug)]
struct Rule {
    order: u32,
    instance: u32,
    targets: Vec<Target>,
    grants: Grants,
}

/// One enabled Role, compiled: its rules by decreasing precedence (opaque; see [`Access`]).
#[derive(Debug, Default)]
pub struct Role {
    rules: Vec<Rule>,
    /// The Role grants everything everywhere (see the module doc, "Fast path").
    full: bool,
}

impl Role {
    /// The strings of the rule that decides for the element, if any covers it.
    fn grants(&self, schema: &Schema, obj: ObjId, numbers: &[u32], leaf: Option<Leaf>) -> Grants {
        self.rules
            .iter()
            .find(|r| r.targets.iter().any(|t| t.covers(schema, obj, numbers, leaf)))
            .map(|r| r.grants)
            .unwrap_or_default()
    }
}

/// What one requester may do: everything, or what its Roles grant.
#[derive(Clone, Debug)]
pub enum Access {
    /// Everything: the agent itself, the local CLI, a controller holding a Role that grants
    /// everything, or any controller when the data model has no ControllerTrust roles.
    Full,
    /// The union of these Roles (none: nothing is granted).
    Limited(Arc<[Arc<Role>]>),
}

impl Access {
    /// Nothing at all.
    pub fn none() -> Access {
        Access::Limited(Arc::from(Vec::new()))
    }

    /// True for [`Access::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, Access::Full)
    }

    fn rights(
        &self,
        schema: &Schema,
        obj: ObjId,
        numbers: &[u32],
        leaf: Option<Leaf>,
        pick: fn(&Grants) -> Rights,
    ) -> Rights {
        match self {
            Access::Full => Rights::ALL,
            Access::Limited(roles) => roles
                .iter()
                .map(|r| pick(&r.grants(schema, obj, numbers, leaf)))
                .fold(Rights::NONE, |a, b| a | b),
        }
    }

    /// The `Param` rights on parameter `param` of the instance named by `numbers`.
    pub fn param(&self, schema: &Schema, param: ParamId, numbers: &[u32]) -> Rights {
        let obj = schema.param(param).obj;
        self.rights(schema, obj, numbers, Some(Leaf::Param(param)), |g| g.param)
    }

    /// The `Obj` rights on the object `obj` (a table itself when `numbers` is one short).
    pub fn object(&self, schema: &Schema, obj: ObjId, numbers: &[u32]) -> Rights {
        self.rights(schema, obj, numbers, None, |g| g.obj)
    }

    /// The `InstantiatedObj` rights on the object instance `obj`/`numbers`.
    pub fn instance(&self, schema: &Schema, obj: ObjId, numbers: &[u32]) -> Rights {
        self.rights(schema, obj, numbers, None, |g| g.instantiated_obj)
    }

    /// The `CommandEvent` rights on command `cmd` of the instance named by `numbers`.
    pub fn command(&self, schema: &Schema, cmd: CmdId, numbers: &[u32]) -> Rights {
        let obj = schema.command(cmd).obj;
        self.rights(schema, obj, numbers, Some(Leaf::Command(cmd)), |g| g.command_event)
    }

    /// The `CommandEvent` rights on event `event` of the instance named by `numbers`.
    pub fn event(&self, schema: &Schema, event: EventId, numbers: &[u32]) -> Rights {
        let obj = schema.event(event).obj;
        self.rights(schema, obj, numbers, Some(Leaf::Event(event)), |g| g.command_event)
    }
}

/// The compiled access rules of every known controller (see the module doc).
#[derive(Debug)]
pub struct Acl {
    /// Controller Endpoint ID → its access.
    controllers: HashMap<Box<str>, Access>,
    /// The access of a controller not in the Controller table (the UntrustedRole).
    unknown: Access,
    /// The controllers holding one of the `SecuredRoles`.
    secured: std::collections::HashSet<Box<str>>,
    /// Whether the UntrustedRole is one of the `SecuredRoles`.
    unknown_secured: bool,
}

impl Acl {
    /// Everyone gets everything (a data model without ControllerTrust roles).
    pub fn open() -> Acl {
        Acl {
            controllers: HashMap::new(),
            unknown: Access::Full,
            secured: Default::default(),
            unknown_secured: false,
        }
    }

    /// Compiles the rows; `schema` resolves the targets.
    pub fn build(schema: &Schema, rows: &TrustRows) -> Acl {
        build::compile(schema, rows)
    }

    /// The access of the controller `endpoint_id`.
    pub fn of(&self, endpoint_id: &str) -> Access {
        self.controllers.get(endpoint_id).unwrap_or(&self.unknown).clone()
    }

    /// Whether the controller `endpoint_id` holds one of the `SecuredRoles` (enabled): it then
    /// reads the values of secured parameters (TR-369 "SecuredRoles"; TP-469 2.27).
    pub fn sees_secured(&self, endpoint_id: &str) -> bool {
        if self.controllers.contains_key(endpoint_id) {
            self.secured.contains(endpoint_id)
        } else {
            self.unknown_secured
        }
    }
}
