//! Benchmark of the data-model engine (std only):
//! `cargo run --release -p usp-datamodel --example bench_engine`.
//!
//! Prints path parse rate, resolve+read cost per instance over 1k/10k/20k rows, add cost and
//! memory per row. Numbers are indicative (shared machine); the scaling ratios are what matter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use usp_datamodel::DataModel;
use usp_datamodel::error::UspError;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Ctx, Instance, Now, Plugin, Requester};
use usp_datamodel::schema::{ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::store::{MemStore, NullStore, Store};
use usp_datamodel::value::{ParamType, Value};

/// `Device.Test.Item.{i}.` with Alias, Name (unique), Count, Enabled and a live Status.
struct BenchPlugin;

impl Plugin for BenchPlugin {
    fn name(&self) -> &'static str {
        "Bench"
    }
    fn register(&mut self, b: &mut SchemaBuilder) {
        b.object("Device.Test.");
        let item = b.table("Device.Test.Item.{i}.", ObjAccess::AddDelete);
        b.alias(item);
        b.unique_key(item, &["Name"]);
        b.param(item, "Name", ParamType::String).rw().max_len(64);
        b.param(item, "Count", ParamType::UnsignedInt).rw().range(0, 1000);
        b.param(item, "Enabled", ParamType::Boolean).rw();
        b.param(item, "Status", ParamType::String);
    }
    fn get(
        &mut self,
        _ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        out.extend(params.iter().map(|_| Value::String("Up".into())));
        Ok(())
    }
}

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Model {
    dm: DataModel,
    item: ObjId,
    name: ParamId,
    count: ParamId,
}

fn model(store: Box<dyn Store>) -> Model {
    let dm = DataModel::new(vec![Box::new(BenchPlugin)], store, Now::default()).expect("build");
    let item = dm.schema().obj_by_path("Device.Test.Item.{i}.").expect("item");
    let name = dm.schema().param_by_name(item, "Name").expect("Name");
    let count = dm.schema().param_by_name(item, "Count").expect("Count");
    Model { dm, item, name, count }
}

/// Adds `n` rows, one transaction each (as n Add messages would); returns the time per add.
fn fill(m: &mut Model, n: u32) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        m.dm.begin(Requester::Internal);
        let values = [
            (m.name, Value::String(format!("item-{i}").into())),
            (m.count, Value::UnsignedInt((i * 7919) % 1001)),
        ];
        m.dm.add_row(m.item, &[], &values).expect("add");
        m.dm.commit();
        m.dm.drain_events();
        if i % 1000 == 999 {
            m.dm.flush().expect("flush");
        }
    }
    m.dm.flush().expect("flush");
    start.elapsed() / n
}

/// Resolves `path` and reads the parameter of every target; returns (targets, time).
fn resolve_read(m: &mut Model, path: &Path) -> (usize, Duration) {
    let start = Instant::now();
    let targets = m.dm.resolve(&Requester::Internal, path).expect("resolve");
    let mut read = 0;
    for t in &targets {
        if let usp_datamodel::Item::Param(p) = t.item {
            let v = m.dm.read_params(&Requester::Internal, t.obj, &t.numbers, &[p]);
            read += v.len();
        }
    }
    assert_eq!(read, targets.len());
    (targets.len(), start.elapsed())
}

/// Best of `reps` runs.
fn best(m: &mut Model, path: &Path, reps: u32) -> (usize, Duration) {
    (0..reps).map(|_| resolve_read(m, path)).min_by_key(|(_, d)| *d).expect("reps")
}

fn ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}

fn main() {
    // 1. Path parsing.
    let paths = [
        "Device.DeviceInfo.SoftwareVersion",
        "Device.LocalAgent.Controller.1.EndpointID",
        "Device.LocalAgent.Controller.*.MTP.*.Enable",
        "Device.LocalAgent.Controller.[Alias==\"acs\"].PeriodicNotifInterval",
        "Device.WiFi.SSID.[Enable==true&&Status==\"Up\"].SSID",
        "Device.IP.Interface.1.IPv4Address.2.IPAddress",
        "Device.NAT.PortMapping.1.Interface+.Name",
        "Device.WiFi.SSID.1.LowerLayers#*+.Status",
        "Device.Reboot()",
        "Device.LocalAgent.Subscription.[Stats.Errors>0&&Recipient==\"x\"].",
    ];
    let budget = Duration::from_secs(1);
    let start = Instant::now();
    let mut parsed: u64 = 0;
    while start.elapsed() < budget && parsed < 20_000_000 {
        for p in &paths {
            std::hint::black_box(Path::parse(std::hint::black_box(p)).expect("parse"));
        }
        parsed += paths.len() as u64;
    }
    let rate = parsed as f64 / start.elapsed().as_secs_f64();
    println!("path parse: {rate:.0} paths/s ({parsed} parses of 10 realistic paths)");
    println!();

    // 2. Memory per row (first, before larger models leave freed memory in the heap).
    let before = vm_rss_kib();
    let mut m = model(Box::new(NullStore));
    fill(&mut m, 10_000);
    let engine = vm_rss_kib();
    let store = MemStore::new();
    let mut m2 = model(Box::new(store.clone()));
    fill(&mut m2, 10_000);
    drop(m2);
    let with_store = vm_rss_kib();
    let per = |a: u64, b: u64| (b.saturating_sub(a)) as f64 * 1024.0 / 10_000.0;
    println!(
        "memory: {:.0} bytes/row in the engine for 10k rows (VmRSS {before} kB -> {engine} kB)",
        per(before, engine)
    );
    println!(
        "        {:.0} bytes/row more for the same rows kept in a MemStore ({} items)",
        per(engine, with_store),
        store.len()
    );
    println!("process VmRSS with the 10k-row model: {engine} kB");
    drop(m);
    println!();

    // 3. Resolve + read, and add, at several sizes.
    let wildcard = Path::parse("Device.Test.Item.*.Count").expect("path");
    let search = Path::parse("Device.Test.Item.[Count>500].Name").expect("path");
    println!(
        "{:>7} | {:>12} | {:>22} | {:>22}",
        "rows", "add ns/row", "*.Count ns/inst", "[Count>500].Name ns/inst"
    );
    let mut per_inst: Vec<(u32, f64, f64, f64)> = Vec::new();
    for n in [1_000u32, 10_000, 20_000] {
        let mut m = model(Box::new(MemStore::new()));
        let add = fill(&mut m, n);
        let reps = (200_000 / n).clamp(3, 50);
        let (w, tw) = best(&mut m, &wildcard, reps);
        assert_eq!(w, n as usize);
        let (s, ts) = best(&mut m, &search, reps);
        // Cost per instance touched: the search evaluates every row, reads the matches.
        let (w_ns, s_ns) = (ns(tw) / w as f64, ns(ts) / n as f64);
        println!("{n:>7} | {:>12.0} | {w_ns:>22.0} | {s_ns:>15.0} ({s} hit)", ns(add));
        per_inst.push((n, ns(add), w_ns, s_ns));
    }
    let (_, a1, w1, s1) = per_inst[0];
    let (_, a20, w20, s20) = per_inst[2];
    println!(
        "ratio 20k/1k per row: add {:.2}, *.Count {:.2}, [Count>500] {:.2} (1.0 = linear)",
        a20 / a1,
        w20 / w1,
        s20 / s1
    );
    println!();
}
