//! Tests of the STOMP frame codec: round trips, the 1.2 escaping rules, heart-beat EOLs, random
//! chunking, size limits, every decode error, and garbage that must never panic.
#![allow(clippy::unwrap_used)]

use super::*;

/// A small deterministic random source for chunking and garbage.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const BIG: Limits = Limits { max_header_bytes: 16 * 1024, max_headers: 64, max_body: 1 << 20 };

/// Decodes everything in `bytes` fed at once; panics on an error.
fn decode_all(bytes: &[u8], limits: Limits) -> Vec<Decoded> {
    let mut d = Decoder::new(limits);
    d.feed(bytes);
    let mut out = Vec::new();
    for _ in 0..10_000 {
        match d.next().unwrap() {
            Some(x) => out.push(x),
            None => return out,
        }
    }
    panic!("decoder did not stop");
}

/// Decodes `bytes` fed in the given chunk sizes; returns the items or the first error.
fn decode_chunked(
    bytes: &[u8],
    chunks: &[usize],
    limits: Limits,
) -> Result<Vec<Decoded>, DecodeError> {
    let mut d = Decoder::new(limits);
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = (*sizes.next().unwrap()).clamp(1, rest.len());
        d.feed(&rest[..n]);
        rest = &rest[n..];
        while let Some(x) = d.next()? {
            out.push(x);
        }
    }
    Ok(out)
}

fn frames(items: Vec<Decoded>) -> Vec<Frame> {
    items
        .into_iter()
        .filter_map(|d| match d {
            Decoded::Frame(f) => Some(f),
            Decoded::Heartbeat => None,
        })
        .collect()
}

fn encoded(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    f.encode(&mut out).unwrap();
    out
}

fn binary_send() -> Frame {
    let mut f = Frame::new(Command::Send)
        .with("destination", "/queue/agent")
        .with("content-type", "application/vnd.bbf.usp.msg")
        .with("reply-to-dest", "/queue/controller");
    f.body = vec![0, 1, 0, 0, b'\n', 0, 255, b'\r', b'\n', 0];
    f
}

/// The frame as it comes back from the decoder (the encoder adds `content-length`).
fn with_length(mut f: Frame) -> Frame {
    if f.command.has_body() {
        f.headers.retain(|(n, _)| n != "content-length");
        f.headers.push(("content-length".into(), f.body.len().to_string()));
    }
    f
}

#[test]
fn a_send_frame_has_the_exact_wire_form() {
    let mut f = Frame::new(Command::Send).with("destination", "/queue/a");
    f.body = b"x\0y".to_vec();
    assert_eq!(encoded(&f), b"SEND\ndestination:/queue/a\ncontent-length:3\n\nx\0y\0");
    let sub = Frame::new(Command::Subscribe).with("id", "0").with("ack", "auto");
    assert_eq!(encoded(&sub), b"SUBSCRIBE\nid:0\nack:auto\n\n\0");
}

#[test]
fn binary_bodies_with_nul_bytes_round_trip() {
    let f = binary_send();
    let back = frames(decode_all(&encoded(&f), BIG));
    assert_eq!(back, vec![with_length(f)]);
}

#[test]
fn a_caller_supplied_content_length_is_replaced() {
    let mut f = Frame::new(Command::Send).with("content-length", "999");
    f.body = b"ab".to_vec();
    assert_eq!(encoded(&f), b"SEND\ncontent-length:2\n\nab\0");
    // Empty bodies still announce their length on SEND (R-STOMP.21).
    assert_eq!(encoded(&Frame::new(Command::Send)), b"SEND\ncontent-length:0\n\n\0");
}

#[test]
fn headers_are_escaped_except_in_connect_frames() {
    let f = Frame::new(Command::Send).with("a:b", "c\\d\ne\rf:g");
    let wire = encoded(&f);
    assert!(
        wire.starts_with(b"SEND\na\\cb:c\\\\d\\ne\\rf\\cg\n"),
        "{:?}",
        String::from_utf8_lossy(&wire)
    );
    assert_eq!(frames(decode_all(&wire, BIG)), vec![with_length(f)]);

    // STOMP/CONNECT/CONNECTED: no escaping either way; a colon in a value stays (split at the
    // first colon), a backslash stays.
    let c = Frame::new(Command::Stomp).with("passcode", "p:a\\ss");
    let wire = encoded(&c);
    assert_eq!(wire, b"STOMP\npasscode:p:a\\ss\n\n\0");
    assert_eq!(frames(decode_all(&wire, BIG)), vec![c]);
    let connected = b"CONNECTED\nsubscribe-dest:/queue/a\\cb\n\n\0";
    let f = &frames(decode_all(connected, BIG))[0];
    assert_eq!(f.header("subscribe-dest"), Some("/queue/a\\cb"));
}

