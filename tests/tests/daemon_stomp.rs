//! The `uspagent` daemon reached over STOMP 1.2 through a private RabbitMQ (Debian
//! `rabbitmq-server`; the tests fail, naming the package, when it is missing): the controller
//! side is a `usp_mtp::stomp` link of its own, exchanging real USP Records with the agent.
//!
//! One broker serves the binary; the restart test starts its own, since it restarts it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use usp_mtp::retry::RetryPolicy;
use usp_mtp::stomp::{StompConfig, StompLink, spawn};
use usp_mtp::{EventSink, Link, MtpEvent, Outbound};
use usp_proto::msg::body::MsgBody;
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self as m, Msg};
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_testkit::agent::RunningAgent;
use usp_testkit::rabbitmq::{RabbitMq, RabbitMqOptions};

const CTL: &str = "self::stomp-ctl";
const WAIT: Duration = Duration::from_secs(20);
/// The controller link's retries: windows 1–2 s, 2–4 s, then capped at 4 s.
const FAST_RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 4 };

/// A destination no other test (or run) uses.
fn queue(name: &str) -> String {
    format!("/queue/{name}-{}", std::process::id())
}

/// What differs between the agents of these tests.
struct Setup<'a> {
    name: &'a str,
    rabbit: &'a RabbitMq,
    tls: bool,
    /// `(outgoing, incoming)` heart-beats in ms, when enabled.
    heartbeats: Option<(u32, u32)>,
}

impl Setup<'_> {
    fn agent_eid(&self) -> String {
        format!("os::000000-{}", self.name)
    }
    fn agent_dest(&self) -> String {
        queue(&format!("agent-{}", self.name))
    }
    fn ctl_dest(&self) -> String {
        queue(&format!("ctl-{}", self.name))
    }

    /// The reset file: one STOMP connection, the agent's MTP on it, one controller with a
    /// Boot! subscription.
    fn reset(&self) -> String {
        let r = self.rabbit;
        let o = &r.options;
        let (host, port) = if self.tls {
            ("localhost", r.stomp_tls_port.expect("the broker listens for TLS"))
        } else {
            ("127.0.0.1", r.stomp_port)
        };
        let (hb, out_hb, in_hb) = match self.heartbeats {
            Some((o, i)) => (true, o, i),
            None => (false, 0, 0),
        };
        format!(
            "Device.STOMP.Connection.1.Enable true
Device.STOMP.Connection.1.Host \"{host}\"
Device.STOMP.Connection.1.Port {port}
Device.STOMP.Connection.1.Username \"{user}\"
Device.STOMP.Connection.1.Password \"{pass}\"
Device.STOMP.Connection.1.VirtualHost \"{vhost}\"
Device.STOMP.Connection.1.EnableEncryption {tls}
Device.STOMP.Connection.1.EnableHeartbeats {hb}
Device.STOMP.Connection.1.OutgoingHeartbeat {out_hb}
Device.STOMP.Connection.1.IncomingHeartbeat {in_hb}
Device.STOMP.Connection.1.ServerRetryInitialInterval 1
Device.STOMP.Connection.1.ServerRetryIntervalMultiplier 2000
Device.STOMP.Connection.1.ServerRetryMaxInterval 4
Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.MTP.1.STOMP.Destination \"{agent_dest}\"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{CTL}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"STOMP\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Reference \"Device.STOMP.Connection.1\"
Device.LocalAgent.Controller.1.MTP.1.STOMP.Destination \"{ctl_dest}\"
Device.LocalAgent.Controller.1.BootParameter.1.Enable true
Device.LocalAgent.Controller.1.BootParameter.1.ParameterName \"Device.DeviceInfo.SerialNumber\"
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID \"boot\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.1.NotifType \"Event\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.Boot!\"
Device.LocalAgent.Subscription.1.Persistent true
",
            user = o.user,
            pass = o.password,
            vhost = o.vhost,
            tls = self.tls,
            agent_dest = self.agent_dest(),
            ctl_dest = self.ctl_dest(),
        )
    }

    /// Starts the agent (trusting the broker's test CA when TLS is on).
    fn start_agent(&self) -> RunningAgent {
        let eid = self.agent_eid();
        let ca = self.rabbit.certs.as_ref().map(|c| c.ca.display().to_string());
        let mut args = vec!["--endpoint-id", eid.as_str(), "--serial", self.name];
        if let (true, Some(ca)) = (self.tls, ca.as_deref()) {
            args.extend(["-t", ca]);
        }
        RunningAgent::start(&self.reset(), &args)
    }

    /// The controller's own link, subscribed to its destination.
    fn controller(&self, port: u16) -> Ctl {
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let sink: EventSink = Arc::new(move |e| {
            let _ = tx.lock().unwrap().send(e);
        });
        let o = &self.rabbit.options;
        let mut c = StompConfig::new(CTL, "127.0.0.1", port);
        c.virtual_host = o.vhost.clone();
        c.username = o.user.clone();
        c.password = o.password.clone();
        c.destination = self.ctl_dest();
        c.retry = FAST_RETRY;
        let link = spawn(1, c, sink);
        let ctl = Ctl {
            link,
            rx,
            stash: VecDeque::new(),
            agent: self.agent_eid(),
            agent_dest: self.agent_dest(),
            next_id: 0,
        };
        ctl.wait_up();
        ctl
    }
}

