//! Scripted exchanges with the STOMP session: the server's frames are fed as bytes, the
//! session's output is decoded and checked frame by frame, time is passed by hand.
#![allow(clippy::unwrap_used)]

use super::*;

fn config() -> StompConfig {
    let mut c = StompConfig::new("proto::agent-1", "broker.example", 61613);
    c.virtual_host = "usp-vhost".into();
    c.username = "agent".into();
    c.password = "secret:pass".into();
    c.destination = "/queue/configured".into();
    c.heartbeat = Some((Duration::from_millis(1000), Duration::from_millis(2000)));
    c.max_record = 1000;
    c
}

/// The frames (and heart-beats) the session wrote since the last call.
fn written(s: &mut Session) -> Vec<Decoded> {
    let mut d = Decoder::new(Limits::with_max_body(1 << 20));
    d.feed(&s.take_output());
    let mut out = Vec::new();
    while let Some(x) = d.next().unwrap() {
        out.push(x);
    }
    out
}

fn written_frames(s: &mut Session) -> Vec<Frame> {
    written(s)
        .into_iter()
        .filter_map(|d| match d {
            Decoded::Frame(f) => Some(f),
            Decoded::Heartbeat => None,
        })
        .collect()
}

fn events(s: &mut Session) -> Vec<Event> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn feed(s: &mut Session, now: Instant, frame: Frame) {
    let mut bytes = Vec::new();
    frame.encode(&mut bytes).unwrap();
    // Split in two to exercise incremental decoding on every exchange.
    let (a, b) = bytes.split_at(bytes.len() / 2);
    s.handle_bytes(now, a);
    s.handle_bytes(now, b);
}

fn connected(heartbeat: &str) -> Frame {
    Frame::new(Command::Connected).with("version", "1.2").with("heart-beat", heartbeat)
}

fn receipt(id: &str) -> Frame {
    Frame::new(Command::Receipt).with("receipt-id", id)
}

/// A session taken to Up on `/queue/configured`; returns it with the start time.
fn up_session(c: &StompConfig) -> (Session, Instant) {
    let t0 = Instant::now();
    let mut s = Session::new(c, t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,0"));
    let sub = written_frames(&mut s);
    feed(&mut s, t0, receipt(sub[0].header("receipt").unwrap()));
    assert!(s.is_up());
    events(&mut s);
    (s, t0)
}

#[test]
fn the_stomp_frame_carries_every_tr369_header() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    let f = written_frames(&mut s);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].command, Command::Stomp);
    let h = |n| f[0].header(n);
    assert_eq!(h("accept-version"), Some("1.2"));
    assert_eq!(h("host"), Some("usp-vhost"));
    assert_eq!(h("login"), Some("agent"));
    assert_eq!(h("passcode"), Some("secret:pass"));
    assert_eq!(h("endpoint-id"), Some("proto::agent-1"));
    assert_eq!(h("heart-beat"), Some("1000,2000"));
    assert!(!s.is_up() && !s.is_closed());
    assert_eq!(s.poll_timeout(), Some(t0 + HANDSHAKE_TIMEOUT));
}

#[test]
fn without_heartbeats_the_header_is_omitted_and_the_host_defaults() {
    let mut c = config();
    c.heartbeat = None;
    c.virtual_host.clear();
    let mut s = Session::new(&c, Instant::now());
    let f = &written_frames(&mut s)[0];
    assert_eq!(f.header("heart-beat"), None);
    assert_eq!(f.header("host"), Some("broker.example"));
}

#[test]
fn subscribe_dest_wins_and_up_waits_for_the_receipt() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,0").with("subscribe-dest", "/queue/from-server"));
    let f = written_frames(&mut s);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].command, Command::Subscribe);
    assert_eq!(f[0].header("destination"), Some("/queue/from-server"));
    assert_eq!(f[0].header("ack"), Some("auto"));
    assert!(f[0].header("id").is_some());
    assert!(events(&mut s).is_empty() && !s.is_up());
    feed(&mut s, t0, receipt("some-other-receipt"));
    assert!(events(&mut s).is_empty());
    feed(&mut s, t0, receipt(f[0].header("receipt").unwrap()));
    assert_eq!(
        events(&mut s),
        vec![Event::Up {
            subscribed_destination: "/queue/from-server".into(),
            destination_from_server: Some("/queue/from-server".into()),
        }]
    );
    assert!(s.is_up());
}

