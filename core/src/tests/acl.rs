//! Access control on the test model (`Device.Test.`), beyond the TP-469 replays of
//! `tp469::access`: one behaviour per test, for each message type, with a Role restricted by a
//! Permission of higher Order than the Full Access row, or given to a second controller.

use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
use usp_proto::msg::delete_resp::deleted_object_result::operation_status::OperStatus as DelStatus;
use usp_proto::msg::get_supported_dm_resp::{ObjAccessType, ParamAccessType};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;
use usp_proto::msg::{self, Msg, Operate};
use usp_proto::record::Record;

use super::harness::*;
use super::subs::{notifies, set, subscribe};
use super::tp469::{add_req, add_results, del_req, del_results, set_req, set_results};

const PERMISSIONS: &str = "Device.LocalAgent.ControllerTrust.Role.1.Permission.";
const ITEM: &str = "Device.Test.Item.";

/// Adds a Permission of `order` on `targets` with the four strings to the test controller's
/// Role (the Full Access one, whose row has Order 1).
fn restrict(h: &mut Harness, order: &str, targets: &str, strings: [&str; 4]) {
    let settings = [
        ("Enable", "true", false),
        ("Order", order, false),
        ("Targets", targets, false),
        ("Param", strings[0], false),
        ("Obj", strings[1], false),
        ("InstantiatedObj", strings[2], false),
        ("CommandEvent", strings[3], false),
    ];
    let r = add_results(h, add_req(false, &[(PERMISSIONS, &settings)]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)), "{r:?}");
}

/// Sends `req` from the controller `from` and returns its one reply.
fn ask_as(h: &mut Harness, from: &str, req: ReqType) -> Msg {
    let msg = Msg::request("acl", req);
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, from, &msg));
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].to, from);
    out[0].record.decode_no_session_context_msg().unwrap()
}

fn get(paths: &[&str]) -> ReqType {
    ReqType::Get(msg::Get {
        param_paths: paths.iter().map(|p| (*p).into()).collect(),
        max_depth: 0,
    })
}

/// The resolved paths and parameter names of a Get of one path.
fn shape(r: &msg::get_resp::RequestedPathResult) -> Vec<(String, Vec<String>)> {
    let list = r.resolved_path_results.iter();
    list.map(|p| (p.resolved_path.clone(), p.result_params.keys().cloned().collect())).collect()
}

#[test]
fn get_leaves_out_unreadable_objects_and_parameters() {
    let mut h = Harness::builtin();
    restrict(&mut h, "3", "Device.Test.Item.2.", ["rwxn", "----", "rwxn", "rwxn"]);
    let r = h.get1("Device.Test.Item.*.Count", 0);
    let paths: Vec<String> = shape(&r).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["Device.Test.Item.1.", "Device.Test.Item.2."], "Param r is enough");
    restrict(&mut h, "4", "Device.Test.Item.*.Count", ["-w--", "rwxn", "rwxn", "rwxn"]);
    let r = h.get1(ITEM, 0);
    let got = shape(&r);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    let want = ["Device.Test.Item.1.", "Device.Test.Item.1.Stats.", "Device.Test.Item.1.Sub.1."];
    assert_eq!(paths, want, "item 2 is hidden, with what is below it");
    assert!(!got[0].1.contains(&"Count".to_owned()), "{got:?}");
    assert!(got[0].1.contains(&"Name".to_owned()), "{got:?}");
    // Paths of their own to what is unreadable are not in the supported model (R-GET.1)...
    assert_eq!(h.get1("Device.Test.Item.1.Count", 0).err_code, 7026);
    assert_eq!(h.get1("Device.Test.Item.2.", 0).err_code, 7026);
    // ...but the same elements through search paths are just absent.
    let r = h.get1("Device.Test.Item.*.Count", 0);
    assert_eq!((r.err_code, r.resolved_path_results.len()), (0, 0));
    let r = h.get1("Device.Test.Item.[Count>0].Name", 0);
    assert_eq!((r.err_code, r.resolved_path_results.len()), (0, 0), "no oracle on Count");
    let r = h.get1("Device.Test.Item.*.", 0);
    assert!(shape(&r).iter().all(|(p, _)| !p.starts_with("Device.Test.Item.2.")));
}

