//! IP diagnostics and device health end to end: the `uspagent` daemon on the plain-Linux
//! platform, driven by a controller over a private Mosquitto broker. The controller reads
//! `Device.IP.Interface.` (the loopback interface and its address, from rtnetlink) and
//! `Device.DeviceInfo.MemoryStatus.` (from `/proc/meminfo`), `UpTime` (`/proc/uptime`) and a
//! `Device.Hosts.Host.` from the lease file given with `--dhcp-leases`, runs `IPPing()` to 127.0.0.1 and
//! gets its OperationComplete with TR-181's output arguments, and sends bad input (zero
//! repetitions, an unresolvable host) to find the agent still serving.
//!
//! Needs `mosquitto` and the `uspagent` binary (`cargo build -p uspagent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "daemon_mqtt/ctl.rs"]
#[allow(dead_code)]
mod ctl;
#[path = "daemon_mqtt/setup.rs"]
#[allow(dead_code)]
mod setup;

use std::collections::BTreeMap;

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::notify::operation_complete::OperationResp;
use usp_proto::msg::operate_resp::operation_result::OperationResp as OpResult;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Add, Operate};
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use ctl::Ctl;

fn subscribe(ctl: &mut Ctl, agent: &RunningAgent, id: &str, refs: &str) {
    let p = |name: &str, value: &str| CreateParamSetting {
        param: name.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                p("ID", id),
                p("NotifType", "OperationComplete"),
                p("ReferenceList", refs),
                p("Enable", "true"),
            ],
        }],
    };
    let RespType::AddResp(_) = ctl.call(ReqType::Add(add), agent) else { panic!("AddResp") };
}

/// Operates `IPPing()` with `input`; the OperateResp's result.
fn ping(ctl: &mut Ctl, agent: &RunningAgent, key: &str, input: &[(&str, &str)]) -> OpResult {
    let op = Operate {
        command: "Device.IP.Diagnostics.IPPing()".into(),
        command_key: key.into(),
        send_resp: true,
        input_args: input.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
    };
    let RespType::OperateResp(resp) = ctl.call(ReqType::Operate(op), agent) else {
        panic!("OperateResp")
    };
    resp.operation_results[0].operation_resp.clone().expect("a result")
}

/// Waits for the OperationComplete of the run with `key`; its output arguments.
fn completed(ctl: &mut Ctl, agent: &RunningAgent, key: &str) -> BTreeMap<String, String> {
    let (_, n) = ctl.notify(
        "OperationComplete of IPPing",
        agent,
        |n| matches!(n, Notification::OperComplete(c) if c.command_key == key),
    );
    let Some(Notification::OperComplete(c)) = n.notification else { panic!("OperComplete") };
    match c.operation_resp {
        Some(OperationResp::ReqOutputArgs(out)) => out.output_args,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_controller_pings_and_reads_interfaces_and_memory_over_mqtt() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("dhcp.leases");
    std::fs::write(&leases, "0 02:00:00:00:e2:e1 192.0.2.77 e2e-printer *\n").unwrap();
    let leases = leases.to_str().unwrap();
    let agent = setup::agent(
        &setup::reset(broker.port(), true),
        &["--platform", "linux", "--dhcp-leases", leases],
    );
    ctl.connect_record(&agent);

    let names = ctl.get_values(&agent, &["Device.IP.Interface.*.Name"]);
    let lo = names.iter().find(|(_, v)| *v == "lo").map(|(k, _)| k.trim_end_matches("Name"));
    let lo = lo.unwrap_or_else(|| panic!("no lo in {names:?}")).to_owned();
    let v4 = ctl.get_values(&agent, &[&format!("{lo}IPv4Address.*.IPAddress")]);
    assert!(v4.values().any(|v| v == "127.0.0.1"), "{v4:?}");
    let mem = ctl.get_values(&agent, &["Device.DeviceInfo.MemoryStatus."]);
    let total: u64 = mem["Device.DeviceInfo.MemoryStatus.Total"].parse().unwrap();
    let free: u64 = mem["Device.DeviceInfo.MemoryStatus.Free"].parse().unwrap();
    assert!(total > 0 && free <= total, "{mem:?}");
    let system: u64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let up = ctl.get_values(&agent, &["Device.DeviceInfo.UpTime"]);
    let up: u64 = up["Device.DeviceInfo.UpTime"].parse().unwrap();
    assert!(up >= system, "UpTime is the system's ({system} s), not the agent's: {up}");

    let hosts = ctl.get_values(&agent, &["Device.Hosts.Host.*.HostName"]);
    let printer = hosts.iter().find(|(_, v)| *v == "e2e-printer").map(|(k, _)| k.clone());
    let printer = printer.unwrap_or_else(|| panic!("the leased host in {hosts:?}"));
    let printer = printer.trim_end_matches("HostName");
    let host = ctl.get_values(&agent, &[printer]);
    assert_eq!(host[&format!("{printer}PhysAddress")], "02:00:00:00:e2:e1");
    assert_eq!(host[&format!("{printer}IPAddress")], "192.0.2.77");
    assert_eq!(host[&format!("{printer}LeaseTimeRemaining")], "-1");

    subscribe(&mut ctl, &agent, "pings", "Device.IP.Diagnostics.IPPing()");
    let input = [("Host", "127.0.0.1"), ("NumberOfRepetitions", "2"), ("Timeout", "2000")];
    assert!(matches!(ping(&mut ctl, &agent, "lo", &input), OpResult::ReqObjPath(_)));
    let out = completed(&mut ctl, &agent, "lo");
    assert_eq!(out.get("Status").map(String::as_str), Some("Complete"), "{out:?}");
    assert_eq!(out.get("SuccessCount").map(String::as_str), Some("2"), "{out:?}");
    assert_eq!(out.get("IPAddressUsed").map(String::as_str), Some("127.0.0.1"), "{out:?}");

    // Bad input: the right error, and the agent goes on serving.
    match ping(&mut ctl, &agent, "zero", &[("Host", "127.0.0.1"), ("NumberOfRepetitions", "0")]) {
        OpResult::CmdFailure(f) => assert_eq!(f.err_code, 7027, "{f:?}"),
        other => panic!("{other:?}"),
    }
    let input = [("Host", "no-such-host.invalid"), ("NumberOfRepetitions", "1")];
    assert!(matches!(ping(&mut ctl, &agent, "nx", &input), OpResult::ReqObjPath(_)));
    let out = completed(&mut ctl, &agent, "nx");
    assert_eq!(out.get("Status").map(String::as_str), Some("Error_CannotResolveHostName"));
    let again = ctl.get_values(&agent, &["Device.DeviceInfo.ProcessStatus.CPUUsage"]);
    assert!(again["Device.DeviceInfo.ProcessStatus.CPUUsage"].parse::<u32>().unwrap() <= 100);
}
