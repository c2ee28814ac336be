//! GetSupportedDM (TR-369 "The GetSupportedDM Message").
//!
//! - A path may be in supported notation (`Device.Test.Item.{i}.`), with the final `{i}.`
//!   omitted (`Device.Test.Item.`), or an instantiated path (`Device.Test.Item.1.`) as long as
//!   the instance exists (else 7016). `{i}` followed by an instance number, a name after a
//!   table without `{i}`, search expressions and reference following: 7026. Syntax: 7008.
//! - An object path reports the object, then either its immediate children
//!   (`first_level_only`, the children "with no details": no parameters, commands or events,
//!   but their `unique_key_sets` as in the spec's example) or every descendant, in declaration
//!   order, each with the details the `return_*` flags ask for.
//! - A parameter, command or event path reports its object with only that item; the flags are
//!   ignored (TP-469 1.105–1.107). A "parameter" path naming a child object is that object's
//!   path without its trailing dot (`Device.LocalAgent.Subscription`, TP-469 1.99).
//! - `writeOnceReadOnly` parameters are reported `PARAM_READ_WRITE` (spec); `divergent_paths`
//!   is always empty (no mount points).
//! - Access control (R-GSP.0): objects without `Obj` read, parameters without `Param` read,
//!   commands and events without `CommandEvent` read are treated as absent (a requested path
//!   naming one: 7026; below it: left out, sub-objects still listed when readable). The
//!   `access` fields are narrowed to what the controller may do: a table without `Obj` write is
//!   not addable, without `InstantiatedObj` write not deletable, a parameter without `Param`
//!   write is read-only. A supported path's `{i}` is an instance not known: only targets with
//!   `*` at that level (or none) decide for it; instance numbers given in the requested path
//!   are used as given.

use usp_datamodel::access::{Access, Rights};
use usp_datamodel::path::{Segment, Tail};
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::{ObjId, ParamAccess, Schema};
use usp_datamodel::value::ParamType;
use usp_datamodel::{DataModel, UspError};
use usp_proto::Message;
use usp_proto::msg::get_supported_dm_resp::{
    CmdType, ObjAccessType, ParamAccessType, ParamValueType, RequestedObjectResult,
    SupportedCommandResult, SupportedEventResult, SupportedObjectResult, SupportedParamResult,
    SupportedUniqueKeySet, ValueChangeType,
};
use usp_proto::msg::{GetSupportedDm, GetSupportedDmResp};

use super::budget::Budget;
use super::{DATA_MODEL_URI, parse_path};

/// Answers a GetSupportedDM with the rights of `access`; 7005 when the answer exceeds
/// `budget` (counted path by path: one path's answer is bounded by the size of the schema).
pub(super) fn handle(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    req: &GetSupportedDm,
    budget: &mut Budget,
) -> Result<GetSupportedDmResp, UspError> {
    let mut req_obj_results = Vec::with_capacity(req.obj_paths.len());
    for p in &req.obj_paths {
        let result = match one_path(dm, who, access, p, req) {
            Ok(supported_objs) => RequestedObjectResult {
                req_obj_path: p.clone(),
                err_code: 0,
                err_msg: String::new(),
                data_model_inst_uri: DATA_MODEL_URI.into(),
                supported_objs,
            },
            Err(e) => RequestedObjectResult {
                req_obj_path: p.clone(),
                err_code: e.code.code(),
                err_msg: e.msg,
                data_model_inst_uri: String::new(),
                supported_objs: Vec::new(),
            },
        };
        budget.charge(result.encoded_len())?;
        req_obj_results.push(result);
    }
    Ok(GetSupportedDmResp { req_obj_results })
}

