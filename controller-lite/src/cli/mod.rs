//! The `uspctl` command line: options and commands parsed with `lexopt` into an
//! [`Invocation`]. The same command parser serves the shell's lines ([`parse_line`]).
//!
//! Options may come before or after the command. Owns syntax and the help text only; never
//! connects or prints.

mod commands;
mod help;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::client::DEFAULT_TIMEOUT;
use crate::request::{ArgError, GsdmOptions, ObjectSettings};
use crate::transport::{self, Transport, TransportOptions};
use crate::watch::Limits;

pub use help::HELP;

/// Our Endpoint ID unless `--eid` says otherwise.
pub const DEFAULT_EID: &str = "self::uspctl";

/// Options that apply to the whole run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Global {
    /// JSON output.
    pub json: bool,
    /// Response timeout.
    pub timeout: Duration,
    /// Our Endpoint ID.
    pub eid: String,
    /// The agent's Endpoint ID (`None`: learnt).
    pub agent: Option<String>,
    /// Show every Record sent and received on standard error.
    pub trace: bool,
    /// Speak to the agent in an E2E Session Context.
    pub e2e: bool,
    /// The transport.
    pub transport: TransportOptions,
}

impl Default for Global {
    fn default() -> Global {
        Global {
            json: false,
            timeout: DEFAULT_TIMEOUT,
            eid: DEFAULT_EID.into(),
            agent: None,
            trace: false,
            e2e: false,
            transport: TransportOptions::default(),
        }
    }
}

/// One command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `get PATH... [--max-depth N]`.
    Get {
        /// Paths.
        paths: Vec<String>,
        /// Depth (0: all).
        max_depth: u32,
    },
    /// `set PATH=VALUE... [--allow-partial]`.
    Set {
        /// Objects and their settings.
        objects: Vec<ObjectSettings>,
        /// allow_partial.
        allow_partial: bool,
    },
    /// `add OBJ. [Param=value...]... [--allow-partial]`.
    Add {
        /// Objects and their initial values.
        objects: Vec<ObjectSettings>,
        /// allow_partial.
        allow_partial: bool,
    },
    /// `del PATH... [--allow-partial]`.
    Del {
        /// Object paths.
        paths: Vec<String>,
        /// allow_partial.
        allow_partial: bool,
    },
    /// `operate CMD() [Name=value...] [--no-wait] [--wait-max SECS]`.
    Operate {
        /// The command path.
        command: String,
        /// Input arguments.
        args: std::collections::BTreeMap<String, String>,
        /// Do not wait for asynchronous commands.
        no_wait: bool,
        /// The longest wait for completion (`None`: until Ctrl-C).
        wait_max: Option<Duration>,
    },
    /// `instances PATH... [--first-level-only]`.
    Instances {
        /// Object paths.
        paths: Vec<String>,
        /// first_level_only.
        first_level_only: bool,
    },
    /// `gsdm PATH... [--first-level-only] [--no-commands] [--no-events] [--no-params]
    /// [--unique-keys]`.
    Gsdm {
        /// Object paths.
        paths: Vec<String>,
        /// What to return.
        options: GsdmOptions,
    },
    /// `proto [VERSIONS]`.
    Proto {
        /// The versions we announce (default: all we speak).
        versions: Option<String>,
    },
    /// `subscribe TYPE REFLIST [--keep] [--count N] [--for SECS]`.
    Subscribe {
        /// NotifType.
        notif_type: String,
        /// ReferenceList.
        reference_list: String,
        /// Leave the subscription in place at the end.
        keep: bool,
        /// When to stop watching.
        limits: Limits,
    },
    /// `watch [--count N] [--for SECS]`.
    Watch {
        /// When to stop.
        limits: Limits,
    },
    /// `decode [INPUT]`.
    Decode {
        /// File, hex or base64 (`None`: standard input).
        input: Option<String>,
    },
    /// `encode COMMAND...`: the Record a command would send, in hex.
    Encode(Box<Command>),
    /// `shell`.
    Shell,
    /// `help`.
    Help,
    /// `version`.
    Version,
}

impl Command {
    /// Whether the command needs a connection to an agent.
    pub fn needs_agent(&self) -> bool {
        !matches!(
            self,
            Command::Decode { .. } | Command::Encode(_) | Command::Help | Command::Version
        )
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Run-wide options.
    pub global: Global,
    /// The command (`None`: none given; the shell when a transport is given).
    pub command: Option<Command>,
}

/// Options that belong to commands, collected wherever they appear.
#[derive(Default)]
struct Flags {
    given: Vec<&'static str>,
    max_depth: u32,
    allow_partial: bool,
    first_level_only: bool,
    no_wait: bool,
    wait_max: Option<Duration>,
    gsdm: GsdmOptions,
    keep: bool,
    limits: Limits,
}

/// Where words come from: the process's arguments or a shell line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Process,
    Shell,
}

