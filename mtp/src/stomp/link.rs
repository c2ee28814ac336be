//! The STOMP link's thread: a thin blocking driver of [`Session`] over TCP, optionally wrapped
//! in rustls, that reconnects by itself with the TR-369 back-off.
//!
//! What it owns: resolving and connecting (TCP_NODELAY, TLS handshake), reading without blocking
//! whenever [`wake::wait`] says the socket or the owner needs attention (no polling tick: the
//! only timeouts are the session's own deadlines), writing the session's output, translating
//! session events into [`MtpEvent`]s, and the retry schedule (`Down{retry_in}` after every lost
//! or failed connection). What it never does: STOMP framing or protocol decisions (the session
//! does), or interpreting Records.
//!
//! The byte stream (TCP, TLS, blocking writes) is [`crate::net::Transport`].
//!
//! Records handed to [`Link::send`] wait in the thread's channel while it is blocked writing
//! to a broker that reads slowly (each write may block up to [`crate::net::WRITE_TIMEOUT`]);
//! they are counted in bytes and bounded by [`max_queued`]: a Record that does not fit is
//! dropped with a warning (issue 20), as the WebSocket session's outbox does.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::StompConfig;
use super::session::{Close, Event, Session};
use crate::net::Transport;
use crate::retry::Backoff;
use crate::wake::{self, WakeReceiver, Waker};
use crate::{ConnectInfo, EventSink, Link, LinkId, MtpEvent, Outbound, SendError};

/// How long [`Link::stop`] waits for the thread to finish.
const STOP_WAIT: Duration = Duration::from_secs(2);
/// Reads per turn of the loop before the owner's queue and the clock are looked at again.
const READS_PER_TURN: usize = 64;

/// The most bytes of Records waiting for the thread: twice the largest Record plus 1 MiB, as
/// the WebSocket outbox (one Record always fits an empty queue).
pub fn max_queued(max_record: usize) -> usize {
    max_record.saturating_mul(2).saturating_add(1 << 20)
}

/// What the owner asks of the thread.
enum Command {
    Send(Outbound),
    SetDestination(String),
    Stop,
}

/// The owner's handle on a STOMP link (see [`spawn`]). Dropping it stops the link without
/// waiting.
#[derive(Debug)]
pub struct StompLink {
    id: LinkId,
    tx: Sender<Command>,
    waker: Option<Waker>,
    up: Arc<AtomicBool>,
    max_record: usize,
    /// Bytes of Records sent to the thread and not yet taken by it.
    queued: Arc<AtomicUsize>,
    /// Disconnected when the thread ends (in a mutex only so that the handle is `Sync`).
    done: Option<Mutex<Receiver<()>>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Send(o) => write!(f, "Send({} bytes to {})", o.record.len(), o.dest),
            Command::SetDestination(d) => write!(f, "SetDestination({d})"),
            Command::Stop => f.write_str("Stop"),
        }
    }
}

/// Starts a STOMP link: a thread that connects to `config.host:port`, subscribes, reports
/// [`MtpEvent::Up`] with [`ConnectInfo::Stomp`], delivers MESSAGEs as [`MtpEvent::Received`],
/// sends [`Outbound`] Records (`dest` = the STOMP destination), and reconnects after
/// [`MtpEvent::Down`] on its own. If the thread cannot be started, one `Down` with
/// `retry_in: None` is reported and every send fails with [`SendError::Stopped`].
pub fn spawn(id: LinkId, config: StompConfig, sink: EventSink) -> StompLink {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done) = mpsc::channel::<()>();
    let up = Arc::new(AtomicBool::new(false));
    let queued = Arc::new(AtomicUsize::new(0));
    let max_record = config.max_record;
    let pair = wake::pair();
    let waker = pair.as_ref().ok().map(|(w, _)| w.clone());
    let started = pair.and_then(|(own_waker, wake)| {
        let mut worker = Worker {
            id,
            backoff: Backoff::new(config.retry, crate::retry::seed() ^ u64::from(id)),
            config,
            sink: sink.clone(),
            rx,
            wake,
            _own_waker: own_waker,
            up: up.clone(),
            queued: queued.clone(),
            stopping: false,
        };
        std::thread::Builder::new().name(format!("stomp-{id}")).spawn(move || {
            worker.run();
            drop(done_tx);
        })
    });
    let thread = match started {
        Ok(t) => Some(t),
        Err(e) => {
            let reason = format!("cannot start the STOMP link: {e}");
            sink(MtpEvent::Down { link: id, peer: None, reason, retry_in: None });
            None
        }
    };
    let done = thread.as_ref().map(|_| Mutex::new(done));
    StompLink { id, tx, waker, up, max_record, queued, done, thread }
}

impl StompLink {
    /// The link's id.
    pub fn id(&self) -> LinkId {
        self.id
    }