/// The controller: its link, the events it reported, Records received but not yet asked for.
struct Ctl {
    link: StompLink,
    rx: Receiver<MtpEvent>,
    stash: VecDeque<Record>,
    agent: String,
    agent_dest: String,
    next_id: u32,
}

impl Ctl {
    fn wait_up(&self) {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            match self.rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(MtpEvent::Up { .. }) => return,
                Ok(other) => eprintln!("controller link, waiting for Up: {other:?}"),
                Err(_) => break,
            }
        }
        panic!("the controller's STOMP link did not come up within {WAIT:?}");
    }

    /// The next Record from the broker (waiting at most `limit`), skipping link events.
    fn receive(&mut self, limit: Duration, agent: &RunningAgent) -> Record {
        let end = Instant::now() + limit;
        loop {
            match self.rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(MtpEvent::Received { record, .. }) => {
                    return Record::from_bytes(&record).unwrap();
                }
                Ok(_) => continue,
                Err(_) => panic!("no Record within {limit:?}; agent log:\n{}", agent.log()),
            }
        }
    }

    /// The first Record (stashed or new) that `want` accepts; the others are stashed.
    fn expect(
        &mut self,
        agent: &RunningAgent,
        what: &str,
        want: impl Fn(&Record) -> bool,
    ) -> Record {
        if let Some(i) = self.stash.iter().position(&want) {
            return self.stash.remove(i).expect("position is in range");
        }
        let end = Instant::now() + WAIT;
        for _ in 0..1000 {
            let left = end.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {what} within {WAIT:?}; agent log:\n{}", agent.log());
            let r = self.receive(left, agent);
            if want(&r) {
                return r;
            }
            self.stash.push_back(r);
        }
        panic!("no {what} among 1000 Records");
    }

    fn send_raw(&self, dest: &str, bytes: Vec<u8>) {
        self.link.send(Outbound { dest: dest.to_owned(), record: bytes, retain: false }).unwrap();
    }

    /// Sends `req` to the agent's destination `dest` and returns the answer (response or
    /// error) with the same message ID.
    fn call_at(&mut self, agent: &RunningAgent, dest: &str, req: ReqType) -> Msg {
        self.next_id += 1;
        let id = format!("req-{}", self.next_id);
        let msg = Msg::request(&id, req);
        self.send_raw(
            dest,
            Record::no_session_context_msg("1.4", &self.agent, CTL, &msg).to_bytes(),
        );
        let r = self.expect(agent, &format!("answer to {id}"), |r| {
            r.decode_no_session_context_msg().is_ok_and(|m| m.msg_id() == Some(id.as_str()))
        });
        r.decode_no_session_context_msg().unwrap()
    }

    fn call(&mut self, agent: &RunningAgent, req: ReqType) -> RespType {
        let dest = self.agent_dest.clone();
        let msg = self.call_at(agent, &dest, req);
        match msg.body.and_then(|b| b.msg_body) {
            Some(MsgBody::Response(r)) => r.resp_type.expect("a response type"),
            other => panic!("expected a response, got {other:?}"),
        }
    }

    /// The next Notify whose notification `want` accepts.
    fn notify(
        &mut self,
        agent: &RunningAgent,
        what: &str,
        want: impl Fn(&Notification) -> bool,
    ) -> m::Notify {
        let r = self.expect(agent, what, |r| {
            notify_of(r).is_some_and(|n| n.notification.as_ref().is_some_and(&want))
        });
        notify_of(&r).unwrap()
    }

    /// The next STOMPConnectRecord; returns its subscribed destination.
    fn connect_record(&mut self, agent: &RunningAgent) -> String {
        let r = self.expect(agent, "STOMPConnectRecord", |r| {
            matches!(r.record_type, Some(RecordType::StompConnect(_)))
        });
        assert_eq!((r.from_id.as_str(), r.to_id.as_str()), (self.agent.as_str(), CTL));
        let Some(RecordType::StompConnect(c)) = r.record_type else { unreachable!() };
        c.subscribed_destination
    }
}

