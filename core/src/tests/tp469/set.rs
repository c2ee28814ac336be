//! TP-469 1.11–1.23, 1.96, 1.104: the Set message.

use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus;

use super::*;

/// Checks an `oper_success` with one instance `row` whose only updated parameter is `param`.
fn one_update(status: &OperStatus, row: &str, param: &str) {
    let OperStatus::OperSuccess(ok) = status else { panic!("not a success: {status:?}") };
    assert_eq!(ok.updated_inst_results.len(), 1, "{ok:?}");
    let r = &ok.updated_inst_results[0];
    assert_eq!(r.affected_path, row);
    assert_eq!(r.updated_params.keys().collect::<Vec<_>>(), [param]);
}

const RETRY_TRUE: &[Setting] = &[("NotifRetry", "true", true)];
const INVALID: &[Setting] = &[("InvalidParameter", "IrrelevantValue", true)];

#[test]
fn tp469_1_11_and_1_12_set_required_parameter_passes() {
    for allow_partial in [false, true] {
        let mut h = Harness::builtin();
        let row = new_subscription(&mut h, "s", &[]);
        let r = set_results(&mut h, set_req(allow_partial, &[(&row, RETRY_TRUE)]));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, row);
        one_update(&r[0].1, &row, "NotifRetry");
        assert_eq!(value_of(&mut h, &row, "NotifRetry").as_deref(), Some("true"));
    }
}

#[test]
fn tp469_1_13_set_allow_partial_false_multiple_objects() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let r = set_results(&mut h, set_req(false, &[(&a, RETRY_TRUE), (&b, RETRY_TRUE)]));
    assert_eq!(r.len(), 2);
    one_update(&r[0].1, &a, "NotifRetry");
    one_update(&r[1].1, &b, "NotifRetry");
    assert_eq!(value_of(&mut h, &b, "NotifRetry").as_deref(), Some("true"));
}

#[test]
fn tp469_1_14_set_allow_partial_false_required_parameter_fails() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[]);
    let e = h.error(set_req(false, &[(&row, INVALID)]));
    assert_ne!(e.err_code, 0);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, format!("{row}InvalidParameter"));
    assert_eq!(e.param_errs[0].err_code, 7010);
}

#[test]
fn tp469_1_15_set_allow_partial_false_required_fails_in_one_of_two() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let e = h.error(set_req(false, &[(&a, RETRY_TRUE), (&b, INVALID)]));
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, format!("{b}InvalidParameter"));
    assert_eq!(value_of(&mut h, &a, "NotifRetry").as_deref(), Some("false"), "rolled back");
}

#[test]
fn tp469_1_16_set_allow_partial_true_required_fails_in_one_of_two() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let r = set_results(&mut h, set_req(true, &[(&a, RETRY_TRUE), (&b, INVALID)]));
    one_update(&r[0].1, &a, "NotifRetry");
    let OperStatus::OperFailure(f) = &r[1].1 else { panic!("{r:?}") };
    assert_ne!(f.err_code, 0);
    assert_eq!(f.updated_inst_failures.len(), 1);
    assert_eq!(f.updated_inst_failures[0].affected_path, b);
    let errs = &f.updated_inst_failures[0].param_errs;
    assert_eq!(errs.len(), 1);
    assert_eq!((errs[0].param.as_str(), errs[0].err_code), ("InvalidParameter", 7010));
    assert_eq!(value_of(&mut h, &a, "NotifRetry").as_deref(), Some("true"));
}

#[test]
fn tp469_1_17_set_allow_partial_true_non_required_parameter_fails() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[]);
    let settings = [("NotifRetry", "true", false), ("InvalidParameter", "IrrelevantValue", false)];
    let r = set_results(&mut h, set_req(true, &[(&row, &settings)]));
    let OperStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.updated_inst_results.len(), 1);
    let i = &ok.updated_inst_results[0];
    assert_eq!(i.affected_path, row);
    assert_eq!(i.updated_params.keys().collect::<Vec<_>>(), ["NotifRetry"]);
    assert_eq!(i.param_errs.len(), 1);
    assert_eq!(i.param_errs[0].param, "InvalidParameter");
    assert_ne!(i.param_errs[0].err_code, 0);
    assert_eq!(value_of(&mut h, &row, "NotifRetry").as_deref(), Some("true"));
}

