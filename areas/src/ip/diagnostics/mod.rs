//! The `Device.IP.Diagnostics.` commands: each run is checked on the data-model thread (input
//! bounds, 7027 when out of them), then runs on a thread of its own (several at once, at most
//! [`MAX_RUNS`]), bounded in time, and ends in an OperationComplete whose output arguments
//! are TR-181 2.19's. A failure of the test itself (a name that does not resolve, no route,
//! no ICMP socket) is a `Status` value (`Error_CannotResolveHostName`, `Error_NoRouteToHost`,
//! `Error_Other`...), not a USP error. `Request.{i}.Cancel()` stops a run between probes and
//! completes it with 7023.
//!
//! Never does: block the data-model thread (names are resolved on the run's thread), shell
//! out to `ping`/`traceroute`, or probe an address the controller did not give.

mod http;
pub mod icmp;
pub mod input;
pub mod ping;
mod run;
mod socket;
pub mod udp_echo;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, OpHandle, Outcome, Wake};
use usp_datamodel::value::Value;

use self::input::Args;
use crate::Host;

/// Output arguments of a run.
pub type Output = Vec<(Box<str>, Value)>;

/// One output argument.
pub fn out(name: &str, value: Value) -> (Box<str>, Value) {
    (name.into(), value)
}

/// The most runs at once; another is refused with 7022 until one ends.
pub const MAX_RUNS: usize = 8;

/// The values of `Device.IP.Diagnostics.`'s capability parameters.
pub fn capability(name: &str) -> Option<Value> {
    Some(match name {
        "DownloadTransports" | "UploadTransports" => Value::String("HTTP".into()),
        "DownloadDiagnosticMaxConnections" | "UploadDiagnosticsMaxConnections" => {
            Value::UnsignedInt(1)
        }
        "UDPEchoDiagnosticsMaxResults" => Value::UnsignedInt(0),
        n if n.ends_with("Supported") => Value::Boolean(true),
        _ => return None,
    })
}

/// The runs in progress and the channel their threads answer on.
pub struct Diagnostics {
    runs: HashMap<OpHandle, Arc<AtomicBool>>,
    tx: Sender<(OpHandle, Output)>,
    rx: Receiver<(OpHandle, Output)>,
    waker: Arc<dyn Wake>,
    /// The CAs an `https://` test trusts; `None` for the system bundle.
    pub ca_file: Option<std::path::PathBuf>,
}

impl Diagnostics {
    /// No run yet; finished runs wake the data-model thread through `host.waker`.
    pub fn new(host: &Host) -> Diagnostics {
        let (tx, rx) = mpsc::channel();
        Diagnostics { runs: HashMap::new(), tx, rx, waker: host.waker.clone(), ca_file: None }
    }

    /// Checks `input` for command `name` and starts its run, through network `device` when
    /// its `Interface` named one.
    pub fn start(
        &mut self,
        name: &str,
        input: &[(Box<str>, Value)],
        device: Option<String>,
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if self.runs.len() >= MAX_RUNS {
            let msg = format!("{MAX_RUNS} diagnostics are running already");
            return Err(UspError::new(ErrorCode::CommandFailure, msg));
        }
        let job = run::Job::check(name, Args(input.to_vec()), device)?;
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, waker, flag) = (self.tx.clone(), self.waker.clone(), cancel.clone());
        let ca_file = self.ca_file.clone();
        std::thread::Builder::new()
            .name(format!("diag-{name}"))
            .spawn(move || {
                let output = job.run(&flag, ca_file.as_deref());
                if tx.send((handle, output)).is_ok() {
                    waker.wake();
                }
            })
            .map_err(|e| UspError::new(ErrorCode::CommandFailure, format!("no thread: {e}")))?;
        self.runs.insert(handle, cancel);
        Ok(Outcome::Running)
    }

    /// Stops run `handle` and completes it with 7023 (its thread ends at its next check).
    pub fn cancel(&mut self, ctx: &mut Ctx, handle: OpHandle) -> Result<(), UspError> {
        let flag = self
            .runs
            .remove(&handle)
            .ok_or_else(|| UspError::new(ErrorCode::CommandFailure, "no such diagnostic run"))?;
        flag.store(true, Ordering::Relaxed);
        ctx.complete(handle, Err(UspError::new(ErrorCode::CommandCanceled, "canceled")));
        Ok(())
    }

    /// Completes the runs that ended (a canceled run's late result is dropped).
    pub fn poll(&mut self, ctx: &mut Ctx) {
        while let Ok((handle, output)) = self.rx.try_recv() {
            if self.runs.remove(&handle).is_some() {
                ctx.complete(handle, Ok(output));
            }
        }
    }
}
