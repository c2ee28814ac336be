//! A small HTTP/1.1 (or HTTPS, with a test certificate) file server on 127.0.0.1 for
//! transfer tests: files, a body cut short, Basic-auth-protected files, redirects and error
//! statuses, one connection at a time on a thread of its own, stopped when the guard drops.
//! Never used by shipped code.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the server answers for one path.
#[derive(Clone, Debug)]
pub enum Route {
    /// 200 with this body.
    File(Vec<u8>),
    /// 200 announcing the whole body's length, but closing after `sent` bytes of it.
    Truncated {
        /// The whole body.
        body: Vec<u8>,
        /// The bytes sent before the connection is closed.
        sent: usize,
    },
    /// 200 with the body for `Authorization: Basic` of these credentials, 401 otherwise.
    Protected {
        /// The expected user name.
        user: String,
        /// The expected password.
        password: String,
        /// The body.
        body: Vec<u8>,
    },
    /// 200 with the body for an RFC 7616 `Authorization: Digest` answer (qop=auth) of these
    /// credentials to the server's challenge, 401 with the challenge otherwise.
    Digest {
        /// The expected user name.
        user: String,
        /// The expected password.
        password: String,
        /// `MD5` or `SHA-256`.
        algorithm: &'static str,
        /// The body.
        body: Vec<u8>,
    },
    /// 200 with this body sent in `chunk`-byte pieces `pause` apart (a slow link: a transfer
    /// in progress for cancel and progress tests).
    Slow {
        /// The body.
        body: Vec<u8>,
        /// Bytes per piece.
        chunk: usize,
        /// The pause after each piece.
        pause: Duration,
    },
    /// Accepts an upload (PUT or POST with a `Content-Length` body, at most 16 MiB): 201, the
    /// body kept in `received`; with `digest` (user, password, algorithm) only for a right
    /// Digest answer, as [`Route::Digest`].
    Upload {
        /// Credentials and algorithm of the Digest protection, if any.
        digest: Option<(String, String, &'static str)>,
        /// The last body received.
        received: Arc<Mutex<Option<Vec<u8>>>>,
    },
    /// 200 announcing the whole body (and `Accept-Ranges: bytes` when `ranges`) but closing
    /// after `cut` bytes; a request with `Range: bytes=N-` gets 206 with the rest when
    /// `ranges` (a server that supports resuming).
    Cut {
        /// The whole body.
        body: Vec<u8>,
        /// The bytes sent before the first answer is cut.
        cut: usize,
        /// Whether byte ranges are served.
        ranges: bool,
    },
    /// 302 to this location.
    Redirect(String),
    /// This status with an empty body.
    Status(u16),
}

/// The running server; stops (and joins its thread) on drop.
#[derive(Debug)]
pub struct HttpServer {
    port: u16,
    tls: bool,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Starts a server on a free port of 127.0.0.1 with no route (every path is 404).
    pub fn start() -> HttpServer {
        HttpServer::spawn(None)
    }

    /// [`HttpServer::start`] over TLS with this PEM certificate chain and key (e.g. a
    /// [`crate::certs::TestPki`]'s server certificate); URLs are `https://`.
    pub fn start_tls(cert: &Path, key: &Path) -> HttpServer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(cert)
            .and_then(|c| c.collect::<Result<Vec<_>, _>>())
            .expect("test server certificate");
        let key = PrivateKeyDer::from_pem_file(key).expect("test server key");
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("test server TLS configuration");
        HttpServer::spawn(Some(Arc::new(config)))
    }

