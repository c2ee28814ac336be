//! The test's controller: one `usp_mtp::mqtt` link subscribed to the controller topic, sending
//! requests to the agent's topic and reading every Record that comes back, in arrival order.
//! Records a wait passes over are kept (with their arrival number) for later waits.

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::mqtt::{MqttConfig, MqttLink, spawn};
use usp_mtp::retry::RetryPolicy;
use usp_mtp::{DEFAULT_MAX_RECORD, Link, MtpEvent, Outbound};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Msg, Notify, NotifyResp, body::MsgBody};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;

/// How long any wait lasts at most.
pub const WAIT: Duration = Duration::from_secs(10);

/// Who the controller is and where things go.
#[derive(Clone, Debug)]
pub struct Names {
    /// The controller's Endpoint ID.
    pub ctl: String,
    /// The controller's topic.
    pub ctl_topic: String,
    /// The agent's Endpoint ID.
    pub agent: String,
    /// The agent's topic.
    pub agent_topic: String,
}

/// A Record received, numbered in arrival order.
pub struct Got {
    /// Arrival number (0 for the first Record this controller received).
    pub seq: u64,
    /// The Record.
    pub record: Record,
}

/// The controller (see the module documentation).
pub struct Ctl {
    pub names: Names,
    port: u16,
    v5: bool,
    link: MqttLink,
    rx: Receiver<MtpEvent>,
    backlog: VecDeque<Got>,
    seq: u64,
    next_id: u64,
}

