//! Start-up: loading the stored state, and writes addressed by plain instance paths (the
//! factory-reset file, tools).

use super::DataModel;
use crate::error::{ErrorCode, UspError};
use crate::path::{Path, Segment, Tail};
use crate::plugin::Requester;
use crate::schema::{ObjId, Storage};
use crate::store::{Item, StoreError};
use crate::tree::Node;

impl DataModel {
    /// Rebuilds the instances and values from the store. Items the schema does not know (an
    /// older or newer agent wrote them) are skipped with a warning.
    pub(crate) fn load(&mut self) -> Result<(), StoreError> {
        let mut items = self.store.load()?;
        // Rows first, parents before children; then counters; then values.
        items.sort_by_key(|item| match item {
            Item::Row { path, .. } => (0, path.matches('.').count()),
            Item::Counter { .. } => (1, 0),
            Item::Value { .. } | Item::Meta { .. } => (2, 0),
        });
        for item in items {
            if !self.load_item(&item) {
                log::warn!("ignoring stored item not in the data model: {item:?}");
            }
        }
        // Rows and values were written raw: index the unique keys once.
        self.tree.rebuild_keys(&self.schema);
        Ok(())
    }

    fn load_item(&mut self, item: &Item) -> bool {
        match item {
            Item::Meta { key, value } => {
                self.meta.insert(key.clone(), value.clone());
                true
            }
            Item::Row { path, key } => {
                let Some((table, numbers, Tail::Object)) = self.locate_text(path) else {
                    return false;
                };
                if !self.schema.obj(table).multi || numbers.len() != self.schema.depth(table) {
                    return false;
                }
                let (parent, n) = numbers.split_at(numbers.len() - 1);
                let node =
                    Node { key: key.as_deref().map(Box::from), ..Node::new(&self.schema, table) };
                let Some(rows) = self.tree.table_mut(&self.schema, table, parent) else {
                    return false;
                };
                if let Some(k) = &node.key {
                    rows.by_key.insert(k.clone(), n[0]);
                }
                rows.next = rows.next.max(n[0].saturating_add(1));
                rows.rows.insert(n[0], node);
                true
            }
            Item::Counter { path, next } => {
                let Some((table, numbers, Tail::Object)) = self.locate_text(path) else {
                    return false;
                };
                if !self.schema.obj(table).multi || numbers.len() + 1 != self.schema.depth(table) {
                    return false;
                }
                let Some(rows) = self.tree.table_mut(&self.schema, table, &numbers) else {
                    return false;
                };
                rows.next = rows.next.max(*next);
                true
            }
            Item::Value { path, value } => {
                let Some((obj, numbers, Tail::Param(name))) = self.locate_text(path) else {
                    return false;
                };
                let Some(param) = self.schema.param_by_name(obj, &name) else { return false };
                let def = self.schema.param(param);
                if !matches!(def.storage, Storage::Stored(_)) || !def.persist {
                    return false;
                }
                let parsed = match def.constraints.parse(def.ty, value) {
                    Ok(v) => v,
                    Err(e) => {
                        log::warn!("stored value of {path} is invalid ({e}); using the default");
                        return true;
                    }
                };
                match self.tree.stored_mut_unindexed(&self.schema, &numbers, param) {
                    Some(slot) => {
                        *slot = parsed;
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Maps a path made of names and instance numbers only to its object, numbers and tail.
    pub fn locate(&self, path: &Path) -> Option<(ObjId, Vec<u32>)> {
        let mut segments = path.segments.iter();
        if !matches!(segments.next(), Some(Segment::Name(n)) if &**n == "Device") {
            return None;
        }
        let mut obj = ObjId::ROOT;
        let mut numbers = Vec::new();
        for seg in segments {
            let at_table = numbers.len() < self.schema.depth(obj);
            match seg {
                Segment::Name(n) if !at_table => obj = self.schema.child(obj, n)?,
                Segment::Instance(n) if at_table => numbers.push(*n),
                _ => return None,
            }
        }
        Some((obj, numbers))
    }

    fn locate_text(&self, text: &str) -> Option<(ObjId, Vec<u32>, Tail)> {
        let path = Path::parse(text).ok()?;
        let (obj, numbers) = self.locate(&path)?;
        Some((obj, numbers, path.tail))
    }

    /// Sets a parameter by plain instance path as the agent itself (factory-reset file, CLI),
    /// creating the rows on the way with the numbers the path gives. With `add_only`, an
    /// existing row keeps its value (obuspa's `+` lines). Runs in the current transaction, or
    /// in one of its own.
    pub fn apply_default(
        &mut self,
        path: &str,
        value: &str,
        add_only: bool,
    ) -> Result<(), UspError> {
        let own_tx = self.tx.is_none();
        if own_tx {
            self.begin(Requester::Internal);
        }
        let result = self.apply_default_in_tx(path, value, add_only);
        if own_tx {
            if result.is_ok() { self.commit() } else { self.abort() }
        }
        result
    }

    fn apply_default_in_tx(
        &mut self,
        path: &str,
        value: &str,
        add_only: bool,
    ) -> Result<(), UspError> {
        let parsed = Path::parse(path)
            .map_err(|e| UspError::new(ErrorCode::InvalidPathSyntax, format!("{path}: {e}")))?;
        let Some((obj, numbers)) = self.locate(&parsed) else {
            return Err(UspError::invalid_path(path));
        };
        let Tail::Param(name) = &parsed.tail else { return Err(UspError::invalid_path(path)) };
        let param =
            self.schema.param_by_name(obj, name).ok_or_else(|| UspError::invalid_path(path))?;
        if numbers.len() != self.schema.depth(obj) {
            return Err(UspError::invalid_path(path));
        }
        let chain = self.schema.chain(obj).to_vec();
        let mut existed = true;
        for (i, table) in chain.iter().enumerate() {
            if !self.tree.exists(&self.schema, *table, &numbers[..=i]) {
                existed = false;
                self.add_row_numbered(*table, &numbers[..=i], &[])?;
            }
        }
        if add_only && existed {
            return Ok(());
        }
        let v = self.check_value(&Requester::Internal, param, value, true)?;
        self.set_values(obj, &numbers, &[(param, v)])
    }
}