#[test]
fn tp469_1_18_set_with_unique_key_addressing() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s18", &[]);
    let by_key = format!("{SUBS}[Recipient==\"Device.LocalAgent.Controller.1\"&&ID==\"s18\"].");
    let r = set_results(&mut h, set_req(false, &[(&by_key, RETRY_TRUE)]));
    assert_eq!(r[0].0, by_key);
    one_update(&r[0].1, &row, "NotifRetry");
    let alias = value_of(&mut h, &row, "Alias").unwrap();
    let by_alias = format!("{SUBS}[Alias==\"{alias}\"].");
    let r = set_results(&mut h, set_req(false, &[(&by_alias, &[("NotifRetry", "false", true)])]));
    one_update(&r[0].1, &row, "NotifRetry");
    assert_eq!(value_of(&mut h, &row, "NotifRetry").as_deref(), Some("false"));
}

#[test]
fn tp469_1_19_set_wildcard_passes() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let path = format!("{SUBS}*.");
    let r = set_results(&mut h, set_req(false, &[(&path, RETRY_TRUE)]));
    let OperStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    let affected: Vec<&str> =
        ok.updated_inst_results.iter().map(|i| i.affected_path.as_str()).collect();
    assert_eq!(affected, [a.as_str(), b.as_str()]);
    for i in &ok.updated_inst_results {
        assert_eq!(i.updated_params.keys().collect::<Vec<_>>(), ["NotifRetry"]);
    }
}

#[test]
fn tp469_1_20_set_wildcard_allow_partial_false_required_fails() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    new_subscription(&mut h, "b", &[]);
    let e = h.error(set_req(false, &[(&format!("{SUBS}*."), INVALID)]));
    assert!(!e.param_errs.is_empty());
    assert_eq!(e.param_errs[0].param_path, format!("{a}InvalidParameter"));
}

#[test]
fn tp469_1_21_set_wildcard_allow_partial_true_required_fails() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let path = format!("{SUBS}*.");
    let r = set_results(&mut h, set_req(true, &[(&path, &[("Enable", "InvalidValue", true)])]));
    let OperStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_ne!(f.err_code, 0);
    let failed: Vec<&str> =
        f.updated_inst_failures.iter().map(|i| i.affected_path.as_str()).collect();
    assert_eq!(failed, [a.as_str(), b.as_str()]);
    for i in &f.updated_inst_failures {
        assert_eq!(i.param_errs.len(), 1);
        assert_eq!(i.param_errs[0].param, "Enable");
    }
}

#[test]
fn tp469_1_22_set_with_search_expression() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[("NotifExpiration", "20", false)]);
    new_subscription(&mut h, "other", &[]);
    let path = format!("{SUBS}[NotifExpiration>0].");
    let r = set_results(&mut h, set_req(false, &[(&path, RETRY_TRUE)]));
    one_update(&r[0].1, &row, "NotifRetry");
}

#[test]
fn tp469_1_23_set_path_matching_nothing() {
    let mut h = Harness::builtin();
    new_subscription(&mut h, "s", &[]);
    let path = format!("{SUBS}[Recipient==\"InvalidValue\"].");
    let r = set_results(&mut h, set_req(true, &[(&path, RETRY_TRUE)]));
    assert_eq!(r.len(), 1);
    let OperStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert!(ok.updated_inst_results.is_empty());
}

#[test]
fn tp469_1_96_non_functional_unique_key_is_immutable() {
    let mut h = Harness::builtin();
    let r = add_results(&mut h, add_req(false, &[(SUBS, &[("ID", "add96", false)])]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    let row = ok.instantiated_path.clone();
    let e = h.error(set_req(false, &[(&row, &[("ID", "add96-NEW", true)])]));
    assert_eq!(e.err_code, 7021, "{e:?}");
    assert_eq!(e.param_errs[0].param_path, format!("{row}ID"));
    assert_eq!(value_of(&mut h, &row, "ID").as_deref(), Some("add96"));
}

#[test]
fn tp469_1_104_set_on_write_once_read_only_alias() {
    let mut h = Harness::builtin();
    let r = add_results(&mut h, add_req(false, &[(SUBS, &[("Alias", "test-1-104", false)])]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    let row = ok.instantiated_path.clone();
    let e = h.error(set_req(false, &[(&row, &[("Alias", "test-1-104-new-alias", true)])]));
    assert_ne!(e.err_code, 0);
    assert_eq!(value_of(&mut h, &row, "Alias").as_deref(), Some("test-1-104"));
}
