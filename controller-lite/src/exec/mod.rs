//! Runs one parsed [`Command`] and prints its outcome: through a [`Controller`] for the
//! commands that talk to an agent ([`execute`]), without one for `decode` and `encode`
//! ([`offline`]). Shared by the one-shot command line and the shell.
//!
//! Output contract: results on standard output (a table, or JSON with `--json`), one line per
//! failure and the progress of `operate` on standard error; the [`Status`] says how it went
//! (see `uspctl --help`, EXIT STATUS). A failed write to standard output (a closed pipe) ends
//! a `watch` quietly.

mod progress;
#[cfg(test)]
mod tests;

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};
use usp_proto::msg::{self, request::ReqType};
use usp_proto::record::Record;

use crate::cli::{Command, Global};
use crate::client::{ClientError, Controller, Event, USP_VERSION, UspFailure};
use crate::operate::{self, CommandOutcome, CommandResult};
use crate::render::{self, Rendered};
use crate::request::{self, ArgError};
use crate::{decode, json as js, watch};

/// How a command ended, and the process exit status it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Success (0).
    Ok,
    /// The agent reported an error (1).
    Failed,
    /// Bad usage (2).
    Usage,
    /// The transport failed (3).
    Transport,
    /// No answer in time (4).
    Timeout,
    /// Interrupted by Ctrl-C (130).
    Interrupted,
}

impl Status {
    /// The exit status.
    pub fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::Usage => 2,
            Status::Transport => 3,
            Status::Timeout => 4,
            Status::Interrupted => 130,
        }
    }

    /// The status of a failed request.
    pub fn of(e: &ClientError) -> Status {
        match e {
            ClientError::Usp(_) | ClientError::Unexpected(_) => Status::Failed,
            ClientError::Timeout { .. } | ClientError::NoRoute(_) => Status::Timeout,
            ClientError::Interrupted => Status::Interrupted,
            ClientError::Send(_)
            | ClientError::Disconnected { .. }
            | ClientError::Closed
            | ClientError::Transport(_) => Status::Transport,
        }
    }
}

/// Where a command's output goes.
pub struct Output<'a> {
    /// Results.
    pub stdout: &'a mut dyn Write,
    /// Failures, progress, notes.
    pub stderr: &'a mut dyn Write,
    /// JSON instead of tables.
    pub json: bool,
    /// Standard error is a terminal: progress redraws one line.
    pub live: bool,
    /// Paths met in the answers (for the shell's completion), when wanted.
    pub learnt: Option<&'a mut Vec<String>>,
}

impl Output<'_> {
    /// Writes to standard output; false when it is gone.
    fn out(&mut self, text: &str) -> bool {
        self.stdout.write_all(text.as_bytes()).and_then(|()| self.stdout.flush()).is_ok()
    }

    fn err_line(&mut self, text: &str) {
        // Nowhere to report a failing standard error.
        let _ = writeln!(self.stderr, "{text}");
    }

    fn json(&mut self, value: &Value) -> bool {
        let text = serde_json::to_string_pretty(value).unwrap_or_default();
        self.out(&format!("{text}\n"))
    }

    fn learn(&mut self, paths: impl IntoIterator<Item = String>) {
        if let Some(learnt) = self.learnt.as_deref_mut() {
            learnt.extend(paths);
        }
    }

    /// Prints a result: its table (or `json`), then its failures.
    fn show(&mut self, rendered: Rendered, json: Option<Value>) -> Status {
        match json {
            Some(v) => self.json(&v),
            None => self.out(&rendered.stdout),
        };
        for line in &rendered.failures {
            self.err_line(line);
        }
        if rendered.failed() { Status::Failed } else { Status::Ok }
    }

    /// Reports a failed request.
    pub fn error(&mut self, e: &ClientError) -> Status {
        match e {
            ClientError::Usp(f) => {
                if self.json {
                    self.json(&usp_failure_json(f));
                }
                for line in render::usp_error(f).failures {
                    self.err_line(&line);
                }
            }
            other => self.err_line(&format!("uspctl: {other}")),
        }
        Status::of(e)
    }
}

fn usp_failure_json(f: &UspFailure) -> Value {
    let params: Vec<Value> = f
        .param_errs
        .iter()
        .map(|(p, c, m)| json!({ "param_path": p, "err_code": c, "err_msg": m }))
        .collect();
    json!({ "err_code": f.code, "err_msg": f.message, "param_errs": params })
}

