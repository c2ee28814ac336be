//! rtnetlink (`NETLINK_ROUTE`) dumps on [`super::socket::Socket`]: links (`RTM_GETLINK`, with
//! their 64-bit counters), addresses (`RTM_GETADDR`) and neighbours (`RTM_GETNEIGH`), decoded
//! into plain structs for the IP, Ethernet and Hosts areas.
//!
//! Never does: change anything (no `RTM_NEW*`), or keep a socket open between dumps.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use nix::sys::socket::SockProtocol;

use super::socket::Socket;
use super::{Attrs, MessageBuilder, NLM_F_DUMP, NLM_F_REQUEST, NetlinkError};

const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const RTM_NEWADDR: u16 = 20;
const RTM_GETADDR: u16 = 22;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_OPERSTATE: u16 = 16;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_STATS64: u16 = 23;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_CACHEINFO: u16 = 6;
const IFA_FLAGS: u16 = 8;
const NDA_DST: u16 = 1;
const NDA_LLADDR: u16 = 2;
/// `ARPHRD_ETHER`, `ARPHRD_LOOPBACK` (linux/if_arp.h).
pub const ARPHRD_ETHER: u16 = 1;
/// The loopback device's hardware type.
pub const ARPHRD_LOOPBACK: u16 = 772;
/// `IFF_UP`.
pub const IFF_UP: u32 = 0x1;
/// `IFA_F_TEMPORARY`, `IFA_F_DEPRECATED`, `IFA_F_TENTATIVE`, `IFA_F_DADFAILED`, `IFA_F_PERMANENT`.
pub const IFA_F_TEMPORARY: u32 = 0x01;
/// Duplicate address detection failed.
pub const IFA_F_DADFAILED: u32 = 0x08;
/// Past its preferred lifetime.
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// Still being checked by duplicate address detection.
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// Configured by hand (no lifetime).
pub const IFA_F_PERMANENT: u32 = 0x80;
/// Neighbour states (linux/neighbour.h).
pub const NUD_INCOMPLETE: u16 = 0x01;
/// Confirmed reachable.
pub const NUD_REACHABLE: u16 = 0x02;
/// Resolution failed.
pub const NUD_FAILED: u16 = 0x20;
/// No ARP (point-to-point, loopback).
pub const NUD_NOARP: u16 = 0x40;

/// The most messages one dump may return (a router has tens of links and hundreds of
/// neighbours; the bound keeps a runaway reply finite).
const MAX_MESSAGES: usize = 16_384;
/// How long the kernel has to answer one dump.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A link's 64-bit counters (`struct rtnl_link_stats64`, first 24 fields).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// rx_packets, tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,
    /// tx_dropped, multicast, collisions, ... in the kernel's order.
    pub raw: [u64; 24],
}

impl LinkStats {
    /// Packets received.
    pub fn rx_packets(&self) -> u64 {
        self.raw[0]
    }
    /// Packets sent.
    pub fn tx_packets(&self) -> u64 {
        self.raw[1]
    }
    /// Bytes received.
    pub fn rx_bytes(&self) -> u64 {
        self.raw[2]
    }
    /// Bytes sent.
    pub fn tx_bytes(&self) -> u64 {
        self.raw[3]
    }
    /// Receive errors.
    pub fn rx_errors(&self) -> u64 {
        self.raw[4]
    }
    /// Send errors.
    pub fn tx_errors(&self) -> u64 {
        self.raw[5]
    }
    /// Received packets dropped.
    pub fn rx_dropped(&self) -> u64 {
        self.raw[6]
    }
    /// Packets to send dropped.
    pub fn tx_dropped(&self) -> u64 {
        self.raw[7]
    }
    /// Multicast packets received.
    pub fn multicast(&self) -> u64 {
        self.raw[8]
    }
    /// Collisions.
    pub fn collisions(&self) -> u64 {
        self.raw[9]
    }
    /// Packets received for an unknown protocol (`rx_nohandler`).
    pub fn rx_nohandler(&self) -> u64 {
        self.raw[23]
    }
}

