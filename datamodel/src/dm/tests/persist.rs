//! Persistence: restart on the same store, defaults, failing stores.

use super::fixture::*;
use crate::plugin::Requester;
use crate::store::{Change, Item, MemStore, Store, StoreError};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[test]
fn restart_keeps_rows_numbers_and_values() {
    let mut f = three_items();
    del(&mut f.dm, "Device.Test.Item.2.");
    add(&mut f.dm, "Device.Test.Item.3.Sub.", &[("Val", "-3")]);
    set(&mut f.dm, "Device.Test.Item.3.Stats.", &[("Errors", "9")]);
    set(&mut f.dm, "Device.Test.", &[("Mode", "Manual"), ("Counter", "5")]);
    set(&mut f.dm, "Device.Test.Item.1.", &[("When", "2024-01-02T03:04:05Z"), ("Secret", "pw")]);
    let item = obj(&f.dm, "Device.Test.Item.{i}.");
    let before: Vec<_> =
        [1, 3].iter().map(|n| f.dm.read_all(&Requester::Internal, item, &[*n])).collect();
    f.restart();
    assert!(events(&mut f.dm).is_empty());
    assert_eq!(
        objs(&mut f.dm, "Device.Test.Item.*."),
        ["Device.Test.Item.1.", "Device.Test.Item.3."]
    );
    let after: Vec<_> =
        [1, 3].iter().map(|n| f.dm.read_all(&Requester::Internal, item, &[*n])).collect();
    assert_eq!(before, after);
    assert_eq!(value(&mut f.dm, "Device.Test.Item.3.Sub.1.Val"), "-3");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.3.Stats.Errors"), "9");
    assert_eq!(value(&mut f.dm, "Device.Test.Mode"), "Manual");
    assert_eq!(value(&mut f.dm, "Device.Test.Counter"), "5");
    assert_eq!(f.store.value("Device.Test.Item.1.Secret").as_deref(), Some("pw"));
}

#[test]
fn volatile_values_and_rows_are_lost_on_restart() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Scratch", "dirty")]);
    add(&mut f.dm, "Device.Test.Req.", &[("X", "r")]);
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Scratch"), "dirty");
    assert_eq!(values(&mut f.dm, "Device.Test.Req.*.X"), ["r"]);
    f.restart();
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Scratch"), "fresh");
    assert!(objs(&mut f.dm, "Device.Test.Req.*.").is_empty());
    assert_eq!(f.store.value("Device.Test.Item.1.Scratch"), None);
    assert!(!f.store.has_row("Device.Test.Req.1."));
}

#[test]
fn unknown_and_invalid_stored_items_are_ignored() {
    let mut store = MemStore::new();
    store
        .write(&[
            Change::Put(Item::Row { path: "Device.Test.Item.4.".into(), key: None }),
            Change::Put(Item::Value { path: "Device.Test.Item.4.Name".into(), value: "n".into() }),
            Change::Put(Item::Value {
                path: "Device.Test.Item.4.Count".into(),
                value: "99999".into(),
            }),
            Change::Put(Item::Value { path: "Device.Test.Mode".into(), value: "Bogus".into() }),
            Change::Put(Item::Value { path: "Device.Gone.Param".into(), value: "1".into() }),
            Change::Put(Item::Row { path: "Device.Gone.1.".into(), key: None }),
            Change::Put(Item::Value { path: "Device.Test.Item.7.Name".into(), value: "x".into() }),
            Change::Put(Item::Value { path: "Device.Test.Item.4.Nope".into(), value: "x".into() }),
            Change::Put(Item::Value {
                path: "Device.Test.Item.4.Status".into(),
                value: "x".into(),
            }),
            Change::Put(Item::Counter { path: "Device.Test.Nope.".into(), next: 3 }),
        ])
        .expect("write");
    let s = Rc::new(RefCell::new(Default::default()));
    let mut dm = build_on(&store, &s);
    assert_eq!(objs(&mut dm, "Device.Test.Item.*."), ["Device.Test.Item.4."]);
    assert_eq!(value(&mut dm, "Device.Test.Item.4.Name"), "n");
    assert_eq!(value(&mut dm, "Device.Test.Item.4.Count"), "0");
    assert_eq!(value(&mut dm, "Device.Test.Mode"), "Auto");
    assert_eq!(add(&mut dm, "Device.Test.Item.", &[("Name", "m")]), "Device.Test.Item.5.");
}

