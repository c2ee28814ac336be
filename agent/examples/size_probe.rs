//! `size_probe`: a small program linking what the daemon links from this library — start-up
//! from a reset file, the SQLite store and the USP message core — so the cross builds
//! (`cross/build.sh`, `cross/sizes.sh`) can measure and smoke-test that part on the routers'
//! CPUs before and besides the daemon binary.
//!
//! `size_probe DIR`: writes a reset file naming one controller into DIR, starts the agent's data
//! model from it with the database `DIR/usp.db`, hands the core a Get Record from that
//! controller and prints the returned parameters, one `path=value` per line, then
//! `size_probe: ok`. A second run on the same DIR starts from the database instead. Exits 1 with
//! a message on any failure. Never does: networking or threads (those belong to the daemon).

use std::path::Path;
use std::process::ExitCode;

use usp_areas::AgentIdentity;
use usp_core::Core;
use usp_datamodel::plugin::Now;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{Get, Msg, body::MsgBody};
use usp_proto::record::Record;

/// The controller the probe pretends to be.
const CONTROLLER: &str = "self::size-probe";

fn main() -> ExitCode {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: size_probe DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(&dir)) {
        Ok(lines) => {
            lines.iter().for_each(|l| println!("{l}"));
            println!("size_probe: ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("size_probe: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the data model in `dir`, asks the core for a few parameters and returns them as
/// `path=value` lines.
fn run(dir: &Path) -> Result<Vec<String>, String> {
    let reset = dir.join("reset.txt");
    let text = format!(
        "Device.LocalAgent.Controller.1.EndpointID \"{CONTROLLER}\"\n\
         Device.LocalAgent.Controller.1.Enable true\n"
    );
    std::fs::write(&reset, text).map_err(|e| format!("cannot write {}: {e}", reset.display()))?;
    let identity = AgentIdentity::default();
    let started = uspagent::startup::start(
        &dir.join("usp.db"),
        Some(&reset),
        &usp_areas::Host::agent_only(identity.clone()),
        now(),
    )
    .map_err(|e| e.to_string())?;
    let mut core = Core::new(started.dm, identity.endpoint_id.clone());
    let paths = ["Device.DeviceInfo.SerialNumber", "Device.LocalAgent.Controller.1.EndpointID"];
    let get = Msg::request(
        "probe-1",
        ReqType::Get(Get { param_paths: paths.map(String::from).to_vec(), max_depth: 0 }),
    );
    let record = Record::no_session_context_msg("1.4", &identity.endpoint_id, CONTROLLER, &get);
    let out = core.handle_record(now(), &record.to_bytes()).outgoing();
    let reply = out.first().ok_or("the core sent no reply")?;
    let msg = reply.record.decode_no_session_context_msg().map_err(|e| e.to_string())?;
    let Some(MsgBody::Response(resp)) = msg.body.and_then(|b| b.msg_body) else {
        return Err("the reply is not a response".into());
    };
    let Some(RespType::GetResp(get_resp)) = resp.resp_type else {
        return Err("the reply is not a GetResp".into());
    };
    let mut lines = vec![format!("from_defaults={}", started.from_defaults)];
    for req in get_resp.req_path_results {
        if req.err_code != 0 {
            return Err(format!("{}: error {} {}", req.requested_path, req.err_code, req.err_msg));
        }
        for res in req.resolved_path_results {
            for (name, value) in res.result_params {
                lines.push(format!("{}{name}={value}", res.resolved_path));
            }
        }
    }
    Ok(lines)
}

/// The current time: uptime zero, the wall clock as the system has it.
fn now() -> Now {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| usp_datamodel::value::DateTime {
            secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            micros: d.subsec_micros(),
        })
        .unwrap_or(Now::default().wall);
    Now { uptime: std::time::Duration::ZERO, wall }
}
