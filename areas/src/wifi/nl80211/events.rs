//! nl80211's scan notifications (multicast group `scan`): the kernel announces a scan that
//! started (`NL80211_CMD_TRIGGER_SCAN`), finished (`NL80211_CMD_NEW_SCAN_RESULTS`) or was
//! aborted (`NL80211_CMD_SCAN_ABORTED`), each with the interface index it ran on; and the
//! multicast groups of a generic netlink family (`CTRL_ATTR_MCAST_GROUPS` of the controller's
//! `CTRL_CMD_GETFAMILY` reply), to find the `scan` group's id.
//!
//! Never does: I/O. Every function is pure, so the tests feed it the kernel's exact bytes.

use crate::netlink::OwnedMessage;

/// `CTRL_ATTR_FAMILY_ID` (u16).
const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_MCAST_GROUPS`: nested, one nested entry per group.
pub const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
/// `CTRL_ATTR_MCAST_GRP_NAME` (string) in a group entry.
pub const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
/// `CTRL_ATTR_MCAST_GRP_ID` (u32) in a group entry.
pub const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
/// `NL80211_CMD_TRIGGER_SCAN` (also the "scan started" notification).
const CMD_TRIGGER_SCAN: u8 = 33;
/// `NL80211_CMD_NEW_SCAN_RESULTS`: a scan finished, its results can be dumped.
pub const CMD_NEW_SCAN_RESULTS: u8 = 34;
/// `NL80211_CMD_SCAN_ABORTED`: a scan ended without (complete) results.
pub const CMD_SCAN_ABORTED: u8 = 35;
/// `NL80211_ATTR_IFINDEX` (u32).
const ATTR_IFINDEX: u16 = 3;

/// A generic netlink family as the controller describes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Family {
    /// Its id (the `nlmsg_type` of its messages).
    pub id: u16,
    /// Its multicast groups: name and id.
    pub groups: Vec<(String, u32)>,
}

impl Family {
    /// The id of the multicast group `name`.
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups.iter().find(|(n, _)| n == name).map(|(_, id)| *id)
    }
}

/// The family of a `CTRL_CMD_GETFAMILY` reply (`None` without a family id).
pub fn family(replies: &[OwnedMessage]) -> Option<Family> {
    let mut out = Family::default();
    for m in replies {
        let Ok((_, attrs)) = m.borrow().split(4) else { continue };
        for a in attrs.flatten() {
            match a.ty {
                CTRL_ATTR_FAMILY_ID => out.id = a.u16()?,
                CTRL_ATTR_MCAST_GROUPS => {
                    for entry in a.attrs().flatten() {
                        let (mut name, mut id) = (None, None);
                        for f in entry.attrs().flatten() {
                            match f.ty {
                                CTRL_ATTR_MCAST_GRP_NAME => name = f.str(),
                                CTRL_ATTR_MCAST_GRP_ID => id = f.u32(),
                                _ => {}
                            }
                        }
                        if let (Some(n), Some(i)) = (name, id) {
                            out.groups.push((n.to_owned(), i));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    (out.id != 0).then_some(out)
}

/// What a scan notification says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanEvent {
    /// The scan started (`TRIGGER_SCAN`).
    Started,
    /// The scan finished: its results are ready (`NEW_SCAN_RESULTS`).
    Done,
    /// The scan was aborted (`SCAN_ABORTED`).
    Aborted,
}

/// The scan notification `m` of family `family` for interface `ifindex`; `None` for another
/// family, command or interface.
pub fn scan_event(m: &OwnedMessage, family: u16, ifindex: u32) -> Option<ScanEvent> {
    if m.ty != family {
        return None;
    }
    let (header, attrs) = m.borrow().split(4).ok()?;
    let event = match *header.first()? {
        CMD_TRIGGER_SCAN => ScanEvent::Started,
        CMD_NEW_SCAN_RESULTS => ScanEvent::Done,
        CMD_SCAN_ABORTED => ScanEvent::Aborted,
        _ => return None,
    };
    let on = attrs.flatten().find(|a| a.ty == ATTR_IFINDEX).and_then(|a| a.u32());
    (on == Some(ifindex)).then_some(event)
}
