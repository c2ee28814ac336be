//! The unique-key index: lookups agree with the rows through adds, sets, deletes, aborts,
//! external listings and restarts.

use super::fixture::*;
use crate::error::ErrorCode;
use crate::plugin::Requester;
use std::collections::HashSet;

/// A tiny deterministic PRNG (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Panics when two rows of a table share a value of `param` (or a tuple of `params`).
fn assert_distinct(f: &mut Fx, table: &str, params: &[&str]) {
    let rows = objs(&mut f.dm, &format!("{table}*."));
    let mut seen = HashSet::new();
    for row in rows {
        let tuple: Vec<String> =
            params.iter().map(|p| value(&mut f.dm, &format!("{row}{p}"))).collect();
        assert!(seen.insert(tuple.clone()), "{table} {params:?} not unique: {tuple:?}");
    }
}

/// The stored tuples of `params` in every row of `table` (an instance path ending with `.`).
fn tuples(f: &mut Fx, table: &str, params: &[&str]) -> Vec<(String, Vec<String>)> {
    objs(&mut f.dm, &format!("{table}*."))
        .into_iter()
        .map(|row| {
            let t = params.iter().map(|p| value(&mut f.dm, &format!("{row}{p}"))).collect();
            (row, t)
        })
        .collect()
}

/// True when some row of `table` other than `except` has `tuple` in `params`.
fn taken(f: &mut Fx, table: &str, except: &str, params: &[&str], tuple: &[&str]) -> bool {
    tuples(f, table, params).iter().any(|(row, t)| row != except && t.iter().eq(tuple.iter()))
}

