//! One STOMP 1.2 session as TR-369 binds it, as a state machine with no I/O: it is fed received
//! bytes and the current time, and produces bytes to write ([`Session::take_output`]),
//! [`Event`]s ([`Session::poll_event`]) and the instant it next needs the time
//! ([`Session::poll_timeout`]).
//!
//! What it owns: the STOMP frame (`accept-version`, `host` = VirtualHost, login/passcode,
//! `endpoint-id`, `heart-beat`), the choice of destination (CONNECTED `subscribe-dest`, else the
//! configured one, else DISCONNECT: R-STOMP.15–17), SUBSCRIBE with `ack:auto` and a receipt,
//! SEND with `content-length`, `content-type` and `reply-to-dest` (R-STOMP.21–24), MESSAGE
//! delivery with its `reply-to-dest` (R-STOMP.26), heart-beats both ways (sent, and a silent
//! server detected), the UNSUBSCRIBE/SUBSCRIBE on a destination change (R-STOMP.32) and the
//! DISCONNECT with receipt on stop. What it never does: touch sockets or clocks, retry (the link
//! does, after [`Event::Closed`]), or look inside Records.
//!
//! A session lives for one transport connection: create it once TCP (and TLS) is up, drop it
//! after [`Event::Closed`].

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::StompConfig;
use super::codec::{Command, DecodeError, Decoded, Decoder, Frame, Limits};
use crate::SendError;

/// How long the server has to answer the STOMP frame and confirm the subscription.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a DISCONNECT waits for its receipt before the session closes anyway.
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// A server is declared silent after this many of its heart-beat periods without a byte.
pub const SILENCE_FACTOR: u32 = 2;
/// The `content-type` of every SEND (R-STOMP.22).
pub const USP_CONTENT_TYPE: &str = "application/vnd.bbf.usp.msg";

/// The receipt id of the final DISCONNECT.
const DISCONNECT_RECEIPT: &str = "disconnect";

/// What the session reports to its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Subscribed (the server sent the SUBSCRIBE's receipt). Emitted again after a destination
    /// change is confirmed.
    Up {
        /// The destination subscribed to.
        subscribed_destination: String,
        /// The CONNECTED frame's `subscribe-dest`, when it had one.
        destination_from_server: Option<String>,
    },
    /// A MESSAGE arrived.
    Received {
        /// Its `reply-to-dest` header: where answers go.
        reply_to: Option<String>,
        /// Its body: one USP Record.
        record: Vec<u8>,
    },
    /// The session is over (after this, the driver writes the remaining output, if any, and
    /// closes the transport).
    Closed(Close),
}

/// Why a session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Close {
    /// [`Session::close`] was called (and the DISCONNECT receipt came or timed out).
    Stopped,
    /// The server sent an ERROR frame (R-STOMP.7/19/28: retry).
    ServerError {
        /// Its `message` header and the start of its body.
        message: String,
    },
    /// Neither `subscribe-dest` nor a configured destination: the MTP is disabled until the
    /// configured destination changes (R-STOMP.17).
    NoDestination,
    /// Nothing arrived from the server for this long although heart-beats were negotiated.
    Silent {
        /// The silence that ended the session.
        after: Duration,
    },
    /// The server did not answer the STOMP frame or the SUBSCRIBE within
    /// [`HANDSHAKE_TIMEOUT`].
    HandshakeTimeout,
    /// The server sent bytes that are not valid STOMP, or a frame over the size limits.
    Protocol(DecodeError),
    /// The STOMP frame cannot be written (a line break in a credential, the Endpoint ID or
    /// the virtual host).
    BadConfig(String),
}

impl std::fmt::Display for Close {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Close::Stopped => f.write_str("stopped"),
            Close::ServerError { message } => write!(f, "ERROR frame from the server: {message}"),
            Close::NoDestination => {
                f.write_str("no subscribe-dest from the server and no configured destination")
            }
            Close::Silent { after } => write!(f, "no heart-beat from the server for {after:?}"),
            Close::HandshakeTimeout => f.write_str("the server did not complete the handshake"),
            Close::Protocol(e) => write!(f, "protocol error: {e}"),
            Close::BadConfig(e) => write!(f, "bad connection parameters: {e}"),
        }
    }
}

