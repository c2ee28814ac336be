//! Helpers of the notification tests: subscriptions created by the controller with Add, the
//! Notify messages among what the core sends, NotifyResp.

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{self, Msg, Notify, body::MsgBody};
use usp_proto::record::Record;

use super::harness::*;
use crate::Outgoing;

/// The Add of an enabled `Device.LocalAgent.Subscription.` row with ID, NotifType,
/// ReferenceList and the `extra` settings.
pub fn subscription_add(id: &str, kind: &str, refs: &str, extra: &[(&str, &str)]) -> ReqType {
    let mut settings = vec![("ID", id), ("NotifType", kind), ("ReferenceList", refs)];
    settings.push(("Enable", "true"));
    settings.extend_from_slice(extra);
    ReqType::Add(msg::Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: settings
                .iter()
                .map(|(k, v)| CreateParamSetting {
                    param: (*k).into(),
                    value: (*v).into(),
                    required: true,
                })
                .collect(),
        }],
    })
}

/// Adds a subscription as [`CTRL`] (see [`subscription_add`]); returns its instance path.
/// Only the AddResp may come back.
pub fn subscribe(
    h: &mut Harness,
    id: &str,
    kind: &str,
    refs: &str,
    extra: &[(&str, &str)],
) -> String {
    let add = subscription_add(id, kind, refs, extra);
    let RespType::AddResp(r) = h.response(add) else { panic!("not an AddResp") };
    let status = r.created_obj_results[0].oper_status.clone().unwrap().oper_status.unwrap();
    let OperStatus::OperSuccess(ok) = status else { panic!("subscription refused: {status:?}") };
    ok.instantiated_path
}

/// Sends a Msg from [`CTRL`] and returns everything the core sends.
pub fn send_raw(h: &mut Harness, msg: &Msg) -> Vec<Outgoing> {
    h.record(&Record::no_session_context_msg("1.4", AGENT, CTRL, msg))
}

/// Sets one parameter (`obj` ends with `.`) as [`CTRL`]; returns everything the core sends
/// (the SetResp first).
pub fn set(h: &mut Harness, obj: &str, param: &str, value: &str) -> Vec<Outgoing> {
    let set = msg::Set {
        allow_partial: false,
        update_objs: vec![UpdateObject {
            obj_path: obj.into(),
            param_settings: vec![UpdateParamSetting {
                param: param.into(),
                value: value.into(),
                required: true,
            }],
        }],
    };
    let out = send_raw(h, &Msg::request("set", ReqType::Set(set)));
    assert!(out[0].in_reply, "the SetResp comes first");
    assert_eq!(decode_to_ctrl(&out[0]).msg_type(), Some(msg::header::MsgType::SetResp));
    out
}

/// One Notify the core sent: recipient, msg_id and the message.
#[derive(Clone, Debug)]
pub struct Sent {
    pub to: String,
    pub msg_id: String,
    pub notify: Notify,
}

impl Sent {
    /// The notification inside.
    pub fn notification(&self) -> &Notification {
        self.notify.notification.as_ref().expect("a notification")
    }
}

/// The Notify messages among `out` (each checked to be agent-originated, not a reply).
pub fn notifies(out: &[Outgoing]) -> Vec<Sent> {
    let mut found = Vec::new();
    for o in out {
        let msg = o.record.decode_no_session_context_msg().expect("a Msg");
        let Some(MsgBody::Request(msg::Request { req_type: Some(ReqType::Notify(n)) })) =
            msg.body.as_ref().and_then(|b| b.msg_body.clone())
        else {
            continue;
        };
        assert!(!o.in_reply, "a notification is never a reply");
        assert_eq!(o.record.to_id, o.to);
        assert_eq!(o.record.from_id, AGENT);
        found.push(Sent { to: o.to.clone(), msg_id: msg.msg_id().unwrap().into(), notify: n });
    }
    found
}

/// The one Notify among `out`.
pub fn one_notify(out: &[Outgoing]) -> Sent {
    let mut n = notifies(out);
    assert_eq!(n.len(), 1, "one Notify expected in {out:?}");
    n.remove(0)
}

/// Answers a Notify with a NotifyResp carrying `subscription_id`, from `from`.
pub fn ack_from(h: &mut Harness, from: &str, msg_id: &str, subscription_id: &str) {
    let resp = Msg::response(
        msg_id,
        RespType::NotifyResp(msg::NotifyResp { subscription_id: subscription_id.into() }),
    );
    let out = h.record(&Record::no_session_context_msg("1.4", AGENT, from, &resp));
    assert!(out.is_empty(), "a NotifyResp gets no answer: {out:?}");
}

/// Answers a Notify as [`CTRL`].
pub fn ack(h: &mut Harness, sent: &Sent) {
    let id = sent.notify.subscription_id.clone();
    ack_from(h, CTRL, &sent.msg_id, &id);
}
