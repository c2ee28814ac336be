//! TP-469 2.10–2.26: Roles and Permissions (ControllerTrust:1 writable).
//!
//! The test controller holds `Role.1`, the factory-default Full Access role, whose one
//! Permission targets `Device.` with `rwxn` at Order 1; each test adds the plan's Permission to
//! that Role. Where the plan's messages cannot do what its metrics expect under TR-181 2.19,
//! the replay adjusts them, and says so:
//!
//! - the plan leaves `Order` out (default 0, the lowest precedence: the Full Access row would
//!   win) or gives `1` (the unique key of the Full Access row): the replay gives Orders above 1;
//! - in 2.21 and 2.22 the granting rows leave `Obj` at `----`, which hides the instance from
//!   Get (TR-181: `Obj` read "grants the capability for Get to resolve Object paths"): the
//!   replay grants `Obj` read with them;
//! - in 2.25 the row restricting `Subscription.*.Enable` sets `Obj` (which does not apply to a
//!   parameter) where the metric needs `Param` `r---`: the replay sets `Param`.
//!
//! 2.9 (UntrustedRole for a new controller) is in `untrusted`.

use usp_proto::msg::Operate;
use usp_proto::msg::operate_resp::operation_result::OperationResp;

use super::super::subs::{notifies, set};
use super::*;

const PERMISSIONS: &str = "Device.LocalAgent.ControllerTrust.Role.1.Permission.";

/// Adds an enabled Permission to the test controller's Role with `order`, `targets` and the
/// given strings (the others keep their default `----`).
fn permit(h: &mut Harness, order: &str, targets: &str, strings: &[(&str, &str)]) {
    let mut settings: Vec<Setting> =
        vec![("Enable", "true", false), ("Targets", targets, false), ("Order", order, false)];
    settings.extend(strings.iter().map(|(k, v)| (*k, *v, false)));
    let r = add_results(h, add_req(false, &[(PERMISSIONS, &settings)]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert!(ok.instantiated_path.starts_with(PERMISSIONS), "{ok:?}");
    assert!(ok.param_errs.is_empty(), "{ok:?}");
}

/// The number of rows of `table` (`Device.X.`), as the agent itself sees them.
fn rows_inside(h: &mut Harness, table: &str) -> usize {
    let dm = h.core.dm();
    let obj = dm.schema().obj_by_path(&format!("{table}{{i}}.")).expect("a table");
    dm.row_numbers(obj, &[]).len()
}

fn add_subscription(allow_partial: bool) -> ReqType {
    add_req(allow_partial, &[(SUBS, &[])])
}

#[test]
fn tp469_2_10_adding_a_role() {
    let mut h = Harness::builtin();
    let role = [("Enable", "true", false), ("Name", "Trusted", false)];
    let r =
        add_results(&mut h, add_req(false, &[("Device.LocalAgent.ControllerTrust.Role.", &role)]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.instantiated_path, "Device.LocalAgent.ControllerTrust.Role.2.");
}

#[test]
fn tp469_2_11_and_2_12_object_creation_allowed_then_not() {
    let mut h = Harness::builtin();
    permit(&mut h, "2", SUBS, &[("Obj", "rw--")]);
    let r = add_results(&mut h, add_subscription(false));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)), "{r:?}");

    permit(&mut h, "3", SUBS, &[("Obj", "r---")]);
    let e = h.error(add_subscription(false));
    assert_eq!(e.err_code, 7006, "{e:?}");
    assert_eq!(rows_inside(&mut h, SUBS), 1, "nothing created");
}

#[test]
fn tp469_2_13_and_2_14_object_deletion_allowed_then_not() {
    let mut h = Harness::builtin();
    let first = new_subscription(&mut h, "del13", &[]);
    let second = new_subscription(&mut h, "del14", &[]);
    permit(&mut h, "2", SUBS, &[("InstantiatedObj", "rw--")]);
    let r = del_results(&mut h, del_req(false, &[&first]));
    let DelStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.affected_paths, [first]);

    permit(&mut h, "3", SUBS, &[("InstantiatedObj", "r---")]);
    let e = h.error(del_req(false, &[&second]));
    assert_eq!(e.err_code, 7006, "{e:?}");
    assert_eq!(e.param_errs[0].param_path, second);
    assert_eq!(subscriptions(&mut h), [second]);
}

#[test]
fn tp469_2_15_and_2_16_parameter_update_allowed_then_not() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "set15", &[]);
    permit(&mut h, "2", &row, &[("Param", "rw--")]);
    let r = set_results(&mut h, set_req(false, &[(&row, &[("Enable", "false", true)])]));
    let SetStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.updated_inst_results[0].updated_params["Enable"], "false");

    permit(&mut h, "3", &row, &[("Param", "r---")]);
    let e = h.error(set_req(false, &[(&row, &[("Enable", "true", true)])]));
    assert_eq!(e.err_code, 7006, "{e:?}");
    assert_eq!(e.param_errs[0].param_path, format!("{row}Enable"));
    assert_eq!(e.param_errs[0].err_code, 7006);
    assert_eq!(value_of(&mut h, &row, "Enable").as_deref(), Some("false"));
}