#[test]
fn the_configured_destination_is_used_without_subscribe_dest() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,0").with("subscribe-dest", ""));
    let f = written_frames(&mut s);
    assert_eq!(f[0].header("destination"), Some("/queue/configured"));
    feed(&mut s, t0, receipt(f[0].header("receipt").unwrap()));
    assert_eq!(
        events(&mut s),
        vec![Event::Up {
            subscribed_destination: "/queue/configured".into(),
            destination_from_server: None,
        }]
    );
}

#[test]
fn no_destination_at_all_disconnects_and_disables() {
    let mut c = config();
    c.destination.clear();
    let t0 = Instant::now();
    let mut s = Session::new(&c, t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,0"));
    let f = written_frames(&mut s);
    assert_eq!(f.iter().map(|f| f.command).collect::<Vec<_>>(), vec![Command::Disconnect]);
    assert_eq!(events(&mut s), vec![Event::Closed(Close::NoDestination)]);
    assert!(s.is_closed() && s.poll_timeout().is_none());
}

#[test]
fn messages_are_delivered_with_their_reply_to() {
    let (mut s, t0) = up_session(&config());
    let mut m = Frame::new(Command::Message)
        .with("subscription", "0")
        .with("reply-to-dest", "/queue/controller")
        .with("content-type", USP_CONTENT_TYPE);
    m.body = vec![0, 0, 1, b'\n', 0];
    feed(&mut s, t0, m.clone());
    m.headers.retain(|(n, _)| n != "reply-to-dest");
    feed(&mut s, t0, m);
    assert_eq!(
        events(&mut s),
        vec![
            Event::Received {
                reply_to: Some("/queue/controller".into()),
                record: vec![0, 0, 1, b'\n', 0]
            },
            Event::Received { reply_to: None, record: vec![0, 0, 1, b'\n', 0] },
        ]
    );
}

#[test]
fn send_writes_a_usp_send_frame() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    assert_eq!(s.send(t0, "/queue/x", vec![1]), Err(SendError::NotConnected));
    let (mut s, t0) = up_session(&config());
    s.send(t0, "/queue/controller", vec![0, 7, 0]).unwrap();
    let f = written_frames(&mut s);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].command, Command::Send);
    assert_eq!(f[0].header("destination"), Some("/queue/controller"));
    assert_eq!(f[0].header("content-type"), Some("application/vnd.bbf.usp.msg"));
    assert_eq!(f[0].header("reply-to-dest"), Some("/queue/configured"));
    assert_eq!(f[0].header("content-length"), Some("3"));
    assert_eq!(f[0].body, vec![0, 7, 0]);
    assert_eq!(s.send(t0, "/queue/x", vec![0; 1001]), Err(SendError::TooLarge { max: 1000 }));
    assert!(written(&mut s).is_empty());
}

#[test]
fn an_error_frame_closes_the_session_with_its_message() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    let mut e = Frame::new(Command::Error).with("message", "Access refused");
    e.body = b"bad login\n".to_vec();
    feed(&mut s, t0, e);
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Close::ServerError { message: "Access refused (bad login)".into() })]
    );
    // Nothing more happens after the close.
    feed(&mut s, t0, connected("0,0"));
    assert!(events(&mut s).is_empty() && written(&mut s).is_empty());
}

