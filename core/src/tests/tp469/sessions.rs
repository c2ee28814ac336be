//! TP-469 §3.8–3.12, 3.14 and 3.15 (E2E session context, feature 24) replayed against the
//! built-in data model, plus the session rules TP-469 has no case for: SAR, TLS12 refused
//! (7102), `SessionMode` Forbid (7106) and Require, `Reset()`, `Status`.

use usp_proto::msg::Msg;
use usp_proto::msg::body::MsgBody;
use usp_proto::record::record::{PayloadSecurity, RecordType};
use usp_proto::record::session_context_record::PayloadSarState;
use usp_proto::record::{Record, SessionContextRecord};

use super::*;
use crate::Outgoing;
use crate::tests::subs::{send_raw, subscribe};

const E2E: &str = "Device.LocalAgent.Controller.1.E2ESession.";

/// A session context Record from the controller carrying `msgs` (unsegmented).
fn rec(session: u64, seq: u64, expected: u64, msgs: &[Msg]) -> Record {
    rec_with(SessionContextRecord {
        session_id: session,
        sequence_id: seq,
        expected_id: expected,
        payload: msgs.iter().map(Msg::to_bytes).collect(),
        ..Default::default()
    })
}

fn rec_with(sc: SessionContextRecord) -> Record {
    Record {
        record_type: Some(RecordType::SessionContext(sc)),
        ..Record::no_session_context("1.4", AGENT, CTRL, vec![])
    }
}

/// The session context of an outgoing Record to the controller.
fn sc_of(o: &Outgoing) -> SessionContextRecord {
    assert_eq!(
        (o.to.as_str(), o.record.to_id.as_str(), o.record.from_id.as_str()),
        (CTRL, CTRL, AGENT)
    );
    match &o.record.record_type {
        Some(RecordType::SessionContext(sc)) => sc.clone(),
        other => panic!("not a session context Record: {other:?}"),
    }
}

/// The one Msg of an unsegmented session Record.
fn msg_of(sc: &SessionContextRecord) -> Msg {
    assert_eq!(sc.payload_sar_state, PayloadSarState::None as i32);
    assert_eq!(sc.payload.len(), 1);
    Msg::from_bytes(&sc.payload[0]).expect("a Msg")
}

fn get(id: &str, path: &str) -> Msg {
    Msg::request(id, ReqType::Get(msg::Get { param_paths: vec![path.into()], max_depth: 0 }))
}

fn set(id: &str, obj: &str, settings: &[Setting]) -> Msg {
    let ReqType::Set(s) = set_req(false, &[(obj, settings)]) else { unreachable!() };
    Msg::request(id, ReqType::Set(s))
}

/// The (resolved parameter path, value) pairs of a GetResp.
fn get_values(m: &Msg) -> Vec<(String, String)> {
    let Some(MsgBody::Response(msg::Response { resp_type: Some(RespType::GetResp(r)) })) =
        m.body.as_ref().and_then(|b| b.msg_body.clone())
    else {
        panic!("not a GetResp: {m:?}")
    };
    let mut out = Vec::new();
    for rp in r.req_path_results {
        assert_eq!(rp.err_code, 0, "{}", rp.err_msg);
        for res in rp.resolved_path_results {
            for (k, v) in res.result_params {
                out.push((format!("{}{k}", res.resolved_path), v));
            }
        }
    }
    out
}

fn is_set_resp(m: &Msg) -> bool {
    m.msg_type() == Some(msg::header::MsgType::SetResp)
}

#[test]
fn tp469_3_8_establishing_a_session_context() {
    let mut h = Harness::builtin();
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Down"));
    let out = h.record(&rec(1234, 1, 1, &[get("g1", "Device.DeviceInfo.")]));
    assert_eq!(out.len(), 1);
    assert!(out[0].in_reply);
    let sc = sc_of(&out[0]);
    assert_eq!((sc.session_id, sc.sequence_id, sc.expected_id), (1234, 1, 2));
    let reply = msg_of(&sc);
    assert_eq!(reply.msg_id(), Some("g1"));
    assert!(get_values(&reply).iter().any(|(p, _)| p == "Device.DeviceInfo.SoftwareVersion"));
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Up"));
}

