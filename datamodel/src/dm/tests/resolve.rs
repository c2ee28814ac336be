//! Path resolution.

use super::fixture::*;
use crate::error::ErrorCode;

#[test]
fn instance_and_wildcard_paths_resolve_to_existing_rows() {
    let mut f = three_items();
    assert_eq!(objs(&mut f.dm, "Device.Test.Item.2."), ["Device.Test.Item.2."]);
    assert_eq!(
        objs(&mut f.dm, "Device.Test.Item.*."),
        ["Device.Test.Item.1.", "Device.Test.Item.2.", "Device.Test.Item.3."]
    );
    assert_eq!(values(&mut f.dm, "Device.Test.Item.*.Name"), ["a", "b", "c"]);
    assert_eq!(value(&mut f.dm, "Device.Test.Item.3.Count"), "900");
}

#[test]
fn search_supports_every_operator() {
    let mut f = three_items();
    let names =
        |f: &mut Fx, expr: &str| values(&mut f.dm, &format!("Device.Test.Item.[{expr}].Name"));
    assert_eq!(names(&mut f, "Count==600"), ["b"]);
    assert_eq!(names(&mut f, "Count!=600"), ["a", "c"]);
    assert_eq!(names(&mut f, "Count<600"), ["a"]);
    assert_eq!(names(&mut f, "Count>600"), ["c"]);
    assert_eq!(names(&mut f, "Count<=600"), ["a", "b"]);
    assert_eq!(names(&mut f, "Count>=600"), ["b", "c"]);
    assert_eq!(names(&mut f, "Tags~=\"y\""), ["a", "b"]);
    assert_eq!(names(&mut f, "Tags~=\"z\""), ["b"]);
    assert_eq!(names(&mut f, "Name==\"c\""), ["c"]);
    assert_eq!(names(&mut f, "Enabled==true"), ["b"]);
    assert_eq!(names(&mut f, "Ratio>1.5"), ["c"]);
    assert_eq!(names(&mut f, "Alias==\"cpe-2\""), ["b"]);
}

#[test]
fn search_with_and_and_whitespace() {
    let mut f = three_items();
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Count>100&&Count<900].Name"), ["b"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[ Count > 100 && Tags ~= \"y\" ].Name"), ["b"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Count>100&&Enabled==false].Name"), ["c"]);
}

#[test]
fn search_on_live_parameter() {
    let mut f = three_items();
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Status==\"Up\"].Name"), ["b"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Double>1000].Name"), ["b", "c"]);
}

#[test]
fn search_through_single_instance_sub_object() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.3.Stats.", &[("Errors", "4")]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Stats.Errors>0].Name"), ["c"]);
    assert_eq!(
        objs(&mut f.dm, "Device.Test.Item.[Stats.Errors==0].Stats."),
        ["Device.Test.Item.1.Stats.", "Device.Test.Item.2.Stats."]
    );
}

#[test]
fn search_into_child_table_is_refused() {
    let mut f = three_items();
    resolve(&mut f.dm, "Device.Test.Item.[Sub.Val==1].").expect_err("crosses a table");
}

#[test]
fn reference_following() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Ref", "Device.Test.Item.3")]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.1.Ref+.Name"), ["c"]);
    // A reference with a trailing dot and key-based addressing are accepted too.
    set(&mut f.dm, "Device.Test.Item.2.", &[("Ref", "Device.Test.Item.[Name==\"a\"].")]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.2.Ref+.Name"), ["a"]);
    assert_eq!(objs(&mut f.dm, "Device.Test.Item.1.Ref+."), ["Device.Test.Item.3."]);
    // An empty or dangling reference resolves to nothing.
    assert!(values(&mut f.dm, "Device.Test.Item.3.Ref+.Name").is_empty());
    set(&mut f.dm, "Device.Test.Item.3.", &[("Ref", "Device.Test.Item.99")]);
    assert!(values(&mut f.dm, "Device.Test.Item.3.Ref+.Name").is_empty());
}

