//! Device.SoftwareModules. end to end: the `uspagent` daemon behind a private Mosquitto,
//! driven over MQTT by uspctl's library (`uspctl::client::Controller`), DUs served by a
//! 127.0.0.1 HTTP server.
//!
//! - `--platform openwrt` with OpenWrt's real `opkg` (built by the testbed from
//!   `USP_OPENWRT_SRC`; skipped with a recorded line without the sources) on an offline root:
//!   InstallDU of a real `.ipk` → `DUStateChange!` and OperationComplete → the package in the
//!   opkg status database → an agent restart keeps the DU at the same instance → Uninstall →
//!   `DUStateChange!` Uninstalled and the package gone.
//! - `--platform lab`: a tarball DU whose EU runs as a child process; after an agent restart
//!   the DU keeps its number and its AutoStart EU runs again.
//!
//! Needs `mosquitto` and the `uspagent` binary (`cargo build -p uspagent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "daemon_mqtt/ctl.rs"]
#[allow(dead_code)]
mod ctl;
#[path = "daemon_mqtt/setup.rs"]
#[allow(dead_code)]
mod setup;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use usp_areas::openwrt::testbed::{Testbed, record_skip};
use usp_proto::msg::notify::Notification as Kind;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Get, Operate};
use usp_testkit::agent::RunningAgent;
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};
use uspctl::client::{Controller, ControllerConfig, Event};
use uspctl::transport::{Transport, TransportOptions, open_link};

const WAIT: Duration = Duration::from_secs(20);

/// Subscriptions of controller 1 to DUStateChange! and the commands' OperationComplete.
fn subscriptions() -> String {
    let mut text = String::new();
    for (n, id, kind, refs) in [
        (2, "du", "Event", "Device.SoftwareModules.DUStateChange!"),
        (3, "oc", "OperationComplete", "Device.SoftwareModules."),
    ] {
        let base = format!("Device.LocalAgent.Subscription.{n}");
        text.push_str(&format!(
            "{base}.Enable true\n{base}.ID \"{id}\"\n{base}.Recipient \"Device.LocalAgent.Controller.1\"\n\
             {base}.NotifType \"{kind}\"\n{base}.ReferenceList \"{refs}\"\n{base}.Persistent true\n"
        ));
    }
    text
}

/// uspctl's controller on the broker, with the test's controller names.
fn controller(port: u16) -> Controller {
    let opts = TransportOptions {
        transport: Some(Transport::Mqtt { host: "127.0.0.1".into(), port: Some(port), v5: true }),
        topic: Some(setup::CTL_TOPIC.into()),
        agent_topic: Some(setup::AGENT_TOPIC.into()),
        ..TransportOptions::default()
    };
    let cfg = ControllerConfig {
        endpoint_id: setup::CTL.into(),
        agent: Some(setup::AGENT.into()),
        agent_dest: Some(setup::AGENT_TOPIC.into()),
        timeout: WAIT,
    };
    let mut c = Controller::start(cfg, |id, sink| {
        open_link(&opts, setup::CTL, Some(setup::AGENT), id, sink)
    })
    .expect("uspctl link");
    c.wait_ready(WAIT).expect("the controller's link is up");
    c
}

/// Waits for the agent's MQTT Connect Record: it is subscribed and serving.
fn agent_up(c: &mut Controller, agent: &RunningAgent) {
    let up = c.wait_event(WAIT, |e| matches!(e, Event::AgentUp { .. })).expect("link");
    assert!(up.is_some(), "the agent did not connect; log:\n{}", agent.log());
}

fn get(c: &mut Controller, path: &str) -> BTreeMap<String, String> {
    let resp = c.get(Get { param_paths: vec![path.into()], max_depth: 0 }).expect("GetResp");
    let mut out = BTreeMap::new();
    for r in resp.req_path_results {
        assert_eq!(r.err_code, 0, "get {path}: {}", r.err_msg);
        for res in r.resolved_path_results {
            for (k, v) in res.result_params {
                out.insert(format!("{}{k}", res.resolved_path), v);
            }
        }
    }
    out
}

