//! The WebSocket server link: listening sockets (one thread each) and one thread per session,
//! from TLS and the USP opening handshake to the end of the session; the table of open
//! sessions by peer Endpoint ID (one per peer, R-WS.4).
//!
//! Owns admission (path, `v1.usp`, the peer's Endpoint ID, the session and handshake limits,
//! the handshake timeout) and per-peer Up/Down events; never parses Records.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::{HeaderValue, StatusCode};

use super::client::join_for;
use super::session::{self, CloseWhy, Cmd, HandshakeFail, Session};
use super::stream::{Io, Stream};
use super::{WsServerConfig, wire};
use crate::wake::{self, WakeReceiver, Waker};
use crate::{ConnectInfo, EventSink, Link, LinkId, MtpEvent, Outbound, SendError};

/// The owner's handle on a WebSocket server link (see [`spawn_server`]).
pub struct WsServerLink {
    shared: Arc<Shared>,
    listeners: Vec<(JoinHandle<()>, Waker)>,
    addrs: Vec<SocketAddr>,
}

/// What the listener and session threads share with the handle.
struct Shared {
    id: LinkId,
    config: WsServerConfig,
    #[cfg(feature = "tls")]
    tls: Option<Arc<rustls::ServerConfig>>,
    sink: EventSink,
    stopping: AtomicBool,
    /// Open sessions by peer Endpoint ID.
    sessions: Mutex<HashMap<String, Entry>>,
    /// Held (outside `sessions`) while a table change and its Up/Down events happen, so that a
    /// peer's events come in order while the sink may still call [`Link::send`].
    events: Mutex<()>,
    /// Connections still in their handshake, by serial (to wake them when stopping).
    handshaking: Mutex<HashMap<u64, Waker>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// 32-bit: MIPS32 has no 64-bit atomics; a wrap needs 4 billion handshakes in flight.
    next_serial: AtomicU32,
}

/// An open session as the table knows it.
struct Entry {
    serial: u64,
    cmds: Sender<Cmd>,
    waker: Waker,
}

/// Starts a server link listening on every address of `config.listen`. Binding errors (and a
/// TLS configuration that cannot be built, as `InvalidInput`) are returned; afterwards the
/// link reports through `sink`: `Up{peer: Some(eid)}` when a session opens, `Received{peer}`
/// per Record, `Down{peer, retry_in: None}` when it ends. A new session from a peer that
/// already has one replaces it: `Down` for the old one, then `Up` for the new one.
pub fn spawn_server(
    id: LinkId,
    config: WsServerConfig,
    sink: EventSink,
) -> Result<WsServerLink, io::Error> {
    if config.listen.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on"));
    }
    #[cfg(feature = "tls")]
    let tls = match &config.tls {
        Some(t) => Some(
            crate::tls::server_config(t)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?,
        ),
        None => None,
    };
    let mut bound = Vec::with_capacity(config.listen.len());
    for addr in &config.listen {
        let listener = TcpListener::bind(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        listener.set_nonblocking(true)?;
        bound.push(listener);
    }
    let shared = Arc::new(Shared {
        id,
        config,
        #[cfg(feature = "tls")]
        tls,
        sink,
        stopping: AtomicBool::new(false),
        sessions: Mutex::new(HashMap::new()),
        events: Mutex::new(()),
        handshaking: Mutex::new(HashMap::new()),
        threads: Mutex::new(Vec::new()),
        next_serial: AtomicU32::new(1),
    });
    let mut link =
        WsServerLink { shared: shared.clone(), listeners: Vec::new(), addrs: Vec::new() };
    for listener in bound {
        link.addrs.push(listener.local_addr()?);
        let (waker, wake) = wake::pair()?;
        let shared = shared.clone();
        let t = std::thread::Builder::new()
            .name(format!("ws-listen-{id}"))
            .spawn(move || listen(&shared, &listener, &wake))?;
        link.listeners.push((t, waker));
    }
    Ok(link)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl WsServerLink {
    /// The addresses actually bound (a port 0 in the configuration is resolved here).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The Endpoint IDs of the peers with an open session.
    pub fn peers(&self) -> Vec<String> {
        let mut peers: Vec<String> = lock(&self.shared.sessions).keys().cloned().collect();
        peers.sort();
        peers
    }

    /// Tells every thread to stop, without waiting.
    fn signal_stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for (_, w) in &self.listeners {
            w.wake();
        }
        for e in lock(&self.shared.sessions).values() {
            let _ = e.cmds.send(Cmd::Close(CloseWhy::Stop));
            e.waker.wake();
        }
        for w in lock(&self.shared.handshaking).values() {
            w.wake();
        }
    }
}

