//! `UDPEchoDiagnostics()` (TR-143's UDP echo, plain mode): datagrams carrying a sequence
//! number to `Host:Port`, each answered by the same bytes, their round trips timed.
//!
//! Never does: wait past a packet's timeout, or send after a cancel.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use usp_datamodel::value::Value;

use super::ping::Series;
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
}

/// Sends the datagrams one by one and times their echoes.
pub fn run(spec: &EchoSpec, cancel: &AtomicBool) -> std::io::Result<(Series, Option<IpAddr>)> {
    let bind: SocketAddr = if spec.to.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }
        .parse()
        .map_err(|_| std::io::Error::other("bad bind address"))?;
    let sock = UdpSocket::bind(bind)?;
    if let Some(d) = &spec.device {
        super::icmp::bind_to_device(&sock, d).map_err(std::io::Error::from)?;
    }
    sock.connect(spec.to)?;
    let source = sock.local_addr().ok().map(|a| a.ip());
    let mut s = Series::default();
    let mut buf = vec![0u8; spec.size.max(4) + 64];
    for seq in 1..=spec.count {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let mut pkt = seq.to_be_bytes().to_vec();
        pkt.resize(spec.size.max(4), 0xa5);
        let started = Instant::now();
        if sock.send(&pkt).is_err() {
            s.failures += 1;
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
        if seq < spec.count {
            std::thread::sleep(spec.gap.saturating_sub(started.elapsed()));
        }
    }
    Ok((s, source))
}

/// `UDPEchoDiagnostics()`'s outputs.
pub fn outputs(s: &Series, source: Option<IpAddr>) -> Output {
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
}
