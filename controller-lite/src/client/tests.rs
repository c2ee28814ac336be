//! The controller against a scripted agent: response matching, timeouts, errors, notifications,
//! agent tracking, addressing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use usp_mtp::ConnectInfo;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, Msg, body::MsgBody, notify::Notification as N};
use usp_proto::record::record::RecordType;
use usp_proto::record::{DisconnectRecord, MqttConnectRecord, Record};

use super::*;
use crate::script::{AGENT, CTL, controller, controller_with};

fn get(path: &str) -> msg::Get {
    msg::Get { param_paths: vec![path.into()], max_depth: 0 }
}

fn get_resp(id: &str, path: &str, value: &str) -> Msg {
    let mut params = std::collections::BTreeMap::new();
    params.insert("X".to_owned(), value.to_owned());
    let resolved =
        msg::get_resp::ResolvedPathResult { resolved_path: path.into(), result_params: params };
    let result = msg::get_resp::RequestedPathResult {
        requested_path: path.into(),
        err_code: 0,
        err_msg: String::new(),
        resolved_path_results: vec![resolved],
    };
    Msg::response(id, RespType::GetResp(msg::GetResp { req_path_results: vec![result] }))
}

fn value_change(id: &str, send_resp: bool) -> Msg {
    let n = msg::Notify {
        subscription_id: "sub-1".into(),
        send_resp,
        notification: Some(N::ValueChange(msg::notify::ValueChange {
            param_path: "Device.X.Y".into(),
            param_value: "7".into(),
        })),
    };
    Msg::request(id, ReqType::Notify(n))
}

fn notify_resp_of(msg: &Msg) -> Option<String> {
    match msg.body.as_ref()?.msg_body.as_ref()? {
        MsgBody::Response(msg::Response { resp_type: Some(RespType::NotifyResp(r)) }) => {
            Some(r.subscription_id.clone())
        }
        _ => None,
    }
}

#[test]
fn the_response_is_matched_by_msg_id_and_the_rest_is_queued() {
    let (mut ctl, script) = controller();
    let agent = script.serve(1, |req| {
        let id = req.msg_id().unwrap();
        vec![
            get_resp("someone-else", "Device.Old.", "stale"),
            value_change("n-1", true),
            get_resp(id, "Device.X.", "fresh"),
        ]
    });
    let resp = ctl.get(get("Device.X.")).expect("a response");
    assert_eq!(resp.req_path_results[0].resolved_path_results[0].result_params["X"], "fresh");
    let script = agent.join().unwrap();
    // The Notify asked for a response: NotifyResp with the same msg_id went back at once.
    let ack = script.recv();
    assert_eq!(ack.msg_id(), Some("n-1"));
    assert_eq!(notify_resp_of(&ack).as_deref(), Some("sub-1"));
    let n = ctl.next_notification(Duration::ZERO).unwrap().expect("queued notification");
    assert_eq!(n.msg_id, "n-1");
    assert_eq!(n.from, AGENT);
    assert!(ctl.next_notification(Duration::from_millis(10)).unwrap().is_none());
}

#[test]
fn records_are_addressed_from_us_to_the_agent() {
    let (mut ctl, script) = controller();
    assert_eq!(ctl.agent(), None);
    let id = ctl.send_only(ReqType::Get(get("Device."))).unwrap();
    let record = script.recv_record();
    assert_eq!((record.from_id.as_str(), record.to_id.as_str()), (CTL, AGENT));
    assert_eq!(record.version, USP_VERSION);
    assert_eq!(record.decode_no_session_context_msg().unwrap().msg_id(), Some(id.as_str()));
    // On a WebSocket session the agent learnt from the Up event is the destination.
    assert_eq!(ctl.agent(), Some(AGENT));
    assert_eq!(script.dests.lock().unwrap().as_slice(), [AGENT]);
}