fn notify_of(r: &Record) -> Option<m::Notify> {
    let msg = r.decode_no_session_context_msg().ok()?;
    match msg.body?.msg_body? {
        MsgBody::Request(q) => match q.req_type? {
            ReqType::Notify(n) => Some(n),
            _ => None,
        },
        _ => None,
    }
}

fn get(paths: &[&str]) -> ReqType {
    ReqType::Get(m::Get {
        param_paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        max_depth: 0,
    })
}

fn set(obj: &str, param: &str, value: &str) -> ReqType {
    ReqType::Set(m::Set {
        allow_partial: false,
        update_objs: vec![m::set::UpdateObject {
            obj_path: obj.into(),
            param_settings: vec![m::set::UpdateParamSetting {
                param: param.into(),
                value: value.into(),
                required: true,
            }],
        }],
    })
}

fn add_subscription(id: &str, kind: &str, reference: &str) -> ReqType {
    let p = |param: &str, value: &str| m::add::CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required: true,
    };
    ReqType::Add(m::Add {
        allow_partial: false,
        create_objs: vec![m::add::CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                p("Enable", "true"),
                p("ID", id),
                p("NotifType", kind),
                p("ReferenceList", reference),
            ],
        }],
    })
}

fn operate(command: &str, key: &str, args: &[(&str, &str)]) -> ReqType {
    ReqType::Operate(m::Operate {
        command: command.into(),
        command_key: key.into(),
        send_resp: true,
        input_args: args.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    })
}

/// The one value of a GetResp.
fn value_of(resp: &RespType, param: &str) -> String {
    let RespType::GetResp(g) = resp else { panic!("{resp:?}") };
    let rp = &g.req_path_results[0];
    assert_eq!(rp.err_code, 0, "{rp:?}");
    rp.resolved_path_results[0].result_params[param].clone()
}

/// Waits for the connect record and Boot! that every fresh agent sends.
fn greeted(ctl: &mut Ctl, agent: &RunningAgent, setup: &Setup) {
    assert_eq!(ctl.connect_record(agent), setup.agent_dest());
    let boot = ctl.notify(
        agent,
        "Boot!",
        |n| matches!(n, Notification::Event(e) if e.event_name == "Boot!"),
    );
    assert_eq!(boot.subscription_id, "boot");
    let Some(Notification::Event(e)) = boot.notification else { unreachable!() };
    assert!(e.params["ParameterMap"].contains(setup.name), "{e:?}");
}

