//! The running MTP links: started, restarted and stopped from [`LinkPlan`]s, and the routing of
//! Records onto them.
//!
//! Routing rules:
//! - An answer (`Outgoing::in_reply`) goes back on the link the request came in on: to the
//!   received reply-to (MQTT Response Topic, STOMP `reply-to-dest`), to the same WebSocket
//!   session, else to the controller's configured destination on that link.
//! - A notification goes to the first route of its controller whose link is up (routes are in
//!   `Order`, then the agent's WebSocket servers, where it is sent only if that controller has
//!   a session open).
//! - A Record for a controller that cannot be reached now is dropped with a log line; Notify
//!   retries (NotifRetry) are the core's business and are timer driven.
//!
//! Never touches the data model (the owner records link state with `crate::links::record_*`)
//! and never blocks: `Link::send` only queues. Counts every Record it hands to an MQTT link (or
//! fails to) into the in-memory `Stats.` counters (`crate::links::count_traffic`).

use std::collections::{BTreeMap, BTreeSet};

use usp_areas::MqttStats;
use usp_mtp::{ConnectInfo, EventSink, Link, LinkId, Outbound, SendError};

use super::Clock;
use crate::links::{self, LinkKind, LinkPlan, LinkSpec, Route, Traffic};

/// A link that runs, with what is known of its state.
struct Running {
    spec: LinkSpec,
    link: Box<dyn Link>,
    up: bool,
    /// The Endpoint IDs with an open session (WebSocket servers).
    peers: BTreeSet<String>,
}

/// What [`Transports::apply`] changed, for the data model's Status values.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Keys of the links started (Status `Connecting`).
    pub started: Vec<String>,
    /// Keys of the links stopped (Status `Down`/`Disabled`), restarted ones included.
    pub stopped: Vec<String>,
    /// Links that could not start (e.g. a WebSocket server port in use), with the reason.
    pub failed: Vec<(String, String)>,
}

/// Where a Record came from, to answer on the same path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The link.
    pub link: LinkId,
    /// The WebSocket session's peer.
    pub peer: Option<String>,
    /// The reply-to the MTP carried.
    pub reply_to: Option<String>,
}

/// The links of the daemon.
pub struct Transports {
    sink: EventSink,
    next_id: LinkId,
    running: BTreeMap<LinkId, Running>,
    routes: BTreeMap<String, Vec<Route>>,
    stats: MqttStats,
    clock: Clock,
}

impl Transports {
    /// No links yet; links will report through `sink`; what is sent is counted into `stats`
    /// with the time of `clock`.
    pub fn new(sink: EventSink, stats: MqttStats, clock: Clock) -> Transports {
        let (running, routes) = (BTreeMap::new(), BTreeMap::new());
        Transports { sink, next_id: 1, running, routes, stats, clock }
    }

    /// Makes the running links those of `plan`: links whose spec is unchanged keep running (and
    /// their sessions), an MQTT link whose subscriptions alone changed takes them in place
    /// ([`Link::set_subscriptions`]) unless it cannot, other changed ones are restarted, removed
    /// ones stopped.
    pub fn apply(&mut self, plan: LinkPlan) -> Applied {
        let mut applied = Applied::default();
        let wanted: BTreeMap<&str, &LinkSpec> =
            plan.links.iter().map(|l| (l.key.as_str(), l)).collect();
        let stale: Vec<LinkId> = self
            .running
            .iter()
            .filter(|(_, r)| wanted.get(r.spec.key.as_str()) != Some(&&r.spec))
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(r) = self.running.get_mut(&id) {
                let new = wanted.get(r.spec.key.as_str()).copied();
                if new.is_some_and(|new| resubscribed(r, new)) {
                    continue;
                }
            }
            if let Some(mut r) = self.running.remove(&id) {
                r.link.stop();
                applied.stopped.push(r.spec.key);
            }
        }
        for spec in &plan.links {
            if self.running.values().any(|r| r.spec.key == spec.key) {
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            match spawn(id, spec, self.sink.clone()) {
                Ok(link) => {
                    let peers = BTreeSet::new();
                    self.running.insert(id, Running { spec: spec.clone(), link, up: false, peers });
                    applied.started.push(spec.key.clone());
                }
                Err(e) => applied.failed.push((spec.key.clone(), e)),
            }
        }
        self.routes = plan.routes;
        applied
    }

