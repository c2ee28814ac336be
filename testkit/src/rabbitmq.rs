//! A private RabbitMQ node with its STOMP plugin, for tests: Debian's `rabbitmq-server` run from
//! its scripts with every path and port private, so it never touches a system node.
//!
//! What it owns: a temporary directory (config file, enabled-plugins file, Mnesia and log
//! directories, `HOME` with its Erlang cookie), free 127.0.0.1 ports for AMQP, STOMP, STOMP over
//! TLS, Erlang distribution and its own `epmd` (`ERL_EPMD_PORT`), a unique node name, the user
//! and vhost (from the config file: `default_user` / `default_vhost`), and the processes it
//! starts. It stops them by PID on drop: the node runs in its own process group (the server
//! script, the Erlang VM and its helpers), which is signalled as a group; `epmd` is killed by
//! PID. A watchdog (`sh`, reading a pipe from this process) does the same if the test process
//! exits without dropping the guard (a `static` shared broker), so no node outlives its tests.
//!
//! Starting takes several seconds: share one broker per test binary ([`RabbitMq::shared`]) and
//! start private ones only for tests that restart them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::certs::TestPki;
use crate::free_port;

/// Where Debian installs the real server script (`/usr/sbin/rabbitmq-server` is a wrapper that
/// switches to the `rabbitmq` user and the system paths).
pub const SERVER_SCRIPT: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";
/// How long a start may take before the harness gives up.
pub const START_LIMIT: Duration = Duration::from_secs(120);
/// How long a graceful stop may take before the node is killed.
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// What to set up in the node.
#[derive(Clone, Debug)]
pub struct RabbitMqOptions {
    /// The user (full permissions on the vhost).
    pub user: String,
    /// Its password.
    pub password: String,
    /// The virtual host (the only one; STOMP's `host` header selects it).
    pub vhost: String,
    /// Also listen for STOMP over TLS, with a certificate from a fresh test CA.
    pub tls: bool,
}

impl Default for RabbitMqOptions {
    fn default() -> RabbitMqOptions {
        RabbitMqOptions {
            user: "usp-test".into(),
            password: "usp-secret".into(),
            vhost: "usp-vhost".into(),
            tls: true,
        }
    }
}

/// A running private RabbitMQ node (see the module documentation).
#[derive(Debug)]
pub struct RabbitMq {
    /// The STOMP port on 127.0.0.1.
    pub stomp_port: u16,
    /// The STOMP-over-TLS port on 127.0.0.1, when asked for.
    pub stomp_tls_port: Option<u16>,
    /// The AMQP port on 127.0.0.1.
    pub amqp_port: u16,
    /// The options it was started with.
    pub options: RabbitMqOptions,
    /// The test CA and server certificate, when TLS is on (`ca` is the trust anchor).
    pub certs: Option<TestPki>,
    /// How long the last start (or restart) took until STOMP accepted a login.
    pub startup: Duration,
    node_name: String,
    epmd_port: u16,
    dist_port: u16,
    node: Option<Child>,
    watchdog: Option<(Child, ChildStdin)>,
    epmd: Option<Child>,
    dir: tempfile::TempDir,
}

