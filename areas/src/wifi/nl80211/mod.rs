//! nl80211 (the kernel's Wi-Fi configuration interface, generic netlink family `nl80211`)
//! for what hostapd's control interface does not say: the bands, channels and standards each
//! radio (wiphy) supports (`NL80211_CMD_GET_WIPHY`, split dump), and the BSSes it hears
//! (`NL80211_CMD_TRIGGER_SCAN`, then the `NL80211_CMD_GET_SCAN` dump) for
//! `NeighboringWiFiDiagnostic()`. Numbers are those of the kernel's `include/uapi/linux/
//! nl80211.h`; framing and the socket are `crate::netlink`'s.
//!
//! A scan waits for its end: before triggering it, a second socket joins nl80211's `scan`
//! multicast group (its id from the family lookup's `CTRL_ATTR_MCAST_GROUPS`), and the wait
//! ends at `NEW_SCAN_RESULTS` or `SCAN_ABORTED` for the interface, or after [`SCAN_TIMEOUT`].
//! Where the group cannot be joined, a fixed [`SCAN_TIME`] is waited instead (logged).
//!
//! Never does: configure anything (hostapd does), or block longer than its socket timeout
//! (plus the bounded wait of a scan).

pub mod events;
pub mod parse;
#[cfg(test)]
mod tests;

use std::time::Duration;

use nix::sys::socket::SockProtocol;

use crate::netlink::socket::Socket;
use crate::netlink::{MessageBuilder, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkError};
use crate::wifi::model::{Row, WifiError};
pub use parse::{Band, Wiphy};

