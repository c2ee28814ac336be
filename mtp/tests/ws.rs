//! The WebSocket links against each other and against a raw tungstenite peer that misbehaves
//! on purpose: Records both ways, fragmentation, Ping/Pong and keep-alive, reconnection,
//! Reset(), one session per peer, `v1.usp` enforcement, size limits, 1003 closes, the
//! handshake timeout.
#![allow(clippy::unwrap_used, clippy::result_large_err)]

mod ws_common;

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::Message;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use usp_mtp::ws::{spawn_client, spawn_server};
use usp_mtp::{ConnectInfo, Link, MtpEvent, Outbound, SendError};
use ws_common::*;

fn to(dest: &str, record: &[u8]) -> Outbound {
    Outbound { dest: dest.to_owned(), record: record.to_vec(), retain: false }
}

#[test]
fn records_flow_both_ways_between_our_client_and_server() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let (csink, cev) = sink();
    // An Endpoint ID with a `%` travels escaped (R-WS.10c) and arrives intact.
    let eid = "doc::agent%21";
    let mut client = spawn_client(2, client_config(eid, port), csink);

    // The server answered the bbf-usp-protocol extension, so the client knows who it is.
    let up = cev.up();
    let expected = Some("proto::test-controller".to_owned());
    assert_eq!(up, MtpEvent::Up { link: 2, peer: expected.clone(), info: ConnectInfo::WebSocket });
    let up = sev.up();
    assert_eq!(up, MtpEvent::Up { link: 1, peer: Some(eid.into()), info: ConnectInfo::WebSocket });
    assert_eq!(server.peers(), vec![eid.to_owned()]);

    for i in 0..5u8 {
        client.send(to("ignored", &[0, i, 0, 255])).unwrap();
    }
    for i in 0..5u8 {
        assert_eq!(sev.record(), (Some(eid.to_owned()), vec![0, i, 0, 255]));
    }
    server.send(to(eid, b"\x00answer")).unwrap();
    assert_eq!(cev.record(), (expected, b"\x00answer".to_vec()));
    assert_eq!(server.send(to("proto::nobody", b"x")), Err(SendError::NotConnected));

    client.stop();
    let down = sev.down();
    assert!(matches!(&down, MtpEvent::Down { peer: Some(p), retry_in: None, .. } if p == eid));
    assert_eq!(client.send(to("", b"x")), Err(SendError::Stopped));
    server.stop();
}

#[test]
fn a_fragmented_message_from_a_raw_peer_is_reassembled_and_the_extension_answered() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    // No eid in the query: the bbf-usp-protocol extension names the peer.
    let ext = "permessage-deflate, bbf-usp-protocol; eid=\"os::ext-peer\"";
    let (mut raw, resp) = raw_client(port, "/", Some("chat, v1.usp"), Some(ext)).unwrap();
    let h = |name| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(h("Sec-WebSocket-Protocol").as_deref(), Some("v1.usp"));
    assert_eq!(
        h("Sec-WebSocket-Extensions").as_deref(),
        Some("bbf-usp-protocol; eid=\"proto::test-controller\""),
    );
    assert!(matches!(sev.up(), MtpEvent::Up { peer: Some(p), .. } if p == "os::ext-peer"));

    let parts: [&[u8]; 3] = [b"\x00one-", b"two-", b"three\x00"];
    raw.write(Message::Frame(Frame::message(parts[0], OpCode::Data(Data::Binary), false))).unwrap();
    raw.write(Message::Frame(Frame::message(parts[1], OpCode::Data(Data::Continue), false)))
        .unwrap();
    raw.write(Message::Frame(Frame::message(parts[2], OpCode::Data(Data::Continue), true)))
        .unwrap();
    raw.flush().unwrap();
    assert_eq!(sev.record(), (Some("os::ext-peer".into()), parts.concat()));
    drop(raw);
    server.stop();
}

