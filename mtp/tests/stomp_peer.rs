//! The STOMP link against a scripted server on 127.0.0.1 (a test thread speaking STOMP through
//! the crate's codec): what RabbitMQ cannot be made to do — fall silent, send garbage, hand out
//! a `subscribe-dest` — and what it does not show — the exact frames the link writes.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use usp_mtp::retry::RetryPolicy;
use usp_mtp::stomp::codec::{Command, Decoded, Decoder, Frame, Limits};
use usp_mtp::stomp::{StompConfig, spawn};
use usp_mtp::{ConnectInfo, EventSink, Link, MtpEvent};

const WAIT: Duration = Duration::from_secs(10);

/// Owners may share the handle between threads.
const _: fn() = || {
    fn shareable<T: Send + Sync>() {}
    shareable::<usp_mtp::stomp::StompLink>();
};

fn collector() -> (EventSink, Receiver<MtpEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let sink: EventSink = Arc::new(move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    (sink, rx)
}

fn next(rx: &Receiver<MtpEvent>) -> MtpEvent {
    rx.recv_timeout(WAIT).unwrap_or_else(|e| panic!("no event within {WAIT:?}: {e}"))
}

/// One accepted connection, read through the codec.
struct Conn {
    stream: TcpStream,
    decoder: Decoder,
    heartbeats: usize,
}

impl Conn {
    fn accept(listener: &TcpListener) -> Conn {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        Conn { stream, decoder: Decoder::new(Limits::with_max_body(1 << 20)), heartbeats: 0 }
    }

    /// The next frame, counting heart-beats on the way; `None` at end of stream.
    fn frame(&mut self) -> Option<Frame> {
        let mut buf = [0u8; 4096];
        for _ in 0..10_000 {
            match self.decoder.next().unwrap() {
                Some(Decoded::Frame(f)) => return Some(f),
                Some(Decoded::Heartbeat) => self.heartbeats += 1,
                None => match self.stream.read(&mut buf) {
                    Ok(0) => return None,
                    Ok(n) => self.decoder.feed(&buf[..n]),
                    Err(e) => panic!("peer read: {e}"),
                },
            }
        }
        panic!("peer loop bound reached");
    }

    fn send(&mut self, frame: Frame) {
        let mut bytes = Vec::new();
        frame.encode(&mut bytes).unwrap();
        self.stream.write_all(&bytes).unwrap();
    }

    /// Reads the STOMP frame, answers CONNECTED with these extra headers, reads the
    /// SUBSCRIBE and confirms it; returns both frames the link sent.
    fn handshake(&mut self, connected: &[(&str, &str)]) -> (Frame, Frame) {
        let stomp = self.frame().unwrap();
        let mut answer = Frame::new(Command::Connected).with("version", "1.2");
        for (n, v) in connected {
            answer = answer.with(n, v);
        }
        self.send(answer);
        let sub = self.frame().unwrap();
        assert_eq!(sub.command, Command::Subscribe);
        let receipt = sub.header("receipt").unwrap().to_owned();
        self.send(Frame::new(Command::Receipt).with("receipt-id", &receipt));
        (stomp, sub)
    }
}

fn listener() -> (TcpListener, StompConfig) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c =
        StompConfig::new("os::012345-peer-test", "127.0.0.1", l.local_addr().unwrap().port());
    c.username = "agent".into();
    c.password = "pw".into();
    c.destination = "/queue/configured".into();
    c.retry = RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 2 };
    (l, c)
}

#[test]
fn a_silent_server_is_detected_by_the_heartbeat_timeout() {
    let (l, mut c) = listener();
    // We beat every 300 ms and expect the server every second: several beats go out before
    // the 2 s of silence end the session, even on a slow machine.
    c.heartbeat = Some((Duration::from_millis(300), Duration::from_millis(1000)));
    let (sink, rx) = collector();
    let _link = spawn(1, c, sink);
    let peer = std::thread::spawn(move || {
        let mut conn = Conn::accept(&l);
        let (stomp, _) = conn.handshake(&[("heart-beat", "1000,300")]);
        // Then silence: only read, until the link gives up on us.
        let end = conn.frame();
        (stomp, end, conn.heartbeats)
    });
    assert!(matches!(next(&rx), MtpEvent::Up { .. }));
    match next(&rx) {
        MtpEvent::Down { reason, retry_in, .. } => {
            assert!(reason.contains("no heart-beat from the server"), "{reason}");
            assert!(retry_in.is_some());
        }
        other => panic!("expected Down, got {other:?}"),
    }
    let (stomp, end, heartbeats) = peer.join().unwrap();
    assert_eq!(stomp.header("heart-beat"), Some("300,1000"));
    assert_eq!(end, None, "the link closed the connection");
    assert!(heartbeats >= 1, "the link sent heart-beats while waiting");
}

