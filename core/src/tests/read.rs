//! Get, GetSupportedDM, GetInstances and GetSupportedProtocol.

use std::collections::BTreeMap;

use usp_proto::msg::get_supported_dm_resp::{
    CmdType, ObjAccessType, ParamAccessType, ParamValueType, RequestedObjectResult,
    SupportedObjectResult, ValueChangeType,
};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self};

use super::harness::*;

fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn resolved(r: &msg::get_resp::RequestedPathResult) -> Vec<&str> {
    r.resolved_path_results.iter().map(|p| p.resolved_path.as_str()).collect()
}

#[test]
fn tp469_1_36_get_single_param() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.1.Name", 0);
    assert_eq!(r.err_code, 0);
    assert_eq!(r.requested_path, "Device.Test.Item.1.Name");
    assert_eq!(resolved(&r), ["Device.Test.Item.1."]);
    assert_eq!(r.resolved_path_results[0].result_params, params(&[("Name", "a")]));
}

#[test]
fn tp469_1_37_get_several_params_one_result_each() {
    let mut h = Harness::new();
    let get = msg::Get {
        param_paths: vec!["Device.Test.Item.1.Name".into(), "Device.Test.Item.2.Count".into()],
        max_depth: 0,
    };
    let RespType::GetResp(r) = h.response(ReqType::Get(get)) else { panic!() };
    assert_eq!(r.req_path_results.len(), 2);
    assert_eq!(
        r.req_path_results[1].resolved_path_results[0].result_params,
        params(&[("Count", "2")])
    );
}

#[test]
fn tp469_1_39_get_object_instance_lists_each_sub_object() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.1.", 0);
    assert_eq!(r.err_code, 0);
    assert_eq!(
        resolved(&r),
        ["Device.Test.Item.1.", "Device.Test.Item.1.Stats.", "Device.Test.Item.1.Sub.1."]
    );
    let item = &r.resolved_path_results[0].result_params;
    assert_eq!(item.get("Name").map(String::as_str), Some("a"));
    assert_eq!(item.get("Alias").map(String::as_str), Some("cpe-1"));
    assert_eq!(item.get("Status").map(String::as_str), Some("Up"), "live value");
    assert_eq!(item.get("SubNumberOfEntries").map(String::as_str), Some("1"));
    assert!(!item.contains_key("Hits"), "sub-object parameters are relative to their own object");
    assert_eq!(r.resolved_path_results[1].result_params, params(&[("Hits", "0")]));
    assert_eq!(
        r.resolved_path_results[2].result_params,
        params(&[("Alias", "cpe-1"), ("Value", "5")])
    );
}

#[test]
fn tp469_1_38_get_table_object_lists_rows() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.", 1);
    assert_eq!(resolved(&r), ["Device.Test.Item.1.", "Device.Test.Item.2."]);
}

#[test]
fn tp469_1_41_get_invalid_param() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.InvalidParameter", 0);
    assert_eq!(r.err_code, 7026);
    assert!(r.resolved_path_results.is_empty());
}

#[test]
fn tp469_1_42_get_invalid_and_valid_param() {
    let mut h = Harness::new();
    let get = msg::Get {
        param_paths: vec!["Device.Test.Nope".into(), "Device.Test.Label".into()],
        max_depth: 0,
    };
    let RespType::GetResp(r) = h.response(ReqType::Get(get)) else { panic!() };
    assert_eq!(r.req_path_results[0].err_code, 7026);
    assert_eq!(r.req_path_results[1].err_code, 0);
    assert_eq!(
        r.req_path_results[1].resolved_path_results[0].result_params,
        params(&[("Label", "")])
    );
}

#[test]
fn get_missing_instance_is_7026() {
    // R-GET.0: a non-search path that matches nothing in the instantiated model.
    let mut h = Harness::new();
    assert_eq!(h.get1("Device.Test.Item.99.", 0).err_code, 7026);
    assert_eq!(h.get1("Device.Test.Item.99.Name", 0).err_code, 7026);
}

#[test]
fn get_bad_syntax_is_7008() {
    let mut h = Harness::new();
    assert_eq!(h.get1("Device..Test.", 0).err_code, 7008);
    assert_eq!(h.get1("Device.Test.Item.{i}.", 0).err_code, 7008);
}

#[test]
fn get_command_path_is_7026() {
    let mut h = Harness::new();
    assert_eq!(h.get1("Device.Test.Item.1.Reset()", 0).err_code, 7026);
}

