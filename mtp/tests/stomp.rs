//! The STOMP link against a real RabbitMQ with its STOMP plugin (Debian `rabbitmq-server`; the
//! tests fail, naming the package, when it is missing). One private broker serves the whole
//! binary; the reconnect test starts its own, since it restarts it.
#![allow(clippy::unwrap_used)]

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::retry::RetryPolicy;
use usp_mtp::stomp::{StompConfig, StompLink, spawn};
use usp_mtp::tls::ClientTls;
use usp_mtp::{ConnectInfo, EventSink, Link, MtpEvent, Outbound, SendError};
use usp_testkit::certs::TestPki;
use usp_testkit::rabbitmq::{RabbitMq, RabbitMqOptions};

const WAIT: Duration = Duration::from_secs(20);
/// Quick retries for tests: windows 1–2 s, 2–4 s, then capped at 4 s.
const FAST_RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 4 };

fn collector() -> (EventSink, Receiver<MtpEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let sink: EventSink = Arc::new(move |e| {
        let _ = tx.lock().unwrap().send(e);
    });
    (sink, rx)
}

fn config(rabbit: &RabbitMq, endpoint: &str, destination: &str) -> StompConfig {
    let mut c = StompConfig::new(endpoint, "127.0.0.1", rabbit.stomp_port);
    c.virtual_host = rabbit.options.vhost.clone();
    c.username = rabbit.options.user.clone();
    c.password = rabbit.options.password.clone();
    c.destination = destination.to_owned();
    c.retry = FAST_RETRY;
    c
}

/// A destination no other test uses.
fn queue(name: &str) -> String {
    format!("/queue/{name}-{}", std::process::id())
}

fn next(rx: &Receiver<MtpEvent>, limit: Duration) -> MtpEvent {
    rx.recv_timeout(limit).unwrap_or_else(|e| panic!("no event within {limit:?}: {e}"))
}

/// Waits for `Up`, skipping `Down`s (failed attempts); returns its info.
fn expect_up(rx: &Receiver<MtpEvent>, limit: Duration) -> ConnectInfo {
    let end = Instant::now() + limit;
    loop {
        match next(rx, end.saturating_duration_since(Instant::now())) {
            MtpEvent::Up { info, peer: None, .. } => return info,
            MtpEvent::Down { reason, .. } => eprintln!("down while waiting for up: {reason}"),
            other => panic!("expected Up, got {other:?}"),
        }
    }
}

fn expect_down(rx: &Receiver<MtpEvent>) -> (String, Option<Duration>) {
    match next(rx, WAIT) {
        MtpEvent::Down { reason, retry_in, .. } => (reason, retry_in),
        other => panic!("expected Down, got {other:?}"),
    }
}

fn expect_received(rx: &Receiver<MtpEvent>) -> (Option<String>, Vec<u8>) {
    match next(rx, WAIT) {
        MtpEvent::Received { reply_to, record, .. } => (reply_to, record),
        other => panic!("expected Received, got {other:?}"),
    }
}

fn up_link(rabbit: &RabbitMq, name: &str) -> (StompLink, Receiver<MtpEvent>, String) {
    let dest = queue(name);
    let (sink, rx) = collector();
    let link = spawn(1, config(rabbit, &format!("proto::{name}"), &dest), sink);
    expect_up(&rx, WAIT);
    (link, rx, dest)
}

fn out(dest: &str, record: &[u8]) -> Outbound {
    Outbound { dest: dest.to_owned(), record: record.to_vec(), retain: false }
}

/// Records with NUL bytes, line breaks and every byte value.
fn records() -> Vec<Vec<u8>> {
    vec![
        vec![0],
        vec![0, 0, b'\n', 0, b'\r', b'\n', 0],
        (0..=255u8).collect(),
        (0..200_000u32).map(|i| (i % 251) as u8).collect(),
    ]
}

#[test]
fn a_link_connects_subscribes_and_reports_up() {
    let rabbit = RabbitMq::shared();
    eprintln!("{}", rabbit.describe());
    let dest = queue("up");
    let (sink, rx) = collector();
    let mut link = spawn(7, config(rabbit, "proto::up", &dest), sink);
    match next(&rx, WAIT) {
        MtpEvent::Up { link: 7, peer: None, info } => assert_eq!(
            info,
            ConnectInfo::Stomp { subscribed_destination: dest, destination_from_server: None }
        ),
        other => panic!("expected Up, got {other:?}"),
    }
    assert!(link.is_up());
    link.stop();
    assert_eq!(expect_down(&rx), ("stopped".to_owned(), None));
    assert_eq!(link.send(out("/queue/x", b"x")), Err(SendError::Stopped));
}