#[test]
fn reference_following_inside_search() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Ref", "Device.Test.Item.3")]);
    set(&mut f.dm, "Device.Test.Item.2.", &[("Ref", "Device.Test.Item.1")]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Ref+.Name==\"c\"].Name"), ["a"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Ref+.Count<500].Name"), ["b"]);
    assert!(values(&mut f.dm, "Device.Test.Item.[Ref+.Name==\"zz\"].Name").is_empty());
}

#[test]
fn list_reference_following() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Refs", "Device.Test.Item.2, Device.Test.Item.3")]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.1.Refs#1+.Name"), ["b"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.1.Refs#2+.Name"), ["c"]);
    assert!(values(&mut f.dm, "Device.Test.Item.1.Refs#3+.Name").is_empty());
    assert_eq!(values(&mut f.dm, "Device.Test.Item.1.Refs#*+.Name"), ["b", "c"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Item.[Refs#*+.Name==\"c\"].Name"), ["a"]);
}

#[test]
fn reference_loop_terminates() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Ref", "Device.Test.Item.2")]);
    set(&mut f.dm, "Device.Test.Item.2.", &[("Ref", "Device.Test.Item.1")]);
    let long = format!("Device.Test.Item.1.{}Name", "Ref+.".repeat(30));
    assert_eq!(values(&mut f.dm, &long), ["a"]);
    // A reference whose value is itself a search following the reference is not an instance
    // path: it designates nothing (it used to recurse until a depth limit).
    set(&mut f.dm, "Device.Test.Item.1.", &[("Ref", "Device.Test.Item.[Ref+.Name==\"a\"]")]);
    set(&mut f.dm, "Device.Test.Item.2.", &[("Ref", "Device.Test.Item.[Ref+.Name==\"b\"]")]);
    assert!(values(&mut f.dm, "Device.Test.Item.1.Ref+.Name").is_empty());
}

#[test]
fn following_a_parameter_not_declared_a_reference_is_7026() {
    let mut f = three_items();
    set(&mut f.dm, "Device.Test.Item.1.", &[("Tags", "Device.Test.Item.2")]);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.1.Tags#*+.Name"), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.1.Name+.Name"), ErrorCode::InvalidPath);
    assert_eq!(
        resolve_err(&mut f.dm, "Device.Test.Item.[Tags#*+.Name==\"b\"].Name"),
        ErrorCode::InvalidPath
    );
}

#[test]
fn reference_values_are_instance_paths_not_path_grammar() {
    let mut f = three_items();
    for value in [
        "Device.Test.Item.*",
        "Device.Test.Item.[Count>0]..",
        "Device.Test.Item.1.Ref+",
        "Device.Test.Item.[Refs#*+.Name==\"a\"]",
        "Device.Test.Item.1.Name",
        "Device.Test.Item",
        "Device.Test.Item.{i}",
        "Test.Item.1",
    ] {
        set(&mut f.dm, "Device.Test.Item.3.", &[("Ref", value)]);
        assert!(objs(&mut f.dm, "Device.Test.Item.3.Ref+.").is_empty(), "{value}");
    }
    // A search that matches several rows designates the first one only.
    set(&mut f.dm, "Device.Test.Item.3.", &[("Ref", "Device.Test.Item.[Count>100]")]);
    assert_eq!(objs(&mut f.dm, "Device.Test.Item.3.Ref+."), ["Device.Test.Item.2."]);
}

/// Issue 20, first denial of service: a list reference naming the same rows several times,
/// followed over and over, used to double the cursors at every step (20 steps: 20 s, 844 MB).
#[test]
fn dos_exponential_reference_chain_is_merged() {
    let mut f = three_items();
    let twice = "Device.Test.Item.1,Device.Test.Item.2,Device.Test.Item.1,Device.Test.Item.2";
    for n in 1..=3 {
        set(&mut f.dm, &format!("Device.Test.Item.{n}."), &[("Refs", twice)]);
    }
    let chain = "Refs#*+.".repeat(crate::path::limits::MAX_REFERENCE_STEPS);
    let start = std::time::Instant::now();
    assert_eq!(values(&mut f.dm, &format!("Device.Test.Item.3.{chain}Name")), ["a", "b"]);
    assert_eq!(
        values(&mut f.dm, &format!("Device.Test.Item.[{chain}Name==\"a\"].Name")),
        ["a", "b", "c"]
    );
    assert_eq!(
        values(&mut f.dm, &format!("Device.Test.Item.*.{chain}Name")),
        ["a", "b"],
        "three rows leading to the same two instances: each once"
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(2), "{:?}", start.elapsed());
}

#[test]
fn one_reference_step_designates_at_most_max_followed_instances() {
    let mut f = three_items();
    // MAX_FOLLOWED + 1 rows, each referencing itself, followed from a wildcard.
    let rows = crate::MAX_FOLLOWED as u32 + 1;
    let who = crate::plugin::Requester::Internal;
    tx(&mut f.dm, &who, |dm| {
        for n in 4..=rows {
            add_in(dm, &who, "Device.Test.Item.", &[("Name", &format!("n{n}"))])?;
        }
        for n in 1..=rows {
            let me = format!("Device.Test.Item.{n}");
            set_in(dm, &who, &format!("{me}."), &[("Ref", &me)])?;
        }
        Ok(())
    })
    .expect("rows");
    let err = resolve(&mut f.dm, "Device.Test.Item.*.Ref+.").expect_err("too many");
    assert_eq!(err.code, ErrorCode::ResourcesExceeded);
    assert_eq!(objs(&mut f.dm, "Device.Test.Item.[Name==\"n9\"].Ref+."), ["Device.Test.Item.9."]);
}

#[test]
fn unknown_names_are_7026() {
    let mut f = three_items();
    assert_eq!(resolve_err(&mut f.dm, "Device.Nope."), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.1.Nope"), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.*.Nope"), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.Name"), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.1."), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Nope()"), ErrorCode::InvalidPath);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.[Nope==1]."), ErrorCode::InvalidPath);
}