/// Where the session is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// The STOMP frame is sent; waiting for CONNECTED.
    Connecting { deadline: Instant },
    /// Connected; the first SUBSCRIBE's receipt is awaited.
    Subscribing { deadline: Instant },
    /// Subscribed: Records flow.
    Up,
    /// DISCONNECT sent; waiting for its receipt.
    Disconnecting { deadline: Instant },
    /// Over; [`Event::Closed`] was emitted.
    Closed,
}

/// The current subscription.
#[derive(Clone, Debug)]
struct Subscription {
    id: u32,
    destination: String,
    /// The receipt id still awaited for this SUBSCRIBE.
    pending_receipt: Option<String>,
}

/// One STOMP session (see the module documentation).
#[derive(Debug)]
pub struct Session {
    decoder: Decoder,
    out: Vec<u8>,
    events: VecDeque<Event>,
    phase: Phase,
    /// `LocalAgent.MTP.{i}.STOMP.Destination` (may change while connected).
    configured_destination: String,
    /// The CONNECTED frame's `subscribe-dest`.
    server_destination: Option<String>,
    subscription: Option<Subscription>,
    next_id: u32,
    /// The heart-beat header sent: (what we can send, what we want), in milliseconds.
    offered_heartbeat: (u64, u64),
    /// Negotiated: we write something at least this often.
    send_every: Option<Duration>,
    /// Negotiated: the server writes something at least this often.
    expect_every: Option<Duration>,
    last_tx: Instant,
    last_rx: Instant,
    max_record: usize,
}

impl Session {
    /// A session for a freshly opened transport: the STOMP frame is already in the output.
    pub fn new(config: &StompConfig, now: Instant) -> Session {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let offered_heartbeat = config.heartbeat.map_or((0, 0), |(o, i)| (millis(o), millis(i)));
        let mut s = Session {
            decoder: Decoder::new(Limits::with_max_body(config.max_record)),
            out: Vec::new(),
            events: VecDeque::new(),
            phase: Phase::Connecting { deadline: now + HANDSHAKE_TIMEOUT },
            configured_destination: config.destination.clone(),
            server_destination: None,
            subscription: None,
            next_id: 0,
            offered_heartbeat,
            send_every: None,
            expect_every: None,
            last_tx: now,
            last_rx: now,
            max_record: config.max_record,
        };
        let host = if config.virtual_host.is_empty() { &config.host } else { &config.virtual_host };
        let mut stomp = Frame::new(Command::Stomp)
            .with("accept-version", "1.2")
            .with("host", host)
            .with("login", &config.username)
            .with("passcode", &config.password)
            .with("endpoint-id", &config.endpoint_id);
        if config.heartbeat.is_some() {
            let (cx, cy) = offered_heartbeat;
            stomp = stomp.with("heart-beat", &format!("{cx},{cy}"));
        }
        // A credential or ID with a line break cannot be sent.
        if let Err(e) = stomp.encode(&mut s.out) {
            s.finish(Close::BadConfig(e.to_string()));
        }
        s
    }

