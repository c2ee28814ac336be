//! Issue 20's denial-of-service probes and the per-request bounds (`budget`): each probe is
//! answered quickly and within bounds, and the agent answers the next request.

use std::time::{Duration, Instant};

use usp_datamodel::ErrorCode;
use usp_proto::Message;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg};

use super::harness::*;
use crate::Limits;

const ME: &str = r#"Device.LocalAgent.Subscription.[ID=="L"]."#;

fn get(paths: Vec<String>) -> ReqType {
    ReqType::Get(msg::Get { param_paths: paths, max_depth: 0 })
}

fn gsdm(paths: Vec<String>) -> ReqType {
    ReqType::GetSupportedDm(msg::GetSupportedDm {
        obj_paths: paths,
        first_level_only: false,
        return_commands: true,
        return_events: true,
        return_params: true,
        return_unique_key_sets: true,
    })
}

fn setting(param: &str, value: &str) -> msg::add::CreateParamSetting {
    msg::add::CreateParamSetting { param: param.into(), value: value.into(), required: true }
}

/// The Subscription of issue 20: `ID=id`, its `ReferenceList` naming the one with ID `L`
/// twice.
fn add_subscription(h: &mut Harness, id: &str) {
    let add = msg::Add {
        allow_partial: false,
        create_objs: vec![msg::add::CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                setting("ID", id),
                setting("NotifType", "ValueChange"),
                setting("ReferenceList", &format!("{ME},{ME}")),
            ],
        }],
    };
    let RespType::AddResp(r) = h.response(ReqType::Add(add)) else { panic!("not an AddResp") };
    assert_eq!(r.created_obj_results.len(), 1);
}

/// The answer to `req` and the time it took.
fn timed(h: &mut Harness, req: ReqType) -> (Msg, Duration) {
    let start = Instant::now();
    let reply = h.request(req);
    (reply, start.elapsed())
}

fn still_serving(h: &mut Harness) {
    assert_eq!(h.value("Device.Test.Item.1.Name").as_deref(), Some("a"), "the next request");
}

/// Issue 20, bug 1: the exact Add + Get sequence at n = 20 (20.5 s and 844 MB before).
/// `ReferenceList` is not a reference in TR-181 (a list of paths and search paths), so `+` may
/// not follow it: one 7026 per path, at once.
#[test]
fn dos_reference_chain_n20_answers_at_once() {
    let mut h = Harness::builtin();
    add_subscription(&mut h, "L");
    let chain = "ReferenceList#*+.".repeat(20);
    let in_path = format!("{ME}{chain}ID");
    let in_search = format!(r#"Device.LocalAgent.Subscription.[{chain}ID=="L"].ID"#);
    let (reply, took) = timed(&mut h, get(vec![in_path, in_search]));
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(reply.encoded_len() < 4096, "{} bytes", reply.encoded_len());
    let RespType::GetResp(r) = response(reply) else { panic!("not a GetResp") };
    for result in &r.req_path_results {
        assert_eq!(result.err_code, ErrorCode::InvalidPath.code(), "{}", result.err_msg);
        assert!(result.err_msg.contains("not a reference"), "{}", result.err_msg);
    }
    still_serving(&mut h);
}

/// A real reference followed in a long chain stays linear: `Recipient+` from every
/// subscription, then back through the Controller's `AssignedRole#*+`.
#[test]
fn dos_chain_of_real_references_is_merged() {
    let mut h = Harness::builtin();
    for id in ["L", "M", "N", "O"] {
        add_subscription(&mut h, id);
    }
    let path = "Device.LocalAgent.Subscription.*.Recipient+.AssignedRole#*+.Name".to_string();
    let (reply, took) = timed(&mut h, get(vec![path]));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let RespType::GetResp(r) = response(reply) else { panic!("not a GetResp") };
    let result = &r.req_path_results[0];
    assert_eq!(result.err_code, 0, "{}", result.err_msg);
    // Four subscriptions, one recipient, one role: listed once.
    assert_eq!(result.resolved_path_results.len(), 1);
    let role = &result.resolved_path_results[0].resolved_path;
    assert_eq!(role, "Device.LocalAgent.ControllerTrust.Role.1.");
}

/// Issue 20, bug 2: one Get of `Device.` × 20,000 (a 180 KB Record; 559 MB before) is
/// refused with 7005 before anything is read.
#[test]
fn dos_get_device_20000_times_is_7005() {
    let mut h = Harness::builtin();
    let (reply, took) = timed(&mut h, get(vec!["Device.".into(); 20_000]));
    assert!(took < Duration::from_secs(2), "{took:?}");
    let e = error(reply);
    assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code(), "{}", e.err_msg);
    still_serving(&mut h);
}

