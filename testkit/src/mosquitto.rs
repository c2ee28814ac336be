//! A private Mosquitto broker for tests: its own configuration and log in a temporary
//! directory, listeners on free 127.0.0.1 ports (plain, and TLS when asked), persistence off,
//! anonymous access or a password file. Killed by PID when the guard drops.
//!
//! Never touches a system broker (Debian's `mosquitto` service on port 1883 is left alone: the
//! ports here are free ones). Panics with a clear message when the `mosquitto` program is
//! missing (apt package `mosquitto`; `scripts/test.sh` installs it).

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, wait_for_port};

/// How long a broker may take to open its port.
const START_LIMIT: Duration = Duration::from_secs(10);

/// What mosquitto logs once its listeners are open.
const RUNNING: &str = " running";

/// What the broker offers.
#[derive(Clone, Debug, Default)]
pub struct MosquittoOpts {
    /// Users and passwords; when any is given, anonymous clients are refused.
    pub users: Vec<(String, String)>,
    /// A TLS listener besides the plain one.
    pub tls: Option<MosquittoTls>,
    /// Extra configuration lines, appended as they are.
    pub extra: String,
}

/// The TLS listener's files.
#[derive(Clone, Debug)]
pub struct MosquittoTls {
    /// The CA that signs client certificates (and that clients trust).
    pub ca: PathBuf,
    /// The server certificate.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
    /// Refuse clients without a certificate signed by `ca`.
    pub require_certificate: bool,
}

impl From<&crate::certs::TestPki> for MosquittoTls {
    fn from(pki: &crate::certs::TestPki) -> MosquittoTls {
        MosquittoTls {
            ca: pki.ca.clone(),
            cert: pki.server_cert.clone(),
            key: pki.server_key.clone(),
            require_certificate: false,
        }
    }
}

/// A running private broker (see the module documentation).
#[derive(Debug)]
pub struct Mosquitto {
    dir: tempfile::TempDir,
    binary: PathBuf,
    port: u16,
    tls_port: Option<u16>,
    child: Option<Child>,
}

impl Mosquitto {
    /// Writes the configuration and starts the broker; returns once its plain port accepts
    /// connections. Panics when `mosquitto` is missing or does not start (with its log).
    pub fn start(opts: MosquittoOpts) -> Mosquitto {
        let binary = find_binary("mosquitto").unwrap_or_else(|| {
            panic!(
                "the `mosquitto` broker is not installed: install the apt package `mosquitto` \
                 (apt-get install -y mosquitto) or run scripts/test.sh, which does"
            )
        });
        let dir = tempfile::tempdir().expect("temporary directory for mosquitto");
        let port = free_port();
        let tls_port = opts.tls.as_ref().map(|_| {
            loop {
                let p = free_port();
                if p != port {
                    break p;
                }
            }
        });
        let config = config(dir.path(), &opts, port, tls_port);
        std::fs::write(dir.path().join("mosquitto.conf"), config).expect("writing mosquitto.conf");
        let mut m = Mosquitto { dir, binary, port, tls_port, child: None };
        m.launch();
        m
    }

    /// The plain MQTT port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS port on 127.0.0.1. Panics when the broker was started without TLS.
    pub fn tls_port(&self) -> u16 {
        self.tls_port.expect("this broker was started without a TLS listener")
    }