fn reboot() -> ReqType {
    ReqType::Operate(Operate {
        command: "Device.Reboot()".into(),
        command_key: "acl".into(),
        send_resp: true,
        input_args: Default::default(),
    })
}

#[test]
fn tp469_2_17_and_2_18_operation_allowed_then_not() {
    let mut h = Harness::builtin();
    permit(&mut h, "2", "Device.Reboot()", &[("CommandEvent", "r-x-")]);
    let RespType::OperateResp(r) = h.response(reboot()) else { panic!() };
    let resp = r.operation_results[0].operation_resp.clone();
    assert!(matches!(resp, Some(OperationResp::ReqOutputArgs(_))), "{resp:?}");
    assert_eq!(h.core.take_system_requests().len(), 1);

    permit(&mut h, "3", "Device.Reboot()", &[("CommandEvent", "r---")]);
    let RespType::OperateResp(r) = h.response(reboot()) else { panic!() };
    assert_eq!(r.operation_results[0].executed_command, "Device.Reboot()");
    let Some(OperationResp::CmdFailure(f)) = &r.operation_results[0].operation_resp else {
        panic!("{r:?}")
    };
    assert_eq!(f.err_code, 7006);
    assert!(h.core.take_system_requests().is_empty(), "the command did not run");
}

const INTERVAL: &str = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";

/// 2.19 and 2.20 steps 2–4: subscribe to the interval, change it; the Notify messages sent.
fn interval_notifies(h: &mut Harness, id: &str, value: &str) -> usize {
    let settings = [
        ("Enable", "true", false),
        ("ID", id, false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", INTERVAL, false),
    ];
    let r = add_results(h, add_req(false, &[(SUBS, &settings)]));
    assert!(matches!(r[0].1, AddStatus::OperSuccess(_)), "{r:?}");
    let out = set(h, CTRL_ROW, "PeriodicNotifInterval", value);
    let mut n = notifies(&out);
    n.extend(notifies(&h.advance(30)));
    n.iter().filter(|s| s.notify.subscription_id == id).count()
}

#[test]
fn tp469_2_19_value_change_notification_allowed() {
    let mut h = Harness::builtin();
    permit(&mut h, "2", INTERVAL, &[("Param", "rw-n")]);
    assert_eq!(interval_notifies(&mut h, "vc19", "3600"), 1);
}

#[test]
fn tp469_2_20_value_change_notification_not_allowed() {
    let mut h = Harness::builtin();
    permit(&mut h, "2", INTERVAL, &[("Param", "rw--")]);
    assert_eq!(interval_notifies(&mut h, "vc20", "3600"), 0);
    // The permission is checked when the change happens: granting it makes the same
    // subscription fire.
    permit(&mut h, "3", INTERVAL, &[("Param", "rw-n")]);
    let sent = notifies(&set(&mut h, CTRL_ROW, "PeriodicNotifInterval", "7200"));
    assert_eq!(sent.len(), 1);
}

const BOOT_PARAMS: &str = "Device.LocalAgent.Controller.1.BootParameter.";

fn boot_parameter(h: &mut Harness) -> String {
    h.default(&format!("{BOOT_PARAMS}1.ParameterName"), "Device.DeviceInfo.SerialNumber");
    h.default(&format!("{BOOT_PARAMS}1.Enable"), "true");
    format!("{BOOT_PARAMS}1.")
}

/// The resolved paths of a Get of the BootParameter table, with their parameter names.
fn boot_get(h: &mut Harness) -> Vec<(String, Vec<String>)> {
    let r = h.get1(BOOT_PARAMS, 0);
    assert_eq!(r.err_code, 0, "{r:?}");
    r.resolved_path_results
        .into_iter()
        .map(|p| (p.resolved_path, p.result_params.into_keys().collect()))
        .collect()
}

#[test]
fn tp469_2_21_overlapping_permissions() {
    let mut h = Harness::builtin();
    let bp = boot_parameter(&mut h);
    let deny: [Setting; 4] = [
        ("Enable", "true", false),
        ("Targets", &bp, false),
        ("Param", "----", false),
        ("Order", "2", false),
    ];
    let grant: [Setting; 5] = [
        ("Enable", "true", false),
        ("Targets", &bp, false),
        ("Param", "rw--", false),
        ("Obj", "r---", false),
        ("Order", "3", false),
    ];
    let r = add_results(&mut h, add_req(false, &[(PERMISSIONS, &deny), (PERMISSIONS, &grant)]));
    assert_eq!(r.len(), 2);
    assert!(r.iter().all(|(_, s)| matches!(s, AddStatus::OperSuccess(_))), "{r:?}");
    let got = boot_get(&mut h);
    assert_eq!(got, [(bp.clone(), vec!["Alias".into(), "Enable".into(), "ParameterName".into()])]);

    permit(&mut h, "4", &bp, &[("Param", "----")]);
    assert_eq!(boot_get(&mut h), []);
}

#[test]
fn tp469_2_22_get_omits_unreadable_parameters() {
    let mut h = Harness::builtin();
    let bp = boot_parameter(&mut h);
    permit(&mut h, "2", &bp, &[("Param", "rw--"), ("Obj", "r---")]);
    permit(&mut h, "3", &format!("{bp}ParameterName"), &[("Param", "----")]);
    let r = h.get1(&bp, 0);
    assert_eq!(r.err_code, 0);
    assert_eq!(r.resolved_path_results.len(), 1);
    let names: Vec<&String> = r.resolved_path_results[0].result_params.keys().collect();
    assert_eq!(names, ["Alias", "Enable"]);
    // Named by a path of its own, the parameter is not in the supported model (R-GET.1).
    let r = h.get1(&format!("{bp}ParameterName"), 0);
    assert_eq!(r.err_code, 7026, "{r:?}");
    // Through a search path it is just left out.
    let r = h.get1("Device.LocalAgent.Controller.1.BootParameter.*.ParameterName", 0);
    assert_eq!((r.err_code, r.resolved_path_results.len()), (0, 0), "{r:?}");
}

/// 2.23 and 2.24 set-up: a second controller, and BootParameter creation allowed under the
/// first and refused under the second.
fn two_controllers(h: &mut Harness) {
    h.default("Device.LocalAgent.Controller.2.EndpointID", "self::second");
    h.default("Device.LocalAgent.Controller.2.Enable", "true");
    permit(h, "2", BOOT_PARAMS, &[("Obj", "rw--")]);
    permit(h, "3", "Device.LocalAgent.Controller.2.BootParameter.", &[("Obj", "r---")]);
}

const ALL_BOOT_PARAMS: &str = "Device.LocalAgent.Controller.*.BootParameter";

#[test]
fn tp469_2_23_add_search_path_allow_partial_true() {
    let mut h = Harness::builtin();
    two_controllers(&mut h);
    let r = add_results(&mut h, add_req(true, &[(ALL_BOOT_PARAMS, &[])]));
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r.iter().all(|(p, _)| p == ALL_BOOT_PARAMS));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(ok.instantiated_path, format!("{BOOT_PARAMS}1."));
    let AddStatus::OperFailure(f) = &r[1].1 else { panic!("{r:?}") };
    assert_eq!(f.err_code, 7006);
    assert_eq!(h.rows("Device.LocalAgent.Controller.2.BootParameter."), Vec::<String>::new());
}