/// Issue 20, bug 2: GetSupportedDM of `Device.` × 1,000 (6.9 MB answered before) stays
/// within the response budget: 7005.
#[test]
fn dos_gsdm_device_1000_times_is_bounded() {
    let mut h = Harness::builtin();
    let (reply, _) = timed(&mut h, gsdm(vec!["Device.".into(); 1000]));
    assert!(reply.encoded_len() <= Limits::default().max_response_bytes);
    let e = error(reply);
    assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code(), "{}", e.err_msg);
    // One is answered in full.
    let RespType::GetSupportedDmResp(r) = h.response(gsdm(vec!["Device.".into()])) else {
        panic!("not a GetSupportedDmResp")
    };
    assert_eq!(r.req_obj_results[0].err_code, 0);
    still_serving(&mut h);
}

#[test]
fn max_paths_per_request_is_enforced_for_every_message() {
    let mut h = Harness::builtin();
    let max = Limits::default().max_paths;
    let ok = h.request(get(vec!["Device.Test.Item.1.Name".into(); max]));
    assert!(matches!(response(ok), RespType::GetResp(_)));
    let obj = |n: usize| vec!["Device.Test.Item.1.".to_string(); n];
    let set = |n: usize| {
        ReqType::Set(msg::Set {
            allow_partial: true,
            update_objs: vec![msg::set::UpdateObject {
                obj_path: "Device.Test.Item.1.".into(),
                param_settings: vec![
                    msg::set::UpdateParamSetting {
                        param: "Count".into(),
                        value: "3".into(),
                        required: false,
                    };
                    n
                ],
            }],
        })
    };
    let add = |n: usize| {
        ReqType::Add(msg::Add {
            allow_partial: true,
            create_objs: vec![msg::add::CreateObject {
                obj_path: "Device.Test.Item.".into(),
                param_settings: vec![setting("Count", "3"); n],
            }],
        })
    };
    let too_many: Vec<ReqType> = vec![
        get(vec!["Device.Test.Item.1.Name".into(); max + 1]),
        gsdm(obj(max + 1)),
        ReqType::GetInstances(msg::GetInstances {
            obj_paths: obj(max + 1),
            first_level_only: true,
        }),
        ReqType::Delete(msg::Delete { allow_partial: true, obj_paths: obj(max + 1) }),
        set(max),
        add(max),
    ];
    for req in too_many {
        let e = error(h.request(req));
        assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code(), "{}", e.err_msg);
    }
    assert_eq!(h.rows("Device.Test.Item.").len(), 2, "nothing was done");
    still_serving(&mut h);
}

#[test]
fn response_budget_refuses_what_would_exceed_it_and_spares_the_cli() {
    let mut h = Harness::builtin();
    let whole = h.request(get(vec!["Device.".into()]));
    let size = whole.encoded_len();
    h.core.set_limits(Limits { max_response_bytes: size / 2, ..Limits::default() });
    let e = error(h.request(get(vec!["Device.".into()])));
    assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code());
    let e = error(h.request(ReqType::GetInstances(msg::GetInstances {
        obj_paths: vec!["Device.".into(); 64],
        first_level_only: false,
    })));
    assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code());
    // Small requests still pass.
    still_serving(&mut h);
    // The local CLI is not limited.
    let (reply, _) = h.core.handle_local(h.now, get(vec!["Device.".into()]));
    assert!(matches!(response(reply), RespType::GetResp(_)));
}

