//! Writes: value checks, transactions, events, unique keys, instance numbers, access.

use super::fixture::*;
use crate::error::ErrorCode;
use crate::plugin::{DmEvent, Requester};

fn check(f: &Fx, who: &Requester, name: &str, text: &str, creating: bool) -> Result<(), ErrorCode> {
    let obj = if name == "Mode" { "Device.Test." } else { "Device.Test.Item.{i}." };
    let p = param(&f.dm, obj, name);
    f.dm.check_value(who, p, text, creating).map(|_| ()).map_err(|e| e.code)
}

#[test]
fn check_value_reports_type_range_enum_length_errors() {
    let f = fx();
    let c = ctrl();
    assert_eq!(check(&f, &c, "Count", "abc", false), Err(ErrorCode::InvalidType));
    assert_eq!(check(&f, &c, "Count", "-1", false), Err(ErrorCode::InvalidType));
    assert_eq!(check(&f, &c, "Enabled", "yes", false), Err(ErrorCode::InvalidType));
    assert_eq!(check(&f, &c, "When", "yesterday", false), Err(ErrorCode::InvalidType));
    assert_eq!(check(&f, &c, "Ratio", "1,5", false), Err(ErrorCode::InvalidType));
    assert_eq!(check(&f, &c, "Count", "1001", false), Err(ErrorCode::InvalidValue));
    assert_eq!(check(&f, &c, "Count", "1000", false), Ok(()));
    assert_eq!(check(&f, &c, "Mode", "Sometimes", false), Err(ErrorCode::InvalidValue));
    assert_eq!(check(&f, &c, "Mode", "Manual", false), Ok(()));
    assert_eq!(check(&f, &c, "Name", &"x".repeat(33), false), Err(ErrorCode::InvalidValue));
    assert_eq!(check(&f, &c, "Name", &"x".repeat(32), false), Ok(()));
}

#[test]
fn check_value_enforces_access() {
    let f = fx();
    let c = ctrl();
    assert_eq!(check(&f, &c, "Status", "Up", false), Err(ErrorCode::ParamReadOnly));
    assert_eq!(check(&f, &c, "Status", "Up", true), Err(ErrorCode::ParamReadOnly));
    assert_eq!(check(&f, &c, "Once", "v", true), Ok(()));
    assert_eq!(check(&f, &c, "Once", "v", false), Err(ErrorCode::ParamReadOnly));
    assert_eq!(check(&f, &c, "Alias", "mine", true), Ok(()));
    assert_eq!(check(&f, &c, "Alias", "mine", false), Err(ErrorCode::ParamReadOnly));
    assert_eq!(check(&f, &c, "Alias", "1st", true), Err(ErrorCode::InvalidValue));
    assert_eq!(check(&f, &c, "Secret", "pw", false), Ok(()));
    // The agent itself may write anything.
    assert_eq!(check(&f, &Requester::Internal, "Once", "v", false), Ok(()));
    assert_eq!(check(&f, &Requester::Internal, "Status", "Up", false), Ok(()));
}

#[test]
fn commit_emits_one_value_changed_per_changed_param() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.*.", &[("Count", "600"), ("Enabled", "true")]);
    let ev = brief(&mut f.dm);
    assert_eq!(
        ev,
        [
            "Device.Test.Item.1.Count=600",
            "Device.Test.Item.1.Enabled=true",
            "Device.Test.Item.3.Count=600",
            "Device.Test.Item.3.Enabled=true"
        ]
    );
    // Same value again: nothing.
    set(&mut f.dm, "Device.Test.Item.1.", &[("Count", "600")]);
    assert!(events(&mut f.dm).is_empty());
}

#[test]
fn value_changed_once_when_set_twice_in_one_transaction() {
    let mut f = three_items();
    let who = Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        set_in(dm, &who, "Device.Test.Item.1.", &[("Count", "1")])?;
        set_in(dm, &who, "Device.Test.Item.1.", &[("Count", "2")])
    })
    .expect("set");
    assert_eq!(brief(&mut f.dm), ["Device.Test.Item.1.Count=2"]);
}

