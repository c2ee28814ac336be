//! Persistence: what the engine asks of a storage backend, and an in-memory backend.
//!
//! The engine keeps the whole instantiated data model in memory and writes only changes, as a
//! batch per USP message, through [`Store::write`]; a backend must apply a batch atomically
//! (all of it or none). Items are addressed by instance paths in USP syntax
//! (`Device.LocalAgent.Controller.2.EndpointID`), so a store stays readable and survives schema
//! changes: items whose path the schema no longer knows are skipped with a log line.
//!
//! Besides the data model, a store keeps the agent's own small key/value items
//! ([`Item::Meta`]): state of the message core that is no parameter (the cause of the next
//! `Boot!`, notifications waiting for their NotifyResp). They share the batches, so a change of
//! the data model and of the core's state are written together.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// One persisted item, as loaded at start-up and as written in a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The value of a persistent parameter (`Device.X.1.Name` = canonical text).
    Value {
        /// The parameter's instance path.
        path: String,
        /// Its canonical text.
        value: String,
    },
    /// An object instance exists (`Device.X.3.`), with its external key for rows that live
    /// outside the agent.
    Row {
        /// The instance path, ending with `.`.
        path: String,
        /// The external key of an external row.
        key: Option<String>,
    },
    /// The next instance number to assign in a table (`Device.X.` under one parent instance).
    Counter {
        /// The table's instance path, ending with `.`.
        path: String,
        /// The next number.
        next: u32,
    },
    /// A private key/value item of the agent, outside the data model (see the module doc).
    /// Keys never start with `Device.`.
    Meta {
        /// The key (`boot/cause`, `notify/<msg_id>`).
        key: String,
        /// The value text.
        value: String,
    },
}

impl Item {
    /// True for the agent's private items ([`Item::Meta`]), false for the data model's.
    pub fn is_meta(&self) -> bool {
        matches!(self, Item::Meta { .. })
    }
}

/// A change in a batch: an item written, or an instance removed with everything below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Write (insert or replace) an item.
    Put(Item),
    /// Remove the instance at this path (ending with `.`) and every item below it; private
    /// items ([`Item::Meta`]) are never touched.
    RemoveRow(String),
    /// Remove the private item with this key.
    RemoveMeta(String),
}

/// A failure of the storage backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage error: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// A storage backend (SQLite in the agent, [`MemStore`] in tests and the lab).
pub trait Store {
    /// Every stored item, in any order.
    fn load(&mut self) -> Result<Vec<Item>, StoreError>;
    /// Applies a batch atomically: after a crash either all of it or none of it is stored.
    fn write(&mut self, batch: &[Change]) -> Result<(), StoreError>;
}

/// An in-memory store. Clones share the same contents, so a test can drop a data model and
/// build a new one on the same store to simulate a restart.
#[derive(Clone, Debug, Default)]
pub struct MemStore {
    items: Rc<RefCell<BTreeMap<String, Item>>>,
}

impl MemStore {
    /// An empty store.
    pub fn new() -> MemStore {
        MemStore::default()
    }
    /// Number of stored items.
    pub fn len(&self) -> usize {
        self.items.borrow().len()
    }
    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.items.borrow().is_empty()
    }
    /// The stored value text of the parameter at `path`, if any.
    pub fn value(&self, path: &str) -> Option<String> {
        match self.items.borrow().get(&format!("v {path}")) {
            Some(Item::Value { value, .. }) => Some(value.clone()),
            _ => None,
        }
    }
    /// True when the instance at `path` (ending with `.`) is stored.
    pub fn has_row(&self, path: &str) -> bool {
        self.items.borrow().contains_key(&format!("r {path}"))
    }
    /// The keys of the stored private items starting with `prefix`, in order.
    pub fn meta_keys_with(&self, prefix: &str) -> Vec<String> {
        let items = self.items.borrow();
        items
            .keys()
            .filter_map(|k| k.strip_prefix("m "))
            .filter(|k| k.starts_with(prefix))
            .map(str::to_owned)
            .collect()
    }
    /// The private item `key`, if stored.
    pub fn meta(&self, key: &str) -> Option<String> {
        match self.items.borrow().get(&format!("m {key}")) {
            Some(Item::Meta { value, .. }) => Some(value.clone()),
            _ => None,
        }
    }
}

fn item_key(item: &Item) -> String {
    match item {
        Item::Value { path, .. } => format!("v {path}"),
        Item::Row { path, .. } => format!("r {path}"),
        Item::Counter { path, .. } => format!("c {path}"),
        Item::Meta { key, .. } => format!("m {key}"),
    }
}

impl Store for MemStore {
    fn load(&mut self) -> Result<Vec<Item>, StoreError> {
        Ok(self.items.borrow().values().cloned().collect())
    }

    fn write(&mut self, batch: &[Change]) -> Result<(), StoreError> {
        let mut items = self.items.borrow_mut();
        for change in batch {
            match change {
                Change::Put(item) => {
                    items.insert(item_key(item), item.clone());
                }
                Change::RemoveRow(prefix) => {
                    items
                        .retain(|k, _| k.starts_with("m ") || !k[2..].starts_with(prefix.as_str()));
                }
                Change::RemoveMeta(key) => {
                    items.remove(&format!("m {key}"));
                }
            }
        }
        Ok(())
    }
}

/// A store that keeps nothing and starts empty: for benchmarks of the engine's own cost, and
/// for hosts that persist nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullStore;

impl Store for NullStore {
    fn load(&mut self) -> Result<Vec<Item>, StoreError> {
        Ok(Vec::new())
    }

    fn write(&mut self, _batch: &[Change]) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_row_removes_everything_below_only() {
        let mut s = MemStore::new();
        let put = |p: &str| Change::Put(Item::Value { path: p.into(), value: "x".into() });
        s.write(&[
            Change::Put(Item::Row { path: "Device.A.1.".into(), key: None }),
            put("Device.A.1.Name"),
            put("Device.A.10.Name"),
            Change::Put(Item::Counter { path: "Device.A.".into(), next: 11 }),
        ])
        .expect("write");
        s.write(&[Change::RemoveRow("Device.A.1.".into())]).expect("write");
        assert!(!s.has_row("Device.A.1."));
        assert_eq!(s.value("Device.A.1.Name"), None);
        assert_eq!(s.value("Device.A.10.Name").as_deref(), Some("x"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn meta_items_are_kept_apart_from_rows() {
        let mut s = MemStore::new();
        let meta = |k: &str, v: &str| Change::Put(Item::Meta { key: k.into(), value: v.into() });
        s.write(&[meta("Device.A.1.x", "odd key"), meta("boot/cause", "RemoteReboot")])
            .expect("write");
        s.write(&[Change::RemoveRow("Device.A.".into()), Change::RemoveRow(String::new())])
            .expect("write");
        assert_eq!(s.meta("boot/cause").as_deref(), Some("RemoteReboot"));
        assert_eq!(s.meta("Device.A.1.x").as_deref(), Some("odd key"), "never removed as a row");
        s.write(&[Change::RemoveMeta("boot/cause".into())]).expect("write");
        assert_eq!(s.meta("boot/cause"), None);
        assert_eq!(s.meta_keys_with("Device."), ["Device.A.1.x"]);
        assert!(s.load().expect("load").iter().all(Item::is_meta));
    }
}
