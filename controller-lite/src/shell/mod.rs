//! The shell: commands read line by line, run against one connected controller.
//!
//! Interactive on a terminal (line editing, history in `~/.uspctl_history`, Tab completion of
//! paths learnt from GetSupportedDM and from answers; needs the `shell` feature), else a script
//! read from standard input (one command a line, `#` comments; no prompt). Notifications that
//! arrive between commands are printed before the next prompt.
//!
//! Words are split like a POSIX shell's with two differences that keep USP paths typeable:
//! double quotes are kept as they are (search expressions: `[Name=="a b"]`), and spaces inside
//! `[...]` do not split. Single quotes group and are removed; `\` escapes the next character.

#[cfg(feature = "shell")]
mod editor;
#[cfg(test)]
mod tests;

use std::io::{BufRead, Write};

use crate::cli::{self, Command, Global, HELP};
use crate::client::Controller;
use crate::complete::PathTree;
use crate::exec::{self, Output, Status};

/// Notes on the shell, after the command list of `help`.
pub const SHELL_HELP: &str = "\
In the shell: the commands above without transport options (--json and --timeout work per
command); 'exit' or Ctrl-D quits; Tab completes commands and paths; Ctrl-C stops a watch or
an operate's wait. Quote with '...'; double quotes are kept for search expressions.
";

/// Splits a line into words (see the module documentation).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut depth = 0usize;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(q) => word.push(q),
                        None => return Err("unterminated quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next().ok_or("a backslash at the end of the line")?);
            }
            c if c.is_whitespace() && depth == 0 => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                match c {
                    '[' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// What one line asked for.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// Go on, with this status.
    Continue(Status),
    /// Leave the shell.
    Exit,
}

/// The shell's state.
pub struct Shell<'a> {
    ctl: &'a mut Controller,
    global: Global,
    paths: PathTree,
    worst: Status,
}

impl<'a> Shell<'a> {
    /// A shell over `ctl` with the run's options.
    pub fn new(ctl: &'a mut Controller, global: &Global) -> Shell<'a> {
        Shell { ctl, global: global.clone(), paths: PathTree::default(), worst: Status::Ok }
    }

    /// The worst status of the commands run so far.
    pub fn status(&self) -> Status {
        self.worst
    }

    /// Learns the supported data model for completion; false when the agent did not answer.
    pub fn learn_data_model(&mut self) -> bool {
        let req = crate::request::gsdm(&["Device.".into()], crate::request::GsdmOptions::default());
        match self.ctl.call(req) {
            Ok(usp_proto::msg::response::RespType::GetSupportedDmResp(g)) => {
                crate::complete::gsdm_paths(&g).iter().for_each(|p| self.paths.insert(p));
                true
            }
            _ => false,
        }
    }

    /// Prints the events that arrived since the last command.
    fn print_events(&mut self, out: &mut dyn Write, err: &mut dyn Write) {
        let events = self.ctl.drain_events();
        let mut o =
            Output { stdout: out, stderr: err, json: self.global.json, live: false, learnt: None };
        for e in events.iter().filter(|e| !matches!(e, crate::client::Event::LinkUp)) {
            exec::print_event(e, &mut o);
        }
    }

    /// Runs one line.
    fn line(&mut self, line: &str, out: &mut dyn Write, err: &mut dyn Write, live: bool) -> Step {
        let words = match split_words(line) {
            Ok(w) if w.is_empty() || w[0].starts_with('#') => return Step::Continue(Status::Ok),
            Ok(w) => w,
            Err(e) => {
                let _ = writeln!(err, "uspctl: {e}");
                return Step::Continue(Status::Usage);
            }
        };
        if matches!(words[0].as_str(), "exit" | "quit") {
            return Step::Exit;
        }
        let (cmd, global) = match cli::parse_line(&words, &self.global) {
            Ok(parsed) => parsed,
            Err(e) => {
                let _ = writeln!(err, "uspctl: {e}");
                return Step::Continue(Status::Usage);
            }
        };
        if cmd.needs_agent() {
            // What arrived while the line was typed, and Ctrl-Cs pressed while no command ran
            // (discarded: they must not stop this command).
            self.print_events(out, err);
        }
        let mut learnt = Vec::new();
        let mut o =
            Output { stdout: out, stderr: err, json: global.json, live, learnt: Some(&mut learnt) };
        let status = match &cmd {
            Command::Help => {
                let _ = write!(o.stdout, "{HELP}\n{SHELL_HELP}");
                Status::Ok
            }
            Command::Version => {
                let _ = writeln!(o.stdout, "uspctl {}", env!("CARGO_PKG_VERSION"));
                Status::Ok
            }
            Command::Shell => {
                let _ = writeln!(o.stderr, "uspctl: already in the shell");
                Status::Usage
            }
            cmd if !cmd.needs_agent() => {
                exec::offline(cmd, &global, &mut std::io::empty(), &mut o).unwrap_or(Status::Usage)
            }
            cmd => exec::execute(self.ctl, cmd, &mut o),
        };
        learnt.iter().for_each(|p| self.paths.insert(p));
        Step::Continue(status)
    }

    /// Runs the commands of `input` (a script: no prompt), until its end or `exit`.
    pub fn run_script(
        &mut self,
        input: &mut dyn BufRead,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Status {
        let mut line = String::new();
        loop {
            line.clear();
            match input.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            self.print_events(out, err);
            match self.line(&line, out, err, false) {
                Step::Exit => break,
                Step::Continue(s) => self.worst = self.worst.max(s),
            }
        }
        self.print_events(out, err);
        self.worst
    }

    /// The interactive shell on the terminal (with `banner` after the first line).
    #[cfg(feature = "shell")]
    pub fn run_interactive(&mut self, banner: &str) -> Status {
        editor::run(self, banner)
    }

    /// Without the `shell` feature the terminal is read like a script, with a prompt.
    #[cfg(not(feature = "shell"))]
    pub fn run_interactive(&mut self, banner: &str) -> Status {
        let _ = banner;
        let stdin = std::io::stdin();
        self.run_script(&mut stdin.lock(), &mut std::io::stdout(), &mut std::io::stderr())
    }
}