#[test]
fn a_readable_object_below_an_unreadable_one_is_still_listed() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.", ["----", "----", "----", "----"]);
    restrict(&mut h, "3", "Device.Test.Item.1.", ["r---", "r---", "r---", "----"]);
    assert_eq!(h.get1("Device.Test.", 0).err_code, 7026);
    let r = h.get1("Device.Test.Item.", 0);
    let paths: Vec<String> = shape(&r).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        paths,
        ["Device.Test.Item.1.", "Device.Test.Item.1.Stats.", "Device.Test.Item.1.Sub.1."]
    );
    assert_eq!(h.rows(ITEM), ["Device.Test.Item.1."]);
}

#[test]
fn get_instances_lists_readable_rows_and_keys_only() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.2.", ["rwxn", "rwxn", "----", "rwxn"]);
    restrict(&mut h, "3", "Device.Test.Item.*.Name", ["----", "rwxn", "rwxn", "rwxn"]);
    let gi = msg::GetInstances { obj_paths: vec![ITEM.into()], first_level_only: false };
    let RespType::GetInstancesResp(r) = h.response(ReqType::GetInstances(gi.clone())) else {
        panic!()
    };
    let insts = &r.req_path_results[0].curr_insts;
    let paths: Vec<&str> = insts.iter().map(|i| i.instantiated_obj_path.as_str()).collect();
    assert_eq!(paths, ["Device.Test.Item.1.", "Device.Test.Item.1.Sub.1."]);
    let keys: Vec<&String> = insts[0].unique_keys.keys().collect();
    assert_eq!(keys, ["Alias"], "Name may not be read");
    let gi = msg::GetInstances { obj_paths: vec!["Device.Test.Item.2.".into()], ..gi };
    let RespType::GetInstancesResp(r) = h.response(ReqType::GetInstances(gi)) else { panic!() };
    assert_eq!(r.req_path_results[0].err_code, 7016, "an unreadable row is absent");
}

#[test]
fn set_refuses_parameters_without_write_permission() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.*.Count", ["r---", "rwxn", "rwxn", "rwxn"]);
    restrict(&mut h, "3", "Device.Test.Item.*.Enabled", ["-w--", "rwxn", "rwxn", "rwxn"]);
    let item = "Device.Test.Item.1.";
    // Not required: the other parameters are still set, the refused one is reported.
    let count: &[(&str, &str, bool)] = &[("Count", "7", false), ("Name", "one", false)];
    let enabled: &[(&str, &str, bool)] = &[("Enabled", "true", false)];
    let r = set_results(&mut h, set_req(true, &[(item, count), (item, enabled)]));
    let SetStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    let errs = &ok.updated_inst_results[0].param_errs;
    assert_eq!((errs[0].param.as_str(), errs[0].err_code), ("Count", 7006));
    let updated: Vec<&String> = ok.updated_inst_results[0].updated_params.keys().collect();
    assert_eq!(updated, ["Name"]);
    let SetStatus::OperSuccess(ok) = &r[1].1 else { panic!("{r:?}") };
    assert!(ok.updated_inst_results[0].updated_params.is_empty(), "Enabled may not be read");
    assert_eq!(h.value("Device.Test.Item.1.Count").as_deref(), Some("1"));
    // Required, with allow_partial: that object fails with 7006, the others go on.
    let denied: &[(&str, &str, bool)] = &[("Count", "8", true)];
    let fine: &[(&str, &str, bool)] = &[("Name", "renamed", true)];
    let r = set_results(&mut h, set_req(true, &[(item, denied), ("Device.Test.Item.2.", fine)]));
    let SetStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(f.err_code, 7006);
    assert_eq!(f.updated_inst_failures[0].param_errs[0].err_code, 7006);
    assert!(matches!(r[1].1, SetStatus::OperSuccess(_)));
    assert_eq!(h.value("Device.Test.Item.2.Name").as_deref(), Some("renamed"));
}

