//! The STOMP frame codec: bytes cut at arbitrary places decode to the same frames (or the same
//! failure) as the bytes fed at once, within the limits; every decoded frame re-encodes to
//! bytes that decode to it again (but for `content-length`, which the encoder always writes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use usp_mtp::stomp::codec::{Decoded, Decoder, Frame, Limits};

const LIMITS: Limits = Limits { max_header_bytes: 1024, max_headers: 16, max_body: 4096 };

/// Room for what encoding adds: a `content-length` header, escapes (`:` as `\c`).
const ROOMY: Limits = Limits { max_header_bytes: 4096, max_headers: 17, max_body: 4096 };

/// Every frame and heart-beat until more bytes are needed, then the error if one came.
fn decode(pieces: &[&[u8]]) -> (Vec<Decoded>, bool) {
    decode_with(LIMITS, pieces)
}

fn decode_with(limits: Limits, pieces: &[&[u8]]) -> (Vec<Decoded>, bool) {
    let mut decoder = Decoder::new(limits);
    let mut out = Vec::new();
    for piece in pieces {
        decoder.feed(piece);
        loop {
            match decoder.next() {
                Ok(Some(d)) => out.push(d),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

/// The frame without its `content-length` headers.
fn sans_length(mut frame: Frame) -> Frame {
    frame.headers.retain(|(name, _)| name != "content-length");
    frame
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let cuts = usize::from(n % 16).min(rest.len());
    let (sizes, stream) = rest.split_at(cuts);
    let mut pieces = Vec::new();
    let mut left = stream;
    for &s in sizes.iter().cycle().take(stream.len()) {
        if left.is_empty() {
            break;
        }
        let (head, tail) = left.split_at(usize::from(s).min(left.len()));
        pieces.push(head);
        left = tail;
    }
    pieces.push(left);
    let whole = decode(&[stream]);
    let split = decode(&pieces);
    assert_eq!(whole, split, "cut at {sizes:?}");
    for d in whole.0 {
        if let Decoded::Frame(frame) = d {
            let mut bytes = Vec::new();
            if frame.encode(&mut bytes).is_ok() {
                let (again, failed) = decode_with(ROOMY, &[&bytes]);
                assert!(!failed, "{frame:?} re-encoded as {bytes:?}");
                let again: Vec<Frame> = again
                    .into_iter()
                    .filter_map(|d| match d {
                        Decoded::Frame(f) => Some(sans_length(f)),
                        Decoded::Heartbeat => None,
                    })
                    .collect();
                assert_eq!(again, vec![sans_length(frame)]);
            }
        }
    }
});
