//! Subscriptions and the notification stream: create a `Device.LocalAgent.Subscription.{i}.`
//! row for ourselves, delete it, and pass events to a callback as they arrive.
//!
//! Never prints: the caller renders each event.

use std::time::{Duration, Instant};

use usp_proto::msg;
use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus;

use crate::client::{ClientError, Controller, Event, UspFailure};
use crate::request;

/// A subscription row we created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Its instance path (`Device.LocalAgent.Subscription.3.`).
    pub path: String,
    /// Its `ID`.
    pub id: String,
}

/// Creates an enabled, non-persistent subscription of `notif_type` to `reference_list`, with a
/// fresh ID. The agent makes us its Recipient.
pub fn subscribe(
    ctl: &mut Controller,
    notif_type: &str,
    reference_list: &str,
) -> Result<Subscription, ClientError> {
    let id = ctl.unique_id("uspctl");
    let resp = ctl.add(request::subscription(&id, notif_type, reference_list))?;
    let status = resp
        .created_obj_results
        .first()
        .and_then(|r| r.oper_status.as_ref())
        .and_then(|s| s.oper_status.as_ref());
    match status {
        Some(OperStatus::OperSuccess(ok)) => {
            Ok(Subscription { path: ok.instantiated_path.clone(), id })
        }
        Some(OperStatus::OperFailure(f)) => Err(ClientError::Usp(UspFailure {
            code: f.err_code,
            message: f.err_msg.clone(),
            param_errs: Vec::new(),
        })),
        None => Err(ClientError::Unexpected("AddResp without a result".into())),
    }
}

/// Deletes a subscription we created.
pub fn unsubscribe(ctl: &mut Controller, sub: &Subscription) -> Result<(), ClientError> {
    ctl.delete(msg::Delete { allow_partial: false, obj_paths: vec![sub.path.clone()] })?;
    Ok(())
}

/// When a watch stops by itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// After this many notifications.
    pub count: Option<u64>,
    /// After this long.
    pub duration: Option<Duration>,
}

/// Passes every event to `on_event` as it arrives, until a limit is reached, `on_event` returns
/// false (its output is gone), or the wait is interrupted (a normal end: Ctrl-C is how a watch
/// is stopped). Returns the number of notifications seen.
pub fn watch(
    ctl: &mut Controller,
    limits: Limits,
    on_event: &mut dyn FnMut(&Event) -> bool,
) -> Result<u64, ClientError> {
    let end = limits.duration.map(|d| Instant::now() + d);
    let mut seen = 0;
    while limits.count.is_none_or(|n| seen < n) {
        let slice = match end {
            Some(end) if Instant::now() >= end => break,
            Some(end) => end.saturating_duration_since(Instant::now()),
            None => Duration::from_secs(3600),
        };
        match ctl.next_event(slice) {
            Ok(Some(event)) => {
                if let Event::Notify(_) = event {
                    seen += 1;
                }
                if !on_event(&event) {
                    break;
                }
            }
            Ok(None) => {}
            Err(ClientError::Interrupted) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(seen)
}