#[test]
fn add_and_delete_follow_obj_and_instantiated_obj_write() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.1.Sub.", ["rwxn", "r---", "r---", "rwxn"]);
    let r = add_results(&mut h, add_req(true, &[("Device.Test.Item.1.Sub.", &[])]));
    let AddStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(f.err_code, 7006);
    let r = add_results(&mut h, add_req(true, &[("Device.Test.Item.2.Sub.", &[])]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)), "{r:?}");
    let e = h.error(del_req(false, &["Device.Test.Item.1.Sub.1."]));
    assert_eq!(e.err_code, 7006);
    // A search path: the refused row is reported, the others deleted.
    let r = del_results(&mut h, del_req(true, &["Device.Test.Item.*.Sub.*."]));
    let DelStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.affected_paths, ["Device.Test.Item.2.Sub.1."]);
    let unaffected = &ok.unaffected_path_errs;
    assert_eq!(unaffected.len(), 1);
    assert_eq!(
        (unaffected[0].unaffected_path.as_str(), unaffected[0].err_code),
        ("Device.Test.Item.1.Sub.1.", 7006)
    );
    // Deleting a row above the protected one is the row's own permission.
    let r = del_results(&mut h, del_req(false, &["Device.Test.Item.1."]));
    assert!(matches!(r[0].1, DelStatus::OperSuccess(_)), "{r:?}");
}

#[test]
fn add_checks_parameters_for_a_row_not_yet_numbered() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.*.Count", ["r---", "rwxn", "rwxn", "rwxn"]);
    // A Permission on one instance number does not apply to a row being created.
    restrict(&mut h, "3", "Device.Test.Item.3.Enabled", ["r---", "rwxn", "rwxn", "rwxn"]);
    let settings = [("Name", "c", true), ("Enabled", "true", true), ("Count", "3", false)];
    let r = add_results(&mut h, add_req(false, &[(ITEM, &settings)]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.instantiated_path, "Device.Test.Item.3.");
    assert_eq!((ok.param_errs[0].param.as_str(), ok.param_errs[0].err_code), ("Count", 7006));
    assert_eq!(h.value("Device.Test.Item.3.Enabled").as_deref(), Some("true"));
    // A unique key without write permission fails the object.
    restrict(&mut h, "4", "Device.Test.Item.*.Name", ["r---", "rwxn", "rwxn", "rwxn"]);
    let e = h.error(add_req(false, &[(ITEM, &[("Name", "d", false)])]));
    assert_eq!(e.err_code, 7006);
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Item.Name");
}

fn operate(command: &str) -> ReqType {
    ReqType::Operate(Operate {
        command: command.into(),
        command_key: "k".into(),
        send_resp: true,
        input_args: [("Level".to_owned(), "1".to_owned())].into(),
    })
}

#[test]
fn operate_refuses_commands_without_execute_permission() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.1.", ["rwxn", "rwxn", "rwxn", "r--n"]);
    let RespType::OperateResp(r) = h.response(operate("Device.Test.Item.*.Reset()")) else {
        panic!()
    };
    let results: Vec<(&str, bool)> = r
        .operation_results
        .iter()
        .map(|o| {
            let refused = matches!(&o.operation_resp,
                Some(OperationResp::CmdFailure(f)) if f.err_code == 7006);
            (o.executed_command.as_str(), refused)
        })
        .collect();
    assert_eq!(
        results,
        [("Device.Test.Item.1.Reset()", true), ("Device.Test.Item.2.Reset()", false)]
    );
    // An asynchronous command refused creates no Request row.
    let RespType::OperateResp(r) = h.response(operate("Device.Test.Item.1.Run()")) else {
        panic!()
    };
    assert!(matches!(&r.operation_results[0].operation_resp, Some(OperationResp::CmdFailure(_))));
    assert_eq!(h.rows("Device.LocalAgent.Request."), Vec::<String>::new());
}