#[test]
fn heartbeats_are_negotiated_sent_and_a_silent_server_detected() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    // We offer 1000,2000; the server can send every 3000 and wants ours every 500.
    feed(&mut s, t0, connected("3000,500"));
    assert_eq!(s.heartbeats(), (Some(Duration::from_secs(1)), Some(Duration::from_secs(3))));
    let sub = written_frames(&mut s);
    feed(&mut s, t0, receipt(sub[0].header("receipt").unwrap()));
    events(&mut s);
    // The next wake-up is the heart-beat to send.
    let t1 = s.poll_timeout().unwrap();
    assert_eq!(t1, t0 + Duration::from_secs(1));
    s.handle_timeout(t1 - Duration::from_millis(1));
    assert!(written(&mut s).is_empty());
    s.handle_timeout(t1);
    assert_eq!(written(&mut s), vec![Decoded::Heartbeat]);
    // Writing a frame counts as activity: no EOL needed a second later.
    let t2 = t1 + Duration::from_millis(500);
    s.send(t2, "/queue/c", vec![1]).unwrap();
    written(&mut s);
    s.handle_timeout(t1 + Duration::from_secs(1));
    assert!(written(&mut s).is_empty());
    // Server heart-beats keep the session alive...
    s.handle_bytes(t0 + Duration::from_secs(5), b"\n");
    s.handle_timeout(t0 + Duration::from_secs(10));
    assert!(s.is_up(), "5 s of silence is within 2 x 3 s");
    // ...and 6 s of silence ends it.
    s.handle_timeout(t0 + Duration::from_secs(11));
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Close::Silent { after: Duration::from_secs(6) })]
    );
}

#[test]
fn zero_on_either_side_disables_that_direction() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,1500"));
    assert_eq!(s.heartbeats(), (Some(Duration::from_millis(1500)), None));
    let mut c = config();
    c.heartbeat = None;
    let mut s = Session::new(&c, t0);
    feed(&mut s, t0, connected("5000,5000"));
    assert_eq!(s.heartbeats(), (None, None));
    // A malformed header means no heart-beats rather than a failure.
    let mut s = Session::new(&config(), t0);
    feed(&mut s, t0, connected("soon"));
    assert_eq!(s.heartbeats(), (None, None));
    assert!(!s.is_closed());
}

#[test]
fn a_destination_change_moves_the_subscription() {
    let (mut s, t0) = up_session(&config());
    s.set_destination(t0, "/queue/configured");
    assert!(written(&mut s).is_empty(), "same destination: nothing to do");
    s.set_destination(t0, "/queue/new");
    let f = written_frames(&mut s);
    assert_eq!(
        f.iter().map(|f| f.command).collect::<Vec<_>>(),
        [Command::Unsubscribe, Command::Subscribe]
    );
    assert_eq!(f[0].header("id"), Some("0"));
    assert_eq!(f[1].header("id"), Some("1"));
    assert_eq!(f[1].header("destination"), Some("/queue/new"));
    feed(&mut s, t0, receipt(f[1].header("receipt").unwrap()));
    assert_eq!(
        events(&mut s),
        vec![Event::Up {
            subscribed_destination: "/queue/new".into(),
            destination_from_server: None
        }]
    );
    // Replies now name the new destination.
    s.send(t0, "/queue/c", vec![1]).unwrap();
    assert_eq!(written_frames(&mut s)[0].header("reply-to-dest"), Some("/queue/new"));
    // An emptied destination ends the session (R-STOMP.17).
    s.set_destination(t0, "");
    let f = written_frames(&mut s);
    assert_eq!(
        f.iter().map(|f| f.command).collect::<Vec<_>>(),
        [Command::Unsubscribe, Command::Disconnect]
    );
    assert_eq!(events(&mut s), vec![Event::Closed(Close::NoDestination)]);
}

#[test]
fn a_server_destination_is_kept_when_the_configured_one_changes() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    feed(&mut s, t0, connected("0,0").with("subscribe-dest", "/queue/srv"));
    let sub = written_frames(&mut s);
    feed(&mut s, t0, receipt(sub[0].header("receipt").unwrap()));
    events(&mut s);
    s.set_destination(t0, "/queue/other");
    s.set_destination(t0, "");
    assert!(written(&mut s).is_empty() && events(&mut s).is_empty() && s.is_up());
}

#[test]
fn a_change_before_connected_is_used_at_subscribe_time() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    s.set_destination(t0, "/queue/late");
    assert!(written(&mut s).is_empty());
    feed(&mut s, t0, connected("0,0"));
    assert_eq!(written_frames(&mut s)[0].header("destination"), Some("/queue/late"));
}