fn link(port: u16, v5: bool, n: &Names) -> (MqttLink, Receiver<MtpEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let sink: usp_mtp::EventSink = Arc::new(move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    let cfg = MqttConfig {
        endpoint_id: n.ctl.clone(),
        host: "127.0.0.1".into(),
        port,
        v5,
        client_id: String::new(),
        username: String::new(),
        password: String::new(),
        keep_alive: Duration::from_secs(60),
        clean_start: true,
        request_response_info: false,
        subscriptions: vec![(n.ctl_topic.clone(), 1)],
        response_topic: n.ctl_topic.clone(),
        publish_qos: 1,
        retry: RetryPolicy { min_wait_secs: 1, multiplier_permille: 1000, max_wait_secs: 1 },
        tls: None,
        max_record: DEFAULT_MAX_RECORD,
        extended: Default::default(),
    };
    (spawn(1, cfg, sink), rx)
}

impl Ctl {
    /// Connects to the broker on `port` and returns once subscribed.
    pub fn start(port: u16, v5: bool, names: Names) -> Ctl {
        let (link, rx) = link(port, v5, &names);
        let mut c = Ctl { names, port, v5, link, rx, backlog: VecDeque::new(), seq: 0, next_id: 0 };
        c.wait_up();
        c
    }

    fn wait_up(&mut self) {
        let end = Instant::now() + WAIT;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(MtpEvent::Up { .. }) => return,
                Ok(MtpEvent::Received { record, .. }) => self.keep(&record),
                Ok(MtpEvent::Down { .. } | MtpEvent::Subscribed { .. }) => {}
                Err(_) => break,
            }
        }
        panic!("the controller's MQTT link did not come up within {WAIT:?}");
    }

    /// Drops the link and connects anew at once (after a broker restart).
    pub fn reconnect(&mut self) {
        self.link.stop();
        let (link, rx) = link(self.port, self.v5, &self.names);
        self.link = link;
        self.rx = rx;
        self.wait_up();
    }

    fn keep(&mut self, bytes: &[u8]) {
        // Whatever is not a Record is not the agent's: the test fails elsewhere if it matters.
        if let Ok(record) = Record::from_bytes(bytes) {
            self.backlog.push_back(Got { seq: self.seq, record });
            self.seq += 1;
        }
    }

    /// Publishes raw bytes on the agent's topic.
    pub fn send_raw(&self, bytes: Vec<u8>) {
        let dest = self.names.agent_topic.clone();
        self.link.send(Outbound { dest, record: bytes, retain: false }).expect("publish");
    }

    /// Sends `msg` to the agent in a NoSessionContext Record.
    pub fn send_msg(&self, msg: &Msg) {
        let n = &self.names;
        self.send_raw(Record::no_session_context_msg("1.4", &n.agent, &n.ctl, msg).to_bytes());
    }

    /// Sends `msg` to the agent in a NoSessionContext Record published on `topic` (another
    /// topic than the agent's own: one of its configured subscriptions).
    pub fn send_msg_on(&self, topic: &str, msg: &Msg) {
        let n = &self.names;
        let record = Record::no_session_context_msg("1.4", &n.agent, &n.ctl, msg).to_bytes();
        let out = Outbound { dest: topic.into(), record, retain: false };
        self.link.send(out).expect("publish");
    }

    /// Sends a request without waiting; returns its msg_id.
    pub fn send_request(&mut self, req: ReqType) -> String {
        self.next_id += 1;
        let id = format!("e2e-{}", self.next_id);
        self.send_msg(&Msg::request(id.clone(), req));
        id
    }

    /// The first Record (kept or arriving within `within`) `pick` accepts; others stay kept.
    pub fn wait_for(&mut self, within: Duration, pick: impl Fn(&Record) -> bool) -> Option<Got> {
        let end = Instant::now() + within;
        loop {
            if let Some(i) = self.backlog.iter().position(|g| pick(&g.record)) {
                return self.backlog.remove(i);
            }
            let left = end.checked_duration_since(Instant::now())?;
            match self.rx.recv_timeout(left) {
                Ok(MtpEvent::Received { record, .. }) => self.keep(&record),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// [`Ctl::wait_for`] within [`WAIT`], panicking with the agent's log when nothing comes.
    pub fn expect(
        &mut self,
        what: &str,
        agent: &RunningAgent,
        pick: impl Fn(&Record) -> bool,
    ) -> Got {
        self.wait_for(WAIT, pick)
            .unwrap_or_else(|| panic!("no {what} within {WAIT:?}; agent log:\n{}", agent.log()))
    }

    /// The agent's next MQTTConnectRecord.
    pub fn connect_record(&mut self, agent: &RunningAgent) -> Got {
        let from = self.names.agent.clone();
        self.expect("MQTTConnectRecord", agent, move |r| {
            r.from_id == from && matches!(r.record_type, Some(RecordType::MqttConnect(_)))
        })
    }

    /// The response (or Error) to the request `id`.
    pub fn answer(&mut self, id: &str, agent: &RunningAgent) -> Msg {
        let got = self.expect(&format!("answer to {id}"), agent, |r| {
            r.decode_no_session_context_msg().is_ok_and(|m| m.msg_id() == Some(id))
        });
        got.record.decode_no_session_context_msg().expect("decodable")
    }

    /// Sends `req` and returns the response body; panics on an Error message.
    pub fn call(&mut self, req: ReqType, agent: &RunningAgent) -> RespType {
        let id = self.send_request(req);
        let msg = self.answer(&id, agent);
        match msg.body.and_then(|b| b.msg_body) {
            Some(MsgBody::Response(r)) => r.resp_type.expect("a response type"),
            other => panic!("{id}: not a response: {other:?}"),
        }
    }

    /// Gets `paths` and returns every value by full path; panics on an error.
    pub fn get_values(
        &mut self,
        agent: &RunningAgent,
        paths: &[&str],
    ) -> std::collections::BTreeMap<String, String> {
        let get = usp_proto::msg::Get {
            param_paths: paths.iter().map(|p| p.to_string()).collect(),
            max_depth: 0,
        };
        let RespType::GetResp(resp) = self.call(ReqType::Get(get), agent) else {
            panic!("GetResp")
        };
        let mut out = std::collections::BTreeMap::new();
        for req in resp.req_path_results {
            assert_eq!(req.err_code, 0, "get {}: {}", req.requested_path, req.err_msg);
            for res in req.resolved_path_results {
                for (k, v) in res.result_params {
                    out.insert(format!("{}{k}", res.resolved_path), v);
                }
            }
        }
        out
    }

    /// The next Notify whose notification `pick` accepts; acknowledged when it asks for it.
    pub fn notify(
        &mut self,
        what: &str,
        agent: &RunningAgent,
        pick: impl Fn(&Notification) -> bool,
    ) -> (Got, Notify) {
        let got = self.expect(what, agent, |r| {
            notify_of(r).and_then(|n| n.notification).is_some_and(|n| pick(&n))
        });
        let n = notify_of(&got.record).expect("a Notify");
        if n.send_resp {
            let id =
                got.record.decode_no_session_context_msg().unwrap().msg_id().unwrap().to_owned();
            let resp = NotifyResp { subscription_id: n.subscription_id.clone() };
            self.send_msg(&Msg::response(id, RespType::NotifyResp(resp)));
        }
        (got, n)
    }
}

/// The Notify a Record carries, if any.
pub fn notify_of(r: &Record) -> Option<Notify> {
    let msg = r.decode_no_session_context_msg().ok()?;
    match msg.body?.msg_body? {
        MsgBody::Request(req) => match req.req_type? {
            ReqType::Notify(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

impl Drop for Ctl {
    fn drop(&mut self) {
        self.link.stop();
    }
}
