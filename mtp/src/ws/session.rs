//! One WebSocket session, client or server side, from the start of its opening handshake to its
//! end: the handshake driver ([`drive`]) and the session loop ([`Session::run`]) that moves
//! Records between the owner and the peer, answers and sends Pings, and closes.
//!
//! Owns the thread's waiting (on the socket and the owner's [`WakeReceiver`] at once, never a
//! poll tick); never reconnects, never decides who the peer is (the client and server modules
//! do), never parses Records.

use std::io;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use tungstenite::error::ProtocolError;
use tungstenite::handshake::{HandshakeError, HandshakeRole, MidHandshake};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tungstenite::{Error as WsError, Message, WebSocket};

use super::outbox::{MAX_QUEUED, Outbox};
use super::stream::Io;
use crate::wake::{WakeReceiver, wait_io};
use crate::{EventSink, LinkId, MtpEvent};

/// How long we wait for the peer's answer to our Close before dropping the connection.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a blocked write may make no progress at all before the peer counts as gone (used
/// whether or not keep-alive is on).
const WRITE_STALL: Duration = Duration::from_secs(60);

/// What the owner (or the link on its behalf) asks of a running session.
#[derive(Debug)]
pub(crate) enum Cmd {
    /// Send one Record in one binary message.
    Send(Vec<u8>),
    /// Close the session (Close frame, then wait for the answer) for this reason.
    Close(CloseWhy),
}

/// Why a session is closed on request; reported back in [`Ended::why`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseWhy {
    /// The owner could not parse a Record from this peer (R-WS.16: status 1003).
    Unparseable,
    /// `Controller.{i}.MTP.{i}.WebSocket.Reset()` (client).
    Reset,
    /// A newer session from the same peer took over (server, R-WS.4).
    Replaced,
    /// The server already has its most sessions.
    Refused,
    /// The link is stopping.
    Stop,
}

impl CloseWhy {
    fn frame(self) -> (CloseCode, &'static str) {
        match self {
            CloseWhy::Unparseable => (CloseCode::Unsupported, "unparseable USP Record"),
            CloseWhy::Reset => (CloseCode::Normal, "reset"),
            CloseWhy::Replaced => (CloseCode::Normal, "replaced by a newer session"),
            CloseWhy::Refused => (CloseCode::Again, "too many sessions"),
            CloseWhy::Stop => (CloseCode::Away, "going away"),
        }
    }
}

/// How a session ended.
#[derive(Debug)]
pub(crate) struct Ended {
    /// For the `Down` event.
    pub reason: String,
    /// Set when we closed on request.
    pub why: Option<CloseWhy>,
}

/// tungstenite's settings for a link: limits from `max_record` (the frame limit is checked on
/// the header, before any allocation), a small read buffer, writes handed to the socket at once.
pub(crate) fn ws_config(max_record: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(max_record))
        .max_frame_size(Some(max_record))
}

/// Why a handshake did not complete.
#[derive(Debug)]
pub(crate) enum HandshakeFail {
    /// `abort` said so (the link is stopping or resetting).
    Aborted,
    /// The deadline passed.
    TimedOut,
    /// TLS or WebSocket refused (the text says how).
    Failed(String),
}

/// Completes a non-blocking handshake (TLS included: rustls progresses inside the stream's
/// reads and writes), waiting on the socket and on `wake` until `deadline`. `abort` is asked
/// after every wake-up by the owner.
pub(crate) fn drive<R>(
    mut step: Result<R::FinalResult, HandshakeError<R>>,
    wake: &WakeReceiver,
    deadline: Instant,
    abort: &mut dyn FnMut() -> bool,
) -> Result<R::FinalResult, HandshakeFail>
where
    R: HandshakeRole<InternalStream = Io>,
{
    loop {
        let mid: MidHandshake<R> = match step {
            Ok(done) => return Ok(done),
            Err(HandshakeError::Failure(e)) => return Err(HandshakeFail::Failed(describe(&e))),
            Err(HandshakeError::Interrupted(mid)) => mid,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(HandshakeFail::TimedOut);
        }
        let io = mid.get_ref().get_ref();
        let ready = wait_io(io, wake, Some(left), io.wants_write())
            .map_err(|e| HandshakeFail::Failed(e.to_string()))?;
        if ready.woken && abort() {
            return Err(HandshakeFail::Aborted);
        }
        step = mid.handshake();
    }
}

/// A readable account of a tungstenite error (HTTP refusals with their status and body).
pub(crate) fn describe(e: &WsError) -> String {
    match e {
        WsError::Http(resp) => {
            let body = resp.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            format!("refused with HTTP {}: {}", resp.status(), body.trim())
        }
        WsError::Protocol(ProtocolError::SecWebSocketSubProtocolError(_)) => {
            format!(
                "the server did not select the subprotocol {} (R-WS.12)",
                super::wire::SUBPROTOCOL
            )
        }
        other => other.to_string(),
    }
}

