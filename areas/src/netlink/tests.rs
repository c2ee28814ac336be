//! Byte-exact framing tests and two requests to the running kernel's `NETLINK_ROUTE`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::socket::Socket;
use super::*;
use nix::sys::socket::SockProtocol;
use std::time::Duration;

/// `RTM_NEWLINK`, `RTM_GETLINK` (linux/rtnetlink.h), used here without the rtnetlink module.
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const IFLA_IFNAME: u16 = 3;

fn le32(v: u32) -> [u8; 4] {
    v.to_le_bytes()
}

#[cfg(target_endian = "little")]
#[test]
fn a_dump_request_is_byte_exact() {
    let ifinfomsg = [0u8; 16];
    let bytes = MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &ifinfomsg).finish(7);
    let mut want = Vec::new();
    want.extend(le32(32)); // nlmsg_len
    want.extend([18, 0]); // RTM_GETLINK
    want.extend([0x01, 0x03]); // NLM_F_REQUEST | NLM_F_DUMP
    want.extend(le32(7)); // seq
    want.extend(le32(0)); // pid
    want.extend([0u8; 16]);
    assert_eq!(bytes, want);
}

#[cfg(target_endian = "little")]
#[test]
fn attributes_are_padded_and_nested_lengths_are_filled_in() {
    let bytes = MessageBuilder::new(0x10, NLM_F_REQUEST, &[1, 2, 3])
        .attr_str(3, "eth0")
        .begin_nested(5)
        .attr_u32(1, 0xdead_beef)
        .attr(2, &[9])
        .end_nested()
        .finish(1);
    let want: Vec<u8> = [
        &le32(52)[..],
        &[0x10, 0, 1, 0],
        &le32(1),
        &le32(0),
        &[1, 2, 3, 0],                                     // family header padded to 4
        &[9, 0, 3, 0, b'e', b't', b'h', b'0', 0, 0, 0, 0], // "eth0\0" + 3 bytes of padding
        &[20, 0, 5, 0x80],                                 // nested, 4 + 8 + 8
        &[8, 0, 1, 0, 0xef, 0xbe, 0xad, 0xde],
        &[5, 0, 2, 0, 9, 0, 0, 0],
    ]
    .concat();
    assert_eq!(bytes, want);
    let msgs = parse_messages(&bytes).unwrap();
    assert_eq!(msgs.len(), 1);
    let (hdr, attrs) = msgs[0].split(3).unwrap();
    assert_eq!(hdr, &[1, 2, 3]);
    let attrs: Vec<Attr> = attrs.collect::<Result<_, _>>().unwrap();
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs[0].str(), Some("eth0"));
    assert!(attrs[1].nested);
    assert_eq!(attrs[1].ty, 5);
    let inner: Vec<Attr> = attrs[1].attrs().collect::<Result<_, _>>().unwrap();
    assert_eq!(inner[0].u32(), Some(0xdead_beef));
    assert_eq!(inner[1].u8(), Some(9));
    assert_eq!(inner[1].u32(), None, "a one-byte value is no u32");
}

#[test]
fn a_multi_part_buffer_splits_into_messages_and_the_error_code_reads() {
    let one = MessageBuilder::new(RTM_NEWLINK, NLM_F_MULTI, &[0; 16]).attr_str(IFLA_IFNAME, "lo");
    let mut buf = one.finish(4);
    buf.extend(MessageBuilder::new(NLMSG_DONE, NLM_F_MULTI, &0i32.to_ne_bytes()).finish(4));
    buf.extend(MessageBuilder::new(NLMSG_ERROR, 0, &(-19i32).to_ne_bytes()).finish(5));
    let msgs = parse_messages(&buf).unwrap();
    assert_eq!(
        msgs.iter().map(|m| (m.ty, m.seq)).collect::<Vec<_>>(),
        [(RTM_NEWLINK, 4), (NLMSG_DONE, 4), (NLMSG_ERROR, 5)]
    );
    let (_, mut attrs) = msgs[0].split(16).unwrap();
    assert_eq!(attrs.next().unwrap().unwrap().str(), Some("lo"));
    assert!(attrs.next().is_none());
    assert_eq!(msgs[2].error_code(), Ok(19));
}

#[test]
fn truncated_bytes_are_an_error_not_a_panic() {
    let good = MessageBuilder::new(RTM_NEWLINK, 0, &[0; 16]).attr_str(IFLA_IFNAME, "lo").finish(1);
    for cut in 1..good.len() {
        let r = parse_messages(&good[..cut]);
        assert!(r.is_err() || r.as_ref().is_ok_and(|m| m.is_empty()), "cut at {cut}: {r:?}");
    }
    let mut bad_len = good.clone();
    bad_len[0] = 8; // shorter than a header
    assert_eq!(parse_messages(&bad_len), Err(NetlinkError::Truncated));
    let attr = [200u8, 0, 1, 0, 1, 2];
    assert_eq!(Attrs::new(&attr).next(), Some(Err(NetlinkError::Truncated)));
    let msg = Message { ty: 16, flags: 0, seq: 0, pid: 0, payload: &[0; 4] };
    assert_eq!(msg.split(16).err(), Some(NetlinkError::Truncated));
}

#[test]
fn the_kernel_dumps_its_links_and_reports_an_error_as_an_errno() {
    let mut sock = Socket::open(SockProtocol::NetlinkRoute, Duration::from_secs(2)).unwrap();
    let dump = MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &[0; 16]);
    let links = sock.request(dump, 4096).unwrap();
    let names: Vec<String> = links
        .iter()
        .filter(|m| m.ty == RTM_NEWLINK)
        .filter_map(|m| {
            let msg = m.borrow();
            let (_, attrs) = msg.split(16).ok()?;
            attrs.flatten().find(|a| a.ty == IFLA_IFNAME).and_then(|a| a.str().map(str::to_owned))
        })
        .collect();
    assert!(names.iter().any(|n| n == "lo"), "{names:?}");
    // One link by an index no interface has: ENODEV.
    let mut ifinfomsg = [0u8; 16];
    ifinfomsg[4..8].copy_from_slice(&0x7fff_fff0i32.to_ne_bytes());
    let get = MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST, &ifinfomsg);
    assert_eq!(sock.request(get, 4), Err(NetlinkError::Kernel(nix::libc::ENODEV)));
    // The socket still works after the error, and the bound holds.
    let dump = MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, &[0; 16]);
    assert!(matches!(sock.request(dump, 0), Err(NetlinkError::TooManyMessages(0))));
}
