//! The controller side of USP over one MTP link: send a request, wait for its response by
//! msg_id with a timeout, collect the agent's notifications.
//!
//! A [`Controller`] owns one [`Link`] (any transport of `usp-mtp`, or the in-memory
//! [`crate::loopback`] link) and the receiving end of its events ([`event_channel`]). It runs on
//! the caller's thread: every method that waits reads the channel until its answer or its
//! deadline, and files everything else it meets on the way (notifications, the agent coming
//! and going) into a queue read by [`Controller::next_event`].
//!
//! Contracts:
//! - Records are NoSessionContext, version [`USP_VERSION`], from our Endpoint ID to the
//!   agent's; after [`Controller::use_e2e_session`], SessionContext Records of one session
//!   (the `e2e` module), and the agent's session Records are taken in sequence and reassembled. The agent's Endpoint ID is configured, or learnt from the first Record (or
//!   WebSocket session) that comes in.
//! - Where a Record goes (the [`usp_mtp::Outbound`] `dest`): the configured destination (MQTT
//!   topic, STOMP destination), else the one the agent announced (its Connect Record, or the
//!   reply-to of its Records), else — on a WebSocket session — the agent's Endpoint ID.
//! - A Notify with `send_resp` is acknowledged with a NotifyResp at once, where its reply-to
//!   says.
//! - Records not addressed to us, from another endpoint than the agent, or not decodable are
//!   dropped (and shown to the trace hook); responses nobody waits for any more are dropped.
//!
//! Never spawns a thread, never reads the data model, never prints.

mod e2e;
mod error;
mod inbox;
mod incoming;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use usp_mtp::{Link, LinkId, Outbound};
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg, body::MsgBody, header::MsgType, request::ReqType};
use usp_proto::record::Record;

pub use error::{ClientError, UspFailure};
pub use inbox::{Inbox, Interrupter, event_channel};
use inbox::{Input, deadline_in};
use incoming::Absorbed;

/// The [`LinkId`] the controller gives its link; events of other links are ignored.
pub const LINK_ID: LinkId = 1;

/// The USP version of the Records we send.
pub const USP_VERSION: &str = "1.4";

/// The USP versions we speak (GetSupportedProtocol).
pub const SUPPORTED_VERSIONS: &str = "1.0,1.1,1.2,1.3,1.4";

/// How long a request waits for its response unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most events kept for [`Controller::next_event`]; older ones are dropped first.
pub const MAX_QUEUED_EVENTS: usize = 10_000;

/// Who we are and whom we talk to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    /// Our Endpoint ID (the `from_id` of our Records).
    pub endpoint_id: String,
    /// The agent's Endpoint ID; `None`: learnt from the first Record or session.
    pub agent: Option<String>,
    /// Where Records for the agent go (its MQTT topic, STOMP destination); `None`: learnt (see
    /// the module documentation).
    pub agent_dest: Option<String>,
    /// The default response timeout (also the wait for the agent to become reachable).
    pub timeout: Duration,
}

impl ControllerConfig {
    /// A configuration for the controller `endpoint_id`, learning everything about the agent.
    pub fn new(endpoint_id: impl Into<String>) -> ControllerConfig {
        ControllerConfig {
            endpoint_id: endpoint_id.into(),
            agent: None,
            agent_dest: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A Notify received from the agent.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The Notify's msg_id.
    pub msg_id: String,
    /// The agent's Endpoint ID.
    pub from: String,
    /// The Notify itself.
    pub notify: msg::Notify,
}

/// What happened on the link besides responses.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// The agent sent a notification (already acknowledged when it asked for it).
    Notify(Notification),
    /// The agent announced itself: a Connect Record, or a WebSocket session with it opened.
    AgentUp {
        /// Its Endpoint ID.
        endpoint_id: String,
    },
    /// The agent said goodbye (DisconnectRecord) or its session closed.
    AgentDown {
        /// Why.
        reason: String,
    },
    /// Our link is up (connected and subscribed, or a session opened).
    LinkUp,
    /// Our link went down; it retries by itself.
    LinkDown {
        /// Why.
        reason: String,
        /// When the next attempt is made (`None`: it gave up).
        retry_in: Option<Duration>,
    },
}

/// Which way a Record went, for the trace hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it (whether or not it was accepted).
    Received,
}

/// A callback shown every Record sent and received (`uspctl --trace`).
pub type TraceHook = Box<dyn FnMut(Direction, &Record) + Send>;

