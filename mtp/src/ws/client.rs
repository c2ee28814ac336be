//! The WebSocket client link: one thread that connects to one peer (TCP, optional TLS, the USP
//! opening handshake), runs the session, and reconnects on the TR-369 schedule.
//!
//! Owns the connection attempts and the retry count; never parses Records and never queues
//! Records while disconnected ([`Link::send`] then says [`SendError::NotConnected`], so the
//! owner can choose another MTP).

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Response;
use tungstenite::http::HeaderValue;

use super::session::{self, CloseWhy, Cmd, HandshakeFail, Session};
use super::stream::{Io, Stream};
use super::{HANDSHAKE_TIMEOUT, RETRY_GROWTH_LIMIT, WsClientConfig, wire};
use crate::retry::{Backoff, seed};
use crate::wake::{self, WakeReceiver, Waker};
use crate::{ConnectInfo, EventSink, Link, LinkId, MtpEvent, Outbound, SendError};

/// The owner's handle on a WebSocket client link (see [`spawn_client`]).
pub struct WsClientLink {
    cmds: Sender<Cmd>,
    /// `None` when the link could not start.
    waker: Option<Waker>,
    connected: Arc<AtomicBool>,
    max_record: usize,
    thread: Option<JoinHandle<()>>,
}

/// Starts a client link towards `config.host:config.port`. It connects at once, then after each
/// failure or lost session waits as [`WsClientConfig::retry`] says. Events: `Up` (with the
/// server's Endpoint ID as `peer` when it answered the `bbf-usp-protocol` extension) once a
/// session is open, `Received` per Record, and `Down` after every lost session *and* every
/// failed attempt, with the wait before the next one.
pub fn spawn_client(id: LinkId, config: WsClientConfig, sink: EventSink) -> WsClientLink {
    let (cmds, rx) = mpsc::channel();
    let connected = Arc::new(AtomicBool::new(false));
    let max_record = config.max_record;
    let (waker, wake) = match wake::pair() {
        Ok(pair) => pair,
        Err(e) => {
            // Without a wake pair the link cannot run; it reports so and stays down.
            sink(MtpEvent::Down {
                link: id,
                peer: None,
                reason: format!("cannot create the wake pair: {e}"),
                retry_in: None,
            });
            return WsClientLink { cmds, waker: None, connected, max_record, thread: None };
        }
    };
    let flag = connected.clone();
    let thread = std::thread::Builder::new()
        .name(format!("ws-client-{id}"))
        .spawn(move || Client { id, config, sink, cmds: rx, wake, connected: flag }.run());
    let thread = match thread {
        Ok(t) => Some(t),
        Err(e) => {
            log::error!("ws link {id}: cannot start its thread: {e}");
            None
        }
    };
    WsClientLink { cmds, waker: Some(waker), connected, max_record, thread }
}

impl WsClientLink {
    /// `Controller.{i}.MTP.{i}.WebSocket.Reset()`: closes the session (if any, with 1000
    /// "reset"), resets the retry count and connects again at once.
    pub fn reset(&self) {
        self.request(Cmd::Close(CloseWhy::Reset));
    }

    /// Whether a session is open now.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    fn request(&self, cmd: Cmd) -> bool {
        let ok = self.cmds.send(cmd).is_ok();
        if let Some(w) = &self.waker {
            w.wake();
        }
        ok
    }
}

impl Link for WsClientLink {
    fn send(&self, out: Outbound) -> Result<(), SendError> {
        if out.record.len() > self.max_record {
            return Err(SendError::TooLarge { max: self.max_record });
        }
        if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            return Err(SendError::Stopped);
        }
        if !self.is_connected() {
            return Err(SendError::NotConnected);
        }
        if self.request(Cmd::Send(out.record)) { Ok(()) } else { Err(SendError::Stopped) }
    }

    fn stop(&mut self) {
        self.request(Cmd::Close(CloseWhy::Stop));
        if let Some(t) = self.thread.take() {
            join_for(t, Duration::from_secs(2));
        }
    }

    /// Closes the session with 1003 (R-WS.16); the link then reconnects on its schedule.
    /// `peer` is ignored: a client link has one peer.
    fn close_unparseable(&self, _peer: Option<&str>) {
        self.request(Cmd::Close(CloseWhy::Unparseable));
    }
}

