//! `plan`: links, routes and problems from configurations in the obuspa / Oktopus styles.

use super::*;
use std::path::PathBuf;
use std::time::Duration;
use usp_mtp::mqtt::{MqttConfig, MqttExtended};
use usp_mtp::retry::RetryPolicy;
use usp_mtp::tls::{ClientTls, ServerTls};

/// One MQTT client for the agent MTP, a controller reaching it through the client's
/// (deprecated) direct Reference, as obuspa and Oktopus files do.
pub(super) const MQTT: &str = r#"
Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress "127.0.0.1"
Device.MQTT.Client.1.BrokerPort 1884
Device.MQTT.Client.1.Username "agent"
Device.MQTT.Client.1.Password "pw"
Device.MQTT.Client.1.KeepAliveTime 30
Device.MQTT.Client.1.ConnectRetryMaxInterval 60
Device.MQTT.Client.1.Subscription.1.Enable true
Device.MQTT.Client.1.Subscription.1.Topic "usp/agent/#"
Device.MQTT.Client.1.Subscription.1.QoS 1
Device.MQTT.Client.1.Subscription.2.Topic "not/enabled"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol MQTT
Device.LocalAgent.MTP.1.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured "usp/agent/links"
Device.LocalAgent.MTP.1.MQTT.PublishQoS 1
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID "self::ctl"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol MQTT
Device.LocalAgent.Controller.1.MTP.1.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic "usp/controller"
Device.LocalAgent.Controller.1.MTP.1.MQTT.PublishRetainNotify true
"#;

pub(super) fn mqtt_of(plan: &LinkPlan, key: &str) -> MqttConfig {
    match &plan.link(key).unwrap_or_else(|| panic!("no link {key}: {plan:#?}")).kind {
        LinkKind::Mqtt(c) => c.clone(),
        other => panic!("{key} is {other:?}"),
    }
}

#[test]
fn an_mqtt_client_becomes_a_link_and_the_controller_a_route() {
    let mut dm = dm(MQTT);
    let plan = plan(&mut dm, EID, &no_tls());
    assert_eq!(plan.problems, vec![]);
    assert_eq!(plan.links.len(), 1);
    assert_eq!(plan.links[0].key, "Device.MQTT.Client.1.");
    assert_eq!(plan.links[0].agent_mtp.as_deref(), Some("Device.LocalAgent.MTP.1."));
    let want = MqttConfig {
        endpoint_id: EID.into(),
        host: "127.0.0.1".into(),
        port: 1884,
        v5: true,
        client_id: String::new(),
        username: "agent".into(),
        password: "pw".into(),
        keep_alive: Duration::from_secs(30),
        clean_start: true,
        request_response_info: true,
        subscriptions: vec![("usp/agent/#".into(), 1)],
        response_topic: "usp/agent/links".into(),
        publish_qos: 1,
        retry: RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 60 },
        tls: None,
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
        // TR-181 defaults: no Will, nothing else sent but Request Problem Information = 0.
        extended: MqttExtended { request_problem_info: Some(false), ..MqttExtended::default() },
    };
    assert_eq!(mqtt_of(&plan, "Device.MQTT.Client.1."), want);
    let route = Route {
        link: "Device.MQTT.Client.1.".into(),
        dest: "usp/controller".into(),
        retain_response: false,
        retain_notify: true,
        mtp: Some("Device.LocalAgent.Controller.1.MTP.1.".into()),
    };
    assert_eq!(plan.routes.get("self::ctl"), Some(&vec![route]));
    assert_eq!(plan.routes.len(), 1);
}

#[test]
fn mqtt_3_1_1_uses_clean_session_and_tls_uses_the_daemon_files() {
    let mut dm = dm(MQTT);
    set(&mut dm, "Device.MQTT.Client.1.ProtocolVersion", "3.1.1");
    set(&mut dm, "Device.MQTT.Client.1.CleanSession", "false");
    set(&mut dm, "Device.MQTT.Client.1.TransportProtocol", "TLS");
    let files = TlsFiles {
        ca_file: Some(PathBuf::from("/etc/usp/ca.pem")),
        client_cert: Some(PathBuf::from("/etc/usp/agent.pem")),
        client_key: Some(PathBuf::from("/etc/usp/agent.key")),
        ..TlsFiles::default()
    };
    let config = mqtt_of(&plan(&mut dm, EID, &files), "Device.MQTT.Client.1.");
    assert!(!config.v5);
    assert!(!config.clean_start, "3.1.1 follows CleanSession");
    let tls = ClientTls {
        ca_file: Some(PathBuf::from("/etc/usp/ca.pem")),
        client_cert: Some((PathBuf::from("/etc/usp/agent.pem"), "/etc/usp/agent.key".into())),
        insecure_skip_verify: false,
    };
    assert_eq!(config.tls, Some(tls));
}

