//! Many controllers at once and one that never reads: `controllers` MQTT controllers each
//! pipelining Gets (16 in flight) in several waves, while one more controller floods the agent
//! with Gets of `Device.` over a raw MQTT connection it never reads from (its broker queue
//! fills; the agent must not care). Every controller must get every answer, and the agent's
//! resident memory must stay flat from wave to wave (sampled every 20 ms).

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::mqtt::{MqttLink, spawn};
use usp_mtp::{Link, MtpEvent, Outbound};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{Get, Msg};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::mosquitto::Mosquitto;

use super::{
    AGENT, AGENT_TOPIC, Violation, ctl_id, ctl_topic, ensure, reset, start_agent, vm_rss_kib,
};

/// Requests each controller keeps in flight.
const IN_FLIGHT: usize = 16;
/// How much the agent's RSS may grow from the end of the first wave to the end of the last.
pub const FLAT_KIB: u64 = 4096;
/// How long one wave may take at most.
const WAVE_LIMIT: Duration = Duration::from_secs(120);

/// What the crowd suite measured.
#[derive(Debug, Clone, Default)]
pub struct CrowdFigures {
    /// Controllers pipelining Gets.
    pub controllers: usize,
    /// Waves run.
    pub waves: usize,
    /// Gets answered (every one sent, else the suite fails).
    pub answered: u64,
    /// Gets of `Device.` the flooding controller sent without ever reading.
    pub flooded: u64,
    /// Records the agent sent to the flooding controller (its log's `sent` lines; the
    /// MQTTConnectRecord is one of them).
    pub flood_answered: u64,
    /// The agent's VmRSS before the first wave, after the first, at its peak, after the last
    /// (KiB).
    pub rss_kib: [u64; 4],
    /// The wall time of the waves.
    pub elapsed: Duration,
}

impl CrowdFigures {
    /// One line of figures.
    pub fn summary(&self) -> String {
        let [before, first, peak, last] = self.rss_kib;
        let rate = self.answered as f64 / self.elapsed.as_secs_f64().max(1e-3);
        format!(
            "crowd: {} controllers x {} waves, {} Gets answered ({rate:.0}/s), all of them; a \
             non-reading controller flooded {} Gets of Device. (the agent sent it {} Records); agent VmRSS {before} KiB idle, \
             {first} KiB after wave 1, {last} KiB after the last (peak {peak} KiB)",
            self.controllers, self.waves, self.answered, self.flooded, self.flood_answered
        )
    }
}

/// One pipelining controller: a `usp_mtp` MQTT link and what it receives.
struct Piper {
    i: usize,
    link: MqttLink,
    rx: Receiver<MtpEvent>,
}

impl Piper {
    fn start(port: u16, i: usize) -> Piper {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink: usp_mtp::EventSink = Arc::new(move |e| {
            if let Ok(t) = tx.lock() {
                let _ = t.send(e);
            }
        });
        Piper { i, link: spawn(1, super::mqtt_config(port, i), sink), rx }
    }

    /// The next Record received before `end`.
    fn recv(&self, end: Instant) -> Option<Record> {
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(MtpEvent::Received { record, .. }) => return Record::from_bytes(&record).ok(),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits for the agent's MQTTConnectRecord.
    fn wait_agent(&self) -> Result<(), Violation> {
        let end = Instant::now() + Duration::from_secs(15);
        while let Some(r) = self.recv(end) {
            if matches!(r.record_type, Some(RecordType::MqttConnect(_))) {
                return Ok(());
            }
        }
        Err(Violation(format!("controller {}: the agent did not connect", self.i)))
    }

    fn send_get(&self, id: &str) -> Result<(), Violation> {
        let get = Get { param_paths: vec!["Device.DeviceInfo.".into()], max_depth: 0 };
        let msg = Msg::request(id.to_owned(), ReqType::Get(get));
        let record = Record::no_session_context_msg("1.4", AGENT, ctl_id(self.i), &msg).to_bytes();
        let out = Outbound { dest: AGENT_TOPIC.into(), record, retain: false };
        self.link.send(out).map_err(|e| Violation(format!("controller {}: send: {e}", self.i)))
    }

    /// Sends `gets` Gets with [`IN_FLIGHT`] in flight; the number answered.
    fn wave(&self, wave: usize, gets: usize) -> Result<u64, Violation> {
        let end = Instant::now() + WAVE_LIMIT;
        let mut waiting: HashSet<String> = HashSet::new();
        let (mut sent, mut answered) = (0, 0u64);
        while answered < gets as u64 {
            while sent < gets && waiting.len() < IN_FLIGHT {
                let id = format!("w{wave}-{sent}");
                self.send_get(&id)?;
                waiting.insert(id);
                sent += 1;
            }
            let Some(record) = self.recv(end) else {
                return Err(Violation(format!(
                    "controller {}: {answered} of {gets} answered in wave {wave}",
                    self.i
                )));
            };
            let Ok(msg) = record.decode_no_session_context_msg() else { continue };
            if msg.msg_id().is_some_and(|id| waiting.remove(id)) {
                answered += 1;
            }
        }
        Ok(answered)
    }
}

/// An MQTT 3.1.1 string: length, then bytes.
fn mqtt_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(s);
}

