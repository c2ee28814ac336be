//! `Device.Hosts.` in a private network namespace: a neighbour with a lease, a lease alone,
//! and the IP interface the host was seen on.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use crate::live::netns::Netns;
use crate::live::testing::row_where;
use crate::testutil::Lab;
use crate::{AgentIdentity, Host, NoWake, Platform};

#[test]
fn hosts_merge_the_neighbour_table_and_the_lease_file() {
    let Some(ns) = Netns::create_or_skip() else { return };
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "va"]);
    ns.ip(&[
        "neigh",
        "add",
        "10.77.0.5",
        "lladdr",
        "02:00:00:00:00:05",
        "dev",
        "va",
        "nud",
        "reachable",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("dhcp.leases");
    let far = 4_000_000_000u64;
    std::fs::write(
        &leases,
        format!("{far} 02:00:00:00:00:05 10.77.0.5 printer *\n0 02:00:00:00:00:06 10.77.0.6 * *\n"),
    )
    .unwrap();
    let got = ns.run(move || {
        let mut host = Host {
            waker: Arc::new(NoWake),
            ..Host::new(AgentIdentity::default(), Platform::Linux, dir.path())
        };
        host.paths.dhcp_leases = leases;
        let mut plugins = crate::ip::build(&host);
        plugins.extend(super::build(&host));
        let mut t = Lab::new(plugins);
        let ip = row_where(&mut t, "Device.IP.Interface.", "Name", "va");
        let printer = row_where(&mut t, "Device.Hosts.Host.", "PhysAddress", "02:00:00:00:00:05");
        let quiet = row_where(&mut t, "Device.Hosts.Host.", "PhysAddress", "02:00:00:00:00:06");
        let g = |t: &mut Lab, p: String| t.get(&p);
        let v4 = row_where(&mut t, &format!("{printer}IPv4Address."), "IPAddress", "10.77.0.5");
        vec![
            g(&mut t, format!("{printer}HostName")),
            g(&mut t, format!("{printer}AddressSource")),
            g(&mut t, format!("{printer}Active")),
            g(&mut t, format!("{printer}IPAddress")),
            g(&mut t, format!("{printer}Layer3Interface")),
            ip,
            g(&mut t, format!("{quiet}Active")),
            g(&mut t, format!("{quiet}LeaseTimeRemaining")),
            g(&mut t, format!("{printer}LeaseTimeRemaining")),
            v4,
        ]
    });
    assert_eq!(got[0..4], ["printer", "DHCP", "true", "10.77.0.5"]);
    assert_eq!(got[4], got[5], "seen on the va IP interface");
    assert_eq!(got[6..8], ["false", "-1"]);
    assert!(got[8].parse::<i64>().unwrap() > 0);
    assert!(got[9].contains("IPv4Address."));
}