#[test]
fn every_message_type_and_notification_over_stomp() {
    let rabbit = RabbitMq::shared();
    let setup = Setup { name: "all-msgs", rabbit, tls: false, heartbeats: None };
    let agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);

    // Get.
    let serial = ctl.call(&agent, get(&["Device.DeviceInfo.SerialNumber"]));
    assert_eq!(value_of(&serial, "SerialNumber"), "all-msgs");
    // Add: a ValueChange and an OperationComplete subscription.
    let RespType::AddResp(added) = ctl.call(
        &agent,
        add_subscription("vc", "ValueChange", "Device.LocalAgent.Controller.1.ProvisioningCode"),
    ) else {
        panic!("AddResp expected")
    };
    use m::add_resp::created_object_result::operation_status::OperStatus;
    let status = added.created_obj_results[0].oper_status.clone().and_then(|s| s.oper_status);
    let Some(OperStatus::OperSuccess(created)) = status else { panic!("{added:?}") };
    let vc_path = created.instantiated_path;
    assert!(vc_path.starts_with("Device.LocalAgent.Subscription."), "{vc_path}");
    ctl.call(&agent, add_subscription("oc", "OperationComplete", "Device.ScheduleTimer()"));
    // Set → SetResp and a ValueChange Notify.
    let RespType::SetResp(s) =
        ctl.call(&agent, set("Device.LocalAgent.Controller.1.", "ProvisioningCode", "pc-7"))
    else {
        panic!("SetResp expected")
    };
    assert!(format!("{s:?}").contains("pc-7"), "{s:?}");
    let vc = ctl.notify(&agent, "ValueChange", |n| matches!(n, Notification::ValueChange(_)));
    assert_eq!(vc.subscription_id, "vc");
    let Some(Notification::ValueChange(v)) = vc.notification else { unreachable!() };
    assert_eq!(
        (v.param_path.as_str(), v.param_value.as_str()),
        ("Device.LocalAgent.Controller.1.ProvisioningCode", "pc-7")
    );
    // GetInstances sees the new subscriptions.
    let RespType::GetInstancesResp(gi) = ctl.call(
        &agent,
        ReqType::GetInstances(m::GetInstances {
            obj_paths: vec!["Device.LocalAgent.Subscription.".into()],
            first_level_only: true,
        }),
    ) else {
        panic!("GetInstancesResp expected")
    };
    assert_eq!(gi.req_path_results[0].curr_insts.len(), 3, "{gi:?}");
    // GetSupportedDM.
    let RespType::GetSupportedDmResp(dm) = ctl.call(
        &agent,
        ReqType::GetSupportedDm(m::GetSupportedDm {
            obj_paths: vec!["Device.LocalAgent.".into()],
            first_level_only: false,
            return_commands: true,
            return_events: true,
            return_params: true,
            ..Default::default()
        }),
    ) else {
        panic!("GetSupportedDmResp expected")
    };
    let text = format!("{dm:?}");
    assert!(text.contains("Device.LocalAgent.Subscription.{i}.") && text.contains("EndpointID"));
    // GetSupportedProtocol.
    let RespType::GetSupportedProtocolResp(p) = ctl.call(
        &agent,
        ReqType::GetSupportedProtocol(m::GetSupportedProtocol {
            controller_supported_protocol_versions: "1.3,1.4".into(),
        }),
    ) else {
        panic!("GetSupportedProtocolResp expected")
    };
    assert!(p.agent_supported_protocol_versions.contains("1.4"), "{p:?}");
    // Operate, synchronous: SendOnBoardRequest() answers with output args and notifies.
    let RespType::OperateResp(sync) =
        ctl.call(&agent, operate("Device.LocalAgent.Controller.1.SendOnBoardRequest()", "ob", &[]))
    else {
        panic!("OperateResp expected")
    };
    assert!(format!("{sync:?}").contains("ReqOutputArgs"), "{sync:?}");
    ctl.notify(&agent, "OnBoardRequest", |n| matches!(n, Notification::OnBoardReq(_)));
    // Operate, asynchronous: ScheduleTimer() answers with its Request row, then completes.
    let RespType::OperateResp(timer) =
        ctl.call(&agent, operate("Device.ScheduleTimer()", "timer-1", &[("DelaySeconds", "1")]))
    else {
        panic!("OperateResp expected")
    };
    assert!(format!("{timer:?}").contains("Device.LocalAgent.Request."), "{timer:?}");
    let done =
        ctl.notify(&agent, "OperationComplete", |n| matches!(n, Notification::OperComplete(_)));
    assert_eq!(done.subscription_id, "oc");
    let Some(Notification::OperComplete(oc)) = done.notification else { unreachable!() };
    assert_eq!((oc.command_name.as_str(), oc.command_key.as_str()), ("ScheduleTimer()", "timer-1"));
    assert!(format!("{oc:?}").contains("ReqOutputArgs"), "completed without failure: {oc:?}");
    // Delete the ValueChange subscription: a later change notifies nothing, the Get says so.
    let RespType::DeleteResp(d) = ctl.call(
        &agent,
        ReqType::Delete(m::Delete { allow_partial: false, obj_paths: vec![vc_path.clone()] }),
    ) else {
        panic!("DeleteResp expected")
    };
    assert!(format!("{d:?}").contains("OperSuccess"), "{d:?}");
    ctl.call(&agent, set("Device.LocalAgent.Controller.1.", "ProvisioningCode", "pc-8"));
    let code = ctl.call(&agent, get(&["Device.LocalAgent.Controller.1.ProvisioningCode"]));
    assert_eq!(value_of(&code, "ProvisioningCode"), "pc-8");
    assert!(
        !ctl.stash.iter().any(|r| notify_of(r)
            .is_some_and(|n| n.subscription_id == "vc" && format!("{n:?}").contains("pc-8"))),
        "a deleted subscription notified"
    );
    // An error comes back as an Error message over the same path.
    let err = ctl.call_at(&agent, &setup.agent_dest(), get(&["Device.NoSuchThing."]));
    assert!(format!("{err:?}").contains("err_code"), "{err:?}");
}