/// An open session and what it talks to.
pub(crate) struct Session<'a> {
    /// The WebSocket, its socket in non-blocking mode.
    pub ws: WebSocket<Io>,
    /// For events.
    pub link: LinkId,
    /// The peer's Endpoint ID, when known, for events.
    pub peer: Option<String>,
    /// Where events go.
    pub sink: &'a EventSink,
    /// The owner's requests.
    pub cmds: &'a Receiver<Cmd>,
    /// The owner's wake-ups (it wakes after each request).
    pub wake: &'a WakeReceiver,
    /// Ping interval; zero disables pings and the dead-peer check.
    pub keep_alive: Duration,
}

/// The session loop's bookkeeping.
struct State {
    pending: Outbox,
    /// tungstenite holds bytes the socket did not take.
    blocked: bool,
    /// We sent Close: the deadline for the answer.
    closing: Option<Instant>,
    why: Option<CloseWhy>,
    /// The first known reason the session is ending.
    reason: Option<String>,
    last_heard: Instant,
    next_ping: Option<Instant>,
    progress_mark: u64,
    progress_at: Instant,
}

impl Session<'_> {
    /// Runs until the session ends, then shuts the connection down.
    pub(crate) fn run(mut self) -> Ended {
        let now = Instant::now();
        let mut st = State {
            pending: Outbox::new(MAX_QUEUED),
            blocked: false,
            closing: None,
            why: None,
            reason: None,
            last_heard: now,
            next_ping: (!self.keep_alive.is_zero()).then(|| now + self.keep_alive),
            progress_mark: self.ws.get_ref().written(),
            progress_at: now,
        };
        let reason = match self.turn_until_end(&mut st) {
            Ok(never) => match never {},
            Err(reason) => st.reason.take().unwrap_or(reason),
        };
        self.ws.get_mut().shutdown();
        Ended { reason, why: st.why }
    }

    /// One loop turn after another; returns (as `Err`) the reason it ended.
    fn turn_until_end(&mut self, st: &mut State) -> Result<std::convert::Infallible, String> {
        loop {
            self.take_commands(st);
            self.feed(st)?;
            self.read_all(st)?;
            let now = Instant::now();
            if let Some(at) = st.next_ping.filter(|at| now >= *at && st.closing.is_none()) {
                self.write(Message::Ping(Default::default()), st)?;
                // The next one a full interval after this one, or after now when we are late.
                let base = if now >= at + self.keep_alive { now } else { at };
                st.next_ping = Some(base + self.keep_alive);
            }
            match self.ws.flush() {
                Ok(()) => st.blocked = false,
                Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => st.blocked = true,
                Err(e) => return Err(lost(&e)),
            }
            let timeout = self.check_deadlines(st, Instant::now())?;
            if self.ws.get_mut().has_buffered_input() {
                continue;
            }
            let io = self.ws.get_ref();
            wait_io(io, self.wake, timeout, st.blocked || io.wants_write())
                .map_err(|e| format!("poll failed: {e}"))?;
        }
    }

    /// Takes every queued request: Records into `pending`, a Close at once — after the Records
    /// asked for before it (a Disconnect Record sent just before a stop goes out first).
    fn take_commands(&mut self, st: &mut State) {
        loop {
            match self.cmds.try_recv() {
                Ok(Cmd::Send(record)) if st.closing.is_none() => {
                    let size = record.len();
                    if !st.pending.push(record) {
                        log::warn!(
                            "ws link {}: {size}-byte Record dropped: {} bytes wait for a slow peer",
                            self.link,
                            st.pending.bytes()
                        );
                    }
                }
                Ok(Cmd::Send(_)) => log::debug!("ws link {}: Record dropped, closing", self.link),
                Ok(Cmd::Close(why)) => {
                    self.hand_over_pending(st);
                    self.close(st, why);
                }
                Err(TryRecvError::Empty) => return,
                Err(TryRecvError::Disconnected) => {
                    self.close(st, CloseWhy::Stop);
                    return;
                }
            }
        }
    }

    /// Starts the closing handshake on request (once). A Stop asked during a close already
    /// under way still counts: the link must not reconnect afterwards.
    fn close(&mut self, st: &mut State, why: CloseWhy) {
        if st.why.is_none() || why == CloseWhy::Stop {
            st.why = Some(why);
        }
        if st.closing.is_some() {
            return;
        }
        let (code, text) = why.frame();
        st.reason.get_or_insert_with(|| format!("closed by us ({}: {text})", u16::from(code)));
        self.send_close(st, code, text);
    }

    /// Queues a Close frame and starts its answer's deadline; Records not yet handed to
    /// tungstenite are dropped.
    fn send_close(&mut self, st: &mut State, code: CloseCode, text: &'static str) {
        let dropped = st.pending.clear();
        if dropped > 0 {
            log::debug!("ws link {}: {dropped} Record(s) dropped, closing", self.link);
        }
        let _ = self.ws.close(Some(CloseFrame { code, reason: text.into() }));
        st.closing = Some(Instant::now() + CLOSE_TIMEOUT);
    }

    /// Hands every pending Record to tungstenite, which keeps what the socket does not take yet
    /// and sends it before a Close queued after them; a lost connection drops the rest.
    fn hand_over_pending(&mut self, st: &mut State) {
        while let Some(record) = st.pending.pop() {
            if let Err(e) = self.write(Message::Binary(record.into()), st) {
                st.reason.get_or_insert(e);
                st.pending.clear();
            }
        }
    }

    /// Hands pending Records to tungstenite while the socket takes them.
    fn feed(&mut self, st: &mut State) -> Result<(), String> {
        while !st.blocked && st.closing.is_none() {
            let Some(record) = st.pending.pop() else { break };
            self.write(Message::Binary(record.into()), st)?;
        }
        Ok(())
    }

    /// Writes one message; `WouldBlock` means tungstenite kept it to send later.
    fn write(&mut self, msg: Message, st: &mut State) -> Result<(), String> {
        match self.ws.write(msg) {
            Ok(()) => Ok(()),
            Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                st.blocked = true;
                Ok(())
            }
            Err(e) => Err(lost(&e)),
        }
    }

    /// Reads messages until the socket has nothing more (the wake.rs contract for TLS).
    fn read_all(&mut self, st: &mut State) -> Result<(), String> {
        loop {
            let msg = match self.ws.read() {
                Ok(msg) => msg,
                Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(self.read_failed(e, st)),
            };
            st.last_heard = Instant::now();
            match msg {
                Message::Binary(record) if st.closing.is_none() => {
                    (self.sink)(MtpEvent::Received {
                        link: self.link,
                        peer: self.peer.clone(),
                        reply_to: None,
                        record: Vec::from(record),
                    })
                }
                Message::Text(_) if st.closing.is_none() => {
                    st.reason = Some("text message received (USP Records are binary)".into());
                    self.send_close(st, CloseCode::Unsupported, "USP Records are binary");
                }
                Message::Close(frame) => {
                    let said = frame.map(|f| format!(" ({}: {})", u16::from(f.code), f.reason));
                    st.reason.get_or_insert_with(|| {
                        format!("closed by the peer{}", said.unwrap_or_default())
                    });
                }
                // Pongs to Pings are queued by tungstenite and go out with the next flush.
                _ => {}
            }
        }
    }

    /// The reason for a read error; a message too large or a protocol violation is answered
    /// with a Close frame first (1009 or 1002, 1003 for a text message that is not UTF-8).
    fn read_failed(&mut self, e: WsError, st: &mut State) -> String {
        let close = match &e {
            WsError::Capacity(_) => Some((CloseCode::Size, "message too large")),
            WsError::Protocol(_) => Some((CloseCode::Protocol, "protocol error")),
            WsError::Utf8(_) => Some((CloseCode::Unsupported, "USP Records are binary")),
            _ => None,
        };
        if let Some((code, text)) = close.filter(|_| st.closing.is_none()) {
            let _ = self.ws.close(Some(CloseFrame { code, reason: text.into() }));
            let _ = self.ws.flush();
            return format!("{text}: {e}");
        }
        st.reason.take().unwrap_or_else(|| lost(&e))
    }

    /// Ends the session when a deadline passed; otherwise the time until the next one.
    fn check_deadlines(
        &mut self,
        st: &mut State,
        now: Instant,
    ) -> Result<Option<Duration>, String> {
        let written = self.ws.get_ref().written();
        if written != st.progress_mark {
            st.progress_mark = written;
            st.progress_at = now;
        }
        let mut next: Vec<Instant> = Vec::with_capacity(4);
        if let Some(at) = st.closing {
            if now >= at {
                return Err("the peer did not answer our Close".into());
            }
            next.push(at);
        }
        if st.blocked {
            let at = st.progress_at + WRITE_STALL;
            if now >= at {
                return Err(format!("the peer took no data for {}s", WRITE_STALL.as_secs()));
            }
            next.push(at);
        }
        if !self.keep_alive.is_zero() {
            let silent = self.keep_alive * 3;
            let busy_sending = st.blocked && now < st.progress_at + silent;
            let at = st.last_heard + silent;
            if now >= at && !busy_sending {
                return Err(format!("nothing heard from the peer for {silent:?}"));
            }
            next.push(if now >= at { st.progress_at + silent } else { at });
            next.extend(st.next_ping.filter(|_| st.closing.is_none()));
        }
        Ok(next.into_iter().min().map(|at| at.saturating_duration_since(now)))
    }
}

/// The reason for a connection lost on an I/O or state error.
fn lost(e: &WsError) -> String {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => "connection closed".into(),
        other => format!("connection lost: {other}"),
    }
}
