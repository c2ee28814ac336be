//! The bulk data worker thread: it pairs each snapshot the core delivers with the profile
//! settings the plugin prepared for it, names and encodes the report, and hands the encoded
//! text back to the plugin (MQTT publish through the host's link, `Push!` event), or passes the
//! report to the profile's uploader thread (HTTP). An uploader (one per HTTP profile, started
//! at its first report) uploads its profile's reports in order, keeps the failed ones
//! (`NumberOfRetainedFailedReports`) and sends them with the next one, in one body; a slow or
//! failing collector, retries included, holds up no other profile.
//!
//! Every [`Done`] wakes the data-model thread through the host's waker. The threads end when
//! the plugin (and the core's [`super::collect::Collector`]) drop their senders.
//!
//! Never does: data-model reads (the snapshot is the core's) or data-model writes (the plugin
//! applies every [`Done`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use usp_datamodel::plugin::Wake;

use super::collect::Snapshot;
use super::encode::{Encoding, Item, Report};
use super::http::{self, HttpTarget};
use super::names::report_name;
use super::retained;

/// How many failed reports are kept at most, whatever the profile asks (-1 is "as many as
/// possible": this bounds the memory a dead collector can cost).
pub const MAX_RETAINED: usize = 64;

/// At most this many prepared requests wait for their snapshot (older ones are dropped).
const MAX_PENDING: usize = 256;

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Uploaded by this thread.
    Http {
        /// The settings.
        target: HttpTarget,
        /// The query parameters of R-BULK.1 and `RequestURIParameter.{i}`: name and the
        /// position of the reference that gives the value, in the snapshot's `uri` order.
        query: Vec<String>,
    },
    /// Published by the host on the MQTT client `client` (`Device.MQTT.Client.1.`).
    Mqtt {
        /// The client's instance path.
        client: String,
        /// `PublishTopic`.
        topic: String,
        /// `PublishQoS`.
        qos: u8,
        /// `PublishRetain`.
        retain: bool,
    },
    /// Sent as the profile's `Push!` event.
    Push,
}

/// What the plugin prepares for one report.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Pairs it with its snapshot.
    pub ticket: u64,
    /// The profile's instance number.
    pub profile: u32,
    /// Per collected reference, in order: its `Name` and `Reference`.
    pub names: Vec<(String, String)>,
    /// The number of `Reference` arguments that are URI parameters (they come first).
    pub uri_refs: usize,
    /// The encoding.
    pub encoding: Encoding,
    /// The destination.
    pub target: Target,
    /// `NumberOfRetainedFailedReports`.
    pub retain: i32,
    /// Retries end here (the next report is due).
    pub deadline: Instant,
}

/// A job for the thread.
#[derive(Debug)]
pub enum Job {
    /// A report is being collected with these settings.
    Prepare(Box<Prepared>),
    /// The core's snapshot for a prepared report.
    Snapshot(Snapshot),
    /// Drop the retained reports of a profile (its encoding changed, it was deleted).
    Forget(u32),
}

/// What happened to one report.
#[derive(Clone, Debug, PartialEq)]
pub enum Delivery {
    /// Uploaded (with `reports` reports in the body, retained ones included).
    Sent {
        /// How many reports the body held.
        reports: usize,
        /// Attempts it took.
        attempts: u32,
    },
    /// The upload failed; `retained` reports now wait for the next one.
    Failed {
        /// Why.
        why: String,
        /// How many are kept.
        retained: usize,
    },
    /// To be published by the host.
    Publish {
        /// The MQTT client's instance path.
        client: String,
        /// The topic.
        topic: String,
        /// QoS 0..2.
        qos: u8,
        /// The retain flag.
        retain: bool,
        /// The Content Type (R-BULK.8a).
        content_type: String,
        /// The encoded report.
        payload: Vec<u8>,
    },
    /// To be sent as `Push!` with this `Data`.
    Push(String),
}

