//! TP-469 1.36–1.51, 1.82, 1.86, 1.87, 1.89: the Get message.

use usp_proto::msg::get_resp::RequestedPathResult;

use super::*;

fn get(h: &mut Harness, paths: &[&str], max_depth: u32) -> Vec<RequestedPathResult> {
    let get = msg::Get { param_paths: paths.iter().map(|p| (*p).into()).collect(), max_depth };
    let RespType::GetResp(r) = h.response(ReqType::Get(get)) else { panic!("not a GetResp") };
    assert_eq!(r.req_path_results.len(), paths.len());
    for (r, p) in r.req_path_results.iter().zip(paths) {
        assert_eq!(r.requested_path, *p);
    }
    r.req_path_results
}

fn resolved(r: &RequestedPathResult) -> Vec<&str> {
    r.resolved_path_results.iter().map(|p| p.resolved_path.as_str()).collect()
}

/// Checks one parameter result: no error, one resolved path `obj` with `name` alone; returns
/// its value.
fn one_param<'a>(r: &'a RequestedPathResult, obj: &str, name: &str) -> &'a str {
    assert_eq!(r.err_code, 0, "{r:?}");
    assert_eq!(resolved(r), [obj]);
    let params = &r.resolved_path_results[0].result_params;
    assert_eq!(params.keys().collect::<Vec<_>>(), [name]);
    &params[name]
}

/// Three subscriptions with NotifExpiration 5, 10 and 20, the second one disabled.
fn three(h: &mut Harness) -> [String; 3] {
    let a = new_subscription(h, "a", &[("NotifExpiration", "5", false)]);
    let b = new_subscription(h, "b", &[("NotifExpiration", "10", false)]);
    let c = new_subscription(h, "c", &[("NotifExpiration", "20", false)]);
    let r = set_results(h, set_req(false, &[(&b, &[("Enable", "false", true)])]));
    assert_eq!(r.len(), 1);
    [a, b, c]
}

#[test]
fn tp469_1_36_get_full_parameter_path() {
    let mut h = Harness::builtin();
    let r = get(&mut h, &["Device.LocalAgent.EndpointID"], 0);
    assert_eq!(one_param(&r[0], "Device.LocalAgent.", "EndpointID"), AGENT);
}

#[test]
fn tp469_1_37_and_1_38_get_several_parameters() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[]);
    let enable = format!("{row}Enable");
    let paths =
        ["Device.LocalAgent.EndpointID", "Device.LocalAgent.SoftwareVersion", enable.as_str()];
    let r = get(&mut h, &paths, 0);
    assert_eq!(one_param(&r[0], "Device.LocalAgent.", "EndpointID"), AGENT);
    assert!(!one_param(&r[1], "Device.LocalAgent.", "SoftwareVersion").is_empty());
    assert_eq!(one_param(&r[2], &row, "Enable"), "true");
}

#[test]
fn tp469_1_39_get_object_path() {
    let mut h = Harness::builtin();
    new_subscription(&mut h, "s", &[]);
    let r = get(&mut h, &["Device.LocalAgent."], 0);
    assert_eq!(r[0].err_code, 0);
    let paths = resolved(&r[0]);
    assert_eq!(paths[0], "Device.LocalAgent.");
    for sub in [
        "Device.LocalAgent.Controller.1.",
        "Device.LocalAgent.Subscription.1.",
        "Device.LocalAgent.ControllerTrust.",
    ] {
        assert!(paths.contains(&sub), "{sub} in {paths:?}");
    }
    for p in &r[0].resolved_path_results {
        assert!(!p.result_params.is_empty(), "{} has parameters", p.resolved_path);
        assert!(p.result_params.keys().all(|k| !k.starts_with("Device.")), "relative names");
    }
}

#[test]
fn tp469_1_40_get_object_instance_path() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s", &[]);
    let r = get(&mut h, &[&row], 0);
    assert_eq!(resolved(&r[0]), [row.as_str()]);
    let params = &r[0].resolved_path_results[0].result_params;
    assert_eq!(params["ID"], "s");
    assert_eq!(params["Recipient"], "Device.LocalAgent.Controller.1");
    assert!(params.contains_key("TimeToLive"));
}

#[test]
fn tp469_1_41_and_1_42_get_invalid_parameter() {
    let mut h = Harness::builtin();
    let r = get(&mut h, &["Device.LocalAgent.EndpointID", "Device.LocalAgent.InvalidParameter"], 0);
    assert_eq!(one_param(&r[0], "Device.LocalAgent.", "EndpointID"), AGENT);
    assert_eq!(r[1].err_code, 7026);
    assert!(r[1].resolved_path_results.is_empty());
}

