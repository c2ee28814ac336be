//! The `uspagent` daemon: the threads and channels around the sans-IO [`Core`].
//!
//! One thread (the caller of [`run`]) owns the data model and the core. Every other thread —
//! one per MTP link, the local CLI server, the signal waiter — only sends [`Input`]s into one
//! channel; the owner sleeps on it until the next input or the core's next timer
//! ([`Core::poll_timeout`]), handles it to completion, and hands the Records to send to the
//! links. There is no lock around the data model and no async code.
//!
//! Never does: USP semantics (the core's), framing or reconnection (the links', in
//! `usp-mtp`), or data-model logic (the engine's).

pub mod cli;
pub mod identity;
mod inbound;
pub mod logging;
mod mdns;
pub mod options;
mod owner;
pub mod panic;
pub mod signals;
mod transports;

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use usp_areas::{Host, Platform};
use usp_datamodel::plugin::{Now, Wake};
use usp_datamodel::value::DateTime;

use cli::{CliReply, CliRequest};
use options::Options;
use signals::Stop;
use usp_core::Core;

/// What the owner thread waits for.
#[derive(Debug)]
pub enum Input {
    /// An event of an MTP link.
    Mtp(usp_mtp::MtpEvent),
    /// A local CLI command.
    Cli(CliRequest),
    /// A signal.
    Signal(Stop),
    /// A backend worker has results for its plugin (see [`usp_areas::worker`]).
    Wake,
}

/// The data model's [`Wake`]: puts one [`Input::Wake`] in the owner's channel, however many
/// workers wake it before the owner gets to it.
struct OwnerWake {
    tx: mpsc::Sender<Input>,
    pending: AtomicBool,
}

impl Wake for OwnerWake {
    fn wake(&self) {
        if !self.pending.swap(true, Ordering::AcqRel) {
            let _ = self.tx.send(Input::Wake);
        }
    }
}

impl From<CliRequest> for Input {
    fn from(r: CliRequest) -> Input {
        Input::Cli(r)
    }
}

/// The daemon's clock: uptime from a monotonic start, wall time from the system clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn start() -> Clock {
        Clock { start: Instant::now() }
    }

    /// The current time as the core takes it.
    pub fn now(&self) -> Now {
        Now { uptime: self.start.elapsed(), wall: self.wall() }
    }

    /// The current wall-clock time.
    pub fn wall(&self) -> DateTime {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        DateTime { secs, micros: since.subsec_micros() }
    }
}

/// How the daemon ended, for the exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// A clean shutdown (signal or `stop`).
    Stopped,
    /// A Reboot(): the process re-executes itself (or runs the reboot command).
    Restart,
    /// A FactoryReset(): the configuration was reset to the defaults file; then as Restart.
    FactoryReset,
}

