//! Commands run against a real agent core over the loopback link: table and JSON output,
//! failures and their statuses, operate with progress, subscribe and watch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::agent_host::{
    AGENT, AgentHost, LAB_OC_SUBSCRIPTION, controller_with_agent, controller_with_agent_and,
};
use crate::cli::{self, Global};

/// What a command printed and how it ended.
struct Ran {
    status: Status,
    stdout: String,
    stderr: String,
}

fn run_on(ctl: &mut Controller, line: &str) -> Ran {
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let (cmd, global) = cli::parse_line(&words, &Global::default()).expect("valid command");
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut out = Output {
        stdout: &mut stdout,
        stderr: &mut stderr,
        json: global.json,
        live: false,
        learnt: None,
    };
    let status = execute(ctl, &cmd, &mut out);
    Ran {
        status,
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn lab() -> (Controller, AgentHost) {
    controller_with_agent()
}

#[test]
fn get_as_a_table_and_as_json() {
    let (mut ctl, _host) = lab();
    let r = run_on(&mut ctl, "get Device.DeviceInfo.Manufacturer Device.DeviceInfo.ModelName");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "Device.DeviceInfo.Manufacturer  USP Lab\nDevice.DeviceInfo.ModelName     Lab Agent\n"
    );
    assert_eq!(ctl.agent(), Some(AGENT));
    let r = run_on(&mut ctl, "get Device.LocalAgent.EndpointID --json");
    assert_eq!(r.status, Status::Ok);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let res = &v["req_path_results"][0];
    assert_eq!(res["err_code"], 0);
    assert_eq!(res["resolved_path_results"][0]["result_params"]["EndpointID"], AGENT);
}

#[test]
fn per_path_errors_are_printed_and_fail_the_command() {
    let (mut ctl, _host) = lab();
    let r = run_on(&mut ctl, "get Device.DeviceInfo.ModelName Device.NoSuchThing.");
    assert_eq!(r.status, Status::Failed);
    assert!(r.stdout.contains("Lab Agent"), "{}", r.stdout);
    assert!(r.stderr.starts_with("Device.NoSuchThing.: error 7"), "{}", r.stderr);
}

#[test]
fn a_usp_error_message_fails_with_its_code_in_table_and_json_forms() {
    let (mut ctl, _host) = lab();
    let r = run_on(&mut ctl, "set Device.DeviceInfo.ModelName=x");
    assert_eq!(r.status, Status::Failed);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.starts_with("error 7"), "{}", r.stderr);
    let r = run_on(&mut ctl, "set Device.DeviceInfo.ModelName=x --json");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["err_code"].as_u64().unwrap() >= 7000, "{v}");
    assert_eq!(r.status, Status::Failed);
}

#[test]
fn add_set_instances_and_delete() {
    let (mut ctl, _host) = lab();
    let r = run_on(
        &mut ctl,
        "add Device.LocalAgent.Subscription. ID=s1 NotifType=ValueChange \
         ReferenceList=Device.LocalAgent.Controller.1.PeriodicNotifInterval",
    );
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    assert!(r.stdout.starts_with("Device.LocalAgent.Subscription.1.  "), "{}", r.stdout);
    assert!(r.stdout.contains("ID=s1"), "{}", r.stdout);
    let r = run_on(&mut ctl, "set Device.LocalAgent.Subscription.1. Enable=true NotifRetry?=true");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    assert!(r.stdout.contains("Device.LocalAgent.Subscription.1.Enable      true"), "{}", r.stdout);
    let r = run_on(&mut ctl, "instances Device.LocalAgent.Subscription. --json");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let inst = &v["req_path_results"][0]["curr_insts"][0];
    assert_eq!(inst["instantiated_obj_path"], "Device.LocalAgent.Subscription.1.");
    let r = run_on(&mut ctl, "del Device.LocalAgent.Subscription.1.");
    assert_eq!((r.status, r.stdout.as_str()), (Status::Ok, "Device.LocalAgent.Subscription.1.\n"));
    let r = run_on(&mut ctl, "instances Device.LocalAgent.Subscription.");
    assert_eq!((r.status, r.stdout.as_str()), (Status::Ok, ""));
}

#[test]
fn supported_data_model_and_protocol() {
    let (mut ctl, _host) = lab();
    let (mut stdout, mut stderr, mut learnt) = (Vec::new(), Vec::new(), Vec::new());
    let (cmd, _) =
        cli::parse_line(&["gsdm".into(), "Device.LocalAgent.".into()], &Global::default()).unwrap();
    let mut out = Output {
        stdout: &mut stdout,
        stderr: &mut stderr,
        json: false,
        live: false,
        learnt: Some(&mut learnt),
    };
    assert_eq!(execute(&mut ctl, &cmd, &mut out), Status::Ok);
    let text = String::from_utf8(stdout).unwrap();
    assert!(text.contains("Device.LocalAgent.Controller.{i}.  "), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("  EndpointID") && l.contains("read-write")),
        "{text}"
    );
    assert!(learnt.contains(&"Device.LocalAgent.Controller.{i}.EndpointID".to_owned()));
    let r = run_on(&mut ctl, "proto");
    assert_eq!(r.stdout, "1.0,1.1,1.2,1.3,1.4\n");
}

