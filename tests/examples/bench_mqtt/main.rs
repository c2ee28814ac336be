//! Benchmark (a program, not a test): the release `uspagent` against a private Mosquitto, driven
//! by a Rust load generator on the `usp_mtp::mqtt` link (MQTT 5.0, QoS 1 both ways).
//!
//! Run: `cargo build --release -p uspagent && cargo run --release -p usp-tests --example bench_mqtt`
//! (optional argument: the number of Gets of the long run, default 100000; `USPAGENT=path`
//! runs another agent binary; `BENCH_PLATFORM=lab` starts it with `--platform lab`, every router
//! area registered). `bench_mqtt compare [GETS]` runs obuspa (`OBUSPA=path`) and
//! uspagent alternately instead and prints the CPU-per-Get and round-trip ratios (see
//! `compare.rs`).
//!
//! Prints: time from process start to the MQTTConnectRecord (the broker accepted CONNECT and
//! SUBSCRIBE, the agent published) without and with an existing database; VmRSS idle and after
//! the long run; sequential Gets per second with p50/p99 round trip; pipelined Gets (32 in
//! flight) per second with p50/p99; agent CPU time per Get from /proc/<pid>/stat, split into
//! user and system time and by thread (the owner thread carries the process name, each MQTT
//! link thread is `mqtt-<id>`). Every loop is bounded in count and time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compare;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::mqtt::{MqttConfig, MqttLink, spawn};
use usp_mtp::retry::RetryPolicy;
use usp_mtp::{DEFAULT_MAX_RECORD, Link, MtpEvent, Outbound};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Get, Msg};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::cargo_bin;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

const AGENT: &str = "os::012345-BENCH";
const AGENT_TOPIC: &str = "usp/v1/agent/bench";
const CTL: &str = "self::bench-ctl";
const CTL_TOPIC: &str = "usp/v1/controller/bench";
const WAIT: Duration = Duration::from_secs(10);
/// The longest any measured run may take.
const RUN_LIMIT: Duration = Duration::from_secs(300);
const SEQUENTIAL: usize = 2_000;
const IN_FLIGHT: usize = 32;
const STARTS: usize = 5;

fn reset(port: u16) -> String {
    format!(
        "Device.MQTT.Client.1.Enable true
Device.MQTT.Client.1.BrokerAddress \"127.0.0.1\"
Device.MQTT.Client.1.BrokerPort {port}
Device.MQTT.Client.1.ProtocolVersion \"5.0\"
Device.MQTT.Client.1.TransportProtocol \"TCP/IP\"
Device.MQTT.Client.1.ClientID \"\"
Device.MQTT.Client.1.ConnectRetryTime 1
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.MTP.1.MQTT.Reference \"Device.MQTT.Client.1\"
Device.LocalAgent.MTP.1.MQTT.ResponseTopicConfigured \"{AGENT_TOPIC}\"
Device.LocalAgent.MTP.1.MQTT.PublishQoS 1
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"MQTT\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.AgentMTPReference \"Device.LocalAgent.MTP.1\"
Device.LocalAgent.Controller.1.MTP.1.MQTT.Topic \"{CTL_TOPIC}\"
"
    )
}

/// The load generator's link and what it receives.
struct Gen {
    link: MqttLink,
    rx: Receiver<MtpEvent>,
    next: u64,
}

impl Gen {
    fn start(port: u16) -> Gen {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink: usp_mtp::EventSink = Arc::new(move |e| {
            let _ = tx.lock().unwrap().send(e);
        });
        let cfg = MqttConfig {
            endpoint_id: CTL.into(),
            host: "127.0.0.1".into(),
            port,
            v5: true,
            client_id: String::new(),
            username: String::new(),
            password: String::new(),
            keep_alive: Duration::from_secs(60),
            clean_start: true,
            request_response_info: false,
            subscriptions: vec![(CTL_TOPIC.into(), 1)],
            response_topic: CTL_TOPIC.into(),
            publish_qos: 1,
            retry: RetryPolicy { min_wait_secs: 1, multiplier_permille: 1000, max_wait_secs: 1 },
            tls: None,
            max_record: DEFAULT_MAX_RECORD,
            extended: Default::default(),
        };
        let g = Gen { link: spawn(1, cfg, sink), rx, next: 0 };
        match g.rx.recv_timeout(WAIT) {
            Ok(MtpEvent::Up { .. }) => g,
            other => panic!("load generator link not up: {other:?}"),
        }
    }

    /// Sends one Get; returns its msg_id.
    fn send_get(&mut self) -> String {
        self.send_get_of("Device.DeviceInfo.SerialNumber")
    }

