//! `kill -9` of the real agent during storms of Set, Add and Delete from several controllers.
//!
//! Each round: every controller runs its storm (one request at a time, on its own thread);
//! the agent is killed with SIGKILL at a random moment; the database is checked with `PRAGMA
//! integrity_check`; the agent is started again on it and the time until it answers a Get is
//! measured; then everything the controllers were told is compared with what the agent
//! serves. A write whose response arrived must be there; the one request in flight at the
//! kill may be there or not, but never in part (each Set changes two objects, each Add sets
//! several parameters).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::add_resp::created_object_result::operation_status::OperStatus;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Add, Delete, Set};
use usp_testkit::mosquitto::Mosquitto;
use uspctl::client::{ClientError, Controller};

use super::{Violation, controller, ensure, get_values, median_max, reset, start_agent};

/// How long a request waits for its answer.
const TIMEOUT: Duration = Duration::from_secs(2);
const SUBS: &str = "Device.LocalAgent.Subscription.";

/// What the kill suite measured.
#[derive(Debug, Clone, Default)]
pub struct KillFigures {
    /// Rounds run (one kill each).
    pub rounds: usize,
    /// Writes (Set, Add, Delete) whose response arrived before a kill.
    pub acknowledged: u64,
    /// Requests in flight at a kill (applied whole or not at all).
    pub in_doubt: u64,
    /// Of those, the ones found applied after the restart.
    pub in_doubt_applied: u64,
    /// Acknowledged writes missing after a restart (always 0, else the suite fails).
    pub lost: u64,
    /// From starting the agent again to the answer of its first Get, each round.
    pub restart_to_answer: Vec<Duration>,
}

impl KillFigures {
    /// One line of figures.
    pub fn summary(&self) -> String {
        let (median, max) = median_max(&self.restart_to_answer);
        format!(
            "kill -9: {} rounds, {} acknowledged writes, {} lost, {} in flight at a kill ({} \
             applied whole, the rest not at all), restart to answer median {median:?} max {max:?}",
            self.rounds, self.acknowledged, self.lost, self.in_doubt, self.in_doubt_applied
        )
    }
}

/// The request a controller had in flight when the agent died.
#[derive(Debug, Clone)]
enum Doubt {
    Add { id: String, n: u32 },
    Set { n: u32 },
    Delete { id: String },
}

/// One controller's storm and what it was told.
struct Client {
    i: usize,
    ctl: Controller,
    /// The two subscriptions every Set changes together.
    pair: [String; 2],
    set_acked: u32,
    /// Acknowledged Adds not deleted since: ID → its NotifExpiration.
    live: BTreeMap<String, u32>,
    /// Acknowledged Deletes (IDs).
    gone: Vec<String>,
    doubt: Option<Doubt>,
    next: u32,
    acked: u64,
}

fn add_request(i: usize, id: &str, n: u32) -> Add {
    let p = |param: &str, value: &str| CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required: true,
    };
    Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: SUBS.into(),
            param_settings: vec![
                p("ID", id),
                p("NotifType", "ValueChange"),
                p(
                    "ReferenceList",
                    &format!("Device.LocalAgent.Controller.{i}.PeriodicNotifInterval"),
                ),
                p("Persistent", "true"),
                p("Enable", "false"),
                p("NotifExpiration", &n.to_string()),
            ],
        }],
    }
}

fn set_request(pair: &[String; 2], n: u32) -> Set {
    let update = |obj: &String| UpdateObject {
        obj_path: obj.clone(),
        param_settings: vec![UpdateParamSetting {
            param: "NotifExpiration".into(),
            value: n.to_string(),
            required: true,
        }],
    };
    Set { allow_partial: false, update_objs: pair.iter().map(update).collect() }
}

fn added_path(ctl: &mut Controller, add: Add) -> Result<String, ClientError> {
    let resp = ctl.add(add)?;
    match resp.created_obj_results.first().and_then(|r| r.oper_status.clone()?.oper_status) {
        Some(OperStatus::OperSuccess(ok)) => Ok(ok.instantiated_path),
        other => Err(ClientError::Unexpected(format!("Add failed: {other:?}"))),
    }
}

