//! The plugin API: how a TR-181 area (DeviceInfo, LocalAgent, WiFi, ...) serves its part of the
//! data model.
//!
//! A plugin declares its objects in [`Plugin::register`], then the engine calls it only for what
//! the engine cannot do alone: live values, writes to live parameters, vetoes on stored ones,
//! rows of external tables, commands, and the commit or abort of a transaction. Only
//! [`Plugin::get`] is required; every other method has the default a plain agent-owned table
//! needs, or the right USP "not supported" error.
//!
//! Plugins never touch the engine directly while it calls them; they act through the [`Ctx`]
//! they are handed (events, deferred writes, timers), so there is no aliasing and no lock.

use crate::error::{ErrorCode, UspError};
pub use crate::origin::{PluginId, Requester};
use crate::schema::{CmdId, ObjId, ParamId, Rows, Schema, SchemaBuilder};
use crate::tree::Tree;
use crate::value::{DateTime, Value};
use std::sync::Arc;
use std::time::Duration;

/// The current time, passed in by the host: the engine never reads a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time since the agent started (drives timers and `UpTime`).
    pub uptime: Duration,
    /// Wall-clock time (for `dateTime` values such as `CurrentLocalTime`).
    pub wall: DateTime,
}

/// An object instance as a plugin sees it: the object, the instance number and the external key
/// (for external rows) of every table on its path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    /// The object.
    pub obj: ObjId,
    /// One instance number per table from the root down to the object.
    pub numbers: Vec<u32>,
    /// The external key of each of those rows (`None` for stored rows).
    pub keys: Vec<Option<Box<str>>>,
}

impl Instance {
    /// The external key of the innermost row (the UCI section, MAC address, ...).
    pub fn key(&self) -> Option<&str> {
        self.keys.last().and_then(|k| k.as_deref())
    }
    /// The instance path in USP syntax (`Device.WiFi.SSID.2.`).
    pub fn path(&self, schema: &Schema) -> String {
        schema.instance_path(self.obj, &self.numbers)
    }
}

/// Names a running asynchronous command, from Operate to OperationComplete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpHandle(pub u64);

/// What a command did when invoked.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// It finished, with these output arguments.
    Done(Vec<(Box<str>, Value)>),
    /// It runs on; the plugin reports the end with [`Ctx::complete`].
    Running,
}

/// A request for the system, which only the host can carry out after answering the controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SystemRequest {
    /// `Device.Reboot()`.
    Reboot {
        /// The `Cause` to report in the next `Boot!`.
        cause: String,
        /// The `Reason` input argument.
        reason: String,
        /// The CommandKey the next `Boot!` reports; `None`: the one of the Operate being
        /// handled (a command that reboots when it ends, such as a firmware Activate, names
        /// its own, since no Operate is being handled then).
        command_key: Option<String>,
    },
    /// `Device.FactoryReset()`.
    FactoryReset {
        /// The `Cause` to report in the next `Boot!`.
        cause: String,
        /// The `Reason` input argument.
        reason: String,
    },
    /// `Device.MQTT.Client.{i}.ForceReconnect()` or
    /// `Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.Reset()`: close the connection of
    /// one MTP link (if it is open) and open it again.
    Reconnect {
        /// The instance path that names the link: `Device.MQTT.Client.1.` or
        /// `Device.LocalAgent.Controller.1.MTP.2.`.
        link: String,
    },
    /// A Bulk Data report to publish on the MQTT client's link (`Device.BulkData.Profile.{i}.
    /// MQTT.`): the host hands it to that link if it is up, and drops it with a log line
    /// otherwise.
    Publish {
        /// The `Device.MQTT.Client.{i}.` instance path that names the link.
        client: String,
        /// `PublishTopic`.
        topic: String,
        /// `PublishQoS`.
        qos: u8,
        /// `PublishRetain`.
        retain: bool,
        /// The MQTT 5.0 Content Type (R-BULK.8a).
        content_type: String,
        /// The encoded report.
        payload: Vec<u8>,
    },
}

