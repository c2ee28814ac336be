//! The agent's private key/value items: state of the message core that is no parameter (the
//! cause of the next `Boot!`, notifications waiting for a NotifyResp), loaded with the data
//! model and written in the same batches (see [`crate::store::Item::Meta`]).
//!
//! The engine never interprets them; it only keeps them in memory and queues their changes for
//! the next [`DataModel::flush`].

use super::DataModel;
use crate::store::{Change, Item};

impl DataModel {
    /// The private item `key`, as loaded or last set.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta.get(key).map(String::as_str)
    }

    /// The private items whose key starts with `prefix`, in key order.
    pub fn meta_with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.meta
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets the private item `key`; it is written by the next [`DataModel::flush`]. Setting
    /// the value it already has writes nothing.
    pub fn set_meta(&mut self, key: &str, value: &str) {
        if self.meta.get(key).is_some_and(|v| v == value) {
            return;
        }
        self.meta.insert(key.to_owned(), value.to_owned());
        let item = Item::Meta { key: key.to_owned(), value: value.to_owned() };
        self.pending.push(Change::Put(item));
    }

    /// Removes the private item `key` (written by the next [`DataModel::flush`]); nothing
    /// happens when it does not exist.
    pub fn remove_meta(&mut self, key: &str) {
        if self.meta.remove(key).is_some() {
            self.pending.push(Change::RemoveMeta(key.to_owned()));
        }
    }
}
