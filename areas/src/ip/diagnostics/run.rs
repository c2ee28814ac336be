//! One diagnostic run: its checked parameters ([`Job::check`], on the data-model thread) and
//! its execution ([`Job::run`], on its own thread), ending in the output arguments.
//!
//! Never does: resolve a name or touch the network in `check`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::value::Value;

use super::icmp::IcmpError;
use super::input::{Args, Family, resolve};
use super::ping::{self, PingSpec, TraceSpec};
use super::udp_echo::{self, EchoSpec};
use super::{Output, http, out};

/// The longest a run may take in all (its repetitions times its timeout), 15 minutes.
const MAX_RUN: Duration = Duration::from_secs(900);
/// At most this many hosts in a ServerSelection.
const MAX_HOSTS: usize = 10;
/// The largest ICMP/UDP payload an IPv4 datagram carries.
const MAX_PAYLOAD: u64 = 65_507;
/// How long an HTTP download or upload may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(300);

/// A checked run.
#[derive(Debug, Clone)]
pub enum Job {
    /// `IPPing()`: the host, its family and the series.
    Ping(String, Family, PingSpec),
    /// `TraceRoute()`.
    Trace(String, Family, TraceSpec),
    /// `UDPEchoDiagnostics()`: host, family, port and the series.
    Echo(String, Family, u16, EchoSpec),
    /// `DownloadDiagnostics()`: the URL and `EnablePerConnectionResults`.
    Download(String, bool),
    /// `UploadDiagnostics()`: the URL, the bytes to send and `EnablePerConnectionResults`.
    Upload(String, u64, bool),
    /// `ServerSelectionDiagnostics()`: the hosts, the family, the series and whether it
    /// goes over UDP Echo (ICMP otherwise).
    Select(Vec<String>, Family, PingSpec, bool),
}

