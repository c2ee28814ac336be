//! The `uspagent` daemon's security settings end to end: its wss server requiring client
//! certificates (`--require-client-cert`, R-MTP.1) with the controller's Endpoint ID in the
//! certificate (R-SEC.0a), and passwords absent from its database file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use usp_mtp::tls::ClientTls;
use usp_mtp::ws::{WsClientConfig, spawn_client};
use usp_mtp::{Link, MtpEvent, Outbound, channel_sink};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Get, Msg};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::certs::{LeafSpec, TestPki};
use usp_testkit::free_port;

const AGENT: &str = "os::012345-SECTEST";
const CTL: &str = "self::secure-ctl";

fn reset(port: u16) -> String {
    format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption true
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
"
    )
}

/// A controller link to the agent's wss server presenting `cert` (certificate, key).
fn controller(
    port: u16,
    pki: &TestPki,
    cert: bool,
) -> (usp_mtp::ws::WsClientLink, Receiver<MtpEvent>) {
    let (sink, rx) = channel_sink();
    let mut config = WsClientConfig::new(CTL, "localhost", port, "/usp");
    config.tls = Some(ClientTls {
        ca_file: Some(pki.ca.clone()),
        client_cert: cert.then(|| (pki.client_cert.clone(), pki.client_key.clone())),
        insecure_skip_verify: false,
    });
    (spawn_client(1, config, sink), rx)
}

/// The next Record, or the first Down, within 10 s.
fn next(rx: &Receiver<MtpEvent>, agent: &RunningAgent) -> Result<Record, String> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(MtpEvent::Received { record, .. }) => {
                return Ok(Record::from_bytes(&record).unwrap());
            }
            Ok(MtpEvent::Down { reason, .. }) => return Err(reason),
            Ok(_) => continue,
            Err(_) => panic!("nothing within 10 s; agent log:\n{}", agent.log()),
        }
    }
}

#[test]
fn tp469_4_1_the_daemons_wss_server_requires_a_client_certificate() {
    let spec = LeafSpec { client_endpoint_id: Some(CTL.into()), ..LeafSpec::default() };
    let pki = TestPki::generate_with("daemon test CA", "controller", &spec);
    let port = free_port();
    let (cert, key, ca) = (pki.server_cert.to_str(), pki.server_key.to_str(), pki.ca.to_str());
    let args = [
        "--endpoint-id",
        AGENT,
        "--server-cert",
        cert.unwrap(),
        "--server-key",
        key.unwrap(),
        "-t",
        ca.unwrap(),
        "--require-client-cert",
    ];
    let agent = RunningAgent::start(&reset(port), &args);
    // Without a certificate: no session.
    let (mut link, rx) = controller(port, &pki, false);
    let down = next(&rx, &agent).expect_err("refused");
    link.stop();
    // With the CA's certificate naming the controller: greeted and answered.
    let (mut link, rx) = controller(port, &pki, true);
    let hello = next(&rx, &agent).unwrap_or_else(|e| panic!("{e}; first refusal: {down}"));
    assert!(matches!(hello.record_type, Some(RecordType::WebsocketConnect(_))), "{hello:?}");
    let get = Get { param_paths: vec!["Device.LocalAgent.EndpointID".into()], max_depth: 0 };
    let msg = Msg::request("g", ReqType::Get(get));
    let record = Record::no_session_context_msg("1.4", AGENT, CTL, &msg).to_bytes();
    link.send(Outbound { dest: String::new(), record, retain: false }).unwrap();
    let answer = next(&rx, &agent).unwrap().decode_no_session_context_msg().unwrap();
    assert!(format!("{answer:?}").contains(AGENT), "{answer:?}");
    // A Record claiming another controller on this session is not processed (R-SEC.0a).
    let record = Record::no_session_context_msg("1.4", AGENT, "self::other", &msg).to_bytes();
    link.send(Outbound { dest: String::new(), record, retain: false }).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(agent.log().contains("on the session of"), "{}", agent.log());
    link.stop();
}

#[test]
fn the_mqtt_password_is_not_in_the_database_file() {
    let reset = "Device.MQTT.Client.1.Enable false
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.Username \"agent-user-Qw3\"
Device.MQTT.Client.1.Password \"broker-pw-Zx81\"
";
    let mut agent = RunningAgent::start(reset, &["--endpoint-id", AGENT]);
    let o = agent.cli(&["get", "Device.MQTT.Client.1.Password"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("broker-pw-Zx81"), "{o:?}");
    assert!(agent.terminate().success());
    let mut bytes = std::fs::read(agent.dir.path().join("usp.db")).unwrap();
    bytes.extend(std::fs::read(agent.dir.path().join("usp.db-wal")).unwrap_or_default());
    let has = |s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    assert!(has("agent-user-Qw3"), "the file holds the configuration");
    assert!(!has("broker-pw-Zx81"), "the password is sealed");
}
