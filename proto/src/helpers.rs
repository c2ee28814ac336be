//! Hand-written conveniences on the generated [`Record`] and [`Msg`] types.
//!
//! Every decoding helper returns a `Result` or an `Option`; none of them panics, whatever the
//! input bytes.
//!
//! ```
//! use usp_proto::msg::{Get, Msg, header::MsgType, request::ReqType};
//! use usp_proto::record::Record;
//!
//! let get = Msg::request("id-1", ReqType::Get(Get { param_paths: vec!["Device.".into()], max_depth: 0 }));
//! let wire = Record::no_session_context_msg("1.4", "os::agent", "self::ctrl", &get).to_bytes();
//!
//! let record = Record::from_bytes(&wire)?;
//! let msg = record.decode_no_session_context_msg()?;
//! assert_eq!(msg.msg_type(), Some(MsgType::Get));
//! assert_eq!(msg.msg_id(), Some("id-1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
            record_type: Some(RecordType::NoSessionContext(NoSessionContextRecord { payload })),
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
        let payload = self.no_session_context_payload().ok_or(PayloadError::NotNoSessionContext)?;
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
            header: Some(Header { msg_id: msg_id.into(), msg_type: msg_type.into() }),
            body: Some(Body { msg_body: Some(msg_body) }),
        }
    }

    /// Builds a request Msg; the header's message type follows from the request kind.
    #[must_use]
    pub fn request(msg_id: impl Into<String>, req: request::ReqType) -> Self {
        let msg_type = req.msg_type();
        Self::new(msg_id, msg_type, body::MsgBody::Request(msg::Request { req_type: Some(req) }))
    }

    /// Builds a response Msg; the header's message type follows from the response kind.
    #[must_use]
    pub fn response(msg_id: impl Into<String>, resp: response::RespType) -> Self {
        let msg_type = resp.msg_type();
        Self::new(
            msg_id,
            msg_type,
            body::MsgBody::Response(msg::Response { resp_type: Some(resp) }),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::msg::{Get, GetResp, NotifyResp};

    fn get_msg() -> Msg {
        Msg::request(
            "id-1",
            request::ReqType::Get(Get {
                param_paths: vec!["Device.DeviceInfo.".into()],
                max_depth: 2,
            }),
        )
    }

    fn nsc_record() -> Record {
        Record::no_session_context_msg("1.4", "proto::agent", "proto::controller", &get_msg())
    }

    #[test]
    fn no_session_context_round_trip() {
        let bytes = nsc_record().to_bytes();
        let rec = Record::from_bytes(&bytes).unwrap();
        assert_eq!(rec.version, "1.4");
        assert_eq!(rec.to_id, "proto::agent");
        assert_eq!(rec.from_id, "proto::controller");
        assert_eq!(rec.known_payload_security(), Some(record::record::PayloadSecurity::Plaintext));
        let msg = rec.decode_no_session_context_msg().unwrap();
        assert_eq!(msg, get_msg());
        assert_eq!(msg.msg_id(), Some("id-1"));
        assert_eq!(msg.msg_type(), Some(MsgType::Get));
        assert_eq!(msg.body_msg_type(), Some(MsgType::Get));
    }

    #[test]
    fn empty_input_is_the_default_message() {
        // An empty buffer is a valid protobuf encoding of a message with every field unset.
        let rec = Record::from_bytes(&[]).unwrap();
        assert_eq!(rec, Record::default());
        assert_eq!(rec.no_session_context_payload(), None);
        assert_eq!(rec.decode_no_session_context_msg(), Err(PayloadError::NotNoSessionContext));
        let msg = Msg::from_bytes(&[]).unwrap();
        assert_eq!(msg.msg_id(), None);
        assert_eq!(msg.msg_type(), None);
        assert_eq!(msg.body_msg_type(), None);
    }

    #[test]
    fn empty_payload_decodes_to_an_empty_msg() {
        let rec = Record::no_session_context("1.4", "a", "b", Vec::new());
        let rec = Record::from_bytes(&rec.to_bytes()).unwrap();
        assert_eq!(rec.no_session_context_payload(), Some(&[][..]));
        assert_eq!(rec.decode_no_session_context_msg(), Ok(Msg::default()));
    }

    #[test]
    fn garbage_is_an_error() {
        for garbage in [
            &[0xff; 16][..],
            &[0x0a, 0x05, b'a'][..], // string field claiming 5 bytes, only 1 present
            &[0x07][..],             // field 0 (invalid tag)
            &[0x0b][..],             // group start (wire type 3) with no end
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01][..], // overlong varint
        ] {
            assert!(Record::from_bytes(garbage).is_err(), "{garbage:02x?}");
            assert!(Msg::from_bytes(garbage).is_err(), "{garbage:02x?}");
        }
    }

    #[test]
    fn truncated_records_never_panic_and_lose_the_tail() {
        let full = nsc_record().to_bytes();
        for len in 0..full.len() {
            // Must not panic; a prefix may happen to decode if it ends on a field boundary.
            let _ = Record::from_bytes(&full[..len]);
        }
        // Cutting the last byte lands inside the record_type field (the last one encoded).
        assert!(Record::from_bytes(&full[..full.len() - 1]).is_err());
    }

    #[test]
    fn truncated_payload_is_a_decode_error() {
        let msg = get_msg().to_bytes();
        let rec = Record::no_session_context("1.4", "a", "b", msg[..msg.len() - 1].to_vec());
        let rec = Record::from_bytes(&rec.to_bytes()).unwrap();
        assert!(matches!(rec.decode_no_session_context_msg(), Err(PayloadError::Decode(_))));
    }

    #[test]
    fn other_record_types_have_no_msg() {
        let rec = Record {
            record_type: Some(RecordType::WebsocketConnect(record::WebSocketConnectRecord {})),
            ..Record::default()
        };
        assert_eq!(rec.no_session_context_payload(), None);
        assert_eq!(rec.decode_no_session_context_msg(), Err(PayloadError::NotNoSessionContext));
    }

    #[test]
    fn header_without_body() {
        let msg = Msg {
            header: Some(Header { msg_id: "x".into(), msg_type: MsgType::GetResp.into() }),
            body: None,
        };
        let msg = Msg::from_bytes(&msg.to_bytes()).unwrap();
        assert_eq!(msg.msg_id(), Some("x"));
        assert_eq!(msg.msg_type(), Some(MsgType::GetResp));
        assert_eq!(msg.body_msg_type(), None);
        // A body whose request has no kind set carries no type either.
        let msg = Msg {
            body: Some(Body {
                msg_body: Some(body::MsgBody::Request(msg::Request { req_type: None })),
            }),
            ..msg
        };
        assert_eq!(msg.body_msg_type(), None);
    }

    #[test]
    fn unknown_msg_type_is_none_not_a_panic() {
        // Header { msg_id: "q", msg_type: 99 } inside a Msg, built by hand on the wire.
        let bytes = [0x0a, 0x05, 0x0a, 0x01, b'q', 0x10, 99];
        let msg = Msg::from_bytes(&bytes).unwrap();
        assert_eq!(msg.msg_id(), Some("q"));
        assert_eq!(msg.msg_type(), None);
        let header = msg.header.as_ref().unwrap();
        assert_eq!(header.msg_type, 99, "the raw value is preserved");
        assert_eq!(header.known_msg_type(), None);
        // The prost-generated getter, by contrast, falls back to the default (ERROR).
        assert_eq!(header.msg_type(), MsgType::Error);
        assert_eq!(msg.to_bytes(), bytes, "re-encodes unchanged");
        // Negative enum values (10-byte varints) are accepted too.
        let neg = Header { msg_id: String::new(), msg_type: -1 };
        assert_eq!(Header::decode(&*neg.encode_to_vec()).unwrap().known_msg_type(), None);
    }

    #[test]
    fn unknown_payload_security_is_none() {
        let rec = Record { payload_security: 7, ..Record::default() };
        let rec = Record::from_bytes(&rec.to_bytes()).unwrap();
        assert_eq!(rec.known_payload_security(), None);
    }

    #[test]
    fn constructors_pick_the_matching_msg_type() {
        use request::ReqType as Q;
        use response::RespType as S;
        let requests = [
            (Q::Get(Default::default()), MsgType::Get),
            (Q::GetSupportedDm(Default::default()), MsgType::GetSupportedDm),
            (Q::GetInstances(Default::default()), MsgType::GetInstances),
            (Q::Set(Default::default()), MsgType::Set),
            (Q::Add(Default::default()), MsgType::Add),
            (Q::Delete(Default::default()), MsgType::Delete),
            (Q::Operate(Default::default()), MsgType::Operate),
            (Q::Notify(Default::default()), MsgType::Notify),
            (Q::GetSupportedProtocol(Default::default()), MsgType::GetSupportedProto),
            (Q::Register(Default::default()), MsgType::Register),
            (Q::Deregister(Default::default()), MsgType::Deregister),
        ];
        for (req, want) in requests {
            let msg = Msg::request("r", req);
            assert_eq!(msg.msg_type(), Some(want));
            assert_eq!(msg.body_msg_type(), Some(want));
        }
        let responses = [
            (S::GetResp(GetResp::default()), MsgType::GetResp),
            (S::GetSupportedDmResp(Default::default()), MsgType::GetSupportedDmResp),
            (S::GetInstancesResp(Default::default()), MsgType::GetInstancesResp),
            (S::SetResp(Default::default()), MsgType::SetResp),
            (S::AddResp(Default::default()), MsgType::AddResp),
            (S::DeleteResp(Default::default()), MsgType::DeleteResp),
            (S::OperateResp(Default::default()), MsgType::OperateResp),
            (S::NotifyResp(NotifyResp::default()), MsgType::NotifyResp),
            (S::GetSupportedProtocolResp(Default::default()), MsgType::GetSupportedProtoResp),
            (S::RegisterResp(Default::default()), MsgType::RegisterResp),
            (S::DeregisterResp(Default::default()), MsgType::DeregisterResp),
        ];
        for (resp, want) in responses {
            let msg = Msg::response("s", resp);
            assert_eq!(msg.msg_type(), Some(want));
            assert_eq!(msg.body_msg_type(), Some(want));
        }
        let err = Msg::error("e", msg::Error::default());
        assert_eq!(err.msg_type(), Some(MsgType::Error));
        assert_eq!(err.body_msg_type(), Some(MsgType::Error));
    }

    /// xorshift64: a tiny deterministic PRNG, enough to spray bytes.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    /// Decodes `bytes` every way the helpers allow; asserts only that successful decodes
    /// re-encode to something that decodes to the same value.
    fn exercise(bytes: &[u8]) {
        if let Ok(rec) = Record::from_bytes(bytes) {
            assert_eq!(Record::from_bytes(&rec.to_bytes()).unwrap(), rec);
            let _ = rec.known_payload_security();
            if let Ok(msg) = rec.decode_no_session_context_msg() {
                assert_eq!(Msg::from_bytes(&msg.to_bytes()).unwrap(), msg);
            }
        }
        if let Ok(msg) = Msg::from_bytes(bytes) {
            assert_eq!(Msg::from_bytes(&msg.to_bytes()).unwrap(), msg);
            let _ = (msg.msg_id(), msg.msg_type(), msg.body_msg_type());
        }
    }

    #[test]
    fn pseudo_random_garbage_never_panics() {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let valid_record = nsc_record().to_bytes();
        let valid_msg = get_msg().to_bytes();
        let mut buf = Vec::new();
        for i in 0..20_000 {
            buf.clear();
            match i % 3 {
                // Pure noise of length 0..=96.
                0 => {
                    let len = (rng.next() % 97) as usize;
                    buf.extend((0..len).map(|_| rng.next() as u8));
                }
                // A valid Record or Msg with a few bytes overwritten (keeps most structure).
                _ => {
                    buf.extend_from_slice(if i % 3 == 1 { &valid_record } else { &valid_msg });
                    for _ in 0..=(rng.next() % 4) {
                        let at = (rng.next() as usize) % buf.len();
                        buf[at] = rng.next() as u8;
                    }
                    let keep = buf.len() - (rng.next() % 3) as usize;
                    buf.truncate(keep);
                }
            }
            exercise(&buf);
        }
    }
}