    /// Sends one Get of `path`; returns its msg_id.
    fn send_get_of(&mut self, path: &str) -> String {
        self.next += 1;
        let id = format!("b{}", self.next);
        let get = Get { param_paths: vec![path.into()], max_depth: 0 };
        let msg = Msg::request(id.clone(), ReqType::Get(get));
        let record = Record::no_session_context_msg("1.4", AGENT, CTL, &msg).to_bytes();
        let out = Outbound { dest: AGENT_TOPIC.into(), record, retain: false };
        self.link.send(out).expect("publish");
        id
    }

    /// The next Record received within [`WAIT`].
    fn next_record(&self) -> Record {
        let end = Instant::now() + WAIT;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if let Ok(MtpEvent::Received { record, .. }) = self.rx.recv_timeout(left) {
                if let Ok(r) = Record::from_bytes(&record) {
                    return r;
                }
            }
        }
        panic!("nothing received within {WAIT:?}");
    }

    /// The msg_id of the next response.
    fn next_answer(&self) -> String {
        loop {
            let r = self.next_record();
            if let Ok(m) = r.decode_no_session_context_msg() {
                if let Some(id) = m.msg_id() {
                    return id.to_owned();
                }
            }
        }
    }

    /// The msg_id of the next response within `limit`, if any.
    fn answer_within(&self, limit: Duration) -> Option<String> {
        let end = Instant::now() + limit;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            let Ok(MtpEvent::Received { record, .. }) = self.rx.recv_timeout(left) else {
                continue;
            };
            let msg = Record::from_bytes(&record)
                .ok()
                .and_then(|r| r.decode_no_session_context_msg().ok());
            if let Some(id) = msg.as_ref().and_then(|m| m.msg_id()) {
                return Some(id.to_owned());
            }
        }
        None
    }

    fn link_stop(&mut self) {
        self.link.stop();
    }

    fn wait_connect_record(&self) {
        while !matches!(self.next_record().record_type, Some(RecordType::MqttConnect(_))) {}
    }
}

/// The agent binary: `$USPAGENT`, else the one built with this program's profile.
fn agent_bin() -> std::path::PathBuf {
    std::env::var_os("USPAGENT").map(Into::into).unwrap_or_else(|| cargo_bin("uspagent"))
}

fn spawn_agent(dir: &Path, reset: &str) -> Child {
    std::fs::write(dir.join("reset.txt"), reset).expect("reset file");
    Command::new(agent_bin())
        .args(["-r", "reset.txt", "-f", "usp.db", "-s", "cli", "-v", "1"])
        .args(["--endpoint-id", AGENT, "--serial", "BENCH"])
        .args(platform_args())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn uspagent")
}

