//! The seams between the core and its host: what `handle_record` says of bytes that are not a
//! Record, the trace hook (each received Record decoded once), and `poll_timeout` while
//! data-model events wait.

use std::sync::{Arc, Mutex};

use usp_datamodel::plugin::Requester;
use usp_datamodel::value::Value;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};
use usp_proto::record::Record;

use super::harness::*;
use super::subs::*;
use crate::{Handled, TraceHook};

fn get_record(id: &str) -> Record {
    let get = msg::Get { param_paths: vec!["Device.Test.Label".into()], max_depth: 0 };
    Record::no_session_context_msg("1.4", AGENT, CTRL, &Msg::request(id, ReqType::Get(get)))
}

#[test]
fn bytes_that_are_not_a_record_are_reported() {
    let mut h = Harness::new();
    let now = h.now;
    assert_eq!(h.core.handle_record(now, &[0xff; 16]), Handled::NotARecord);
    let full = get_record("x").to_bytes();
    assert_eq!(h.core.handle_record(now, &full[..full.len() - 3]), Handled::NotARecord);
    let Handled::Record(out) = h.core.handle_record(now, &full) else { panic!("a Record") };
    assert_eq!(out.len(), 1);
}

/// What the trace hook was shown: `sender msg_id` per Record (`-` without a Msg).
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl TraceHook for Seen {
    fn received(&mut self, record: &Record, msg: Option<&Msg>) {
        let id = msg.and_then(|m| m.msg_id()).unwrap_or("-");
        self.0.lock().unwrap().push(format!("{} {id}", record.from_id));
    }
}

#[test]
fn the_trace_hook_is_shown_each_decoded_record_once() {
    let mut h = Harness::new();
    let seen = Seen::default();
    h.core.set_trace(Box::new(seen.clone()));
    assert_eq!(h.record(&get_record("t-1")).len(), 1);
    h.bytes(&[0xff; 8]);
    let bye = crate::disconnect_record(AGENT, CTRL, "bye", usp_datamodel::ErrorCode::Other(0));
    h.record(&bye);
    let seen = seen.0.lock().unwrap().clone();
    assert_eq!(seen, [format!("{CTRL} t-1"), format!("{CTRL} -")]);
}

#[test]
fn poll_timeout_is_now_while_events_wait() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "lbl", "ValueChange", "Device.Test.Label", &[]);
    h.advance(0);
    // A change made outside any input of the core (as a host's link status write was).
    let dm = h.core.dm();
    let obj = dm.schema().obj_by_path("Device.Test.").unwrap();
    let label = dm.schema().param_by_name(obj, "Label").unwrap();
    dm.begin(Requester::Internal);
    dm.set_values(obj, &[], &[(label, Value::String("moved".into()))]).unwrap();
    dm.commit();
    assert_eq!(h.core.poll_timeout(), Some(h.now.uptime), "the events are due now");
    let n = one_notify(&h.advance(0));
    let Notification::ValueChange(v) = n.notification() else { panic!("{n:?}") };
    assert_eq!((v.param_path.as_str(), v.param_value.as_str()), ("Device.Test.Label", "moved"));
    assert_ne!(h.core.poll_timeout(), Some(h.now.uptime), "nothing waits any more");
}
