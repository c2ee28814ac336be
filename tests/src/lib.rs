//! Shared helpers for the cross-crate scenarios in `tests/tests/`: a controller that speaks to
//! an agent [`Core`] in memory with real USP Records.
//!
//! Owns test scaffolding only; never part of a shipped binary. [`faults`] holds issue 20's
//! fault suites (kill -9, broker restarts, many controllers), run small by the test command
//! and at full counts by `cargo run --release -p usp-tests --example faults`.

pub mod faults;

use std::path::Path;
use std::time::Duration;
use usp_areas::AgentIdentity;
use usp_core::Core;
use usp_datamodel::plugin::Now;
use usp_proto::msg::{Msg, body, response::RespType};
use usp_proto::record::Record;

/// The agent's Endpoint ID in the scenarios.
pub const AGENT: &str = "os::00D09E-LAB0001";
/// The controller's Endpoint ID in the scenarios (configured by [`RESET_FILE`]).
pub const CONTROLLER: &str = "self::lab-controller";
/// A factory-reset file in obuspa's syntax that makes [`CONTROLLER`] known, with the
/// factory-default Full Access role.
pub const RESET_FILE: &str = "\
Device.LocalAgent.Controller.1.EndpointID \"self::lab-controller\"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
";

/// An agent core on an SQLite database, driven by a controller with a fake clock.
pub struct Lab {
    /// The agent.
    pub core: Core,
    /// Seconds of fake uptime.
    pub uptime: u64,
    next_id: u32,
}

impl Lab {
    /// Starts the agent on the database `db`, from `reset` on a first start.
    pub fn start(db: &Path, reset: &Path) -> Lab {
        let identity = AgentIdentity { endpoint_id: AGENT.into(), ..AgentIdentity::default() };
        let started = uspagent::startup::start(
            db,
            Some(reset),
            &usp_areas::Host::agent_only(identity.clone()),
            Now::default(),
        )
        .unwrap_or_else(|e| panic!("agent start failed: {e}"));
        Lab { core: Core::new(started.dm, AGENT), uptime: 0, next_id: 0 }
    }

    /// Sends a request from the controller and returns the messages the agent sends back
    /// (the reply, then any notifications the request caused).
    pub fn send(&mut self, req: usp_proto::msg::request::ReqType) -> Vec<Msg> {
        self.send_tagged(req).into_iter().map(|(_, msg)| msg).collect()
    }

    /// Like [`Lab::send`], each message with whether it is the reply (`in_reply`).
    fn send_tagged(&mut self, req: usp_proto::msg::request::ReqType) -> Vec<(bool, Msg)> {
        self.next_id += 1;
        let msg = Msg::request(format!("t-{}", self.next_id), req);
        let record = Record::no_session_context_msg("1.4", AGENT, CONTROLLER, &msg);
        let now = Now { uptime: Duration::from_secs(self.uptime), ..Now::default() };
        self.core
            .handle_record(now, &record.to_bytes())
            .into_iter()
            .map(|out| {
                let msg = out.record.decode_no_session_context_msg().expect("agent sends a Msg");
                (out.in_reply, msg)
            })
            .collect()
    }

    /// Sends a request and returns the single response body it must produce (notifications
    /// it causes are left out).
    pub fn call(&mut self, req: usp_proto::msg::request::ReqType) -> RespType {
        let mut replies: Vec<Msg> =
            self.send_tagged(req).into_iter().filter(|(r, _)| *r).map(|(_, m)| m).collect();
        assert_eq!(replies.len(), 1, "one reply expected: {replies:#?}");
        match replies.pop().and_then(|m| m.body).and_then(|b| b.msg_body) {
            Some(body::MsgBody::Response(r)) => r.resp_type.expect("a response type"),
            other => panic!("expected a response, got {other:#?}"),
        }
    }
}
