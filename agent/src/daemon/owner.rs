//! The owner thread's state: the core, the running links, and what ties them together — the
//! link plan read from the data model, Connect Records when a link comes up, the routing of
//! every Record the core returns, link state written back to the data model (MQTT `Stats.`
//! counted in memory), and the `-p` protocol trace.

use std::collections::{BTreeMap, VecDeque};

use usp_areas::MqttStats;
use usp_datamodel::plugin::SystemRequest;
use usp_mtp::{ConnectInfo, MtpEvent, SendError};
use usp_proto::ErrorCode;
use usp_proto::record::Record;
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::stomp_connect_record::StompVersion;

use super::logging::TRACE_TARGET;
use super::transports::{Origin, Transports};
use super::{Clock, Exit};
use crate::links::{self, Down, TlsFiles, Traffic};
use usp_core::{
    BootInfo, ConnectKind, Core, Handled, Outgoing, TraceHook, connect_record, disconnect_record,
};

/// Everything the owner thread owns.
pub struct Owner {
    /// The message core (and through it the data model).
    pub core: Core,
    /// The clock.
    pub clock: Clock,
    transports: Transports,
    tls: TlsFiles,
    /// What the data model serves as MQTT `Stats.` (received Records, connections, errors;
    /// `Transports` counts what it sends).
    mqtt_stats: MqttStats,
    trace: bool,
    /// Notifications for controllers not reachable yet (e.g. Boot! before the MTP is up), sent
    /// when a route to them comes up; at most [`MAX_HELD`] per controller, oldest dropped.
    held: BTreeMap<String, VecDeque<Vec<u8>>>,
}

/// The most Records held per unreachable controller.
pub const MAX_HELD: usize = 64;

impl Owner {
    /// Ties `core` to the links; none runs until [`Owner::replan`].
    pub fn new(
        core: Core,
        clock: Clock,
        transports: Transports,
        tls: TlsFiles,
        mqtt_stats: MqttStats,
        trace: bool,
    ) -> Owner {
        let held = BTreeMap::new();
        let mut core = core;
        if trace {
            core.set_trace(Box::new(Trace));
        }
        let mut owner = Owner { core, clock, transports, tls, mqtt_stats, trace, held };
        owner.core.watch_config(links::CONFIG_PREFIXES);
        owner
    }

    /// Reads the link plan from the data model and makes the running links match it.
    pub fn replan(&mut self) {
        let eid = self.core.endpoint_id().to_owned();
        let plan = links::plan(self.core.dm(), &eid, &self.tls);
        for p in &plan.problems {
            log::warn!("{}: {}", p.key, p.reason);
            let _ = links::record_down(self.core.dm(), &p.key, Down::Misconfigured);
        }
        let applied = self.transports.apply(plan);
        for key in &applied.stopped {
            log::info!("{key}: link stopped");
            let _ = links::record_down(self.core.dm(), key, Down::Stopped);
        }
        for key in &applied.started {
            log::info!("{key}: link started");
            let _ = links::record_connecting(self.core.dm(), key);
        }
        for (key, why) in &applied.failed {
            log::error!("{key}: cannot start: {why}");
            let _ = links::record_down(self.core.dm(), key, Down::Misconfigured);
        }
        // Our own status writes may have marked the configuration changed; they do not change
        // the plan, so forget them.
        let _ = self.core.take_config_changed();
    }

    /// Handles one event of a link.
    pub fn on_mtp(&mut self, event: MtpEvent) {
        match event {
            MtpEvent::Up { link, peer, info } => self.on_up(link, peer, &info),
            MtpEvent::Down { link, peer, reason, retry_in } => {
                self.transports.down(link, peer.as_deref());
                let key = self.transports.key(link).unwrap_or("?").to_owned();
                match peer.filter(|_| self.transports.is_server(link)) {
                    Some(p) => log::info!("{key}: session of {p} closed: {reason}"),
                    None => {
                        log::warn!("{key}: down: {reason} (retry in {retry_in:?})");
                        let down = Down::from_retry(retry_in);
                        links::count_down(&self.mqtt_stats, &key, down);
                        let _ = links::record_down(self.core.dm(), &key, down);
                    }
                }
            }
            MtpEvent::Received { link, peer, reply_to, record } => {
                let origin = Origin { link, peer, reply_to };
                self.on_record(&origin, &record);
            }
            MtpEvent::Subscribed { link, subscribed } => {
                let key = self.transports.key(link).unwrap_or("?").to_owned();
                let _ = links::record_subscribed(self.core.dm(), &key, &subscribed);
            }
        }
        self.after();
    }

    fn on_up(&mut self, link: usp_mtp::LinkId, peer: Option<String>, info: &ConnectInfo) {
        let key = self.transports.key(link).unwrap_or("?").to_owned();
        if self.transports.is_server(link) {
            log::info!("{key}: session of {} open", peer.as_deref().unwrap_or("?"));
        } else {
            log::info!("{key}: up");
            links::count_up(&self.mqtt_stats, &key, info, self.clock.wall());
            let _ = links::record_up(self.core.dm(), &key, info);
        }
        let kind = match info {
            ConnectInfo::Mqtt { v5, subscribed_topic, .. } => ConnectKind::Mqtt {
                version: if *v5 { MqttVersion::V5 } else { MqttVersion::V311 },
                subscribed_topic: subscribed_topic.clone(),
            },
            ConnectInfo::Stomp { subscribed_destination, .. } => ConnectKind::Stomp {
                version: StompVersion::V12,
                subscribed_destination: subscribed_destination.clone(),
            },
            ConnectInfo::WebSocket => ConnectKind::WebSocket,
        };
        let eid = self.core.endpoint_id().to_owned();
        for (controller, dest) in self.transports.up(link, peer.as_deref(), info) {
            let record = connect_record(kind.clone(), &controller, &eid);
            self.trace("sent", &controller, &record);
            let origin = Origin { link, peer: peer.clone(), reply_to: Some(dest) };
            if let Err(e) = self.transports.reply(&origin, &controller, record.to_bytes()) {
                log::warn!("{key}: Connect Record to {controller} not sent: {e}");
            }
            self.release_held(&controller);
        }
    }

