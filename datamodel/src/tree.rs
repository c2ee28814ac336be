//! The instantiated data model's stored state: one node per object instance that owns values
//! (the root and every table row), holding the stored parameter values of its object and of its
//! single-instance sub-objects, and the tables below it.
//!
//! Memory per row is one boxed slice of values, one boxed slice of tables and an optional
//! external key; rows are found by instance number in a `BTreeMap`, so a lookup costs
//! O(depth · log rows) and a wildcard walks only the rows it returns.
//!
//! Each table also indexes its rows' stored unique keys (see `Table::keys`), so that checking
//! a key for uniqueness costs O(log rows) instead of a scan of the table. The index holds only
//! a hash and an instance number per row and key (about 8 bytes in a B-tree); a lookup compares
//! the actual values of the few rows with the same hash. Every change of a row or of a stored
//! value goes through `Tree::insert_row`, `Tree::remove_row` or `Tree::set_stored`, which
//! keep the index in step; only loading writes raw and rebuilds the index once at the end.

use crate::schema::{ObjId, ParamAccess, ParamId, Schema, Storage};
use crate::value::Value;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{BuildHasher, Hash, Hasher};

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
    /// The unique-key index: `(hash << 32) | instance number`, for every row and every indexed
    /// key of the table (see [`key_defs`]); the hash covers the key's number and values.
    /// Rows with equal keys (defaults of external rows, say) simply have equal hashes.
    keys: BTreeSet<u64>,
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

/// An indexed key of a table: the value slots of its parameters, in order.
type KeyDef = Box<[u32]>;

/// The indexed keys of one table and the hasher, borrowed apart from the rows.
#[derive(Clone, Copy)]
pub(crate) struct Keys<'a> {
    defs: &'a [KeyDef],
    hasher: &'a RandomState,
}

impl Keys<'_> {
    /// The hash of values `values` of key number `k`.
    fn hash<'v>(&self, k: usize, values: impl Iterator<Item = &'v Value>) -> u64 {
        let mut h = self.hasher.build_hasher();
        k.hash(&mut h);
        for v in values {
            hash_value(v, &mut h);
        }
        let h = h.finish();
        (h ^ (h >> 32)) << 32
    }

    /// The hash of key `k` of a row.
    fn row_hash(&self, k: usize, row: &Node) -> u64 {
        self.hash(k, self.defs[k].iter().filter_map(|s| row.values.get(*s as usize)))
    }

    fn index(&self, table: &mut Table, n: u32) {
        let Some(row) = table.rows.get(&n) else { return };
        for k in 0..self.defs.len() {
            table.keys.insert(self.row_hash(k, row) | u64::from(n));
        }
    }

    fn unindex(&self, table: &mut Table, n: u32) {
        let Some(row) = table.rows.get(&n) else { return };
        for k in 0..self.defs.len() {
            table.keys.remove(&(self.row_hash(k, row) | u64::from(n)));
        }
    }

    /// Adds a row (replacing one with the same number), with its external key and index entries.
    pub(crate) fn insert(&self, table: &mut Table, n: u32, node: Node) {
        self.remove(table, n);
        if let Some(key) = &node.key {
            table.by_key.insert(key.clone(), n);
        }
        table.rows.insert(n, node);
        self.index(table, n);
    }

    /// Removes a row with its external key and index entries.
    pub(crate) fn remove(&self, table: &mut Table, n: u32) -> Option<Node> {
        self.unindex(table, n);
        let node = table.rows.remove(&n)?;
        if let Some(key) = &node.key {
            table.by_key.remove(key);
        }
        Some(node)
    }

    /// True when a row other than `except` has `values` in the value slots `slots`. Uses the
    /// index when `slots` is an indexed key, and scans the table otherwise.
    fn used(&self, table: &Table, slots: &[u32], values: &[&Value], except: u32) -> bool {
        let same = |row: &Node| {
            slots.len() == values.len()
                && slots.iter().zip(values).all(|(s, v)| row.values.get(*s as usize) == Some(*v))
        };
        let Some(k) = self.defs.iter().position(|d| **d == *slots) else {
            return table.rows.iter().any(|(n, row)| *n != except && same(row));
        };
        let h = self.hash(k, values.iter().copied());
        table.keys.range(h..=h | u64::from(u32::MAX)).any(|e| {
            let n = *e as u32;
            n != except && table.rows.get(&n).is_some_and(same)
        })
    }

    /// Rebuilds the index of a table from its rows.
    fn rebuild(&self, table: &mut Table) {
        table.keys.clear();
        let numbers: Vec<u32> = table.rows.keys().copied().collect();
        for n in numbers {
            self.index(table, n);
        }
    }
}