#[test]
fn pings_are_answered_and_keep_alive_pings_are_sent() {
    let (ssink, _sev) = sink();
    let mut config = server_config(0);
    config.keep_alive = Duration::from_millis(100);
    let mut server = spawn_server(1, config, ssink).unwrap();
    let mut raw = raw_usp(server.local_addrs()[0].port(), "os::pinger");
    raw.send(Message::Ping(b"hi".to_vec().into())).unwrap();
    let (mut pongs, mut pings) = (Vec::new(), 0);
    // Bounded: at most 200 messages, each read times out after WAIT.
    for _ in 0..200 {
        match raw.read().unwrap() {
            Message::Pong(p) => pongs.push(p.to_vec()),
            Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
        if pings >= 3 && !pongs.is_empty() {
            break;
        }
    }
    assert_eq!(pongs, vec![b"hi".to_vec()]);
    assert!(pings >= 3, "{pings} keep-alive pings");
    drop(raw);
    server.stop();
}

#[test]
fn the_client_reconnects_after_the_server_restarts_and_on_reset() {
    let port = usp_testkit::free_port();
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(port), ssink).unwrap();
    let (csink, cev) = sink();
    let mut client = spawn_client(2, client_config("os::roamer", port), csink);
    cev.up();
    sev.up();
    assert!(client.is_connected());

    server.stop();
    drop(server);
    let down = cev.down();
    assert!(
        matches!(down, MtpEvent::Down { retry_in: Some(d), .. } if d <= Duration::from_secs(1))
    );
    assert_eq!(client.send(to("", b"x")), Err(SendError::NotConnected));

    let (ssink, sev) = sink();
    let mut server = spawn_server(3, server_config(port), ssink).unwrap();
    cev.up();
    sev.up();
    client.send(to("", b"after restart")).unwrap();
    assert_eq!(sev.record().1, b"after restart");

    // Reset(): closed with 1000 and reconnected at once (retry count reset).
    client.reset();
    let down = cev.down();
    assert!(matches!(down, MtpEvent::Down { retry_in: Some(Duration::ZERO), .. }), "{down:?}");
    assert!(matches!(sev.down(), MtpEvent::Down { peer: Some(_), .. }));
    cev.up();
    sev.up();
    client.stop();
    server.stop();
}

#[test]
fn a_second_session_from_the_same_peer_replaces_the_first() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let mut first = raw_usp(port, "os::twice");
    sev.up();
    let mut second = raw_usp(port, "os::twice");
    let down = sev.down();
    assert!(
        matches!(&down, MtpEvent::Down { peer: Some(p), reason, .. }
            if p == "os::twice" && reason.contains("replaced")),
        "{down:?}"
    );
    sev.up();
    assert_eq!(raw_close_code(&mut first), 1000);
    assert_eq!(server.peers(), vec!["os::twice".to_owned()]);
    server.send(to("os::twice", b"to the second")).unwrap();
    assert_eq!(raw_next(&mut second), Message::Binary(b"to the second".to_vec().into()));
    // The first session's end produces no second Down: the peer is still up.
    let later = sev.during(Duration::from_millis(300));
    assert!(later.iter().all(|e| !matches!(e, MtpEvent::Down { .. })), "{later:?}");
    drop(second);
    server.stop();
}

