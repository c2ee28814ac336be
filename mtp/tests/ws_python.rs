//! Interoperability with a WebSocket implementation we did not write: the Python `websockets`
//! library (PyPI), as a client of our server link and as a server for our client link, with
//! subprotocol `v1.usp`, binary Records (one of 1 MiB), a fragmented message and Pings both
//! ways. The peer script is `ws_peer.py` beside this file.
//!
//! Python comes from `USP_TEST_PYTHON` when set, else from a virtual environment under
//! `target/tmp/ws-venv` (made here with `python3 -m venv` and `pip install websockets` when
//! missing; `scripts/test.sh` makes it beforehand).
#![allow(clippy::unwrap_used)]

mod ws_common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use usp_mtp::ws::{spawn_client, spawn_server, wire};
use usp_mtp::{Link, MtpEvent, Outbound};
use ws_common::*;

const VENV: &str = concat!(env!("CARGO_TARGET_TMPDIR"), "/ws-venv");
const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ws_peer.py");

/// A Python that can `import websockets`; made once per test process.
fn python() -> PathBuf {
    static READY: OnceLock<Mutex<Option<PathBuf>>> = OnceLock::new();
    let mut ready = READY.get_or_init(|| Mutex::new(None)).lock().unwrap();
    if let Some(p) = ready.as_ref() {
        return p.clone();
    }
    let has_websockets = |py: &PathBuf| {
        Command::new(py).args(["-c", "import websockets"]).status().is_ok_and(|s| s.success())
    };
    let py = match std::env::var_os("USP_TEST_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(VENV).join("bin/python"),
    };
    if !has_websockets(&py) && std::env::var_os("USP_TEST_PYTHON").is_none() {
        let made = Command::new("python3").args(["-m", "venv", VENV]).status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "cannot make {VENV}: install Python 3 with venv (Debian: apt-get install python3 python3-venv)"
        );
        let pip = Command::new(&py)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg("websockets>=13")
            .status();
        assert!(pip.is_ok_and(|s| s.success()), "pip install websockets failed (needs PyPI)");
    }
    assert!(has_websockets(&py), "{} cannot import websockets", py.display());
    *ready = Some(py.clone());
    py
}

/// The peer process, killed (by its PID, through `Child`) when the guard drops.
struct Peer {
    child: Child,
    lines: Receiver<String>,
}

impl Peer {
    fn start(args: &[&str]) -> Peer {
        let mut child = Command::new(python())
            .arg(PEER)
            .args(args)
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Peer { child, lines }
    }

    /// The next line printed, within [`WAIT`].
    fn line(&self) -> String {
        self.lines.recv_timeout(WAIT).unwrap_or_else(|_| panic!("the Python peer went quiet"))
    }

    /// The exit status, within [`WAIT`].
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the Python peer did not exit");
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_python_websockets_client_talks_to_our_server() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let eid = "doc::py-client%21";
    let uri = format!("ws://127.0.0.1:{port}/usp?eid={}", wire::encode_eid(eid));
    let mut peer = Peer::start(&["client", &uri]);
    assert!(matches!(sev.up(), MtpEvent::Up { peer: Some(p), .. } if p == eid));
    // Echo every Record reversed until the session ends (bounded: each wait is WAIT long).
    let mut echoed = Vec::new();
    loop {
        match sev.expect("Received or Down", |_| true) {
            MtpEvent::Received { peer, record, .. } => {
                let dest = peer.expect("the server knows its peer");
                echoed.push(record.len());
                let reply = record.into_iter().rev().collect();
                server.send(Outbound { dest, record: reply, retain: false }).unwrap();
            }
            MtpEvent::Down { .. } => break,
            other => panic!("a second session or an MQTT event: {other:?}"),
        }
    }
    assert_eq!(echoed, vec![12, 12, 1 << 20]);
    let said: Vec<String> = std::iter::from_fn(|| peer.lines.recv_timeout(WAIT).ok()).collect();
    assert_eq!(said, ["connected", "binary ok", "fragmented ok", "large ok", "pong ok", "closed"]);
    assert!(peer.wait_exit().success());
    server.stop();
}

#[test]
fn our_client_talks_to_a_python_websockets_server() {
    let port = usp_testkit::free_port();
    let peer = Peer::start(&["server", &port.to_string()]);
    assert_eq!(peer.line(), "listening");
    let (csink, cev) = sink();
    let mut config = client_config("doc::py%21", port);
    config.keep_alive = Duration::from_millis(200);
    let mut client = spawn_client(2, config, csink);
    // The Python server does not answer the bbf-usp-protocol extension: accepted (R-WS.11b).
    assert!(matches!(cev.up(), MtpEvent::Up { peer: None, .. }));
    assert_eq!(peer.line(), "path /usp?eid=doc::py%2521");
    assert_eq!(peer.line(), "subprotocol v1.usp");
    let big: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
    for record in [b"\x00usp\x00record".to_vec(), big] {
        client
            .send(Outbound { dest: String::new(), record: record.clone(), retain: false })
            .unwrap();
        let (_, reply) = cev.record();
        assert_eq!(reply, record.iter().rev().copied().collect::<Vec<u8>>());
        // Printed only once our client answered the server's Ping.
        assert_eq!(peer.line(), format!("echoed {}", record.len()));
    }
    // Keep-alive Pings are answered by Python; the session stays up.
    let later = cev.during(Duration::from_millis(800));
    assert!(later.iter().all(|e| !matches!(e, MtpEvent::Down { .. })), "{later:?}");
    client.stop();
}
