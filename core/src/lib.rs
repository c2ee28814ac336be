//! The sans-IO USP message core: bytes of a USP Record in, Records to send out.
//!
//! [`Core`] owns the [`DataModel`] and the agent's Endpoint ID. The host (the MTP layer and the
//! main loop) feeds it every received Record with [`Core::handle_record`], asks
//! [`Core::poll_timeout`] when it next needs to be woken and then calls
//! [`Core::handle_timeout`]. The core never reads a clock, opens a socket or spawns a thread:
//! time is passed in as [`Now`], and everything to send comes back as [`Outgoing`] Records. The
//! style is the one of quinn-proto and smoltcp: protocol logic as a state machine, tested by
//! scripted exchanges (see the `tests` module).
//!
//! Never does: I/O of any kind (sockets, files, the clock, SQLite: the store is the host's,
//! behind `usp_datamodel::store::Store`), threads, or data-model logic (the engine's).
//!
//! One file per message: [`record`] (Record-level checks, Connect and Disconnect Records),
//! `get`, `gsdm` (GetSupportedDM), `instances` (GetInstances), `protocol`
//! (GetSupportedProtocol), `set`, `add`, `delete` and `operate` (with the completion of
//! asynchronous commands). The notification engine (subscriptions, retries, Boot!, Periodic!,
//! OnBoardRequest) lives in `notify`; what it shares with `operate` (the notification kinds) in
//! `kinds`; the links' protocol state (Connect Records, held notifications) in `link`; the
//! End-to-End Session Contexts with controllers (`Controller.{i}.E2ESession.`) in `e2e`.
//!
//! What one request of a controller may cost is bounded (issue 20): `precheck` refuses a
//! request carrying too many items before decoding it, `budget` bounds its paths and the size
//! of its answer ([`Limits`], 7005 beyond).
//!
//! # What the host calls
//!
//! - [`Core::new`], then once [`Core::boot`] (sends `Boot!` and the notifications persisted
//!   before the restart);
//! - [`Core::handle_record`] for every received Record ([`Handled::NotARecord`] when the bytes
//!   do not decode; a [`TraceHook`] given to [`Core::set_trace`] is shown each decoded Record,
//!   so the host never decodes one itself);
//! - [`Core::link_up`] when a link comes up (its Connect Records, then the notifications held
//!   for the controllers it reaches), [`Core::undeliverable`] for a notification the host
//!   could not route, [`Core::shutdown`] for the DisconnectRecords; link configuration and
//!   state through [`Core::with_links`] (see `link`);
//! - [`Core::poll_timeout`] to know when to wake it (now, while data-model events wait), then
//!   [`Core::handle_timeout`]; after a plugin's waker fired, [`Core::handle_wake`];
//! - after each of those, [`Core::take_system_requests`] (reboot, factory reset: the cause is
//!   already remembered for the next `Boot!`) and [`Core::take_config_changed`].
//!
//! # Decisions where TR-369 leaves room
//!
//! - Messages are handled one at a time, to completion, on one thread: a duplicate msg_id can
//!   never arrive "before the original was answered" (R-MSG.4), so no duplicate detection is
//!   done.
//! - R-MSG.10: the header's `msg_type` is "for information only"; when it differs from the
//!   body, the body's request type is used (and the mismatch is logged). A Msg whose body is
//!   missing is answered with Error 7004 when its header names a request type, with Error 7001
//!   ("Message not supported", the code the MTP chapter suggests for messages a newer peer may
//!   send) when its header type is a value this agent does not know, and ignored when its header
//!   names a response, an Error or a Notify (we never answer a response). A Msg without header
//!   or with an empty msg_id cannot be answered (R-MTP.5) and is ignored.
//! - Register, Deregister and Notify requests are answered with Error 7001 (this agent is not a
//!   USP Broker).
//! - An `obj_path` of Set, Add, Delete or GetInstances written without its trailing dot
//!   (`Device.LocalAgent.Subscription.3`) is read as that object path, as TP-469 sends some
//!   (1.84, 2.13, 2.23); GetSupportedDM does the same for a "parameter" naming a child object.
//! - Access control (R-SEC.1): every request of a controller is answered with the rights of
//!   its Roles ([`usp_datamodel::access`], asked once per request through
//!   `DataModel::access`); the local CLI and the agent itself have full access. A controller
//!   whose `AssignedRole` and `InheritedRole` are empty gets the `UntrustedRole` (none by
//!   default: it may do nothing); the example reset files give theirs the factory-default Full
//!   Access role (`Role.1`), which costs one lookup per request. What each message does with a
//!   refusal (7006, leaving out, 7026 as for an absent element) is in its module's doc;
//!   notifications need the Notify permission of the recipient (`notify`).
//! - See each message's module for its own decisions.

