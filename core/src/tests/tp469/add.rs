//! TP-469 1.1–1.10, 1.81, 1.88, 1.95: the Add message.

use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus;

use super::*;

/// The settings of 1.1: a ValueChange subscription with the required ReferenceList.
fn sub_settings(id: &str) -> [Setting<'_>; 4] {
    [
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", true),
    ]
}

/// Checks the success of one created Subscription: no parameter errors, the unique keys
/// Alias, Recipient and ID; returns the instance path.
fn created_subscription(status: &OperStatus, id: &str) -> String {
    let OperStatus::OperSuccess(ok) = status else { panic!("not created: {status:?}") };
    assert!(ok.param_errs.is_empty(), "{:?}", ok.param_errs);
    let keys: Vec<&str> = ok.unique_keys.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Alias", "ID", "Recipient"]);
    if !id.is_empty() {
        assert_eq!(ok.unique_keys["ID"], id);
    }
    assert_eq!(ok.unique_keys["Recipient"], "Device.LocalAgent.Controller.1");
    assert!(ok.instantiated_path.starts_with(SUBS), "{}", ok.instantiated_path);
    ok.instantiated_path.clone()
}

fn single_add(h: &mut Harness, allow_partial: bool, id: &str) {
    let settings = sub_settings(id);
    let r = add_results(h, add_req(allow_partial, &[(SUBS, &settings)]));
    assert_eq!(r.len(), 1);
    let row = created_subscription(&r[0].1, id);
    assert_eq!(value_of(h, &row, "Enable").as_deref(), Some("true"));
    assert_eq!(value_of(h, &row, "NotifType").as_deref(), Some("ValueChange"));
    assert_eq!(
        value_of(h, &row, "ReferenceList").as_deref(),
        Some("Device.LocalAgent.SoftwareVersion")
    );
    let d = del_results(h, del_req(false, &[&row]));
    let DelStatus::OperSuccess(ok) = &d[0].1 else { panic!("{d:?}") };
    assert_eq!(ok.affected_paths, [row]);
}

#[test]
fn tp469_1_1_add_allow_partial_false_single_object() {
    single_add(&mut Harness::builtin(), false, "add1");
}

#[test]
fn tp469_1_2_add_allow_partial_true_single_object() {
    single_add(&mut Harness::builtin(), true, "add2");
}

