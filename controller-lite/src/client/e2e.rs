//! The controller's side of an E2E Session Context (`uspctl --e2e`): our Msgs go in
//! SessionContext Records numbered from 1, the agent's are taken in sequence and their
//! segmented payloads reassembled.
//!
//! Owns the numbering and the reassembly only; never segments what it sends (our requests are
//! small), never asks for a retransmission (a Record lost in a gap is reported to the trace
//! and skipped), never does TLS inside Records.

use usp_proto::record::record::{PayloadSecurity, RecordType};
use usp_proto::record::session_context_record::PayloadSarState;
use usp_proto::record::{Record, SessionContextRecord};

use super::USP_VERSION;

/// The largest Msg reassembled; beyond it the segments are dropped.
const MAX_REASSEMBLED: usize = 16 << 20;

/// The state of our session with the agent.
#[derive(Debug)]
pub struct Session {
    id: u64,
    next_seq: u64,
    expected: u64,
    buffer: Option<Vec<u8>>,
}

/// What a received session Record carried.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// Complete Msgs (encoded), in order.
    Msgs(Vec<Vec<u8>>),
    /// An old or duplicate Record, or one of another session: ignored.
    Ignored,
}

impl Session {
    /// A session `id` (above 1) starting now.
    pub fn new(id: u64) -> Session {
        Session { id: id.max(2), next_seq: 1, expected: 1, buffer: None }
    }

    /// The session id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `payload` (one encoded Msg) in the next Record of the session, from `from` to `to`.
    pub fn wrap(&mut self, to: String, from: String, payload: Vec<u8>) -> Record {
        let sc = SessionContextRecord {
            session_id: self.id,
            sequence_id: self.next_seq,
            expected_id: self.expected,
            payload: vec![payload],
            ..Default::default()
        };
        self.next_seq += 1;
        Record {
            version: USP_VERSION.into(),
            to_id: to,
            from_id: from,
            payload_security: PayloadSecurity::Plaintext.into(),
            mac_signature: Vec::new(),
            sender_cert: Vec::new(),
            record_type: Some(RecordType::SessionContext(sc)),
        }
    }

    /// Takes a Record of the agent: a session it opens (`sequence_id` 1 with a new id) is
    /// joined; Records are taken in sequence and reassembled.
    pub fn take(&mut self, sc: SessionContextRecord) -> Taken {
        if sc.session_id != self.id {
            if sc.sequence_id != 1 {
                return Taken::Ignored;
            }
            *self = Session { id: sc.session_id, ..Session::new(sc.session_id) };
        }
        if sc.sequence_id < self.expected {
            return Taken::Ignored;
        }
        self.expected = sc.sequence_id + 1;
        let state = PayloadSarState::try_from(sc.payload_sar_state).unwrap_or_default();
        match state {
            PayloadSarState::None => {
                self.buffer = None;
                Taken::Msgs(sc.payload)
            }
            PayloadSarState::Begin => {
                self.buffer = Some(sc.payload.concat());
                Taken::Msgs(Vec::new())
            }
            PayloadSarState::Inprocess | PayloadSarState::Complete => {
                let Some(buffer) = self.buffer.as_mut() else { return Taken::Ignored };
                for piece in sc.payload {
                    if buffer.len() + piece.len() > MAX_REASSEMBLED {
                        self.buffer = None;
                        return Taken::Ignored;
                    }
                    buffer.extend_from_slice(&piece);
                }
                match state {
                    PayloadSarState::Complete => {
                        Taken::Msgs(self.buffer.take().into_iter().collect())
                    }
                    _ => Taken::Msgs(Vec::new()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn seg(session: u64, seq: u64, state: PayloadSarState, bytes: &[u8]) -> SessionContextRecord {
        SessionContextRecord {
            session_id: session,
            sequence_id: seq,
            expected_id: 1,
            payload_sar_state: state as i32,
            payloadrec_sar_state: state as i32,
            payload: vec![bytes.to_vec()],
            ..Default::default()
        }
    }

    #[test]
    fn numbers_records_and_reassembles_segments() {
        let mut s = Session::new(9);
        let r = s.wrap("a".into(), "c".into(), vec![1]);
        let Some(RecordType::SessionContext(sc)) = r.record_type else { panic!() };
        assert_eq!((sc.session_id, sc.sequence_id, sc.expected_id), (9, 1, 1));
        assert_eq!(s.take(seg(9, 1, PayloadSarState::Begin, b"ab")), Taken::Msgs(vec![]));
        assert_eq!(s.take(seg(9, 2, PayloadSarState::Inprocess, b"cd")), Taken::Msgs(vec![]));
        let done = s.take(seg(9, 3, PayloadSarState::Complete, b"e"));
        assert_eq!(done, Taken::Msgs(vec![b"abcde".to_vec()]));
        assert_eq!(s.take(seg(9, 3, PayloadSarState::None, b"x")), Taken::Ignored, "a duplicate");
        let r = s.wrap("a".into(), "c".into(), vec![2]);
        let Some(RecordType::SessionContext(sc)) = r.record_type else { panic!() };
        assert_eq!((sc.sequence_id, sc.expected_id), (2, 4));
    }

    #[test]
    fn joins_a_session_the_agent_opens() {
        let mut s = Session::new(9);
        assert_eq!(s.take(seg(77, 5, PayloadSarState::None, b"x")), Taken::Ignored);
        assert_eq!(
            s.take(seg(77, 1, PayloadSarState::None, b"x")),
            Taken::Msgs(vec![b"x".to_vec()])
        );
        assert_eq!(s.id(), 77);
    }
}