#[test]
fn tp469_3_9_a_new_session_id_restarts_the_context() {
    let mut h = Harness::builtin();
    h.record(&rec(1234, 1, 1, &[get("g1", "Device.DeviceInfo.")]));
    let out = h.record(&rec(1234, 2, 2, &[get("g2", "Device.DeviceInfo.")]));
    assert_eq!(sc_of(&out[0]).sequence_id, 2);
    let out = h.record(&rec(5678, 1, 1, &[get("g3", "Device.DeviceInfo.")]));
    assert_eq!(out.len(), 1);
    let sc = sc_of(&out[0]);
    assert_eq!((sc.session_id, sc.sequence_id), (5678, 1));
    assert_eq!(msg_of(&sc).msg_id(), Some("g3"));
}

/// Advances to the next Notify (at most `limit` s, through session expiries).
fn next_notify(h: &mut Harness, limit: u64) -> SessionContextRecord {
    let mut waited = 0;
    for _ in 0..10 {
        let (secs, out) = h.advance_to_timer(limit - waited);
        waited += secs;
        if let Some(o) = out.first() {
            assert_eq!(out.len(), 1);
            assert!(!o.in_reply);
            let sc = sc_of(o);
            assert_eq!(msg_of(&sc).msg_type(), Some(msg::header::MsgType::Notify));
            return sc;
        }
    }
    panic!("no Notify within {limit} s")
}

#[test]
fn tp469_3_10_session_context_expiration() {
    let mut h = Harness::builtin();
    subscribe(&mut h, "p310", "Event", "Device.LocalAgent.Periodic!", &[]);
    let step1 = set("s1", E2E, &[("SessionExpiration", "60", true)]);
    let out = h.record(&rec(1234, 1, 1, &[step1]));
    assert!(is_set_resp(&msg_of(&sc_of(&out[0]))));
    let out = h.record(&rec(
        1234,
        2,
        2,
        &[set("s2", CTRL_ROW, &[("PeriodicNotifInterval", "10", true)])],
    ));
    assert!(is_set_resp(&msg_of(&sc_of(&out[0]))));
    let step2: Vec<_> = (0..3).map(|_| next_notify(&mut h, 10)).collect();
    assert!(step2.iter().all(|sc| sc.session_id == 1234), "metric 1: one session");
    assert_eq!(step2.iter().map(|sc| sc.sequence_id).collect::<Vec<_>>(), vec![3, 4, 5]);
    let step3 = set("s3", E2E, &[("SessionExpiration", "5", true)]);
    let out = h.record(&rec(1234, 3, 6, &[step3]));
    assert!(is_set_resp(&msg_of(&sc_of(&out[0]))));
    let step4: Vec<_> = (0..3).map(|_| next_notify(&mut h, 10)).collect();
    let mut ids: Vec<u64> = step4.iter().map(|sc| sc.session_id).collect();
    assert!(step4.iter().all(|sc| sc.sequence_id == 1), "each opens its session");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "metric 2: no two share a session");
    assert!(!ids.contains(&1234) && ids.iter().all(|id| *id > 1));
}

/// TP-469 asks for `DeviceInfo.ModelNumber`, which TR-181 does not define: `ModelName` stands in.
#[test]
fn tp469_3_11_sequence_id_and_expected_id() {
    let mut h = Harness::builtin();
    let g = |id, p: &str| get(id, &format!("Device.DeviceInfo.{p}"));
    let out = h.record(&rec(99, 1, 1, &[g("m1", "ModelName")]));
    let sc = sc_of(&out[0]);
    assert_eq!(sc.sequence_id, 1);
    assert_eq!(get_values(&msg_of(&sc))[0].0, "Device.DeviceInfo.ModelName");
    assert!(h.record(&rec(99, 4, 4, &[g("m4", "SoftwareVersion")])).is_empty(), "buffered");
    let out = h.record(&rec(99, 2, 2, &[g("m2", "HardwareVersion")]));
    assert_eq!(out.len(), 1);
    let sc = sc_of(&out[0]);
    assert_eq!(sc.sequence_id, 2);
    assert_eq!(get_values(&msg_of(&sc))[0].0, "Device.DeviceInfo.HardwareVersion");
    let out = h.record(&rec(99, 3, 3, &[g("m3", "HardwareVersion")]));
    assert_eq!(out.len(), 2);
    let (third, fourth) = (sc_of(&out[0]), sc_of(&out[1]));
    assert_eq!((third.sequence_id, msg_of(&third).msg_id()), (3, Some("m3")));
    assert_eq!((fourth.sequence_id, msg_of(&fourth).msg_id()), (4, Some("m4")));
    assert_eq!(get_values(&msg_of(&fourth))[0].0, "Device.DeviceInfo.SoftwareVersion");
    assert_eq!(fourth.expected_id, 5);
}