    /// Connected and subscribed (as last reported by the thread).
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// `LocalAgent.MTP.{i}.STOMP.Destination` changed: when the server gave no
    /// `subscribe-dest`, the link re-subscribes (UNSUBSCRIBE + SUBSCRIBE, then a new
    /// [`MtpEvent::Up`]); an empty value disconnects and disables the link until a non-empty
    /// one is set (R-STOMP.17). A link disabled for lack of a destination reconnects at once
    /// when given one.
    pub fn set_destination(&self, destination: &str) {
        self.command(Command::SetDestination(destination.to_owned()));
    }

    /// Bytes of Records handed to [`Link::send`] that the thread has not taken yet (at most
    /// [`max_queued`] of the link's `max_record`, or one Record).
    pub fn queued_bytes(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    fn command(&self, c: Command) -> bool {
        let sent = self.tx.send(c).is_ok();
        if let Some(w) = &self.waker {
            w.wake();
        }
        sent
    }
}

impl Link for StompLink {
    fn send(&self, out: Outbound) -> Result<(), SendError> {
        if out.record.len() > self.max_record {
            return Err(SendError::TooLarge { max: self.max_record });
        }
        if self.done.is_none() {
            return Err(SendError::Stopped);
        }
        if !self.is_up() {
            return Err(SendError::NotConnected);
        }
        let size = out.record.len();
        let waiting = self.queued.fetch_add(size, Ordering::AcqRel);
        if waiting > 0 && waiting + size > max_queued(self.max_record) {
            self.queued.fetch_sub(size, Ordering::AcqRel);
            log::warn!(
                "STOMP link {}: {size}-byte Record dropped: {waiting} bytes wait for a slow broker",
                self.id
            );
            return Ok(());
        }
        if self.command(Command::Send(out)) { Ok(()) } else { Err(SendError::Stopped) }
    }

    fn stop(&mut self) {
        self.command(Command::Stop);
        if let Some(done) = self.done.take() {
            let done = done.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
            if done.recv_timeout(STOP_WAIT) == Err(RecvTimeoutError::Disconnected) {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
        }
    }
}

impl Drop for StompLink {
    fn drop(&mut self) {
        self.command(Command::Stop);
    }
}

/// How one connection ended.
enum Outcome {
    /// The owner stopped the link.
    Stopped,
    /// No destination (R-STOMP.17): wait for one.
    Disabled(String),
    /// Lost or refused: retry after the back-off.
    Lost(String),
}

/// The thread's state.
struct Worker {
    id: LinkId,
    config: StompConfig,
    sink: EventSink,
    rx: Receiver<Command>,
    wake: WakeReceiver,
    /// Keeps the wake pair open after the owner's handle is gone, so that [`wake::wait`] keeps
    /// blocking during the final DISCONNECT instead of reporting wakes in a loop.
    _own_waker: Waker,
    up: Arc<AtomicBool>,
    /// The owner's count of bytes waiting in `rx` (see [`StompLink::queued_bytes`]).
    queued: Arc<AtomicUsize>,
    backoff: Backoff,
    stopping: bool,
}

impl Worker {
    fn run(&mut self) {
        loop {
            #[cfg(feature = "tls")]
            let tls = self.config.tls.as_ref();
            #[cfg(not(feature = "tls"))]
            let tls = None;
            let outcome = match crate::net::connect(&self.config.host, self.config.port, tls) {
                Ok(transport) => self.serve(transport),
                Err(e) => Outcome::Lost(format!("cannot connect: {e}")),
            };
            self.up.store(false, Ordering::Release);
            let outcome = if self.stopping { Outcome::Stopped } else { outcome };
            let (reason, retry_in) = match outcome {
                Outcome::Stopped => ("stopped".to_owned(), None),
                Outcome::Disabled(reason) => (reason, None),
                Outcome::Lost(reason) => (reason, Some(self.backoff.next_delay())),
            };
            log::info!("STOMP link {}: down ({reason}), retry in {retry_in:?}", self.id);
            let disabled = retry_in.is_none() && !self.stopping;
            self.emit(MtpEvent::Down { link: self.id, peer: None, reason, retry_in });
            let go_on = match retry_in {
                Some(delay) => self.pause(delay),
                None if disabled => self.park(),
                None => false,
            };
            if !go_on {
                if retry_in.is_some() || disabled {
                    // Stopped while waiting: the last Down promised more; say it is over.
                    let reason = "stopped".to_owned();
                    self.emit(MtpEvent::Down { link: self.id, peer: None, reason, retry_in: None });
                }
                return;
            }
        }
    }

    /// `out` left the channel: its bytes no longer wait.
    fn taken(&self, out: &Outbound) {
        self.queued.fetch_sub(out.record.len(), Ordering::AcqRel);
    }

    fn emit(&self, event: MtpEvent) {
        (self.sink)(event);
    }

