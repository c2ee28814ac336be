//! The test bench: a small data model served by test plugins, a fake clock, and helpers that
//! wrap a Msg in a Record from the controller and decode the replies.

use std::time::Duration;

use usp_areas::{AgentIdentity, builtin};
use usp_datamodel::DataModel;
use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Now, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::store::MemStore;
use usp_datamodel::value::{DateTime, ParamType, Value};
use usp_proto::msg::body::MsgBody;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg};
use usp_proto::record::Record;

use crate::{Core, Outgoing};

/// The agent's Endpoint ID.
pub const AGENT: &str = "os::000000-agent";
/// The known controller.
pub const CTRL: &str = "self::ctrl";
/// The factory-default Full Access role.
pub const FULL_ACCESS: &str = "Device.LocalAgent.ControllerTrust.Role.1";

/// `Device.Test.`: a writable table with nested objects, live parameters and commands.
#[derive(Default)]
pub struct TestPlugin {
    /// Running `Run()` commands: handle, due uptime, requested delay.
    running: Vec<(OpHandle, Duration, u32)>,
}

impl Plugin for TestPlugin {
    fn name(&self) -> &'static str {
        "Test"
    }

    fn register(&mut self, s: &mut SchemaBuilder) {
        let test = s.object("Device.Test.");
        s.param(test, "UpTime", ParamType::UnsignedInt);
        s.param(test, "Label", ParamType::String).rw();
        s.event(test, "Ping").arg("Count", ParamType::UnsignedInt);
        let item = s.table("Device.Test.Item.{i}.", ObjAccess::AddDelete);
        s.alias(item);
        s.param(item, "Name", ParamType::String).rw().max_len(32);
        s.unique_key(item, &["Name"]);
        s.param(item, "Enabled", ParamType::Boolean).rw();
        s.param(item, "Count", ParamType::UnsignedInt).rw().range(0, 100);
        s.param(item, "Serial", ParamType::String).write_once();
        s.param(item, "Status", ParamType::String);
        s.command(item, "Reset", false)
            .mandatory("Level", ParamType::UnsignedInt)
            .input_default("Note", ParamType::String, "none")
            .output("Result", ParamType::String);
        s.command(item, "Run", true)
            .input_default("Delay", ParamType::UnsignedInt, "5")
            .output("Elapsed", ParamType::UnsignedInt);
        let stats = s.object("Device.Test.Item.{i}.Stats.");
        s.param(stats, "Hits", ParamType::UnsignedInt).rw();
        let sub = s.table("Device.Test.Item.{i}.Sub.{i}.", ObjAccess::AddDelete);
        s.alias(sub);
        s.param(sub, "Value", ParamType::Int).rw();
        let fixed = s.table("Device.Test.Fixed.{i}.", ObjAccess::ReadOnly);
        s.param(fixed, "Name", ParamType::String).stored();
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        for p in params {
            let v = match &*ctx.schema().param(*p).name {
                "UpTime" => Value::UnsignedInt(ctx.now().uptime.as_secs() as u32),
                "Status" => Value::String("Up".into()),
                "EndpointID" => Value::String(AGENT.into()),
                other => return Err(UspError::internal(format!("no live value for {other}"))),
            };
            out.push(v);
        }
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let arg = |n: &str| input.iter().find(|(k, _)| &**k == n).map(|(_, v)| v.to_string());
        match &*ctx.schema().command(cmd).name {
            "Reset" => {
                let level = arg("Level").unwrap_or_default();
                if level == "0" {
                    return Err(UspError::new(ErrorCode::CommandFailure, "level 0 refused"));
                }
                if level == "98" {
                    // Level 98 pushes a new value of the live Status (a plugin-pushed change).
                    if let Some(status) = ctx.schema().param_by_name(inst.obj, "Status") {
                        ctx.value_changed(inst, status, &Value::String("Down".into()));
                    }
                }
                if level == "99" {
                    // Level 99 also fires the Ping! event of Device.Test. (for Event tests).
                    let test = Instance { obj: ObjId::ROOT, numbers: vec![], keys: vec![] };
                    let test = Instance {
                        obj: ctx.schema().child(test.obj, "Test").unwrap_or(test.obj),
                        ..test
                    };
                    ctx.emit(
                        &test,
                        "Ping",
                        vec![("Count".into(), Value::String(level.as_str().into()))],
                    );
                }
                let result = format!("reset {level} {}", arg("Note").unwrap_or_default());
                Ok(Outcome::Done(vec![("Result".into(), Value::String(result.into()))]))
            }
            "Run" => {
                let delay: u32 = arg("Delay").and_then(|d| d.parse().ok()).unwrap_or(5);
                let d = Duration::from_secs(delay.into());
                self.running.push((handle, ctx.now().uptime + d, delay));
                ctx.wake_after(d);
                Ok(Outcome::Running)
            }
            _ => Err(UspError::new(ErrorCode::CommandFailure, "unknown command")),
        }
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let now = ctx.now().uptime;
        let (due, rest): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.running).into_iter().partition(|(_, at, _)| *at <= now);
        self.running = rest;
        for (handle, _, delay) in due {
            if delay == 13 {
                ctx.complete(handle, Err(UspError::new(ErrorCode::CommandFailure, "unlucky")));
            } else {
                ctx.complete(handle, Ok(vec![("Elapsed".into(), Value::UnsignedInt(delay))]));
            }
        }
        if let Some(next) = self.running.iter().map(|(_, at, _)| *at).min() {
            ctx.wake_after(next.saturating_sub(now));
        }
    }
}