fn one_path(
    dm: &mut DataModel,
    who: &Requester,
    access: &Access,
    text: &str,
    req: &GetSupportedDm,
) -> Result<Vec<SupportedObjectResult>, UspError> {
    let path = parse_path(text)?;
    let invalid = || UspError::invalid_path(super::short(text));
    let mut segments = path.segments.iter();
    if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
        return Err(invalid());
    }
    let schema = dm.schema();
    let mut obj = ObjId::ROOT;
    let mut indexed = true; // the current object is not a table waiting for its `{i}`
    let mut placeholder = false;
    let mut numbers = Vec::new();
    for seg in segments {
        match seg {
            Segment::Name(n) if indexed => {
                obj = schema.child(obj, n).ok_or_else(invalid)?;
                indexed = !schema.obj(obj).multi;
            }
            Segment::Placeholder | Segment::Wildcard if !indexed => {
                placeholder = true;
                indexed = true;
            }
            Segment::Instance(n) if !indexed && !placeholder => {
                numbers.push(*n);
                indexed = true;
            }
            _ => return Err(invalid()),
        }
    }
    if !numbers.is_empty() {
        let depth = numbers.len();
        let chain = schema.chain(obj);
        let table = chain.get(depth - 1).copied().ok_or_else(invalid)?;
        let inst = schema.instance_path(table, &numbers);
        let inst = super::parse_path(&inst)?;
        dm.resolve(who, &inst)?;
    }
    let view = View { schema: dm.schema(), access, numbers: &numbers };
    let item_only = |mut o: SupportedObjectResult| {
        o.supported_params.clear();
        o.supported_commands.clear();
        o.supported_events.clear();
        o.unique_key_sets.clear();
        o
    };
    let all = Flags { params: true, commands: true, events: true, keys: true };
    let out = match &path.tail {
        Tail::Object => {
            if !view.object(obj).read() {
                return Err(invalid());
            }
            let flags = Flags {
                params: req.return_params,
                commands: req.return_commands,
                events: req.return_events,
                keys: req.return_unique_key_sets,
            };
            let mut out = vec![view.describe(obj, flags)];
            if req.first_level_only {
                let child_flags = Flags { keys: req.return_unique_key_sets, ..Flags::NONE };
                for &c in &view.schema.obj(obj).children {
                    if view.object(c).read() {
                        out.push(view.describe(c, child_flags));
                    }
                }
            } else {
                view.descendants(obj, flags, &mut out);
            }
            out
        }
        _ if !indexed => return Err(invalid()),
        Tail::Param(name) => {
            let Some(p) = view.schema.param_by_name(obj, name) else {
                // An object path written without its trailing dot (TP-469 1.99).
                if view.schema.child(obj, name).is_some() {
                    return one_path(dm, who, access, &format!("{text}."), req);
                }
                return Err(invalid());
            };
            let mut o = item_only(view.describe(obj, Flags::NONE));
            o.supported_params.push(view.param(p).ok_or_else(invalid)?);
            vec![o]
        }
        Tail::Command(name) => {
            let c = view.schema.command_by_name(obj, name).ok_or_else(invalid)?;
            if !view.rights(|a, s, n| a.command(s, c, n), obj).read() {
                return Err(invalid());
            }
            let mut o = item_only(view.describe(obj, all));
            o.supported_commands.push(command_result(view.schema, c));
            vec![o]
        }
        Tail::Event(name) => {
            let e = view.schema.event_by_name(obj, name).ok_or_else(invalid)?;
            if !view.rights(|a, s, n| a.event(s, e, n), obj).read() {
                return Err(invalid());
            }
            let mut o = item_only(view.describe(obj, all));
            o.supported_events.push(event_result(view.schema, e));
            vec![o]
        }
    };
    Ok(out)
}

#[derive(Clone, Copy)]
struct Flags {
    params: bool,
    commands: bool,
    events: bool,
    keys: bool,
}

impl Flags {
    const NONE: Flags = Flags { params: false, commands: false, events: false, keys: false };
}

/// The supported model as one controller may see it (see the module doc).
struct View<'a> {
    schema: &'a Schema,
    access: &'a Access,
    /// The instance numbers the requested path gave (leading tables only).
    numbers: &'a [u32],
}

