//! `Device.IP.` against the machine's real interfaces and real peers on 127.0.0.1 / ::1: the
//! loopback interface and its addresses, and every diagnostic with its bad inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::error::ErrorCode;
use usp_datamodel::plugin::{DmEvent, Outcome};
use usp_testkit::http::{HttpServer, Route};

use super::tr181;
use crate::live::testing::row_where;
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

fn lab() -> Lab {
    let host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::Linux, "")
    };
    Lab::new(super::build(&host))
}

fn row_of(t: &mut Lab, name: &str) -> String {
    row_where(t, "Device.IP.Interface.", "Name", name)
}

#[test]
fn the_loopback_interface_its_addresses_and_counters_are_the_kernels() {
    let mut t = lab();
    let lo = row_of(&mut t, "lo");
    assert_eq!(t.get(&format!("{lo}Loopback")), "true");
    assert_eq!(t.get(&format!("{lo}Type")), "Loopback");
    assert_eq!(t.get(&format!("{lo}Enable")), "true");
    assert_eq!(t.get(&format!("{lo}Status")), "Up");
    assert_eq!(
        t.get(&format!("{lo}MaxMTUSize")),
        std::fs::read_to_string("/sys/class/net/lo/mtu").unwrap().trim()
    );
    let row = row_where(&mut t, &format!("{lo}IPv4Address."), "IPAddress", "127.0.0.1");
    assert_eq!(t.get(&format!("{row}SubnetMask")), "255.0.0.0");
    assert_eq!(t.get(&format!("{row}AddressingType")), "Static");
    assert_eq!(t.get(&format!("{row}Status")), "Enabled");
    if std::path::Path::new("/proc/net/if_inet6").exists() {
        let row = row_where(&mut t, &format!("{lo}IPv6Address."), "IPAddress", "::1");
        assert_eq!(t.get(&format!("{row}Origin")), "WellKnown");
        assert_eq!(t.get(&format!("{row}ValidLifetime")), "9999-12-31T23:59:59Z");
    }
    let sys = |f: &str| -> u64 {
        std::fs::read_to_string(format!("/sys/class/net/lo/statistics/{f}"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let before = sys("rx_packets");
    let read: u64 = t.get(&format!("{lo}Stats.PacketsReceived")).parse().unwrap();
    std::thread::sleep(super::super::live::links::MAX_AGE);
    let after = sys("rx_packets");
    assert!(before <= read && read <= after, "{before} <= {read} <= {after}");
    assert_eq!(t.get("Device.IP.Diagnostics.IPv4PingSupported"), "true");
}

/// Runs `cmd` with `input` and polls until its OperationComplete: its output arguments.
fn run(t: &mut Lab, cmd: &str, input: &[(&str, &str)]) -> Vec<(String, String)> {
    let (handle, outcome) =
        t.operate(&format!("Device.IP.Diagnostics.{cmd}()"), input).expect("accepted");
    assert_eq!(outcome, Outcome::Running);
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        t.dm.tick(at(1), true);
        for e in t.events() {
            if let DmEvent::OperationComplete { handle: h, result, .. } = e {
                assert_eq!(h, handle);
                let out = result.expect("completed");
                let out: Vec<(String, String)> =
                    out.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                check_statuses(cmd, &out);
                return out;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{cmd} did not complete");
}

/// Every output argument is one TR-181 names for the command (`RouteHops.2.Host` is
/// `RouteHops.{i}.Host`), and every Status sent is one TR-181 lists.
fn check_statuses(cmd: &str, out: &[(String, String)]) {
    let c = tr181::COMMANDS.iter().find(|c| c.name == cmd).unwrap();
    for (name, _) in out {
        let generic: Vec<&str> = name
            .split('.')
            .map(|p| if p.bytes().all(|b| b.is_ascii_digit()) { "{i}" } else { p })
            .collect();
        let generic = generic.join(".");
        assert!(c.outputs.iter().any(|(n, _)| *n == generic), "{cmd}: {name} is no TR-181 output");
    }
    let status = arg(out, "Status");
    assert!(c.statuses.contains(&status.as_str()), "{cmd}: {status} not in {:?}", c.statuses);
}

fn arg(out: &[(String, String)], name: &str) -> String {
    out.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {name} in {out:?}"))
}

#[test]
fn ipping_reaches_localhost_over_ipv4_and_ipv6() {
    let mut t = lab();
    for (host, version) in [("127.0.0.1", "IPv4"), ("::1", "IPv6"), ("localhost", "IPv4")] {
        let input = [
            ("Host", host),
            ("ProtocolVersion", version),
            ("NumberOfRepetitions", "3"),
            ("Timeout", "2000"),
        ];
        let out = run(&mut t, "IPPing", &input);
        assert_eq!(arg(&out, "Status"), "Complete", "{host}: {out:?}");
        assert_eq!(arg(&out, "SuccessCount"), "3", "{host}");
        assert_eq!(arg(&out, "FailureCount"), "0", "{host}");
        let (min, avg, max): (u32, u32, u32) = (
            arg(&out, "MinimumResponseTimeDetailed").parse().unwrap(),
            arg(&out, "AverageResponseTimeDetailed").parse().unwrap(),
            arg(&out, "MaximumResponseTimeDetailed").parse().unwrap(),
        );
        assert!(min <= avg && avg <= max && max < 2_000_000, "{min} {avg} {max}");
        assert!(arg(&out, "IPAddressUsed").parse::<std::net::IpAddr>().unwrap().is_loopback());
    }
}

#[test]
fn bad_inputs_get_usp_errors_or_a_status_and_the_agent_goes_on() {
    let mut t = lab();
    let refused = |t: &mut Lab, cmd: &str, input: &[(&str, &str)]| {
        let e = t.operate(&format!("Device.IP.Diagnostics.{cmd}()"), input).expect_err("refused");
        assert_eq!(e.code, ErrorCode::InvalidCommandArgs, "{cmd} {input:?}: {e}");
    };
    refused(&mut t, "IPPing", &[("Host", "127.0.0.1"), ("NumberOfRepetitions", "0")]);
    refused(&mut t, "IPPing", &[("Host", "127.0.0.1"), ("NumberOfRepetitions", "100000")]);
    refused(&mut t, "IPPing", &[("Host", "127.0.0.1"), ("DataBlockSize", "70000")]);
    refused(&mut t, "IPPing", &[("NumberOfRepetitions", "1")]);
    refused(&mut t, "IPPing", &[("Host", "127.0.0.1"), ("Interface", "Device.IP.Interface.999.")]);
    refused(
        &mut t,
        "IPPing",
        &[("Host", "127.0.0.1"), ("Interface", "Device.Ethernet.Interface.1.")],
    );
    let lo = row_where(&mut t, "Device.IP.Interface.", "Name", "lo");
    let url = ("DownloadURL", "http://127.0.0.1/x");
    refused(&mut t, "DownloadDiagnostics", &[url, ("Interface", lo.as_str())]);
    refused(&mut t, "DownloadDiagnostics", &[("DownloadURL", "ftp://127.0.0.1/x")]);
    refused(&mut t, "DownloadDiagnostics", &[("DownloadURL", "not a url")]);
    refused(&mut t, "UploadDiagnostics", &[("UploadURL", "http://"), ("TestFileLength", "1")]);
    refused(&mut t, "TraceRoute", &[("Host", "127.0.0.1"), ("MaxHopCount", "65")]);
    refused(&mut t, "ServerSelectionDiagnostics", &[("HostList", "")]);
    let out =
        run(&mut t, "IPPing", &[("Host", "no-such-host.invalid"), ("NumberOfRepetitions", "1")]);
    assert_eq!(arg(&out, "Status"), "Error_CannotResolveHostName");
    let out = run(&mut t, "IPPing", &[("Host", "::1"), ("ProtocolVersion", "IPv4")]);
    assert_eq!(arg(&out, "Status"), "Error_CannotResolveHostName", "::1 has no IPv4 address");
    // Still serving.
    let out = run(&mut t, "IPPing", &[("Host", "127.0.0.1"), ("NumberOfRepetitions", "1")]);
    assert_eq!(arg(&out, "SuccessCount"), "1");
}

#[test]
fn traceroute_to_localhost_is_one_hop_and_server_selection_picks_a_host() {
    let mut t = lab();
    for host in ["127.0.0.1", "::1"] {
        let out = run(
            &mut t,
            "TraceRoute",
            &[("Host", host), ("NumberOfTries", "1"), ("Timeout", "2000")],
        );
        assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
        assert_eq!(arg(&out, "RouteHops.1.HostAddress"), host);
        assert_eq!(arg(&out, "RouteHops.1.ErrorCode"), "0");
        assert!(!out.iter().any(|(k, _)| k.starts_with("RouteHops.2.")), "{out:?}");
    }
    let input = [("HostList", "no-such-host.invalid,127.0.0.1,::1"), ("NumberOfRepetitions", "2")];
    let out = run(&mut t, "ServerSelectionDiagnostics", &input);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert!(["127.0.0.1", "::1"].contains(&arg(&out, "FastestHost").as_str()), "{out:?}");
    let out = run(&mut t, "ServerSelectionDiagnostics", &[("HostList", "no-such-host.invalid")]);
    assert_eq!(arg(&out, "Status"), "Error_CannotResolveHostName");
}

#[test]
fn udp_echo_against_a_local_echo_server_and_several_runs_at_once() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..4 {
            let Ok((n, from)) = server.recv_from(&mut buf) else { return };
            server.send_to(&buf[..n], from).unwrap();
        }
    });
    let mut t = lab();
    let udp = [
        ("Host", "127.0.0.1"),
        ("Port", port.as_str()),
        ("NumberOfRepetitions", "4"),
        ("InterTransmissionTime", "10"),
        ("EnableIndividualPacketResults", "true"),
    ];
    // A ping starts first and runs beside the echo test.
    let (ping, _) = t
        .operate(
            "Device.IP.Diagnostics.IPPing()",
            &[("Host", "127.0.0.1"), ("NumberOfRepetitions", "5")],
        )
        .unwrap();
    let out = run(&mut t, "UDPEchoDiagnostics", &udp);
    echo.join().unwrap();
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert_eq!(arg(&out, "SuccessCount"), "4");
    assert_eq!(arg(&out, "FailureCount"), "0");
    for n in 1..=4 {
        let row = format!("IndividualPacketResult.{n}.");
        assert_eq!(arg(&out, &format!("{row}PacketSuccess")), "true", "{out:?}");
        assert_eq!(arg(&out, &format!("{row}TestGenSN")), n.to_string());
        let sent = arg(&out, &format!("{row}PacketSendTime"));
        let got = arg(&out, &format!("{row}PacketReceiveTime"));
        assert!(sent.starts_with("20") && sent <= got, "{sent} {got}");
    }
    assert!(!out.iter().any(|(k, _)| k.starts_with("IndividualPacketResult.5.")), "{out:?}");
    assert!(t.dm.running().contains(&ping), "the ping still runs");
    // Nobody echoes now: every datagram times out.
    let quiet = [
        ("Host", "127.0.0.1"),
        ("Port", port.as_str()),
        ("NumberOfRepetitions", "2"),
        ("Timeout", "100"),
        ("InterTransmissionTime", "1"),
    ];
    let out = run(&mut t, "UDPEchoDiagnostics", &quiet);
    assert_eq!((arg(&out, "SuccessCount"), arg(&out, "FailureCount")), ("0".into(), "2".into()));
    assert!(!out.iter().any(|(k, _)| k.starts_with("IndividualPacket")), "not asked: {out:?}");
    let quiet = [quiet.as_slice(), &[("EnableIndividualPacketResults", "true")]].concat();
    let out = run(&mut t, "UDPEchoDiagnostics", &quiet);
    assert_eq!(arg(&out, "IndividualPacketResult.2.PacketSuccess"), "false", "{out:?}");
    assert_eq!(arg(&out, "IndividualPacketResult.2.PacketReceiveTime"), "0001-01-01T00:00:00Z");
}

#[test]
fn server_selection_over_udp_echo_picks_the_host_that_echoes() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let live = server.local_addr().unwrap().port();
    server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..3 {
            let Ok((n, from)) = server.recv_from(&mut buf) else { return };
            server.send_to(&buf[..n], from).unwrap();
        }
    });
    // A port that never answers: bound, never read.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dead = silent.local_addr().unwrap().port();
    let mut t = lab();
    let hosts = format!("127.0.0.1:{dead},127.0.0.1:{live}");
    let input = [
        ("HostList", hosts.as_str()),
        ("Protocol", "UDP Echo"),
        ("NumberOfRepetitions", "3"),
        ("Timeout", "200"),
    ];
    let out = run(&mut t, "ServerSelectionDiagnostics", &input);
    echo.join().unwrap();
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert_eq!(arg(&out, "FastestHost"), format!("127.0.0.1:{live}"));
    assert_eq!(arg(&out, "IPAddressUsed"), "127.0.0.1");
    let only_dead = format!("127.0.0.1:{dead}");
    let input = [("HostList", only_dead.as_str()), ("Protocol", "UDP Echo"), ("Timeout", "100")];
    let out = run(&mut t, "ServerSelectionDiagnostics", &input);
    assert_eq!(arg(&out, "Status"), "Error_Other", "no host answered: {out:?}");
    let split = super::diagnostics::udp_echo::host_port;
    assert_eq!(split("[::1]:9"), ("::1", 9));
    assert_eq!(split("::1"), ("::1", 7));
    assert_eq!(split("example.com"), ("example.com", 7));
}

