//! [`DataModel`]: the instantiated data model, owned by one thread, and every operation the
//! USP message core performs on it.
//!
//! Reads resolve a typed [`Path`](crate::path::Path) into [`Target`]s and fetch values in one
//! batch per object instance. Writes happen inside a transaction (`begin` … `commit`/`abort`):
//! the engine keeps an undo log of its own changes and calls `commit`/`abort` on every plugin
//! that took part, so an `allow_partial=false` message is all or nothing. Committed changes
//! become [`DmEvent`]s (ValueChange, ObjectCreation, ObjectDeletion) and a persistence batch that
//! [`DataModel::flush`] writes to the [`Store`] once per message.

mod access;
mod follow;
mod load;
mod matches;
mod meta;
mod operate;
mod read;
mod resolve;
mod sync;
mod watch;
mod write;

#[cfg(test)]
mod tests;

pub use follow::MAX_FOLLOWED;
pub use read::Walked;
pub use resolve::{Item, Target};
pub use watch::DEFAULT_POLL_INTERVAL;

use crate::plugin::{Ctx, DmEvent, Effects, Now, Plugin, PluginId, Requester, Wake};
use crate::schema::{Schema, SchemaBuilder, SchemaError};
use crate::store::{Change, Store, StoreError};
use crate::tree::Tree;
use crate::value::DateTime;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Why a data model could not be built.
#[derive(Debug)]
pub enum BuildError {
    /// A plugin's declarations are inconsistent.
    Schema(SchemaError),
    /// The store could not be read.
    Store(StoreError),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Schema(e) => write!(f, "data model declaration error: {e}"),
            BuildError::Store(e) => write!(f, "cannot load stored state: {e}"),
        }
    }
}

impl std::error::Error for BuildError {}

/// The data model: schema, stored state, plugins and the transaction in progress.
pub struct DataModel {
    schema: Schema,
    tree: Tree,
    plugins: Vec<Box<dyn Plugin>>,
    store: Box<dyn Store>,
    now: Now,
    waker: Option<Arc<dyn Wake>>,
    effects: Effects,
    tx: Option<write::Tx>,
    pending: Vec<Change>,
    next_handle: u64,
    running: Vec<operate::Running>,
    watches: watch::Watches,
    /// The agent's private key/value items (see [`crate::store::Item::Meta`]).
    meta: std::collections::BTreeMap<String, String>,
    /// Per object (by id): how many committed transactions changed its instances.
    changes: Vec<u64>,
    /// The compiled access rules (see [`DataModel::access`]).
    acl: access::AclCache,
}

impl fmt::Debug for DataModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataModel").field("objects", &self.schema.object_count()).finish()
    }
}

impl DataModel {
    /// Builds the data model: registers every plugin in order, freezes the schema, loads the
    /// stored state, then starts the plugins.
    pub fn new(
        mut plugins: Vec<Box<dyn Plugin>>,
        store: Box<dyn Store>,
        now: Now,
    ) -> Result<DataModel, BuildError> {
        let mut builder = SchemaBuilder::new();
        for (i, plugin) in plugins.iter_mut().enumerate() {
            builder.set_plugin(PluginId(i as u16));
            plugin.register(&mut builder);
        }
        let schema = builder.finish().map_err(BuildError::Schema)?;
        let tree = Tree::new(&schema);
        let changes = vec![0; schema.object_count()];
        let acl = access::AclCache::new(&schema);
        let mut dm = DataModel {
            schema,
            tree,
            plugins,
            store,
            now,
            waker: None,
            effects: Effects::default(),
            tx: None,
            pending: Vec::new(),
            next_handle: 1,
            running: Vec::new(),
            watches: watch::Watches::default(),
            meta: std::collections::BTreeMap::new(),
            changes,
            acl,
        };
        dm.load().map_err(BuildError::Store)?;
        for i in 0..dm.plugins.len() {
            dm.call(PluginId(i as u16), &Requester::Internal, |p, ctx| p.start(ctx));
        }
        dm.apply_deferred();
        Ok(dm)
    }

    /// Gives the handle other threads use to wake the owner thread (see [`Wake`]).
    pub fn set_waker(&mut self, waker: Arc<dyn Wake>) {
        self.waker = Some(waker);
    }

    /// The supported data model.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The time last passed in.
    pub fn now(&self) -> Now {
        self.now
    }

    /// Advances the clock and polls the plugins whose wake time has come (all of them when
    /// `woken` is set, after a [`Wake`]).
    pub fn tick(&mut self, now: Now, woken: bool) {
        self.now = now;
        self.poll_watches();
        let due = self.effects.wake_at.is_some_and(|w| w <= now.uptime);
        if !(due || woken) {
            return;
        }
        self.effects.wake_at = None;
        for i in 0..self.plugins.len() {
            self.call(PluginId(i as u16), &Requester::Internal, |p, ctx| p.poll(ctx));
        }
        self.apply_deferred();
    }

    /// When the engine next needs [`DataModel::tick`], as uptime.
    pub fn next_wake(&self) -> Option<Duration> {
        match (self.effects.wake_at, self.watches.next_poll()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether events wait to be taken by [`DataModel::drain_events`].
    pub fn has_events(&self) -> bool {
        !self.effects.events.is_empty()
    }

    /// Takes the events produced since the last call (committed changes, plugin pushes,
    /// completed operations).
    pub fn drain_events(&mut self) -> Vec<DmEvent> {
        let events = std::mem::take(&mut self.effects.events);
        self.forget_completed(&events);
        events
    }

    /// Writes the committed changes to the store as one atomic batch. On failure the changes are
    /// kept in memory (and retried by the next flush) and the error is returned for logging.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.store.write(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// Runs `f` on plugin `id` with a context for `requester`.
    fn call<R>(
        &mut self,
        id: PluginId,
        requester: &Requester,
        f: impl FnOnce(&mut dyn Plugin, &mut Ctx) -> R,
    ) -> R {
        let mut ctx = Ctx {
            schema: &self.schema,
            tree: &self.tree,
            requester,
            now: self.now,
            waker: self.waker.as_ref(),
            effects: &mut self.effects,
        };
        f(self.plugins[id.0 as usize].as_mut(), &mut ctx)
    }

    /// A fresh operation handle for an asynchronous command.
    fn new_handle(&mut self) -> crate::plugin::OpHandle {
        self.next_handle += 1;
        crate::plugin::OpHandle(self.next_handle - 1)
    }
}

/// `Now` at uptime zero with an unknown wall clock, for tests and tools.
impl Default for Now {
    fn default() -> Now {
        Now { uptime: Duration::ZERO, wall: DateTime::UNKNOWN }
    }
}
