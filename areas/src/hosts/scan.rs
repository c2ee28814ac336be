//! The hosts on the LAN, merged from the kernel's neighbour table (rtnetlink) and, where it
//! exists, dnsmasq's lease file (OpenWrt's `/tmp/dhcp.leases`): one [`HostEntry`] per MAC
//! address.
//!
//! Never does: probe the network (no ARP or ping of its own) or change a lease.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use crate::netlink::route::{self, NUD_FAILED, NUD_INCOMPLETE, NUD_NOARP, Neighbour, mac_text};

/// One DHCPv4 lease of dnsmasq's file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// When it ends (Unix seconds), 0 for never.
    pub expiry: i64,
    /// The client's MAC address, lower case.
    pub mac: String,
    /// The address leased.
    pub ip: IpAddr,
    /// The client's host name, if it gave one.
    pub hostname: Option<String>,
}

/// One host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostEntry {
    /// Its MAC address, lower case (the row key).
    pub mac: String,
    /// Its lease, if it has one.
    pub lease: Option<Lease>,
    /// Its addresses (leased first, then the neighbour table's), without repeats.
    pub ips: Vec<IpAddr>,
    /// The name of the interface it was last seen on (neighbour table).
    pub iface: Option<String>,
    /// Whether the neighbour table has it in a live state.
    pub active: bool,
}

/// Parses dnsmasq's lease file: `EXPIRY MAC IP HOSTNAME CLIENT-ID` lines (`*` for none);
/// the DHCPv6 part (after the `duid` line) and malformed lines are skipped.
pub fn parse_leases(text: &str) -> Vec<Lease> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() == Some(&"duid") {
            break;
        }
        let (Some(expiry), Some(mac), Some(ip)) = (f.first(), f.get(1), f.get(2)) else { continue };
        let (Ok(expiry), Ok(ip)) = (expiry.parse::<i64>(), ip.parse::<IpAddr>()) else { continue };
        if !is_mac(mac) {
            continue;
        }
        let hostname = f.get(3).filter(|h| **h != "*").map(|h| (*h).to_owned());
        out.push(Lease { expiry, mac: mac.to_ascii_lowercase(), ip, hostname });
    }
    out
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a neighbour entry is a host that is there (not failed, not being resolved).
fn live(n: &Neighbour) -> bool {
    n.state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP) == 0 && n.state != 0
}

/// The hosts of `leases` and `neighbours`, by MAC; `names` maps interface index to name.
pub fn merge(
    leases: &[Lease],
    neighbours: &[Neighbour],
    names: &BTreeMap<u32, String>,
) -> Vec<HostEntry> {
    let mut hosts: BTreeMap<String, HostEntry> = BTreeMap::new();
    for l in leases {
        let h = hosts
            .entry(l.mac.clone())
            .or_insert_with(|| HostEntry { mac: l.mac.clone(), ..HostEntry::default() });
        h.lease = Some(l.clone());
        if !h.ips.contains(&l.ip) {
            h.ips.push(l.ip);
        }
    }
    for n in neighbours {
        let Some(mac) = n.mac.as_deref().filter(|m| m.len() == 6 && m.iter().any(|b| *b != 0))
        else {
            continue;
        };
        if n.state & NUD_NOARP != 0 || n.state & NUD_FAILED != 0 {
            continue;
        }
        let mac = mac_text(mac);
        let h =
            hosts.entry(mac.clone()).or_insert_with(|| HostEntry { mac, ..HostEntry::default() });
        if !h.ips.contains(&n.ip) {
            h.ips.push(n.ip);
        }
        if h.iface.is_none() || live(n) {
            h.iface = names.get(&n.index).cloned();
        }
        h.active |= live(n);
    }
    hosts.into_values().collect()
}

/// Reads the lease file at `leases` (absent: none) and the neighbour table.
pub fn scan(leases: &Path) -> Vec<HostEntry> {
    let leases = std::fs::read_to_string(leases).map(|t| parse_leases(&t)).unwrap_or_default();
    let neighbours = route::neighbours().unwrap_or_else(|e| {
        log::warn!("Device.Hosts: the neighbour table cannot be read: {e}");
        Vec::new()
    });
    let names = route::links()
        .map(|ls| ls.into_iter().map(|l| (l.index, l.name)).collect())
        .unwrap_or_default();
    merge(&leases, &neighbours, &names)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::netlink::route::NUD_REACHABLE;

    const LEASES: &str = "1700000000 AA:bb:cc:00:00:01 192.168.1.10 laptop 01:aa:bb:cc:00:00:01\n\
        0 aa:bb:cc:00:00:02 192.168.1.11 * *\n\
        garbage line\n\
        1700000000 not-a-mac 192.168.1.12 x *\n\
        duid 00:01:00:01:2c:3d:4e:5f:aa:bb:cc:00:00:01\n\
        1700000000 1234 fd00::10 laptop 00:01:00:01\n";

    #[test]
    fn dnsmasq_leases_parse_and_bad_lines_are_skipped() {
        let l = parse_leases(LEASES);
        assert_eq!(l.len(), 2, "{l:?}");
        assert_eq!(l[0].mac, "aa:bb:cc:00:00:01");
        assert_eq!(l[0].hostname.as_deref(), Some("laptop"));
        assert_eq!(l[1].expiry, 0);
        assert_eq!(l[1].hostname, None);
    }

    #[test]
    fn leases_and_neighbours_merge_by_mac() {
        let leases = parse_leases(LEASES);
        let n = |ip: &str, mac: u8, state| Neighbour {
            index: 3,
            ip: ip.parse().unwrap(),
            mac: Some(vec![0xaa, 0xbb, 0xcc, 0, 0, mac]),
            state,
        };
        let neighbours = [
            n("192.168.1.10", 1, NUD_REACHABLE),
            n("fe80::1", 1, NUD_REACHABLE),
            n("192.168.1.50", 3, NUD_FAILED),
        ];
        let names = BTreeMap::from([(3, "br-lan".to_owned())]);
        let hosts = merge(&leases, &neighbours, &names);
        assert_eq!(hosts.len(), 2, "the failed neighbour is no host: {hosts:?}");
        assert_eq!(hosts[0].ips.len(), 2);
        assert!(hosts[0].active);
        assert_eq!(hosts[0].iface.as_deref(), Some("br-lan"));
        assert!(!hosts[1].active, "a lease alone is not presence");
    }
}
