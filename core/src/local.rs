//! Requests from the agent's own local CLI (`uspagent -c ...`): the same USP semantics as a
//! controller's, with the full access of [`Requester::Internal`] and no Record around them.

use usp_datamodel::plugin::{Now, Requester};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Msg, OperateResp};

use super::{Core, Outgoing};

/// The Originator recorded for asynchronous commands started from the local CLI.
pub const LOCAL_ORIGINATOR: &str = "uspagent-cli";

impl Core {
    /// Answers a request of the local CLI. Returns the response (or Error) message and what
    /// else the request caused to be sent (notifications to controllers).
    pub fn handle_local(&mut self, now: Now, req: ReqType) -> (Msg, Vec<Outgoing>) {
        self.dm.tick(now, false);
        let msg_id = self.new_msg_id();
        let resp = self.answer(LOCAL_ORIGINATOR, &Requester::Internal, msg_id.clone(), req);
        let mut out = Vec::new();
        self.after_message(&mut out);
        // Operate with send_resp=false is the one request without an answer.
        let empty = || Msg::response(msg_id, RespType::OperateResp(OperateResp::default()));
        (resp.unwrap_or_else(empty), out)
    }
}