/// The request a command sends (`None` for commands that are not one request).
pub fn request_of(cmd: &Command, command_key: &str) -> Option<ReqType> {
    Some(match cmd {
        Command::Get { paths, max_depth } => request::get(paths, *max_depth),
        Command::Set { objects, allow_partial } => request::set(objects, *allow_partial),
        Command::Add { objects, allow_partial } => request::add(objects, *allow_partial),
        Command::Del { paths, allow_partial } => request::delete(paths, *allow_partial),
        Command::Operate { command, args, .. } => {
            request::operate(command, args, command_key, true)
        }
        Command::Instances { paths, first_level_only } => {
            request::instances(paths, *first_level_only)
        }
        Command::Gsdm { paths, options } => request::gsdm(paths, *options),
        Command::Proto { versions } => request::proto(versions.as_deref()),
        _ => return None,
    })
}

/// Runs a command that talks to the agent.
pub fn execute(ctl: &mut Controller, cmd: &Command, out: &mut Output) -> Status {
    match cmd {
        Command::Operate { command, args, no_wait, wait_max } => {
            let opts = operate::Options {
                wait: !no_wait,
                poll_every: Duration::from_secs(1),
                max_wait: *wait_max,
            };
            run_operate(ctl, command, args, opts, out)
        }
        Command::Subscribe { notif_type, reference_list, keep, limits } => {
            match watch::subscribe(ctl, notif_type, reference_list) {
                Ok(sub) => {
                    out.err_line(&format!("subscribed: {} (ID {})", sub.path, sub.id));
                    let status = run_watch(ctl, *limits, out);
                    if *keep {
                        out.err_line(&format!("kept {}", sub.path));
                    } else if let Err(e) = watch::unsubscribe(ctl, &sub) {
                        out.err_line(&format!("uspctl: could not delete {}: {e}", sub.path));
                    }
                    status
                }
                Err(e) => out.error(&e),
            }
        }
        Command::Watch { limits } => run_watch(ctl, *limits, out),
        _ => match request_of(cmd, "") {
            Some(req) => match ctl.call(req) {
                Ok(resp) => show_response(&resp, out),
                Err(e) => out.error(&e),
            },
            None => {
                out.err_line("uspctl: this command does not talk to the agent");
                Status::Usage
            }
        },
    }
}

/// Prints a response (and learns the paths it names).
fn show_response(resp: &msg::response::RespType, out: &mut Output) -> Status {
    use msg::response::RespType as R;
    let json = out.json;
    let pick = |v: Value| if json { Some(v) } else { None };
    match resp {
        R::GetResp(g) => {
            out.learn(g.req_path_results.iter().flat_map(|r| &r.resolved_path_results).flat_map(
                |r| r.result_params.keys().map(move |k| format!("{}{k}", r.resolved_path)),
            ));
            out.show(render::get(g), pick(js::get_resp(g)))
        }
        R::SetResp(s) => out.show(render::set(s), pick(js::set_resp(s))),
        R::AddResp(a) => out.show(render::add(a), pick(js::add_resp(a))),
        R::DeleteResp(d) => out.show(render::delete(d), pick(js::delete_resp(d))),
        R::GetInstancesResp(g) => {
            out.learn(
                g.req_path_results
                    .iter()
                    .flat_map(|r| &r.curr_insts)
                    .map(|i| i.instantiated_obj_path.clone()),
            );
            out.show(render::instances(g), pick(js::instances_resp(g)))
        }
        R::GetSupportedDmResp(g) => {
            out.learn(crate::complete::gsdm_paths(g));
            out.show(render::gsdm(g), pick(js::gsdm_resp(g)))
        }
        R::GetSupportedProtocolResp(p) => {
            let v =
                json!({ "agent_supported_protocol_versions": p.agent_supported_protocol_versions });
            out.show(render::proto(p), pick(v))
        }
        other => out.show(Rendered::default(), Some(js::response(other))),
    }
}

fn run_operate(
    ctl: &mut Controller,
    command: &str,
    args: &std::collections::BTreeMap<String, String>,
    opts: operate::Options,
    out: &mut Output,
) -> Status {
    let mut line = progress::ProgressLine::new(out.live);
    let result = operate::run(ctl, command, args, opts, &mut |p| line.show(p, &mut *out.stderr));
    line.finish(&mut *out.stderr);
    match result {
        Ok(results) => {
            let json = out.json.then(|| operate_json(&results));
            out.show(render::operate(&results), json)
        }
        Err(e) => out.error(&e),
    }
}

