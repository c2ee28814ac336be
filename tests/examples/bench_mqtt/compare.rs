//! `bench_mqtt compare [GETS]`: obuspa and uspagent side by side, alternately, against the same
//! private Mosquitto (TCP_NODELAY) and the same load generator, so that the ratio is never
//! compared across machines or days.
//!
//! Each round starts one agent from a fresh directory, waits until it answers, warms up with
//! [`WARM_UP`] Gets, then sends `GETS` sequential Gets of `Device.DeviceInfo.` (MQTT 5.0, QoS 1
//! both ways, agents at log level 1) and reads the agent's CPU time (the sum of every thread's
//! `/proc/<pid>/task/<tid>/schedstat` run time, nanoseconds) before and after. [`ROUNDS`] rounds
//! (or `BENCH_ROUNDS`) per agent, alternating; prints each round (with the CPU by thread), then
//! per agent the CPU per 1,000 Gets (median and minimum of the rounds: on a shared machine the minimum is the least
//! disturbed figure) and the median round trip over every Get of its rounds, then the ratios.
//!
//! obuspa comes from `OBUSPA=path` (`bash ../shared/peers/build-obuspa.sh /tmp/obuspa` builds
//! it; its libraries are looked for in `<path>/../../lib`); without it the obuspa rounds are
//! skipped with a message and only uspagent is measured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use super::{AGENT, AGENT_TOPIC, CTL, CTL_TOPIC, Gen, agent_bin, ms, reset, stop};

/// Rounds per agent (`BENCH_ROUNDS` overrides).
const ROUNDS: usize = 5;
/// Gets before each measured run.
const WARM_UP: usize = 300;
/// The path every Get asks for (as in issue 18's figures).
const GET_PATH: &str = "Device.DeviceInfo.";

/// One of the two agents.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Obuspa,
    Uspagent,
}

impl Which {
    fn name(self) -> &'static str {
        match self {
            Which::Obuspa => "obuspa",
            Which::Uspagent => "uspagent",
        }
    }
}

/// What one round measured.
struct Round {
    /// CPU nanoseconds of the agent process over the measured Gets.
    cpu_ns: u64,
    /// The same by thread name.
    threads: BTreeMap<String, u64>,
    /// Every round trip, sorted.
    rtts: Vec<Duration>,
}

/// obuspa's factory reset: the same broker, topics and controller as [`reset`] gives uspagent.
fn obuspa_reset(port: u16) -> String {
    format!(
        "Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort \"{port}\"
Device.MQTT.Client.1.ProtocolVersion \"5.0\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.ClientID \"\"
Device.MQTT.Client.1.KeepAliveTime \"60\"
Device.MQTT.Client.1.ConnectRetryTime \"1\"
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"{AGENT_TOPIC}\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{CTL_TOPIC}\"
"
    )
}

fn spawn_obuspa(bin: &Path, dir: &Path, port: u16) -> Child {
    std::fs::write(dir.join("reset.txt"), obuspa_reset(port)).expect("reset file");
    let lib = bin.parent().and_then(Path::parent).map(|p| p.join("lib")).unwrap_or_default();
    Command::new(bin)
        .args(["-r", "reset.txt", "-f", "usp.db", "-v", "1", "-i", "lo", "-s", "cli"])
        .env("USP_ENDPOINT_ID", AGENT)
        .env("LD_LIBRARY_PATH", lib)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn obuspa")
}

fn spawn_uspagent(dir: &Path, port: u16) -> Child {
    std::fs::write(dir.join("reset.txt"), reset(port)).expect("reset file");
    Command::new(agent_bin())
        .args(["-r", "reset.txt", "-f", "usp.db", "-s", "cli", "-v", "1"])
        .args(["--endpoint-id", AGENT, "--serial", "BENCH"])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn uspagent")
}

/// CPU time of each thread of `pid` so far (nanoseconds), by thread name (threads of the
/// same name added).
fn cpu_ns(pid: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for task in dir.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        let ns = stat.split_whitespace().next().and_then(|v| v.parse::<u64>().ok());
        *out.entry(name.trim().to_owned()).or_insert(0) += ns.unwrap_or(0);
    }
    out
}

/// Sends Gets until one is answered (the agent is connected and subscribed).
fn wait_answering(g: &mut Gen, who: Which) {
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        let id = g.send_get_of(GET_PATH);
        if g.answer_within(Duration::from_millis(500)).is_some_and(|a| a == id) {
            return;
        }
    }
    panic!("{} did not answer within 30 s", who.name());
}

