//! `IPPing()`, `TraceRoute()` and the ICMP flavour of `ServerSelectionDiagnostics()` on
//! [`super::icmp::Pinger`]: the probes, their timing, and the output arguments TR-181 names.
//!
//! Never does: probe past its bounds (repetitions, hops, each probe's timeout) or after a
//! cancel.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use usp_datamodel::value::Value;

use super::icmp::{IcmpError, Pinger, Reply};
use super::{Output, out};

/// The round trips of a series of echoes.
#[derive(Debug, Default, Clone)]
pub struct Series {
    /// Answered echoes' round trips.
    pub rtts: Vec<Duration>,
    /// Echoes that got no answer (or an error).
    pub failures: u32,
}

impl Series {
    /// Average, minimum, maximum in microseconds (0 when none answered).
    pub fn stats_us(&self) -> (u64, u64, u64) {
        if self.rtts.is_empty() {
            return (0, 0, 0);
        }
        let us: Vec<u64> = self.rtts.iter().map(|d| d.as_micros() as u64).collect();
        let avg = us.iter().sum::<u64>() / us.len() as u64;
        (avg, *us.iter().min().unwrap_or(&0), *us.iter().max().unwrap_or(&0))
    }
}

/// What one IPPing needs.
#[derive(Debug, Clone)]
pub struct PingSpec {
    /// The destination.
    pub dest: IpAddr,
    /// How many echoes.
    pub count: u32,
    /// Each echo's timeout.
    pub timeout: Duration,
    /// Data bytes per echo.
    pub size: usize,
    /// DSCP, if asked.
    pub dscp: Option<u8>,
    /// The network device to send through, if asked (`Interface`).
    pub device: Option<String>,
}

/// Sends `spec.count` echoes one after the other, each waited for up to `spec.timeout`.
pub fn series(spec: &PingSpec, cancel: &AtomicBool) -> Result<Series, IcmpError> {
    let mut p = Pinger::open(spec.dest, spec.device.as_deref())?;
    if let Some(d) = spec.dscp {
        p.set_dscp(d)?;
    }
    let mut s = Series::default();
    for seq in 1..=spec.count {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let seq16 = seq as u16;
        let started = Instant::now();
        match p.send(seq16, spec.size, None) {
            Ok(()) => {}
            Err(IcmpError::NoRoute) if s.rtts.is_empty() && seq == spec.count => {
                return Err(IcmpError::NoRoute);
            }
            Err(IcmpError::NoRoute) => {
                s.failures += 1;
                continue;
            }
            Err(e) => return Err(e),
        }
        match p.wait(seq16, started + spec.timeout)? {
            Some(Reply::Echo { rtt, .. }) => s.rtts.push(rtt),
            _ => s.failures += 1,
        }
        // One echo per second at most, as ping does, unless it took longer already.
        let pause = Duration::from_millis(200).saturating_sub(started.elapsed());
        if seq < spec.count && !pause.is_zero() {
            std::thread::sleep(pause);
        }
    }
    Ok(s)
}

/// `IPPing()`'s outputs for a series sent from `source`.
pub fn ping_outputs(s: &Series, source: Option<IpAddr>) -> Output {
    let (avg, min, max) = s.stats_us();
    vec![
        out("Status", Value::String("Complete".into())),
        out(
            "IPAddressUsed",
            Value::String(source.map(|a| a.to_string()).unwrap_or_default().into()),
        ),
        out("SuccessCount", Value::UnsignedInt(s.rtts.len() as u32)),
        out("FailureCount", Value::UnsignedInt(s.failures)),
        out("AverageResponseTime", Value::UnsignedInt(ms(avg))),
        out("MinimumResponseTime", Value::UnsignedInt(ms(min))),
        out("MaximumResponseTime", Value::UnsignedInt(ms(max))),
        out("AverageResponseTimeDetailed", Value::UnsignedInt(sat(avg))),
        out("MinimumResponseTimeDetailed", Value::UnsignedInt(sat(min))),
        out("MaximumResponseTimeDetailed", Value::UnsignedInt(sat(max))),
    ]
}

fn ms(us: u64) -> u32 {
    sat(us.div_ceil(1000))
}

