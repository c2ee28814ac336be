//! Set, Add and Delete: transactions, allow_partial, required parameters.

use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus as AddStatus;
use usp_proto::msg::delete_resp::deleted_object_result::operation_status::OperStatus as DelStatus;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;
use usp_proto::msg::{self, add, set};

use super::harness::*;

fn upd(path: &str, settings: &[(&str, &str, bool)]) -> set::UpdateObject {
    set::UpdateObject {
        obj_path: path.into(),
        param_settings: settings
            .iter()
            .map(|(p, v, r)| set::UpdateParamSetting {
                param: p.to_string(),
                value: v.to_string(),
                required: *r,
            })
            .collect(),
    }
}

fn set_req(allow_partial: bool, objs: Vec<set::UpdateObject>) -> ReqType {
    ReqType::Set(msg::Set { allow_partial, update_objs: objs })
}

fn set_statuses(h: &mut Harness, req: ReqType) -> Vec<SetStatus> {
    let RespType::SetResp(r) = h.response(req) else { panic!() };
    r.updated_obj_results.into_iter().map(|o| o.oper_status.unwrap().oper_status.unwrap()).collect()
}

fn create(path: &str, settings: &[(&str, &str, bool)]) -> add::CreateObject {
    add::CreateObject {
        obj_path: path.into(),
        param_settings: settings
            .iter()
            .map(|(p, v, r)| add::CreateParamSetting {
                param: p.to_string(),
                value: v.to_string(),
                required: *r,
            })
            .collect(),
    }
}

fn add_req(allow_partial: bool, objs: Vec<add::CreateObject>) -> ReqType {
    ReqType::Add(msg::Add { allow_partial, create_objs: objs })
}

fn add_statuses(h: &mut Harness, req: ReqType) -> Vec<(String, AddStatus)> {
    let RespType::AddResp(r) = h.response(req) else { panic!() };
    r.created_obj_results
        .into_iter()
        .map(|o| (o.requested_path, o.oper_status.unwrap().oper_status.unwrap()))
        .collect()
}

fn del_req(allow_partial: bool, paths: &[&str]) -> ReqType {
    ReqType::Delete(msg::Delete {
        allow_partial,
        obj_paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

fn del_statuses(h: &mut Harness, req: ReqType) -> Vec<DelStatus> {
    let RespType::DeleteResp(r) = h.response(req) else { panic!() };
    r.deleted_obj_results.into_iter().map(|o| o.oper_status.unwrap().oper_status.unwrap()).collect()
}

// ---- Set ----

#[test]
fn tp469_1_11_set_allow_partial_false_success() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(
            false,
            vec![upd("Device.Test.Item.1.", &[("Count", "7", true), ("Stats.Hits", "3", false)])],
        ),
    );
    let SetStatus::OperSuccess(s) = &st[0] else { panic!("{st:?}") };
    assert_eq!(s.updated_inst_results.len(), 1);
    let r = &s.updated_inst_results[0];
    assert_eq!(r.affected_path, "Device.Test.Item.1.");
    assert!(r.param_errs.is_empty());
    assert_eq!(r.updated_params.get("Count").map(String::as_str), Some("7"));
    assert_eq!(r.updated_params.get("Stats.Hits").map(String::as_str), Some("3"));
    assert_eq!(h.value("Device.Test.Item.1.Count").as_deref(), Some("7"));
    assert_eq!(h.value("Device.Test.Item.1.Stats.Hits").as_deref(), Some("3"));
    assert_eq!(h.store.value("Device.Test.Item.1.Count").as_deref(), Some("7"), "flushed");
}

#[test]
fn tp469_1_13_set_required_failure_is_error_and_changes_nothing() {
    let mut h = Harness::new();
    let e = h.error(set_req(
        false,
        vec![
            upd("Device.Test.Item.2.", &[("Count", "3", true)]),
            upd("Device.Test.Item.1.", &[("Name", "z", false), ("Count", "500", true)]),
        ],
    ));
    assert_eq!(e.err_code, 7021);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Item.1.Count");
    assert_eq!(e.param_errs[0].err_code, 7012);
    assert_eq!(
        h.value("Device.Test.Item.2.Count").as_deref(),
        Some("2"),
        "first object rolled back"
    );
    assert_eq!(h.value("Device.Test.Item.1.Name").as_deref(), Some("a"));
}

#[test]
fn tp469_1_15_set_non_required_failure_is_reported_in_success() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(
            false,
            vec![upd("Device.Test.Item.1.", &[("Name", "z", false), ("Count", "abc", false)])],
        ),
    );
    let SetStatus::OperSuccess(s) = &st[0] else { panic!() };
    let r = &s.updated_inst_results[0];
    assert_eq!(r.param_errs.len(), 1);
    assert_eq!((r.param_errs[0].param.as_str(), r.param_errs[0].err_code), ("Count", 7011));
    assert_eq!(r.updated_params.keys().collect::<Vec<_>>(), ["Name"]);
    assert_eq!(h.value("Device.Test.Item.1.Name").as_deref(), Some("z"));
}