/// A Record of ~2.6 MB holding 100,000 paths (a 5 MiB one decoded into 35 MB of strings) is
/// refused with 7005 from a scan of its bytes, before it is decoded.
#[test]
fn dos_record_of_100000_paths_is_refused_undecoded() {
    let mut h = Harness::builtin();
    let one = Msg::request("big-1", get(vec!["Device.".into()]));
    // Copies of a Msg merge into one whose repeated fields hold every copy's items.
    let payload = one.to_bytes().repeat(100_000);
    let record = usp_proto::record::Record::no_session_context("1.4", AGENT, CTRL, payload);
    let start = Instant::now();
    let out = h.record(&record);
    assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
    assert_eq!(out.len(), 1);
    let reply = decode_to_ctrl(&out[0]);
    assert_eq!(reply.msg_id(), Some("big-1"));
    let e = error(reply);
    assert_eq!(e.err_code, ErrorCode::ResourcesExceeded.code());
    assert!(e.err_msg.contains("items"), "refused by the scan: {}", e.err_msg);
    // Without a msg_id there is no one to answer.
    let mut anonymous = Msg::request("", get(vec!["Device.".into()]));
    anonymous.header.as_mut().unwrap().msg_id.clear();
    let payload = anonymous.to_bytes().repeat(10_000);
    let record = usp_proto::record::Record::no_session_context("1.4", AGENT, CTRL, payload);
    assert!(h.record(&record).is_empty());
    still_serving(&mut h);
}

/// Path length, depth, search conditions and reference steps are bounded: 7008 per path.
#[test]
fn path_bounds_are_7008() {
    let mut h = Harness::builtin();
    let too_long = format!("Device.Test.Item.1.{}", "N".repeat(crate::MAX_PATH_LEN));
    let too_deep = format!("Device.{}Name", "Test.".repeat(64));
    let conds = vec!["Count==1"; 33].join("&&");
    let too_many_conditions = format!("Device.Test.Item.[{conds}].Name");
    let too_many_steps =
        format!("Device.LocalAgent.Controller.1.{}Name", "AssignedRole+.".repeat(33));
    let paths = vec![too_long, too_deep, too_many_conditions, too_many_steps];
    let RespType::GetResp(r) = h.response(get(paths)) else { panic!("not a GetResp") };
    for result in &r.req_path_results {
        assert_eq!(result.err_code, ErrorCode::InvalidPathSyntax.code(), "{}", result.err_msg);
    }
    still_serving(&mut h);
}

/// A controller's response is never answered, however large: a GetResp of 200,000 results is
/// dropped from a scan of its bytes, without decoding it.
#[test]
fn dos_huge_response_from_a_controller_is_dropped_undecoded() {
    let mut h = Harness::builtin();
    let result = msg::get_resp::ResolvedPathResult {
        resolved_path: "Device.X.".into(),
        result_params: [("P".to_string(), "v".to_string())].into(),
    };
    let one = msg::GetResp {
        req_path_results: vec![msg::get_resp::RequestedPathResult {
            requested_path: "Device.X.".into(),
            resolved_path_results: vec![result; 1000],
            ..Default::default()
        }],
    };
    let resp = Msg::response("r-1", RespType::GetResp(one));
    // 200 copies merge into one GetResp of 200 requested paths of 1,000 results each.
    let payload = resp.to_bytes().repeat(200);
    let record = usp_proto::record::Record::no_session_context("1.4", AGENT, CTRL, payload);
    assert!(h.record(&record).is_empty());
    still_serving(&mut h);
}