/// A packet: fixed header byte, remaining length (variable-length integer), body.
fn packet(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    let mut len = body.len();
    loop {
        let byte = u8::try_from(len % 128).unwrap_or(0);
        len /= 128;
        out.push(if len > 0 { byte | 0x80 } else { byte });
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// The controller that floods: MQTT 3.1.1 by hand on a plain socket, CONNECT, SUBSCRIBE to its
/// topic (QoS 1), then `count` PUBLISHes of a Get of `Device.`; it never reads a byte.
fn flood(port: u16, i: usize, count: u64, sent: &AtomicU64) -> Result<TcpStream, Violation> {
    let io = |e: std::io::Error| Violation(format!("flooder: {e}"));
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(io)?;
    let mut connect = Vec::new();
    mqtt_str(&mut connect, b"MQTT");
    connect.extend_from_slice(&[4, 0x02, 0, 60]);
    mqtt_str(&mut connect, format!("flooder{i}").as_bytes());
    s.write_all(&packet(0x10, &connect)).map_err(io)?;
    let mut sub = vec![0, 1];
    mqtt_str(&mut sub, ctl_topic(i).as_bytes());
    sub.push(1);
    s.write_all(&packet(0x82, &sub)).map_err(io)?;
    for n in 0..count {
        let get = Get { param_paths: vec!["Device.".into()], max_depth: 0 };
        let msg = Msg::request(format!("flood-{n}"), ReqType::Get(get));
        let record = Record::no_session_context_msg("1.4", AGENT, ctl_id(i), &msg).to_bytes();
        let mut publish = Vec::new();
        mqtt_str(&mut publish, AGENT_TOPIC.as_bytes());
        publish.extend_from_slice(&record);
        s.write_all(&packet(0x30, &publish)).map_err(io)?;
        sent.fetch_add(1, Ordering::Relaxed);
    }
    Ok(s)
}

/// Samples `pid`'s VmRSS every 20 ms until `stop`; the largest value.
fn sample_peak(pid: u32, stop: &AtomicBool) -> u64 {
    let mut peak = 0;
    for _ in 0..100_000 {
        if stop.load(Ordering::Acquire) {
            break;
        }
        peak = peak.max(vm_rss_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    }
    peak
}

/// Runs `waves` waves of `controllers` controllers × `gets` Gets, with one more controller
/// flooding `flood_count` Gets of `Device.` per wave.
pub fn run(
    controllers: usize,
    gets: usize,
    waves: usize,
    flood_count: u64,
) -> Result<CrowdFigures, Violation> {
    let broker = Mosquitto::start(super::broker_opts());
    let dir = tempfile::tempdir().map_err(|e| Violation(format!("tempdir: {e}")))?;
    let mut pipers: Vec<Piper> =
        (1..=controllers).map(|i| Piper::start(broker.port(), i)).collect();
    let agent = start_agent(&reset(broker.port(), controllers + 1), &dir.path().join("usp.db"));
    for p in &pipers {
        p.wait_agent()?;
    }
    let pid = agent.pid();
    let mut figures = CrowdFigures { controllers, ..CrowdFigures::default() };
    figures.rss_kib[0] = vm_rss_kib(pid).unwrap_or(0);
    let started = Instant::now();
    let flooded = AtomicU64::new(0);
    let mut sockets = Vec::new();
    for wave in 0..waves {
        let stop = AtomicBool::new(false);
        let (answers, peak, socket) = std::thread::scope(|s| {
            let sampler = s.spawn(|| sample_peak(pid, &stop));
            let flooder = s.spawn(|| flood(broker.port(), controllers + 1, flood_count, &flooded));
            let runs: Vec<_> =
                pipers.iter_mut().map(|p| s.spawn(move || p.wave(wave, gets))).collect();
            let answers: Vec<Result<u64, Violation>> = runs
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| Err(Violation("a controller panicked".into())))
                })
                .collect();
            let socket =
                flooder.join().unwrap_or_else(|_| Err(Violation("flooder panicked".into())));
            stop.store(true, Ordering::Release);
            (answers, sampler.join().unwrap_or(0), socket)
        });
        // The flooder's socket stays open, unread, until the end of the suite.
        sockets.push(socket?);
        for a in answers {
            figures.answered += a?;
        }
        figures.rss_kib[2] = figures.rss_kib[2].max(peak);
        let now = vm_rss_kib(pid).unwrap_or(0);
        if wave == 0 {
            figures.rss_kib[1] = now;
        }
        figures.rss_kib[3] = now;
        figures.waves += 1;
    }
    figures.elapsed = started.elapsed();
    figures.flooded = flooded.load(Ordering::Relaxed);
    let [_, first, _, last] = figures.rss_kib;
    ensure(last <= first + FLAT_KIB, || {
        format!("VmRSS grew from {first} KiB to {last} KiB over {} waves", figures.waves)
    })?;
    let to_flooder = format!("sent {}:", ctl_id(controllers + 1));
    figures.flood_answered = agent.log().lines().filter(|l| l.contains(&to_flooder)).count() as u64;
    drop(sockets);
    drop(agent);
    Ok(figures)
}
