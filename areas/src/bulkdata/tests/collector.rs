//! A Bulk Data collector for the tests: an HTTP/1.1 (or HTTPS, with a testkit certificate)
//! server on 127.0.0.1 that records every request (method, target, headers, body, read with
//! `Content-Length` or chunked) and answers with the statuses it is given, then 200. One
//! connection at a time; stopped (and joined) on drop.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One request received.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    statuses: Mutex<VecDeque<u16>>,
    stop: AtomicBool,
}

pub struct HttpCollector {
    port: u16,
    tls: bool,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl HttpCollector {
    pub fn start() -> HttpCollector {
        HttpCollector::spawn(None)
    }

    pub fn start_tls(cert: &Path, key: &Path) -> HttpCollector {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(cert).unwrap().collect::<Result<Vec<_>, _>>();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs.unwrap(), key)
            .unwrap();
        HttpCollector::spawn(Some(Arc::new(config)))
    }

    fn spawn(tls: Option<Arc<rustls::ServerConfig>>) -> HttpCollector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared::default());
        let s = Arc::clone(&shared);
        let tls_on = tls.is_some();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                match &tls {
                    None => serve(conn, &s),
                    Some(config) => {
                        let Ok(session) = rustls::ServerConnection::new(Arc::clone(config)) else {
                            continue;
                        };
                        let mut stream = rustls::StreamOwned::new(session, conn);
                        serve(&mut stream, &s);
                        stream.conn.send_close_notify();
                        let _ = stream.flush();
                    }
                }
            }
        });
        HttpCollector { port, tls: tls_on, shared, thread: Some(thread) }
    }

    /// Answers the next requests with these statuses (then 200).
    pub fn fail_with(&self, statuses: &[u16]) {
        self.shared.statuses.lock().unwrap().extend(statuses);
    }

    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) until `n` requests arrived; returns them all.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Request> {
        let end = Instant::now() + limit;
        while self.requests().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.requests()
    }
}

impl Drop for HttpCollector {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: impl Read + Write, shared: &Shared) {
    let mut reader = BufReader::new(conn);
    let Some(request) = read_request(&mut reader) else { return };
    let status = shared.statuses.lock().unwrap().pop_front().unwrap_or(200);
    shared.requests.lock().unwrap().push(request);
    let answer =
        format!("HTTP/1.1 {status} Test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let conn = reader.get_mut();
    let _ = conn.write_all(answer.as_bytes());
    let _ = conn.flush();
}

fn read_request(r: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_owned(), words.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_owned(), v.trim().to_owned()));
    }
    let mut req = Request { method, target, headers, body: Vec::new() };
    if req.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0u8; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            req.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = req.header("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0u8; len];
        r.read_exact(&mut body).ok()?;
        req.body = body;
    }
    Some(req)
}
