//! The USP error codes of TR-369 (Messages 7000–7031, Records 7100–7106).

use std::fmt;

/// A USP error code as carried in `Error.err_code`, `ParamError.err_code`, `oper_failure` and
/// Disconnect records.
///
/// Codes 7200–7299 (data-model defined) and 7800–7999 (vendor defined) are carried by
/// [`ErrorCode::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 7000: the message failed for a reason no other code describes.
    MessageFailed,
    /// 7001: the message type is not supported by this agent.
    MessageNotSupported,
    /// 7002: the request was denied (e.g. the agent is busy).
    RequestDenied,
    /// 7003: an internal error of the agent.
    InternalError,
    /// 7004: the arguments of the message are invalid.
    InvalidArguments,
    /// 7005: the agent lacks the resources to carry out the request.
    ResourcesExceeded,
    /// 7006: the controller lacks permission for the request.
    PermissionDenied,
    /// 7007: the request would leave the agent in an invalid configuration.
    InvalidConfiguration,
    /// 7008: a requested path is not a syntactically valid path (or a reference is invalid).
    InvalidPathSyntax,
    /// 7009: setting a parameter failed for a reason not covered by another code.
    ParameterActionFailed,
    /// 7010: the parameter is not supported by this agent.
    UnsupportedParameter,
    /// 7011: the value has the wrong type for the parameter.
    InvalidType,
    /// 7012: the value is outside the parameter's allowed values.
    InvalidValue,
    /// 7013: the parameter is not writable.
    ParamReadOnly,
    /// 7014: the value conflicts with another parameter's value.
    ValueConflict,
    /// 7015: the operation failed in the data model.
    OperationError,
    /// 7016: the object does not exist.
    ObjectDoesNotExist,
    /// 7017: the object could not be created.
    ObjectNotCreated,
    /// 7018: the object is not a multi-instance object (table).
    NotATable,
    /// 7019: the object is not creatable.
    ObjectNotCreatable,
    /// 7020: the object could not be updated.
    ObjectNotUpdated,
    /// 7021: a parameter marked `required` failed.
    RequiredParamFailed,
    /// 7022: the command failed.
    CommandFailure,
    /// 7023: the command was canceled.
    CommandCanceled,
    /// 7024: the object could not be deleted.
    ObjectNotDeletable,
    /// 7025: another instance already has this unique key.
    UniqueKeyConflict,
    /// 7026: the path is not part of the (supported or instantiated) data model.
    InvalidPath,
    /// 7027: the command's input arguments are invalid (e.g. a mandatory one is missing).
    InvalidCommandArgs,
    /// 7028: registration failed.
    RegisterFailure,
    /// 7029: a registered path is already in use.
    AlreadyInUse,
    /// 7030: deregistration failed.
    DeregisterFailure,
    /// 7031: the path is already registered.
    PathAlreadyRegistered,
    /// 7100: the Record could not be parsed.
    RecordNotParsed,
    /// 7101: a secure session is required.
    SecureSessionRequired,
    /// 7102: secure sessions are not supported.
    SecureSessionNotSupported,
    /// 7103: segmentation and reassembly is not supported.
    SegmentationNotSupported,
    /// 7104: a Record field has an invalid value.
    InvalidRecordValue,
    /// 7105: the session context was terminated.
    SessionContextTerminated,
    /// 7106: session contexts are not allowed.
    SessionContextNotAllowed,
    /// Any other code, such as 7200–7299 (data-model defined) or 7800–7999 (vendor defined).
    Other(u32),
}