#[test]
fn apply_default_creates_numbered_rows() {
    let mut f = fx();
    f.dm.apply_default("Device.Test.Item.3.Name", "three", false).expect("default");
    f.dm.apply_default("Device.Test.Item.3.Sub.2.Val", "22", false).expect("default");
    f.dm.apply_default("Device.Test.Item.5.Sub.1.Val", "51", false).expect("default");
    f.dm.apply_default("Device.Test.Mode", "Manual", false).expect("default");
    assert_eq!(
        objs(&mut f.dm, "Device.Test.Item.*."),
        ["Device.Test.Item.3.", "Device.Test.Item.5."]
    );
    assert_eq!(value(&mut f.dm, "Device.Test.Item.3.Name"), "three");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.3.Sub.2.Val"), "22");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.5.Sub.1.Val"), "51");
    assert_eq!(value(&mut f.dm, "Device.Test.Mode"), "Manual");
    assert_eq!(add(&mut f.dm, "Device.Test.Item.", &[("Name", "n")]), "Device.Test.Item.6.");
    assert_eq!(add(&mut f.dm, "Device.Test.Item.3.Sub.", &[]), "Device.Test.Item.3.Sub.3.");
    f.restart();
    assert_eq!(value(&mut f.dm, "Device.Test.Item.5.Sub.1.Val"), "51");
    assert_eq!(add(&mut f.dm, "Device.Test.Item.5.Sub.", &[]), "Device.Test.Item.5.Sub.2.");
}

#[test]
fn apply_default_add_only_keeps_existing_values() {
    let mut f = fx();
    f.dm.apply_default("Device.Test.Item.1.Name", "first", false).expect("default");
    f.dm.apply_default("Device.Test.Item.1.Name", "second", true).expect("default");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Name"), "first");
    f.dm.apply_default("Device.Test.Item.1.Name", "third", false).expect("default");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Name"), "third");
    f.dm.apply_default("Device.Test.Item.2.Name", "new", true).expect("default");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.2.Name"), "new");
    // A nested row under an existing parent is new: its value is applied.
    f.dm.apply_default("Device.Test.Item.1.Sub.1.Val", "5", true).expect("default");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Sub.1.Val"), "5");
    f.dm.apply_default("Device.Test.Item.1.Sub.1.Val", "6", true).expect("default");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Sub.1.Val"), "5");
    assert!(f.dm.apply_default("Device.Test.Item.1.Count", "x", false).is_err());
    assert!(f.dm.apply_default("Device.Test.Item.*.Count", "1", false).is_err());
}

/// A store that fails while `fail` is set.
struct Flaky {
    inner: MemStore,
    fail: Rc<Cell<bool>>,
}

impl Store for Flaky {
    fn load(&mut self) -> Result<Vec<Item>, StoreError> {
        self.inner.load()
    }
    fn write(&mut self, batch: &[Change]) -> Result<(), StoreError> {
        if self.fail.get() {
            return Err(StoreError("disk full".into()));
        }
        self.inner.write(batch)
    }
}

#[test]
fn failed_flush_keeps_changes_for_the_next_flush() {
    let inner = MemStore::new();
    let fail = Rc::new(Cell::new(true));
    let s = Rc::new(RefCell::new(Default::default()));
    let mut dm = build_with(Box::new(Flaky { inner: inner.clone(), fail: fail.clone() }), &s);
    add(&mut dm, "Device.Test.Item.", &[("Name", "a")]);
    dm.flush().expect_err("fails");
    set(&mut dm, "Device.Test.Item.1.", &[("Count", "3")]);
    dm.flush().expect_err("fails");
    assert!(inner.is_empty());
    fail.set(false);
    dm.flush().expect("flush");
    assert!(inner.has_row("Device.Test.Item.1."));
    assert_eq!(inner.value("Device.Test.Item.1.Count").as_deref(), Some("3"));
    drop(dm);
    let mut dm = build_on(&inner, &s);
    assert_eq!(value(&mut dm, "Device.Test.Item.1.Name"), "a");
}
