//! The agent's one HTTP(S) client for file transfers: firmware images and configuration
//! backups now, software modules and bulk data later. [`download`] fetches, [`upload`] sends
//! a file with HTTP PUT.
//!
//! Built on `ureq` 3 (a small, well-kept blocking client with no async runtime) over rustls
//! with the ring provider, as the MTPs use: trust anchors come from a PEM file, else the
//! system bundle (the same [`SYSTEM_BUNDLES`] as `usp_mtp::tls`), never a compiled-in list.
//!
//! [`download`] streams the body to a file in 16 KiB chunks (an image is never held in RAM),
//! hands every chunk to a callback (progress, checksums), and enforces:
//! - a size limit ([`Fetch::max_size`]) and an expected size ([`Fetch::expected_size`],
//!   a Download's `FileSize`; 0 means unknown);
//! - a time limit for the whole transfer ([`Fetch::timeout`]);
//! - a bounded number of redirects ([`Fetch::max_redirects`]); credentials are not sent on
//!   to another host;
//! - authentication when a user name is given: the first request goes without credentials;
//!   a 401 is answered once with HTTP Digest (RFC 7616, [`digest`]) when the server offers it,
//!   else with Basic, and only to the host of the URL (never to a host redirected to).
//!
//! Cost: ureq (with `http`, `httparse`, `ureq-proto`) and the FirmwareImage area together add
//! 157,384 bytes to the armv7 agent (1,693,408 → 1,850,792 bytes, `cross/build.sh
//! armv7-unknown-linux-musleabihf`); rustls and ring were already there for the MTPs. Digest
//! and SHA-224 add RustCrypto's `md-5` and `sha2` on the `digest` core the agent already links
//! (tungstenite's `sha1`); their armv7 cost was not measured in this session (no cross build).
//!
//! Blocking: call it on a worker thread ([`crate::worker::Worker`]), never on the data-model
//! thread.

use std::fmt;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ureq::ResponseExt as _;
use ureq::http::Response;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

pub mod digest;
mod get;
pub mod sum;

pub use get::{MAX_RESUMES, download};
#[cfg(test)]
mod tests;

/// Where the system's CA bundle is looked for, in order (as `usp_mtp::tls`).
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// One download: where from, with what credentials and limits.
#[derive(Clone, Debug)]
pub struct Fetch {
    /// An `http://` or `https://` URL.
    pub url: String,
    /// User name and password for HTTP Digest or Basic authentication (whichever the server
    /// asks for); `None` sends none.
    pub credentials: Option<(String, String)>,
    /// The size the file must have (a Download's `FileSize`); `None` when unknown.
    pub expected_size: Option<u64>,
    /// The largest body accepted, in bytes.
    pub max_size: u64,
    /// The time the whole transfer may take, connection included.
    pub timeout: Duration,
    /// How many redirects are followed.
    pub max_redirects: u32,
    /// A PEM file of trusted CAs for `https://`; `None` uses the system bundle.
    pub ca_file: Option<PathBuf>,
    /// Set (by another thread) to stop the transfer at the next chunk: a cancel
    /// (`Request.{i}.Cancel()`).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Where the transfer counts its bytes, for another thread to read (progress).
    pub progress: Option<Arc<Progress>>,
}

/// A transfer's bytes so far and in all, updated as it runs.
#[derive(Debug, Default)]
pub struct Progress {
    received: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// The share done in percent, `None` while the size is unknown.
    pub fn percent(&self) -> Option<u32> {
        let total = self.total.load(Ordering::Relaxed);
        let got = self.received.load(Ordering::Relaxed).min(total);
        (total > 0).then(|| u32::try_from(got * 100 / total).unwrap_or(100))
    }

