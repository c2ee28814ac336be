//! TP-469 2.1, 2.2 and 3.1: Records the agent must not answer (the other Record rules are in
//! the `records` test module).

use usp_proto::msg::Msg;
use usp_proto::record::record::RecordType;
use usp_proto::record::{Record, SessionContextRecord};

use super::*;

fn get_msg() -> Msg {
    Msg::request("r", ReqType::Get(msg::Get { param_paths: vec!["Device.".into()], max_depth: 1 }))
}

#[test]
fn tp469_2_1_no_answer_to_our_own_endpoint_id() {
    let mut h = Harness::builtin();
    let session = SessionContextRecord {
        session_id: 7,
        sequence_id: 1,
        expected_id: 1,
        payload: vec![get_msg().to_bytes()],
        ..Default::default()
    };
    let rec = Record {
        record_type: Some(RecordType::SessionContext(session)),
        ..Record::no_session_context("1.4", AGENT, AGENT, vec![])
    };
    assert!(h.record(&rec).is_empty());
    assert!(h.record(&Record::no_session_context_msg("1.4", AGENT, AGENT, &get_msg())).is_empty());
}

#[test]
fn tp469_2_2_no_answer_to_a_record_for_another_endpoint() {
    let mut h = Harness::builtin();
    let rec = Record::no_session_context_msg("1.4", "os::000000-invalid", CTRL, &get_msg());
    assert!(h.record(&rec).is_empty());
    let rec = Record::no_session_context_msg("1.4", "os::000000-invalid", AGENT, &get_msg());
    assert!(h.record(&rec).is_empty());
}

#[test]
fn tp469_3_1_malformed_record_is_ignored() {
    let mut h = Harness::builtin();
    let good = Record::no_session_context_msg("1.4", AGENT, CTRL, &get_msg()).to_bytes();
    for cut in [1, good.len() / 2, good.len() - 1] {
        assert!(h.bytes(&good[..cut]).is_empty(), "cut at {cut}");
    }
    assert!(h.bytes(b"\xff\xff\xff\xff not a record").is_empty());
    assert_eq!(h.bytes(&good).len(), 1, "the agent still answers after garbage");
}