/// Runs `command` (async) with `args` and returns the DUStateChange! parameters and whether
/// the OperationComplete was a success.
fn operate(
    c: &mut Controller,
    command: &str,
    args: &[(&str, &str)],
) -> (HashMap<String, String>, bool) {
    let op = Operate {
        command: command.into(),
        command_key: format!("key-{command}"),
        send_resp: true,
        input_args: args.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    };
    let resp = c.call(ReqType::Operate(op)).expect("OperateResp");
    assert!(matches!(resp, RespType::OperateResp(_)), "{resp:?}");
    let du = c
        .wait_event(WAIT, |e| {
            matches!(e, Event::Notify(n) if matches!(&n.notify.notification,
                Some(Kind::Event(ev)) if ev.event_name == "DUStateChange!"))
        })
        .expect("link")
        .expect("DUStateChange! within the wait");
    let Event::Notify(n) = du else { unreachable!() };
    let Some(Kind::Event(ev)) = n.notify.notification else { unreachable!() };
    let oc = c
        .wait_event(WAIT, |e| {
            matches!(e, Event::Notify(n) if matches!(&n.notify.notification,
                Some(Kind::OperComplete(oc)) if oc.command_key == format!("key-{command}")))
        })
        .expect("link")
        .expect("OperationComplete within the wait");
    let Event::Notify(n) = oc else { unreachable!() };
    let Some(Kind::OperComplete(oc)) = n.notify.notification else { unreachable!() };
    let ok = matches!(
        oc.operation_resp,
        Some(usp_proto::msg::notify::operation_complete::OperationResp::ReqOutputArgs(_))
    );
    (ev.params.into_iter().collect(), ok)
}

fn status_db(root: &Path) -> String {
    std::fs::read_to_string(root.join("usr/lib/opkg/status")).unwrap_or_default()
}

fn start_agent(reset: &str, db: &Path, more: &[&str]) -> RunningAgent {
    let mut args = vec!["-f", db.to_str().unwrap()];
    args.extend_from_slice(more);
    setup::agent(reset, &args)
}

#[test]
fn a_controller_installs_and_uninstalls_an_opkg_package_over_mqtt() {
    let prefix = match Testbed::userland() {
        Ok(p) => p,
        Err(why) => return record_skip(&why),
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let conf = dir.path().join("opkg.conf");
    let arch = std::env::consts::ARCH;
    std::fs::write(
        &conf,
        format!("dest root /\nlists_dir ext /var/opkg-lists\narch all 1\narch {arch} 10\n"),
    )
    .unwrap();
    let server = HttpServer::start();
    server.route(
        "/hello.ipk",
        Route::File(usp_areas::software::testing::ipk("hello", "1.2-1", "all")),
    );
    let broker = Mosquitto::start(MosquittoOpts::default());
    let reset = setup::reset(broker.port(), true) + &subscriptions();
    let db = dir.path().join("usp.db");
    let opkg = prefix.join("bin/opkg-cl");
    let args = [
        "--platform",
        "openwrt",
        "--opkg-program",
        opkg.to_str().unwrap(),
        "--opkg-root",
        root.to_str().unwrap(),
        "--opkg-conf",
        conf.to_str().unwrap(),
    ];
    let mut c = controller(broker.port());
    let mut agent = start_agent(&reset, &db, &args);
    agent_up(&mut c, &agent);

    let url = server.url("/hello.ipk");
    let (ev, ok) = operate(&mut c, "Device.SoftwareModules.InstallDU()", &[("URL", &url)]);
    assert!(ok, "{ev:?}\n{}", agent.log());
    assert_eq!(ev["CurrentState"], "Installed");
    assert_eq!(ev["OperationPerformed"], "Install");
    assert_eq!(ev["Version"], "1.2-1");
    assert_eq!(ev["Fault.FaultCode"], "0");
    let du = ev["DeploymentUnitRef"].clone();
    assert!(du.starts_with("Device.SoftwareModules.DeploymentUnit."), "{du}");
    assert!(status_db(&root).contains("Package: hello\nVersion: 1.2-1\n"), "{}", status_db(&root));
    assert!(root.join("etc/init.d/hello").is_file());
    let values = get(&mut c, &du);
    assert_eq!(values[&format!("{du}Name")], "hello");
    assert_eq!(values[&format!("{du}URL")], url);
    assert_eq!(values[&format!("{du}ExecutionUnitList")], ev["ExecutionUnitRefList"]);

    // An agent restart keeps the DU at the same instance.
    agent.terminate();
    let agent = start_agent(&reset, &db, &args);
    agent_up(&mut c, &agent);
    assert_eq!(get(&mut c, &format!("{du}Name"))[&format!("{du}Name")], "hello");

    let (ev, ok) = operate(&mut c, &format!("{du}Uninstall()"), &[]);
    assert!(ok, "{ev:?}\n{}", agent.log());
    assert_eq!(ev["CurrentState"], "Uninstalled");
    assert_eq!(ev["DeploymentUnitRef"], du);
    assert!(!status_db(&root).contains("Package: hello"));
    assert!(!root.join("etc/init.d/hello").exists());
    let n = get(&mut c, "Device.SoftwareModules.DeploymentUnitNumberOfEntries");
    assert_eq!(n["Device.SoftwareModules.DeploymentUnitNumberOfEntries"], "0");
}

/// Stops the EU processes a (terminated) agent left, by the pids it recorded.
fn stop_leftovers(state: &Path) {
    for du in std::fs::read_dir(state.join("software/du")).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(du.path()).into_iter().flatten().flatten() {
            if f.file_name().to_string_lossy().starts_with(".pid-") {
                let pid = std::fs::read_to_string(f.path()).unwrap_or_default();
                let _ = std::process::Command::new("kill").arg(pid.trim()).status();
            }
        }
    }
}

