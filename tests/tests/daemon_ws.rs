//! The `uspagent` daemon reached over WebSocket: a controller connects to the agent's WebSocket
//! server (and the agent to the controller's), exchanging real USP Records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc::Receiver;
use std::time::Duration;

use usp_mtp::ws::{WsClientConfig, WsServerConfig, spawn_client, spawn_server};
use usp_mtp::{Link, MtpEvent, Outbound, channel_sink};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Get, Msg, body::MsgBody};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::free_port;

const AGENT: &str = "os::012345-WSTEST";
const CTL: &str = "self::ws-ctl";

fn reset(server_port: u16, controller_port: Option<u16>) -> String {
    let mut r = format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {server_port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
"
    );
    if let Some(port) = controller_port {
        r += &format!(
            "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {port}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"/ctl\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
"
        );
    }
    r
}

/// The next Record received, skipping other events.
fn next_record(rx: &Receiver<MtpEvent>, agent: &RunningAgent) -> Record {
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(MtpEvent::Received { record, .. }) => return Record::from_bytes(&record).unwrap(),
            Ok(_) => continue,
            Err(_) => panic!("no Record within 10 s; agent log:\n{}", agent.log()),
        }
    }
}

fn get_record(id: &str) -> Vec<u8> {
    let get = Get { param_paths: vec!["Device.DeviceInfo.SerialNumber".into()], max_depth: 0 };
    let msg = Msg::request(id, ReqType::Get(get));
    Record::no_session_context_msg("1.4", AGENT, CTL, &msg).to_bytes()
}

fn serial_of(record: &Record) -> String {
    let msg = record.decode_no_session_context_msg().unwrap();
    let Some(MsgBody::Response(r)) = msg.body.clone().unwrap().msg_body else { panic!("{msg:?}") };
    let Some(RespType::GetResp(g)) = r.resp_type else { panic!() };
    g.req_path_results[0].resolved_path_results[0].result_params["SerialNumber"].clone()
}

#[test]
fn a_controller_connected_to_the_agents_server_is_answered() {
    let port = free_port();
    let agent =
        RunningAgent::start(&reset(port, None), &["--endpoint-id", AGENT, "--serial", "S1"]);
    let (sink, rx) = channel_sink();
    let mut link = spawn_client(1, WsClientConfig::new(CTL, "127.0.0.1", port, "/usp"), sink);
    // The agent greets the new session with a WebSocketConnectRecord.
    let hello = next_record(&rx, &agent);
    assert!(matches!(hello.record_type, Some(RecordType::WebsocketConnect(_))), "{hello:?}");
    assert_eq!((hello.from_id.as_str(), hello.to_id.as_str()), (AGENT, CTL));
    link.send(Outbound { dest: String::new(), record: get_record("g-1"), retain: false }).unwrap();
    assert_eq!(serial_of(&next_record(&rx, &agent)), "S1");
    // Garbage closes the session with 1003 (R-WS.16) and the agent keeps serving.
    link.send(Outbound { dest: String::new(), record: b"\x01\x02garbage".to_vec(), retain: false })
        .unwrap();
    let o = agent.cli(&["get", "Device.LocalAgent.EndpointID"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains(AGENT), "{o:?}");
    link.stop();
}

#[test]
fn the_agent_opens_a_session_to_its_controller_and_says_goodbye() {
    let server_port = free_port();
    let ctl_port = free_port();
    let (sink, rx) = channel_sink();
    let listen = vec![std::net::SocketAddr::from(([127, 0, 0, 1], ctl_port))];
    let mut cfg = WsServerConfig::new(CTL, listen);
    cfg.path = "/ctl".into();
    let mut server = spawn_server(1, cfg, sink).unwrap();
    let mut agent = RunningAgent::start(
        &reset(server_port, Some(ctl_port)),
        &["--endpoint-id", AGENT, "--serial", "S2"],
    );
    let hello = next_record(&rx, &agent);
    assert!(matches!(hello.record_type, Some(RecordType::WebsocketConnect(_))), "{hello:?}");
    server.send(Outbound { dest: AGENT.into(), record: get_record("g-2"), retain: false }).unwrap();
    assert_eq!(serial_of(&next_record(&rx, &agent)), "S2");
    assert!(agent.terminate().success());
    let bye = next_record(&rx, &agent);
    assert!(matches!(bye.record_type, Some(RecordType::Disconnect(_))), "{bye:?}");
    server.stop();
}

#[test]
fn boot_is_held_until_the_controller_connects_then_notified() {
    let port = free_port();
    let reset = reset(port, None)
        + "Device.LocalAgent.Controller.1.BootParameter.1.Enable true
Device.LocalAgent.Controller.1.BootParameter.1.ParameterName \"Device.DeviceInfo.SerialNumber\"
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID \"boot\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.1.NotifType \"Event\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.Boot!\"
Device.LocalAgent.Subscription.1.Persistent true
";
    let agent = RunningAgent::start(&reset, &["--endpoint-id", AGENT, "--serial", "S3"]);
    std::thread::sleep(Duration::from_millis(200));
    let (sink, rx) = channel_sink();
    let mut link = spawn_client(1, WsClientConfig::new(CTL, "127.0.0.1", port, "/usp"), sink);
    let hello = next_record(&rx, &agent);
    assert!(matches!(hello.record_type, Some(RecordType::WebsocketConnect(_))), "{hello:?}");
    let boot = next_record(&rx, &agent).decode_no_session_context_msg().unwrap();
    let text = format!("{boot:?}");
    assert!(text.contains("Boot!") && text.contains("LocalFactoryReset"), "{text}");
    assert!(text.contains("SerialNumber") && text.contains("S3"), "ParameterMap: {text}");
    link.stop();
}
