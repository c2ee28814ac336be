//! One scripted conversation over every MTP (issue 19, "Interoperability"): the same requests
//! (Get, Set, Add, GetInstances, Delete, Operate, GetSupportedDM, GetSupportedProtocol and two
//! errors) sent by the real `uspctl` to a fresh `uspagent` over MQTT 5.0, MQTT 3.1.1, STOMP
//! (a private RabbitMQ), WebSocket with uspctl as client of the agent's server, and WebSocket
//! with the agent as client of uspctl's server; the JSON answers must be identical once the
//! per-run ids (msg_ids, the agent's notification ids) are removed.
//!
//! Needs `mosquitto`, `rabbitmq-server` and the `uspctl` and `uspagent` binaries built
//! (`cargo build -p uspctl -p uspagent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use usp_testkit::agent::{RunningAgent, cargo_bin};
use usp_testkit::free_port;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};
use usp_testkit::rabbitmq::RabbitMq;

const AGENT: &str = "os::012345-EVERYMTP";
const CTL: &str = "self::every-ctl";
const AGENT_TOPIC: &str = "usp/v1/agent/every";
const CTL_TOPIC: &str = "usp/v1/controller/every";

/// The conversation, one uspctl command a line (the last two are errors: a path that does not
/// exist, a read-only parameter).
const SCRIPT: &str = "\
get Device.DeviceInfo.SerialNumber Device.LocalAgent.Controller.1.EndpointID
set Device.LocalAgent.Controller.1.ProvisioningCode=pc-every
get Device.LocalAgent.Controller.1.ProvisioningCode
add Device.LocalAgent.Subscription. ID=every NotifType=ValueChange ReferenceList=Device.LocalAgent.Controller.1.ProvisioningCode Enable=false
instances Device.LocalAgent.Subscription.
del Device.LocalAgent.Subscription.[ID==\"every\"].
instances Device.LocalAgent.Subscription.
operate Device.LocalAgent.Controller.1.E2ESession.Reset()
gsdm Device.LocalAgent.Controller. --first-level-only
proto
get Device.NoSuchThing.
set Device.DeviceInfo.SerialNumber=changed
";

/// The reset file: the controller with full access, `mtp` for the rest.
fn reset(mtp: &str) -> String {
    format!(
        "Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
{mtp}"
    )
}

fn mqtt_reset(port: u16, v5: bool) -> String {
    let version = if v5 { "5.0" } else { "3.1.1" };
    reset(&format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {port}
Device.MQTT.Client.1.ProtocolVersion \"{version}\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.MQTT.Client.1.ConnectRetryTime 1
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"{AGENT_TOPIC}\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{CTL_TOPIC}\"
"
    ))
}

fn stomp_reset(rabbit: &RabbitMq, agent_dest: &str, ctl_dest: &str) -> String {
    let o = &rabbit.options;
    reset(&format!(
        "Device.STOMP.Connection.1.Enable true
Device.STOMP.Connection.1.Host \"127.0.0.1\"
Device.STOMP.Connection.1.Port {port}
Device.STOMP.Connection.1.Username \"{user}\"
Device.STOMP.Connection.1.Password \"{pass}\"
Device.STOMP.Connection.1.VirtualHost \"{vhost}\"
Device.STOMP.Connection.1.EnableEncryption false
Device.STOMP.Connection.1.ServerRetryInitialInterval 1
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.MTP.1.STOMP.Destination \"{agent_dest}\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Destination \"{ctl_dest}\"
",
        port = rabbit.stomp_port,
        user = o.user,
        pass = o.password,
        vhost = o.vhost,
    ))
}

/// The agent's WebSocket server on `port`, and, with `ctl_port`, uspctl's server as the
/// controller's MTP.
fn ws_reset(port: u16, ctl_port: Option<u16>) -> String {
    let mut mtp = format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
"
    );
    if let Some(p) = ctl_port {
        mtp += &format!(
            "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {p}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"/ctl\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
"
        );
    }
    reset(&mtp)
}

fn start_agent(reset: &str) -> RunningAgent {
    RunningAgent::start(reset, &["--endpoint-id", AGENT, "--serial", "S-EVERY"])
}