#[test]
fn notifications_need_the_notify_permission() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "vc", "ValueChange", "Device.Test.Item.*.Count", &[]);
    subscribe(&mut h, "oc", "ObjectCreation", ITEM, &[]);
    subscribe(&mut h, "od", "ObjectDeletion", ITEM, &[]);
    subscribe(&mut h, "ev", "Event", "Device.Test.Ping!", &[]);
    subscribe(&mut h, "done", "OperationComplete", "Device.Test.Item.*.Run()", &[]);
    restrict(&mut h, "2", "Device.Test.", ["rw--", "rw--", "rw--", "r-x-"]);
    restrict(&mut h, "3", "Device.Test.Item.2.", ["rwxn", "rwxn", "rwxn", "rwxn"]);
    let ids = |out: &[crate::Outgoing]| -> Vec<String> {
        notifies(out).into_iter().map(|s| s.notify.subscription_id).collect()
    };
    assert_eq!(ids(&set(&mut h, "Device.Test.Item.1.", "Count", "9")), Vec::<String>::new());
    assert_eq!(ids(&set(&mut h, "Device.Test.Item.2.", "Count", "9")), ["vc"]);
    // Level 99 fires Device.Test.Ping!, whose CommandEvent has no n.
    let ReqType::Operate(mut op) = operate("Device.Test.Item.2.Reset()") else { panic!() };
    op.input_args.insert("Level".into(), "99".into());
    let msg = Msg::request("ping", ReqType::Operate(op));
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, CTRL, &msg));
    assert_eq!(out.len(), 1, "the OperateResp only: {out:?}");
    let r = add_results(&mut h, add_req(false, &[(ITEM, &[("Name", "new", true)])]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)));
    h.advance(0);
    let out = h.record(&Record::no_session_context_msg(
        "1.4",
        AGENT,
        CTRL,
        &Msg::request("del", del_req(false, &["Device.Test.Item.3.", "Device.Test.Item.2."])),
    ));
    assert_eq!(ids(&out), ["od"], "only the row with InstantiatedObj n");
    // OperationComplete: row 1 may run Run() but not hear of its end.
    let RespType::OperateResp(_) = h.response(operate("Device.Test.Item.1.Run()")) else {
        panic!()
    };
    let (_, out) = h.advance_to_timer(10);
    assert_eq!(ids(&out), Vec::<String>::new());
}

#[test]
fn object_creation_is_notified_with_obj_notify() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "oc", "ObjectCreation", "Device.Test.Item.1.Sub.", &[]);
    subscribe(&mut h, "oc2", "ObjectCreation", "Device.Test.Item.2.Sub.", &[]);
    restrict(&mut h, "2", "Device.Test.Item.*.Sub.", ["rwxn", "rw--", "rwxn", "rwxn"]);
    restrict(&mut h, "3", "Device.Test.Item.2.Sub.", ["rwxn", "rwxn", "rwxn", "rwxn"]);
    let req = add_req(false, &[("Device.Test.Item.*.Sub.", &[])]);
    let out =
        h.record(&Record::no_session_context_msg("1.4", AGENT, CTRL, &Msg::request("a", req)));
    let ids: Vec<String> = notifies(&out).into_iter().map(|s| s.notify.subscription_id).collect();
    assert_eq!(ids, ["oc2"]);
    let n = notifies(&out);
    let Notification::ObjCreation(c) = n[0].notification() else { panic!("{n:?}") };
    assert_eq!(c.obj_path, "Device.Test.Item.2.Sub.1.");
}