/// Something the message core must know about: notifications to evaluate, operations ended,
/// requests for the host. Typed: objects, parameters and values are ids and [`Value`]s of the
/// schema, never text to parse back; [`DmEvent::path`] spells the path out for logs and
/// notifications. Values are as stored: a hidden parameter's value is in its event, and the
/// core leaves it out of what it sends.
#[derive(Clone, Debug, PartialEq)]
pub enum DmEvent {
    /// A parameter changed value (committed).
    ValueChanged {
        /// The object of the parameter.
        obj: ObjId,
        /// The instance numbers of that object's instance.
        numbers: Vec<u32>,
        /// The parameter.
        param: ParamId,
        /// Its new value.
        value: Value,
    },
    /// An object instance was created (committed).
    ObjectCreated {
        /// The table.
        obj: ObjId,
        /// The instance numbers of the new row (the last one is its own).
        numbers: Vec<u32>,
        /// Its unique keys and their values.
        keys: Vec<(ParamId, Value)>,
    },
    /// An object instance was deleted (one event per deleted instance, children included).
    ObjectDeleted {
        /// The table.
        obj: ObjId,
        /// The instance numbers of the deleted row.
        numbers: Vec<u32>,
    },
    /// A data-model event (`Device.Boot!`, `Device.LocalAgent.Periodic!`, ...), or one of the
    /// undeclared events through which an area talks to the core (see `usp_areas`).
    Event {
        /// The object the event belongs to.
        obj: ObjId,
        /// The instance numbers of that object's instance.
        numbers: Vec<u32>,
        /// The event name without `!`.
        name: Box<str>,
        /// Its arguments.
        args: Vec<(Box<str>, Value)>,
    },
    /// An asynchronous command ended.
    OperationComplete {
        /// The command's handle.
        handle: OpHandle,
        /// Its output arguments, or why it failed.
        result: Result<Vec<(Box<str>, Value)>, UspError>,
    },
    /// The host must do something after answering (reboot, factory reset).
    System(SystemRequest),
}

impl DmEvent {
    /// The path the event is about: the parameter path of a ValueChanged, the instance path
    /// (ending with `.`) of the others that name an object; `None` for the rest.
    pub fn path(&self, schema: &Schema) -> Option<String> {
        match self {
            DmEvent::ValueChanged { obj, numbers, param, .. } => Some(format!(
                "{}{}",
                schema.instance_path(*obj, numbers),
                schema.param(*param).name
            )),
            DmEvent::ObjectCreated { obj, numbers, .. }
            | DmEvent::ObjectDeleted { obj, numbers }
            | DmEvent::Event { obj, numbers, .. } => Some(schema.instance_path(*obj, numbers)),
            DmEvent::OperationComplete { .. } | DmEvent::System(_) => None,
        }
    }

    /// A short text for logs and tests: `path=value` (a hidden value left out), `+path` for a
    /// created row, `-path` for a deleted one, `path Name!` for an event; `None` for the rest.
    pub fn describe(&self, schema: &Schema) -> Option<String> {
        let path = self.path(schema)?;
        Some(match self {
            DmEvent::ValueChanged { param, value, .. } if !schema.param(*param).hidden => {
                format!("{path}={value}")
            }
            DmEvent::ValueChanged { .. } => format!("{path}="),
            DmEvent::ObjectCreated { .. } => format!("+{path}"),
            DmEvent::ObjectDeleted { .. } => format!("-{path}"),
            DmEvent::Event { name, .. } => format!("{path} {name}!"),
            DmEvent::OperationComplete { .. } | DmEvent::System(_) => return None,
        })
    }
}

/// Wakes the data-model thread from another thread (a plugin's backend watcher); the host
/// provides it and then calls the engine's poll.
pub trait Wake: Send + Sync {
    /// Asks the owner thread to poll the plugins soon.
    fn wake(&self);
}

/// A change a plugin asks of the engine, carried out when the plugin call returns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Deferred {
    /// Set a stored parameter.
    Set(Instance, ParamId, Value),
    /// Delete a row.
    Delete(Instance),
    /// Re-enumerate an external table everywhere and report created and deleted rows.
    Resync(ObjId),
    /// Cancel the command run linked to this `Request.{i}` row.
    Cancel(Instance),
}

/// What plugin calls produced, collected by the engine.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) events: Vec<DmEvent>,
    pub(crate) deferred: Vec<Deferred>,
    pub(crate) wake_at: Option<Duration>,
}