    /// The data-model key of a link.
    pub fn key(&self, link: LinkId) -> Option<&str> {
        self.running.get(&link).map(|r| r.spec.key.as_str())
    }

    /// A link (or a WebSocket session) came up. Returns where to send a Connect Record:
    /// `(controller, destination)`.
    pub fn up(
        &mut self,
        link: LinkId,
        peer: Option<&str>,
        info: &ConnectInfo,
    ) -> Vec<(String, String)> {
        let Some(r) = self.running.get_mut(&link) else { return Vec::new() };
        r.spec.learn(info);
        if is_server(&r.spec) {
            let Some(peer) = peer else { return Vec::new() };
            r.peers.insert(peer.to_owned());
            return vec![(peer.to_owned(), peer.to_owned())];
        }
        r.up = true;
        let key = r.spec.key.clone();
        if let Some(c) = ws_client_controller(&r.spec) {
            return vec![(c.to_owned(), String::new())];
        }
        let mut to = Vec::new();
        for (eid, routes) in &self.routes {
            if let Some(route) = routes.iter().find(|x| x.link == key) {
                to.push((eid.clone(), route.dest.clone()));
            }
        }
        to
    }

    /// A link (or a WebSocket session) went down.
    pub fn down(&mut self, link: LinkId, peer: Option<&str>) {
        if let Some(r) = self.running.get_mut(&link) {
            if !is_server(&r.spec) {
                r.up = false;
            } else if let Some(p) = peer {
                r.peers.remove(p);
            }
        }
    }

    /// Sends the answer to a Record received from `origin`, addressed to the controller `to`.
    pub fn reply(&self, origin: &Origin, to: &str, record: Vec<u8>) -> Result<(), SendError> {
        let r = self.running.get(&origin.link).ok_or(SendError::Stopped)?;
        let route = self.routes.get(to).and_then(|rs| rs.iter().find(|x| x.link == r.spec.key));
        let dest = match (&origin.peer, &origin.reply_to, route) {
            (Some(peer), _, _) => peer.clone(),
            (None, Some(reply_to), _) => reply_to.clone(),
            (None, None, Some(route)) => route.dest.clone(),
            (None, None, None) if ws_client_controller(&r.spec).is_some() => String::new(),
            (None, None, None) => return Err(SendError::NotConnected),
        };
        let retain = route.is_some_and(|x| x.retain_response);
        let sent = r.link.send(Outbound { dest, record, retain });
        self.count(&r.spec.key, &sent);
        sent
    }

    /// Sends an agent-originated Record (a notification) to the controller `to` on the first of
    /// its routes that is up.
    pub fn notify(&self, to: &str, record: Vec<u8>) -> Result<(), SendError> {
        let routes = self.routes.get(to).ok_or(SendError::NotConnected)?;
        for route in routes {
            let Some(r) = self.running.values().find(|r| r.spec.key == route.link) else {
                continue;
            };
            let reachable = if is_server(&r.spec) { r.peers.contains(to) } else { r.up };
            if reachable {
                let out =
                    Outbound { dest: route.dest.clone(), record, retain: route.retain_notify };
                let sent = r.link.send(out);
                self.count(&r.spec.key, &sent);
                return sent;
            }
        }
        Err(SendError::NotConnected)
    }

    /// Publishes a Bulk Data report on the running link whose data-model key is `key`
    /// (`Device.MQTT.Client.1.`); `NotConnected` when no such link runs or it is down.
    pub fn publish_data(&self, key: &str, data: usp_mtp::DataPublish) -> Result<(), SendError> {
        let r = self.running.values().find(|r| r.spec.key == key && r.up);
        let sent = r.ok_or(SendError::NotConnected)?.link.publish_data(data);
        self.count(key, &sent);
        sent
    }

