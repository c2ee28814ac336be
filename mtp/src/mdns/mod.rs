//! mDNS / DNS-SD for USP discovery (TR-369 "Discovery", TP-469 8.4–8.7): the agent answers
//! queries for its services (`_usp-agt-ws._tcp.local` and the others of TR-369's table, with
//! the instance named by its Endpoint ID and the TXT `path=`, `name=` and `encrypt`
//! attributes, R-DIS.8–11a) and learns controllers from `_usp-ctr-*` answers it receives.
//!
//! Owns: which records answer which question ([`answer`]), what an answer says about
//! controllers ([`controllers_in`]), and the responder thread ([`Responder`]) on one UDP
//! socket (the mDNS group 224.0.0.251:5353, or any address given: the tests use 127.0.0.1
//! and unicast queries, answered to their source as RFC 6762 §6.7 "legacy unicast"). Never
//! resolves names for the MTPs, never probes or announces (no conflict resolution), never
//! reads the data model: the owner gives the adverts and reads what was learnt.

pub mod codec;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use codec::{FLAGS_RESPONSE, Message, Name, Question, RData, Record, name, same};

/// The TTL of the records (RFC 6762's recommendation for SRV/A is 120 s, 75 min for others;
/// one value keeps it simple).
pub const TTL: u32 = 120;

/// The largest datagram read.
const MAX_DATAGRAM: usize = 9000;

/// One service this endpoint advertises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    /// The service type without the domain, e.g. `_usp-agt-ws._tcp` (TR-369's table).
    pub service: String,
    /// The instance label: the Endpoint ID (R-DIS.8).
    pub instance: String,
    /// The host label (`<host>.local`).
    pub host: String,
    /// The host's IPv4 address.
    pub addr: Ipv4Addr,
    /// The port of the service.
    pub port: u16,
    /// TXT attributes (`path=/usp`, `name=...`, `encrypt`).
    pub txt: Vec<String>,
}

impl Advert {
    fn service_name(&self) -> Name {
        let mut n = name(&self.service);
        n.push("local".into());
        n
    }

    fn instance_name(&self) -> Name {
        let mut n = vec![self.instance.clone()];
        n.extend(self.service_name());
        n
    }

    fn host_name(&self) -> Name {
        vec![self.host.clone(), "local".into()]
    }

    /// The SRV, TXT and A records of the instance.
    fn instance_records(&self) -> Vec<Record> {
        let at = |data| Record { name: self.instance_name(), ttl: TTL, data };
        vec![
            at(RData::Srv { port: self.port, target: self.host_name() }),
            at(RData::Txt(self.txt.clone())),
            Record { name: self.host_name(), ttl: TTL, data: RData::A(self.addr) },
        ]
    }
}

/// The answer to `query` from `adverts`, if any question is about them: a PTR question on a
/// service gets the PTR with the instance's SRV, TXT and A as additional records; an SRV, TXT
/// or ANY question on an instance its records; an A question on the host its address.
pub fn answer(query: &Message, adverts: &[Advert]) -> Option<Message> {
    if query.flags & 0x8000 != 0 {
        return None;
    }
    let mut reply = Message { id: query.id, flags: FLAGS_RESPONSE, ..Message::default() };
    for q in &query.questions {
        for a in adverts {
            answer_one(q, a, &mut reply);
        }
    }
    if reply.answers.is_empty() {
        return None;
    }
    // A legacy unicast query (id set) gets its questions back (RFC 6762 §6.7).
    if query.id != 0 {
        reply.questions = query.questions.clone();
    }
    Some(reply)
}

fn answer_one(q: &Question, a: &Advert, reply: &mut Message) {
    use codec::{TYPE_A, TYPE_ANY, TYPE_PTR, TYPE_SRV, TYPE_TXT};
    if same(&q.name, &a.service_name()) && matches!(q.qtype, TYPE_PTR | TYPE_ANY) {
        let data = RData::Ptr(a.instance_name());
        reply.answers.push(Record { name: a.service_name(), ttl: TTL, data });
        reply.additional.extend(a.instance_records());
    } else if same(&q.name, &a.instance_name()) {
        let records = a.instance_records().into_iter();
        let wanted = |r: &Record| match q.qtype {
            TYPE_ANY => true,
            TYPE_SRV => matches!(r.data, RData::Srv { .. }),
            TYPE_TXT => matches!(r.data, RData::Txt(_)),
            _ => false,
        };
        reply.answers.extend(records.filter(wanted));
    } else if same(&q.name, &a.host_name()) && matches!(q.qtype, TYPE_A | TYPE_ANY) {
        reply.answers.push(Record { name: a.host_name(), ttl: TTL, data: RData::A(a.addr) });
    }
}

/// A controller learnt from DNS-SD records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// Its Endpoint ID (the instance label).
    pub endpoint_id: String,
    /// Its service, e.g. `_usp-ctr-ws._tcp`.
    pub service: String,
    /// The host name of its SRV record (dotted).
    pub host: String,
    /// Its IPv4 address, when an A record came along.
    pub addr: Option<Ipv4Addr>,
    /// Its port.
    pub port: u16,
    /// The TXT `path=` attribute (R-DIS.11).
    pub path: Option<String>,
    /// The TXT `encrypt` attribute is present (R-DIS.11a).
    pub encrypt: bool,
}

