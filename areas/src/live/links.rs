//! A short-lived cache of the kernel's links and addresses, so that one Get over every row of
//! `Device.IP.Interface.` (or `Device.Ethernet.Interface.`) costs one netlink dump, not one per
//! row, while values stay at most [`MAX_AGE`] old.
//!
//! Never does: keep anything longer than [`MAX_AGE`], or block longer than netlink's timeout.

use std::time::{Duration, Instant};

use crate::netlink::NetlinkError;
use crate::netlink::route::{self, Addr, Link};

/// How long one dump answers reads.
pub const MAX_AGE: Duration = Duration::from_millis(500);

/// The links and addresses of one dump.
#[derive(Debug, Default)]
pub struct Links {
    taken: Option<Instant>,
    /// The links, in the kernel's order (by index).
    pub links: Vec<Link>,
    /// Every address.
    pub addrs: Vec<Addr>,
}

impl Links {
    /// Dumps again if the last dump is older than [`MAX_AGE`]; a failed dump is logged and
    /// leaves the tables empty (the rows disappear rather than show stale values).
    pub fn refresh(&mut self, with_addrs: bool) {
        if self.taken.is_some_and(|t| t.elapsed() < MAX_AGE) {
            return;
        }
        let read = || -> Result<(Vec<Link>, Vec<Addr>), NetlinkError> {
            let links = route::links()?;
            let addrs = if with_addrs { route::addresses()? } else { Vec::new() };
            Ok((links, addrs))
        };
        match read() {
            Ok((links, addrs)) => {
                self.links = links;
                self.addrs = addrs;
            }
            Err(e) => {
                log::warn!("the interfaces cannot be read: {e}");
                self.links.clear();
                self.addrs.clear();
            }
        }
        self.taken = Some(Instant::now());
    }

    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    /// The addresses of the link named `name` in family `v6`.
    pub fn addrs_of(&self, name: &str, v6: bool) -> impl Iterator<Item = &Addr> {
        let index = self.link(name).map(|l| l.index);
        self.addrs.iter().filter(move |a| Some(a.index) == index && a.address.is_ipv6() == v6)
    }
}

/// TR-181's interface `Status` for a link.
pub fn status(link: &Link) -> &'static str {
    const IFF_RUNNING: u32 = 0x40;
    match link.operstate {
        6 => "Up",
        2 => "Down",
        1 => "NotPresent",
        3 => "LowerLayerDown",
        5 => "Dormant",
        _ if link.flags & route::IFF_UP != 0 && link.flags & IFF_RUNNING != 0 => "Up",
        _ if link.flags & route::IFF_UP == 0 => "Down",
        _ => "Unknown",
    }
}

/// A counter of the TR-181 interface `Stats.` object, from the link's counters.
pub fn stat(link: &Link, name: &str) -> Option<u64> {
    let s = &link.stats;
    Some(match name {
        "BytesSent" => s.tx_bytes(),
        "BytesReceived" => s.rx_bytes(),
        "PacketsSent" => s.tx_packets(),
        "PacketsReceived" => s.rx_packets(),
        "ErrorsSent" => s.tx_errors(),
        "ErrorsReceived" => s.rx_errors(),
        "DiscardPacketsSent" => s.tx_dropped(),
        "DiscardPacketsReceived" => s.rx_dropped(),
        "MulticastPacketsReceived" => s.multicast(),
        "UnknownProtoPacketsReceived" => s.rx_nohandler(),
        "Collisions" => s.collisions(),
        _ => return None,
    })
}