#[test]
fn heartbeats_keep_an_idle_agent_connected() {
    let rabbit = RabbitMq::shared();
    // Both sides beat every second: an idle second connection would be dropped otherwise.
    let setup = Setup { name: "heartbeat", rabbit, tls: false, heartbeats: Some((1000, 1000)) };
    let agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);
    std::thread::sleep(Duration::from_secs(6));
    // A reconnection would have sent another Connect Record.
    let serial = ctl.call(&agent, get(&["Device.DeviceInfo.SerialNumber"]));
    assert_eq!(value_of(&serial, "SerialNumber"), "heartbeat");
    assert!(
        !ctl.stash.iter().any(|r| matches!(r.record_type, Some(RecordType::StompConnect(_)))),
        "the agent reconnected while idle; log:\n{}",
        agent.log()
    );
    let status = agent.cli(&["get", "Device.STOMP.Connection.1.Status"]);
    assert!(String::from_utf8_lossy(&status.stdout).contains("Enabled"), "{status:?}");
}

#[test]
fn tls_with_a_test_ca() {
    let rabbit = RabbitMq::shared();
    let setup = Setup { name: "tls", rabbit, tls: true, heartbeats: None };
    let agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);
    let serial = ctl.call(&agent, get(&["Device.DeviceInfo.SerialNumber"]));
    assert_eq!(value_of(&serial, "SerialNumber"), "tls");
}

#[test]
fn a_destination_change_resubscribes_the_agent() {
    let rabbit = RabbitMq::shared();
    let setup = Setup { name: "moving", rabbit, tls: false, heartbeats: None };
    let agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);
    let moved = queue("agent-moved");
    let resp = ctl.call(&agent, set("Device.LocalAgent.MTP.1.STOMP.", "Destination", &moved));
    assert!(matches!(resp, RespType::SetResp(_)), "{resp:?}");
    // The agent re-subscribes and says so with a new Connect Record.
    assert_eq!(ctl.connect_record(&agent), moved);
    // Reached at the new destination; a request left at the old one is not read.
    let old = setup.agent_dest();
    let stale = Msg::request("stale", get(&["Device.DeviceInfo.SerialNumber"]));
    ctl.send_raw(&old, Record::no_session_context_msg("1.4", &ctl.agent, CTL, &stale).to_bytes());
    let answer = ctl.call_at(&agent, &moved, get(&["Device.DeviceInfo.SerialNumber"]));
    assert!(format!("{answer:?}").contains("moving"), "{answer:?}");
    assert!(
        !ctl.stash
            .iter()
            .any(|r| r.decode_no_session_context_msg().is_ok_and(|m| m.msg_id() == Some("stale"))),
        "the old destination is still read"
    );
}

