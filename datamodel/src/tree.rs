//! The instantiated data model's stored state: one node per object instance that owns values
//! (the root and every table row), holding the stored parameter values of its object and of its
//! single-instance sub-objects, and the tables below it.
//!
//! Memory per row is one boxed slice of values, one boxed slice of tables and an optional
//! external key; rows are found by instance number in a `BTreeMap`, so a lookup costs
//! O(depth · log rows) and a wildcard walks only the rows it returns.

use crate::schema::{ObjId, ParamId, Schema, Storage};
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};

/// A table row, or the root.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// Stored values, by slot.
    pub(crate) values: Box<[Value]>,
    /// The tables below, by table slot.
    pub(crate) tables: Box<[Table]>,
    /// The external key of an external row.
    pub(crate) key: Option<Box<str>>,
}

/// The rows of one table under one parent instance.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Table {
    /// The next instance number to assign; numbers are never reused.
    pub(crate) next: u32,
    /// Rows by instance number.
    pub(crate) rows: BTreeMap<u32, Node>,
    /// External key → instance number, for external rows.
    pub(crate) by_key: HashMap<Box<str>, u32>,
    /// True once an external table was enumerated since start (the first listing after a
    /// restart reports no creations or deletions).
    pub(crate) listed: bool,
}

impl Table {
    /// Takes the next instance number (at least 1, never one in use).
    pub(crate) fn allocate(&mut self) -> u32 {
        let n = self.next.max(1);
        self.next = n.saturating_add(1);
        n
    }
}

impl Node {
    /// A fresh node for an instance of `owner` (the root or a table), with default values.
    pub(crate) fn new(schema: &Schema, owner: ObjId) -> Node {
        let def = schema.obj(owner);
        Node {
            values: def.defaults.clone().into_boxed_slice(),
            tables: vec![Table::default(); def.table_slots as usize].into_boxed_slice(),
            key: None,
        }
    }
}

/// The stored state of the whole instantiated data model.
#[derive(Debug)]
pub struct Tree {
    pub(crate) root: Node,
}

impl Tree {
    pub(crate) fn new(schema: &Schema) -> Tree {
        Tree { root: Node::new(schema, ObjId::ROOT) }
    }

    /// The node of the row named by `numbers` along `chain` (a prefix of the numbers is used).
    pub(crate) fn node(&self, schema: &Schema, chain: &[ObjId], numbers: &[u32]) -> Option<&Node> {
        let mut node = &self.root;
        for (t, n) in chain.iter().zip(numbers) {
            node = node.tables.get(schema.obj(*t).table_slot as usize)?.rows.get(n)?;
        }
        Some(node)
    }

    pub(crate) fn node_mut(
        &mut self,
        schema: &Schema,
        chain: &[ObjId],
        numbers: &[u32],
    ) -> Option<&mut Node> {
        let mut node = &mut self.root;
        for (t, n) in chain.iter().zip(numbers) {
            node = node.tables.get_mut(schema.obj(*t).table_slot as usize)?.rows.get_mut(n)?;
        }
        Some(node)
    }

    /// The table `table` under the parent instance named by `numbers` (its own number, if
    /// present, is ignored).
    pub(crate) fn table(&self, schema: &Schema, table: ObjId, numbers: &[u32]) -> Option<&Table> {
        let chain = schema.chain(table);
        let parent = self.node(schema, &chain[..chain.len() - 1], numbers)?;
        parent.tables.get(schema.obj(table).table_slot as usize)
    }

    pub(crate) fn table_mut(
        &mut self,
        schema: &Schema,
        table: ObjId,
        numbers: &[u32],
    ) -> Option<&mut Table> {
        let chain = schema.chain(table);
        let parent = self.node_mut(schema, &chain[..chain.len() - 1], numbers)?;
        parent.tables.get_mut(schema.obj(table).table_slot as usize)
    }

    /// True when the instance named by `numbers` exists for object `obj`.
    pub(crate) fn exists(&self, schema: &Schema, obj: ObjId, numbers: &[u32]) -> bool {
        let chain = schema.chain(obj);
        numbers.len() >= chain.len() && self.node(schema, chain, numbers).is_some()
    }

    /// The stored value of `param` in the instance named by `numbers`.
    pub fn stored(&self, schema: &Schema, numbers: &[u32], param: ParamId) -> Option<&Value> {
        let def = schema.param(param);
        let Storage::Stored(slot) = def.storage else { return None };
        let owner = schema.obj(def.obj).owner;
        self.node(schema, schema.chain(owner), numbers)?.values.get(slot as usize)
    }

    pub(crate) fn stored_mut(
        &mut self,
        schema: &Schema,
        numbers: &[u32],
        param: ParamId,
    ) -> Option<&mut Value> {
        let def = schema.param(param);
        let Storage::Stored(slot) = def.storage else { return None };
        let owner = schema.obj(def.obj).owner;
        self.node_mut(schema, schema.chain(owner), numbers)?.values.get_mut(slot as usize)
    }
}
