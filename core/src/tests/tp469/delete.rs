//! TP-469 1.24–1.35, 1.90: the Delete message.

use usp_proto::msg::delete_resp::deleted_object_result::operation_status::OperStatus;

use super::*;

const INVALID: &str = "Device.LocalAgent.InvalidObject.";

fn deleted(status: &OperStatus) -> Vec<&str> {
    let OperStatus::OperSuccess(ok) = status else { panic!("not a success: {status:?}") };
    assert!(ok.unaffected_path_errs.is_empty(), "{ok:?}");
    ok.affected_paths.iter().map(String::as_str).collect()
}

/// Two BootParameter rows of the test controller, the first enabled; returns their paths.
fn boot_parameters(h: &mut Harness) -> (String, String) {
    h.default(&format!("{CTRL_ROW}BootParameter.1.ParameterName"), "Device.DeviceInfo.");
    h.default(&format!("{CTRL_ROW}BootParameter.1.Enable"), "true");
    h.default(&format!("{CTRL_ROW}BootParameter.2.ParameterName"), "Device.LocalAgent.");
    h.default(&format!("{CTRL_ROW}BootParameter.2.Enable"), "false");
    (format!("{CTRL_ROW}BootParameter.1."), format!("{CTRL_ROW}BootParameter.2."))
}

#[test]
fn tp469_1_24_delete_valid_instance() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[]);
    let r = del_results(&mut h, del_req(false, &[&row]));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, row);
    assert_eq!(deleted(&r[0].1), [row.as_str()]);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_25_and_1_29_delete_missing_instance_is_empty_success() {
    for allow_partial in [false, true] {
        let mut h = Harness::builtin();
        new_subscription(&mut h, "s", &[]);
        let path = format!("{SUBS}77.");
        let r = del_results(&mut h, del_req(allow_partial, &[&path]));
        assert!(deleted(&r[0].1).is_empty());
        assert_eq!(subscriptions(&mut h).len(), 1);
    }
}

#[test]
fn tp469_1_26_delete_allow_partial_false_invalid_object() {
    let mut h = Harness::builtin();
    let e = h.error(del_req(false, &[INVALID]));
    assert_ne!(e.err_code, 0);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, INVALID);
    assert_ne!(e.param_errs[0].err_code, 0);
}

#[test]
fn tp469_1_27_delete_allow_partial_false_multiple_objects() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let r = del_results(&mut h, del_req(false, &[&a, &b]));
    assert_eq!((r[0].0.as_str(), deleted(&r[0].1)), (a.as_str(), vec![a.as_str()]));
    assert_eq!((r[1].0.as_str(), deleted(&r[1].1)), (b.as_str(), vec![b.as_str()]));
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_28_delete_allow_partial_false_one_invalid_object() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let e = h.error(del_req(false, &[&a, INVALID]));
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, INVALID);
    assert_eq!(subscriptions(&mut h), [a], "nothing deleted");
}

#[test]
fn tp469_1_30_delete_allow_partial_true_invalid_object() {
    let mut h = Harness::builtin();
    let r = del_results(&mut h, del_req(true, &[INVALID]));
    assert_eq!(r[0].0, INVALID);
    let OperStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_ne!(f.err_code, 0);
}

#[test]
fn tp469_1_31_delete_allow_partial_true_one_invalid_object() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let r = del_results(&mut h, del_req(true, &[&a, INVALID]));
    assert_eq!(deleted(&r[0].1), [a.as_str()]);
    assert!(matches!(r[1].1, OperStatus::OperFailure(_)), "{r:?}");
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_32_delete_allow_partial_true_one_missing_instance() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let missing = format!("{SUBS}99.");
    let r = del_results(&mut h, del_req(true, &[&a, &missing]));
    assert_eq!(deleted(&r[0].1), [a.as_str()]);
    assert!(deleted(&r[1].1).is_empty());
}

#[test]
fn tp469_1_33_delete_with_unique_key_addressing() {
    let mut h = Harness::builtin();
    let (first, _) = boot_parameters(&mut h);
    let alias = h.value(&format!("{CTRL_ROW}Alias")).unwrap();
    let path = format!(
        "Device.LocalAgent.Controller.[EndpointID==\"{CTRL}\"&&Alias==\"{alias}\"].BootParameter.1."
    );
    let r = del_results(&mut h, del_req(false, &[&path]));
    assert_eq!(r[0].0, path);
    assert_eq!(deleted(&r[0].1), [first.as_str()], "instance numbers in affected_paths");
    assert_eq!(h.rows(&format!("{CTRL_ROW}BootParameter.")).len(), 1);
}

#[test]
fn tp469_1_34_delete_wildcard() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let path = format!("{SUBS}*.");
    let r = del_results(&mut h, del_req(false, &[&path]));
    assert_eq!(r[0].0, path);
    assert_eq!(deleted(&r[0].1), [a.as_str(), b.as_str()]);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_35_delete_with_search_expression() {
    let mut h = Harness::builtin();
    let (enabled, disabled) = boot_parameters(&mut h);
    let path = format!("{CTRL_ROW}BootParameter.[Enable==true].");
    let r = del_results(&mut h, del_req(false, &[&path]));
    assert_eq!(r[0].0, path);
    assert_eq!(deleted(&r[0].1), [enabled.as_str()]);
    assert_eq!(h.rows(&format!("{CTRL_ROW}BootParameter.")), [disabled]);
}

#[test]
fn tp469_1_90_delete_search_expression_matching_nothing() {
    let mut h = Harness::builtin();
    new_subscription(&mut h, "a", &[]);
    let path = format!("{SUBS}[Enable==false].");
    let r = del_results(&mut h, del_req(false, &[&path]));
    assert!(deleted(&r[0].1).is_empty());
    assert_eq!(subscriptions(&mut h).len(), 1);
}

/// TP-469 2.13 (and 1.84 for Set) name object instances without the trailing dot
/// (`Device.LocalAgent.Subscription.3`): the agent takes them as the instance.
#[test]
fn instance_path_without_trailing_dot() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let bare = a.trim_end_matches('.');
    let r = del_results(&mut h, del_req(false, &[bare]));
    assert_eq!(deleted(&r[0].1), [a.as_str()]);
}
