//! `Device.IP.`, `Device.Ethernet.` and the diagnostics inside private network namespaces
//! made by the tests: veth devices with known addresses and counters, an address nobody
//! answers, an address with no route, and a three-namespace route (client, router, server)
//! traced hop by hop through both the datagram ICMP socket (`IP_RECVERR`) and the raw one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::plugin::{DmEvent, Outcome};

use super::diagnostics::icmp::Pinger;
use crate::live::netns::Netns;
use crate::live::testing::row_where;
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

fn lab() -> Lab {
    let host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::Linux, "")
    };
    let mut plugins = crate::ethernet::build(&host);
    plugins.extend(super::build(&host));
    Lab::new(plugins)
}

/// Runs `cmd` and returns its output arguments as `name=value` texts.
fn run(t: &mut Lab, cmd: &str, input: &[(&str, &str)]) -> Vec<String> {
    let path = format!("Device.IP.Diagnostics.{cmd}()");
    let (_, outcome) = t.operate(&path, input).expect("accepted");
    assert_eq!(outcome, Outcome::Running);
    let end = Instant::now() + Duration::from_secs(30);
    while Instant::now() < end {
        t.dm.tick(at(1), true);
        for e in t.events() {
            if let DmEvent::OperationComplete { result, .. } = e {
                return result.unwrap().iter().map(|(k, v)| format!("{k}={v}")).collect();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("{cmd} did not complete");
}

#[test]
fn veth_devices_show_as_ethernet_and_ip_interfaces_with_their_addresses_and_counters() {
    let Some(ns) = Netns::create_or_skip() else { return };
    ns.ip(&[
        "link",
        "add",
        "va",
        "address",
        "02:00:00:00:00:0a",
        "type",
        "veth",
        "peer",
        "name",
        "vb",
    ]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "va"]);
    ns.ip(&["addr", "add", "2001:db8::1/64", "dev", "va", "nodad"]);
    let got = ns.run(|| {
        let mut t = lab();
        let eth = row_where(&mut t, "Device.Ethernet.Interface.", "Name", "va");
        let _ = row_where(&mut t, "Device.Ethernet.Interface.", "Name", "vb");
        assert!(t.try_get("Device.Ethernet.Interface.3.Name").is_err(), "lo is no Ethernet row");
        let mac = t.get(&format!("{eth}MACAddress"));
        let status = t.get(&format!("{eth}Status"));
        // Traffic out of va: an ARP request for an address nobody has.
        let s = std::net::UdpSocket::bind("10.77.0.1:0").unwrap();
        s.send_to(b"x", "10.77.0.99:9").unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let sent: u64 = t.get(&format!("{eth}Stats.PacketsSent")).parse().unwrap();
        let ip = row_where(&mut t, "Device.IP.Interface.", "Name", "va");
        let lower = t.get(&format!("{ip}LowerLayers"));
        let v4 = row_where(&mut t, &format!("{ip}IPv4Address."), "IPAddress", "10.77.0.1");
        let mask = t.get(&format!("{v4}SubnetMask"));
        let v6 = row_where(&mut t, &format!("{ip}IPv6Address."), "IPAddress", "2001:db8::1");
        let origin = t.get(&format!("{v6}Origin"));
        let v6status = t.get(&format!("{v6}IPAddressStatus"));
        (mac, status, sent, lower, eth, mask, origin, v6status)
    });
    let (mac, status, sent, lower, eth, mask, origin, v6status) = got;
    assert_eq!(mac, "02:00:00:00:00:0a");
    assert_eq!(status, "Up");
    assert!(sent >= 1, "the ARP request was counted: {sent}");
    assert_eq!(lower, eth, "the IP interface runs on the Ethernet row");
    assert_eq!(mask, "255.255.255.0");
    assert_eq!((origin.as_str(), v6status.as_str()), ("Static", "Preferred"));
}

#[test]
fn pings_to_a_silent_address_fail_one_by_one_and_an_unrouted_one_says_so() {
    let Some(ns) = Netns::create_or_skip() else { return };
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "va"]);
    let (silent, unrouted) = ns.run(|| {
        let mut t = lab();
        let input = [("Host", "10.77.0.99"), ("NumberOfRepetitions", "2"), ("Timeout", "300")];
        let silent = run(&mut t, "IPPing", &input);
        let unrouted =
            run(&mut t, "IPPing", &[("Host", "192.0.2.1"), ("NumberOfRepetitions", "1")]);
        (silent, unrouted)
    });
    for want in ["Status=Complete", "SuccessCount=0", "FailureCount=2", "IPAddressUsed=10.77.0.1"] {
        assert!(silent.contains(&want.to_owned()), "{want} in {silent:?}");
    }
    assert!(unrouted.contains(&"Status=Error_NoRouteToHost".to_owned()), "{unrouted:?}");
}