#[test]
fn tp469_1_43_get_with_unique_key_addressing() {
    let mut h = Harness::builtin();
    let row = new_subscription(&mut h, "s43", &[]);
    let path = format!("{SUBS}[Recipient==\"Device.LocalAgent.Controller.1\"&&ID==\"s43\"].Enable");
    let r = get(&mut h, &[&path], 0);
    assert_eq!(one_param(&r[0], &row, "Enable"), "true");
}

#[test]
fn tp469_1_44_and_1_45_get_wildcard() {
    let mut h = Harness::builtin();
    let a = new_subscription(&mut h, "a", &[]);
    let b = new_subscription(&mut h, "b", &[]);
    let param = format!("{SUBS}*.Enable");
    let object = format!("{SUBS}*.");
    let r = get(&mut h, &[&param, &object], 0);
    assert_eq!(resolved(&r[0]), [a.as_str(), b.as_str()]);
    assert!(r[0].resolved_path_results.iter().all(|p| p.result_params.len() == 1));
    assert_eq!(resolved(&r[1]), [a.as_str(), b.as_str()]);
    assert!(r[1].resolved_path_results.iter().all(|p| p.result_params.len() > 10));
}

#[test]
fn tp469_1_46_to_1_51_get_search_expressions() {
    let mut h = Harness::builtin();
    let [a, b, c] = three(&mut h);
    let (a, b, c) = (a.as_str(), b.as_str(), c.as_str());
    let cases: [(&str, Vec<&str>); 6] = [
        ("[Enable==true]", vec![a, c]),
        ("[Enable!=true]", vec![b]),
        ("[NotifExpiration>10]", vec![c]),
        ("[NotifExpiration<10]", vec![a]),
        ("[NotifExpiration>=10]", vec![b, c]),
        ("[NotifExpiration<=10]", vec![a, b]),
    ];
    for (expr, want) in cases {
        let path = format!("{SUBS}{expr}.");
        let r = get(&mut h, &[&path], 0);
        assert_eq!(r[0].err_code, 0, "{expr}");
        assert_eq!(resolved(&r[0]), want, "{expr}");
    }
}

#[test]
fn tp469_1_82_and_1_86_get_unmatched_search_expression() {
    let mut h = Harness::builtin();
    let path = format!("{SUBS}[Enable==true].");
    let r = get(&mut h, &[&path], 0);
    assert_eq!(r[0].err_code, 0);
    assert!(r[0].resolved_path_results.is_empty());
    let row = new_subscription(&mut h, "off", &[]);
    set_results(&mut h, set_req(false, &[(&row, &[("Enable", "false", true)])]));
    let r = get(&mut h, &[&path], 0);
    assert_eq!((r[0].err_code, r[0].resolved_path_results.len()), (0, 0));
}

#[test]
fn tp469_1_87_get_empty_table() {
    let mut h = Harness::builtin();
    let r = get(&mut h, &[SUBS], 0);
    assert_eq!(r[0].err_code, 0);
    assert!(r[0].resolved_path_results.is_empty());
}

#[test]
fn tp469_1_89_get_with_max_depth() {
    let mut h = Harness::builtin();
    h.default(&format!("{CTRL_ROW}MTP.1.Protocol"), "MQTT");
    let r = get(&mut h, &["Device.LocalAgent."], 1);
    assert_eq!(resolved(&r[0]), ["Device.LocalAgent."]);
    let r = get(&mut h, &["Device.LocalAgent."], 2);
    let depth2 = resolved(&r[0]);
    assert!(depth2.contains(&"Device.LocalAgent.Controller.1."), "{depth2:?}");
    assert!(depth2.contains(&"Device.LocalAgent.ControllerTrust."), "{depth2:?}");
    assert!(!depth2.contains(&"Device.LocalAgent.Controller.1.MTP.1."), "{depth2:?}");
    let r = get(&mut h, &["Device.LocalAgent."], 0);
    let all = resolved(&r[0]);
    assert!(all.contains(&"Device.LocalAgent.Controller.1.MTP.1."), "{all:?}");
    assert!(all.contains(&"Device.LocalAgent.Controller.1.MTP.1.MQTT."), "{all:?}");
}

#[test]
fn tp469_6_11_and_11_3_get_object_without_trailing_dot() {
    let mut h = Harness::builtin();
    let r = get(&mut h, &["Device.DeviceInfo", "Device.DeviceInfo.Nothing"], 0);
    assert_eq!(r[0].err_code, 0, "{:?}", r[0]);
    assert_eq!(resolved(&r[0])[0], "Device.DeviceInfo.");
    assert!(r[0].resolved_path_results[0].result_params.contains_key("SerialNumber"));
    assert_eq!(r[1].err_code, 7026, "a missing parameter is still an error");
}
