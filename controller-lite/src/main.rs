//! `uspctl`: the lab USP controller command.

use std::io::Read as _;
use std::process::ExitCode;

const HELP: &str = "\
uspctl - lab USP (TR-369) controller for uspagent

USAGE:
    uspctl decode [INPUT]    print a USP Record or Msg as readable text

INPUT is a file holding the binary Record, or the Record as hex or base64 text;
without INPUT, standard input is read (binary, hex or base64).
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("decode") => decode(args.get(1).map(String::as_str)),
        Some("-h" | "--help" | "help") | None => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("uspctl: unknown command '{other}'\n\n{HELP}");
            ExitCode::from(2)
        }
    }
}

fn decode(input: Option<&str>) -> ExitCode {
    let bytes = match read_input(input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("uspctl decode: {e}");
            return ExitCode::from(2);
        }
    };
    match uspctl::decode::describe(&bytes) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("uspctl decode: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The bytes to decode: a file's contents, or the argument or standard input as hex, base64 or
/// raw binary.
fn read_input(input: Option<&str>) -> Result<Vec<u8>, String> {
    let raw = match input {
        Some(arg) if std::path::Path::new(arg).is_file() => {
            std::fs::read(arg).map_err(|e| format!("cannot read {arg}: {e}"))?
        }
        Some(arg) => arg.as_bytes().to_vec(),
        None => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            buf
        }
    };
    match std::str::from_utf8(&raw) {
        Ok(text) => match uspctl::decode::text_to_bytes(text) {
            Ok(bytes) => Ok(bytes),
            Err(_) => Ok(raw),
        },
        Err(_) => Ok(raw),
    }
}