#[test]
fn the_frames_follow_tr369_and_stop_disconnects_with_a_receipt() {
    let (l, c) = listener();
    let (sink, rx) = collector();
    let mut link = spawn(3, c, sink);
    let peer = std::thread::spawn(move || {
        let mut conn = Conn::accept(&l);
        let (stomp, sub) =
            conn.handshake(&[("heart-beat", "0,0"), ("subscribe-dest", "/queue/from-server")]);
        let send = conn.frame().unwrap();
        let disconnect = conn.frame().unwrap();
        let receipt = disconnect.header("receipt").unwrap().to_owned();
        conn.send(Frame::new(Command::Receipt).with("receipt-id", &receipt));
        (stomp, sub, send, disconnect, conn.frame())
    });
    match next(&rx) {
        MtpEvent::Up { link: 3, info, .. } => assert_eq!(
            info,
            ConnectInfo::Stomp {
                subscribed_destination: "/queue/from-server".into(),
                destination_from_server: Some("/queue/from-server".into()),
            }
        ),
        other => panic!("expected Up, got {other:?}"),
    }
    let record = vec![0u8, 10, 0, 13];
    let out = usp_mtp::Outbound {
        dest: "/queue/controller".into(),
        record: record.clone(),
        retain: false,
    };
    link.send(out).unwrap();
    link.stop();
    let (stomp, sub, send, disconnect, end) = peer.join().unwrap();
    assert_eq!(stomp.command, Command::Stomp);
    for (name, value) in [
        ("accept-version", "1.2"),
        ("host", "127.0.0.1"),
        ("login", "agent"),
        ("passcode", "pw"),
        ("endpoint-id", "os::012345-peer-test"),
    ] {
        assert_eq!(stomp.header(name), Some(value), "{name}");
    }
    assert_eq!(stomp.header("heart-beat"), None, "heart-beats disabled: no header (R-STOMP.9)");
    assert_eq!(sub.header("destination"), Some("/queue/from-server"));
    assert_eq!(sub.header("ack"), Some("auto"));
    assert_eq!(send.command, Command::Send);
    assert_eq!(send.header("destination"), Some("/queue/controller"));
    assert_eq!(send.header("content-type"), Some("application/vnd.bbf.usp.msg"));
    assert_eq!(send.header("content-length"), Some("4"));
    assert_eq!(send.header("reply-to-dest"), Some("/queue/from-server"));
    assert_eq!(send.body, record);
    assert_eq!(disconnect.command, Command::Disconnect);
    assert_eq!(end, None, "closed after the receipt");
    match next(&rx) {
        MtpEvent::Down { reason, retry_in: None, .. } => assert_eq!(reason, "stopped"),
        other => panic!("expected Down, got {other:?}"),
    }
}

#[test]
fn garbage_from_the_server_drops_the_connection_and_is_retried() {
    let (l, c) = listener();
    let (sink, rx) = collector();
    let _link = spawn(1, c, sink);
    let peer = std::thread::spawn(move || {
        for _ in 0..2 {
            let mut conn = Conn::accept(&l);
            conn.frame().unwrap();
            conn.stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").unwrap();
            assert_eq!(conn.frame(), None, "the link hangs up");
        }
    });
    for _ in 0..2 {
        match next(&rx) {
            MtpEvent::Down { reason, retry_in, .. } => {
                assert!(reason.contains("protocol error: unknown command"), "{reason}");
                assert!(retry_in.is_some());
            }
            other => panic!("expected Down, got {other:?}"),
        }
    }
    peer.join().unwrap();
}

#[test]
fn no_destination_anywhere_disconnects_and_disables_the_link() {
    let (l, mut c) = listener();
    c.destination.clear();
    let (sink, rx) = collector();
    let link = spawn(1, c, sink);
    let peer = std::thread::spawn(move || {
        let mut conn = Conn::accept(&l);
        conn.frame().unwrap();
        conn.send(Frame::new(Command::Connected).with("version", "1.2"));
        let disconnect = conn.frame().unwrap();
        (disconnect.command, conn.frame(), l)
    });
    match next(&rx) {
        MtpEvent::Down { reason, retry_in: None, .. } => {
            assert!(reason.contains("no configured destination"), "{reason}")
        }
        other => panic!("expected Down without retry, got {other:?}"),
    }
    let (command, end, l) = peer.join().unwrap();
    assert_eq!((command, end), (Command::Disconnect, None));
    // Given a destination, it comes back at once.
    link.set_destination("/queue/late");
    let mut conn = Conn::accept(&l);
    let (_, sub) = conn.handshake(&[]);
    assert_eq!(sub.header("destination"), Some("/queue/late"));
    assert!(matches!(next(&rx), MtpEvent::Up { .. }));
}

#[test]
fn dropping_the_handle_disconnects_politely_and_stopping_a_retrying_link_says_so() {
    let (l, c) = listener();
    let (sink, rx) = collector();
    let link = spawn(1, c.clone(), sink);
    let peer = std::thread::spawn(move || {
        let mut conn = Conn::accept(&l);
        conn.handshake(&[]);
        let disconnect = conn.frame().unwrap();
        let receipt = disconnect.header("receipt").unwrap().to_owned();
        conn.send(Frame::new(Command::Receipt).with("receipt-id", &receipt));
        disconnect.command
    });
    assert!(matches!(next(&rx), MtpEvent::Up { .. }));
    drop(link);
    assert_eq!(peer.join().unwrap(), Command::Disconnect);
    assert!(matches!(next(&rx), MtpEvent::Down { retry_in: None, .. }));

    // A link waiting to retry (nobody listens on its port any more) ends when stopped.
    let (sink, rx) = collector();
    let mut link = spawn(2, c, sink);
    let (reason, retry_in) = match next(&rx) {
        MtpEvent::Down { reason, retry_in, .. } => (reason, retry_in),
        other => panic!("expected Down, got {other:?}"),
    };
    assert!(reason.contains("cannot connect") && retry_in.is_some(), "{reason}");
    link.stop();
    match next(&rx) {
        MtpEvent::Down { reason, retry_in: None, .. } => assert_eq!(reason, "stopped"),
        other => panic!("expected the final Down, got {other:?}"),
    }
}
