//! The daemon's `log` backend: stderr, stdout, a file, or syslog through `/dev/log` (OpenWrt's
//! logd reads it), at the level of `-v`, plus the protocol trace of `-p` (records with the
//! target [`TRACE_TARGET`] are printed whatever the level).
//!
//! Never blocks the data-model thread for long: syslog datagrams are sent non-blocking and
//! dropped when the log daemon is not reading; a write error is ignored (there is nowhere left to
//! report it).

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::sync::Mutex;

use super::options::LogTarget;

/// The target of the `-p` protocol trace records.
pub const TRACE_TARGET: &str = "usp-trace";

/// The syslog socket.
const DEV_LOG: &str = "/dev/log";

enum Sink {
    Stderr,
    Stdout,
    File(Mutex<File>),
    Syslog(UnixDatagram),
}

struct Logger {
    level: log::LevelFilter,
    trace: bool,
    sink: Sink,
}

/// The `log` level of a `-v` value.
pub fn level_of(verbosity: u8) -> log::LevelFilter {
    match verbosity {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

/// Installs the logger. Returns a message when the target could not be opened (the logger
/// then falls back to stderr).
pub fn init(target: &LogTarget, verbosity: u8, trace: bool) -> Option<String> {
    let (sink, problem) = open(target);
    let level = level_of(verbosity);
    let max = if trace { log::LevelFilter::Trace } else { level };
    let logger = Logger { level, trace, sink };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(max);
    }
    problem
}

fn open(target: &LogTarget) -> (Sink, Option<String>) {
    match target {
        LogTarget::Stderr => (Sink::Stderr, None),
        LogTarget::Stdout => (Sink::Stdout, None),
        LogTarget::File(path) => {
            match std::fs::OpenOptions::new().create(true).append(true).open(path) {
                Ok(f) => (Sink::File(Mutex::new(f)), None),
                Err(e) => {
                    (Sink::Stderr, Some(format!("cannot open log file {}: {e}", path.display())))
                }
            }
        }
        LogTarget::Syslog => {
            let sock = UnixDatagram::unbound().and_then(|s| {
                s.connect(DEV_LOG)?;
                s.set_nonblocking(true)?;
                Ok(s)
            });
            match sock {
                Ok(s) => (Sink::Syslog(s), None),
                Err(e) => (Sink::Stderr, Some(format!("cannot reach syslog at {DEV_LOG}: {e}"))),
            }
        }
    }
}

/// The syslog severity of a level (RFC 5424 numbers; facility daemon = 3).
fn syslog_priority(level: log::Level) -> u8 {
    let severity = match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    };
    3 * 8 + severity
}

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= self.level || (self.trace && m.target() == TRACE_TARGET)
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = record.args();
        match &self.sink {
            Sink::Syslog(s) => {
                let line = format!(
                    "<{}>uspagent[{}]: {text}",
                    syslog_priority(record.level()),
                    std::process::id()
                );
                let _ = s.send(line.as_bytes());
            }
            Sink::Stderr => {
                let _ = writeln!(std::io::stderr().lock(), "{} {text}", tag(record));
            }
            Sink::Stdout => {
                let _ = writeln!(std::io::stdout().lock(), "{} {text}", tag(record));
            }
            Sink::File(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = writeln!(f, "{} {text}", tag(record));
                }
            }
        }
    }

    fn flush(&self) {
        if let Sink::File(f) = &self.sink {
            if let Ok(mut f) = f.lock() {
                let _ = f.flush();
            }
        }
    }
}

/// The short prefix of a line: the level, or `USP` for the protocol trace.
fn tag(record: &log::Record) -> &'static str {
    if record.target() == TRACE_TARGET {
        return "USP  ";
    }
    match record.level() {
        log::Level::Error => "ERROR",
        log::Level::Warn => "WARN ",
        log::Level::Info => "INFO ",
        log::Level::Debug => "DEBUG",
        log::Level::Trace => "TRACE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_obuspa_verbosity() {
        assert_eq!(level_of(0), log::LevelFilter::Off);
        assert_eq!(level_of(1), log::LevelFilter::Error);
        assert_eq!(level_of(3), log::LevelFilter::Info);
        assert_eq!(level_of(4), log::LevelFilter::Debug);
        assert_eq!(level_of(9), log::LevelFilter::Trace);
    }

    #[test]
    fn syslog_priorities_use_the_daemon_facility() {
        assert_eq!(syslog_priority(log::Level::Error), 27);
        assert_eq!(syslog_priority(log::Level::Info), 30);
    }

    #[test]
    fn an_unopenable_target_falls_back_with_a_reason() {
        let (sink, problem) = open(&LogTarget::File("/nonexistent-dir/x.log".into()));
        assert!(matches!(sink, Sink::Stderr));
        assert!(problem.unwrap_or_default().contains("/nonexistent-dir/x.log"));
    }

    #[test]
    fn the_trace_is_enabled_only_with_dash_p() {
        use log::Log;
        let quiet = Logger { level: log::LevelFilter::Warn, trace: false, sink: Sink::Stderr };
        let traced = Logger { trace: true, ..quiet_copy(&quiet) };
        let m = log::Metadata::builder().level(log::Level::Info).target(TRACE_TARGET).build();
        assert!(!quiet.enabled(&m));
        assert!(traced.enabled(&m));
        let other = log::Metadata::builder().level(log::Level::Info).target("x").build();
        assert!(!traced.enabled(&other));
    }

    fn quiet_copy(l: &Logger) -> Logger {
        Logger { level: l.level, trace: l.trace, sink: Sink::Stderr }
    }
}
