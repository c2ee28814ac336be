//! The seam between an area's plugin, which runs on the data-model thread and must never
//! block, and its backend's slow work (running `uci`/`ubus`/`opkg`, reading sockets and files,
//! downloads), which runs on a thread of its own.
//!
//! The pattern every backend follows:
//! - The plugin owns a [`Worker`] made at start-up with the [`crate::Host`]'s waker. In
//!   `commit` it stages nothing slow: it [`Worker::submit`]s a job (the whole transaction's
//!   change, so a reload happens once per USP transaction) and returns at once. An async
//!   command (`Outcome::Running`) submits its job the same way.
//! - The worker thread runs the job and sends its result back; every result wakes the
//!   data-model thread, which polls the plugins: the plugin drains [`Worker::results`] in
//!   `Plugin::poll` and applies each one through its `Ctx` (new cached values with
//!   `value_changed`, rows with `rows_changed`, `complete` for a command, a log line for an
//!   apply that failed).
//! - Events the backend hears unasked (a station joins, a package is removed by hand) come
//!   through an [`Inbox`] cloned from the worker and given to a watcher thread.
//!
//! Contract: `submit` and `results` never block; a worker whose thread has died reports
//! [`WorkerGone`] on submit and the plugin answers its request with an error, never a panic.
//! Dropping the `Worker` lets its thread end after the job in hand (it is not joined: a
//! download in progress must not hold up a shutdown).

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};

use usp_datamodel::plugin::Wake;

/// A backend thread: jobs of type `J` in, results of type `R` out.
pub struct Worker<J, R> {
    jobs: Sender<J>,
    results: Receiver<R>,
    inbox: Inbox<R>,
    name: String,
}

impl<J, R> fmt::Debug for Worker<J, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker").field("name", &self.name).finish()
    }
}

/// The worker's thread is gone (it panicked, or could not be started): the job was not taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerGone(pub String);

impl fmt::Display for WorkerGone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} backend worker is not running", self.0)
    }
}

impl std::error::Error for WorkerGone {}

impl<J: Send + 'static, R: Send + 'static> Worker<J, R> {
    /// Starts a thread named `name` that runs `handle` on every submitted job, in order, and
    /// sends each result back, waking the data-model thread through `wake`.
    pub fn spawn(
        name: &str,
        wake: Arc<dyn Wake>,
        mut handle: impl FnMut(J) -> R + Send + 'static,
    ) -> std::io::Result<Worker<J, R>> {
        let (jobs, job_rx) = mpsc::channel::<J>();
        let (result_tx, results) = mpsc::channel::<R>();
        let inbox = Inbox { tx: result_tx, wake };
        let thread_inbox = inbox.clone();
        std::thread::Builder::new().name(name.to_owned()).spawn(move || {
            for job in job_rx {
                if !thread_inbox.push(handle(job)) {
                    break;
                }
            }
        })?;
        Ok(Worker { jobs, results, inbox, name: name.to_owned() })
    }

    /// Hands `job` to the thread; never blocks.
    pub fn submit(&self, job: J) -> Result<(), WorkerGone> {
        self.jobs.send(job).map_err(|_| WorkerGone(self.name.clone()))
    }

    /// The results that arrived since the last call, in order; never blocks.
    pub fn results(&self) -> impl Iterator<Item = R> + '_ {
        self.results.try_iter()
    }

    /// A handle through which another thread (a watcher of backend events) delivers results
    /// as if the worker had produced them.
    pub fn inbox(&self) -> Inbox<R> {
        self.inbox.clone()
    }
}

/// Delivers results to a [`Worker`]'s plugin from any thread, waking the data-model thread.
pub struct Inbox<R> {
    tx: Sender<R>,
    wake: Arc<dyn Wake>,
}

impl<R> Clone for Inbox<R> {
    fn clone(&self) -> Inbox<R> {
        Inbox { tx: self.tx.clone(), wake: Arc::clone(&self.wake) }
    }
}

impl<R> fmt::Debug for Inbox<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Inbox")
    }
}

impl<R> Inbox<R> {
    /// Delivers `result` and wakes the data-model thread; `false` once the worker (and so its
    /// plugin) is gone, when the caller should stop.
    pub fn push(&self, result: R) -> bool {
        let sent = self.tx.send(result).is_ok();
        if sent {
            self.wake.wake();
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    #[derive(Default)]
    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn wait_for<R>(worker: &Worker<u32, R>, n: usize) -> Vec<R>
    where
        R: Send + 'static,
    {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut got = Vec::new();
        while got.len() < n && Instant::now() < deadline {
            got.extend(worker.results());
            std::thread::sleep(Duration::from_millis(2));
        }
        got
    }

    #[test]
    fn jobs_run_in_order_off_the_caller_and_each_result_wakes() {
        let wakes = Arc::new(CountWakes::default());
        let caller = std::thread::current().id();
        let worker = Worker::spawn("test-worker", wakes.clone(), move |n: u32| {
            assert_ne!(std::thread::current().id(), caller);
            std::thread::sleep(Duration::from_millis(20));
            n * 2
        })
        .unwrap();
        let started = Instant::now();
        for n in 1..=3 {
            worker.submit(n).unwrap();
        }
        assert!(started.elapsed() < Duration::from_millis(20), "submit does not wait for the job");
        assert_eq!(wait_for(&worker, 3), vec![2, 4, 6]);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn an_inbox_delivers_unasked_events_and_a_dead_worker_is_reported() {
        let wakes = Arc::new(CountWakes::default());
        let worker = Worker::spawn("test-dies", wakes.clone(), |n: u32| {
            if n == 0 {
                panic!("backend bug");
            }
            n
        })
        .unwrap();
        let inbox = worker.inbox();
        std::thread::spawn(move || inbox.push(99)).join().unwrap();
        assert_eq!(wait_for(&worker, 1), vec![99]);
        worker.submit(0).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut gone = None;
        while Instant::now() < deadline {
            if let Err(e) = worker.submit(1) {
                gone = Some(e);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let gone = gone.expect("the dead worker is reported");
        assert!(gone.to_string().contains("test-dies"), "{gone}");
    }
}
