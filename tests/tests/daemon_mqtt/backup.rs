//! Configuration backup and restore end to end (`Device.DeviceInfo.VendorConfigFile.1.`): the
//! real `uspagent` behind a private Mosquitto uploads a snapshot of its database to a
//! 127.0.0.1 HTTP server (PUT, Digest auth), and a later Restore of that file brings the
//! backed-up configuration back after the agent restarts (Boot! with the Restore's
//! CommandKey); a file that is not an agent database is refused and changes nothing.

use std::sync::{Arc, Mutex};

use usp_proto::msg::Operate;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::notify::operation_complete::OperationResp;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use crate::ctl::Ctl;
use crate::messages::{get, set};
use crate::setup;

const ROW: &str = "Device.DeviceInfo.VendorConfigFile.1.";
pub(crate) const BOOT_PARAM: &str = "Device.LocalAgent.Controller.1.BootParameter.1.";

fn subscriptions() -> String {
    subscriptions_of(ROW)
}

/// Subscriptions to the OperationComplete of the commands of `row` and to TransferComplete!.
pub(crate) fn subscriptions_of(row: &str) -> String {
    let mut text = String::new();
    for (n, id, kind, refs) in [
        (2, "oc", "OperationComplete", row),
        (3, "tc", "Event", "Device.LocalAgent.TransferComplete!"),
    ] {
        let base = format!("Device.LocalAgent.Subscription.{n}");
        text.push_str(&format!(
            "{base}.Enable true\n{base}.ID \"{id}\"\n{base}.Recipient \"Device.LocalAgent.Controller.1\"\n\
             {base}.NotifType \"{kind}\"\n{base}.ReferenceList \"{refs}\"\n{base}.Persistent true\n"
        ));
    }
    text
}

/// Runs `command` with `args`; the OperationComplete's error code (0: success) and the
/// TransferComplete! parameters.
fn run(
    ctl: &mut Ctl,
    agent: &RunningAgent,
    command: &str,
    key: &str,
    args: &[(&str, &str)],
) -> (u32, std::collections::BTreeMap<String, String>) {
    run_on(ctl, agent, &format!("{ROW}{command}"), key, args)
}

/// Runs the command `path` with `args`, as [`run`].
pub(crate) fn run_on(
    ctl: &mut Ctl,
    agent: &RunningAgent,
    path: &str,
    key: &str,
    args: &[(&str, &str)],
) -> (u32, std::collections::BTreeMap<String, String>) {
    let operate = Operate {
        command: path.to_owned(),
        command_key: key.into(),
        send_resp: true,
        input_args: args.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    };
    let resp = ctl.call(ReqType::Operate(operate), agent);
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    let (_, n) = ctl.notify(
        "OperationComplete",
        agent,
        |n| matches!(n, Notification::OperComplete(oc) if oc.command_key == key),
    );
    let Some(Notification::OperComplete(oc)) = n.notification else { unreachable!() };
    let code = match oc.operation_resp {
        Some(OperationResp::CmdFailure(f)) => f.err_code,
        _ => 0,
    };
    let (_, n) = ctl.notify("TransferComplete!", agent, |n| {
        matches!(n, Notification::Event(e) if e.event_name == "TransferComplete!"
            && e.params.get("CommandKey").is_some_and(|k| k == key))
    });
    let Some(Notification::Event(e)) = n.notification else { unreachable!() };
    (code, e.params)
}

#[test]
fn backup_then_restore_brings_the_configuration_back() {
    let broker = Mosquitto::start(MosquittoOpts::default());
    let server = HttpServer::start();
    let received = Arc::new(Mutex::new(None));
    let digest = Some(("ops".to_owned(), "secret".to_owned(), "SHA-256"));
    server.route("/backup.db", Route::Upload { digest, received: received.clone() });
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let reset = setup::reset(broker.port(), true) + &subscriptions();
    let agent = setup::agent(&reset, &[]);
    ctl.connect_record(&agent);
    ctl.notify("Boot!", &agent, |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"));
    set(&mut ctl, &agent, BOOT_PARAM, "ParameterName", "Device.DeviceInfo.ModelName");

    let url = server.url("/backup.db");
    let creds = [("URL", url.as_str()), ("Username", "ops"), ("Password", "secret")];
    let (code, tc) = run(&mut ctl, &agent, "Backup()", "bk-1", &creds);
    assert_eq!((code, tc["FaultCode"].as_str()), (0, "0"), "{tc:?}");
    assert_eq!(tc["TransferType"], "Upload");
    assert_eq!(tc["Affected"], ROW);
    let backup = received.lock().unwrap().take().expect("uploaded");
    assert!(backup.starts_with(b"SQLite format 3\0"), "an SQLite snapshot");

    // A file that is not an agent database is refused; nothing changes, no restart.
    server.route("/junk.db", Route::File(b"SQLite format 3\0 but not really".to_vec()));
    set(&mut ctl, &agent, BOOT_PARAM, "ParameterName", "Device.DeviceInfo.Manufacturer");
    let junk = server.url("/junk.db");
    let args = [("URL", junk.as_str()), ("Username", ""), ("Password", "")];
    let (code, tc) = run(&mut ctl, &agent, "Restore()", "rs-bad", &args);
    assert_eq!((code, tc["FaultCode"].as_str()), (7022, "7022"), "{tc:?}");
    assert!(tc["FaultString"].contains("not an agent database"), "{tc:?}");
    let now = get(&mut ctl, &agent, &[&format!("{BOOT_PARAM}ParameterName")]);
    assert_eq!(now[&format!("{BOOT_PARAM}ParameterName")], "Device.DeviceInfo.Manufacturer");

    // The backup restored: the agent restarts with the configuration it had then.
    let sum = sha256_hex(&backup);
    server.route("/restore.db", Route::File(backup));
    let good = server.url("/restore.db");
    let args = [
        ("URL", good.as_str()),
        ("Username", ""),
        ("Password", ""),
        ("CheckSumAlgorithm", "SHA-256"),
        ("CheckSum", sum.as_str()),
    ];
    let (code, tc) = run(&mut ctl, &agent, "Restore()", "rs-1", &args);
    assert_eq!((code, tc["FaultCode"].as_str()), (0, "0"), "{tc:?}");
    assert_eq!(tc["TransferType"], "Download");
    let hello = ctl.connect_record(&agent);
    let (got, n) = ctl.notify(
        "Boot!",
        &agent,
        |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"),
    );
    assert!(got.seq > hello.seq);
    let Some(Notification::Event(e)) = n.notification else { unreachable!() };
    assert_eq!(e.params["Cause"], "RemoteReboot");
    assert_eq!(e.params["CommandKey"], "rs-1");
    assert!(e.params["ParameterMap"].contains("ModelName"), "{:?}", e.params);
    let now = get(&mut ctl, &agent, &[&format!("{BOOT_PARAM}ParameterName")]);
    assert_eq!(now[&format!("{BOOT_PARAM}ParameterName")], "Device.DeviceInfo.ModelName");
}

fn sha256_hex(data: &[u8]) -> String {
    let mut h = usp_areas::transfer::sum::Algorithm::Sha256.hasher();
    h.update(data);
    h.finish_hex()
}
