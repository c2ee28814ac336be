//! The example factory-reset files in `examples/reset/` start an agent cleanly (on a fresh
//! database, then again from that database), plan the links and routes they describe, and give
//! their controllers full access (their `AssignedRole` is the factory-default Full Access role).
#![cfg(all(feature = "mqtt", feature = "stomp", feature = "websocket", feature = "tls"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;
use usp_areas::AgentIdentity;
use usp_datamodel::plugin::Now;
use usp_mtp::retry::RetryPolicy;
use uspagent::links::{LinkKind, LinkPlan, Route, TlsFiles, plan};
use uspagent::startup::start;

const EID: &str = "os::012345-example";

/// Starts an agent from the example `name` on a fresh database, then restarts it from that
/// database; returns both plans.
fn plans(name: &str) -> (LinkPlan, LinkPlan) {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/reset").join(name);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("usp.db");
    let identity = AgentIdentity { endpoint_id: EID.into(), ..AgentIdentity::default() };
    let mut first =
        start(&db, Some(&file), &usp_areas::Host::agent_only(identity.clone()), Now::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(first.from_defaults);
    let from_file = plan(&mut first.dm, EID, &TlsFiles::default());
    assert!(!from_file.routes.is_empty(), "{name} names a controller");
    for controller in from_file.routes.keys() {
        assert!(first.dm.access_of(controller).is_full(), "{name}: {controller}");
    }
    drop(first);
    let mut again =
        start(&db, Some(&file), &usp_areas::Host::agent_only(identity.clone()), Now::default())
            .unwrap();
    assert!(!again.from_defaults);
    let from_db = plan(&mut again.dm, EID, &TlsFiles::default());
    for controller in from_db.routes.keys() {
        assert!(again.dm.access_of(controller).is_full(), "{name}: {controller}");
    }
    assert_eq!(from_file.problems, vec![], "{name}");
    (from_file, from_db)
}

fn route(link: &str, dest: &str, mtp: Option<&str>) -> Route {
    Route {
        link: link.into(),
        dest: dest.into(),
        retain_response: false,
        retain_notify: false,
        mtp: mtp.map(str::to_owned),
    }
}

const CONTROLLER_MTP: &str = "Device.LocalAgent.Controller.1.MTP.1.";

#[test]
fn mqtt_example() {
    let (plan, again) = plans("mqtt.txt");
    assert_eq!(plan, again, "the database holds the same configuration");
    assert_eq!(plan.links.len(), 1);
    let link = &plan.links[0];
    assert_eq!(link.key, "Device.MQTT.Client.1.");
    assert_eq!(link.agent_mtp.as_deref(), Some("Device.LocalAgent.MTP.1."));
    let LinkKind::Mqtt(c) = &link.kind else { panic!("{link:?}") };
    assert_eq!((c.host.as_str(), c.port, c.v5), ("127.0.0.1", 1883, true));
    assert_eq!(c.endpoint_id, EID);
    assert_eq!(c.client_id, "");
    assert_eq!(c.response_topic, "usp/v1/agent/lab-agent");
    assert_eq!(c.publish_qos, 1);
    assert!(c.request_response_info);
    assert_eq!(c.subscriptions, vec![]);
    assert_eq!(c.tls, None);
    assert_eq!(
        c.retry,
        RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 60 }
    );
    let want = route("Device.MQTT.Client.1.", "usp/v1/controller", Some(CONTROLLER_MTP));
    assert_eq!(plan.routes["self::usp-controller"], vec![want]);
    assert_eq!(plan.routes.len(), 1);
}

#[test]
fn oktopus_example() {
    let (plan, again) = plans("oktopus.txt");
    assert_eq!(plan, again);
    assert_eq!(plan.links.len(), 1);
    let LinkKind::Mqtt(c) = &plan.links[0].kind else { panic!("{:?}", plan.links[0]) };
    assert!(c.v5, "Oktopus reads the usp-endpoint-id user property of MQTT 5.0");
    assert_eq!(c.client_id, "");
    assert_eq!(c.response_topic, "", "the broker's subscribe-topic names the agent's topic");
    assert!(c.request_response_info);
    let want = route("Device.MQTT.Client.1.", "oktopus/usp/v1/controller", Some(CONTROLLER_MTP));
    assert_eq!(plan.routes["oktopusController"], vec![want]);
}

#[test]
fn stomp_example() {
    let (plan, again) = plans("stomp.txt");
    assert_eq!(plan, again);
    assert_eq!(plan.links.len(), 1);
    let link = &plan.links[0];
    assert_eq!(link.key, "Device.STOMP.Connection.1.");
    let LinkKind::Stomp(c) = &link.kind else { panic!("{link:?}") };
    assert_eq!((c.host.as_str(), c.port), ("127.0.0.1", 61613));
    assert_eq!((c.username.as_str(), c.password.as_str()), ("guest", "guest"));
    assert_eq!(c.virtual_host, "/");
    assert_eq!(c.destination, "/queue/usp.agent.lab-agent");
    assert_eq!(c.heartbeat, Some((Duration::from_secs(30), Duration::from_secs(300))));
    assert_eq!(c.tls, None);
    let want = route("Device.STOMP.Connection.1.", "/queue/usp.controller", Some(CONTROLLER_MTP));
    assert_eq!(plan.routes["self::usp-controller"], vec![want]);
}

#[test]
fn websocket_example() {
    let (plan, again) = plans("websocket.txt");
    assert_eq!(plan, again);
    let keys: Vec<&str> = plan.links.iter().map(|l| l.key.as_str()).collect();
    assert_eq!(keys, ["Device.LocalAgent.MTP.1.", CONTROLLER_MTP]);
    let LinkKind::WsServer(server) = &plan.links[0].kind else { panic!("{:?}", plan.links[0]) };
    assert_eq!(server.listen, vec![std::net::SocketAddr::from(([0, 0, 0, 0], 8081))]);
    assert_eq!(server.path, "/usp");
    assert_eq!(server.tls, None);
    let LinkKind::WsClient { controller, config } = &plan.links[1].kind else {
        panic!("{:?}", plan.links[1])
    };
    assert_eq!(controller, "self::usp-controller");
    assert_eq!(
        (config.host.as_str(), config.port, config.path.as_str()),
        ("127.0.0.1", 8080, "/usp")
    );
    assert_eq!(config.keep_alive, Duration::from_secs(30));
    assert_eq!(config.tls, None);
    assert_eq!(
        plan.routes["self::usp-controller"],
        vec![
            route(CONTROLLER_MTP, "self::usp-controller", Some(CONTROLLER_MTP)),
            route("Device.LocalAgent.MTP.1.", "self::usp-controller", None),
        ]
    );
}