#[test]
fn download_diagnostics_times_a_known_file_and_reports_failures() {
    let server = HttpServer::start();
    server.route("/file", Route::File(vec![7u8; 300_000]));
    server.route("/cut", Route::Truncated { body: vec![1u8; 1000], sent: 10 });
    let mut t = lab();
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &server.url("/file"))]);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert_eq!(arg(&out, "TestBytesReceived"), "300000");
    let rom = arg(&out, "ROMTime");
    let (bom, eom) = (arg(&out, "BOMTime"), arg(&out, "EOMTime"));
    assert!(rom <= bom && bom <= eom, "{rom} {bom} {eom}");
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &server.url("/cut"))]);
    assert_eq!(arg(&out, "Status"), "Error_TransferFailed");
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &server.url("/none"))]);
    assert_eq!(arg(&out, "Status"), "Error_NoResponse");
    let out =
        run(&mut t, "DownloadDiagnostics", &[("DownloadURL", "http://no-such-host.invalid/x")]);
    assert_eq!(arg(&out, "Status"), "Error_CannotResolveHostName");
}

/// A one-request HTTP server that accepts a PUT and returns the body length it read.
fn put_server() -> (String, std::thread::JoinHandle<usize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/up", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let (mut c, _) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
            c.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head).to_lowercase();
        assert!(head.starts_with("put /up"), "{head}");
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let mut body = vec![0u8; len];
        c.read_exact(&mut body).unwrap();
        c.write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        body.len()
    });
    (url, h)
}