#[test]
fn close_disconnects_with_a_receipt_or_a_timeout() {
    let (mut s, t0) = up_session(&config());
    s.close(t0);
    let f = written_frames(&mut s);
    assert_eq!(f[0].command, Command::Disconnect);
    let id = f[0].header("receipt").unwrap().to_owned();
    assert_eq!(s.send(t0, "/queue/c", vec![1]), Err(SendError::NotConnected));
    feed(&mut s, t0, receipt(&id));
    assert_eq!(events(&mut s), vec![Event::Closed(Close::Stopped)]);

    let (mut s, t0) = up_session(&config());
    s.close(t0);
    s.close(t0);
    assert_eq!(written_frames(&mut s).len(), 1, "one DISCONNECT only");
    assert_eq!(s.poll_timeout(), Some(t0 + DISCONNECT_TIMEOUT));
    s.handle_timeout(t0 + DISCONNECT_TIMEOUT);
    assert_eq!(events(&mut s), vec![Event::Closed(Close::Stopped)]);

    // Before CONNECTED there is nothing to disconnect.
    let mut s = Session::new(&config(), t0);
    written(&mut s);
    s.close(t0);
    assert!(written(&mut s).is_empty());
    assert_eq!(events(&mut s), vec![Event::Closed(Close::Stopped)]);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    s.handle_timeout(t0 + HANDSHAKE_TIMEOUT - Duration::from_millis(1));
    assert!(events(&mut s).is_empty());
    s.handle_timeout(t0 + HANDSHAKE_TIMEOUT);
    assert_eq!(events(&mut s), vec![Event::Closed(Close::HandshakeTimeout)]);
    // Same when the SUBSCRIBE's receipt never comes.
    let mut s = Session::new(&config(), t0);
    feed(&mut s, t0, connected("0,0"));
    s.handle_timeout(t0 + HANDSHAKE_TIMEOUT);
    assert_eq!(events(&mut s), vec![Event::Closed(Close::HandshakeTimeout)]);
}

#[test]
fn garbage_and_oversized_frames_close_the_session() {
    let t0 = Instant::now();
    let mut s = Session::new(&config(), t0);
    s.handle_bytes(t0, b"HTTP/1.1 400 Bad Request\r\n\r\n");
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Closed(Close::Protocol(DecodeError::UnknownCommand(_)))]
    ));
    let (mut s, t0) = up_session(&config());
    s.handle_bytes(t0, b"MESSAGE\ncontent-length:1001\n\n");
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Close::Protocol(DecodeError::BodyTooLarge {
            announced: Some(1001),
            max: 1000
        }))]
    );
}

#[test]
fn unwritable_credentials_close_at_once() {
    let mut c = config();
    c.password = "two\nlines".into();
    let mut s = Session::new(&c, Instant::now());
    assert!(s.take_output().is_empty());
    assert!(matches!(&events(&mut s)[..], [Event::Closed(Close::BadConfig(_))]));
}

#[test]
fn a_session_refuses_frames_over_64_headers_or_16_kib_of_head() {
    // 63 headers besides `destination`: accepted; one more: the session closes.
    let message = |n: usize, value_len: usize| {
        let mut text = String::from("MESSAGE\ndestination:/queue/configured\n");
        for i in 0..n {
            text.push_str(&format!("x-{i}:{}\n", "v".repeat(value_len)));
        }
        text.push_str("content-length:1\n\nz\0");
        text
    };
    let (mut s, t0) = up_session(&config());
    s.handle_bytes(t0, message(62, 1).as_bytes());
    assert!(matches!(&events(&mut s)[..], [Event::Received { .. }]), "64 headers in all");
    s.handle_bytes(t0, message(63, 1).as_bytes());
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Close::Protocol(DecodeError::TooManyHeaders { max: 64 }))]
    );
    let (mut s, t0) = up_session(&config());
    s.handle_bytes(t0, message(2, 8 * 1024).as_bytes());
    assert_eq!(
        events(&mut s),
        vec![Event::Closed(Close::Protocol(DecodeError::HeadersTooLarge { max: 16 * 1024 }))]
    );
}
