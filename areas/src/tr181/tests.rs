//! A listing of every supported object, parameter, command and event of the agent with all
//! its areas (what GetSupportedDM reports, with types, access, storage and constraints), to
//! compare the declarations before and after a change to the generated tables.

use std::fmt::Write as _;

use crate::testutil::Lab;
use crate::{AgentIdentity, Host, Platform};

/// Every object of the schema with its parameters, commands and events, one line each.
fn listing() -> String {
    let dir = std::env::temp_dir().join(format!("usp-tr181-listing-{}", std::process::id()));
    let host = Host::new(AgentIdentity::default(), Platform::Lab, &dir);
    let lab = Lab::new(crate::plugins(&host));
    let s = lab.dm.schema();
    let mut out = String::new();
    for (_, o) in s.objects() {
        let keys: Vec<Vec<&str>> =
            o.unique_keys.iter().map(|k| k.iter().map(|p| &*s.param(*p).name).collect()).collect();
        let _ = writeln!(out, "{} multi={} {:?} keys={keys:?}", o.path, o.multi, o.access);
        for p in &o.params {
            let d = s.param(*p);
            let _ = writeln!(
                out,
                "  {} {:?} {:?} {:?} {:?} default={:?} hidden={} ref={} vc={}",
                d.name,
                d.ty,
                d.access,
                d.storage,
                d.constraints,
                d.default,
                d.hidden,
                d.reference,
                d.value_change
            );
        }
        for c in &o.commands {
            let _ = writeln!(out, "  {:?}", s.command(*c));
        }
        for e in &o.events {
            let _ = writeln!(out, "  {:?}", s.event(*e));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

#[test]
fn the_listing_names_every_area_and_is_written_where_asked() {
    let text = listing();
    for root in ["Device.WiFi.", "Device.SoftwareModules.", "Device.BulkData.", "Device.IP."] {
        assert!(text.lines().any(|l| l.starts_with(root)), "{root}");
    }
    if let Some(file) = std::env::var_os("USP_SCHEMA_LISTING") {
        std::fs::write(file, &text).expect("write the listing");
    }
}
