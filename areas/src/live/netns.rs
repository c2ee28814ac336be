//! Test support: a private network namespace made by the test (`ip netns add`), commands run
//! in it (`ip -n NAME ...`), code run on a thread that entered it, and its removal on drop.
//! Where namespaces cannot be made (not root, no `ip`), [`Netns::create_or_skip`] records
//! `skipped: ...` in `target/test-skips.txt` and the test returns.
//!
//! Never does: touch the test machine's own namespace (every address lives in the private one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use nix::sched::{CloneFlags, setns};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network namespace deleted on drop.
#[derive(Debug)]
pub struct Netns {
    /// Its name under `/run/netns`.
    pub name: String,
}

/// Prints `skipped: ...` and appends it, with the test's name, to `target/test-skips.txt`.
pub fn record_skip(why: &str) {
    println!("skipped: {why}");
    let name = std::thread::current().name().unwrap_or("?").to_owned();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-skips.txt");
    let line = format!("skipped: {name}: {why}\n");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(file) {
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}

impl Netns {
    /// Makes a fresh namespace with its loopback up, or records why it cannot.
    pub fn create_or_skip() -> Option<Netns> {
        let name =
            format!("uspdiag-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                record_skip(&format!(
                    "ip netns add: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
                return None;
            }
            Err(e) => {
                record_skip(&format!("ip netns add: {e}"));
                return None;
            }
        }
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        Some(ns)
    }

    /// Runs `ip -n NAME args...`, panicking with its error output if it fails.
    pub fn ip(&self, args: &[&str]) {
        let o = Command::new("ip").arg("-n").arg(&self.name).args(args).output().expect("ip");
        assert!(o.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// Runs `f` on a thread that entered the namespace (netlink, sockets and `/proc/sys/net`
    /// opened there are the namespace's) and returns its result.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let fd = File::open(&path).expect("namespace file");
            setns(fd, CloneFlags::CLONE_NEWNET).expect("setns");
            f()
        })
        .join()
        .expect("namespace thread")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.name]).output();
    }
}
