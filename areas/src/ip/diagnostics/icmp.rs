//! ICMP echo over IPv4 and IPv6 without shelling out to `ping`: an unprivileged ICMP datagram
//! socket where the kernel allows it (`net.ipv4.ping_group_range`), a raw socket otherwise
//! (root or `CAP_NET_RAW`), and [`IcmpError::NoSocket`] when neither can be opened. Echo
//! requests may carry a TTL (hop limit) for TraceRoute; the answers of routers on the way
//! (Time Exceeded, Destination Unreachable) come back through `IP_RECVERR` on a datagram
//! socket and as ICMP packets quoting ours on a raw one.
//!
//! Never does: run a program, or wait past the caller's deadline.

use std::net::{IpAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    self, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockProtocol, SockType,
    SockaddrIn, SockaddrIn6, SockaddrStorage, sockopt,
};

/// Why ICMP cannot be used or a probe could not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IcmpError {
    /// Neither a datagram nor a raw ICMP socket could be opened (the errno of the raw one).
    NoSocket(Errno),
    /// No route to the destination (`ENETUNREACH`, `EHOSTUNREACH` on send).
    NoRoute,
    /// Another socket call failed.
    Io(&'static str, Errno),
}

impl std::fmt::Display for IcmpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IcmpError::NoSocket(e) => write!(
                f,
                "no ICMP socket: datagram ICMP is not allowed (net.ipv4.ping_group_range) and a raw socket needs CAP_NET_RAW ({e})"
            ),
            IcmpError::NoRoute => f.write_str("no route to host"),
            IcmpError::Io(op, e) => write!(f, "ICMP {op}: {e}"),
        }
    }
}

impl std::error::Error for IcmpError {}

/// What came back for one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The destination answered the echo.
    Echo {
        /// Who answered.
        from: IpAddr,
        /// The round trip.
        rtt: Duration,
    },
    /// A router on the way said the TTL ran out (TraceRoute's intermediate hop).
    TimeExceeded {
        /// The router.
        from: IpAddr,
        /// The round trip.
        rtt: Duration,
    },
    /// A router (or the destination) said it cannot be reached, with the ICMP code.
    Unreachable {
        /// Who said so.
        from: IpAddr,
        /// The round trip.
        rtt: Duration,
        /// The ICMP type and code.
        code: (u8, u8),
    },
}

/// The identifiers of concurrent runs differ (raw sockets see every ICMP packet).
static NEXT_ID: AtomicU16 = AtomicU16::new(1);

/// One ICMP socket towards one destination.
#[derive(Debug)]
pub struct Pinger {
    fd: OwnedFd,
    raw: bool,
    dest: IpAddr,
    id: u16,
    sent: Vec<(u16, Instant)>,
}

impl Pinger {
    /// Opens a socket for `dest`'s family: datagram first, raw second; bound to `device`
    /// (`SO_BINDTODEVICE`) when one is given.
    pub fn open(dest: IpAddr, device: Option<&str>) -> Result<Pinger, IcmpError> {
        let (family, proto) = match dest {
            IpAddr::V4(_) => (AddressFamily::Inet, SockProtocol::Icmp),
            IpAddr::V6(_) => (AddressFamily::Inet6, SockProtocol::IcmpV6),
        };
        let open = |ty| socket::socket(family, ty, SockFlag::SOCK_CLOEXEC, proto);
        let (fd, raw) = match open(SockType::Datagram) {
            Ok(fd) => (fd, false),
            Err(_) => (open(SockType::Raw).map_err(IcmpError::NoSocket)?, true),
        };
        let on = |r: nix::Result<()>| r.map_err(|e| IcmpError::Io("setsockopt", e));
        if let Some(d) = device {
            on(bind_to_device(&fd, d))?;
        }
        if !raw {
            match dest {
                IpAddr::V4(_) => on(socket::setsockopt(&fd, sockopt::Ipv4RecvErr, &true))?,
                IpAddr::V6(_) => on(socket::setsockopt(&fd, sockopt::Ipv6RecvErr, &true))?,
            }
        }
        let pid = std::process::id() as u16;
        let id = pid ^ NEXT_ID.fetch_add(0x1f3, Ordering::Relaxed);
        Ok(Pinger { fd, raw, dest, id, sent: Vec::new() })
    }

    /// Whether this is the raw-socket fallback.
    pub fn is_raw(&self) -> bool {
        self.raw
    }