#[test]
fn gsdm_reports_what_the_controller_may_do() {
    let mut h = Harness::builtin();
    restrict(&mut h, "2", "Device.Test.Item.", ["r---", "r---", "rw--", "----"]);
    restrict(&mut h, "3", "Device.Test.Item.*.Count", ["rw--", "rwxn", "rwxn", "rwxn"]);
    restrict(&mut h, "4", "Device.Test.Item.*.Status", ["----", "rwxn", "rwxn", "rwxn"]);
    restrict(&mut h, "5", "Device.Test.Item.*.Sub.", ["rwxn", "----", "rwxn", "rwxn"]);
    let req = msg::GetSupportedDm {
        obj_paths: vec!["Device.Test.".into()],
        first_level_only: false,
        return_commands: true,
        return_events: true,
        return_params: true,
        return_unique_key_sets: true,
    };
    let RespType::GetSupportedDmResp(r) = h.response(ReqType::GetSupportedDm(req.clone())) else {
        panic!()
    };
    let objs = &r.req_obj_results[0].supported_objs;
    let item = objs.iter().find(|o| o.supported_obj_path == "Device.Test.Item.{i}.").unwrap();
    assert_eq!(item.access, ObjAccessType::ObjDeleteOnly as i32);
    let params: Vec<(&str, i32)> =
        item.supported_params.iter().map(|p| (p.param_name.as_str(), p.access)).collect();
    assert!(params.contains(&("Count", ParamAccessType::ParamReadWrite as i32)), "{params:?}");
    assert!(params.contains(&("Name", ParamAccessType::ParamReadOnly as i32)), "{params:?}");
    assert!(!params.iter().any(|(n, _)| *n == "Status"), "{params:?}");
    assert!(item.supported_commands.is_empty(), "CommandEvent ----");
    assert!(
        !objs.iter().any(|o| o.supported_obj_path == "Device.Test.Item.{i}.Sub.{i}."),
        "no Obj read on Sub"
    );
    let test = objs.iter().find(|o| o.supported_obj_path == "Device.Test.").unwrap();
    assert_eq!(test.supported_events.len(), 1, "Device.Test. keeps the full access");
    // Asked directly, what it may not read is not in the supported model.
    let status =
        msg::GetSupportedDm { obj_paths: vec!["Device.Test.Item.{i}.Status".into()], ..req };
    let RespType::GetSupportedDmResp(r) = h.response(ReqType::GetSupportedDm(status)) else {
        panic!()
    };
    assert_eq!(r.req_obj_results[0].err_code, 7026);
}

#[test]
fn a_controller_without_a_role_gets_the_untrusted_role_or_full_access_as_with_obuspa() {
    let mut h = Harness::builtin();
    const OTHER: &str = "self::other";
    h.default("Device.LocalAgent.Controller.2.EndpointID", OTHER);
    h.default("Device.LocalAgent.Controller.2.Enable", "true");
    h.advance(0);
    // No role and no UntrustedRole: full access (obuspa's ROLE_DEFAULT), so an obuspa reset
    // file without AssignedRole keeps working.
    let reply = ask_as(&mut h, OTHER, get(&["Device.Test.Label", "Device.Test.Item.*.Name"]));
    let RespType::GetResp(r) = response(reply) else { panic!() };
    assert_eq!(r.req_path_results[0].err_code, 0);
    assert_eq!(r.req_path_results[0].resolved_path_results.len(), 1);
    // A reader role as the UntrustedRole.
    let role = [("Enable", "true", false), ("Name", "Reader", false)];
    let r =
        add_results(&mut h, add_req(false, &[("Device.LocalAgent.ControllerTrust.Role.", &role)]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)));
    let perm = [
        ("Enable", "true", false),
        ("Targets", "Device.Test.", false),
        ("Param", "r---", false),
        ("Obj", "r---", false),
    ];
    let table = "Device.LocalAgent.ControllerTrust.Role.2.Permission.";
    assert!(matches!(
        add_results(&mut h, add_req(false, &[(table, &perm)]))[0].1,
        AddStatus::OperSuccess(_)
    ));
    let trust = "Device.LocalAgent.ControllerTrust.";
    let untrusted = [("UntrustedRole", "Device.LocalAgent.ControllerTrust.Role.2", true)];
    assert!(matches!(
        set_results(&mut h, set_req(false, &[(trust, &untrusted)]))[0].1,
        SetStatus::OperSuccess(_)
    ));
    let reply = ask_as(&mut h, OTHER, get(&["Device.Test.Label"]));
    let RespType::GetResp(r) = response(reply) else { panic!() };
    assert_eq!(r.req_path_results[0].err_code, 0);
    let set_label = set_req(false, &[("Device.Test.", &[("Label", "x", true)])]);
    let e = error(ask_as(&mut h, OTHER, set_label));
    assert_eq!(e.err_code, 7006);
    // The test controller keeps its Full Access role, and the agent's own CLI is never limited.
    restrict(&mut h, "2", "Device.Test.", ["----"; 4]);
    let (resp, _) = h.core.handle_local(h.now, get(&["Device.Test.Label"]));
    let RespType::GetResp(r) = response(resp) else { panic!() };
    assert_eq!(r.req_path_results[0].err_code, 0);
    assert_eq!(h.get1("Device.Test.Label", 0).err_code, 7026);
}