/// One report's end, for the plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    /// The profile.
    pub profile: u32,
    /// Its ticket.
    pub ticket: u64,
    /// What happened.
    pub delivery: Delivery,
    /// Parameters in the report.
    pub parameters: usize,
    /// The time naming and encoding took on this thread.
    pub encode_time: Duration,
    /// The references that designated nothing.
    pub unresolved: Vec<String>,
}

/// Starts the thread, which keeps the failed reports of profiles with `PersistAcrossReboot` in
/// `dir`; returns its job queue and the queue of its results.
pub fn spawn(
    wake: Arc<dyn Wake>,
    dir: std::path::PathBuf,
) -> std::io::Result<(Sender<Job>, Receiver<Done>)> {
    let (jobs, rx) = mpsc::channel::<Job>();
    let (tx, done) = mpsc::channel::<Done>();
    std::thread::Builder::new().name("bulkdata".into()).spawn(move || {
        let mut state = State {
            pending: HashMap::new(),
            uploaders: HashMap::new(),
            out: Out { tx, wake, dir },
        };
        for job in rx {
            if let Some(d) = state.handle(job) {
                if !state.out.send(d) {
                    break;
                }
            }
        }
    })?;
    Ok((jobs, done))
}

/// Where results go: the plugin's queue, its waker, and the directory of persisted reports.
#[derive(Clone)]
struct Out {
    tx: Sender<Done>,
    wake: Arc<dyn Wake>,
    dir: std::path::PathBuf,
}

impl Out {
    /// Delivers `d` and wakes the data-model thread; `false` once the plugin is gone.
    fn send(&self, d: Done) -> bool {
        let sent = self.tx.send(d).is_ok();
        if sent {
            self.wake.wake();
        }
        sent
    }
}

/// One HTTP report for a profile's uploader.
struct Upload {
    prepared: Prepared,
    target: HttpTarget,
    url: String,
    report: Report,
    done: Done,
}

struct State {
    pending: HashMap<u64, Prepared>,
    /// Each HTTP profile's uploader thread (its queue): a profile's uploads go in order, one at
    /// a time, and never hold up another profile's reports.
    uploaders: HashMap<u32, Sender<Upload>>,
    out: Out,
}

impl State {
    fn handle(&mut self, job: Job) -> Option<Done> {
        match job {
            Job::Prepare(p) => {
                if self.pending.len() >= MAX_PENDING {
                    log::warn!("bulk data: too many reports wait for their snapshot; dropped");
                    self.pending.clear();
                }
                self.pending.insert(p.ticket, *p);
                None
            }
            Job::Forget(profile) => {
                // The uploader ends after the upload in hand, with its retained reports.
                self.uploaders.remove(&profile);
                retained::remove(&self.out.dir, profile);
                None
            }
            Job::Snapshot(s) => {
                let p = self.pending.remove(&s.ticket)?;
                self.report(p, s)
            }
        }
    }

    fn report(&mut self, p: Prepared, s: Snapshot) -> Option<Done> {
        let started = Instant::now();
        let (query, report) = build(&p, &s);
        let mut done = Done {
            profile: p.profile,
            ticket: p.ticket,
            delivery: Delivery::Push(String::new()),
            parameters: report.items.len(),
            encode_time: Duration::ZERO,
            unresolved: s.unresolved,
        };
        done.delivery = match &p.target {
            Target::Push => {
                let text = p.encoding.encode(std::slice::from_ref(&report));
                Delivery::Push(text)
            }
            Target::Mqtt { client, topic, qos, retain } => {
                let text = p.encoding.encode(std::slice::from_ref(&report));
                Delivery::Publish {
                    client: client.clone(),
                    topic: topic.clone(),
                    qos: *qos,
                    retain: *retain,
                    content_type: json_or_csv(&p.encoding).into(),
                    payload: text.into_bytes(),
                }
            }
            Target::Http { target, query: names } => {
                let pairs: Vec<(String, String)> = names.iter().cloned().zip(query).collect();
                let url = http::with_query(&target.url, &pairs);
                done.encode_time = started.elapsed();
                let target = target.clone();
                let upload = Upload { prepared: p, target, url, report, done };
                return self.upload(upload);
            }
        };
        done.encode_time = started.elapsed();
        Some(done)
    }