#[test]
fn upload_diagnostics_puts_the_asked_length() {
    let (url, server) = put_server();
    let mut t = lab();
    let out =
        run(&mut t, "UploadDiagnostics", &[("UploadURL", &url), ("TestFileLength", "123456")]);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert_eq!(arg(&out, "TestBytesSent"), "123456");
    assert_eq!(server.join().unwrap(), 123_456);
    let out = run(
        &mut t,
        "UploadDiagnostics",
        &[("UploadURL", "http://127.0.0.1:1/x"), ("TestFileLength", "10")],
    );
    assert_eq!(arg(&out, "Status"), "Error_InitConnectionFailed", "{out:?}");
}

/// TCP open times and the socket's totals (TR-181 2.19), and `PerConnectionResult.1.` with
/// the same values when `EnablePerConnectionResults` is true, for a download and an upload.
#[test]
fn http_diagnostics_report_tcp_open_times_totals_and_per_connection_results() {
    let server = HttpServer::start();
    server.route("/file", Route::File(vec![7u8; 300_000]));
    let mut t = lab();
    let url = server.url("/file");
    let input = [("DownloadURL", url.as_str()), ("EnablePerConnectionResults", "true")];
    let out = run(&mut t, "DownloadDiagnostics", &input);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    let (open, opened) = (arg(&out, "TCPOpenRequestTime"), arg(&out, "TCPOpenResponseTime"));
    let (rom, bom) = (arg(&out, "ROMTime"), arg(&out, "BOMTime"));
    assert!(rom <= open && open <= opened && opened <= bom, "{out:?}");
    let received: u64 = arg(&out, "TotalBytesReceived").parse().unwrap();
    assert!((300_000..302_000).contains(&received), "body and response head: {received}");
    let sent: u64 = arg(&out, "TotalBytesSent").parse().unwrap();
    assert!((20..2_000).contains(&sent), "a GET request head: {sent}");
    for name in [
        "ROMTime",
        "BOMTime",
        "EOMTime",
        "TestBytesReceived",
        "TotalBytesReceived",
        "TotalBytesSent",
        "TCPOpenRequestTime",
        "TCPOpenResponseTime",
    ] {
        assert_eq!(arg(&out, &format!("PerConnectionResult.1.{name}")), arg(&out, name));
    }
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &url)]);
    assert!(!out.iter().any(|(k, _)| k.starts_with("PerConnectionResult.")), "{out:?}");

    let (url, server) = put_server();
    let input = [
        ("UploadURL", url.as_str()),
        ("TestFileLength", "50000"),
        ("EnablePerConnectionResults", "true"),
    ];
    let out = run(&mut t, "UploadDiagnostics", &input);
    assert_eq!(server.join().unwrap(), 50_000);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    let sent: u64 = arg(&out, "TotalBytesSent").parse().unwrap();
    assert!((50_020..52_000).contains(&sent), "body and request head: {sent}");
    let received: u64 = arg(&out, "TotalBytesReceived").parse().unwrap();
    assert!((20..2_000).contains(&received), "a 201 response head: {received}");
    assert_eq!(arg(&out, "PerConnectionResult.1.TestBytesSent"), "50000");
    assert_eq!(arg(&out, "PerConnectionResult.1.TotalBytesSent"), sent.to_string());
}

