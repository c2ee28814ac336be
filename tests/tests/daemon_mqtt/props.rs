//! The TR-181 `Device.MQTT.Client.{i}` settings beyond TR-369's, end to end: the Last Will the
//! broker publishes when the agent is killed (`kill -9`), a PUBLISH User Property as a v5
//! subscriber sees it, and Subscription rows added and deleted by a controller while the
//! agent stays connected (no reconnection, delivery starts and stops).

use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Publish;
use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Add, Delete, Get, Msg};
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::{Ctl, WAIT};
use crate::messages::get;
use crate::setup::{self, CTL_TOPIC, cli_until};

const CLIENT: &str = "Device.MQTT.Client.1.";

/// A raw MQTT 5.0 client subscribed to `filter` (returns once the SUBACK is in) and the
/// PUBLISHes it receives, properties included.
fn subscriber(port: u16, id: &str, filter: &str) -> (rumqttc::v5::Client, Receiver<Publish>) {
    use rumqttc::v5::{Event, Incoming};
    let options = rumqttc::v5::MqttOptions::new(id, "127.0.0.1", port);
    let (client, mut conn) = rumqttc::v5::Client::new(options, 16);
    client.subscribe(filter, QoS::AtLeastOnce).expect("subscribe");
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
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
    ready_rx.recv_timeout(WAIT).expect("the raw subscriber is subscribed");
    (client, rx)
}

fn last_will_on_kill_9(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let (_watcher, wills) = subscriber(broker.port(), "will-watcher", "usp/will/#");
    let mut ctl = Ctl::start(broker.port(), v5, setup::names());
    let reset = format!(
        "{}{CLIENT}WillEnable true
{CLIENT}WillTopic \"usp/will/e2e\"
{CLIENT}WillValue \"agent gone\"
{CLIENT}WillQoS 1
{CLIENT}WillDelayInterval 0
{CLIENT}WillContentType \"text/plain\"
",
        setup::reset(broker.port(), v5)
    );
    let agent = setup::agent(&reset, &[]);
    ctl.connect_record(&agent);
    assert!(wills.try_recv().is_err(), "no Will while the agent is connected");
    drop(agent); // SIGKILL: no DISCONNECT, the broker publishes the Will.
    let will = wills.recv_timeout(WAIT).expect("the Will within the wait");
    assert_eq!((&will.topic[..], &will.payload[..]), (&b"usp/will/e2e"[..], &b"agent gone"[..]));
    assert_eq!(will.qos, QoS::AtLeastOnce);
    let content_type = will.properties.and_then(|p| p.content_type);
    // The Will's Content Type is an MQTT 5.0 property: a 3.1.1 agent does not send it.
    let want = if v5 { Some("text/plain") } else { None };
    assert_eq!(content_type.as_deref(), want);
}

#[test]
fn v5_last_will_is_published_when_the_agent_is_killed() {
    last_will_on_kill_9(true);
}

#[test]
fn v311_last_will_is_published_when_the_agent_is_killed() {
    last_will_on_kill_9(false);
}

#[test]
fn a_publish_user_property_reaches_a_v5_subscriber() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    // Stands in for the controller: the agent's MQTTConnectRecord comes to this topic.
    let (_raw, published) = subscriber(broker.port(), "raw-ctl", CTL_TOPIC);
    let reset = format!(
        "{}{CLIENT}UserProperty.1.Enable true
{CLIENT}UserProperty.1.Name \"site\"
{CLIENT}UserProperty.1.Value \"e2e-lab\"
{CLIENT}UserProperty.1.PacketType \"CONNECT,PUBLISH\"
{CLIENT}UserProperty.2.Enable true
{CLIENT}UserProperty.2.Name \"connect-only\"
{CLIENT}UserProperty.2.PacketType \"CONNECT\"
{CLIENT}PublishMessageExpiryInterval 120
",
        setup::reset(broker.port(), true)
    );
    let agent = setup::agent(&reset, &[]);
    let first = published.recv_timeout(WAIT).unwrap_or_else(|_| {
        panic!("no PUBLISH from the agent within {WAIT:?}; log:\n{}", agent.log())
    });
    let record = usp_proto::record::Record::from_bytes(&first.payload).expect("a Record");
    assert!(matches!(record.record_type, Some(RecordType::MqttConnect(_))), "{record:?}");
    let props = first.properties.expect("PUBLISH properties");
    assert_eq!(props.user_properties, vec![("site".to_owned(), "e2e-lab".to_owned())]);
    assert!(props.message_expiry_interval.is_some_and(|s| s > 0 && s <= 120), "{props:?}");
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));
}

