//! The scenario pieces: a reset file for an MQTT agent, the names both sides use, starting an
//! agent on a given database, and reading one value through the agent's local CLI.

use std::path::Path;

use usp_testkit::agent::RunningAgent;

use crate::ctl::Names;

/// The agent's Endpoint ID (also its 3.1.1 ClientID).
pub const AGENT: &str = "os::012345-E2EMQTT";
/// The agent's topic.
pub const AGENT_TOPIC: &str = "usp/v1/agent/e2e";
/// The controller's Endpoint ID.
pub const CTL: &str = "self::e2e-ctl";
/// The controller's topic.
pub const CTL_TOPIC: &str = "usp/v1/controller/e2e";

/// The names of this file's agent and controller.
pub fn names() -> Names {
    Names {
        ctl: CTL.into(),
        ctl_topic: CTL_TOPIC.into(),
        agent: AGENT.into(),
        agent_topic: AGENT_TOPIC.into(),
    }
}

/// The reconnection schedule of [`reset`]: `ConnectRetryTime`, multiplier (‰), max interval.
pub const RETRY: (u32, u32, u32) = (2, 2000, 3);

/// A reset file: one MQTT client to the broker on `port` (MQTT 5.0 when `v5`), the agent's
/// topic configured, one controller on its topic, Boot! subscribed with the serial number.
pub fn reset(port: u16, v5: bool) -> String {
    let version = if v5 { "5.0" } else { "3.1.1" };
    let (time, mult, max) = RETRY;
    format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {port}
Device.MQTT.Client.1.ProtocolVersion \"{version}\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.MQTT.Client.1.ClientID \"\"
Device.MQTT.Client.1.KeepAliveTime 60
Device.MQTT.Client.1.ConnectRetryTime {time}
Device.MQTT.Client.1.ConnectRetryIntervalMultiplier {mult}
Device.MQTT.Client.1.ConnectRetryMaxInterval {max}
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"{AGENT_TOPIC}\"
Device.LocalAgent.MTP.1.MQTT.PublishQoS 1
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{CTL_TOPIC}\"
Device.LocalAgent.Controller.1.BootParameter.1.Enable true
Device.LocalAgent.Controller.1.BootParameter.1.ParameterName \"Device.DeviceInfo.SerialNumber\"
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID \"boot\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.1.NotifType \"Event\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.Boot!\"
Device.LocalAgent.Subscription.1.Persistent true
"
    )
}

/// Starts the agent with `reset`, Endpoint ID [`AGENT`], serial `S-E2E` and `more` options.
pub fn agent(reset: &str, more: &[&str]) -> RunningAgent {
    let mut args = vec!["--endpoint-id", AGENT, "--serial", "S-E2E"];
    args.extend_from_slice(more);
    RunningAgent::start(reset, &args)
}

/// Starts the agent on the database `db` (an absolute path that outlives the agent).
pub fn agent_on(reset: &str, db: &Path) -> RunningAgent {
    agent(reset, &["-f", db.to_str().expect("UTF-8 path")])
}

/// One parameter's value read with `uspagent -c get` (`None` when not printed).
pub fn cli_value(agent: &RunningAgent, path: &str) -> Option<String> {
    let out = agent.cli(&["get", path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(path).and_then(|rest| rest.strip_prefix(" => ")))
        .map(str::to_owned)
}

/// Polls [`cli_value`] until `pick` accepts it (at most 10 s); returns the last value read.
pub fn cli_until(agent: &RunningAgent, path: &str, pick: impl Fn(&str) -> bool) -> String {
    let end = std::time::Instant::now() + crate::ctl::WAIT;
    loop {
        let v = cli_value(agent, path).unwrap_or_default();
        if pick(&v) || std::time::Instant::now() >= end {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