impl Client {
    /// Controller `i`, once the agent announced itself to it, with its pair added.
    fn new(mut ctl: Controller, i: usize) -> Result<Client, Violation> {
        super::wait_agent_up(&mut ctl, Duration::from_secs(10))?;
        let mut pair = [String::new(), String::new()];
        for (k, slot) in pair.iter_mut().enumerate() {
            let add = add_request(i, &format!("pair{i}-{k}"), 0);
            *slot = added_path(&mut ctl, add)
                .map_err(|e| Violation(format!("controller {i}: adding its pair: {e}")))?;
        }
        let (live, gone) = (BTreeMap::new(), Vec::new());
        Ok(Client { i, ctl, pair, set_acked: 0, live, gone, doubt: None, next: 1, acked: 0 })
    }

    /// Writes until `stop` or the first request without an answer (the agent died).
    fn storm(&mut self, stop: &AtomicBool) {
        let limit = Instant::now() + Duration::from_secs(60);
        while !stop.load(Ordering::Acquire) && Instant::now() < limit {
            let n = self.next;
            self.next += 1;
            let oldest = self.live.keys().next().cloned();
            let op = match (n % 3, oldest) {
                (1, _) => Doubt::Set { n },
                (2, Some(id)) if self.live.len() > 4 => Doubt::Delete { id },
                _ => Doubt::Add { id: format!("c{}-{n}", self.i), n },
            };
            let result = match &op {
                Doubt::Add { id, n } => {
                    added_path(&mut self.ctl, add_request(self.i, id, *n)).map(drop)
                }
                Doubt::Set { n } => self.ctl.set(set_request(&self.pair, *n)).map(drop),
                Doubt::Delete { id } => {
                    let path = format!("{SUBS}[ID==\"{id}\"].");
                    let del = Delete { allow_partial: false, obj_paths: vec![path] };
                    self.ctl.delete(del).map(drop)
                }
            };
            if result.is_err() {
                self.doubt = Some(op);
                return;
            }
            self.acked += 1;
            match op {
                Doubt::Add { id, n } => {
                    self.live.insert(id, n);
                }
                Doubt::Set { n } => self.set_acked = n,
                Doubt::Delete { id } => {
                    self.live.remove(&id);
                    self.gone.push(id);
                }
            }
        }
    }

    /// Compares what this controller was told with `subs` (ID → NotifExpiration, and the
    /// pair's values); settles the request in doubt. Returns whether it was found applied.
    fn check(&mut self, subs: &Subs) -> Result<bool, Violation> {
        let i = self.i;
        let pair: Vec<Option<u32>> =
            self.pair.iter().map(|p| subs.by_path.get(p).copied()).collect();
        let (a, b) = (pair[0], pair[1]);
        ensure(a.is_some() && a == b, || format!("controller {i}: the pair differs: {a:?} {b:?}"))?;
        let value = a.unwrap_or_default();
        let mut applied = false;
        if let Some(Doubt::Set { n }) = self.doubt {
            ensure(value == self.set_acked || value == n, || {
                format!(
                    "controller {i}: pair at {value}, acknowledged {} in flight {n}",
                    self.set_acked
                )
            })?;
            applied = value == n;
            self.set_acked = value;
        } else {
            ensure(value == self.set_acked, || {
                format!("controller {i}: pair at {value}, acknowledged {}", self.set_acked)
            })?;
        }
        match self.doubt.take() {
            Some(Doubt::Add { id, n }) => {
                if let Some(found) = subs.by_id.get(&id) {
                    ensure(*found == n, || format!("{id}: half applied ({found} for {n})"))?;
                    self.live.insert(id, n);
                    applied = true;
                }
            }
            Some(Doubt::Delete { id }) => {
                if !subs.by_id.contains_key(&id) {
                    self.live.remove(&id);
                    self.gone.push(id);
                    applied = true;
                }
            }
            Some(Doubt::Set { .. }) | None => {}
        }
        for (id, n) in &self.live {
            let found = subs.by_id.get(id);
            ensure(found == Some(n), || format!("acknowledged Add {id} ({n}) lost: {found:?}"))?;
        }
        for id in &self.gone {
            ensure(!subs.by_id.contains_key(id), || format!("acknowledged Delete {id} undone"))?;
        }
        let prefix = format!("c{i}-");
        let phantom =
            subs.by_id.keys().find(|id| id.starts_with(&prefix) && !self.live.contains_key(*id));
        ensure(phantom.is_none(), || format!("{phantom:?} exists but was never acknowledged"))?;
        Ok(applied)
    }
}