    /// Counts a Record handed (or not) to the link `key`.
    fn count(&self, key: &str, sent: &Result<(), SendError>) {
        let traffic = if sent.is_ok() { Traffic::Sent } else { Traffic::SendFailed };
        links::count_traffic(&self.stats, key, traffic, self.clock.wall());
    }

    /// Closes a WebSocket session that sent an unparseable Record (R-WS.16, close code 1003).
    pub fn close_unparseable(&self, origin: &Origin) {
        if let Some(r) = self.running.get(&origin.link) {
            r.link.close_unparseable(origin.peer.as_deref());
        }
    }

    /// Whether a link is a WebSocket server (its events are about sessions, not the link).
    pub fn is_server(&self, link: LinkId) -> bool {
        self.running.get(&link).is_some_and(|r| is_server(&r.spec))
    }

    /// Whether a link is a WebSocket one (Records that do not parse close the session).
    pub fn is_websocket(&self, link: LinkId) -> bool {
        self.running
            .get(&link)
            .is_some_and(|r| is_server(&r.spec) || ws_client_controller(&r.spec).is_some())
    }

    /// Restarts the link with this data-model key (ForceReconnect(), WebSocket Reset()).
    pub fn reconnect(&mut self, key: &str) -> bool {
        let Some(id) = self.running.iter().find(|(_, r)| r.spec.key == key).map(|(id, _)| *id)
        else {
            return false;
        };
        let Some(mut r) = self.running.remove(&id) else { return false };
        r.link.stop();
        let new_id = self.next_id;
        self.next_id += 1;
        match spawn(new_id, &r.spec, self.sink.clone()) {
            Ok(link) => {
                self.running
                    .insert(new_id, Running { link, up: false, peers: BTreeSet::new(), ..r });
                true
            }
            Err(e) => {
                log::error!("{key}: cannot restart: {e}");
                false
            }
        }
    }

    /// Stops every link (politely: MQTT DISCONNECT, STOMP DISCONNECT, WebSocket Close).
    pub fn stop_all(&mut self) -> Vec<String> {
        let mut keys = Vec::new();
        for (_, mut r) in std::mem::take(&mut self.running) {
            r.link.stop();
            keys.push(r.spec.key);
        }
        keys
    }

    /// The controllers currently reachable (for Disconnect Records at shutdown).
    pub fn reachable(&self) -> Vec<String> {
        self.routes
            .keys()
            .filter(|eid| {
                self.routes[*eid].iter().any(|route| {
                    self.running.values().any(|r| {
                        r.spec.key == route.link
                            && if is_server(&r.spec) { r.peers.contains(*eid) } else { r.up }
                    })
                })
            })
            .cloned()
            .collect()
    }
}

/// Gives `r` the subscriptions of `new` in place when they are all that changed; `false` when
/// something else changed or the link cannot (it is restarted then).
fn resubscribed(r: &mut Running, new: &LinkSpec) -> bool {
    let Some(subscriptions) = subscriptions_only(&r.spec, new) else { return false };
    if r.link.set_subscriptions(subscriptions).is_err() {
        log::info!("{}: the subscription change needs a reconnection", r.spec.key);
        return false;
    }
    log::info!("{}: subscriptions changed without reconnecting", r.spec.key);
    // Irrefutable in a build with MQTT as the only MTP.
    #[cfg(feature = "mqtt")]
    #[allow(irrefutable_let_patterns)]
    if let LinkKind::Mqtt(c) = &mut r.spec.kind {
        c.subscriptions = subscriptions.to_vec();
    }
    true
}

/// The new subscriptions when they are the only difference between two MQTT link specs.
fn subscriptions_only<'a>(old: &LinkSpec, new: &'a LinkSpec) -> Option<&'a [(String, u8)]> {
    let same_link = old.key == new.key && old.agent_mtp == new.agent_mtp;
    match (&old.kind, &new.kind) {
        #[cfg(feature = "mqtt")]
        (LinkKind::Mqtt(a), LinkKind::Mqtt(b)) if same_link => {
            let rest = |c: &usp_mtp::mqtt::MqttConfig| usp_mtp::mqtt::MqttConfig {
                subscriptions: Vec::new(),
                ..c.clone()
            };
            (rest(a) == rest(b)).then_some(b.subscriptions.as_slice())
        }
        _ => {
            let _ = same_link;
            None
        }
    }
}

