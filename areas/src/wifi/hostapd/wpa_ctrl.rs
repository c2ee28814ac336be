//! A client of hostapd's control interface: the `wpa_ctrl` protocol over UNIX datagram
//! sockets (hostapd's `src/common/wpa_ctrl.c`, server side `hostapd/ctrl_iface.c`).
//!
//! hostapd listens on one datagram socket per interface, `<ctrl_interface>/<ifname>`
//! (`/var/run/hostapd/wlan0`). A client binds a socket of its own (wpa_ctrl uses
//! `/tmp/wpa_ctrl_<pid>-<n>`; here `<tmp>/uspagent-wpa-<pid>-<n>`), sends one command per
//! datagram and reads one reply datagram: `OK\n`, `FAIL\n`, `UNKNOWN COMMAND\n`, or the
//! command's text (`STATUS`: `key=value` lines). After `ATTACH` the same client also receives
//! unsolicited events, `<level>TEXT` (`<3>AP-STA-CONNECTED 02:00:00:00:01:00`); while waiting
//! for a reply, datagrams starting with `<` are events and are skipped, as wpa_ctrl does.
//!
//! Owns: its bound socket file (removed on drop). Never does: parse replies (see `parse.rs`),
//! retry, or block longer than its timeout.

use std::fmt;
use std::io::ErrorKind;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// hostapd's reply buffer is 4096 bytes; a little more never hurts.
const MAX_REPLY: usize = 8192;

/// Why a control-interface exchange failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CtrlError {
    /// No hostapd listens at the path: the socket file is missing, or stale (left behind by a
    /// hostapd that exited: the connection is refused).
    NotListening(String),
    /// hostapd did not answer within the timeout.
    Timeout(String),
    /// hostapd refused the command (`FAIL`, `UNKNOWN COMMAND`).
    Refused(String),
    /// Any other socket error.
    Io(String),
}

impl fmt::Display for CtrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtrlError::NotListening(m) => write!(f, "no hostapd listens at {m}"),
            CtrlError::Timeout(m) => write!(f, "hostapd did not answer: {m}"),
            CtrlError::Refused(m) => write!(f, "hostapd refused {m}"),
            CtrlError::Io(m) => write!(f, "hostapd control socket: {m}"),
        }
    }
}

impl std::error::Error for CtrlError {}

/// A datagram from hostapd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// An unsolicited event, without its `<level>` prefix (`AP-STA-CONNECTED 02:..`).
    Event(String),
    /// A reply to a command.
    Reply(String),
}

/// One connected client socket.
#[derive(Debug)]
pub struct Ctrl {
    sock: UnixDatagram,
    local: PathBuf,
    server: PathBuf,
    timeout: Duration,
}

/// Numbers the client sockets of this process.
static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Ctrl {
    /// Binds a client socket and connects it to the hostapd socket `server`; every exchange
    /// waits at most `timeout`.
    pub fn open(server: &Path, timeout: Duration) -> Result<Ctrl, CtrlError> {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let local = std::env::temp_dir().join(format!("uspagent-wpa-{}-{n}", std::process::id()));
        let _ = std::fs::remove_file(&local);
        let sock = UnixDatagram::bind(&local).map_err(|e| io(&local, &e))?;
        let ctrl = Ctrl { sock, local, server: server.to_owned(), timeout };
        ctrl.sock.connect(server).map_err(|e| ctrl.error(&e))?;
        Ok(ctrl)
    }

    /// The hostapd socket this client talks to.
    pub fn server(&self) -> &Path {
        &self.server
    }

    /// Sends `cmd` and returns hostapd's reply (events arriving meanwhile are dropped);
    /// `FAIL` and `UNKNOWN COMMAND` are [`CtrlError::Refused`].
    pub fn request(&self, cmd: &str) -> Result<String, CtrlError> {
        self.sock.send(cmd.as_bytes()).map_err(|e| self.error(&e))?;
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = self
                .receive(left)?
                .ok_or_else(|| CtrlError::Timeout(format!("{cmd} to {}", self.server.display())))?;
            if reply.starts_with('<') {
                continue; // an event, not our reply
            }
            return match reply.as_str() {
                "FAIL\n" | "UNKNOWN COMMAND\n" => {
                    Err(CtrlError::Refused(format!("{cmd}: {}", reply.trim_end())))
                }
                _ => Ok(reply),
            };
        }
    }

    /// Sends `cmd` and expects `OK`.
    pub fn command(&self, cmd: &str) -> Result<(), CtrlError> {
        let reply = self.request(cmd)?;
        if reply.trim_end() == "OK" {
            Ok(())
        } else {
            Err(CtrlError::Refused(format!("{cmd}: unexpected reply {:?}", reply.trim_end())))
        }
    }

    /// Sends `cmd` without waiting for the reply (it comes through [`Ctrl::next`]).
    pub fn send(&self, cmd: &str) -> Result<(), CtrlError> {
        self.sock.send(cmd.as_bytes()).map(|_| ()).map_err(|e| self.error(&e))
    }

    /// The next datagram within `wait` (`None` when none came): an unsolicited event (after
    /// `ATTACH`; its `<level>` prefix removed) or a reply.
    pub fn next(&self, wait: Duration) -> Result<Option<Message>, CtrlError> {
        let Some(msg) = self.receive(wait)? else { return Ok(None) };
        let event = msg.strip_prefix('<').and_then(|m| m.split_once('>'));
        Ok(Some(match event {
            Some((_, text)) => Message::Event(text.trim_end().to_owned()),
            None => Message::Reply(msg),
        }))
    }

    /// One datagram within `wait` (`None` on timeout).
    fn receive(&self, wait: Duration) -> Result<Option<String>, CtrlError> {
        self.sock
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .map_err(|e| self.error(&e))?;
        let mut buf = vec![0u8; MAX_REPLY];
        match self.sock.recv(&mut buf) {
            Ok(n) => Ok(Some(String::from_utf8_lossy(&buf[..n]).into_owned())),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
            Err(e) => Err(self.error(&e)),
        }
    }

    fn error(&self, e: &std::io::Error) -> CtrlError {
        match e.kind() {
            ErrorKind::NotFound | ErrorKind::ConnectionRefused => {
                CtrlError::NotListening(self.server.display().to_string())
            }
            _ => io(&self.server, e),
        }
    }
}

fn io(path: &Path, e: &std::io::Error) -> CtrlError {
    CtrlError::Io(format!("{}: {e}", path.display()))
}

impl Drop for Ctrl {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.local);
    }
}
