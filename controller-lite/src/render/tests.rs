//! The table forms, exactly.

#![allow(clippy::unwrap_used)]

use super::*;
use usp_proto::msg::notify::Notification as N;

fn kv(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn tables_align_and_cap_the_first_column() {
    let rows = vec![row(&["a", "1"]), row(&["long key", "2", "x"]), row(&["b"])];
    assert_eq!(table(&rows), "a         1\nlong key  2  x\nb\n");
    let long = "D".repeat(100);
    let t = table(&[row(&[&long, "v"]), row(&["s", "w"])]);
    assert_eq!(t.lines().nth(1).unwrap(), format!("s{}  w", " ".repeat(MAX_KEY_WIDTH - 1)));
    assert_eq!(table(&[]), "");
}

#[test]
fn get_rows_and_per_path_errors() {
    let ok = msg::get_resp::RequestedPathResult {
        requested_path: "Device.DeviceInfo.".into(),
        err_code: 0,
        err_msg: String::new(),
        resolved_path_results: vec![msg::get_resp::ResolvedPathResult {
            resolved_path: "Device.DeviceInfo.".into(),
            result_params: kv(&[("ModelName", "Lab"), ("Manufacturer", "ACME")]),
        }],
    };
    let bad = msg::get_resp::RequestedPathResult {
        requested_path: "Device.Nope.".into(),
        err_code: 7026,
        err_msg: "Invalid path".into(),
        resolved_path_results: vec![],
    };
    let r = get(&msg::GetResp { req_path_results: vec![ok, bad] });
    assert_eq!(
        r.stdout,
        "Device.DeviceInfo.Manufacturer  ACME\nDevice.DeviceInfo.ModelName     Lab\n"
    );
    assert_eq!(r.failures, ["Device.Nope.: error 7026: Invalid path"]);
    assert!(r.failed());
}

#[test]
fn usp_errors_list_their_parameters() {
    let e = UspFailure {
        code: 7004,
        message: "Invalid arguments".into(),
        param_errs: vec![("Device.X.A".into(), 7012, "read-only".into())],
    };
    assert_eq!(
        usp_error(&e).failures,
        ["error 7004: Invalid arguments", "Device.X.A: error 7012: read-only"]
    );
}

#[test]
fn gsdm_shows_objects_then_their_members() {
    use msg::get_supported_dm_resp as d;
    let obj = d::SupportedObjectResult {
        supported_obj_path: "Device.X.{i}.".into(),
        access: d::ObjAccessType::ObjAddDelete.into(),
        is_multi_instance: true,
        supported_commands: vec![d::SupportedCommandResult {
            command_name: "Run()".into(),
            input_arg_names: vec!["Delay".into()],
            output_arg_names: vec!["Elapsed".into()],
            command_type: d::CmdType::CmdAsync.into(),
        }],
        supported_events: vec![d::SupportedEventResult {
            event_name: "Ping!".into(),
            arg_names: vec!["Count".into()],
        }],
        supported_params: vec![d::SupportedParamResult {
            param_name: "Name".into(),
            access: d::ParamAccessType::ParamReadWrite.into(),
            value_type: d::ParamValueType::ParamUnsignedInt.into(),
            value_change: d::ValueChangeType::ValueChangeWillIgnore.into(),
        }],
        divergent_paths: vec![],
        unique_key_sets: vec![d::SupportedUniqueKeySet { key_names: vec!["Name".into()] }],
    };
    let resp = msg::GetSupportedDmResp {
        req_obj_results: vec![d::RequestedObjectResult {
            req_obj_path: "Device.X.".into(),
            err_code: 0,
            err_msg: String::new(),
            data_model_inst_uri: String::new(),
            supported_objs: vec![obj],
        }],
    };
    assert_eq!(
        gsdm(&resp).stdout,
        "\
Device.X.{i}.  table          add-delete  keys: Name
  Name         unsigned_int   read-write  no value change
  Run()        async command  in: Delay  out: Elapsed
  Ping!        event          args: Count
"
    );
}

#[test]
fn operate_outcomes() {
    let results = [
        CommandResult { command: "Device.A()".into(), outcome: CommandOutcome::Output(kv(&[])) },
        CommandResult {
            command: "Device.B()".into(),
            outcome: CommandOutcome::Output(kv(&[("Out", "x y")])),
        },
        CommandResult {
            command: "Device.C()".into(),
            outcome: CommandOutcome::Started { request: "Device.LocalAgent.Request.1.".into() },
        },
        CommandResult {
            command: "Device.D()".into(),
            outcome: CommandOutcome::Failed { code: 7022, message: "no".into() },
        },
    ];
    let r = operate(&results);
    assert_eq!(
        r.stdout,
        "Device.A()  done\nDevice.B()\n  Out       x y\nDevice.C()  started as Device.LocalAgent.Request.1.\n"
    );
    assert_eq!(r.failures, ["Device.D(): error 7022: no"]);
}

#[test]
fn notifications_are_one_line_each() {
    let n = |kind| Notification {
        msg_id: "m".into(),
        from: "a".into(),
        notify: msg::Notify {
            subscription_id: "sub-1".into(),
            send_resp: false,
            notification: Some(kind),
        },
    };
    let vc = N::ValueChange(msg::notify::ValueChange {
        param_path: "Device.X.A".into(),
        param_value: "7".into(),
    });
    assert_eq!(notification("12:00:01", &n(vc)), "12:00:01 sub-1 ValueChange Device.X.A = 7");
    let ev = N::Event(msg::notify::Event {
        obj_path: "Device.".into(),
        event_name: "Boot!".into(),
        params: kv(&[("Cause", "LocalReboot"), ("Reason", "")]),
    });
    assert_eq!(
        notification("t", &n(ev)),
        "t sub-1 Event Device.Boot! Cause=LocalReboot Reason=\"\""
    );
    let del = N::ObjDeletion(msg::notify::ObjectDeletion { obj_path: "Device.X.2.".into() });
    assert_eq!(notification("t", &n(del)), "t sub-1 ObjectDeletion Device.X.2.");
}
