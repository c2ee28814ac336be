//! Each command built from its words and the command options given, refusing the options
//! that do not apply to it.

use super::{Command, Flags, err};
use crate::request::{self, ArgError, GsdmOptions};

/// Builds the command `name` from its words, refusing options that do not apply to it.
pub(super) fn command(name: &str, words: &[String], f: &Flags) -> Result<Command, ArgError> {
    let allowed: &[&str] = match name {
        "get" => &["max-depth"],
        "set" | "add" | "del" | "delete" => &["allow-partial"],
        "operate" => &["no-wait", "wait-max"],
        "instances" => &["first-level-only"],
        "gsdm" => &["first-level-only", "no-commands", "no-events", "no-params", "unique-keys"],
        "subscribe" => &["keep", "count", "for"],
        "watch" => &["count", "for"],
        "encode" => &[
            "max-depth",
            "allow-partial",
            "first-level-only",
            "no-commands",
            "no-events",
            "no-params",
            "unique-keys",
        ],
        _ => &[],
    };
    if let Some(bad) = f.given.iter().find(|g| !allowed.contains(g)) {
        return Err(ArgError(format!("--{bad} does not apply to {name}")));
    }
    let at_least_one = |what: &str| {
        if words.is_empty() {
            Err(ArgError(format!("{name} needs {what}")))
        } else {
            Ok(words.to_vec())
        }
    };
    let none = |c: Command| {
        if words.is_empty() { Ok(c) } else { Err(ArgError(format!("{name} takes no arguments"))) }
    };
    Ok(match name {
        "get" => Command::Get { paths: at_least_one("a path")?, max_depth: f.max_depth },
        "set" => {
            Command::Set { objects: request::parse_set(words)?, allow_partial: f.allow_partial }
        }
        "add" => {
            Command::Add { objects: request::parse_add(words)?, allow_partial: f.allow_partial }
        }
        "del" | "delete" => {
            Command::Del { paths: at_least_one("an object path")?, allow_partial: f.allow_partial }
        }
        "operate" => {
            let (command, args) =
                words.split_first().ok_or_else(|| err("operate needs a command"))?;
            request::check_command(command)?;
            Command::Operate {
                command: command.clone(),
                args: request::parse_args(args)?,
                no_wait: f.no_wait,
                wait_max: f.wait_max,
            }
        }
        "instances" => Command::Instances {
            paths: at_least_one("an object path")?,
            first_level_only: f.first_level_only,
        },
        "gsdm" => {
            let options = GsdmOptions { first_level_only: f.first_level_only, ..f.gsdm };
            let paths = if words.is_empty() { vec!["Device.".to_owned()] } else { words.to_vec() };
            Command::Gsdm { paths, options }
        }
        "proto" => match words {
            [] => Command::Proto { versions: None },
            [v] => Command::Proto { versions: Some(v.clone()) },
            _ => return Err(err("proto takes at most one argument (the versions, 1.3,1.4)")),
        },
        "subscribe" => match words {
            [t, refs] => Command::Subscribe {
                notif_type: request::notif_type(t)?.to_owned(),
                reference_list: refs.clone(),
                keep: f.keep,
                limits: f.limits,
            },
            _ => return Err(err("subscribe takes TYPE and REFERENCELIST")),
        },
        "watch" => none(Command::Watch { limits: f.limits })?,
        "decode" => match words {
            [] => Command::Decode { input: None },
            [input] => Command::Decode { input: Some(input.clone()) },
            _ => return Err(err("decode takes at most one INPUT")),
        },
        "encode" => {
            let (inner, rest) = words.split_first().ok_or_else(|| err("encode needs a command"))?;
            match command(inner, rest, f)? {
                c @ (Command::Get { .. }
                | Command::Set { .. }
                | Command::Add { .. }
                | Command::Del { .. }
                | Command::Operate { .. }
                | Command::Instances { .. }
                | Command::Gsdm { .. }
                | Command::Proto { .. }) => Command::Encode(Box::new(c)),
                _ => return Err(ArgError(format!("encode cannot encode {inner}"))),
            }
        }
        "shell" => none(Command::Shell)?,
        "help" => Command::Help,
        "version" => none(Command::Version)?,
        other => return Err(ArgError(format!("unknown command '{other}' (see uspctl --help)"))),
    })
}
