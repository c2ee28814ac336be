//! The agent's one HTTP(S) client for file transfers: firmware images now, software modules
//! and bulk data later.
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
//! - HTTP Basic authentication when a user name is given (Digest is not supported yet).
//!
//! Cost: ureq (with `http`, `httparse`, `ureq-proto`) and the FirmwareImage area together add
//! 157,384 bytes to the armv7 agent (1,693,408 → 1,850,792 bytes, `cross/build.sh
//! armv7-unknown-linux-musleabihf`); rustls and ring were already there for the MTPs.
//!
//! Blocking: call it on a worker thread ([`crate::worker::Worker`]), never on the data-model
//! thread.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};

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
    /// User name and password for HTTP Basic authentication; `None` sends none.
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
        }
    }
}

impl std::error::Error for TransferError {}

/// Downloads `fetch` into `dest` (created or truncated), calling `on_chunk` with every chunk
/// written and the total so far. Returns the size received. Blocking.
pub fn download(
    fetch: &Fetch,
    dest: &Path,
    on_chunk: &mut dyn FnMut(&[u8], u64),
) -> Result<u64, TransferError> {
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
    let agent: ureq::Agent = config.build().into();
    let mut request = agent.get(&fetch.url);
    if let Some((user, password)) = &fetch.credentials {
        let token = usp_util::base64::encode(format!("{user}:{password}").as_bytes());
        request = request.header("Authorization", format!("Basic {token}"));
    }
    let response = request.call().map_err(request_error)?;
    let status = response.status().as_u16();
    match status {
        200 => {}
        401 | 403 => return Err(TransferError::Auth(status)),
        _ => return Err(TransferError::Status(status)),
    }
    let body = response.into_body();
    if let Some(announced) = body.content_length() {
        check_size(fetch, announced)?;
    }
    let mut reader = body.into_reader();
    let mut file = File::create(dest).map_err(TransferError::Write)?;
    let mut buf = vec![0u8; 16 * 1024];
    let mut total: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e, total)),
        };
        total += n as u64;
        if total > fetch.max_size {
            return Err(TransferError::TooLarge { limit: fetch.max_size });
        }
        let chunk = buf.get(..n).unwrap_or_default();
        file.write_all(chunk).map_err(TransferError::Write)?;
        on_chunk(chunk, total);
    }
    file.sync_all().map_err(TransferError::Write)?;
    if let Some(expected) = fetch.expected_size.filter(|e| *e != total) {
        return Err(TransferError::SizeMismatch { expected, got: total });
    }
    Ok(total)
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