impl RabbitMq {
    /// One broker for the whole test binary (default options, TLS on), started on first use.
    pub fn shared() -> &'static RabbitMq {
        static SHARED: OnceLock<RabbitMq> = OnceLock::new();
        SHARED.get_or_init(|| RabbitMq::start(RabbitMqOptions::default()))
    }

    /// Starts a private node and waits (at most [`START_LIMIT`]) until STOMP accepts a login.
    /// Panics with a clear message when RabbitMQ is not installed or does not start.
    pub fn start(options: RabbitMqOptions) -> RabbitMq {
        for (path, package) in
            [(SERVER_SCRIPT, "rabbitmq-server"), ("/usr/bin/epmd", "erlang-base")]
        {
            assert!(
                Path::new(path).exists(),
                "{path} not found: RabbitMQ tests need the Debian package `{package}` \
                 (apt-get install rabbitmq-server; scripts/test.sh installs it)"
            );
        }
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
        let certs = options.tls.then(|| TestPki::generate("RabbitMQ test CA", "client"));
        let mut rabbit = RabbitMq {
            stomp_port: free_port(),
            stomp_tls_port: options.tls.then(free_port),
            amqp_port: free_port(),
            options,
            certs,
            startup: Duration::ZERO,
            node_name: format!("usp-test-{}-{n}@localhost", std::process::id()),
            epmd_port: free_port(),
            dist_port: free_port(),
            node: None,
            watchdog: None,
            epmd: None,
            dir,
        };
        rabbit.write_files();
        rabbit.start_epmd();
        rabbit.start_node();
        rabbit
    }

    /// Stops the node (gracefully, as an operator would) and starts it again on the same ports
    /// with the same data; returns when STOMP accepts a login again.
    pub fn restart(&mut self) {
        self.stop_node();
        self.start_node();
    }

    /// Stops the node only (clients see their connections closed); [`RabbitMq::start_node`]
    /// brings it back.
    pub fn stop_node(&mut self) {
        if let Some((mut dog, stdin)) = self.watchdog.take() {
            // Disarm: the watchdog must not signal a process group that no longer exists.
            let _ = kill(pid_of(&dog), Signal::SIGKILL);
            let _ = dog.wait();
            drop(stdin);
        }
        let Some(mut node) = self.node.take() else { return };
        // The server script traps TERM and stops the VM cleanly.
        let _ = kill(pid_of(&node), Signal::SIGTERM);
        if !wait_exit(&mut node, STOP_LIMIT) {
            let _ = killpg(pid_of(&node), Signal::SIGKILL);
            let _ = node.wait();
        }
    }

    /// Starts the node (after [`RabbitMq::stop_node`]); returns when STOMP accepts a login.
    pub fn start_node(&mut self) {
        if self.node.is_some() {
            return;
        }
        let started = Instant::now();
        let log = |name: &str| {
            std::fs::File::create(self.dir.path().join(name))
                .unwrap_or_else(|e| panic!("cannot create {name}: {e}"))
        };
        let mut cmd = Command::new(SERVER_SCRIPT);
        cmd.envs(self.env())
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log("node.out"))
            .stderr(log("node.err"))
            .process_group(0);
        let node = cmd.spawn().unwrap_or_else(|e| panic!("cannot run {SERVER_SCRIPT}: {e}"));
        self.watchdog = Some(watchdog(node.id(), self.epmd.as_ref().map(Child::id)));
        self.node = Some(node);
        self.wait_ready(started);
        self.startup = started.elapsed();
    }

    /// A line for logs: ports and start time.
    pub fn describe(&self) -> String {
        format!(
            "RabbitMQ node {} (STOMP {}, STOMP+TLS {:?}, AMQP {}), started in {:?}",
            self.node_name, self.stomp_port, self.stomp_tls_port, self.amqp_port, self.startup
        )
    }

    /// The node's main log file (for diagnosing a failed test).
    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("log").join(format!("{}.log", self.node_name))
    }

    fn env(&self) -> Vec<(String, String)> {
        let d = |name: &str| self.dir.path().join(name).display().to_string();
        let vars = [
            ("HOME", d("home")),
            ("RABBITMQ_CONF_ENV_FILE", d("rabbitmq-env.conf")),
            ("RABBITMQ_CONFIG_FILE", d("rabbitmq.conf")),
            ("RABBITMQ_ADVANCED_CONFIG_FILE", d("advanced.config")),
            ("RABBITMQ_ENABLED_PLUGINS_FILE", d("enabled_plugins")),
            ("RABBITMQ_MNESIA_BASE", d("mnesia")),
            ("RABBITMQ_LOG_BASE", d("log")),
            ("RABBITMQ_NODENAME", self.node_name.clone()),
            ("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1".into()),
            ("RABBITMQ_NODE_PORT", self.amqp_port.to_string()),
            ("RABBITMQ_DIST_PORT", self.dist_port.to_string()),
            ("ERL_EPMD_PORT", self.epmd_port.to_string()),
            ("ERL_EPMD_ADDRESS", "127.0.0.1".into()),
            (
                "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS",
                "-kernel inet_dist_use_interface {127,0,0,1}".into(),
            ),
        ];
        vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    fn write_files(&self) {
        let d = self.dir.path();
        let write = |name: &str, text: &str| {
            std::fs::write(d.join(name), text)
                .unwrap_or_else(|e| panic!("cannot write {name}: {e}"))
        };
        std::fs::create_dir_all(d.join("home")).unwrap_or_else(|e| panic!("mkdir home: {e}"));
        write("rabbitmq-env.conf", "");
        write("advanced.config", "[].\n");
        write("enabled_plugins", "[rabbitmq_stomp].\n");
        let o = &self.options;
        let mut conf = format!(
            "listeners.tcp.default = 127.0.0.1:{amqp}\n\
             stomp.listeners.tcp.1 = 127.0.0.1:{stomp}\n\
             default_user = {user}\n\
             default_pass = {pass}\n\
             default_vhost = {vhost}\n\
             default_permissions.configure = .*\n\
             default_permissions.read = .*\n\
             default_permissions.write = .*\n\
             loopback_users = none\n\
             log.console = false\n\
             log.file.level = info\n",
            amqp = self.amqp_port,
            stomp = self.stomp_port,
            user = o.user,
            pass = o.password,
            vhost = o.vhost,
        );
        if let (Some(port), Some(c)) = (self.stomp_tls_port, &self.certs) {
            conf.push_str(&format!(
                "stomp.listeners.ssl.1 = 127.0.0.1:{port}\n\
                 ssl_options.cacertfile = {}\n\
                 ssl_options.certfile = {}\n\
                 ssl_options.keyfile = {}\n\
                 ssl_options.verify = verify_none\n\
                 ssl_options.fail_if_no_peer_cert = false\n",
                c.ca.display(),
                c.server_cert.display(),
                c.server_key.display(),
            ));
        }
        write("rabbitmq.conf", &conf);
    }

    fn start_epmd(&mut self) {
        let mut cmd = Command::new("epmd");
        cmd.args(["-port", &self.epmd_port.to_string(), "-address", "127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let epmd = cmd.spawn().unwrap_or_else(|e| panic!("cannot run epmd (erlang-base): {e}"));
        self.epmd = Some(epmd);
        assert!(
            crate::wait_for_port(self.epmd_port, Duration::from_secs(10)),
            "epmd did not listen on port {}",
            self.epmd_port
        );
    }

    /// Waits until a STOMP login succeeds; panics with the node's output when the node dies
    /// or the limit passes.
    fn wait_ready(&mut self, started: Instant) {
        while started.elapsed() < START_LIMIT {
            if let Some(node) = self.node.as_mut() {
                if let Ok(Some(status)) = node.try_wait() {
                    panic!("RabbitMQ exited ({status}) while starting:\n{}", self.diagnostics());
                }
            }
            if stomp_login(self.stomp_port, &self.options) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("RabbitMQ STOMP not ready after {START_LIMIT:?}:\n{}", self.diagnostics());
    }

    fn diagnostics(&self) -> String {
        let tail = |p: PathBuf| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let start = text.len().saturating_sub(3000);
            format!("--- {} ---\n{}", p.display(), text.get(start..).unwrap_or(&text))
        };
        [
            tail(self.dir.path().join("node.out")),
            tail(self.dir.path().join("node.err")),
            tail(self.log_file()),
        ]
        .join("\n")
    }
}

impl Drop for RabbitMq {
    fn drop(&mut self) {
        self.stop_node();
        if let Some(mut epmd) = self.epmd.take() {
            let _ = kill(pid_of(&epmd), Signal::SIGKILL);
            let _ = epmd.wait();
        }
    }
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
}

/// Waits at most `limit` for `child` to exit.
fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A shell that kills process group `group` (and process `also`) once this process's end of
/// its stdin pipe closes (the test process exited without dropping a guard). The returned
/// `ChildStdin` must be kept as long as the watch should last.
fn watchdog(group: u32, also: Option<u32>) -> (Child, ChildStdin) {
    // `kill -KILL -N` signals group N (dash's kill takes no `--`). PIDs 0 and 1 would mean
    // "our own group" and "everything": never written.
    let targets: Vec<String> = std::iter::once(format!("-{group}"))
        .filter(|_| group > 1)
        .chain(also.filter(|&p| p > 1).map(|p| p.to_string()))
        .collect();
    let script = if targets.is_empty() {
        "read _ignored".to_owned()
    } else {
        format!("read _ignored; kill -KILL {}", targets.join(" "))
    };
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the watchdog shell: {e}"));
    let stdin = child.stdin.take().unwrap_or_else(|| panic!("watchdog without stdin"));
    (child, stdin)
}

/// One STOMP login attempt: `true` when the server answers CONNECTED.
fn stomp_login(port: u16, o: &RabbitMqOptions) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let frame = format!(
        "STOMP\naccept-version:1.2\nhost:{}\nlogin:{}\npasscode:{}\n\n\0",
        o.vhost, o.user, o.password
    );
    if s.write_all(frame.as_bytes()).is_err() {
        return false;
    }
    let mut answer = [0u8; 16];
    let mut got = 0;
    while got < answer.len() {
        match s.read(&mut answer[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
        if answer[..got].starts_with(b"CONNECTED") {
            let _ = s.write_all(b"DISCONNECT\n\n\0");
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_kills_its_group_and_process_when_the_pipe_closes() {
        let spawn_sleep =
            || Command::new("sleep").arg("30").process_group(0).spawn().expect("sleep runs");
        let (mut group, mut single) = (spawn_sleep(), spawn_sleep());
        let (mut dog, stdin) = watchdog(group.id(), Some(single.id()));
        assert!(!wait_exit(&mut group, Duration::from_millis(200)), "armed, not fired");
        drop(stdin);
        assert!(wait_exit(&mut dog, Duration::from_secs(10)));
        assert!(wait_exit(&mut group, Duration::from_secs(10)), "the group was killed");
        assert!(wait_exit(&mut single, Duration::from_secs(10)), "the process was killed");
    }

    #[test]
    fn a_private_node_starts_restarts_and_leaves_nothing_behind() {
        let mut rabbit = RabbitMq::start(RabbitMqOptions { tls: false, ..Default::default() });
        eprintln!("{}", rabbit.describe());
        assert!(stomp_login(rabbit.stomp_port, &rabbit.options));
        let wrong = RabbitMqOptions { password: "wrong".into(), ..rabbit.options.clone() };
        assert!(!stomp_login(rabbit.stomp_port, &wrong), "a wrong password is refused");
        let first_start = rabbit.startup;
        let stopped = Instant::now();
        rabbit.stop_node();
        eprintln!("graceful stop took {:?}", stopped.elapsed());
        assert!(!stomp_login(rabbit.stomp_port, &rabbit.options), "stopped means stopped");
        rabbit.start_node();
        eprintln!("first start {first_start:?}, restart {:?}", rabbit.startup);
        assert!(stomp_login(rabbit.stomp_port, &rabbit.options));
        let (stomp, epmd) = (rabbit.stomp_port, rabbit.epmd_port);
        drop(rabbit);
        assert!(TcpStream::connect(("127.0.0.1", stomp)).is_err(), "the node is gone");
        assert!(TcpStream::connect(("127.0.0.1", epmd)).is_err(), "its epmd is gone");
    }
}