#[test]
fn values_of_rows_created_in_the_transaction_are_not_value_changes() {
    let mut f = three_items();
    let who = Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        let p = add_in(dm, &who, "Device.Test.Item.", &[("Name", "d")])?;
        set_in(dm, &who, &p, &[("Count", "5")])?;
        set_in(dm, &who, &format!("{p}Stats."), &[("Errors", "5")])?;
        let s = add_in(dm, &who, &format!("{p}Sub."), &[])?;
        set_in(dm, &who, &s, &[("Val", "3")])
    })
    .expect("tx");
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Item.4.", "+Device.Test.Item.4.Sub.1."]);
}

#[test]
fn object_created_carries_unique_keys() {
    let mut f = fx();
    add(&mut f.dm, "Device.Test.Item.", &[("Name", "n")]);
    let ev = events(&mut f.dm);
    let schema = f.dm.schema();
    let [DmEvent::ObjectCreated { obj, numbers, keys }] = &ev[..] else { panic!("{ev:?}") };
    assert_eq!(schema.instance_path(*obj, numbers), "Device.Test.Item.1.");
    let keys: Vec<(String, String)> =
        keys.iter().map(|(p, v)| (schema.param(*p).name.to_string(), v.to_string())).collect();
    assert_eq!(keys, [("Alias".into(), "cpe-1".into()), ("Name".into(), "n".into())]);
}