    /// Sets the DSCP (the upper six bits of the TOS / traffic class).
    pub fn set_dscp(&self, dscp: u8) -> Result<(), IcmpError> {
        let tos = i32::from(dscp) << 2;
        let r = match self.dest {
            IpAddr::V4(_) => socket::setsockopt(&self.fd, sockopt::Ipv4Tos, &tos),
            IpAddr::V6(_) => socket::setsockopt(&self.fd, sockopt::Ipv6TClass, &tos),
        };
        r.map_err(|e| IcmpError::Io("setsockopt", e))
    }

    /// Sends echo request `seq` with `size` bytes of data and, if given, that TTL.
    pub fn send(&mut self, seq: u16, size: usize, ttl: Option<u8>) -> Result<(), IcmpError> {
        if let Some(ttl) = ttl {
            let t = i32::from(ttl);
            let r = match self.dest {
                IpAddr::V4(_) => socket::setsockopt(&self.fd, sockopt::Ipv4Ttl, &t),
                IpAddr::V6(_) => socket::setsockopt(&self.fd, sockopt::Ipv6Ttl, &t),
            };
            r.map_err(|e| IcmpError::Io("setsockopt", e))?;
        }
        let ty = if self.dest.is_ipv6() { 128 } else { 8 };
        let mut pkt = vec![ty, 0, 0, 0];
        pkt.extend(self.id.to_be_bytes());
        pkt.extend(seq.to_be_bytes());
        pkt.extend((0..size).map(|i| (i & 0xff) as u8));
        let sum = checksum(&pkt);
        pkt[2..4].copy_from_slice(&sum.to_be_bytes());
        let r = match self.dest {
            IpAddr::V4(a) => {
                let to = SockaddrIn::from(SocketAddrV4::new(a, 0));
                socket::sendto(self.fd.as_raw_fd(), &pkt, &to, MsgFlags::empty())
            }
            IpAddr::V6(a) => {
                let to = SockaddrIn6::from(SocketAddrV6::new(a, 0, 0, 0));
                socket::sendto(self.fd.as_raw_fd(), &pkt, &to, MsgFlags::empty())
            }
        };
        match r {
            Ok(_) => {
                self.sent.push((seq, Instant::now()));
                Ok(())
            }
            Err(Errno::ENETUNREACH | Errno::EHOSTUNREACH) => Err(IcmpError::NoRoute),
            Err(e) => Err(IcmpError::Io("send", e)),
        }
    }

