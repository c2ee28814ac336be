//! `Device.Ethernet.` on this machine: which links are Ethernet interfaces (the namespace
//! tests in `ip` check rows, addresses and counters of real veth devices).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::is_ethernet;
use crate::netlink::route::links;

#[test]
fn loopback_and_virtual_devices_are_not_ethernet_interfaces() {
    for l in links().unwrap() {
        let virtual_kind = l.kind.as_deref().is_some_and(|k| k != "veth" && k != "dsa");
        if l.name == "lo" || virtual_kind {
            assert!(!is_ethernet(&l), "{l:?}");
        }
        if l.hw_type == 1 && l.kind.is_none() {
            assert!(is_ethernet(&l), "{l:?}");
        }
    }
}
