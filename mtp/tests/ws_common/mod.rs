//! Helpers of the WebSocket link tests: an event sink that the test can wait on, link
//! configurations on free loopback ports, and a raw tungstenite peer (blocking, so that a test
//! can misbehave on purpose) that is not our link code.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::Response;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::WebSocket;
use usp_mtp::retry::RetryPolicy;
use usp_mtp::ws::{WsClientConfig, WsServerConfig};
use usp_mtp::{EventSink, MtpEvent};

/// Generous: a slow CI machine must pass.
pub const WAIT: Duration = Duration::from_secs(10);

/// The events of one link, in order.
pub struct Events {
    rx: Receiver<MtpEvent>,
}

/// A sink and the events it receives.
pub fn sink() -> (EventSink, Events) {
    let (tx, rx) = mpsc::channel();
    let sink: EventSink = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    (sink, Events { rx })
}

impl Events {
    /// The next event matching `want`, skipping others; panics after [`WAIT`].
    pub fn expect(&self, what: &str, want: impl Fn(&MtpEvent) -> bool) -> MtpEvent {
        let end = Instant::now() + WAIT;
        let mut skipped = Vec::new();
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(e) if want(&e) => return e,
                Ok(e) => skipped.push(e),
                Err(_) => panic!("no {what} within {WAIT:?}; skipped {skipped:#?}"),
            }
        }
    }

    /// The next `Up`.
    pub fn up(&self) -> MtpEvent {
        self.expect("Up", |e| matches!(e, MtpEvent::Up { .. }))
    }

    /// The next `Down`.
    pub fn down(&self) -> MtpEvent {
        self.expect("Down", |e| matches!(e, MtpEvent::Down { .. }))
    }

    /// The next Record received.
    pub fn record(&self) -> (Option<String>, Vec<u8>) {
        match self.expect("Received", |e| matches!(e, MtpEvent::Received { .. })) {
            MtpEvent::Received { peer, record, .. } => (peer, record),
            _ => unreachable!(),
        }
    }

    /// Every event that arrives within `d`.
    pub fn during(&self, d: Duration) -> Vec<MtpEvent> {
        let end = Instant::now() + d;
        let mut seen = Vec::new();
        while let Ok(e) = self.rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            seen.push(e);
        }
        seen
    }
}

/// A server configuration on 127.0.0.1 (port 0: any free one).
pub fn server_config(port: u16) -> WsServerConfig {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    WsServerConfig::new("proto::test-controller", vec![addr])
}

/// A client configuration towards 127.0.0.1:`port` at `/usp`, retrying after one second.
pub fn client_config(eid: &str, port: u16) -> WsClientConfig {
    let mut c = WsClientConfig::new(eid, "127.0.0.1", port, "/usp");
    c.retry = RetryPolicy { min_wait_secs: 1, multiplier_permille: 1000, max_wait_secs: 1 };
    c
}

/// A raw tungstenite client (blocking, reads time out after [`WAIT`]).
pub type Raw = WebSocket<TcpStream>;

/// Opens a raw session to `127.0.0.1:port` at `path_query`, offering `protocol` and
/// `extension` when given.
pub fn raw_client(
    port: u16,
    path_query: &str,
    protocol: Option<&str>,
    extension: Option<&str>,
) -> Result<(Raw, Response), tungstenite::Error> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    let mut req = format!("ws://127.0.0.1:{port}{path_query}").into_client_request().unwrap();
    if let Some(p) = protocol {
        req.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(p).unwrap());
    }
    if let Some(x) = extension {
        req.headers_mut().insert("Sec-WebSocket-Extensions", HeaderValue::from_str(x).unwrap());
    }
    tungstenite::client(req, tcp).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => panic!("blocking handshake interrupted"),
    })
}

/// A raw USP client session of `eid` (query parameter, `v1.usp`).
pub fn raw_usp(port: u16, eid: &str) -> Raw {
    let q = format!("/?eid={}", usp_mtp::ws::wire::encode_eid(eid));
    raw_client(port, &q, Some("v1.usp"), None).unwrap().0
}

/// The next data or Close message of a raw session (Pings and Pongs skipped).
pub fn raw_next(ws: &mut Raw) -> tungstenite::Message {
    loop {
        match ws.read().unwrap() {
            tungstenite::Message::Ping(_) | tungstenite::Message::Pong(_) => {}
            m => return m,
        }
    }
}

/// The close code a raw session receives next (after any data); the Close is answered.
pub fn raw_close_code(ws: &mut Raw) -> u16 {
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Close(Some(f))) => {
                // Send tungstenite's queued answer now, as a well-behaved peer does.
                let _ = ws.flush();
                return u16::from(f.code);
            }
            Ok(tungstenite::Message::Close(None)) => panic!("Close without a code"),
            Ok(_) => {}
            Err(e) => panic!("no Close frame: {e}"),
        }
    }
}