/// Two clients, an agent MTP on each, a controller with an MQTT MTP (Order 2) that names both
/// an agent MTP and a client, and a STOMP MTP (Order 1).
const TWO: &str = r#"
Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress "a.lab"
Device.MQTT.Client.2.Enable true
Device.MQTT.Client.2.BrokerAddress "b.lab"
Device.STOMP.Connection.1.Enable true
Device.STOMP.Connection.1.Host "s.lab"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol MQTT
Device.LocalAgent.MTP.1.MQTT.Reference "Device.MQTT.Client.1."
Device.LocalAgent.MTP.2.Enable true
Device.LocalAgent.MTP.2.Protocol MQTT
Device.LocalAgent.MTP.2.MQTT.Reference "Device.MQTT.Client.[BrokerAddress=="b.lab"]."
Device.LocalAgent.MTP.3.Enable true
Device.LocalAgent.MTP.3.Protocol STOMP
Device.LocalAgent.MTP.3.STOMP.Reference "Device.STOMP.Connection.1"
Device.LocalAgent.MTP.3.STOMP.Destination "/queue/agent"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID "self::ctl"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol MQTT
Device.LocalAgent.Controller.1.MTP.1.Order 2
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference "Device.LocalAgent.MTP.2"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic "ctl/topic"
Device.LocalAgent.Controller.1.MTP.2.Enable true
Device.LocalAgent.Controller.1.MTP.2.Protocol STOMP
Device.LocalAgent.Controller.1.MTP.2.Order 1
Device.LocalAgent.Controller.1.MTP.2.STOMP.Destination "/queue/ctl"
Device.LocalAgent.Controller.2.Enable true
Device.LocalAgent.Controller.2.EndpointID "self::other"
Device.LocalAgent.Controller.2.MTP.1.Enable true
Device.LocalAgent.Controller.2.MTP.1.Protocol MQTT
Device.LocalAgent.Controller.2.MTP.1.MQTT.Topic "other/topic"
"#;

fn links_and_dests(plan: &LinkPlan, eid: &str) -> Vec<(String, String)> {
    let routes = plan.routes.get(eid).unwrap_or_else(|| panic!("no routes to {eid}: {plan:#?}"));
    routes.iter().map(|r| (r.link.clone(), r.dest.clone())).collect()
}

#[test]
fn routes_follow_order_and_agent_mtp_reference_wins() {
    let mut dm = dm(TWO);
    let plan = plan(&mut dm, EID, &no_tls());
    assert_eq!(plan.problems, vec![]);
    let keys: Vec<&str> = plan.links.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(
        keys,
        ["Device.MQTT.Client.1.", "Device.MQTT.Client.2.", "Device.STOMP.Connection.1."]
    );
    let watched = |k: &str| CONFIG_PREFIXES.iter().any(|p| k.starts_with(p));
    assert!(keys.iter().all(|k| watched(k)), "{keys:?}");
    assert_eq!(
        links_and_dests(&plan, "self::ctl"),
        [
            ("Device.STOMP.Connection.1.".into(), "/queue/ctl".into()),
            ("Device.MQTT.Client.2.".into(), "ctl/topic".into()),
        ]
    );
    // Without any reference: the first MQTT link that serves an agent MTP.
    assert_eq!(
        links_and_dests(&plan, "self::other"),
        [("Device.MQTT.Client.1.".into(), "other/topic".into())]
    );
    assert_eq!(
        plan.link("Device.MQTT.Client.2.").unwrap().agent_mtp.as_deref(),
        Some("Device.LocalAgent.MTP.2.")
    );
    let LinkKind::Stomp(stomp) = &plan.link("Device.STOMP.Connection.1.").unwrap().kind else {
        panic!("not STOMP")
    };
    assert_eq!(stomp.destination, "/queue/agent");
    assert_eq!(stomp.port, 61613);
    assert_eq!(stomp.heartbeat, None);
    assert_eq!(stomp.tls, Some(ClientTls::default()), "EnableEncryption defaults to true");
    assert_eq!(
        stomp.retry,
        RetryPolicy { min_wait_secs: 60, multiplier_permille: 2000, max_wait_secs: 30720 }
    );
}

