//! The test plugin and helpers shared by the engine tests.
//!
//! Model:
//! - `Device.Test.` with `Mode` (rw, enumeration) and `Counter` (stored read-only).
//! - `Device.Test.Item.{i}.` stored, AddDelete, Alias, unique key `Name`; stored params of every
//!   type, write-only `Secret`, write-once `Once`, volatile `Scratch`, live `Status`/`Double`,
//!   sub-object `Stats.` and nested table `Sub.{i}.`.
//! - `Device.Test.Port.{i}.` external rows listed from [`Shared::ports`], live `Key`/`Up`,
//!   stored `Label`.
//! - `Device.Test.Pair.{i}.` compound keys `A,B` and `L,A` (`L` live).
//! - `Device.Test.Req.{i}.` volatile rows.
//! - `Device.Test.Sync()` and `Device.Test.Slow()` (async, completes on poll).

use crate::dm::{DataModel, Target};
use crate::error::{ErrorCode, UspError};
use crate::path::Path;
use crate::plugin::{Ctx, DmEvent, Instance, Now, OpHandle, Outcome, Plugin, Requester};
use crate::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use crate::store::{MemStore, Store};
use crate::value::{ParamType, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

/// State the tests control and observe.
#[derive(Default, Debug)]
pub(super) struct Shared {
    /// Keys of the external `Port` rows.
    pub ports: Vec<String>,
    /// Keys of ports that are up.
    pub up: Vec<String>,
    /// Number of `Plugin::get` calls.
    pub get_calls: usize,
    /// Number of `Plugin::list` calls.
    pub list_calls: usize,
    /// Live `L` of `Pair` rows by instance number (default `L<n>`).
    pub pair_l: HashMap<u32, String>,
    /// Async runs not yet completed.
    pub running: Vec<OpHandle>,
    /// Runs canceled through `Plugin::cancel`.
    pub canceled: Vec<OpHandle>,
    /// On the next poll, ask the engine to cancel the run linked to this request.
    pub cancel_request: Option<Instance>,
    /// On the next poll, say the `Port` rows changed.
    pub resync: bool,
    /// Input arguments of the last operate.
    pub last_input: Vec<(String, String)>,
    /// Calls of commit / abort.
    pub commits: usize,
    /// Calls of abort.
    pub aborts: usize,
}

/// The test plugin.
pub(super) struct TestPlugin {
    pub s: Rc<RefCell<Shared>>,
}

impl Plugin for TestPlugin {
    fn name(&self) -> &'static str {
        "Test"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let test = b.object("Device.Test.");
        b.param(test, "Mode", ParamType::String)
            .rw()
            .enumeration(&["Auto", "Manual"])
            .default("Auto");
        b.param(test, "Counter", ParamType::UnsignedInt).stored();

        let item = b.table("Device.Test.Item.{i}.", ObjAccess::AddDelete);
        b.alias(item);
        b.unique_key(item, &["Name"]);
        b.param(item, "Name", ParamType::String).rw().max_len(32);
        b.param(item, "Count", ParamType::UnsignedInt).rw().range(0, 1000);
        b.param(item, "Enabled", ParamType::Boolean).rw();
        b.param(item, "Ratio", ParamType::Decimal).rw();
        b.param(item, "When", ParamType::DateTime).rw();
        b.param(item, "Tags", ParamType::String).rw().list();
        b.param(item, "Ref", ParamType::String).rw().reference();
        b.param(item, "Refs", ParamType::String).rw().list().reference();
        b.param(item, "Secret", ParamType::String).write_only();
        b.param(item, "Once", ParamType::String).write_once();
        b.param(item, "Scratch", ParamType::String).rw().volatile().default("fresh");
        b.param(item, "Status", ParamType::String);
        b.param(item, "Double", ParamType::UnsignedInt);
        let stats = b.object("Device.Test.Item.{i}.Stats.");
        b.param(stats, "Errors", ParamType::UnsignedInt).rw();
        let sub = b.table("Device.Test.Item.{i}.Sub.{i}.", ObjAccess::AddDelete);
        b.alias(sub);
        b.param(sub, "Val", ParamType::Int).rw();

        let port = b.table("Device.Test.Port.{i}.", ObjAccess::ReadOnly);
        b.external(port);
        b.param(port, "Key", ParamType::String);
        b.param(port, "Up", ParamType::Boolean);
        b.param(port, "Label", ParamType::String).rw();

        let pair = b.table("Device.Test.Pair.{i}.", ObjAccess::AddDelete);
        b.alias(pair);
        b.unique_key(pair, &["A", "B"]);
        b.unique_key(pair, &["L", "A"]);
        b.param(pair, "A", ParamType::String).rw();
        b.param(pair, "B", ParamType::String).rw();
        b.param(pair, "L", ParamType::String);

        let req = b.table("Device.Test.Req.{i}.", ObjAccess::AddDelete);
        b.volatile_rows(req);
        b.param(req, "X", ParamType::String).rw();

        let sync = b.command(test, "Sync", false);
        sync.mandatory("A", ParamType::Int)
            .input_default("B", ParamType::UnsignedInt, "7")
            .input("C", ParamType::String)
            .output("Sum", ParamType::Int);
        let slow = b.command(test, "Slow", true);
        slow.input("Tag", ParamType::String).output("Done", ParamType::Boolean);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let mut s = self.s.borrow_mut();
        s.get_calls += 1;
        let schema = ctx.schema();
        let stored = |name: &str| {
            let p = schema.param_by_name(inst.obj, name).expect("declared");
            ctx.stored(inst, p).cloned()
        };
        let obj = &*schema.obj(inst.obj).name;
        for &p in params {
            let v = match (obj, &*schema.param(p).name) {
                ("Item", "Status") => {
                    let on = stored("Enabled").and_then(|v| v.as_bool()).unwrap_or(false);
                    Value::String(if on { "Up" } else { "Down" }.into())
                }
                ("Item", "Double") => {
                    let c = stored("Count").and_then(|v| v.as_u64()).unwrap_or(0);
                    Value::UnsignedInt(c as u32 * 2)
                }
                ("Port", "Key") => Value::String(inst.key().unwrap_or("").into()),
                ("Port", "Up") => {
                    Value::Boolean(inst.key().is_some_and(|k| s.up.iter().any(|u| u == k)))
                }
                ("Pair", "L") => {
                    let n = inst.numbers.last().copied().unwrap_or(0);
                    Value::String(s.pair_l.get(&n).cloned().unwrap_or(format!("L{n}")).into())
                }
                _ => return Err(UspError::internal("unexpected live parameter")),
            };
            out.push(v);
        }
        Ok(())
    }

    fn list(
        &mut self,
        ctx: &mut Ctx,
        table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        let mut s = self.s.borrow_mut();
        s.list_calls += 1;
        assert_eq!(&*ctx.schema().obj(table).name, "Port");
        Ok(s.ports.clone())
    }

    fn validate(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        if changes.iter().any(|(_, v)| v.as_str() == Some("veto")) {
            return Err(UspError::new(ErrorCode::InvalidValue, "vetoed"));
        }
        Ok(())
    }

    fn add(
        &mut self,
        ctx: &mut Ctx,
        table: &Instance,
        params: &[(ParamId, Value)],
    ) -> Result<Option<String>, UspError> {
        if &*ctx.schema().obj(table.obj).name == "Port" {
            return Err(UspError::new(ErrorCode::ObjectNotCreatable, "external"));
        }
        if params.iter().any(|(_, v)| v.as_str() == Some("veto")) {
            return Err(UspError::new(ErrorCode::InvalidValue, "vetoed"));
        }
        Ok(None)
    }

    fn delete(&mut self, _ctx: &mut Ctx, _inst: &Instance) -> Result<(), UspError> {
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        _inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let mut s = self.s.borrow_mut();
        s.last_input = input.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if &*ctx.schema().command(cmd).name == "Sync" {
            let a = input.iter().find(|(k, _)| &**k == "A").and_then(|(_, v)| match v {
                Value::Int(i) => Some(i64::from(*i)),
                _ => None,
            });
            let b = input.iter().find(|(k, _)| &**k == "B").and_then(|(_, v)| v.as_u64());
            let sum = a.unwrap_or(0) + b.unwrap_or(0) as i64;
            Ok(Outcome::Done(vec![("Sum".into(), Value::Int(sum as i32))]))
        } else {
            s.running.push(handle);
            ctx.wake_after(Duration::from_secs(1));
            Ok(Outcome::Running)
        }
    }

    fn cancel(&mut self, ctx: &mut Ctx, handle: OpHandle) -> Result<(), UspError> {
        let mut s = self.s.borrow_mut();
        s.canceled.push(handle);
        s.running.retain(|h| *h != handle);
        ctx.complete(handle, Err(UspError::new(ErrorCode::CommandCanceled, "canceled")));
        Ok(())
    }

    fn commit(&mut self, _ctx: &mut Ctx) {
        self.s.borrow_mut().commits += 1;
    }

    fn abort(&mut self, _ctx: &mut Ctx) {
        self.s.borrow_mut().aborts += 1;
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let mut s = self.s.borrow_mut();
        if let Some(req) = s.cancel_request.take() {
            ctx.cancel_request(&req);
            return;
        }
        if std::mem::take(&mut s.resync) {
            let port = ctx.schema().obj_by_path("Device.Test.Port.{i}.").expect("declared");
            ctx.rows_changed(port);
        }
        for h in std::mem::take(&mut s.running) {
            ctx.complete(h, Ok(vec![("Done".into(), Value::Boolean(true))]));
        }
    }
}