/// Client (10.1.0.1) — router (10.1.0.2 | 10.2.0.1, 10.9.0.0/16 unreachable) — server
/// (10.2.0.2), in three namespaces (client, router, server).
fn three_namespaces() -> Option<(Netns, Netns, Netns)> {
    let (c, r, s) = (Netns::create_or_skip()?, Netns::create_or_skip()?, Netns::create_or_skip()?);
    c.ip(&["link", "add", "c0", "type", "veth", "peer", "name", "r0", "netns", &r.name]);
    r.ip(&["link", "add", "r1", "type", "veth", "peer", "name", "s0", "netns", &s.name]);
    for (ns, dev, addr) in [
        (&c, "c0", "10.1.0.1/24"),
        (&r, "r0", "10.1.0.2/24"),
        (&r, "r1", "10.2.0.1/24"),
        (&s, "s0", "10.2.0.2/24"),
    ] {
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
    }
    c.ip(&["route", "add", "default", "via", "10.1.0.2"]);
    s.ip(&["route", "add", "default", "via", "10.2.0.1"]);
    r.ip(&["route", "add", "unreachable", "10.9.0.0/16"]);
    r.run(|| std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").unwrap());
    Some((c, r, s))
}

#[test]
fn traceroute_crosses_a_router_through_the_datagram_and_the_raw_socket() {
    let Some((client, _router, _server)) = three_namespaces() else { return };
    for datagram in [true, false] {
        let range = if datagram { "0 2147483647" } else { "1 0" };
        let (raw, reached, unreachable) = client.run(move || {
            std::fs::write("/proc/sys/net/ipv4/ping_group_range", range).unwrap();
            let raw = Pinger::open("10.2.0.2".parse().unwrap(), None).unwrap().is_raw();
            let mut t = lab();
            let input = [
                ("Host", "10.2.0.2"),
                ("NumberOfTries", "1"),
                ("Timeout", "1000"),
                ("MaxHopCount", "5"),
            ];
            let reached = run(&mut t, "TraceRoute", &input);
            let input = [
                ("Host", "10.9.0.1"),
                ("NumberOfTries", "1"),
                ("Timeout", "1000"),
                ("MaxHopCount", "5"),
            ];
            let unreachable = run(&mut t, "TraceRoute", &input);
            (raw, reached, unreachable)
        });
        assert_eq!(raw, !datagram);
        for want in [
            "Status=Complete",
            "RouteHops.1.HostAddress=10.1.0.2",
            "RouteHops.2.HostAddress=10.2.0.2",
            "RouteHops.2.ErrorCode=0",
        ] {
            assert!(reached.contains(&want.to_owned()), "raw={raw}: {want} in {reached:?}");
        }
        assert!(!reached.iter().any(|o| o.starts_with("RouteHops.3.")), "{reached:?}");
        // The router looks the route up before the TTL: the first probe already learns that
        // 10.9.0.0/16 is unreachable (ICMP code 1, host unreachable).
        for want in [
            "Status=Error_NoRouteToHost",
            "RouteHops.1.HostAddress=10.1.0.2",
            "RouteHops.1.ErrorCode=1",
        ] {
            assert!(unreachable.contains(&want.to_owned()), "raw={raw}: {want} in {unreachable:?}");
        }
        assert!(!unreachable.iter().any(|o| o.starts_with("RouteHops.2.")), "{unreachable:?}");
    }
}

#[test]
fn the_interface_argument_sends_through_that_interface_only() {
    let Some((client, _router, _server)) = three_namespaces() else { return };
    client.ip(&["link", "add", "c1", "type", "veth", "peer", "name", "c1peer"]);
    client.ip(&["addr", "add", "10.3.0.1/24", "dev", "c1"]);
    client.ip(&["link", "set", "c1", "up"]);
    client.ip(&["link", "set", "c1peer", "up"]);
    let (via_c0, via_c1) = client.run(|| {
        let mut t = lab();
        let c0 = row_where(&mut t, "Device.IP.Interface.", "Name", "c0");
        let c1 = row_where(&mut t, "Device.IP.Interface.", "Name", "c1");
        let ping = |t: &mut Lab, iface: &str| {
            let input = [("Host", "10.2.0.2"), ("NumberOfRepetitions", "1"), ("Interface", iface)];
            run(t, "IPPing", &input)
        };
        (ping(&mut t, &c0), ping(&mut t, &c1))
    });
    for want in ["Status=Complete", "SuccessCount=1", "IPAddressUsed=10.1.0.1"] {
        assert!(via_c0.contains(&want.to_owned()), "{want} in {via_c0:?}");
    }
    // Bound to c1, the echo leaves by c1 (from its address), where nobody answers.
    for want in ["SuccessCount=0", "FailureCount=1", "IPAddressUsed=10.3.0.1"] {
        assert!(via_c1.contains(&want.to_owned()), "{want} in {via_c1:?}");
    }
}

#[test]
fn traceroute_over_ipv6_crosses_the_router_through_both_sockets() {
    let Some((client, router, server)) = three_namespaces() else { return };
    for (ns, dev, addr) in [
        (&client, "c0", "fd01::1/64"),
        (&router, "r0", "fd01::2/64"),
        (&router, "r1", "fd02::1/64"),
        (&server, "s0", "fd02::2/64"),
    ] {
        ns.ip(&["-6", "addr", "add", addr, "dev", dev, "nodad"]);
    }
    client.ip(&["-6", "route", "add", "default", "via", "fd01::2"]);
    server.ip(&["-6", "route", "add", "default", "via", "fd02::1"]);
    router.run(|| std::fs::write("/proc/sys/net/ipv6/conf/all/forwarding", "1").unwrap());
    // Neighbour discovery waits for the link-local addresses' duplicate detection (~2 s).
    for ns in [&client, &router, &server] {
        let settled = (0..100).any(|_| {
            let o = std::process::Command::new("ip")
                .args(["-n", &ns.name, "-6", "addr", "show", "tentative"])
                .output()
                .unwrap();
            let done = o.stdout.is_empty();
            if !done {
                std::thread::sleep(Duration::from_millis(50));
            }
            done
        });
        assert!(settled, "IPv6 addresses still tentative in {}", ns.name);
    }
    for datagram in [true, false] {
        let range = if datagram { "0 2147483647" } else { "1 0" };
        let out = client.run(move || {
            // ping_group_range is the IPv4 sysctl; it rules ICMPv6 datagram sockets too.
            std::fs::write("/proc/sys/net/ipv4/ping_group_range", range).unwrap();
            let mut t = lab();
            let input = [
                ("Host", "fd02::2"),
                ("ProtocolVersion", "IPv6"),
                ("NumberOfTries", "1"),
                ("Timeout", "1000"),
                ("MaxHopCount", "5"),
            ];
            run(&mut t, "TraceRoute", &input)
        });
        for want in [
            "Status=Complete",
            "IPAddressUsed=fd01::1",
            "RouteHops.1.HostAddress=fd01::2",
            "RouteHops.2.HostAddress=fd02::2",
        ] {
            assert!(out.contains(&want.to_owned()), "datagram={datagram}: {want} in {out:?}");
        }
    }
}
