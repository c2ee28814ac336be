//! The bound on received Records waiting for the owner thread (issue 20: "what one controller
//! may queue").
//!
//! The links hand every received Record to the owner through one channel. A controller (or a
//! broker) sending faster than the core answers would grow that channel without end, so the
//! links' event sink admits a Record only while the Records waiting from the same source (a
//! link, the peer for WebSocket sessions, and the controller: the Record's `from_id`, read
//! from its bytes without decoding them) take at most [`MAX_PER_SOURCE`] bytes and all
//! waiting Records at most [`MAX_TOTAL`] bytes. So one controller flooding an MQTT or STOMP
//! link, where every controller shares the agent's one connection, cannot crowd out the
//! others. A Record beyond that is dropped with a
//! warning, as a congested network would lose it: the controller's request times out, and the
//! other controllers keep being served. The owner releases a Record's bytes once it handled it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use usp_mtp::{LinkId, MtpEvent};

/// The most bytes of received Records waiting from one source (at least one Record of the
/// largest size a link accepts).
pub const MAX_PER_SOURCE: usize = usp_mtp::DEFAULT_MAX_RECORD + (1 << 20);

/// The most bytes of received Records waiting in all.
pub const MAX_TOTAL: usize = 2 * MAX_PER_SOURCE;

/// Where a Record came from: its link, the peer of a WebSocket session, and the controller
/// that sent it (empty when its bytes do not say).
type Source = (LinkId, Option<String>, String);

fn source(link: LinkId, peer: &Option<String>, record: &[u8]) -> Source {
    let sender = usp_core::record_from_id(record).unwrap_or_default();
    (link, peer.clone(), sender.to_owned())
}

/// What an admitted Record holds until it is handled ([`Gate::release`]).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Ticket(Option<(Source, usize)>);

/// The shared counts of waiting bytes (cloned into the links' sink and kept by the owner).
#[derive(Clone, Debug)]
pub struct Gate {
    inner: Arc<Mutex<Counts>>,
    per_source: usize,
    total: usize,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_source: HashMap<Source, usize>,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate::new(MAX_PER_SOURCE, MAX_TOTAL)
    }
}

impl Gate {
    /// A gate with the given bounds, in bytes.
    pub fn new(per_source: usize, total: usize) -> Gate {
        Gate { inner: Arc::default(), per_source, total }
    }

    /// Whether `event` may be queued: always for events other than a received Record; for a
    /// Record, when it fits the bounds (its bytes are then counted as waiting).
    pub fn admit(&self, event: &MtpEvent) -> bool {
        let MtpEvent::Received { link, peer, record, .. } = event else { return true };
        let size = record.len();
        let mut counts = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let source = source(*link, peer, record);
        let mine = counts.by_source.get(&source).copied().unwrap_or(0);
        if mine + size > self.per_source || counts.total + size > self.total {
            log::warn!(
                "link {link}: {size}-byte Record dropped: {mine} bytes from the same source and \
                 {} in all are still waiting",
                counts.total
            );
            return false;
        }
        counts.total += size;
        *counts.by_source.entry(source).or_insert(0) += size;
        true
    }

    /// The ticket of an admitted event, to release once it is handled.
    pub fn ticket(event: &MtpEvent) -> Ticket {
        match event {
            MtpEvent::Received { link, peer, record, .. } => {
                Ticket(Some((source(*link, peer, record), record.len())))
            }
            _ => Ticket(None),
        }
    }

    /// Forgets a handled Record.
    pub fn release(&self, ticket: Ticket) {
        let Ticket(Some((source, size))) = ticket else { return };
        let mut counts = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(size);
        if let Some(mine) = counts.by_source.get_mut(&source) {
            *mine = mine.saturating_sub(size);
            if *mine == 0 {
                counts.by_source.remove(&source);
            }
        }
    }

    /// The bytes waiting in all.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(link: LinkId, peer: Option<&str>, size: usize) -> MtpEvent {
        MtpEvent::Received {
            link,
            peer: peer.map(str::to_owned),
            reply_to: None,
            record: vec![0; size],
        }
    }

    #[test]
    fn one_source_may_not_queue_more_than_its_share() {
        let gate = Gate::new(100, 250);
        let a = received(1, None, 60);
        assert!(gate.admit(&a));
        assert!(!gate.admit(&a), "120 bytes from link 1");
        // Another WebSocket peer of the same link, another link: their own share.
        assert!(gate.admit(&received(1, Some("ctrl-b"), 100)));
        assert!(gate.admit(&received(2, None, 90)));
        assert!(!gate.admit(&received(3, None, 1)), "251 bytes in all");
        assert_eq!(gate.waiting(), 250);
        // Handling the first Record frees its bytes.
        gate.release(Gate::ticket(&a));
        assert_eq!(gate.waiting(), 190);
        assert!(gate.admit(&a));
    }

    fn from(link: LinkId, controller: &str, size: usize) -> MtpEvent {
        let payload = vec![0; size.saturating_sub(40)];
        let record =
            usp_proto::record::Record::no_session_context("1.4", "os::a", controller, payload);
        MtpEvent::Received { link, peer: None, reply_to: None, record: record.to_bytes() }
    }

    #[test]
    fn one_controller_may_not_crowd_out_another_on_the_same_link() {
        let gate = Gate::new(300, 1000);
        let flood = from(1, "self::flooder", 200);
        assert!(gate.admit(&flood));
        assert!(!gate.admit(&flood), "the flooder's share of link 1 is full");
        // Another controller on the same MQTT link still gets its Records in.
        let other = from(1, "self::polite", 200);
        assert!(gate.admit(&other));
        // Releasing the flooder's Record lets it send again.
        gate.release(Gate::ticket(&flood));
        assert!(gate.admit(&flood));
        assert_eq!(gate.waiting(), flood_len(&flood) + flood_len(&other));
    }

    fn flood_len(e: &MtpEvent) -> usize {
        match e {
            MtpEvent::Received { record, .. } => record.len(),
            _ => 0,
        }
    }

    #[test]
    fn other_events_pass_and_release_nothing() {
        let gate = Gate::new(1, 1);
        let down = MtpEvent::Down { link: 1, peer: None, reason: "x".into(), retry_in: None };
        assert!(gate.admit(&down));
        assert_eq!(Gate::ticket(&down), Ticket(None));
        gate.release(Gate::ticket(&down));
        assert_eq!(gate.waiting(), 0);
    }

    #[test]
    fn default_bounds_admit_one_record_of_the_largest_size() {
        let gate = Gate::default();
        let big = received(1, None, usp_mtp::DEFAULT_MAX_RECORD);
        assert!(gate.admit(&big));
        assert!(!gate.admit(&big));
        assert!(gate.admit(&received(2, None, usp_mtp::DEFAULT_MAX_RECORD)));
        assert!(!gate.admit(&received(3, None, usp_mtp::DEFAULT_MAX_RECORD)));
    }
}