/// The controller: one link, one agent (see the module documentation).
pub struct Controller {
    cfg: ControllerConfig,
    link: Box<dyn Link>,
    inbox: Inbox,
    agent: Option<String>,
    learnt_dest: Option<String>,
    link_up: bool,
    /// Why the link last went down (`None` once it is up).
    link_failure: Option<String>,
    /// The link is a WebSocket session with the agent (client or server side).
    websocket: bool,
    agent_up: bool,
    queue: VecDeque<Event>,
    id_prefix: String,
    next_id: u64,
    trace: Option<TraceHook>,
    /// Our E2E session with the agent, once asked for.
    e2e: Option<e2e::Session>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller")
            .field("endpoint_id", &self.cfg.endpoint_id)
            .field("agent", &self.agent)
            .field("link_up", &self.link_up)
            .field("agent_up", &self.agent_up)
            .finish()
    }
}

impl Controller {
    /// A controller over `link`, whose events arrive in `inbox` (the other end of the sink the
    /// link was spawned with, see [`event_channel`]).
    pub fn new(cfg: ControllerConfig, link: Box<dyn Link>, inbox: Inbox) -> Controller {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Controller {
            agent: cfg.agent.clone(),
            cfg,
            link,
            inbox,
            learnt_dest: None,
            link_up: false,
            link_failure: None,
            websocket: false,
            agent_up: false,
            queue: VecDeque::new(),
            id_prefix: format!("{secs:x}-{:x}", std::process::id()),
            next_id: 0,
            trace: None,
            e2e: None,
        }
    }

    /// Builds the channel, spawns the link with `spawn(LINK_ID, sink)` and returns the
    /// controller over it.
    pub fn start<E>(
        cfg: ControllerConfig,
        spawn: impl FnOnce(LinkId, usp_mtp::EventSink) -> Result<Box<dyn Link>, E>,
    ) -> Result<Controller, E> {
        let (sink, inbox) = event_channel();
        let link = spawn(LINK_ID, sink)?;
        Ok(Controller::new(cfg, link, inbox))
    }

