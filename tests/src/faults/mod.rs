//! Issue 20's fault suites, shared by the test command (small counts, `tests/tests/faults.rs`)
//! and the program that prints full-count figures (`tests/examples/faults.rs`): the real
//! `uspagent` binary over MQTT through a private Mosquitto, driven by `uspctl` controllers.
//!
//! - [`kill`]: `kill -9` of the agent during Set/Add/Delete storms from several controllers;
//! - [`broker`]: the broker killed and restarted under NotifRetry subscriptions;
//! - [`crowd`]: many controllers pipelining Gets, and one that floods and never reads.
//!
//! Each suite returns its figures, or a [`Violation`] saying which promise broke. Owns test
//! scaffolding only; stops only the processes it started (by their handles); every loop is
//! bounded in count and time.

pub mod broker;
pub mod crowd;
pub mod kill;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use usp_mtp::mqtt::{MqttConfig, spawn};
use usp_mtp::retry::RetryPolicy;
use usp_mtp::{DEFAULT_MAX_RECORD, Link};
use usp_proto::msg::Get;
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::MosquittoOpts;
use uspctl::client::{ClientError, Controller, ControllerConfig, Event};

/// The agent's Endpoint ID in the suites.
pub const AGENT: &str = "os::012345-FAULTS";
/// The agent's topic.
pub const AGENT_TOPIC: &str = "usp/v1/agent/faults";

/// A promise of issue 20 that did not hold: what and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Violation {}

/// Fails with `what` unless `ok`.
pub fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), Violation> {
    if ok { Ok(()) } else { Err(Violation(what())) }
}

/// The private broker's options: Nagle off (`set_tcp_nodelay`), as a broker serving
/// request/response traffic is configured; otherwise each forwarded PUBLISH may wait for the
/// peer's delayed ACK (40 ms on Linux).
pub fn broker_opts() -> MosquittoOpts {
    MosquittoOpts { extra: "set_tcp_nodelay true\n".into(), ..MosquittoOpts::default() }
}

/// Controller `i`'s Endpoint ID (1-based, as its `Controller.{i}` row).
pub fn ctl_id(i: usize) -> String {
    format!("self::fault-ctl-{i}")
}

/// Controller `i`'s topic.
pub fn ctl_topic(i: usize) -> String {
    format!("usp/v1/controller/fault-{i}")
}

/// The MQTT client's reconnection schedule in the suites' reset file: `ConnectRetryTime`,
/// multiplier (‰), `ConnectRetryMaxInterval` (seconds).
pub const RETRY: (u32, u32, u32) = (1, 2000, 2);

/// A reset file: one MQTT 5.0 client to the broker on `port` with [`RETRY`], the agent's topic,
/// `controllers` controllers with full access, each on its own topic, whose NotifRetry waits
/// are 1–2 s.
pub fn reset(port: u16, controllers: usize) -> String {
    let (time, mult, max) = RETRY;
    let mut text = format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {port}
Device.MQTT.Client.1.ProtocolVersion \"5.0\"
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
"
    );
    for i in 1..=controllers {
        let c = format!("Device.LocalAgent.Controller.{i}.");
        text.push_str(&format!(
            "{c}Enable true
{c}EndpointID \"{}\"
{c}AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
{c}USPNotifRetryMinimumWaitInterval 1
{c}USPNotifRetryIntervalMultiplier 1000
{c}MTP.1.Enable true
{c}MTP.1.Protocol \"MQTT\"
{c}MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
{c}MTP.1.MQTT.Topic \"{}\"
",
            ctl_id(i),
            ctl_topic(i)
        ));
    }
    text
}

/// The MQTT 5.0 link configuration of controller `i` (QoS 1, reconnecting every second).
pub fn mqtt_config(port: u16, i: usize) -> MqttConfig {
    MqttConfig {
        endpoint_id: ctl_id(i),
        host: "127.0.0.1".into(),
        port,
        v5: true,
        client_id: String::new(),
        username: String::new(),
        password: String::new(),
        keep_alive: Duration::from_secs(60),
        clean_start: true,
        request_response_info: false,
        subscriptions: vec![(ctl_topic(i), 1)],
        response_topic: ctl_topic(i),
        publish_qos: 1,
        retry: RetryPolicy { min_wait_secs: 1, multiplier_permille: 1000, max_wait_secs: 1 },
        tls: None,
        max_record: DEFAULT_MAX_RECORD,
        extended: Default::default(),
    }
}

/// A `uspctl` controller `i` over MQTT to the broker on `port`, requests timing out after
/// `timeout`; returns once its link is up.
pub fn controller(port: u16, i: usize, timeout: Duration) -> Result<Controller, Violation> {
    let mut cfg = ControllerConfig::new(ctl_id(i));
    cfg.agent = Some(AGENT.into());
    cfg.agent_dest = Some(AGENT_TOPIC.into());
    cfg.timeout = timeout;
    let mqtt = mqtt_config(port, i);
    let started = Controller::start(cfg, |id, sink| {
        Ok::<Box<dyn Link>, Infallible>(Box::new(spawn(id, mqtt, sink)))
    });
    let Ok(mut ctl) = started;
    ctl.wait_ready(Duration::from_secs(10))
        .map_err(|e| Violation(format!("controller {i} did not come up: {e}")))?;
    Ok(ctl)
}

/// Starts the agent on the database `db` with `reset`.
pub fn start_agent(reset: &str, db: &Path) -> RunningAgent {
    let db = db.to_str().unwrap_or_else(|| panic!("non-UTF-8 path {}", db.display()));
    RunningAgent::start(reset, &["--endpoint-id", AGENT, "--serial", "S-FAULTS", "-f", db])
}

/// Waits (at most `limit`) until the agent announces itself to `ctl` (its MQTTConnectRecord).
pub fn wait_agent_up(ctl: &mut Controller, limit: Duration) -> Result<(), Violation> {
    let up = |e: &Event| matches!(e, Event::AgentUp { .. });
    match ctl.wait_event(limit, up) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(Violation(format!("the agent did not announce itself within {limit:?}"))),
        Err(e) => Err(Violation(format!("waiting for the agent: {e}"))),
    }
}

/// Get of `paths`: every `object path + parameter` → value.
pub fn get_values(
    ctl: &mut Controller,
    paths: &[&str],
) -> Result<BTreeMap<String, String>, ClientError> {
    let get = Get { param_paths: paths.iter().map(|p| (*p).to_owned()).collect(), max_depth: 0 };
    let resp = ctl.get(get)?;
    let mut values = BTreeMap::new();
    for r in resp.req_path_results {
        if r.err_code != 0 {
            return Err(ClientError::Unexpected(format!("{}: {}", r.requested_path, r.err_msg)));
        }
        for res in r.resolved_path_results {
            for (k, v) in res.result_params {
                values.insert(format!("{}{k}", res.resolved_path), v);
            }
        }
    }
    Ok(values)
}

/// The resident memory of process `pid` in KiB (`VmRSS` in `/proc/PID/status`).
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The median and the largest of `samples` (zero when empty).
pub fn median_max(samples: &[Duration]) -> (Duration, Duration) {
    let mut s = samples.to_vec();
    s.sort();
    let median = s.get(s.len() / 2).copied().unwrap_or_default();
    (median, s.last().copied().unwrap_or_default())
}

/// A deadline `limit` from now.
pub fn deadline(limit: Duration) -> Instant {
    Instant::now() + limit
}
