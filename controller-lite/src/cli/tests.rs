//! Command-line parsing.

#![allow(clippy::unwrap_used)]

use super::*;

fn parse(line: &str) -> Result<Invocation, ArgError> {
    parse_args(line.split_whitespace().map(OsString::from))
}

fn cmd(line: &str) -> Command {
    parse(line).unwrap().command.unwrap()
}

#[test]
fn options_anywhere_and_the_transport() {
    let inv = parse("--mqtt broker:1884 get Device.DeviceInfo. --max-depth 2 --json --agent os::a")
        .unwrap();
    assert!(inv.global.json);
    assert_eq!(inv.global.agent.as_deref(), Some("os::a"));
    assert_eq!(
        inv.global.transport.transport,
        Some(Transport::Mqtt { host: "broker".into(), port: Some(1884), v5: true })
    );
    assert_eq!(
        inv.command,
        Some(Command::Get { paths: vec!["Device.DeviceInfo.".into()], max_depth: 2 })
    );
    let inv = parse("--mqtt b --mqtt-v311 --topic t --agent-topic a --client-id c watch").unwrap();
    assert_eq!(inv.global.transport.client_id.as_deref(), Some("c"));
    assert!(matches!(inv.global.transport.transport, Some(Transport::Mqtt { v5: false, .. })));
    assert_eq!(inv.global.transport.agent_destination().as_deref(), Some("a"));
    let inv = parse("--stomp b --vhost usp-vhost --dest d --agent-dest a watch").unwrap();
    assert_eq!(inv.global.transport.vhost.as_deref(), Some("usp-vhost"));
    assert_eq!(inv.global.transport.agent_destination().as_deref(), Some("a"));
    assert_eq!(parse("--ws-listen 9000").unwrap().command, None);
    assert_eq!(parse("--timeout 2.5 proto").unwrap().global.timeout, Duration::from_millis(2500));
}

#[test]
fn bad_usage_is_explained() {
    let e = |line: &str| parse(line).unwrap_err().0;
    assert!(e("--mqtt a --stomp b get X.").contains("one transport"));
    assert!(e("--mqtt-v311 get X.").contains("--mqtt-v311 goes with --mqtt"));
    assert!(e("--topic t get X.").contains("go with --mqtt"));
    assert!(e("--mqtt b --vhost v get X.").contains("go with --stomp"));
    assert!(e("--stomp b --client-id c get X.").contains("go with --mqtt"));
    assert!(e("set X.A=1 --max-depth 2").contains("--max-depth does not apply to set"));
    assert!(e("--max-depth 2").contains("needs a command"));
    assert!(e("get").contains("get needs a path"));
    assert!(e("frobnicate").contains("unknown command"));
    assert!(e("--bogus get X.").contains("--bogus"));
    assert!(e("--timeout 0 get X.").contains("--timeout"));
    assert!(e("--max-depth x get X.").contains("not a whole number"));
    assert!(e("operate Device.Reboot").contains("()"));
    assert!(e("subscribe Boot Device.Boot!").contains("notification type"));
    assert!(e("watch extra").contains("takes no arguments"));
    assert!(e("--mqtt a:b get X.").contains("HOST[:PORT]"));
}

#[test]
fn every_command() {
    assert!(matches!(
        cmd("set Device.A.X=1 --allow-partial"),
        Command::Set { allow_partial: true, .. }
    ));
    assert!(matches!(cmd("add Device.A. N=1"), Command::Add { objects, .. } if objects.len() == 1));
    assert!(matches!(cmd("delete Device.A.1."), Command::Del { allow_partial: false, .. }));
    let Command::Operate { command, args, no_wait, wait_max } =
        cmd("operate Device.ScheduleTimer() DelaySeconds=3 --no-wait --wait-max 9")
    else {
        panic!()
    };
    assert_eq!((command.as_str(), args["DelaySeconds"].as_str()), ("Device.ScheduleTimer()", "3"));
    assert!(no_wait);
    assert_eq!(wait_max, Some(Duration::from_secs(9)));
    assert!(matches!(
        cmd("instances Device.A. --first-level-only"),
        Command::Instances { first_level_only: true, .. }
    ));
    let Command::Gsdm { paths, options } = cmd("gsdm --no-events --unique-keys") else { panic!() };
    assert_eq!(paths, ["Device."]);
    assert!(!options.events && options.unique_keys && options.commands && options.params);
    assert_eq!(cmd("proto 1.4"), Command::Proto { versions: Some("1.4".into()) });
    let Command::Subscribe { notif_type, reference_list, keep, limits } =
        cmd("subscribe valuechange Device.X. --keep --count 3 --for 60")
    else {
        panic!()
    };
    assert_eq!(
        (notif_type.as_str(), reference_list.as_str(), keep),
        ("ValueChange", "Device.X.", true)
    );
    assert_eq!(limits, Limits { count: Some(3), duration: Some(Duration::from_secs(60)) });
    assert_eq!(cmd("decode 0a0b"), Command::Decode { input: Some("0a0b".into()) });
    assert!(
        matches!(cmd("encode get Device. --max-depth 1"), Command::Encode(c) if matches!(*c, Command::Get { max_depth: 1, .. }))
    );
    assert!(parse("encode watch").is_err());
    assert_eq!(cmd("shell"), Command::Shell);
    assert_eq!(cmd("--help"), Command::Help);
    assert!(!Command::Help.needs_agent() && Command::Shell.needs_agent());
}

#[test]
fn shell_lines_take_command_options_but_not_transport_ones() {
    let g = Global { json: false, ..Global::default() };
    let words = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let (c, g2) = parse_line(&words("get Device. --json"), &g).unwrap();
    assert!(matches!(c, Command::Get { .. }) && g2.json);
    assert!(
        parse_line(&words("--mqtt b get Device."), &g)
            .unwrap_err()
            .0
            .contains("when uspctl starts")
    );
    assert!(parse_line(&[], &g).is_err());
}

#[test]
fn the_help_names_every_command() {
    for c in [
        "get",
        "set",
        "add",
        "del",
        "operate",
        "instances",
        "gsdm",
        "proto",
        "subscribe",
        "watch",
        "decode",
        "encode",
        "shell",
    ] {
        assert!(HELP.contains(&format!("\n    {c} ")), "{c}");
    }
}