/// What a plugin call can see and do.
pub struct Ctx<'a> {
    pub(crate) schema: &'a Schema,
    pub(crate) tree: &'a Tree,
    pub(crate) requester: &'a Requester,
    pub(crate) now: Now,
    pub(crate) waker: Option<&'a Arc<dyn Wake>>,
    pub(crate) effects: &'a mut Effects,
}

impl Ctx<'_> {
    /// The supported data model.
    pub fn schema(&self) -> &Schema {
        self.schema
    }
    /// Who asked for this call.
    pub fn requester(&self) -> &Requester {
        self.requester
    }
    /// The current time.
    pub fn now(&self) -> Now {
        self.now
    }
    /// The stored value of `param` in `inst` (as committed or changed in this transaction).
    pub fn stored(&self, inst: &Instance, param: ParamId) -> Option<&Value> {
        self.tree.stored(self.schema, &inst.numbers, param)
    }
    /// The instance numbers of the rows of `table` under the parent instance named by
    /// `parent` (one number per table above `table`), ascending. External tables show the rows
    /// of their last enumeration.
    pub fn rows(&self, table: ObjId, parent: &[u32]) -> Vec<u32> {
        self.tree
            .table(self.schema, table, parent)
            .map(|t| t.rows.keys().copied().collect())
            .unwrap_or_default()
    }
    /// The instance number the engine gave the row of the external table `table` (under the
    /// parent instance named by `parent`) whose key is `key`, if that row has been listed.
    pub fn row_number(&self, table: ObjId, parent: &[u32], key: &str) -> Option<u32> {
        self.tree.table(self.schema, table, parent).and_then(|t| t.by_key.get(key).copied())
    }
    /// Sets a stored parameter once this call returns (the engine emits ValueChange and
    /// persists it as for any write).
    pub fn set_stored(&mut self, inst: &Instance, param: ParamId, value: Value) {
        self.effects.deferred.push(Deferred::Set(inst.clone(), param, value));
    }
    /// Deletes a row once this call returns.
    pub fn delete_row(&mut self, inst: &Instance) {
        self.effects.deferred.push(Deferred::Delete(inst.clone()));
    }
    /// Says the rows of an external table changed: the engine re-enumerates it and reports
    /// ObjectCreation / ObjectDeletion for the difference.
    pub fn rows_changed(&mut self, table: ObjId) {
        self.effects.deferred.push(Deferred::Resync(table));
    }
    /// Cancels the command run linked to the `Request.{i}` row `request` (the plugin that runs
    /// it gets [`Plugin::cancel`]).
    pub fn cancel_request(&mut self, request: &Instance) {
        self.effects.deferred.push(Deferred::Cancel(request.clone()));
    }
    /// Reports a new value of a live parameter (push ValueChange, no polling needed).
    pub fn value_changed(&mut self, inst: &Instance, param: ParamId, value: &Value) {
        self.effects.events.push(DmEvent::ValueChanged {
            obj: inst.obj,
            numbers: inst.numbers.clone(),
            param,
            value: value.clone(),
        });
    }
    /// Emits a data-model event of `inst`.
    pub fn emit(&mut self, inst: &Instance, name: &str, args: Vec<(Box<str>, Value)>) {
        let (obj, numbers) = (inst.obj, inst.numbers.clone());
        self.effects.events.push(DmEvent::Event { obj, numbers, name: name.into(), args });
    }
    /// Ends an asynchronous command.
    pub fn complete(&mut self, handle: OpHandle, result: Result<Vec<(Box<str>, Value)>, UspError>) {
        self.effects.events.push(DmEvent::OperationComplete { handle, result });
    }
    /// Asks the host to reboot or factory-reset after answering.
    pub fn system(&mut self, request: SystemRequest) {
        self.effects.events.push(DmEvent::System(request));
    }
    /// Asks to be polled again after `delay` (the earliest request of all plugins wins).
    pub fn wake_after(&mut self, delay: Duration) {
        let at = self.now.uptime + delay;
        self.effects.wake_at = Some(self.effects.wake_at.map_or(at, |w| w.min(at)));
    }
    /// A handle to wake the data-model thread from another thread, if the host gave one.
    pub fn waker(&self) -> Option<Arc<dyn Wake>> {
        self.waker.cloned()
    }
}

