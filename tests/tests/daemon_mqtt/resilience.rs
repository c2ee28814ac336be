//! Configurations and failures: TLS (a right and a wrong CA), an Oktopus-style reset file, the
//! broker-assigned ClientID, a broker killed and restarted, the agent restarted and killed in a
//! Set storm, garbage on the agent's topic.

use std::time::Duration;

use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Msg, Set};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::certs::TestPki;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::{Ctl, Names};
use crate::messages::{add_subscription, get, instances, set};
use crate::setup::{self, AGENT, RETRY, cli_until, cli_value};

const INTERVAL: &str = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";

#[test]
fn tls_with_the_test_ca_connects_and_a_wrong_ca_is_refused() {
    let pki = TestPki::generate("e2e test CA", "agent");
    let broker = Mosquitto::start(MosquittoOpts { tls: Some((&pki).into()), ..Default::default() });
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.tls_port(), true)
        .replace("TransportProtocol \"TCP/IP\"", "TransportProtocol \"TLS\"");
    assert!(reset.contains("\"TLS\""));
    let ca = pki.ca.to_str().expect("UTF-8 path");
    let agent = setup::agent(&reset, &["-t", ca]);
    ctl.connect_record(&agent);
    assert_eq!(get(&mut ctl, &agent, &["Device.DeviceInfo.SerialNumber"]).len(), 1);
    drop(agent);

    // Another CA: the handshake fails, the agent stays up but unconnected and says why.
    let other = TestPki::generate("another CA", "agent");
    let agent = setup::agent(&reset, &["-t", other.ca.to_str().expect("UTF-8 path")]);
    let status = cli_until(&agent, "Device.MQTT.Client.1.Status", |s| s.starts_with("Error"));
    assert_eq!(status, "Error_BrokerUnreachable", "{}", agent.log());
    let hello = |r: &Record| matches!(r.record_type, Some(RecordType::MqttConnect(_)));
    assert!(ctl.wait_for(Duration::from_secs(3), hello).is_none(), "{}", agent.log());
    let log = agent.log();
    assert!(log.to_lowercase().contains("certificate"), "no TLS reason logged:\n{log}");
    assert!(cli_value(&agent, "Device.LocalAgent.EndpointID").is_some(), "agent not running");
}

#[test]
fn an_oktopus_style_configuration_is_served() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../agent/examples/reset/oktopus.txt");
    let text = std::fs::read_to_string(file).expect("the Oktopus example reset file");
    // Mosquitto names no subscribe-topic, so the agent's topic comes from the configuration.
    let agent_topic = format!("oktopus/usp/v1/agent/{AGENT}");
    let reset = text.replace("BrokerPort 1883", &format!("BrokerPort {}", broker.port())).replace(
        "ResponseTopicConfigured \"\"",
        &format!("ResponseTopicConfigured \"{agent_topic}\""),
    );
    let names = Names {
        ctl: "oktopusController".into(),
        ctl_topic: "oktopus/usp/v1/controller".into(),
        agent: AGENT.into(),
        agent_topic: agent_topic.clone(),
    };
    let mut ctl = Ctl::start(broker.port(), true, names);
    let agent = setup::agent(&reset, &[]);
    let hello = ctl.connect_record(&agent);
    let Some(RecordType::MqttConnect(c)) = &hello.record.record_type else { unreachable!() };
    assert_eq!(c.subscribed_topic, agent_topic);
    assert_eq!(hello.record.to_id, "oktopusController");
    ctl.notify("Boot!", &agent, |n| {
        matches!(n, Notification::Event(e) if e.event_name == "Boot!"
            && e.params.get("ParameterMap").is_some_and(|m| m.contains(AGENT)))
    });
    let eid = get(&mut ctl, &agent, &["Device.LocalAgent.EndpointID"]);
    assert_eq!(eid["Device.LocalAgent.EndpointID"], AGENT);
}

