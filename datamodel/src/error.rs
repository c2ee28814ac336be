//! The error every data-model operation reports: a USP error code and a message for the
//! controller.

use std::fmt;
pub use usp_proto::ErrorCode;

/// A failed data-model operation, ready to be put in a USP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UspError {
    /// The USP error code.
    pub code: ErrorCode,
    /// A human-readable explanation naming the path or value at fault.
    pub msg: String,
}

impl UspError {
    /// An error with `code` and message `msg`.
    pub fn new(code: ErrorCode, msg: impl Into<String>) -> UspError {
        UspError { code, msg: msg.into() }
    }
    /// 7026: `path` is not in the (supported or instantiated) data model.
    pub fn invalid_path(path: impl fmt::Display) -> UspError {
        UspError::new(ErrorCode::InvalidPath, format!("{path} is not a valid path"))
    }
    /// 7016: the object instance `path` does not exist.
    pub fn no_object(path: impl fmt::Display) -> UspError {
        UspError::new(ErrorCode::ObjectDoesNotExist, format!("{path} does not exist"))
    }
    /// 7003: an internal failure (a bug or a backend fault), described by `msg`.
    pub fn internal(msg: impl Into<String>) -> UspError {
        UspError::new(ErrorCode::InternalError, msg)
    }
}

impl fmt::Display for UspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.code(), self.msg)
    }
}

impl std::error::Error for UspError {}
