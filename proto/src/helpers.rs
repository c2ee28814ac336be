//! Hand-written conveniences on the generated [`Record`] and [`Msg`] types.
//!
//! Every decoding helper returns a `Result` or an `Option`; none of them panics, whatever the
//! input bytes.

use std::fmt;

use prost::Message;

use crate::msg::{self, Body, Header, Msg, body, header::MsgType, request, response};
use crate::record::{self, NoSessionContextRecord, Record, record::RecordType};

/// Why the USP Msg carried by a [`Record`] could not be obtained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The Record is not a NoSessionContext record (or has no record type at all).
    NotNoSessionContext,
    /// The payload bytes are not a valid protobuf `usp.Msg`.
    Decode(prost::DecodeError),
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotNoSessionContext => f.write_str("record is not a NoSessionContext record"),
            Self::Decode(e) => write!(f, "payload is not a valid USP Msg: {e}"),
        }
    }
}

impl std::error::Error for PayloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotNoSessionContext => None,
            Self::Decode(e) => Some(e),
        }
    }
}

impl From<prost::DecodeError> for PayloadError {
    fn from(e: prost::DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl Record {
    /// Decodes a protobuf-encoded USP Record.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, prost::DecodeError> {
        Self::decode(bytes)
    }

    /// Encodes this Record into a new byte vector.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Builds a plaintext NoSessionContext Record carrying `payload` (a serialized `usp.Msg`).
    #[must_use]
    pub fn no_session_context(
        version: impl Into<String>,
        to_id: impl Into<String>,
        from_id: impl Into<String>,
        payload: Vec<u8>,
    ) -> Self {
        Self {
            version: version.into(),
            to_id: to_id.into(),
            from_id: from_id.into(),
            payload_security: record::record::PayloadSecurity::Plaintext.into(),
            mac_signature: Vec::new(),
            sender_cert: Vec::new(),
            record_type: Some(RecordType::NoSessionContext(NoSessionContextRecord {
                payload,
            })),
        }
    }

    /// Builds a plaintext NoSessionContext Record carrying the encoding of `msg`.
    #[must_use]
    pub fn no_session_context_msg(
        version: impl Into<String>,
        to_id: impl Into<String>,
        from_id: impl Into<String>,
        msg: &Msg,
    ) -> Self {
        Self::no_session_context(version, to_id, from_id, msg.to_bytes())
    }

    /// The payload bytes if this is a NoSessionContext Record.
    #[must_use]
    pub fn no_session_context_payload(&self) -> Option<&[u8]> {
        match &self.record_type {
            Some(RecordType::NoSessionContext(r)) => Some(&r.payload),
            _ => None,
        }
    }

    /// Decodes the `usp.Msg` carried by a NoSessionContext Record.
    pub fn decode_no_session_context_msg(&self) -> Result<Msg, PayloadError> {
        let payload = self
            .no_session_context_payload()
            .ok_or(PayloadError::NotNoSessionContext)?;
        Ok(Msg::decode(payload)?)
    }

    /// The end-to-end payload security, or `None` for a value this schema does not know.
    #[must_use]
    pub fn known_payload_security(&self) -> Option<record::record::PayloadSecurity> {
        record::record::PayloadSecurity::try_from(self.payload_security).ok()
    }
}

impl Header {
    /// The message type, or `None` for a value this schema does not know.
    ///
    /// Unlike the generated `msg_type()` getter, an unknown value is not mapped to `ERROR`.
    #[must_use]
    pub fn known_msg_type(&self) -> Option<MsgType> {
        MsgType::try_from(self.msg_type).ok()
    }
}

impl Msg {
    /// Decodes a protobuf-encoded USP Msg.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, prost::DecodeError> {
        Self::decode(bytes)
    }