#[test]
fn tp469_1_16_set_allow_partial_true_one_object_fails() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(
            true,
            vec![
                upd("Device.Test.Item.1.", &[("Count", "9", true)]),
                upd("Device.Test.Item.2.", &[("Enabled", "maybe", true)]),
                upd("Device.Test.Item.42.", &[("Count", "1", true)]),
            ],
        ),
    );
    assert!(matches!(st[0], SetStatus::OperSuccess(_)));
    let SetStatus::OperFailure(f) = &st[1] else { panic!() };
    assert_eq!(f.err_code, 7021);
    assert_eq!(f.updated_inst_failures[0].affected_path, "Device.Test.Item.2.");
    assert_eq!(f.updated_inst_failures[0].param_errs[0].param, "Enabled");
    assert_eq!(f.updated_inst_failures[0].param_errs[0].err_code, 7011);
    let SetStatus::OperFailure(f) = &st[2] else { panic!() };
    assert_eq!(f.err_code, 7016);
    assert_eq!(h.value("Device.Test.Item.1.Count").as_deref(), Some("9"));
}

#[test]
fn tp469_1_18_set_by_unique_key() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(false, vec![upd("Device.Test.Item.[Name==\"b\"].", &[("Count", "50", true)])]),
    );
    let SetStatus::OperSuccess(s) = &st[0] else { panic!() };
    assert_eq!(s.updated_inst_results[0].affected_path, "Device.Test.Item.2.");
}

#[test]
fn tp469_1_19_set_wildcard_success() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(false, vec![upd("Device.Test.Item.*.", &[("Enabled", "true", true)])]),
    );
    let SetStatus::OperSuccess(s) = &st[0] else { panic!() };
    assert_eq!(s.updated_inst_results.len(), 2);
    assert_eq!(h.value("Device.Test.Item.2.Enabled").as_deref(), Some("true"));
}

#[test]
fn tp469_1_20_set_wildcard_required_failure_is_error() {
    let mut h = Harness::new();
    let e = h.error(set_req(
        false,
        vec![upd("Device.Test.Item.*.", &[("InvalidParameter", "x", true)])],
    ));
    assert_eq!(e.err_code, 7021);
    let paths: Vec<_> = e.param_errs.iter().map(|p| (p.param_path.as_str(), p.err_code)).collect();
    assert_eq!(
        paths,
        [
            ("Device.Test.Item.1.InvalidParameter", 7010),
            ("Device.Test.Item.2.InvalidParameter", 7010)
        ]
    );
}

#[test]
fn tp469_1_21_set_wildcard_allow_partial_true_fails_holistically() {
    let mut h = Harness::new();
    // Item 1 would succeed, item 2 fails: the whole obj_path fails and item 1 is unchanged.
    let st = set_statuses(
        &mut h,
        set_req(true, vec![upd("Device.Test.Item.*.", &[("Name", "a", true)])]),
    );
    let SetStatus::OperFailure(f) = &st[0] else { panic!("{st:?}") };
    assert_eq!(f.err_code, 7025);
    assert_eq!(f.updated_inst_failures.len(), 1);
    assert_eq!(f.updated_inst_failures[0].affected_path, "Device.Test.Item.2.");
    let st = set_statuses(
        &mut h,
        set_req(
            true,
            vec![upd("Device.Test.Item.*.", &[("Count", "1", false), ("Enabled", "bad", true)])],
        ),
    );
    let SetStatus::OperFailure(f) = &st[0] else { panic!() };
    assert_eq!(f.err_code, 7021);
    assert_eq!(f.updated_inst_failures.len(), 2);
    assert_eq!(h.value("Device.Test.Item.2.Count").as_deref(), Some("2"));
}

