//! Commands: arguments, async completion, cancel.

use super::fixture::*;
use crate::error::ErrorCode;
use crate::plugin::{DmEvent, Now, Outcome, Requester};
use crate::value::Value;
use std::time::Duration;

fn run(
    f: &mut Fx,
    cmd: &str,
    args: &[(&str, &str)],
) -> Result<(crate::plugin::OpHandle, Outcome), crate::UspError> {
    let t = resolve(&mut f.dm, cmd).expect("resolve").remove(0);
    let input: Vec<(String, String)> =
        args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    f.dm.operate(&ctrl(), &t, &input)
}

#[test]
fn sync_command_with_mandatory_default_and_optional_args() {
    let mut f = fx();
    let (_, out) = run(&mut f, "Device.Test.Sync()", &[("A", "5")]).expect("run");
    assert_eq!(out, Outcome::Done(vec![("Sum".into(), Value::Int(12))]));
    assert_eq!(
        f.s.borrow().last_input,
        [("A".to_string(), "5".to_string()), ("B".into(), "7".into())]
    );
    let (_, out) =
        run(&mut f, "Device.Test.Sync()", &[("A", "-1"), ("B", "2"), ("C", "c"), ("Zz", "1")])
            .expect("run");
    assert_eq!(out, Outcome::Done(vec![("Sum".into(), Value::Int(1))]));
    assert_eq!(f.s.borrow().last_input.len(), 3, "unknown argument dropped");
}

#[test]
fn missing_mandatory_or_bad_argument_is_7027() {
    let mut f = fx();
    let e = run(&mut f, "Device.Test.Sync()", &[("B", "1")]).expect_err("missing A");
    assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
    let e = run(&mut f, "Device.Test.Sync()", &[("A", "x")]).expect_err("bad A");
    assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
    let e = run(&mut f, "Device.Test.Sync()", &[("A", "1"), ("B", "-2")]).expect_err("bad B");
    assert_eq!(e.code, ErrorCode::InvalidCommandArgs);
}

#[test]
fn operate_on_a_non_command_target_fails() {
    let mut f = fx();
    let t = resolve(&mut f.dm, "Device.Test.Mode").expect("resolve").remove(0);
    assert_eq!(f.dm.operate(&ctrl(), &t, &[]).expect_err("param").code, ErrorCode::InvalidPath);
}

#[test]
fn async_command_completes_on_tick() {
    let mut f = fx();
    let (h, out) = run(&mut f, "Device.Test.Slow()", &[]).expect("run");
    assert_eq!(out, Outcome::Running);
    assert_eq!(f.dm.running(), [h]);
    assert_eq!(f.dm.next_wake(), Some(Duration::from_secs(1)));
    f.dm.tick(Now { uptime: Duration::from_millis(500), ..Now::default() }, false);
    assert!(events(&mut f.dm).is_empty());
    f.dm.tick(Now { uptime: Duration::from_secs(1), ..Now::default() }, false);
    let ev = events(&mut f.dm);
    assert_eq!(
        ev,
        [DmEvent::OperationComplete {
            handle: h,
            result: Ok(vec![("Done".into(), Value::Boolean(true))])
        }]
    );
    assert!(f.dm.running().is_empty());
    assert_eq!(f.dm.next_wake(), None);
}

#[test]
fn cancel_request_reaches_the_plugin() {
    let mut f = fx();
    let (h, _) = run(&mut f, "Device.Test.Slow()", &[]).expect("run");
    // Stand-in for the core's `Request.{i}` row.
    let p = add(&mut f.dm, "Device.Test.Req.", &[]);
    let t = resolve(&mut f.dm, &p).expect("resolve").remove(0);
    let req = f.dm.instance(t.obj, &t.numbers);
    f.dm.link_request(h, req.clone());
    events(&mut f.dm);
    f.s.borrow_mut().cancel_request = Some(req);
    f.dm.tick(Now::default(), true);
    assert_eq!(f.s.borrow().canceled, [h]);
    let ev = events(&mut f.dm);
    assert!(
        matches!(&ev[..], [DmEvent::OperationComplete { handle, result: Err(e) }]
            if *handle == h && e.code == ErrorCode::CommandCanceled),
        "{ev:?}"
    );
    assert!(f.dm.running().is_empty());
    let _ = Requester::Internal;
}
