//! `uspctl subscribe Event` receiving the agent's Bulk Data reports: a profile of the agent's
//! configuration (USPEventNotif, JSON, every second) reaches uspctl, over MQTT 5.0 through a
//! private Mosquitto, as `Device.BulkData.Profile.1.Push!` with the report as `Data`.

use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use super::{CTL, Session, agent, controller};

#[test]
fn uspctl_receives_bulk_data_push_events() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let addr = format!("127.0.0.1:{}", broker.port());
    let ctl_topic = format!("usp/controller/{CTL}");
    let mut s = Session::start(&["--mqtt", &addr]);
    let reset = format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {}
Device.MQTT.Client.1.ProtocolVersion \"5.0\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"usp/e2e/bulk-agent\"
Device.BulkData.Enable true
Device.BulkData.Profile.1.Enable true
Device.BulkData.Profile.1.Protocol \"USPEventNotif\"
Device.BulkData.Profile.1.ReportingInterval 1
Device.BulkData.Profile.1.JSONEncoding.ReportFormat \"NameValuePair\"
Device.BulkData.Profile.1.Parameter.1.Reference \"Device.DeviceInfo.SerialNumber\"
",
        broker.port()
    ) + &controller(&format!(
        "Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{ctl_topic}\"
"
    ));
    let agent = agent(&reset);
    s.send("subscribe Event Device.BulkData.Profile.1.Push! --count 1 --for 20");
    s.wait_for("Event Device.BulkData.Profile.1.Push! Data=", &agent);
    let out = s.output();
    let line = out.lines().find(|l| l.contains("Push! Data=")).unwrap_or_default().to_owned();
    assert!(line.contains("Device.DeviceInfo.SerialNumber") && line.contains("E2E"), "{out}");
}