#[test]
fn tp469_1_23_set_path_matching_nothing_is_empty_success() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(false, vec![upd("Device.Test.Item.[Count>90].", &[("Count", "1", true)])]),
    );
    let SetStatus::OperSuccess(s) = &st[0] else { panic!() };
    assert!(s.updated_inst_results.is_empty());
}

#[test]
fn tp469_1_96_set_on_immutable_key_is_error() {
    let mut h = Harness::new();
    let e = h.error(set_req(false, vec![upd("Device.Test.Item.1.", &[("Alias", "other", true)])]));
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Item.1.Alias");
    assert_eq!(e.param_errs[0].err_code, 7013);
    assert_eq!(h.value("Device.Test.Item.1.Alias").as_deref(), Some("cpe-1"));
}

#[test]
fn tp469_1_104_set_on_write_once_param_is_error() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(false, vec![create("Device.Test.Item.", &[("Serial", "S1", true)])]),
    );
    let AddStatus::OperSuccess(s) = &st[0].1 else { panic!() };
    let inst = s.instantiated_path.clone();
    let e = h.error(set_req(false, vec![upd(&inst, &[("Serial", "S2", true)])]));
    assert_eq!(e.param_errs[0].err_code, 7013);
    assert_eq!(h.value(&format!("{inst}Serial")).as_deref(), Some("S1"));
}

#[test]
fn set_errors_per_path() {
    let mut h = Harness::new();
    let st = set_statuses(
        &mut h,
        set_req(
            true,
            vec![
                upd("Device.Test.Item.", &[("Count", "1", true)]),
                upd("Device.Test.Item.1.Count", &[("Count", "1", true)]),
                upd("Device.Nope.", &[("Count", "1", true)]),
                upd("Device.Test.Item.1..", &[("Count", "1", true)]),
            ],
        ),
    );
    let codes: Vec<u32> = st
        .iter()
        .map(|s| match s {
            SetStatus::OperFailure(f) => f.err_code,
            _ => 0,
        })
        .collect();
    assert_eq!(codes, [7026, 7026, 7026, 7008]);
}

// ---- Add ----

#[test]
fn tp469_1_1_add_allow_partial_false_single() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(
            false,
            vec![create("Device.Test.Item.", &[("Name", "c", true), ("Count", "3", true)])],
        ),
    );
    assert_eq!(st.len(), 1);
    assert_eq!(st[0].0, "Device.Test.Item.");
    let AddStatus::OperSuccess(s) = &st[0].1 else { panic!() };
    assert_eq!(s.instantiated_path, "Device.Test.Item.3.");
    assert!(s.param_errs.is_empty());
    let keys: Vec<_> = s.unique_keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(keys, [("Alias", "cpe-3"), ("Name", "c")]);
    assert_eq!(h.value("Device.Test.Item.3.Count").as_deref(), Some("3"));
    assert!(h.store.has_row("Device.Test.Item.3."), "flushed");
}

#[test]
fn tp469_1_3_add_required_failure_is_error_and_creates_nothing() {
    let mut h = Harness::new();
    let e = h.error(add_req(
        false,
        vec![create(
            "Device.Test.Item.",
            &[("Enabled", "InvalidValue", true), ("Name", "c", false)],
        )],
    ));
    assert_eq!(e.err_code, 7021);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Item.Enabled");
    assert_eq!(e.param_errs[0].err_code, 7011);
    assert_eq!(h.rows("Device.Test.Item."), ["Device.Test.Item.1.", "Device.Test.Item.2."]);
}

#[test]
fn tp469_1_5_add_allow_partial_true_multiple_one_fails() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(
            true,
            vec![
                create("Device.Test.Item.", &[("Name", "c", true)]),
                create("Device.Test.Item.", &[("Count", "1000", true)]),
                create("Device.Test.Nope.", &[]),
            ],
        ),
    );
    assert!(matches!(st[0].1, AddStatus::OperSuccess(_)));
    let AddStatus::OperFailure(f) = &st[1].1 else { panic!() };
    assert_eq!(f.err_code, 7021);
    let AddStatus::OperFailure(f) = &st[2].1 else { panic!() };
    assert_eq!(f.err_code, 7026);
    assert_eq!(h.rows("Device.Test.Item.").len(), 3);
}