/// Runs the agent until a signal or a `stop` command. Errors are start-up failures, already
/// worded for the user.
pub fn run(opts: &Options) -> Result<Exit, String> {
    let blocked = signals::block().map_err(|e| format!("cannot block signals: {e}"))?;
    let clock = Clock::start();
    let mut opts = opts.clone();
    if opts.endpoint_id.is_none() {
        if let Some(file) = &opts.reset_file {
            opts.endpoint_id = crate::startup::endpoint_id_in(file).map_err(|e| e.to_string())?;
        }
    }
    let opts = &opts;
    let identity = identity::identity(opts, Path::new("/sys/class/net"));
    let platform = opts.platform.unwrap_or_else(|| Platform::detect(Path::new("/")));
    log::info!(
        "uspagent {} starting as {} on the {platform} platform",
        env!("CARGO_PKG_VERSION"),
        identity.endpoint_id
    );
    let (tx, rx) = mpsc::channel::<Input>();
    let waker = Arc::new(OwnerWake { tx: tx.clone(), pending: AtomicBool::new(false) });
    let state_dir =
        opts.db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let state_dir = state_dir.to_path_buf();
    let mut host = Host::new(identity.clone(), platform, state_dir);
    host.waker = waker.clone();
    if let Some(dir) = &opts.uci_dir {
        host.paths.uci_dir = dir.clone();
    }
    if let Some(socket) = &opts.ubus_socket {
        host.paths.ubus_socket = Some(socket.clone());
    }
    if let Some(dir) = &opts.hostapd_dir {
        host.paths.hostapd_dir = dir.clone();
    }
    if let Some(dir) = &opts.hostapd_conf {
        host.paths.hostapd_conf_dir = dir.clone();
    }
    if let Some(dir) = &opts.wpa_supplicant_dir {
        host.paths.wpa_supplicant_dir = dir.clone();
    }
    if let Some(leases) = &opts.dhcp_leases {
        host.paths.dhcp_leases = leases.clone();
    }
    if let Some(uci) = &opts.programs.0 {
        host.paths.uci_program = uci.clone();
    }
    if let Some(ubus) = &opts.programs.1 {
        host.paths.ubus_program = ubus.clone();
    }
    host.database = Some(Arc::new(crate::store::backup::Database::new(opts.db.clone())));
    if let Some(sysupgrade) = &opts.sysupgrade {
        host.paths.sysupgrade_program = sysupgrade.clone();
    }
    if let Some(opkg) = &opts.opkg.0 {
        host.paths.opkg_program = opkg.clone();
    }
    host.paths.opkg_root.clone_from(&opts.opkg.1);
    host.paths.opkg_conf.clone_from(&opts.opkg.2);
    let started = crate::startup::start(&opts.db, opts.reset_file.as_deref(), &host, clock.now())
        .map_err(|e| e.to_string())?;
    if let Some(aside) = &started.moved_aside {
        log::warn!("the database was unusable; moved to {} and rebuilt", aside.display());
    }
    let from_defaults = started.from_defaults;
    let mqtt_stats = started.mqtt_stats;
    crate::links::check_schema(&started.dm).map_err(|e| e.to_string())?;
    let mut dm = started.dm;
    if let Some(file) = &opts.dhcp_options {
        usp_areas::local_agent::dhcp::apply_file(&mut dm, file);
    }
    let _mdns = opts.mdns.and_then(|bind| mdns::start(bind, &mut dm, &identity.endpoint_id));
    dm.set_waker(waker.clone());
    let mut core = Core::new(dm, identity.endpoint_id.clone());
    core.set_bulkdata(host.bulkdata.clone());
    cli::serve(&opts.cli_socket, tx.clone()).map_err(|e| e.to_string())?;
    let signal_tx = tx.clone();
    signals::spawn(blocked, move |s| {
        let _ = signal_tx.send(Input::Signal(s));
    })
    .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    let mtp_tx = tx.clone();
    let gate = inbound::Gate::default();
    let sink_gate = gate.clone();
    let sink: usp_mtp::EventSink = std::sync::Arc::new(move |event| {
        if sink_gate.admit(&event) {
            let _ = mtp_tx.send(Input::Mtp(event));
        }
    });
    let transports = transports::Transports::new(sink, mqtt_stats.clone(), clock);
    let tls = tls_files(opts);
    let mut owner =
        owner::Owner::new(core, clock, transports, tls, mqtt_stats, opts.protocol_trace);
    owner.replan();
    owner.boot(usp_core::BootInfo::local(from_defaults, false));
    log::info!("ready (database {}, CLI {})", opts.db.display(), opts.cli_socket.display());

    let exit = loop {
        let Some(input) = wait(&rx, &owner.core, &owner.clock) else {
            owner.on_timeout();
            continue;
        };
        match input {
            Input::Signal(Stop::Terminate) => break Exit::Stopped,
            Input::Signal(Stop::Reload) => {
                log::info!("SIGHUP: re-reading the MTP configuration");
                owner.replan();
            }
            Input::Mtp(event) => {
                let ticket = inbound::Gate::ticket(&event);
                owner.on_mtp(event);
                gate.release(ticket);
            }
            Input::Wake => {
                waker.pending.store(false, Ordering::Release);
                owner.on_wake();
            }
            Input::Cli(req) => {
                if handle_cli(&mut owner, req) {
                    break Exit::Stopped;
                }
            }
        }
        if let Some(exit) = owner.system_requests() {
            break exit;
        }
    };
    let reason = match exit {
        Exit::Stopped => "agent shutting down",
        Exit::Restart | Exit::FactoryReset => "agent rebooting",
    };
    owner.shutdown(reason);
    drop(owner);
    if exit == Exit::FactoryReset {
        factory_reset(&opts.db);
    }
    let _ = std::fs::remove_file(&opts.cli_socket);
    log::info!("stopped");
    Ok(exit)
}

/// Empties the configuration (keeping the core's remembered restart cause) so that the next
/// start applies the defaults file again.
fn factory_reset(db: &Path) {
    if let Err(e) = crate::startup::factory_reset(db) {
        log::error!("factory reset of {} failed: {e}", db.display());
    }
}

/// The TLS files of the command line.
fn tls_files(opts: &Options) -> crate::links::TlsFiles {
    let (server_cert, server_key) = match &opts.server_cert {
        Some((c, k)) => (Some(c.clone()), Some(k.clone())),
        None => (None, None),
    };
    crate::links::TlsFiles {
        ca_file: opts.ca_file.clone(),
        client_key: opts.client_key.clone().or_else(|| opts.client_cert.clone()),
        client_cert: opts.client_cert.clone(),
        server_cert,
        server_key,
        insecure: opts.insecure,
        require_client_cert: opts.require_client_cert,
    }
}

