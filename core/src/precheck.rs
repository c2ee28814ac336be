//! A look at an encoded Msg before decoding it: how many items it carries.
//!
//! Decoding costs memory per item, not per byte: a 5 MiB Record holding 580,000 paths
//! `Device.` decodes into 580,000 strings, about 35 MB. So the payload is scanned first,
//! without allocating: a Msg with too many items is answered with 7005 without being decoded
//! (only its header is). Items are the fields of the Msg at every level of nesting (paths,
//! settings and their fields, map entries of a response a controller sends, …): a strict
//! upper bound of what `budget` counts and of what decoding allocates.

use usp_datamodel::ErrorCode;
use usp_proto::msg::{self, Header, Msg};
use usp_proto::{DecodeError, Message};

use super::Core;

#[cfg(test)]
mod from_id_tests {
    use usp_proto::record::Record;

    #[test]
    fn the_sender_of_a_record_is_read_without_decoding_it() {
        let r = Record::no_session_context("1.4", "os::agent", "self::ctl-7", b"\x0a\x00".to_vec());
        assert_eq!(super::record_from_id(&r.to_bytes()), Some("self::ctl-7"));
        assert_eq!(super::record_from_id(&r.to_bytes()[..3]), None, "cut before from_id");
        assert_eq!(super::record_from_id(b"\xff\xff\xff"), None);
        assert_eq!(super::record_from_id(&[]), None);
    }
}

impl Core {
    /// Decodes the Msg of a controller's Record, unless it carries more than eight times
    /// [`super::Limits::max_paths`] items (a parameter setting is four: the setting and its
    /// three fields), plus room for the envelope: then `Err` with the Error 7005 to answer
    /// (`None` when the header has no msg_id or names no request: nothing is answered).
    /// `Err(None)` too for bytes that are not a Msg (logged).
    pub(super) fn decode_request(
        &self,
        from: &str,
        payload: &[u8],
    ) -> Result<Msg, Option<Box<Msg>>> {
        let max = self.limits.max_paths.saturating_mul(8).saturating_add(64);
        let items = items(payload);
        if items > max {
            log::warn!("{from}: a Msg of {items} items refused undecoded");
            let Ok(header) = header(payload) else { return Err(None) };
            // Only a request is answered (never a response, an Error or a Notify response).
            let request = header.known_msg_type().is_some_and(super::message::is_request_type);
            if header.msg_id.is_empty() || !request {
                return Err(None);
            }
            let msg_id = header.msg_id;
            let text = format!("the request carries {items} items; this agent takes at most {max}");
            let error = msg::Error {
                err_code: ErrorCode::ResourcesExceeded.code(),
                err_msg: text,
                param_errs: Vec::new(),
            };
            return Err(Some(Box::new(Msg::error(msg_id, error))));
        }
        Msg::from_bytes(payload).map_err(|e| {
            log::warn!("{from}: payload is not a USP Msg ({e}); ignored");
            None
        })
    }
}

/// The `from_id` of an encoded Record, read without decoding it (field 3 of the Record, a
/// string); `None` when the bytes are malformed before it or it is not UTF-8. For the daemon's
/// queue bound per controller (issue 20), which runs before any decoding.
pub fn record_from_id(record: &[u8]) -> Option<&str> {
    const FROM_ID: u64 = 3;
    let (_, _, content) =
        fields(record).map_while(|f| f).find(|(n, w, _)| *n == FROM_ID && *w == 2)?;
    std::str::from_utf8(content).ok()
}

/// The fields of a protobuf message at one level: `(field number, wire type, content)`;
/// `None` at the first malformed field (the content of a length-delimited field, else empty).
fn fields(mut bytes: &[u8]) -> impl Iterator<Item = Option<(u64, u8, &[u8])>> {
    std::iter::from_fn(move || {
        if bytes.is_empty() {
            return None;
        }
        let field = next_field(&mut bytes);
        if field.is_none() {
            bytes = &[];
        }
        Some(field)
    })
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn next_field<'a>(bytes: &mut &'a [u8]) -> Option<(u64, u8, &'a [u8])> {
    let key = varint(bytes)?;
    let (number, wire) = (key >> 3, (key & 7) as u8);
    let skip = |bytes: &mut &'a [u8], n: usize| -> Option<&'a [u8]> {
        let (content, rest) = (bytes.get(..n)?, bytes.get(n..)?);
        *bytes = rest;
        Some(content)
    };
    match wire {
        0 => varint(bytes).map(|_| (number, wire, &[][..])),
        1 => skip(bytes, 8).map(|_| (number, wire, &[][..])),
        2 => {
            let len = usize::try_from(varint(bytes)?).ok()?;
            skip(bytes, len).map(|c| (number, wire, c))
        }
        5 => skip(bytes, 4).map(|_| (number, wire, &[][..])),
        _ => None,
    }
}

