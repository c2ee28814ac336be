//! External rows: stable numbers, creation and deletion events, resync.

use super::fixture::*;

fn ports(f: &mut Fx, keys: &[&str]) {
    f.s.borrow_mut().ports = keys.iter().map(|k| k.to_string()).collect();
}

fn port_map(f: &mut Fx) -> Vec<String> {
    get(&mut f.dm, "Device.Test.Port.*.Key").into_iter().map(|(p, v)| format!("{p}={v}")).collect()
}

#[test]
fn external_rows_keep_their_numbers_across_relisting() {
    let mut f = fx();
    ports(&mut f, &["a", "b", "c"]);
    assert_eq!(
        port_map(&mut f),
        ["Device.Test.Port.1.Key=a", "Device.Test.Port.2.Key=b", "Device.Test.Port.3.Key=c"]
    );
    assert!(events(&mut f.dm).is_empty(), "first listing reports nothing");
    ports(&mut f, &["c", "d", "a"]);
    assert_eq!(
        port_map(&mut f),
        ["Device.Test.Port.1.Key=a", "Device.Test.Port.3.Key=c", "Device.Test.Port.4.Key=d"]
    );
    assert_eq!(brief(&mut f.dm), ["-Device.Test.Port.2.", "+Device.Test.Port.4."]);
    // b comes back: a new number.
    ports(&mut f, &["a", "b"]);
    assert_eq!(port_map(&mut f), ["Device.Test.Port.1.Key=a", "Device.Test.Port.5.Key=b"]);
}

#[test]
fn external_rows_keep_their_numbers_across_restart() {
    let mut f = fx();
    ports(&mut f, &["a", "b", "c"]);
    port_map(&mut f);
    set(&mut f.dm, "Device.Test.Port.2.", &[("Label", "bee")]);
    ports(&mut f, &["a", "c"]);
    port_map(&mut f);
    events(&mut f.dm);
    f.restart();
    ports(&mut f, &["c", "a", "e"]);
    assert_eq!(
        port_map(&mut f),
        ["Device.Test.Port.1.Key=a", "Device.Test.Port.3.Key=c", "Device.Test.Port.4.Key=e"]
    );
    assert!(events(&mut f.dm).is_empty(), "first listing after a restart reports nothing");
    ports(&mut f, &["c", "a", "e", "b"]);
    assert_eq!(port_map(&mut f).last().map(String::as_str), Some("Device.Test.Port.5.Key=b"));
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Port.5."]);
}

#[test]
fn stored_values_of_external_rows_survive_restart() {
    let mut f = fx();
    ports(&mut f, &["a", "b"]);
    port_map(&mut f);
    set(&mut f.dm, "Device.Test.Port.2.", &[("Label", "bee")]);
    f.restart();
    assert_eq!(value(&mut f.dm, "Device.Test.Port.2.Label"), "bee");
}

#[test]
fn rows_changed_triggers_a_resync() {
    let mut f = fx();
    ports(&mut f, &["a"]);
    port_map(&mut f);
    ports(&mut f, &["a", "b"]);
    f.s.borrow_mut().resync = true;
    let calls = f.s.borrow().list_calls;
    f.dm.tick(crate::plugin::Now::default(), true);
    assert!(f.s.borrow().list_calls > calls);
    assert_eq!(brief(&mut f.dm), ["+Device.Test.Port.2."]);
}

#[test]
fn vanished_external_row_deletes_its_stored_values() {
    let mut f = fx();
    ports(&mut f, &["a", "b"]);
    port_map(&mut f);
    set(&mut f.dm, "Device.Test.Port.2.", &[("Label", "bee")]);
    f.dm.flush().expect("flush");
    assert_eq!(f.store.value("Device.Test.Port.2.Label").as_deref(), Some("bee"));
    ports(&mut f, &["a"]);
    port_map(&mut f);
    f.dm.flush().expect("flush");
    assert_eq!(f.store.value("Device.Test.Port.2.Label"), None);
    assert!(!f.store.has_row("Device.Test.Port.2."));
}