#[test]
fn an_empty_client_id_is_assigned_by_the_broker_over_5_and_is_the_endpoint_id_over_3_1_1() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    let id = cli_until(&agent, "Device.MQTT.Client.1.ClientID", |v| !v.is_empty());
    assert!(!id.is_empty(), "no assigned ClientID stored; log:\n{}", agent.log());
    assert!(broker.log().contains(&format!(" as {id} ")), "{id} unknown to the broker");
    drop(agent);

    let agent = setup::agent(&setup::reset(broker.port(), false), &[]);
    let mut ctl311 = Ctl::start(broker.port(), false, setup::names());
    drop(ctl);
    // A Get sent before the agent's SUBSCRIBE is acknowledged is dropped by the broker (no
    // subscriber yet): wait, bounded, until its link says it is up.
    let up = std::time::Instant::now() + Duration::from_secs(20);
    while !agent.log().contains("Device.MQTT.Client.1.: up") && std::time::Instant::now() < up {
        std::thread::sleep(Duration::from_millis(20));
    }
    get(&mut ctl311, &agent, &["Device.DeviceInfo.SerialNumber"]);
    assert!(broker.log().contains(&format!(" as {AGENT} ")), "{}", broker.log());
}

/// The reconnection waits the agent logged (`retry in Some(1.5s)`).
fn logged_retries(log: &str) -> Vec<Duration> {
    log.lines()
        .filter_map(|l| l.split("(retry in Some(").nth(1)?.split(')').next())
        .filter_map(|d| {
            let (num, scale) = if let Some(n) = d.strip_suffix("ms") {
                (n, 1e-3)
            } else if let Some(n) = d.strip_suffix("µs") {
                (n, 1e-6)
            } else {
                (d.strip_suffix('s')?, 1.0)
            };
            Some(Duration::from_secs_f64(num.parse::<f64>().ok()? * scale))
        })
        .collect()
}

#[test]
fn the_agent_reconnects_after_the_broker_restarts_within_its_backoff_bounds() {
    let mut broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);

    // A quick restart: the controller is back long before the agent's first retry (at least
    // ConnectRetryTime), so it sees the MQTTConnectRecord sent again.
    broker.restart();
    ctl.reconnect();
    ctl.connect_record(&agent);

    // A longer outage: several failed attempts, each wait within [ConnectRetryTime, max].
    broker.stop();
    std::thread::sleep(Duration::from_secs(7));
    broker.restart();
    ctl.reconnect();
    // Requests reach the agent only once it has subscribed again.
    let status = cli_until(&agent, "Device.MQTT.Client.1.Status", |s| s == "Connected");
    assert_eq!(status, "Connected", "{}", agent.log());
    assert_eq!(get(&mut ctl, &agent, &["Device.DeviceInfo.SerialNumber"]).len(), 1);
    let waits = logged_retries(&agent.log());
    assert!(waits.len() >= 3, "expected several retries, logged: {waits:?}\n{}", agent.log());
    let (low, high) = (Duration::from_secs(RETRY.0.into()), Duration::from_secs(RETRY.2.into()));
    assert!(waits.iter().all(|w| (low..=high).contains(w)), "{waits:?} not in {low:?}..{high:?}");
    assert_eq!(cli_value(&agent, "Device.MQTT.Client.1.Status").as_deref(), Some("Connected"));
    // Every lost connection and failed attempt (each logged with its retry) is counted.
    let errors = "Device.MQTT.Client.1.Stats.ConnectionErrors";
    assert_eq!(get(&mut ctl, &agent, &[errors])[errors], waits.len().to_string());
}