/// Hashes a value consistently with its `PartialEq` (`0.0 == -0.0`).
fn hash_value(v: &Value, h: &mut impl Hasher) {
    std::mem::discriminant(v).hash(h);
    match v {
        Value::String(s) | Value::Base64(s) | Value::HexBinary(s) => s.hash(h),
        Value::Boolean(b) => b.hash(h),
        Value::Int(i) => i.hash(h),
        Value::UnsignedInt(u) => u.hash(h),
        Value::Long(i) => i.hash(h),
        Value::UnsignedLong(u) => u.hash(h),
        Value::Decimal(d) => (if *d == 0.0 { 0.0f64 } else { *d }).to_bits().hash(h),
        Value::DateTime(t) => t.hash(h),
    }
}

/// The stored state of the whole instantiated data model.
#[derive(Debug)]
pub struct Tree {
    pub(crate) root: Node,
    /// By object: the keys indexed in each of its tables (empty for non-tables).
    key_defs: Box<[Box<[KeyDef]>]>,
    hasher: RandomState,
}

/// The node of the row named by `numbers` along `chain`, from `node`.
fn walk_mut<'a>(
    mut node: &'a mut Node,
    schema: &Schema,
    chain: &[ObjId],
    numbers: &[u32],
) -> Option<&'a mut Node> {
    for (t, n) in chain.iter().zip(numbers) {
        node = node.tables.get_mut(schema.obj(*t).table_slot as usize)?.rows.get_mut(n)?;
    }
    Some(node)
}

impl Tree {
    pub(crate) fn new(schema: &Schema) -> Tree {
        let key_defs = (0..schema.object_count()).map(|i| key_defs(schema, ObjId(i as u32)));
        Tree {
            root: Node::new(schema, ObjId::ROOT),
            key_defs: key_defs.collect(),
            hasher: RandomState::new(),
        }
    }

