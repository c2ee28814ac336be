//! Matching one instance against a path with wildcards and searches, and the private items.

use super::fixture::*;
use crate::store::{Change, Item, Store};

fn designates(f: &mut Fx, path_text: &str, obj_path: &str, numbers: &[u32]) -> bool {
    let o = obj(&f.dm, obj_path);
    f.dm.path_designates(&path(path_text), o, numbers)
}

#[test]
fn instance_numbers_and_wildcards_match_only_their_instance() {
    let mut f = three_items();
    let item = "Device.Test.Item.{i}.";
    assert!(designates(&mut f, "Device.Test.Item.2.Name", item, &[2]));
    assert!(!designates(&mut f, "Device.Test.Item.2.Name", item, &[3]));
    assert!(designates(&mut f, "Device.Test.Item.*.Name", item, &[3]));
    assert!(designates(&mut f, "Device.Test.Item.", item, &[]), "the table itself");
    assert!(!designates(&mut f, "Device.Test.Item.", item, &[1]));
    assert!(!designates(&mut f, "Device.Test.", item, &[1]), "an ancestor is not the instance");
    let sub = "Device.Test.Item.{i}.Sub.{i}.";
    assert!(designates(&mut f, "Device.Test.Item.*.Sub.*.", sub, &[1, 7]));
    assert!(designates(&mut f, "Device.Test.Item.1.Sub.", sub, &[1]));
    assert!(!designates(&mut f, "Device.Test.Item.2.Sub.*.", sub, &[1, 7]));
    assert!(!designates(&mut f, "Device.Nope.*.", item, &[1]));
    assert!(!designates(&mut f, "Device.Test.Item.{i}.", item, &[1]), "{{i}} never matches");
}

#[test]
fn search_expressions_are_evaluated_on_the_one_row() {
    let mut f = three_items();
    let item = "Device.Test.Item.{i}.";
    let get_calls = f.s.borrow().get_calls;
    assert!(designates(&mut f, "Device.Test.Item.[Count>500].Name", item, &[2]));
    assert!(!designates(&mut f, "Device.Test.Item.[Count>500].Name", item, &[1]));
    assert!(designates(&mut f, "Device.Test.Item.[Name==\"c\"&&Ratio>2].", item, &[3]));
    assert!(!designates(&mut f, "Device.Test.Item.[Name==\"c\"].", item, &[4]), "no such row");
    assert!(!designates(&mut f, "Device.Test.Item.[Bogus==1].", item, &[1]), "bad condition");
    assert_eq!(f.s.borrow().get_calls, get_calls, "stored values only: no plugin call");
}

#[test]
fn private_items_survive_a_restart_and_never_reach_the_model() {
    let mut f = three_items();
    f.dm.set_meta("boot/cause", "RemoteReboot");
    f.dm.set_meta("notify/a", "1");
    f.dm.set_meta("notify/b", "2");
    f.dm.set_meta("other", "3");
    f.restart();
    assert_eq!(f.dm.meta("boot/cause"), Some("RemoteReboot"));
    let notify: Vec<_> = f.dm.meta_with_prefix("notify/").collect();
    assert_eq!(notify, [("notify/a", "1"), ("notify/b", "2")]);
    f.dm.remove_meta("notify/a");
    f.dm.remove_meta("never-set");
    f.dm.flush().expect("flush");
    assert_eq!(f.store.meta("notify/a"), None);
    assert_eq!(f.store.meta("notify/b").as_deref(), Some("2"));
    // Setting the same value again writes nothing.
    f.dm.set_meta("other", "3");
    let mut probe = f.store.clone();
    probe.write(&[Change::Put(Item::Meta { key: "other".into(), value: "x".into() })]).expect("w");
    f.dm.flush().expect("flush");
    assert_eq!(f.store.meta("other").as_deref(), Some("x"), "no write for an unchanged value");
}