/// The part of `Device.LocalAgent.` the core relies on: Controller, Request, Subscription.
pub struct LocalAgentPlugin;

impl Plugin for LocalAgentPlugin {
    fn name(&self) -> &'static str {
        "LocalAgent"
    }

    fn register(&mut self, s: &mut SchemaBuilder) {
        let la = s.object("Device.LocalAgent.");
        s.param(la, "EndpointID", ParamType::String);
        let c = s.table("Device.LocalAgent.Controller.{i}.", ObjAccess::AddDelete);
        s.alias(c);
        s.param(c, "EndpointID", ParamType::String).rw();
        s.unique_key(c, &["EndpointID"]);
        let r = s.table("Device.LocalAgent.Request.{i}.", ObjAccess::ReadOnly);
        s.volatile_rows(r);
        for name in ["Originator", "Command", "CommandKey", "Status"] {
            s.param(r, name, ParamType::String).stored();
        }
        let sub = s.table("Device.LocalAgent.Subscription.{i}.", ObjAccess::AddDelete);
        s.alias(sub);
        s.param(sub, "ID", ParamType::String).rw().immutable_key();
        s.unique_key(sub, &["ID"]);
        s.param(sub, "Enable", ParamType::Boolean).rw();
        s.param(sub, "NotifType", ParamType::String).rw();
        s.param(sub, "ReferenceList", ParamType::String).rw();
        s.param(sub, "Recipient", ParamType::String).rw();
        s.param(sub, "NotifRetry", ParamType::Boolean).rw();
    }

    fn get(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        out.extend(params.iter().map(|_| Value::String(AGENT.into())));
        Ok(())
    }
}

/// Which plugins a harness runs.
#[derive(Clone)]
enum Model {
    /// [`TestPlugin`] and the minimal [`LocalAgentPlugin`].
    Minimal,
    /// [`TestPlugin`] alone.
    TestOnly,
    /// The agent's built-in modules (with this identity) and [`TestPlugin`].
    Builtin(Box<AgentIdentity>),
    /// [`Model::Builtin`] (lab identity) and one more plugin, made anew at each restart.
    BuiltinAnd(std::sync::Arc<dyn Fn() -> Box<dyn Plugin>>),
    /// Every area of `usp_areas::plugins` for the host made (anew at each restart) by the
    /// function, router areas included, and [`TestPlugin`].
    Host(std::sync::Arc<dyn Fn() -> usp_areas::Host>),
}

impl Model {
    fn plugins(&self) -> Vec<Box<dyn Plugin>> {
        match self {
            Model::Minimal => vec![Box::new(TestPlugin::default()), Box::new(LocalAgentPlugin)],
            Model::TestOnly => vec![Box::new(TestPlugin::default())],
            Model::Builtin(identity) => {
                let mut p = builtin(identity);
                p.push(Box::new(TestPlugin::default()));
                p
            }
            Model::BuiltinAnd(extra) => {
                let identity = AgentIdentity { endpoint_id: AGENT.into(), ..Default::default() };
                let mut p = builtin(&identity);
                p.push(Box::new(TestPlugin::default()));
                p.push(extra());
                p
            }
            Model::Host(host) => {
                let mut p = usp_areas::plugins(&host());
                p.push(Box::new(TestPlugin::default()));
                p
            }
        }
    }
}