fn round(g: &mut Gen, who: Which, obuspa: Option<&Path>, port: u16, gets: usize) -> Round {
    let dir = tempfile::tempdir().expect("tempdir");
    let child = match (who, obuspa) {
        (Which::Obuspa, Some(bin)) => spawn_obuspa(bin, dir.path(), port),
        _ => spawn_uspagent(dir.path(), port),
    };
    let pid = child.id();
    wait_answering(g, who);
    for _ in 0..WARM_UP {
        let id = g.send_get_of(GET_PATH);
        while g.next_answer() != id {}
    }
    let before = cpu_ns(pid);
    let mut rtts = Vec::with_capacity(gets);
    for _ in 0..gets {
        let t = Instant::now();
        let id = g.send_get_of(GET_PATH);
        while g.next_answer() != id {}
        rtts.push(t.elapsed());
    }
    let threads: BTreeMap<String, u64> = cpu_ns(pid)
        .into_iter()
        .map(|(name, ns)| {
            let ns = ns.saturating_sub(before.get(&name).copied().unwrap_or(0));
            (name, ns)
        })
        .filter(|(_, ns)| *ns > 0)
        .collect();
    let cpu_ns = threads.values().sum();
    stop(child);
    // Records the stopped agent left (its answers were all consumed; nothing else expected).
    while g.answer_within(Duration::from_millis(50)).is_some() {}
    rtts.sort();
    Round { cpu_ns, threads, rtts }
}

/// CPU per 1,000 Gets in milliseconds.
fn per_1000(r: &Round) -> f64 {
    r.cpu_ns as f64 / 1e6 * 1000.0 / r.rtts.len().max(1) as f64
}

/// Runs the comparison and prints it.
pub fn run(gets: usize) {
    let obuspa: Option<PathBuf> = std::env::var_os("OBUSPA").map(Into::into);
    match &obuspa {
        Some(p) if p.is_file() => {}
        Some(p) => panic!("OBUSPA={} is not a file", p.display()),
        None => println!(
            "obuspa: skipped (OBUSPA not set; build it with `bash ../shared/peers/build-obuspa.sh \
             /tmp/obuspa` and run with OBUSPA=/tmp/obuspa/bin/obuspa)"
        ),
    }
    let broker = Mosquitto::start(MosquittoOpts {
        extra: "set_tcp_nodelay true".into(),
        ..Default::default()
    });
    let port = broker.port();
    let mut g = Gen::start(port);
    println!("uspagent: {}", agent_bin().display());
    if let Some(p) = &obuspa {
        println!("obuspa: {}", p.display());
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or(ROUNDS);
    println!("{gets} sequential Gets of {GET_PATH} per round, {rounds} rounds per agent");
    let order: Vec<Which> =
        if obuspa.is_some() { vec![Which::Obuspa, Which::Uspagent] } else { vec![Which::Uspagent] };
    let mut results: Vec<(Which, Vec<Round>)> = order.iter().map(|w| (*w, Vec::new())).collect();
    for i in 0..rounds {
        for (who, rounds) in &mut results {
            let r = round(&mut g, *who, obuspa.as_deref(), port, gets);
            let n = r.rtts.len().max(1) as f64;
            let by_thread: Vec<String> = r
                .threads
                .iter()
                .map(|(name, ns)| format!("{name} {:.1}", *ns as f64 / 1e6 * 1000.0 / n))
                .collect();
            println!(
                "round {}: {:8} CPU {:6.1} ms per 1,000 Gets, median round trip {} (by thread: {})",
                i + 1,
                who.name(),
                per_1000(&r),
                ms(super::percentile(&r.rtts, 0.5)),
                by_thread.join(", ")
            );
            rounds.push(r);
        }
    }
    let mut summary = Vec::new();
    for (who, rounds) in &results {
        let mut cpu: Vec<f64> = rounds.iter().map(per_1000).collect();
        cpu.sort_by(f64::total_cmp);
        let mut all: Vec<Duration> = rounds.iter().flat_map(|r| r.rtts.iter().copied()).collect();
        all.sort();
        let (median, min, p50) = (cpu[cpu.len() / 2], cpu[0], super::percentile(&all, 0.5));
        println!(
            "{:8}: CPU per 1,000 Gets median {median:.1} ms, min {min:.1} ms; round trip p50 {} \
             p99 {}",
            who.name(),
            ms(p50),
            ms(super::percentile(&all, 0.99))
        );
        summary.push((median, min, p50));
    }
    if let [(o_med, o_min, o_p50), (u_med, u_min, u_p50)] = summary[..] {
        println!(
            "ratio uspagent/obuspa: CPU per Get {:.2} (medians), {:.2} (minimums) (target <= \
             0.33); median round trip {:.2} (target <= 1.00)",
            u_med / o_med,
            u_min / o_min,
            u_p50.as_secs_f64() / o_p50.as_secs_f64()
        );
    }
    g.link_stop();
    drop(broker);
}
