//! `record_*`: link state written back into the data model.

use super::plan::MQTT;
use super::*;
use usp_datamodel::plugin::DmEvent;

const CLIENT: &str = "Device.MQTT.Client.1.";

fn mqtt_up(assigned: Option<&str>) -> ConnectInfo {
    ConnectInfo::Mqtt {
        v5: true,
        subscribed_topic: "usp/rsp".into(),
        assigned_client_id: assigned.map(str::to_owned),
        response_information: Some("usp/rsp".into()),
        subscribed: vec!["usp/agent/#".into(), "usp/rsp".into()],
    }
}

#[test]
fn an_mqtt_client_connects_and_learns() {
    let store = MemStore::new();
    let mut dm = dm_on(&store, MQTT);
    dm.tick(at(10), false);
    record_connecting(&mut dm, CLIENT).unwrap();
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Connecting");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Down");
    dm.drain_events();
    record_up(&mut dm, CLIENT, &mqtt_up(Some("auto-1"))).unwrap();
    for (path, want) in [
        ("Device.MQTT.Client.1.Status", "Connected"),
        ("Device.MQTT.Client.1.ClientID", "auto-1"),
        ("Device.MQTT.Client.1.ResponseInformation", "usp/rsp"),
        ("Device.MQTT.Client.1.Subscription.1.Status", "Subscribed"),
        ("Device.MQTT.Client.1.Subscription.2.Status", "Unsubscribed"),
        ("Device.LocalAgent.MTP.1.Status", "Up"),
        ("Device.LocalAgent.MTP.1.MQTT.ResponseTopicDiscovered", "usp/rsp"),
    ] {
        assert_eq!(get(&mut dm, path), want, "{path}");
    }
    // Status changes are notified.
    let events = dm.drain_events();
    let changed: Vec<String> = events
        .iter()
        .filter(|e| matches!(e, DmEvent::ValueChanged { .. }))
        .filter_map(|e| e.path(dm.schema()))
        .collect();
    assert!(changed.contains(&"Device.MQTT.Client.1.Status".to_owned()), "{changed:?}");
    assert!(changed.contains(&"Device.LocalAgent.MTP.1.Status".to_owned()), "{changed:?}");

    record_down(&mut dm, CLIENT, Down::Retrying).unwrap();
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Error_BrokerUnreachable");
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Subscription.1.Status"), "Unsubscribed");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Down");
    record_down(&mut dm, CLIENT, Down::GaveUp).unwrap();
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Error");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Error");
    record_down(&mut dm, CLIENT, Down::Misconfigured).unwrap();
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Error_Misconfigured");
    record_down(&mut dm, CLIENT, Down::Stopped).unwrap();
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Disabled");

    // After a restart: the assigned ClientID is kept, the rest starts over.
    drop(dm);
    let mut dm = dm_on(&store, "");
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.ClientID"), "auto-1");
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Disabled");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.MQTT.ResponseTopicDiscovered"), "");
}

#[test]
fn without_response_information_the_discovered_topic_is_empty() {
    let mut dm = dm(MQTT);
    record_up(&mut dm, CLIENT, &mqtt_up(None)).unwrap();
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.MQTT.ResponseTopicDiscovered"), "usp/rsp");
    let info = ConnectInfo::Mqtt {
        v5: false,
        subscribed_topic: "usp/agent/#".into(),
        assigned_client_id: None,
        response_information: None,
        subscribed: vec!["usp/other".into()],
    };
    record_up(&mut dm, CLIENT, &info).unwrap();
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.MQTT.ResponseTopicDiscovered"), "");
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.ClientID"), "");
    assert_eq!(
        get(&mut dm, "Device.MQTT.Client.1.Subscription.1.Status"),
        "Error",
        "enabled but not subscribed"
    );
}

const STOMP: &str = r#"
Device.STOMP.Connection.1.Enable true
Device.STOMP.Connection.1.Host "s.lab"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol STOMP
Device.LocalAgent.MTP.1.STOMP.Reference "Device.STOMP.Connection.1"
Device.LocalAgent.MTP.1.STOMP.Destination "/queue/agent"
"#;

