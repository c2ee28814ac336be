//! The link thread: connect, subscribe, report, receive, and reconnect with back-off, one
//! connection at a time, until the owner stops the link or R-MQTT.16 disables it.
//!
//! Owns the order of a connection's life (CONNACK → plan → SUBSCRIBE → SUBACK → Up → Records,
//! and the answers to subscription changes made while up) and the reporting to the owner. Never
//! builds packets itself (`client.rs`, `requests.rs`) nor decides topics (`topics.rs`,
//! `live.rs`).

use std::time::Duration;

use super::conn::{self, Conn};
use super::events::{Ev, Incoming};
use super::live::Live;
use super::requests::Handle;
use super::topics::{self, PlanError};
use super::{MqttConfig, Shared};
use crate::retry::{self, Backoff};
use crate::{ConnectInfo, EventSink, LinkId, MtpEvent};

/// Records that arrive between CONNACK and SUBACK (a persistent session's backlog) are held
/// until Up, at most this many.
const EARLY_RECORDS: usize = 1000;

/// How one connection ended.
enum Outcome {
    /// The owner stopped the link.
    Stopped,
    /// A protocol rule disabled the MTP (R-MQTT.16): no retry.
    Disabled(String),
    /// Anything else: retry after the back-off.
    Failed(String),
}

/// Ends the link: the thread's state says so even if the thread panics.
struct Finished<'a>(&'a Shared);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.finished = true;
        st.clear_connection();
    }
}

/// The body of the link thread.
pub(super) fn run(id: LinkId, cfg: &MqttConfig, sink: &EventSink, shared: &Shared) {
    let _finished = Finished(shared);
    let mut backoff = Backoff::new(cfg.retry, retry::seed() ^ u64::from(id));
    // R-MQTT.8: the configured ClientId, else empty (v5) or the Endpoint ID (3.1.1).
    let mut client_id = if !cfg.client_id.is_empty() || cfg.v5 {
        cfg.client_id.clone()
    } else {
        cfg.endpoint_id.clone()
    };
    loop {
        let outcome = session(id, cfg, sink, shared, &mut client_id, &mut backoff);
        shared.lock().clear_connection();
        let reason = match outcome {
            Outcome::Stopped => return,
            Outcome::Disabled(reason) => {
                log::error!("MQTT link {id}: {reason}; the MTP is disabled");
                // Before the event: whoever reacts to it finds `send` answering `Stopped`.
                shared.lock().finished = true;
                sink(MtpEvent::Down { link: id, peer: None, reason, retry_in: None });
                return;
            }
            Outcome::Failed(reason) => reason,
        };
        if shared.lock().stopping {
            return;
        }
        let delay = backoff.next_delay();
        log::warn!(
            "MQTT link {id} ({}:{}): {reason}; retry {} in {:.1} s",
            cfg.host,
            cfg.port,
            backoff.attempts(),
            delay.as_secs_f64()
        );
        sink(MtpEvent::Down { link: id, peer: None, reason, retry_in: Some(delay) });
        if sleep_unless_stopped(shared, delay) {
            return;
        }
    }
}

/// Waits `delay`; `true` when the owner stopped the link meanwhile.
fn sleep_unless_stopped(shared: &Shared, delay: Duration) -> bool {
    let st = shared.lock();
    let (st, _) = shared
        .wake
        .wait_timeout_while(st, delay, |st| !st.stopping)
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    st.stopping
}

/// One connection, from CONNECT to its end.
fn session(
    id: LinkId,
    cfg: &MqttConfig,
    sink: &EventSink,
    shared: &Shared,
    client_id: &mut String,
    backoff: &mut Backoff,
) -> Outcome {
    let (handle, mut conn, assigned, connack) = match connect(cfg, shared, client_id) {
        Ok(c) => c,
        Err(outcome) => return outcome,
    };
    if let Some(a) = assigned.as_ref().filter(|_| client_id.is_empty()) {
        // R-MQTT.11: the same ClientId on every later connection of this link.
        log::info!("MQTT link {id}: the broker assigned ClientId {a:?}");
        client_id.clone_from(a);
    }
    let subscribed = match subscribe(id, cfg, shared, &handle, &mut conn, &connack) {
        Ok(s) => s,
        Err(outcome) => return outcome,
    };
    let own = subscribed.plan.own.clone();
    let info = ConnectInfo::Mqtt {
        v5: cfg.v5,
        subscribed_topic: own.clone(),
        assigned_client_id: assigned,
        response_information: connack.response_information.clone().filter(|_| cfg.v5),
        subscribed: subscribed.granted.clone(),
    };
    if let Err(outcome) = go_live(cfg, shared, &handle, connack, &subscribed) {
        disconnect(&handle, &mut conn);
        return outcome;
    }
    backoff.reset();
    log::info!("MQTT link {id}: up on {}:{}, own topic {own:?}", cfg.host, cfg.port);
    sink(MtpEvent::Up { link: id, peer: None, info });
    for p in subscribed.early {
        deliver(id, cfg, sink, p);
    }
    receive(id, cfg, sink, shared, &handle, &mut conn)
}

