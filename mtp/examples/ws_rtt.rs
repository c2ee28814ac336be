//! Measures the loopback round trip of the WebSocket links: a Record sent by a client link,
//! received by a server link's owner, sent back, received by the client's owner. Plain TCP and
//! TLS (test CA from usp-testkit). A measurement, not a test:
//!
//! ```text
//! cargo run --release -p usp-mtp --example ws_rtt [rounds] [record bytes]
//! ```
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use usp_mtp::tls::{ClientTls, ServerTls};
use usp_mtp::ws::{WsClientConfig, WsServerConfig, spawn_client, spawn_server};
use usp_mtp::{Link, MtpEvent, Outbound};

fn next(rx: &Receiver<MtpEvent>, want: impl Fn(&MtpEvent) -> bool) -> MtpEvent {
    loop {
        let e = rx.recv_timeout(Duration::from_secs(10)).expect("an event within 10 s");
        if want(&e) {
            return e;
        }
    }
}

/// Runs `rounds` round trips of `size`-byte Records; returns the sorted durations.
fn measure(tls: Option<(ServerTls, ClientTls)>, rounds: usize, size: usize) -> Vec<Duration> {
    let addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut sc = WsServerConfig::new("proto::rtt-server", vec![addr]);
    sc.tls = tls.as_ref().map(|t| t.0.clone());
    let (ssink, srx) = usp_mtp::channel_sink();
    let mut server = spawn_server(1, sc, ssink).unwrap();
    let mut cc =
        WsClientConfig::new("proto::rtt-client", "localhost", server.local_addrs()[0].port(), "/");
    cc.tls = tls.map(|t| t.1);
    let (csink, crx) = usp_mtp::channel_sink();
    let mut client = spawn_client(2, cc, csink);
    next(&crx, |e| matches!(e, MtpEvent::Up { .. }));
    next(&srx, |e| matches!(e, MtpEvent::Up { .. }));
    let mut times = Vec::with_capacity(rounds);
    std::thread::scope(|s| {
        let server = &server;
        // The server's owner: echoes every Record to its sender until the session ends.
        s.spawn(move || {
            for e in srx.iter() {
                match e {
                    MtpEvent::Received { peer: Some(dest), record, .. } => {
                        server.send(Outbound { dest, record, retain: false }).unwrap();
                    }
                    MtpEvent::Down { .. } => break,
                    _ => {}
                }
            }
        });
        let record = vec![0x5a; size];
        for i in 0..rounds + 100 {
            let t0 = Instant::now();
            client
                .send(Outbound { dest: String::new(), record: record.clone(), retain: false })
                .unwrap();
            next(&crx, |e| matches!(e, MtpEvent::Received { .. }));
            if i >= 100 {
                times.push(t0.elapsed()); // the first 100 warm up
            }
        }
        client.stop();
    });
    server.stop();
    times.sort();
    times
}

fn report(label: &str, t: &[Duration]) {
    let at = |q: f64| t[((t.len() - 1) as f64 * q) as usize];
    println!(
        "{label:6} n={} min={:?} median={:?} p90={:?} p99={:?} max={:?}",
        t.len(),
        t[0],
        at(0.5),
        at(0.9),
        at(0.99),
        t[t.len() - 1]
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let size = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    println!("WebSocket loopback round trip, client -> server -> client, {size}-byte Records");
    report("plain", &measure(None, rounds, size));
    let certs = usp_testkit::certs::TestPki::generate("WebSocket test CA", "client");
    let server = ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        client_ca_file: None,
        require_client_cert: false,
    };
    let client = ClientTls { ca_file: Some(certs.ca.clone()), ..ClientTls::default() };
    report("tls", &measure(Some((server, client)), rounds, size));
}