#[test]
fn two_links_exchange_binary_records_both_ways_with_reply_to() {
    let rabbit = RabbitMq::shared();
    let (agent, agent_rx, agent_dest) = up_link(rabbit, "agent");
    let (ctl, ctl_rx, ctl_dest) = up_link(rabbit, "controller");
    for record in records() {
        ctl.send(out(&agent_dest, &record)).unwrap();
        let (reply_to, got) = expect_received(&agent_rx);
        assert_eq!(reply_to.as_deref(), Some(ctl_dest.as_str()));
        assert!(got == record, "{} bytes came back as {}", record.len(), got.len());
        // The answer goes where reply-to-dest said.
        let mut answer = got.clone();
        answer.reverse();
        agent.send(out(&reply_to.unwrap(), &answer)).unwrap();
        let (reply_to, got) = expect_received(&ctl_rx);
        assert_eq!(reply_to.as_deref(), Some(agent_dest.as_str()));
        assert!(got == answer);
    }
}

#[test]
fn negotiated_heartbeats_keep_an_idle_link_up() {
    let rabbit = RabbitMq::shared();
    let dest = queue("heartbeat");
    let mut c = config(rabbit, "proto::hb", &dest);
    // RabbitMQ answers with the same periods: both sides beat every second and each closes a
    // connection that stays silent for twice (us) or about twice (RabbitMQ) that.
    c.heartbeat = Some((Duration::from_secs(1), Duration::from_secs(1)));
    let (sink, rx) = collector();
    let link = spawn(1, c, sink);
    expect_up(&rx, WAIT);
    // Idle for five heart-beat periods: any Down here means a side stopped beating.
    if let Ok(e) = rx.recv_timeout(Duration::from_secs(5)) {
        panic!("idle link reported {e:?}");
    }
    link.send(out(&dest, b"\0still here")).unwrap();
    assert_eq!(expect_received(&rx).1, b"\0still here");
}

#[test]
fn an_error_frame_is_retried_with_the_backoff() {
    let rabbit = RabbitMq::shared();
    let mut c = config(rabbit, "proto::bad-login", &queue("bad-login"));
    c.password = "wrong".into();
    let (sink, rx) = collector();
    let _link = spawn(1, c, sink);
    for attempt in 1..=2 {
        let (reason, retry_in) = expect_down(&rx);
        assert!(reason.contains("ERROR frame"), "{reason}");
        let (lo, hi) = FAST_RETRY.window(attempt);
        let retry_in = retry_in.expect("an ERROR frame is retried");
        assert!(lo <= retry_in && retry_in <= hi, "retry {attempt}: {retry_in:?}");
    }
    // A virtual host that does not exist is refused the same way.
    let mut c = config(rabbit, "proto::bad-vhost", &queue("bad-vhost"));
    c.virtual_host = "no-such-vhost".into();
    let (sink, rx) = collector();
    let _link = spawn(2, c, sink);
    let (reason, retry_in) = expect_down(&rx);
    assert!(reason.contains("ERROR frame") && retry_in.is_some(), "{reason}");
}

#[test]
fn a_destination_change_resubscribes() {
    let rabbit = RabbitMq::shared();
    let (agent, agent_rx, first) = up_link(rabbit, "moving");
    let (ctl, ctl_rx, ctl_dest) = up_link(rabbit, "mover");
    let second = queue("moved");
    agent.set_destination(&second);
    assert_eq!(
        expect_up(&agent_rx, WAIT),
        ConnectInfo::Stomp {
            subscribed_destination: second.clone(),
            destination_from_server: None
        }
    );
    // The old destination is no longer read: a Record sent there first is not the one received.
    ctl.send(out(&first, b"old")).unwrap();
    ctl.send(out(&second, b"new")).unwrap();
    assert_eq!(expect_received(&agent_rx).1, b"new");
    // Our reply-to-dest follows the move.
    agent.send(out(&ctl_dest, b"hello")).unwrap();
    assert_eq!(expect_received(&ctl_rx).0.as_deref(), Some(second.as_str()));
    // No destination at all: disconnected and disabled (R-STOMP.17) until one is given.
    agent.set_destination("");
    let (reason, retry_in) = expect_down(&agent_rx);
    assert!(reason.contains("no configured destination") && retry_in.is_none(), "{reason}");
    assert_eq!(agent.send(out(&ctl_dest, b"x")), Err(SendError::NotConnected));
    let third = queue("moved-again");
    agent.set_destination(&third);
    assert_eq!(
        expect_up(&agent_rx, WAIT),
        ConnectInfo::Stomp { subscribed_destination: third, destination_from_server: None }
    );
}