/// Parses the process's arguments (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, ArgError> {
    parse(lexopt::Parser::from_args(args), Context::Process, Global::default())
}

/// Parses one shell line's words: a command and its options, plus `--json` and `--timeout`
/// (transport options are given when `uspctl` starts). `global` gives the defaults.
pub fn parse_line(words: &[String], global: &Global) -> Result<(Command, Global), ArgError> {
    let inv = parse(lexopt::Parser::from_args(words), Context::Shell, global.clone())?;
    let command = inv.command.ok_or_else(|| ArgError("no command".into()))?;
    Ok((command, inv.global))
}

fn err(e: impl std::fmt::Display) -> ArgError {
    ArgError(e.to_string())
}

/// An argument, owned (so that the parser can be asked for an option's value meanwhile).
enum Arg {
    Short(char),
    Long(String),
    Value(String),
}

fn next(p: &mut lexopt::Parser) -> Result<Option<Arg>, ArgError> {
    Ok(match p.next().map_err(err)? {
        None => None,
        Some(lexopt::Arg::Short(c)) => Some(Arg::Short(c)),
        Some(lexopt::Arg::Long(l)) => Some(Arg::Long(l.to_owned())),
        Some(lexopt::Arg::Value(v)) => {
            Some(Arg::Value(v.into_string().map_err(|v| err(format!("{v:?} is not UTF-8")))?))
        }
    })
}

fn parse(mut p: lexopt::Parser, ctx: Context, mut g: Global) -> Result<Invocation, ArgError> {
    let mut words: Vec<String> = Vec::new();
    let mut flags = Flags::default();
    let mut mqtt_v311 = false;
    while let Some(arg) = next(&mut p)? {
        if let Some(name) = command_flag(&arg, &mut p, &mut flags)? {
            flags.given.push(name);
            continue;
        }
        match arg {
            Arg::Value(v) => words.push(v),
            Arg::Short('j') => g.json = true,
            Arg::Short('h') => return Ok(Invocation { global: g, command: Some(Command::Help) }),
            Arg::Short('V') => {
                return Ok(Invocation { global: g, command: Some(Command::Version) });
            }
            Arg::Short(c) => return Err(ArgError(format!("invalid option '-{c}'"))),
            Arg::Long(name) => match name.as_str() {
                "json" => g.json = true,
                "timeout" => g.timeout = seconds(&mut p, "--timeout")?,
                "help" => return Ok(Invocation { global: g, command: Some(Command::Help) }),
                "version" => return Ok(Invocation { global: g, command: Some(Command::Version) }),
                name if ctx == Context::Shell && is_process_option(name) => {
                    return Err(ArgError(format!(
                        "--{name} is given when uspctl starts, not in the shell"
                    )));
                }
                "mqtt-v311" => mqtt_v311 = true,
                name => process_option(name, &mut p, &mut g)?,
            },
        }
    }
    if mqtt_v311 {
        match &mut g.transport.transport {
            Some(Transport::Mqtt { v5, .. }) => *v5 = false,
            _ => return Err(err("--mqtt-v311 goes with --mqtt")),
        }
    }
    check_transport(&g.transport)?;
    let command = match words.split_first() {
        None if flags.given.is_empty() => None,
        None => return Err(err(format!("--{} needs a command", flags.given[0]))),
        Some((name, rest)) => Some(commands::command(name, rest, &flags)?),
    };
    Ok(Invocation { global: g, command })
}

/// The options only the process's command line takes.
fn is_process_option(name: &str) -> bool {
    matches!(
        name,
        "eid"
            | "agent"
            | "trace"
            | "e2e"
            | "mqtt"
            | "mqtt-v311"
            | "topic"
            | "agent-topic"
            | "client-id"
            | "stomp"
            | "dest"
            | "agent-dest"
            | "vhost"
            | "user"
            | "login"
            | "password"
            | "passcode"
            | "ws"
            | "ws-listen"
            | "tls"
            | "tls-ca"
            | "tls-cert"
            | "tls-key"
            | "insecure"
    )
}

