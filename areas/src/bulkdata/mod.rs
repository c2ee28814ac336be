//! `Device.BulkData.` (TR-181 2.19, TR-369 Annex "Bulk Data Collection"): profiles that report
//! a set of parameters every `ReportingInterval` seconds, aligned on `TimeReference`, over HTTP(S),
//! MQTT or as the profile's `Push!` event (USPEventNotif), encoded as JSON or CSV.
//!
//! How a report is made:
//! - Scheduling runs on the data-model thread with the time the core passes in: each enabled
//!   profile's next report is at `TimeReference + k × ReportingInterval` (an unknown
//!   `TimeReference` counts from the moment the profile was enabled or changed); the plugin asks
//!   to be polled then ([`Ctx::wake_after`]) and never sleeps. A change of `Enable`,
//!   `ReportingInterval` or `TimeReference` starts a new interval at once.
//!   `ForceCollection()` makes a report now.
//! - Collection: the plugin emits [`collect::COLLECT_EVENT`]; the core reads the referenced
//!   values through the data model's read path ([`collect::snapshot`], as the agent itself,
//!   hidden parameters left out, unknown references skipped) and hands them to the worker
//!   ([`pipeline`]), which names ([`names`]), encodes ([`encode`]) and sends ([`http`]) the
//!   report. The owner thread pays for the snapshot only (`examples/bench_bulkdata.rs`).
//! - Results come back through the host's waker: a `Push!` event carries the report as `Data`,
//!   an MQTT report goes to the host's link;
//!   an HTTP failure is logged and the report is retained (`NumberOfRetainedFailedReports`,
//!   at most [`pipeline::MAX_RETAINED`]) and sent with the next one.
//!
//! Decisions where the specifications leave room:
//! - The core fills in `Controller` with the creating controller (as a Subscription's
//!   `Recipient`) and sends `Push!` only to that controller's subscriptions
//!   ([`push_recipient`]; to every subscriber when `Controller` is empty, for a profile of the
//!   agent's own configuration). The report is read with that controller's rights (what its
//!   Role may not read is left out, as from its Get); a profile without a Controller is read
//!   with the agent's. Hidden parameters are never reported.
//! - MQTT: the report goes to the host as [`SystemRequest::Publish`] naming the
//!   `Device.MQTT.Client.{i}.` of `MQTT.Reference`; the daemon publishes it on that client's
//!   link (the one an agent MTP uses) with `PublishTopic`, `PublishQoS` (2 is sent as 1),
//!   `PublishRetain` and the Content Type of R-BULK.8a (v5). A report whose link is down is
//!   dropped with a log line: the MQTT session's own retries are the only ones (TR-369 "Retrying
//!   Failed Transmissions"), and `NumberOfRetainedFailedReports` applies to HTTP only.
//! - `EncodingTypes` is `CSV,JSON`; XML is not offered (TR-181 2.19 deleted it with the IPDR
//!   protocols it was defined for; TR-369 defines CSV and JSON only).
//! - `HTTP.Compression` `GZIP` only (`CompressionsSupported` says so); `Method` POST or PUT;
//!   Basic authentication only. HTTPS trusts the CAs of `bulkdata-ca.pem` in the platform's
//!   state directory (beside the database) when that file exists, else the system bundle.
//! - `MinReportingInterval` is 1 s, `MaxNumberOfProfiles` and `MaxNumberOfParameterReferences`
//!   are -1 (no limit of ours beyond what one USP request may carry).
//! - A profile that cannot send (HTTP without a usable URL, MQTT without a topic) makes no
//!   report and logs why each interval; `ForceCollection()` on it fails with 7022 and the reason.
//!   TR-181 has no per-profile status parameter to show it in.
//! - HTTP uploads run on one thread per HTTP profile ([`pipeline`]): a profile's reports go in
//!   order, and its retries never delay another profile.
//! - Retained reports live in memory, and with `HTTP.PersistAcrossReboot` also in
//!   `bulkdata/profile-<n>.retained` beside the database (`retained.rs`), read back after a
//!   restart; at most [`pipeline::MAX_RETAINED`] per profile.

