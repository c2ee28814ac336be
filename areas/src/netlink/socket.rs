//! A blocking netlink socket (`nix`): one request out, its replies in, each receive bounded by
//! a timeout and each reply by a message count; or a socket subscribed to multicast groups
//! ([`Socket::open_multicast`]) whose notifications are read until a deadline.
//!
//! Multicast groups are joined at `bind` time through `sockaddr_nl.nl_groups` (the group
//! bitmask, groups 1 to 32): nix has no safe `NETLINK_ADD_MEMBERSHIP` option and this crate
//! has no `unsafe`. A group above 32 is refused with `ERANGE`.
//!
//! Never does: async I/O; one request at a time per socket.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{
    self, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType, sockopt,
};
use nix::sys::time::{TimeVal, TimeValLike};

use super::{
    MessageBuilder, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP,
    NetlinkError, OwnedMessage, parse_messages,
};

/// The receive buffer: large enough for the kernel's dump chunks (it fills at most 32 KiB).
const RECV_BUF: usize = 64 * 1024;

/// A netlink socket of one protocol (`NETLINK_ROUTE`, `NETLINK_GENERIC`, ...).
#[derive(Debug)]
pub struct Socket {
    fd: OwnedFd,
    seq: u32,
    timeout: Duration,
    buf: Vec<u8>,
}

impl Socket {
    /// Opens and binds a socket of `protocol` (e.g. [`SockProtocol::NetlinkRoute`]); every
    /// request must be answered within `timeout`.
    pub fn open(protocol: SockProtocol, timeout: Duration) -> Result<Socket, NetlinkError> {
        Socket::open_multicast(protocol, &[], timeout)
    }

    /// Opens a socket of `protocol` that also receives the notifications of the multicast
    /// `groups` (ids 1 to 32, e.g. from the generic netlink controller's
    /// `CTRL_ATTR_MCAST_GROUPS`); read them with [`Socket::notifications`].
    pub fn open_multicast(
        protocol: SockProtocol,
        groups: &[u32],
        timeout: Duration,
    ) -> Result<Socket, NetlinkError> {
        let mut mask = 0u32;
        for &g in groups {
            if !(1..=32).contains(&g) {
                return Err(NetlinkError::Io("bind (multicast group above 32)", Errno::ERANGE));
            }
            mask |= 1 << (g - 1);
        }
        let fd =
            socket::socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, protocol)
                .map_err(|e| NetlinkError::Io("socket", e))?;
        socket::bind(fd.as_raw_fd(), &NetlinkAddr::new(0, mask))
            .map_err(|e| NetlinkError::Io("bind", e))?;
        let mut sock = Socket { fd, seq: 0, timeout, buf: vec![0; RECV_BUF] };
        sock.receive_timeout(timeout)?;
        Ok(sock)
    }

    fn receive_timeout(&mut self, timeout: Duration) -> Result<(), NetlinkError> {
        let timeout = timeout.max(Duration::from_millis(1));
        // Through microseconds (at most an hour): time_t and suseconds_t are 32-bit on some
        // targets (armv7 musl), and TimeVal panics on a value out of their range.
        let micros = timeout.as_micros().min(3_600_000_000);
        let tv = TimeVal::microseconds(i64::try_from(micros).unwrap_or(3_600_000_000));
        socket::setsockopt(&self.fd, sockopt::ReceiveTimeout, &tv)
            .map_err(|e| NetlinkError::Io("setsockopt", e))
    }

    /// The multicast notifications (sequence number 0) of one receive before `until`; empty
    /// once `until` has passed without one.
    pub fn notifications(&mut self, until: Instant) -> Result<Vec<OwnedMessage>, NetlinkError> {
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            self.receive_timeout(left)?;
            let got = socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty());
            let restored = self.receive_timeout(self.timeout);
            let n = match got {
                Ok(n) => n,
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => return Err(NetlinkError::Io("recv", e)),
            };
            restored?;
            let msgs = parse_messages(&self.buf[..n])?;
            let events: Vec<OwnedMessage> =
                msgs.iter().filter(|m| m.seq == 0).map(|m| m.to_owned()).collect();
            if !events.is_empty() {
                return Ok(events);
            }
        }
    }

    /// Sends `msg` (with the next sequence number) and returns its replies: for a dump
    /// ([`NLM_F_DUMP`]) every part until `NLMSG_DONE`; with [`NLM_F_ACK`] the replies until the
    /// acknowledgement; otherwise the one reply (or the parts of a multi-part one). An
    /// `NLMSG_ERROR` with a non-zero errno is [`NetlinkError::Kernel`]; more than
    /// `max_messages` replies is [`NetlinkError::TooManyMessages`].
    pub fn request(
        &mut self,
        msg: MessageBuilder,
        max_messages: usize,
    ) -> Result<Vec<OwnedMessage>, NetlinkError> {
        self.seq = self.seq.wrapping_add(1);
        let bytes = msg.finish(self.seq);
        let flags = u16::from_ne_bytes([bytes[6], bytes[7]]);
        socket::sendto(self.fd.as_raw_fd(), &bytes, &NetlinkAddr::new(0, 0), MsgFlags::empty())
            .map_err(|e| NetlinkError::Io("send", e))?;
        let wants_all = flags & (NLM_F_DUMP | NLM_F_ACK) != 0;
        let deadline = Instant::now() + self.timeout;
        let mut out = Vec::new();
        while Instant::now() < deadline {
            let n = match socket::recv(self.fd.as_raw_fd(), &mut self.buf, MsgFlags::empty()) {
                Ok(n) => n,
                Err(Errno::EAGAIN) => return Err(NetlinkError::Timeout),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(NetlinkError::Io("recv", e)),
            };
            for m in parse_messages(&self.buf[..n])? {
                if m.seq != self.seq || m.ty == NLMSG_NOOP {
                    continue;
                }
                match m.ty {
                    NLMSG_DONE => return Ok(out),
                    NLMSG_ERROR => {
                        let code = m.error_code()?;
                        return if code == 0 { Ok(out) } else { Err(NetlinkError::Kernel(code)) };
                    }
                    _ => {
                        if out.len() >= max_messages {
                            return Err(NetlinkError::TooManyMessages(max_messages));
                        }
                        let last = !wants_all && m.flags & NLM_F_MULTI == 0;
                        out.push(m.to_owned());
                        if last {
                            return Ok(out);
                        }
                    }
                }
            }
        }
        Err(NetlinkError::Timeout)
    }
}
