//! One MQTT connection driven from the link's own blocking thread: TCP (and TLS) from
//! [`crate::net`], the protocol from [`Session`], and [`wake::wait`] on the socket and the
//! owner's wakes at once. No async runtime, no other thread.
//!
//! Owns the reading side of one connection: [`Conn::next`] runs the loop until the session has
//! an event for the link thread. Each turn reads what the socket has, handles the session's
//! deadlines and writes what the session still holds (held-back acknowledgements, what an
//! owner's write left), never blocking while it holds the connection's lock: output the socket
//! does not take waits for it to become writable (at most [`net::WRITE_TIMEOUT`], then the
//! connection ends), so an owner's thread never waits for a slow broker. The owner's requests do not pass
//! through this thread: [`Handle`] writes them itself (so the held-back PUBACK of a request and
//! the response leave in the owner's single write). Never decides anything about topics or
//! retries (`link.rs`).

use std::collections::VecDeque;
use std::io;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::MqttConfig;
use super::events::{ConnError, Ev};
use super::requests::{self, Handle, Slot, Wire};
use super::session::Session;
use crate::net::{self, Transport};
use crate::wake::{self, WakeReceiver, Waker};

/// Reads per turn of the loop before the clock is looked at again.
const READS_PER_TURN: usize = 64;
/// The read buffer.
const READ_BUFFER: usize = 16 * 1024;

/// The connection as the link thread drives it (see the module documentation).
pub(super) struct Conn {
    /// What to connect to, until the first [`Conn::next`] connects.
    pending: Option<(MqttConfig, String)>,
    slot: Slot,
    /// The socket to poll (a second handle on the wire's socket, so that waiting needs no lock).
    poll: Option<TcpStream>,
    wake: WakeReceiver,
    /// Keeps the wake pair open while the owner's handles come and go.
    _own_waker: Waker,
    buf: Vec<u8>,
    /// The socket may have bytes (or rustls plaintext) to read.
    readable: bool,
    /// Output waits for the socket to take it.
    want_write: bool,
    /// Since when output has been waiting for the socket.
    stalled_since: Option<Instant>,
    /// A turn is due (something happened since the last one).
    due: bool,
    /// When the next turn is due at the latest (from the session's deadlines).
    deadline: Option<Instant>,
    /// Events taken from the session, for the link thread.
    events: VecDeque<Ev>,
    /// The error that ended the connection, reported once the events before it are.
    failed: Option<ConnError>,
}

/// Prepares one connection attempt (nothing is sent, nor connected, until [`Conn::next`] is
/// first called). `client_id` is the ClientId to send (already chosen by R-MQTT.8/11).
pub(super) fn open(cfg: &MqttConfig, client_id: &str) -> Result<(Handle, Conn), String> {
    let (waker, wake) = wake::pair().map_err(|e| format!("cannot create a waker: {e}"))?;
    let slot: Slot = Arc::new(Mutex::new(None));
    let handle = Handle::new(Arc::clone(&slot), waker.clone());
    let conn = Conn {
        pending: Some((cfg.clone(), client_id.to_owned())),
        slot,
        poll: None,
        wake,
        _own_waker: waker,
        buf: vec![0; READ_BUFFER],
        readable: true,
        want_write: false,
        stalled_since: None,
        due: true,
        deadline: None,
        events: VecDeque::new(),
        failed: None,
    };
    Ok((handle, conn))
}