/// The controllers a response describes: each PTR to a `_usp-ctr-*._tcp.local` instance with
/// its SRV (required) and its TXT and A records (when present) anywhere in the message.
pub fn controllers_in(m: &Message) -> Vec<Discovered> {
    let records: Vec<&Record> = m.answers.iter().chain(&m.additional).collect();
    let mut out: Vec<Discovered> = Vec::new();
    for r in &records {
        let RData::Ptr(instance) = &r.data else { continue };
        let service = match r.name.as_slice() {
            [s, proto, local]
                if s.starts_with("_usp-ctr-") && local.eq_ignore_ascii_case("local") =>
            {
                format!("{s}.{proto}")
            }
            _ => continue,
        };
        let Some(eid) = instance.first().filter(|_| instance.len() == 4) else { continue };
        let of = |want: fn(&RData) -> bool| {
            records.iter().find(|x| same(&x.name, instance) && want(&x.data))
        };
        let Some(RData::Srv { port, target }) =
            of(|d| matches!(d, RData::Srv { .. })).map(|x| &x.data)
        else {
            continue;
        };
        let txt = match of(|d| matches!(d, RData::Txt(_))).map(|x| &x.data) {
            Some(RData::Txt(items)) => items.clone(),
            _ => Vec::new(),
        };
        let addr = records.iter().find_map(|x| match &x.data {
            RData::A(ip) if same(&x.name, target) => Some(*ip),
            _ => None,
        });
        let d = Discovered {
            endpoint_id: eid.clone(),
            service,
            host: target.join("."),
            addr,
            port: *port,
            path: txt.iter().find_map(|t| t.strip_prefix("path=")).map(str::to_owned),
            encrypt: txt.iter().any(|t| t == "encrypt" || t.starts_with("encrypt=")),
        };
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// The mDNS group and port.
pub const MDNS_GROUP: SocketAddr =
    SocketAddr::V4(std::net::SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353));

/// The responder thread: answers queries for its adverts, collects controllers from the
/// responses it sees; stopped by [`Responder::stop`] or when dropped.
pub struct Responder {
    stop: Arc<AtomicBool>,
    learnt: Arc<Mutex<Vec<Discovered>>>,
    local: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Responder {
    /// Binds `bind` (`0.0.0.0:5353` joins the mDNS group on `iface`; any other address is used
    /// as it is) and starts answering for `adverts`.
    pub fn spawn(
        bind: SocketAddr,
        iface: Ipv4Addr,
        adverts: Vec<Advert>,
    ) -> std::io::Result<Responder> {
        let socket = UdpSocket::bind(bind)?;
        if bind.port() == MDNS_GROUP.port() && bind.ip().is_unspecified() {
            socket.join_multicast_v4(&Ipv4Addr::new(224, 0, 0, 251), &iface)?;
        }
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let local = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let learnt = Arc::new(Mutex::new(Vec::new()));
        let (s, l) = (stop.clone(), learnt.clone());
        let thread = std::thread::Builder::new()
            .name("mdns".into())
            .spawn(move || serve(&socket, &adverts, &s, &l))?;
        Ok(Responder { stop, learnt, local, thread: Some(thread) })
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The controllers learnt so far.
    pub fn learnt(&self) -> Vec<Discovered> {
        self.learnt.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stops the thread (within 200 ms).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The thread's loop: one datagram at a time until stopped.
fn serve(
    socket: &UdpSocket,
    adverts: &[Advert],
    stop: &AtomicBool,
    learnt: &Mutex<Vec<Discovered>>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = socket.recv_from(&mut buf) else { continue };
        let Ok(msg) = Message::decode(&buf[..n]) else {
            log::debug!("mDNS: {n} bytes from {from} are not a DNS message");
            continue;
        };
        if msg.flags & 0x8000 != 0 {
            let found = controllers_in(&msg);
            if let (false, Ok(mut l)) = (found.is_empty(), learnt.lock()) {
                for d in found {
                    log::info!("mDNS: controller {} at {}:{}", d.endpoint_id, d.host, d.port);
                    l.retain(|x| x.endpoint_id != d.endpoint_id || x.service != d.service);
                    l.push(d);
                }
            }
            continue;
        }
        let Some(reply) = answer(&msg, adverts) else { continue };
        // Unicast to a legacy querier (source port not 5353), else to the group.
        let to = if from.port() == MDNS_GROUP.port() { MDNS_GROUP } else { from };
        match reply.encode() {
            Ok(bytes) => {
                if let Err(e) = socket.send_to(&bytes, to) {
                    log::debug!("mDNS: answer to {to} not sent: {e}");
                }
            }
            Err(e) => log::warn!("mDNS: answer not encodable: {e:?}"),
        }
    }
}

#[cfg(test)]
mod tests;
