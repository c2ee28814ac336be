//! Benchmark (a program, not a test): Get latency of the `uspagent` daemon while it installs a
//! 20 MB deployment unit. The agent runs with `--platform lab` behind a private Mosquitto; a
//! 127.0.0.1 HTTP server serves the DU (a tarball: a manifest and 20 MB of incompressible
//! data); uspctl's library sends `InstallDU()` and then Gets
//! `Device.SoftwareModules.ExecEnv.1.` back to back until the OperationComplete arrives.
//!
//! Run: `cargo build --release -p uspagent && cargo run --release -p usp-tests --example
//! bench_software` (the agent is the one `cargo_bin` finds, the release one when built).
//! Prints the p50/p99/max Get round trip idle and during the install, and the install's
//! duration. The MQTT round trip has a floor of its own (tens of ms through the broker), so a
//! second part measures the data-model thread alone, in process: the same Get answered by
//! `usp_datamodel` while the area's workers download and unpack the same 20 MB DU. Every loop
//! is bounded in count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/daemon_mqtt/ctl.rs"]
#[allow(dead_code)]
mod ctl;
#[path = "../tests/daemon_mqtt/setup.rs"]
#[allow(dead_code)]
mod setup;

use std::time::{Duration, Instant};

use usp_proto::msg::notify::Notification as Kind;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Get, Operate};
use usp_testkit::http::{HttpServer, Route};
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};
use uspctl::client::{Controller, ControllerConfig, Event};
use uspctl::transport::{Transport, TransportOptions, open_link};

const SIZE: usize = 20 << 20;

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
        timeout: Duration::from_secs(20),
    };
    let mut c = Controller::start(cfg, |id, sink| {
        open_link(&opts, setup::CTL, Some(setup::AGENT), id, sink)
    })
    .expect("link");
    c.wait_ready(Duration::from_secs(20)).expect("link up");
    c
}

/// One Get's round trip.
fn get(c: &mut Controller) -> Duration {
    let started = Instant::now();
    let req = Get { param_paths: vec!["Device.SoftwareModules.ExecEnv.1.".into()], max_depth: 0 };
    let resp = c.get(req).expect("GetResp");
    assert_eq!(resp.req_path_results[0].err_code, 0);
    started.elapsed()
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    let slow = v.iter().filter(|d| **d > Duration::from_millis(10)).count();
    println!(
        "{what}: {} Gets, p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.2} ms, {slow} over 10 ms",
        v.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(0.999).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

/// The in-process part: Gets of `ExecEnv.1.` on the data-model thread while the lab
/// environment installs the DU at `url`.
fn in_process(url: &str) {
    use usp_datamodel::path::Path as DmPath;
    use usp_datamodel::plugin::{DmEvent, Now, Requester};
    use usp_datamodel::store::MemStore;
    use usp_datamodel::value::DateTime;
    let dir = tempfile::tempdir().unwrap();
    let host = usp_areas::Host::new(Default::default(), usp_areas::Platform::Lab, dir.path());
    let boot = Instant::now();
    let now = || Now { uptime: boot.elapsed(), wall: DateTime::from_unix(1_714_564_800) };
    let mut dm =
        usp_datamodel::DataModel::new(usp_areas::plugins(&host), Box::new(MemStore::new()), now())
            .unwrap();
    let who = Requester::Controller("bench".into());
    let path = DmPath::parse("Device.SoftwareModules.ExecEnv.1.").unwrap();
    let get = |dm: &mut usp_datamodel::DataModel| {
        let started = Instant::now();
        let t = dm.resolve(&who, &path).unwrap().remove(0);
        let values = dm.read_all(&who, t.obj, &t.numbers);
        assert!(!values.is_empty());
        started.elapsed()
    };
    let idle: Vec<Duration> = (0..2000).map(|_| get(&mut dm)).collect();
    report("in process, idle", idle);
    let install = DmPath::parse("Device.SoftwareModules.InstallDU()").unwrap();
    let target = dm.resolve(&Requester::Internal, &install).unwrap().remove(0);
    dm.operate(&who, &target, &[("URL".to_owned(), url.to_owned())]).unwrap();
    let started = Instant::now();
    let mut during = Vec::new();
    let mut took = None;
    while started.elapsed() < Duration::from_secs(300) && during.len() < 10_000_000 {
        dm.tick(now(), true);
        let ended =
            dm.drain_events().into_iter().any(|e| matches!(e, DmEvent::OperationComplete { .. }));
        if ended {
            took = Some(started.elapsed());
            break;
        }
        during.push(get(&mut dm));
    }
    report("in process, during the InstallDU", during);
    let took = took.expect("the InstallDU completed within 300 s");
    println!("in process, InstallDU took {:.2} s", took.as_secs_f64());
}

fn main() {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let blob: Vec<u8> = (0..SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let tar = usp_areas::software::tarball::pack(&[
        ("manifest", 0o644, b"name=big\nversion=1\neu.main=sleep 30\nautostart.main=false\n"),
        ("blob", 0o644, &blob),
    ]);
    println!("DU: {} bytes", tar.len());
    let server = HttpServer::start();
    server.route("/big.tar", Route::File(tar));
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut c = controller(broker.port());
    let reset = setup::reset(broker.port(), true)
        + "Device.LocalAgent.Subscription.2.Enable true\n\
           Device.LocalAgent.Subscription.2.ID \"oc\"\n\
           Device.LocalAgent.Subscription.2.Recipient \"Device.LocalAgent.Controller.1\"\n\
           Device.LocalAgent.Subscription.2.NotifType \"OperationComplete\"\n\
           Device.LocalAgent.Subscription.2.ReferenceList \"Device.SoftwareModules.\"\n";
    let agent = setup::agent(&reset, &["--platform", "lab"]);
    let up = c.wait_event(Duration::from_secs(20), |e| matches!(e, Event::AgentUp { .. }));
    assert!(matches!(up, Ok(Some(_))), "the agent did not connect: {}", agent.log());

    let idle: Vec<Duration> = (0..200).map(|_| get(&mut c)).collect();
    report("idle", idle);

    let op = Operate {
        command: "Device.SoftwareModules.InstallDU()".into(),
        command_key: "bench".into(),
        send_resp: true,
        input_args: [("URL".to_owned(), server.url("/big.tar"))].into_iter().collect(),
    };
    let started = Instant::now();
    c.call(ReqType::Operate(op)).expect("OperateResp");
    let mut during = Vec::new();
    let end = started + Duration::from_secs(300);
    let done = |e: &Event| matches!(e, Event::Notify(n) if matches!(&n.notify.notification, Some(Kind::OperComplete(_))));
    let mut finished = None;
    while Instant::now() < end && during.len() < 1_000_000 {
        during.push(get(&mut c));
        if let Ok(Some(_)) = c.wait_event(Duration::ZERO, done) {
            finished = Some(started.elapsed());
            break;
        }
    }
    let took = finished.expect("the InstallDU completed within 300 s");
    report("during a 20 MB InstallDU", during);
    println!("InstallDU took {:.2} s (download, unpack, OperationComplete)", took.as_secs_f64());
    in_process(&server.url("/big.tar"));
}
