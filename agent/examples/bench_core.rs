//! Benchmark of the USP message core (not a test):
//! `cargo run --release -p uspagent --example bench_core`.
//!
//! Drives a [`Core`] on the built-in modules plus a 10,000-row test table with real encoded
//! Records and prints the core's time per message: Get of `Device.DeviceInfo.`, a wildcard Get
//! over the 10k rows, a Set, an Add; then the cost of 1,000 active ValueChange subscriptions
//! per change (exact paths, and the worst case of 1,000 search paths on the same table); then
//! the Gets again for a controller whose Role is restricted. The controller otherwise holds the
//! factory-default Full Access role, as the example reset files give it.
//! Everything runs in memory (a store that keeps nothing) except the last figure, a Set on
//! SQLite. Numbers are indicative (shared machine; the release profile optimizes for size).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use usp_areas::{AgentIdentity, builtin};
use usp_core::{BootInfo, Core};
use usp_datamodel::DataModel;
use usp_datamodel::error::UspError;
use usp_datamodel::plugin::{Ctx, Instance, Now, Plugin, Requester};
use usp_datamodel::schema::{ObjAccess, ParamId, SchemaBuilder};
use usp_datamodel::store::{NullStore, Store};
use usp_datamodel::value::{DateTime, ParamType, Value};
use usp_proto::msg::request::ReqType;
use usp_proto::msg::{self, Msg};
use usp_proto::record::Record;
use uspagent::store::SqliteStore;

const AGENT: &str = "os::00D09E-BENCH";
const CTRL: &str = "self::bench-controller";
const ROWS: u32 = 10_000;
const SUBS: u32 = 1_000;

/// `Device.Bench.Item.{i}.` with a unique Name, Count, Enabled and a live Status.
struct BenchPlugin;