impl Link for WsServerLink {
    /// Sends on the session of `out.dest` (a peer Endpoint ID).
    fn send(&self, out: Outbound) -> Result<(), SendError> {
        let max = self.shared.config.max_record;
        if out.record.len() > max {
            return Err(SendError::TooLarge { max });
        }
        if self.shared.stopping.load(Ordering::SeqCst) {
            return Err(SendError::Stopped);
        }
        let sessions = lock(&self.shared.sessions);
        let entry = sessions.get(&out.dest).ok_or(SendError::NotConnected)?;
        entry.cmds.send(Cmd::Send(out.record)).map_err(|_| SendError::NotConnected)?;
        entry.waker.wake();
        Ok(())
    }

    fn stop(&mut self) {
        self.signal_stop();
        let end = Instant::now() + Duration::from_secs(2);
        for (t, _) in self.listeners.drain(..) {
            join_for(t, end.saturating_duration_since(Instant::now()));
        }
        let threads: Vec<JoinHandle<()>> = lock(&self.shared.threads).drain(..).collect();
        for t in threads {
            join_for(t, end.saturating_duration_since(Instant::now()));
        }
    }

    /// Closes `peer`'s session with 1003 (R-WS.16); without a `peer`, or for a peer with no
    /// session, nothing happens.
    fn close_unparseable(&self, peer: Option<&str>) {
        let sessions = lock(&self.shared.sessions);
        if let Some(e) = peer.and_then(|p| sessions.get(p)) {
            let _ = e.cmds.send(Cmd::Close(CloseWhy::Unparseable));
            e.waker.wake();
        }
    }
}

impl Drop for WsServerLink {
    fn drop(&mut self) {
        self.signal_stop();
    }
}