/// Adds an enabled `Subscription.{i}` to the MQTT client; returns its instance path.
fn add_mqtt_subscription(ctl: &mut Ctl, agent: &RunningAgent, topic: &str) -> String {
    let param = |name: &str, value: &str| CreateParamSetting {
        param: name.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: format!("{CLIENT}Subscription."),
            param_settings: vec![param("Topic", topic), param("QoS", "1"), param("Enable", "true")],
        }],
    };
    let RespType::AddResp(resp) = ctl.call(ReqType::Add(add), agent) else { panic!("AddResp") };
    match resp.created_obj_results[0].oper_status.clone().and_then(|s| s.oper_status) {
        Some(AddStatus::OperSuccess(ok)) => ok.instantiated_path,
        other => panic!("add failed: {other:?}"),
    }
}

/// Whether a Get sent on `topic` is answered: it is sent, then a Get on the agent's own topic;
/// the agent answers in arrival order, so the first answer, if any, comes before the second.
fn answered_on(ctl: &mut Ctl, agent: &RunningAgent, topic: &str, n: u32) -> bool {
    let get = |id: &str| {
        let paths = vec!["Device.DeviceInfo.SerialNumber".to_owned()];
        Msg::request(id, ReqType::Get(Get { param_paths: paths, max_depth: 0 }))
    };
    let (probe, marker) = (format!("probe-{n}"), format!("marker-{n}"));
    ctl.send_msg_on(topic, &get(&probe));
    ctl.send_msg(&get(&marker));
    ctl.answer(&marker, agent);
    let is_probe = |r: &usp_proto::record::Record| {
        r.decode_no_session_context_msg().is_ok_and(|m| m.msg_id() == Some(probe.as_str()))
    };
    ctl.wait_for(Duration::ZERO, is_probe).is_some()
}

fn subscriptions_change_without_reconnecting(v5: bool) {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), v5, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), v5), &[]);
    ctl.connect_record(&agent);
    let established = format!("{CLIENT}Stats.BrokerConnectionEstablished");
    let since = get(&mut ctl, &agent, &[&established])[&established].clone();
    assert!(!answered_on(&mut ctl, &agent, "usp/v1/extra/a", 1));

    let sub = add_mqtt_subscription(&mut ctl, &agent, "usp/v1/extra/#");
    let status = cli_until(&agent, &format!("{sub}Status"), |s| s == "Subscribed");
    assert_eq!(status, "Subscribed", "{}", agent.log());
    assert!(answered_on(&mut ctl, &agent, "usp/v1/extra/a", 2), "{}", agent.log());

    let del = Delete { allow_partial: false, obj_paths: vec![sub.clone()] };
    let RespType::DeleteResp(_) = ctl.call(ReqType::Delete(del), &agent) else { panic!() };
    let unsubscribed = "Received UNSUBSCRIBE from";
    let end = std::time::Instant::now() + WAIT;
    while !broker.log().contains(unsubscribed) && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(broker.log().contains(unsubscribed), "{}", broker.log());
    assert!(!answered_on(&mut ctl, &agent, "usp/v1/extra/a", 3), "{}", agent.log());

    // The same connection all along: one CONNECT each for the controller and the agent, the
    // same connection time, no second MQTTConnectRecord.
    let log = broker.log();
    assert_eq!(log.matches("New client connected from").count(), 2, "{log}");
    assert_eq!(get(&mut ctl, &agent, &[&established])[&established], since);
    let hello =
        |r: &usp_proto::record::Record| matches!(r.record_type, Some(RecordType::MqttConnect(_)));
    assert!(ctl.wait_for(Duration::ZERO, hello).is_none());
}

#[test]
fn v5_subscription_rows_change_without_reconnecting() {
    subscriptions_change_without_reconnecting(true);
}

#[test]
fn v311_subscription_rows_change_without_reconnecting() {
    subscriptions_change_without_reconnecting(false);
}