/// `--platform <BENCH_PLATFORM>` when that variable is set (`lab` registers every router area).
fn platform_args() -> Vec<String> {
    match std::env::var("BENCH_PLATFORM") {
        Ok(p) if !p.is_empty() => vec!["--platform".into(), p],
        _ => Vec::new(),
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let end = Instant::now() + WAIT;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Process start to MQTTConnectRecord, `STARTS` times: cold (fresh directory) or warm (the
/// database of the previous start).
fn start_times(g: &Gen, port: u16, warm: bool) -> Vec<Duration> {
    let dir = tempfile::tempdir().expect("tempdir");
    if warm {
        let child = spawn_agent(dir.path(), &reset(port));
        g.wait_connect_record();
        stop(child);
    }
    let mut times = Vec::new();
    for _ in 0..STARTS {
        let run = tempfile::tempdir().expect("tempdir");
        let d = if warm { dir.path() } else { run.path() };
        let t0 = Instant::now();
        let child = spawn_agent(d, &reset(port));
        g.wait_connect_record();
        times.push(t0.elapsed());
        stop(child);
    }
    times.sort();
    times
}

fn proc_status_kb(pid: u32, key: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// (utime, stime) of a `/proc/.../stat` file, in clock ticks.
fn stat_ticks(path: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which is in parentheses): state is field 3, utime 14.
    let after = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (n(11), n(12))
}

/// (utime, stime) of the process `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> (u64, u64) {
    stat_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime of each thread of `pid` by thread name (threads of the same name added).
fn thread_ticks(pid: u32) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for task in dir.flatten() {
        let path = task.path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let (user, system) = stat_ticks(&path.join("stat").to_string_lossy());
        *out.entry(name.trim().to_owned()).or_insert(0) += user + system;
    }
    out
}

fn clock_ticks_per_sec() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok()).unwrap_or(100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn sequential(g: &mut Gen, n: usize) -> (f64, Vec<Duration>) {
    let mut rtts = Vec::with_capacity(n);
    let t0 = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let id = g.send_get();
        while g.next_answer() != id {}
        rtts.push(t.elapsed());
        if t0.elapsed() > RUN_LIMIT {
            break;
        }
    }
    let rate = rtts.len() as f64 / t0.elapsed().as_secs_f64();
    rtts.sort();
    (rate, rtts)
}

fn pipelined(g: &mut Gen, n: usize) -> (f64, Vec<Duration>) {
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut rtts = Vec::with_capacity(n);
    let mut sent = 0;
    let t0 = Instant::now();
    while rtts.len() < sent || sent < n {
        while sent < n && sent_at.len() < IN_FLIGHT && t0.elapsed() < RUN_LIMIT {
            sent_at.insert(g.send_get(), Instant::now());
            sent += 1;
        }
        if sent_at.is_empty() {
            break;
        }
        if let Some(t) = sent_at.remove(&g.next_answer()) {
            rtts.push(t.elapsed());
        }
    }
    let rate = rtts.len() as f64 / t0.elapsed().as_secs_f64();
    rtts.sort();
    (rate, rtts)
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("compare") {
        let gets = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(5_000);
        compare::run(gets);
        return;
    }
    let total: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    // Mosquitto leaves Nagle on by default, which adds a delayed-ACK wait (~40 ms) to each
    // sequential round trip; brokers tuned for latency turn it off (`BENCH_NAGLE=1` keeps it).
    let extra = if std::env::var_os("BENCH_NAGLE").is_some() { "" } else { "set_tcp_nodelay true" };
    let broker = Mosquitto::start(MosquittoOpts { extra: extra.into(), ..Default::default() });
    let port = broker.port();
    let mut g = Gen::start(port);
    println!("uspagent: {}", agent_bin().display());

    let cold = start_times(&g, port, false);
    let warm = start_times(&g, port, true);
    println!(
        "start to MQTTConnectRecord, no DB  : median {} (min {}, max {})",
        ms(cold[STARTS / 2]),
        ms(cold[0]),
        ms(cold[STARTS - 1])
    );
    println!(
        "start to MQTTConnectRecord, with DB: median {} (min {}, max {})",
        ms(warm[STARTS / 2]),
        ms(warm[0]),
        ms(warm[STARTS - 1])
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let child = spawn_agent(dir.path(), &reset(port));
    let pid = child.id();
    g.wait_connect_record();
    std::thread::sleep(Duration::from_secs(1));
    println!(
        "VmRSS idle: {} kB (VmHWM {} kB)",
        proc_status_kb(pid, "VmRSS:"),
        proc_status_kb(pid, "VmHWM:")
    );

    let (rate, rtts) = sequential(&mut g, SEQUENTIAL);
    println!(
        "sequential: {} Gets, {rate:.0} Gets/s, p50 {}, p99 {}",
        rtts.len(),
        ms(percentile(&rtts, 0.5)),
        ms(percentile(&rtts, 0.99))
    );

    let (cpu0, threads0) = (cpu_ticks(pid), thread_ticks(pid));
    let (rate, rtts) = pipelined(&mut g, total);
    let (cpu1, threads1) = (cpu_ticks(pid), thread_ticks(pid));
    let tick = clock_ticks_per_sec();
    let per_get = |ticks: u64| ticks as f64 / tick * 1e6 / rtts.len().max(1) as f64;
    let (user, system) = (cpu1.0 - cpu0.0, cpu1.1 - cpu0.1);
    let cpu = (user + system) as f64 / tick;
    let mut threads: Vec<String> = threads1
        .iter()
        .map(|(name, t)| (name, t - threads0.get(name).copied().unwrap_or(0)))
        .filter(|(_, t)| *t > 0)
        .map(|(name, t)| format!("{name} {:.1}", per_get(t)))
        .collect();
    threads.sort();
    println!(
        "pipelined ({IN_FLIGHT} in flight): {} Gets, {rate:.0} Gets/s, p50 {}, p99 {}",
        rtts.len(),
        ms(percentile(&rtts, 0.5)),
        ms(percentile(&rtts, 0.99))
    );
    println!(
        "agent CPU: {cpu:.2} s for {} Gets = {:.1} µs per Get (user {:.1}, system {:.1}; by \
         thread: {})",
        rtts.len(),
        cpu * 1e6 / rtts.len().max(1) as f64,
        per_get(user),
        per_get(system),
        threads.join(", ")
    );
    println!(
        "VmRSS after {} Gets: {} kB (VmHWM {} kB)",
        SEQUENTIAL + rtts.len(),
        proc_status_kb(pid, "VmRSS:"),
        proc_status_kb(pid, "VmHWM:")
    );
    stop(child);
    g.link.stop();
}
