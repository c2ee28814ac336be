//! The table types of the generated TR-181 declarations (each area's `tr181.rs`, written by
//! `scripts/gen-*-schema.py` from the Broadband Forum's XML) and the code that declares their
//! objects, parameters and commands into a [`SchemaBuilder`] with the XML's constraints. What
//! an area serves, its storage and access choices and its defaults stay in the area; this
//! module never decides them.

#[cfg(any(feature = "wifi", feature = "software", feature = "diagnostics"))]
use usp_datamodel::schema::CmdId;
use usp_datamodel::schema::{ObjAccess, ObjId, ParamDef, SchemaBuilder};
use usp_datamodel::value::ParamType;

/// One parameter of a generated table, as the XML declares it (the range behind a reference:
/// most parameters have none, and the agent's binary holds one of these per parameter).
#[derive(Debug)]
pub(crate) struct P {
    pub name: &'static str,
    pub ty: ParamType,
    pub rw: bool,
    pub list: bool,
    pub hidden: bool,
    pub reference: bool,
    pub enumeration: Option<&'static [&'static str]>,
    pub range: Option<&'static (i128, i128)>,
    pub max_len: Option<u32>,
    pub default: Option<&'static str>,
}

/// One object of a generated table.
#[derive(Debug)]
pub(crate) struct O {
    pub path: &'static str,
    pub table: bool,
    pub unique_keys: &'static [&'static [&'static str]],
    pub params: &'static [P],
}

/// One input argument of a generated command; `mandatory` is the area's choice, written by
/// its script.
#[cfg(any(feature = "wifi", feature = "software", feature = "diagnostics"))]
#[derive(Debug)]
pub(crate) struct A {
    pub name: &'static str,
    pub ty: ParamType,
    pub mandatory: bool,
    pub list: bool,
    pub enumeration: Option<&'static [&'static str]>,
    pub range: Option<&'static (i128, i128)>,
    pub max_len: Option<u32>,
}

/// One generated command: its object, name, whether it is async, its input and output
/// arguments (output rows of a result table as `RouteHops.{i}.Host`) and the values of its
/// `Status` output, if it has one.
#[cfg(any(feature = "wifi", feature = "software", feature = "diagnostics"))]
#[derive(Debug)]
pub(crate) struct C {
    pub obj: &'static str,
    pub name: &'static str,
    pub is_async: bool,
    pub inputs: &'static [A],
    pub outputs: &'static [(&'static str, ParamType)],
    #[cfg_attr(not(test), allow(dead_code))]
    pub statuses: &'static [&'static str],
}

/// Declares object `o` (a table with `access`, or a single object) without its parameters.
pub(crate) fn object(b: &mut SchemaBuilder, o: &O, access: ObjAccess) -> ObjId {
    if o.table { b.table(o.path, access) } else { b.object(o.path) }
}

/// Declares the unique keys of `o`, except those `skip` refuses.
pub(crate) fn unique_keys(b: &mut SchemaBuilder, obj: ObjId, o: &O, skip: fn(&[&str]) -> bool) {
    for key in o.unique_keys.iter().filter(|k| !skip(k)) {
        b.unique_key(obj, key);
    }
}

/// Declares parameter `p` of `obj` with the XML's list-ness, secrecy, reference flag,
/// enumeration, range, maximum length and default; its storage and access are the caller's.
pub(crate) fn param<'b>(b: &'b mut SchemaBuilder, obj: ObjId, p: &P) -> &'b mut ParamDef {
    let def = b.param(obj, p.name, p.ty);
    if p.list {
        def.list();
    }
    if p.hidden {
        def.hidden();
    }
    if p.reference {
        def.reference();
    }
    if let Some(values) = p.enumeration {
        def.enumeration(values);
    }
    if let Some(&(lo, hi)) = p.range {
        let unsigned = matches!(p.ty, ParamType::UnsignedInt | ParamType::UnsignedLong);
        def.range(if unsigned { lo.max(0) } else { lo }, hi);
    }
    if let Some(len) = p.max_len {
        def.max_len(len);
    }
    if let Some(text) = p.default {
        def.default(text);
    }
    def
}

/// Declares command `c` on its object (when declared) with its arguments' constraints.
#[cfg(any(feature = "wifi", feature = "software", feature = "diagnostics"))]
pub(crate) fn command(b: &mut SchemaBuilder, c: &C) -> Option<CmdId> {
    let obj = b.lookup(c.obj)?;
    let def = b.command(obj, c.name, c.is_async);
    for a in c.inputs {
        if a.mandatory {
            def.mandatory(a.name, a.ty);
        } else {
            def.input(a.name, a.ty);
        }
        if let Some(arg) = def.inputs.last_mut() {
            arg.constraints.enumeration = a.enumeration;
            arg.constraints.range = a.range.copied();
            arg.constraints.max_len = a.max_len;
            if a.list {
                arg.constraints.list = Some(Default::default());
            }
        }
    }
    for (name, ty) in c.outputs {
        def.output(name, *ty);
    }
    b.command_id(obj, c.name)
}

#[cfg(all(test, feature = "wifi", feature = "software", feature = "diagnostics"))]
mod tests;
