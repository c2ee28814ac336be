//! The owner thread's state: the core, the running links, and the routing between them. A thin
//! router: the core owns the protocol state (Connect and Disconnect Records, notifications held
//! for unreachable controllers) and this module carries Records between it and the links,
//! re-plans the links when their configuration changes, writes link state through
//! [`Core::with_links`] (MQTT `Stats.` counted in memory), and traces the protocol (`-p`).

use usp_areas::MqttStats;
use usp_datamodel::plugin::SystemRequest;
use usp_mtp::{ConnectInfo, MtpEvent, SendError};
use usp_proto::record::Record;
use usp_proto::record::mqtt_connect_record::MqttVersion;
use usp_proto::record::stomp_connect_record::StompVersion;

use super::logging::TRACE_TARGET;
use super::transports::{Origin, Transports};
use super::{Clock, Exit};
use crate::links::{self, Down, TlsFiles, Traffic};
use usp_core::{BootInfo, ConnectKind, Core, Handled, LinkUp, Outgoing, TraceHook};

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
}

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
        let mut core = core;
        if trace {
            core.set_trace(Box::new(Trace));
        }
        let mut owner = Owner { core, clock, transports, tls, mqtt_stats, trace };
        owner.core.watch_config(links::CONFIG_PREFIXES);
        owner
    }

    /// Reads the link plan from the data model and makes the running links match it.
    pub fn replan(&mut self) {
        let eid = self.core.endpoint_id().to_owned();
        let tls = &self.tls;
        let (plan, out) = self.core.with_links(self.clock.now(), |dm| {
            let plan = links::plan(dm, &eid, tls);
            for p in &plan.problems {
                log::warn!("{}: {}", p.key, p.reason);
                let _ = links::record_down(dm, &p.key, Down::Misconfigured);
            }
            plan
        });
        self.dispatch(out, None);
        let applied = self.transports.apply(plan);
        let (_, out) = self.core.with_links(self.clock.now(), |dm| {
            for key in &applied.stopped {
                log::info!("{key}: link stopped");
                let _ = links::record_down(dm, key, Down::Stopped);
            }
            for key in &applied.started {
                log::info!("{key}: link started");
                let _ = links::record_connecting(dm, key);
            }
            for (key, why) in &applied.failed {
                log::error!("{key}: cannot start: {why}");
                let _ = links::record_down(dm, key, Down::Misconfigured);
            }
        });
        self.dispatch(out, None);
        // A change made while re-planning is already in this plan.
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
                        self.record(|dm| links::record_down(dm, &key, down));
                    }
                }
            }
            MtpEvent::Received { link, peer, reply_to, record } => {
                let origin = Origin { link, peer, reply_to };
                self.on_record(&origin, &record);
            }
            MtpEvent::Subscribed { link, subscribed } => {
                let key = self.transports.key(link).unwrap_or("?").to_owned();
                self.record(|dm| links::record_subscribed(dm, &key, &subscribed));
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
            self.record(|dm| links::record_up(dm, &key, info));
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
        let reached = self.transports.up(link, peer.as_deref(), info);
        let controllers = reached.iter().map(|(c, _)| c.clone()).collect();
        for o in self.core.link_up(self.clock.now(), LinkUp { controllers, kind }) {
            self.trace("sent", &o.to, &o.record);
            let bytes = o.record.to_bytes();
            if o.in_reply {
                // The Connect Record, on this link, to the controller's destination there.
                let dest = reached.iter().find(|(c, _)| *c == o.to).map(|(_, d)| d.clone());
                let origin = Origin { link, peer: peer.clone(), reply_to: dest };
                if let Err(e) = self.transports.reply(&origin, &o.to, bytes) {
                    log::warn!("{key}: Connect Record to {} not sent: {e}", o.to);
                }
            } else if let Err(e) = self.transports.notify(&o.to, bytes) {
                log::warn!("held Record to {} not sent: {e}", o.to);
            }
        }
    }

    /// Writes link state with `f` (one of the `links::record_*`) and sends the notifications
    /// it causes.
    fn record(
        &mut self,
        f: impl FnOnce(&mut usp_datamodel::DataModel) -> Result<(), links::RecordError>,
    ) {
        let (result, out) = self.core.with_links(self.clock.now(), f);
        if let Err(e) = result {
            log::error!("{e}");
        }
        self.dispatch(out, None);
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
        match self.core.handle_record_from(now, bytes, origin.peer.as_deref()) {
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
                _ => self.transports.notify(&o.to, bytes),
            };
            match sent {
                Ok(()) => {}
                Err(SendError::NotConnected) if !(o.in_reply && origin.is_some()) => {
                    self.core.undeliverable(o);
                }
                Err(e) => log::warn!("Record to {} not sent: {e}", o.to),
            }
        }
    }

    /// Lets the plugins take what their backend workers delivered, and sends what that produced
    /// (ValueChange, ObjectCreation, OperationComplete notifications).
    pub fn on_wake(&mut self) {
        let out = self.core.handle_wake(self.clock.now());
        self.dispatch(out, None);
        self.after();
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
                SystemRequest::Reboot { cause, reason, .. } => {
                    log::warn!("reboot requested ({cause}: {reason})");
                    exit = Some(Exit::Restart);
                }
                SystemRequest::FactoryReset { cause, reason } => {
                    log::warn!("factory reset requested ({cause}: {reason})");
                    exit = Some(Exit::FactoryReset);
                }
                SystemRequest::Publish { client, topic, qos, retain, content_type, payload } => {
                    let data = usp_mtp::DataPublish { topic, payload, content_type, qos, retain };
                    if let Err(e) = self.transports.publish_data(&client, data) {
                        log::warn!("{client}: bulk data report not published: {e}");
                    }
                }
                SystemRequest::Reconnect { link } => {
                    log::info!("{link}: reconnect requested");
                    if self.transports.reconnect(&link) {
                        self.record(|dm| links::record_connecting(dm, &link));
                    }
                }
            }
        }
        exit
    }

    /// Says goodbye to every reachable controller, stops the links and persists.
    pub fn shutdown(&mut self, reason: &str) {
        for o in self.core.shutdown(self.transports.reachable(), reason) {
            self.trace("sent", &o.to, &o.record);
            let _ = self.transports.notify(&o.to, o.record.to_bytes());
        }
        let stopped = self.transports.stop_all();
        let (_, out) = self.core.with_links(self.clock.now(), |dm| {
            for key in &stopped {
                let _ = links::record_down(dm, key, Down::Stopped);
            }
        });
        // The links are stopped: what the last writes caused cannot be sent.
        drop(out);
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
