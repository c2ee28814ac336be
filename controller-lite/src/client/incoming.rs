//! What comes in from the link, taken into account by the [`Controller`]: Up and Down
//! events, Records (dropped when foreign or undecodable), Connect and Disconnect Records,
//! responses for the waiting caller, notifications queued and acknowledged.

use usp_mtp::{ConnectInfo, MtpEvent};
use usp_proto::msg::{self, Msg, body::MsgBody, request::ReqType, response::RespType};
use usp_proto::record::record::RecordType;
use usp_proto::record::{Record, SessionContextRecord};

use super::e2e::Taken;
use super::inbox::Input;
use super::{Controller, Direction, Event, LINK_ID, Notification};

/// What one input meant for a waiting caller.
pub(super) enum Absorbed {
    /// Nothing the caller waits for (maybe an event was queued).
    Nothing,
    /// A response or an Error message from the agent.
    Reply(Msg),
    /// [`Interrupter::interrupt`] was called.
    Interrupt,
    /// The link or the agent's session went down.
    Down(String),
}

impl Controller {
    /// Takes one input into account (see [`Absorbed`]).
    pub(super) fn absorb(&mut self, input: Input) -> Absorbed {
        let event = match input {
            Input::Interrupt => return Absorbed::Interrupt,
            Input::Mtp(event) => event,
        };
        match event {
            MtpEvent::Up { link, peer, info } if link == LINK_ID && self.is_agent_peer(&peer) => {
                if self.agent.is_none() {
                    self.agent = peer;
                }
                self.link_up = true;
                self.link_failure = None;
                self.websocket = info == ConnectInfo::WebSocket;
                self.push_event(Event::LinkUp);
                if let (true, Some(agent)) = (self.websocket, self.agent.clone()) {
                    self.agent_up = true;
                    self.push_event(Event::AgentUp { endpoint_id: agent });
                }
                Absorbed::Nothing
            }
            MtpEvent::Received { link, peer, reply_to, record }
                if link == LINK_ID && self.is_agent_peer(&peer) =>
            {
                self.absorb_record(&record, reply_to)
            }
            MtpEvent::Down { link, peer, reason, retry_in }
                if link == LINK_ID && self.is_agent_peer(&peer) =>
            {
                self.link_up = false;
                self.link_failure = Some(reason.clone());
                if std::mem::take(&mut self.agent_up) && self.websocket {
                    self.push_event(Event::AgentDown { reason: reason.clone() });
                }
                self.push_event(Event::LinkDown { reason: reason.clone(), retry_in });
                Absorbed::Down(reason)
            }
            _ => Absorbed::Nothing,
        }
    }

    /// Whether a session's peer is (or may be) our agent: no peer (a broker link), the agent,
    /// or anyone while the agent is not known yet.
    fn is_agent_peer(&self, peer: &Option<String>) -> bool {
        match (peer, &self.agent) {
            (Some(p), Some(agent)) => p == agent,
            _ => true,
        }
    }

    fn absorb_record(&mut self, bytes: &[u8], reply_to: Option<String>) -> Absorbed {
        let Ok(record) = Record::from_bytes(bytes) else { return Absorbed::Nothing };
        if let Some(trace) = &mut self.trace {
            trace(Direction::Received, &record);
        }
        if record.to_id != self.cfg.endpoint_id || record.from_id.is_empty() {
            return Absorbed::Nothing;
        }
        match &self.agent {
            Some(agent) if *agent != record.from_id => return Absorbed::Nothing,
            Some(_) => {}
            None => self.agent = Some(record.from_id.clone()),
        }
        if let Some(topic) = reply_to.clone().filter(|t| !t.is_empty()) {
            self.learnt_dest = Some(topic);
        }
        let announced = match record.record_type {
            Some(RecordType::NoSessionContext(_)) => {
                return match record.decode_no_session_context_msg() {
                    Ok(msg) => self.absorb_msg(msg, &record.from_id, reply_to.as_deref()),
                    Err(_) => Absorbed::Nothing,
                };
            }
            Some(RecordType::MqttConnect(c)) => Some(c.subscribed_topic),
            Some(RecordType::StompConnect(c)) => Some(c.subscribed_destination),
            // Sent on a session whose Up already announced the agent: announcing it again
            // would print "agent is up" twice (`uspctl lab`). Without that Up (the peer was
            // not named), this Record is the announcement.
            Some(RecordType::WebsocketConnect(_) | RecordType::UdsConnect(_)) if self.agent_up => {
                return Absorbed::Nothing;
            }
            Some(RecordType::WebsocketConnect(_) | RecordType::UdsConnect(_)) => None,
            Some(RecordType::Disconnect(d)) => {
                self.agent_up = false;
                let reason = format!("the agent disconnected: {} ({})", d.reason, d.reason_code);
                self.push_event(Event::AgentDown { reason: reason.clone() });
                return Absorbed::Down(reason);
            }
            Some(RecordType::SessionContext(sc)) => {
                return self.absorb_session(sc, &record.from_id, reply_to.as_deref());
            }
            None => return Absorbed::Nothing,
        };
        if let Some(dest) = announced.filter(|d| !d.is_empty()) {
            self.learnt_dest = Some(dest);
        }
        self.agent_up = true;
        self.push_event(Event::AgentUp { endpoint_id: record.from_id });
        Absorbed::Nothing
    }

    /// A session Record of the agent: its complete Msgs, taken in order (the first response
    /// is the one returned to the waiting caller). Ignored unless we use a session.
    fn absorb_session(
        &mut self,
        sc: SessionContextRecord,
        from: &str,
        reply_to: Option<&str>,
    ) -> Absorbed {
        let Some(session) = self.e2e.as_mut() else { return Absorbed::Nothing };
        let Taken::Msgs(msgs) = session.take(sc) else { return Absorbed::Nothing };
        let mut answer = Absorbed::Nothing;
        for bytes in msgs {
            let Ok(msg) = Msg::from_bytes(&bytes) else { continue };
            if let Absorbed::Reply(m) = self.absorb_msg(msg, from, reply_to) {
                if matches!(answer, Absorbed::Nothing) {
                    answer = Absorbed::Reply(m);
                }
            }
        }
        answer
    }

    fn absorb_msg(&mut self, msg: Msg, from: &str, reply_to: Option<&str>) -> Absorbed {
        let notify = match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
            Some(MsgBody::Response(_) | MsgBody::Error(_)) => return Absorbed::Reply(msg),
            Some(MsgBody::Request(msg::Request { req_type: Some(ReqType::Notify(n)) })) => {
                n.clone()
            }
            // We serve no requests (a controller has no data model).
            _ => return Absorbed::Nothing,
        };
        let msg_id = msg.msg_id().unwrap_or_default().to_owned();
        if notify.send_resp {
            let ack = msg::NotifyResp { subscription_id: notify.subscription_id.clone() };
            let resp = Msg::response(msg_id.clone(), RespType::NotifyResp(ack));
            // A lost acknowledgement only makes the agent retry: nothing to report here.
            let _ = self.send_msg(&resp, reply_to);
        }
        self.push_event(Event::Notify(Notification { msg_id, from: from.to_owned(), notify }));
        Absorbed::Nothing
    }
}
