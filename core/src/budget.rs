//! What one request of a controller may cost (issue 20: one 180 KB Get of `Device.` × 20,000
//! took 559 MB to answer, one 5 MiB Record would have needed 16 GB).
//!
//! Every request of a controller is answered within [`Limits`]:
//!
//! - at most [`Limits::max_paths`] requested paths (Get, GetSupportedDM, GetInstances and
//!   Delete paths, Set and Add objects plus their parameter settings, Operate input
//!   arguments): checked before anything is resolved;
//! - an answer of at most [`Limits::max_response_bytes`] (the encoded size of its results,
//!   counted while it is built, so the agent never holds more than that much of an answer).
//!
//! A request beyond a limit is answered with an Error message 7005 "Resources exceeded" (TR-369
//! gives it for "any" message) naming the limit, and nothing of it is done; the agent goes on
//! serving. The local CLI and the agent's own requests are not limited.

use usp_datamodel::{ErrorCode, UspError};
use usp_proto::msg::request::ReqType;

/// The bounds of one request (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most paths (and settings, arguments) one request may carry.
    pub max_paths: usize,
    /// The most bytes the results of one answer may take, encoded.
    pub max_response_bytes: usize,
}

impl Limits {
    /// No limit (the local CLI, the agent itself).
    pub const NONE: Limits = Limits { max_paths: usize::MAX, max_response_bytes: usize::MAX };
}

impl Default for Limits {
    /// 1,024 paths, 1 MiB of answer: far above what a controller asks of a router (TP-469's
    /// largest Get of the whole model is a few tens of kilobytes), far below what a 64 MB router
    /// can afford to build.
    fn default() -> Limits {
        Limits { max_paths: 1024, max_response_bytes: 1 << 20 }
    }
}

/// The answer bytes a request may still use.
#[derive(Debug)]
pub(super) struct Budget {
    limits: Limits,
    used: usize,
}

impl Budget {
    /// A fresh budget for one request.
    pub(super) fn new(limits: Limits) -> Budget {
        Budget { limits, used: 0 }
    }

    /// Checks the number of paths of `req` (7005 beyond [`Limits::max_paths`]).
    pub(super) fn check_paths(&self, req: &ReqType) -> Result<(), UspError> {
        let count = paths_of(req);
        if count > self.limits.max_paths {
            return Err(UspError::new(
                ErrorCode::ResourcesExceeded,
                format!(
                    "the request names {count} paths; this agent answers at most {}",
                    self.limits.max_paths
                ),
            ));
        }
        Ok(())
    }

    /// Counts `bytes` more of the answer (7005 once [`Limits::max_response_bytes`] is passed).
    pub(super) fn charge(&mut self, bytes: usize) -> Result<(), UspError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limits.max_response_bytes {
            return Err(UspError::new(
                ErrorCode::ResourcesExceeded,
                format!(
                    "the response would exceed {} bytes; ask for less at a time",
                    self.limits.max_response_bytes
                ),
            ));
        }
        Ok(())
    }
}

/// The number of paths, settings and arguments a request carries.
fn paths_of(req: &ReqType) -> usize {
    match req {
        ReqType::Get(r) => r.param_paths.len(),
        ReqType::GetSupportedDm(r) => r.obj_paths.len(),
        ReqType::GetInstances(r) => r.obj_paths.len(),
        ReqType::Delete(r) => r.obj_paths.len(),
        ReqType::Set(r) => r.update_objs.iter().map(|o| 1 + o.param_settings.len()).sum(),
        ReqType::Add(r) => r.create_objs.iter().map(|o| 1 + o.param_settings.len()).sum(),
        ReqType::Operate(r) => 1 + r.input_args.len(),
        ReqType::GetSupportedProtocol(_) => 1,
        ReqType::Register(r) => r.reg_paths.len(),
        ReqType::Deregister(r) => r.paths.len(),
        ReqType::Notify(_) => 1,
    }
}
