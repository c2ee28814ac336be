//! The backend pattern end to end through the core: a plugin whose slow work runs on a
//! [`Worker`] thread. A Set is answered before the backend has applied it; the applied value
//! and an unsolicited backend event reach a subscribed controller as ValueChange notifications
//! once the worker has woken the owner (here: the test, which then calls `handle_wake`).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use usp_areas::worker::{Inbox, Worker};
use usp_datamodel::error::UspError;
use usp_datamodel::fields::Fields;
use usp_datamodel::plugin::{Ctx, Instance, Plugin, Wake};
use usp_datamodel::schema::{ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::{self, set};

use super::harness::*;
use super::subs::*;

/// The simulated hardware: the level it runs at, and a gate the test opens to let the worker
/// finish applying a change.
#[derive(Clone)]
struct Hardware {
    level: Arc<Mutex<u32>>,
    gate: Arc<Mutex<Receiver<()>>>,
}

/// Wakes by sending on a channel the test waits on.
struct ChannelWake(Mutex<Sender<()>>);

impl Wake for ChannelWake {
    fn wake(&self) {
        let _ = self.0.lock().map(|tx| tx.send(()));
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Level,
    Reading,
}

/// `Device.Probe.Level` (writable, applied by the backend) and `Device.Probe.Reading` (what the
/// hardware reports), both live and served from the plugin's cache.
struct Probe {
    fields: Fields<Field>,
    /// The cached hardware values: (level, reading).
    cache: (u32, u32),
    staged: Option<u32>,
    worker: Worker<u32, u32>,
}

impl Probe {
    fn new(hw: Hardware, wake: Arc<dyn Wake>) -> (Probe, Inbox<u32>) {
        let worker = Worker::spawn("probe", wake, move |level: u32| {
            // Slow work: waits for the test to open the gate, then applies.
            let _ = hw.gate.lock().map(|g| g.recv_timeout(Duration::from_secs(5)));
            *hw.level.lock().unwrap() = level;
            level
        })
        .unwrap();
        let inbox = worker.inbox();
        (Probe { fields: Fields::default(), cache: (0, 0), staged: None, worker }, inbox)
    }
}

impl Plugin for Probe {
    fn name(&self) -> &'static str {
        "Probe"
    }
    fn register(&mut self, b: &mut SchemaBuilder) {
        let probe = b.object("Device.Probe.");
        self.fields.param(b, probe, "Level", ParamType::UnsignedInt, Field::Level).rw().live();
        self.fields.param(b, probe, "Reading", ParamType::UnsignedInt, Field::Reading).live();
    }
    fn get(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        for &p in params {
            let v = match self.fields.of(p) {
                Some(Field::Level) => self.cache.0,
                Some(Field::Reading) | None => self.cache.1,
            };
            out.push(Value::UnsignedInt(v));
        }
        Ok(())
    }
    fn set(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        for (p, v) in changes {
            if self.fields.of(*p) == Some(Field::Level) {
                self.staged = v.as_u64().and_then(|n| u32::try_from(n).ok());
            }
        }
        Ok(())
    }
    fn commit(&mut self, _ctx: &mut Ctx) {
        if let Some(level) = self.staged.take() {
            if let Err(e) = self.worker.submit(level) {
                log::error!("{e}");
            }
        }
    }
    fn abort(&mut self, _ctx: &mut Ctx) {
        self.staged = None;
    }
    fn poll(&mut self, ctx: &mut Ctx) {
        let obj = ctx.schema().obj_by_path("Device.Probe.");
        let reading = self.fields.id(Field::Reading);
        let (Some(obj), Some(reading)) = (obj, reading) else { return };
        let inst = Instance { obj, numbers: Vec::new(), keys: Vec::new() };
        for value in self.worker.results().collect::<Vec<_>>() {
            self.cache = (value, value);
            ctx.value_changed(&inst, reading, &Value::UnsignedInt(value));
        }
    }
}

fn set_level(level: &str) -> ReqType {
    ReqType::Set(msg::Set {
        allow_partial: false,
        update_objs: vec![set::UpdateObject {
            obj_path: "Device.Probe.".into(),
            param_settings: vec![set::UpdateParamSetting {
                param: "Level".into(),
                value: level.into(),
                required: true,
            }],
        }],
    })
}

fn reading_change(out: &[crate::Outgoing]) -> (String, String) {
    let sent = one_notify(out);
    let Notification::ValueChange(v) = sent.notification() else { panic!("{sent:?}") };
    (v.param_path.clone(), v.param_value.clone())
}

#[test]
fn a_set_is_answered_before_the_backend_applies_it_and_its_result_is_notified() {
    let (gate_tx, gate_rx) = mpsc::channel();
    let hw = Hardware { level: Arc::new(Mutex::new(0)), gate: Arc::new(Mutex::new(gate_rx)) };
    let (wake_tx, woken) = mpsc::channel();
    let wake: Arc<dyn Wake> = Arc::new(ChannelWake(Mutex::new(wake_tx)));
    let inbox = Arc::new(Mutex::new(None));
    let (hw2, inbox2) = (hw.clone(), inbox.clone());
    let mut h = Harness::builtin_and(move || {
        let (probe, events) = Probe::new(hw2.clone(), wake.clone());
        *inbox2.lock().unwrap() = Some(events);
        Box::new(probe)
    });
    subscribe(&mut h, "probe", "ValueChange", "Device.Probe.Reading", &[]);

    let resp = h.response(set_level("7"));
    assert!(matches!(resp, RespType::SetResp(_)), "{resp:?}");
    assert_eq!(*hw.level.lock().unwrap(), 0, "answered while the backend still works");
    assert!(notifies(&h.advance(1)).is_empty(), "nothing applied yet, nothing notified");

    gate_tx.send(()).unwrap();
    woken.recv_timeout(Duration::from_secs(5)).expect("the worker wakes the owner");
    assert_eq!(*hw.level.lock().unwrap(), 7);
    let out = h.core.handle_wake(h.now);
    assert_eq!(reading_change(&out), ("Device.Probe.Reading".into(), "7".into()));
    assert_eq!(h.value("Device.Probe.Level").as_deref(), Some("7"));

    // An event the backend hears unasked comes through the inbox the same way.
    let events = inbox.lock().unwrap().clone().unwrap();
    std::thread::spawn(move || events.push(42)).join().unwrap();
    woken.recv_timeout(Duration::from_secs(5)).expect("the inbox wakes the owner");
    let out = h.core.handle_wake(h.now);
    assert_eq!(reading_change(&out), ("Device.Probe.Reading".into(), "42".into()));
}
