//! Test support: a [`Controller`] over a [`crate::loopback`] pair whose agent end is scripted
//! by the test (decode what the controller sent, answer by hand, push notifications and
//! events). Compiled for tests only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use usp_mtp::{EventSink, MtpEvent};
use usp_proto::msg::Msg;
use usp_proto::record::Record;

use crate::client::{Controller, ControllerConfig, LINK_ID, event_channel};
use crate::loopback::{DestLog, End, LoopbackLink, pair};

/// The scripted agent's Endpoint ID.
pub const AGENT: &str = "os::012345-SCRIPT";
/// The controller's Endpoint ID.
pub const CTL: &str = "self::script-ctl";
/// The longest any scripted wait lasts.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The agent end of the pair, driven by the test.
pub struct Script {
    /// The agent's end of the link.
    pub agent: LoopbackLink,
    /// What the agent end received.
    pub events: Receiver<MtpEvent>,
    /// Where the controller sent its Records.
    pub dests: DestLog,
}

/// A controller (timeout 2 s, agent not configured) connected to a scripted agent over a
/// WebSocket-like pair.
pub fn controller() -> (Controller, Script) {
    controller_with(|_, _| {})
}

/// [`controller`] after `adjust` changed the configuration and the ends (controller end
/// first) before the pair is made.
pub fn controller_with(
    adjust: impl FnOnce(&mut ControllerConfig, &mut [End; 2]),
) -> (Controller, Script) {
    let mut cfg = ControllerConfig::new(CTL);
    cfg.timeout = Duration::from_secs(2);
    let (sink, inbox) = event_channel();
    let (tx, events) = channel();
    let agent_sink: EventSink = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    let mut ends = [End::websocket(LINK_ID, sink, CTL), End::websocket(7, agent_sink, AGENT)];
    adjust(&mut cfg, &mut ends);
    let [ctl_end, agent_end] = ends;
    let (ctl_link, agent) = pair(ctl_end, agent_end);
    let dests = ctl_link.dest_log();
    let script = Script { agent, events, dests };
    assert!(matches!(script.events.recv_timeout(PATIENCE), Ok(MtpEvent::Up { .. })));
    (Controller::new(cfg, Box::new(ctl_link), inbox), script)
}

impl Script {
    /// Sends `record` as the agent.
    pub fn send_record(&self, record: &Record) {
        use usp_mtp::Link as _;
        self.agent
            .send(usp_mtp::Outbound { dest: CTL.into(), record: record.to_bytes(), retain: false })
            .expect("loopback open");
    }

    /// Sends `msg` from the agent to the controller.
    pub fn send(&self, msg: &Msg) {
        self.send_record(&Record::no_session_context_msg("1.4", CTL, AGENT, msg));
    }

    /// The next Record the controller sent.
    pub fn recv_record(&self) -> Record {
        loop {
            match self.events.recv_timeout(PATIENCE).expect("the controller sends in time") {
                MtpEvent::Received { record, .. } => return Record::from_bytes(&record).unwrap(),
                _ => continue,
            }
        }
    }

    /// The next Msg the controller sent.
    pub fn recv(&self) -> Msg {
        self.recv_record().decode_no_session_context_msg().unwrap()
    }

    /// On a thread: answers the next `n` Msgs the controller sends with what `answer` returns
    /// (sent in order, from the agent to the controller), then gives the script back.
    pub fn serve(
        self,
        n: usize,
        mut answer: impl FnMut(&Msg) -> Vec<Msg> + Send + 'static,
    ) -> JoinHandle<Script> {
        self.serve_records(n, move |msg| {
            let wrap = |m: Msg| Record::no_session_context_msg("1.4", CTL, AGENT, &m);
            answer(msg).into_iter().map(wrap).collect()
        })
    }

    /// [`Script::serve`] answering with whole Records (any addressing).
    pub fn serve_records(
        self,
        n: usize,
        mut answer: impl FnMut(&Msg) -> Vec<Record> + Send + 'static,
    ) -> JoinHandle<Script> {
        std::thread::spawn(move || {
            for _ in 0..n {
                let msg = self.recv();
                for reply in answer(&msg) {
                    self.send_record(&reply);
                }
            }
            self
        })
    }

    /// On a thread: answers each Msg with what `answer` returns until it says to stop (the
    /// `bool` is "keep going"); at most 1000 Msgs.
    pub fn serve_until(
        self,
        mut answer: impl FnMut(&Msg) -> (Vec<Msg>, bool) + Send + 'static,
    ) -> JoinHandle<Script> {
        std::thread::spawn(move || {
            for _ in 0..1000 {
                let msg = self.recv();
                let (replies, more) = answer(&msg);
                for reply in replies {
                    self.send(&reply);
                }
                if !more {
                    break;
                }
            }
            self
        })
    }
}
