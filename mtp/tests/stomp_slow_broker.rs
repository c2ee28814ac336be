//! The STOMP link against a broker that stops reading (issue 20: the STOMP outbound queue is
//! bounded). A fake broker on 127.0.0.1 answers the handshake (CONNECTED, the SUBSCRIBE's
//! RECEIPT) and then never reads again: the link's writes block, and the Records the owner
//! keeps sending must not pile up beyond `max_queued` bytes.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::stomp::{StompConfig, max_queued, spawn};
use usp_mtp::{EventSink, Link, MtpEvent, Outbound};

/// Reads one frame (up to its NUL byte) and returns its text.
fn read_frame(s: &mut TcpStream) -> String {
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    for _ in 0..65_536 {
        s.read_exact(&mut byte).unwrap();
        if byte[0] == 0 {
            break;
        }
        frame.push(byte[0]);
    }
    String::from_utf8_lossy(&frame).trim_start_matches(['\r', '\n']).to_owned()
}

/// Accepts one connection, completes the handshake, then holds the socket without reading
/// until `done` says the test is over.
fn stalling_broker(listener: TcpListener, done: Receiver<()>) {
    let (mut s, _) = listener.accept().unwrap();
    assert!(read_frame(&mut s).starts_with("STOMP"), "expected STOMP");
    s.write_all(b"CONNECTED\nversion:1.2\n\n\0").unwrap();
    let subscribe = read_frame(&mut s);
    let receipt = subscribe
        .lines()
        .find_map(|l| l.strip_prefix("receipt:"))
        .unwrap_or_else(|| panic!("SUBSCRIBE without receipt: {subscribe}"))
        .to_owned();
    s.write_all(format!("RECEIPT\nreceipt-id:{receipt}\n\n\0").as_bytes()).unwrap();
    let _ = done.recv_timeout(Duration::from_secs(60));
}

#[test]
fn records_for_a_broker_that_stopped_reading_wait_in_a_bounded_queue() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (done_tx, done_rx) = mpsc::channel();
    let broker = std::thread::spawn(move || stalling_broker(listener, done_rx));

    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let sink: EventSink = Arc::new(move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    let mut cfg = StompConfig::new("proto::slow", "127.0.0.1", port);
    cfg.destination = "/queue/agent".into();
    cfg.max_record = 64 * 1024;
    let bound = max_queued(cfg.max_record);
    let mut link = spawn(1, cfg, sink);
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())).unwrap() {
            MtpEvent::Up { .. } => break,
            MtpEvent::Down { reason, .. } => panic!("down: {reason}"),
            _ => {}
        }
    }

    // 64 MiB offered in 64 KiB Records, far more than the socket buffers take.
    let started = Instant::now();
    let mut peak = 0;
    for _ in 0..1024 {
        let out = Outbound { dest: "/queue/ctl".into(), record: vec![7; 64 * 1024], retain: false };
        assert_eq!(link.send(out), Ok(()));
        peak = peak.max(link.queued_bytes());
    }
    assert!(started.elapsed() < Duration::from_secs(5), "send blocked the owner");
    assert!(peak <= bound, "{peak} bytes queued, bound {bound}");
    assert!(peak >= bound - 64 * 1024, "the queue never filled ({peak} of {bound}): no stall?");

    done_tx.send(()).unwrap();
    broker.join().unwrap();
    link.stop();
}
