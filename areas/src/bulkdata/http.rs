//! The HTTP(S) upload of a report (TR-369 "HTTP Bulk Data Collection"): `POST` or `PUT` to the
//! profile's URL with the query parameters of R-BULK.1 and `RequestURIParameter.{i}`, the
//! `Content-Type` with its charset (R-BULK.7), `BBF-Report-Format` (R-BULK.8), an optional
//! `Date` header, HTTP Basic authentication, and `Content-Encoding: gzip` when `Compression` is
//! `GZIP`. Retries (R-BULK.2, R-BULK.3) follow the Notify schedule with the profile's
//! `RetryMinimumWaitInterval` and `RetryIntervalMultiplier`, the windows growing up to the tenth
//! retry, and stop when the next report is due.
//!
//! Uses ureq and rustls/ring as [`crate::transfer`] does (its TLS configuration is private to
//! that module, so the few lines that build one are repeated here: trust anchors from a PEM
//! file, else the system bundle of [`crate::transfer::SYSTEM_BUNDLES`]).
//!
//! Blocking: runs on the bulk data worker thread only; never on the data-model thread.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, TlsProvider};
use usp_util::retry::{Backoff, RetryPolicy};

use super::encode::Encoding;

/// Where and how a profile uploads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTarget {
    /// `HTTP.URL` (`http://` or `https://`).
    pub url: String,
    /// `HTTP.Username` and `HTTP.Password`; no authentication when the user name is empty.
    pub username: String,
    /// See [`HttpTarget::username`].
    pub password: String,
    /// `HTTP.Method` is `PUT` (else `POST`).
    pub put: bool,
    /// `HTTP.Compression` is `GZIP`.
    pub gzip: bool,
    /// `HTTP.UseDateHeader`.
    pub date_header: bool,
    /// `HTTP.RetryEnable`.
    pub retry: bool,
    /// `HTTP.RetryMinimumWaitInterval`, seconds.
    pub retry_min_wait: u32,
    /// `HTTP.RetryIntervalMultiplier`, thousandths.
    pub retry_multiplier: u32,
    /// A PEM file of trusted CAs for `https://`; `None` uses the system bundle.
    pub ca_file: Option<PathBuf>,
    /// `HTTP.PersistAcrossReboot`: failed reports are kept on flash.
    pub persist: bool,
}

/// Why an upload failed.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// The URL is not `http://` or `https://`, or does not parse.
    BadUrl(String),
    /// No trusted CA certificate could be loaded for an `https://` URL.
    NoTrustAnchors(String),
    /// The collector could not be reached (name, connection, TLS handshake, timeout).
    Connect(String),
    /// The collector answered with a status other than 2xx (the last one, after retries).
    Status(u16),
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadError::BadUrl(u) => write!(f, "unsupported URL '{u}' (http or https only)"),
            UploadError::NoTrustAnchors(why) => write!(f, "no trusted CA certificates: {why}"),
            UploadError::Connect(why) => write!(f, "cannot reach the collector: {why}"),
            UploadError::Status(code) => write!(f, "the collector answered HTTP {code}"),
        }
    }
}

impl std::error::Error for UploadError {}

/// Whether `url` can be used for an upload (checked when a controller sets it).
pub fn check_url(url: &str) -> Result<(), UploadError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| UploadError::BadUrl(url.to_owned()))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let parsed = url.parse::<ureq::http::Uri>();
    if host.is_empty() || host.contains(char::is_whitespace) || parsed.is_err() {
        return Err(UploadError::BadUrl(url.to_owned()));
    }
    Ok(())
}

/// `url` with `query` appended (percent-encoded).
pub fn with_query(url: &str, query: &[(String, String)]) -> String {
    let mut out = url.to_owned();
    for (i, (name, value)) in query.iter().enumerate() {
        let sep = if i == 0 && !url.contains('?') { '?' } else { '&' };
        out.push(sep);
        out.push_str(&percent(name));
        out.push('=');
        out.push_str(&percent(value));
    }
    out
}