#[test]
fn sessions_without_v1_usp_or_eid_or_on_another_path_are_refused() {
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.path = "/usp".into();
    config.max_sessions = 1;
    let mut server = spawn_server(1, config, ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let status = |r: Result<_, tungstenite::Error>| match r {
        Err(tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(status(raw_client(port, "/usp?eid=os::a", None, None)), 400);
    assert_eq!(status(raw_client(port, "/usp?eid=os::a", Some("v2.usp"), None)), 400);
    assert_eq!(status(raw_client(port, "/usp", Some("v1.usp"), None)), 400);
    assert_eq!(status(raw_client(port, "/other?eid=os::a", Some("v1.usp"), None)), 404);
    let (ok, _) = raw_client(port, "/usp?eid=os::a", Some("v1.usp"), None).unwrap();
    sev.up();
    assert_eq!(status(raw_client(port, "/usp?eid=os::b", Some("v1.usp"), None)), 503);
    drop(ok);
    server.stop();
}

#[test]
fn our_client_refuses_a_server_that_does_not_select_v1_usp() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A plain WebSocket server (tungstenite's defaults): it selects no subprotocol.
    let plain = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let _ = tungstenite::accept(tcp);
    });
    let (csink, cev) = sink();
    let mut client = spawn_client(2, client_config("os::picky", port), csink);
    let down = cev.down();
    assert!(
        matches!(&down, MtpEvent::Down { reason, retry_in: Some(_), .. } if reason.contains("v1.usp")),
        "{down:?}"
    );
    assert!(!client.is_connected());
    client.stop();
    plain.join().unwrap();
}

#[test]
fn oversized_messages_close_the_session_and_are_refused_for_sending() {
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.max_record = 1000;
    let mut server = spawn_server(1, config, ssink).unwrap();
    let mut raw = raw_usp(server.local_addrs()[0].port(), "os::big");
    sev.up();
    assert_eq!(server.send(to("os::big", &[0; 1001])), Err(SendError::TooLarge { max: 1000 }));
    server.send(to("os::big", &[7; 1000])).unwrap();
    assert_eq!(raw_next(&mut raw), Message::Binary(vec![7; 1000].into()));
    raw.send(Message::Binary(vec![1; 1001].into())).unwrap();
    assert_eq!(raw_close_code(&mut raw), 1009);
    let down = sev.down();
    assert!(
        matches!(&down, MtpEvent::Down { reason, .. } if reason.contains("too large")),
        "{down:?}"
    );

    // Also when the limit is crossed only by the sum of fragments.
    let mut raw = raw_usp(server.local_addrs()[0].port(), "os::big");
    sev.up();
    for fin in [false, true] {
        let op = if fin { Data::Continue } else { Data::Binary };
        raw.write(Message::Frame(Frame::message(vec![2; 600], OpCode::Data(op), fin))).unwrap();
    }
    raw.flush().unwrap();
    assert_eq!(raw_close_code(&mut raw), 1009);
    server.stop();
}

#[test]
fn text_messages_and_unparseable_records_close_with_1003() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let mut raw = raw_usp(port, "os::texter");
    sev.up();
    raw.send(Message::Text("not a Record".into())).unwrap();
    assert_eq!(raw_close_code(&mut raw), 1003);
    sev.down();

    // The owner decides a Record is unparseable (the link never parses).
    let mut raw = raw_usp(port, "os::garbler");
    sev.up();
    raw.send(Message::Binary(b"\xffgarbage".to_vec().into())).unwrap();
    let (peer, _) = sev.record();
    server.close_unparseable(peer.as_deref());
    assert_eq!(raw_close_code(&mut raw), 1003);
    assert!(matches!(sev.down(), MtpEvent::Down { reason, .. } if reason.contains("1003")));
    server.stop();
}

#[test]
fn records_sent_just_before_a_stop_go_out_before_the_close() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let (csink, cev) = sink();
    let mut client = spawn_client(2, client_config("os::goodbye", port), csink);
    cev.up();
    sev.up();
    // Queued together with the stop, as a daemon's Disconnect Records are at shutdown.
    for i in 0..20u8 {
        client.send(to("ignored", &[0, i])).unwrap();
    }
    client.stop();
    for i in 0..20u8 {
        assert_eq!(sev.record(), (Some("os::goodbye".to_owned()), vec![0, i]), "record {i}");
    }
    assert!(matches!(sev.down(), MtpEvent::Down { .. }));
    server.stop();
}

#[test]
fn our_client_closes_with_1003_on_request_and_reconnects() {
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(0), ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let (csink, cev) = sink();
    let mut client = spawn_client(2, client_config("os::strict", port), csink);
    cev.up();
    sev.up();
    client.close_unparseable(None);
    let down = sev.down();
    assert!(matches!(&down, MtpEvent::Down { reason, .. } if reason.contains("1003")), "{down:?}");
    assert!(matches!(cev.down(), MtpEvent::Down { retry_in: Some(_), .. }));
    cev.up();
    client.stop();
    server.stop();
}

#[test]
fn a_silent_client_is_dropped_after_the_handshake_timeout() {
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.handshake_timeout = Duration::from_millis(300);
    let mut server = spawn_server(1, config, ssink).unwrap();
    let port = server.local_addrs()[0].port();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    silent.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 16];
    // The server closes the connection: end of stream, not our read timeout.
    assert_eq!(silent.read(&mut buf).unwrap(), 0);
    // Meanwhile and afterwards, real clients are served.
    let raw = raw_usp(port, "os::talker");
    sev.up();
    drop(raw);
    server.stop();
}