    /// From now on, exchanges Msgs with the agent in an E2E Session Context (TR-369) whose id
    /// comes from the clock and the process id; returns that id.
    pub fn use_e2e_session(&mut self) -> u64 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let session = e2e::Session::new(nanos ^ u64::from(std::process::id()) << 32);
        let id = session.id();
        self.e2e = Some(session);
        id
    }

    /// The id of the E2E session in use (it changes when the agent opens a new one).
    pub fn e2e_session_id(&self) -> Option<u64> {
        self.e2e.as_ref().map(e2e::Session::id)
    }

    /// Shows every Record sent and received to `hook`.
    pub fn set_trace(&mut self, hook: TraceHook) {
        self.trace = Some(hook);
    }

    /// Our configuration.
    pub fn config(&self) -> &ControllerConfig {
        &self.cfg
    }

    /// The agent's Endpoint ID, once configured or learnt.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// Whether our link is up.
    pub fn is_link_up(&self) -> bool {
        self.link_up
    }

    /// Whether the agent announced itself (Connect Record or WebSocket session) and has not
    /// gone since. Over a broker the agent may be reachable without having announced itself.
    pub fn is_agent_up(&self) -> bool {
        self.agent_up
    }

    /// A handle that makes the current wait return [`ClientError::Interrupted`].
    pub fn interrupter(&self) -> Interrupter {
        self.inbox.interrupter()
    }

    /// A fresh identifier with `what` as prefix (msg_ids, subscription IDs, command keys),
    /// unique for this process and, with the clock set, across runs.
    pub fn unique_id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{what}-{}-{}", self.id_prefix, self.next_id)
    }

    /// Stops the link politely (waits a second or two at most).
    pub fn stop(mut self) {
        self.link.stop();
    }

    /// Waits until a Record can be sent: the link is up and the agent's Endpoint ID and
    /// destination are known.
    pub fn wait_ready(&mut self, timeout: Duration) -> Result<(), ClientError> {
        self.wait_ready_until(deadline_in(timeout), timeout)
    }

    fn wait_ready_until(
        &mut self,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        while !self.ready() {
            let input = self
                .recv(deadline)?
                .ok_or_else(|| ClientError::Timeout { what: self.missing(), after: timeout })?;
            if let Absorbed::Interrupt = self.absorb(input) {
                return Err(ClientError::Interrupted);
            }
        }
        Ok(())
    }

    fn ready(&self) -> bool {
        self.link_up && self.agent.is_some() && self.dest().is_some()
    }

    /// What [`Controller::ready`] still lacks, for the timeout message.
    /// With the link down, the reason of its last failure (a refused login, a wrong virtual
    /// host, nothing listening) when there was one.
    fn missing(&self) -> String {
        if !self.link_up {
            match &self.link_failure {
                Some(reason) => format!("the link to come up (last attempt: {reason})"),
                None => "the link to come up".into(),
            }
        } else if self.agent.is_none() {
            "the agent to connect (its Endpoint ID is not known yet)".into()
        } else {
            "the agent's destination (give the agent's topic or destination)".into()
        }
    }

    /// Sends `req` and waits (at most the configured timeout) for its response. An Error
    /// message from the agent is [`ClientError::Usp`]; the Ok value is a response Msg.
    pub fn request(&mut self, req: ReqType) -> Result<Msg, ClientError> {
        self.request_with_timeout(req, self.cfg.timeout)
    }

    /// [`Controller::request`] with its own timeout (covering the wait for the agent too).
    pub fn request_with_timeout(
        &mut self,
        req: ReqType,
        timeout: Duration,
    ) -> Result<Msg, ClientError> {
        let deadline = deadline_in(timeout);
        let id = self.send_request(req, deadline, timeout)?;
        loop {
            let input = self.recv(deadline)?.ok_or_else(|| ClientError::Timeout {
                what: format!("the response to {id}"),
                after: timeout,
            })?;
            match self.absorb(input) {
                Absorbed::Reply(msg) if msg.msg_id() == Some(id.as_str()) => {
                    return match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
                        Some(MsgBody::Error(e)) => Err(ClientError::Usp(UspFailure::from_error(e))),
                        Some(MsgBody::Response(_)) => Ok(msg),
                        _ => Err(ClientError::Unexpected(format!("{id}: answer without body"))),
                    };
                }
                Absorbed::Reply(_) | Absorbed::Nothing => {}
                Absorbed::Interrupt => return Err(ClientError::Interrupted),
                Absorbed::Down(reason) => return Err(ClientError::Disconnected { reason }),
            }
        }
    }

    /// Sends `req` without waiting for an answer (an Operate with `send_resp` false); returns
    /// its msg_id.
    pub fn send_only(&mut self, req: ReqType) -> Result<String, ClientError> {
        let timeout = self.cfg.timeout;
        self.send_request(req, deadline_in(timeout), timeout)
    }

    fn send_request(
        &mut self,
        req: ReqType,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<String, ClientError> {
        self.wait_ready_until(deadline, timeout)?;
        let id = self.unique_id("uspctl");
        self.send_msg(&Msg::request(id.clone(), req), None)?;
        Ok(id)
    }

    /// Sends `req` and returns its response body, checked to be the response to that request
    /// kind.
    pub fn call(&mut self, req: ReqType) -> Result<RespType, ClientError> {
        let expected = response_type(req.msg_type());
        let msg = self.request(req)?;
        match msg.body.and_then(|b| b.msg_body) {
            Some(MsgBody::Response(msg::Response { resp_type: Some(resp) }))
                if Some(resp.msg_type()) == expected =>
            {
                Ok(resp)
            }
            other => Err(ClientError::Unexpected(format!("not the expected response: {other:?}"))),
        }
    }

    /// The next event (queued, or arriving before `timeout`); `Ok(None)` when none came.
    pub fn next_event(&mut self, timeout: Duration) -> Result<Option<Event>, ClientError> {
        self.wait_event(timeout, |_| true)
    }

    /// The next notification before `timeout` (other events met on the way are dropped).
    pub fn next_notification(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<Notification>, ClientError> {
        let deadline = deadline_in(timeout);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_event(left)? {
                Some(Event::Notify(n)) => return Ok(Some(n)),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// The first queued or arriving event `pick` accepts, before `timeout`; the events it
    /// passes over stay queued, in order.
    pub fn wait_event(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&Event) -> bool,
    ) -> Result<Option<Event>, ClientError> {
        let deadline = deadline_in(timeout);
        loop {
            // The queue is short in practice (events are read as they come): scan it whole.
            if let Some(pos) = self.queue.iter().position(&mut pick) {
                return Ok(self.queue.remove(pos));
            }
            let Some(input) = self.recv(deadline)? else { return Ok(None) };
            if let Absorbed::Interrupt = self.absorb(input) {
                return Err(ClientError::Interrupted);
            }
        }
    }

    /// Handles every input already received (without waiting) and returns the queued events.
    /// Pending interrupts are discarded: they belonged to a wait that is over.
    pub fn drain_events(&mut self) -> Vec<Event> {
        while let Some(input) = self.inbox.try_recv() {
            let _ = self.absorb(input);
        }
        self.queue.drain(..).collect()
    }

    fn recv(&mut self, deadline: Instant) -> Result<Option<Input>, ClientError> {
        self.inbox.recv_until(deadline).map_err(|_| ClientError::Closed)
    }

    fn push_event(&mut self, event: Event) {
        if self.queue.len() >= MAX_QUEUED_EVENTS {
            self.queue.pop_front();
        }
        self.queue.push_back(event);
    }

    /// Where Records for the agent go (see the module documentation).
    fn dest(&self) -> Option<String> {
        self.cfg
            .agent_dest
            .clone()
            .or_else(|| self.learnt_dest.clone())
            .or_else(|| if self.websocket { self.agent.clone() } else { None })
    }

    /// Sends `msg` to the agent, at `reply_to` when given (answers to the agent's requests).
    fn send_msg(&mut self, msg: &Msg, reply_to: Option<&str>) -> Result<(), ClientError> {
        let agent = self.agent.clone().ok_or_else(|| {
            ClientError::NoRoute("the agent's Endpoint ID is not known yet".into())
        })?;
        let dest = reply_to.map(str::to_owned).or_else(|| self.dest()).ok_or_else(|| {
            ClientError::NoRoute("the agent's topic or destination is not known".into())
        })?;
        let from = self.cfg.endpoint_id.clone();
        let record = match self.e2e.as_mut() {
            Some(session) => session.wrap(agent, from, msg.to_bytes()),
            None => Record::no_session_context_msg(USP_VERSION, agent, from, msg),
        };
        if let Some(trace) = &mut self.trace {
            trace(Direction::Sent, &record);
        }
        self.link.send(Outbound { dest, record: record.to_bytes(), retain: false })?;
        Ok(())
    }
}

/// The response type that answers a request type.
fn response_type(req: MsgType) -> Option<MsgType> {
    Some(match req {
        MsgType::Get => MsgType::GetResp,
        MsgType::Set => MsgType::SetResp,
        MsgType::Add => MsgType::AddResp,
        MsgType::Delete => MsgType::DeleteResp,
        MsgType::Operate => MsgType::OperateResp,
        MsgType::Notify => MsgType::NotifyResp,
        MsgType::GetSupportedDm => MsgType::GetSupportedDmResp,
        MsgType::GetInstances => MsgType::GetInstancesResp,
        MsgType::GetSupportedProto => MsgType::GetSupportedProtoResp,
        MsgType::Register => MsgType::RegisterResp,
        MsgType::Deregister => MsgType::DeregisterResp,
        _ => return None,
    })
}

/// Typed requests: each sends one request kind and returns its response body.
macro_rules! typed_requests {
    ($($(#[$doc:meta])* $name:ident($req:ident) -> $resp:ident;)*) => {
        impl Controller {
            $(
                $(#[$doc])*
                pub fn $name(&mut self, req: msg::$req) -> Result<msg::$resp, ClientError> {
                    match self.call(ReqType::$req(req))? {
                        RespType::$resp(r) => Ok(r),
                        other => Err(ClientError::Unexpected(format!("{other:?}"))),
                    }
                }
            )*
        }
    };
}

typed_requests! {
    /// Get.
    get(Get) -> GetResp;
    /// Set.
    set(Set) -> SetResp;
    /// Add.
    add(Add) -> AddResp;
    /// Delete.
    delete(Delete) -> DeleteResp;
    /// Operate (with `send_resp` true; use [`Controller::send_only`] otherwise).
    operate(Operate) -> OperateResp;
    /// GetInstances.
    get_instances(GetInstances) -> GetInstancesResp;
    /// GetSupportedDM.
    get_supported_dm(GetSupportedDm) -> GetSupportedDmResp;
    /// GetSupportedProtocol.
    get_supported_protocol(GetSupportedProtocol) -> GetSupportedProtocolResp;
}

#[cfg(test)]
mod tests;