/// Every named code with its number and its text from the TR-369 error table.
const TABLE: &[(ErrorCode, u32, &str)] = &[
    (ErrorCode::MessageFailed, 7000, "Message failed"),
    (ErrorCode::MessageNotSupported, 7001, "Message not supported"),
    (ErrorCode::RequestDenied, 7002, "Request denied"),
    (ErrorCode::InternalError, 7003, "Internal error"),
    (ErrorCode::InvalidArguments, 7004, "Invalid arguments"),
    (ErrorCode::ResourcesExceeded, 7005, "Resources exceeded"),
    (ErrorCode::PermissionDenied, 7006, "Permission denied"),
    (ErrorCode::InvalidConfiguration, 7007, "Invalid configuration"),
    (ErrorCode::InvalidPathSyntax, 7008, "Invalid path syntax"),
    (ErrorCode::ParameterActionFailed, 7009, "Parameter action failed"),
    (ErrorCode::UnsupportedParameter, 7010, "Unsupported parameter"),
    (ErrorCode::InvalidType, 7011, "Invalid type"),
    (ErrorCode::InvalidValue, 7012, "Invalid value"),
    (ErrorCode::ParamReadOnly, 7013, "Attempt to update non-writeable parameter"),
    (ErrorCode::ValueConflict, 7014, "Value conflict"),
    (ErrorCode::OperationError, 7015, "Operation error"),
    (ErrorCode::ObjectDoesNotExist, 7016, "Object does not exist"),
    (ErrorCode::ObjectNotCreated, 7017, "Object could not be created"),
    (ErrorCode::NotATable, 7018, "Object is not a table"),
    (ErrorCode::ObjectNotCreatable, 7019, "Attempt to create non-creatable object"),
    (ErrorCode::ObjectNotUpdated, 7020, "Object could not be updated"),
    (ErrorCode::RequiredParamFailed, 7021, "Required parameter failed"),
    (ErrorCode::CommandFailure, 7022, "Command failure"),
    (ErrorCode::CommandCanceled, 7023, "Command canceled"),
    (ErrorCode::ObjectNotDeletable, 7024, "Delete failure"),
    (ErrorCode::UniqueKeyConflict, 7025, "Object exists with duplicate key"),
    (ErrorCode::InvalidPath, 7026, "Invalid path"),
    (ErrorCode::InvalidCommandArgs, 7027, "Invalid command arguments"),
    (ErrorCode::RegisterFailure, 7028, "Register failure"),
    (ErrorCode::AlreadyInUse, 7029, "Already in use"),
    (ErrorCode::DeregisterFailure, 7030, "Deregister failure"),
    (ErrorCode::PathAlreadyRegistered, 7031, "Path already registered"),
    (ErrorCode::RecordNotParsed, 7100, "Record could not be parsed"),
    (ErrorCode::SecureSessionRequired, 7101, "Secure session required"),
    (ErrorCode::SecureSessionNotSupported, 7102, "Secure session not supported"),
    (ErrorCode::SegmentationNotSupported, 7103, "Segmentation and reassembly not supported"),
    (ErrorCode::InvalidRecordValue, 7104, "Invalid Record value"),
    (ErrorCode::SessionContextTerminated, 7105, "Session Context terminated"),
    (ErrorCode::SessionContextNotAllowed, 7106, "Session Context not allowed"),
];

impl ErrorCode {
    /// The numeric code carried on the wire.
    pub fn code(self) -> u32 {
        match self {
            ErrorCode::Other(n) => n,
            named => TABLE.iter().find(|(c, _, _)| *c == named).map_or(7003, |(_, n, _)| *n),
        }
    }

    /// The code for a number received on the wire; unnamed numbers become [`ErrorCode::Other`].
    pub fn from_code(n: u32) -> ErrorCode {
        TABLE.iter().find(|(_, num, _)| *num == n).map_or(ErrorCode::Other(n), |(c, _, _)| *c)
    }

    /// The short text of the TR-369 error table ("Invalid path", ...); generic for `Other`.
    pub fn text(self) -> &'static str {
        match self {
            ErrorCode::Other(n) if (7200..7300).contains(&n) => "Data model defined error",
            ErrorCode::Other(n) if (7800..8000).contains(&n) => "Vendor defined error",
            ErrorCode::Other(_) => "Unknown error",
            named => TABLE.iter().find(|(c, _, _)| *c == named).map_or("", |(_, _, t)| *t),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_code_round_trips() {
        for (code, n, _) in TABLE {
            assert_eq!(code.code(), *n);
            assert_eq!(ErrorCode::from_code(*n), *code);
        }
    }

    #[test]
    fn unnamed_codes_are_kept() {
        assert_eq!(ErrorCode::from_code(7850), ErrorCode::Other(7850));
        assert_eq!(ErrorCode::Other(7850).code(), 7850);
        assert_eq!(ErrorCode::Other(7201).text(), "Data model defined error");
    }

    #[test]
    fn display_names_number_and_text() {
        assert_eq!(ErrorCode::InvalidPath.to_string(), "7026 (Invalid path)");
    }
}