    fn spawn(tls: Option<Arc<rustls::ServerConfig>>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let routes: Arc<Mutex<HashMap<String, Route>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&routes), Arc::clone(&stop));
        let tls_on = tls.is_some();
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                match &tls {
                    None => {
                        let _ = serve(conn, &r);
                    }
                    Some(config) => {
                        let Ok(session) = rustls::ServerConnection::new(Arc::clone(config)) else {
                            continue;
                        };
                        let mut stream = rustls::StreamOwned::new(session, conn);
                        if serve(&mut stream, &r).is_ok() {
                            stream.conn.send_close_notify();
                            let _ = stream.flush();
                        }
                    }
                }
            }
        });
        HttpServer { port, tls: tls_on, routes, stop, thread: Some(thread) }
    }

    /// Serves `route` at `path` (`/fw.img`).
    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().expect("routes").insert(path.to_owned(), route);
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut conn: impl Read + Write,
    routes: &Mutex<HashMap<String, Route>>,
) -> std::io::Result<()> {
    // The request head, byte by byte up to the blank line (at most 16 KiB); no body.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if conn.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let method = request_method(&head);
    let path = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/");
    let path = path.to_owned();
    let header = |wanted: &str| {
        head.lines().skip(1).find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim().eq_ignore_ascii_case(wanted).then(|| value.trim().to_owned())
        })
    };
    let auth = header("authorization");
    let range_from: Option<usize> = header("range")
        .and_then(|r| r.strip_prefix("bytes=").map(str::to_owned))
        .and_then(|r| r.trim_end_matches('-').parse().ok());
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let route = routes.lock().map(|r| r.get(&path).cloned()).unwrap_or(None);
    let out = &mut conn;
    let head = |status: &str, len: usize, extra: &str| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n{extra}\r\n")
    };
    match route {
        None => out.write_all(head("404 Not Found", 0, "").as_bytes())?,
        Some(Route::File(body)) => {
            out.write_all(head("200 OK", body.len(), "").as_bytes())?;
            out.write_all(&body)?;
        }
        Some(Route::Truncated { body, sent }) => {
            out.write_all(head("200 OK", body.len(), "").as_bytes())?;
            out.write_all(body.get(..sent).unwrap_or(&body))?;
        }
        Some(Route::Protected { user, password, body }) => {
            let want = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
            if auth.as_deref() == Some(want.as_str()) {
                out.write_all(head("200 OK", body.len(), "").as_bytes())?;
                out.write_all(&body)?;
            } else {
                let challenge = "WWW-Authenticate: Basic realm=\"test\"\r\n";
                out.write_all(head("401 Unauthorized", 0, challenge).as_bytes())?;
            }
        }
        Some(Route::Digest { user, password, algorithm, body }) => {
            let ok = auth
                .as_deref()
                .is_some_and(|a| digest_ok(a, (&user, &password), algorithm, &path, &method));
            if ok {
                out.write_all(head("200 OK", body.len(), "").as_bytes())?;
                out.write_all(&body)?;
            } else {
                let challenge = format!(
                    "WWW-Authenticate: Basic realm=\"test\"\r\nWWW-Authenticate: Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", algorithm={algorithm}, nonce=\"{DIGEST_NONCE}\", opaque=\"op\"\r\n"
                );
                out.write_all(head("401 Unauthorized", 0, &challenge).as_bytes())?;
            }
        }
        Some(Route::Slow { body, chunk, pause }) => {
            out.write_all(head("200 OK", body.len(), "").as_bytes())?;
            for piece in body.chunks(chunk.max(1)) {
                out.write_all(piece)?;
                out.flush()?;
                std::thread::sleep(pause);
            }
        }
        Some(Route::Upload { digest, received }) => {
            let ok = match &digest {
                None => true,
                Some((u, p, algo)) => {
                    auth.as_deref().is_some_and(|a| digest_ok(a, (u, p), algo, &path, &method))
                }
            };
            let mut body = vec![0u8; length.min(16 << 20)];
            conn_read_exact(out, &mut body)?;
            if ok {
                if let Ok(mut r) = received.lock() {
                    *r = Some(body);
                }
                out.write_all(head("201 Created", 0, "").as_bytes())?;
            } else {
                let algo = digest.as_ref().map_or("MD5", |d| d.2);
                let challenge = format!(
                    "WWW-Authenticate: Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", algorithm={algo}, nonce=\"{DIGEST_NONCE}\", opaque=\"op\"\r\n"
                );
                out.write_all(head("401 Unauthorized", 0, &challenge).as_bytes())?;
            }
        }
        Some(Route::Cut { body, cut, ranges }) => match range_from {
            Some(from) if ranges && from < body.len() => {
                let rest = body.get(from..).unwrap_or_default();
                let extra =
                    format!("Content-Range: bytes {from}-{}/{}\r\n", body.len() - 1, body.len());
                out.write_all(head("206 Partial Content", rest.len(), &extra).as_bytes())?;
                out.write_all(rest)?;
            }
            _ => {
                let extra = if ranges { "Accept-Ranges: bytes\r\n" } else { "" };
                out.write_all(head("200 OK", body.len(), extra).as_bytes())?;
                out.write_all(body.get(..cut).unwrap_or(&body))?;
            }
        },
        Some(Route::Redirect(to)) => {
            out.write_all(head("302 Found", 0, &format!("Location: {to}\r\n")).as_bytes())?;
        }
        Some(Route::Status(code)) => {
            out.write_all(head(&format!("{code} Test"), 0, "").as_bytes())?;
        }
    }
    out.flush()
}

/// Reads exactly `buf.len()` bytes (a request body).
fn conn_read_exact(conn: &mut impl Read, buf: &mut [u8]) -> std::io::Result<()> {
    conn.read_exact(buf)
}

const DIGEST_REALM: &str = "test@127.0.0.1";
const DIGEST_NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";

fn request_method(head: &str) -> String {
    head.split_whitespace().next().unwrap_or("").to_owned()
}

/// Checks an `Authorization: Digest` value (RFC 7616 section 3.4.1, qop=auth) for `path`.
fn digest_ok(
    value: &str,
    (user, password): (&str, &str),
    algo: &str,
    path: &str,
    method: &str,
) -> bool {
    let Some(rest) = value.strip_prefix("Digest ") else { return false };
    let mut params = HashMap::new();
    for part in rest.split(", ") {
        if let Some((k, v)) = part.split_once('=') {
            params.insert(k.trim().to_owned(), v.trim_matches('"').to_owned());
        }
    }
    let p = |k: &str| params.get(k).cloned().unwrap_or_default();
    let h = |s: String| -> String {
        use sha2::Digest as _;
        let bytes: Vec<u8> = if algo == "MD5" {
            md5::Md5::digest(s.as_bytes()).to_vec()
        } else {
            sha2::Sha256::digest(s.as_bytes()).to_vec()
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    let ha1 = h(format!("{user}:{DIGEST_REALM}:{password}"));
    let ha2 = h(format!("{method}:{}", p("uri")));
    let want = h(format!("{ha1}:{DIGEST_NONCE}:{}:{}:auth:{ha2}", p("nc"), p("cnonce")));
    p("username") == user
        && p("uri") == path
        && p("qop") == "auth"
        && p("opaque") == "op"
        && p("algorithm") == algo
        && p("response") == want
}

/// Standard base64 with padding (the test's own, independent of the agent's).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }
}
