//! Over MQTT through a private Mosquitto: MQTT 5.0 with uspctl started first, learning the
//! agent's Endpoint ID and topic from its MQTTConnect Record (a script session, with a
//! `subscribe`); MQTT 3.1.1 with one uspctl process per command, told the agent's Endpoint ID
//! and topic, reaching the broker over TLS (`--tls-ca`) while the agent connects in plain.

use std::time::{Duration, Instant};

use usp_testkit::certs::TestPki;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use super::{AGENT, CTL, Session, WAIT, agent, check, controller, exercise, notifications};

/// The agent's topic.
const AGENT_TOPIC: &str = "usp/e2e/agent";

/// The agent: one MQTT client to 127.0.0.1:`port` (5.0 when `v5`, else 3.1.1) with its own
/// topic, and the controller reached at `ctl_topic`.
fn reset(port: u16, v5: bool, ctl_topic: &str) -> String {
    let version = if v5 { "5.0" } else { "3.1.1" };
    format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {port}
Device.MQTT.Client.1.ProtocolVersion \"{version}\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.MQTT.Client.1.ConnectRetryTime 1
Device.MQTT.Client.1.ConnectRetryMaxInterval 2
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"{AGENT_TOPIC}\"
Device.LocalAgent.MTP.1.MQTT.PublishQoS 1
"
    ) + &controller(&format!(
        "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{ctl_topic}\"
"
    ))
}

/// Waits (at most [`WAIT`]) until the broker logged a subscription to `topic`.
fn subscribed(broker: &Mosquitto, topic: &str, s: &Session) {
    let end = Instant::now() + WAIT;
    while !broker.log().contains(topic) {
        assert!(Instant::now() < end, "no SUBSCRIBE to {topic}:\n{}\n{}", broker.log(), s.output());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn over_mqtt5_the_agent_is_learnt_from_its_connect_record() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let addr = format!("127.0.0.1:{}", broker.port());
    // uspctl's default topic; it subscribes before the agent publishes its MQTTConnect Record.
    let ctl_topic = format!("usp/controller/{CTL}");
    let mut s = Session::start(&["--mqtt", &addr]);
    subscribed(&broker, &ctl_topic, &s);
    let agent = agent(&reset(broker.port(), true, &ctl_topic));
    exercise(&mut s, &agent);
    notifications(&mut s, &agent);
    check(s, &agent);
}

#[test]
fn over_mqtt311_and_tls_one_command_a_process() {
    let pki = TestPki::generate("uspctl e2e CA", "uspctl");
    let broker = Mosquitto::start(MosquittoOpts { tls: Some((&pki).into()), ..Default::default() });
    let ctl_topic = "usp/e2e/controller";
    let agent = agent(&reset(broker.port(), false, ctl_topic));
    let addr = format!("127.0.0.1:{}", broker.tls_port());
    let ca = pki.ca.display().to_string();
    let base = [
        "--mqtt",
        &addr,
        "--mqtt-v311",
        "--tls-ca",
        &ca,
        "--topic",
        ctl_topic,
        "--agent",
        AGENT,
        "--agent-topic",
        AGENT_TOPIC,
    ];
    super::one_shot::one_shots(&base, &[], &agent, false);
}