fn percent(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The body as sent: gzip-compressed when the profile asks for it.
pub fn body(target: &HttpTarget, text: &str) -> Vec<u8> {
    if !target.gzip {
        return text.as_bytes().to_vec();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    match gz.write_all(text.as_bytes()).and_then(|()| gz.finish()) {
        Ok(bytes) => bytes,
        Err(_) => text.as_bytes().to_vec(),
    }
}

/// Uploads `body` to `url` (the target's URL with its query), retrying as the profile says
/// until `deadline`. Returns the number of attempts made on success.
pub fn upload(
    target: &HttpTarget,
    url: &str,
    encoding: &Encoding,
    body: &[u8],
    deadline: Instant,
) -> Result<u32, UploadError> {
    check_url(&target.url)?;
    let agent = agent(target, url, deadline)?;
    let policy = RetryPolicy {
        min_wait_secs: target.retry_min_wait,
        multiplier_permille: target.retry_multiplier,
        max_wait_secs: 0,
    };
    let seed = u64::from(std::process::id()) ^ deadline.elapsed().as_nanos() as u64;
    let mut backoff = Backoff::new(policy, seed).limit_growth(10);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match send(&agent, target, url, encoding, body) {
            Ok(()) => return Ok(attempts),
            Err(e) => e,
        };
        let wait = backoff.next_delay();
        if !target.retry || matches!(error, UploadError::BadUrl(_)) {
            return Err(error);
        }
        if Instant::now() + wait >= deadline {
            return Err(error);
        }
        log::info!("bulk data: {error}; retry {} in {wait:?}", backoff.attempts());
        std::thread::sleep(wait);
    }
}

fn agent(target: &HttpTarget, url: &str, deadline: Instant) -> Result<ureq::Agent, UploadError> {
    let timeout = deadline.saturating_duration_since(Instant::now()).max(Duration::from_secs(1));
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout.min(Duration::from_secs(120))))
        .user_agent("uspagent");
    if url.starts_with("https://") {
        config = config.tls_config(tls_config(target.ca_file.as_deref())?);
    }
    Ok(config.build().into())
}

fn send(
    agent: &ureq::Agent,
    target: &HttpTarget,
    url: &str,
    encoding: &Encoding,
    body: &[u8],
) -> Result<(), UploadError> {
    let mut request = if target.put { agent.put(url) } else { agent.post(url) };
    request = request
        .header("Content-Type", encoding.content_type())
        .header("BBF-Report-Format", format!("\"{}\"", encoding.report_format()));
    if target.gzip {
        request = request.header("Content-Encoding", "gzip");
    }
    if target.date_header {
        request = request.header("Date", http_date(std::time::SystemTime::now()));
    }
    if !target.username.is_empty() {
        let token =
            usp_util::base64::encode(format!("{}:{}", target.username, target.password).as_bytes());
        request = request.header("Authorization", format!("Basic {token}"));
    }
    let response = request.send(body).map_err(|e| match e {
        ureq::Error::BadUri(u) => UploadError::BadUrl(u),
        e => UploadError::Connect(e.to_string()),
    })?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) { Ok(()) } else { Err(UploadError::Status(status)) }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110).
pub fn http_date(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let dt = usp_datamodel::value::DateTime::from_unix(secs).to_string();
    // dt is YYYY-MM-DDThh:mm:ssZ
    let (y, m, d) = (&dt[0..4], &dt[5..7], &dt[8..10]);
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            [m.parse::<usize>().unwrap_or(1).clamp(1, 12) - 1];
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        [(secs.div_euclid(86_400).rem_euclid(7)) as usize];
    format!("{weekday}, {d} {month} {y} {} GMT", &dt[11..19])
}

/// rustls with ring, trusting the CAs of `ca_file` or of the system bundle.
fn tls_config(ca_file: Option<&Path>) -> Result<TlsConfig, UploadError> {
    let candidates: Vec<&Path> = match ca_file {
        Some(f) => vec![f],
        None => crate::transfer::SYSTEM_BUNDLES.iter().map(Path::new).collect(),
    };
    let mut certs: Vec<Certificate<'static>> = Vec::new();
    for path in candidates {
        if let Ok(pem) = std::fs::read(path) {
            certs.extend(ureq::tls::parse_pem(&pem).filter_map(|item| match item {
                Ok(PemItem::Certificate(c)) => Some(c),
                _ => None,
            }));
            if !certs.is_empty() {
                break;
            }
        }
    }
    if certs.is_empty() {
        return Err(UploadError::NoTrustAnchors("no CA file holds a certificate".into()));
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::new_with_certs(&certs))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build())
}
