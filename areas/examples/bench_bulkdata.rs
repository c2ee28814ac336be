//! What a Bulk Data report costs: a profile of 1,000 parameters (100 rows × 10 live counters of
//! a synthetic `Device.X_BENCH_Stats.Row.{i}.` table, referenced by one wildcard path), reported
//! as a JSON `Push!`. Prints the owner thread's snapshot time (the core's part) and the CPU the
//! worker thread spends naming and encoding each report.
//!
//! `cargo run --release -p usp-areas --example bench_bulkdata [REPORTS]`
//!
//! The snapshot is timed on the owner thread (wall clock: it does no I/O); the worker's CPU time
//! comes from `/proc/self/task/<tid>/schedstat` (Linux), summed over the reports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_areas::bulkdata::{BulkData, COLLECT_EVENT, snapshot};
use usp_areas::{AgentIdentity, Host, NoWake, Platform, builtin};
use usp_datamodel::access::Access;
use usp_datamodel::error::UspError;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Ctx, DmEvent, Instance, Now, Plugin, Requester};
use usp_datamodel::schema::{ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::store::MemStore;
use usp_datamodel::value::{DateTime, ParamType, Value};
use usp_datamodel::{DataModel, Item};

const ROWS: usize = 100;
const COUNTERS: usize = 10;

/// 100 rows of 10 live counters that change on every read.
struct Stats {
    reads: u64,
}

impl Plugin for Stats {
    fn name(&self) -> &'static str {
        "BenchStats"
    }
    fn register(&mut self, b: &mut SchemaBuilder) {
        b.object("Device.X_BENCH_Stats.");
        let t = b.table("Device.X_BENCH_Stats.Row.{i}.", ObjAccess::ReadOnly);
        b.external(t);
        for i in 0..COUNTERS {
            b.param(t, &format!("Counter{i}"), ParamType::UnsignedLong).live();
        }
    }
    fn list(&mut self, _: &mut Ctx, _: ObjId, _: &Instance) -> Result<Vec<String>, UspError> {
        Ok((1..=ROWS).map(|n| n.to_string()).collect())
    }
    fn get(
        &mut self,
        _: &mut Ctx,
        _: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        for _ in params {
            self.reads += 1;
            out.push(Value::UnsignedLong(self.reads * 1_000));
        }
        Ok(())
    }
}

fn now(secs: u64) -> Now {
    Now {
        uptime: Duration::from_secs(secs),
        wall: DateTime::from_unix(1_714_564_800 + secs as i64),
    }
}

fn target(dm: &mut DataModel, path: &str) -> usp_datamodel::Target {
    dm.resolve(&Requester::Internal, &Path::parse(path).unwrap()).unwrap().remove(0)
}

fn set(dm: &mut DataModel, obj: &str, name: &str, value: &str) {
    let t = target(dm, obj);
    let p = dm.schema().param_by_name(t.obj, name).unwrap();
    let v = dm.check_value(&Requester::Internal, p, value, false).unwrap();
    dm.begin(Requester::Internal);
    dm.set_values(t.obj, &t.numbers, &[(p, v)]).unwrap();
    dm.commit();
}

fn add(dm: &mut DataModel, table: &str) {
    let t = target(dm, table);
    dm.begin(Requester::Internal);
    dm.add_row(t.obj, &t.numbers, &[]).unwrap();
    dm.commit();
}

/// CPU nanoseconds of the thread named `name` of this process.
fn thread_cpu(name: &str) -> u64 {
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() == name {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            return stat.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        }
    }
    0
}

fn main() {
    let reports: u64 = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(50);
    let id = AgentIdentity::default();
    let dir = std::env::temp_dir();
    let mut host = Host::new(id.clone(), Platform::Lab, &dir);
    host.waker = Arc::new(NoWake);
    let mut plugins = builtin(&id);
    plugins.push(Box::new(Stats { reads: 0 }));
    plugins.push(Box::new(BulkData::new(&host).unwrap()));
    let mut dm = DataModel::new(plugins, Box::new(MemStore::new()), now(0)).unwrap();
    add(&mut dm, "Device.BulkData.Profile.");
    let p = "Device.BulkData.Profile.1.";
    set(&mut dm, p, "Protocol", "USPEventNotif");
    set(&mut dm, &format!("{p}JSONEncoding."), "ReportFormat", "NameValuePair");
    add(&mut dm, &format!("{p}Parameter."));
    set(&mut dm, &format!("{p}Parameter.1."), "Reference", "Device.X_BENCH_Stats.Row.*.");
    let force = target(&mut dm, &format!("{p}ForceCollection()"));
    assert!(matches!(force.item, Item::Command(_)));
    dm.drain_events();

    let (mut snap_total, mut snap_max, mut bytes) = (Duration::ZERO, Duration::ZERO, 0);
    let worker_before = thread_cpu("bulkdata");
    for i in 0..reports {
        dm.operate(&Requester::Internal, &force, &[]).unwrap();
        for e in dm.drain_events() {
            if let DmEvent::Event { obj, numbers, name, args } = e {
                if &*name == COLLECT_EVENT {
                    let t0 = Instant::now();
                    snapshot(&mut dm, obj, &numbers, &args, &host.bulkdata, &Access::Full);
                    let took = t0.elapsed();
                    snap_total += took;
                    snap_max = snap_max.max(took);
                }
            }
        }
        let end = Instant::now() + Duration::from_secs(10);
        'wait: while Instant::now() < end {
            dm.tick(now(i), true);
            for e in dm.drain_events() {
                if let DmEvent::Event { name, args, .. } = e {
                    if &*name == "Push" {
                        bytes = args[0].1.to_string().len();
                        break 'wait;
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let worker = thread_cpu("bulkdata") - worker_before;
    let n = reports.max(1);
    println!(
        "profile: {} parameters, JSON NameValuePair, {bytes} bytes per report",
        ROWS * COUNTERS
    );
    println!("owner thread, snapshot: {:?} mean, {:?} max", snap_total / n as u32, snap_max);
    println!("worker thread, name + encode: {:?} CPU per report", Duration::from_nanos(worker / n));
}
