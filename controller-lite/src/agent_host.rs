//! Test support: a real agent core (`usp_core::Core` on SQLite in a temporary directory,
//! built by `uspagent::startup::start`) served on a thread at the far end of a loopback link,
//! with the real clock. It announces itself with a WebSocketConnect Record when the session
//! opens, as the daemon does. Compiled for tests only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use usp_areas::AgentIdentity;
use usp_core::{ConnectKind, Core, connect_record};
use usp_datamodel::plugin::Now;
use usp_datamodel::value::DateTime;
use usp_mtp::{EventSink, Link, MtpEvent, Outbound};

use crate::client::{Controller, ControllerConfig, LINK_ID, event_channel};
use crate::loopback::{End, LoopbackLink, pair};

/// The agent's Endpoint ID.
pub const AGENT: &str = "os::00D09E-LAB0001";
/// The controller's Endpoint ID (the reset file makes it `Controller.1`).
pub const CTL: &str = "self::lab-ctl";

/// The agent thread; dropping it closes the session and waits for the thread.
pub struct AgentHost {
    thread: Option<JoinHandle<()>>,
    link: LoopbackLink,
    _dir: tempfile::TempDir,
}

impl Drop for AgentHost {
    fn drop(&mut self) {
        self.link.disconnect("the test is over");
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reset-file lines for an enabled, persistent OperationComplete subscription of ours to every
/// command (`Device.LocalAgent.Subscription.1.`, ID `lab-oc`).
pub const LAB_OC_SUBSCRIPTION: &str = "\
Device.LocalAgent.Subscription.1.ID \"lab-oc\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1.\"
Device.LocalAgent.Subscription.1.NotifType \"OperationComplete\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.\"
Device.LocalAgent.Subscription.1.Persistent true
Device.LocalAgent.Subscription.1.Enable true
";

/// A controller (agent not configured: learnt from the session) talking to a real agent core
/// that knows it as `Controller.1`.
pub fn controller_with_agent() -> (Controller, AgentHost) {
    controller_with_agent_and("")
}

/// The agent's factory-default Full Access role, which the controller is given.
const FULL_ACCESS: &str = "Device.LocalAgent.ControllerTrust.Role.1";

/// [`controller_with_agent`] with more lines in the agent's reset file.
pub fn controller_with_agent_and(extra_reset_lines: &str) -> (Controller, AgentHost) {
    let dir = tempfile::tempdir().unwrap();
    let reset = dir.path().join("reset.txt");
    std::fs::write(
        &reset,
        format!(
            "Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"\n\
             Device.LocalAgent.Controller.1.Enable true\n\
             Device.LocalAgent.Controller.1.AssignedRole \"{FULL_ACCESS}\"\n\
             {extra_reset_lines}"
        ),
    )
    .unwrap();
    let db = dir.path().join("usp.db");
    let start = Instant::now();

    let (sink, inbox) = event_channel();
    let (tx, rx) = channel();
    let agent_sink: EventSink = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    let (ctl_link, agent_link) =
        pair(End::websocket(LINK_ID, sink, CTL), End::websocket(9, agent_sink, AGENT));
    let host_link = agent_link.sender();
    let (ready_tx, ready) = channel();
    // The core is not Send: it is built on its thread.
    let thread = std::thread::spawn(move || {
        let identity = AgentIdentity { endpoint_id: AGENT.into(), ..AgentIdentity::default() };
        let started = uspagent::startup::start(
            &db,
            Some(&reset),
            &usp_areas::Host::agent_only(identity.clone()),
            now(start),
        );
        let mut core = match started {
            Ok(s) => Core::new(s.dm, AGENT),
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return;
            }
        };
        let _ = ready_tx.send(Ok(()));
        let send = |out: usp_core::Outgoing| {
            let dest = out.to.clone();
            let _ =
                agent_link.send(Outbound { dest, record: out.record.to_bytes(), retain: false });
        };
        let give_up = start + Duration::from_secs(60);
        while Instant::now() < give_up {
            let wake = core.poll_timeout().map(|at| at.saturating_sub(now(start).uptime));
            let wait = wake.unwrap_or(Duration::from_millis(200)).min(Duration::from_millis(200));
            match rx.recv_timeout(wait) {
                Ok(MtpEvent::Up { .. }) => {
                    let hello = connect_record(ConnectKind::WebSocket, CTL, AGENT);
                    send(usp_core::Outgoing { to: CTL.into(), record: hello, in_reply: false });
                }
                Ok(MtpEvent::Received { record, .. }) => {
                    core.handle_record(now(start), &record).into_iter().for_each(send);
                }
                Ok(MtpEvent::Down { .. }) | Err(RecvTimeoutError::Disconnected) => break,
                // Only MQTT links report it; this host runs a WebSocket server.
                Ok(MtpEvent::Subscribed { .. }) => {}
                Err(RecvTimeoutError::Timeout) => {
                    core.handle_timeout(now(start)).into_iter().for_each(send);
                }
            }
        }
    });
    let started = ready.recv_timeout(Duration::from_secs(30)).expect("the agent thread answers");
    started.expect("the agent starts");
    let mut cfg = ControllerConfig::new(CTL);
    cfg.timeout = Duration::from_secs(10);
    let ctl = Controller::new(cfg, Box::new(ctl_link), inbox);
    (ctl, AgentHost { thread: Some(thread), link: host_link, _dir: dir })
}

fn now(start: Instant) -> Now {
    let wall = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Now {
        uptime: start.elapsed() + Duration::from_secs(1),
        wall: DateTime::from_unix(i64::try_from(wall).unwrap_or(0)),
    }
}