impl Conn {
    /// Blocks for the next event. `Err` ends the connection.
    pub(super) fn next(&mut self) -> Result<Ev, ConnError> {
        if let Some((cfg, client_id)) = self.pending.take() {
            let (t, session) = start(&cfg, &client_id)?;
            let poll = t.tcp().try_clone().map_err(|e| ConnError::Connect(e.to_string()))?;
            self.poll = Some(poll);
            *requests::lock(&self.slot) = Some(Wire { t, session, failed: None });
        }
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Ok(ev);
            }
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
            if std::mem::take(&mut self.due) {
                let now = Instant::now();
                self.deadline = self.turn()?.map(|d| now + d);
                if !self.events.is_empty() || self.failed.is_some() {
                    continue;
                }
            }
            // The deadline of the last turn: an owner's request since then can only have moved
            // it later (a request needing this thread sooner wakes it), so at worst the wait
            // ends early.
            let timeout = self.deadline.map(|at| at.saturating_duration_since(Instant::now()));
            let Some(poll) = &self.poll else { return Err(ConnError::Closed) };
            let ready = wake::wait_io(poll, &self.wake, timeout, self.want_write)
                .map_err(|e| ConnError::Io(format!("poll: {e}")))?;
            self.readable = self.readable || ready.socket;
            let passed = self.deadline.is_some_and(|at| at <= Instant::now());
            self.due = self.readable || ready.woken || ready.writable || passed;
        }
    }

    /// One turn under the wire's lock: read, deadlines, write, collect the events. Returns how
    /// long to wait for the next turn.
    fn turn(&mut self) -> Result<Option<Duration>, ConnError> {
        let mut slot = requests::lock(&self.slot);
        let Some(Wire { t, session, failed }) = slot.as_mut() else {
            return Err(ConnError::Closed);
        };
        if let Some(e) = failed.take() {
            return Err(e);
        }
        let mut more = false;
        if std::mem::take(&mut self.readable) {
            match read_available(t, session, &mut self.buf) {
                Ok(m) => more = m,
                // The events decoded before the fault go first.
                Err(e) => self.failed = Some(e),
            }
        }
        self.readable = more;
        let now = Instant::now();
        if session.poll_timeout().is_some_and(|at| at <= now) {
            session.handle_timeout(now)?;
        }
        let unsent = write_available(t, session, now)?;
        if !unsent {
            session.written();
        }
        while let Some(ev) = session.poll_event() {
            self.events.push_back(ev);
        }
        // Output the socket did not take: wait until it can take more, at most WRITE_TIMEOUT.
        let stall_end = if unsent {
            let since = *self.stalled_since.get_or_insert(now);
            if now.duration_since(since) >= net::WRITE_TIMEOUT {
                return Err(ConnError::Io("write: timed out".into()));
            }
            Some(since + net::WRITE_TIMEOUT)
        } else {
            self.stalled_since = None;
            None
        };
        self.want_write = unsent;
        let deadline = [session.poll_timeout(), stall_end].into_iter().flatten().min();
        Ok(if more {
            Some(Duration::ZERO)
        } else {
            deadline.map(|at| at.saturating_duration_since(Instant::now()))
        })
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Out of the slot first: the close may block, the owner's threads must not.
        let wire = requests::lock(&self.slot).take();
        if let Some(mut wire) = wire {
            wire.t.close();
        }
    }
}

/// Writes what the session has to send now without blocking; `Ok(true)` when bytes are left
/// for when the socket can take them (kept by the session, or as TLS records in rustls).
fn write_available(
    t: &mut Transport,
    session: &mut Session,
    now: Instant,
) -> Result<bool, ConnError> {
    let out = match session.take_output(now) {
        Some(out) => out,
        // TLS records an earlier write left in rustls.
        None if t.has_pending() => bytes::BytesMut::new(),
        None => return Ok(false),
    };
    match t.try_write(&out) {
        Ok(n) => {
            let mut out = out;
            session.unwrite(out.split_off(n));
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {
            session.unwrite(out)
        }
        Err(e) => return Err(ConnError::Io(format!("write: {e}"))),
    }
    Ok(session.has_unsent() || t.has_pending())
}

/// TCP (and TLS) up, CONNECT queued.
fn start(cfg: &MqttConfig, client_id: &str) -> Result<(Transport, Session), ConnError> {
    #[cfg(feature = "tls")]
    let tls = cfg.tls.as_ref();
    #[cfg(not(feature = "tls"))]
    let tls = None;
    let t = net::connect(&cfg.host, cfg.port, tls).map_err(ConnError::Connect)?;
    let session = Session::new(cfg, client_id, Instant::now())?;
    Ok((t, session))
}

/// Feeds the session what the socket has, at most [`READS_PER_TURN`] reads; `Ok(true)` when
/// that limit cut the turn short.
fn read_available(
    t: &mut Transport,
    session: &mut Session,
    buf: &mut [u8],
) -> Result<bool, ConnError> {
    for _ in 0..READS_PER_TURN {
        match t.read(buf) {
            Ok(0) => return Err(ConnError::Closed),
            Ok(n) => {
                session.handle_bytes(Instant::now(), &buf[..n])?;
                // Plain TCP: a short read emptied the socket (poll tells when more comes).
                if t.is_plain() && n < buf.len() {
                    return Ok(false);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ConnError::Io(format!("read: {e}"))),
        }
    }
    Ok(true)
}
