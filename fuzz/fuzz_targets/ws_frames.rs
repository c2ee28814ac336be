//! WebSocket frame handling as the links configure tungstenite (server role, size limits),
//! reading messages from bytes that arrive in arbitrary pieces; then the handshake of the
//! server, and the parsers of `ws::wire` (USP subprotocol, `bbf-usp-protocol` extension, eid
//! query, paths) on the same bytes as text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::{Error, HandshakeError};
use usp_mtp::ws::wire;
use uspagent_fuzz::Pieces;

const MAX_RECORD: usize = 64 * 1024;

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_RECORD))
        .max_frame_size(Some(MAX_RECORD))
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let cuts = usize::from(n % 8).min(rest.len());
    let (sizes, stream) = rest.split_at(cuts);
    // Frames, as a session after the handshake reads them.
    let mut ws =
        WebSocket::from_raw_socket(Pieces::new(stream, sizes), Role::Server, Some(config()));
    for _ in 0..stream.len() + 8 {
        match ws.read() {
            Ok(msg) => assert!(msg.len() <= MAX_RECORD),
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if ws.get_ref().is_empty() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    // The handshake of a server session.
    let mut handshake = tungstenite::accept_with_config(Pieces::new(stream, sizes), Some(config()));
    for _ in 0..stream.len() + 8 {
        match handshake {
            Err(HandshakeError::Interrupted(mid)) => handshake = mid.handshake(),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(rest);
    let _ = wire::offers_subprotocol(&text);
    let _ = wire::extension_eid(&text);
    let _ = wire::eid_from_query(Some(&text));
    if let Some(decoded) = wire::percent_decode(&text) {
        assert_eq!(wire::percent_decode(&wire::encode_eid(&decoded)).as_deref(), Some(&*decoded));
    }
    let (a, b) = text.split_at(text.char_indices().nth(usize::from(n) % 32).map_or(0, |(i, _)| i));
    let _ = wire::path_matches(a, b);
});