/// `GENL_ID_CTRL`: the generic netlink controller's family.
pub const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_CMD_GETFAMILY`.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;
/// `NL80211_CMD_GET_WIPHY`.
pub const CMD_GET_WIPHY: u8 = 1;
/// `NL80211_CMD_GET_SCAN`.
pub const CMD_GET_SCAN: u8 = 32;
/// `NL80211_CMD_TRIGGER_SCAN`.
pub const CMD_TRIGGER_SCAN: u8 = 33;
/// `NL80211_ATTR_IFINDEX` (u32).
pub const ATTR_IFINDEX: u16 = 3;
/// `NL80211_ATTR_SPLIT_WIPHY_DUMP` (flag): a wiphy may span several messages.
pub const ATTR_SPLIT_WIPHY_DUMP: u16 = 174;

/// The most messages one dump may have (a loop bound; a wiphy dump has a few dozen).
const MAX_MESSAGES: usize = 4096;
/// How long the kernel gets to answer one request.
const TIMEOUT: Duration = Duration::from_secs(3);
/// How long a triggered scan is given when its end cannot be heard.
pub const SCAN_TIME: Duration = Duration::from_secs(4);
/// The longest wait for a scan's end (a full dual-band scan with DFS channels takes ~10 s).
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(15);
/// The most notification reads of one scan wait (a loop bound besides [`SCAN_TIMEOUT`]).
const MAX_NOTIFICATION_READS: usize = 1024;

/// A generic netlink request: `genlmsghdr` (command, version 1) on family `family`.
pub fn request(family: u16, cmd: u8, flags: u16) -> MessageBuilder {
    MessageBuilder::new(family, NLM_F_REQUEST | flags, &[cmd, 1, 0, 0])
}

/// An open nl80211 socket.
#[derive(Debug)]
pub struct Nl80211 {
    sock: Socket,
    family: u16,
    /// The id of the `scan` multicast group (`None`: the kernel did not name one).
    scan_group: Option<u32>,
}

/// The error text of a netlink failure, saying what needed nl80211.
fn unavailable(what: &str, e: &NetlinkError) -> WifiError {
    WifiError::Unavailable(format!("nl80211 {what}: {e}"))
}

impl Nl80211 {
    /// Opens a generic netlink socket and finds the `nl80211` family; an error says why (no
    /// cfg80211 in this kernel: the family is unknown).
    pub fn open() -> Result<Nl80211, WifiError> {
        let mut sock = Socket::open(SockProtocol::NetlinkGeneric, TIMEOUT)
            .map_err(|e| unavailable("socket", &e))?;
        let family = family(&mut sock, "nl80211").map_err(|e| match e {
            NetlinkError::Kernel(2) => WifiError::Unavailable(
                "nl80211 is not available (the kernel has no cfg80211 / no Wi-Fi hardware)".into(),
            ),
            other => unavailable("family lookup", &other),
        })?;
        Ok(Nl80211 { sock, family: family.id, scan_group: family.group("scan") })
    }

    /// Every wiphy with its bands.
    pub fn wiphys(&mut self) -> Result<Vec<Wiphy>, WifiError> {
        let msg = request(self.family, CMD_GET_WIPHY, NLM_F_DUMP).attr(ATTR_SPLIT_WIPHY_DUMP, &[]);
        let replies =
            self.sock.request(msg, MAX_MESSAGES).map_err(|e| unavailable("GET_WIPHY", &e))?;
        Ok(parse::wiphys(&replies))
    }

    /// Scans on `ifname` and returns what the kernel heard, as `Result.{i}` rows of radio
    /// `radio`. A scan the driver refuses (busy, not allowed on an AP) is logged and the
    /// kernel's recent results are returned.
    pub fn scan(&mut self, ifname: &str, radio: &str) -> Result<Vec<Row>, WifiError> {
        let index = nix::net::if_::if_nametoindex(ifname)
            .map_err(|e| WifiError::Unavailable(format!("no interface {ifname}: {e}")))?;
        let trigger =
            request(self.family, CMD_TRIGGER_SCAN, NLM_F_ACK).attr_u32(ATTR_IFINDEX, index);
        let mut listener = self.scan_listener();
        match self.sock.request(trigger, 16) {
            Ok(_) => match listener.as_mut() {
                Some(l) => self.wait_for_scan(l, index, ifname),
                None => std::thread::sleep(SCAN_TIME),
            },
            Err(e) => log::info!(
                "Device.WiFi (linux): {ifname} did not start a scan ({e}); reading the kernel's \
                 recent results"
            ),
        }
        let dump = request(self.family, CMD_GET_SCAN, NLM_F_DUMP).attr_u32(ATTR_IFINDEX, index);
        let replies =
            self.sock.request(dump, MAX_MESSAGES).map_err(|e| unavailable("GET_SCAN", &e))?;
        Ok(replies.iter().filter_map(|m| parse::bss(m, radio)).collect())
    }
}

impl Nl80211 {
    /// A socket in the `scan` multicast group (joined before the scan is triggered, so its
    /// end cannot be missed); `None`, logged, where it cannot be joined.
    fn scan_listener(&self) -> Option<Socket> {
        let Some(group) = self.scan_group else {
            log::info!("Device.WiFi (linux): nl80211 names no scan group; waiting {SCAN_TIME:?}");
            return None;
        };
        Socket::open_multicast(SockProtocol::NetlinkGeneric, &[group], TIMEOUT)
            .inspect_err(|e| {
                log::info!("Device.WiFi (linux): scan group {group}: {e}; waiting {SCAN_TIME:?}")
            })
            .ok()
    }

    /// Waits (at most [`SCAN_TIMEOUT`]) until the scan on `index` ends.
    fn wait_for_scan(&self, listener: &mut Socket, index: u32, ifname: &str) {
        let until = std::time::Instant::now() + SCAN_TIMEOUT;
        for _ in 0..MAX_NOTIFICATION_READS {
            let msgs = match listener.notifications(until) {
                Ok(m) if m.is_empty() => break,
                Ok(m) => m,
                Err(e) => {
                    log::info!("Device.WiFi (linux): scan notifications on {ifname}: {e}");
                    return;
                }
            };
            for m in &msgs {
                match events::scan_event(m, self.family, index) {
                    Some(events::ScanEvent::Done) => return,
                    Some(events::ScanEvent::Aborted) => {
                        log::info!("Device.WiFi (linux): the scan on {ifname} was aborted");
                        return;
                    }
                    _ => {}
                }
            }
        }
        log::info!("Device.WiFi (linux): the scan on {ifname} did not end in {SCAN_TIMEOUT:?}");
    }
}

/// The generic netlink family `name` with its multicast groups (`CTRL_CMD_GETFAMILY`).
pub fn family(sock: &mut Socket, name: &str) -> Result<events::Family, NetlinkError> {
    let msg = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0).attr_str(CTRL_ATTR_FAMILY_NAME, name);
    let replies = sock.request(msg, 4)?;
    events::family(&replies).ok_or(NetlinkError::Truncated)
}

/// The id of the generic netlink family `name` (`CTRL_CMD_GETFAMILY`).
pub fn family_id(sock: &mut Socket, name: &str) -> Result<u16, NetlinkError> {
    let msg = request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0).attr_str(CTRL_ATTR_FAMILY_NAME, name);
    let replies = sock.request(msg, 4)?;
    for m in &replies {
        let (_, attrs) = m.borrow().split(4)?;
        for a in attrs {
            let a = a?;
            if a.ty == CTRL_ATTR_FAMILY_ID {
                return a.u16().ok_or(NetlinkError::Truncated);
            }
        }
    }
    Err(NetlinkError::Truncated)
}
