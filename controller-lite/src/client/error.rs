//! The typed failures of the controller library: what can go wrong between sending a request
//! and holding its answer. Owns the mapping to `uspctl`'s exit statuses; never prints.

use std::fmt;
use std::time::Duration;

use usp_mtp::SendError;
use usp_proto::msg;

/// A USP Error message (or a per-path / per-command failure) from the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UspFailure {
    /// The USP error code (7000–7999).
    pub code: u32,
    /// The agent's message.
    pub message: String,
    /// Per-parameter errors (`param_errs` of an Error message): path, code, message.
    pub param_errs: Vec<(String, u32, String)>,
}

impl UspFailure {
    /// The failure carried by an Error message.
    pub fn from_error(e: &msg::Error) -> UspFailure {
        UspFailure {
            code: e.err_code,
            message: e.err_msg.clone(),
            param_errs: e
                .param_errs
                .iter()
                .map(|p| (p.param_path.clone(), p.err_code, p.err_msg.clone()))
                .collect(),
        }
    }
}

impl fmt::Display for UspFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "USP error {}: {}", self.code, self.message)?;
        for (path, code, message) in &self.param_errs {
            write!(f, "\n  {path}: error {code}: {message}")?;
        }
        Ok(())
    }
}

/// Why a request (or a wait for an event) did not produce what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// Nothing came in time: no response to `msg_id`, or the agent never became reachable.
    Timeout {
        /// What was waited for (a msg_id, "the agent", ...).
        what: String,
        /// How long.
        after: Duration,
    },
    /// The agent answered with a USP Error message.
    Usp(UspFailure),
    /// The link refused the Record.
    Send(SendError),
    /// The link to the agent went down while waiting (the agent's session closed, the broker
    /// connection dropped, or the agent sent a DisconnectRecord).
    Disconnected {
        /// Why, as the link or the agent said.
        reason: String,
    },
    /// The agent's answer does not fit the request (wrong response type, missing body).
    Unexpected(String),
    /// The Record cannot be addressed: the agent's Endpoint ID or its MTP destination (MQTT
    /// topic, STOMP destination) is neither configured nor learnt yet.
    NoRoute(String),
    /// The wait was interrupted (Ctrl-C, or [`crate::client::Interrupter::interrupt`]).
    Interrupted,
    /// Every sender of the event channel is gone: the link thread ended.
    Closed,
    /// The transport could not be started.
    Transport(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Timeout { what, after } => {
                write!(f, "timed out after {:.1} s waiting for {what}", after.as_secs_f64())
            }
            ClientError::Usp(e) => write!(f, "{e}"),
            ClientError::Send(e) => write!(f, "cannot send: {e}"),
            ClientError::Disconnected { reason } => write!(f, "disconnected: {reason}"),
            ClientError::Unexpected(what) => write!(f, "unexpected answer: {what}"),
            ClientError::NoRoute(what) => write!(f, "cannot address the agent: {what}"),
            ClientError::Interrupted => f.write_str("interrupted"),
            ClientError::Closed => f.write_str("the link has stopped"),
            ClientError::Transport(e) => write!(f, "transport: {e}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<SendError> for ClientError {
    fn from(e: SendError) -> ClientError {
        ClientError::Send(e)
    }
}