#[test]
fn no_answer_is_a_timeout_naming_the_msg_id() {
    let (mut ctl, _script) = controller();
    let err = ctl.request_with_timeout(ReqType::Get(get("Device.")), Duration::from_millis(50));
    match err {
        Err(ClientError::Timeout { what, after }) => {
            assert!(what.starts_with("the response to uspctl-"), "{what}");
            assert_eq!(after, Duration::from_millis(50));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_usp_error_carries_code_message_and_param_errors() {
    let (mut ctl, script) = controller();
    let agent = script.serve(1, |req| {
        let e = msg::Error {
            err_code: 7004,
            err_msg: "Invalid arguments".into(),
            param_errs: vec![msg::error::ParamError {
                param_path: "Device.X.Y".into(),
                err_code: 7012,
                err_msg: "not writable".into(),
            }],
        };
        vec![Msg::error(req.msg_id().unwrap(), e)]
    });
    let err = ctl.get(get("Device.X.")).unwrap_err();
    agent.join().unwrap();
    let ClientError::Usp(f) = &err else { panic!("{err:?}") };
    assert_eq!((f.code, f.message.as_str()), (7004, "Invalid arguments"));
    assert_eq!(f.param_errs, [("Device.X.Y".to_owned(), 7012, "not writable".to_owned())]);
    let text = err.to_string();
    assert!(text.contains("USP error 7004: Invalid arguments"), "{text}");
    assert!(text.contains("Device.X.Y: error 7012: not writable"), "{text}");
}

#[test]
fn a_response_of_the_wrong_kind_is_unexpected() {
    let (mut ctl, script) = controller();
    let agent = script.serve(1, |req| {
        let resp =
            msg::GetSupportedProtocolResp { agent_supported_protocol_versions: "1.4".into() };
        vec![Msg::response(req.msg_id().unwrap(), RespType::GetSupportedProtocolResp(resp))]
    });
    assert!(matches!(ctl.get(get("Device.")), Err(ClientError::Unexpected(_))));
    agent.join().unwrap();
}

#[test]
fn foreign_records_are_ignored() {
    let (mut ctl, script) = controller_with(|cfg, _| cfg.agent = Some(AGENT.into()));
    ctl.drain_events();
    let agent = script.serve_records(1, |req| {
        let id = req.msg_id().unwrap();
        let wrap =
            |to: &str, from: &str, m: &Msg| Record::no_session_context_msg("1.4", to, from, m);
        vec![
            // Answers with the right msg_id, to another controller or from another agent; a
            // notification from another agent; a Record without type.
            wrap("self::other", AGENT, &get_resp(id, "Device.", "to another controller")),
            wrap(CTL, "os::other", &get_resp(id, "Device.", "from another agent")),
            wrap(CTL, "os::other", &value_change("n-x", false)),
            Record { record_type: None, ..wrap(CTL, AGENT, &value_change("n-y", false)) },
            wrap(CTL, AGENT, &get_resp(id, "Device.", "right")),
        ]
    });
    let resp = ctl.get(get("Device.")).unwrap();
    assert_eq!(resp.req_path_results[0].resolved_path_results[0].result_params["X"], "right");
    let _script = agent.join().unwrap();
    assert_eq!(ctl.next_event(Duration::from_millis(50)), Ok(None));
}

#[test]
fn an_interrupt_ends_the_wait() {
    let (mut ctl, _script) = controller();
    let stop = ctl.interrupter();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        stop.interrupt();
    });
    let err = ctl.request_with_timeout(ReqType::Get(get("Device.")), Duration::from_secs(10));
    assert_eq!(err, Err(ClientError::Interrupted));
    t.join().unwrap();
    // Interrupts left over from an ended wait are discarded.
    ctl.interrupter().interrupt();
    assert!(ctl.drain_events().iter().all(|e| !matches!(e, Event::Notify(_))));
    assert_eq!(ctl.next_event(Duration::from_millis(10)), Ok(None));
}

#[test]
fn a_closed_session_ends_the_wait_and_is_reported() {
    let (mut ctl, script) = controller();
    let agent = script.serve(1, |_| Vec::new());
    let t = std::thread::spawn(move || {
        let script = agent.join().unwrap();
        script.agent.disconnect("agent rebooting");
        script
    });
    let err = ctl.request(ReqType::Get(get("Device.")));
    assert_eq!(err, Err(ClientError::Disconnected { reason: "agent rebooting".into() }));
    let _script = t.join().unwrap();
    assert!(!ctl.is_link_up() && !ctl.is_agent_up());
    let events = ctl.drain_events();
    assert!(events.contains(&Event::AgentDown { reason: "agent rebooting".into() }), "{events:?}");
    assert!(matches!(ctl.send_only(ReqType::Get(get("D."))), Err(ClientError::Timeout { .. })));
    // While the link stays down, a timeout says why it went down.
    let err = ctl.wait_ready(Duration::from_millis(50)).unwrap_err().to_string();
    assert!(err.ends_with("the link to come up (last attempt: agent rebooting)"), "{err}");
}

#[test]
fn a_websocket_session_means_the_agent_is_up() {
    let (mut ctl, _script) = controller();
    let events = ctl.drain_events();
    assert_eq!(events, [Event::LinkUp, Event::AgentUp { endpoint_id: AGENT.into() }]);
    assert!(ctl.is_agent_up() && ctl.is_link_up());
}

#[test]
fn a_websocket_connect_record_on_an_announced_session_is_not_a_second_agent_up() {
    let (mut ctl, script) = controller();
    let connect = Record {
        version: "1.4".into(),
        to_id: CTL.into(),
        from_id: AGENT.into(),
        record_type: Some(RecordType::WebsocketConnect(Default::default())),
        ..Record::default()
    };
    script.send_record(&connect);
    script.send(&value_change("after-connect", false));
    // The Notify comes after the connect Record: once it is in, so is the Record.
    let notify = ctl.wait_event(Duration::from_secs(5), |e| matches!(e, Event::Notify(_)));
    assert!(notify.unwrap().is_some(), "the Notify");
    let ups = ctl.drain_events().into_iter().filter(|e| matches!(e, Event::AgentUp { .. }));
    assert_eq!(ups.count(), 1, "the session's Up announced the agent once");
    assert!(ctl.is_agent_up());
}

/// A broker-like pair: no peer named, MQTT connect info, the agent's reply-to optional.
fn over_broker(reply_to: Option<&str>) -> (Controller, crate::script::Script) {
    let reply_to = reply_to.map(str::to_owned);
    controller_with(move |_, [ctl, agent]| {
        ctl.endpoint_id = None;
        agent.endpoint_id = None;
        agent.reply_to = reply_to;
        ctl.info = ConnectInfo::Mqtt {
            v5: true,
            subscribed_topic: "ctl/topic".into(),
            assigned_client_id: None,
            response_information: None,
            subscribed: vec!["ctl/topic".into()],
        };
    })
}

#[test]
fn over_a_broker_the_agent_is_learnt_from_its_connect_record() {
    let (mut ctl, script) = over_broker(None);
    // Link up but agent unknown: nothing can be sent.
    let err = ctl.wait_ready(Duration::from_millis(50)).unwrap_err();
    assert!(matches!(&err, ClientError::Timeout { what, .. } if what.contains("agent")), "{err:?}");
    assert!(!ctl.is_agent_up());
    let connect = Record {
        version: "1.4".into(),
        to_id: CTL.into(),
        from_id: AGENT.into(),
        record_type: Some(RecordType::MqttConnect(MqttConnectRecord {
            version: 1,
            subscribed_topic: "agent/topic".into(),
        })),
        ..Record::default()
    };
    script.send_record(&connect);
    ctl.wait_ready(Duration::from_secs(5)).unwrap();
    assert!(ctl.is_agent_up());
    assert_eq!(ctl.agent(), Some(AGENT));
    assert_eq!(ctl.drain_events(), [Event::LinkUp, Event::AgentUp { endpoint_id: AGENT.into() }]);
    ctl.send_only(ReqType::Get(get("Device."))).unwrap();
    assert_eq!(script.dests.lock().unwrap().as_slice(), ["agent/topic"]);
    // A DisconnectRecord: the agent is down (the broker link is still up).
    let bye = Record {
        record_type: Some(RecordType::Disconnect(DisconnectRecord {
            reason: "shutting down".into(),
            reason_code: 7100,
        })),
        ..connect
    };
    script.send_record(&bye);
    let event = ctl.next_event(Duration::from_secs(5)).unwrap();
    assert!(matches!(event, Some(Event::AgentDown { reason }) if reason.contains("shutting down")));
    assert!(!ctl.is_agent_up() && ctl.is_link_up());
}

#[test]
fn notify_responses_go_to_the_reply_to_and_requests_follow_it() {
    let (mut ctl, script) = over_broker(Some("agent/reply"));
    script.send(&value_change("n-9", true));
    let n = ctl.next_notification(Duration::from_secs(5)).unwrap().expect("notification");
    assert_eq!(n.msg_id, "n-9");
    assert_eq!(notify_resp_of(&script.recv()).as_deref(), Some("sub-1"));
    // Without send_resp, no answer.
    script.send(&value_change("n-10", false));
    assert!(ctl.next_notification(Duration::from_secs(5)).unwrap().is_some());
    ctl.send_only(ReqType::Get(get("Device."))).unwrap();
    let sent = script.recv();
    assert!(notify_resp_of(&sent).is_none(), "only one NotifyResp: {sent:?}");
    assert_eq!(script.dests.lock().unwrap().as_slice(), ["agent/reply", "agent/reply"]);
}

#[test]
fn a_configured_destination_wins() {
    let (mut ctl, script) = controller_with(|cfg, _| cfg.agent_dest = Some("fixed".into()));
    ctl.send_only(ReqType::Get(get("Device."))).unwrap();
    script.recv();
    assert_eq!(script.dests.lock().unwrap().as_slice(), ["fixed"]);
}

#[test]
fn wait_event_leaves_unpicked_events_queued_in_order() {
    let (mut ctl, script) = controller();
    ctl.drain_events();
    script.send(&value_change("a", false));
    script.send(&value_change("b", false));
    let picked = ctl
        .wait_event(Duration::from_secs(5), |e| matches!(e, Event::Notify(n) if n.msg_id == "b"))
        .unwrap();
    assert!(matches!(picked, Some(Event::Notify(n)) if n.msg_id == "b"));
    let rest = ctl.next_notification(Duration::ZERO).unwrap().unwrap();
    assert_eq!(rest.msg_id, "a");
}

#[test]
fn unique_ids_differ() {
    let (mut ctl, _script) = controller();
    let a = ctl.unique_id("sub");
    let b = ctl.unique_id("sub");
    assert!(a.starts_with("sub-") && a != b);
}