mod collect;
mod config;
pub mod encode;
pub mod http;
pub mod names;
pub mod pipeline;
mod retained;
mod schema;
#[cfg(test)]
mod tests;
mod tr181;

pub use collect::{
    COLLECT_EVENT, Collected, Collector, Snapshot, profile_controller, push_recipient, snapshot,
};

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Now, OpHandle, Outcome, Plugin, SystemRequest};
use usp_datamodel::schema::{CmdId, ParamId, SchemaBuilder};
use usp_datamodel::value::{DateTime, Value};

use self::config::Profile;
use self::pipeline::{Delivery, Done, Job, Prepared};
use self::schema::{Ids, PROFILE};
use crate::Host;

/// `MinReportingInterval`, seconds.
pub const MIN_INTERVAL: u64 = 1;
/// The protocols this agent sends reports with (`Protocols`).
pub const PROTOCOLS: &[&str] = &["HTTP", "MQTT", "USPEventNotif"];
/// `MaxNumberOfProfiles` (-1 is "no limit" in TR-181).
pub const MAX_PROFILES: i32 = -1;
/// `MaxNumberOfParameterReferences` (-1 is "no limit").
pub const MAX_REFERENCES: i32 = -1;

/// The BulkData plugins for `host`: one, on every platform.
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    match BulkData::new(host) {
        Ok(b) => vec![Box::new(b)],
        Err(e) => {
            log::error!("bulk data: cannot start its worker: {e}");
            Vec::new()
        }
    }
}

/// The schedule of one profile.
#[derive(Clone, Debug, PartialEq)]
struct Schedule {
    /// What the schedule was computed from: Enable, ReportingInterval, TimeReference.
    from: (bool, u32, DateTime),
    /// The uptime of the next report.
    due: Duration,
}

/// The `Device.BulkData.` plugin.
pub struct BulkData {
    ids: Ids,
    jobs: Sender<Job>,
    done: Receiver<Done>,
    next_ticket: u64,
    schedules: HashMap<u32, Schedule>,
    /// Each profile's last EncodingType, to drop retained reports when it changes.
    encodings: HashMap<u32, String>,
    ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for BulkData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkData").field("profiles", &self.schedules.len()).finish()
    }
}

impl BulkData {
    /// The plugin, with its worker started and connected to `host.bulkdata`.
    pub fn new(host: &Host) -> std::io::Result<BulkData> {
        let dir = host.paths.state_dir.join("bulkdata");
        let (jobs, done) = pipeline::spawn(host.waker.clone(), dir)?;
        host.bulkdata.connect(jobs.clone());
        let ca = host.paths.state_dir.join("bulkdata-ca.pem");
        Ok(BulkData {
            ids: Ids::default(),
            jobs,
            done,
            next_ticket: 1,
            schedules: HashMap::new(),
            encodings: HashMap::new(),
            ca_file: ca.is_file().then_some(ca),
        })
    }

    fn instance(&self, number: u32) -> Option<Instance> {
        let obj = self.ids.obj(PROFILE)?;
        Some(Instance { obj, numbers: vec![number], keys: vec![None] })
    }

    fn global_enable(&self, ctx: &Ctx) -> bool {
        let (Some(obj), Some(p)) =
            (self.ids.obj("Device.BulkData."), self.ids.param("Device.BulkData.", "Enable"))
        else {
            return false;
        };
        let inst = Instance { obj, numbers: Vec::new(), keys: Vec::new() };
        ctx.stored(&inst, p).and_then(Value::as_bool).unwrap_or(false)
    }

