//! Reads: stored, live, entry counts, write-only, walk and instances.

use super::fixture::*;
use crate::plugin::Requester;

#[test]
fn stored_values_read_back_canonically() {
    let mut f = fx();
    add(
        &mut f.dm,
        "Device.Test.Item.",
        &[
            ("Name", "n"),
            ("Count", "42"),
            ("Enabled", "1"),
            ("Ratio", "0.25"),
            ("When", "2024-05-01T12:00:00Z"),
            ("Tags", "a , b"),
        ],
    );
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Count"), "42");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Enabled"), "true");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Ratio"), "0.25");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.When"), "2024-05-01T12:00:00Z");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Tags"), "a,b");
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Scratch"), "fresh");
    assert_eq!(value(&mut f.dm, "Device.Test.Mode"), "Auto");
}

#[test]
fn live_params_are_read_in_one_get_per_instance() {
    let mut f = three_items();
    let item = obj(&f.dm, "Device.Test.Item.{i}.");
    let params = [
        param(&f.dm, "Device.Test.Item.{i}.", "Status"),
        param(&f.dm, "Device.Test.Item.{i}.", "Name"),
        param(&f.dm, "Device.Test.Item.{i}.", "Double"),
    ];
    f.s.borrow_mut().get_calls = 0;
    for n in 1..=3 {
        let v = f.dm.read_params(&Requester::Internal, item, &[n], &params);
        assert_eq!(v.len(), 3);
        assert!(v.iter().all(Result::is_ok));
    }
    assert_eq!(f.s.borrow().get_calls, 3);
    f.s.borrow_mut().get_calls = 0;
    let all = f.dm.read_all(&Requester::Internal, item, &[2]);
    assert_eq!(f.s.borrow().get_calls, 1);
    let text: Vec<String> =
        all.iter().map(|(p, v)| format!("{}={v}", f.dm.schema().param(*p).name)).collect();
    assert!(text.contains(&"Status=Up".to_string()), "{text:?}");
    assert!(text.contains(&"Double=1200".to_string()), "{text:?}");
    assert!(text.contains(&"SubNumberOfEntries=0".to_string()), "{text:?}");
}

#[test]
fn live_values_follow_stored_state() {
    let mut f = three_items();
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Status"), "Down");
    set(&mut f.dm, "Device.Test.Item.1.", &[("Enabled", "true")]);
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Status"), "Up");
}

#[test]
fn entry_counts_follow_adds_and_deletes() {
    let mut f = three_items();
    assert_eq!(value(&mut f.dm, "Device.Test.ItemNumberOfEntries"), "3");
    del(&mut f.dm, "Device.Test.Item.2.");
    assert_eq!(value(&mut f.dm, "Device.Test.ItemNumberOfEntries"), "2");
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.*.SubNumberOfEntries"), ["2", "0"]);
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "d")]);
    assert_eq!(value(&mut f.dm, "Device.Test.ItemNumberOfEntries"), "3");
    f.s.borrow_mut().ports = vec!["p".into()];
    assert_eq!(value(&mut f.dm, "Device.Test.PortNumberOfEntries"), "1");
}

#[test]
fn write_only_reads_empty() {
    let mut f = fx();
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "n"), ("Secret", "hunter2")]);
    assert_eq!(value(&mut f.dm, "Device.Test.Item.1.Secret"), "");
    // ... but the value is kept.
    let secret = param(&f.dm, "Device.Test.Item.{i}.", "Secret");
    let tree_value = f.dm.tree.stored(&f.dm.schema, &[1], secret).map(ToString::to_string);
    assert_eq!(tree_value.as_deref(), Some("hunter2"));
    // A search expression is no way around it.
    let found = resolve(&mut f.dm, "Device.Test.Item.[Secret==\"hunter2\"].").expect("search");
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(resolve(&mut f.dm, "Device.Test.Item.[Secret==\"\"].").expect("search").len(), 1);
}

fn walked(f: &mut Fx, path: &str, max_depth: u32) -> Vec<String> {
    let t = resolve(&mut f.dm, path).expect("resolve").remove(0);
    f.dm.walk(&t, max_depth)
        .into_iter()
        .map(|w| format!("{}{}", w.level, f.dm.schema().instance_path(w.obj, &w.numbers)))
        .collect()
}

fn nested() -> Fx {
    let mut f = three_items();
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    f
}

#[test]
fn walk_of_an_instance_by_levels() {
    let mut f = nested();
    assert_eq!(
        walked(&mut f, "Device.Test.Item.1.", 0),
        [
            "1Device.Test.Item.1.",
            "2Device.Test.Item.1.Stats.",
            "2Device.Test.Item.1.Sub.1.",
            "2Device.Test.Item.1.Sub.2."
        ]
    );
    assert_eq!(walked(&mut f, "Device.Test.Item.1.", 1), ["1Device.Test.Item.1."]);
    assert_eq!(walked(&mut f, "Device.Test.Item.1.", 2).len(), 4);
}

