//! One MQTT connection's protocol state, without I/O: bytes from the broker go in
//! ([`Session::handle_bytes`]), requests from the link go in ([`Session::subscribe`],
//! [`Session::publish`], ...), time goes in ([`Session::handle_timeout`]); out come the bytes to
//! write ([`Session::take_output`]), the events for the link thread ([`Session::poll_event`])
//! and when to be called again ([`Session::poll_timeout`]).
//!
//! Owns packet identifiers, the window of our QoS 1 PUBLISHes awaiting PUBACK (the broker's
//! Receive Maximum; the rest wait in order), the acknowledgements of what arrives (PUBACK,
//! PUBREC/PUBCOMP for QoS 2), v5 Topic Aliases towards us, keep-alive (PINGREQ when nothing was
//! sent for the keep-alive period, the connection ends when no PINGRESP follows within another)
//! and the CONNECT deadline.
//!
//! Acknowledgements are held back up to [`ACK_DELAY`] so that the PUBACK of a request leaves in
//! the same write as the response the owner publishes meanwhile: one write per answered Record.
//! Never resends after a reconnect (each connection is a new session; a Record not yet answered
//! by PUBACK is lost with its connection, as with rumqttc before).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::MqttConfig;
use super::connect::{self, max_packet};
use super::events::{ConnError, Ev, Incoming};
use super::wire::{self, Encoder, In, PacketProps};

/// How long acknowledgements wait for other output to leave with.
pub(super) const ACK_DELAY: Duration = Duration::from_millis(20);
/// Held-back acknowledgements leave at once when this many wait (a broker's window towards us
/// is often 20 PUBLISHes: a stream of Records nobody answers must not stall on it).
const MAX_HELD_ACKS: usize = 8;
/// The limit on the CONNECT/CONNACK exchange (after TCP and TLS are up).
pub(super) const CONNACK_TIMEOUT: Duration = Duration::from_secs(10);
/// The most QoS 1 PUBLISHes of ours awaiting PUBACK at once (fewer when the broker's Receive
/// Maximum says so); later ones wait in order.
pub(super) const MAX_INFLIGHT: usize = 32;
/// The most Records waiting for room in the in-flight window; more are dropped with a warning.
const MAX_WAITING: usize = 256;
/// The most bytes of Records waiting for room in the in-flight window (twice the largest
/// Record plus 1 MiB, as the other links' outbound queues); one Record always fits an empty
/// queue.
const MAX_WAITING_BYTES: usize = 2 * crate::DEFAULT_MAX_RECORD + (1 << 20);
/// What one destination (a controller's topic) may hold of the waiting queue: a quarter of its
/// Records and half of its bytes, so that a controller flooding the agent with requests (whose
/// answers pile up here when the broker acknowledges slowly) cannot take the room of the
/// others' answers (issue 20).
const MAX_WAITING_PER_DEST: (usize, usize) = (MAX_WAITING / 4, MAX_WAITING_BYTES / 2);
/// Output the socket has not taken beyond which [`Session::publish`] refuses more Records (a
/// broker that stops reading must not make us buffer without bound).
pub(super) const MAX_UNSENT: usize = 4 * 1024 * 1024;

/// A Record waiting for room in the in-flight window.
struct Waiting {
    dest: String,
    record: Vec<u8>,
    retain: bool,
    kind: Kind,
}

/// What a PUBLISH of ours carries besides its topic and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// A USP Record: Content Type `usp.msg` and our topic as Response Topic (v5), or the
    /// `/reply-to=` suffix (3.1.1); the link's QoS.
    Record {
        /// Our own topic.
        reply_to: String,
    },
    /// Other data the agent publishes (a Bulk Data report, TR-369 R-BULK.8a): this Content
    /// Type (v5 only), no Response Topic, this QoS (2 is sent as 1: the link does not run
    /// the QoS 2 handshake for its own PUBLISHes).
    Data {
        /// The Content Type property.
        content_type: String,
        /// The requested QoS.
        qos: u8,
    },
}