    /// Starts a report of `profile`: prepares the worker, then asks the core for the snapshot.
    fn start(&mut self, ctx: &mut Ctx, p: &Profile) -> Result<(), String> {
        let target = p.target()?;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        let uri = p.uri_references();
        let collected: Vec<&(String, String, bool)> = p.params.iter().filter(|x| !x.2).collect();
        let until_next =
            self.schedules.get(&p.number).map_or(Duration::from_secs(u64::from(p.interval)), |s| {
                s.due.saturating_sub(ctx.now().uptime)
            });
        let prepared = Prepared {
            ticket,
            profile: p.number,
            names: collected.iter().map(|(n, r, _)| (n.clone(), r.clone())).collect(),
            uri_refs: uri.len(),
            encoding: p.encoding.clone(),
            target,
            retain: p.retain,
            deadline: std::time::Instant::now() + until_next.max(Duration::from_secs(1)),
        };
        self.jobs.send(Job::Prepare(Box::new(prepared))).map_err(|_| "the worker is gone")?;
        let mut args: Vec<(Box<str>, Value)> = vec![("Ticket".into(), Value::UnsignedLong(ticket))];
        let reference = |r: &str| ("Reference".into(), Value::String(r.into()));
        args.extend(uri.iter().map(|r| reference(r)));
        args.extend(collected.iter().map(|(_, r, _)| reference(r)));
        args.extend(
            p.params
                .iter()
                .filter(|x| x.2)
                .map(|(_, r, _)| (Box::from("Exclude"), Value::String(r.as_str().into()))),
        );
        let inst = self.instance(p.number).ok_or("no profile table")?;
        ctx.emit(&inst, COLLECT_EVENT, args);
        Ok(())
    }

    /// Applies what the worker reports.
    fn on_done(&mut self, ctx: &mut Ctx, d: Done) {
        let name = format!("Device.BulkData.Profile.{}", d.profile);
        if !d.unresolved.is_empty() {
            log::info!("{name}: references designating nothing: {}", d.unresolved.join(", "));
        }
        match d.delivery {
            Delivery::Push(data) => {
                if let Some(inst) = self.instance(d.profile) {
                    let arg = (Box::from(tr181::PUSH_EVENT.1[0]), Value::String(data.into()));
                    ctx.emit(&inst, tr181::PUSH_EVENT.0, vec![arg]);
                }
            }
            Delivery::Sent { reports, attempts } => {
                log::debug!("{name}: {reports} report(s) sent in {attempts} attempt(s)");
            }
            Delivery::Failed { why, retained } => {
                log::warn!("{name}: report not sent: {why} ({retained} retained)");
            }
            Delivery::Publish { client, topic, qos, retain, content_type, payload } => {
                let p =
                    SystemRequest::Publish { client, topic, qos, retain, content_type, payload };
                ctx.system(p);
            }
        }
    }