/// The subscriptions the agent serves: ID → NotifExpiration, and instance path →
/// NotifExpiration.
struct Subs {
    by_id: BTreeMap<String, u32>,
    by_path: BTreeMap<String, u32>,
}

fn read_subs(ctl: &mut Controller) -> Result<Subs, Violation> {
    let values = get_values(ctl, &[SUBS]).map_err(|e| Violation(format!("Get {SUBS}: {e}")))?;
    let mut by_id = BTreeMap::new();
    let mut by_path = BTreeMap::new();
    for (key, value) in &values {
        let Some(obj) = key.strip_suffix("NotifExpiration") else { continue };
        let n: u32 = value.parse().map_err(|_| Violation(format!("{key} = {value}")))?;
        by_path.insert(obj.to_owned(), n);
        if let Some(id) = values.get(&format!("{obj}ID")) {
            by_id.insert(id.clone(), n);
        }
    }
    Ok(Subs { by_id, by_path })
}

/// `PRAGMA integrity_check` of the database the agent left.
pub fn integrity_check(db: &Path) -> Result<(), Violation> {
    let conn = rusqlite::Connection::open(db)
        .map_err(|e| Violation(format!("the database does not open: {e}")))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| Violation(format!("integrity_check failed to run: {e}")))?;
    ensure(verdict == "ok", || format!("integrity_check: {verdict}"))
}

/// A small random-enough number in `0..n` (the kill moment; no need for a generator crate).
fn jitter(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos.wrapping_mul(2_654_435_761)) % n.max(1)
}

/// Runs `rounds` kills with `clients` controllers storming, each storm lasting 150–450 ms.
pub fn run(rounds: usize, clients: usize) -> Result<KillFigures, Violation> {
    let broker = Mosquitto::start(super::broker_opts());
    let dir = tempfile::tempdir().map_err(|e| Violation(format!("tempdir: {e}")))?;
    let db = dir.path().join("usp.db");
    let reset = reset(broker.port(), clients);
    let links: Vec<Controller> =
        (1..=clients).map(|i| controller(broker.port(), i, TIMEOUT)).collect::<Result<_, _>>()?;
    let mut agent = start_agent(&reset, &db);
    let mut ctls = Vec::new();
    for (i, ctl) in links.into_iter().enumerate() {
        ctls.push(Client::new(ctl, i + 1).map_err(|v| Violation(format!("{v}\n{}", agent.log())))?);
    }
    let mut figures = KillFigures::default();
    for round in 0..rounds {
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            for c in ctls.iter_mut() {
                let stop = &stop;
                s.spawn(move || c.storm(stop));
            }
            std::thread::sleep(Duration::from_millis(150 + jitter(300)));
            drop(agent); // SIGKILL, then reaped
            stop.store(true, Ordering::Release);
        });
        integrity_check(&db).map_err(|v| Violation(format!("round {round}: {v}")))?;
        let _ = ctls[0].ctl.drain_events();
        let started = Instant::now();
        agent = start_agent(&reset, &db);
        let ctl = &mut ctls[0].ctl;
        super::wait_agent_up(ctl, Duration::from_secs(10))
            .map_err(|v| Violation(format!("round {round}: {v}\n{}", agent.log())))?;
        let subs = read_subs(ctl)
            .map_err(|v| Violation(format!("round {round}: {v}\n{}", agent.log())))?;
        figures.restart_to_answer.push(started.elapsed());
        for c in ctls.iter_mut() {
            let had_doubt = c.doubt.is_some();
            let applied = c.check(&subs).map_err(|v| Violation(format!("round {round}: {v}")))?;
            figures.in_doubt += u64::from(had_doubt);
            figures.in_doubt_applied += u64::from(applied);
        }
        ensure(!agent.log().contains("moved to"), || {
            format!("round {round}: the database was rebuilt")
        })?;
        figures.rounds += 1;
    }
    figures.acknowledged = ctls.iter().map(|c| c.acked).sum();
    drop(agent);
    Ok(figures)
}