#[test]
fn tls_links_verify_the_broker_and_carry_records() {
    let rabbit = RabbitMq::shared();
    let certs = rabbit.certs.as_ref().expect("the shared broker has TLS");
    let dest = queue("tls");
    let mut c = config(rabbit, "proto::tls", &dest);
    c.host = "localhost".into();
    c.port = rabbit.stomp_tls_port.expect("TLS port");
    c.tls = Some(ClientTls { ca_file: Some(certs.ca.clone()), ..ClientTls::default() });
    let (sink, rx) = collector();
    let link = spawn(1, c.clone(), sink);
    expect_up(&rx, WAIT);
    // Up to the largest Record a link accepts: many TLS records and read turns per frame.
    let largest: Vec<u8> = (0..usp_mtp::DEFAULT_MAX_RECORD).map(|i| (i % 253) as u8).collect();
    for record in records().into_iter().chain([largest]) {
        link.send(out(&dest, &record)).unwrap();
        assert!(expect_received(&rx).1 == record);
    }
    // The same broker is refused when its CA is not trusted (another test CA is).
    let other = TestPki::generate("STOMP test CA", "client");
    c.tls = Some(ClientTls { ca_file: Some(other.ca.clone()), ..ClientTls::default() });
    let (sink, rx) = collector();
    let _untrusting = spawn(2, c, sink);
    let (reason, retry_in) = expect_down(&rx);
    assert!(reason.contains("TLS handshake") && retry_in.is_some(), "{reason}");
}

#[test]
fn oversized_records_are_refused_and_oversized_frames_drop_the_connection() {
    let rabbit = RabbitMq::shared();
    let (ctl, _ctl_rx, _) = up_link(rabbit, "big-sender");
    let dest = queue("small-receiver");
    let mut c = config(rabbit, "proto::small", &dest);
    c.max_record = 1000;
    let (sink, rx) = collector();
    let small = spawn(1, c, sink);
    expect_up(&rx, WAIT);
    assert_eq!(small.send(out(&dest, &[0; 1001])), Err(SendError::TooLarge { max: 1000 }));
    // A 5000-byte MESSAGE is over the receiver's limit: it drops the connection, reconnects.
    ctl.send(out(&dest, &[1; 5000])).unwrap();
    let (reason, retry_in) = expect_down(&rx);
    assert!(reason.contains("over the 1000-byte limit") && retry_in.is_some(), "{reason}");
    expect_up(&rx, WAIT);
    ctl.send(out(&dest, &[2; 1000])).unwrap();
    assert_eq!(expect_received(&rx).1, vec![2; 1000]);
}

#[test]
fn a_broker_restart_is_followed_by_reconnection_within_the_backoff() {
    let mut rabbit = RabbitMq::start(RabbitMqOptions { tls: false, ..Default::default() });
    let dest = queue("restart");
    let (sink, rx) = collector();
    let link = spawn(1, config(&rabbit, "proto::restart", &dest), sink);
    expect_up(&rx, WAIT);
    rabbit.restart();
    eprintln!("broker restarted in {:?}", rabbit.startup);
    // Every Down until the next Up announces a wait inside its window.
    let mut attempt = 0;
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        match next(&rx, end.saturating_duration_since(Instant::now())) {
            MtpEvent::Down { retry_in, reason, .. } => {
                attempt += 1;
                let (lo, hi) = FAST_RETRY.window(attempt);
                let retry_in = retry_in.expect("a lost broker is retried");
                assert!(
                    lo <= retry_in && retry_in <= hi,
                    "retry {attempt}: {retry_in:?}, {reason}"
                );
            }
            MtpEvent::Up { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(attempt >= 1, "the restart was noticed");
    link.send(out(&dest, b"\0after restart")).unwrap();
    assert_eq!(expect_received(&rx).1, b"\0after restart");
}