#[test]
fn lab_dus_survive_an_agent_restart_and_their_autostart_eus_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = HttpServer::start();
    let tar = usp_areas::software::tarball::pack(&[(
        "manifest",
        0o644,
        b"name=svc\nversion=1\neu.main=sleep 120\n",
    )]);
    server.route("/svc.tar", Route::File(tar));
    let broker = Mosquitto::start(MosquittoOpts::default());
    let reset = setup::reset(broker.port(), true) + &subscriptions();
    let db = dir.path().join("usp.db");
    let mut c = controller(broker.port());
    let mut agent = start_agent(&reset, &db, &["--platform", "lab"]);
    agent_up(&mut c, &agent);
    let (ev, ok) =
        operate(&mut c, "Device.SoftwareModules.InstallDU()", &[("URL", &server.url("/svc.tar"))]);
    assert!(ok, "{ev:?}\n{}", agent.log());
    let du = ev["DeploymentUnitRef"].clone();
    let eu = ev["ExecutionUnitRefList"].clone();
    assert!(eu.starts_with("Device.SoftwareModules.ExecutionUnit."), "{eu}");
    let status = format!("{eu}Status");
    let end = std::time::Instant::now() + WAIT;
    while get(&mut c, &status)[&status] != "Active" && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&mut c, &status)[&status], "Active");

    // The agent ends without stopping its EU; the next one stops that process (its pid file
    // and working directory say it is the EU's) and starts the AutoStart EU anew.
    let pidfile = dir.path().join("software/du/svc/.pid-main");
    let old_pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    agent.terminate();
    assert!(Path::new(&format!("/proc/{old_pid}")).exists(), "the EU outlives its agent");
    let agent = start_agent(&reset, &db, &["--platform", "lab"]);
    agent_up(&mut c, &agent);
    assert_eq!(get(&mut c, &format!("{du}Name"))[&format!("{du}Name")], "svc");
    let gone = |p: &str| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).map_or(true, |s| {
            s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    };
    assert!(gone(&old_pid), "the previous agent's EU process {old_pid} was stopped");
    let new_pid = std::fs::read_to_string(&pidfile).unwrap_or_default().trim().to_owned();
    assert_ne!(new_pid, old_pid);
    let end = std::time::Instant::now() + WAIT;
    while get(&mut c, &status)[&status] != "Active" && std::time::Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(&mut c, &status)[&status], "Active", "{}", agent.log());
    let (ev, ok) = operate(&mut c, &format!("{du}Uninstall()"), &[]);
    assert!(ok, "{ev:?}");
    assert_eq!(ev["CurrentState"], "Uninstalled");
    drop(agent);
    stop_leftovers(dir.path());
}