/// The protocol state of one connection (see the module documentation).
pub(super) struct Session {
    enc: Encoder,
    /// The largest packet accepted from the broker.
    max_in: u32,
    /// Bytes received but not yet a whole packet.
    inbuf: BytesMut,
    /// Bytes to write.
    out: BytesMut,
    /// `out` holds more than held-back acknowledgements: write it now.
    urgent: bool,
    /// When held-back acknowledgements must leave at the latest.
    acks_due: Option<Instant>,
    /// How many acknowledgements are held back.
    held_acks: usize,
    /// `out` holds our DISCONNECT.
    disconnect_queued: bool,
    /// Our DISCONNECT was handed to the writer; [`Session::written`] reports it once every
    /// byte is out.
    disconnect_taken: bool,
    /// A DISCONNECT was queued: nothing more is sent after it.
    disconnecting: bool,
    events: VecDeque<Ev>,
    /// CONNACK not yet received: the connection fails at this instant.
    connack_due: Option<Instant>,
    keep_alive: Option<Duration>,
    last_sent: Instant,
    /// When our unanswered PINGREQ left.
    ping_sent: Option<Instant>,
    next_pkid: u16,
    /// Our QoS 1 PUBLISHes awaiting PUBACK, by packet identifier.
    inflight: Vec<u16>,
    max_inflight: usize,
    waiting: VecDeque<Waiting>,
    /// QoS of our PUBLISHes.
    qos: u8,
    /// QoS 2 PUBLISHes received and delivered, awaiting PUBREL.
    received_qos2: Vec<u16>,
    /// v5 Topic Aliases the broker set towards us.
    aliases: HashMap<u16, String>,
    /// The highest Topic Alias we allow.
    alias_max: u16,
}

impl Session {
    /// A session for one connection of `cfg` with ClientId `client_id`: its CONNECT is the first
    /// output.
    pub(super) fn new(
        cfg: &MqttConfig,
        client_id: &str,
        now: Instant,
    ) -> Result<Session, ConnError> {
        let max_in = max_packet(cfg);
        let enc = Encoder { v5: cfg.v5, max: max_in, props: PacketProps::of(cfg) };
        let keep_alive = connect::keep_alive_secs(cfg);
        let mut s = Session {
            enc,
            max_in,
            inbuf: BytesMut::with_capacity(16 * 1024),
            out: BytesMut::with_capacity(16 * 1024),
            urgent: false,
            acks_due: None,
            held_acks: 0,
            disconnect_queued: false,
            disconnect_taken: false,
            disconnecting: false,
            events: VecDeque::new(),
            connack_due: Some(now + CONNACK_TIMEOUT),
            keep_alive: (keep_alive > 0).then(|| Duration::from_secs(u64::from(keep_alive))),
            last_sent: now,
            ping_sent: None,
            next_pkid: 0,
            inflight: Vec::new(),
            max_inflight: MAX_INFLIGHT,
            waiting: VecDeque::new(),
            qos: cfg.publish_qos.min(1),
            received_qos2: Vec::new(),
            aliases: HashMap::new(),
            alias_max: if cfg.v5 { cfg.extended.topic_alias_max } else { 0 },
        };
        let connect = connect::connect(cfg, client_id);
        s.enc.connect(connect, &mut s.out).map_err(|e| ConnError::Unencodable(e.0))?;
        s.urgent = true;
        Ok(s)
    }

    /// The next event for the link thread.
    pub(super) fn poll_event(&mut self) -> Option<Ev> {
        self.events.pop_front()
    }

