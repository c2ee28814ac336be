//! Device.BulkData end to end: the `uspagent` daemon with a controller over a private
//! Mosquitto broker. A profile the controller creates (USPEventNotif, JSON) reaches it as
//! `Device.BulkData.Profile.1.Push!` notifications, every second and on `ForceCollection()`; an
//! MQTT profile publishes its CSV reports on the agent's own MQTT client (topic, QoS, Content
//! Type of R-BULK.8a) to a raw subscriber:
//! the snapshot is taken by the daemon's core through the data model and the report encoded on
//! the area's worker. Bad input (an unparsable URL, a reference outside the supported model, a
//! compression the agent does not do) gets 7012 and the agent keeps serving.
//!
//! Needs `mosquitto` and the `uspagent` binary (`cargo build -p uspagent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "daemon_mqtt/ctl.rs"]
#[allow(dead_code)]
mod ctl;
#[path = "daemon_mqtt/setup.rs"]
#[allow(dead_code)]
mod setup;

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Add, Operate, Set};
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use ctl::Ctl;

/// A Set of one object: `Ok`, or the Error's code.
fn set(ctl: &mut Ctl, agent: &RunningAgent, obj: &str, values: &[(&str, &str)]) -> Result<(), u32> {
    let settings = values
        .iter()
        .map(|(p, v)| UpdateParamSetting { param: (*p).into(), value: (*v).into(), required: true })
        .collect();
    let set = Set {
        allow_partial: false,
        update_objs: vec![UpdateObject { obj_path: obj.into(), param_settings: settings }],
    };
    let id = ctl.send_request(ReqType::Set(set));
    match ctl.answer(&id, agent).body.and_then(|b| b.msg_body) {
        Some(usp_proto::msg::body::MsgBody::Response(_)) => Ok(()),
        Some(usp_proto::msg::body::MsgBody::Error(e)) => Err(e.err_code),
        other => panic!("{other:?}"),
    }
}

/// Adds one row with `values`; its instance path.
fn add(ctl: &mut Ctl, agent: &RunningAgent, table: &str, values: &[(&str, &str)]) -> String {
    let settings = values
        .iter()
        .map(|(p, v)| CreateParamSetting { param: (*p).into(), value: (*v).into(), required: true })
        .collect();
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject { obj_path: table.into(), param_settings: settings }],
    };
    let RespType::AddResp(resp) = ctl.call(ReqType::Add(add), agent) else { panic!("AddResp") };
    let text = format!("{resp:?}");
    let start = text.find("instantiated_path: \"").expect("an instantiated path") + 20;
    text[start..].split('"').next().unwrap().to_owned()
}