#[test]
fn values_and_instances_survive_an_agent_restart() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("usp.db");
    let reset = setup::reset(broker.port(), true);
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let mut agent = setup::agent_on(&reset, &db);
    ctl.connect_record(&agent);
    set(&mut ctl, &agent, "Device.LocalAgent.Controller.1.", "PeriodicNotifInterval", "4321");
    let sub = add_subscription(&mut ctl, &agent, "kept", "ValueChange", INTERVAL);
    assert!(agent.terminate().success());

    let agent = setup::agent_on(&reset, &db);
    ctl.connect_record(&agent);
    assert_eq!(get(&mut ctl, &agent, &[INTERVAL])[INTERVAL], "4321");
    assert!(instances(&mut ctl, &agent, "Device.LocalAgent.Subscription.").contains(&sub));
    let id = format!("{sub}ID");
    assert_eq!(get(&mut ctl, &agent, &[&id])[&id], "kept");
}

fn set_interval(value: u32) -> ReqType {
    ReqType::Set(Set {
        allow_partial: false,
        update_objs: vec![UpdateObject {
            obj_path: "Device.LocalAgent.Controller.1.".into(),
            param_settings: vec![UpdateParamSetting {
                param: "PeriodicNotifInterval".into(),
                value: value.to_string(),
                required: true,
            }],
        }],
    })
}

#[test]
fn kill_9_during_a_set_storm_leaves_a_database_the_agent_starts_from() {
    const STORM: u32 = 500;
    const IN_FLIGHT: u32 = 32;
    let broker = Mosquitto::start(MosquittoOpts::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("usp.db");
    let reset = setup::reset(broker.port(), true);
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent_on(&reset, &db);
    ctl.connect_record(&agent);
    // Sets with 32 in flight; the kill lands in the middle of the storm, with Sets in flight.
    let mut ids: Vec<String> = Vec::new();
    let mut acked = 0;
    for v in 1..=STORM {
        if v > IN_FLIGHT {
            ctl.answer(&ids[acked], &agent);
            acked += 1;
        }
        ids.push(ctl.send_request(set_interval(v)));
        if v == STORM / 2 {
            break;
        }
    }
    drop(agent); // SIGKILL

    let agent = setup::agent_on(&reset, &db);
    ctl.connect_record(&agent);
    let value: usize = get(&mut ctl, &agent, &[INTERVAL])[INTERVAL].parse().expect("a number");
    assert!((acked..=ids.len()).contains(&value), "{value} after {acked} answered Sets");
    assert!(!agent.log().contains("moved to"), "the database was rebuilt:\n{}", agent.log());
    set(&mut ctl, &agent, "Device.LocalAgent.Controller.1.", "PeriodicNotifInterval", "9");
}

#[test]
fn garbage_on_the_agents_topic_leaves_it_serving() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    let names = ctl.names.clone();
    let valid = Record::no_session_context_msg(
        "1.4",
        &names.agent,
        &names.ctl,
        &Msg::request("g", set_interval(5)),
    )
    .to_bytes();
    let mut wrong_to = Record::from_bytes(&valid).expect("valid");
    wrong_to.to_id = "os::someone-else".into();
    let mut no_payload = Record::from_bytes(&valid).expect("valid");
    no_payload.record_type = None;
    let garbage: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\x01\x02not a record".to_vec(),
        vec![0xff; 4096],
        valid[..valid.len() / 2].to_vec(),
        wrong_to.to_bytes(),
        no_payload.to_bytes(),
        Record::no_session_context("1.4", &names.agent, &names.ctl, b"\x0a\xff\xff".to_vec())
            .to_bytes(),
    ];
    for g in garbage {
        ctl.send_raw(g);
    }
    let serial = get(&mut ctl, &agent, &["Device.DeviceInfo.SerialNumber"]);
    assert_eq!(serial["Device.DeviceInfo.SerialNumber"], "S-E2E");
    // Nothing of the garbage was applied (the Record to someone else held a Set).
    assert_ne!(get(&mut ctl, &agent, &[INTERVAL])[INTERVAL], "5");
    assert_eq!(cli_value(&agent, "Device.MQTT.Client.1.Status").as_deref(), Some("Connected"));
}
