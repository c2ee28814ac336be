//! `uspctl lab`: the one-command lab. Listens as a WebSocket server on a free 127.0.0.1 port
//! (Endpoint ID [`LAB_EID`]), starts `uspagent` in a fresh temporary directory with a reset
//! file whose controller is us (see [`reset_file`]), waits until it connects, then runs the
//! shell (interactive on a terminal, a script otherwise). The end of input stops both; SIGTERM
//! and a triple Ctrl-C do too.
//!
//! Owns the lab's options, reset file and sequence; the agent process lives in [`agent`], the
//! shell in [`crate::shell`].

pub mod agent;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cli::Global;
use crate::client::{ClientError, Controller, ControllerConfig};
use crate::exec::Status;
use crate::request::ArgError;
use crate::shell::Shell;
use crate::transport::{self, Transport, TransportOptions};
use agent::{LabAgent, LabError};

/// The lab controller's Endpoint ID.
pub const LAB_EID: &str = "self::uspctl-lab";

/// The WebSocket path the agent connects to.
pub const LAB_PATH: &str = "/usp";

/// How long the agent gets to connect.
pub const UP_WAIT: Duration = Duration::from_secs(15);

/// `uspctl lab --help`.
pub const LAB_HELP: &str = "\
uspctl lab - an agent and this controller, connected, in one command

USAGE:
    uspctl lab [--agent-bin FILE] [--keep-dir] [--port PORT] [--json] [--timeout SECS] [--trace]

Starts uspagent (--agent-bin, else the one next to uspctl, else from PATH) in a temporary
directory (reset file, database, agent.log, the simulated radios' wifi.conf) with the lab
platform (three simulated Wi-Fi radios), as a WebSocket client of uspctl on 127.0.0.1
(--port, else a free one), then the shell. Ctrl-D stops both and removes the directory
unless --keep-dir.
";

/// The banner of the interactive lab.
pub const BANNER: &str = "\
Things to try:
    get Device.DeviceInfo.
    get Device.WiFi.Radio.[Enable==true].Channel
    set Device.WiFi.Radio.1.Channel=11
    subscribe ObjectCreation Device.WiFi.AccessPoint.1.AssociatedDevice.
    operate 'Device.WiFi.NeighboringWiFiDiagnostic()'
    gsdm Device.LocalAgent. --first-level-only
    add Device.LocalAgent.Controller. EndpointID=x
    operate 'Device.ScheduleTimer()' DelaySeconds=3
    subscribe ValueChange Device.LocalAgent.Controller.1.PeriodicNotifInterval
      (then, from another terminal: uspagent -s DIR/cli -c set
       Device.LocalAgent.Controller.1.PeriodicNotifInterval 60)";

/// The lab's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabOptions {
    /// The agent binary, when given.
    pub agent_bin: Option<PathBuf>,
    /// Leave the directory in place at the end.
    pub keep_dir: bool,
    /// The port to listen on (`None`: a free one).
    pub port: Option<u16>,
    /// `--json`, `--timeout`, `--trace` (the transport and Endpoint ID are the lab's).
    pub global: Global,
    /// `--help` was asked for.
    pub help: bool,
}

/// Parses the words after `lab`.
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<LabOptions, ArgError> {
    let err = |e: lexopt::Error| ArgError(e.to_string());
    let mut p = lexopt::Parser::from_args(args);
    let mut o = LabOptions {
        agent_bin: None,
        keep_dir: false,
        port: None,
        global: Global { eid: LAB_EID.into(), ..Global::default() },
        help: false,
    };
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            lexopt::Arg::Long("agent-bin") => o.agent_bin = Some(p.value().map_err(err)?.into()),
            lexopt::Arg::Long("keep-dir") => o.keep_dir = true,
            lexopt::Arg::Long("port") => {
                let v = p.value().map_err(err)?;
                let v = v.to_string_lossy();
                o.port = Some(v.parse().map_err(|_| ArgError(format!("--port: '{v}'")))?);
            }
            lexopt::Arg::Long("json") | lexopt::Arg::Short('j') => o.global.json = true,
            lexopt::Arg::Long("trace") => o.global.trace = true,
            lexopt::Arg::Long("timeout") => {
                let v = p.value().map_err(err)?;
                let v = v.to_string_lossy();
                match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => {
                        o.global.timeout = Duration::from_secs_f64(s);
                    }
                    _ => return Err(ArgError(format!("--timeout: '{v}' is not seconds"))),
                }
            }
            lexopt::Arg::Long("help") | lexopt::Arg::Short('h') => o.help = true,
            other => return Err(ArgError(other.unexpected().to_string())),
        }
    }
    Ok(o)
}

