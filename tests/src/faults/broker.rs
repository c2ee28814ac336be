//! The broker killed (SIGKILL) and restarted on the same port, with a NotifRetry ValueChange
//! subscription.
//!
//! Each round: the controller Sets the watched parameter and has the answer (the change is
//! acknowledged), the broker is killed at once (its Notify may or may not have left), a second
//! change is made through the agent's local CLI while the broker is down, then the broker
//! starts again. Measured: the time from the broker's restart to the agent's MQTT client being
//! `Connected` again, which must fall within the configured back-off ([`super::RETRY`]), and
//! the notifications: both changes must arrive; a Notify may arrive more than once only under
//! its own msg_id (a retransmission, TR-369's NotifRetry), never as a new message.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::notify::Notification as Body;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::{Add, Set};
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::Mosquitto;
use uspctl::client::Controller;

use super::{RETRY, Violation, controller, ensure, median_max, reset, start_agent};

const WATCHED: &str = "Device.LocalAgent.Controller.1.PeriodicNotifInterval";
const STATUS: &str = "Device.MQTT.Client.1.Status";
/// How long a round waits for its notifications at most.
const NOTIFY_WAIT: Duration = Duration::from_secs(30);

/// What the broker suite measured.
#[derive(Debug, Clone, Default)]
pub struct BrokerFigures {
    /// Broker kills.
    pub rounds: usize,
    /// Changes made (two per round).
    pub changes: usize,
    /// Changes notified.
    pub notified: usize,
    /// Notifies received again under the same msg_id (retransmissions TR-369 allows).
    pub retransmissions: usize,
    /// Changes notified under more than one msg_id (always 0, else the suite fails).
    pub new_id_duplicates: usize,
    /// From the broker's restart to the agent's client `Connected`, each round.
    pub reconnect: Vec<Duration>,
}

impl BrokerFigures {
    /// One line of figures.
    pub fn summary(&self) -> String {
        let (median, max) = median_max(&self.reconnect);
        format!(
            "broker restarts: {} rounds, {} of {} changes notified, {} lost, {} duplicates under \
             a new msg_id, {} retransmissions under the same msg_id, reconnect median {median:?} \
             max {max:?} (ConnectRetryMaxInterval {} s)",
            self.rounds,
            self.notified,
            self.changes,
            self.changes - self.notified,
            self.new_id_duplicates,
            self.retransmissions,
            RETRY.2
        )
    }
}

fn subscribe(ctl: &mut Controller) -> Result<(), Violation> {
    let p = |param: &str, value: &str| CreateParamSetting {
        param: param.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                p("ID", "retry"),
                p("NotifType", "ValueChange"),
                p("ReferenceList", WATCHED),
                p("NotifRetry", "true"),
                p("Enable", "true"),
            ],
        }],
    };
    ctl.add(add).map(drop).map_err(|e| Violation(format!("adding the subscription: {e}")))
}

fn set_watched(ctl: &mut Controller, value: u32) -> Result<(), Violation> {
    let (obj, param) = WATCHED.rsplit_once('.').unwrap_or_default();
    let set = Set {
        allow_partial: false,
        update_objs: vec![UpdateObject {
            obj_path: format!("{obj}."),
            param_settings: vec![UpdateParamSetting {
                param: param.into(),
                value: value.to_string(),
                required: true,
            }],
        }],
    };
    ctl.set(set).map(drop).map_err(|e| Violation(format!("Set {value}: {e}")))
}

/// The value `uspagent -c get PATH` prints.
fn cli_value(agent: &RunningAgent, path: &str) -> String {
    let out = agent.cli(&["get", path]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(path)?.strip_prefix(" => ").map(str::to_owned))
        .unwrap_or_default()
}

/// Every ValueChange of [`WATCHED`] seen: value → msg_id → times received.
type Seen = BTreeMap<String, BTreeMap<String, usize>>;

