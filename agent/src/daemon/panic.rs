//! What a panic does in the daemon: log it and abort the whole process.
//!
//! Contract: a panic in any thread (owner, link, CLI, signals) ends the process with SIGABRT,
//! after the message reached the log and stderr. Under the default unwinding a panicking link
//! thread would die alone and leave a half-alive agent that procd never restarts; aborting lets
//! the service manager (procd's `respawn`) start the agent again from its database. Cross builds
//! use `panic = "abort"` already; this makes host and OpenWrt SDK builds (which force
//! `panic=unwind`) behave the same.
//!
//! Never does: catch or recover from panics. The agent has no panic on purpose: network and user
//! input get USP errors or log lines; a panic is a bug.

use std::panic::PanicHookInfo;

/// Installs the hook. `also_log`: send the message to the logger too (when it does not write to
/// stderr already, where the default hook prints it).
pub fn abort_on_panic(also_log: bool) {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
        if also_log {
            log::error!("{}", describe(info));
        }
        default(info);
        eprintln!("uspagent: aborting after a panic; restart the agent to continue");
        std::process::abort();
    }));
}

/// One line naming the thread, the place and the message of a panic.
fn describe(info: &PanicHookInfo<'_>) -> String {
    let current = std::thread::current();
    let thread = current.name().unwrap_or("unnamed");
    let place =
        info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    format!("panic in thread '{thread}'{place}: {message}; aborting")
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;

    const CHILD: &str = "USPAGENT_PANIC_TEST_CHILD";

    /// Runs itself as a child process that installs the hook and panics in a helper thread:
    /// the child must die of SIGABRT (not exit normally after the thread's unwinding) and say
    /// why on stderr.
    #[test]
    fn a_panic_in_any_thread_aborts_the_process() {
        if std::env::var_os(CHILD).is_some() {
            let _ =
                crate::daemon::logging::init(&crate::daemon::options::LogTarget::Stderr, 1, false);
            super::abort_on_panic(true);
            let t = std::thread::Builder::new().name("link-7".into()).spawn(|| {
                let v: Vec<u8> = Vec::new();
                let i = v.len() + 3;
                std::hint::black_box(v)[i]
            });
            let _ = t.map(std::thread::JoinHandle::join);
            // Only reached when the hook did not abort: exit "successfully" so the parent fails.
            std::process::exit(0);
        }
        let me = std::env::current_exe().expect("test binary path");
        let out = Command::new(me)
            .args(["--exact", "daemon::panic::tests::a_panic_in_any_thread_aborts_the_process"])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .expect("run the child");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.signal(), Some(6), "child status {:?}, stderr: {stderr}", out.status);
        assert!(stderr.contains("link-7") && stderr.contains("index out of bounds"), "{stderr}");
        assert!(stderr.contains("aborting after a panic"), "{stderr}");
        // The logger's line (`also_log`): thread, place and message on one line.
        assert!(
            stderr
                .lines()
                .any(|l| l.contains("panic in thread 'link-7' at agent/src/daemon/panic.rs:")
                    && l.contains("index out of bounds")
                    && l.ends_with("; aborting")),
            "{stderr}"
        );
    }
}
