//! Operate: start a command and, when it runs asynchronously, wait for its OperationComplete
//! while reporting progress (elapsed time, the `Status` of its `Device.LocalAgent.Request`
//! row).
//!
//! To receive the OperationComplete, a temporary OperationComplete subscription to the command
//! is created before the Operate and deleted afterwards (also on failure or interrupt). When the
//! agent refuses it, the wait falls back to polling the Request row: when the row is gone the
//! command is over, with its output unknown ([`CommandOutcome::Finished`]).
//!
//! Never prints: progress goes to a callback.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use usp_proto::msg::notify::operation_complete::OperationResp as Done;
use usp_proto::msg::operate_resp::operation_result::OperationResp;
use usp_proto::msg::{self, notify::Notification as N};

use crate::client::{ClientError, Controller, Event};
use crate::watch::{self, Subscription};

/// uspagent's vendor parameter of `Device.LocalAgent.Request.{i}.`: the share of a running
/// command's work done, in percent (other agents lack it; the line then shows no bar).
pub const PROGRESS: &str = "X_00D09E_Progress";

/// What became of one executed command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandOutcome {
    /// It finished with these output arguments.
    Output(BTreeMap<String, String>),
    /// It failed.
    Failed {
        /// The USP error code.
        code: u32,
        /// The agent's message.
        message: String,
    },
    /// It runs asynchronously and was not waited for.
    Started {
        /// Its `Device.LocalAgent.Request.{i}.` row.
        request: String,
    },
    /// It ended (its Request row is gone) but no OperationComplete told how.
    Finished,
}

/// One executed command (a search path may execute several).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandResult {
    /// The command's full path (`Device.X.1.Run()`).
    pub command: String,
    /// What became of it.
    pub outcome: CommandOutcome,
}

/// How to operate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Wait for asynchronous commands to complete.
    pub wait: bool,
    /// How often the Request rows' Status is read (and progress reported).
    pub poll_every: Duration,
    /// Give up waiting after this long (`None`: until interrupted).
    pub max_wait: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options { wait: true, poll_every: Duration::from_secs(1), max_wait: None }
    }
}

/// A progress report on one running command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress<'a> {
    /// The command.
    pub command: &'a str,
    /// Its Request row.
    pub request: &'a str,
    /// Since the Operate was answered.
    pub elapsed: Duration,
    /// The row's `Status` (`None`: the row is gone or unreadable).
    pub status: Option<&'a str>,
    /// The share done in percent, when the agent reports it (the vendor parameter
    /// [`PROGRESS`] of the Request row, e.g. a Download's bytes).
    pub percent: Option<u32>,
}

/// A command still running.
struct Pending {
    command: String,
    request: String,
    /// Since when its Request row has been missing.
    gone_since: Option<Instant>,
}

/// How long a vanished Request row waits for its OperationComplete before the command is
/// taken as [`CommandOutcome::Finished`].
const GONE_GRACE: Duration = Duration::from_secs(3);