/// The contents of every length-delimited field `number` of a message (protobuf merges
/// repeated occurrences of a singular message field, so all of them count).
fn subs(bytes: &[u8], number: u64) -> impl Iterator<Item = &[u8]> {
    fields(bytes)
        .map_while(|f| f)
        .filter_map(move |(n, wire, content)| (n == number && wire == 2).then_some(content))
}

/// The deepest nesting of a USP Msg (a GetResp's result_params entry: body, response,
/// get_resp, req_path_results, resolved_path_results, result_params, the entry's key).
const DEPTH: u32 = 8;

/// The items of an encoded Msg (see the module documentation): its fields at every level, a
/// length-delimited field counted with the fields inside it when it is itself a well-formed
/// message (a string that happens to look like one is counted too: an overestimate). Each
/// byte is scanned at most [`DEPTH`] times.
pub(super) fn items(msg: &[u8]) -> usize {
    deep(msg, DEPTH).unwrap_or_else(|partial| partial)
}

/// The fields of `bytes` at every level down to `depth`; `Err` with the count so far when
/// `bytes` is not a well-formed message.
fn deep(bytes: &[u8], depth: u32) -> Result<usize, usize> {
    let mut total = 0usize;
    for field in fields(bytes) {
        let Some((_, wire, content)) = field else { return Err(total) };
        total += 1;
        if wire == 2 && depth > 0 {
            if let Ok(inner) = deep(content, depth - 1) {
                total += inner;
            }
        }
    }
    Ok(total)
}

/// The Header of an encoded Msg, decoded alone.
pub(super) fn header(msg: &[u8]) -> Result<Header, DecodeError> {
    let mut header = Header::default();
    for h in subs(msg, 1) {
        header.merge(h)?;
    }
    Ok(header)
}

#[cfg(test)]
mod tests {
    use usp_proto::msg::request::ReqType;
    use usp_proto::msg::{self, Msg};

    use super::*;

    fn get(n: usize) -> Msg {
        Msg::request(
            "id-1",
            ReqType::Get(msg::Get { param_paths: vec!["Device.".into(); n], max_depth: 1 }),
        )
    }

    #[test]
    fn counts_paths_settings_and_nested_results() {
        // The envelope (header, msg_id, msg_type, body, request, get, max_depth): 7 more.
        assert_eq!(items(&get(0).to_bytes()), 7);
        assert_eq!(items(&get(700).to_bytes()), 707);
        let setting = msg::set::UpdateParamSetting {
            param: "Count".into(),
            value: "3".into(),
            required: true,
        };
        let set = msg::Set {
            allow_partial: true,
            update_objs: vec![
                msg::set::UpdateObject {
                    obj_path: "Device.Test.Item.1.".into(),
                    param_settings: vec![setting; 5],
                };
                3
            ],
        };
        // Per object: itself, its path, 5 settings of 4 items; then allow_partial and the
        // envelope (header 3, body, request, set).
        let count = items(&Msg::request("s", ReqType::Set(set)).to_bytes());
        assert_eq!(count, 3 * (1 + 1 + 5 * 4) + 1 + 6);
        // A response a controller sends is counted to the leaves too.
        let result = msg::get_resp::ResolvedPathResult {
            resolved_path: "Device.X.".into(),
            result_params: (0..100).map(|i| (format!("P{i}"), "v".to_string())).collect(),
        };
        let resp = msg::GetResp {
            req_path_results: vec![msg::get_resp::RequestedPathResult {
                requested_path: "Device.X.".into(),
                resolved_path_results: vec![result; 10],
                ..Default::default()
            }],
        };
        let resp = Msg::response("r", msg::response::RespType::GetResp(resp));
        assert!(items(&resp.to_bytes()) > 10 * 100 * 2, "{}", items(&resp.to_bytes()));
    }

    #[test]
    fn copies_of_a_request_merge_and_are_all_counted() {
        let one = get(1).to_bytes();
        assert_eq!(items(&one.repeat(50)), 50 * 8, "each copy: its envelope and a path");
    }

    #[test]
    fn header_alone() {
        let h = header(&get(3).to_bytes()).expect("header");
        assert_eq!(h.msg_id, "id-1");
    }

    #[test]
    fn garbage_counts_what_precedes_the_first_malformed_field() {
        assert_eq!(items(b""), 0);
        assert_eq!(items(&[0xff; 64]), 0);
        assert_eq!(items(&[0x12, 0x05, 0x0a]), 0, "truncated");
        assert_eq!(items(&[0x08, 0x01, 0x12, 0x05, 0x0a]), 1, "a varint, then truncated");
    }
}
