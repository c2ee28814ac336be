//! Bad input against the `uspagent` daemon's WebSocket server, from a raw tungstenite peer that
//! can misbehave: an unparseable Record (Close 1003), an oversized message, a client silent
//! during the handshake, a second session of the same controller, and notifications carried by
//! the server session while the controller's own MTP (a client to a dead port) is down.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};
use usp_proto::msg::body::MsgBody;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self as m, Msg};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::{free_port, wait_for_port};

const AGENT: &str = "os::012345-WSBAD";
const CTL: &str = "self::ws-bad-ctl";
const WAIT: Duration = Duration::from_secs(10);

fn reset(port: u16) -> String {
    format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
"
    )
}

/// Starts the agent and waits until its WebSocket server listens on `port`.
fn start(reset: &str, serial: &str, port: u16) -> RunningAgent {
    let agent = RunningAgent::start(reset, &["--endpoint-id", AGENT, "--serial", serial]);
    assert!(wait_for_port(port, WAIT), "no WebSocket server on {port}; log:\n{}", agent.log());
    agent
}

type Ws = WebSocket<TcpStream>;

/// A session to the agent's server as `CTL`; returns it after the WebSocketConnectRecord.
fn open(port: u16, agent: &RunningAgent) -> Ws {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("the agent listens");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    let mut req = format!("ws://127.0.0.1:{port}/usp?eid={CTL}").into_client_request().unwrap();
    req.headers_mut().insert("Sec-WebSocket-Protocol", "v1.usp".parse().unwrap());
    let (mut ws, resp) = tungstenite::client::client(req, stream)
        .unwrap_or_else(|e| panic!("handshake failed: {e}; log:\n{}", agent.log()));
    assert_eq!(resp.headers()["Sec-WebSocket-Protocol"], "v1.usp");
    let hello = next_record(&mut ws, agent);
    assert!(matches!(hello.record_type, Some(RecordType::WebsocketConnect(_))), "{hello:?}");
    ws
}

/// The next binary message as a Record (pings are answered by tungstenite).
fn next_record(ws: &mut Ws, agent: &RunningAgent) -> Record {
    for _ in 0..100 {
        match ws.read() {
            Ok(Message::Binary(b)) => return Record::from_bytes(&b).unwrap(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a Record, got {other:?}; log:\n{}", agent.log()),
        }
    }
    panic!("only control frames");
}

/// Reads until the session ends; returns the Close frame if the agent sent one.
fn closed(ws: &mut Ws) -> Option<CloseFrame> {
    let end = Instant::now() + WAIT * 2;
    while Instant::now() < end {
        match ws.read() {
            Ok(Message::Close(frame)) => return frame,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("the session is still open after {WAIT:?}")
            }
            Err(_) => return None,
        }
    }
    panic!("the session did not end");
}

/// Reads `s` until the peer closes it (`true`) or the read timeout passes (`false`); an HTTP
/// error answer before the close is read past.
fn ended(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    for _ in 0..1000 {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                use std::io::ErrorKind::{TimedOut, WouldBlock};
                return !matches!(e.kind(), WouldBlock | TimedOut);
            }
        }
    }
    false
}

fn get_bytes(id: &str) -> Vec<u8> {
    let get = m::Get { param_paths: vec!["Device.DeviceInfo.SerialNumber".into()], max_depth: 0 };
    Record::no_session_context_msg("1.4", AGENT, CTL, &Msg::request(id, ReqType::Get(get)))
        .to_bytes()
}

/// Sends a Get on `ws` and checks the answer carries `serial`.
fn served(ws: &mut Ws, agent: &RunningAgent, id: &str, serial: &str) {
    ws.send(Message::binary(get_bytes(id))).unwrap();
    let answer = next_record(ws, agent).decode_no_session_context_msg().unwrap();
    assert_eq!(answer.msg_id(), Some(id));
    assert!(format!("{answer:?}").contains(serial), "{answer:?}");
}

#[test]
fn an_unparseable_record_closes_with_1003_and_a_new_session_is_served() {
    let port = free_port();
    let agent = start(&reset(port), "BAD1", port);
    let mut ws = open(port, &agent);
    ws.send(Message::binary(b"\x01\x02 not a Record \xff".to_vec())).unwrap();
    let frame = closed(&mut ws).expect("a Close frame");
    assert_eq!(frame.code, CloseCode::Unsupported, "{frame:?}");
    assert_eq!(u16::from(frame.code), 1003);
    let mut again = open(port, &agent);
    served(&mut again, &agent, "after-1003", "BAD1");
}

