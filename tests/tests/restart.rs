//! A controller configures the agent over USP, the agent restarts on the same database, and
//! everything the controller did is still there, with the same instance numbers.

use std::collections::BTreeMap;
use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Add, Get, Set};
use usp_tests::{Lab, RESET_FILE};

fn add_subscription(lab: &mut Lab, id: &str) -> String {
    let param = |name: &str, value: &str| CreateParamSetting {
        param: name.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                param("ID", id),
                param("NotifType", "ValueChange"),
                param("ReferenceList", "Device.LocalAgent.Controller.1.PeriodicNotifInterval"),
                param("Persistent", "true"),
                param("Enable", "true"),
            ],
        }],
    };
    let RespType::AddResp(resp) = lab.call(ReqType::Add(add)) else { panic!("not an AddResp") };
    let result = &resp.created_obj_results[0];
    match result.oper_status.as_ref().and_then(|s| s.oper_status.as_ref()) {
        Some(usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus::OperSuccess(ok)) => {
            ok.instantiated_path.clone()
        }
        other => panic!("add failed: {other:#?}"),
    }
}

fn get(lab: &mut Lab, path: &str) -> BTreeMap<String, String> {
    let get = Get { param_paths: vec![path.into()], max_depth: 0 };
    let RespType::GetResp(resp) = lab.call(ReqType::Get(get)) else { panic!("not a GetResp") };
    let mut out = BTreeMap::new();
    for req in resp.req_path_results {
        assert_eq!(req.err_code, 0, "get {path}: {}", req.err_msg);
        for res in req.resolved_path_results {
            for (k, v) in res.result_params {
                out.insert(format!("{}{k}", res.resolved_path), v);
            }
        }
    }
    out
}

#[test]
fn configuration_made_over_usp_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("usp.db");
    let reset = dir.path().join("reset.txt");
    std::fs::write(&reset, RESET_FILE).expect("write reset file");

    let mut lab = Lab::start(&db, &reset);
    let first = add_subscription(&mut lab, "sub-a");
    let second = add_subscription(&mut lab, "sub-b");
    assert_eq!(first, "Device.LocalAgent.Subscription.1.");
    assert_eq!(second, "Device.LocalAgent.Subscription.2.");
    let set = Set {
        allow_partial: false,
        update_objs: vec![UpdateObject {
            obj_path: "Device.LocalAgent.Controller.1.".into(),
            param_settings: vec![UpdateParamSetting {
                param: "PeriodicNotifInterval".into(),
                value: "120".into(),
                required: true,
            }],
        }],
    };
    assert!(matches!(lab.call(ReqType::Set(set)), RespType::SetResp(_)));
    let delete = usp_proto::msg::Delete { allow_partial: false, obj_paths: vec![first.clone()] };
    assert!(matches!(lab.call(ReqType::Delete(delete)), RespType::DeleteResp(_)));
    drop(lab);

    let mut lab = Lab::start(&db, &reset);
    let subs = get(&mut lab, "Device.LocalAgent.Subscription.*.ID");
    assert_eq!(
        subs.into_iter().collect::<Vec<_>>(),
        [("Device.LocalAgent.Subscription.2.ID".to_string(), "sub-b".to_string())]
    );
    let interval = get(&mut lab, "Device.LocalAgent.Controller.1.PeriodicNotifInterval");
    assert_eq!(interval.values().next().map(String::as_str), Some("120"));
    // Instance numbers are never reused, also after a restart.
    assert_eq!(add_subscription(&mut lab, "sub-c"), "Device.LocalAgent.Subscription.3.");
}
