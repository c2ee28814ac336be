//! `uspctl`: the lab USP controller command. Parses the command line, runs offline commands
//! (`decode`, `encode`) directly, `lab` through `uspctl::lab`, otherwise connects (see `uspctl::transport::open_link`) and
//! runs one command or the shell. Everything else lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use uspctl::cli::{self, Command, Global, HELP};
use uspctl::client::{Controller, ControllerConfig};
use uspctl::exec::{self, Output, Status};
use uspctl::shell::Shell;
use uspctl::transport::{self, TransportError};
use uspctl::{decode, signal};

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|a| a == "lab") {
        return lab();
    }
    let bare = std::env::args_os().len() <= 1;
    let inv = match cli::parse_args(std::env::args_os().skip(1)) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("uspctl: {e}\n(uspctl --help shows the usage)");
            return ExitCode::from(Status::Usage.code());
        }
    };
    let status = match &inv.command {
        Some(Command::Help) => {
            print!("{HELP}");
            Status::Ok
        }
        None if bare => {
            print!("{HELP}");
            Status::Ok
        }
        Some(Command::Version) => {
            println!("uspctl {}", env!("CARGO_PKG_VERSION"));
            Status::Ok
        }
        Some(cmd) if !cmd.needs_agent() => {
            let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
            let mut out = Output {
                stdout: &mut stdout,
                stderr: &mut stderr,
                json: inv.global.json,
                live: false,
                learnt: None,
            };
            exec::offline(cmd, &inv.global, &mut std::io::stdin(), &mut out)
                .unwrap_or(Status::Usage)
        }
        cmd => online(&inv.global, cmd.as_ref()),
    };
    ExitCode::from(status.code())
}

/// `uspctl lab ...`.
fn lab() -> ExitCode {
    let status = match uspctl::lab::parse_args(std::env::args_os().skip(2)) {
        Ok(o) if o.help => {
            print!("{}", uspctl::lab::LAB_HELP);
            Status::Ok
        }
        Ok(o) => uspctl::lab::run(&o),
        Err(e) => {
            eprintln!("uspctl lab: {e}\n(uspctl lab --help shows the usage)");
            Status::Usage
        }
    };
    ExitCode::from(status.code())
}

/// Connects and runs `cmd`, or the shell without one.
fn online(g: &Global, cmd: Option<&Command>) -> Status {
    // Before any thread exists, so that every thread inherits the blocked mask.
    let signals = signal::block();
    let cfg = ControllerConfig {
        endpoint_id: g.eid.clone(),
        agent: g.agent.clone(),
        agent_dest: g.transport.agent_destination(),
        timeout: g.timeout,
    };
    let started = Controller::start(cfg, |id, sink| {
        transport::open_link(&g.transport, &g.eid, g.agent.as_deref(), id, sink)
    });
    let mut ctl = match started {
        Ok(ctl) => ctl,
        Err(e) => {
            eprintln!("uspctl: {e}");
            return match e {
                TransportError::NoneChosen | TransportError::Config(_) => Status::Usage,
                TransportError::Tls(_) | TransportError::Listen(_) => Status::Transport,
            };
        }
    };
    if g.e2e {
        ctl.use_e2e_session();
    }
    if g.trace {
        ctl.set_trace(Box::new(|dir, record| eprintln!("{dir:?}: {}", decode::summary(record))));
    }
    match signals {
        Ok(s) => s.forward(ctl.interrupter(), Box::new(|| {})),
        Err(e) => eprintln!("uspctl: Ctrl-C will end the process at once ({e})"),
    }
    let status = match cmd {
        None | Some(Command::Shell) => {
            let mut shell = Shell::new(&mut ctl, g);
            if std::io::stdin().is_terminal() {
                shell.run_interactive("")
            } else {
                let stdin = std::io::stdin();
                shell.run_script(&mut stdin.lock(), &mut std::io::stdout(), &mut std::io::stderr())
            }
        }
        Some(cmd) => {
            let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
            let live = stderr.is_terminal();
            let mut out = Output {
                stdout: &mut stdout,
                stderr: &mut stderr,
                json: g.json,
                live,
                learnt: None,
            };
            exec::execute(&mut ctl, cmd, &mut out)
        }
    };
    ctl.stop();
    status
}
