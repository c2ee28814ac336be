//! The few DNS messages mDNS/DNS-SD needs (RFC 1035, 6762, 6763): a header, questions, and
//! PTR, SRV, TXT and A records. Names are kept as labels (a DNS-SD instance label, a USP
//! Endpoint ID, may hold dots).
//!
//! Owns encoding (no name compression) and decoding (with compression pointers, bounded);
//! never touches a socket. Decoding never panics on any input.

use std::net::Ipv4Addr;

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type PTR.
pub const TYPE_PTR: u16 = 12;
/// Record type TXT.
pub const TYPE_TXT: u16 = 16;
/// Record type SRV.
pub const TYPE_SRV: u16 = 33;
/// Query type ANY.
pub const TYPE_ANY: u16 = 255;
/// Class IN.
const CLASS_IN: u16 = 1;
/// The class's top bit: cache-flush in records, unicast-response in questions (RFC 6762).
const CLASS_TOP: u16 = 0x8000;
/// Header flags of a response: QR and AA.
pub const FLAGS_RESPONSE: u16 = 0x8400;

/// A domain name as its labels (`["_usp-agt-ws", "_tcp", "local"]`).
pub type Name = Vec<String>;

/// A name from dotted text whose labels hold no dot.
pub fn name(dotted: &str) -> Name {
    dotted.trim_end_matches('.').split('.').map(str::to_owned).collect()
}

/// Whether two names are equal (ASCII case-insensitive, as DNS compares).
pub fn same(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// The data of a resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// A pointer to a service instance name.
    Ptr(Name),
    /// A service instance's port and host.
    Srv {
        /// The port.
        port: u16,
        /// The host name.
        target: Name,
    },
    /// `key=value` strings.
    Txt(Vec<String>),
    /// A type this codec does not read (kept as its type number).
    Other(u16),
}

impl RData {
    fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => TYPE_A,
            RData::Ptr(_) => TYPE_PTR,
            RData::Srv { .. } => TYPE_SRV,
            RData::Txt(_) => TYPE_TXT,
            RData::Other(t) => *t,
        }
    }
}

/// A resource record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Its owner name.
    pub name: Name,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Its data.
    pub data: RData,
}

/// A question: a name and a type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The type asked for.
    pub qtype: u16,
}

/// A DNS message (the authority section is read and dropped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// The ID (0 in mDNS, except legacy unicast queries).
    pub id: u16,
    /// The flags.
    pub flags: u16,
    /// Questions.
    pub questions: Vec<Question>,
    /// Answers.
    pub answers: Vec<Record>,
    /// Additional records.
    pub additional: Vec<Record>,
}

/// Why bytes are not a DNS message this codec reads, or a message cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The bytes end inside a field.
    Truncated,
    /// A name's compression pointers loop or go too deep, or a label is too long.
    BadName,
    /// A text is not UTF-8.
    NotText,
}

impl Message {
    /// The message as bytes.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(512);
        for n in [self.id, self.flags] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        for n in [self.questions.len(), self.answers.len(), 0, self.additional.len()] {
            out.extend_from_slice(
                &u16::try_from(n).map_err(|_| CodecError::Truncated)?.to_be_bytes(),
            );
        }
        for q in &self.questions {
            put_name(&mut out, &q.name)?;
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
        }
        for r in self.answers.iter().chain(&self.additional) {
            put_record(&mut out, r)?;
        }
        Ok(out)
    }

    /// Decodes a message.
    pub fn decode(bytes: &[u8]) -> Result<Message, CodecError> {
        let mut r = Reader { bytes, at: 12 };
        let word = |i: usize| bytes.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let field = |i| word(i).ok_or(CodecError::Truncated);
        let (id, flags) = (field(0)?, field(2)?);
        let counts = [field(4)?, field(6)?, field(8)?, field(10)?];
        let mut m = Message { id, flags, ..Message::default() };
        for _ in 0..counts[0] {
            let name = r.name()?;
            let qtype = r.u16()?;
            r.u16()?;
            m.questions.push(Question { name, qtype });
        }
        for _ in 0..counts[1] {
            m.answers.push(r.record()?);
        }
        for _ in 0..counts[2] {
            r.record()?;
        }
        for _ in 0..counts[3] {
            m.additional.push(r.record()?);
        }
        Ok(m)
    }
}

