//! ubus through OpenWrt's `ubus` program: `ubus -s SOCKET -t SECS call OBJECT METHOD JSON`, the
//! reply read as JSON; `ubus subscribe` for objects' notifications (hostapd's station events).
//!
//! Why the program and not ubusd's binary protocol spoken natively: the program is on every
//! OpenWrt system, speaks blobmsg exactly as libubus does (type tags, padding, the
//! object-lookup handshake), and costs this agent no code to keep in step with ubusd. The price
//! is one short process per call (a few milliseconds of CPU on a router); the Wi-Fi backend
//! makes one call per object (never per parameter) and only from its worker thread, and the
//! benchmark (`cargo run --example bench_wifi`) prints the count. [`Ubus::calls`] counts them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value as Json;

use super::OsError;

/// The `ubus` program, the socket and a call timeout.
#[derive(Clone, Debug)]
pub struct Ubus {
    /// The program (`ubus`, found through `PATH`, on a router).
    pub program: PathBuf,
    /// `-s`: ubusd's socket; `None`: the program's default.
    pub socket: Option<PathBuf>,
    /// `-t`: seconds before a call gives up.
    pub timeout_secs: u32,
    calls: Arc<AtomicU64>,
}

impl Ubus {
    /// The program at `program` talking to `socket`, with a 5-second timeout.
    pub fn new(program: impl Into<PathBuf>, socket: Option<PathBuf>) -> Ubus {
        Ubus { program: program.into(), socket, timeout_secs: 5, calls: Arc::default() }
    }

    /// How many calls were made so far (clones share the count).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The program with the socket and, for calls, the timeout (`ubus subscribe` would end
    /// after it).
    fn command(&self, timed: bool) -> Command {
        let mut c = Command::new(&self.program);
        if let Some(s) = &self.socket {
            c.arg("-s").arg(s);
        }
        if timed {
            c.arg("-t").arg(self.timeout_secs.to_string());
        }
        c.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        c
    }

    /// Calls `object`'s `method` with `args`; the reply object (`{}` when the method replies
    /// nothing).
    pub fn call(&self, object: &str, method: &str, args: &Json) -> Result<Json, OsError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let out = self.command(true).args(["call", object, method, &args.to_string()]).output();
        let out = out.map_err(|e| OsError::Spawn(format!("{}: {e}", self.program.display())))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            return Err(OsError::Failed(format!("ubus call {object} {method}: {why}")));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Ok(Json::Object(Default::default()));
        }
        serde_json::from_str(&text)
            .map_err(|e| OsError::Malformed(format!("ubus call {object} {method}: {e}")))
    }

    /// Starts `ubus subscribe` on `objects` (without a timeout: it runs until dropped or until
    /// ubusd goes); each notification is JSON on the child's stdout, read by
    /// [`Subscription::next_notification`]. If the agent dies without dropping it, the program
    /// ends at the next notification (its stdout is gone).
    pub fn subscribe(&self, objects: &[String]) -> Result<Subscription, OsError> {
        let mut c = self.command(false);
        c.arg("subscribe").args(objects);
        let mut child =
            c.spawn().map_err(|e| OsError::Spawn(format!("{}: {e}", self.program.display())))?;
        let out = child
            .stdout
            .take()
            .ok_or_else(|| OsError::Failed("ubus subscribe: no stdout".into()))?;
        Ok(Subscription { child, lines: BufReader::new(out) })
    }
}

/// A running `ubus subscribe`; dropping it ends the program.
#[derive(Debug)]
pub struct Subscription {
    child: Child,
    lines: BufReader<std::process::ChildStdout>,
}

impl Subscription {
    /// The next notification (`{ "assoc": { "address": ... } }`), `None` once the program
    /// ended. Lines that are not JSON (the CLI's own messages) are skipped; a notification may
    /// span several lines (pretty-printed), so lines are gathered until they parse.
    pub fn next_notification(&mut self) -> Option<Json> {
        let mut buf = String::new();
        for _ in 0..1000 {
            let mut line = String::new();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            buf.push_str(&line);
            if let Ok(v) = serde_json::from_str::<Json>(&buf) {
                return Some(v);
            }
            if !buf.trim_start().starts_with('{') {
                buf.clear();
            }
        }
        None
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::openwrt::testbed::{Spec, Testbed};

    #[test]
    fn a_subscription_outlives_the_call_timeout_and_hears_hostapd() {
        let dir = tempfile::tempdir().unwrap();
        let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
        let mut ubus = bed.ubus();
        ubus.timeout_secs = 1;
        let mut sub = ubus.subscribe(&["hostapd.wlan0".to_owned()]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        bed.join("wlan0", "aa:bb:cc:00:00:07");
        let note = sub.next_notification().expect("a notification");
        assert_eq!(note["assoc"]["address"], "aa:bb:cc:00:00:07", "{note}");
        let e = ubus.call("hostapd.wlan9", "get_clients", &Json::Null).unwrap_err();
        assert!(e.to_string().contains("hostapd.wlan9"), "{e}");
    }
}