#[test]
fn malformed_bodies_leave_the_agent_running() {
    let rabbit = RabbitMq::shared();
    let setup = Setup { name: "garbage", rabbit, tls: false, heartbeats: None };
    let mut agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);
    let dest = setup.agent_dest();
    // Not protobuf; an empty body; a Record whose payload is not a Msg; a Record for another
    // endpoint; a huge length prefix.
    let bad_payload =
        Record::no_session_context("1.4", &ctl.agent, CTL, b"\xff\xff\xff\xff not a Msg".to_vec());
    let elsewhere = Record::no_session_context_msg(
        "1.4",
        "os::000000-someone-else",
        CTL,
        &Msg::request("elsewhere", get(&["Device.DeviceInfo.SerialNumber"])),
    );
    for body in [
        b"\x01\x02garbage\0\0".to_vec(),
        Vec::new(),
        bad_payload.to_bytes(),
        elsewhere.to_bytes(),
        vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
        vec![0u8; 100_000],
    ] {
        ctl.send_raw(&dest, body);
    }
    let serial = ctl.call(&agent, get(&["Device.DeviceInfo.SerialNumber"]));
    assert_eq!(value_of(&serial, "SerialNumber"), "garbage");
    assert!(
        !ctl.stash.iter().any(|r| r
            .decode_no_session_context_msg()
            .is_ok_and(|m| m.msg_id() == Some("elsewhere"))),
        "a Record for another endpoint was answered"
    );
    assert!(agent.terminate().success(), "log:\n{}", agent.log());
}

#[test]
fn a_broker_restart_is_survived_with_a_new_connect_record() {
    let mut rabbit = RabbitMq::start(RabbitMqOptions { tls: false, ..Default::default() });
    let setup = Setup { name: "restart", rabbit: &rabbit, tls: false, heartbeats: None };
    let agent = setup.start_agent();
    let port = rabbit.stomp_port;
    let mut ctl = setup.controller(port);
    greeted(&mut ctl, &agent, &setup);
    let eid = setup.agent_eid();
    let dest = setup.agent_dest();
    rabbit.restart();
    let back = Instant::now();
    // The agent retries with ServerRetry* (1 s, ×2, at most 4 s): its next attempt after the
    // broker is back comes within 4 s (one maximum window); 10 s more for a slow machine.
    let limit = Duration::from_secs(4 + 10);
    ctl.wait_up();
    let end = back + limit;
    let record = loop {
        let left = end.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no Connect Record within {limit:?}; log:\n{}", agent.log());
        let r = ctl.receive(left, &agent);
        if matches!(r.record_type, Some(RecordType::StompConnect(_))) {
            break r;
        }
    };
    eprintln!("Connect Record {:?} after the broker was back", back.elapsed());
    assert_eq!(record.from_id, eid);
    // And the agent answers again.
    let msg = Msg::request("after", get(&["Device.DeviceInfo.SerialNumber"]));
    ctl.send_raw(&dest, Record::no_session_context_msg("1.4", &eid, CTL, &msg).to_bytes());
    let answer = ctl.expect(&agent, "answer after restart", |r| {
        r.decode_no_session_context_msg().is_ok_and(|m| m.msg_id() == Some("after"))
    });
    assert!(
        format!("{:?}", answer.decode_no_session_context_msg().unwrap()).contains("restart"),
        "{answer:?}"
    );
    ctl.link.stop();
}

/// Not a timing assertion: 200 Gets, each answered correctly, with the round trip printed
/// (`--nocapture`) as the debug-build figure of the daemon over RabbitMQ.
#[test]
fn repeated_gets_are_all_answered_and_the_round_trip_is_reported() {
    let rabbit = RabbitMq::shared();
    let setup = Setup { name: "rtt", rabbit, tls: false, heartbeats: None };
    let agent = setup.start_agent();
    let mut ctl = setup.controller(rabbit.stomp_port);
    greeted(&mut ctl, &agent, &setup);
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let serial = ctl.call(&agent, get(&["Device.DeviceInfo.SerialNumber"]));
        times.push(t.elapsed());
        assert_eq!(value_of(&serial, "SerialNumber"), "rtt");
    }
    times.sort();
    eprintln!(
        "STOMP Get round trip via RabbitMQ over {} Gets: p50 {:?}, p90 {:?}, max {:?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1]
    );
}
