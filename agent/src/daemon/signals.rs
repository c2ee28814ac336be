//! Signals without unsafe code and without async handlers: SIGTERM, SIGINT and SIGHUP are
//! blocked in every thread (the mask is set before any thread is spawned and inherited), and
//! one thread waits for them with `sigwait` and passes them on as ordinary values.

use nix::sys::signal::{SigSet, Signal};

/// A signal the daemon acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM or SIGINT: shut down cleanly.
    Terminate,
    /// SIGHUP: reload the configuration.
    Reload,
}

/// Blocks the daemon's signals in the calling thread. Call first in `main`, before spawning.
pub fn block() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    set.thread_block()?;
    Ok(set)
}

/// Spawns the thread that turns the blocked signals of `set` into calls of `deliver`.
pub fn spawn(set: SigSet, deliver: impl Fn(Stop) + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        loop {
            match set.wait() {
                Ok(Signal::SIGHUP) => deliver(Stop::Reload),
                Ok(_) => deliver(Stop::Terminate),
                Err(e) => {
                    log::error!("waiting for signals failed: {e}");
                    return;
                }
            }
        }
    })?;
    Ok(())
}
