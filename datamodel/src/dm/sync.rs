//! External rows and deferred plugin requests.
//!
//! An external table is re-enumerated by its plugin each time a path crosses it; the engine
//! maps every external key to an instance number for good (persisted, never reused) and reports
//! rows that appeared or vanished as ObjectCreation / ObjectDeletion, so creation and deletion
//! notifications work for tables the agent does not own, without polling of our own.

use super::DataModel;
use crate::plugin::{Deferred, DmEvent, Requester};
use crate::schema::{ObjId, Rows};
use crate::store::Change;
use crate::tree::Node;
use std::collections::HashSet;

/// Deferred requests may cause more; this bounds the rounds (a plugin loop ends with a log).
const MAX_DEFERRED_ROUNDS: usize = 16;

impl DataModel {
    /// Re-enumerates the external table `table` under the parent named by `numbers`.
    pub(crate) fn sync_rows(&mut self, table: ObjId, numbers: &[u32]) {
        let def = self.schema.obj(table);
        if def.rows != Rows::External {
            return;
        }
        let depth = self.schema.depth(table);
        if numbers.len() + 1 < depth {
            return;
        }
        let parent_numbers = &numbers[..depth - 1];
        if self.tree.table(&self.schema, table, parent_numbers).is_none() {
            return;
        }
        let parent_obj = def.parent.unwrap_or(ObjId::ROOT);
        let parent = self.instance(parent_obj, parent_numbers);
        let plugin = def.plugin;
        let keys =
            match self.call(plugin, &Requester::Internal, |p, ctx| p.list(ctx, table, &parent)) {
                Ok(keys) => keys,
                Err(e) => {
                    log::warn!(
                        "listing {} failed: {e}",
                        self.schema.instance_path(table, parent_numbers)
                    );
                    return;
                }
            };
        self.apply_listing(table, parent_numbers, keys);
    }

    /// Brings the rows of an external table in line with the plugin's current keys.
    fn apply_listing(&mut self, table: ObjId, parent: &[u32], keys: Vec<String>) {
        let persist = self.persists(table);
        let schema = &self.schema;
        let Some((rows, index)) = self.tree.table_keys_mut(schema, table, parent) else { return };
        let first = !rows.listed;
        rows.listed = true;
        let wanted: HashSet<&str> = keys.iter().map(String::as_str).collect();
        let gone: Vec<u32> =
            rows.by_key.iter().filter(|(k, _)| !wanted.contains(&***k)).map(|(_, n)| *n).collect();
        let mut created = Vec::new();
        for key in &keys {
            if rows.by_key.contains_key(key.as_str()) {
                continue;
            }
            let n = rows.allocate();
            let mut node = Node::new(schema, table);
            node.key = Some(key.as_str().into());
            index.insert(rows, n, node);
            created.push(n);
        }
        let mut removed = Vec::new();
        for n in gone {
            if let Some(node) = index.remove(rows, n) {
                removed.push((n, node));
            }
        }
        let mut events = Vec::new();
        for (n, node) in removed {
            let mut numbers = parent.to_vec();
            numbers.push(n);
            if persist {
                self.pending.push(Change::RemoveRow(self.schema.instance_path(table, &numbers)));
            }
            if !first {
                self.deleted_events(table, &numbers, &node, &mut events);
            }
        }
        for n in created {
            let mut numbers = parent.to_vec();
            numbers.push(n);
            self.persist_row(table, &numbers);
            if !first {
                let keys = self.unique_key_values(table, &numbers);
                events.push(DmEvent::ObjectCreated { obj: table, numbers, keys });
            }
        }
        self.effects.events.extend(events);
    }

    /// Re-enumerates an external table under every parent instance.
    fn resync_all(&mut self, table: ObjId) {
        let chain = self.schema.chain(table).to_vec();
        let mut parents: Vec<Vec<u32>> = vec![Vec::new()];
        for t in &chain[..chain.len().saturating_sub(1)] {
            let mut next = Vec::new();
            for p in parents {
                for n in self.row_numbers(*t, &p) {
                    let mut numbers = p.clone();
                    numbers.push(n);
                    next.push(numbers);
                }
            }
            parents = next;
        }
        for p in parents {
            self.sync_rows(table, &p);
        }
    }

    /// Carries out what plugins asked for through their context.
    pub(crate) fn apply_deferred(&mut self) {
        for _ in 0..MAX_DEFERRED_ROUNDS {
            let deferred = std::mem::take(&mut self.effects.deferred);
            if deferred.is_empty() {
                return;
            }
            let own_tx = self.tx.is_none();
            if own_tx {
                self.begin(Requester::Internal);
            }
            for d in deferred {
                let result = match d {
                    Deferred::Set(inst, param, value) => {
                        self.set_values(inst.obj, &inst.numbers, &[(param, value)])
                    }
                    Deferred::Delete(inst) => self.delete_row(inst.obj, &inst.numbers),
                    Deferred::Cancel(request) => self.cancel_request(&request),
                    Deferred::Resync(table) => {
                        self.resync_all(table);
                        Ok(())
                    }
                };
                if let Err(e) = result {
                    log::warn!("a plugin's deferred change failed: {e}");
                }
            }
            if own_tx {
                self.commit();
            }
        }
        log::error!("plugins keep deferring changes; giving up after {MAX_DEFERRED_ROUNDS} rounds");
        self.effects.deferred.clear();
    }
}