/// Waits for the next input or the core's next timer; `None` when the timer is due.
fn wait(rx: &mpsc::Receiver<Input>, core: &Core, clock: &Clock) -> Option<Input> {
    let timeout = core.poll_timeout().map(|at| at.saturating_sub(clock.now().uptime));
    match timeout {
        Some(t) if t.is_zero() => None,
        Some(t) => match rx.recv_timeout(t) {
            Ok(input) => Some(input),
            Err(RecvTimeoutError::Timeout) => None,
            // Every sender gone cannot happen while the CLI thread lives; treat as a stop.
            Err(RecvTimeoutError::Disconnected) => Some(Input::Signal(Stop::Terminate)),
        },
        None => Some(rx.recv().unwrap_or(Input::Signal(Stop::Terminate))),
    }
}

/// Answers a CLI command; true when it asked the agent to stop.
fn handle_cli(owner: &mut owner::Owner, req: CliRequest) -> bool {
    let reply = match cli::commands::parse(&req.words) {
        Err(text) => CliReply { status: cli::STATUS_USAGE, text: text + "\n" },
        Ok(cli::commands::Command::Stop) => {
            let _ = req.reply.send(CliReply { status: cli::STATUS_OK, text: "stopping\n".into() });
            return true;
        }
        Ok(cli::commands::Command::Request(r)) => {
            let (msg, out) = owner.core.handle_local(owner.clock.now(), r);
            owner.dispatch(out, None);
            owner.after();
            let (text, failed) = cli::commands::format(&msg);
            let status = if failed { cli::STATUS_FAILED } else { cli::STATUS_OK };
            CliReply { status, text }
        }
    };
    let _ = req.reply.send(reply);
    false
}

/// Runs `-c` against a running daemon: prints the answer, returns the exit status.
pub fn run_command(opts: &Options, words: &[String]) -> i32 {
    match cli::call(&opts.cli_socket, words) {
        Ok((status, text)) => {
            if status == cli::STATUS_OK {
                print!("{text}");
            } else {
                eprint!("{text}");
            }
            i32::from(status)
        }
        Err(e) => {
            eprintln!("uspagent: cannot reach the agent: {e}");
            3
        }
    }
}

/// How long a clean shutdown may take before the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// What reboots the device: `--reboot-command`, or OpenWrt's `/sbin/reboot` on that platform
/// (a configuration restored by sysupgrade takes effect only after a router reboot).
fn reboot_command(opts: &Options) -> Option<String> {
    let platform = opts.platform.unwrap_or_else(|| Platform::detect(Path::new("/")));
    opts.reboot_command
        .clone()
        .or_else(|| (platform == Platform::OpenWrt).then(|| options::OPENWRT_REBOOT.to_owned()))
}

/// After Reboot() or FactoryReset(): runs the configured reboot command, or re-executes this
/// program with the same arguments (the agent "reboots" without taking the device down).
pub fn restart(opts: &Options) -> std::process::ExitCode {
    use std::os::unix::process::CommandExt;
    // A firmware image activated on OpenWrt is flashed now, the database closed; sysupgrade
    // reboots the router (a failure is logged and recorded, and the agent restarts).
    #[cfg(feature = "openwrt")]
    {
        let state = opts.db.parent().filter(|p| !p.as_os_str().is_empty());
        let mut hooks = crate::store::sysupgrade::Hooks::new(&opts.db);
        let state = state.unwrap_or(Path::new("."));
        match usp_areas::firmware::openwrt::flash_with(state, &mut hooks) {
            Ok(true) => return std::process::ExitCode::SUCCESS,
            Ok(false) => {}
            Err(e) => log::error!("the firmware was not flashed: {e}"),
        }
    }
    if let Some(cmd) = &reboot_command(opts) {
        log::warn!("running the reboot command: {cmd}");
        return match std::process::Command::new("/bin/sh").arg("-c").arg(cmd).status() {
            Ok(s) if s.success() => std::process::ExitCode::SUCCESS,
            _ => std::process::ExitCode::FAILURE,
        };
    }
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let Some((program, rest)) = args.split_first() else {
        return std::process::ExitCode::FAILURE;
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| program.into());
    log::warn!("restarting {}", exe.display());
    let err = std::process::Command::new(exe).args(rest).exec();
    log::error!("cannot restart: {err}");
    std::process::ExitCode::FAILURE
}