#[test]
fn walk_of_a_table_by_levels() {
    let mut f = nested();
    assert_eq!(
        walked(&mut f, "Device.Test.Item.", 1),
        ["1Device.Test.Item.1.", "1Device.Test.Item.2.", "1Device.Test.Item.3."]
    );
    let two = walked(&mut f, "Device.Test.Item.", 2);
    assert!(two.contains(&"2Device.Test.Item.1.Sub.2.".to_string()), "{two:?}");
    assert!(two.contains(&"2Device.Test.Item.3.Stats.".to_string()), "{two:?}");
    assert_eq!(two.len(), 3 + 3 + 2);
    assert_eq!(walked(&mut f, "Device.Test.Item.", 0), two);
}

#[test]
fn walk_of_a_single_object_by_levels() {
    let mut f = nested();
    let one = walked(&mut f, "Device.Test.", 1);
    assert_eq!(one, ["1Device.Test."]);
    let two = walked(&mut f, "Device.Test.", 2);
    assert_eq!(
        two,
        ["1Device.Test.", "2Device.Test.Item.1.", "2Device.Test.Item.2.", "2Device.Test.Item.3."]
    );
}

fn insts(f: &mut Fx, path: &str, first: bool) -> Vec<String> {
    let t = resolve(&mut f.dm, path).expect("resolve").remove(0);
    f.dm.instances(&t, first)
        .into_iter()
        .map(|w| f.dm.schema().instance_path(w.obj, &w.numbers))
        .collect()
}

#[test]
fn instances_of_a_table() {
    let mut f = nested();
    assert_eq!(
        insts(&mut f, "Device.Test.Item.", true),
        ["Device.Test.Item.1.", "Device.Test.Item.2.", "Device.Test.Item.3."]
    );
    assert_eq!(
        insts(&mut f, "Device.Test.Item.", false),
        [
            "Device.Test.Item.1.",
            "Device.Test.Item.1.Sub.1.",
            "Device.Test.Item.1.Sub.2.",
            "Device.Test.Item.2.",
            "Device.Test.Item.3."
        ]
    );
}

#[test]
fn instances_below_an_instance_and_an_object() {
    let mut f = nested();
    assert_eq!(
        insts(&mut f, "Device.Test.Item.1.", true),
        ["Device.Test.Item.1.Sub.1.", "Device.Test.Item.1.Sub.2."]
    );
    assert_eq!(insts(&mut f, "Device.Test.Item.1.", false).len(), 2);
    assert_eq!(insts(&mut f, "Device.Test.Item.1.Sub.", true).len(), 2);
    assert_eq!(insts(&mut f, "Device.Test.", true).len(), 3);
    assert_eq!(insts(&mut f, "Device.Test.", false).len(), 5);
    assert!(insts(&mut f, "Device.Test.Item.2.", false).is_empty());
}

#[test]
fn unique_keys_are_listed_once_each() {
    let mut f = fx();
    add(&mut f.dm, "Device.Test.Pair.", &[("A", "x"), ("B", "y")]);
    let pair = obj(&f.dm, "Device.Test.Pair.{i}.");
    let keys = f.dm.unique_keys(pair, &[1]);
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["Alias", "A", "B", "L"]);
    let item = obj(&f.dm, "Device.Test.Item.{i}.");
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "n")]);
    assert_eq!(
        f.dm.unique_keys(item, &[1]),
        [("Alias".to_string(), "cpe-1".to_string()), ("Name".to_string(), "n".to_string())]
    );
}

#[test]
fn row_numbers_list_the_rows_of_one_table_instance() {
    let mut f = three_items();
    let items = obj(&f.dm, "Device.Test.Item.{i}.");
    let subs = obj(&f.dm, "Device.Test.Item.{i}.Sub.{i}.");
    add(&mut f.dm, "Device.Test.Item.3.Sub.", &[]);
    add(&mut f.dm, "Device.Test.Item.3.Sub.", &[]);
    del(&mut f.dm, "Device.Test.Item.2.");
    assert_eq!(f.dm.row_numbers(items, &[]), [1, 3]);
    assert_eq!(f.dm.row_numbers(subs, &[3]), [1, 2]);
    assert_eq!(f.dm.row_numbers(subs, &[1]), Vec::<u32>::new());
    assert_eq!(f.dm.row_numbers(subs, &[2]), Vec::<u32>::new(), "a deleted parent has none");
}