#[test]
fn operate_waits_for_an_async_command_with_progress() {
    let (mut ctl, _host) = lab();
    let r = run_on(&mut ctl, "operate Device.ScheduleTimer() DelaySeconds=1");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    // Today's agent core does not make the creator of a subscription its Recipient yet, so the
    // completion is seen by polling the Request row ("done (its output was not received)").
    assert!(r.stdout.starts_with("Device.ScheduleTimer()  done"), "{}", r.stdout);
    assert!(r.stderr.starts_with("[   0s] Device.ScheduleTimer() "), "{}", r.stderr);
    // The temporary subscription is gone.
    let r = run_on(&mut ctl, "instances Device.LocalAgent.Subscription.");
    assert_eq!(r.stdout, "");
    // Without waiting: the Request row.
    let r = run_on(&mut ctl, "operate Device.ScheduleTimer() DelaySeconds=30 --no-wait --json");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v[0]["req_obj_path"].as_str().unwrap().starts_with("Device.LocalAgent.Request."));
    // A missing mandatory argument.
    let r = run_on(&mut ctl, "operate Device.ScheduleTimer()");
    assert_eq!(r.status, Status::Failed);
    assert!(r.stderr.contains("error 70"), "{}", r.stderr);
}

#[test]
fn operate_reports_the_operation_complete_it_receives() {
    let (mut ctl, _host) = controller_with_agent_and(LAB_OC_SUBSCRIPTION);
    let r = run_on(&mut ctl, "operate Device.ScheduleTimer() DelaySeconds=1 --json");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v, json!([{ "command": "Device.ScheduleTimer()", "output_args": {} }]));
}

#[test]
fn watch_prints_notifications_as_they_come() {
    let (mut ctl, _host) = controller_with_agent_and(LAB_OC_SUBSCRIPTION);
    let r = run_on(&mut ctl, "operate Device.ScheduleTimer() DelaySeconds=1 --no-wait");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    let r = run_on(&mut ctl, "watch --count 1 --for 10");
    assert_eq!(r.status, Status::Ok);
    let line = r.stdout.lines().next().expect("one notification");
    assert!(
        line.contains(" lab-oc OperationComplete Device.ScheduleTimer() key=uspctl-op-"),
        "{line}"
    );
    assert!(line.ends_with(" done"), "{line}");
    assert!(r.stderr.contains("# agent os::00D09E-LAB0001 is up"), "{}", r.stderr);
    // As JSON lines.
    run_on(&mut ctl, "operate Device.ScheduleTimer() DelaySeconds=1 --no-wait");
    let r = run_on(&mut ctl, "watch --count 1 --for 10 --json");
    let v: Value = serde_json::from_str(r.stdout.lines().next().expect("a line")).unwrap();
    assert_eq!(v["subscription_id"], "lab-oc");
    assert_eq!(v["from"], AGENT);
    assert_eq!(v["oper_complete"]["command_name"], "ScheduleTimer()");
}

#[test]
fn subscribe_creates_watches_and_removes_its_subscription() {
    let (mut ctl, _host) = lab();
    let r =
        run_on(&mut ctl, "subscribe ValueChange Device.LocalAgent.Controller.1.Alias --for 0.2");
    assert_eq!(r.status, Status::Ok, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("subscribed: Device.LocalAgent.Subscription.1. (ID uspctl-"),
        "{}",
        r.stderr
    );
    assert_eq!(run_on(&mut ctl, "instances Device.LocalAgent.Subscription.").stdout, "");
    let r = run_on(&mut ctl, "subscribe Event Device.Boot! --for 0.1 --keep");
    assert!(r.stderr.contains("kept Device.LocalAgent.Subscription.2."), "{}", r.stderr);
    assert!(!run_on(&mut ctl, "instances Device.LocalAgent.Subscription.").stdout.is_empty());
}

#[test]
fn offline_commands_encode_and_decode() {
    let global = Global { agent: Some(AGENT.into()), ..Global::default() };
    let words: Vec<String> = "encode get Device.DeviceInfo. --max-depth 1"
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let (cmd, _) = cli::parse_line(&words, &global).unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut out =
        Output { stdout: &mut stdout, stderr: &mut stderr, json: false, live: false, learnt: None };
    let mut no_stdin: &[u8] = &[];
    assert_eq!(offline(&cmd, &global, &mut no_stdin, &mut out), Some(Status::Ok));
    let hex = String::from_utf8(stdout).unwrap();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut out =
        Output { stdout: &mut stdout, stderr: &mut stderr, json: true, live: false, learnt: None };
    let decode = Command::Decode { input: Some(hex.trim().to_owned()) };
    assert_eq!(offline(&decode, &global, &mut no_stdin, &mut out), Some(Status::Ok));
    let v: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(v["from_id"], "self::uspctl");
    assert_eq!(v["payload"]["Body"]["Request"]["Get"]["param_paths"][0], "Device.DeviceInfo.");
    let no_agent = Global::default();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut out =
        Output { stdout: &mut stdout, stderr: &mut stderr, json: false, live: false, learnt: None };
    assert_eq!(offline(&cmd, &no_agent, &mut no_stdin, &mut out), Some(Status::Usage));
    assert!(String::from_utf8(stderr).unwrap().contains("--agent"));
}
