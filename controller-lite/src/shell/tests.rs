//! Word splitting, and scripts run through the shell against a real agent core.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::agent_host::controller_with_agent;

fn words(line: &str) -> Vec<String> {
    split_words(line).unwrap()
}

#[test]
fn words_keep_usp_paths_whole() {
    assert_eq!(words("  get  Device.A. "), ["get", "Device.A."]);
    assert_eq!(
        words(r#"get Device.X.[Name=="a b"].Enable"#),
        ["get", r#"Device.X.[Name=="a b"].Enable"#]
    );
    assert_eq!(words("set Device.X.Alias='a b' Y=c\\ d"), ["set", "Device.X.Alias=a b", "Y=c d"]);
    assert_eq!(words("set X=''"), ["set", "X="]);
    assert!(split_words("get 'open").is_err());
    assert!(split_words("get \\").is_err());
    assert!(words("").is_empty());
}

fn script(text: &str) -> (Status, String, String) {
    let (mut ctl, _host) = controller_with_agent();
    let mut shell = Shell::new(&mut ctl, &Global::default());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = shell.run_script(&mut text.as_bytes(), &mut out, &mut err);
    (status, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
}

#[test]
fn a_script_runs_line_by_line_and_reports_the_worst_status() {
    let (status, out, err) = script(
        "# a comment\n\
         get Device.DeviceInfo.ModelName\n\
         \n\
         add Device.LocalAgent.Subscription. 'ID=with space'\n\
         get Device.LocalAgent.Subscription.1.ID --json\n\
         get Device.Nope.\n\
         frobnicate\n\
         exit\n\
         get Device.DeviceInfo.Manufacturer\n",
    );
    assert_eq!(status, Status::Usage, "{err}");
    assert!(out.starts_with("Device.DeviceInfo.ModelName  Lab Agent\n"), "{out}");
    assert!(out.contains("ID=\"with space\""), "{out}");
    assert!(out.contains("\"ID\": \"with space\""), "{out}");
    assert!(!out.contains("Manufacturer"), "nothing after exit: {out}");
    assert!(err.contains("Device.Nope.: error 7"), "{err}");
    assert!(err.contains("unknown command 'frobnicate'"), "{err}");
    assert!(err.contains("# agent os::00D09E-LAB0001 is up"), "{err}");
}

#[test]
fn shell_lines_refuse_transport_options_and_nested_shells() {
    let (status, _, err) = script("--mqtt b get Device.\nshell\n");
    assert_eq!(status, Status::Usage);
    assert!(err.contains("when uspctl starts"), "{err}");
    assert!(err.contains("already in the shell"), "{err}");
    let (status, out, _) = script("help\n");
    assert_eq!(status, Status::Ok);
    assert!(out.contains("Ctrl-D quits"), "{out}");
}

#[test]
fn the_data_model_is_learnt_for_completion() {
    let (mut ctl, _host) = controller_with_agent();
    let mut shell = Shell::new(&mut ctl, &Global::default());
    assert!(shell.learn_data_model());
    assert_eq!(shell.paths.complete("Device.DeviceInfo.Model"), ["Device.DeviceInfo.ModelName"]);
    // Paths met in answers are learnt too: instance numbers.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let text =
        "add Device.LocalAgent.Subscription. ID=x\ninstances Device.LocalAgent.Subscription.\n";
    shell.run_script(&mut text.as_bytes(), &mut out, &mut err);
    assert_eq!(
        shell.paths.complete("Device.LocalAgent.Subscription."),
        ["Device.LocalAgent.Subscription.*.", "Device.LocalAgent.Subscription.1."]
    );
}
