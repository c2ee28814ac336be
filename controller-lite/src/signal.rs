//! Ctrl-C and SIGTERM without unsafe code: SIGINT and SIGTERM are blocked in the main thread
//! before any other thread starts (so every thread inherits the mask), and one thread takes
//! them with `sigwait`.
//!
//! - SIGINT interrupts the controller's current wait (a `watch` ends, an `operate` stops
//!   waiting); three within two seconds end the process (130), for when nothing is waiting.
//! - SIGTERM runs the termination hook (e.g. stopping a child agent) and ends the process
//!   (143).
//!
//! Owns signal delivery only; never touches the controller beyond its [`Interrupter`].

use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal};

use crate::client::Interrupter;

/// The blocked signals, to be forwarded.
pub struct Signals {
    set: SigSet,
}

/// Blocks SIGINT and SIGTERM in the calling thread; call it before starting any thread.
pub fn block() -> nix::Result<Signals> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.thread_block()?;
    Ok(Signals { set })
}

/// What to do when the process is told to end.
pub type TerminateHook = Box<dyn Fn() + Send>;

impl Signals {
    /// Starts the thread taking the signals (see the module documentation).
    pub fn forward(self, interrupter: Interrupter, on_terminate: TerminateHook) {
        std::thread::spawn(move || {
            let mut recent: Vec<Instant> = Vec::new();
            loop {
                match self.set.wait() {
                    Ok(Signal::SIGINT) => {
                        recent.retain(|t| t.elapsed() < Duration::from_secs(2));
                        recent.push(Instant::now());
                        if recent.len() >= 3 {
                            on_terminate();
                            std::process::exit(130);
                        }
                        interrupter.interrupt();
                    }
                    Ok(Signal::SIGTERM) => {
                        on_terminate();
                        std::process::exit(143);
                    }
                    Ok(_) | Err(_) => {}
                }
            }
        });
    }
}