mod add;
mod budget;
mod delete;
mod e2e;
mod get;
mod gsdm;
mod instances;
mod kinds;
mod link;
mod local;
mod message;
mod notify;
mod operate;
mod precheck;
mod protocol;
pub mod record;
mod set;
#[cfg(test)]
mod tests;
mod untrusted;

use std::time::Duration;

use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Now, SystemRequest};
use usp_datamodel::schema::{ObjId, ParamId};
use usp_datamodel::{DataModel, ErrorCode, Target, UspError};
use usp_proto::record::Record;

pub use budget::Limits;
pub use link::{LinkUp, MAX_HELD};
pub use notify::BootInfo;
pub use precheck::record_from_id;
pub use record::{ConnectKind, Handled, TraceHook, connect_record, disconnect_record};

/// The USP protocol versions this agent speaks, newest last.
pub const SUPPORTED_VERSIONS: &[&str] = &["1.0", "1.1", "1.2", "1.3", "1.4"];

/// The version put in agent-originated Records.
pub const OWN_VERSION: &str = "1.4";

/// The URI of the data model reported by GetSupportedDM (TR-181 Issue 2 Amendment 19 Corr. 1).
pub const DATA_MODEL_URI: &str = "urn:broadband-forum-org:tr-181-2-19-1";

/// Paths longer than this are refused with 7008 before being parsed (a path of the real data
/// model is a few hundred bytes; this bounds the work a hostile controller can cause).
pub const MAX_PATH_LEN: usize = 4096;

/// A Record to send, and the Endpoint ID of its recipient.
#[derive(Clone, Debug, PartialEq)]
pub struct Outgoing {
    /// The Endpoint ID of the recipient (the controller).
    pub to: String,
    /// The Record, ready to be encoded with [`Record::to_bytes`].
    pub record: Record,
    /// `true` for the answer to the Record just handled (a response, an Error, a
    /// DisconnectRecord): the host sends it back where that Record came from (the MQTT
    /// Response Topic, the STOMP `reply-to-dest`, the same WebSocket session); for the Connect
    /// Records of [`Core::link_up`], on the link that came up. `false` for agent-originated
    /// Records (notifications), which go to the MTP the controller is reachable on (or back
    /// to [`Core::undeliverable`] when none is).
    pub in_reply: bool,
}

/// An asynchronous command the core started and still waits for.
#[derive(Clone, Debug)]
struct PendingOp {
    handle: usp_datamodel::plugin::OpHandle,
    /// The `Device.LocalAgent.Request.{i}.` row, when the table exists.
    request: Option<(ObjId, Vec<u32>)>,
    /// The object instance path the command belongs to (`Device.Test.Item.1.`).
    obj_path: String,
    /// The command's object and numbers (for subscription matching).
    target: Target,
    /// The command name with its parentheses (`Run()`).
    command_name: String,
    command_key: String,
}

/// A Notify sent with `send_resp=true` and not yet acknowledged (it is retried until then).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNotify {
    /// The controller it was sent to.
    pub to: String,
    /// The msg_id of the Notify.
    pub msg_id: String,
    /// The subscription's ID.
    pub subscription_id: String,
}

/// The USP message core of the agent (see the module documentation).
pub struct Core {
    dm: DataModel,
    endpoint_id: String,
    /// Prefix of agent-originated msg_ids: the wall-clock seconds at start, in hex, so that ids
    /// stay unique across restarts when the clock is set.
    msg_prefix: String,
    next_msg: u64,
    ops: Vec<PendingOp>,
    notifier: notify::Notifier,
    /// The CommandKey of the Operate being handled (remembered with a reboot's cause).
    op_command_key: Option<String>,
    system: Vec<SystemRequest>,
    /// Path prefixes whose changes the host wants to hear of ([`Core::watch_config`]).
    config_prefixes: Vec<String>,
    config_dirty: bool,
    /// `Device.LocalAgent.Controller.{i}.` and its `EndpointID`, when the schema has them.
    controllers: Option<(ObjId, ParamId)>,
    /// Shown every received Record ([`Core::set_trace`]).
    trace: Option<Box<dyn TraceHook + Send>>,
    /// Notifications for controllers not reachable yet ([`Core::undeliverable`]).
    held: link::Held,
    /// What one request of a controller may cost.
    limits: Limits,
    /// Where bulk data snapshots go ([`Core::set_bulkdata`]).
    bulkdata: usp_areas::bulkdata::Collector,
    /// The E2E session contexts with the controllers.
    e2e: e2e::Sessions,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("endpoint_id", &self.endpoint_id).finish()
    }
}