#[test]
fn only_enabled_rows_count() {
    let mut dm = dm(TWO);
    set(&mut dm, "Device.MQTT.Client.2.Enable", "false");
    set(&mut dm, "Device.LocalAgent.Controller.1.MTP.2.Enable", "false");
    set(&mut dm, "Device.LocalAgent.Controller.2.Enable", "false");
    let plan = plan(&mut dm, EID, &no_tls());
    let keys: Vec<&str> = plan.links.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["Device.MQTT.Client.1.", "Device.STOMP.Connection.1."]);
    assert!(!plan.routes.contains_key("self::other"));
    assert!(!plan.routes.contains_key("self::ctl"), "its only enabled MTP leads nowhere");
    let problems: Vec<&str> = plan.problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        problems,
        ["Device.LocalAgent.Controller.1.MTP.1.", "Device.LocalAgent.Controller.1."]
    );
    // A disabled agent MTP: its client still runs, without an agent MTP.
    set(&mut dm, "Device.LocalAgent.MTP.1.Enable", "false");
    let plan = super::plan(&mut dm, EID, &no_tls());
    assert_eq!(plan.link("Device.MQTT.Client.1.").unwrap().agent_mtp, None);
    let config = mqtt_of(&plan, "Device.MQTT.Client.1.");
    assert!(!config.request_response_info, "RequestResponseInfo as configured");
}

const WS: &str = r#"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol WebSocket
Device.LocalAgent.MTP.1.WebSocket.Port 5683
Device.LocalAgent.MTP.1.WebSocket.Path "/usp"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID "self::ws-ctl"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol WebSocket
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host "ctl.lab"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port 8080
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path "/ws/agent"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Controller.1.MTP.1.WebSocket.KeepAliveInterval 30
Device.LocalAgent.Controller.2.Enable true
Device.LocalAgent.Controller.2.EndpointID "self::dialer"
Device.LocalAgent.Controller.2.MTP.1.Enable true
Device.LocalAgent.Controller.2.MTP.1.Protocol WebSocket
"#;

#[test]
fn websocket_clients_servers_and_the_server_fallback() {
    let mut dm = dm(WS);
    let plan = plan(&mut dm, EID, &no_tls());
    assert_eq!(plan.problems, vec![]);
    let server = plan.link("Device.LocalAgent.MTP.1.").expect("server link");
    let LinkKind::WsServer(config) = &server.kind else { panic!("not a server") };
    assert_eq!(config.listen, vec![std::net::SocketAddr::from(([0, 0, 0, 0], 5683))]);
    assert_eq!(config.path, "/usp");
    assert_eq!(config.tls, None);
    assert_eq!(config.max_sessions, MAX_WS_SESSIONS);
    let client = plan.link("Device.LocalAgent.Controller.1.MTP.1.").expect("client link");
    let LinkKind::WsClient { controller, config } = &client.kind else { panic!("not a client") };
    assert_eq!(controller, "self::ws-ctl");
    assert_eq!(config.peer_endpoint_id.as_deref(), Some("self::ws-ctl"));
    assert_eq!(
        (config.host.as_str(), config.port, config.path.as_str()),
        ("ctl.lab", 8080, "/ws/agent")
    );
    assert_eq!(config.keep_alive, Duration::from_secs(30));
    assert_eq!(
        config.retry,
        RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 }
    );
    assert_eq!(
        links_and_dests(&plan, "self::ws-ctl"),
        [
            ("Device.LocalAgent.Controller.1.MTP.1.".into(), "self::ws-ctl".into()),
            ("Device.LocalAgent.MTP.1.".into(), "self::ws-ctl".into()),
        ]
    );
    let dialer = &plan.routes["self::dialer"];
    assert_eq!(dialer.len(), 1, "{dialer:?}");
    assert_eq!(dialer[0].link, "Device.LocalAgent.MTP.1.");
    assert_eq!(dialer[0].mtp.as_deref(), Some("Device.LocalAgent.Controller.2.MTP.1."));
}

#[test]
fn an_encrypted_server_needs_a_certificate() {
    let mut dm = dm(WS);
    set(&mut dm, "Device.LocalAgent.MTP.1.WebSocket.EnableEncryption", "true");
    let plan1 = plan(&mut dm, EID, &no_tls());
    assert!(plan1.link("Device.LocalAgent.MTP.1.").is_none());
    assert_eq!(plan1.problems[0].key, "Device.LocalAgent.MTP.1.");
    assert!(plan1.problems[0].reason.contains("certificate"), "{:?}", plan1.problems);
    let files = TlsFiles {
        server_cert: Some("/etc/usp/server.pem".into()),
        server_key: Some("/etc/usp/server.key".into()),
        ..TlsFiles::default()
    };
    let plan2 = plan(&mut dm, EID, &files);
    let LinkKind::WsServer(config) = &plan2.link("Device.LocalAgent.MTP.1.").unwrap().kind else {
        panic!("not a server")
    };
    let want = ServerTls {
        cert_file: "/etc/usp/server.pem".into(),
        key_file: "/etc/usp/server.key".into(),
        client_ca_file: None,
        require_client_cert: false,
    };
    assert_eq!(config.tls, Some(want));
}