impl View<'_> {
    /// The instance numbers of an instance of `obj` under the requested path: the numbers it
    /// gave, then `0` (an instance not known) for the deeper tables.
    fn numbers(&self, obj: ObjId) -> Vec<u32> {
        let depth = self.schema.depth(obj);
        let mut n: Vec<u32> = self.numbers.iter().copied().take(depth).collect();
        n.resize(depth, 0);
        n
    }

    /// `ask(access, schema, numbers)` about an instance of `obj`; no work for full access.
    fn rights(&self, ask: impl Fn(&Access, &Schema, &[u32]) -> Rights, obj: ObjId) -> Rights {
        if self.access.is_full() {
            return Rights::ALL;
        }
        ask(self.access, self.schema, &self.numbers(obj))
    }

    /// The `Obj` rights on an instance of `obj`.
    fn object(&self, obj: ObjId) -> Rights {
        self.rights(|a, s, n| a.object(s, obj, n), obj)
    }

    fn descendants(&self, obj: ObjId, flags: Flags, out: &mut Vec<SupportedObjectResult>) {
        for &c in &self.schema.obj(obj).children {
            if self.object(c).read() {
                out.push(self.describe(c, flags));
            }
            self.descendants(c, flags, out);
        }
    }

    /// The object's access as this controller has it.
    fn obj_access(&self, obj: ObjId) -> ObjAccessType {
        let def = self.schema.obj(obj);
        let (mut add, mut delete) = (def.access.can_add(), def.access.can_delete());
        if !self.access.is_full() && (add || delete) {
            let row = self.numbers(obj);
            let table = &row[..row.len().saturating_sub(1)];
            add = add && self.access.object(self.schema, obj, table).write();
            delete = delete && self.access.instance(self.schema, obj, &row).write();
        }
        match (add, delete) {
            (true, true) => ObjAccessType::ObjAddDelete,
            (true, false) => ObjAccessType::ObjAddOnly,
            (false, true) => ObjAccessType::ObjDeleteOnly,
            (false, false) => ObjAccessType::ObjReadOnly,
        }
    }

    fn describe(&self, obj: ObjId, flags: Flags) -> SupportedObjectResult {
        let (schema, def) = (self.schema, self.schema.obj(obj));
        let readable = |r: Rights| r.read();
        SupportedObjectResult {
            supported_obj_path: def.path.to_string(),
            access: self.obj_access(obj).into(),
            is_multi_instance: def.multi,
            supported_params: if flags.params {
                def.params.iter().filter_map(|&p| self.param(p)).collect()
            } else {
                Vec::new()
            },
            supported_commands: if flags.commands {
                def.commands
                    .iter()
                    .filter(|&&c| readable(self.rights(|a, s, n| a.command(s, c, n), obj)))
                    .map(|&c| command_result(schema, c))
                    .collect()
            } else {
                Vec::new()
            },
            supported_events: if flags.events {
                def.events
                    .iter()
                    .filter(|&&e| readable(self.rights(|a, s, n| a.event(s, e, n), obj)))
                    .map(|&e| event_result(schema, e))
                    .collect()
            } else {
                Vec::new()
            },
            divergent_paths: Vec::new(),
            unique_key_sets: if flags.keys {
                def.unique_keys
                    .iter()
                    .map(|set| SupportedUniqueKeySet {
                        key_names: set.iter().map(|&p| schema.param(p).name.to_string()).collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }
    }

    /// The parameter as this controller sees it; `None` when it may not read it.
    fn param(&self, p: usp_datamodel::schema::ParamId) -> Option<SupportedParamResult> {
        let def = self.schema.param(p);
        let rights = self.rights(|a, s, n| a.param(s, p, n), def.obj);
        if !rights.read() {
            return None;
        }
        let access = match def.access {
            ParamAccess::ReadOnly => ParamAccessType::ParamReadOnly,
            ParamAccess::ReadWrite | ParamAccess::WriteOnceReadOnly if !rights.write() => {
                ParamAccessType::ParamReadOnly
            }
            ParamAccess::ReadWrite | ParamAccess::WriteOnceReadOnly => {
                ParamAccessType::ParamReadWrite
            }
            ParamAccess::WriteOnly => ParamAccessType::ParamWriteOnly,
        };
        let value_change = if def.value_change {
            ValueChangeType::ValueChangeAllowed
        } else {
            ValueChangeType::ValueChangeWillIgnore
        };
        Some(SupportedParamResult {
            param_name: def.name.to_string(),
            access: access.into(),
            value_type: value_type(def.ty).into(),
            value_change: value_change.into(),
        })
    }
}

fn value_type(ty: ParamType) -> ParamValueType {
    match ty {
        ParamType::String => ParamValueType::ParamString,
        ParamType::Boolean => ParamValueType::ParamBoolean,
        ParamType::Int => ParamValueType::ParamInt,
        ParamType::UnsignedInt => ParamValueType::ParamUnsignedInt,
        ParamType::Long => ParamValueType::ParamLong,
        ParamType::UnsignedLong => ParamValueType::ParamUnsignedLong,
        ParamType::Decimal => ParamValueType::ParamDecimal,
        ParamType::DateTime => ParamValueType::ParamDateTime,
        ParamType::Base64 => ParamValueType::ParamBase64,
        ParamType::HexBinary => ParamValueType::ParamHexBinary,
    }
}

fn command_result(schema: &Schema, c: usp_datamodel::schema::CmdId) -> SupportedCommandResult {
    let def = schema.command(c);
    SupportedCommandResult {
        command_name: format!("{}()", def.name),
        input_arg_names: def.inputs.iter().map(|a| a.name.to_string()).collect(),
        output_arg_names: def.outputs.iter().map(|a| a.name.to_string()).collect(),
        command_type: if def.is_async { CmdType::CmdAsync } else { CmdType::CmdSync }.into(),
    }
}

fn event_result(schema: &Schema, e: usp_datamodel::schema::EventId) -> SupportedEventResult {
    let def = schema.event(e);
    SupportedEventResult {
        event_name: format!("{}!", def.name),
        arg_names: def.args.iter().map(|a| a.name.to_string()).collect(),
    }
}
