#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::testutil::*;
use usp_datamodel::Item;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{DmEvent, Requester};
use usp_datamodel::schema::ParamAccess;

fn lab(tls: bool) -> Lab {
    Lab::new(vec![Box::new(Mqtt::new(tls))])
}

/// Reads `path` as the test controller (not as the agent).
pub(crate) fn controller_get(t: &mut Lab, path: &str) -> String {
    let who = t.who.clone();
    let target = t.dm.resolve(&who, &Path::parse(path).unwrap()).unwrap().remove(0);
    let Item::Param(param) = target.item else { panic!("{path} is not a parameter") };
    t.dm.read_params(&who, target.obj, &target.numbers, &[param]).remove(0).unwrap().to_string()
}

/// Sets values as the agent itself (what the MTP layer does).
pub(crate) fn internal_set(t: &mut Lab, obj: &str, values: &[(&str, &str)]) {
    let who = std::mem::replace(&mut t.who, Requester::Internal);
    let r = t.set(obj, values);
    t.who = who;
    r.unwrap();
}

#[test]
fn capabilities_follow_the_build() {
    let mut t = lab(true);
    assert_eq!(t.get("Device.MQTT.Capabilities.ProtocolVersionsSupported"), "3.1.1,5.0");
    assert_eq!(t.get("Device.MQTT.Capabilities.TransportProtocolSupported"), "TCP/IP,TLS");
    assert_eq!(t.get("Device.MQTT.Capabilities.MaxNumberOfClientSubscriptions"), "0");
    let mut t = lab(false);
    assert_eq!(t.get("Device.MQTT.Capabilities.TransportProtocolSupported"), "TCP/IP");
}

#[test]
fn a_new_client_has_the_tr181_defaults() {
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[("BrokerAddress", "broker.lab")]).unwrap();
    assert_eq!(c, "Device.MQTT.Client.1.");
    assert_eq!(t.get("Device.MQTT.ClientNumberOfEntries"), "1");
    for (name, want) in [
        ("Alias", "cpe-1"),
        ("Name", "cpe-1"),
        ("Enable", "false"),
        ("Status", "Disabled"),
        ("ProtocolVersion", "5.0"),
        ("BrokerPort", "1883"),
        ("TransportProtocol", "TCP/IP"),
        ("CleanSession", "true"),
        ("CleanStart", "true"),
        ("KeepAliveTime", "60"),
        ("WillDelayInterval", "5"),
        ("MessageRetryTime", "5"),
        ("ConnectRetryTime", "5"),
        ("ConnectRetryIntervalMultiplier", "2000"),
        ("ConnectRetryMaxInterval", "30720"),
        ("ClientID", ""),
        ("ResponseInformation", ""),
        ("SubscriptionNumberOfEntries", "0"),
        ("UserPropertyNumberOfEntries", "0"),
    ] {
        assert_eq!(t.get(&format!("{c}{name}")), want, "{name}");
    }
    assert_eq!(t.read_all(&c).len(), 40);
    assert_eq!(t.read_all(&format!("{c}Stats.")).len(), 11);
    assert_eq!(t.get(&format!("{c}Stats.PublishSent")), "0");
    assert_eq!(t.get(&format!("{c}Stats.BrokerConnectionEstablished")), "0001-01-01T00:00:00Z");
}

#[test]
fn ranges_and_unsupported_choices_are_refused() {
    let mut t = lab(false);
    let c = t.add("Device.MQTT.Client.", &[]).unwrap();
    for (name, value) in [
        ("ConnectRetryIntervalMultiplier", "999"),
        ("ConnectRetryTime", "0"),
        ("KeepAliveTime", "65536"),
        ("BrokerPort", "0"),
        ("WillQoS", "3"),
        ("TopicAliasMaximum", "65536"),
        ("ProtocolVersion", "4.0"),
        ("ProtocolVersion", "3.1"),
        ("TransportProtocol", "WebSocket"),
        ("TransportProtocol", "TLS"),
    ] {
        let e = t.set(&c, &[(name, value)]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue, "{name} = {value}: {e:?}");
    }
    // What an unsignedInt cannot hold is refused by its type.
    for (name, value) in [("SessionExpiryInterval", "4294967296"), ("ReceiveMaximum", "-1")] {
        let e = t.set(&c, &[(name, value)]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidType, "{name} = {value}: {e:?}");
    }
    t.set(&c, &[("ProtocolVersion", "3.1.1"), ("KeepAliveTime", "0")]).unwrap();
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[]).unwrap();
    t.set(&c, &[("TransportProtocol", "TLS")]).unwrap();
    assert_eq!(t.get(&format!("{c}TransportProtocol")), "TLS");
}

#[test]
fn the_password_is_hidden_from_controllers_only() {
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[("Password", "s3cret")]).unwrap();
    t.events();
    assert_eq!(controller_get(&mut t, &format!("{c}Password")), "");
    assert_eq!(t.get(&format!("{c}Password")), "s3cret", "the agent reads it");
    // It is writable, and reported so.
    t.set(&c, &[("Password", "n3w"), ("Username", "agent")]).unwrap();
    assert_eq!(t.get(&format!("{c}Password")), "n3w");
    let schema = t.dm.schema();
    let p =
        schema.param_by_name(schema.obj_by_path("Device.MQTT.Client.{i}.").unwrap(), "Password");
    let def = schema.param(p.unwrap());
    assert_eq!(def.access, ParamAccess::ReadWrite);
    // A ValueChange never carries it.
    let changes = t.brief();
    assert!(changes.contains(&format!("{c}Password=")), "{changes:?}");
    assert!(changes.contains(&format!("{c}Username=agent")), "{changes:?}");
    // A search expression is no oracle for it.
    let who = t.who.clone();
    let search = Path::parse("Device.MQTT.Client.[Password==\"n3w\"].").unwrap();
    assert!(t.dm.resolve(&who, &search).unwrap().is_empty());
    assert_eq!(t.dm.resolve(&Requester::Internal, &search).unwrap().len(), 1);
}

