//! NotifRetry: retry windows, NotifyResp, NotifExpiration, persistence across a restart.

use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};

use super::harness::*;
use super::subs::*;
use crate::BootInfo;

const PROVISIONING: &str = "Device.LocalAgent.Controller.1.ProvisioningCode";

/// A subscription on the controller's ProvisioningCode, as TP-469 1.54–1.56 use, and the
/// first Notify after a change of it.
fn first_notify(h: &mut Harness, extra: &[(&str, &str)]) -> Sent {
    let mut all = vec![("NotifRetry", "true")];
    all.extend_from_slice(extra);
    subscribe(h, "notify54", "ValueChange", PROVISIONING, &all);
    let n = one_notify(&set(h, "Device.LocalAgent.Controller.1.", "ProvisioningCode", "Test"));
    assert!(n.notify.send_resp, "NotifRetry asks for a NotifyResp");
    assert_eq!(h.core.pending_notifies().len(), 1);
    n
}

/// Waits for the next retry (at most `limit` s); returns the wait and the Notify.
fn next_retry(h: &mut Harness, limit: u64) -> (u64, Sent) {
    let (waited, out) = h.advance_to_timer(limit);
    (waited, one_notify(&out))
}

#[test]
fn tp469_1_54_notif_retry_windows_and_notify_resp() {
    let mut h = Harness::builtin();
    let first = first_notify(&mut h, &[]);
    let (w1, r1) = next_retry(&mut h, 10);
    assert!((5..=10).contains(&w1), "first retry after {w1} s");
    assert_eq!(r1.msg_id, first.msg_id, "a retry is the same message");
    assert_eq!(r1.notify, first.notify);
    let (w2, r2) = next_retry(&mut h, 20);
    assert!((10..=20).contains(&w2), "second retry after {w2} s");
    assert_eq!(r2.msg_id, first.msg_id);
    // A NotifyResp naming another subscription does not count (R-NOT.16).
    ack_from(&mut h, CTRL, &first.msg_id, "someone-else");
    assert_eq!(h.core.pending_notifies().len(), 1);
    // Nor does one from another endpoint.
    ack_from(&mut h, "self::stranger", &first.msg_id, "notify54");
    assert_eq!(h.core.pending_notifies().len(), 1);
    ack(&mut h, &first);
    assert!(h.core.pending_notifies().is_empty());
    assert_eq!(h.core.poll_timeout(), None, "no retry left");
}

#[test]
fn retries_follow_the_controller_parameters_up_to_the_tenth_window() {
    let mut h = Harness::builtin();
    h.default("Device.LocalAgent.Controller.1.USPNotifRetryMinimumWaitInterval", "2");
    h.default("Device.LocalAgent.Controller.1.USPNotifRetryIntervalMultiplier", "3000");
    first_notify(&mut h, &[]);
    let mut low = 2u64;
    for n in 1..=12 {
        let window = (low, low * 3);
        let (w, _) = next_retry(&mut h, window.1);
        assert!(w >= window.0 && w <= window.1, "retry {n} after {w} s, not in {window:?}");
        if n < 10 {
            low *= 3;
        }
    }
}

#[test]
fn tp469_1_56_notif_expiration_stops_retries() {
    let mut h = Harness::builtin();
    first_notify(&mut h, &[("NotifExpiration", "20")]);
    let (mut retries, mut elapsed) = (0, 0);
    for _ in 0..10 {
        if h.core.poll_timeout().is_none() {
            break;
        }
        let (waited, out) = h.advance_to_timer(20);
        elapsed += waited;
        assert!(elapsed <= 20, "the core still wakes {elapsed} s after the first Notify");
        retries += notifies(&out).len();
    }
    assert_eq!(h.core.poll_timeout(), None);
    assert!((1..=2).contains(&retries), "{retries} retries in 20 s");
    assert!(h.core.pending_notifies().is_empty());
    assert!(notifies(&h.advance(60)).is_empty());
}

#[test]
fn without_notif_retry_nothing_is_retried() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "s", "ValueChange", PROVISIONING, &[]);
    let n = one_notify(&set(&mut h, "Device.LocalAgent.Controller.1.", "ProvisioningCode", "x"));
    assert!(!n.notify.send_resp);
    assert!(h.core.pending_notifies().is_empty());
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn an_error_reply_ends_the_retries() {
    let mut h = Harness::builtin();
    let first = first_notify(&mut h, &[]);
    let err = msg::Error { err_code: 7000, err_msg: "no".into(), param_errs: vec![] };
    assert!(send_raw(&mut h, &Msg::error(first.msg_id.clone(), err)).is_empty());
    assert!(h.core.pending_notifies().is_empty());
}

#[test]
fn retries_go_on_without_any_message_from_the_controller() {
    // The core hands out each retry on its timer; whether a connection is up is the host's
    // business (it queues or drops), so a lost connection changes nothing here.
    let mut h = Harness::builtin();
    let first = first_notify(&mut h, &[]);
    for _ in 0..5 {
        let (_, r) = next_retry(&mut h, 200);
        assert_eq!(r.msg_id, first.msg_id);
    }
}

#[test]
fn persistent_subscriptions_resend_unacknowledged_notifies_after_a_restart() {
    let mut h = Harness::builtin();
    let first = first_notify(&mut h, &[("Persistent", "true"), ("NotifExpiration", "600")]);
    let key = format!("notify/{}", first.msg_id);
    assert!(h.store.meta(&key).is_some(), "written with the message's batch");
    h.restart(None);
    assert!(h.core.pending_notifies().is_empty(), "nothing is sent before boot");
    let out = h.core.boot(h.now, BootInfo::local(false, false));
    let again = one_notify(&out);
    assert_eq!(again.msg_id, first.msg_id);
    assert_eq!(again.notify, first.notify);
    // Retries start from the first window again (R-NOT.4).
    let (w, _) = next_retry(&mut h, 10);
    assert!((5..=10).contains(&w));
    ack(&mut h, &again);
    assert!(h.store.meta(&key).is_none(), "forgotten once acknowledged");
    h.restart(None);
    assert!(notifies(&h.core.boot(h.now, BootInfo::local(false, false))).is_empty());
}

#[test]
fn expired_or_orphaned_notifies_are_not_resent_after_a_restart() {
    let mut h = Harness::builtin();
    first_notify(&mut h, &[("Persistent", "true"), ("NotifExpiration", "30")]);
    // 60 s of wall clock pass over the restart: the notification expired meanwhile.
    h.restart(None);
    assert!(h.core.boot(h.now, BootInfo::local(false, false)).is_empty());
    assert!(h.store.meta_keys_with("notify/").is_empty());

    let mut h = Harness::builtin();
    let s = subscribe(&mut h, "p", "ValueChange", PROVISIONING, &[("Persistent", "true")]);
    set(&mut h, &s, "NotifRetry", "true");
    one_notify(&set(&mut h, "Device.LocalAgent.Controller.1.", "ProvisioningCode", "y"));
    let del = msg::Delete { allow_partial: false, obj_paths: vec![s] };
    send_raw(&mut h, &Msg::request("d", ReqType::Delete(del)));
    assert!(h.core.pending_notifies().is_empty(), "its subscription is gone");
    assert!(h.store.meta_keys_with("notify/").is_empty());
    assert_eq!(h.core.poll_timeout(), None);
}