#[test]
fn unencodable_frames_are_refused_without_output() {
    let mut out = b"keep".to_vec();
    let bad = Frame::new(Command::Stomp).with("login", "a\nb");
    assert_eq!(bad.encode(&mut out), Err(EncodeError::Unescapable("login".into())));
    let bad = Frame::new(Command::Connect).with("lo:gin", "a");
    assert!(bad.encode(&mut out).is_err());
    let bad = Frame::new(Command::Send).with("", "a");
    assert!(bad.encode(&mut out).is_err());
    let mut bad = Frame::new(Command::Subscribe);
    bad.body = b"x".to_vec();
    assert_eq!(bad.encode(&mut out), Err(EncodeError::BodyNotAllowed(Command::Subscribe)));
    assert_eq!(out, b"keep");
}

#[test]
fn repeated_headers_keep_the_first_value() {
    let f = &frames(decode_all(b"MESSAGE\nfoo:1\nfoo:2\n\n\0", BIG))[0];
    assert_eq!(f.header("foo"), Some("1"));
    assert_eq!(f.headers.len(), 2);
}

#[test]
fn eols_between_frames_are_heartbeats_and_crlf_lines_are_accepted() {
    let wire = b"\n\r\nRECEIPT\r\nreceipt-id:7\r\n\r\n\0\n\nMESSAGE\nfoo:bar\n\nhello\0";
    let items = decode_all(wire, BIG);
    assert_eq!(items.len(), 6, "{items:?}");
    assert_eq!(items[0], Decoded::Heartbeat);
    assert_eq!(items[1], Decoded::Heartbeat);
    let Decoded::Frame(r) = &items[2] else { panic!("{items:?}") };
    assert_eq!((r.command, r.header("receipt-id")), (Command::Receipt, Some("7")));
    assert_eq!(&items[3..5], &[Decoded::Heartbeat, Decoded::Heartbeat]);
    // Without content-length the body ends at the first NUL.
    let Decoded::Frame(m) = &items[5] else { panic!("{items:?}") };
    assert_eq!(m.body, b"hello");
}

#[test]
fn a_lone_cr_waits_for_its_lf() {
    let mut d = Decoder::new(BIG);
    d.feed(b"\r");
    assert_eq!(d.next(), Ok(None));
    d.feed(b"\n");
    assert_eq!(d.next(), Ok(Some(Decoded::Heartbeat)));
    d.feed(b"\rX");
    assert!(d.next().is_err());
}

#[test]
fn random_chunking_yields_the_same_frames() {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    let mut rng = Rng(0x5eed);
    for i in 0..40 {
        let mut f = binary_send().with("seq", &i.to_string()).with("odd:name", "v\\al\nue");
        f.body = (0..rng.below(3000)).map(|_| rng.next() as u8).collect();
        stream.extend(encoded(&f));
        for _ in 0..rng.below(3) {
            stream.extend_from_slice(if rng.below(2) == 0 { b"\n" } else { b"\r\n" });
        }
        expected.push(with_length(f));
    }
    for seed in 1..50u64 {
        let mut rng = Rng(seed * 7919);
        let chunks: Vec<usize> =
            (0..17).map(|_| 1 + rng.below(if seed % 2 == 0 { 8 } else { 5000 })).collect();
        let got = frames(decode_chunked(&stream, &chunks, BIG).unwrap());
        assert_eq!(got.len(), expected.len(), "seed {seed}");
        assert!(got == expected, "seed {seed}: frames differ");
    }
    // One byte at a time too.
    assert!(frames(decode_chunked(&stream, &[1], BIG).unwrap()) == expected);
}

#[test]
fn an_announced_body_over_the_limit_fails_before_the_body_arrives() {
    let limits = Limits { max_body: 100, ..BIG };
    let mut d = Decoder::new(limits);
    d.feed(b"MESSAGE\ncontent-length:101\n\n");
    assert_eq!(d.next(), Err(DecodeError::BodyTooLarge { announced: Some(101), max: 100 }));
    assert_eq!(d.next(), Err(DecodeError::Failed));
    d.feed(b"more");
    assert_eq!(d.next(), Err(DecodeError::Failed));
    // Absurd lengths are refused, not parsed into allocations.
    let mut d = Decoder::new(limits);
    d.feed(b"MESSAGE\ncontent-length:99999999999999999999999999\n\n");
    assert!(matches!(d.next(), Err(DecodeError::BodyTooLarge { .. })));
    // Exactly at the limit is fine.
    let mut body = vec![7u8; 100];
    let mut f = Frame::new(Command::Message);
    f.body = std::mem::take(&mut body);
    assert_eq!(frames(decode_all(&encoded(&f), limits)).len(), 1);
}

#[test]
fn an_unterminated_body_without_length_fails_at_the_limit() {
    let limits = Limits { max_body: 100, ..BIG };
    let mut d = Decoder::new(limits);
    d.feed(b"MESSAGE\n\n");
    d.feed(&[b'a'; 100]);
    assert_eq!(d.next(), Ok(None));
    d.feed(b"a");
    assert_eq!(d.next(), Err(DecodeError::BodyTooLarge { announced: None, max: 100 }));
    // A NUL past the limit in one big chunk is refused as well.
    let mut d = Decoder::new(limits);
    let mut wire = b"MESSAGE\n\n".to_vec();
    wire.extend_from_slice(&[b'a'; 150]);
    wire.push(0);
    d.feed(&wire);
    assert!(matches!(d.next(), Err(DecodeError::BodyTooLarge { announced: None, .. })));
}

