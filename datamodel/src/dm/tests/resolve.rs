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
    let long = format!("Device.Test.Item.1.{}Name", "Ref+.".repeat(40));
    assert_eq!(values(&mut f.dm, &long), ["a"]);
    // A reference whose value is itself a search following the reference: bounded depth.
    set(&mut f.dm, "Device.Test.Item.1.", &[("Ref", "Device.Test.Item.[Ref+.Name==\"a\"]")]);
    set(&mut f.dm, "Device.Test.Item.2.", &[("Ref", "Device.Test.Item.[Ref+.Name==\"b\"]")]);
    // The nesting limit ends the loop with 7008 (references nest too deeply).
    let r = resolve(&mut f.dm, "Device.Test.Item.1.Ref+.Name");
    assert_eq!(r.expect_err("reference nesting limit").code, ErrorCode::InvalidPathSyntax);
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