#[test]
fn tp469_1_4_add_allow_partial_false_invalid_object() {
    let mut h = Harness::new();
    let e = h.error(add_req(
        false,
        vec![
            create("Device.Test.Item.", &[("Name", "c", true)]),
            create("Device.Test.Invalid.", &[]),
        ],
    ));
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Invalid.");
    assert_eq!(h.rows("Device.Test.Item.").len(), 2, "the first Add was undone");
}

#[test]
fn add_non_required_failure_is_reported_in_success() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(
            false,
            vec![create("Device.Test.Item.", &[("Count", "x", false), ("Bogus", "1", false)])],
        ),
    );
    let AddStatus::OperSuccess(s) = &st[0].1 else { panic!() };
    let errs: Vec<_> = s.param_errs.iter().map(|p| (p.param.as_str(), p.err_code)).collect();
    assert_eq!(errs, [("Count", 7011), ("Bogus", 7010)]);
}

#[test]
fn tp469_1_81_add_assigns_distinct_unique_keys() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(
            false,
            vec![
                create("Device.LocalAgent.Subscription.", &[("Enable", "true", false)]),
                create("Device.LocalAgent.Subscription.", &[("Enable", "true", false)]),
            ],
        ),
    );
    let keys: Vec<_> = st
        .iter()
        .map(|(_, s)| match s {
            AddStatus::OperSuccess(s) => s.unique_keys.clone(),
            _ => panic!(),
        })
        .collect();
    assert_eq!(keys[0].len(), 2);
    assert!(!keys[0]["ID"].is_empty() && !keys[0]["Alias"].is_empty());
    assert_ne!(keys[0]["ID"], keys[1]["ID"]);
    assert_ne!(keys[0]["Alias"], keys[1]["Alias"]);
}

#[test]
fn tp469_1_88_add_with_invalid_unique_key_fails() {
    let mut h = Harness::new();
    // Not marked required, but a unique key counts as required.
    let e = h.error(add_req(false, vec![create("Device.Test.Item.", &[("Alias", "1abc", false)])]));
    assert_eq!(e.param_errs[0].param_path, "Device.Test.Item.Alias");
    assert_eq!(e.param_errs[0].err_code, 7012);
}

#[test]
fn add_duplicate_unique_key_is_7025() {
    let mut h = Harness::new();
    let e = h.error(add_req(false, vec![create("Device.Test.Item.", &[("Name", "a", true)])]));
    assert_eq!(e.err_code, 7025);
}

#[test]
fn tp469_1_95_add_with_search_path() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(false, vec![create("Device.Test.Item.*.Sub.", &[("Value", "-4", true)])]),
    );
    let paths: Vec<_> = st
        .iter()
        .map(|(req, s)| match s {
            AddStatus::OperSuccess(s) => (req.as_str(), s.instantiated_path.as_str()),
            _ => panic!(),
        })
        .collect();
    assert_eq!(
        paths,
        [
            ("Device.Test.Item.*.Sub.", "Device.Test.Item.1.Sub.2."),
            ("Device.Test.Item.*.Sub.", "Device.Test.Item.2.Sub.1.")
        ]
    );
    // Matching nothing: one empty success.
    let st =
        add_statuses(&mut h, add_req(false, vec![create("Device.Test.Item.[Count>99].Sub.", &[])]));
    assert_eq!(st.len(), 1);
    assert!(matches!(&st[0].1, AddStatus::OperSuccess(s) if s.instantiated_path.is_empty()));
}

#[test]
fn add_not_a_table_or_not_creatable() {
    let mut h = Harness::new();
    let st = add_statuses(
        &mut h,
        add_req(
            true,
            vec![
                create("Device.Test.", &[]),
                create("Device.Test.Item.1.", &[]),
                create("Device.Test.Fixed.", &[]),
            ],
        ),
    );
    let codes: Vec<u32> = st
        .iter()
        .map(|(_, s)| match s {
            AddStatus::OperFailure(f) => f.err_code,
            _ => 0,
        })
        .collect();
    assert_eq!(codes, [7018, 7018, 7019]);
}

// ---- Delete ----