#[test]
fn headers_are_bounded_in_bytes_and_count() {
    let limits = Limits { max_header_bytes: 64, max_headers: 3, max_body: 100 };
    let mut d = Decoder::new(limits);
    d.feed(b"MESSAGE\n");
    d.feed(&[b'x'; 40]);
    assert_eq!(d.next(), Ok(None));
    d.feed(&[b'x'; 40]);
    assert_eq!(d.next(), Err(DecodeError::HeadersTooLarge { max: 64 }));
    let many = b"MESSAGE\na:1\nb:2\nc:3\nd:4\n\n\0";
    let mut d = Decoder::new(limits);
    d.feed(many);
    assert_eq!(d.next(), Err(DecodeError::TooManyHeaders { max: 3 }));
    let three = b"MESSAGE\na:1\nb:2\nc:3\n\n\0";
    assert_eq!(frames(decode_all(three, limits)).len(), 1);
}

#[test]
fn every_malformation_has_its_error() {
    let cases: &[(&[u8], DecodeError)] = &[
        (b"HELLO\n\n\0", DecodeError::UnknownCommand("HELLO".into())),
        (b"send\n\n\0", DecodeError::UnknownCommand("send".into())),
        (b"MESSAGE\nnocolon\n\n\0", DecodeError::BadHeaderLine),
        (b"MESSAGE\n:value\n\n\0", DecodeError::BadHeaderLine),
        (b"MESSAGE\na:b\\t\n\n\0", DecodeError::BadEscape),
        (b"MESSAGE\na:b\\\n\n\0", DecodeError::BadEscape),
        (b"MESSAGE\na:\xff\n\n\0", DecodeError::NotUtf8),
        (b"MESSAGE\ncontent-length:12a\n\n\0", DecodeError::BadContentLength("12a".into())),
        (b"MESSAGE\ncontent-length:-1\n\n\0", DecodeError::BadContentLength("-1".into())),
        (b"MESSAGE\ncontent-length:\n\n\0", DecodeError::BadContentLength("".into())),
        (b"MESSAGE\ncontent-length:2\n\nabc\0", DecodeError::MissingNul),
    ];
    for (wire, want) in cases {
        let mut d = Decoder::new(BIG);
        d.feed(wire);
        assert_eq!(d.next().as_ref(), Err(want), "{:?}", String::from_utf8_lossy(wire));
    }
}

#[test]
fn garbage_and_mutations_never_panic() {
    let mut rng = Rng(0xdead_beef);
    let valid = encoded(&binary_send());
    let limits = Limits { max_header_bytes: 256, max_headers: 8, max_body: 512 };
    for round in 0..3000 {
        let input: Vec<u8> = if round % 2 == 0 {
            (0..rng.below(600)).map(|_| rng.next() as u8).collect()
        } else {
            let mut m = valid.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(m.len());
                match rng.below(3) {
                    0 => m[i] = rng.next() as u8,
                    1 => {
                        m.remove(i);
                    }
                    _ => m.insert(i, [b'\n', b':', b'\\', 0, b'\r'][rng.below(5)]),
                }
            }
            m
        };
        let chunks = [1 + rng.below(64), 1 + rng.below(7)];
        // Either frames or an error; the loop inside is bounded by the input size.
        let _ = decode_chunked(&input, &chunks, limits);
    }
}

#[test]
fn a_large_frame_does_not_pin_its_buffer() {
    let mut f = Frame::new(Command::Message);
    f.body = vec![1; 300 * 1024];
    let mut d = Decoder::new(BIG);
    d.feed(&encoded(&f));
    d.feed(b"\n");
    assert!(matches!(d.next(), Ok(Some(Decoded::Frame(_)))));
    assert!(d.buf.capacity() <= SHRINK_ABOVE, "{}", d.buf.capacity());
    assert_eq!(d.next(), Ok(Some(Decoded::Heartbeat)));
}

/// Found by the `stomp_codec` fuzz target (its first artifact): an ERROR frame whose header
/// name only resembles `content-length` decodes without one; re-encoded, it gains a real
/// `content-length` and escapes, and decodes back to the same frame with that header added.
#[test]
fn fuzz_reencoded_frame_gains_content_length_and_decodes_back() {
    let wire = b"ERROR\nmessage:escaped\\\\n\ncontent-lengntent-length:0\n\n\0";
    let first = frames(decode_all(wire, BIG));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].header("message"), Some("escaped\\n"));
    assert_eq!(first[0].header("content-length"), None);
    let again = frames(decode_all(&encoded(&first[0]), BIG));
    assert_eq!(again, vec![with_length(first[0].clone())]);
}