#[test]
fn status_and_response_information_are_the_agents_and_volatile() {
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[("Enable", "true")]).unwrap();
    let s = t.add(&format!("{c}Subscription."), &[("Topic", "usp/agent")]).unwrap();
    for (obj, name) in [
        (c.as_str(), "Status"),
        (c.as_str(), "ResponseInformation"),
        (&format!("{c}Stats."), "PublishSent"),
        (s.as_str(), "Status"),
    ] {
        let e = t.set(obj, &[(name, "1")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly, "{name}");
    }
    t.events();
    internal_set(
        &mut t,
        &c,
        &[("Status", "Connected"), ("ResponseInformation", "usp/rsp"), ("ClientID", "given")],
    );
    internal_set(&mut t, &s, &[("Status", "Subscribed")]);
    let changed = t.brief();
    assert!(changed.contains(&format!("{c}Status=Connected")), "{changed:?}");
    let mut t = t.restart(vec![Box::new(Mqtt::new(true))]);
    assert_eq!(t.get(&format!("{c}Status")), "Disabled");
    assert_eq!(t.get(&format!("{c}ResponseInformation")), "");
    assert_eq!(t.get(&format!("{s}Status")), "Unsubscribed");
    assert_eq!(t.get(&format!("{c}ClientID")), "given", "an assigned ClientID persists");
    assert_eq!(t.get(&format!("{c}Enable")), "true");
}

#[test]
fn subscriptions_and_user_properties_have_unique_keys() {
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[]).unwrap();
    let s = t.add(&format!("{c}Subscription."), &[("Topic", "a/b"), ("QoS", "1")]).unwrap();
    assert_eq!(t.get(&format!("{s}Enable")), "false");
    assert_eq!(t.get(&format!("{s}QoS")), "1");
    let e = t.add(&format!("{c}Subscription."), &[("Topic", "a/b")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
    let e = t.set(&s, &[("QoS", "3")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidValue);
    let u = t
        .add(&format!("{c}UserProperty."), &[("Name", "site"), ("PacketType", "CONNECT,PUBLISH")])
        .unwrap();
    assert_eq!(t.get(&format!("{u}PacketType")), "CONNECT,PUBLISH");
    let e = t.set(&u, &[("PacketType", "HELLO")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidValue);
    assert_eq!(t.get(&format!("{c}SubscriptionNumberOfEntries")), "1");
    assert_eq!(t.get(&format!("{c}UserPropertyNumberOfEntries")), "1");
    let e = t.add("Device.MQTT.Client.", &[("Name", "cpe-1")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::UniqueKeyConflict, "Name is a key");
}

#[test]
fn force_reconnect_asks_the_host() {
    let mut t = lab(true);
    let c = t.add("Device.MQTT.Client.", &[]).unwrap();
    t.events();
    let (_, out) = t.operate(&format!("{c}ForceReconnect()"), &[]).unwrap();
    assert_eq!(out, Outcome::Done(vec![]));
    let want = DmEvent::System(SystemRequest::Reconnect { link: c.clone() });
    assert_eq!(t.events(), vec![want]);
}

#[test]
fn stats_are_read_live_from_what_the_mtp_layer_counts() {
    let stats = MqttStats::new();
    let mut t = Lab::new(vec![Box::new(Mqtt::with_stats(true, stats.clone()))]);
    let c1 = t.add("Device.MQTT.Client.", &[]).unwrap();
    let c2 = t.add("Device.MQTT.Client.", &[]).unwrap();
    assert_eq!(t.read_all(&format!("{c1}Stats.")).len(), 11);
    t.events();
    let sent = usp_datamodel::value::DateTime::from_unix(1_714_564_900);
    stats.update(2, |s| {
        s.publish_sent = 12;
        s.messages_received = 40;
        s.connection_errors = 2;
        s.last_publish_sent = sent;
    });
    assert_eq!(t.get(&format!("{c2}Stats.PublishSent")), "12");
    assert_eq!(t.get(&format!("{c2}Stats.MQTTMessagesReceived")), "40");
    assert_eq!(t.get(&format!("{c2}Stats.ConnectionErrors")), "2");
    assert_eq!(t.get(&format!("{c2}Stats.LastPublishMessageSent")), "2024-05-01T12:01:40Z");
    assert_eq!(t.get(&format!("{c2}Stats.LastPublishMessageReceived")), "0001-01-01T00:00:00Z");
    assert_eq!(t.get(&format!("{c1}Stats.PublishSent")), "0", "each client has its own");
    stats.update(2, |s| s.publish_sent += 1);
    assert_eq!(controller_get(&mut t, &format!("{c2}Stats.PublishSent")), "13");
    // Read-only to controllers, and never a ValueChange.
    let e = t.set(&format!("{c2}Stats."), &[("PublishSent", "1")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::ParamReadOnly);
    assert!(t.events().is_empty());
    // A search expression sees the live value.
    let who = t.who.clone();
    let search = Path::parse("Device.MQTT.Client.[Stats.PublishSent>0].").unwrap();
    assert_eq!(t.dm.resolve(&who, &search).unwrap().len(), 1);
}