#[test]
fn tp469_3_12_preservation_of_usp_records() {
    let mut h = Harness::builtin();
    h.default(&format!("{E2E}MaxRetransmitTries"), "1");
    let out = h.record(&rec(77, 1, 1, &[get("g", "Device.DeviceInfo.SoftwareVersion")]));
    let first = out[0].record.clone();
    h.advance(60);
    let again = SessionContextRecord {
        session_id: 77,
        sequence_id: 2,
        expected_id: 1,
        retransmit_id: 1,
        ..Default::default()
    };
    let out = h.record(&rec_with(again));
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].record, first, "the same GetResp Record, sent again");
}

#[test]
fn tp469_3_14_use_of_retransmit_id() {
    let mut h = Harness::builtin();
    let step1 = set("s", E2E, &[("MaxRetransmitTries", "2", true)]);
    let out = h.record(&rec(4242, 1, 1, &[step1]));
    let sc = sc_of(&out[0]);
    assert!(is_set_resp(&msg_of(&sc)));
    let retransmit = |seq| {
        rec_with(SessionContextRecord {
            session_id: 4242,
            sequence_id: seq,
            expected_id: 1,
            retransmit_id: sc.sequence_id,
            ..Default::default()
        })
    };
    for seq in [2, 3] {
        let out = h.record(&retransmit(seq));
        assert_eq!(out.len(), 1);
        let again = sc_of(&out[0]);
        assert_eq!((again.session_id, again.sequence_id), (4242, sc.sequence_id));
        assert!(is_set_resp(&msg_of(&again)));
    }
    let out = h.record(&retransmit(4));
    assert_eq!(out.len(), 1, "no SetResp: a new session");
    let restart = sc_of(&out[0]);
    assert_ne!(restart.session_id, 4242);
    assert!(restart.session_id > 1);
    assert_eq!((restart.sequence_id, restart.expected_id), (1, 1));
    assert!(restart.payload.is_empty());
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Negotiating"));
    // The controller joins the agent's session.
    let out = h.record(&rec(restart.session_id, 1, 2, &[get("g", "Device.DeviceInfo.")]));
    assert_eq!(sc_of(&out[0]).sequence_id, 2);
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Up"));
}

#[test]
fn tp469_3_15_handling_duplicate_records() {
    let mut h = Harness::builtin();
    h.record(&rec(31, 1, 1, &[]));
    let step2 = rec(31, 2, 1, &[get("g", "Device.DeviceInfo.SoftwareVersion")]);
    assert_eq!(h.record(&step2).len(), 1);
    for _ in 0..3 {
        assert!(h.record(&step2).is_empty(), "a duplicate is ignored");
    }
}

#[test]
fn large_answers_are_segmented_within_max_usp_record_size() {
    let mut h = Harness::builtin();
    h.default(&format!("{E2E}MaxUSPRecordSize"), "512");
    let out = h.record(&rec(8, 1, 1, &[get("all", "Device.")]));
    assert!(out.len() > 3, "segmented: {} Records", out.len());
    let mut whole = Vec::new();
    for (i, o) in out.iter().enumerate() {
        assert!(o.record.to_bytes().len() <= 512, "Record {i} too large");
        let sc = sc_of(o);
        assert_eq!(sc.sequence_id, i as u64 + 1);
        assert_eq!(sc.payload_sar_state, sc.payloadrec_sar_state);
        let want = match i {
            0 => PayloadSarState::Begin,
            i if i + 1 == out.len() => PayloadSarState::Complete,
            _ => PayloadSarState::Inprocess,
        };
        assert_eq!(sc.payload_sar_state, want as i32);
        whole.extend_from_slice(&sc.payload[0]);
    }
    let reply = Msg::from_bytes(&whole).expect("the reassembled GetResp");
    assert!(get_values(&reply).len() > 20);
}

