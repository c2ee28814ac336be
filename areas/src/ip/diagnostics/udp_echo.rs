//! `UDPEchoDiagnostics()` (TR-143's UDP echo, plain mode): datagrams carrying a sequence
//! number to `Host:Port`, each answered by the same bytes, their round trips timed.
//!
//! With `EnableIndividualPacketResults` each datagram also gets an
//! `IndividualPacketResult.{i}.` row: `TestGenSN` is the sequence number sent, the send and
//! receive times are wall-clock; the UDP Echo Plus fields (`TestRespSN`,
//! `TestRespRcvTimeStamp`, `TestRespReplyTimeStamp`, `TestRespReplyFailureCount`) are 0, as a
//! plain echo carries none.
//!
//! Never does: wait past a packet's timeout, or send after a cancel.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use usp_datamodel::value::{DateTime, Value};

use super::http::now;
use super::ping::{PingSpec, Series};
use super::{Output, out};

/// What one UDPEcho run needs.
#[derive(Debug, Clone)]
pub struct EchoSpec {
    /// Where the echo server listens.
    pub to: SocketAddr,
    /// How many datagrams.
    pub count: u32,
    /// Each datagram's timeout.
    pub timeout: Duration,
    /// Bytes per datagram (at least 4: the sequence number).
    pub size: usize,
    /// Pause between datagrams.
    pub gap: Duration,
    /// The network device to send through, if asked (`Interface`).
    pub device: Option<String>,
    /// Whether to report every datagram (`EnableIndividualPacketResults`).
    pub per_packet: bool,
}

/// One datagram's fate, for `IndividualPacketResult.{i}.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// The sequence number it carried (`TestGenSN`).
    pub seq: u32,
    /// When it was sent.
    pub sent: DateTime,
    /// When its echo came back, `None` when none did in time.
    pub received: Option<DateTime>,
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Echoes {
    /// The round trips and failures.
    pub series: Series,
    /// Every datagram, in order (empty unless `per_packet`).
    pub packets: Vec<Packet>,
    /// The local address the datagrams left from.
    pub source: Option<IpAddr>,
}

/// Sends the datagrams one by one and times their echoes.
pub fn run(spec: &EchoSpec, cancel: &AtomicBool) -> std::io::Result<Echoes> {
    let bind: SocketAddr = if spec.to.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }
        .parse()
        .map_err(|_| std::io::Error::other("bad bind address"))?;
    let sock = UdpSocket::bind(bind)?;
    if let Some(d) = &spec.device {
        super::icmp::bind_to_device(&sock, d).map_err(std::io::Error::from)?;
    }
    sock.connect(spec.to)?;
    let mut e = Echoes { source: sock.local_addr().ok().map(|a| a.ip()), ..Echoes::default() };
    let s = &mut e.series;
    let mut buf = vec![0u8; spec.size.max(4) + 64];
    for seq in 1..=spec.count {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let mut pkt = seq.to_be_bytes().to_vec();
        pkt.resize(spec.size.max(4), 0xa5);
        let started = Instant::now();
        let mut packet = Packet { seq, sent: now(), received: None };
        if sock.send(&pkt).is_err() {
            s.failures += 1;
            if spec.per_packet {
                e.packets.push(packet);
            }
            continue;
        }
        let deadline = started + spec.timeout;
        let mut answered = false;
        for _ in 0..64 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            sock.set_read_timeout(Some(left))?;
            match sock.recv(&mut buf) {
                Ok(n) if buf.get(..n) == Some(&pkt[..]) => {
                    s.rtts.push(started.elapsed());
                    packet.received = Some(now());
                    answered = true;
                    break;
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        if !answered {
            s.failures += 1;
        }
        if spec.per_packet {
            e.packets.push(packet);
        }
        if seq < spec.count {
            std::thread::sleep(spec.gap.saturating_sub(started.elapsed()));
        }
    }
    Ok(e)
}

/// The UDP echo port (RFC 862), for a ServerSelection host given without one.
const ECHO_PORT: u16 = 7;

/// A ServerSelection `HostList` entry split into host and port: `host:port`, `[v6]:port`, or
/// a bare host or IPv6 address on the echo port.
pub fn host_port(entry: &str) -> (&str, u16) {
    if let Some((host, port)) = entry.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        return (host, port.parse().unwrap_or(ECHO_PORT));
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => (host, port.parse().unwrap_or(ECHO_PORT)),
        _ => (entry.trim_start_matches('[').trim_end_matches(']'), ECHO_PORT),
    }
}

/// One ServerSelection series over UDP Echo: `spec`'s count and timeout, back to back.
pub fn series(to: SocketAddr, spec: &PingSpec, cancel: &AtomicBool) -> std::io::Result<Series> {
    let echo = EchoSpec {
        to,
        count: spec.count,
        timeout: spec.timeout,
        size: 24,
        gap: Duration::ZERO,
        device: spec.device.clone(),
        per_packet: false,
    };
    Ok(run(&echo, cancel)?.series)
}

/// `UDPEchoDiagnostics()`'s outputs.
pub fn outputs(e: &Echoes) -> Output {
    let (s, source) = (&e.series, e.source);
    let (avg, min, max) = s.stats_us();
    let ms = |us: u64| Value::UnsignedInt(u32::try_from(us.div_ceil(1000)).unwrap_or(u32::MAX));
    vec![
        out("Status", Value::String("Complete".into())),
        out(
            "IPAddressUsed",
            Value::String(source.map(|a| a.to_string()).unwrap_or_default().into()),
        ),
        out("SuccessCount", Value::UnsignedInt(s.rtts.len() as u32)),
        out("FailureCount", Value::UnsignedInt(s.failures)),
        out("AverageResponseTime", ms(avg)),
        out("MinimumResponseTime", ms(min)),
        out("MaximumResponseTime", ms(max)),
    ]
    .into_iter()
    .chain(e.packets.iter().enumerate().flat_map(|(i, p)| packet_outputs(i + 1, p)))
    .collect()
}

/// The `IndividualPacketResult.{n}.` arguments of one datagram.
fn packet_outputs(n: usize, p: &Packet) -> Output {
    let row = format!("IndividualPacketResult.{n}.");
    let field = |name: &str, v: Value| out(&format!("{row}{name}"), v);
    vec![
        field("PacketSuccess", Value::Boolean(p.received.is_some())),
        field("PacketSendTime", Value::DateTime(p.sent)),
        field("PacketReceiveTime", Value::DateTime(p.received.unwrap_or(DateTime::UNKNOWN))),
        field("TestGenSN", Value::UnsignedInt(p.seq)),
        field("TestRespSN", Value::UnsignedInt(0)),
        field("TestRespRcvTimeStamp", Value::UnsignedInt(0)),
        field("TestRespReplyTimeStamp", Value::UnsignedInt(0)),
        field("TestRespReplyFailureCount", Value::UnsignedInt(0)),
    ]
}