/// A core on the test model, a fake clock and the store behind it.
pub struct Harness {
    pub core: Core,
    pub now: Now,
    pub store: MemStore,
    model: Model,
    next_id: u32,
}

fn start() -> Now {
    Now { uptime: Duration::from_secs(100), wall: DateTime::from_unix(1_700_000_000) }
}

impl Harness {
    /// The full test model with the controller [`CTRL`] as `Controller.1` and two items.
    pub fn new() -> Harness {
        let mut h = Harness::with_model(Model::Minimal);
        h.default("Device.LocalAgent.Controller.1.EndpointID", CTRL);
        h.fixtures();
        h
    }

    /// The test model without LocalAgent: no Controller table, so any controller is accepted.
    pub fn without_local_agent() -> Harness {
        let mut h = Harness::with_model(Model::TestOnly);
        h.fixtures();
        h
    }

    /// The agent's built-in modules (Device, DeviceInfo, LocalAgent with Controller,
    /// Subscription, Request, ControllerTrust) plus `Device.Test.`, with [`CTRL`] as an enabled
    /// `Controller.1` holding the factory-default Full Access role (`Role.1`), as the example
    /// reset files set it up.
    pub fn builtin() -> Harness {
        Harness::builtin_with(AgentIdentity { endpoint_id: AGENT.into(), ..Default::default() })
    }

    /// [`Harness::builtin`] with one more plugin, made by `extra` (again at each restart).
    pub fn builtin_and(extra: impl Fn() -> Box<dyn Plugin> + 'static) -> Harness {
        Harness::builtin_model(Model::BuiltinAnd(std::sync::Arc::new(extra)))
    }

    /// [`Harness::builtin`] with the areas of the host `host` makes (router areas included),
    /// built again from a new host at each restart.
    pub fn with_host(host: impl Fn() -> usp_areas::Host + 'static) -> Harness {
        Harness::builtin_model(Model::Host(std::sync::Arc::new(host)))
    }

    /// [`Harness::builtin`] with another identity.
    pub fn builtin_with(identity: AgentIdentity) -> Harness {
        Harness::builtin_model(Model::Builtin(Box::new(identity)))
    }

    fn builtin_model(model: Model) -> Harness {
        let mut h = Harness::with_model(model);
        h.default("Device.LocalAgent.Controller.1.EndpointID", CTRL);
        h.default("Device.LocalAgent.Controller.1.Enable", "true");
        h.default("Device.LocalAgent.Controller.1.AssignedRole", FULL_ACCESS);
        usp_areas::local_agent::apply_trust_defaults(h.core.dm()).unwrap();
        h.fixtures();
        h
    }

    fn with_model(model: Model) -> Harness {
        let store = MemStore::new();
        let dm = DataModel::new(model.plugins(), Box::new(store.clone()), start()).unwrap();
        Harness { core: Core::new(dm, AGENT), now: start(), store, model, next_id: 1 }
    }

    /// Drops the core and builds a new one on the same store, 60 s of wall-clock time later
    /// and with the uptime back at the start (a restart); `identity` replaces the built-in
    /// model's identity when given. Does not call [`Core::boot`].
    pub fn restart(&mut self, identity: Option<AgentIdentity>) {
        if let (Some(id), Model::Builtin(_)) = (identity, &self.model) {
            self.model = Model::Builtin(Box::new(id));
        }
        let wall = DateTime::from_unix(self.now.wall.secs + 60);
        self.now = Now { wall, ..start() };
        let store = Box::new(self.store.clone());
        let dm = DataModel::new(self.model.plugins(), store, self.now).unwrap();
        self.core = Core::new(dm, AGENT);
    }

    fn fixtures(&mut self) {
        self.default("Device.Test.Item.1.Name", "a");
        self.default("Device.Test.Item.1.Count", "1");
        self.default("Device.Test.Item.1.Sub.1.Value", "5");
        self.default("Device.Test.Item.2.Name", "b");
        self.default("Device.Test.Item.2.Count", "2");
        self.default("Device.Test.Fixed.1.Name", "f");
        let _ = self.core.handle_timeout(self.now);
    }

    /// Sets a value as the agent itself (creating rows), like the defaults file.
    pub fn default(&mut self, path: &str, value: &str) {
        self.core.dm().apply_default(path, value, false).unwrap();
    }