/// The controller of a WebSocket client link.
fn ws_client_controller(spec: &LinkSpec) -> Option<&str> {
    match &spec.kind {
        #[cfg(feature = "websocket")]
        LinkKind::WsClient { controller, .. } => Some(controller),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn is_server(spec: &LinkSpec) -> bool {
    match &spec.kind {
        #[cfg(feature = "websocket")]
        LinkKind::WsServer(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// Starts the link of `spec`.
fn spawn(id: LinkId, spec: &LinkSpec, sink: EventSink) -> Result<Box<dyn Link>, String> {
    match &spec.kind {
        #[cfg(feature = "mqtt")]
        LinkKind::Mqtt(c) => Ok(Box::new(usp_mtp::mqtt::spawn(id, c.clone(), sink))),
        #[cfg(feature = "stomp")]
        LinkKind::Stomp(c) => Ok(Box::new(usp_mtp::stomp::spawn(id, c.clone(), sink))),
        #[cfg(feature = "websocket")]
        LinkKind::WsClient { config, .. } => {
            Ok(Box::new(usp_mtp::ws::spawn_client(id, config.clone(), sink)))
        }
        #[cfg(feature = "websocket")]
        LinkKind::WsServer(c) => usp_mtp::ws::spawn_server(id, c.clone(), sink)
            .map(|l| Box::new(l) as Box<dyn Link>)
            .map_err(|e| e.to_string()),
        #[allow(unreachable_patterns)]
        _ => {
            let _ = (id, sink);
            Err("this MTP is not built in".into())
        }
    }
}

#[cfg(all(test, feature = "mqtt", feature = "tls"))]
mod tests {
    use super::*;
    use usp_mtp::mqtt::MqttConfig;

    fn mqtt(key: &str, subscriptions: &[(&str, u8)]) -> LinkSpec {
        let config = MqttConfig {
            endpoint_id: "proto::a".into(),
            host: "127.0.0.1".into(),
            port: 1883,
            v5: true,
            client_id: "a".into(),
            username: String::new(),
            password: String::new(),
            keep_alive: std::time::Duration::from_secs(60),
            clean_start: true,
            request_response_info: true,
            subscriptions: subscriptions.iter().map(|(f, q)| (f.to_string(), *q)).collect(),
            response_topic: "own".into(),
            publish_qos: 1,
            retry: usp_mtp::retry::RetryPolicy {
                min_wait_secs: 5,
                multiplier_permille: 2000,
                max_wait_secs: 60,
            },
            tls: None,
            max_record: 1024,
            extended: Default::default(),
        };
        LinkSpec { key: key.into(), agent_mtp: None, kind: LinkKind::Mqtt(config) }
    }

    #[test]
    fn only_a_subscription_change_is_taken_in_place() {
        let old = mqtt("Device.MQTT.Client.1.", &[("a", 0)]);
        let new = mqtt("Device.MQTT.Client.1.", &[("a", 0), ("b", 1)]);
        assert_eq!(subscriptions_only(&old, &new), Some(&new_subs(&new)[..]));
        let mut other = new.clone();
        if let LinkKind::Mqtt(c) = &mut other.kind {
            c.keep_alive = std::time::Duration::from_secs(30);
        }
        assert_eq!(subscriptions_only(&old, &other), None, "KeepAliveTime changed too");
        let moved = LinkSpec { agent_mtp: Some("Device.LocalAgent.MTP.1.".into()), ..new.clone() };
        assert_eq!(subscriptions_only(&old, &moved), None, "another agent MTP");
    }

    fn new_subs(spec: &LinkSpec) -> Vec<(String, u8)> {
        match &spec.kind {
            LinkKind::Mqtt(c) => c.subscriptions.clone(),
            #[allow(unreachable_patterns)]
            _ => Vec::new(),
        }
    }
}