/// Command outcomes as JSON: `[{"command": .., "output_args": {..}} | {"command": ..,
/// "err_code": .., "err_msg": ..} | {"command": .., "req_obj_path": ..} | {"command": ..,
/// "finished": true}]`.
pub fn operate_json(results: &[CommandResult]) -> Value {
    let one = |r: &CommandResult| match &r.outcome {
        CommandOutcome::Output(args) => json!({ "command": r.command, "output_args": args }),
        CommandOutcome::Failed { code, message } => {
            json!({ "command": r.command, "err_code": code, "err_msg": message })
        }
        CommandOutcome::Started { request } => {
            json!({ "command": r.command, "req_obj_path": request })
        }
        CommandOutcome::Finished => json!({ "command": r.command, "finished": true }),
    };
    Value::Array(results.iter().map(one).collect())
}

fn run_watch(ctl: &mut Controller, limits: watch::Limits, out: &mut Output) -> Status {
    let result = watch::watch(ctl, limits, &mut |event| print_event(event, out));
    match result {
        Ok(_) => Status::Ok,
        Err(e) => out.error(&e),
    }
}

/// Prints one event: a notification on standard output, the rest on standard error. False
/// when standard output is gone.
pub fn print_event(event: &Event, out: &mut Output) -> bool {
    match event {
        Event::Notify(n) => {
            if out.json {
                let mut v = js::notify(&n.notify);
                if let Value::Object(map) = &mut v {
                    map.insert("msg_id".into(), json!(n.msg_id));
                    map.insert("from".into(), json!(n.from));
                }
                out.out(&format!("{v}\n"))
            } else {
                out.out(&format!("{}\n", render::notification(&clock(), n)))
            }
        }
        Event::AgentUp { endpoint_id } => {
            out.err_line(&format!("# agent {endpoint_id} is up"));
            true
        }
        Event::AgentDown { reason } => {
            out.err_line(&format!("# agent down: {reason}"));
            true
        }
        Event::LinkUp => true,
        Event::LinkDown { reason, .. } => {
            out.err_line(&format!("# link down: {reason}"));
            true
        }
    }
}

/// The time of day (UTC), `HH:MM:SS`.
fn clock() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let day = secs % 86_400;
    format!("{:02}:{:02}:{:02}", day / 3600, day % 3600 / 60, day % 60)
}

/// Runs a command that needs no agent (`decode`, `encode`); `None` for the others.
pub fn offline(
    cmd: &Command,
    global: &Global,
    stdin: &mut dyn std::io::Read,
    out: &mut Output,
) -> Option<Status> {
    Some(match cmd {
        Command::Decode { input } => run_decode(input.as_deref(), stdin, out),
        Command::Encode(inner) => match encode(inner, global) {
            Ok(hex) => {
                out.out(&format!("{hex}\n"));
                Status::Ok
            }
            Err(e) => {
                out.err_line(&format!("uspctl encode: {e}"));
                Status::Usage
            }
        },
        _ => return None,
    })
}

fn run_decode(input: Option<&str>, stdin: &mut dyn std::io::Read, out: &mut Output) -> Status {
    let bytes = match decode::read_input(input, stdin) {
        Ok(b) => b,
        Err(e) => {
            out.err_line(&format!("uspctl decode: {e}"));
            return Status::Usage;
        }
    };
    let shown = if out.json {
        decode::describe_json(&bytes).map(|v| out.json(&v))
    } else {
        decode::describe(&bytes).map(|text| out.out(&text))
    };
    match shown {
        Ok(_) => Status::Ok,
        Err(e) => {
            out.err_line(&format!("uspctl decode: {e}"));
            Status::Failed
        }
    }
}

/// The Record `cmd` would send, in hex (from `--eid` to `--agent`, msg_id `uspctl-encode`).
pub fn encode(cmd: &Command, global: &Global) -> Result<String, ArgError> {
    let agent =
        global.agent.as_deref().ok_or_else(|| ArgError("give the agent with --agent".into()))?;
    let req = request_of(cmd, "uspctl-encode")
        .ok_or_else(|| ArgError("this command is not one request".into()))?;
    let msg = msg::Msg::request("uspctl-encode", req);
    let record = Record::no_session_context_msg(USP_VERSION, agent, global.eid.clone(), &msg);
    Ok(decode::to_hex(&record.to_bytes()))
}