/// Waits (at most 20 s) until the agent's link to a broker is up: a request published before
/// the agent's subscription is acknowledged reaches no subscriber and is lost.
fn wait_link_up(agent: &RunningAgent, link: &str) {
    let line = format!("{link}: up");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !agent.log().contains(&line) && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs [`SCRIPT`] through `uspctl --json` with the transport options `transport`.
fn converse(transport: &[&str], agent: &RunningAgent) -> Output {
    let mut args = vec!["--json", "--eid", CTL, "--agent", AGENT, "--timeout", "15"];
    args.extend_from_slice(transport);
    let mut child = Command::new(cargo_bin("uspctl"))
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run uspctl");
    child.stdin.take().unwrap().write_all(SCRIPT.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.stdout.is_empty(),
        "no answer; uspctl: {}\nagent log:\n{}",
        text(&out.stderr),
        agent.log()
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The answers of a conversation with the per-run ids removed: notifications (their ids and
/// arrival order vary) are left out, the values of `msg_id` fields emptied.
fn answers(out: &Output) -> Vec<String> {
    text(&out.stdout)
        .lines()
        .filter(|l| !(l.contains("\"from\"") && l.contains("\"subscription_id\"")))
        .map(strip_msg_ids)
        .collect()
}

fn strip_msg_ids(line: &str) -> String {
    const KEY: &str = "\"msg_id\":\"";
    let mut parts = line.split(KEY);
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push_str(KEY);
        out.push_str(part.find('"').map_or("", |i| &part[i..]));
    }
    out
}

#[test]
fn one_conversation_same_answers_over_every_mtp() {
    let mut results: Vec<(&str, Vec<String>)> = Vec::new();

    let broker = Mosquitto::start(MosquittoOpts::default());
    let mqtt = format!("127.0.0.1:{}", broker.port());
    for (name, v5) in [("MQTT 5.0", true), ("MQTT 3.1.1", false)] {
        let agent = start_agent(&mqtt_reset(broker.port(), v5));
        wait_link_up(&agent, "Device.MQTT.Client.1.");
        let mut t = vec!["--mqtt", &mqtt, "--topic", CTL_TOPIC, "--agent-topic", AGENT_TOPIC];
        if !v5 {
            t.push("--mqtt-v311");
        }
        results.push((name, answers(&converse(&t, &agent))));
    }

    let rabbit = RabbitMq::shared();
    let (agent_dest, ctl_dest) = (
        format!("/queue/every-agent-{}", std::process::id()),
        format!("/queue/every-ctl-{}", std::process::id()),
    );
    let agent = start_agent(&stomp_reset(rabbit, &agent_dest, &ctl_dest));
    wait_link_up(&agent, "Device.STOMP.Connection.1.");
    let stomp = format!("127.0.0.1:{}", rabbit.stomp_port);
    let o = &rabbit.options;
    let t = [
        "--stomp",
        &stomp,
        "--user",
        &o.user,
        "--password",
        &o.password,
        "--vhost",
        &o.vhost,
        "--dest",
        &ctl_dest,
        "--agent-dest",
        &agent_dest,
    ];
    results.push(("STOMP", answers(&converse(&t, &agent))));

    let port = free_port();
    let agent = start_agent(&ws_reset(port, None));
    let url = format!("ws://127.0.0.1:{port}/usp");
    results.push(("WebSocket, agent's server", answers(&converse(&["--ws", &url], &agent))));

    let (port, ctl_port) = (free_port(), free_port());
    let agent = start_agent(&ws_reset(port, Some(ctl_port)));
    let listen = format!("127.0.0.1:{ctl_port}");
    results.push((
        "WebSocket, uspctl's server",
        answers(&converse(&["--ws-listen", &listen], &agent)),
    ));

    let (first, reference) = &results[0];
    let answered = reference.iter().filter(|l| *l == "{" || *l == "[").count();
    assert_eq!(answered, SCRIPT.lines().count(), "one answer a command: {reference:#?}");
    let all = reference.join("\n");
    for expected in [
        "\"SerialNumber\": \"S-EVERY\"",
        "\"ProvisioningCode\": \"pc-every\"",
        "Device.LocalAgent.Subscription.1.",
        "Device.LocalAgent.Controller.1.E2ESession.Reset()",
        "\"err_code\": 7026",
        "\"err_code\": 7013",
        "1.0,1.1,1.2,1.3,1.4",
    ] {
        assert!(all.contains(expected), "{first}: {expected} missing in {all}");
    }
    for (name, got) in &results[1..] {
        assert_eq!(got, reference, "{name} differs from {first}");
    }
}