    /// Sends what was held for `controller` while it could not be reached.
    fn release_held(&mut self, controller: &str) {
        let Some(queue) = self.held.remove(controller) else { return };
        log::info!("{controller}: sending {} held notification(s)", queue.len());
        for bytes in queue {
            if let Err(e) = self.transports.notify(controller, bytes) {
                log::warn!("held Record to {controller} not sent: {e}");
            }
        }
    }

    /// Sends the Boot! notifications (once, at start; held until each controller is reached).
    pub fn boot(&mut self, info: BootInfo) {
        let out = self.core.boot(self.clock.now(), info);
        self.dispatch(out, None);
        self.after();
    }

    fn on_record(&mut self, origin: &Origin, bytes: &[u8]) {
        let now = self.clock.now();
        let key = self.transports.key(origin.link).unwrap_or("?");
        links::count_traffic(&self.mqtt_stats, key, Traffic::Received, now.wall);
        match self.core.handle_record(now, bytes) {
            Handled::Record(out) => self.dispatch(out, Some(origin)),
            Handled::NotARecord if self.transports.is_websocket(origin.link) => {
                log::warn!("{key}: unparseable Record ({} bytes); session closed", bytes.len());
                self.transports.close_unparseable(origin);
            }
            Handled::NotARecord => {}
        }
    }

    /// Sends what the core returned: answers back where the request came from, the rest to
    /// each controller's best route.
    pub fn dispatch(&mut self, out: Vec<Outgoing>, origin: Option<&Origin>) {
        for o in out {
            self.trace("sent", &o.to, &o.record);
            let bytes = o.record.to_bytes();
            let sent = match (o.in_reply, origin) {
                (true, Some(origin)) => self.transports.reply(origin, &o.to, bytes),
                _ => match self.transports.notify(&o.to, bytes.clone()) {
                    Err(SendError::NotConnected) => {
                        self.hold(&o.to, bytes);
                        Ok(())
                    }
                    other => other,
                },
            };
            if let Err(e) = sent {
                log::warn!("Record to {} not sent: {e}", o.to);
            }
        }
    }

    /// Keeps a notification until `to` can be reached.
    fn hold(&mut self, to: &str, bytes: Vec<u8>) {
        let queue = self.held.entry(to.to_owned()).or_default();
        if queue.len() >= MAX_HELD {
            queue.pop_front();
            log::warn!("{to}: too many notifications held; the oldest was dropped");
        }
        log::info!("{to} cannot be reached now; notification held");
        queue.push_back(bytes);
    }

    /// Runs the core's timers and sends what they produced.
    pub fn on_timeout(&mut self) {
        let out = self.core.handle_timeout(self.clock.now());
        self.dispatch(out, None);
        self.after();
    }

    /// After every input: re-plan when the configuration changed.
    pub fn after(&mut self) {
        if self.core.take_config_changed() {
            self.replan();
        }
    }

    /// Carries out the core's system requests; `Some` when the daemon must end.
    pub fn system_requests(&mut self) -> Option<Exit> {
        let mut exit = None;
        for request in self.core.take_system_requests() {
            match request {
                SystemRequest::Reboot { cause, reason } => {
                    log::warn!("reboot requested ({cause}: {reason})");
                    exit = Some(Exit::Restart);
                }
                SystemRequest::FactoryReset { cause, reason } => {
                    log::warn!("factory reset requested ({cause}: {reason})");
                    exit = Some(Exit::FactoryReset);
                }
                SystemRequest::Reconnect { link } => {
                    log::info!("{link}: reconnect requested");
                    if self.transports.reconnect(&link) {
                        let _ = links::record_connecting(self.core.dm(), &link);
                    }
                }
            }
        }
        exit
    }

    /// Says goodbye to every reachable controller, stops the links and persists.
    pub fn shutdown(&mut self, reason: &str) {
        let eid = self.core.endpoint_id().to_owned();
        for controller in self.transports.reachable() {
            // No error: a clean shutdown (the reason code is optional, 0 means none).
            let record = disconnect_record(&controller, &eid, reason, ErrorCode::Other(0));
            self.trace("sent", &controller, &record);
            let _ = self.transports.notify(&controller, record.to_bytes());
        }
        for key in self.transports.stop_all() {
            let _ = links::record_down(self.core.dm(), &key, Down::Stopped);
        }
        if let Err(e) = self.core.dm().flush() {
            log::error!("cannot persist the data model at shutdown: {e}");
        }
    }

    fn trace(&self, what: &str, peer: &str, record: &Record) {
        if !self.trace {
            return;
        }
        match record.decode_no_session_context_msg() {
            Ok(msg) => log::info!(target: TRACE_TARGET, "{what} {peer}: {msg:?}"),
            Err(_) => log::info!(target: TRACE_TARGET, "{what} {peer}: {record:?}"),
        }
    }
}

/// The `-p` trace of received Records, shown them by the core once decoded.
struct Trace;

impl TraceHook for Trace {
    fn received(&mut self, record: &Record, msg: Option<&usp_proto::msg::Msg>) {
        let peer = &record.from_id;
        match msg {
            Some(msg) => log::info!(target: TRACE_TARGET, "received {peer}: {msg:?}"),
            None => log::info!(target: TRACE_TARGET, "received {peer}: {record:?}"),
        }
    }
}
