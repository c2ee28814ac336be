//! The state of one E2E Session Context with one controller: sequence numbers, the buffers of
//! sent Records (for retransmission) and of early received ones, and the reassembly buffer.
//!
//! Owns the rules of TR-369 "USP Record Exchange" on one session (R-E2E.14–20, 25); never
//! decodes a Msg, reads the data model or decides what to answer (the `e2e` module does).

use std::collections::BTreeMap;
use std::time::Duration;

use usp_proto::record::record::{PayloadSecurity, RecordType};
use usp_proto::record::{Record, SessionContextRecord};

use super::sar::{self, Reassembly};

/// Sent Records kept for retransmission; older ones are dropped first (a controller that
/// never advances its `expected_id` cannot make the agent keep everything it ever sent).
pub const MAX_SENT: usize = 64;

/// Received Records kept while an earlier `sequence_id` is missing; one more fails the session.
pub const MAX_EARLY: usize = 32;

/// A `sequence_id` this close to the largest one starts a new session (R-E2E.8/9).
pub const SEQUENCE_MARGIN: u64 = 10_000;

/// A Record kept for retransmission.
#[derive(Debug)]
struct Sent {
    record: Record,
    retransmits: u32,
}

/// Where a received Record goes in the sequence.
#[derive(Debug, PartialEq, Eq)]
pub enum Place {
    /// Already received (a duplicate or an old Record): ignored (R-E2E.20.2, R-E2E.25).
    Old,
    /// Ahead of the expected one: buffered until the gap is filled (R-E2E.20.1).
    Buffered,
    /// The expected one: to be processed now.
    Next,
    /// Ahead, but the buffer is full: the session fails.
    Overflow,
}

/// One session context.
#[derive(Debug)]
pub struct Session {
    /// `session_id`.
    pub id: u64,
    /// The USP version of its Records.
    pub version: String,
    /// The `sequence_id` of the next Record the agent sends.
    next_seq: u64,
    /// The `sequence_id` expected next from the controller.
    expected: u64,
    sent: BTreeMap<u64, Sent>,
    early: BTreeMap<u64, SessionContextRecord>,
    /// The reassembly of segmented Msgs.
    pub reassembly: Reassembly,
    /// The uptime of the last Record sent or received (for `SessionExpiration`).
    pub last_activity: Duration,
    /// False once `SessionExpiration` passed without activity (kept to know that the next
    /// agent-originated message starts a new session, R-E2E.7).
    pub live: bool,
}

impl Session {
    /// A session `id` whose first Records in both directions are number 1.
    pub fn new(id: u64, version: &str, now: Duration) -> Session {
        Session {
            id,
            version: version.into(),
            next_seq: 1,
            expected: 1,
            sent: BTreeMap::new(),
            early: BTreeMap::new(),
            reassembly: Reassembly::default(),
            last_activity: now,
            live: true,
        }
    }

    /// Whether the session expired at `now` with an expiration of `secs` (0: never).
    pub fn expired(&self, now: Duration, secs: u32) -> bool {
        !self.live
            || (secs != 0
                && now.saturating_sub(self.last_activity) >= Duration::from_secs(u64::from(secs)))
    }

    /// Places a received Record (see [`Place`]); a buffered one is kept.
    pub fn place(&mut self, sc: SessionContextRecord) -> (Place, Option<SessionContextRecord>) {
        use std::cmp::Ordering::*;
        match sc.sequence_id.cmp(&self.expected) {
            Less => (Place::Old, None),
            Equal => (Place::Next, Some(sc)),
            Greater if self.early.contains_key(&sc.sequence_id) => (Place::Old, None),
            Greater if self.early.len() >= MAX_EARLY => (Place::Overflow, None),
            Greater => {
                self.early.insert(sc.sequence_id, sc);
                (Place::Buffered, None)
            }
        }
    }

    /// Notes that `sc` (the expected Record) is processed: the controller has every Record
    /// below its `expected_id` (they leave the sent buffer, R-E2E.16) and the next one is
    /// expected (R-E2E.20.4).
    pub fn accepted(&mut self, sc: &SessionContextRecord, now: Duration) {
        self.sent.retain(|seq, _| *seq >= sc.expected_id);
        self.expected = sc.sequence_id.saturating_add(1);
        self.last_activity = now;
    }

    /// The buffered Record that is now the expected one, if any.
    pub fn next_buffered(&mut self) -> Option<SessionContextRecord> {
        self.early.remove(&self.expected)
    }

    /// The sent Record `seq` again, when it is kept and was retransmitted fewer than `max`
    /// times (-1: no limit); `None` fails the session.
    pub fn retransmit(&mut self, seq: u64, max: i32) -> Option<Record> {
        let sent = self.sent.get_mut(&seq)?;
        if max >= 0 && sent.retransmits >= max.unsigned_abs() {
            return None;
        }
        sent.retransmits += 1;
        Some(sent.record.clone())
    }

    /// Whether the sequence numbers are near exhaustion (R-E2E.8/9).
    pub fn exhausted(&self, received: u64) -> bool {
        let limit = u64::MAX - SEQUENCE_MARGIN;
        received >= limit || self.next_seq >= limit
    }

    /// The Records carrying `msg` (one, or its segments when `max_record` asks) from `from` to
    /// `to`, numbered and kept for retransmission; `None` is an empty Record (a session's
    /// opening by the agent).
    pub fn wrap(
        &mut self,
        to: &str,
        from: &str,
        msg: Option<Vec<u8>>,
        max_record: u32,
        now: Duration,
    ) -> Vec<Record> {
        self.last_activity = now;
        let Some(msg) = msg else { return vec![self.number(to, from, 0, Vec::new())] };
        let widest = SessionContextRecord {
            session_id: self.id,
            sequence_id: u64::MAX,
            expected_id: u64::MAX,
            ..Default::default()
        };
        let header = self.record(to, from, widest);
        sar::segment(msg, &header, max_record)
            .into_iter()
            .map(|(state, piece)| self.number(to, from, state as i32, vec![piece]))
            .collect()
    }

    /// One numbered Record, kept in the sent buffer.
    fn number(&mut self, to: &str, from: &str, sar: i32, payload: Vec<Vec<u8>>) -> Record {
        let sc = SessionContextRecord {
            session_id: self.id,
            sequence_id: self.next_seq,
            expected_id: self.expected,
            retransmit_id: 0,
            payload_sar_state: sar,
            payloadrec_sar_state: sar,
            payload,
        };
        let record = self.record(to, from, sc);
        if self.sent.len() >= MAX_SENT {
            self.sent.pop_first();
        }
        self.sent.insert(self.next_seq, Sent { record: record.clone(), retransmits: 0 });
        self.next_seq += 1;
        record
    }

    fn record(&self, to: &str, from: &str, sc: SessionContextRecord) -> Record {
        Record {
            version: self.version.clone(),
            to_id: to.into(),
            from_id: from.into(),
            payload_security: PayloadSecurity::Plaintext.into(),
            mac_signature: Vec::new(),
            sender_cert: Vec::new(),
            record_type: Some(RecordType::SessionContext(sc)),
        }
    }
}
