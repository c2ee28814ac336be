//! The interactive shell on rustyline: prompt, history file, Tab completion of commands and
//! learnt paths. Owns the terminal while the shell runs.

use std::io::IsTerminal;
use std::path::PathBuf;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use super::{Shell, Step};
use crate::complete::{COMMANDS, PathTree};
use crate::exec::Status;

/// Completes the first word from the commands, the others from the learnt paths.
#[derive(Default)]
struct Completion {
    paths: PathTree,
}

impl Completer for Completion {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = line.get(..pos).unwrap_or(line);
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &before[start..];
        let first = before[..start].trim().is_empty();
        let candidates: Vec<String> = if first {
            COMMANDS.iter().filter(|c| c.starts_with(word)).map(|c| format!("{c} ")).collect()
        } else if word.contains('=') || word.starts_with('-') {
            Vec::new()
        } else {
            self.paths.complete(word)
        };
        let shown_from = word.rfind('.').map_or(0, |i| i + 1);
        let pairs = candidates
            .into_iter()
            .map(|c| Pair { display: c.get(shown_from..).unwrap_or(&c).to_owned(), replacement: c })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for Completion {
    type Hint = String;
}
impl Highlighter for Completion {}
impl Validator for Completion {}
impl Helper for Completion {}

/// `~/.uspctl_history`.
fn history_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".uspctl_history"))
}

/// Runs the interactive shell until `exit` or Ctrl-D.
pub(super) fn run(shell: &mut Shell, banner: &str) -> Status {
    let mut rl: Editor<Completion, FileHistory> = match Editor::new() {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("uspctl: no line editor ({e}); reading commands as a script");
            let stdin = std::io::stdin();
            return shell.run_script(
                &mut stdin.lock(),
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            );
        }
    };
    let learnt = shell.learn_data_model();
    let history = history_file();
    if let Some(h) = &history {
        // A missing history file is the normal first run.
        let _ = rl.load_history(h);
    }
    let agent = shell.ctl.agent().unwrap_or("(not connected yet)").to_owned();
    let known = if learnt {
        format!("{} paths learnt for Tab", shell.paths.len())
    } else {
        "no data model learnt yet".to_owned()
    };
    println!(
        "uspctl {} - agent {agent}; {known}. 'help' lists commands, Ctrl-D quits.",
        env!("CARGO_PKG_VERSION")
    );
    if !banner.is_empty() {
        println!("{banner}");
    }
    rl.set_helper(Some(Completion { paths: std::mem::take(&mut shell.paths) }));
    let live = std::io::stderr().is_terminal();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    loop {
        shell.print_events(&mut out, &mut err);
        let prompt = format!("{}> ", shell.ctl.agent().unwrap_or("uspctl"));
        match rl.readline(&prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    let _ = rl.add_history_entry(line.as_str());
                }
                if let Some(h) = rl.helper_mut() {
                    shell.paths = std::mem::take(&mut h.paths);
                }
                let step = shell.line(&line, &mut out, &mut err, live);
                if let Some(h) = rl.helper_mut() {
                    h.paths = std::mem::take(&mut shell.paths);
                }
                if step == Step::Exit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {}
            Err(_) => break,
        }
    }
    if let Some(h) = &history {
        if let Err(e) = rl.save_history(h) {
            eprintln!("uspctl: history not saved to {}: {e}", h.display());
        }
    }
    // Failures were shown as they happened; leaving an interactive shell is a success.
    Status::Ok
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rustyline::history::MemHistory;

    fn complete(c: &Completion, line: &str) -> (usize, Vec<(String, String)>) {
        let history = MemHistory::new();
        let (start, pairs) = c.complete(line, line.len(), &Context::new(&history)).unwrap();
        (start, pairs.into_iter().map(|p| (p.display, p.replacement)).collect())
    }

    #[test]
    fn commands_first_then_paths() {
        let mut c = Completion::default();
        c.paths.insert("Device.DeviceInfo.ModelName");
        c.paths.insert("Device.DeviceInfo.Manufacturer");
        assert_eq!(complete(&c, "ge"), (0, vec![("get ".into(), "get ".into())]));
        let (start, pairs) = complete(&c, "get Device.DeviceInfo.Mo");
        assert_eq!(start, 4);
        assert_eq!(pairs, [("ModelName".to_owned(), "Device.DeviceInfo.ModelName".to_owned())]);
        assert!(complete(&c, "set Device.DeviceInfo.ModelName=").1.is_empty());
        assert!(complete(&c, "get --max").1.is_empty());
    }
}