    /// Advances the clock (uptime and wall clock) and runs the timers.
    pub fn advance(&mut self, secs: u64) -> Vec<Outgoing> {
        self.now.uptime += Duration::from_secs(secs);
        self.now.wall = DateTime::from_unix(self.now.wall.secs + secs as i64);
        self.core.handle_timeout(self.now)
    }

    /// Advances the clock to the core's next timer (at most `limit` seconds ahead) and runs
    /// it; returns the seconds waited and what the core sent.
    pub fn advance_to_timer(&mut self, limit: u64) -> (u64, Vec<Outgoing>) {
        let next = self.core.poll_timeout().expect("a timer is set");
        let wait = next.saturating_sub(self.now.uptime);
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        assert!(secs <= limit, "next timer in {secs} s, beyond {limit} s");
        (secs, self.advance(secs))
    }

    /// Feeds raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> Vec<Outgoing> {
        self.core.handle_record(self.now, bytes).outgoing()
    }

    /// Feeds a Record.
    pub fn record(&mut self, record: &Record) -> Vec<Outgoing> {
        self.bytes(&record.to_bytes())
    }

    /// Sends a Msg from [`CTRL`] in a 1.4 Record; returns the decoded replies, checking they
    /// go back to the controller from the agent.
    pub fn send(&mut self, msg: &Msg) -> Vec<Msg> {
        let out = self.record(&Record::no_session_context_msg("1.4", AGENT, CTRL, msg));
        out.iter().map(decode_to_ctrl).collect()
    }

    /// Sends a request and returns the one reply, checking its msg_id.
    pub fn request(&mut self, req: ReqType) -> Msg {
        let id = format!("m{}", self.next_id);
        self.next_id += 1;
        let mut replies = self.send(&Msg::request(id.clone(), req));
        assert_eq!(replies.len(), 1, "one reply expected: {replies:?}");
        let reply = replies.remove(0);
        assert_eq!(reply.msg_id(), Some(id.as_str()));
        reply
    }

    /// Sends a request expected to get a response; returns it.
    pub fn response(&mut self, req: ReqType) -> RespType {
        response(self.request(req))
    }

    /// Sends a request expected to get an Error; returns it.
    pub fn error(&mut self, req: ReqType) -> msg::Error {
        error(self.request(req))
    }

    /// Get of one path; the result of that path.
    pub fn get1(&mut self, path: &str, max_depth: u32) -> msg::get_resp::RequestedPathResult {
        let get = msg::Get { param_paths: vec![path.into()], max_depth };
        let RespType::GetResp(mut r) = self.response(ReqType::Get(get)) else { panic!() };
        assert_eq!(r.req_path_results.len(), 1);
        r.req_path_results.remove(0)
    }

    /// The value of one parameter, `None` if the Get fails or returns nothing.
    pub fn value(&mut self, path: &str) -> Option<String> {
        let r = self.get1(path, 0);
        r.resolved_path_results.first().and_then(|p| p.result_params.values().next().cloned())
    }

    /// The instance paths of a table (GetInstances, first level).
    pub fn rows(&mut self, table: &str) -> Vec<String> {
        let gi = msg::GetInstances { obj_paths: vec![table.into()], first_level_only: true };
        let RespType::GetInstancesResp(r) = self.response(ReqType::GetInstances(gi)) else {
            panic!()
        };
        r.req_path_results[0].curr_insts.iter().map(|i| i.instantiated_obj_path.clone()).collect()
    }
}

/// Decodes an outgoing Record to the controller.
pub fn decode_to_ctrl(o: &Outgoing) -> Msg {
    assert_eq!(o.to, CTRL);
    assert_eq!(o.record.to_id, CTRL);
    assert_eq!(o.record.from_id, AGENT);
    o.record.decode_no_session_context_msg().unwrap()
}

/// The response of a reply, panicking on anything else.
pub fn response(msg: Msg) -> RespType {
    match msg.body.and_then(|b| b.msg_body) {
        Some(MsgBody::Response(r)) => r.resp_type.unwrap(),
        other => panic!("not a response: {other:?}"),
    }
}

/// The Error of a reply, panicking on anything else.
pub fn error(msg: Msg) -> msg::Error {
    assert_eq!(msg.msg_type(), Some(msg::header::MsgType::Error));
    match msg.body.and_then(|b| b.msg_body) {
        Some(MsgBody::Error(e)) => e,
        other => panic!("not an Error: {other:?}"),
    }
}
