//! The local CLI: `uspagent -c get Device.DeviceInfo.` talks to the running daemon over a Unix
//! socket (obuspa's `/tmp/usp_cli` by default) that only root can use (mode 0600).
//!
//! Wire format, one exchange per connection: the client writes a 4-byte big-endian length and the
//! command's words joined by NUL bytes (argv cannot contain NUL); the server answers one status
//! byte ([`STATUS_OK`], [`STATUS_FAILED`], [`STATUS_USAGE`]) and the text of the answer, then
//! closes. Requests are bounded ([`MAX_REQUEST`]) and the socket has read/write timeouts, so a
//! stuck or hostile client cannot stall the agent.
//!
//! The server thread never touches the data model: it passes a [`CliRequest`] to the owner
//! thread and waits (bounded) for the [`CliReply`].

pub mod commands;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

/// The answer succeeded.
pub const STATUS_OK: u8 = 0;
/// The agent answered with a USP error (or a partial failure).
pub const STATUS_FAILED: u8 = 1;
/// The command itself was malformed.
pub const STATUS_USAGE: u8 = 2;
/// The largest request accepted, in bytes.
pub const MAX_REQUEST: usize = 1 << 20;
/// How long the server waits for the owner thread, and the client for the server.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A command for the owner thread.
#[derive(Debug)]
pub struct CliRequest {
    /// The words after `-c`.
    pub words: Vec<String>,
    /// Where the owner sends the answer.
    pub reply: Sender<CliReply>,
}

/// The owner's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CliReply {
    /// One of the `STATUS_` values.
    pub status: u8,
    /// The text to print.
    pub text: String,
}

/// Why the CLI socket could not be served or reached.
#[derive(Debug)]
pub enum CliError {
    /// Another agent answers on this socket already.
    InUse(PathBuf),
    /// The socket could not be created, bound or connected.
    Io(PathBuf, std::io::Error),
    /// The agent's answer was not in the expected form.
    BadAnswer,
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::InUse(p) => write!(f, "another uspagent is running on {}", p.display()),
            CliError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            CliError::BadAnswer => f.write_str("the agent's answer was malformed"),
        }
    }
}

impl std::error::Error for CliError {}

/// Binds the CLI socket (refusing when another agent answers on it, replacing a stale one) and
/// serves it on a thread. Requests go to `to_owner`, converted with `From`.
pub fn serve<T: From<CliRequest> + Send + 'static>(
    path: &Path,
    to_owner: Sender<T>,
) -> Result<(), CliError> {
    let listener = bind(path)?;
    let spawned = std::thread::Builder::new().name("cli".into()).spawn(move || {
        for conn in listener.incoming() {
            match conn {
                Ok(conn) => match serve_one(conn, &to_owner) {
                    Ok(()) => {}
                    // A connection closed without a request (e.g. a liveness probe).
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
                    Err(e) => log::warn!("local CLI: {e}"),
                },
                Err(e) => log::warn!("local CLI: accept failed: {e}"),
            }
        }
    });
    spawned.map(|_| ()).map_err(|e| CliError::Io(path.to_owned(), e))
}

fn bind(path: &Path) -> Result<UnixListener, CliError> {
    let io = |e| CliError::Io(path.to_owned(), e);
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(CliError::InUse(path.to_owned()));
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

fn serve_one<T: From<CliRequest>>(
    mut conn: UnixStream,
    to_owner: &Sender<T>,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    conn.set_write_timeout(Some(Duration::from_secs(5)))?;
    let reply = match read_request(&mut conn)? {
        Err(text) => CliReply { status: STATUS_USAGE, text },
        Ok(words) => {
            let (tx, rx) = mpsc::channel();
            if to_owner.send(T::from(CliRequest { words, reply: tx })).is_err() {
                return Ok(()); // shutting down
            }
            rx.recv_timeout(REPLY_TIMEOUT).unwrap_or(CliReply {
                status: STATUS_FAILED,
                text: "the agent did not answer in time\n".into(),
            })
        }
    };
    conn.write_all(&[reply.status])?;
    conn.write_all(reply.text.as_bytes())
}

/// Reads one request: `Ok(Err(reason))` when it is malformed.
fn read_request(conn: &mut UnixStream) -> std::io::Result<Result<Vec<String>, String>> {
    let mut len = [0u8; 4];
    conn.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_REQUEST {
        return Ok(Err(format!("request of {len} bytes refused (at most {MAX_REQUEST})\n")));
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)?;
    let Ok(text) = String::from_utf8(body) else {
        return Ok(Err("the request is not UTF-8\n".into()));
    };
    Ok(Ok(text.split('\0').map(str::to_owned).collect()))
}

/// The client side (`uspagent -c ...`): sends `words`, returns the status byte and the text.
pub fn call(path: &Path, words: &[String]) -> Result<(u8, String), CliError> {
    let io = |e| CliError::Io(path.to_owned(), e);
    let mut conn = UnixStream::connect(path).map_err(io)?;
    conn.set_read_timeout(Some(REPLY_TIMEOUT + Duration::from_secs(5))).map_err(io)?;
    let body = words.join("\0");
    let len = u32::try_from(body.len()).map_err(|_| CliError::BadAnswer)?;
    conn.write_all(&len.to_be_bytes()).map_err(io)?;
    conn.write_all(body.as_bytes()).map_err(io)?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).map_err(io)?;
    let (status, text) = answer.split_first().ok_or(CliError::BadAnswer)?;
    Ok((*status, String::from_utf8_lossy(text).into_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// An owner that echoes the words back, failing on "fail".
    fn echo_owner(rx: mpsc::Receiver<CliRequest>) {
        std::thread::spawn(move || {
            for r in rx {
                let status = if r.words[0] == "fail" { STATUS_FAILED } else { STATUS_OK };
                let _ = r.reply.send(CliReply { status, text: r.words.join("|") });
            }
        });
    }

    #[test]
    fn a_request_goes_to_the_owner_and_back() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("cli");
        let (tx, rx) = mpsc::channel::<CliRequest>();
        serve(&sock, tx).unwrap();
        echo_owner(rx);
        let words: Vec<String> = ["set", "Device.X", "a b\nc"].map(String::from).to_vec();
        assert_eq!(call(&sock, &words).unwrap(), (STATUS_OK, "set|Device.X|a b\nc".into()));
        assert_eq!(call(&sock, &["fail".into()]).unwrap().0, STATUS_FAILED);
        let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_second_agent_is_refused_and_a_stale_socket_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("cli");
        let (tx, rx) = mpsc::channel::<CliRequest>();
        serve(&sock, tx.clone()).unwrap();
        echo_owner(rx);
        assert!(matches!(serve(&sock, tx), Err(CliError::InUse(_))));
        let stale = dir.path().join("stale");
        drop(UnixListener::bind(&stale).unwrap());
        let (tx, _rx) = mpsc::channel::<CliRequest>();
        serve(&stale, tx).unwrap();
    }

    #[test]
    fn oversized_and_truncated_requests_do_not_reach_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("cli");
        let (tx, rx) = mpsc::channel::<CliRequest>();
        serve(&sock, tx).unwrap();
        let mut c = UnixStream::connect(&sock).unwrap();
        c.write_all(&u32::MAX.to_be_bytes()).unwrap();
        let mut answer = Vec::new();
        c.read_to_end(&mut answer).unwrap();
        assert_eq!(answer[0], STATUS_USAGE);
        let mut c = UnixStream::connect(&sock).unwrap();
        c.write_all(&[0, 0]).unwrap();
        drop(c);
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        assert!(matches!(call(&dir.path().join("none"), &[]), Err(CliError::Io(..))));
    }
}