    /// The broker's log so far (`log_type all`: connections, packets, disconnections).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// Kills the broker (SIGKILL: a crash, no goodbye to clients) and reaps it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the broker if running, then starts it again with the same configuration and ports.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    fn launch(&mut self) {
        let log_path = self.dir.path().join("mosquitto.log");
        let runs_before = self.log().matches(RUNNING).count();
        let log = OpenOptions::new().create(true).append(true).open(&log_path);
        let log: File = log.expect("opening the mosquitto log");
        let err = log.try_clone().expect("cloning the log handle");
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary.display()));
        self.child = Some(child);
        // Ready when this process logged that it runs (all listeners open) and the port answers;
        // a port taken by someone else makes mosquitto exit, which is reported.
        let end = Instant::now() + START_LIMIT;
        loop {
            let exited = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            let running = self.log().matches(RUNNING).count() > runs_before;
            if exited.is_none() && running && wait_for_port(self.port, Duration::from_secs(1)) {
                return;
            }
            if exited.is_some() || Instant::now() >= end {
                self.stop();
                panic!(
                    "mosquitto did not start on port {} (exit: {exited:?}); log:\n{}",
                    self.port,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The configuration file's text.
fn config(dir: &Path, opts: &MosquittoOpts, port: u16, tls_port: Option<u16>) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "per_listener_settings false");
    let _ = writeln!(c, "persistence false");
    let _ = writeln!(c, "log_dest stderr");
    let _ = writeln!(c, "log_type all");
    let _ = writeln!(c, "connection_messages true");
    if running_as_root() {
        // Otherwise mosquitto switches to user `mosquitto`, which cannot read this directory.
        let _ = writeln!(c, "user root");
    }
    if opts.users.is_empty() {
        let _ = writeln!(c, "allow_anonymous true");
    } else {
        let _ = writeln!(c, "allow_anonymous false");
        let _ = writeln!(c, "password_file {}", password_file(dir, &opts.users).display());
    }
    let _ = writeln!(c, "listener {port} 127.0.0.1");
    if let (Some(tls), Some(tls_port)) = (&opts.tls, tls_port) {
        let _ = writeln!(c, "listener {tls_port} 127.0.0.1");
        let _ = writeln!(c, "cafile {}", tls.ca.display());
        let _ = writeln!(c, "certfile {}", tls.cert.display());
        let _ = writeln!(c, "keyfile {}", tls.key.display());
        let _ = writeln!(c, "require_certificate {}", tls.require_certificate);
    }
    c.push_str(&opts.extra);
    c.push('\n');
    c
}

/// Writes a password file with `mosquitto_passwd` (mosquitto wants hashed passwords).
fn password_file(dir: &Path, users: &[(String, String)]) -> PathBuf {
    let tool = find_binary("mosquitto_passwd")
        .expect("mosquitto_passwd is missing (it comes with the apt package `mosquitto`)");
    let path = dir.join("passwords");
    for (i, (user, pass)) in users.iter().enumerate() {
        let mut cmd = Command::new(&tool);
        if i == 0 {
            cmd.arg("-c");
        }
        let status = cmd
            .arg("-b")
            .arg(&path)
            .arg(user)
            .arg(pass)
            .stdout(Stdio::null())
            .status()
            .expect("running mosquitto_passwd");
        assert!(status.success(), "mosquitto_passwd failed for user {user:?}");
    }
    path
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// Looks for `name` in `PATH` and in the sbin directories Debian installs brokers into.
fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configuration_names_ports_users_and_tls() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tls = MosquittoTls {
            ca: "/x/ca.pem".into(),
            cert: "/x/s.pem".into(),
            key: "/x/s.key".into(),
            require_certificate: true,
        };
        let opts = MosquittoOpts {
            tls: Some(tls),
            extra: "max_keepalive 60".into(),
            ..Default::default()
        };
        let c = config(dir.path(), &opts, 1234, Some(5678));
        assert!(c.contains("listener 1234 127.0.0.1\n"));
        assert!(c.contains("listener 5678 127.0.0.1\ncafile /x/ca.pem\n"));
        assert!(c.contains("require_certificate true"));
        assert!(c.contains("allow_anonymous true"));
        assert!(c.contains("persistence false"));
        assert!(c.ends_with("max_keepalive 60\n"));
    }

    #[test]
    fn starts_restarts_and_stops_a_private_broker() {
        let mut m = Mosquitto::start(MosquittoOpts::default());
        let port = m.port();
        assert_ne!(port, 1883);
        assert!(wait_for_port(port, Duration::from_secs(1)));
        m.stop();
        assert!(!wait_for_port(port, Duration::from_millis(200)));
        m.restart();
        assert!(wait_for_port(port, Duration::from_secs(1)));
        assert!(m.log().contains("running"), "{}", m.log());
    }
}
