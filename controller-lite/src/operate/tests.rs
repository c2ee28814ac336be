//! Operate against a scripted agent: synchronous results, waiting for OperationComplete with
//! progress, the polling fallback, no-wait, the wait limit, and subscription clean-up.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg, body::MsgBody};

use super::*;
use crate::script::controller;

const CMD: &str = "Device.X.1.Run()";
const REQ: &str = "Device.LocalAgent.Request.4.";

fn req(msg: &Msg) -> ReqType {
    match msg.body.clone().and_then(|b| b.msg_body) {
        Some(MsgBody::Request(msg::Request { req_type: Some(r) })) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn resp(msg: &Msg, r: RespType) -> Msg {
    Msg::response(msg.msg_id().unwrap(), r)
}

fn add_ok(msg: &Msg) -> Msg {
    use msg::add_resp::created_object_result::{OperationStatus, operation_status as s};
    let ok = s::OperStatus::OperSuccess(s::OperationSuccess {
        instantiated_path: "Device.LocalAgent.Subscription.9.".into(),
        param_errs: vec![],
        unique_keys: Default::default(),
    });
    let result = msg::add_resp::CreatedObjectResult {
        requested_path: "Device.LocalAgent.Subscription.".into(),
        oper_status: Some(OperationStatus { oper_status: Some(ok) }),
    };
    resp(msg, RespType::AddResp(msg::AddResp { created_obj_results: vec![result] }))
}

fn operate_resp(msg: &Msg, results: Vec<(&str, OperationResp)>) -> Msg {
    let operation_results = results
        .into_iter()
        .map(|(c, r)| msg::operate_resp::OperationResult {
            executed_command: c.into(),
            operation_resp: Some(r),
        })
        .collect();
    resp(msg, RespType::OperateResp(msg::OperateResp { operation_results }))
}

fn status(msg: &Msg, value: Option<&str>) -> Msg {
    let result = match value {
        Some(v) => msg::get_resp::RequestedPathResult {
            requested_path: format!("{REQ}Status"),
            err_code: 0,
            err_msg: String::new(),
            resolved_path_results: vec![msg::get_resp::ResolvedPathResult {
                resolved_path: REQ.into(),
                result_params: [("Status".to_owned(), v.to_owned())].into(),
            }],
        },
        None => msg::get_resp::RequestedPathResult {
            requested_path: format!("{REQ}Status"),
            err_code: 7016,
            err_msg: "Object does not exist".into(),
            resolved_path_results: vec![],
        },
    };
    resp(msg, RespType::GetResp(msg::GetResp { req_path_results: vec![result] }))
}

fn deleted(msg: &Msg) -> Msg {
    resp(msg, RespType::DeleteResp(msg::DeleteResp { deleted_obj_results: vec![] }))
}

fn complete(key: &str, output: &str) -> Msg {
    let done = msg::notify::OperationComplete {
        obj_path: "Device.X.1.".into(),
        command_name: "Run()".into(),
        command_key: key.into(),
        operation_resp: Some(Done::ReqOutputArgs(msg::notify::operation_complete::OutputArgs {
            output_args: [("Elapsed".to_owned(), output.to_owned())].into(),
        })),
    };
    let n = msg::Notify {
        subscription_id: "sub".into(),
        send_resp: false,
        notification: Some(N::OperComplete(done)),
    };
    Msg::request(format!("n-{output}"), ReqType::Notify(n))
}

fn fast() -> Options {
    Options { wait: true, poll_every: Duration::from_millis(10), max_wait: None }
}

type Log = Arc<Mutex<Vec<String>>>;

#[test]
fn an_async_command_is_waited_for_with_progress_and_the_subscription_removed() {
    let (mut ctl, script) = controller();
    let log = Log::default();
    let seen = log.clone();
    let agent = script.serve_until(move |m| {
        let mut seen = seen.lock().unwrap();
        match req(m) {
            ReqType::Add(a) => {
                let refs = &a.create_objs[0].param_settings;
                assert!(refs.iter().any(|p| p.param == "ReferenceList" && p.value == CMD));
                assert!(
                    refs.iter().any(|p| p.param == "NotifType" && p.value == "OperationComplete")
                );
                seen.push("add".into());
                (vec![add_ok(m)], true)
            }
            ReqType::Operate(o) => {
                seen.push(o.command_key.clone());
                (vec![operate_resp(m, vec![(CMD, OperationResp::ReqObjPath(REQ.into()))])], true)
            }
            ReqType::Get(_) => {
                // Another notification first (not ours: other key), then ours.
                let key = seen[1].clone();
                (vec![status(m, Some("Active")), complete("other", "1"), complete(&key, "5")], true)
            }
            ReqType::Delete(d) => {
                seen.push(format!("delete {}", d.obj_paths[0]));
                (vec![deleted(m)], false)
            }
            other => panic!("{other:?}"),
        }
    });
    let mut reports = Vec::new();
    let results = run(&mut ctl, CMD, &BTreeMap::new(), fast(), &mut |p| {
        reports.push((p.command.to_owned(), p.request.to_owned(), p.status.map(str::to_owned)));
    })
    .unwrap();
    let _script = agent.join().unwrap();
    let expected = BTreeMap::from([("Elapsed".to_owned(), "5".to_owned())]);
    assert_eq!(
        results,
        [CommandResult { command: CMD.into(), outcome: CommandOutcome::Output(expected) }]
    );
    assert_eq!(reports, [(CMD.to_owned(), REQ.to_owned(), Some("Active".to_owned()))]);
    let log = log.lock().unwrap();
    assert!(log[1].starts_with("uspctl-op-"), "{log:?}");
    assert_eq!(log[2], "delete Device.LocalAgent.Subscription.9.");
    // The other command's completion is still there for a watch.
    let left = ctl.next_notification(Duration::ZERO).unwrap().unwrap();
    assert_eq!(left.msg_id, "n-1");
}

#[test]
fn without_a_subscription_the_request_row_is_polled_until_it_is_gone() {
    let (mut ctl, script) = controller();
    let mut gets = 0;
    let agent = script.serve_until(move |m| match req(m) {
        ReqType::Add(_) => {
            let e = msg::Error { err_code: 7006, err_msg: "denied".into(), param_errs: vec![] };
            (vec![Msg::error(m.msg_id().unwrap(), e)], true)
        }
        ReqType::Operate(_) => {
            (vec![operate_resp(m, vec![(CMD, OperationResp::ReqObjPath(REQ.into()))])], true)
        }
        ReqType::Get(_) => {
            gets += 1;
            let s = if gets < 3 { Some("Active") } else { None };
            (vec![status(m, s)], gets < 3)
        }
        other => panic!("no Delete expected: {other:?}"),
    });
    let mut statuses = Vec::new();
    let results = run(&mut ctl, CMD, &BTreeMap::new(), fast(), &mut |p| {
        statuses.push(p.status.map(str::to_owned));
    })
    .unwrap();
    agent.join().unwrap();
    assert_eq!(results[0].outcome, CommandOutcome::Finished);
    assert_eq!(statuses, [Some("Active".into()), Some("Active".into()), None]);
}

#[test]
fn sync_results_failures_and_no_wait() {
    let (mut ctl, script) = controller();
    let agent = script.serve(1, |m| {
        let ReqType::Operate(o) = req(m) else { panic!() };
        assert!(o.send_resp);
        assert_eq!(o.input_args["Level"], "2");
        vec![operate_resp(
            m,
            vec![
                (
                    "Device.X.1.Reset()",
                    OperationResp::ReqOutputArgs(msg::operate_resp::operation_result::OutputArgs {
                        output_args: [("Result".to_owned(), "ok".to_owned())].into(),
                    }),
                ),
                (
                    "Device.X.2.Reset()",
                    OperationResp::CmdFailure(
                        msg::operate_resp::operation_result::CommandFailure {
                            err_code: 7022,
                            err_msg: "broken".into(),
                        },
                    ),
                ),
                ("Device.X.3.Reset()", OperationResp::ReqObjPath(REQ.into())),
            ],
        )]
    });
    let args = BTreeMap::from([("Level".to_owned(), "2".to_owned())]);
    let opts = Options { wait: false, ..fast() };
    let results = run(&mut ctl, "Device.X.*.Reset()", &args, opts, &mut |_| panic!()).unwrap();
    agent.join().unwrap();
    let outcomes: Vec<_> = results.into_iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            CommandOutcome::Output([("Result".to_owned(), "ok".to_owned())].into()),
            CommandOutcome::Failed { code: 7022, message: "broken".into() },
            CommandOutcome::Started { request: REQ.into() },
        ]
    );
}