/// A controller.
pub(super) fn ctrl() -> Requester {
    Requester::Controller("proto::ctrl".into())
}

/// A data model, its store and the shared plugin state.
pub(super) struct Fx {
    pub dm: DataModel,
    pub s: Rc<RefCell<Shared>>,
    pub store: MemStore,
}

/// Builds a data model on `store` with the test plugin reading `s`.
pub(super) fn build_on(store: &MemStore, s: &Rc<RefCell<Shared>>) -> DataModel {
    build_with(Box::new(store.clone()), s)
}

/// Builds a data model on any store.
pub(super) fn build_with(store: Box<dyn Store>, s: &Rc<RefCell<Shared>>) -> DataModel {
    let plugin = TestPlugin { s: s.clone() };
    DataModel::new(vec![Box::new(plugin)], store, Now::default()).expect("build")
}

/// A fresh model on an empty store.
pub(super) fn fx() -> Fx {
    let store = MemStore::new();
    let s = Rc::new(RefCell::new(Shared::default()));
    let dm = build_on(&store, &s);
    Fx { dm, s, store }
}

impl Fx {
    /// Drops the model and builds a new one on the same store (a restart).
    pub fn restart(&mut self) {
        check_keys(&mut self.dm);
        self.dm.flush().expect("flush");
        self.dm = build_on(&self.store, &self.s);
        check_keys(&mut self.dm);
    }
}

