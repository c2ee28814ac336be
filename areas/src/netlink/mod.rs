//! Generic netlink framing (RFC 3549, `linux/netlink.h`): the 16-byte `nlmsghdr`, attribute
//! TLVs (`nlattr`, nested attributes), building requests, splitting a receive buffer into
//! messages, and a blocking [`socket::Socket`] that sends a request and gathers its replies
//! (multi-part dumps until `NLMSG_DONE`, `NLMSG_ERROR` as a typed [`NetlinkError`]).
//!
//! It knows no family: the caller gives the message type, the flags, the family header bytes
//! (`ifinfomsg`, `ifaddrmsg`, `genlmsghdr`, ...) and the attributes; rtnetlink and nl80211
//! are built on top of it ([`route`] is the first).
//!
//! Never does: interpret a family's attributes, async I/O, or `unsafe` (the socket is `nix`'s).

pub mod route;
pub mod socket;
#[cfg(test)]
mod tests;

use std::fmt;

/// `NLMSG_NOOP`: nothing, skipped.
pub const NLMSG_NOOP: u16 = 1;
/// `NLMSG_ERROR`: an error (or, with errno 0, an acknowledgement).
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a multi-part reply.
pub const NLMSG_DONE: u16 = 3;

/// `NLM_F_REQUEST`: a request (set on every message the agent sends).
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: one part of a multi-part reply.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`: asks for an acknowledgement (an `NLMSG_ERROR` with errno 0).
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`): every object of the kind, as a multi-part reply.
pub const NLM_F_DUMP: u16 = 0x300;

/// `NLA_F_NESTED`: the attribute holds attributes.
pub const NLA_F_NESTED: u16 = 0x8000;
/// The bits of `nla_type` that are the type (without the nested and byte-order flags).
pub const NLA_TYPE_MASK: u16 = 0x3fff;

/// The size of `struct nlmsghdr`.
pub const HEADER_LEN: usize = 16;
/// The size of `struct nlattr`.
pub const ATTR_HEADER_LEN: usize = 4;

/// Netlink's alignment: lengths are rounded up to 4 bytes.
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// What went wrong talking netlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetlinkError {
    /// A socket call failed (`socket`, `bind`, `send`, `recv`); the operation and its errno.
    Io(&'static str, nix::errno::Errno),
    /// No complete reply arrived within the receive timeout.
    Timeout,
    /// The kernel answered `NLMSG_ERROR` with this (positive) errno.
    Kernel(i32),
    /// A message or attribute is shorter than its header says, or than a header (the bytes
    /// received are not netlink framing).
    Truncated,
    /// The reply went on for more messages than the caller's bound.
    TooManyMessages(usize),
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Io(op, e) => write!(f, "netlink {op}: {e}"),
            NetlinkError::Timeout => f.write_str("netlink: no reply in time"),
            NetlinkError::Kernel(e) => {
                write!(f, "netlink: the kernel answered {}", nix::errno::Errno::from_raw(*e))
            }
            NetlinkError::Truncated => f.write_str("netlink: truncated message"),
            NetlinkError::TooManyMessages(n) => {
                write!(f, "netlink: reply longer than {n} messages")
            }
        }
    }
}

impl std::error::Error for NetlinkError {}