#[test]
fn the_wait_limit_is_a_timeout_and_the_subscription_is_still_removed() {
    let (mut ctl, script) = controller();
    let deleted_sub = Arc::new(Mutex::new(false));
    let flag = deleted_sub.clone();
    let agent = script.serve_until(move |m| match req(m) {
        ReqType::Add(_) => (vec![add_ok(m)], true),
        ReqType::Operate(_) => {
            (vec![operate_resp(m, vec![(CMD, OperationResp::ReqObjPath(REQ.into()))])], true)
        }
        ReqType::Get(_) => (vec![status(m, Some("Active"))], true),
        ReqType::Delete(_) => {
            *flag.lock().unwrap() = true;
            (vec![deleted(m)], false)
        }
        other => panic!("{other:?}"),
    });
    let opts = Options { max_wait: Some(Duration::from_millis(100)), ..fast() };
    let err = run(&mut ctl, CMD, &BTreeMap::new(), opts, &mut |_| {}).unwrap_err();
    agent.join().unwrap();
    assert!(matches!(&err, ClientError::Timeout { what, .. } if what.contains(CMD)), "{err:?}");
    assert!(*deleted_sub.lock().unwrap());
}

#[test]
fn the_progress_parameter_is_the_agents() {
    assert_eq!(PROGRESS, usp_areas::local_agent::PROGRESS);
}
