//! The Records a WebSocket session has yet to hand to its socket, bounded in bytes: a peer that
//! reads slower than the agent answers (it still reads, so the write-stall check never fires)
//! must not make the agent queue without end. A Record that does not fit is dropped with a
//! warning, as a congested network would lose it; one Record always fits an empty outbox.

use std::collections::VecDeque;

/// The most bytes of Records one session queues (twice the largest Record by default, plus
/// room for a few small ones).
pub(crate) const MAX_QUEUED: usize = 2 * crate::DEFAULT_MAX_RECORD + (1 << 20);

/// A bounded FIFO of Records.
#[derive(Debug)]
pub(crate) struct Outbox {
    queue: VecDeque<Vec<u8>>,
    bytes: usize,
    max: usize,
}

impl Outbox {
    /// An empty outbox holding at most `max` bytes (and always one Record).
    pub(crate) fn new(max: usize) -> Outbox {
        Outbox { queue: VecDeque::new(), bytes: 0, max }
    }

    /// Queues `record`; `false` (the Record dropped) when it does not fit.
    pub(crate) fn push(&mut self, record: Vec<u8>) -> bool {
        if !self.queue.is_empty() && self.bytes + record.len() > self.max {
            return false;
        }
        self.bytes += record.len();
        self.queue.push_back(record);
        true
    }

    /// The oldest Record.
    pub(crate) fn pop(&mut self) -> Option<Vec<u8>> {
        let record = self.queue.pop_front()?;
        self.bytes -= record.len();
        Some(record)
    }

    /// Drops everything; the number of Records dropped.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.queue.len();
        self.queue.clear();
        self.bytes = 0;
        n
    }

    /// The bytes queued.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_reader_cannot_make_the_outbox_grow_past_its_bound() {
        let mut out = Outbox::new(100);
        assert!(out.push(vec![0; 60]));
        assert!(out.push(vec![1; 40]));
        assert!(!out.push(vec![2; 1]), "full");
        assert_eq!(out.bytes(), 100);
        assert_eq!(out.pop(), Some(vec![0; 60]));
        assert!(out.push(vec![3; 50]));
        assert_eq!(out.pop(), Some(vec![1; 40]));
        assert_eq!(out.pop(), Some(vec![3; 50]));
        assert_eq!(out.pop(), None);
        assert_eq!(out.bytes(), 0);
    }

    #[test]
    fn one_record_always_fits_and_clear_empties() {
        let mut out = Outbox::new(10);
        assert!(out.push(vec![0; 1000]), "a Record larger than the bound, alone");
        assert!(!out.push(vec![0; 1]));
        assert_eq!(out.clear(), 1);
        assert_eq!(out.bytes(), 0);
        assert!(out.push(vec![0; 5]));
    }
}
