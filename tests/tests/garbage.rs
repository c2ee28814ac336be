//! The agent core never panics on any input: bounded pseudo-random Records (mutated valid ones)
//! and valid Records carrying random paths and values, for every request type.

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Add, Delete, Get, GetInstances, GetSupportedDm, Msg, Operate, Set};
use usp_proto::record::Record;
use usp_tests::{AGENT, CONTROLLER, Lab, RESET_FILE};

/// A tiny xorshift generator: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "Device.",
    "LocalAgent.",
    "Controller.",
    "Subscription.",
    "Request.",
    "DeviceInfo.",
    "1.",
    "2.",
    "*.",
    "{i}.",
    "[",
    "]",
    "==",
    "!=",
    ">=",
    "~=",
    "\"",
    "%22",
    "&&",
    "Alias",
    "ID",
    "Enable",
    "EndpointID",
    "+.",
    "#1+.",
    "Reboot()",
    "ScheduleTimer()",
    "Boot!",
    "..",
    " ",
    "é",
    "0.",
    "NumberOfEntries",
    "MTP.",
    "ControllerTrust.Role.",
    "Permission.",
];

fn random_path(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(8) + 1 {
        s.push_str(PIECES[rng.below(PIECES.len())]);
    }
    s
}

fn random_request(rng: &mut Rng) -> ReqType {
    let path = random_path(rng);
    let value = random_path(rng);
    match rng.below(7) {
        0 => ReqType::Get(Get { param_paths: vec![path], max_depth: rng.below(4) as u32 }),
        1 => ReqType::Set(Set {
            allow_partial: rng.below(2) == 0,
            update_objs: vec![UpdateObject {
                obj_path: path,
                param_settings: vec![UpdateParamSetting {
                    param: PIECES[rng.below(PIECES.len())].into(),
                    value,
                    required: rng.below(2) == 0,
                }],
            }],
        }),
        2 => ReqType::Add(Add {
            allow_partial: rng.below(2) == 0,
            create_objs: vec![CreateObject {
                obj_path: path,
                param_settings: vec![CreateParamSetting {
                    param: PIECES[rng.below(PIECES.len())].into(),
                    value,
                    required: rng.below(2) == 0,
                }],
            }],
        }),
        3 => ReqType::Delete(Delete { allow_partial: rng.below(2) == 0, obj_paths: vec![path] }),
        4 => ReqType::Operate(Operate {
            command: path,
            command_key: value,
            send_resp: rng.below(2) == 0,
            input_args: [("DelaySeconds".to_string(), "1".to_string())].into_iter().collect(),
        }),
        5 => ReqType::GetInstances(GetInstances {
            obj_paths: vec![path],
            first_level_only: rng.below(2) == 0,
        }),
        _ => ReqType::GetSupportedDm(GetSupportedDm {
            obj_paths: vec![path],
            first_level_only: rng.below(2) == 0,
            return_commands: true,
            return_events: true,
            return_params: true,
            return_unique_key_sets: true,
        }),
    }
}

#[test]
fn random_requests_and_mutated_records_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let reset = dir.path().join("reset.txt");
    std::fs::write(&reset, RESET_FILE).expect("reset file");
    let mut lab = Lab::start(&dir.path().join("usp.db"), &reset);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000u32 {
        let req = random_request(&mut rng);
        let msg = Msg::request(format!("g-{i}"), req);
        let mut bytes = Record::no_session_context_msg("1.4", AGENT, CONTROLLER, &msg).to_bytes();
        // Every other Record is mutated: flipped bytes, truncation or garbage appended.
        if i % 2 == 1 && !bytes.is_empty() {
            match rng.below(3) {
                0 => {
                    for _ in 0..rng.below(4) + 1 {
                        let at = rng.below(bytes.len());
                        bytes[at] ^= 1 << rng.below(8);
                    }
                }
                1 => bytes.truncate(rng.below(bytes.len())),
                _ => bytes.extend((0..rng.below(16)).map(|_| rng.next() as u8)),
            }
        }
        lab.uptime = u64::from(i / 500);
        let now = usp_datamodel::plugin::Now {
            uptime: std::time::Duration::from_secs(lab.uptime),
            ..Default::default()
        };
        for out in lab.core.handle_record(now, &bytes) {
            // Whatever the agent sends is a well-formed Record addressed to the controller.
            assert_eq!(out.to, CONTROLLER);
            Record::from_bytes(&out.record.to_bytes()).expect("agent output decodes");
        }
    }
    // The agent still answers normally afterwards.
    let replies = lab.send(ReqType::Get(Get {
        param_paths: vec!["Device.LocalAgent.EndpointID".into()],
        max_depth: 0,
    }));
    assert_eq!(replies.len(), 1);
}