/// The agent's reset file: one controller, [`LAB_EID`], with full access
/// (`ControllerTrust.Role.1`), reached as a WebSocket server on 127.0.0.1:`port`, and a
/// Boot! subscription for it.
pub fn reset_file(port: u16) -> String {
    format!(
        "# Written by uspctl lab.
Device.LocalAgent.Controller.1.Alias \"uspctl-lab\"
Device.LocalAgent.Controller.1.Enable true
Device.LocalAgent.Controller.1.EndpointID \"{LAB_EID}\"
Device.LocalAgent.Controller.1.AssignedRole \"Device.LocalAgent.ControllerTrust.Role.1\"
Device.LocalAgent.Controller.1.MTP.1.Enable true
Device.LocalAgent.Controller.1.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Host \"127.0.0.1\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Port {port}
Device.LocalAgent.Controller.1.MTP.1.WebSocket.Path \"{LAB_PATH}\"
Device.LocalAgent.Controller.1.MTP.1.WebSocket.EnableEncryption false
Device.LocalAgent.Controller.1.BootParameter.1.Enable true
Device.LocalAgent.Controller.1.BootParameter.1.ParameterName \"Device.LocalAgent.EndpointID\"
Device.LocalAgent.Subscription.1.Enable true
Device.LocalAgent.Subscription.1.ID \"boot\"
Device.LocalAgent.Subscription.1.Recipient \"Device.LocalAgent.Controller.1\"
Device.LocalAgent.Subscription.1.NotifType \"Event\"
Device.LocalAgent.Subscription.1.ReferenceList \"Device.Boot!\"
Device.LocalAgent.Subscription.1.Persistent true
"
    )
}

/// A port free on 127.0.0.1 now (the kernel's choice; released at once).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port())
}

/// Runs the lab; the exit status (3 when the agent does not come up).
pub fn run(o: &LabOptions) -> Status {
    // Before any thread exists, so that every thread inherits the blocked mask.
    let signals = crate::signal::block();
    let Some(bin) = agent::find_agent(o.agent_bin.as_deref()) else {
        eprintln!("uspctl: {}", LabError::NoAgent);
        return Status::Usage;
    };
    let port = match o.port.map_or_else(free_port, Ok) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("uspctl: no free port: {e}");
            return Status::Transport;
        }
    };
    let mut g = o.global.clone();
    g.transport = TransportOptions {
        transport: Some(Transport::WsListen(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))),
        ..TransportOptions::default()
    };
    let cfg = ControllerConfig {
        endpoint_id: g.eid.clone(),
        agent: None,
        agent_dest: None,
        timeout: g.timeout,
    };
    let started = Controller::start(cfg, |id, sink| {
        transport::open_link(&g.transport, &g.eid, None, id, sink)
    });
    let mut ctl = match started {
        Ok(ctl) => ctl,
        Err(e) => {
            eprintln!("uspctl: {e}");
            return Status::Transport;
        }
    };
    let started = agent::make_dir()
        .and_then(|dir| LabAgent::start(&bin, &dir, &reset_file(port), o.keep_dir));
    let lab = match started {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("uspctl: {e}");
            ctl.stop();
            return Status::Transport;
        }
    };
    if g.trace {
        ctl.set_trace(Box::new(|dir, record| {
            eprintln!("{dir:?}: {}", crate::decode::summary(record));
        }));
    }
    let on_term = lab.clone();
    match signals {
        Ok(s) => s.forward(ctl.interrupter(), Box::new(move || on_term.stop())),
        Err(e) => eprintln!("uspctl: Ctrl-C will end the process at once ({e})"),
    }
    let status = match wait_up(&mut ctl, &lab) {
        Ok(()) => shell(&mut ctl, &g, &lab),
        Err(status) => status,
    };
    lab.stop();
    ctl.stop();
    if o.keep_dir {
        eprintln!("uspctl: the lab directory is kept: {}", lab.dir().display());
    }
    status
}

/// Waits (at most [`UP_WAIT`]) for the agent's session; on failure prints why with the
/// agent's log tail.
fn wait_up(ctl: &mut Controller, lab: &LabAgent) -> Result<(), Status> {
    let end = Instant::now() + UP_WAIT;
    let why = loop {
        if let Some(status) = lab.exited() {
            break format!("the agent exited ({status})");
        }
        if Instant::now() >= end {
            break format!("the agent did not connect within {}s", UP_WAIT.as_secs());
        }
        match ctl.wait_ready(Duration::from_millis(200)) {
            Ok(()) => return Ok(()),
            Err(ClientError::Timeout { .. }) => {}
            Err(ClientError::Interrupted) => return Err(Status::Interrupted),
            Err(e) => break e.to_string(),
        }
    };
    eprintln!("uspctl: {why}; the end of its log ({}):", lab.dir().join(agent::LOG_FILE).display());
    eprintln!("{}", lab.log_tail(20));
    Err(Status::Transport)
}

fn shell(ctl: &mut Controller, g: &Global, lab: &LabAgent) -> Status {
    let dir = lab.dir();
    eprintln!(
        "uspctl lab: agent {} connected (pid {}); its files and log are in {}",
        ctl.agent().unwrap_or("?"),
        lab.pid().unwrap_or(0),
        dir.display()
    );
    let mut shell = Shell::new(ctl, g);
    if std::io::stdin().is_terminal() {
        shell.run_interactive(&BANNER.replace("DIR", &dir.display().to_string()))
    } else {
        let stdin = std::io::stdin();
        shell.run_script(&mut stdin.lock(), &mut std::io::stdout(), &mut std::io::stderr())
    }
}