/// The `Data` of the next `Push!` of profile `n`.
fn push(ctl: &mut Ctl, agent: &RunningAgent, n: u32) -> String {
    let obj = format!("Device.BulkData.Profile.{n}.");
    let (_, notify) = ctl.notify(
        "a Push! event",
        agent,
        |n| matches!(n, Notification::Event(e) if e.obj_path == obj && e.event_name == "Push!"),
    );
    match notify.notification {
        Some(Notification::Event(e)) => e.params.get("Data").cloned().expect("a Data argument"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_controller_receives_bulk_data_reports_as_push_events() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    add(
        &mut ctl,
        &agent,
        "Device.LocalAgent.Subscription.",
        &[
            ("ID", "bulk"),
            ("NotifType", "Event"),
            ("ReferenceList", "Device.BulkData.Profile.*.Push!"),
            ("Enable", "true"),
        ],
    );
    set(&mut ctl, &agent, "Device.BulkData.", &[("Enable", "true")]).unwrap();
    let p = add(
        &mut ctl,
        &agent,
        "Device.BulkData.Profile.",
        &[
            ("Protocol", "USPEventNotif"),
            ("EncodingType", "JSON"),
            ("ReportingInterval", "1"),
            ("JSONEncoding.ReportFormat", "NameValuePair"),
            ("JSONEncoding.ReportTimestamp", "None"),
        ],
    );
    assert_eq!(p, "Device.BulkData.Profile.1.");
    add(
        &mut ctl,
        &agent,
        &format!("{p}Parameter."),
        &[("Reference", "Device.DeviceInfo.SerialNumber")],
    );
    add(
        &mut ctl,
        &agent,
        &format!("{p}Parameter."),
        &[("Name", "Topic"), ("Reference", "Device.LocalAgent.MTP.*.MQTT.ResponseTopicConfigured")],
    );
    set(&mut ctl, &agent, &p, &[("Enable", "true")]).unwrap();
    let want = "{\n    \"Report\": [\n        {\n            \
                \"Device.DeviceInfo.SerialNumber\": \"S-E2E\",\n            \
                \"Topic.1\": \"usp/v1/agent/e2e\"\n        }\n    ]\n}";
    assert_eq!(push(&mut ctl, &agent, 1), want);
    assert_eq!(push(&mut ctl, &agent, 1), want, "the next interval's report");

    // Bad input: refused with 7012, nothing stored, the agent keeps serving.
    let http = format!("{p}HTTP.");
    assert_eq!(set(&mut ctl, &agent, &http, &[("URL", "http//collector")]), Err(7012));
    assert_eq!(set(&mut ctl, &agent, &http, &[("Compression", "Deflate")]), Err(7012));
    let row = format!("{p}Parameter.1.");
    assert_eq!(set(&mut ctl, &agent, &row, &[("Reference", "Device.NoSuch.Thing")]), Err(7012));
    let values = ctl.get_values(&agent, &[&format!("{http}URL"), "Device.BulkData.Status"]);
    assert_eq!(values.get(&format!("{http}URL")).map(String::as_str), Some(""));
    assert_eq!(values.get("Device.BulkData.Status").map(String::as_str), Some("Enabled"));
    // The agent filled in the creating controller.
    let owner = ctl.get_values(&agent, &[&format!("{p}Controller")]);
    let owner = owner.get(&format!("{p}Controller")).map(String::as_str);
    assert_eq!(owner, Some("Device.LocalAgent.Controller.1"));

    // ForceCollection() on a disabled profile reports at once.
    let q = add(
        &mut ctl,
        &agent,
        "Device.BulkData.Profile.",
        &[
            ("Protocol", "USPEventNotif"),
            ("EncodingType", "CSV"),
            ("CSVEncoding.ReportFormat", "ParameterPerRow"),
            ("CSVEncoding.RowTimestamp", "None"),
        ],
    );
    add(
        &mut ctl,
        &agent,
        &format!("{q}Parameter."),
        &[("Reference", "Device.DeviceInfo.SerialNumber")],
    );
    force(&mut ctl, &agent, &q);
    let csv = "ParameterName,ParameterValue,ParameterType\r\n\
               Device.DeviceInfo.SerialNumber,S-E2E,string\r\n";
    assert_eq!(push(&mut ctl, &agent, 2), csv);
}

/// A raw MQTT 5.0 client subscribed to `filter` (returns once the SUBACK is in) and the
/// PUBLISHes it receives, properties included.
fn subscriber(
    port: u16,
    filter: &str,
) -> (rumqttc::v5::Client, std::sync::mpsc::Receiver<rumqttc::v5::mqttbytes::v5::Publish>) {
    use rumqttc::v5::{Event, Incoming};
    let options = rumqttc::v5::MqttOptions::new("bulk-collector", "127.0.0.1", port);
    let (client, mut conn) = rumqttc::v5::Client::new(options, 16);
    client.subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce).expect("subscribe");
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for e in conn.iter() {
            match e {
                Ok(Event::Incoming(Incoming::SubAck(_))) => drop(ready_tx.send(())),
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx.recv_timeout(ctl::WAIT).expect("the raw subscriber is subscribed");
    (client, rx)
}

#[test]
fn bulk_data_reports_are_published_on_the_agents_mqtt_client() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (_collector, reports) = subscriber(broker.port(), "bulk/#");
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    set(&mut ctl, &agent, "Device.BulkData.", &[("Enable", "true")]).unwrap();
    let p = add(
        &mut ctl,
        &agent,
        "Device.BulkData.Profile.",
        &[
            ("Protocol", "MQTT"),
            ("EncodingType", "CSV"),
            ("ReportingInterval", "1"),
            ("CSVEncoding.RowTimestamp", "None"),
            ("MQTT.Reference", "Device.MQTT.Client.1"),
            ("MQTT.PublishTopic", "bulk/e2e"),
            ("MQTT.PublishQoS", "1"),
        ],
    );
    add(
        &mut ctl,
        &agent,
        &format!("{p}Parameter."),
        &[("Name", "sn"), ("Reference", "Device.DeviceInfo.SerialNumber")],
    );
    assert_eq!(
        set(&mut ctl, &agent, &format!("{p}MQTT."), &[("Reference", "Device.STOMP.Connection.1")]),
        Err(7012)
    );
    set(&mut ctl, &agent, &p, &[("Enable", "true")]).unwrap();
    let got = reports.recv_timeout(ctl::WAIT).expect("a report on bulk/e2e");
    assert_eq!(&got.topic[..], b"bulk/e2e");
    assert_eq!(&got.payload[..], b"sn\r\nS-E2E\r\n");
    assert!(!got.retain);
    assert_eq!(got.qos, rumqttc::v5::mqttbytes::QoS::AtLeastOnce);
    let props = got.properties.expect("MQTT 5.0 properties");
    assert_eq!(props.content_type.as_deref(), Some("text/csv; charset=UTF-8"));
    assert_eq!(props.response_topic, None, "a report is no USP Record");
    assert!(reports.recv_timeout(ctl::WAIT).is_ok(), "the next interval's report");
}

#[test]
fn a_push_goes_only_to_the_profiles_controller() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    // Profile 1 belongs to another controller; profile 2, of the agent's own configuration,
    // has none: its Push! goes to every subscriber.
    let profile = |n: u32| {
        format!(
            "Device.BulkData.Profile.{n}.Enable true
Device.BulkData.Profile.{n}.Protocol \"USPEventNotif\"
Device.BulkData.Profile.{n}.ReportingInterval 1
Device.BulkData.Profile.{n}.Parameter.1.Reference \"Device.DeviceInfo.SerialNumber\"
"
        )
    };
    let reset = format!(
        "{}Device.BulkData.Enable true
{}Device.BulkData.Profile.1.Controller \"Device.LocalAgent.Controller.2\"
{}Device.LocalAgent.Subscription.2.Enable true
Device.LocalAgent.Subscription.2.ID \"bulk\"
Device.LocalAgent.Subscription.2.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.2.NotifType \"Event\"
Device.LocalAgent.Subscription.2.ReferenceList \"Device.BulkData.Profile.*.Push!\"
",
        setup::reset(broker.port(), true),
        profile(1),
        profile(2)
    );
    let agent = setup::agent(&reset, &[]);
    ctl.connect_record(&agent);
    let owner = ctl.get_values(&agent, &["Device.BulkData.Profile.1.Controller"]);
    assert_eq!(
        owner.get("Device.BulkData.Profile.1.Controller").map(String::as_str),
        Some("Device.LocalAgent.Controller.2")
    );
    for _ in 0..3 {
        let (_, n) = ctl.notify(
            "a Push! event",
            &agent,
            |n| matches!(n, Notification::Event(e) if e.event_name == "Push!"),
        );
        let Some(Notification::Event(e)) = n.notification else { panic!("an Event") };
        assert_eq!(e.obj_path, "Device.BulkData.Profile.2.", "never profile 1's");
    }
}

/// Runs `ForceCollection()` on profile `p`.
fn force(ctl: &mut Ctl, agent: &RunningAgent, p: &str) {
    let op = Operate {
        command: format!("{p}ForceCollection()"),
        command_key: "now".into(),
        send_resp: true,
        input_args: Default::default(),
    };
    let RespType::OperateResp(_) = ctl.call(ReqType::Operate(op), agent) else {
        panic!("OperateResp")
    };
}

/// TR-369: a report holds only what the profile's Controller may read. Once the controller's
/// Role denies it `Device.DeviceInfo.SerialNumber`, the reports leave it out, whether it is
/// referenced by name or through its object; the rest of `Device.DeviceInfo.` stays.
#[test]
fn a_report_leaves_out_what_the_profiles_controller_may_not_read() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    let sub = [
        ("ID", "bulk"),
        ("NotifType", "Event"),
        ("ReferenceList", "Device.BulkData.Profile.*.Push!"),
        ("Enable", "true"),
    ];
    add(&mut ctl, &agent, "Device.LocalAgent.Subscription.", &sub);
    set(&mut ctl, &agent, "Device.BulkData.", &[("Enable", "true")]).unwrap();
    let csv = [
        ("Protocol", "USPEventNotif"),
        ("EncodingType", "CSV"),
        ("CSVEncoding.ReportFormat", "ParameterPerRow"),
        ("CSVEncoding.RowTimestamp", "None"),
    ];
    let p = add(&mut ctl, &agent, "Device.BulkData.Profile.", &csv);
    let rows = format!("{p}Parameter.");
    add(&mut ctl, &agent, &rows, &[("Reference", "Device.DeviceInfo.SerialNumber")]);
    add(&mut ctl, &agent, &rows, &[("Reference", "Device.DeviceInfo.")]);
    force(&mut ctl, &agent, &p);
    let before = push(&mut ctl, &agent, 1);
    assert_eq!(before.matches("Device.DeviceInfo.SerialNumber,S-E2E,").count(), 2, "{before}");

    let deny = [
        ("Enable", "true"),
        ("Order", "2"),
        ("Targets", "Device.DeviceInfo.SerialNumber"),
        ("Param", "----"),
    ];
    add(&mut ctl, &agent, "Device.LocalAgent.ControllerTrust.Role.1.Permission.", &deny);
    force(&mut ctl, &agent, &p);
    let after = push(&mut ctl, &agent, 1);
    assert!(!after.contains("SerialNumber"), "{after}");
    assert!(after.contains("Device.DeviceInfo.Manufacturer,"), "{after}");
    let left = before.lines().filter(|l| !l.contains("SerialNumber")).count();
    assert_eq!(after.lines().count(), left, "only the denied parameter is left out:\n{after}");
}