/// Handles a command option; `Ok(None)` when `arg` is not one.
fn command_flag(
    arg: &Arg,
    p: &mut lexopt::Parser,
    f: &mut Flags,
) -> Result<Option<&'static str>, ArgError> {
    let Arg::Long(long) = arg else { return Ok(None) };
    let name = match long.as_str() {
        "max-depth" => {
            f.max_depth = number(p, "--max-depth")?;
            "max-depth"
        }
        "allow-partial" => {
            f.allow_partial = true;
            "allow-partial"
        }
        "first-level-only" => {
            f.first_level_only = true;
            "first-level-only"
        }
        "no-wait" => {
            f.no_wait = true;
            "no-wait"
        }
        "wait-max" => {
            f.wait_max = Some(seconds(p, "--wait-max")?);
            "wait-max"
        }
        "no-commands" => {
            f.gsdm.commands = false;
            "no-commands"
        }
        "no-events" => {
            f.gsdm.events = false;
            "no-events"
        }
        "no-params" => {
            f.gsdm.params = false;
            "no-params"
        }
        "unique-keys" => {
            f.gsdm.unique_keys = true;
            "unique-keys"
        }
        "keep" => {
            f.keep = true;
            "keep"
        }
        "count" => {
            f.limits.count = Some(number(p, "--count")?.into());
            "count"
        }
        "for" => {
            f.limits.duration = Some(seconds(p, "--for")?);
            "for"
        }
        _ => return Ok(None),
    };
    Ok(Some(name))
}

fn value(p: &mut lexopt::Parser, name: &str) -> Result<String, ArgError> {
    p.value()
        .map_err(err)?
        .into_string()
        .map_err(|_| ArgError(format!("{name}: the value is not UTF-8")))
}

fn number(p: &mut lexopt::Parser, name: &str) -> Result<u32, ArgError> {
    let v = value(p, name)?;
    v.parse().map_err(|_| ArgError(format!("{name}: '{v}' is not a whole number")))
}

fn seconds(p: &mut lexopt::Parser, name: &str) -> Result<Duration, ArgError> {
    let v = value(p, name)?;
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(ArgError(format!("{name}: '{v}' is not a number of seconds"))),
    }
}

/// The process-only options (transport, identity, trace).
fn process_option(name: &str, p: &mut lexopt::Parser, g: &mut Global) -> Result<(), ArgError> {
    let t = &mut g.transport;
    let terr = |e: transport::TransportError| ArgError(e.to_string());
    let choose = |t: &mut TransportOptions, chosen: Transport| {
        if t.transport.is_some() {
            return Err(err("give one transport: --mqtt, --stomp, --ws or --ws-listen"));
        }
        t.transport = Some(chosen);
        Ok(())
    };
    match name {
        "eid" => g.eid = value(p, "--eid")?,
        "agent" => g.agent = Some(value(p, "--agent")?),
        "trace" => g.trace = true,
        "e2e" => g.e2e = true,
        "mqtt" => {
            let (host, port) = transport::parse_host_port(&value(p, "--mqtt")?).map_err(terr)?;
            choose(t, Transport::Mqtt { host, port, v5: true })?;
        }
        "stomp" => {
            let (host, port) = transport::parse_host_port(&value(p, "--stomp")?).map_err(terr)?;
            choose(t, Transport::Stomp { host, port })?;
        }
        "ws" => {
            let url = transport::parse_ws_url(&value(p, "--ws")?).map_err(terr)?;
            choose(t, Transport::WsClient(url))?;
        }
        "ws-listen" => {
            let addr = transport::parse_listen(&value(p, "--ws-listen")?).map_err(terr)?;
            choose(t, Transport::WsListen(addr))?;
        }
        "topic" => t.topic = Some(value(p, "--topic")?),
        "agent-topic" => t.agent_topic = Some(value(p, "--agent-topic")?),
        "client-id" => t.client_id = Some(value(p, "--client-id")?),
        "dest" => t.dest = Some(value(p, "--dest")?),
        "agent-dest" => t.agent_dest = Some(value(p, "--agent-dest")?),
        "vhost" => t.vhost = Some(value(p, "--vhost")?),
        "user" | "login" => t.user = Some(value(p, "--user")?),
        "password" | "passcode" => t.password = Some(value(p, "--password")?),
        "tls" => t.tls = true,
        "tls-ca" => t.tls_ca = Some(PathBuf::from(value(p, "--tls-ca")?)),
        "tls-cert" => t.tls_cert = Some(PathBuf::from(value(p, "--tls-cert")?)),
        "tls-key" => t.tls_key = Some(PathBuf::from(value(p, "--tls-key")?)),
        "insecure" => t.insecure = true,
        other => return Err(ArgError(format!("invalid option '--{other}'"))),
    }
    Ok(())
}

/// Options that only make sense with one transport.
fn check_transport(t: &TransportOptions) -> Result<(), ArgError> {
    let mqtt = matches!(t.transport, Some(Transport::Mqtt { .. }));
    let stomp = matches!(t.transport, Some(Transport::Stomp { .. }));
    if !mqtt && (t.topic.is_some() || t.agent_topic.is_some() || t.client_id.is_some()) {
        return Err(err("--topic, --agent-topic and --client-id go with --mqtt"));
    }
    if !stomp && (t.dest.is_some() || t.agent_dest.is_some() || t.vhost.is_some()) {
        return Err(err("--dest, --agent-dest and --vhost go with --stomp"));
    }
    Ok(())
}
