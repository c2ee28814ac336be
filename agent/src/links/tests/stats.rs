//! `count_*`: MQTT `Stats.` counted in memory and read through the data model.

use super::plan::MQTT;
use super::*;
use usp_areas::{Host, MqttStats};
use usp_datamodel::plugin::DmEvent;

const CLIENT: &str = "Device.MQTT.Client.1.";

fn mqtt_up() -> ConnectInfo {
    ConnectInfo::Mqtt {
        v5: true,
        subscribed_topic: "usp/rsp".into(),
        assigned_client_id: None,
        response_information: None,
        subscribed: vec!["usp/agent/#".into(), "usp/rsp".into()],
    }
}

/// A data model configured by `lines` whose MQTT `Stats.` read `stats`.
fn counted(stats: &MqttStats, lines: &str) -> DataModel {
    let store = usp_datamodel::store::MemStore::new();
    let host = Host { mqtt_stats: stats.clone(), ..Host::agent_only(AgentIdentity::default()) };
    let plugins = usp_areas::plugins(&host);
    let mut dm = DataModel::new(plugins, Box::new(store), at(0)).expect("data model");
    for e in parse_reset_file(lines).expect("reset text") {
        dm.apply_default(&e.path, &e.value, false).expect("reset line");
    }
    dm
}

fn stats_of(dm: &mut DataModel) -> Vec<(String, String)> {
    [
        "BrokerConnectionEstablished",
        "LastPublishMessageSent",
        "LastPublishMessageReceived",
        "PublishSent",
        "PublishReceived",
        "SubscribeSent",
        "MQTTMessagesSent",
        "MQTTMessagesReceived",
        "ConnectionErrors",
        "PublishErrors",
    ]
    .iter()
    .map(|n| (n.to_string(), get(dm, &format!("{CLIENT}Stats.{n}"))))
    .collect()
}

#[test]
fn connections_records_and_errors_are_counted_and_served() {
    let stats = MqttStats::new();
    let mut dm = counted(&stats, MQTT);
    dm.drain_events();
    count_up(&stats, CLIENT, &mqtt_up(), at(10).wall);
    count_traffic(&stats, CLIENT, Traffic::Received, at(20).wall);
    count_traffic(&stats, CLIENT, Traffic::Sent, at(21).wall);
    count_traffic(&stats, CLIENT, Traffic::Sent, at(22).wall);
    count_traffic(&stats, CLIENT, Traffic::SendFailed, at(23).wall);
    count_down(&stats, CLIENT, Down::Retrying);
    count_down(&stats, CLIENT, Down::Stopped);
    count_up(&stats, CLIENT, &mqtt_up(), at(30).wall);
    let want = [
        ("BrokerConnectionEstablished", "2024-05-01T12:00:30Z"),
        ("LastPublishMessageSent", "2024-05-01T12:00:22Z"),
        ("LastPublishMessageReceived", "2024-05-01T12:00:20Z"),
        ("PublishSent", "2"),
        ("PublishReceived", "1"),
        ("SubscribeSent", "4"),
        // Twice CONNECT + 2 SUBSCRIBEs, and 2 PUBLISHes.
        ("MQTTMessagesSent", "8"),
        // Twice CONNACK + 2 SUBACKs, and 1 PUBLISH.
        ("MQTTMessagesReceived", "7"),
        ("ConnectionErrors", "1"),
        ("PublishErrors", "1"),
    ];
    let want: Vec<(String, String)> =
        want.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(stats_of(&mut dm), want);
    // Counting is not a data-model change: no event, nothing to notify or persist.
    let changes: Vec<DmEvent> = dm.drain_events();
    assert_eq!(changes, vec![]);
}

#[test]
fn only_mqtt_client_keys_count() {
    assert_eq!(mqtt_client("Device.MQTT.Client.12."), Some(12));
    assert_eq!(mqtt_client("Device.MQTT.Client.12"), None);
    assert_eq!(mqtt_client("Device.STOMP.Connection.1."), None);
    assert_eq!(mqtt_client("Device.LocalAgent.MTP.1."), None);
    let stats = MqttStats::new();
    let mut dm = counted(&stats, MQTT);
    count_traffic(&stats, "Device.LocalAgent.MTP.1.", Traffic::Sent, at(1).wall);
    count_traffic(&stats, "Device.STOMP.Connection.1.", Traffic::Received, at(1).wall);
    count_up(&stats, "Device.STOMP.Connection.1.", &mqtt_up(), at(1).wall);
    count_up(&stats, CLIENT, &ConnectInfo::WebSocket, at(1).wall);
    count_down(&stats, "Device.LocalAgent.Controller.1.MTP.1.", Down::Retrying);
    assert!(stats_of(&mut dm).iter().all(|(_, v)| v == "0" || v == "0001-01-01T00:00:00Z"));
    assert_eq!(stats.get(1), Default::default());
}