#[test]
fn tp469_1_43_get_by_unique_key() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.[Name==\"b\"].Count", 0);
    assert_eq!(resolved(&r), ["Device.Test.Item.2."]);
    assert_eq!(r.resolved_path_results[0].result_params, params(&[("Count", "2")]));
}

#[test]
fn tp469_1_44_get_wildcard_param() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.*.Name", 0);
    assert_eq!(resolved(&r), ["Device.Test.Item.1.", "Device.Test.Item.2."]);
    assert_eq!(r.resolved_path_results[1].result_params, params(&[("Name", "b")]));
}

#[test]
fn tp469_1_48_get_search_greater_than() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.[Count>1].Name", 0);
    assert_eq!(resolved(&r), ["Device.Test.Item.2."]);
}

#[test]
fn tp469_1_82_get_unmatched_search_is_empty_success() {
    let mut h = Harness::new();
    let r = h.get1("Device.Test.Item.[Count>50].", 0);
    assert_eq!(r.err_code, 0);
    assert!(r.resolved_path_results.is_empty());
}

#[test]
fn tp469_1_89_get_max_depth() {
    let mut h = Harness::new();
    assert_eq!(resolved(&h.get1("Device.Test.", 1)), ["Device.Test."]);
    assert_eq!(
        resolved(&h.get1("Device.Test.", 2)),
        ["Device.Test.", "Device.Test.Item.1.", "Device.Test.Item.2.", "Device.Test.Fixed.1."]
    );
    assert_eq!(resolved(&h.get1("Device.Test.", 0)).len(), 7);
    assert_eq!(resolved(&h.get1("Device.LocalAgent.", 1)), ["Device.LocalAgent."]);
}

#[test]
fn get_live_value_follows_the_clock() {
    let mut h = Harness::new();
    assert_eq!(h.value("Device.Test.UpTime").as_deref(), Some("100"));
    h.advance(25);
    assert_eq!(h.value("Device.Test.UpTime").as_deref(), Some("125"));
}

fn gsdm(h: &mut Harness, path: &str, first_level_only: bool, all: bool) -> RequestedObjectResult {
    let req = msg::GetSupportedDm {
        obj_paths: vec![path.into()],
        first_level_only,
        return_commands: all,
        return_events: all,
        return_params: all,
        return_unique_key_sets: all,
    };
    let RespType::GetSupportedDmResp(mut r) = h.response(ReqType::GetSupportedDm(req)) else {
        panic!()
    };
    r.req_obj_results.remove(0)
}

fn obj_paths(r: &RequestedObjectResult) -> Vec<&str> {
    r.supported_objs.iter().map(|o| o.supported_obj_path.as_str()).collect()
}

fn find<'a>(r: &'a RequestedObjectResult, path: &str) -> &'a SupportedObjectResult {
    r.supported_objs.iter().find(|o| o.supported_obj_path == path).unwrap()
}

#[test]
fn tp469_1_72_gsdm_single_object_with_everything() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Item.", false, true);
    assert_eq!(r.err_code, 0);
    assert_eq!(r.data_model_inst_uri, "urn:broadband-forum-org:tr-181-2-19-1");
    assert_eq!(
        obj_paths(&r),
        ["Device.Test.Item.{i}.", "Device.Test.Item.{i}.Stats.", "Device.Test.Item.{i}.Sub.{i}."]
    );
    let item = find(&r, "Device.Test.Item.{i}.");
    assert!(item.is_multi_instance);
    assert_eq!(item.access, ObjAccessType::ObjAddDelete as i32);
    let p = |n: &str| item.supported_params.iter().find(|p| p.param_name == n).unwrap();
    assert_eq!(p("Count").value_type, ParamValueType::ParamUnsignedInt as i32);
    assert_eq!(p("Count").access, ParamAccessType::ParamReadWrite as i32);
    assert_eq!(p("Enabled").value_type, ParamValueType::ParamBoolean as i32);
    assert_eq!(p("Status").access, ParamAccessType::ParamReadOnly as i32);
    assert_eq!(p("Serial").access, ParamAccessType::ParamReadWrite as i32, "writeOnceReadOnly");
    assert_eq!(p("Name").value_change, ValueChangeType::ValueChangeAllowed as i32);
    let cmds: Vec<_> = item.supported_commands.iter().map(|c| c.command_name.as_str()).collect();
    assert_eq!(cmds, ["Reset()", "Run()"]);
    let reset = &item.supported_commands[0];
    assert_eq!(reset.input_arg_names, ["Level", "Note"]);
    assert_eq!(reset.output_arg_names, ["Result"]);
    assert_eq!(reset.command_type, CmdType::CmdSync as i32);
    assert_eq!(item.supported_commands[1].command_type, CmdType::CmdAsync as i32);
    let keys: Vec<_> = item.unique_key_sets.iter().map(|k| k.key_names.clone()).collect();
    assert_eq!(keys, [vec!["Alias".to_string()], vec!["Name".to_string()]]);
    assert!(item.divergent_paths.is_empty());
    let stats = find(&r, "Device.Test.Item.{i}.Stats.");
    assert!(!stats.is_multi_instance);
    assert_eq!(stats.access, ObjAccessType::ObjReadOnly as i32);
}