#[test]
fn a_client_of_a_dead_server_reports_each_failed_attempt() {
    let port = usp_testkit::free_port();
    let (csink, cev) = sink();
    let mut client = spawn_client(2, client_config("os::lonely", port), csink);
    for _ in 0..2 {
        let down = cev.down();
        assert!(
            matches!(&down, MtpEvent::Down { reason, retry_in: Some(_), .. }
                if reason.contains("cannot connect")),
            "{down:?}"
        );
    }
    client.stop();
}

#[test]
fn a_peer_that_goes_silent_is_dropped_after_three_keep_alive_intervals() {
    // Server side: the raw client never reads, so it never answers the server's Pings.
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.keep_alive = Duration::from_millis(100);
    let mut server = spawn_server(1, config, ssink).unwrap();
    let _mute = raw_usp(server.local_addrs()[0].port(), "os::mute");
    sev.up();
    let down = sev.down();
    assert!(
        matches!(&down, MtpEvent::Down { reason, .. } if reason.contains("nothing heard")),
        "{down:?}"
    );
    server.stop();

    // Client side: a server that completes the handshake, then neither reads nor writes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let mute = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let answer = |_: &tungstenite::handshake::server::Request,
                      mut resp: tungstenite::handshake::server::Response| {
            let v = tungstenite::http::HeaderValue::from_static("v1.usp");
            resp.headers_mut().insert("Sec-WebSocket-Protocol", v);
            Ok(resp)
        };
        let ws = tungstenite::accept_hdr(tcp, answer).unwrap();
        // Hold the session (unread) until the test is done with it.
        let _ = held_rx.recv_timeout(WAIT);
        drop(ws);
    });
    let (csink, cev) = sink();
    let mut c = client_config("os::patient", port);
    c.keep_alive = Duration::from_millis(100);
    let mut client = spawn_client(2, c, csink);
    cev.up();
    let down = cev.down();
    assert!(
        matches!(&down, MtpEvent::Down { reason, retry_in: Some(_), .. }
            if reason.contains("nothing heard")),
        "{down:?}"
    );
    client.stop();
    held_tx.send(()).unwrap();
    mute.join().unwrap();
}

#[test]
fn the_sink_may_send_on_the_server_from_inside_its_up_event() {
    type Slot = std::sync::Arc<std::sync::Mutex<Option<usp_mtp::ws::WsServerLink>>>;
    let slot: Slot = Default::default();
    let in_sink = slot.clone();
    let greeter: usp_mtp::EventSink = std::sync::Arc::new(move |e| {
        if let MtpEvent::Up { peer: Some(peer), .. } = e {
            if let Some(link) = in_sink.lock().unwrap().as_ref() {
                link.send(to(&peer, b"welcome")).unwrap();
            }
        }
    });
    let server = spawn_server(1, server_config(0), greeter).unwrap();
    let port = server.local_addrs()[0].port();
    *slot.lock().unwrap() = Some(server);
    let mut raw = raw_usp(port, "os::guest");
    assert_eq!(raw_next(&mut raw), Message::Binary(b"welcome".to_vec().into()));
    drop(raw);
    let mut server = slot.lock().unwrap().take().unwrap();
    server.stop();
}

#[test]
fn reset_while_waiting_to_retry_connects_at_once() {
    let port = usp_testkit::free_port();
    let (csink, cev) = sink();
    let mut config = client_config("os::impatient", port);
    config.retry = usp_mtp::retry::RetryPolicy {
        min_wait_secs: 60,
        multiplier_permille: 2000,
        max_wait_secs: 0,
    };
    let mut client = spawn_client(2, config, csink);
    let down = cev.down();
    assert!(
        matches!(down, MtpEvent::Down { retry_in: Some(d), .. } if d >= Duration::from_secs(60))
    );
    let (ssink, sev) = sink();
    let mut server = spawn_server(1, server_config(port), ssink).unwrap();
    // Without Reset() the next attempt would come a minute later, well after WAIT.
    client.reset();
    cev.up();
    sev.up();
    client.stop();
    server.stop();
}
