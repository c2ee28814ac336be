//! `uspctl decode`: a captured USP Record or Msg, given as raw bytes, hex or base64, printed as
//! readable text or JSON; and the one-line summaries of `uspctl --trace`.

use std::fmt::Write as _;
use std::io::Read;
use usp_proto::msg::Msg;
use usp_proto::record::Record;
use usp_proto::record::record::RecordType;
use usp_util::base64;

/// Why input could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeFailure {
    /// The text is neither hex nor base64.
    NotHexOrBase64,
    /// The bytes are neither a USP Record nor a USP Msg.
    NotUsp(String),
}

impl std::fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeFailure::NotHexOrBase64 => f.write_str("input is neither hex nor base64"),
            DecodeFailure::NotUsp(e) => write!(f, "not a USP Record or Msg: {e}"),
        }
    }
}

impl std::error::Error for DecodeFailure {}

/// Turns text into bytes: hex (spaces, newlines and a `0x` prefix allowed) or base64.
pub fn text_to_bytes(text: &str) -> Result<Vec<u8>, DecodeFailure> {
    let compact: String = text.split_whitespace().collect();
    let hex = compact.strip_prefix("0x").unwrap_or(&compact);
    if hex.len() % 2 == 0 && !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(hex
            .as_bytes()
            .chunks(2)
            .map(|pair| (hex_digit(pair[0]) << 4) | hex_digit(pair[1]))
            .collect());
    }
    base64::decode(&compact).ok_or(DecodeFailure::NotHexOrBase64)
}

/// The bytes to decode: the file named `input`, or `input` itself, or all of `stdin` when there
/// is no `input`; text that is hex or base64 is turned into its bytes, anything else is taken
/// as the raw bytes.
pub fn read_input(input: Option<&str>, stdin: &mut dyn Read) -> Result<Vec<u8>, String> {
    let raw = match input {
        Some(arg) if std::path::Path::new(arg).is_file() => {
            std::fs::read(arg).map_err(|e| format!("cannot read {arg}: {e}"))?
        }
        Some(arg) => arg.as_bytes().to_vec(),
        None => {
            let mut buf = Vec::new();
            stdin.read_to_end(&mut buf).map_err(|e| format!("cannot read stdin: {e}"))?;
            buf
        }
    };
    Ok(match std::str::from_utf8(&raw).map(text_to_bytes) {
        Ok(Ok(bytes)) => bytes,
        _ => raw,
    })
}

/// Bytes as lower-case hex.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// [`describe`] as JSON (see [`crate::json`]).
pub fn describe_json(bytes: &[u8]) -> Result<serde_json::Value, DecodeFailure> {
    match Record::from_bytes(bytes) {
        Ok(record) if record.record_type.is_some() => Ok(crate::json::record(&record)),
        _ => match Msg::from_bytes(bytes) {
            Ok(msg) if msg.header.is_some() => Ok(crate::json::msg(&msg)),
            Ok(_) => Err(DecodeFailure::NotUsp("no record type and no message header".into())),
            Err(e) => Err(DecodeFailure::NotUsp(e.to_string())),
        },
    }
}

/// One line about a Record: its addressing, kind, and for a Msg its type and msg_id.
pub fn summary(record: &Record) -> String {
    let kind = match &record.record_type {
        Some(RecordType::NoSessionContext(_)) => match record.decode_no_session_context_msg() {
            Ok(msg) => {
                let t = msg.msg_type().map_or("?", |t| t.as_str_name());
                format!("{t} {}", msg.msg_id().unwrap_or_default())
            }
            Err(e) => format!("undecodable payload ({e})"),
        },
        Some(RecordType::SessionContext(c)) => format!(
            "SessionContext session={} seq={} expected={} retransmit={} sar={}",
            c.session_id, c.sequence_id, c.expected_id, c.retransmit_id, c.payload_sar_state
        ),
        Some(RecordType::WebsocketConnect(_)) => "WebSocketConnect".into(),
        Some(RecordType::MqttConnect(c)) => format!("MQTTConnect {}", c.subscribed_topic),
        Some(RecordType::StompConnect(c)) => format!("STOMPConnect {}", c.subscribed_destination),
        Some(RecordType::UdsConnect(_)) => "UDSConnect".into(),
        Some(RecordType::Disconnect(d)) => format!("Disconnect {} {}", d.reason_code, d.reason),
        None => "no record type".into(),
    };
    format!("{} -> {}: {kind}", record.from_id, record.to_id)
}