fn sat(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// What one TraceRoute needs.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    /// The destination.
    pub dest: IpAddr,
    /// Probes per hop (1..3).
    pub tries: u32,
    /// Each probe's timeout.
    pub timeout: Duration,
    /// Data bytes per probe.
    pub size: usize,
    /// The largest TTL tried.
    pub max_hops: u8,
    /// DSCP, if asked.
    pub dscp: Option<u8>,
    /// The network device to send through, if asked (`Interface`).
    pub device: Option<String>,
}

/// One hop of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The router's (or destination's) address, empty when none answered.
    pub addr: Option<IpAddr>,
    /// The round trips of its answers, in milliseconds.
    pub rtts_ms: Vec<u32>,
    /// The ICMP error code of an unreachable answer, 0 otherwise.
    pub error: u32,
}

/// How a route trace ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The destination answered.
    Reached,
    /// A router (or the destination) said it cannot be reached.
    Unreachable,
    /// `MaxHopCount` probes went unanswered by the destination (or the run was canceled).
    MaxHops,
}

/// Probes TTL 1, 2, ... until the destination answers, it is unreachable, or `max_hops`.
/// Returns the hops and how it ended.
pub fn trace(spec: &TraceSpec, cancel: &AtomicBool) -> Result<(Vec<Hop>, End), IcmpError> {
    let mut p = Pinger::open(spec.dest, spec.device.as_deref())?;
    if let Some(d) = spec.dscp {
        p.set_dscp(d)?;
    }
    let mut hops = Vec::new();
    let mut seq: u16 = 0;
    for ttl in 1..=spec.max_hops {
        let mut hop = Hop { addr: None, rtts_ms: Vec::new(), error: 0 };
        let mut done = None;
        for _ in 0..spec.tries {
            if cancel.load(Ordering::Relaxed) {
                return Ok((hops, End::MaxHops));
            }
            seq = seq.wrapping_add(1);
            let started = Instant::now();
            p.send(seq, spec.size, Some(ttl))?;
            let (from, rtt) = match p.wait(seq, started + spec.timeout)? {
                Some(Reply::Echo { from, rtt }) => {
                    done = done.or(Some(End::Reached));
                    (from, rtt)
                }
                Some(Reply::TimeExceeded { from, rtt }) => (from, rtt),
                Some(Reply::Unreachable { from, rtt, code }) => {
                    done = Some(End::Unreachable);
                    hop.error = u32::from(code.1);
                    (from, rtt)
                }
                None => continue,
            };
            hop.addr = Some(from);
            hop.rtts_ms.push(ms(rtt.as_micros() as u64));
        }
        hops.push(hop);
        if let Some(end) = done {
            return Ok((hops, end));
        }
    }
    Ok((hops, End::MaxHops))
}

/// `TraceRoute()`'s outputs.
pub fn trace_outputs(hops: &[Hop], end: End, started: Instant, source: Option<IpAddr>) -> Output {
    let status = match end {
        End::Reached => "Complete",
        End::Unreachable => "Error_NoRouteToHost",
        End::MaxHops => "Error_MaxHopCountExceeded",
    };
    let mut o = vec![
        out("Status", Value::String(status.into())),
        out(
            "IPAddressUsed",
            Value::String(source.map(|a| a.to_string()).unwrap_or_default().into()),
        ),
        out("ResponseTime", Value::UnsignedInt(sat(started.elapsed().as_millis() as u64))),
    ];
    for (i, h) in hops.iter().enumerate() {
        let n = i + 1;
        let addr = h.addr.map(|a| a.to_string()).unwrap_or_default();
        let rtts: Vec<String> = h.rtts_ms.iter().map(u32::to_string).collect();
        o.push(out(&format!("RouteHops.{n}.Host"), Value::String(addr.as_str().into())));
        o.push(out(&format!("RouteHops.{n}.HostAddress"), Value::String(addr.as_str().into())));
        o.push(out(&format!("RouteHops.{n}.ErrorCode"), Value::UnsignedInt(h.error)));
        o.push(out(&format!("RouteHops.{n}.RTTimes"), Value::String(rtts.join(",").into())));
    }
    o
}