#[test]
fn abort_restores_values_rows_and_deleted_rows() {
    let mut f = three_items();
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[("Val", "1")]);
    set(&mut f.dm, "Device.Test.Item.1.Sub.1.", &[("Val", "11")]);
    f.s.borrow_mut().ports = vec!["eth0".into(), "eth1".into()];
    assert_eq!(objs(&mut f.dm, "Device.Test.Port.*.").len(), 2);
    set(&mut f.dm, "Device.Test.Port.2.", &[("Label", "l2")]);
    events(&mut f.dm);
    let before: Vec<_> =
        ["Device.Test.Item.*.", "Device.Test.Item.*.Sub.*.", "Device.Test.Port.*."]
            .iter()
            .map(|p| {
                let ts = resolve(&mut f.dm, p).expect("resolve");
                ts.iter()
                    .map(|t| {
                        (t.obj_path(&f.dm), f.dm.read_all(&Requester::Internal, t.obj, &t.numbers))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    let who = Requester::Internal;
    f.dm.begin(who.clone());
    set_in(&mut f.dm, &who, "Device.Test.Item.*.", &[("Count", "7"), ("Tags", "q")]).expect("set");
    set_in(&mut f.dm, &who, "Device.Test.Item.1.Sub.1.", &[("Val", "-4")]).expect("set");
    add_in(&mut f.dm, &who, "Device.Test.Item.", &[("Name", "new")]).expect("add");
    add_in(&mut f.dm, &who, "Device.Test.Item.2.Sub.", &[]).expect("add");
    del_in(&mut f.dm, &who, "Device.Test.Item.1.").expect("del");
    del_in(&mut f.dm, &who, "Device.Test.Port.2.").expect("del");
    assert_eq!(objs(&mut f.dm, "Device.Test.Item.*.").len(), 3);
    f.dm.abort();
    assert!(events(&mut f.dm).is_empty());
    let after: Vec<_> = ["Device.Test.Item.*.", "Device.Test.Item.*.Sub.*.", "Device.Test.Port.*."]
        .iter()
        .map(|p| {
            let ts = resolve(&mut f.dm, p).expect("resolve");
            ts.iter()
                .map(|t| {
                    (t.obj_path(&f.dm), f.dm.read_all(&Requester::Internal, t.obj, &t.numbers))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(before, after);
    // The restored external row keeps its key mapping: relisting changes nothing.
    assert_eq!(value(&mut f.dm, "Device.Test.Port.2.Key"), "eth1");
    assert!(events(&mut f.dm).is_empty());
    assert_eq!(f.s.borrow().aborts, 1);
}

#[test]
fn unique_key_conflict_on_add_and_on_set() {
    let mut f = three_items();
    let c = ctrl();
    let e = tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Item.", &[("Name", "a")]));
    assert_eq!(e.expect_err("dup").code, ErrorCode::UniqueKeyConflict);
    let e = tx(&mut f.dm, &c, |dm| set_in(dm, &c, "Device.Test.Item.2.", &[("Name", "c")]));
    assert_eq!(e.expect_err("dup").code, ErrorCode::UniqueKeyConflict);
    let e = tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Item.", &[("Alias", "cpe-1")]));
    assert_eq!(e.expect_err("dup").code, ErrorCode::UniqueKeyConflict);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.*.Name"), ["a", "b", "c"]);
    // Same key under another parent is fine.
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[("Alias", "s")]);
    add(&mut f.dm, "Device.Test.Item.2.Sub.", &[("Alias", "s")]);
}

#[test]
fn auto_assigned_aliases_are_distinct() {
    let mut f = fx();
    let c = ctrl();
    tx(&mut f.dm, &c, |dm| {
        add_in(dm, &c, "Device.Test.Item.", &[("Alias", "cpe-2"), ("Name", "x")])
    })
    .expect("add");
    for name in ["a", "b", "c"] {
        tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Item.", &[("Name", name)]))
            .expect("add");
    }
    let aliases = values(&mut f.dm, "Device.Test.Item.*.Alias");
    assert_eq!(aliases, ["cpe-2", "cpe-2-2", "cpe-3", "cpe-4"]);
    // A missing string key is assigned too (R-ADD.5).
    let p = add(&mut f.dm, "Device.Test.Item.", &[]);
    assert_eq!(value(&mut f.dm, &format!("{p}Name")), "cpe-5");
}

#[test]
fn instance_numbers_are_never_reused() {
    let mut f = three_items();
    del(&mut f.dm, "Device.Test.Item.3.");
    assert_eq!(add(&mut f.dm, "Device.Test.Item.", &[("Name", "d")]), "Device.Test.Item.4.");
    del(&mut f.dm, "Device.Test.Item.4.");
    f.restart();
    assert_eq!(add(&mut f.dm, "Device.Test.Item.", &[("Name", "e")]), "Device.Test.Item.5.");
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    del(&mut f.dm, "Device.Test.Item.1.Sub.2.");
    f.restart();
    assert_eq!(add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]), "Device.Test.Item.1.Sub.3.");
}

#[test]
fn add_on_a_non_table_is_7018() {
    let mut f = fx();
    let c = ctrl();
    let test = obj(&f.dm, "Device.Test.");
    f.dm.begin(c);
    assert_eq!(f.dm.add_row(test, &[], &[]).expect_err("not a table").code, ErrorCode::NotATable);
    assert_eq!(f.dm.delete_row(test, &[]).expect_err("not a table").code, ErrorCode::NotATable);
    f.dm.abort();
}

#[test]
fn add_and_delete_refused_by_access_for_a_controller_only() {
    let mut f = fx();
    f.s.borrow_mut().ports = vec!["eth0".into()];
    let c = ctrl();
    let e = tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Port.", &[]));
    assert_eq!(e.expect_err("read-only table").code, ErrorCode::ObjectNotCreatable);
    let e = tx(&mut f.dm, &c, |dm| del_in(dm, &c, "Device.Test.Port.1."));
    assert_eq!(e.expect_err("read-only table").code, ErrorCode::ObjectNotDeletable);
    let i = Requester::Internal;
    tx(&mut f.dm, &i, |dm| del_in(dm, &i, "Device.Test.Port.1.")).expect("internal delete");
    assert!(objs(&mut f.dm, "Device.Test.Port.*.").len() <= 1);
}

#[test]
fn writes_outside_a_transaction_fail() {
    let mut f = three_items();
    let item = obj(&f.dm, "Device.Test.Item.{i}.");
    assert_eq!(f.dm.add_row(item, &[], &[]).expect_err("no tx").code, ErrorCode::InternalError);
    assert_eq!(f.dm.delete_row(item, &[1]).expect_err("no tx").code, ErrorCode::InternalError);
}

#[test]
fn delete_emits_object_deleted_for_every_nested_row() {
    let mut f = three_items();
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    add(&mut f.dm, "Device.Test.Item.1.Sub.", &[]);
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Item.1.Sub.1.", "+Device.Test.Item.1.Sub.2."]);
    del(&mut f.dm, "Device.Test.Item.1.");
    assert_eq!(
        brief(&mut f.dm),
        ["-Device.Test.Item.1.Sub.1.", "-Device.Test.Item.1.Sub.2.", "-Device.Test.Item.1."]
    );
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.1.Sub.1."), ErrorCode::ObjectDoesNotExist);
}

#[test]
fn compound_unique_keys() {
    let mut f = fx();
    add(&mut f.dm, "Device.Test.Pair.", &[("A", "x"), ("B", "1")]);
    // Same A, other B: the set (A, B) differs and (L, A) differs through live L.
    add(&mut f.dm, "Device.Test.Pair.", &[("A", "x"), ("B", "2")]);
    let c = ctrl();
    let e = tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Pair.", &[("A", "x"), ("B", "1")]));
    assert_eq!(e.expect_err("dup").code, ErrorCode::UniqueKeyConflict);
    let e = tx(&mut f.dm, &c, |dm| set_in(dm, &c, "Device.Test.Pair.2.", &[("B", "1")]));
    assert_eq!(e.expect_err("dup").code, ErrorCode::UniqueKeyConflict);
    tx(&mut f.dm, &c, |dm| set_in(dm, &c, "Device.Test.Pair.2.", &[("A", "y"), ("B", "1")]))
        .expect("distinct");
}

#[test]
fn failed_add_leaves_no_row_when_the_transaction_goes_on() {
    let mut f = three_items();
    let c = ctrl();
    f.dm.begin(c.clone());
    let e = add_in(&mut f.dm, &c, "Device.Test.Item.", &[("Name", "a")]).expect_err("dup");
    assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
    let e = add_in(&mut f.dm, &c, "Device.Test.Item.", &[("Name", "veto")]).expect_err("veto");
    assert_eq!(e.code, ErrorCode::InvalidValue);
    add_in(&mut f.dm, &c, "Device.Test.Item.", &[("Name", "ok")]).expect("add");
    f.dm.commit();
    assert_eq!(values(&mut f.dm, "Device.Test.Item.*.Name"), ["a", "b", "c", "ok"]);
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Item.6."]);
}

#[test]
fn row_added_and_deleted_in_one_transaction_emits_nothing() {
    let mut f = three_items();
    let who = Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        let p = add_in(dm, &who, "Device.Test.Item.", &[("Name", "tmp")])?;
        add_in(dm, &who, &format!("{p}Sub."), &[])?;
        del_in(dm, &who, &p)
    })
    .expect("tx");
    assert_eq!(brief(&mut f.dm), Vec::<String>::new());
    f.dm.flush().expect("flush");
    assert!(!f.store.has_row("Device.Test.Item.4."));
}

#[test]
fn value_changes_in_other_tables_with_the_same_numbers_are_reported() {
    let mut f = fx();
    f.s.borrow_mut().ports = vec!["a".into()];
    assert_eq!(objs(&mut f.dm, "Device.Test.Port.*."), ["Device.Test.Port.1."]);
    events(&mut f.dm);
    let who = Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        add_in(dm, &who, "Device.Test.Item.", &[("Name", "n")])?;
        set_in(dm, &who, "Device.Test.Port.1.", &[("Label", "uplink")])
    })
    .expect("tx");
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Item.1.", "Device.Test.Port.1.Label=uplink"]);
}

#[test]
fn value_set_and_set_back_in_one_transaction_emits_nothing() {
    let mut f = three_items();
    f.dm.flush().expect("flush");
    let who = Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        set_in(dm, &who, "Device.Test.Item.1.", &[("Count", "1")])?;
        set_in(dm, &who, "Device.Test.Item.1.", &[("Count", "100")])
    })
    .expect("set");
    assert_eq!(brief(&mut f.dm), Vec::<String>::new());
}

#[test]
fn an_empty_alias_in_an_add_is_assigned_but_not_accepted_in_a_set() {
    let mut f = fx();
    let c = ctrl();
    let p = tx(&mut f.dm, &c, |dm| {
        add_in(dm, &c, "Device.Test.Item.", &[("Alias", ""), ("Name", "e")])
    })
    .expect("add with empty Alias");
    assert_eq!(value(&mut f.dm, &format!("{p}Alias")), "cpe-1");
    let e = tx(&mut f.dm, &c, |dm| add_in(dm, &c, "Device.Test.Item.", &[("Alias", "9lives")]));
    assert_eq!(e.expect_err("digit").code, ErrorCode::InvalidValue);
}