#[test]
fn tp469_1_24_delete_valid_instance() {
    let mut h = Harness::new();
    let st = del_statuses(&mut h, del_req(false, &["Device.Test.Item.1."]));
    let DelStatus::OperSuccess(s) = &st[0] else { panic!() };
    assert_eq!(s.affected_paths, ["Device.Test.Item.1."]);
    assert!(s.unaffected_path_errs.is_empty());
    assert_eq!(h.rows("Device.Test.Item."), ["Device.Test.Item.2."]);
    assert!(!h.store.has_row("Device.Test.Item.1."));
}

#[test]
fn tp469_1_25_delete_nonexistent_instance_is_empty_success() {
    let mut h = Harness::new();
    let st = del_statuses(&mut h, del_req(false, &["Device.Test.Item.77."]));
    assert_eq!(st, [DelStatus::OperSuccess(Default::default())]);
}

#[test]
fn tp469_1_26_delete_invalid_object_is_error() {
    let mut h = Harness::new();
    let e = h.error(del_req(false, &["Device.Test.Item.1.", "Device.Test.InvalidObject."]));
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.Test.InvalidObject.");
    assert_eq!(h.rows("Device.Test.Item.").len(), 2, "nothing deleted");
}

#[test]
fn tp469_1_30_delete_invalid_object_allow_partial_true() {
    let mut h = Harness::new();
    let st = del_statuses(
        &mut h,
        del_req(
            true,
            &["Device.Test.InvalidObject.", "Device.Test.Item.2.", "Device.Test.Item.9."],
        ),
    );
    let DelStatus::OperFailure(f) = &st[0] else { panic!() };
    assert_eq!(f.err_code, 7026);
    assert!(
        matches!(&st[1], DelStatus::OperSuccess(s) if s.affected_paths == ["Device.Test.Item.2."])
    );
    assert_eq!(st[2], DelStatus::OperSuccess(Default::default()));
}

#[test]
fn tp469_1_34_delete_wildcard() {
    let mut h = Harness::new();
    let st = del_statuses(&mut h, del_req(false, &["Device.Test.Item.*."]));
    let DelStatus::OperSuccess(s) = &st[0] else { panic!() };
    assert_eq!(s.affected_paths, ["Device.Test.Item.1.", "Device.Test.Item.2."]);
    assert!(h.rows("Device.Test.Item.").is_empty());
}

#[test]
fn tp469_1_35_delete_search_expression_and_1_90_matching_nothing() {
    let mut h = Harness::new();
    let st = del_statuses(
        &mut h,
        del_req(false, &["Device.Test.Item.[Count==2].", "Device.Test.Item.[Count==42]."]),
    );
    assert!(
        matches!(&st[0], DelStatus::OperSuccess(s) if s.affected_paths == ["Device.Test.Item.2."])
    );
    assert_eq!(st[1], DelStatus::OperSuccess(Default::default()));
}

#[test]
fn delete_not_deletable_and_bad_paths() {
    let mut h = Harness::new();
    let st = del_statuses(
        &mut h,
        del_req(
            true,
            &["Device.Test.Fixed.1.", "Device.Test.Item.", "Device.Test.", "Device.Test.Fixed.*."],
        ),
    );
    let DelStatus::OperFailure(f) = &st[0] else { panic!() };
    assert_eq!(f.err_code, 7024);
    let DelStatus::OperFailure(f) = &st[1] else { panic!() };
    assert_eq!(f.err_code, 7026);
    let DelStatus::OperFailure(f) = &st[2] else { panic!() };
    assert_eq!(f.err_code, 7018);
    let DelStatus::OperSuccess(s) = &st[3] else { panic!() };
    assert_eq!(s.unaffected_path_errs[0].unaffected_path, "Device.Test.Fixed.1.");
    assert_eq!(s.unaffected_path_errs[0].err_code, 7024);
}

#[test]
fn delete_parent_and_child_in_one_message() {
    let mut h = Harness::new();
    let st =
        del_statuses(&mut h, del_req(false, &["Device.Test.Item.1.", "Device.Test.Item.1.Sub.1."]));
    assert!(matches!(&st[0], DelStatus::OperSuccess(s) if s.affected_paths.len() == 1));
    assert_eq!(st[1], DelStatus::OperSuccess(Default::default()));
}