#[test]
fn tp469_1_74_gsdm_first_level_only() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.", true, true);
    assert_eq!(obj_paths(&r), ["Device.Test.", "Device.Test.Item.{i}.", "Device.Test.Fixed.{i}."]);
    let test = find(&r, "Device.Test.");
    assert!(test.supported_params.iter().any(|p| p.param_name == "UpTime"));
    assert_eq!(test.supported_events[0].event_name, "Ping!");
    assert_eq!(test.supported_events[0].arg_names, ["Count"]);
    let item = find(&r, "Device.Test.Item.{i}.");
    assert!(item.supported_params.is_empty() && item.supported_commands.is_empty());
    assert_eq!(item.unique_key_sets.len(), 2, "children keep their unique key sets");
}

#[test]
fn tp469_1_75_gsdm_no_options() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Item.{i}.", false, false);
    assert_eq!(obj_paths(&r).len(), 3);
    assert!(r.supported_objs.iter().all(|o| o.supported_params.is_empty()
        && o.supported_commands.is_empty()
        && o.unique_key_sets.is_empty()));
}

#[test]
fn tp469_1_76_gsdm_root() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.", false, true);
    assert_eq!(r.supported_objs[0].supported_obj_path, "Device.");
    assert!(obj_paths(&r).contains(&"Device.LocalAgent.Subscription.{i}."));
}

#[test]
fn gsdm_path_forms_are_equivalent() {
    let mut h = Harness::new();
    let a = gsdm(&mut h, "Device.Test.Item.{i}.Sub.", false, true).supported_objs;
    let b = gsdm(&mut h, "Device.Test.Item.{i}.Sub.{i}.", false, true).supported_objs;
    let c = gsdm(&mut h, "Device.Test.Item.1.Sub.", false, true).supported_objs;
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a[0].supported_obj_path, "Device.Test.Item.{i}.Sub.{i}.");
    // An instance that does not exist; `{i}` followed by a number; a name after a table.
    assert_eq!(gsdm(&mut h, "Device.Test.Item.7.Sub.", false, true).err_code, 7016);
    assert_eq!(gsdm(&mut h, "Device.Test.Item.{i}.Sub.1.", false, true).err_code, 7026);
    assert_eq!(gsdm(&mut h, "Device.Test.Item.Sub.", false, true).err_code, 7026);
}

#[test]
fn tp469_1_77_gsdm_unsupported_object() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Nothing.", false, true);
    assert_eq!(r.err_code, 7026);
    assert!(r.supported_objs.is_empty());
    assert_eq!(gsdm(&mut h, "Device.Test.[", false, true).err_code, 7008);
}

#[test]
fn tp469_1_105_gsdm_command() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Item.{i}.Reset()", false, false);
    assert_eq!(obj_paths(&r), ["Device.Test.Item.{i}."]);
    let o = &r.supported_objs[0];
    assert_eq!(o.supported_commands.len(), 1);
    assert_eq!(o.supported_commands[0].command_name, "Reset()");
    assert!(
        o.supported_params.is_empty()
            && o.supported_events.is_empty()
            && o.unique_key_sets.is_empty()
    );
}

#[test]
fn tp469_1_106_gsdm_event() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Ping!", false, true);
    let o = &r.supported_objs[0];
    assert_eq!(o.supported_events.len(), 1);
    assert_eq!(o.supported_events[0].event_name, "Ping!");
    assert!(o.supported_params.is_empty() && o.supported_commands.is_empty());
}

#[test]
fn tp469_1_107_gsdm_param() {
    let mut h = Harness::new();
    let r = gsdm(&mut h, "Device.Test.Item.{i}.Count", false, true);
    let o = &r.supported_objs[0];
    assert_eq!(o.supported_obj_path, "Device.Test.Item.{i}.");
    let names: Vec<_> = o.supported_params.iter().map(|p| p.param_name.as_str()).collect();
    assert_eq!(names, ["Count"]);
    assert!(o.supported_commands.is_empty() && o.unique_key_sets.is_empty());
    assert_eq!(gsdm(&mut h, "Device.Test.Item.{i}.Nope", false, true).err_code, 7026);
}