fn put_name(out: &mut Vec<u8>, name: &[String]) -> Result<(), CodecError> {
    for label in name {
        let len = u8::try_from(label.len()).ok().filter(|l| (1..=63).contains(l));
        out.push(len.ok_or(CodecError::BadName)?);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

fn put_record(out: &mut Vec<u8>, r: &Record) -> Result<(), CodecError> {
    put_name(out, &r.name)?;
    out.extend_from_slice(&r.data.rtype().to_be_bytes());
    // Records of this agent are unique: the cache-flush bit, except on shared PTRs.
    let class = if matches!(r.data, RData::Ptr(_)) { CLASS_IN } else { CLASS_IN | CLASS_TOP };
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&r.ttl.to_be_bytes());
    let mut data = Vec::new();
    match &r.data {
        RData::A(ip) => data.extend_from_slice(&ip.octets()),
        RData::Ptr(n) => put_name(&mut data, n)?,
        RData::Srv { port, target } => {
            data.extend_from_slice(&[0, 0, 0, 0]);
            data.extend_from_slice(&port.to_be_bytes());
            put_name(&mut data, target)?;
        }
        RData::Txt(items) => {
            for t in items {
                data.push(u8::try_from(t.len()).map_err(|_| CodecError::BadName)?);
                data.extend_from_slice(t.as_bytes());
            }
            if items.is_empty() {
                data.push(0);
            }
        }
        RData::Other(_) => {}
    }
    out.extend_from_slice(
        &u16::try_from(data.len()).map_err(|_| CodecError::Truncated)?.to_be_bytes(),
    );
    out.extend_from_slice(&data);
    Ok(())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CodecError> {
        let s = self.bytes.get(self.at..self.at + n).ok_or(CodecError::Truncated)?;
        self.at += n;
        Ok(s)
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, CodecError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A name at the cursor, following at most 16 compression pointers.
    fn name(&mut self) -> Result<Name, CodecError> {
        let (name, end) = read_name(self.bytes, self.at)?;
        self.at = end;
        Ok(name)
    }

    fn record(&mut self) -> Result<Record, CodecError> {
        let name = self.name()?;
        let (rtype, _class, ttl, len) = (self.u16()?, self.u16()?, self.u32()?, self.u16()?);
        let start = self.at;
        let raw = self.take(usize::from(len))?;
        let data = match rtype {
            TYPE_A if raw.len() == 4 => RData::A(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3])),
            TYPE_PTR => RData::Ptr(read_name(self.bytes, start)?.0),
            TYPE_SRV if raw.len() > 6 => RData::Srv {
                port: u16::from_be_bytes([raw[4], raw[5]]),
                target: read_name(self.bytes, start + 6)?.0,
            },
            TYPE_TXT => RData::Txt(txt(raw)?),
            other => RData::Other(other),
        };
        Ok(Record { name, ttl, data })
    }
}

fn txt(mut raw: &[u8]) -> Result<Vec<String>, CodecError> {
    let mut items = Vec::new();
    while let Some((&len, rest)) = raw.split_first() {
        let (item, rest) = rest.split_at_checked(usize::from(len)).ok_or(CodecError::Truncated)?;
        if !item.is_empty() {
            items.push(String::from_utf8(item.to_vec()).map_err(|_| CodecError::NotText)?);
        }
        raw = rest;
    }
    Ok(items)
}

/// The name at `at` and the offset after it (after its first pointer, if any).
fn read_name(bytes: &[u8], mut at: usize) -> Result<(Name, usize), CodecError> {
    let mut labels = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *bytes.get(at).ok_or(CodecError::Truncated)?;
        match len {
            0 => return Ok((labels, end.unwrap_or(at + 1))),
            l if l & 0xc0 == 0xc0 => {
                let low = *bytes.get(at + 1).ok_or(CodecError::Truncated)?;
                end.get_or_insert(at + 2);
                let target = usize::from(l & 0x3f) << 8 | usize::from(low);
                if target >= at {
                    return Err(CodecError::BadName);
                }
                at = target;
            }
            l if l <= 63 => {
                let label =
                    bytes.get(at + 1..at + 1 + usize::from(l)).ok_or(CodecError::Truncated)?;
                labels.push(String::from_utf8(label.to_vec()).map_err(|_| CodecError::NotText)?);
                at += 1 + usize::from(l);
            }
            _ => return Err(CodecError::BadName),
        }
    }
    Err(CodecError::BadName)
}
