//! A look at an encoded Msg before decoding it: how many items its request carries.
//!
//! Decoding costs memory per item, not per byte: a 5 MiB Record holding 580,000 paths
//! `Device.` decodes into 580,000 strings, about 35 MB. So the payload is scanned first,
//! without allocating: a request whose items exceed the bound is answered with 7005 without
//! being decoded (only its header is). Items are the fields of the request message
//! (`Get.param_paths`, `Set.update_objs`, …) and the fields of the sub-messages among them
//! (`UpdateObject.param_settings`, …): a strict upper bound of what `budget` counts, plus the
//! few scalar fields (`max_depth`, `allow_partial`).

use usp_datamodel::ErrorCode;
use usp_proto::msg::{self, Header, Msg};
use usp_proto::{DecodeError, Message};

use super::Core;

impl Core {
    /// Decodes the Msg of a controller's Record, unless its request carries more items than
    /// four times [`super::Limits::max_paths`] (room for the objects of Set and Add besides
    /// their settings, and for scalar fields): then `Err` with the Error 7005 to answer (`None` when the header has no
    /// msg_id to answer to). `Err(None)` too for bytes that are not a Msg (logged).
    pub(super) fn decode_request(
        &self,
        from: &str,
        payload: &[u8],
    ) -> Result<Msg, Option<Box<Msg>>> {
        let max = self.limits.max_paths.saturating_mul(4).saturating_add(16);
        let items = request_items(payload);
        if items > max {
            log::warn!("{from}: a request of {items} items refused undecoded");
            let msg_id = header(payload).map(|h| h.msg_id).unwrap_or_default();
            if msg_id.is_empty() {
                return Err(None);
            }
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

/// The number of fields of a well-formed message, `None` when `bytes` is not one.
fn count(bytes: &[u8]) -> Option<usize> {
    fields(bytes).try_fold(0usize, |n, f| f.map(|_| n + 1))
}

/// The items of the request an encoded Msg carries (see the module documentation); 0 when it
/// is not a request or cannot be scanned (decoding will say what is wrong).
pub(super) fn request_items(msg: &[u8]) -> usize {
    let mut total = 0usize;
    for request in subs(msg, 2).flat_map(|body| subs(body, 1)) {
        for field in fields(request) {
            let Some((_, 2, message)) = field else { continue };
            for item in fields(message) {
                total += 1;
                if let Some((_, 2, content)) = item {
                    total += count(content).unwrap_or(0);
                }
            }
        }
    }
    total
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
    fn counts_paths_and_settings() {
        assert_eq!(request_items(&get(0).to_bytes()), 1, "max_depth");
        assert_eq!(request_items(&get(700).to_bytes()), 701);
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
        // allow_partial and 3 objects, then per object its obj_path and 5 settings.
        let items = request_items(&Msg::request("s", ReqType::Set(set)).to_bytes());
        assert_eq!(items, 1 + 3 + 3 * (1 + 5));
    }

    #[test]
    fn copies_of_a_request_merge_and_are_all_counted() {
        let one = get(1).to_bytes();
        assert_eq!(request_items(&one.repeat(50)), 50 * 2, "each copy: a path and max_depth");
    }

    #[test]
    fn header_alone() {
        let h = header(&get(3).to_bytes()).expect("header");
        assert_eq!(h.msg_id, "id-1");
    }

    #[test]
    fn garbage_and_non_requests_count_nothing() {
        assert_eq!(request_items(b""), 0);
        assert_eq!(request_items(&[0xff; 64]), 0);
        assert_eq!(request_items(&[0x12, 0x05, 0x0a]), 0, "truncated");
        let resp = Msg::error("e", msg::Error::default());
        assert_eq!(request_items(&resp.to_bytes()), 0);
    }
}
