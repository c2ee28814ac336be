//! The denial-of-service probes of issue 20, against the USP message core (not a test):
//! `cargo run --release -p uspagent --example dos_probe -- SCENARIO [N]`.
//!
//! Scenarios (one per process, so that the peak RSS printed is the scenario's own):
//! - `chain N`: a controller with ordinary rights Adds a Subscription with `ID=L` and a
//!   `ReferenceList` naming itself twice, then Gets
//!   `Device.LocalAgent.Subscription.[ID=="L"].` + `ReferenceList#*+.` × N + `ID`;
//! - `search N`: the same chain inside a search condition;
//! - `get N`: one Get of `Device.` repeated N times;
//! - `gsdm N`: one GetSupportedDM of `Device.` repeated N times.
//!
//! Prints the time of the probe, the size of the answer and the process's peak RSS (VmHWM),
//! then checks that the core still answers a small Get.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use usp_areas::{AgentIdentity, builtin};
use usp_core::{BootInfo, Core};
use usp_datamodel::DataModel;
use usp_datamodel::plugin::Now;
use usp_datamodel::store::NullStore;
use usp_datamodel::value::DateTime;
use usp_proto::Message;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};
use usp_proto::record::Record;

const AGENT: &str = "os::00D09E-PROBE";
const CTRL: &str = "self::probe-controller";

fn now() -> Now {
    Now { uptime: Duration::from_secs(100), wall: DateTime::from_unix(1_700_000_000) }
}

fn core() -> Core {
    let identity = AgentIdentity { endpoint_id: AGENT.into(), ..AgentIdentity::default() };
    let mut dm = DataModel::new(builtin(&identity), Box::new(NullStore), now()).unwrap();
    dm.apply_default("Device.LocalAgent.Controller.1.EndpointID", CTRL, false).unwrap();
    let role = "Device.LocalAgent.ControllerTrust.Role.1";
    dm.apply_default("Device.LocalAgent.Controller.1.AssignedRole", role, false).unwrap();
    usp_areas::local_agent::apply_trust_defaults(&mut dm).unwrap();
    let mut core = Core::new(dm, AGENT);
    core.boot(now(), BootInfo::local(false, false));
    core
}

fn record(req: ReqType) -> Vec<u8> {
    Record::no_session_context_msg("1.4", AGENT, CTRL, &Msg::request("probe", req)).to_bytes()
}

/// A Record whose Msg is a Get (`field` 1) or a GetSupportedDM (2) of `body` encoded `n`
/// times over: protobuf merges the copies into one message whose repeated fields hold `n` times
/// the items. Built by hand, without `n` decoded items, so that the peak RSS is the agent's.
fn repeated(field: u32, body: &[u8], n: usize) -> Vec<u8> {
    let mut payload = Msg::request("probe", ReqType::Get(msg::Get::default()));
    payload.body = None;
    let mut payload = payload.to_bytes();
    payload.extend(wrap(2, &wrap(1, &wrap(field, &body.repeat(n)))));
    Record::no_session_context("1.4", AGENT, CTRL, payload).to_bytes()
}

/// A length-delimited protobuf field.
fn wrap(field: u32, content: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3 | 2) as u8];
    let mut len = content.len();
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(content);
    out
}

fn get(paths: Vec<String>) -> Vec<u8> {
    record(ReqType::Get(msg::Get { param_paths: paths, max_depth: 0 }))
}

/// Clears the peak RSS, so that VmHWM then tells the probe's own cost.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn add_self_subscription() -> Vec<u8> {
    let me = r#"Device.LocalAgent.Subscription.[ID=="L"]."#;
    let setting = |param: &str, value: &str| msg::add::CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required: true,
    };
    record(ReqType::Add(msg::Add {
        allow_partial: false,
        create_objs: vec![msg::add::CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                setting("ID", "L"),
                setting("NotifType", "ValueChange"),
                setting("ReferenceList", &format!("{me},{me}")),
            ],
        }],
    }))
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| "chain".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let mut core = core();
    let probe = match scenario.as_str() {
        "chain" | "search" => {
            let added = core.handle_record(now(), &add_self_subscription()).outgoing();
            assert_eq!(added.len(), 1, "the Add is answered");
            let chain = "ReferenceList#*+.".repeat(n);
            let path = if scenario == "chain" {
                format!(r#"Device.LocalAgent.Subscription.[ID=="L"].{chain}ID"#)
            } else {
                format!(r#"Device.LocalAgent.Subscription.[{chain}ID=="L"].ID"#)
            };
            get(vec![path])
        }
        "get" => {
            let one = msg::Get { param_paths: vec!["Device.".into()], max_depth: 0 };
            repeated(1, &one.encode_to_vec(), n)
        }
        "gsdm" => {
            let one = msg::GetSupportedDm {
                obj_paths: vec!["Device.".into()],
                first_level_only: false,
                return_commands: true,
                return_events: true,
                return_params: true,
                return_unique_key_sets: true,
            };
            repeated(2, &one.encode_to_vec(), n)
        }
        other => panic!("unknown scenario {other}"),
    };
    reset_peak_rss();
    let start = Instant::now();
    let out = core.handle_record(now(), &probe).outgoing();
    let took = start.elapsed();
    let bytes: usize = out.iter().map(|o| o.record.to_bytes().len()).sum();
    let answer = out
        .first()
        .and_then(|o| o.record.decode_no_session_context_msg().ok())
        .map(|m| match m.msg_type() {
            Some(t) => format!("{t:?}"),
            None => "?".into(),
        })
        .unwrap_or_else(|| "nothing".into());
    println!(
        "{scenario} n={n}: request {} B, {:.3} s, answer {answer} {bytes} B, peak RSS {} MB",
        probe.len(),
        took.as_secs_f64(),
        peak_rss_kb() / 1024
    );
    let next =
        core.handle_record(now(), &get(vec!["Device.LocalAgent.EndpointID".into()])).outgoing();
    assert_eq!(next.len(), 1, "the next request is answered");
}