/// Operates `command` with `args` (see the module documentation).
pub fn run(
    ctl: &mut Controller,
    command: &str,
    args: &BTreeMap<String, String>,
    opts: Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<CommandResult>, ClientError> {
    let sub = if opts.wait {
        match watch::subscribe(ctl, "OperationComplete", command) {
            Ok(sub) => Some(sub),
            Err(ClientError::Usp(_)) => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    let outcome = operate_and_wait(ctl, command, args, opts, sub.as_ref(), progress);
    if let Some(sub) = &sub {
        // Best effort: a non-persistent subscription also ends with the agent's next restart.
        let _ = watch::unsubscribe(ctl, sub);
    }
    outcome
}

fn operate_and_wait(
    ctl: &mut Controller,
    command: &str,
    args: &BTreeMap<String, String>,
    opts: Options,
    sub: Option<&Subscription>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<CommandResult>, ClientError> {
    let key = ctl.unique_id("uspctl-op");
    let resp = ctl.operate(msg::Operate {
        command: command.to_owned(),
        command_key: key.clone(),
        send_resp: true,
        input_args: args.clone(),
    })?;
    let mut results = Vec::new();
    let mut pending = Vec::new();
    for r in resp.operation_results {
        let outcome = match r.operation_resp {
            Some(OperationResp::ReqOutputArgs(o)) => CommandOutcome::Output(o.output_args),
            Some(OperationResp::CmdFailure(f)) => {
                CommandOutcome::Failed { code: f.err_code, message: f.err_msg }
            }
            Some(OperationResp::ReqObjPath(request)) if opts.wait => {
                pending.push(Pending { command: r.executed_command, request, gone_since: None });
                continue;
            }
            Some(OperationResp::ReqObjPath(request)) => CommandOutcome::Started { request },
            None => CommandOutcome::Failed { code: 0, message: "no result in the answer".into() },
        };
        results.push(CommandResult { command: r.executed_command, outcome });
    }
    wait_all(ctl, &key, pending, opts, sub.is_some(), progress, &mut results)?;
    Ok(results)
}

fn wait_all(
    ctl: &mut Controller,
    key: &str,
    mut pending: Vec<Pending>,
    opts: Options,
    subscribed: bool,
    progress: &mut dyn FnMut(&Progress),
    results: &mut Vec<CommandResult>,
) -> Result<(), ClientError> {
    let start = Instant::now();
    let mut next_poll = start;
    while !pending.is_empty() {
        if let Some(max) = opts.max_wait.filter(|max| start.elapsed() >= *max) {
            let what = format!("{} to complete", pending[0].command);
            return Err(ClientError::Timeout { what, after: max });
        }
        if Instant::now() >= next_poll {
            poll_status(ctl, &mut pending, start, subscribed, progress, results)?;
            next_poll += opts.poll_every;
            continue;
        }
        let slice = next_poll.saturating_duration_since(Instant::now());
        let done = ctl.wait_event(slice, |e| completion(e, key, &pending).is_some())?;
        if let Some(event) = done {
            if let Some((i, outcome)) = completion(&event, key, &pending) {
                let p = pending.remove(i);
                results.push(CommandResult { command: p.command, outcome });
            }
        }
    }
    Ok(())
}

/// Reads each pending command's Request Status and reports progress; resolves commands whose
/// row is gone (see [`GONE_GRACE`]).
fn poll_status(
    ctl: &mut Controller,
    pending: &mut Vec<Pending>,
    start: Instant,
    subscribed: bool,
    progress: &mut dyn FnMut(&Progress),
    results: &mut Vec<CommandResult>,
) -> Result<(), ClientError> {
    let mut i = 0;
    while i < pending.len() {
        let (status, percent) = request_status(ctl, &pending[i].request)?;
        let p = &mut pending[i];
        let elapsed = start.elapsed();
        progress(&Progress {
            command: &p.command,
            request: &p.request,
            elapsed,
            status: status.as_deref(),
            percent,
        });
        if status.is_some() {
            p.gone_since = None;
        } else {
            let since = *p.gone_since.get_or_insert_with(Instant::now);
            if !subscribed || since.elapsed() >= GONE_GRACE {
                let p = pending.remove(i);
                results
                    .push(CommandResult { command: p.command, outcome: CommandOutcome::Finished });
                continue;
            }
        }
        i += 1;
    }
    Ok(())
}

/// The `Status` of a Request row (`None` when the row does not exist any more) and its
/// progress in percent, if the agent reports one.
fn request_status(
    ctl: &mut Controller,
    request: &str,
) -> Result<(Option<String>, Option<u32>), ClientError> {
    let progress = PROGRESS;
    let get = msg::Get {
        param_paths: vec![format!("{request}Status"), format!("{request}{progress}")],
        max_depth: 0,
    };
    match ctl.get(get) {
        Ok(resp) => {
            let params: Vec<_> = resp
                .req_path_results
                .into_iter()
                .filter(|r| r.err_code == 0)
                .flat_map(|r| r.resolved_path_results)
                .flat_map(|r| r.result_params)
                .collect();
            let find = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            Ok((find("Status"), find(progress).and_then(|v| v.parse().ok())))
        }
        Err(ClientError::Usp(_)) => Ok((None, None)),
        Err(e) => Err(e),
    }
}

/// Which pending command `event` completes, and how.
fn completion(event: &Event, key: &str, pending: &[Pending]) -> Option<(usize, CommandOutcome)> {
    let Event::Notify(n) = event else { return None };
    let Some(N::OperComplete(c)) = &n.notify.notification else { return None };
    if c.command_key != key {
        return None;
    }
    let command = format!("{}{}", c.obj_path, c.command_name);
    let i = pending.iter().position(|p| p.command == command)?;
    let outcome = match &c.operation_resp {
        Some(Done::ReqOutputArgs(o)) => CommandOutcome::Output(o.output_args.clone()),
        Some(Done::CmdFailure(f)) => {
            CommandOutcome::Failed { code: f.err_code, message: f.err_msg.clone() }
        }
        None => CommandOutcome::Finished,
    };
    Some((i, outcome))
}

#[cfg(test)]
mod tests;