#[test]
fn missing_instance_in_non_search_path_is_7016() {
    let mut f = three_items();
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.9."), ErrorCode::ObjectDoesNotExist);
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.9.Name"), ErrorCode::ObjectDoesNotExist);
    assert_eq!(
        resolve_err(&mut f.dm, "Device.Test.Item.1.Sub.1.Val"),
        ErrorCode::ObjectDoesNotExist
    );
}

#[test]
fn search_matching_nothing_is_empty_ok() {
    let mut f = three_items();
    assert!(objs(&mut f.dm, "Device.Test.Item.[Count>999].").is_empty());
    assert!(objs(&mut f.dm, "Device.Test.Item.*.Sub.*.").is_empty());
    // An instance number missing in a search path is not an error either.
    assert!(objs(&mut f.dm, "Device.Test.Item.[Count>0].Sub.5.").is_empty());
    let mut empty = fx();
    assert!(objs(&mut empty.dm, "Device.Test.Item.*.").is_empty());
    // Ordering on a string is only an error when a row is evaluated.
    assert!(objs(&mut empty.dm, "Device.Test.Item.[Name>1].").is_empty());
}

#[test]
fn placeholder_in_instantiated_path_is_7008() {
    let mut f = three_items();
    assert_eq!(resolve_err(&mut f.dm, "Device.Test.Item.{i}.Name"), ErrorCode::InvalidPathSyntax);
}

#[test]
fn ordering_operator_on_string_or_boolean_is_an_error() {
    let mut f = three_items();
    resolve(&mut f.dm, "Device.Test.Item.[Name>\"a\"].").expect_err("string ordering");
    resolve(&mut f.dm, "Device.Test.Item.[Enabled<true].").expect_err("boolean ordering");
    resolve(&mut f.dm, "Device.Test.Item.[Count>\"abc\"].").expect_err("not a number");
}

#[test]
fn external_rows_resolve_after_listing() {
    let mut f = fx();
    f.s.borrow_mut().ports = vec!["eth0".into(), "eth1".into()];
    f.s.borrow_mut().up = vec!["eth1".into()];
    assert_eq!(values(&mut f.dm, "Device.Test.Port.*.Key"), ["eth0", "eth1"]);
    assert_eq!(values(&mut f.dm, "Device.Test.Port.[Up==true].Key"), ["eth1"]);
    assert_eq!(value(&mut f.dm, "Device.Test.Port.2.Key"), "eth1");
}