/// The default [`Plugin::get`], for a plugin that declares no live parameters: the engine never
/// calls it, so a call is an internal error naming the plugin.
pub fn no_live_parameters(plugin: &str, params: &[ParamId]) -> Result<(), UspError> {
    Err(UspError::internal(format!("{plugin} has no live parameters ({params:?})")))
}

/// A TR-181 area served by the agent. Registered in one static table (see
/// `usp_areas::AREAS`); the engine calls it from the data-model thread only.
pub trait Plugin {
    /// A short name for logs (`"LocalAgent"`).
    fn name(&self) -> &'static str;

    /// Declares the objects, parameters, commands and events this plugin serves, keeping the
    /// ids it needs. Called once, before anything else.
    fn register(&mut self, schema: &mut SchemaBuilder);

    /// Called once after the stored state is loaded, before any request.
    fn start(&mut self, _ctx: &mut Ctx) {}

    /// Reads live parameters of one object instance in one batch: push exactly one value per
    /// id of `params`, in order. The engine calls it only for parameters declared live; the
    /// default, for plugins that declare none, is an internal error naming the plugin.
    fn get(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        _out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        no_live_parameters(self.name(), params)
    }

    /// Enumerates the rows of an external table under `parent`: one stable key per row.
    fn list(
        &mut self,
        _ctx: &mut Ctx,
        _table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        Ok(Vec::new())
    }

    /// Checks (and may stage) new values of stored parameters of `inst` before the engine
    /// writes them; an error vetoes the whole object update. Accepts everything by default.
    fn validate(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        _changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        Ok(())
    }

    /// Writes live parameters of `inst` (staged until [`Plugin::commit`]).
    fn set(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        _changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        Err(UspError::new(
            ErrorCode::ParamReadOnly,
            format!("{:?} has no writable live parameters", inst.obj),
        ))
    }

    /// A row is being added to `table` with the given initial stored values. For a stored table
    /// the default accepts it; for an external table the plugin must create the row and return
    /// its key (the default refuses with 7019).
    fn add(
        &mut self,
        ctx: &mut Ctx,
        table: &Instance,
        _params: &[(ParamId, Value)],
    ) -> Result<Option<String>, UspError> {
        match ctx.schema().obj(table.obj).rows {
            Rows::Stored => Ok(None),
            Rows::External => Err(UspError::new(
                ErrorCode::ObjectNotCreatable,
                "rows of this table cannot be created",
            )),
        }
    }

    /// A row is being deleted. Accepted by default for stored tables, refused (7024) for
    /// external ones.
    fn delete(&mut self, ctx: &mut Ctx, inst: &Instance) -> Result<(), UspError> {
        match ctx.schema().obj(inst.obj).rows {
            Rows::Stored => Ok(()),
            Rows::External => Err(UspError::new(
                ErrorCode::ObjectNotDeletable,
                "rows of this table cannot be deleted",
            )),
        }
    }

    /// Runs a command with its checked input arguments (defaults applied, unknown ones
    /// dropped). `handle` names the run for [`Ctx::complete`] when the command is asynchronous.
    fn operate(
        &mut self,
        _ctx: &mut Ctx,
        _cmd: CmdId,
        _inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        Err(UspError::new(ErrorCode::CommandFailure, "command not implemented"))
    }

    /// Cancels a running asynchronous command (`Request.{i}.Cancel()`).
    fn cancel(&mut self, _ctx: &mut Ctx, _handle: OpHandle) -> Result<(), UspError> {
        Err(UspError::new(ErrorCode::CommandFailure, "this command cannot be canceled"))
    }

    /// Makes everything staged since the transaction began permanent.
    fn commit(&mut self, _ctx: &mut Ctx) {}

    /// Drops everything staged since the transaction began.
    fn abort(&mut self, _ctx: &mut Ctx) {}

    /// Called when a wake time asked with [`Ctx::wake_after`] is reached, or after another
    /// thread used the [`Wake`] handle.
    fn poll(&mut self, _ctx: &mut Ctx) {}
}