impl Plugin for BenchPlugin {
    fn name(&self) -> &'static str {
        "Bench"
    }
    fn register(&mut self, b: &mut SchemaBuilder) {
        b.object("Device.Bench.");
        let item = b.table("Device.Bench.Item.{i}.", ObjAccess::AddDelete);
        b.alias(item);
        b.param(item, "Name", ParamType::String).rw().max_len(64);
        b.unique_key(item, &["Name"]);
        b.param(item, "Count", ParamType::UnsignedInt).rw();
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

fn now() -> Now {
    Now { uptime: Duration::from_secs(100), wall: DateTime::from_unix(1_700_000_000) }
}

/// A core with the built-in modules, the bench table filled with [`ROWS`] rows, and the
/// controller [`CTRL`].
fn core_on(store: Box<dyn Store>) -> Core {
    core_with(store, ROWS)
}

/// [`core_on`] with `rows` rows in the bench table.
fn core_with(store: Box<dyn Store>, rows: u32) -> Core {
    let identity = AgentIdentity { endpoint_id: AGENT.into(), ..AgentIdentity::default() };
    let mut plugins = builtin(&identity);
    plugins.push(Box::new(BenchPlugin));
    let mut dm = DataModel::new(plugins, store, now()).unwrap();
    dm.apply_default("Device.LocalAgent.Controller.1.EndpointID", CTRL, false).unwrap();
    let role = "Device.LocalAgent.ControllerTrust.Role.1";
    dm.apply_default("Device.LocalAgent.Controller.1.AssignedRole", role, false).unwrap();
    usp_areas::local_agent::apply_trust_defaults(&mut dm).unwrap();
    fill(&mut dm, rows);
    let mut core = Core::new(dm, AGENT);
    core.boot(now(), BootInfo::local(false, false));
    core
}

fn fill(dm: &mut DataModel, rows: u32) {
    let item = dm.schema().obj_by_path("Device.Bench.Item.{i}.").unwrap();
    let name = dm.schema().param_by_name(item, "Name").unwrap();
    let count = dm.schema().param_by_name(item, "Count").unwrap();
    dm.begin(Requester::Internal);
    for n in 1..=rows {
        let values =
            [(name, Value::String(format!("n{n}").into())), (count, Value::UnsignedInt(n))];
        dm.add_row(item, &[], &values).unwrap();
    }
    dm.commit();
    dm.drain_events();
    dm.flush().unwrap();
}

fn record(id: &str, req: ReqType) -> Vec<u8> {
    Record::no_session_context_msg("1.4", AGENT, CTRL, &Msg::request(id, req)).to_bytes()
}

fn get(path: &str) -> Vec<u8> {
    record("g", ReqType::Get(msg::Get { param_paths: vec![path.into()], max_depth: 0 }))
}

fn set(path: &str, param: &str, value: &str) -> Vec<u8> {
    let set = msg::Set {
        allow_partial: false,
        update_objs: vec![msg::set::UpdateObject {
            obj_path: path.into(),
            param_settings: vec![msg::set::UpdateParamSetting {
                param: param.into(),
                value: value.into(),
                required: true,
            }],
        }],
    };
    record("s", ReqType::Set(set))
}

fn add(name: &str) -> Vec<u8> {
    let add = msg::Add {
        allow_partial: false,
        create_objs: vec![msg::add::CreateObject {
            obj_path: "Device.Bench.Item.".into(),
            param_settings: vec![msg::add::CreateParamSetting {
                param: "Name".into(),
                value: name.into(),
                required: true,
            }],
        }],
    };
    record("a", ReqType::Add(add))
}

/// Runs `records` round-robin `n` times, three rounds; returns the best time per message
/// and the number of Records sent per message.
fn time(core: &mut Core, records: &[Vec<u8>], n: usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut sent = 0;
    for _ in 0..3 {
        let start = Instant::now();
        sent = 0;
        for i in 0..n {
            sent += core.handle_record(now(), &records[i % records.len()]).outgoing().len();
        }
        best = best.min(start.elapsed() / n as u32);
    }
    (best, sent / n)
}

fn show(what: &str, (per, sent): (Duration, usize)) {
    println!("{what:<62} {:>10.1} µs  ({sent} Record(s) out)", per.as_secs_f64() * 1e6);
}

/// Adds [`SUBS`] ValueChange subscriptions of [`CTRL`], the k-th on `refs(k)`.
fn subscribe(core: &mut Core, refs: impl Fn(u32) -> String) {
    let dm = core.dm();
    dm.begin(Requester::Internal);
    for k in 1..=SUBS {
        let base = format!("Device.LocalAgent.Subscription.{k}.");
        for (p, v) in [
            ("ID", format!("vc-{k}")),
            ("NotifType", "ValueChange".into()),
            ("ReferenceList", refs(k)),
            ("Recipient", "Device.LocalAgent.Controller.1".into()),
            ("Enable", "true".into()),
        ] {
            dm.apply_default(&format!("{base}{p}"), &v, false).unwrap();
        }
    }
    dm.commit();
}

/// Adds one row per message, each with a new Name; returns the time per message.
fn time_adds(core: &mut Core, n: usize) -> (Duration, usize) {
    let adds: Vec<Vec<u8>> = (0..n).map(|i| add(&format!("new{i}"))).collect();
    let start = Instant::now();
    let sent: usize = adds.iter().map(|a| core.handle_record(now(), a).outgoing().len()).sum();
    (start.elapsed() / n as u32, sent / n)
}

/// Two Sets of `Device.Bench.Item.<row>.Count` with different values (each one a change).
fn sets(row: u32) -> [Vec<u8>; 2] {
    let obj = format!("Device.Bench.Item.{row}.");
    [set(&obj, "Count", "1"), set(&obj, "Count", "2")]
}

/// The extra core time per Set of row `row` once [`SUBS`] subscriptions on `refs(k)` exist
/// (measured on a fresh core against the same Set before subscribing), with the time taken to
/// create the subscriptions and build the index.
fn per_change(row: u32, n: usize, refs: impl Fn(u32) -> String) -> (f64, (Duration, usize), f64) {
    let mut core = core_on(Box::new(NullStore));
    let sets = sets(row);
    let before = time(&mut core, &sets, n);
    let start = Instant::now();
    subscribe(&mut core, refs);
    // The next message finds the Subscription table changed and builds the index.
    time(&mut core, &[get("Device.LocalAgent.EndpointID")], 1);
    let built = start.elapsed().as_secs_f64() * 1e3;
    let after = time(&mut core, &sets, n);
    (after.0.saturating_sub(before.0).as_secs_f64() * 1e6, after, built)
}

/// The same Gets by a controller whose Role is restricted (so every element is checked
/// against its Permissions): Full Access plus one higher-Order row hiding `Status`.
fn restricted() {
    let mut core = core_on(Box::new(NullStore));
    let n = 1_000_000;
    let start = Instant::now();
    let full = (0..n).filter(|_| core.dm().access_of(CTRL).is_full()).count();
    let ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    assert_eq!(full, n);
    println!("\n{:<62} {ns:>10.1} ns", "Access of a Full Access controller (per request, cached)");
    let perm = "Device.LocalAgent.ControllerTrust.Role.1.Permission.2.";
    for (p, v) in [
        ("Enable", "true"),
        ("Order", "2"),
        ("Targets", "Device.Bench.Item.*.Status"),
        ("Param", "----"),
        ("Obj", "rwxn"),
        ("InstantiatedObj", "rwxn"),
        ("CommandEvent", "rwxn"),
    ] {
        core.dm().apply_default(&format!("{perm}{p}"), v, false).unwrap();
    }
    println!("\nA controller with a restricted Role (Permissions checked per element):");
    show("  Get Device.DeviceInfo.", time(&mut core, &[get("Device.DeviceInfo.")], 2000));
    show(
        "  Get Device.Bench.Item.*.Count (10k rows)",
        time(&mut core, &[get("Device.Bench.Item.*.Count")], 10),
    );
    show(
        "  Get Device.Bench.Item. (10k rows, 4 params each)",
        time(&mut core, &[get("Device.Bench.Item.")], 3),
    );
}

/// The encoded size of the answers to `record`.
fn answer_bytes(core: &mut Core, record: &[u8]) -> usize {
    let out = core.handle_record(now(), record).outgoing();
    out.iter().map(|o| o.record.to_bytes().len()).sum()
}

/// Get `Device.` (the whole model) with 10k and 20k bench rows, limits lifted (the default 1 MiB
/// answer limit would refuse it), and a Get of one row with 10 and 10k rows.
fn scaling() {
    println!("\nScaling (answer limits lifted for the whole-model Get):");
    let mut whole = Vec::new();
    for rows in [10u32, 10_000, 20_000] {
        let mut core = core_with(Box::new(NullStore), rows);
        core.set_limits(usp_core::Limits::NONE);
        for path in ["Device.", "Device.Bench."] {
            let bytes = answer_bytes(&mut core, &get(path));
            let (per, _) = time(&mut core, &[get(path)], 3);
            let ms = per.as_secs_f64() * 1e3;
            let what = format!("Get {path} ({rows} rows)");
            println!("{what:<62} {ms:>10.2} ms  ({} kB answer)", bytes / 1024);
            whole.push(ms);
        }
    }
    println!(
        "  => Get Device. 20k/10k = {:.2}, (20k - 10)/(10k - 10) = {:.2} (2.00 = linear; target: \
         10k rows <= 20 ms)",
        whole[4] / whole[2],
        (whole[4] - whole[0]) / (whole[2] - whole[0])
    );
    let mut one = Vec::new();
    for rows in [10u32, 10_000] {
        let mut core = core_with(Box::new(NullStore), rows);
        let t = time(&mut core, &[get("Device.Bench.Item.5.")], 5000);
        show(&format!("Get Device.Bench.Item.5. ({rows} rows)"), t);
        one.push(t.0.as_secs_f64());
    }
    println!(
        "  => 10k rows / 10 rows = {:.2} (1.00 = independent of the table's size)",
        one[1] / one[0]
    );
}

fn main() {
    let mut core = core_on(Box::new(NullStore));
    println!("uspagent core benchmark: {ROWS} rows in Device.Bench.Item., times per message\n");
    show("Get Device.DeviceInfo.", time(&mut core, &[get("Device.DeviceInfo.")], 2000));
    show(
        "Get Device.Bench.Item.*.Count (10k rows)",
        time(&mut core, &[get("Device.Bench.Item.*.Count")], 10),
    );
    show(
        "Get Device.Bench.Item.[Count>9990].Name (search, 10k rows)",
        time(&mut core, &[get("Device.Bench.Item.[Count>9990].Name")], 10),
    );
    show("Set Device.Bench.Item.500.Count", time(&mut core, &sets(500), 5000));
    show("Add Device.Bench.Item. (into 10k rows)", time_adds(&mut core, 2000));
    let start = Instant::now();
    core.dm().apply_default("Device.LocalAgent.Subscription.1.ID", "one", false).unwrap();
    time(&mut core, &[get("Device.LocalAgent.EndpointID")], 1);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{:<62} {ms:>10.2} ms", "Index rebuild after a subscription change (1 subscription)");

    println!("\n{SUBS} active ValueChange subscriptions, extra core time per change:");
    let exact = |k: u32| format!("Device.Bench.Item.{k}.Count");
    let (extra, t, built) = per_change(500, 5000, exact);
    show("  exact paths, Set of a subscribed parameter (1 Notify)", t);
    println!("  => +{extra:.2} µs per change (index built in {built:.1} ms)");
    let (extra, t, _) = per_change(5000, 5000, exact);
    show("  exact paths, Set of a parameter none names", t);
    println!("  => +{extra:.2} µs per change");
    let search = |k: u32| format!("Device.Bench.Item.[Name==\"n{k}\"].Count");
    let (extra, t, _) = per_change(500, 200, search);
    show("  worst case, search paths on the same table (1 Notify)", t);
    println!("  => +{extra:.1} µs per change (one search check per subscription)");
    let (extra, t, _) = per_change(500, 20, |_| "Device.Bench.Item.*.Count".into());
    show("  one wildcard path each, all matching (1000 Notify)", t);
    println!("  => +{:.2} µs per Notify built and encoded", extra / f64::from(SUBS));
    let mut core = core_on(Box::new(NullStore));
    subscribe(&mut core, exact);
    time(&mut core, &[get("Device.LocalAgent.EndpointID")], 1);
    let start = Instant::now();
    core.dm().apply_default("Device.LocalAgent.Subscription.1.Enable", "false", false).unwrap();
    time(&mut core, &[get("Device.LocalAgent.EndpointID")], 1);
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{:<62} {ms:>10.2} ms", "  index rebuild after a subscription change");

    restricted();
    scaling();

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("bench.db")).unwrap();
    let mut core = core_on(Box::new(store));
    println!();
    show(
        "Set Device.Bench.Item.500.Count on SQLite (one transaction)",
        time(&mut core, &sets(500), 500),
    );
}