/// Reads notifications until every value of `want` was seen (at most [`NOTIFY_WAIT`]).
fn collect(ctl: &mut Controller, seen: &mut Seen, want: &[String]) -> Result<(), Violation> {
    let end = Instant::now() + NOTIFY_WAIT;
    while !want.iter().all(|w| seen.contains_key(w)) {
        let left = end.saturating_duration_since(Instant::now());
        ensure(!left.is_zero(), || format!("not notified within {NOTIFY_WAIT:?}: {want:?}"))?;
        let got = ctl.next_notification(left).map_err(|e| Violation(format!("{e}")))?;
        if let Some(n) = got {
            file(seen, &n);
        }
    }
    Ok(())
}

/// Files every notification arriving within `time` into `seen`.
fn drain(ctl: &mut Controller, seen: &mut Seen, time: Duration) {
    let end = Instant::now() + time;
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(Some(n)) = ctl.next_notification(left) else { return };
        file(seen, &n);
    }
}

/// Files `n` into `seen` when it is a ValueChange of [`WATCHED`].
fn file(seen: &mut Seen, n: &uspctl::client::Notification) {
    if let Some(Body::ValueChange(v)) = &n.notify.notification {
        if v.param_path == WATCHED {
            let ids = seen.entry(v.param_value.clone()).or_default();
            *ids.entry(n.msg_id.clone()).or_default() += 1;
        }
    }
}

/// Waits until the agent's client is `Connected` (at most 30 s); the time it took.
fn reconnected(agent: &RunningAgent, since: Instant) -> Result<Duration, Violation> {
    let end = Instant::now() + Duration::from_secs(30);
    while cli_value(agent, STATUS) != "Connected" {
        ensure(Instant::now() < end, || format!("not reconnected within 30 s:\n{}", agent.log()))?;
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(since.elapsed())
}

/// Runs `rounds` broker kills.
pub fn run(rounds: usize) -> Result<BrokerFigures, Violation> {
    let mut broker = Mosquitto::start(super::broker_opts());
    let dir = tempfile::tempdir().map_err(|e| Violation(format!("tempdir: {e}")))?;
    let mut ctl = controller(broker.port(), 1, Duration::from_secs(5))?;
    let agent = start_agent(&reset(broker.port(), 1), &dir.path().join("usp.db"));
    super::wait_agent_up(&mut ctl, Duration::from_secs(10))?;
    subscribe(&mut ctl)?;
    let mut seen = Seen::new();
    let mut figures = BrokerFigures::default();
    // The back-off's bounds: the first wait at least ConnectRetryTime, none over the maximum;
    // the connection itself takes the rest of the second allowed.
    let bound = Duration::from_secs(u64::from(RETRY.2) + 1);
    for round in 0..rounds {
        let acked = 1000 + 2 * u32::try_from(round).unwrap_or(u32::MAX / 4);
        set_watched(&mut ctl, acked)?;
        broker.stop();
        let local = (acked + 1).to_string();
        let out = agent.cli(&["set", WATCHED, &local]);
        ensure(out.status.success(), || format!("uspagent -c set: {out:?}"))?;
        broker.restart();
        let took = reconnected(&agent, Instant::now())?;
        ensure(took <= bound, || format!("round {round}: reconnected after {took:?} > {bound:?}"))?;
        figures.reconnect.push(took);
        collect(&mut ctl, &mut seen, &[acked.to_string(), local])?;
        figures.rounds += 1;
    }
    // Late duplicates under a new msg_id would come within a retry wait (1-2 s).
    drain(&mut ctl, &mut seen, Duration::from_secs(3));
    figures.changes = 2 * figures.rounds;
    figures.notified = seen.len();
    figures.retransmissions = seen.values().flat_map(|ids| ids.values()).map(|n| n - 1).sum();
    figures.new_id_duplicates = seen.values().filter(|ids| ids.len() > 1).count();
    ensure(figures.new_id_duplicates == 0, || format!("notified under several msg_ids: {seen:?}"))?;
    drop(agent);
    Ok(figures)
}