fn bad(msg: String) -> UspError {
    UspError::new(ErrorCode::InvalidCommandArgs, msg)
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// A placeholder destination until the host is resolved on the run's thread.
const UNRESOLVED: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

impl Job {
    /// Checks the arguments of command `name` against the agent's bounds; `device` is the
    /// network device of its `Interface` argument, if it named one.
    pub fn check(name: &str, a: Args, device: Option<String>) -> Result<Job, UspError> {
        let http = name == "DownloadDiagnostics" || name == "UploadDiagnostics";
        if http && device.is_some() {
            return Err(bad(format!("{name}: choosing the Interface is not supported")));
        }
        let family = Family::of(&a);
        let dscp =
            a.0.iter().any(|(k, _)| &**k == "DSCP").then(|| a.number("DSCP", 0, 63)).transpose()?;
        let dscp = dscp.map(|d| d as u8);
        let job = match name {
            "IPPing" | "ServerSelectionDiagnostics" => {
                let spec = PingSpec {
                    dest: UNRESOLVED,
                    count: a.number("NumberOfRepetitions", 3, 100)? as u32,
                    timeout: ms(a.number("Timeout", 1000, 60_000)?),
                    size: a.number("DataBlockSize", 64, MAX_PAYLOAD)? as usize,
                    dscp,
                    device,
                };
                bounded(spec.timeout * spec.count)?;
                if name == "IPPing" {
                    Job::Ping(a.text("Host"), family, spec)
                } else {
                    Job::Select(hosts(&a)?, family, spec, a.text("Protocol") == "UDP Echo")
                }
            }
            "TraceRoute" => {
                let spec = TraceSpec {
                    dest: UNRESOLVED,
                    tries: a.number("NumberOfTries", 3, 3)? as u32,
                    timeout: ms(a.number("Timeout", 5000, 60_000)?),
                    size: a.number("DataBlockSize", 38, MAX_PAYLOAD)? as usize,
                    max_hops: a.number("MaxHopCount", 30, 64)? as u8,
                    dscp,
                    device,
                };
                bounded(spec.timeout * spec.tries * u32::from(spec.max_hops))?;
                Job::Trace(a.text("Host"), family, spec)
            }
            "UDPEchoDiagnostics" => {
                let spec = EchoSpec {
                    to: SocketAddr::new(UNRESOLVED, 0),
                    count: a.number("NumberOfRepetitions", 3, 100)? as u32,
                    timeout: ms(a.number("Timeout", 1000, 60_000)?),
                    size: a.number("DataBlockSize", 24, MAX_PAYLOAD)? as usize,
                    gap: ms(a.number("InterTransmissionTime", 1000, 65_535)?),
                    device,
                    per_packet: a.flag("EnableIndividualPacketResults"),
                };
                bounded((spec.timeout + spec.gap) * spec.count)?;
                let port = a.number("Port", 0, 65_535)? as u16;
                Job::Echo(a.text("Host"), family, port, spec)
            }
            "DownloadDiagnostics" => {
                Job::Download(url(&a, "DownloadURL")?, a.flag("EnablePerConnectionResults"))
            }
            "UploadDiagnostics" => {
                let len = a.number("TestFileLength", 0, http::MAX_BYTES)?;
                Job::Upload(url(&a, "UploadURL")?, len, a.flag("EnablePerConnectionResults"))
            }
            _ => return Err(UspError::new(ErrorCode::CommandFailure, "unknown diagnostic")),
        };
        Ok(job)
    }

    /// Runs the job to its output arguments (checking `cancel` between probes).
    pub fn run(self, cancel: &AtomicBool, ca_file: Option<&std::path::Path>) -> Output {
        match self {
            Job::Ping(host, family, mut spec) => {
                let Some(dest) = resolve(&host, family) else {
                    return status("Error_CannotResolveHostName");
                };
                spec.dest = dest;
                match ping::series(&spec, cancel) {
                    Ok(s) => ping::ping_outputs(&s, source_for(dest, spec.device.as_deref())),
                    Err(e) => icmp_failure("IPPing", &e),
                }
            }
            Job::Trace(host, family, mut spec) => {
                let Some(dest) = resolve(&host, family) else {
                    return status("Error_CannotResolveHostName");
                };
                spec.dest = dest;
                let started = Instant::now();
                match ping::trace(&spec, cancel) {
                    Ok((hops, end)) => {
                        let source = source_for(dest, spec.device.as_deref());
                        ping::trace_outputs(&hops, end, started, source)
                    }
                    Err(e) => icmp_failure("TraceRoute", &e),
                }
            }
            Job::Echo(host, family, port, mut spec) => {
                let Some(dest) = resolve(&host, family) else {
                    return status("Error_CannotResolveHostName");
                };
                spec.to = SocketAddr::new(dest, port);
                match udp_echo::run(&spec, cancel) {
                    Ok(echoes) => udp_echo::outputs(&echoes),
                    Err(e) => {
                        log::info!("UDPEchoDiagnostics to {}: {e}", spec.to);
                        status("Error_Other")
                    }
                }
            }
            Job::Download(url, rows) => http::download(&url, HTTP_TIMEOUT, ca_file, rows),
            Job::Upload(url, len, rows) => http::upload(&url, len, HTTP_TIMEOUT, ca_file, rows),
            Job::Select(hosts, family, spec, udp) => select(&hosts, family, spec, udp, cancel),
        }
    }
}

/// Refuses a run that could last longer than [`MAX_RUN`].
fn bounded(worst: Duration) -> Result<(), UspError> {
    if worst > MAX_RUN {
        return Err(bad(format!(
            "the run could take {} s, more than the {} s allowed",
            worst.as_secs(),
            MAX_RUN.as_secs()
        )));
    }
    Ok(())
}

/// The hosts of a ServerSelection (over UDP Echo each may carry a port: `host:port`).
fn hosts(a: &Args) -> Result<Vec<String>, UspError> {
    let list: Vec<String> = a
        .text("HostList")
        .split(',')
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    if list.is_empty() || list.len() > MAX_HOSTS {
        return Err(bad(format!("HostList must name 1 to {MAX_HOSTS} hosts")));
    }
    Ok(list)
}

/// An `http://` or `https://` URL that parses (7027 otherwise).
fn url(a: &Args, name: &str) -> Result<String, UspError> {
    let u = a.text(name);
    let rest = u.strip_prefix("http://").or_else(|| u.strip_prefix("https://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() && !h.contains(char::is_whitespace) => Ok(u),
        _ => Err(bad(format!("{name} '{u}' is not an http:// or https:// URL"))),
    }
}

fn status(s: &str) -> Output {
    vec![out("Status", Value::String(s.into()))]
}

fn icmp_failure(what: &str, e: &IcmpError) -> Output {
    log::warn!("{what}: {e}");
    match e {
        IcmpError::NoRoute => status("Error_NoRouteToHost"),
        _ => status("Error_Other"),
    }
}

/// The source address the kernel would use towards `dest` (a UDP socket's connect sends
/// nothing).
pub fn source_for(dest: IpAddr, device: Option<&str>) -> Option<IpAddr> {
    let bind: SocketAddr = if dest.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" }.parse().ok()?;
    let s = std::net::UdpSocket::bind(bind).ok()?;
    if let Some(d) = device {
        super::icmp::bind_to_device(&s, d).ok()?;
    }
    s.connect(SocketAddr::new(dest, 9)).ok()?;
    s.local_addr().ok().map(|a| a.ip())
}

/// ServerSelection: pings (ICMP or UDP Echo) every host and names the fastest on average.
fn select(
    hosts: &[String],
    family: Family,
    spec: PingSpec,
    udp: bool,
    cancel: &AtomicBool,
) -> Output {
    let mut best: Option<(String, IpAddr, (u64, u64, u64))> = None;
    let mut resolved = 0;
    for h in hosts {
        let (name, port) = if udp { udp_echo::host_port(h) } else { (h.as_str(), 0) };
        let Some(dest) = resolve(name, family) else { continue };
        resolved += 1;
        let series = if udp {
            udp_echo::series(SocketAddr::new(dest, port), &spec, cancel).map_err(|e| {
                log::warn!("ServerSelectionDiagnostics over UDP Echo to {h}: {e}");
                status("Error_Other")
            })
        } else {
            ping::series(&PingSpec { dest, ..spec.clone() }, cancel)
                .map_err(|e| icmp_failure("ServerSelectionDiagnostics", &e))
        };
        let s = match series {
            Ok(s) if !s.rtts.is_empty() => s,
            Ok(_) => continue,
            Err(failed) => return failed,
        };
        let stats = s.stats_us();
        if best.as_ref().is_none_or(|b| stats.0 < b.2.0) {
            best = Some((h.clone(), dest, stats));
        }
    }
    let Some((host, dest, (avg, min, max))) = best else {
        return status(if resolved == 0 { "Error_CannotResolveHostName" } else { "Error_Other" });
    };
    let ms = |us: u64| Value::UnsignedInt(u32::try_from(us.div_ceil(1000)).unwrap_or(u32::MAX));
    vec![
        out("Status", Value::String("Complete".into())),
        out("FastestHost", Value::String(host.into())),
        out("MinimumResponseTime", ms(min)),
        out("AverageResponseTime", ms(avg)),
        out("MaximumResponseTime", ms(max)),
        out(
            "IPAddressUsed",
            Value::String(
                source_for(dest, spec.device.as_deref())
                    .map(|a| a.to_string())
                    .unwrap_or_default()
                    .into(),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::ip::diagnostics::icmp::Pinger;
    use crate::live::netns::record_skip;

    const INNER: &str = "USP_TEST_ICMP_UNPRIVILEGED";

    /// As user `nobody` without capabilities, where datagram ICMP is not allowed for its group:
    /// no ICMP socket at all, and an IPPing ends with `Status` `Error_Other`. The test re-runs
    /// itself through `setpriv` for that part.
    #[test]
    fn without_datagram_icmp_or_cap_net_raw_ipping_says_error_other() {
        if std::env::var_os(INNER).is_some() {
            let e = Pinger::open("127.0.0.1".parse().unwrap(), None).unwrap_err();
            assert!(matches!(e, IcmpError::NoSocket(_)), "{e}");
            let args = Args(vec![("Host".into(), Value::String("127.0.0.1".into()))]);
            let out = Job::check("IPPing", args, None).unwrap().run(&AtomicBool::new(false), None);
            assert_eq!(out, vec![out_status("Error_Other")]);
            return;
        }
        let range =
            std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap_or_default();
        let nums: Vec<u32> = range.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        if nums.len() == 2 && nums[0] <= 65534 && 65534 <= nums[1] {
            return record_skip(
                "datagram ICMP is allowed to nobody here (net.ipv4.ping_group_range)",
            );
        }
        let me = std::env::current_exe().unwrap();
        let run = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
            .arg(&me)
            .args(["--exact", "ip::diagnostics::run::tests::without_datagram_icmp_or_cap_net_raw_ipping_says_error_other"])
            .env(INNER, "1")
            .output();
        match run {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                assert!(text.contains("1 passed"), "the inner run ran the test: {text}");
            }
            Ok(o) if String::from_utf8_lossy(&o.stderr).contains("setpriv:") => {
                record_skip(&format!("setpriv: {}", String::from_utf8_lossy(&o.stderr).trim()));
            }
            Ok(o) => panic!(
                "the unprivileged run failed: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => record_skip(&format!("setpriv: {e}")),
        }
    }

    fn out_status(s: &str) -> (Box<str>, Value) {
        out("Status", Value::String(s.into()))
    }
}