    /// The indexed keys of `table` with the hasher.
    pub(crate) fn keys(&self, table: ObjId) -> Keys<'_> {
        let defs = self.key_defs.get(table.0 as usize).map_or(&[][..], |d| &d[..]);
        Keys { defs, hasher: &self.hasher }
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
        walk_mut(&mut self.root, schema, chain, numbers)
    }

    /// The table `table` under the parent instance named by `numbers` (its own number, if
    /// present, is ignored).
    pub(crate) fn table(&self, schema: &Schema, table: ObjId, numbers: &[u32]) -> Option<&Table> {
        let chain = schema.chain(table);
        let parent = self.node(schema, &chain[..chain.len() - 1], numbers)?;
        parent.tables.get(schema.obj(table).table_slot as usize)
    }

    /// The table `table` under the parent instance named by `numbers`. Rows must be added and
    /// removed through [`Tree::table_keys_mut`] (or [`Tree::insert_row`]/[`Tree::remove_row`])
    /// to keep the key index.
    pub(crate) fn table_mut(
        &mut self,
        schema: &Schema,
        table: ObjId,
        numbers: &[u32],
    ) -> Option<&mut Table> {
        self.table_keys_mut(schema, table, numbers).map(|(t, _)| t)
    }

    /// The table `table` under the parent instance named by `numbers`, with its indexed keys.
    pub(crate) fn table_keys_mut(
        &mut self,
        schema: &Schema,
        table: ObjId,
        numbers: &[u32],
    ) -> Option<(&mut Table, Keys<'_>)> {
        let Tree { root, key_defs, hasher } = self;
        let chain = schema.chain(table);
        let parent = walk_mut(root, schema, &chain[..chain.len() - 1], numbers)?;
        let rows = parent.tables.get_mut(schema.obj(table).table_slot as usize)?;
        let defs = key_defs.get(table.0 as usize).map_or(&[][..], |d| &d[..]);
        Some((rows, Keys { defs, hasher }))
    }

    /// Adds row `n` to `table` under `parent` (with its external key and index entries);
    /// false when the parent does not exist.
    pub(crate) fn insert_row(
        &mut self,
        schema: &Schema,
        table: ObjId,
        parent: &[u32],
        n: u32,
        node: Node,
    ) -> bool {
        let Some((rows, keys)) = self.table_keys_mut(schema, table, parent) else { return false };
        keys.insert(rows, n, node);
        true
    }

    /// Removes row `n` of `table` under `parent` (and everything below it).
    pub(crate) fn remove_row(
        &mut self,
        schema: &Schema,
        table: ObjId,
        parent: &[u32],
        n: u32,
    ) -> Option<Node> {
        let (rows, keys) = self.table_keys_mut(schema, table, parent)?;
        keys.remove(rows, n)
    }

    /// True when a row of `table` under `parent` other than `except` has `values` in the value
    /// slots `slots` (O(log rows) for an indexed key).
    pub(crate) fn key_used(
        &self,
        schema: &Schema,
        table: ObjId,
        parent: &[u32],
        except: u32,
        slots: &[u32],
        values: &[&Value],
    ) -> bool {
        let Some(rows) = self.table(schema, table, parent) else { return false };
        self.keys(table).used(rows, slots, values, except)
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

    /// The stored value of `param`, to overwrite without updating the key index: only for
    /// loading, which rebuilds the index afterwards ([`Tree::rebuild_keys`]).
    pub(crate) fn stored_mut_unindexed(
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

    /// Overwrites the stored value of `param` in the instance named by `numbers`, keeping the key
    /// index; returns the old value (`None` when there is no such value).
    pub(crate) fn set_stored(
        &mut self,
        schema: &Schema,
        numbers: &[u32],
        param: ParamId,
        value: Value,
    ) -> Option<Value> {
        let def = schema.param(param);
        let Storage::Stored(slot) = def.storage else { return None };
        let owner = schema.obj(def.obj).owner;
        let depth = schema.depth(owner);
        let keyed = owner != ObjId::ROOT
            && numbers.len() >= depth
            && self.keys(owner).defs.iter().any(|d| d.contains(&slot));
        if !keyed {
            let old = self.stored_mut_unindexed(schema, numbers, param)?;
            return Some(std::mem::replace(old, value));
        }
        let (parent, n) = (&numbers[..depth - 1], numbers[depth - 1]);
        let (rows, keys) = self.table_keys_mut(schema, owner, parent)?;
        let row = rows.rows.get(&n)?;
        if slot as usize >= row.values.len() {
            return None;
        }
        // Only the keys that contain the slot change.
        let hit: Vec<usize> =
            (0..keys.defs.len()).filter(|k| keys.defs[*k].contains(&slot)).collect();
        for &k in &hit {
            rows.keys.remove(&(keys.row_hash(k, row) | u64::from(n)));
        }
        let row = rows.rows.get_mut(&n)?;
        let old = std::mem::replace(&mut row.values[slot as usize], value);
        for &k in &hit {
            let h = keys.row_hash(k, row);
            rows.keys.insert(h | u64::from(n));
        }
        Some(old)
    }

    /// Rebuilds the key index of every table (after loading).
    pub(crate) fn rebuild_keys(&mut self, schema: &Schema) {
        let Tree { root, key_defs, hasher } = self;
        walk_tables(schema, ObjId::ROOT, root, &mut |table, rows| {
            let defs = key_defs.get(table.0 as usize).map_or(&[][..], |d| &d[..]);
            Keys { defs, hasher }.rebuild(rows);
        });
    }

    /// Panics unless every table's key index matches its rows.
    #[cfg(test)]
    pub(crate) fn check_keys(&mut self, schema: &Schema) {
        let Tree { root, key_defs, hasher } = self;
        walk_tables(schema, ObjId::ROOT, root, &mut |table, rows| {
            let defs = key_defs.get(table.0 as usize).map_or(&[][..], |d| &d[..]);
            let mut copy = rows.clone();
            Keys { defs, hasher }.rebuild(&mut copy);
            assert_eq!(copy.keys, rows.keys, "key index of {}", schema.obj(table).path);
        });
    }
}

/// Calls `f` on every table below `node` (an instance of `owner`), parents first.
fn walk_tables(
    schema: &Schema,
    owner: ObjId,
    node: &mut Node,
    f: &mut impl FnMut(ObjId, &mut Table),
) {
    let tables = &schema.obj(owner).slot_tables;
    for (slot, rows) in node.tables.iter_mut().enumerate() {
        let Some(&table) = tables.get(slot) else { continue };
        f(table, rows);
        for row in rows.rows.values_mut() {
            walk_tables(schema, table, row, f);
        }
    }
}

/// The keys to index for a table: every unique-key set made of stored parameters only (sets
/// with a live parameter are the plugin's to enforce), and each string key the engine may
/// assign (`cpe-<n>`, see `assign_keys`) on its own.
fn key_defs(schema: &Schema, obj: ObjId) -> Box<[KeyDef]> {
    let def = schema.obj(obj);
    if !def.multi {
        return Box::new([]);
    }
    let slot = |p: &ParamId| match schema.param(*p).storage {
        Storage::Stored(s) => Some(s),
        _ => None,
    };
    let mut defs: Vec<KeyDef> = Vec::new();
    for set in &def.unique_keys {
        let slots: Option<Vec<u32>> = set.iter().map(slot).collect();
        if let Some(slots) = slots.filter(|s| !s.is_empty()) {
            if !defs.iter().any(|d| **d == *slots) {
                defs.push(slots.into());
            }
        }
    }
    for p in def.unique_keys.iter().flatten() {
        let pd = schema.param(*p);
        let assignable = pd.access != ParamAccess::ReadOnly
            && pd.constraints.enumeration.is_none()
            && matches!(pd.ty.zero(), Value::String(_));
        if let (true, Some(s)) = (assignable, slot(p)) {
            if !defs.iter().any(|d| **d == [s]) {
                defs.push(Box::new([s]));
            }
        }
    }
    defs.into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::schema::{ObjAccess, SchemaBuilder};
    use crate::value::ParamType;

    /// An external table with Alias (unique) and a compound key (A, N), and a nested table.
    fn schema() -> (Schema, ObjId, ObjId, ParamId, ParamId, ParamId) {
        let mut b = SchemaBuilder::new();
        b.object("Device.T.");
        let port = b.table("Device.T.Port.{i}.", ObjAccess::ReadOnly);
        b.external(port);
        let alias = b.alias(port);
        b.unique_key(port, &["A", "N"]);
        b.param(port, "A", ParamType::String).rw();
        b.param(port, "N", ParamType::UnsignedInt).rw();
        let sub = b.table("Device.T.Port.{i}.Sub.{i}.", ObjAccess::AddDelete);
        b.alias(sub);
        let schema = b.finish().expect("schema");
        let a = schema.param_by_name(port, "A").expect("A");
        let n = schema.param_by_name(port, "N").expect("N");
        (schema, port, sub, alias, a, n)
    }

    fn slot(schema: &Schema, p: ParamId) -> u32 {
        let Storage::Stored(s) = schema.param(p).storage else { panic!("live") };
        s
    }

    #[test]
    fn index_holds_equal_keys_and_follows_every_change() {
        let (schema, port, sub, alias, a, n) = schema();
        let mut tree = Tree::new(&schema);
        // Alias, (A, N), and A alone (an assignable key inside a compound set).
        assert_eq!(tree.keys(port).defs.len(), 3);
        assert_eq!(tree.keys(sub).defs.len(), 1);
        for i in 1..=3 {
            assert!(tree.insert_row(&schema, port, &[], i, Node::new(&schema, port)));
        }
        tree.check_keys(&schema);
        let (sal, sa, sn) = (slot(&schema, alias), slot(&schema, a), slot(&schema, n));
        let empty = Value::String("".into());
        // Three rows with the default (empty) Alias: each sees the others.
        assert!(tree.key_used(&schema, port, &[], 1, &[sal], &[&empty]));
        tree.set_stored(&schema, &[1], alias, Value::String("x".into()));
        tree.set_stored(&schema, &[2], alias, Value::String("y".into()));
        tree.check_keys(&schema);
        assert!(!tree.key_used(&schema, port, &[], 3, &[sal], &[&empty]));
        let x = Value::String("x".into());
        assert!(tree.key_used(&schema, port, &[], 3, &[sal], &[&x]));
        assert!(!tree.key_used(&schema, port, &[], 1, &[sal], &[&x]));
        // The compound key is matched as a whole.
        tree.set_stored(&schema, &[1], a, Value::String("p".into()));
        tree.set_stored(&schema, &[1], n, Value::UnsignedInt(7));
        let (p, seven, eight) =
            (Value::String("p".into()), Value::UnsignedInt(7), Value::UnsignedInt(8));
        assert!(tree.key_used(&schema, port, &[], 2, &[sa, sn], &[&p, &seven]));
        assert!(!tree.key_used(&schema, port, &[], 2, &[sa, sn], &[&p, &eight]));
        assert!(tree.key_used(&schema, port, &[], 2, &[sa], &[&p]));
        // A slot list that is not indexed falls back to a scan.
        assert!(tree.key_used(&schema, port, &[], 2, &[sn], &[&seven]));
        // Nested rows carry their own index when their parent row leaves and comes back.
        assert!(tree.insert_row(&schema, sub, &[1], 1, Node::new(&schema, sub)));
        let sub_alias = schema.param_by_name(sub, "Alias").expect("Alias");
        tree.set_stored(&schema, &[1, 1], sub_alias, Value::String("s".into()));
        let node = tree.remove_row(&schema, port, &[], 1).expect("row 1");
        tree.check_keys(&schema);
        assert!(!tree.key_used(&schema, port, &[], 3, &[sal], &[&x]));
        assert!(tree.insert_row(&schema, port, &[], 1, node));
        tree.check_keys(&schema);
        assert!(tree.key_used(&schema, port, &[], 3, &[sal], &[&x]));
        let s = Value::String("s".into());
        let sub_slot = slot(&schema, sub_alias);
        assert!(tree.key_used(&schema, sub, &[1], 2, &[sub_slot], &[&s]));
        // Decimal keys hash like they compare.
        assert_eq!(
            {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                hash_value(&Value::Decimal(0.0), &mut h);
                h.finish()
            },
            {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                hash_value(&Value::Decimal(-0.0), &mut h);
                h.finish()
            }
        );
    }
}