    /// The bytes received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

impl Fetch {
    /// A download of `url` with the defaults: no credentials, no expected size, at most
    /// 64 MiB, 10 minutes, 5 redirects, the system's CAs.
    pub fn new(url: impl Into<String>) -> Fetch {
        Fetch {
            url: url.into(),
            credentials: None,
            expected_size: None,
            max_size: 64 << 20,
            timeout: Duration::from_secs(600),
            max_redirects: 5,
            ca_file: None,
            cancel: None,
            progress: None,
        }
    }
}

/// Why a transfer failed. Every variant leaves the destination file incomplete: the caller
/// discards it.
#[derive(Debug)]
pub enum TransferError {
    /// The URL is not `http://` or `https://`, or cannot be parsed.
    BadUrl(String),
    /// No trusted CA certificate could be loaded for an `https://` URL.
    NoTrustAnchors(String),
    /// The server could not be reached (name, connection, TLS handshake).
    Connect(String),
    /// More redirects than [`Fetch::max_redirects`], or a redirect that could not be followed.
    Redirects,
    /// The server refused the credentials, or asked for some (401, 403).
    Auth(u16),
    /// The server answered with another status than 200.
    Status(u16),
    /// The body is (or announces itself) larger than the limit.
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The body's size is not the expected one.
    SizeMismatch {
        /// The expected size.
        expected: u64,
        /// The size received (or announced by `Content-Length`).
        got: u64,
    },
    /// The connection ended before the whole body arrived.
    Truncated {
        /// The bytes received.
        got: u64,
    },
    /// The transfer took longer than [`Fetch::timeout`].
    TimedOut,
    /// The destination file could not be written.
    Write(io::Error),
    /// [`Fetch::cancel`] was set.
    Canceled,
    /// The file to upload could not be read.
    Read(io::Error),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::BadUrl(u) => write!(f, "unsupported URL '{u}' (http or https only)"),
            TransferError::NoTrustAnchors(why) => write!(f, "no trusted CA certificates: {why}"),
            TransferError::Connect(why) => write!(f, "cannot reach the server: {why}"),
            TransferError::Redirects => f.write_str("too many redirects"),
            TransferError::Auth(s) => write!(f, "authentication failed (HTTP {s})"),
            TransferError::Status(s) => write!(f, "the server answered HTTP {s}"),
            TransferError::TooLarge { limit } => write!(f, "the file exceeds {limit} bytes"),
            TransferError::SizeMismatch { expected, got } => {
                write!(f, "the file has {got} bytes, {expected} expected")
            }
            TransferError::Truncated { got } => {
                write!(f, "the connection ended after {got} bytes")
            }
            TransferError::TimedOut => f.write_str("the transfer timed out"),
            TransferError::Write(e) => write!(f, "cannot write the file: {e}"),
            TransferError::Canceled => f.write_str("the transfer was canceled"),
            TransferError::Read(e) => write!(f, "cannot read the file to upload: {e}"),
        }
    }
}

impl std::error::Error for TransferError {}

/// Uploads the file `src` to `fetch.url` with HTTP PUT (TR-181's `Backup()`: the file goes
/// to the URL given), with the same TLS, authentication, time and redirect rules as
/// [`download`]; the file must not exceed [`Fetch::max_size`] (it is read whole: backups are
/// small). Any 2xx answer is success. Returns the bytes sent. Blocking.
pub fn upload(fetch: &Fetch, src: &Path) -> Result<u64, TransferError> {
    let size = std::fs::metadata(src).map_err(TransferError::Read)?.len();
    if size > fetch.max_size {
        return Err(TransferError::TooLarge { limit: fetch.max_size });
    }
    let body = std::fs::read(src).map_err(TransferError::Read)?;
    let agent = agent_for(fetch)?;
    let response = call_with_auth(fetch, "PUT", &mut |url, auth| {
        let mut request = agent.put(url).header("Content-Type", "application/octet-stream");
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        request.send(&body[..])
    })?;
    match response.status().as_u16() {
        200..=299 => Ok(size),
        s @ (401 | 403) => Err(TransferError::Auth(s)),
        s => Err(TransferError::Status(s)),
    }
}

/// The client for `fetch`: its limits, and TLS for an `https://` URL.
fn agent_for(fetch: &Fetch) -> Result<ureq::Agent, TransferError> {
    let https = if fetch.url.starts_with("https://") {
        true
    } else if fetch.url.starts_with("http://") {
        false
    } else {
        return Err(TransferError::BadUrl(fetch.url.clone()));
    };
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(fetch.max_redirects)
        .timeout_global(Some(fetch.timeout))
        .user_agent("uspagent");
    if https {
        config = config.tls_config(tls_config(fetch.ca_file.as_deref())?);
    }
    Ok(config.build().into())
}