/// A listening socket's thread: accepts until the link stops.
fn listen(shared: &Arc<Shared>, listener: &TcpListener, wake: &WakeReceiver) {
    while !shared.stopping.load(Ordering::SeqCst) {
        if let Err(e) = wake::wait(listener, wake, None) {
            log::error!("ws link {}: poll failed: {e}", shared.id);
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        loop {
            if shared.stopping.load(Ordering::SeqCst) {
                return;
            }
            match listener.accept() {
                Ok((tcp, addr)) => admit(shared, tcp, addr),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // Out of descriptors and the like: the socket stays readable, so pause
                    // instead of spinning.
                    log::warn!("ws link {}: accept failed: {e}", shared.id);
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
        }
    }
}

/// Starts a session thread for a new connection, unless too many are still handshaking.
fn admit(shared: &Arc<Shared>, tcp: TcpStream, addr: SocketAddr) {
    let limit = shared.config.max_sessions.max(4);
    let mut handshaking = lock(&shared.handshaking);
    if handshaking.len() >= limit {
        log::warn!("ws link {}: {addr} dropped: {limit} connections still handshaking", shared.id);
        return;
    }
    let (waker, wake) = match wake::pair() {
        Ok(pair) => pair,
        Err(e) => {
            log::warn!("ws link {}: {addr} dropped: {e}", shared.id);
            return;
        }
    };
    let serial = u64::from(shared.next_serial.fetch_add(1, Ordering::Relaxed));
    handshaking.insert(serial, waker.clone());
    drop(handshaking);
    let s = shared.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("ws-session-{}", shared.id))
        .spawn(move || serve(&s, tcp, addr, serial, waker, &wake));
    let mut threads = lock(&shared.threads);
    threads.retain(|t| !t.is_finished());
    match spawned {
        Ok(t) => threads.push(t),
        Err(e) => {
            lock(&shared.handshaking).remove(&serial);
            log::warn!("ws link {}: {addr} dropped: no thread: {e}", shared.id);
        }
    }
}

/// A session thread: handshake, registration, the session, unregistration.
fn serve(
    shared: &Arc<Shared>,
    tcp: TcpStream,
    addr: SocketAddr,
    serial: u64,
    waker: Waker,
    wake: &WakeReceiver,
) {
    let accepted = handshake(shared, tcp, wake);
    lock(&shared.handshaking).remove(&serial);
    let (ws, eid) = match accepted {
        Ok(done) => done,
        Err(reason) => {
            log::info!("ws link {}: {addr}: no session: {reason}", shared.id);
            return;
        }
    };
    let (tx, rx) = mpsc::channel();
    let registered = register(shared, &eid, Entry { serial, cmds: tx.clone(), waker });
    if !registered {
        let stopping = shared.stopping.load(Ordering::SeqCst);
        let _ = tx.send(Cmd::Close(if stopping { CloseWhy::Stop } else { CloseWhy::Refused }));
    }
    let c = &shared.config;
    let ended = Session {
        ws,
        link: shared.id,
        peer: Some(eid.clone()),
        sink: &shared.sink,
        cmds: &rx,
        wake,
        keep_alive: c.keep_alive,
    }
    .run();
    log::info!("ws link {}: session of {eid:?} from {addr} ended: {}", shared.id, ended.reason);
    let _events = lock(&shared.events);
    let mut sessions = lock(&shared.sessions);
    let ours = sessions.get(&eid).is_some_and(|e| e.serial == serial);
    if ours {
        sessions.remove(&eid);
    }
    drop(sessions);
    if ours {
        (shared.sink)(MtpEvent::Down {
            link: shared.id,
            peer: Some(eid),
            reason: ended.reason,
            retry_in: None,
        });
    }
}

/// Enters a session in the table and reports it (Down for the session it replaces, then Up).
/// `false` when the session must be refused: the link is stopping, or it has its most sessions
/// and this peer has none.
fn register(shared: &Shared, eid: &str, entry: Entry) -> bool {
    let _events = lock(&shared.events);
    let mut sessions = lock(&shared.sessions);
    if shared.stopping.load(Ordering::SeqCst) {
        return false;
    }
    if !sessions.contains_key(eid) && sessions.len() >= shared.config.max_sessions {
        log::warn!("ws link {}: {eid:?} refused: {} sessions open", shared.id, sessions.len());
        return false;
    }
    let replaced = sessions.insert(eid.to_owned(), entry);
    drop(sessions);
    let link = shared.id;
    if let Some(old) = replaced {
        let _ = old.cmds.send(Cmd::Close(CloseWhy::Replaced));
        old.waker.wake();
        let reason = "replaced by a newer session from the same peer".to_owned();
        (shared.sink)(MtpEvent::Down { link, peer: Some(eid.to_owned()), reason, retry_in: None });
    }
    (shared.sink)(MtpEvent::Up { link, peer: Some(eid.to_owned()), info: ConnectInfo::WebSocket });
    true
}

/// TLS (when configured) and the WebSocket handshake, within the handshake timeout.
fn handshake(
    shared: &Shared,
    tcp: TcpStream,
    wake: &WakeReceiver,
) -> Result<(tungstenite::WebSocket<Io>, String), String> {
    let deadline = Instant::now() + shared.config.handshake_timeout;
    let _ = tcp.set_nodelay(true);
    tcp.set_nonblocking(true).map_err(|e| e.to_string())?;
    let stream = wrap(shared, tcp)?;
    let mut peer = None;
    // tungstenite's callback signature, whose refusal is a whole HTTP response.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let (eid, offered_extension) =
            check_request(shared, req).map_err(|(status, text)| refusal(status, text))?;
        let headers = resp.headers_mut();
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static(wire::SUBPROTOCOL));
        let ours = wire::extension_header(&shared.config.endpoint_id);
        if let Some(v) = ours.filter(|_| offered_extension).and_then(|h| h.parse().ok()) {
            headers.insert("Sec-WebSocket-Extensions", v);
        }
        peer = Some(eid);
        Ok(resp)
    };
    let config = Some(session::ws_config(shared.config.max_record));
    let start = tungstenite::accept_hdr_with_config(Io::new(stream), callback, config);
    let mut abort = || shared.stopping.load(Ordering::SeqCst);
    let ws = session::drive(start, wake, deadline, &mut abort).map_err(|e| match e {
        HandshakeFail::Aborted => "the link is stopping".to_owned(),
        HandshakeFail::TimedOut => {
            format!("no handshake within {:?}", shared.config.handshake_timeout)
        }
        HandshakeFail::Failed(e) => e,
    })?;
    let peer = peer.ok_or("handshake completed without a request")?;
    check_certificate(shared, ws.get_ref(), &peer)?;
    Ok((ws, peer))
}