    /// Hands `u` to its profile's uploader, starting one when needed; a [`Done`] at once only
    /// when no uploader can run.
    fn upload(&mut self, u: Upload) -> Option<Done> {
        let profile = u.prepared.profile;
        let u = match self.uploaders.get(&profile) {
            Some(tx) => match tx.send(u) {
                Ok(()) => return None,
                // The uploader is gone (it could not report): start another.
                Err(mpsc::SendError(u)) => u,
            },
            None => u,
        };
        let (tx, rx) = mpsc::channel::<Upload>();
        let out = self.out.clone();
        let started = std::thread::Builder::new()
            .name(format!("bulkdata-http-{profile}"))
            .spawn(move || uploader(profile, &rx, &out));
        if let Err(e) = started {
            let mut done = u.done;
            done.delivery = Delivery::Failed { why: format!("no upload thread: {e}"), retained: 0 };
            return Some(done);
        }
        let _ = tx.send(u);
        self.uploaders.insert(profile, tx);
        None
    }
}

/// A profile's uploader: sends each report (with the failed ones it keeps before it), keeps
/// what fails, and reports every outcome.
fn uploader(profile: u32, rx: &Receiver<Upload>, out: &Out) {
    let mut kept: Option<Vec<Report>> = None;
    for u in rx {
        let started = Instant::now();
        let Upload { prepared: p, target, url, report, mut done } = u;
        // Memory and file agree: the file is written on every failure and removed on every
        // success, so the first upload after a restart reads the file.
        let mut reports = match kept.take() {
            Some(r) => r,
            None if target.persist => retained::load(&out.dir, profile),
            None => Vec::new(),
        };
        reports.push(report);
        let body = http::body(&target, &p.encoding.encode(&reports));
        done.encode_time += started.elapsed();
        done.delivery = match http::upload(&target, &url, &p.encoding, &body, p.deadline) {
            Ok(attempts) => {
                if target.persist {
                    retained::remove(&out.dir, profile);
                }
                Delivery::Sent { reports: reports.len(), attempts }
            }
            Err(e) => {
                let n = keep(&mut reports, p.retain);
                if target.persist {
                    retained::save(&out.dir, profile, &reports);
                }
                kept = Some(reports);
                Delivery::Failed { why: e.to_string(), retained: n }
            }
        };
        if !out.send(done) {
            return;
        }
    }
}

/// The MQTT Content Type (R-BULK.8a), without CSV's `header=present`.
fn json_or_csv(e: &Encoding) -> &'static str {
    match e {
        Encoding::Json { .. } => "application/json; charset=UTF-8",
        Encoding::Csv(_) => "text/csv; charset=UTF-8",
    }
}

/// Trims the failed reports to what the profile retains (the current one included, the
/// oldest dropped first); returns how many are kept.
fn keep(reports: &mut Vec<Report>, retain: i32) -> usize {
    let limit = match retain {
        r if r < 0 => MAX_RETAINED,
        r => usize::try_from(r).unwrap_or(0).min(MAX_RETAINED),
    };
    if reports.len() > limit {
        reports.drain(..reports.len() - limit);
    }
    reports.len()
}

/// The URI parameter values and the named report of a snapshot.
fn build(p: &Prepared, s: &Snapshot) -> (Vec<String>, Report) {
    let mut query = vec![String::new(); p.uri_refs];
    let mut items = Vec::with_capacity(s.values.len());
    for c in &s.values {
        if c.reference < p.uri_refs {
            if let Some(q) = query.get_mut(c.reference) {
                *q = c.value.to_string();
            }
            continue;
        }
        let Some((name, reference)) = p.names.get(c.reference - p.uri_refs) else { continue };
        items.push(Item { name: report_name(name, reference, &c.path), value: c.value.clone() });
    }
    (query, Report { collected: s.collected, items })
}