    /// Waits out a retry delay while obeying the owner; `false` when stopped.
    fn pause(&mut self, delay: Duration) -> bool {
        let end = Instant::now() + delay;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            match self.rx.recv_timeout(left) {
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
                Ok(Command::SetDestination(d)) => self.config.destination = d,
                Ok(Command::Send(out)) => {
                    self.taken(&out);
                    log::debug!("STOMP link {}: dropped a Record (down)", self.id)
                }
                Err(RecvTimeoutError::Timeout) => return true,
            }
        }
    }

    /// Waits, disabled, for a non-empty destination; `false` when stopped.
    fn park(&mut self) -> bool {
        loop {
            match self.rx.recv() {
                Ok(Command::SetDestination(d)) if !d.is_empty() => {
                    self.config.destination = d;
                    self.backoff.reset();
                    return true;
                }
                Ok(Command::Send(out)) => self.taken(&out),
                Ok(Command::SetDestination(_)) => {}
                Ok(Command::Stop) | Err(_) => return false,
            }
        }
    }

    /// Runs one connection until it ends.
    fn serve(&mut self, mut t: Transport) -> Outcome {
        let mut session = Session::new(&self.config, Instant::now());
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            self.obey_owner(&mut session);
            let more = match read_available(&mut t, &mut session, &mut buf) {
                Ok(more) => more,
                Err(reason) => {
                    // Deliver what arrived before the end; a closing frame (ERROR) says more than
                    // the lost connection.
                    while let Some(event) = session.poll_event() {
                        if let Some(outcome) = self.on_event(event) {
                            return outcome;
                        }
                    }
                    return Outcome::Lost(reason);
                }
            };
            let now = Instant::now();
            if session.poll_timeout().is_some_and(|at| at <= now) {
                session.handle_timeout(now);
            }
            let out = session.take_output();
            if !out.is_empty() {
                if let Err(e) = t.write_blocking(&out) {
                    return Outcome::Lost(format!("write failed: {e}"));
                }
            }
            while let Some(event) = session.poll_event() {
                if let Some(outcome) = self.on_event(event) {
                    t.close();
                    return outcome;
                }
            }
            // Bytes may still wait (in rustls, invisible to poll) when the read turn was cut.
            let timeout = if more {
                Some(Duration::ZERO)
            } else {
                session.poll_timeout().map(|at| at.saturating_duration_since(Instant::now()))
            };
            if let Err(e) = wake::wait(t.tcp(), &self.wake, timeout) {
                return Outcome::Lost(format!("poll failed: {e}"));
            }
        }
    }

    /// Applies every queued owner command to the session.
    fn obey_owner(&mut self, session: &mut Session) {
        loop {
            let now = Instant::now();
            match self.rx.try_recv() {
                Ok(Command::Send(out)) => {
                    self.taken(&out);
                    if let Err(e) = session.send(now, &out.dest, out.record) {
                        log::debug!("STOMP link {}: Record to {} not sent: {e}", self.id, out.dest);
                    }
                }
                Ok(Command::SetDestination(d)) => {
                    session.set_destination(now, &d);
                    self.config.destination = d;
                }
                Ok(Command::Stop) | Err(TryRecvError::Disconnected) => {
                    // Later commands no longer matter: the link is ending.
                    if !self.stopping {
                        self.stopping = true;
                        session.close(now);
                    }
                    return;
                }
                Err(TryRecvError::Empty) => return,
            }
        }
    }

    /// Reports a session event; returns how the connection ended when it did.
    fn on_event(&mut self, event: Event) -> Option<Outcome> {
        match event {
            Event::Up { subscribed_destination, destination_from_server } => {
                log::info!("STOMP link {}: up on {subscribed_destination}", self.id);
                self.backoff.reset();
                self.up.store(true, Ordering::Release);
                let info = ConnectInfo::Stomp { subscribed_destination, destination_from_server };
                self.emit(MtpEvent::Up { link: self.id, peer: None, info });
                None
            }
            Event::Received { reply_to, record } => {
                self.emit(MtpEvent::Received { link: self.id, peer: None, reply_to, record });
                None
            }
            Event::Closed(Close::Stopped) => Some(Outcome::Stopped),
            Event::Closed(c @ Close::NoDestination) => Some(Outcome::Disabled(c.to_string())),
            Event::Closed(c) => Some(Outcome::Lost(c.to_string())),
        }
    }
}

/// Feeds the session everything readable now, at most [`READS_PER_TURN`] reads; `Ok(true)`
/// when that limit cut the turn short, `Err` when the connection is gone.
fn read_available(
    t: &mut Transport,
    session: &mut Session,
    buf: &mut [u8],
) -> Result<bool, String> {
    for _ in 0..READS_PER_TURN {
        if session.is_closed() {
            return Ok(false);
        }
        match t.read(buf) {
            Ok(0) => return Err("connection closed by the server".into()),
            Ok(n) => session.handle_bytes(Instant::now(), &buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
    Ok(true)
}