    /// Encodes this Msg into a new byte vector.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode_to_vec()
    }

    /// Builds a Msg from its parts.
    #[must_use]
    pub fn new(msg_id: impl Into<String>, msg_type: MsgType, msg_body: body::MsgBody) -> Self {
        Self {
            header: Some(Header {
                msg_id: msg_id.into(),
                msg_type: msg_type.into(),
            }),
            body: Some(Body {
                msg_body: Some(msg_body),
            }),
        }
    }

    /// Builds a request Msg; the header's message type follows from the request kind.
    #[must_use]
    pub fn request(msg_id: impl Into<String>, req: request::ReqType) -> Self {
        let msg_type = req.msg_type();
        Self::new(
            msg_id,
            msg_type,
            body::MsgBody::Request(msg::Request {
                req_type: Some(req),
            }),
        )
    }

    /// Builds a response Msg; the header's message type follows from the response kind.
    #[must_use]
    pub fn response(msg_id: impl Into<String>, resp: response::RespType) -> Self {
        let msg_type = resp.msg_type();
        Self::new(
            msg_id,
            msg_type,
            body::MsgBody::Response(msg::Response {
                resp_type: Some(resp),
            }),
        )
    }

    /// Builds an Error Msg (message type `ERROR`).
    #[must_use]
    pub fn error(msg_id: impl Into<String>, error: msg::Error) -> Self {
        Self::new(msg_id, MsgType::Error, body::MsgBody::Error(error))
    }

    /// The header's message ID, or `None` without a header.
    #[must_use]
    pub fn msg_id(&self) -> Option<&str> {
        self.header.as_ref().map(|h| h.msg_id.as_str())
    }

    /// The header's message type; `None` without a header or for an unknown value.
    #[must_use]
    pub fn msg_type(&self) -> Option<MsgType> {
        self.header.as_ref().and_then(Header::known_msg_type)
    }

    /// The message type implied by the body's content; `None` if the body or its inner
    /// request/response kind is missing.
    ///
    /// A well-formed Msg has `msg_type() == body_msg_type()`.
    #[must_use]
    pub fn body_msg_type(&self) -> Option<MsgType> {
        match self.body.as_ref()?.msg_body.as_ref()? {
            body::MsgBody::Request(r) => r.req_type.as_ref().map(request::ReqType::msg_type),
            body::MsgBody::Response(r) => r.resp_type.as_ref().map(response::RespType::msg_type),
            body::MsgBody::Error(_) => Some(MsgType::Error),
        }
    }
}

impl request::ReqType {
    /// The header message type that goes with this request kind.
    #[must_use]
    pub fn msg_type(&self) -> MsgType {
        use request::ReqType as R;
        match self {
            R::Get(_) => MsgType::Get,
            R::GetSupportedDm(_) => MsgType::GetSupportedDm,
            R::GetInstances(_) => MsgType::GetInstances,
            R::Set(_) => MsgType::Set,
            R::Add(_) => MsgType::Add,
            R::Delete(_) => MsgType::Delete,
            R::Operate(_) => MsgType::Operate,
            R::Notify(_) => MsgType::Notify,
            R::GetSupportedProtocol(_) => MsgType::GetSupportedProto,
            R::Register(_) => MsgType::Register,
            R::Deregister(_) => MsgType::Deregister,
        }
    }
}

impl response::RespType {
    /// The header message type that goes with this response kind.
    #[must_use]
    pub fn msg_type(&self) -> MsgType {
        use response::RespType as R;
        match self {
            R::GetResp(_) => MsgType::GetResp,
            R::GetSupportedDmResp(_) => MsgType::GetSupportedDmResp,
            R::GetInstancesResp(_) => MsgType::GetInstancesResp,
            R::SetResp(_) => MsgType::SetResp,
            R::AddResp(_) => MsgType::AddResp,
            R::DeleteResp(_) => MsgType::DeleteResp,
            R::OperateResp(_) => MsgType::OperateResp,
            R::NotifyResp(_) => MsgType::NotifyResp,
            R::GetSupportedProtocolResp(_) => MsgType::GetSupportedProtoResp,
            R::RegisterResp(_) => MsgType::RegisterResp,
            R::DeregisterResp(_) => MsgType::DeregisterResp,
        }
    }
}
