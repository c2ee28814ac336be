//! Writing: transactions with an undo log, Set, Add and Delete, and what a commit records
//! (events and the persistence batch).

use super::DataModel;
use crate::error::{ErrorCode, UspError};
use crate::plugin::{DmEvent, PluginId, Requester};
use crate::schema::{ObjId, ParamAccess, ParamId, Storage};
use crate::store::{Change, Item};
use crate::tree::Node;
use crate::value::Value;
use std::collections::HashSet;

/// A batch of changes for one plugin: (plugin, stored rather than live, changes).
type Group = (PluginId, bool, Vec<(ParamId, Value)>);

/// The transaction in progress.
pub(crate) struct Tx {
    who: Requester,
    undo: Vec<Undo>,
    plugins: Vec<PluginId>,
}

/// One change of the engine's own state, with what is needed to take it back.
enum Undo {
    /// A stored value was overwritten.
    Value { numbers: Vec<u32>, param: ParamId, old: Value },
    /// A row was added.
    Added { table: ObjId, numbers: Vec<u32> },
    /// A row was removed (with everything below it).
    Removed { table: ObjId, numbers: Vec<u32>, node: Node },
}

impl DataModel {
    /// Starts a transaction on behalf of `who`. Every Set, Add and Delete until `commit` or
    /// `abort` belongs to it. Starting one while another is open commits the open one.
    pub fn begin(&mut self, who: Requester) {
        if self.tx.is_some() {
            log::warn!("transaction started while another was open; committing the open one");
            self.commit();
        }
        self.tx = Some(Tx { who, undo: Vec::new(), plugins: Vec::new() });
    }

    /// Makes the transaction permanent: plugins commit, events are queued, and the changes join
    /// the batch written by the next [`DataModel::flush`].
    pub fn commit(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        for p in &tx.plugins {
            self.call(*p, &tx.who, |plugin, ctx| plugin.commit(ctx));
        }
        self.record(tx.undo);
        self.apply_deferred();
    }

    /// Takes back every change of the transaction; plugins abort what they staged.
    pub fn abort(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        for undo in tx.undo.into_iter().rev() {
            self.undo(undo);
        }
        for p in &tx.plugins {
            self.call(*p, &tx.who, |plugin, ctx| plugin.abort(ctx));
        }
        self.effects.deferred.clear();
    }

