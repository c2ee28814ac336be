//! An in-memory [`Link`] pair: what one end sends, the other end's [`EventSink`] receives, on
//! the sender's thread, with no network. It stands in for an MTP in tests and benchmarks (the
//! controller library driving an agent core in the same process), and lets a test script an
//! agent by hand: keep one end and the events of the other.
//!
//! Both ends behave like a WebSocket session by default: [`pair`] reports
//! [`MtpEvent::Up`] to both sinks (each naming the other end's Endpoint ID as `peer`, with
//! [`ConnectInfo::WebSocket`]); [`LoopbackLink::disconnect`], [`Link::stop`] or dropping an end
//! closes both directions and reports [`MtpEvent::Down`] to the other end (and to its own end
//! for `disconnect`). After that, [`Link::send`] fails with [`SendError::NotConnected`].
//!
//! Never spawns a thread and never blocks beyond the sinks' own (non-blocking) sends.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use usp_mtp::{ConnectInfo, EventSink, Link, LinkId, MtpEvent, Outbound, SendError};

/// One end of a [`pair`]: who it is and where its events go.
#[derive(Clone)]
pub struct End {
    /// The link id the events to this end carry.
    pub link: LinkId,
    /// Where this end's events go.
    pub sink: EventSink,
    /// This end's Endpoint ID, given to the other end as `peer` (`None`: like a broker link,
    /// no peer is named).
    pub endpoint_id: Option<String>,
    /// The `reply_to` the other end sees on what this end sends (like an MQTT Response Topic).
    pub reply_to: Option<String>,
    /// The [`ConnectInfo`] of the Up event this end receives.
    pub info: ConnectInfo,
}

impl End {
    /// A WebSocket-like end: named peer, no reply-to.
    pub fn websocket(link: LinkId, sink: EventSink, endpoint_id: &str) -> End {
        End {
            link,
            sink,
            endpoint_id: Some(endpoint_id.to_owned()),
            reply_to: None,
            info: ConnectInfo::WebSocket,
        }
    }
}

/// The destinations of every Record an end sent, in order (see [`LoopbackLink::dest_log`]).
pub type DestLog = Arc<Mutex<Vec<String>>>;

/// One end of an in-memory link.
pub struct LoopbackLink {
    /// This end (for the events it causes to itself).
    me: End,
    /// The other end (where sent Records arrive).
    peer: End,
    open: Arc<AtomicBool>,
    dests: DestLog,
    /// Whether dropping this handle stops the link (false for [`LoopbackLink::sender`]s).
    owner: bool,
}

impl std::fmt::Debug for LoopbackLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackLink")
            .field("me", &self.me.endpoint_id)
            .field("peer", &self.peer.endpoint_id)
            .field("open", &self.open.load(Ordering::SeqCst))
            .finish()
    }
}

/// Two connected ends; both sinks receive an Up event before this returns.
pub fn pair(a: End, b: End) -> (LoopbackLink, LoopbackLink) {
    let open = Arc::new(AtomicBool::new(true));
    for (to, from) in [(&a, &b), (&b, &a)] {
        (to.sink)(MtpEvent::Up {
            link: to.link,
            peer: from.endpoint_id.clone(),
            info: to.info.clone(),
        });
    }
    let end_a = LoopbackLink {
        me: a.clone(),
        peer: b.clone(),
        open: open.clone(),
        dests: DestLog::default(),
        owner: true,
    };
    let end_b = LoopbackLink { me: b, peer: a, open, dests: DestLog::default(), owner: true };
    (end_a, end_b)
}

impl LoopbackLink {
    /// A shared view of the destinations this end has sent to (kept after the link is moved
    /// into its owner).
    pub fn dest_log(&self) -> DestLog {
        self.dests.clone()
    }

    /// Another handle sending as this end (e.g. for a thread serving the agent side while
    /// the test keeps the end). Dropping it does not stop the link; `stop` and `disconnect`
    /// on it do.
    pub fn sender(&self) -> LoopbackLink {
        LoopbackLink {
            me: self.me.clone(),
            peer: self.peer.clone(),
            open: self.open.clone(),
            dests: self.dests.clone(),
            owner: false,
        }
    }

    /// Closes both directions, reporting Down with `reason` to both ends.
    pub fn disconnect(&self, reason: &str) {
        if self.open.swap(false, Ordering::SeqCst) {
            for (to, from) in [(&self.me, &self.peer), (&self.peer, &self.me)] {
                (to.sink)(MtpEvent::Down {
                    link: to.link,
                    peer: from.endpoint_id.clone(),
                    reason: reason.to_owned(),
                    retry_in: None,
                });
            }
        }
    }
}

impl Link for LoopbackLink {
    fn send(&self, out: Outbound) -> Result<(), SendError> {
        if !self.open.load(Ordering::SeqCst) {
            return Err(SendError::NotConnected);
        }
        if let Ok(mut dests) = self.dests.lock() {
            dests.push(out.dest);
        }
        (self.peer.sink)(MtpEvent::Received {
            link: self.peer.link,
            peer: self.me.endpoint_id.clone(),
            reply_to: self.me.reply_to.clone(),
            record: out.record,
        });
        Ok(())
    }

    fn stop(&mut self) {
        if self.open.swap(false, Ordering::SeqCst) {
            (self.peer.sink)(MtpEvent::Down {
                link: self.peer.link,
                peer: self.me.endpoint_id.clone(),
                reason: "the peer stopped".into(),
                retry_in: None,
            });
        }
    }
}

impl Drop for LoopbackLink {
    /// Dropping an end stops it, as for every [`Link`] (not a [`LoopbackLink::sender`]).
    fn drop(&mut self) {
        if self.owner {
            self.stop();
        }
    }
}
