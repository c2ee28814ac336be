//! One MQTT connection driven from the link's own blocking thread: TCP (and TLS) from
//! [`crate::net`], the protocol from [`Session`], the owner's requests from the [`Handle`]'s
//! queue, and [`wake::wait`] on the socket and the queue at once. No async runtime, no other
//! thread.
//!
//! Owns the I/O loop of one connection: [`Conn::next`] runs it until the session has an event
//! for the link thread. Each turn applies every queued request, reads what the socket has,
//! handles the session's deadlines and writes the session's output in one write (so the
//! held-back PUBACK of a request and the response published meanwhile leave together). Never
//! decides anything about topics or retries (`link.rs`).

use std::io;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use super::MqttConfig;
use super::events::{ConnError, Ev};
use super::requests::{self, Command, Handle};
use super::session::Session;
use crate::net::{self, Transport};
use crate::wake::{self, WakeReceiver, Waker};

/// Reads per turn of the loop before the queue and the clock are looked at again.
const READS_PER_TURN: usize = 64;
/// The read buffer.
const READ_BUFFER: usize = 16 * 1024;

/// The connection as the link thread drives it (see the module documentation).
pub(super) struct Conn {
    /// What to connect to, until the first [`Conn::next`] connects.
    pending: Option<(MqttConfig, String)>,
    io: Option<(Transport, Session)>,
    rx: Receiver<Command>,
    wake: WakeReceiver,
    /// Keeps the wake pair open while the owner's handles come and go.
    _own_waker: Waker,
    buf: Vec<u8>,
    /// The socket may have bytes (or rustls plaintext) to read.
    readable: bool,
    /// The error that ended the connection, reported once the events before it are.
    failed: Option<ConnError>,
}

/// Prepares one connection attempt (nothing is sent, nor connected, until [`Conn::next`] is
/// first called). `client_id` is the ClientId to send (already chosen by R-MQTT.8/11).
pub(super) fn open(cfg: &MqttConfig, client_id: &str) -> Result<(Handle, Conn), String> {
    let (waker, wake) = wake::pair().map_err(|e| format!("cannot create a waker: {e}"))?;
    let (handle, rx) = requests::queue(waker.clone());
    let conn = Conn {
        pending: Some((cfg.clone(), client_id.to_owned())),
        io: None,
        rx,
        wake,
        _own_waker: waker,
        buf: vec![0; READ_BUFFER],
        readable: true,
        failed: None,
    };
    Ok((handle, conn))
}

impl Conn {
    /// Blocks for the next event. `Err` ends the connection.
    pub(super) fn next(&mut self) -> Result<Ev, ConnError> {
        if let Some((cfg, client_id)) = self.pending.take() {
            self.io = Some(start(&cfg, &client_id)?);
        }
        let Some((t, session)) = self.io.as_mut() else { return Err(ConnError::Closed) };
        loop {
            if let Some(ev) = session.poll_event() {
                return Ok(ev);
            }
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
            obey(&self.rx, session)?;
            let more = if self.readable {
                match read_available(t, session, &mut self.buf) {
                    Ok(more) => more,
                    Err(e) => {
                        // The events decoded before the fault go first.
                        self.failed = Some(e);
                        continue;
                    }
                }
            } else {
                false
            };
            let now = Instant::now();
            if session.poll_timeout().is_some_and(|at| at <= now) {
                session.handle_timeout(now)?;
            }
            if let Some(out) = session.take_output(now) {
                t.write_blocking(&out).map_err(|e| ConnError::Io(format!("write: {e}")))?;
            }
            if session.has_events() {
                continue;
            }
            let timeout = if more {
                Some(Duration::ZERO)
            } else {
                session.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()))
            };
            let ready = wake::wait(t.tcp(), &self.wake, timeout)
                .map_err(|e| ConnError::Io(format!("poll: {e}")))?;
            self.readable = more || ready.socket;
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some((t, _)) = self.io.as_mut() {
            t.close();
        }
    }
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

/// Applies every queued request to the session.
fn obey(rx: &Receiver<Command>, session: &mut Session) -> Result<(), ConnError> {
    loop {
        match rx.try_recv() {
            Ok(Command::Publish { dest, record, retain, reply_to }) => {
                session.publish(dest, record, retain, reply_to)
            }
            Ok(Command::Subscribe(filters)) => session.subscribe(&filters)?,
            Ok(Command::Unsubscribe(filter)) => session.unsubscribe(&filter)?,
            Ok(Command::Disconnect) => session.disconnect()?,
            Err(TryRecvError::Empty) => return Ok(()),
            Err(TryRecvError::Disconnected) => return Err(ConnError::QueueClosed),
        }
    }
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