fn instances(
    h: &mut Harness,
    path: &str,
    first: bool,
) -> msg::get_instances_resp::RequestedPathResult {
    let gi = msg::GetInstances { obj_paths: vec![path.into()], first_level_only: first };
    let RespType::GetInstancesResp(mut r) = h.response(ReqType::GetInstances(gi)) else { panic!() };
    r.req_path_results.remove(0)
}

#[test]
fn tp469_1_66_get_instances_first_level_only() {
    let mut h = Harness::new();
    let r = instances(&mut h, "Device.Test.Item.", true);
    assert_eq!(r.err_code, 0);
    let paths: Vec<_> = r.curr_insts.iter().map(|i| i.instantiated_obj_path.as_str()).collect();
    assert_eq!(paths, ["Device.Test.Item.1.", "Device.Test.Item.2."]);
    assert_eq!(r.curr_insts[1].unique_keys, params(&[("Alias", "cpe-2"), ("Name", "b")]));
}

#[test]
fn tp469_1_67_get_instances_all_levels() {
    let mut h = Harness::new();
    let r = instances(&mut h, "Device.Test.Item.", false);
    let paths: Vec<_> = r.curr_insts.iter().map(|i| i.instantiated_obj_path.as_str()).collect();
    assert_eq!(paths, ["Device.Test.Item.1.", "Device.Test.Item.1.Sub.1.", "Device.Test.Item.2."]);
}

#[test]
fn tp469_1_70_get_instances_wildcard() {
    let mut h = Harness::new();
    let r = instances(&mut h, "Device.Test.Item.*.Sub.", true);
    let paths: Vec<_> = r.curr_insts.iter().map(|i| i.instantiated_obj_path.as_str()).collect();
    assert_eq!(paths, ["Device.Test.Item.1.Sub.1."]);
}

#[test]
fn get_instances_of_a_single_instance_object_lists_the_tables_below_it() {
    let mut h = Harness::new();
    let paths = |r: &msg::get_instances_resp::RequestedPathResult| -> Vec<String> {
        assert_eq!(r.err_code, 0, "{}", r.err_msg);
        r.curr_insts.iter().map(|i| i.instantiated_obj_path.clone()).collect()
    };
    let first = paths(&instances(&mut h, "Device.Test.", true));
    assert_eq!(first, ["Device.Test.Item.1.", "Device.Test.Item.2.", "Device.Test.Fixed.1."]);
    let all = paths(&instances(&mut h, "Device.Test.", false));
    assert_eq!(
        all,
        [
            "Device.Test.Item.1.",
            "Device.Test.Item.1.Sub.1.",
            "Device.Test.Item.2.",
            "Device.Test.Fixed.1."
        ]
    );
    let root = paths(&instances(&mut h, "Device.", false));
    assert!(root.contains(&"Device.LocalAgent.Controller.1.".to_owned()), "{root:?}");
    assert!(root.contains(&"Device.Test.Item.1.Sub.1.".to_owned()), "{root:?}");
}

#[test]
fn tp469_1_83_get_instances_unmatched_search() {
    let mut h = Harness::new();
    let r = instances(&mut h, "Device.Test.Item.[Name==\"zz\"].Sub.", false);
    assert_eq!(r.err_code, 0);
    assert!(r.curr_insts.is_empty());
}

#[test]
fn get_instances_errors() {
    let mut h = Harness::new();
    assert_eq!(instances(&mut h, "Device.Test.Item.1.Stats.", true).err_code, 7018);
    assert_eq!(instances(&mut h, "Device.Test.Nope.", true).err_code, 7026);
    assert_eq!(instances(&mut h, "Device.Test.Item.9.", true).err_code, 7016);
    assert_eq!(instances(&mut h, "Device.Test.Item.1.Name", true).err_code, 7026);
    assert_eq!(instances(&mut h, "Device.Test.Item.{i}.", true).err_code, 7008);
}

#[test]
fn tp469_1_80_get_supported_protocol() {
    let mut h = Harness::new();
    let req = msg::GetSupportedProtocol { controller_supported_protocol_versions: "1.3".into() };
    let RespType::GetSupportedProtocolResp(r) = h.response(ReqType::GetSupportedProtocol(req))
    else {
        panic!()
    };
    assert_eq!(r.agent_supported_protocol_versions, "1.0,1.1,1.2,1.3,1.4");
}