#[test]
fn an_oversized_message_ends_the_session_and_the_agent_stays_up() {
    let port = free_port();
    let agent = start(&reset(port), "BAD2", port);
    let mut ws = open(port, &agent);
    // Larger than the server's limit (usp_mtp::DEFAULT_MAX_RECORD).
    let big = vec![0x55u8; usp_mtp::DEFAULT_MAX_RECORD + 1024];
    // The agent may close while we are still writing: either way the session ends.
    let sent = ws.send(Message::binary(big));
    if sent.is_ok() {
        if let Some(frame) = closed(&mut ws) {
            assert_eq!(frame.code, CloseCode::Size, "{frame:?}");
        }
    }
    let mut again = open(port, &agent);
    served(&mut again, &agent, "after-big", "BAD2");
}

#[test]
fn a_client_silent_during_the_handshake_neither_blocks_others_nor_stays() {
    let port = free_port();
    let agent = start(&reset(port), "BAD3", port);
    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut half, b"GET /usp?eid=x HTTP/1.1\r\nHost: 127").unwrap();
    let since = Instant::now();
    // Others are served meanwhile.
    let mut ws = open(port, &agent);
    served(&mut ws, &agent, "beside-silent", "BAD3");
    // The silent ones are dropped after the handshake timeout (10 s); allow 10 s more.
    let limit = usp_mtp::ws::HANDSHAKE_TIMEOUT + WAIT;
    for (name, s) in [("silent", &mut silent), ("half", &mut half)] {
        s.set_read_timeout(Some(limit.saturating_sub(since.elapsed()).max(Duration::from_secs(1))))
            .unwrap();
        assert!(ended(s), "the {name} connection is still open after {:?}", since.elapsed());
    }
    served(&mut ws, &agent, "after-silent", "BAD3");
}

#[test]
fn a_second_session_of_the_same_controller_replaces_the_first() {
    let port = free_port();
    let agent = start(&reset(port), "BAD4", port);
    let mut first = open(port, &agent);
    served(&mut first, &agent, "on-first", "BAD4");
    let mut second = open(port, &agent);
    served(&mut second, &agent, "on-second", "BAD4");
    // The first session is over (closed by the agent).
    let _ = first.send(Message::binary(get_bytes("on-first-again")));
    match first.read() {
        Ok(Message::Close(_)) | Err(_) => {}
        Ok(other) => panic!("the replaced session still answers: {other:?}"),
    }
    served(&mut second, &agent, "still-second", "BAD4");
}

#[test]
fn notifications_use_the_server_session_while_the_configured_mtp_is_down() {
    let port = free_port();
    let dead = free_port();
    let reset = reset(port)
        + &format!(
            "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {dead}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"/ctl\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID \"boot\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.1.NotifType \"Event\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.Boot!\"
Device.LocalAgent.Subscription.2.Enable true
Device.LocalAgent.Subscription.2.ID \"vc\"
Device.LocalAgent.Subscription.2.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.2.NotifType \"ValueChange\"
Device.LocalAgent.Subscription.2.ReferenceList \"Device.LocalAgent.Controller.1.ProvisioningCode\"
"
        );
    let agent = start(&reset, "BAD5", port);
    std::thread::sleep(Duration::from_millis(300));
    let mut ws = open(port, &agent);
    // Boot!, held while no route was up, comes over the server session.
    let boot = next_record(&mut ws, &agent).decode_no_session_context_msg().unwrap();
    assert!(format!("{boot:?}").contains("Boot!"), "{boot:?}");
    // A change made locally is notified over the same session.
    let out = agent.cli(&["set", "Device.LocalAgent.Controller.1.ProvisioningCode", "via-server"]);
    assert!(out.status.success(), "{out:?}");
    let vc = next_record(&mut ws, &agent).decode_no_session_context_msg().unwrap();
    let Some(MsgBody::Request(req)) = vc.body.and_then(|b| b.msg_body) else { panic!() };
    let Some(ReqType::Notify(n)) = req.req_type else { panic!("{req:?}") };
    assert_eq!(n.subscription_id, "vc");
    assert!(format!("{n:?}").contains("via-server"), "{n:?}");
    let status = agent.cli(&["get", "Device.LocalAgent.Controller.1.MTP.1.WebSocket.Status"]);
    eprintln!("configured MTP: {}", String::from_utf8_lossy(&status.stdout));
}