impl Drop for WsClientLink {
    fn drop(&mut self) {
        self.request(Cmd::Close(CloseWhy::Stop));
    }
}

/// Waits at most `limit` for a thread to end (then leaves it to finish on its own).
pub(crate) fn join_for(t: JoinHandle<()>, limit: Duration) {
    let end = Instant::now() + limit;
    while !t.is_finished() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    if t.is_finished() {
        let _ = t.join();
    }
}

/// The link thread.
struct Client {
    id: LinkId,
    config: WsClientConfig,
    sink: EventSink,
    cmds: Receiver<Cmd>,
    wake: WakeReceiver,
    connected: Arc<AtomicBool>,
}

/// What interrupted an attempt or a wait.
enum Interrupt {
    Stop,
    Reset,
}

impl Client {
    fn run(self) {
        let mut backoff = Backoff::new(self.config.retry, seed()).limit_growth(RETRY_GROWTH_LIMIT);
        loop {
            let (reason, interrupt) = match self.connect() {
                Ok((ws, peer)) => {
                    backoff.reset();
                    let ended = self.session(ws, peer);
                    let interrupt = match ended.why {
                        Some(CloseWhy::Stop) => Some(Interrupt::Stop),
                        Some(CloseWhy::Reset) => Some(Interrupt::Reset),
                        _ => None,
                    };
                    (ended.reason, interrupt)
                }
                Err(Attempt::Interrupted(i)) => (String::new(), Some(i)),
                Err(Attempt::Failed(reason)) => (reason, None),
            };
            let delay = match interrupt {
                Some(Interrupt::Stop) => return,
                Some(Interrupt::Reset) => {
                    backoff.reset();
                    Duration::ZERO
                }
                None => backoff.next_delay(),
            };
            if !reason.is_empty() {
                log::info!("ws link {}: down ({reason}); next attempt in {delay:?}", self.id);
                self.emit_down(reason, Some(delay));
            }
            match self.pause(delay) {
                Some(Interrupt::Stop) => return,
                Some(Interrupt::Reset) => backoff.reset(),
                None => {}
            }
        }
    }

    fn emit_down(&self, reason: String, retry_in: Option<Duration>) {
        (self.sink)(MtpEvent::Down { link: self.id, peer: None, reason, retry_in });
    }

    /// Runs an open session; `Up` before, `connected` cleared after.
    fn session(&self, ws: tungstenite::WebSocket<Io>, peer: Option<String>) -> session::Ended {
        self.connected.store(true, Ordering::Release);
        (self.sink)(MtpEvent::Up {
            link: self.id,
            peer: peer.clone(),
            info: ConnectInfo::WebSocket,
        });
        let ended = Session {
            ws,
            link: self.id,
            peer,
            sink: &self.sink,
            cmds: &self.cmds,
            wake: &self.wake,
            keep_alive: self.config.keep_alive,
        }
        .run();
        self.connected.store(false, Ordering::Release);
        if ended.why == Some(CloseWhy::Stop) {
            self.emit_down(ended.reason.clone(), None);
        }
        ended
    }