#[test]
fn a_request_cancel_stops_a_running_ping_with_7023() {
    let host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::Linux, "")
    };
    let mut plugins = crate::builtin(&AgentIdentity::default());
    plugins.extend(super::build(&host));
    let mut t = Lab::new(plugins);
    let input = [("Host", "127.0.0.1"), ("NumberOfRepetitions", "100")];
    let (handle, _) = t.operate("Device.IP.Diagnostics.IPPing()", &input).unwrap();
    let who = usp_datamodel::plugin::Requester::Internal;
    let r = t.add_as(who, "Device.LocalAgent.Request.", &[("Status", "Active")]).unwrap();
    let table = t.dm.schema().obj_by_path("Device.LocalAgent.Request.{i}.").unwrap();
    let n: u32 = r.trim_end_matches('.').rsplit('.').next().unwrap().parse().unwrap();
    let inst = t.dm.instance(table, &[n]);
    t.dm.link_request(handle, inst);
    t.operate(&format!("{r}Cancel()"), &[]).unwrap();
    let mut completions = Vec::new();
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        t.dm.tick(at(1), true);
        for e in t.events() {
            if let DmEvent::OperationComplete { handle: h, result, .. } = e {
                completions.push((h, result.map(|_| ()).map_err(|e| e.code)));
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(completions, [(handle, Err(ErrorCode::CommandCanceled))], "one completion, 7023");
    assert!(!t.dm.running().contains(&handle));
}

#[test]
fn download_diagnostics_over_https_trusts_the_configured_ca_only() {
    let pki = usp_testkit::certs::TestPki::generate("diagnostics test CA", "agent");
    let server = HttpServer::start_tls(&pki.server_cert, &pki.server_key);
    server.route("/file", Route::File(vec![3u8; 100_000]));
    let host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::Linux, "")
    };
    let mut t = Lab::new(vec![Box::new(super::Ip::new(&host).trusting(pki.ca.clone()))]);
    let url = server.url("/file");
    assert!(url.starts_with("https://"), "{url}");
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &url)]);
    assert_eq!(arg(&out, "Status"), "Complete", "{out:?}");
    assert_eq!(arg(&out, "TestBytesReceived"), "100000");
    let other = usp_testkit::certs::TestPki::generate("another CA", "agent");
    let mut t = Lab::new(vec![Box::new(super::Ip::new(&host).trusting(other.ca.clone()))]);
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &url)]);
    assert_eq!(arg(&out, "Status"), "Error_InitConnectionFailed", "an untrusted server: {out:?}");
    let empty = tempfile::NamedTempFile::new().unwrap();
    let mut t = Lab::new(vec![Box::new(super::Ip::new(&host).trusting(empty.path().into()))]);
    let out = run(&mut t, "DownloadDiagnostics", &[("DownloadURL", &url)]);
    assert_eq!(arg(&out, "Status"), "Error_Other", "no trust anchors: {out:?}");
}