#[test]
fn a_stomp_connection_records_status_changes_with_their_date() {
    let mut dm = dm(STOMP);
    let key = "Device.STOMP.Connection.1.";
    dm.tick(at(5), false);
    record_connecting(&mut dm, key).unwrap();
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.Status"), "Connecting");
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.LastChangeDate"), "2024-05-01T12:00:05Z");
    dm.tick(at(6), false);
    let info = ConnectInfo::Stomp {
        subscribed_destination: "/queue/from-server".into(),
        destination_from_server: Some("/queue/from-server".into()),
    };
    record_up(&mut dm, key, &info).unwrap();
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.Status"), "Enabled");
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.LastChangeDate"), "2024-05-01T12:00:06Z");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Up");
    assert_eq!(
        get(&mut dm, "Device.LocalAgent.MTP.1.STOMP.DestinationFromServer"),
        "/queue/from-server"
    );
    // The same state again does not move the date.
    dm.tick(at(7), false);
    record_up(&mut dm, key, &info).unwrap();
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.LastChangeDate"), "2024-05-01T12:00:06Z");
    record_down(&mut dm, key, Down::Retrying).unwrap();
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.Status"), "ServerNotPresent");
    assert_eq!(get(&mut dm, "Device.STOMP.Connection.1.LastChangeDate"), "2024-05-01T12:00:07Z");
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Down");
    let info = ConnectInfo::Stomp {
        subscribed_destination: "/queue/agent".into(),
        destination_from_server: None,
    };
    record_up(&mut dm, key, &info).unwrap();
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.STOMP.DestinationFromServer"), "");
}

const WS: &str = r#"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol WebSocket
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID "self::ws"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol WebSocket
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host "ctl.lab"
"#;

#[test]
fn websocket_links_count_retries_and_set_the_server_status() {
    let mut dm = dm(WS);
    let client = "Device.LocalAgent.Controller.1.MTP.1.";
    let count = "Device.LocalAgent.Controller.1.MTP.1.WebSocket.CurrentRetryCount";
    record_down(&mut dm, client, Down::Retrying).unwrap();
    record_down(&mut dm, client, Down::Retrying).unwrap();
    assert_eq!(get(&mut dm, count), "2");
    record_up(&mut dm, client, &ConnectInfo::WebSocket).unwrap();
    assert_eq!(get(&mut dm, count), "0");
    record_down(&mut dm, client, Down::Retrying).unwrap();
    record_down(&mut dm, client, Down::Stopped).unwrap();
    assert_eq!(get(&mut dm, count), "0");
    let server = "Device.LocalAgent.MTP.1.";
    record_up(&mut dm, server, &ConnectInfo::WebSocket).unwrap();
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Up");
    record_down(&mut dm, server, Down::GaveUp).unwrap();
    assert_eq!(get(&mut dm, "Device.LocalAgent.MTP.1.Status"), "Error");
}

#[test]
fn records_for_missing_rows_or_mismatched_reports_change_nothing() {
    let mut dm = dm(MQTT);
    dm.drain_events();
    record_down(&mut dm, "Device.MQTT.Client.9.", Down::Retrying).unwrap();
    record_up(&mut dm, "Device.STOMP.Connection.4.", &ConnectInfo::WebSocket).unwrap();
    record_up(&mut dm, CLIENT, &ConnectInfo::WebSocket).unwrap();
    assert_eq!(dm.drain_events(), vec![]);
    assert_eq!(get(&mut dm, "Device.MQTT.Client.1.Status"), "Disabled");
}

/// The daemon writes link state through `Core::with_links`: a ValueChange subscription on the
/// client's Status is notified by that very call, not at some later, unrelated input.
#[test]
fn a_status_written_through_the_core_is_notified_at_once() {
    let lines = format!(
        "{MQTT}\n{}",
        r#"
Device.LocalAgent.Controller.1.AssignedRole "Device.LocalAgent.ControllerTrust.Role.1"
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID "status"
Device.LocalAgent.Subscription.1.Recipient "Device.LocalAgent.Controller.1"
Device.LocalAgent.Subscription.1.NotifType "ValueChange"
Device.LocalAgent.Subscription.1.ReferenceList "Device.MQTT.Client.1.Status"
"#
    );
    let mut dm = dm(&lines);
    usp_areas::local_agent::apply_trust_defaults(&mut dm).unwrap();
    let mut core = usp_core::Core::new(dm, EID);
    let _ = core.handle_timeout(at(1));
    let (written, out) = core.with_links(at(2), |dm| record_up(dm, CLIENT, &mqtt_up(None)));
    written.unwrap();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].to, "self::ctl");
    let msg = out[0].record.decode_no_session_context_msg().unwrap();
    assert!(format!("{msg:?}").contains("Device.MQTT.Client.1.Status"), "{msg:?}");
    assert_eq!(core.poll_timeout(), None, "nothing waits");
}