    /// Waits `delay` for the next attempt, serving requests (Records are refused while down:
    /// any still queued are dropped).
    fn pause(&self, delay: Duration) -> Option<Interrupt> {
        let end = Instant::now() + delay;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.cmds.recv_timeout(left) {
                Ok(cmd) => {
                    if let Some(i) = interrupt_of(cmd) {
                        return Some(i);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return Some(Interrupt::Stop),
            }
        }
    }

    /// Serves requests that arrived during an attempt: `Some` when one interrupts it.
    fn interrupted(&self) -> Option<Interrupt> {
        loop {
            match self.cmds.try_recv() {
                Ok(cmd) => {
                    if let Some(i) = interrupt_of(cmd) {
                        return Some(i);
                    }
                }
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => return Some(Interrupt::Stop),
            }
        }
    }

    /// One connection attempt: TCP, TLS, the WebSocket handshake, the USP checks.
    fn connect(&self) -> Result<(tungstenite::WebSocket<Io>, Option<String>), Attempt> {
        let c = &self.config;
        let deadline = Instant::now() + HANDSHAKE_TIMEOUT;
        let tcp = tcp_connect(&c.host, c.port, HANDSHAKE_TIMEOUT).map_err(|e| {
            Attempt::Failed(format!("cannot connect to {}:{}: {e}", c.host, c.port))
        })?;
        let _ = tcp.set_nodelay(true);
        tcp.set_nonblocking(true).map_err(|e| Attempt::Failed(e.to_string()))?;
        let (stream, tls) = self.wrap(tcp)?;
        let uri = wire::client_uri(tls, &c.host, c.port, &c.path, &c.endpoint_id);
        let mut request = uri
            .as_str()
            .into_client_request()
            .map_err(|e| Attempt::Failed(format!("{uri}: {e}")))?;
        let headers = request.headers_mut();
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static(wire::SUBPROTOCOL));
        if let Some(ext) = wire::extension_header(&c.endpoint_id) {
            if let Ok(v) = HeaderValue::from_str(&ext) {
                headers.insert("Sec-WebSocket-Extensions", v);
            }
        }
        let config = Some(session::ws_config(c.max_record));
        let start = tungstenite::client::client_with_config(request, Io::new(stream), config);
        let mut interrupt = None;
        let mut abort = || {
            interrupt = self.interrupted();
            interrupt.is_some()
        };
        let (ws, response) = match session::drive(start, &self.wake, deadline, &mut abort) {
            Ok(done) => done,
            Err(HandshakeFail::Aborted) => {
                return Err(Attempt::Interrupted(interrupt.unwrap_or(Interrupt::Stop)));
            }
            Err(HandshakeFail::TimedOut) => {
                return Err(Attempt::Failed(format!("no handshake within {HANDSHAKE_TIMEOUT:?}")));
            }
            Err(HandshakeFail::Failed(e)) => return Err(Attempt::Failed(format!("{uri}: {e}"))),
        };
        let peer = self.check_response(&response).map_err(Attempt::Failed)?;
        Ok((ws, peer))
    }

    /// Adds TLS when configured; tells whether it did.
    fn wrap(&self, tcp: TcpStream) -> Result<(Stream, bool), Attempt> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.config.tls {
            let fail = |e: String| Attempt::Failed(format!("TLS: {e}"));
            let config = crate::tls::client_config(tls).map_err(|e| fail(e.to_string()))?;
            let name =
                crate::tls::server_name(&self.config.host).map_err(|e| fail(e.to_string()))?;
            let conn =
                rustls::ClientConnection::new(config, name).map_err(|e| fail(e.to_string()))?;
            return Ok((Stream::TlsClient(Box::new(rustls::StreamOwned::new(conn, tcp))), true));
        }
        Ok((Stream::Plain(tcp), false))
    }

    /// R-WS.12: the server must have selected `v1.usp`. The `bbf-usp-protocol` extension is
    /// optional (R-WS.11b); when it names an Endpoint ID other than the configured peer's, we
    /// reached the wrong controller. Returns the server's Endpoint ID when it gave one.
    fn check_response(&self, response: &Response) -> Result<Option<String>, String> {
        let selected = response.headers().get("Sec-WebSocket-Protocol");
        if selected.and_then(|v| v.to_str().ok()).map(str::trim) != Some(wire::SUBPROTOCOL) {
            return Err(format!("the server did not select {} (R-WS.12)", wire::SUBPROTOCOL));
        }
        let peer = response
            .headers()
            .get_all("Sec-WebSocket-Extensions")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(wire::extension_eid)
            .flatten();
        match (&peer, &self.config.peer_endpoint_id) {
            (Some(got), Some(want)) if got != want => {
                Err(format!("the server is {got:?}, not the configured {want:?}"))
            }
            _ => Ok(peer),
        }
    }
}

/// Why an attempt did not give a session.
enum Attempt {
    Interrupted(Interrupt),
    Failed(String),
}

/// What a request means while no session is open.
fn interrupt_of(cmd: Cmd) -> Option<Interrupt> {
    match cmd {
        Cmd::Close(CloseWhy::Stop) => Some(Interrupt::Stop),
        Cmd::Close(CloseWhy::Reset) => Some(Interrupt::Reset),
        Cmd::Close(_) => None,
        Cmd::Send(_) => {
            log::debug!("ws link: Record dropped, not connected");
            None
        }
    }
}

/// Connects to the first address of `host:port` that answers within `timeout` each.
fn tcp_connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}