/// One network interface (`RTM_NEWLINK`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// `ifi_index`.
    pub index: u32,
    /// `IFLA_IFNAME`.
    pub name: String,
    /// `ifi_type` (`ARPHRD_*`).
    pub hw_type: u16,
    /// `ifi_flags` (`IFF_*`).
    pub flags: u32,
    /// `IFLA_MTU`.
    pub mtu: u32,
    /// `IFLA_ADDRESS`, the hardware address.
    pub mac: Vec<u8>,
    /// `IFLA_OPERSTATE` (RFC 2863: 0 unknown, 1 notpresent, 2 down, 3 lowerlayerdown,
    /// 4 testing, 5 dormant, 6 up).
    pub operstate: u8,
    /// `IFLA_INFO_KIND` (`bridge`, `veth`, `vlan`, ...), none for plain devices.
    pub kind: Option<String>,
    /// `IFLA_STATS64`.
    pub stats: LinkStats,
}

/// One interface address (`RTM_NEWADDR`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    /// The interface's index.
    pub index: u32,
    /// The address (`IFA_LOCAL` for IPv4 when present, else `IFA_ADDRESS`).
    pub address: IpAddr,
    /// The prefix length.
    pub prefix_len: u8,
    /// `IFA_FLAGS` (or `ifa_flags`).
    pub flags: u32,
    /// Seconds it stays preferred / valid (`u32::MAX`: forever), from `IFA_CACHEINFO`.
    pub preferred: u32,
    /// See `preferred`.
    pub valid: u32,
}

/// One neighbour-table entry (`RTM_NEWNEIGH`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    /// The interface's index.
    pub index: u32,
    /// Its IP address.
    pub ip: IpAddr,
    /// Its link-layer address, when resolved.
    pub mac: Option<Vec<u8>>,
    /// `ndm_state` (`NUD_*`).
    pub state: u16,
}

fn open() -> Result<Socket, NetlinkError> {
    Socket::open(SockProtocol::NetlinkRoute, TIMEOUT)
}

fn ip_of(family: u8, bytes: &[u8]) -> Option<IpAddr> {
    match (family, bytes.len()) {
        (2, 4) => Some(IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))),
        (10, 16) => <[u8; 16]>::try_from(bytes).ok().map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

/// Every link of the network namespace.
pub fn links() -> Result<Vec<Link>, NetlinkError> {
    let req = MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &[0; 16]);
    let replies = open()?.request(req, MAX_MESSAGES)?;
    let mut out = Vec::new();
    for m in replies.iter().filter(|m| m.ty == RTM_NEWLINK) {
        let msg = m.borrow();
        let (hdr, attrs) = msg.split(16)?;
        out.push(parse_link(hdr, attrs)?);
    }
    Ok(out)
}

fn parse_link(hdr: &[u8], attrs: Attrs<'_>) -> Result<Link, NetlinkError> {
    let u32_at = |i: usize| u32::from_ne_bytes([hdr[i], hdr[i + 1], hdr[i + 2], hdr[i + 3]]);
    let mut link = Link {
        index: u32_at(4),
        name: String::new(),
        hw_type: u16::from_ne_bytes([hdr[2], hdr[3]]),
        flags: u32_at(8),
        mtu: 0,
        mac: Vec::new(),
        operstate: 0,
        kind: None,
        stats: LinkStats::default(),
    };
    for a in attrs {
        let a = a?;
        match a.ty {
            IFLA_IFNAME => link.name = a.str().unwrap_or_default().to_owned(),
            IFLA_MTU => link.mtu = a.u32().unwrap_or(0),
            IFLA_ADDRESS => link.mac = a.value.to_vec(),
            IFLA_OPERSTATE => link.operstate = a.u8().unwrap_or(0),
            IFLA_LINKINFO => {
                let kind = a.attrs().flatten().find(|i| i.ty == IFLA_INFO_KIND);
                link.kind = kind.and_then(|k| k.str()).map(str::to_owned);
            }
            IFLA_STATS64 => {
                for (i, c) in a.value.chunks_exact(8).take(24).enumerate() {
                    link.stats.raw[i] = u64::from_ne_bytes(c.try_into().unwrap_or([0; 8]));
                }
            }
            _ => {}
        }
    }
    Ok(link)
}