/// A connection up to its CONNACK: the handles, the Assigned Client Identifier, the CONNACK.
type Connected = (Handle, Conn, Option<String>, topics::Connack);

/// What the first SUBSCRIBE of a connection did.
struct Subscribed {
    /// The configured subscriptions it was planned from.
    configured: Vec<(String, u8)>,
    /// Its plan.
    plan: topics::Plan,
    /// The filters granted, in order.
    granted: Vec<String>,
    /// The Records that came before the SUBACK.
    early: Vec<Incoming>,
}

/// Makes the subscribed connection the one `send` publishes on and set_subscriptions changes,
/// applying a change the owner made while it was being subscribed.
fn go_live(
    cfg: &MqttConfig,
    shared: &Shared,
    handle: &Handle,
    connack: topics::Connack,
    s: &Subscribed,
) -> Result<(), Outcome> {
    let mut st = shared.lock();
    if st.stopping {
        return Err(Outcome::Stopped);
    }
    let mut live = Live::new(cfg, connack, s.plan.clone(), s.granted.clone());
    if st.configured != s.configured {
        live.change(handle, &st.configured)
            .map_err(|_| Outcome::Failed("the subscriptions changed while connecting".into()))?;
    }
    st.live = Some(live);
    st.reply_to = Some(s.plan.own.clone());
    Ok(())
}

/// CONNECT and CONNACK; the connection is made the current one (so a stop can reach it).
fn connect(cfg: &MqttConfig, shared: &Shared, client_id: &str) -> Result<Connected, Outcome> {
    let (handle, mut conn) = conn::open(cfg, client_id).map_err(Outcome::Failed)?;
    {
        let mut st = shared.lock();
        if st.stopping {
            return Err(Outcome::Stopped);
        }
        st.current = Some(handle.clone());
    }
    let (assigned, connack) = loop {
        match conn.next() {
            Ok(Ev::ConnAck { assigned, connack }) => break (assigned, connack),
            Ok(_) => {}
            Err(e) => return Err(ended(shared, format!("connect: {e}"))),
        }
    };
    if shared.lock().stopping {
        disconnect(&handle, &mut conn);
        return Err(Outcome::Stopped);
    }
    Ok((handle, conn, assigned, connack))
}

/// SUBSCRIBE per R-MQTT.15 (the configured subscriptions as the owner last set them) and SUBACK
/// per R-MQTT.16/17.
fn subscribe(
    id: LinkId,
    cfg: &MqttConfig,
    shared: &Shared,
    handle: &Handle,
    conn: &mut Conn,
    connack: &topics::Connack,
) -> Result<Subscribed, Outcome> {
    let qos = cfg.publish_qos.min(1);
    let configured = shared.lock().configured.clone();
    let plan =
        topics::plan(cfg.v5, &configured, connack, &cfg.response_topic, qos).map_err(|e| {
            disconnect(handle, conn);
            Outcome::Disabled(match e {
                PlanError::NoTopics => "no topic to subscribe to".into(),
                PlanError::NoReplyTopic => {
                    "no exact topic to give as reply-to (set ResponseTopicConfigured)".into()
                }
            })
        })?;
    handle.subscribe(&plan.filters).map_err(|e| ended(shared, e))?;
    let mut early = Vec::new();
    let granted = loop {
        match conn.next() {
            Ok(Ev::SubAck(g)) => break g,
            Ok(Ev::Publish(p)) if early.len() < EARLY_RECORDS => early.push(p),
            Ok(Ev::Publish(_)) => log::warn!("MQTT link {id}: dropped a Record before SUBACK"),
            Ok(_) => {}
            Err(e) => return Err(ended(shared, format!("subscribe: {e}"))),
        }
        if shared.lock().stopping {
            return Err(Outcome::Stopped);
        }
    };
    let granted = check_suback(id, &plan, &granted).map_err(|reason| {
        // R-MQTT.17: nothing is published; disconnect (and retry).
        disconnect(handle, conn);
        Outcome::Failed(reason)
    })?;
    Ok(Subscribed { configured, plan, granted, early })
}

