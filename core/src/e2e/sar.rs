//! Segmentation and reassembly (SAR) of PLAINTEXT payloads in session context Records
//! (TR-369 "Segmented Message Exchange").
//!
//! Owns the cutting of one Msg into payload pieces that fit `MaxUSPRecordSize` with the
//! Record's header fields, and the putting back together of received pieces. For PLAINTEXT,
//! `payloadrec_sar_state` always equals `payload_sar_state` (one payload record per Record).
//! Never builds or sends Records itself (the session does).

use usp_proto::record::Record;
use usp_proto::record::session_context_record::PayloadSarState;

/// The largest Msg reassembled from segments; beyond it the reassembly fails (the session is
/// restarted), so a controller cannot make the agent buffer without bound.
pub const MAX_REASSEMBLED: usize = 1 << 20;

/// The smallest piece a segment carries, whatever the header size (a Record whose Endpoint IDs
/// alone exceed `MaxUSPRecordSize` cannot fit; it is still sent, in pieces of this size).
const MIN_PIECE: usize = 64;

/// The bytes a payload field adds to a Record beyond its content: its tag and the longest
/// length prefix a piece can need.
const PAYLOAD_FIELD: usize = 1 + 5;

/// Cuts `msg` into pieces, each with its `payload_sar_state`, so that a Record shaped like
/// `header` (a session context Record with its largest ids set and an empty payload) carrying
/// one piece stays within `max_record` bytes; `max_record == 0` or a Msg that fits: one piece
/// with `NONE`.
pub fn segment(msg: Vec<u8>, header: &Record, max_record: u32) -> Vec<(PayloadSarState, Vec<u8>)> {
    let overhead = header.to_bytes().len() + PAYLOAD_FIELD + 2 * 2;
    let limit = usize::try_from(max_record).unwrap_or(usize::MAX);
    if max_record == 0 || msg.len() + overhead <= limit {
        return vec![(PayloadSarState::None, msg)];
    }
    let piece = limit.saturating_sub(overhead).max(MIN_PIECE);
    let count = msg.len().div_ceil(piece);
    msg.chunks(piece)
        .enumerate()
        .map(|(i, chunk)| {
            let state = match i {
                0 => PayloadSarState::Begin,
                i if i + 1 == count => PayloadSarState::Complete,
                _ => PayloadSarState::Inprocess,
            };
            (state, chunk.to_vec())
        })
        .collect()
}

/// Why a received segment could not be taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SarError {
    /// A `BEGIN` while a reassembly was under way, or an `INPROCESS`/`COMPLETE` without one.
    OutOfOrder,
    /// The reassembled Msg would exceed [`MAX_REASSEMBLED`].
    TooLarge,
    /// `payload_sar_state` is not a value of the enumeration, or differs from
    /// `payloadrec_sar_state` (which PLAINTEXT never does).
    BadState,
}

/// The reassembly buffer of one session.
#[derive(Debug, Default)]
pub struct Reassembly {
    /// The pieces received so far; `None` when no segmented Msg is under way.
    buffer: Option<Vec<u8>>,
}

impl Reassembly {
    /// Takes the payload of one Record in sequence order: the complete Msgs it finishes (a
    /// `NONE` Record may carry several), or why it cannot be taken.
    pub fn take(
        &mut self,
        state: i32,
        rec_state: i32,
        payload: Vec<Vec<u8>>,
    ) -> Result<Vec<Vec<u8>>, SarError> {
        let Ok(state) = PayloadSarState::try_from(state) else { return Err(SarError::BadState) };
        if state as i32 != rec_state {
            return Err(SarError::BadState);
        }
        match (state, self.buffer.as_mut()) {
            (PayloadSarState::None, None) => Ok(payload),
            (PayloadSarState::Begin, None) => {
                self.buffer = Some(Vec::new());
                self.append(payload)?;
                Ok(Vec::new())
            }
            (PayloadSarState::Inprocess, Some(_)) => {
                self.append(payload)?;
                Ok(Vec::new())
            }
            (PayloadSarState::Complete, Some(_)) => {
                self.append(payload)?;
                Ok(self.buffer.take().into_iter().collect())
            }
            _ => {
                self.buffer = None;
                Err(SarError::OutOfOrder)
            }
        }
    }

    fn append(&mut self, payload: Vec<Vec<u8>>) -> Result<(), SarError> {
        let Some(buffer) = self.buffer.as_mut() else { return Err(SarError::OutOfOrder) };
        for piece in payload {
            if buffer.len() + piece.len() > MAX_REASSEMBLED {
                self.buffer = None;
                return Err(SarError::TooLarge);
            }
            buffer.extend_from_slice(&piece);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn segments_reassemble_to_the_message() {
        let header = Record::no_session_context("1.4", "a::b", "c::d", vec![]);
        let msg: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        let pieces = segment(msg.clone(), &header, 512);
        assert!(pieces.len() > 10);
        assert_eq!(pieces[0].0, PayloadSarState::Begin);
        assert_eq!(pieces.last().unwrap().0, PayloadSarState::Complete);
        let mut r = Reassembly::default();
        let mut out = Vec::new();
        for (state, piece) in pieces {
            out.extend(r.take(state as i32, state as i32, vec![piece]).unwrap());
        }
        assert_eq!(out, vec![msg]);
    }

    #[test]
    fn a_small_message_is_not_segmented() {
        let header = Record::no_session_context("1.4", "a::b", "c::d", vec![]);
        assert_eq!(segment(vec![1; 100], &header, 512).len(), 1);
        assert_eq!(segment(vec![1; 100_000], &header, 0).len(), 1);
    }

    #[test]
    fn out_of_order_and_oversized_segments_fail() {
        let mut r = Reassembly::default();
        assert_eq!(r.take(2, 2, vec![vec![1]]), Err(SarError::OutOfOrder));
        assert_eq!(r.take(3, 3, vec![vec![1]]), Err(SarError::OutOfOrder));
        assert_eq!(r.take(1, 0, vec![vec![1]]), Err(SarError::BadState));
        assert_eq!(r.take(9, 9, vec![vec![1]]), Err(SarError::BadState));
        r.take(1, 1, vec![vec![0; 1000]]).unwrap();
        assert_eq!(r.take(1, 1, vec![vec![1]]), Err(SarError::OutOfOrder));
        r.take(1, 1, vec![vec![0; 1000]]).unwrap();
        let big = vec![vec![0; MAX_REASSEMBLED]];
        assert_eq!(r.take(2, 2, big), Err(SarError::TooLarge));
        assert_eq!(r.take(0, 0, vec![vec![7]]).unwrap(), vec![vec![7]]);
    }
}