#[test]
fn tp469_1_3_add_allow_partial_false_required_parameter_fails() {
    let mut h = Harness::builtin();
    let settings = [
        ("Enable", "InvalidValue", true),
        ("ID", "add3", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", false),
    ];
    let e = h.error(add_req(false, &[(SUBS, &settings)]));
    assert_ne!(e.err_code, 0);
    assert_eq!(e.param_errs.len(), 1, "{e:?}");
    assert!(e.param_errs[0].param_path.ends_with("Enable"), "{e:?}");
    assert_eq!(e.param_errs[0].err_code, 7011);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_4_add_allow_partial_false_invalid_object() {
    let mut h = Harness::builtin();
    let settings = sub_settings("add4");
    let e = h.error(add_req(false, &[("Device.LocalAgent.InvalidObject.", &settings)]));
    assert_eq!(e.err_code, 7026);
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.LocalAgent.InvalidObject.");
    assert_eq!(e.param_errs[0].err_code, 7026);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_5_add_allow_partial_false_multiple_objects() {
    let mut h = Harness::builtin();
    let first = sub_settings("add51");
    let mut second = sub_settings("add52");
    second[3].1 = "Device.LocalAgent.EndpointID";
    let r = add_results(&mut h, add_req(false, &[(SUBS, &first), (SUBS, &second)]));
    assert_eq!(r.len(), 2);
    let a = created_subscription(&r[0].1, "add51");
    let b = created_subscription(&r[1].1, "add52");
    assert_ne!(a, b);
    assert_eq!(
        value_of(&mut h, &b, "ReferenceList").as_deref(),
        Some("Device.LocalAgent.EndpointID")
    );
    assert_eq!(subscriptions(&mut h), [a, b]);
}

#[test]
fn tp469_1_6_add_allow_partial_false_multiple_objects_one_invalid() {
    let mut h = Harness::builtin();
    let first = sub_settings("add61");
    let second = sub_settings("add62");
    let e =
        h.error(add_req(false, &[(SUBS, &first), ("Device.LocalAgent.InvalidObject.", &second)]));
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.LocalAgent.InvalidObject.");
    assert!(subscriptions(&mut h).is_empty(), "the first object is not created either");
}

#[test]
fn tp469_1_7_add_allow_partial_false_required_fails_in_one_of_two() {
    let mut h = Harness::builtin();
    let mut first = sub_settings("add71");
    first[0] = ("Enable", "InvalidValue", true);
    let second =
        [("Enable", "true", false), ("ID", "add72", false), ("NotifType", "ValueChange", false)];
    let e = h.error(add_req(false, &[(SUBS, &first), (SUBS, &second)]));
    assert_eq!(e.param_errs.len(), 1, "{e:?}");
    assert!(e.param_errs[0].param_path.ends_with("Enable"));
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_8_add_allow_partial_true_required_fails_invalid_type() {
    let mut h = Harness::builtin();
    let mut settings = sub_settings("add8");
    settings[0] = ("Enable", "InvalidValue", true);
    let r = add_results(&mut h, add_req(true, &[(SUBS, &settings)]));
    assert_eq!(r.len(), 1);
    let OperStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_ne!(f.err_code, 0);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_9_add_allow_partial_true_required_fails_multiple_objects() {
    let mut h = Harness::builtin();
    let mut first = sub_settings("add91");
    first[3].2 = false;
    let mut second = first.to_vec();
    second.push(("InvalidParameter", "IrrelevantValue", true));
    let r = add_results(&mut h, add_req(true, &[(SUBS, &first), (SUBS, &second)]));
    assert_eq!(r.len(), 2);
    let row = created_subscription(&r[0].1, "add91");
    let OperStatus::OperFailure(f) = &r[1].1 else { panic!("{r:?}") };
    assert_ne!(f.err_code, 0);
    assert_eq!(subscriptions(&mut h), [row]);
}

#[test]
fn tp469_1_10_add_with_unique_key_addressing() {
    let mut h = Harness::builtin();
    let alias = h.value(&format!("{CTRL_ROW}Alias")).expect("the controller has an Alias");
    let table = format!(
        "Device.LocalAgent.Controller.[EndpointID==\"{CTRL}\"&&Alias==\"{alias}\"].BootParameter."
    );
    let settings =
        [("Enable", "true", false), ("ParameterName", "Device.LocalAgent.SoftwareVersion", false)];
    let r = add_results(&mut h, add_req(false, &[(&table, &settings)]));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].0, table);
    let OperStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert!(ok.param_errs.is_empty());
    let keys: Vec<&str> = ok.unique_keys.keys().map(String::as_str).collect();
    assert_eq!(keys, ["Alias", "ParameterName"]);
    assert_eq!(ok.instantiated_path, format!("{CTRL_ROW}BootParameter.1."));
    assert_eq!(value_of(&mut h, &ok.instantiated_path, "Enable").as_deref(), Some("true"));
}

#[test]
fn tp469_1_81_automatic_unique_keys() {
    let mut h = Harness::builtin();
    let first = [
        ("Enable", "true", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", false),
    ];
    let mut second = first;
    second[2].1 = "Device.LocalAgent.EndpointID";
    let r = add_results(&mut h, add_req(false, &[(SUBS, &first), (SUBS, &second)]));
    created_subscription(&r[0].1, "");
    created_subscription(&r[1].1, "");
    let (OperStatus::OperSuccess(a), OperStatus::OperSuccess(b)) = (&r[0].1, &r[1].1) else {
        panic!()
    };
    assert_ne!(a.unique_keys["Alias"], b.unique_keys["Alias"]);
    assert_ne!(a.unique_keys["ID"], b.unique_keys["ID"]);
    assert!(!a.unique_keys["ID"].is_empty());
    assert_eq!(a.unique_keys["Recipient"], b.unique_keys["Recipient"]);
}

#[test]
fn tp469_1_88_add_with_invalid_unique_key_fails() {
    let mut h = Harness::builtin();
    let settings = [
        ("Enable", "True", false),
        ("Alias", "88InvalidAlias", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", false),
    ];
    let e = h.error(add_req(false, &[(SUBS, &settings)]));
    assert_ne!(e.err_code, 0);
    assert!(subscriptions(&mut h).is_empty());
}

#[test]
fn tp469_1_95_add_with_search_expression() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::second");
    h.default("Device.LocalAgent.Controller.2.Enable", "true");
    let settings =
        [("Enable", "true", false), ("ParameterName", "Device.LocalAgent.SoftwareVersion", false)];
    let path = "Device.LocalAgent.Controller.[Enable==true].BootParameter.";
    let r = add_results(&mut h, add_req(false, &[(path, &settings)]));
    assert_eq!(r.len(), 2, "one per enabled controller: {r:?}");
    for (requested, status) in &r {
        assert_eq!(requested, path);
        assert!(matches!(status, OperStatus::OperSuccess(_)), "{status:?}");
    }
    let rows = h.rows("Device.LocalAgent.Controller.*.BootParameter.");
    assert_eq!(
        rows,
        [
            "Device.LocalAgent.Controller.1.BootParameter.1.",
            "Device.LocalAgent.Controller.2.BootParameter.1."
        ]
    );
}
