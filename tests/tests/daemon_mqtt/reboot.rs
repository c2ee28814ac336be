//! `Device.Reboot()` and `Device.FactoryReset()` round trips through the real `uspagent`
//! behind a private Mosquitto: the agent restarts itself, sends a new MQTTConnectRecord and a
//! `Boot!` whose Cause and CommandKey are those of the controller's Operate; a value set
//! before a Reboot survives it (its `ParameterMap` shows it), a FactoryReset goes back to the
//! reset file's.

use usp_proto::msg::Operate;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::Ctl;
use crate::messages::set;
use crate::setup;

const BOOT_PARAM: &str = "Device.LocalAgent.Controller.1.BootParameter.1.";

/// Runs `command` with `key`, then waits for the restart: the new connect record and the
/// Boot! after it; returns that Boot!'s (Cause, CommandKey, ParameterMap).
fn restart_with(ctl: &mut Ctl, agent: &RunningAgent, command: &str, key: &str) -> [String; 3] {
    let operate = Operate {
        command: command.into(),
        command_key: key.into(),
        send_resp: true,
        input_args: Default::default(),
    };
    let resp = ctl.call(ReqType::Operate(operate), agent);
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    let hello = ctl.connect_record(agent);
    let (got, n) = ctl.notify(
        "Boot!",
        agent,
        |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"),
    );
    assert!(got.seq > hello.seq, "the Boot! of the new start");
    let Some(Notification::Event(e)) = n.notification else { unreachable!() };
    ["Cause", "CommandKey", "ParameterMap"].map(|k| e.params[k].clone())
}

#[test]
fn reboot_and_factory_reset_report_their_cause_and_command_key() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let agent = setup::agent(&setup::reset(broker.port(), true), &[]);
    ctl.connect_record(&agent);
    ctl.notify("Boot!", &agent, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    set(&mut ctl, &agent, BOOT_PARAM, "ParameterName", "Device.DeviceInfo.ModelName");

    let [cause, key, map] = restart_with(&mut ctl, &agent, "Device.Reboot()", "rb-1");
    assert_eq!((cause.as_str(), key.as_str()), ("RemoteReboot", "rb-1"));
    assert!(map.contains("Device.DeviceInfo.ModelName"), "the set value survived: {map}");

    let [cause, key, map] = restart_with(&mut ctl, &agent, "Device.FactoryReset()", "fr-1");
    assert_eq!((cause.as_str(), key.as_str()), ("RemoteFactoryReset", "fr-1"));
    assert!(map.contains("Device.DeviceInfo.SerialNumber"), "back to the reset file: {map}");
    assert!(!map.contains("ModelName"), "{map}");
}
