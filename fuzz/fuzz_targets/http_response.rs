//! HTTP responses as the download client (areas/src/transfer) receives them: a server on
//! 127.0.0.1 (started once per process) answers each download with the input's bytes as they
//! are and closes; `transfer::download` fetches into a temporary file with small limits.
//! Checks besides "no panic, no hang": a download succeeds only on a 200 response, its size
//! is within the limit and equals what was written and handed to the callback.
#![no_main]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use usp_areas::transfer::{Fetch, download};

/// The server: the port, and the response it serves to every connection (the current input;
/// a client that connects twice gets it twice).
struct Server {
    port: u16,
    response: Arc<Mutex<Vec<u8>>>,
}

/// Reads the request head (up to a blank line or 8 KiB).
fn read_head(s: &mut std::net::TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while head.len() < 8192 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn serve(listener: TcpListener, response: Arc<Mutex<Vec<u8>>>) {
    for conn in listener.incoming() {
        let Ok(mut s) = conn else { continue };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        read_head(&mut s);
        let bytes = response.lock().map(|r| r.clone()).unwrap_or_default();
        let _ = s.write_all(&bytes);
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let response = Arc::new(Mutex::new(Vec::new()));
        let shared = response.clone();
        std::thread::spawn(move || serve(listener, shared));
        Server { port, response }
    })
}

fuzz_target!(|data: &[u8]| {
    let server = server();
    *server.response.lock().expect("lock") = data.to_vec();
    let dir = std::env::temp_dir().join(format!("uspagent-fuzz-http-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let dest = dir.join("file");
    let mut fetch = Fetch::new(format!("http://127.0.0.1:{}/image.bin", server.port));
    fetch.max_size = 64 * 1024;
    fetch.timeout = Duration::from_millis(500);
    fetch.max_redirects = 0;
    let mut seen = 0u64;
    let result = download(&fetch, &dest, &mut |chunk, total| {
        seen += chunk.len() as u64;
        assert_eq!(seen, total);
    });
    if let Ok(size) = result {
        assert!(size <= fetch.max_size);
        assert_eq!(size, seen);
        let on_disk = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(u64::MAX);
        assert_eq!(on_disk, size);
        // The status is the second word of the response (after the leading blank lines
        // HTTP allows, the version).
        let text = String::from_utf8_lossy(data);
        let status = text.split_ascii_whitespace().nth(1);
        assert_eq!(status, Some("200"), "a success from a non-200 response");
    }
});