#[test]
fn key_index_survives_a_long_random_sequence() {
    let mut f = fx();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let names = ["n0", "n1", "n2", "n3", "n4", "n5", "cpe-3", "cpe-7", ""];
    let aliases = ["a0", "a1", "a2", "cpe-1", "cpe-2", "cpe-5", ""];
    let ab = ["x", "y", "z", ""];
    let ports = ["eth0", "eth1", "eth2", "eth3"];
    let who = Requester::Internal;
    let c = ctrl();
    let mut conflicts = 0;
    for step in 0..2000 {
        let abort = rng.below(5) == 0;
        f.dm.begin(who.clone());
        for _ in 0..1 + rng.below(3) {
            let items = objs(&mut f.dm, "Device.Test.Item.*.");
            let pairs = objs(&mut f.dm, "Device.Test.Pair.*.");
            let op = rng.below(12);
            let result = match op {
                // Add an item with a given or an assigned Name / Alias.
                0..=2 => {
                    let (n, a) = (rng.pick(&names), rng.pick(&aliases));
                    let mut vals = Vec::new();
                    if !n.is_empty() {
                        vals.push(("Name", n));
                    }
                    if !a.is_empty() || rng.below(2) == 0 {
                        vals.push(("Alias", a));
                    }
                    let clash = (!n.is_empty()
                        && taken(&mut f, "Device.Test.Item.", "", &["Name"], &[n]))
                        || (!a.is_empty()
                            && taken(&mut f, "Device.Test.Item.", "", &["Alias"], &[a]));
                    let r = add_in(&mut f.dm, &c, "Device.Test.Item.", &vals).map(|_| ());
                    assert_eq!(r.is_err(), clash, "step {step}: add item {vals:?}: {r:?}");
                    r
                }
                // Set the Name or the Alias of an item.
                3..=4 if !items.is_empty() => {
                    let row = items[rng.below(items.len())].clone();
                    let (param, v) = if rng.below(2) == 0 {
                        ("Name", rng.pick(&names))
                    } else {
                        ("Alias", rng.pick(&aliases[..aliases.len() - 1]))
                    };
                    let clash = taken(&mut f, "Device.Test.Item.", &row, &[param], &[v]);
                    let r = set_in(&mut f.dm, &who, &row, &[(param, v)]);
                    assert_eq!(r.is_err(), clash, "step {step}: set {row}{param}={v}: {r:?}");
                    r
                }
                // Add a sub-row with a given or an assigned Alias.
                5 if !items.is_empty() => {
                    let row = items[rng.below(items.len())].clone();
                    let a = rng.pick(&aliases);
                    let table = format!("{row}Sub.");
                    let clash = !a.is_empty() && taken(&mut f, &table, "", &["Alias"], &[a]);
                    let r = add_in(&mut f.dm, &c, &table, &[("Alias", a)]).map(|_| ());
                    assert_eq!(r.is_err(), clash, "step {step}: add {table} {a}: {r:?}");
                    r
                }
                // Add a pair (compound key A, B; empty ones are assigned).
                6 => {
                    let (a, b) = (rng.pick(&ab), rng.pick(&ab));
                    let clash = !a.is_empty()
                        && !b.is_empty()
                        && taken(&mut f, "Device.Test.Pair.", "", &["A", "B"], &[a, b]);
                    let r = add_in(&mut f.dm, &c, "Device.Test.Pair.", &[("A", a), ("B", b)])
                        .map(|_| ());
                    assert_eq!(r.is_err(), clash, "step {step}: add pair {a},{b}: {r:?}");
                    r
                }
                // Set A or B of a pair.
                7 if !pairs.is_empty() => {
                    let row = pairs[rng.below(pairs.len())].clone();
                    let mut t: Vec<String> =
                        ["A", "B"].iter().map(|p| value(&mut f.dm, &format!("{row}{p}"))).collect();
                    let i = rng.below(2);
                    t[i] = rng.pick(&ab).to_string();
                    let tuple = [t[0].as_str(), t[1].as_str()];
                    let clash = taken(&mut f, "Device.Test.Pair.", &row, &["A", "B"], &tuple);
                    let r = set_in(&mut f.dm, &who, &row, &[(["A", "B"][i], &t[i])]);
                    assert_eq!(r.is_err(), clash, "step {step}: set {row} {tuple:?}: {r:?}");
                    r
                }
                // Delete an item (with its sub-rows) or a pair.
                8 if !items.is_empty() => {
                    let row = items[rng.below(items.len())].clone();
                    del_in(&mut f.dm, &who, &row)
                }
                9 if !pairs.is_empty() => {
                    let row = pairs[rng.below(pairs.len())].clone();
                    del_in(&mut f.dm, &who, &row)
                }
                // Change the external rows and list them.
                10 => {
                    let keys: Vec<String> =
                        ports.iter().filter(|_| rng.below(2) == 0).map(|k| k.to_string()).collect();
                    f.s.borrow_mut().ports = keys;
                    resolve(&mut f.dm, "Device.Test.Port.*.").map(|_| ())
                }
                _ => Ok(()),
            };
            if let Err(e) = result {
                assert_eq!(e.code, ErrorCode::UniqueKeyConflict, "step {step}: {e}");
                conflicts += 1;
            }
            check_keys(&mut f.dm);
        }
        if abort {
            f.dm.abort();
        } else {
            f.dm.commit();
        }
        events(&mut f.dm);
        check_keys(&mut f.dm);
        if rng.below(40) == 0 {
            f.restart();
        }
        assert_distinct(&mut f, "Device.Test.Item.", &["Name"]);
        assert_distinct(&mut f, "Device.Test.Item.", &["Alias"]);
        assert_distinct(&mut f, "Device.Test.Pair.", &["A", "B"]);
        assert_distinct(&mut f, "Device.Test.Pair.", &["Alias"]);
        for row in objs(&mut f.dm, "Device.Test.Item.*.") {
            assert_distinct(&mut f, &format!("{row}Sub."), &["Alias"]);
        }
    }
    // The sequence exercised both outcomes.
    assert!(conflicts > 50, "{conflicts} conflicts");
    assert!(!objs(&mut f.dm, "Device.Test.Item.*.").is_empty());
}
