//! The polling fallback for live parameters.

use super::fixture::*;
use crate::plugin::Now;
use crate::{DEFAULT_POLL_INTERVAL, Item};
use std::time::Duration;

fn at(secs: u64) -> Now {
    Now { uptime: Duration::from_secs(secs), ..Now::default() }
}

fn watch(f: &mut Fx, path_text: &str) {
    let t = resolve(&mut f.dm, path_text).unwrap().pop().unwrap();
    let Item::Param(p) = t.item else { panic!("not a parameter") };
    f.dm.watch(t.obj, &t.numbers, p);
}

#[test]
fn a_watched_live_parameter_reports_changes_at_the_poll_interval() {
    let mut f = fx();
    f.s.borrow_mut().ports = vec!["eth0".into()];
    watch(&mut f, "Device.Test.Port.1.Up");
    watch(&mut f, "Device.Test.Port.1.Up");
    assert_eq!(f.dm.watched(), 1, "watching twice is one watch");
    assert_eq!(f.dm.next_wake(), Some(DEFAULT_POLL_INTERVAL));
    events(&mut f.dm);

    f.s.borrow_mut().up = vec!["eth0".into()];
    f.dm.tick(at(4), false);
    assert!(events(&mut f.dm).is_empty(), "not due before the interval");
    f.dm.tick(at(5), false);
    assert_eq!(brief(&mut f.dm), ["Device.Test.Port.1.Up=true"]);
    assert_eq!(f.dm.next_wake(), Some(Duration::from_secs(10)));
    f.dm.tick(at(10), false);
    assert!(events(&mut f.dm).is_empty(), "no change, no event");
}

#[test]
fn stored_parameters_are_not_polled_and_vanished_rows_drop_out() {
    let mut f = three_items();
    watch(&mut f, "Device.Test.Item.1.Name");
    assert_eq!(f.dm.watched(), 0, "stored values report changes without polling");
    f.s.borrow_mut().ports = vec!["eth0".into()];
    watch(&mut f, "Device.Test.Port.1.Up");
    f.s.borrow_mut().ports.clear();
    f.dm.tick(at(5), false);
    assert_eq!(f.dm.watched(), 0, "a parameter that can no longer be read is dropped");
    assert_eq!(f.dm.next_wake(), None);
    f.dm.unwatch_all();
}