/// The connected loop: Records in and the answers to subscription changes, until the
/// connection ends or the owner stops the link.
fn receive(
    id: LinkId,
    cfg: &MqttConfig,
    sink: &EventSink,
    shared: &Shared,
    handle: &Handle,
    conn: &mut Conn,
) -> Outcome {
    loop {
        match conn.next() {
            Ok(Ev::Publish(p)) => deliver(id, cfg, sink, p),
            Ok(Ev::SubAck(granted)) => {
                let answer = shared.lock().live.as_mut().map(|l| l.on_suback(&granted));
                match answer {
                    Some(Ok(Some(subscribed))) => {
                        sink(MtpEvent::Subscribed { link: id, subscribed })
                    }
                    Some(Err(reason)) => {
                        // R-MQTT.17, as at connection time.
                        disconnect(handle, conn);
                        return ended(shared, reason);
                    }
                    _ => {}
                }
            }
            Ok(Ev::UnsubAck) => {
                let answer = shared.lock().live.as_mut().and_then(Live::on_unsuback);
                if let Some(subscribed) = answer {
                    sink(MtpEvent::Subscribed { link: id, subscribed });
                }
            }
            Ok(Ev::DisconnectSent) => return Outcome::Stopped,
            Ok(_) => {}
            Err(e) => return ended(shared, e.to_string()),
        }
        if shared.lock().stopping {
            // The stop's own DISCONNECT may not have been queued (queue full): queue it again
            // and keep going until it is sent.
            handle.disconnect();
        }
    }
}

/// A connection error: a stop in progress explains it, else it is a failure.
fn ended(shared: &Shared, reason: String) -> Outcome {
    if shared.lock().stopping { Outcome::Stopped } else { Outcome::Failed(reason) }
}

/// Sends DISCONNECT and waits (bounded by the write timeout and I/O errors) until it is out.
fn disconnect(handle: &Handle, conn: &mut Conn) {
    handle.disconnect();
    for _ in 0..1000 {
        match conn.next() {
            Ok(Ev::DisconnectSent) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Which filters were granted; `Err` when R-MQTT.17 applies: none was, or the one delivering
/// our own topic was refused.
fn check_suback(id: LinkId, plan: &topics::Plan, granted: &[bool]) -> Result<Vec<String>, String> {
    if granted.len() != plan.filters.len() {
        return Err(format!(
            "SUBACK answers {} filters, {} were asked",
            granted.len(),
            plan.filters.len()
        ));
    }
    for ((f, _), ok) in plan.filters.iter().zip(granted) {
        if !ok {
            log::warn!("MQTT link {id}: the broker refused the subscription to {f:?}");
        }
    }
    if !granted.iter().any(|ok| *ok) {
        return Err("every subscription was refused".into());
    }
    if let Some(i) = plan.delivered_by.filter(|i| !granted[*i]) {
        return Err(format!(
            "the subscription to our own topic ({:?}) was refused",
            plan.filters[i].0
        ));
    } else if plan.delivered_by.is_none() {
        log::warn!(
            "MQTT link {id}: no subscription delivers Records sent to {:?} (3.1.1: set \
             ResponseTopicConfigured)",
            plan.own
        );
    }
    Ok(plan
        .filters
        .iter()
        .zip(granted)
        .filter(|(_, ok)| **ok)
        .map(|((f, _), _)| f.clone())
        .collect())
}

/// Reports one received PUBLISH, unless its size or Content Type rule it out.
fn deliver(id: LinkId, cfg: &MqttConfig, sink: &EventSink, p: Incoming) {
    if p.payload.len() > cfg.max_record {
        log::warn!(
            "MQTT link {id}: dropped a {}-byte Record on {:?} (limit {} bytes)",
            p.payload.len(),
            p.topic,
            cfg.max_record
        );
        return;
    }
    if !topics::accepted_content_type(p.content_type.as_deref()) {
        log::warn!(
            "MQTT link {id}: dropped a message on {:?} with Content Type {:?}",
            p.topic,
            p.content_type
        );
        return;
    }
    let suffix = || topics::split_reply_to(&p.topic).map(|(_, r)| r);
    let reply_to = if cfg.v5 { p.response_topic.clone().or_else(suffix) } else { suffix() };
    sink(MtpEvent::Received { link: id, peer: None, reply_to, record: p.payload });
}