    /// Whether events wait for [`Session::poll_event`].
    pub(super) fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// When [`Session::handle_timeout`] is due (`None`: never).
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        let ping = self.keep_alive.map(|k| match self.ping_sent {
            Some(sent) => sent + k,
            None => self.last_sent + k,
        });
        [self.connack_due, ping, self.acks_due].into_iter().flatten().min()
    }

    /// Time passed: keep-alive and deadlines. `Err` ends the connection.
    pub(super) fn handle_timeout(&mut self, now: Instant) -> Result<(), ConnError> {
        if self.connack_due.is_some_and(|d| d <= now) {
            return Err(ConnError::NoConnAck);
        }
        let Some(k) = self.keep_alive.filter(|_| self.connack_due.is_none()) else {
            return Ok(());
        };
        match self.ping_sent {
            Some(sent) if sent + k <= now => return Err(ConnError::NoPingResp),
            Some(_) => {}
            None if self.last_sent + k <= now && !self.disconnecting => {
                self.enc.pingreq(&mut self.out).map_err(|e| ConnError::Unencodable(e.0))?;
                self.urgent = true;
                self.ping_sent = Some(now);
            }
            None => {}
        }
        Ok(())
    }

    /// The bytes to write now, if any (held-back acknowledgements stay until other output joins
    /// them or [`ACK_DELAY`] passes). Once our DISCONNECT is handed out and the writer says
    /// everything was written ([`Session::written`]), [`Ev::DisconnectSent`] follows.
    pub(super) fn take_output(&mut self, now: Instant) -> Option<BytesMut> {
        let due = self.urgent || self.acks_due.is_some_and(|d| d <= now);
        if self.out.is_empty() || !due {
            return None;
        }
        self.urgent = false;
        self.acks_due = None;
        self.held_acks = 0;
        self.last_sent = now;
        if std::mem::take(&mut self.disconnect_queued) {
            self.disconnect_taken = true;
        }
        Some(self.out.split())
    }

    /// The writer wrote every byte taken so far (none given back with [`Session::unwrite`],
    /// none left in TLS buffers): a DISCONNECT among them is now out, and the connection may
    /// close without truncating it.
    pub(super) fn written(&mut self) {
        if !self.has_unsent() && std::mem::take(&mut self.disconnect_taken) {
            self.events.push_back(Ev::DisconnectSent);
        }
    }

    /// Whether output given back by [`Session::unwrite`] still waits.
    pub(super) fn has_unsent(&self) -> bool {
        self.urgent && !self.out.is_empty()
    }

    /// Gives back the part of an output the socket did not take: it goes first, now.
    pub(super) fn unwrite(&mut self, mut rest: BytesMut) {
        if rest.is_empty() {
            return;
        }
        rest.unsplit(self.out.split());
        self.out = rest;
        self.urgent = true;
    }

    /// Queues one SUBSCRIBE of every filter.
    pub(super) fn subscribe(&mut self, filters: &[(String, u8)]) -> Result<(), ConnError> {
        let pkid = self.pkid();
        self.enc
            .subscribe(pkid, filters, &mut self.out)
            .map_err(|e| ConnError::Unencodable(e.0))?;
        self.urgent = true;
        Ok(())
    }

    /// Queues one UNSUBSCRIBE of `filter`.
    pub(super) fn unsubscribe(&mut self, filter: &str) -> Result<(), ConnError> {
        let pkid = self.pkid();
        self.enc
            .unsubscribe(pkid, filter, &mut self.out)
            .map_err(|e| ConnError::Unencodable(e.0))?;
        self.urgent = true;
        Ok(())
    }

    /// Queues one PUBLISH of a Record (or keeps it until the in-flight window has room). A
    /// Record the broker would refuse as too large is dropped with a warning. `false` (the
    /// Record is not taken) when more than [`MAX_UNSENT`] bytes already wait for the socket.
    pub(super) fn publish(
        &mut self,
        dest: String,
        record: Vec<u8>,
        retain: bool,
        reply_to: String,
    ) -> bool {
        self.publish_kind(dest, record, retain, Kind::Record { reply_to })
    }

    /// Queues one PUBLISH of `record` of `kind`, as [`Session::publish`] does.
    pub(super) fn publish_kind(
        &mut self,
        dest: String,
        record: Vec<u8>,
        retain: bool,
        kind: Kind,
    ) -> bool {
        if self.out.len() > MAX_UNSENT {
            return false;
        }
        self.publish_now(dest, record, retain, kind);
        true
    }

    fn publish_now(&mut self, dest: String, record: Vec<u8>, retain: bool, kind: Kind) {
        if self.disconnecting {
            return;
        }
        let qos = match &kind {
            Kind::Record { .. } => self.qos,
            Kind::Data { qos, .. } => (*qos).min(1),
        };
        if qos > 0 && self.inflight.len() >= self.max_inflight {
            match self.no_room(&dest, record.len()) {
                Some(why) => log::warn!("MQTT: dropped a Record to {dest:?}: {why}"),
                None => self.waiting.push_back(Waiting { dest, record, retain, kind }),
            }
            return;
        }
        let pkid = if qos > 0 { self.pkid() } else { 0 };
        match self.enc.publish(pkid, &dest, record, qos, retain, &kind, &mut self.out) {
            Ok(()) => {
                if qos > 0 {
                    self.inflight.push(pkid);
                }
                self.urgent = true;
            }
            Err(e) => log::warn!("MQTT: dropped a Record to {dest:?}: {}", e.0),
        }
    }

    /// Queues DISCONNECT (once); nothing is sent after it.
    pub(super) fn disconnect(&mut self) -> Result<(), ConnError> {
        if self.disconnecting {
            return Ok(());
        }
        self.disconnecting = true;
        self.enc.disconnect(&mut self.out).map_err(|e| ConnError::Unencodable(e.0))?;
        self.urgent = true;
        self.disconnect_queued = true;
        Ok(())
    }

    /// Bytes from the broker. `Err` ends the connection (the events of the packets before the
    /// fault stay queued).
    pub(super) fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) -> Result<(), ConnError> {
        self.inbuf.extend_from_slice(bytes);
        loop {
            let packet = wire::decode(self.enc.v5, &mut self.inbuf, self.max_in);
            match packet.map_err(|e| ConnError::Malformed(e.0))? {
                Some(p) => self.handle_packet(now, p)?,
                None => return Ok(()),
            }
        }
    }

    fn handle_packet(&mut self, now: Instant, p: In) -> Result<(), ConnError> {
        match p {
            In::ConnAck(ack) if self.connack_due.is_some() => {
                if let Some(refused) = ack.refused {
                    return Err(ConnError::Refused(refused));
                }
                self.connack_due = None;
                if let Some(n) = ack.receive_max.filter(|n| *n > 0) {
                    self.max_inflight = MAX_INFLIGHT.min(usize::from(n));
                }
                if let Some(m) = ack.max_packet {
                    self.enc.max = m;
                }
                if let Some(k) = ack.server_keep_alive {
                    self.keep_alive = (k > 0).then(|| Duration::from_secs(u64::from(k)));
                }
                self.events.push_back(Ev::ConnAck { assigned: ack.assigned, connack: ack.connack });
            }
            In::ConnAck(_) => return Err(ConnError::Malformed("a second CONNACK".into())),
            _ if self.connack_due.is_some() => {
                return Err(ConnError::Malformed("a packet before CONNACK".into()));
            }
            In::Publish(p) => self.handle_publish(now, p)?,
            In::PubAck { pkid, refused } => {
                if let Some(why) = refused {
                    log::warn!("MQTT: the broker refused a Record: {why}");
                }
                self.inflight.retain(|p| *p != pkid);
                self.release_waiting();
            }
            In::PubRel(pkid) => {
                self.received_qos2.retain(|p| *p != pkid);
                self.enc.pubcomp(pkid, &mut self.out).map_err(|e| ConnError::Unencodable(e.0))?;
                self.hold_ack(now);
            }
            In::SubAck(granted) => self.events.push_back(Ev::SubAck(granted)),
            In::UnsubAck => self.events.push_back(Ev::UnsubAck),
            In::PingResp => self.ping_sent = None,
            In::Disconnect(reason) => return Err(ConnError::ClosedByBroker(reason)),
            In::Ignored(name) => log::debug!("MQTT: ignored a {name} from the broker"),
        }
        Ok(())
    }

    /// A PUBLISH arrived: acknowledged (held back), then delivered unless it repeats a QoS 2
    /// one already delivered.
    fn handle_publish(&mut self, now: Instant, p: wire::Publish) -> Result<(), ConnError> {
        let topic = self.resolve_topic(&p)?;
        let fresh = match p.qos {
            0 => true,
            1 => {
                self.enc.puback(p.pkid, &mut self.out).map_err(|e| ConnError::Unencodable(e.0))?;
                self.hold_ack(now);
                true
            }
            _ => {
                self.enc.pubrec(p.pkid, &mut self.out).map_err(|e| ConnError::Unencodable(e.0))?;
                self.hold_ack(now);
                let fresh = !self.received_qos2.contains(&p.pkid);
                if fresh {
                    self.received_qos2.push(p.pkid);
                }
                fresh
            }
        };
        let Some(topic) = topic.filter(|_| fresh) else { return Ok(()) };
        self.events.push_back(Ev::Publish(Incoming {
            topic,
            payload: p.payload.into(),
            response_topic: p.response_topic,
            content_type: p.content_type,
        }));
        Ok(())
    }

    /// The topic of `p`, through its v5 Topic Alias; `Ok(None)` when it is not UTF-8 (dropped
    /// with a warning). An alias out of range or unknown is a protocol error.
    fn resolve_topic(&mut self, p: &wire::Publish) -> Result<Option<String>, ConnError> {
        let Ok(topic) = std::str::from_utf8(&p.topic) else {
            log::warn!("MQTT: dropped a PUBLISH whose topic is not UTF-8");
            return Ok(None);
        };
        let Some(alias) = p.topic_alias else { return Ok(Some(topic.to_owned())) };
        if alias == 0 || alias > self.alias_max {
            return Err(ConnError::Malformed(format!("Topic Alias {alias} out of range")));
        }
        if topic.is_empty() {
            match self.aliases.get(&alias) {
                Some(t) => Ok(Some(t.clone())),
                None => Err(ConnError::Malformed(format!("unknown Topic Alias {alias}"))),
            }
        } else {
            self.aliases.insert(alias, topic.to_owned());
            Ok(Some(topic.to_owned()))
        }
    }

    /// An acknowledgement was queued: it leaves with the next other output, or at
    /// [`ACK_DELAY`], or at once when [`MAX_HELD_ACKS`] wait.
    fn hold_ack(&mut self, now: Instant) {
        if self.acks_due.is_none() {
            self.acks_due = Some(now + ACK_DELAY);
        }
        self.held_acks += 1;
        if self.held_acks >= MAX_HELD_ACKS {
            self.urgent = true;
        }
    }

    /// Why a Record of `size` bytes to `dest` cannot wait for the in-flight window (the
    /// bounds of [`MAX_WAITING`], [`MAX_WAITING_BYTES`], [`MAX_WAITING_PER_DEST`]); `None`
    /// when it can.
    fn no_room(&self, dest: &str, size: usize) -> Option<String> {
        if self.waiting.is_empty() {
            return None;
        }
        let (mut count, mut bytes, mut mine, mut my_bytes) = (0, 0, 0, 0);
        for w in &self.waiting {
            count += 1;
            bytes += w.record.len();
            if w.dest == dest {
                mine += 1;
                my_bytes += w.record.len();
            }
        }
        let (per_dest, per_dest_bytes) = MAX_WAITING_PER_DEST;
        if count >= MAX_WAITING || bytes + size > MAX_WAITING_BYTES {
            Some(format!("{count} Records ({bytes} bytes) already wait"))
        } else if mine > 0 && (mine >= per_dest || my_bytes + size > per_dest_bytes) {
            Some(format!("{mine} Records ({my_bytes} bytes) to it already wait"))
        } else {
            None
        }
    }

    /// Publishes waiting Records while the in-flight window has room.
    fn release_waiting(&mut self) {
        while self.inflight.len() < self.max_inflight {
            let Some(w) = self.waiting.pop_front() else { return };
            self.publish_now(w.dest, w.record, w.retain, w.kind);
        }
    }

    /// The next packet identifier (never 0, never one still in flight).
    fn pkid(&mut self) -> u16 {
        loop {
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            if !self.inflight.contains(&self.next_pkid) {
                return self.next_pkid;
            }
        }
    }
}

#[cfg(test)]
mod tests;
