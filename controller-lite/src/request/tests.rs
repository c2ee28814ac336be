//! The request builders and the `PATH=VALUE` syntax.

#![allow(clippy::unwrap_used)]

use super::*;

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn s(param: &str, value: &str, required: bool) -> Setting {
    Setting { param: param.into(), value: value.into(), required }
}

#[test]
fn set_groups_full_paths_per_object_in_first_seen_order() {
    let objs =
        parse_set(&words("Device.A.1.X=1 Device.B.Y?=two Device.A.1.Z= Device.A.1.W=a=b")).unwrap();
    assert_eq!(
        objs,
        [
            ObjectSettings {
                obj_path: "Device.A.1.".into(),
                settings: vec![s("X", "1", true), s("Z", "", true), s("W", "a=b", true)],
            },
            ObjectSettings { obj_path: "Device.B.".into(), settings: vec![s("Y", "two", false)] },
        ]
    );
}

#[test]
fn set_accepts_an_object_then_relative_names_and_search_paths() {
    let objs = parse_set(&words(
        r#"Device.LocalAgent.Controller.1. Alias=x Enable?=true Device.X.[Name=="a.b"].On=1"#,
    ))
    .unwrap();
    assert_eq!(objs[0].obj_path, "Device.LocalAgent.Controller.1.");
    assert_eq!(objs[0].settings, [s("Alias", "x", true), s("Enable", "true", false)]);
    assert_eq!(objs[1].obj_path, r#"Device.X.[Name=="a.b"]."#);
    assert_eq!(objs[1].settings, [s("On", "1", true)]);
}

#[test]
fn set_refuses_what_it_cannot_place() {
    let err = |t: &str| parse_set(&words(t)).unwrap_err().0;
    assert!(err("Alias=x").contains("give the object first"));
    assert!(err("Device.X.").contains("nothing to set in Device.X."));
    assert!(err("Device.X.Y").contains("object path ending with '.'"));
    assert!(err("Device.X.=3").contains("parameter name"));
    assert!(err("Device.X. ?=3").contains("parameter name"));
    assert!(parse_set(&[]).is_err());
}

#[test]
fn add_starts_a_new_object_at_each_object_path() {
    let objs = parse_add(&words("Device.T. Name=a Stats.Hits=3 Device.T. Device.U. K?=v")).unwrap();
    assert_eq!(objs.len(), 3);
    assert_eq!(objs[0].settings, [s("Name", "a", true), s("Stats.Hits", "3", true)]);
    assert!(objs[1].settings.is_empty());
    assert_eq!(
        (objs[2].obj_path.as_str(), &objs[2].settings[..]),
        ("Device.U.", &[s("K", "v", false)][..])
    );
    assert!(parse_add(&words("Name=a")).is_err());
    assert!(parse_add(&[]).is_err());
    let ReqType::Add(add) = add(&objs, true) else { panic!() };
    assert!(add.allow_partial);
    assert_eq!(add.create_objs[0].param_settings[1].param, "Stats.Hits");
    assert!(!add.create_objs[2].param_settings[0].required);
}

#[test]
fn set_builds_update_objects() {
    let objs = parse_set(&words("Device.A.X=1 Device.A.Y?=2")).unwrap();
    let ReqType::Set(set) = set(&objs, false) else { panic!() };
    assert!(!set.allow_partial);
    assert_eq!(set.update_objs.len(), 1);
    let p = &set.update_objs[0].param_settings;
    assert_eq!((p[0].param.as_str(), p[0].value.as_str(), p[0].required), ("X", "1", true));
    assert_eq!((p[1].param.as_str(), p[1].required), ("Y", false));
}

#[test]
fn operate_arguments_and_command_paths() {
    let args = parse_args(&words("DelaySeconds=5 Note=a=b Empty=")).unwrap();
    assert_eq!(args["DelaySeconds"], "5");
    assert_eq!(args["Note"], "a=b");
    assert_eq!(args["Empty"], "");
    assert!(parse_args(&words("=x")).is_err());
    assert!(parse_args(&words("x")).is_err());
    assert!(check_command("Device.Reboot()").is_ok());
    assert!(check_command("Device.Reboot").unwrap_err().0.contains("ends with '()'"));
    let ReqType::Operate(op) = operate("Device.Reboot()", &args, "k", true) else { panic!() };
    assert_eq!(
        (op.command.as_str(), op.command_key.as_str(), op.send_resp),
        ("Device.Reboot()", "k", true)
    );
    assert_eq!(op.input_args.len(), 3);
}

#[test]
fn read_requests() {
    let paths = words("Device.A. Device.B.");
    let ReqType::Get(g) = get(&paths, 2) else { panic!() };
    assert_eq!((g.param_paths.len(), g.max_depth), (2, 2));
    let ReqType::GetInstances(i) = instances(&paths, true) else { panic!() };
    assert!(i.first_level_only);
    let o = GsdmOptions { commands: false, unique_keys: true, ..GsdmOptions::default() };
    let ReqType::GetSupportedDm(d) = gsdm(&paths, o) else { panic!() };
    assert!(!d.return_commands && d.return_events && d.return_params && d.return_unique_key_sets);
    let ReqType::GetSupportedProtocol(p) = proto(None) else { panic!() };
    assert_eq!(p.controller_supported_protocol_versions, SUPPORTED_VERSIONS);
    let ReqType::Delete(d) = delete(&paths, true) else { panic!() };
    assert!(d.allow_partial && d.obj_paths == paths);
}

#[test]
fn subscriptions_and_notification_types() {
    assert_eq!(notif_type("valuechange").unwrap(), "ValueChange");
    assert!(notif_type("Boot").unwrap_err().0.contains("OperationComplete"));
    let add = subscription("id-1", "Event", "Device.Boot!");
    let obj = &add.create_objs[0];
    assert_eq!(obj.obj_path, SUBSCRIPTION_TABLE);
    let find = |n: &str| obj.param_settings.iter().find(|p| p.param == n).map(|p| p.value.as_str());
    assert_eq!(find("ID"), Some("id-1"));
    assert_eq!(find("NotifType"), Some("Event"));
    assert_eq!(find("ReferenceList"), Some("Device.Boot!"));
    assert_eq!(find("Enable"), Some("true"));
}