#[test]
fn misconfigurations_are_problems_not_links() {
    let text = r#"
Device.MQTT.Client.1.Enable true
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol MQTT
Device.LocalAgent.MTP.2.Enable true
Device.LocalAgent.MTP.2.Protocol MQTT
Device.LocalAgent.MTP.2.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.MTP.3.Enable true
Device.LocalAgent.MTP.3.Protocol MQTT
Device.LocalAgent.MTP.3.MQTT.Reference "Device.MQTT.Client.1"
Device.LocalAgent.MTP.4.Enable true
Device.LocalAgent.MTP.4.Protocol UDS
Device.LocalAgent.Controller.1.Enable true
"#;
    let mut dm = dm(text);
    let plan = plan(&mut dm, EID, &no_tls());
    assert!(plan.links.is_empty());
    let problems: Vec<(&str, &str)> =
        plan.problems.iter().map(|p| (p.key.as_str(), p.reason.as_str())).collect();
    assert_eq!(
        problems,
        [
            ("Device.LocalAgent.MTP.1.", "its MQTT.Reference names no MQTT client"),
            (
                "Device.LocalAgent.MTP.3.",
                "Device.MQTT.Client.1. already serves Device.LocalAgent.MTP.2.; only that one is used"
            ),
            ("Device.LocalAgent.MTP.4.", "Protocol 'UDS' is not supported"),
            ("Device.MQTT.Client.1.", "BrokerAddress is empty"),
            // The engine names a controller added without an EndpointID `cpe-<n>`.
            ("Device.LocalAgent.Controller.1.", "no usable MTP to reach cpe-1"),
        ]
    );
}

#[test]
fn replanning_changes_only_what_changed() {
    let mut dm = dm(TWO);
    let before = plan(&mut dm, EID, &no_tls());
    assert_eq!(plan(&mut dm, EID, &no_tls()), before, "a plan is a pure reading");
    // Link state written by the MTP layer is not configuration.
    let info = ConnectInfo::Mqtt {
        v5: true,
        subscribed_topic: "t".into(),
        assigned_client_id: None,
        response_information: Some("rsp".into()),
        subscribed: vec!["t".into()],
    };
    record_up(&mut dm, "Device.MQTT.Client.1.", &info).unwrap();
    record_down(&mut dm, "Device.STOMP.Connection.1.", Down::Retrying).unwrap();
    assert_eq!(plan(&mut dm, EID, &no_tls()), before);
    set(&mut dm, "Device.MQTT.Client.2.KeepAliveTime", "10");
    let after = plan(&mut dm, EID, &no_tls());
    let changed: Vec<&str> = after
        .links
        .iter()
        .filter(|l| before.link(&l.key) != Some(l))
        .map(|l| l.key.as_str())
        .collect();
    assert_eq!(changed, ["Device.MQTT.Client.2."]);
    assert_eq!(after.routes, before.routes);
}

#[test]
fn an_assigned_client_id_is_learnt_without_a_restart() {
    let mut dm = dm(MQTT);
    let mut running = plan(&mut dm, EID, &no_tls()).links.remove(0);
    let info = ConnectInfo::Mqtt {
        v5: true,
        subscribed_topic: "usp/agent/#".into(),
        assigned_client_id: Some("auto-7".into()),
        response_information: None,
        subscribed: vec!["usp/agent/#".into()],
    };
    record_up(&mut dm, "Device.MQTT.Client.1.", &info).unwrap();
    let next = plan(&mut dm, EID, &no_tls()).links.remove(0);
    assert_ne!(next, running, "the data model now has the ClientID");
    running.learn(&info);
    assert_eq!(next, running);
    assert_eq!(
        mqtt_of(&LinkPlan { links: vec![next], ..LinkPlan::default() }, "Device.MQTT.Client.1.")
            .client_id,
        "auto-7"
    );
}

#[test]
fn the_schema_check_needs_every_area_the_links_read() {
    assert_eq!(check_schema(&dm("")), Ok(()));
    let stomp_only: Vec<Box<dyn usp_datamodel::plugin::Plugin>> = vec![Box::new(usp_areas::Stomp)];
    let bare = DataModel::new(stomp_only, Box::new(MemStore::new()), at(0)).unwrap();
    let e = check_schema(&bare).unwrap_err();
    assert_eq!(e.path, "Device.MQTT.Client.{i}.");
    let mut bare = bare;
    let plan = plan(&mut bare, EID, &no_tls());
    assert_eq!((plan.links.len(), plan.problems.len()), (0, 1));
}