/// Every test ends with a check of the unique-key index against the rows.
impl Drop for Fx {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            check_keys(&mut self.dm);
        }
    }
}

/// Panics unless every table's unique-key index matches its rows.
pub(super) fn check_keys(dm: &mut DataModel) {
    dm.tree.check_keys(&dm.schema);
}

/// Parses a path.
pub(super) fn path(text: &str) -> Path {
    Path::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

/// Resolves `text` as the agent.
pub(super) fn resolve(dm: &mut DataModel, text: &str) -> Result<Vec<Target>, UspError> {
    dm.resolve(&Requester::Internal, &path(text))
}

/// The error code of resolving `text`.
pub(super) fn resolve_err(dm: &mut DataModel, text: &str) -> ErrorCode {
    match resolve(dm, text) {
        Ok(t) => panic!("{text} resolved to {t:?}"),
        Err(e) => e.code,
    }
}

/// The object paths `text` resolves to.
pub(super) fn objs(dm: &mut DataModel, text: &str) -> Vec<String> {
    resolve(dm, text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .iter()
        .map(|t| t.obj_path(dm))
        .collect()
}

/// The (full parameter path, value) pairs a parameter path resolves to.
pub(super) fn get(dm: &mut DataModel, text: &str) -> Vec<(String, String)> {
    let targets = resolve(dm, text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let mut out = Vec::new();
    for t in targets {
        let crate::dm::Item::Param(p) = t.item else { panic!("{text} is not a parameter path") };
        let v = dm.read_params(&Requester::Internal, t.obj, &t.numbers, &[p]).remove(0);
        let v = v.unwrap_or_else(|e| panic!("{text}: {e}"));
        out.push((format!("{}{}", t.obj_path(dm), dm.schema().param(p).name), v.to_string()));
    }
    out
}

/// The values a parameter path resolves to.
pub(super) fn values(dm: &mut DataModel, text: &str) -> Vec<String> {
    get(dm, text).into_iter().map(|(_, v)| v).collect()
}

/// The single value of a parameter path.
pub(super) fn value(dm: &mut DataModel, text: &str) -> String {
    let mut v = values(dm, text);
    assert_eq!(v.len(), 1, "{text}: {v:?}");
    v.remove(0)
}

/// The parameter `name` of the object at supported path `obj`.
pub(super) fn param(dm: &DataModel, obj: &str, name: &str) -> ParamId {
    let o = dm.schema().obj_by_path(obj).unwrap_or_else(|| panic!("no object {obj}"));
    dm.schema().param_by_name(o, name).unwrap_or_else(|| panic!("no {obj}{name}"))
}

/// The object at supported path `obj`.
pub(super) fn obj(dm: &DataModel, obj: &str) -> ObjId {
    dm.schema().obj_by_path(obj).unwrap_or_else(|| panic!("no object {obj}"))
}

/// Checks the values as `who` would send them (inside an Add when `creating`).
fn checked(
    dm: &DataModel,
    who: &Requester,
    o: ObjId,
    vals: &[(&str, &str)],
    creating: bool,
) -> Result<Vec<(ParamId, Value)>, UspError> {
    vals.iter()
        .map(|(n, v)| {
            let p = dm
                .schema()
                .param_by_name(o, n)
                .ok_or_else(|| UspError::new(ErrorCode::UnsupportedParameter, *n))?;
            dm.check_value(who, p, v, creating).map(|v| (p, v))
        })
        .collect()
}

/// In the open transaction: adds a row to the table at instance path `table` (ending with `.`)
/// as `who`, returning the new instance path.
pub(super) fn add_in(
    dm: &mut DataModel,
    who: &Requester,
    table: &str,
    vals: &[(&str, &str)],
) -> Result<String, UspError> {
    let targets = resolve(dm, table)?;
    let t = targets.first().ok_or_else(|| UspError::no_object(table))?;
    let values = checked(dm, who, t.obj, vals, true)?;
    let numbers = dm.add_row(t.obj, &t.numbers, &values)?;
    Ok(dm.schema().instance_path(t.obj, &numbers))
}

/// In the open transaction: sets values of every instance `obj_path` resolves to.
pub(super) fn set_in(
    dm: &mut DataModel,
    who: &Requester,
    obj_path: &str,
    vals: &[(&str, &str)],
) -> Result<(), UspError> {
    for t in resolve(dm, obj_path)? {
        let values = checked(dm, who, t.obj, vals, false)?;
        dm.set_values(t.obj, &t.numbers, &values)?;
    }
    Ok(())
}

/// In the open transaction: deletes every row `obj_path` resolves to.
pub(super) fn del_in(dm: &mut DataModel, _who: &Requester, obj_path: &str) -> Result<(), UspError> {
    for t in resolve(dm, obj_path)? {
        dm.delete_row(t.obj, &t.numbers)?;
    }
    Ok(())
}

/// Runs `f` in a transaction of `who`: commit on success, abort on failure.
pub(super) fn tx<R>(
    dm: &mut DataModel,
    who: &Requester,
    f: impl FnOnce(&mut DataModel) -> Result<R, UspError>,
) -> Result<R, UspError> {
    dm.begin(who.clone());
    let r = f(dm);
    if r.is_ok() {
        dm.commit()
    } else {
        dm.abort()
    }
    r
}

/// Adds a row as the agent, committed.
pub(super) fn add(dm: &mut DataModel, table: &str, vals: &[(&str, &str)]) -> String {
    let who = Requester::Internal;
    tx(dm, &who, |dm| add_in(dm, &who, table, vals)).unwrap_or_else(|e| panic!("add {table}: {e}"))
}

/// Sets values as the agent, committed.
pub(super) fn set(dm: &mut DataModel, obj_path: &str, vals: &[(&str, &str)]) {
    let who = Requester::Internal;
    tx(dm, &who, |dm| set_in(dm, &who, obj_path, vals))
        .unwrap_or_else(|e| panic!("set {obj_path}: {e}"))
}

/// Deletes rows as the agent, committed.
pub(super) fn del(dm: &mut DataModel, obj_path: &str) {
    let who = Requester::Internal;
    tx(dm, &who, |dm| del_in(dm, &who, obj_path)).unwrap_or_else(|e| panic!("del {obj_path}: {e}"))
}

/// The events since the last call.
pub(super) fn events(dm: &mut DataModel) -> Vec<DmEvent> {
    dm.drain_events()
}

/// The events since the last call in short text form (`+path`, `-path`, `path=value`),
/// without events and completions.
pub(super) fn brief(dm: &mut DataModel) -> Vec<String> {
    let events = dm.drain_events();
    events
        .iter()
        .filter(|e| !matches!(e, DmEvent::Event { .. }))
        .filter_map(|e| e.describe(dm.schema()))
        .collect()
}

/// A model with three items: `a` (Count 100), `b` (Count 600, Enabled), `c` (Count 900).
pub(super) fn three_items() -> Fx {
    let mut f = fx();
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "a"), ("Count", "100"), ("Tags", "x,y")]);
    add(
        &mut f.dm,
        "Device.Test.Item.",
        &[("Name", "b"), ("Count", "600"), ("Enabled", "true"), ("Tags", "y,z")],
    );
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "c"), ("Count", "900"), ("Ratio", "2.5")]);
    events(&mut f.dm);
    f
}