    /// Waits until `deadline` for the answer to `seq`; `None` when none came.
    pub fn wait(&mut self, seq: u16, deadline: Instant) -> Result<Option<Reply>, IcmpError> {
        let Some(&(_, at)) = self.sent.iter().find(|(s, _)| *s == seq) else { return Ok(None) };
        let mut buf = [0u8; 2048];
        for _ in 0..10_000 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => return Ok(None),
                Ok(_) => {}
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(IcmpError::Io("poll", e)),
            }
            if let Some(r) = self.read_error_queue(seq, at)? {
                return Ok(Some(r));
            }
            let got = socket::recvfrom::<SockaddrStorage>(self.fd.as_raw_fd(), &mut buf);
            let (n, from) = match got {
                Ok((n, from)) => (n, from.and_then(|a| ip_of(&a))),
                Err(Errno::EAGAIN | Errno::EINTR) => continue,
                Err(e) => return Err(IcmpError::Io("recv", e)),
            };
            let (Some(from), Some(data)) = (from, buf.get(..n)) else { continue };
            if let Some(r) = self.parse(data, from, seq, at) {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Reads one message of a datagram socket's error queue (a router's ICMP error about
    /// one of our probes), if there is one.
    fn read_error_queue(&self, seq: u16, at: Instant) -> Result<Option<Reply>, IcmpError> {
        if self.raw {
            return Ok(None);
        }
        let mut data = [0u8; 2048];
        let mut iov = [std::io::IoSliceMut::new(&mut data)];
        let mut cmsg = nix::cmsg_space!(nix::libc::sock_extended_err, nix::libc::sockaddr_in6);
        let flags = MsgFlags::MSG_ERRQUEUE | MsgFlags::MSG_DONTWAIT;
        let msg = match socket::recvmsg::<SockaddrStorage>(
            self.fd.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            flags,
        ) {
            Ok(m) => m,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(IcmpError::Io("recvmsg", e)),
        };
        let bytes = msg.bytes;
        let cmsgs: Vec<ControlMessageOwned> = match msg.cmsgs() {
            Ok(c) => c.collect(),
            Err(_) => return Ok(None),
        };
        let quoted_seq = iov_seq(bytes, &data);
        for c in cmsgs {
            let (err, from) = match c {
                ControlMessageOwned::Ipv4RecvErr(e, a) => {
                    let ip = a.map(|a| std::net::Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)));
                    (e, ip.map(IpAddr::V4))
                }
                ControlMessageOwned::Ipv6RecvErr(e, a) => {
                    (e, a.map(|a| IpAddr::V6(std::net::Ipv6Addr::from(a.sin6_addr.s6_addr))))
                }
                _ => continue,
            };
            let (Some(from), Some(q)) = (from, quoted_seq) else { continue };
            if q != seq || (err.ee_origin != 2 && err.ee_origin != 3) {
                continue;
            }
            let rtt = at.elapsed();
            return Ok(Some(classify(self.dest.is_ipv6(), err.ee_type, err.ee_code, from, rtt)));
        }
        Ok(None)
    }

    /// Decodes one received ICMP packet (with its IPv4 header on a raw IPv4 socket).
    fn parse(&self, data: &[u8], from: IpAddr, seq: u16, at: Instant) -> Option<Reply> {
        let icmp = if self.raw && self.dest.is_ipv4() {
            data.get(usize::from(data.first()? & 0x0f) * 4..)?
        } else {
            data
        };
        let (ty, code) = (*icmp.first()?, *icmp.get(1)?);
        let echo_reply = if self.dest.is_ipv6() { 129 } else { 0 };
        let rtt = at.elapsed();
        if ty == echo_reply {
            let id = u16::from_be_bytes([*icmp.get(4)?, *icmp.get(5)?]);
            let s = u16::from_be_bytes([*icmp.get(6)?, *icmp.get(7)?]);
            let mine = !self.raw || id == self.id;
            return (mine && s == seq && from == self.dest).then_some(Reply::Echo { from, rtt });
        }
        // Only errors quote a packet: Destination Unreachable and Time Exceeded (3 and 11 for
        // IPv4, 1 and 3 for IPv6); a raw socket also sees echo requests, its own included.
        let error = if self.dest.is_ipv6() { ty == 1 || ty == 3 } else { ty == 3 || ty == 11 };
        if !self.raw || !error {
            return None;
        }
        // An error quoting our packet: its IP header, then our ICMP header.
        let quoted = icmp.get(8..)?;
        let inner = if self.dest.is_ipv6() {
            quoted.get(40..)?
        } else {
            quoted.get(usize::from(quoted.first()? & 0x0f) * 4..)?
        };
        let id = u16::from_be_bytes([*inner.get(4)?, *inner.get(5)?]);
        let s = u16::from_be_bytes([*inner.get(6)?, *inner.get(7)?]);
        (id == self.id && s == seq).then(|| classify(self.dest.is_ipv6(), ty, code, from, rtt))
    }
}

/// Binds `fd` to network device `name` (`SO_BINDTODEVICE`).
pub fn bind_to_device(fd: &impl AsFd, name: &str) -> nix::Result<()> {
    socket::setsockopt(fd, sockopt::BindToDevice, &std::ffi::OsString::from(name))
}

/// The sequence number quoted in an error-queue payload (our ICMP header).
fn iov_seq(n: usize, data: &[u8]) -> Option<u16> {
    let d = data.get(..n)?;
    Some(u16::from_be_bytes([*d.get(6)?, *d.get(7)?]))
}

fn classify(v6: bool, ty: u8, code: u8, from: IpAddr, rtt: Duration) -> Reply {
    let exceeded = if v6 { ty == 3 } else { ty == 11 };
    if exceeded {
        Reply::TimeExceeded { from, rtt }
    } else {
        Reply::Unreachable { from, rtt, code: (ty, code) }
    }
}

fn ip_of(a: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let word = u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]);
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_checksum_is_rfc_1071s() {
        // An echo request, id 0x1234, seq 1, no data: 0x0800 + 0x1234 + 0x0001 = 0x1a35.
        assert_eq!(checksum(&[8, 0, 0, 0, 0x12, 0x34, 0, 1]), !0x1a35);
        let mut pkt = vec![8, 0, 0, 0, 0x12, 0x34, 0, 1, 0xab];
        let sum = checksum(&pkt);
        pkt[2..4].copy_from_slice(&sum.to_be_bytes());
        assert_eq!(checksum(&pkt), 0, "a packet with its checksum sums to zero");
    }

    #[test]
    fn localhost_answers_over_ipv4_and_ipv6() {
        for dest in ["127.0.0.1", "::1"] {
            let dest: IpAddr = dest.parse().unwrap();
            let mut p = Pinger::open(dest, None).unwrap();
            p.send(1, 56, None).unwrap();
            let r = p.wait(1, Instant::now() + Duration::from_secs(2)).unwrap();
            assert!(matches!(r, Some(Reply::Echo { from, .. }) if from == dest), "{dest}: {r:?}");
        }
    }
}