/// Sends one request to a URL with an optional `Authorization` value.
type Send<'a> = dyn FnMut(&str, Option<&str>) -> Result<Response<ureq::Body>, ureq::Error> + 'a;

/// Sends a request with `send` (given the URL and an `Authorization` value); a 401 from the
/// URL's own host is answered once with the credentials (see the module doc).
fn call_with_auth(
    fetch: &Fetch,
    method: &str,
    send: &mut Send<'_>,
) -> Result<Response<ureq::Body>, TransferError> {
    let first = send(&fetch.url, None).map_err(request_error)?;
    let Some((user, password)) = &fetch.credentials else { return Ok(first) };
    if first.status().as_u16() != 401 {
        return Ok(first);
    }
    let uri = first.get_uri().clone();
    let asked: Option<ureq::http::Uri> = fetch.url.parse().ok();
    if asked.as_ref().and_then(|a| a.authority()) != uri.authority() {
        log::warn!("transfer: {uri} asks for credentials given for another host; not sent");
        return Ok(first);
    }
    let challenges: Vec<&str> = first
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let auth = if let Some(ch) = digest::best_challenge(challenges.iter().copied()) {
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        digest::authorization(&ch, (user, password), method, target, &digest::cnonce(), 1)
    } else if challenges.iter().any(|c| c.trim_start().get(..5).is_some_and(is_basic)) {
        let token = usp_util::base64::encode(format!("{user}:{password}").as_bytes());
        format!("Basic {token}")
    } else {
        return Ok(first);
    };
    drop(first);
    send(&uri.to_string(), Some(&auth)).map_err(request_error)
}

fn is_basic(scheme: &str) -> bool {
    scheme.eq_ignore_ascii_case("basic")
}

/// Refuses an announced size over the limit or other than the expected one.
fn check_size(fetch: &Fetch, size: u64) -> Result<(), TransferError> {
    if size > fetch.max_size {
        return Err(TransferError::TooLarge { limit: fetch.max_size });
    }
    match fetch.expected_size {
        Some(expected) if expected != size => {
            Err(TransferError::SizeMismatch { expected, got: size })
        }
        _ => Ok(()),
    }
}

/// rustls with ring, trusting the CAs of `ca_file` or of the system bundle.
pub(crate) fn tls_config(ca_file: Option<&Path>) -> Result<TlsConfig, TransferError> {
    let candidates: Vec<&Path> = match ca_file {
        Some(f) => vec![f],
        None => SYSTEM_BUNDLES.iter().map(Path::new).collect(),
    };
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    let mut why = String::from("no CA file found");
    for path in candidates {
        match std::fs::read(path) {
            Ok(pem) => {
                certs.extend(ureq::tls::parse_pem(&pem).filter_map(|item| match item {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                }));
                if certs.is_empty() {
                    why = format!("{} holds no certificate", path.display());
                } else {
                    break;
                }
            }
            Err(e) => why = format!("{}: {e}", path.display()),
        }
    }
    if certs.is_empty() {
        return Err(TransferError::NoTrustAnchors(why));
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::new_with_certs(&certs))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build())
}

/// Classifies an error of the request phase (before the body).
fn request_error(e: ureq::Error) -> TransferError {
    match e {
        ureq::Error::Timeout(_) => TransferError::TimedOut,
        ureq::Error::TooManyRedirects | ureq::Error::RedirectFailed => TransferError::Redirects,
        ureq::Error::BadUri(u) => TransferError::BadUrl(u),
        ureq::Error::Io(e) if e.kind() == io::ErrorKind::TimedOut => TransferError::TimedOut,
        e => TransferError::Connect(e.to_string()),
    }
}

/// Classifies an error while reading the body.
fn read_error(e: io::Error, got: u64) -> TransferError {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>());
    match inner {
        Some(ureq::Error::Timeout(_)) => TransferError::TimedOut,
        _ if e.kind() == io::ErrorKind::TimedOut => TransferError::TimedOut,
        _ => TransferError::Truncated { got },
    }
}