impl Core {
    /// A core serving `dm` as the agent `endpoint_id`.
    pub fn new(dm: DataModel, endpoint_id: impl Into<String>) -> Core {
        let start = dm.now().wall.secs;
        let endpoint_id: String = endpoint_id.into();
        // The retry waits are random but reproducible from the start time and the identity.
        let seed = endpoint_id
            .bytes()
            .fold(start as u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let schema = dm.schema();
        let controllers = schema
            .obj_by_path("Device.LocalAgent.Controller.{i}.")
            .and_then(|t| Some((t, schema.param_by_name(t, "EndpointID")?)));
        let e2e = e2e::Sessions::new(&dm, start);
        Core {
            dm,
            endpoint_id,
            msg_prefix: format!("{start:x}"),
            next_msg: 1,
            ops: Vec::new(),
            notifier: notify::Notifier::new(seed),
            op_command_key: None,
            system: Vec::new(),
            config_prefixes: Vec::new(),
            config_dirty: false,
            controllers,
            trace: None,
            held: link::Held::default(),
            limits: Limits::default(),
            bulkdata: usp_areas::bulkdata::Collector::default(),
            e2e,
        }
    }

    /// Connects the BulkData area: the snapshots its profiles ask for (the undeclared event
    /// `usp_areas::bulkdata::COLLECT_EVENT`) go to `collector`, the one of the `Host` the
    /// areas were built from. Until then they are dropped with a warning.
    pub fn set_bulkdata(&mut self, collector: usp_areas::bulkdata::Collector) {
        self.bulkdata = collector;
    }

    /// Replaces the bounds of one request of a controller ([`Limits::default`] until then).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Asks to be told (by [`Core::take_config_changed`]) when a committed change touches a
    /// path starting with one of `prefixes` (a value set, a row added or deleted): the host
    /// reconfigures its MTPs when `Device.MQTT.` or `Device.LocalAgent.MTP.` change.
    pub fn watch_config(&mut self, prefixes: &[&str]) {
        self.config_prefixes = prefixes.iter().map(|p| (*p).to_owned()).collect();
    }

    /// Whether a watched path changed since the last call.
    pub fn take_config_changed(&mut self) -> bool {
        std::mem::take(&mut self.config_dirty)
    }

    /// Notes a change of `path` for [`Core::take_config_changed`].
    fn note_change(&mut self, path: &str) {
        if !self.config_dirty && self.config_prefixes.iter().any(|p| path.starts_with(p.as_str())) {
            self.config_dirty = true;
        }
    }

    /// The agent's Endpoint ID.
    pub fn endpoint_id(&self) -> &str {
        &self.endpoint_id
    }

    /// The data model, for what happens outside the message flow: start-up (defaults, trust
    /// roles), tools and tests. A running host writes link state through [`Core::with_links`]
    /// instead, which processes the events the writes cause.
    pub fn dm(&mut self) -> &mut DataModel {
        &mut self.dm
    }

    /// Shows every received Record, once decoded, to `hook` (the host's protocol trace); the
    /// host then never decodes a received Record itself.
    pub fn set_trace(&mut self, hook: Box<dyn TraceHook + Send>) {
        self.trace = Some(hook);
    }

    /// Handles one received Record (the bytes of one MTP frame): the Records to send, or
    /// [`Handled::NotARecord`] when the bytes do not decode as a Record. Never panics, whatever
    /// the bytes.
    pub fn handle_record(&mut self, now: Now, bytes: &[u8]) -> Handled {
        self.handle_record_from(now, bytes, None)
    }

    /// [`Core::handle_record`] for a Record that came from `peer`, the Endpoint ID its MTP
    /// session proved or was opened for (a WebSocket session; the identity of a client
    /// certificate): a Record whose `from_id` is another is ignored (TR-369 R-SEC.0a: "MUST NOT
    /// process Records that do not match the Endpoint ID found in the certificate").
    pub fn handle_record_from(&mut self, now: Now, bytes: &[u8], peer: Option<&str>) -> Handled {
        self.dm.tick(now, false);
        let mut handled = record::handle(self, bytes, peer);
        // After garbage, events the clock's tick caused wait for the next input, which
        // `poll_timeout` asks for at once.
        if let Handled::Record(out) = &mut handled {
            self.after_message(out);
        }
        handled
    }

    /// The uptime at which [`Core::handle_timeout`] must be called next, if any: the earliest
    /// of the plugins' wake times, the polling of watched live parameters, notification
    /// retries and expirations, subscription TimeToLives and Periodic! events; the current
    /// time (the last passed in) while data-model events wait to be processed (a change made
    /// by a plugin's backend, or by the host through [`Core::dm`]), so that their
    /// notifications never wait for an unrelated input.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.dm.has_events() {
            return Some(self.dm.now().uptime);
        }
        [self.dm.next_wake(), self.notifier.next_timer(), self.e2e_timer()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances time: lets the plugins whose wake time has come run, polls watched live
    /// parameters, runs the notification timers, and returns what all that produced
    /// (notifications and their retries). Calling it early does no harm.
    pub fn handle_timeout(&mut self, now: Now) -> Vec<Outgoing> {
        self.dm.tick(now, false);
        self.e2e_expire();
        let mut out = Vec::new();
        self.process_events(&mut out);
        self.notifier_timers(&mut out);
        self.after_message(&mut out);
        out
    }

    /// Like [`Core::handle_timeout`], after another thread used the data model's waker: every
    /// plugin is polled.
    pub fn handle_wake(&mut self, now: Now) -> Vec<Outgoing> {
        self.dm.tick(now, true);
        self.e2e_expire();
        let mut out = Vec::new();
        self.process_events(&mut out);
        self.notifier_timers(&mut out);
        self.after_message(&mut out);
        out
    }

    /// Takes the reboot and factory-reset requests the host must carry out (after sending what
    /// `handle_record` returned).
    pub fn take_system_requests(&mut self) -> Vec<SystemRequest> {
        std::mem::take(&mut self.system)
    }

    /// The Notify messages sent with `send_resp=true` and not yet acknowledged.
    pub fn pending_notifies(&self) -> Vec<PendingNotify> {
        self.notifier.pending()
    }

    /// Processes the data-model events (notifications, the engine's own state) and persists
    /// the committed changes with the engine's private items, as one batch.
    fn after_message(&mut self, out: &mut Vec<Outgoing>) {
        self.process_events(out);
        self.wrap_in_sessions(out);
        self.op_command_key = None;
        if let Err(e) = self.dm.flush() {
            log::error!("cannot persist the data model: {e}");
        }
    }

    /// A fresh msg_id for an agent-originated message.
    fn new_msg_id(&mut self) -> String {
        let id = format!("{}-{}", self.msg_prefix, self.next_msg);
        self.next_msg += 1;
        id
    }
}

/// Parses a requested path, refusing over-long ones (7008).
fn parse_path(text: &str) -> Result<Path, UspError> {
    if text.len() > MAX_PATH_LEN {
        return Err(UspError::new(
            ErrorCode::InvalidPathSyntax,
            format!("path longer than {MAX_PATH_LEN} bytes"),
        ));
    }
    Path::parse(text)
        .map_err(|e| UspError::new(ErrorCode::InvalidPathSyntax, format!("{}: {e}", short(text))))
}

/// Parses a path that can only name objects (the `obj_path` of Set, Add, Delete and
/// GetInstances): one written without its trailing dot (`Device.X.1`, `Device.X.*.Table`, as
/// TP-469 1.84, 2.13 and 2.23 send them) is taken as that object path.
fn parse_obj_path(text: &str) -> Result<Path, UspError> {
    if !text.ends_with('.') && text.len() < MAX_PATH_LEN {
        if let Ok(path) = Path::parse(&format!("{text}.")) {
            return Ok(path);
        }
    }
    parse_path(text)
}

/// The first characters of a text, for error messages about possibly huge inputs.
fn short(text: &str) -> &str {
    match text.char_indices().nth(120) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

/// Finds the parameter named by a relative path (`Name`, `Stats.Hits`) below `obj`, crossing
/// single-instance sub-objects only.
fn relative_param(dm: &DataModel, obj: ObjId, rel: &str) -> Option<ParamId> {
    let schema = dm.schema();
    let mut parts: Vec<&str> = rel.split('.').collect();
    let name = parts.pop()?;
    let mut cur = obj;
    for part in parts {
        let child = schema.child(cur, part)?;
        if schema.obj(child).multi {
            return None;
        }
        cur = child;
    }
    schema.param_by_name(cur, name)
}
