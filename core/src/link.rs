//! The MTP links as the core sees them: inputs from the host when a link comes up, when a
//! notification could not be delivered, and at shutdown; the Records they call for; and the
//! notifications held for controllers not reachable yet.
//!
//! - [`Core::link_up`]: a link (or a WebSocket session) came up and reaches some controllers:
//!   a Connect Record to each (MQTTConnectRecord, STOMPConnectRecord, WebSocketConnectRecord,
//!   R-MTP.6 / R-MTP.8), sent on that link, then what was held for them.
//! - [`Core::undeliverable`]: the host had no link up towards a notification's recipient; the
//!   core holds it, at most [`MAX_HELD`] per controller (the oldest dropped), until a link
//!   reaching the controller comes up. Boot! before the MTP is up is the common case.
//! - [`Core::shutdown`]: a DisconnectRecord to each reachable controller.
//! - [`Core::with_links`]: the host reads the link configuration and writes the link state
//!   (Status, learnt values) through the areas' typed readers and writers; the core processes
//!   the events those writes cause before returning, so their notifications never wait for
//!   another input.
//!
//! Never does: know which controllers are reachable (the host's routing does), or send.

use std::collections::{BTreeMap, VecDeque};

use usp_datamodel::DataModel;
use usp_datamodel::plugin::Now;

use super::record::{ConnectKind, connect_record, disconnect_record};
use super::{Core, Outgoing};

/// The most notifications held per unreachable controller.
pub const MAX_HELD: usize = 64;

/// A link came up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkUp {
    /// The Endpoint IDs of the controllers it reaches.
    pub controllers: Vec<String>,
    /// The MTP, for the Connect Records.
    pub kind: ConnectKind,
}

/// Notifications held per controller, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Held(BTreeMap<String, VecDeque<Outgoing>>);

impl Core {
    /// A link came up reaching `up.controllers`: for each, its Connect Record with
    /// `in_reply: true` (the host sends it on the link that came up, to the controller's
    /// destination there), then the notifications held for it (`in_reply: false`).
    #[must_use]
    pub fn link_up(&mut self, now: Now, up: LinkUp) -> Vec<Outgoing> {
        self.dm.tick(now, false);
        let mut out = Vec::new();
        for controller in up.controllers {
            let record = connect_record(up.kind.clone(), &controller, &self.endpoint_id);
            out.push(Outgoing { to: controller.clone(), record, in_reply: true });
            if let Some(queue) = self.held.0.remove(&controller) {
                log::info!("{controller}: sending {} held notification(s)", queue.len());
                out.extend(queue);
            }
        }
        out
    }

    /// The host could not send `notification` because no link towards its recipient is up:
    /// it is held until [`Core::link_up`] reaches that controller (at most [`MAX_HELD`] per
    /// controller, the oldest dropped).
    pub fn undeliverable(&mut self, notification: Outgoing) {
        let to = notification.to.clone();
        let queue = self.held.0.entry(to.clone()).or_default();
        if queue.len() >= MAX_HELD {
            queue.pop_front();
            log::warn!("{to}: too many notifications held; the oldest was dropped");
        }
        log::info!("{to} cannot be reached now; notification held");
        queue.push_back(Outgoing { in_reply: false, ..notification });
    }

    /// How many notifications are held for `controller`.
    pub fn held(&self, controller: &str) -> usize {
        self.held.0.get(controller).map_or(0, VecDeque::len)
    }

    /// The agent stops: a DisconnectRecord (no error, `reason` as its text) to each of the
    /// `reachable` controllers, and the data model persisted.
    #[must_use]
    pub fn shutdown(&mut self, reachable: Vec<String>, reason: &str) -> Vec<Outgoing> {
        let code = usp_datamodel::ErrorCode::Other(0);
        let out = reachable
            .into_iter()
            .map(|to| {
                let record = disconnect_record(&to, &self.endpoint_id, reason, code);
                Outgoing { to, record, in_reply: false }
            })
            .collect();
        if let Err(e) = self.dm.flush() {
            log::error!("cannot persist the data model at shutdown: {e}");
        }
        out
    }

    /// Runs `f` on the data model for the host's MTP links: reading the link configuration and
    /// writing link state with the areas' typed status writers (`usp_areas::typed::Writes`).
    /// This is the one way the host writes the data model while the agent runs, so it is
    /// handed the engine here rather than through [`Core::dm`]: the events `f` causes are
    /// processed before returning, and their notifications (a ValueChange of a link's Status)
    /// come back with `f`'s result. Link state is not configuration: it does not set
    /// [`Core::take_config_changed`].
    pub fn with_links<R>(
        &mut self,
        now: Now,
        f: impl FnOnce(&mut DataModel) -> R,
    ) -> (R, Vec<Outgoing>) {
        self.dm.tick(now, false);
        let mut out = Vec::new();
        self.process_events(&mut out);
        let dirty = self.config_dirty;
        let result = f(&mut self.dm);
        self.after_message(&mut out);
        self.config_dirty = dirty;
        (result, out)
    }
}