/// Every IPv4 and IPv6 address of the network namespace.
pub fn addresses() -> Result<Vec<Addr>, NetlinkError> {
    let req = MessageBuilder::new(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &[0; 8]);
    let replies = open()?.request(req, MAX_MESSAGES)?;
    let mut out = Vec::new();
    for m in replies.iter().filter(|m| m.ty == RTM_NEWADDR) {
        let msg = m.borrow();
        let (hdr, attrs) = msg.split(8)?;
        let (family, prefix_len) = (hdr[0], hdr[1]);
        let index = u32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let (mut local, mut address) = (None, None);
        let (mut flags, mut preferred, mut valid) = (u32::from(hdr[2]), u32::MAX, u32::MAX);
        for a in attrs {
            let a = a?;
            match a.ty {
                IFA_LOCAL => local = ip_of(family, a.value),
                IFA_ADDRESS => address = ip_of(family, a.value),
                IFA_FLAGS => flags = a.u32().unwrap_or(flags),
                IFA_CACHEINFO => {
                    preferred = a.u32().unwrap_or(u32::MAX);
                    valid = a.value.get(4..8).map_or(u32::MAX, |v| {
                        u32::from_ne_bytes(v.try_into().unwrap_or([0xff; 4]))
                    });
                }
                _ => {}
            }
        }
        if let Some(address) = local.or(address) {
            out.push(Addr { index, address, prefix_len, flags, preferred, valid });
        }
    }
    Ok(out)
}

/// Every neighbour-table entry (IPv4 ARP and IPv6 ND).
pub fn neighbours() -> Result<Vec<Neighbour>, NetlinkError> {
    let req = MessageBuilder::new(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, &[0; 12]);
    let replies = open()?.request(req, MAX_MESSAGES)?;
    let mut out = Vec::new();
    for m in replies.iter().filter(|m| m.ty == RTM_NEWNEIGH) {
        let msg = m.borrow();
        let (hdr, attrs) = msg.split(12)?;
        let family = hdr[0];
        let index = u32::from_ne_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
        let state = u16::from_ne_bytes([hdr[8], hdr[9]]);
        let (mut ip, mut mac) = (None, None);
        for a in attrs {
            let a = a?;
            match a.ty {
                NDA_DST => ip = ip_of(family, a.value),
                NDA_LLADDR => mac = Some(a.value.to_vec()),
                _ => {}
            }
        }
        if let Some(ip) = ip {
            out.push(Neighbour { index, ip, mac, state });
        }
    }
    Ok(out)
}

/// A hardware address as TR-181 writes it (`aa:bb:cc:dd:ee:ff`).
pub fn mac_text(mac: &[u8]) -> String {
    mac.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_loopback_link_and_its_addresses_are_read_from_the_kernel() {
        let links = links().unwrap();
        let lo = links.iter().find(|l| l.name == "lo").expect("lo");
        assert_eq!(lo.hw_type, ARPHRD_LOOPBACK);
        assert!(lo.flags & IFF_UP != 0);
        assert!(lo.mtu > 0);
        assert_eq!(lo.mac, vec![0; 6]);
        let addrs = addresses().unwrap();
        let mine: Vec<_> = addrs.iter().filter(|a| a.index == lo.index).collect();
        assert!(
            mine.iter().any(|a| a.address == IpAddr::V4(Ipv4Addr::LOCALHOST) && a.prefix_len == 8)
        );
        assert!(mine.iter().all(|a| a.address.is_loopback()), "{mine:?}");
        neighbours().unwrap();
    }

    #[test]
    fn a_link_message_decodes_name_kind_and_counters() {
        let mut hdr = [0u8; 16];
        hdr[2..4].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        hdr[4..8].copy_from_slice(&7u32.to_ne_bytes());
        hdr[8..12].copy_from_slice(&IFF_UP.to_ne_bytes());
        let mut stats = Vec::new();
        for i in 0..24u64 {
            stats.extend((i * 10).to_ne_bytes());
        }
        let bytes = MessageBuilder::new(RTM_NEWLINK, 0, &hdr)
            .attr_str(IFLA_IFNAME, "eth9")
            .attr_u32(IFLA_MTU, 1500)
            .attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 0x0a])
            .attr(IFLA_OPERSTATE, &[6])
            .begin_nested(IFLA_LINKINFO)
            .attr_str(IFLA_INFO_KIND, "veth")
            .end_nested()
            .attr(IFLA_STATS64, &stats)
            .finish(1);
        let msgs = super::super::parse_messages(&bytes).unwrap();
        let (hdr, attrs) = msgs[0].split(16).unwrap();
        let link = parse_link(hdr, attrs).unwrap();
        assert_eq!((link.index, link.name.as_str(), link.mtu), (7, "eth9", 1500));
        assert_eq!(mac_text(&link.mac), "02:00:00:00:00:0a");
        assert_eq!(link.kind.as_deref(), Some("veth"));
        assert_eq!((link.stats.rx_bytes(), link.stats.tx_bytes()), (20, 30));
        assert_eq!(link.stats.rx_nohandler(), 230);
    }
}
