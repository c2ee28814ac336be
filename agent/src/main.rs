//! `uspagent`: the USP agent daemon. Everything lives in the library (`uspagent::daemon`);
//! this file only reads the command line and turns the outcome into an exit status.

use std::process::ExitCode;

use uspagent::daemon::{self, Exit, options};

fn main() -> ExitCode {
    let env_eid = std::env::var("USP_ENDPOINT_ID").ok();
    let opts = match options::parse(std::env::args_os().skip(1), env_eid) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("uspagent: {e}");
            return ExitCode::from(2);
        }
    };
    if opts.help {
        print!("{}", options::HELP);
        return ExitCode::SUCCESS;
    }
    if opts.version {
        println!("uspagent {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(words) = &opts.command {
        let status = daemon::run_command(&opts, words);
        return ExitCode::from(u8::try_from(status).unwrap_or(1));
    }
    if let Some(problem) = daemon::logging::init(&opts.log, opts.verbosity, opts.protocol_trace) {
        eprintln!("uspagent: {problem}; logging to stderr");
    }
    daemon::panic::abort_on_panic(opts.log != options::LogTarget::Stderr);
    match daemon::run(&opts) {
        Ok(Exit::Stopped) => ExitCode::SUCCESS,
        Ok(Exit::Restart | Exit::FactoryReset) => daemon::restart(&opts),
        Err(e) => {
            log::error!("{e}");
            // Said once: the log already reached the terminal when it goes to stderr.
            if opts.log != options::LogTarget::Stderr || opts.verbosity == 0 {
                eprintln!("uspagent: {e}");
            }
            ExitCode::FAILURE
        }
    }
}