fn hex_digit(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// Describes bytes holding a USP Record (with its Msg decoded) or a bare Msg.
pub fn describe(bytes: &[u8]) -> Result<String, DecodeFailure> {
    match Record::from_bytes(bytes) {
        Ok(record) if record.record_type.is_some() => Ok(describe_record(&record)),
        _ => match Msg::from_bytes(bytes) {
            Ok(msg) if msg.header.is_some() => Ok(format!("{msg:#?}\n")),
            Ok(_) => Err(DecodeFailure::NotUsp("no record type and no message header".into())),
            Err(e) => Err(DecodeFailure::NotUsp(e.to_string())),
        },
    }
}

fn describe_record(record: &Record) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Record version {:?} from {:?} to {:?}",
        record.version, record.from_id, record.to_id
    );
    match &record.record_type {
        Some(RecordType::NoSessionContext(_)) => match record.decode_no_session_context_msg() {
            Ok(msg) => {
                let _ = writeln!(out, "NoSessionContext payload:\n{msg:#?}");
            }
            Err(e) => {
                let _ = writeln!(out, "NoSessionContext payload does not decode as a Msg: {e}");
            }
        },
        Some(other) => {
            let _ = writeln!(out, "{other:#?}");
        }
        None => {}
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use usp_proto::msg::{Get, header::MsgType, request::ReqType};

    fn get_record() -> Vec<u8> {
        let get = Get { param_paths: vec!["Device.DeviceInfo.".into()], max_depth: 2 };
        let msg = Msg::request("m-1", ReqType::Get(get));
        Record::no_session_context_msg("1.4", "os::agent", "self::ctl", &msg).to_bytes()
    }

    #[test]
    fn decodes_a_record_given_as_hex_with_spaces() {
        let hex: String = get_record().iter().map(|b| format!("{b:02x} ")).collect();
        let text = describe(&text_to_bytes(&hex).unwrap()).unwrap();
        assert!(text.contains("from \"self::ctl\" to \"os::agent\""), "{text}");
        assert!(text.contains("Device.DeviceInfo."), "{text}");
        assert!(text.contains("max_depth: 2"), "{text}");
    }

    #[test]
    fn decodes_base64_and_bare_messages() {
        let msg = Msg::request("m-2", ReqType::Get(Get { param_paths: vec![], max_depth: 0 }));
        let b64 = usp_util::base64::encode(&msg.to_bytes());
        let text = describe(&text_to_bytes(&b64).unwrap()).unwrap();
        assert!(text.contains("m-2"), "{text}");
        assert_eq!(msg.msg_type(), Some(MsgType::Get));
    }

    #[test]
    fn input_from_a_file_an_argument_or_stdin() {
        let bytes = get_record();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("record.bin");
        std::fs::write(&file, &bytes).unwrap();
        let mut empty: &[u8] = &[];
        assert_eq!(read_input(file.to_str(), &mut empty).unwrap(), bytes);
        assert_eq!(read_input(Some(&to_hex(&bytes)), &mut empty).unwrap(), bytes);
        let mut stdin: &[u8] = &bytes;
        assert_eq!(read_input(None, &mut stdin).unwrap(), bytes);
    }

    #[test]
    fn json_and_summaries() {
        let bytes = get_record();
        let v = describe_json(&bytes).unwrap();
        assert_eq!(v["payload"]["Body"]["Request"]["Get"]["max_depth"], 2);
        let record = Record::from_bytes(&bytes).unwrap();
        assert_eq!(summary(&record), "self::ctl -> os::agent: GET m-1");
        assert!(describe_json(&[0xff]).is_err());
    }

    #[test]
    fn garbage_is_reported_not_panicked() {
        assert_eq!(text_to_bytes("zz!"), Err(DecodeFailure::NotHexOrBase64));
        assert!(describe(&[0xff, 0xff, 0xff]).is_err());
        assert!(describe(&[]).is_err());
    }
}