    /// Feeds bytes read from the transport.
    pub fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if self.phase == Phase::Closed || bytes.is_empty() {
            return;
        }
        self.last_rx = now;
        self.decoder.feed(bytes);
        loop {
            match self.decoder.next() {
                Ok(None) => return,
                Ok(Some(Decoded::Heartbeat)) => {}
                Ok(Some(Decoded::Frame(frame))) => self.handle_frame(now, frame),
                Err(e) => return self.finish(Close::Protocol(e)),
            }
            if self.phase == Phase::Closed {
                return;
            }
        }
    }

    /// Acts on the time: heart-beats to send, a silent server, expired handshakes.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Closed => return,
            Phase::Connecting { deadline } | Phase::Subscribing { deadline } if now >= deadline => {
                return self.finish(Close::HandshakeTimeout);
            }
            Phase::Disconnecting { deadline } if now >= deadline => {
                return self.finish(Close::Stopped);
            }
            _ => {}
        }
        if let Some(every) = self.expect_every {
            let silence = now.saturating_duration_since(self.last_rx);
            if silence >= every * SILENCE_FACTOR {
                return self.finish(Close::Silent { after: silence });
            }
        }
        if let Some(every) = self.send_every {
            if now.saturating_duration_since(self.last_tx) >= every {
                self.out.push(b'\n');
                self.last_tx = now;
            }
        }
    }

    /// The next instant [`Session::handle_timeout`] must be called at; `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let deadline = match self.phase {
            Phase::Closed => return None,
            Phase::Connecting { deadline }
            | Phase::Subscribing { deadline }
            | Phase::Disconnecting { deadline } => Some(deadline),
            Phase::Up => None,
        };
        let beat = self.send_every.map(|e| self.last_tx + e);
        let silent = self.expect_every.map(|e| self.last_rx + e * SILENCE_FACTOR);
        [deadline, beat, silent].into_iter().flatten().min()
    }

    /// Queues a SEND of `record` to `destination` with our `reply-to-dest` (R-STOMP.20–25).
    pub fn send(
        &mut self,
        now: Instant,
        destination: &str,
        record: Vec<u8>,
    ) -> Result<(), SendError> {
        if record.len() > self.max_record {
            return Err(SendError::TooLarge { max: self.max_record });
        }
        let Some(sub) = self.subscription.as_ref().filter(|_| self.phase == Phase::Up) else {
            return Err(SendError::NotConnected);
        };
        let mut frame = Frame::new(Command::Send)
            .with("destination", destination)
            .with("content-type", USP_CONTENT_TYPE)
            .with("reply-to-dest", &sub.destination);
        frame.body = record;
        self.write(now, &frame);
        Ok(())
    }

    /// The configured destination changed (`LocalAgent.MTP.{i}.STOMP.Destination`). When the
    /// server gave none, the subscription moves (UNSUBSCRIBE + SUBSCRIBE, R-STOMP.32), or, if
    /// the new value is empty, the session ends with [`Close::NoDestination`].
    pub fn set_destination(&mut self, now: Instant, destination: &str) {
        self.configured_destination = destination.to_owned();
        if self.server_destination.is_some() {
            return;
        }
        let Some(old) = self.subscription.take() else { return };
        if !matches!(self.phase, Phase::Up | Phase::Subscribing { .. }) {
            self.subscription = Some(old);
            return;
        }
        if old.destination == destination {
            self.subscription = Some(old);
            return;
        }
        let unsubscribe = Frame::new(Command::Unsubscribe).with("id", &old.id.to_string());
        self.write(now, &unsubscribe);
        if destination.is_empty() {
            self.write(now, &Frame::new(Command::Disconnect));
            return self.finish(Close::NoDestination);
        }
        self.subscribe(now, destination.to_owned());
    }

    /// Ends the session politely: DISCONNECT with a receipt, then [`Close::Stopped`] when it
    /// comes or after [`DISCONNECT_TIMEOUT`]. Before CONNECTED, closes at once.
    pub fn close(&mut self, now: Instant) {
        match self.phase {
            Phase::Closed | Phase::Disconnecting { .. } => {}
            Phase::Connecting { .. } => self.finish(Close::Stopped),
            Phase::Subscribing { .. } | Phase::Up => {
                self.write(
                    now,
                    &Frame::new(Command::Disconnect).with("receipt", DISCONNECT_RECEIPT),
                );
                self.phase = Phase::Disconnecting { deadline: now + DISCONNECT_TIMEOUT };
            }
        }
    }

    /// The bytes to write to the transport, in order (empty when there are none).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Subscribed and able to send.
    pub fn is_up(&self) -> bool {
        self.phase == Phase::Up
    }

    /// The session has ended (its [`Event::Closed`] was queued).
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The negotiated heart-beat periods: (we send every, the server sends every).
    pub fn heartbeats(&self) -> (Option<Duration>, Option<Duration>) {
        (self.send_every, self.expect_every)
    }

    fn handle_frame(&mut self, now: Instant, frame: Frame) {
        match frame.command {
            Command::Connected if matches!(self.phase, Phase::Connecting { .. }) => {
                self.connected(now, &frame);
            }
            Command::Receipt => self.receipt(frame.header("receipt-id").unwrap_or_default()),
            Command::Message => self.events.push_back(Event::Received {
                reply_to: frame.header("reply-to-dest").map(str::to_owned),
                record: frame.body,
            }),
            Command::Error => {
                let mut message = frame.header("message").unwrap_or_default().to_owned();
                let body = String::from_utf8_lossy(&frame.body[..frame.body.len().min(200)]);
                if !body.trim().is_empty() {
                    message = format!("{message} ({})", body.trim());
                }
                self.finish(Close::ServerError { message });
            }
            other => log::debug!("STOMP: ignoring an unexpected {other} frame"),
        }
    }

    fn connected(&mut self, now: Instant, frame: &Frame) {
        self.negotiate_heartbeats(frame.header("heart-beat"));
        self.server_destination =
            frame.header("subscribe-dest").filter(|d| !d.is_empty()).map(str::to_owned);
        let destination =
            self.server_destination.clone().unwrap_or_else(|| self.configured_destination.clone());
        if destination.is_empty() {
            self.write(now, &Frame::new(Command::Disconnect));
            return self.finish(Close::NoDestination);
        }
        self.phase = Phase::Subscribing { deadline: now + HANDSHAKE_TIMEOUT };
        self.subscribe(now, destination);
    }

    /// STOMP 1.2 heart-beating: we send every max(cx, sy), the server every max(sx, cy), each
    /// only when both sides' values are non-zero. A missing or malformed header means none.
    fn negotiate_heartbeats(&mut self, header: Option<&str>) {
        let (sx, sy) = header
            .and_then(|h| h.split_once(','))
            .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)))
            .unwrap_or((0, 0));
        let (cx, cy) = self.offered_heartbeat;
        let period = |a: u64, b: u64| (a > 0 && b > 0).then(|| Duration::from_millis(a.max(b)));
        self.send_every = period(cx, sy);
        self.expect_every = period(sx, cy);
    }

    fn subscribe(&mut self, now: Instant, destination: String) {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let receipt = format!("sub-{id}");
        let frame = Frame::new(Command::Subscribe)
            .with("id", &id.to_string())
            .with("destination", &destination)
            .with("ack", "auto")
            .with("receipt", &receipt);
        self.write(now, &frame);
        self.subscription = Some(Subscription { id, destination, pending_receipt: Some(receipt) });
    }

    fn receipt(&mut self, id: &str) {
        if id == DISCONNECT_RECEIPT && matches!(self.phase, Phase::Disconnecting { .. }) {
            return self.finish(Close::Stopped);
        }
        let Some(sub) = self.subscription.as_mut() else { return };
        if sub.pending_receipt.as_deref() != Some(id) {
            return;
        }
        sub.pending_receipt = None;
        if matches!(self.phase, Phase::Subscribing { .. } | Phase::Up) {
            self.phase = Phase::Up;
            self.events.push_back(Event::Up {
                subscribed_destination: sub.destination.clone(),
                destination_from_server: self.server_destination.clone(),
            });
        }
    }

    /// Encodes a frame into the output. The session's own frames always encode; a failure
    /// (a destination with an unencodable character cannot occur: SEND headers are escaped) is
    /// logged and the frame dropped.
    fn write(&mut self, now: Instant, frame: &Frame) {
        match frame.encode(&mut self.out) {
            Ok(()) => self.last_tx = now,
            Err(e) => log::warn!("STOMP: {} frame not sent: {e}", frame.command),
        }
    }

    fn finish(&mut self, why: Close) {
        if self.phase != Phase::Closed {
            self.phase = Phase::Closed;
            self.events.push_back(Event::Closed(why));
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