#[test]
fn tp469_2_24_add_search_path_allow_partial_false() {
    let mut h = Harness::builtin();
    two_controllers(&mut h);
    let e = h.error(add_req(false, &[(ALL_BOOT_PARAMS, &[])]));
    assert_eq!(e.err_code, 7006, "{e:?}");
    assert_eq!(e.param_errs.len(), 1);
    assert_eq!(e.param_errs[0].param_path, "Device.LocalAgent.Controller.2.BootParameter.");
    assert_eq!(e.param_errs[0].err_code, 7006);
    assert_eq!(h.rows("Device.LocalAgent.Controller.*.BootParameter."), Vec::<String>::new());
}

fn restrict_subscription_enable(h: &mut Harness) {
    permit(h, "2", "Device.LocalAgent.Subscription.*.Enable", &[("Param", "r---")]);
}

#[test]
fn tp469_2_25_unwritable_parameter_omitted_from_add() {
    let mut h = Harness::builtin();
    restrict_subscription_enable(&mut h);
    let settings = [
        ("ID", "add1", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", true),
    ];
    let r = add_results(&mut h, add_req(false, &[(SUBS, &settings)]));
    let AddStatus::OperSuccess(ok) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(value_of(&mut h, &ok.instantiated_path, "Enable").as_deref(), Some("false"));
}

#[test]
fn tp469_2_26_unwritable_parameter_included_in_add() {
    let mut h = Harness::builtin();
    restrict_subscription_enable(&mut h);
    let settings = [
        ("ID", "add26", false),
        ("NotifType", "ValueChange", false),
        ("ReferenceList", "Device.LocalAgent.SoftwareVersion", true),
        ("Enable", "true", true),
    ];
    let r = add_results(&mut h, add_req(true, &[(SUBS, &settings)]));
    assert_eq!(r.len(), 1);
    let AddStatus::OperFailure(f) = &r[0].1 else { panic!("{r:?}") };
    assert_eq!(f.err_code, 7006);
    let r = h.get1(SUBS, 0);
    assert!(
        r.resolved_path_results
            .iter()
            .all(|p| p.result_params.get("ID").map(String::as_str) != Some("add26"))
    );
    assert_eq!(subscriptions(&mut h), Vec::<String>::new());
}