    /// Re-reads every profile, starts the reports that are due, and asks to be woken for the
    /// next one.
    fn run_schedules(&mut self, ctx: &mut Ctx) {
        let Some(table) = self.ids.obj(PROFILE) else { return };
        let enabled = self.global_enable(ctx);
        let now = ctx.now();
        let rows = ctx.rows(table, &[]);
        self.schedules.retain(|n, _| rows.contains(n));
        let gone: Vec<u32> = self.encodings.keys().filter(|n| !rows.contains(n)).copied().collect();
        for n in gone {
            self.encodings.remove(&n);
            let _ = self.jobs.send(Job::Forget(n));
        }
        let mut next: Option<Duration> = None;
        for n in rows {
            let p = Profile::read(ctx, &self.ids, n, self.ca_file.clone());
            if self
                .encodings
                .insert(n, p.encoding_type.clone())
                .is_some_and(|e| e != p.encoding_type)
            {
                let _ = self.jobs.send(Job::Forget(n));
            }
            let from = (p.enable && enabled, p.interval, p.time_reference);
            if !from.0 {
                self.schedules.remove(&n);
                continue;
            }
            let fresh = || Schedule {
                from,
                due: now.uptime + next_delay(now.wall, p.interval, p.time_reference),
            };
            let s = self.schedules.entry(n).or_insert_with(fresh);
            if s.from != from {
                *s = fresh();
            }
            if s.due <= now.uptime {
                s.due = following(s.due, now, p.interval, p.time_reference);
                if let Err(why) = self.start(ctx, &p) {
                    log::warn!("Device.BulkData.Profile.{n}: no report: {why}");
                }
            }
            let due = self.schedules.get(&n).map(|s| s.due);
            next = match (next, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if let Some(at) = next {
            ctx.wake_after(at.saturating_sub(now.uptime));
        }
    }
}

/// The time from `now` to the next end of a reporting interval: `reference + k × interval`,
/// or a whole interval when `reference` is the unknown time.
pub fn next_delay(now: DateTime, interval: u32, reference: DateTime) -> Duration {
    let period = u64::from(interval.max(1)) * 1_000_000;
    if reference.is_unknown() {
        return Duration::from_micros(period);
    }
    let now_us = i128::from(now.secs) * 1_000_000 + i128::from(now.micros);
    let ref_us = i128::from(reference.secs) * 1_000_000 + i128::from(reference.micros);
    let into = (now_us - ref_us).rem_euclid(i128::from(period));
    let wait = i128::from(period) - into;
    Duration::from_micros(u64::try_from(wait).unwrap_or(period))
}

/// The report after the one due at `due`, made at `now`: one interval later when no time
/// reference is set; otherwise the next end of an interval on the wall clock, with half a
/// second of slack so that a wake a little early never makes two reports.
fn following(due: Duration, now: Now, interval: u32, reference: DateTime) -> Duration {
    let period = Duration::from_secs(u64::from(interval.max(1)));
    if reference.is_unknown() {
        let next = due + period;
        return if next > now.uptime { next } else { now.uptime + period };
    }
    let half = Duration::from_millis(500);
    now.uptime + next_delay(later(now.wall, half), interval, reference) + half
}

/// `t` plus `d`.
fn later(t: DateTime, d: Duration) -> DateTime {
    let micros = i64::from(t.micros) + i64::try_from(d.as_micros()).unwrap_or(i64::MAX / 2);
    DateTime { secs: t.secs + micros / 1_000_000, micros: (micros % 1_000_000) as u32 }
}

impl Plugin for BulkData {
    fn name(&self) -> &'static str {
        "BulkData"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids.register(b);
    }

    fn start(&mut self, ctx: &mut Ctx) {
        self.run_schedules(ctx);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        for &p in params {
            let (_, name) = self
                .ids
                .name_of(p)
                .ok_or_else(|| UspError::internal("BulkData: unknown parameter"))?;
            out.push(match name {
                "Status" => {
                    let on = self.global_enable(ctx);
                    Value::String(if on { "Enabled" } else { "Disabled" }.into())
                }
                "MinReportingInterval" => Value::UnsignedInt(MIN_INTERVAL as u32),
                "Protocols" => Value::String(PROTOCOLS.join(",").into()),
                "EncodingTypes" => Value::String("CSV,JSON".into()),
                "ParameterWildCardSupported" => Value::Boolean(true),
                "MaxNumberOfProfiles" => Value::Int(MAX_PROFILES),
                "MaxNumberOfParameterReferences" => Value::Int(MAX_REFERENCES),
                "CompressionsSupported" => Value::String("GZIP".into()),
                "MethodsSupported" => Value::String("POST,PUT".into()),
                _ => return Err(UspError::internal(format!("BulkData: {name} is not live"))),
            });
        }
        Ok(())
    }

    fn validate(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        for (p, v) in changes {
            if let Some((obj, name)) = self.ids.name_of(*p) {
                config::check(ctx.schema(), obj, name, v, PROTOCOLS)?;
            }
        }
        Ok(())
    }

    fn commit(&mut self, ctx: &mut Ctx) {
        ctx.wake_after(Duration::ZERO);
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if Some(cmd) != self.ids.force {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        }
        let n = *inst.numbers.first().ok_or_else(|| UspError::internal("no profile number"))?;
        let p = Profile::read(ctx, &self.ids, n, self.ca_file.clone());
        self.start(ctx, &p).map_err(|why| UspError::new(ErrorCode::CommandFailure, why))?;
        Ok(Outcome::Done(Vec::new()))
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        let done: Vec<Done> = self.done.try_iter().collect();
        for d in done {
            self.on_done(ctx, d);
        }
        self.run_schedules(ctx);
    }
}
