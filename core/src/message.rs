//! Dispatch of one decoded Msg from a controller to the handler of its request type, and the
//! rules for Msgs that are not well-formed requests (see the module doc of [`super`] for the
//! decisions): responses, Errors, missing bodies, unknown types.
//!
//! Never handles Record-level matters (`record`) nor a message's semantics (one file each).

use usp_datamodel::ErrorCode;
use usp_datamodel::plugin::Requester;
use usp_proto::msg::{self, Msg, body, header::MsgType, request::ReqType, response::RespType};

use super::budget::{Budget, Limits};
use super::{Core, add, delete, get, gsdm, instances, operate, protocol, set};

impl Core {
    /// Answers one decoded Msg from the controller `from`; `None` when nothing is to be sent.
    pub(super) fn handle_msg(&mut self, from: &str, msg: Msg) -> Option<Msg> {
        let Some(header) = msg.header.as_ref() else {
            log::warn!("{from}: message without header ignored");
            return None;
        };
        let msg_id = header.msg_id.clone();
        if msg_id.is_empty() {
            log::warn!("{from}: message without msg_id ignored");
            return None;
        }
        let header_type = header.known_msg_type();
        let raw_type = header.msg_type;
        let Some(msg_body) = msg.body.and_then(|b| b.msg_body) else {
            return match header_type {
                None => Some(error_msg(
                    msg_id,
                    ErrorCode::MessageNotSupported,
                    format!("message type {raw_type} not supported"),
                )),
                Some(t) if is_request_type(t) => {
                    Some(error_msg(msg_id, ErrorCode::InvalidArguments, "the message has no body"))
                }
                Some(t) => {
                    log::warn!("{from}: {t:?} without body ignored");
                    None
                }
            };
        };
        match msg_body {
            body::MsgBody::Request(msg::Request { req_type: Some(req) }) => {
                if header_type != Some(req.msg_type()) {
                    log::warn!(
                        "{from}: header type {raw_type} differs from the body ({:?}); using the body",
                        req.msg_type()
                    );
                }
                self.handle_request(from, msg_id, req)
            }
            body::MsgBody::Request(msg::Request { req_type: None }) => {
                if header_type.is_none() {
                    Some(error_msg(
                        msg_id,
                        ErrorCode::MessageNotSupported,
                        format!("message type {raw_type} not supported"),
                    ))
                } else {
                    Some(error_msg(msg_id, ErrorCode::InvalidArguments, "empty request"))
                }
            }
            body::MsgBody::Response(msg::Response { resp_type: Some(RespType::NotifyResp(r)) }) => {
                self.acknowledge_notify(from, &msg_id, Some(&r.subscription_id));
                None
            }
            body::MsgBody::Response(_) => {
                log::warn!("{from}: unexpected response {msg_id} ignored");
                None
            }
            body::MsgBody::Error(e) => {
                log::warn!("{from}: Error {} for {msg_id}: {}", e.err_code, e.err_msg);
                self.acknowledge_notify(from, &msg_id, None);
                None
            }
        }
    }

    fn handle_request(&mut self, from: &str, msg_id: String, req: ReqType) -> Option<Msg> {
        let who = Requester::Controller(from.into());
        self.answer(from, &who, msg_id, req)
    }

    /// Answers one request of `from` with the rights of `who`; `None` when nothing is sent.
    pub(super) fn answer(
        &mut self,
        from: &str,
        who: &Requester,
        msg_id: String,
        req: ReqType,
    ) -> Option<Msg> {
        let who = who.clone();
        let limits =
            if matches!(who, Requester::Controller(_)) { self.limits } else { Limits::NONE };
        let mut budget = Budget::new(limits);
        if let Err(e) = budget.check_paths(&req) {
            return Some(error_msg(msg_id, e.code, e.msg));
        }
        let budget = &mut budget;
        // Compiled once per request; `Access::Full` (the agent, full-access Roles) costs nothing.
        let access = self.dm.access(&who);
        let acc = &access;
        let resp = match req {
            ReqType::Get(r) => match get::handle(&mut self.dm, &who, acc, &r, budget) {
                Ok(resp) => RespType::GetResp(resp),
                Err(e) => return Some(error_msg(msg_id, e.code, e.msg)),
            },
            ReqType::GetSupportedDm(r) => match gsdm::handle(&mut self.dm, &who, acc, &r, budget) {
                Ok(resp) => RespType::GetSupportedDmResp(resp),
                Err(e) => return Some(error_msg(msg_id, e.code, e.msg)),
            },
            ReqType::GetInstances(r) => {
                match instances::handle(&mut self.dm, &who, acc, &r, budget) {
                    Ok(resp) => RespType::GetInstancesResp(resp),
                    Err(e) => return Some(error_msg(msg_id, e.code, e.msg)),
                }
            }
            ReqType::GetSupportedProtocol(r) => {
                RespType::GetSupportedProtocolResp(protocol::handle(&r))
            }
            ReqType::Set(r) => match set::handle(&mut self.dm, &who, acc, &r) {
                Ok(resp) => RespType::SetResp(resp),
                Err(e) => return Some(Msg::error(msg_id, e)),
            },
            ReqType::Add(r) => {
                let recipient = self.recipient_of(from);
                match add::handle(&mut self.dm, &who, acc, &r, recipient) {
                    Ok(resp) => RespType::AddResp(resp),
                    Err(e) => return Some(Msg::error(msg_id, e)),
                }
            }
            ReqType::Delete(r) => match delete::handle(&mut self.dm, &who, acc, &r) {
                Ok(resp) => RespType::DeleteResp(resp),
                Err(e) => return Some(Msg::error(msg_id, e)),
            },
            ReqType::Operate(r) => {
                self.op_command_key = Some(r.command_key.clone());
                match operate::handle(self, from, (&who, acc), &r) {
                    Ok(Some(resp)) => RespType::OperateResp(resp),
                    Ok(None) => return None,
                    Err(e) => return Some(Msg::error(msg_id, e)),
                }
            }
            ReqType::Register(_) | ReqType::Deregister(_) | ReqType::Notify(_) => {
                return Some(error_msg(
                    msg_id,
                    ErrorCode::MessageNotSupported,
                    "this agent does not accept this message type",
                ));
            }
        };
        Some(Msg::response(msg_id, resp))
    }
}

pub(super) fn is_request_type(t: MsgType) -> bool {
    matches!(
        t,
        MsgType::Get
            | MsgType::Set
            | MsgType::Add
            | MsgType::Delete
            | MsgType::Operate
            | MsgType::GetSupportedDm
            | MsgType::GetInstances
            | MsgType::GetSupportedProto
            | MsgType::Register
            | MsgType::Deregister
    )
}

/// An Error message.
fn error_msg(msg_id: String, code: ErrorCode, text: impl Into<String>) -> Msg {
    Msg::error(
        msg_id,
        msg::Error { err_code: code.code(), err_msg: text.into(), param_errs: vec![] },
    )
}