/// Builds one netlink message: header, family header bytes, attributes.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl MessageBuilder {
    /// A message of type `ty` with `flags` (add [`NLM_F_REQUEST`] yourself for requests) and
    /// the family header `family_header` (padded to 4 bytes).
    pub fn new(ty: u16, flags: u16, family_header: &[u8]) -> MessageBuilder {
        let mut buf = vec![0; HEADER_LEN];
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(family_header);
        buf.resize(align(buf.len()), 0);
        MessageBuilder { buf, nests: Vec::new() }
    }

    /// Appends attribute `ty` with `value` (padded to 4 bytes).
    pub fn attr(mut self, ty: u16, value: &[u8]) -> MessageBuilder {
        let len = ATTR_HEADER_LEN + value.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(value);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// Appends a `u32` attribute (host byte order).
    pub fn attr_u32(self, ty: u16, value: u32) -> MessageBuilder {
        self.attr(ty, &value.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn attr_str(self, ty: u16, value: &str) -> MessageBuilder {
        let mut v = value.as_bytes().to_vec();
        v.push(0);
        self.attr(ty, &v)
    }

    /// Opens a nested attribute `ty` (with [`NLA_F_NESTED`]); the attributes appended until
    /// [`MessageBuilder::end_nested`] go inside it.
    pub fn begin_nested(mut self, ty: u16) -> MessageBuilder {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Closes the innermost nested attribute (does nothing if none is open).
    pub fn end_nested(mut self) -> MessageBuilder {
        if let Some(start) = self.nests.pop() {
            let len = (self.buf.len() - start) as u16;
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    /// The message bytes with sequence number `seq` and port id 0 (the kernel fills it);
    /// nested attributes left open are closed.
    pub fn finish(mut self, seq: u32) -> Vec<u8> {
        while !self.nests.is_empty() {
            self = self.end_nested();
        }
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// One received message, borrowed from the receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
    /// Everything after the header: the family header, then the attributes.
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// Splits the payload into the family header of `header_len` bytes and its attributes.
    pub fn split(&self, header_len: usize) -> Result<(&'a [u8], Attrs<'a>), NetlinkError> {
        let start = align(header_len);
        if self.payload.len() < header_len {
            return Err(NetlinkError::Truncated);
        }
        let rest = self.payload.get(start..).unwrap_or(&[]);
        Ok((&self.payload[..header_len], Attrs::new(rest)))
    }

    /// For an `NLMSG_ERROR` message: the errno it carries (positive; 0 is an ack).
    pub fn error_code(&self) -> Result<i32, NetlinkError> {
        let raw = self.payload.get(..4).ok_or(NetlinkError::Truncated)?;
        Ok(-i32::from_ne_bytes([raw[0], raw[1], raw[2], raw[3]]))
    }

    /// An owned copy, to keep beyond the receive buffer.
    pub fn to_owned(&self) -> OwnedMessage {
        OwnedMessage {
            ty: self.ty,
            flags: self.flags,
            seq: self.seq,
            pid: self.pid,
            payload: self.payload.to_vec(),
        }
    }
}

/// A received message that owns its bytes (what [`socket::Socket::request`] returns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedMessage {
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
    /// The family header, then the attributes.
    pub payload: Vec<u8>,
}

impl OwnedMessage {
    /// The borrowed view, for [`Message::split`].
    pub fn borrow(&self) -> Message<'_> {
        Message {
            ty: self.ty,
            flags: self.flags,
            seq: self.seq,
            pid: self.pid,
            payload: &self.payload,
        }
    }
}

/// Splits `buf` (one datagram) into its messages, in order.
pub fn parse_messages(mut buf: &[u8]) -> Result<Vec<Message<'_>>, NetlinkError> {
    let mut out = Vec::new();
    while buf.len() >= HEADER_LEN {
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < HEADER_LEN || len > buf.len() {
            return Err(NetlinkError::Truncated);
        }
        let u16_at = |i: usize| u16::from_ne_bytes([buf[i], buf[i + 1]]);
        let u32_at = |i: usize| u32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        out.push(Message {
            ty: u16_at(4),
            flags: u16_at(6),
            seq: u32_at(8),
            pid: u32_at(12),
            payload: &buf[HEADER_LEN..len],
        });
        buf = buf.get(align(len)..).unwrap_or(&[]);
    }
    if buf.is_empty() { Ok(out) } else { Err(NetlinkError::Truncated) }
}

/// One attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// Its type, without the flag bits ([`NLA_TYPE_MASK`]).
    pub ty: u16,
    /// Whether [`NLA_F_NESTED`] was set.
    pub nested: bool,
    /// Its value (without padding).
    pub value: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The value as a `u8`, if it is at least one byte.
    pub fn u8(&self) -> Option<u8> {
        self.value.first().copied()
    }
    /// The value as a host-order `u16`, if it is two bytes or more.
    pub fn u16(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.value.get(..2)?.try_into().ok()?))
    }
    /// The value as a host-order `u32`, if it is four bytes or more.
    pub fn u32(&self) -> Option<u32> {
        Some(u32::from_ne_bytes(self.value.get(..4)?.try_into().ok()?))
    }
    /// The value as a host-order `u64`, if it is eight bytes or more.
    pub fn u64(&self) -> Option<u64> {
        Some(u64::from_ne_bytes(self.value.get(..8)?.try_into().ok()?))
    }
    /// The value as a string, up to its first NUL; `None` if it is not UTF-8.
    pub fn str(&self) -> Option<&'a str> {
        let end = self.value.iter().position(|b| *b == 0).unwrap_or(self.value.len());
        std::str::from_utf8(&self.value[..end]).ok()
    }
    /// The attributes inside this one (for nested attributes).
    pub fn attrs(&self) -> Attrs<'a> {
        Attrs::new(self.value)
    }
}

/// An iterator over attributes; a malformed one ends it with `Err(Truncated)`.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// The attributes in `buf`.
    pub fn new(buf: &'a [u8]) -> Attrs<'a> {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, NetlinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < ATTR_HEADER_LEN {
            return None;
        }
        let len = u16::from_ne_bytes([self.rest[0], self.rest[1]]) as usize;
        let raw_ty = u16::from_ne_bytes([self.rest[2], self.rest[3]]);
        if len < ATTR_HEADER_LEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(NetlinkError::Truncated));
        }
        let value = &self.rest[ATTR_HEADER_LEN..len];
        self.rest = self.rest.get(align(len)..).unwrap_or(&[]);
        Some(Ok(Attr { ty: raw_ty & NLA_TYPE_MASK, nested: raw_ty & NLA_F_NESTED != 0, value }))
    }
}