    /// Checks a new value for `param` as `who` may write it: writable (7013), of the right type
    /// (7011) and within its constraints (7012). `creating` is true inside an Add, where
    /// write-once parameters and immutable keys may still be given.
    pub fn check_value(
        &self,
        who: &Requester,
        param: ParamId,
        text: &str,
        creating: bool,
    ) -> Result<Value, UspError> {
        let def = self.schema.param(param);
        let path = || format!("{}{}", self.schema.obj(def.obj).path, def.name);
        if *who != Requester::Internal {
            let writable = match def.access {
                ParamAccess::ReadOnly => false,
                ParamAccess::ReadWrite | ParamAccess::WriteOnly => creating || !def.immutable_key,
                ParamAccess::WriteOnceReadOnly => creating,
            };
            if !writable {
                return Err(UspError::new(
                    ErrorCode::ParamReadOnly,
                    format!("{} is not writable", path()),
                ));
            }
        }
        let value = def.constraints.parse(def.ty, text).map_err(|e| {
            let code =
                if e.is_type_error() { ErrorCode::InvalidType } else { ErrorCode::InvalidValue };
            UspError::new(code, format!("{}: {e}", path()))
        })?;
        // An empty Alias in an Add means "assign one" (R-ADD.5); any other must start with a
        // letter.
        if def.immutable_key
            && &*def.name == "Alias"
            && !(creating && text.is_empty())
            && !text.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return Err(UspError::new(
                ErrorCode::InvalidValue,
                format!("{}: an Alias must start with a letter", path()),
            ));
        }
        Ok(value)
    }

    /// Writes checked values into one object instance, in the current transaction. Stored
    /// parameters go through their plugin's `validate`, live ones through its `set`; a changed
    /// unique key must stay unique in its table (7025).
    pub fn set_values(
        &mut self,
        obj: ObjId,
        numbers: &[u32],
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        let who = self.tx_requester()?;
        if !self.tree.exists(&self.schema, obj, numbers) {
            return Err(UspError::no_object(self.schema.instance_path(obj, numbers)));
        }
        self.check_unique(obj, numbers, changes)?;
        let inst = self.instance(obj, numbers);
        for (plugin, stored, batch) in self.group_by_plugin(changes) {
            self.enlist(plugin);
            if stored {
                self.call(plugin, &who, |p, ctx| p.validate(ctx, &inst, &batch))?;
            } else {
                self.call(plugin, &who, |p, ctx| p.set(ctx, &inst, &batch))?;
            }
        }
        for (param, value) in changes {
            self.write_stored(numbers, *param, value.clone());
        }
        Ok(())
    }

    /// Adds a row to `table` under the parent instance `parent`, with checked initial values,
    /// in the current transaction. Missing string unique keys are assigned `cpe-<n>`. Returns the
    /// new row's instance numbers.
    pub fn add_row(
        &mut self,
        table: ObjId,
        parent: &[u32],
        values: &[(ParamId, Value)],
    ) -> Result<Vec<u32>, UspError> {
        let who = self.tx_requester()?;
        let def = self.schema.obj(table);
        if !def.multi {
            return Err(UspError::new(
                ErrorCode::NotATable,
                format!("{} is not a table", def.path),
            ));
        }
        if who != Requester::Internal && !def.access.can_add() {
            return Err(UspError::new(
                ErrorCode::ObjectNotCreatable,
                format!("{} does not allow Add", def.path),
            ));
        }
        let Some(parent) = parent.get(..self.schema.depth(table) - 1) else {
            return Err(UspError::invalid_path(self.schema.instance_path(table, parent)));
        };
        let Some(rows) = self.tree.table_mut(&self.schema, table, parent) else {
            return Err(UspError::no_object(self.schema.instance_path(table, parent)));
        };
        let n = rows.allocate();
        self.insert_row(table, parent, n, values)
    }

    /// Adds a row with a chosen instance number (defaults file, stored state); fails with 7025
    /// if the number is taken.
    pub fn add_row_numbered(
        &mut self,
        table: ObjId,
        numbers: &[u32],
        values: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        self.tx_requester()?;
        let depth = self.schema.depth(table);
        let (Some(&n), true) = (numbers.get(depth - 1), numbers.len() == depth) else {
            return Err(UspError::invalid_path(self.schema.instance_path(table, numbers)));
        };
        let parent = &numbers[..depth - 1];
        let Some(rows) = self.tree.table_mut(&self.schema, table, parent) else {
            return Err(UspError::no_object(self.schema.instance_path(table, parent)));
        };
        if rows.rows.contains_key(&n) {
            return Err(UspError::new(ErrorCode::UniqueKeyConflict, "instance number in use"));
        }
        rows.next = rows.next.max(n.saturating_add(1));
        self.insert_row(table, parent, n, values).map(|_| ())
    }

    fn insert_row(
        &mut self,
        table: ObjId,
        parent: &[u32],
        n: u32,
        values: &[(ParamId, Value)],
    ) -> Result<Vec<u32>, UspError> {
        let mark = self.tx.as_ref().map_or(0, |t| t.undo.len());
        let result = self.fill_row(table, parent, n, values);
        if result.is_err() {
            // A failed Add leaves nothing behind, even if the transaction goes on
            // (`allow_partial`).
            let undone = self.tx.as_mut().map(|t| t.undo.split_off(mark)).unwrap_or_default();
            for undo in undone.into_iter().rev() {
                self.undo(undo);
            }
        }
        result
    }

    fn fill_row(
        &mut self,
        table: ObjId,
        parent: &[u32],
        n: u32,
        values: &[(ParamId, Value)],
    ) -> Result<Vec<u32>, UspError> {
        let who = self.tx_requester()?;
        let mut numbers = parent.to_vec();
        numbers.push(n);
        let node = Node::new(&self.schema, table);
        self.tree.insert_row(&self.schema, table, parent, n, node);
        self.push_undo(Undo::Added { table, numbers: numbers.clone() });
        for (param, value) in values {
            if let Storage::Stored(_) = self.schema.param(*param).storage {
                self.tree.set_stored(&self.schema, &numbers, *param, value.clone());
            }
        }
        self.assign_keys(table, &numbers);
        self.check_unique(table, &numbers, &[])?;
        let inst = self.instance(table, &numbers);
        let plugin = self.schema.obj(table).plugin;
        self.enlist(plugin);
        let key = self.call(plugin, &who, |p, ctx| p.add(ctx, &inst, values))?;
        if let Some(key) = key {
            let key: Box<str> = key.into();
            if let Some(rows) = self.tree.table_mut(&self.schema, table, parent) {
                rows.by_key.insert(key.clone(), n);
                if let Some(row) = rows.rows.get_mut(&n) {
                    row.key = Some(key);
                }
            }
        }
        let live: Vec<(ParamId, Value)> = values
            .iter()
            .filter(|(p, _)| self.schema.param(*p).storage == Storage::Live)
            .cloned()
            .collect();
        if !live.is_empty() {
            let inst = self.instance(table, &numbers);
            for (plugin, _, batch) in self.group_by_plugin(&live) {
                self.enlist(plugin);
                self.call(plugin, &who, |p, ctx| p.set(ctx, &inst, &batch))?;
            }
        }
        Ok(numbers)
    }

    /// Deletes the row `obj`/`numbers` and everything below it, in the current transaction.
    pub fn delete_row(&mut self, obj: ObjId, numbers: &[u32]) -> Result<(), UspError> {
        let who = self.tx_requester()?;
        let def = self.schema.obj(obj);
        if !def.multi || numbers.len() != self.schema.depth(obj) {
            return Err(UspError::new(
                ErrorCode::NotATable,
                format!("{} is not a table row", def.path),
            ));
        }
        if who != Requester::Internal && !def.access.can_delete() {
            return Err(UspError::new(
                ErrorCode::ObjectNotDeletable,
                format!("{} does not allow Delete", def.path),
            ));
        }
        if !self.tree.exists(&self.schema, obj, numbers) {
            return Err(UspError::no_object(self.schema.instance_path(obj, numbers)));
        }
        let inst = self.instance(obj, numbers);
        let plugin = def.plugin;
        self.enlist(plugin);
        self.call(plugin, &who, |p, ctx| p.delete(ctx, &inst))?;
        let (parent, n) = numbers.split_at(numbers.len() - 1);
        if let Some(node) = self.tree.remove_row(&self.schema, obj, parent, n[0]) {
            self.push_undo(Undo::Removed { table: obj, numbers: numbers.to_vec(), node });
        }
        Ok(())
    }

    fn tx_requester(&self) -> Result<Requester, UspError> {
        self.tx
            .as_ref()
            .map(|t| t.who.clone())
            .ok_or_else(|| UspError::internal("write outside a transaction"))
    }

    fn push_undo(&mut self, undo: Undo) {
        if let Some(tx) = self.tx.as_mut() {
            tx.undo.push(undo);
        }
    }

    fn enlist(&mut self, plugin: PluginId) {
        if let Some(tx) = self.tx.as_mut() {
            if !tx.plugins.contains(&plugin) {
                tx.plugins.push(plugin);
            }
        }
    }

    /// Splits changes into batches per (plugin, stored-or-live), keeping order.
    fn group_by_plugin(&self, changes: &[(ParamId, Value)]) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for (param, value) in changes {
            let def = self.schema.param(*param);
            let stored = matches!(def.storage, Storage::Stored(_));
            match groups.iter_mut().find(|(p, s, _)| *p == def.plugin && *s == stored) {
                Some((_, _, batch)) => batch.push((*param, value.clone())),
                None => groups.push((def.plugin, stored, vec![(*param, value.clone())])),
            }
        }
        groups
    }

    fn write_stored(&mut self, numbers: &[u32], param: ParamId, value: Value) {
        match self.tree.stored(&self.schema, numbers, param) {
            Some(current) if *current != value => {}
            _ => return,
        }
        if let Some(old) = self.tree.set_stored(&self.schema, numbers, param, value) {
            self.push_undo(Undo::Value { numbers: numbers.to_vec(), param, old });
        }
    }

    /// Gives every empty string unique key of a new row the value `cpe-<n>` (made unique).
    fn assign_keys(&mut self, table: ObjId, numbers: &[u32]) {
        let n = numbers.last().copied().unwrap_or(0);
        for param in self.key_params(table) {
            // Only keys a controller could have given are the agent's to fill (R-ADD.5); keys
            // the agent sets itself (read-only ones, enumerations) are the plugin's business.
            let def = self.schema.param(param);
            let controller_key =
                def.access != ParamAccess::ReadOnly && def.constraints.enumeration.is_none();
            let empty = matches!(self.tree.stored(&self.schema, numbers, param), Some(Value::String(s)) if s.is_empty());
            if !controller_key || !empty {
                continue;
            }
            let mut candidate = format!("cpe-{n}");
            let mut k = 1;
            while self.key_taken(table, numbers, param, &candidate) {
                k += 1;
                candidate = format!("cpe-{n}-{k}");
            }
            self.tree.set_stored(&self.schema, numbers, param, Value::String(candidate.into()));
        }
    }

    /// True when another row of the table has `text` as its value of `param` (an index lookup:
    /// every assignable key is indexed on its own).
    fn key_taken(&self, table: ObjId, numbers: &[u32], param: ParamId, text: &str) -> bool {
        let (parent, own) = numbers.split_at(numbers.len() - 1);
        let Storage::Stored(slot) = self.schema.param(param).storage else { return false };
        let value = Value::String(text.into());
        self.tree.key_used(&self.schema, table, parent, own[0], &[slot], &[&value])
    }

    /// Fails with 7025 when, after `changes`, a unique-key set of the row's table has the same
    /// values as in another row under the same parent. Only sets made of stored keys only are
    /// compared.
    fn check_unique(
        &self,
        obj: ObjId,
        numbers: &[u32],
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        let def = self.schema.obj(obj);
        if !def.multi || def.unique_keys.is_empty() {
            return Ok(());
        }
        let (parent, own) = numbers.split_at(numbers.len() - 1);
        let Some(rows) = self.tree.table(&self.schema, obj, parent) else { return Ok(()) };
        let Some(this) = rows.rows.get(&own[0]) else { return Ok(()) };
        for set in &def.unique_keys {
            if !changes.is_empty() && !set.iter().any(|k| changes.iter().any(|(p, _)| p == k)) {
                continue;
            }
            let mut slots = Vec::with_capacity(set.len());
            let mut mine = Vec::with_capacity(set.len());
            for key in set {
                let Storage::Stored(slot) = self.schema.param(*key).storage else { break };
                let new = changes.iter().find(|(p, _)| p == key).map(|(_, v)| v);
                let Some(v) = new.or_else(|| this.values.get(slot as usize)) else { break };
                slots.push(slot);
                mine.push(v);
            }
            // A set with a live key is the plugin's to enforce: comparing only its stored part
            // would report conflicts between rows that differ in the live part.
            if slots.is_empty() || slots.len() != set.len() {
                continue;
            }
            if self.tree.key_used(&self.schema, obj, parent, own[0], &slots, &mine) {
                let names: Vec<&str> = set.iter().map(|k| &*self.schema.param(*k).name).collect();
                return Err(UspError::new(
                    ErrorCode::UniqueKeyConflict,
                    format!("another instance of {} has the same {}", def.path, names.join(", ")),
                ));
            }
        }
        Ok(())
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Value { numbers, param, old } => {
                self.tree.set_stored(&self.schema, &numbers, param, old);
            }
            Undo::Added { table, numbers } => {
                let (parent, n) = numbers.split_at(numbers.len() - 1);
                self.tree.remove_row(&self.schema, table, parent, n[0]);
            }
            Undo::Removed { table, numbers, node } => {
                // The rows below come back with their own tables' key indexes.
                let (parent, n) = numbers.split_at(numbers.len() - 1);
                self.tree.insert_row(&self.schema, table, parent, n[0], node);
            }
        }
    }

    /// Turns a committed undo log into events and persistence changes.
    fn record(&mut self, undo: Vec<Undo>) {
        for u in &undo {
            let obj = match u {
                Undo::Value { param, .. } => self.schema.param(*param).obj,
                Undo::Added { table, .. } | Undo::Removed { table, .. } => *table,
            };
            self.count_change(obj);
        }
        // Rows this transaction added (still there or not): what happens inside them is
        // reported with their creation, or not at all if they are gone again.
        let added: HashSet<(ObjId, &[u32])> = undo
            .iter()
            .filter_map(|u| match u {
                Undo::Added { table, numbers } => Some((*table, &numbers[..])),
                _ => None,
            })
            .collect();
        let schema = &self.schema;
        let in_added = |obj: ObjId, numbers: &[u32]| {
            !added.is_empty()
                && schema
                    .chain(obj)
                    .iter()
                    .enumerate()
                    .take(numbers.len())
                    .any(|(i, t)| added.contains(&(*t, &numbers[..=i])))
        };
        let mut seen: HashSet<(&[u32], ParamId)> = HashSet::new();
        // What to report, in log order.
        enum Rec<'a> {
            Created(ObjId, &'a [u32]),
            Removed(ObjId, &'a [u32], &'a Node),
            Changed(&'a [u32], ParamId, &'a Value),
        }
        let mut recs: Vec<Rec> = Vec::new();
        for u in &undo {
            match u {
                Undo::Added { table, numbers } => {
                    if self.tree.exists(schema, *table, numbers) {
                        recs.push(Rec::Created(*table, numbers));
                    }
                }
                Undo::Removed { table, numbers, node } => {
                    if !in_added(*table, numbers) {
                        recs.push(Rec::Removed(*table, numbers, node));
                    }
                }
                Undo::Value { numbers, param, old } => {
                    let obj = schema.param(*param).obj;
                    // The first entry of a parameter holds its value before the transaction.
                    if !in_added(obj, numbers) && seen.insert((&numbers[..], *param)) {
                        recs.push(Rec::Changed(numbers, *param, old));
                    }
                }
            }
        }
        let mut events: Vec<DmEvent> = Vec::new();
        for rec in recs {
            match rec {
                Rec::Created(table, numbers) => {
                    self.persist_row(table, numbers);
                    let keys = self.unique_key_values(table, numbers);
                    events.push(DmEvent::ObjectCreated {
                        obj: table,
                        numbers: numbers.to_vec(),
                        keys,
                    });
                }
                Rec::Removed(table, numbers, node) => {
                    let path = self.schema.instance_path(table, numbers);
                    if self.persists(table) {
                        self.pending.push(Change::RemoveRow(path));
                    }
                    self.deleted_events(table, numbers, node, &mut events);
                }
                Rec::Changed(numbers, param, old) => {
                    let def = self.schema.param(param);
                    let Some(current) = self.tree.stored(&self.schema, numbers, param).cloned()
                    else {
                        continue;
                    };
                    if current == *old {
                        continue;
                    }
                    let path =
                        format!("{}{}", self.schema.instance_path(def.obj, numbers), def.name);
                    if def.persist && self.persists(def.obj) {
                        self.pending.push(Change::Put(Item::Value {
                            path: path.clone(),
                            value: current.to_string(),
                        }));
                    }
                    if def.value_change {
                        let (obj, numbers) = (def.obj, numbers.to_vec());
                        events.push(DmEvent::ValueChanged { obj, numbers, param, value: current });
                    }
                }
            }
        }
        self.effects.events.extend(events);
    }

    /// True when instances of `obj` are persisted (every table on its path persists rows).
    pub(crate) fn persists(&self, obj: ObjId) -> bool {
        self.schema.chain(obj).iter().all(|t| self.schema.obj(*t).persist_rows)
    }

    /// Queues the row, its table's counter and its persistent values for the store.
    pub(crate) fn persist_row(&mut self, table: ObjId, numbers: &[u32]) {
        if !self.persists(table) {
            return;
        }
        let path = self.schema.instance_path(table, numbers);
        let (parent, _) = numbers.split_at(numbers.len() - 1);
        let Some(rows) = self.tree.table(&self.schema, table, parent) else { return };
        let next = rows.next;
        let key = rows
            .rows
            .get(&numbers[numbers.len() - 1])
            .and_then(|r| r.key.as_deref().map(str::to_owned));
        self.pending.push(Change::Put(Item::Row { path, key }));
        let counter = self.schema.instance_path(table, parent);
        self.pending.push(Change::Put(Item::Counter { path: counter, next }));
        for param in self.schema.obj(table).slot_params.clone() {
            let def = self.schema.param(param);
            if !def.persist {
                continue;
            }
            if let Some(v) = self.tree.stored(&self.schema, numbers, param) {
                let path = format!("{}{}", self.schema.instance_path(def.obj, numbers), def.name);
                self.pending.push(Change::Put(Item::Value { path, value: v.to_string() }));
            }
        }
    }

    /// ObjectDeletion events for a removed row and every row below it (children first).
    pub(crate) fn deleted_events(
        &self,
        table: ObjId,
        numbers: &[u32],
        node: &Node,
        out: &mut Vec<DmEvent>,
    ) {
        let tables = &self.schema.obj(table).slot_tables;
        for (slot, rows) in node.tables.iter().enumerate() {
            let Some(&child) = tables.get(slot) else { continue };
            for (n, row) in &rows.rows {
                let mut sub = numbers.to_vec();
                sub.push(*n);
                self.deleted_events(child, &sub, row, out);
            }
        }
        out.push(DmEvent::ObjectDeleted { obj: table, numbers: numbers.to_vec() });
    }
}