/// TR-369 R-SEC.0a: the Endpoint ID a session claims must be one its client certificate
/// names (`urn:bbf:usp:id:…` in the subjectAltName, a wildcarded one as R-SEC.11/12 allow,
/// or a dNSName for an `fqdn::` ID; see [`crate::endpoint_id`]). A certificate naming none is
/// taken only
/// when certificates are not required (it still proved a trusted CA signed it).
fn check_certificate(shared: &Shared, io: &Io, peer: &str) -> Result<(), String> {
    let required = {
        #[cfg(feature = "tls")]
        {
            shared.config.tls.as_ref().is_some_and(|t| t.require_client_cert)
        }
        #[cfg(not(feature = "tls"))]
        {
            let _ = shared;
            false
        }
    };
    match io.peer_endpoint_ids() {
        Some(ids) if crate::endpoint_id::any_covers(&ids, peer) => Ok(()),
        Some(ids) if !ids.is_empty() => Err(format!(
            "the session claims Endpoint ID {peer:?} but the client certificate names {ids:?}"
        )),
        _ if required => Err(format!(
            "the client certificate of {peer:?} names no Endpoint ID (urn:bbf:usp:id:)"
        )),
        _ => Ok(()),
    }
}

/// Adds server-side TLS when configured.
fn wrap(shared: &Shared, tcp: TcpStream) -> Result<Stream, String> {
    #[cfg(feature = "tls")]
    if let Some(config) = &shared.tls {
        let conn = rustls::ServerConnection::new(config.clone()).map_err(|e| e.to_string())?;
        return Ok(Stream::TlsServer(Box::new(rustls::StreamOwned::new(conn, tcp))));
    }
    let _ = shared;
    Ok(Stream::Plain(tcp))
}

/// Admission of an opening handshake: the path, `v1.usp` (R-WS.12a), the peer's Endpoint ID
/// (query `eid`, else the `bbf-usp-protocol` extension), the session limit. Returns the peer
/// and whether it offered the extension (to be answered, R-WS.11a).
fn check_request(
    shared: &Shared,
    req: &Request,
) -> Result<(String, bool), (StatusCode, &'static str)> {
    let c = &shared.config;
    if !wire::path_matches(&c.path, req.uri().path()) {
        return Err((StatusCode::NOT_FOUND, "no USP endpoint at this path"));
    }
    let values = |name: &str| -> Vec<String> {
        let all = req.headers().get_all(name).iter();
        all.filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
    };
    if !values("Sec-WebSocket-Protocol").iter().any(|v| wire::offers_subprotocol(v)) {
        return Err((StatusCode::BAD_REQUEST, "Sec-WebSocket-Protocol must offer v1.usp"));
    }
    let extension = values("Sec-WebSocket-Extensions").iter().find_map(|v| wire::extension_eid(v));
    let eid = wire::eid_from_query(req.uri().query())
        .or_else(|| extension.clone().flatten())
        .ok_or((StatusCode::BAD_REQUEST, "no Endpoint ID (eid query parameter)"))?;
    let sessions = lock(&shared.sessions);
    if !sessions.contains_key(&eid) && sessions.len() >= c.max_sessions {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "too many sessions"));
    }
    Ok((eid, extension.is_some()))
}

/// An HTTP refusal with a short text body.
fn refusal(status: StatusCode, text: &str) -> ErrorResponse {
    let mut resp = ErrorResponse::new(Some(format!("{text}\n")));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert("Content-Type", HeaderValue::from_static("text/plain"));
    headers.insert("Content-Length", HeaderValue::from(text.len() + 1));
    headers.insert("Connection", HeaderValue::from_static("close"));
    resp
}