#[test]
fn segmented_requests_are_reassembled_and_answered() {
    let mut h = Harness::builtin();
    let bytes = get("seg", "Device.DeviceInfo.SoftwareVersion").to_bytes();
    let (a, b) = bytes.split_at(bytes.len() / 3);
    let (b, c) = b.split_at(b.len() / 2);
    let parts = [
        (PayloadSarState::Begin, a),
        (PayloadSarState::Inprocess, b),
        (PayloadSarState::Complete, c),
    ];
    let mut out = Vec::new();
    for (i, (state, piece)) in parts.into_iter().enumerate() {
        out = h.record(&rec_with(SessionContextRecord {
            session_id: 12,
            sequence_id: i as u64 + 1,
            expected_id: 1,
            payload_sar_state: state as i32,
            payloadrec_sar_state: state as i32,
            payload: vec![piece.to_vec()],
            ..Default::default()
        }));
        assert_eq!(out.is_empty(), i < 2);
    }
    assert_eq!(msg_of(&sc_of(&out[0])).msg_id(), Some("seg"));
    // A segment out of order fails the session: the agent opens a new one.
    let bad = SessionContextRecord {
        session_id: 12,
        sequence_id: 4,
        expected_id: 2,
        payload_sar_state: PayloadSarState::Complete as i32,
        payloadrec_sar_state: PayloadSarState::Complete as i32,
        payload: vec![vec![1, 2, 3]],
        ..Default::default()
    };
    let out = h.record(&rec_with(bad));
    let restart = sc_of(&out[0]);
    assert_ne!(restart.session_id, 12);
    assert_eq!(restart.sequence_id, 1);
}

#[test]
fn tls12_payload_security_is_refused_with_7102() {
    let mut h = Harness::builtin();
    let r = Record {
        payload_security: PayloadSecurity::Tls12.into(),
        ..rec(5, 1, 1, &[get("g", "Device.DeviceInfo.")])
    };
    let out = h.record(&r);
    assert_eq!(out.len(), 1);
    let Some(RecordType::Disconnect(d)) = &out[0].record.record_type else { panic!() };
    assert_eq!(d.reason_code, 7102);
}

#[test]
fn session_mode_forbid_answers_7106() {
    let mut h = Harness::builtin();
    h.default(&format!("{E2E}SessionMode"), "Forbid");
    let out = h.record(&rec(5, 1, 1, &[get("g", "Device.DeviceInfo.")]));
    assert_eq!(out.len(), 1);
    let Some(RecordType::Disconnect(d)) = &out[0].record.record_type else { panic!() };
    assert_eq!((d.reason_code, d.reason.as_str()), (7106, "Session Context not allowed"));
}

#[test]
fn session_mode_require_serves_nothing_outside_a_session() {
    let mut h = Harness::builtin();
    h.default(&format!("{E2E}SessionMode"), "Require");
    let plain = Record::no_session_context_msg("1.4", AGENT, CTRL, &get("g", "Device."));
    assert!(h.record(&plain).is_empty());
    let out = h.record(&rec(6, 1, 1, &[get("g", "Device.DeviceInfo.SoftwareVersion")]));
    assert_eq!(msg_of(&sc_of(&out[0])).msg_id(), Some("g"));
}

#[test]
fn reset_restarts_the_session_and_forbid_terminates_it() {
    let mut h = Harness::builtin();
    h.record(&rec(50, 1, 1, &[]));
    let reset = Msg::request(
        "r",
        ReqType::Operate(msg::Operate {
            command: format!("{E2E}Reset()"),
            send_resp: true,
            ..Default::default()
        }),
    );
    let out = h.record(&rec(50, 2, 1, std::slice::from_ref(&reset)));
    assert_eq!(out.len(), 2, "{out:?}");
    assert_eq!(sc_of(&out[0]).session_id, 50, "the OperateResp in the old session");
    let opened = sc_of(&out[1]);
    assert!(!out[1].in_reply);
    assert!(opened.session_id != 50 && opened.sequence_id == 1 && opened.payload.is_empty());
    let out = h.record(&rec(opened.session_id, 1, 2, &[]));
    assert!(out.is_empty());
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Up"));
    h.default(&format!("{E2E}SessionMode"), "Forbid");
    let out = send_raw(&mut h, &reset);
    assert_eq!(out.len(), 2, "{out:?}");
    let Some(RecordType::Disconnect(d)) = &out[1].record.record_type else { panic!("{out:?}") };
    assert_eq!((d.reason_code, d.reason.as_str()), (7105, "Session Context terminated"));
    assert_eq!(h.value(&format!("{E2E}Status")).as_deref(), Some("Down"));
}
