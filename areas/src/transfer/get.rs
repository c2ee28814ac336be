//! [`download`]: a GET streamed to a file, resumed with `Range` requests when cut short and
//! the server allows it.
//!
//! Never does: hold the file in memory, or retry anything but a body cut short.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use super::{Fetch, TransferError, agent_for, call_with_auth, check_size, read_error};

/// How many times a transfer cut short is resumed with a `Range` request (when the server
/// accepts byte ranges), within the one [`Fetch::timeout`].
pub const MAX_RESUMES: u32 = 3;

/// Downloads `fetch` into `dest` (created or truncated), calling `on_chunk` with every chunk
/// written and the total so far. A body cut short is resumed from where it stopped (`Range:
/// bytes=N-`, at most [`MAX_RESUMES`] times) when the server says `Accept-Ranges: bytes`; the
/// chunks continue where they stopped, so a checksum computed over them stays right. Returns
/// the size received. Blocking.
pub fn download(
    fetch: &Fetch,
    dest: &Path,
    on_chunk: &mut dyn FnMut(&[u8], u64),
) -> Result<u64, TransferError> {
    let started = std::time::Instant::now();
    let mut file = File::create(dest).map_err(TransferError::Write)?;
    let mut total: u64 = 0;
    let mut resumes = 0;
    loop {
        let remaining = fetch.timeout.checked_sub(started.elapsed());
        let remaining = remaining.filter(|r| !r.is_zero()).ok_or(TransferError::TimedOut)?;
        let attempt = Fetch { timeout: remaining, ..fetch.clone() };
        match get_part(&attempt, &mut file, &mut total, on_chunk) {
            Ok(()) => break,
            Err(Part { error, resumable: true }) if resumes < MAX_RESUMES && total > 0 => {
                resumes += 1;
                log::info!("transfer: {} cut after {total} bytes ({error}); resuming", fetch.url);
            }
            Err(part) => return Err(part.error),
        }
    }
    file.sync_all().map_err(TransferError::Write)?;
    if let Some(expected) = fetch.expected_size.filter(|e| *e != total) {
        return Err(TransferError::SizeMismatch { expected, got: total });
    }
    Ok(total)
}

/// Why one request of a download ended early, and whether asking for the rest may help.
struct Part {
    error: TransferError,
    resumable: bool,
}

impl From<TransferError> for Part {
    fn from(error: TransferError) -> Part {
        Part { error, resumable: false }
    }
}

/// One GET of the download: the whole file when `total` is 0, else the rest from `total`
/// (206 with a matching `Content-Range` required), appended to `file`.
fn get_part(
    fetch: &Fetch,
    file: &mut File,
    total: &mut u64,
    on_chunk: &mut dyn FnMut(&[u8], u64),
) -> Result<(), Part> {
    let agent = agent_for(fetch)?;
    let from = *total;
    let response = call_with_auth(fetch, "GET", &mut |url, auth| {
        let mut request = agent.get(url);
        if let Some(auth) = auth {
            request = request.header("Authorization", auth);
        }
        if from > 0 {
            request = request.header("Range", format!("bytes={from}-"));
        }
        request.call()
    })?;
    let status = response.status().as_u16();
    let header =
        |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let ranges = status == 206 || header("accept-ranges").is_some_and(|v| v.trim() == "bytes");
    match status {
        200 if from == 0 => {}
        206 if from > 0 && range_start(header("content-range").as_deref()) == Some(from) => {}
        401 | 403 => return Err(TransferError::Auth(status).into()),
        _ => return Err(TransferError::Status(status).into()),
    }
    let body = response.into_body();
    if from == 0 {
        if let Some(announced) = body.content_length() {
            check_size(fetch, announced)?;
        }
        if let Some(p) = &fetch.progress {
            let size = body.content_length().or(fetch.expected_size).unwrap_or(0);
            p.total.store(size, Ordering::Relaxed);
            p.received.store(0, Ordering::Relaxed);
        }
    }
    let mut reader = body.into_reader();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let error = read_error(e, *total);
                let resumable = ranges && matches!(error, TransferError::Truncated { .. });
                return Err(Part { error, resumable });
            }
        };
        if fetch.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(TransferError::Canceled.into());
        }
        *total += n as u64;
        if *total > fetch.max_size {
            return Err(TransferError::TooLarge { limit: fetch.max_size }.into());
        }
        let chunk = buf.get(..n).unwrap_or_default();
        file.write_all(chunk).map_err(TransferError::Write)?;
        if let Some(p) = &fetch.progress {
            p.received.store(*total, Ordering::Relaxed);
        }
        on_chunk(chunk, *total);
    }
}

/// The first byte of a `Content-Range: bytes FIRST-LAST/SIZE` value.
fn range_start(value: Option<&str>) -> Option<u64> {
    let spec = value?.trim().strip_prefix("bytes ")?;
    spec.split('-').next()?.trim().parse().ok()
}
