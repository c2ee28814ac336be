//! Costs of `Device.WiFi.` on the OpenWrt backend with 3 radios, 8 SSIDs and 64 stations,
//! against the real ubusd and uci (the OpenWrt testbed): the time and number of ubus calls of
//! one backend refresh (what the worker does every period or on a hostapd event), and of a
//! controller's `Get Device.WiFi.` (served from the cache: no call at all).
//!
//! `USP_OPENWRT_SRC=/path/to/shared/openwrt cargo run --release -p usp-areas --features testbed
//! --example bench_wifi`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_areas::openwrt::testbed::{Spec, Testbed};
use usp_areas::wifi::openwrt::OpenWrtWifi;
use usp_areas::wifi::{Backend, WiFi};
use usp_areas::{AgentIdentity, NoWake, builtin};
use usp_datamodel::DataModel;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{Now, Plugin, Requester};
use usp_datamodel::store::NullStore;
use usp_datamodel::value::DateTime;

const ROUNDS: u32 = 20;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(3, 8, 64)) else { return };
    let mut backend = OpenWrtWifi::with_programs(&bed.paths, &bed.programs);
    let ubus = backend.ubus().clone();
    let started = Instant::now();
    let before = ubus.calls();
    for _ in 0..ROUNDS {
        let snap = backend.refresh().expect("refresh");
        assert_eq!(snap.stations.len(), 64);
    }
    let per = started.elapsed() / ROUNDS;
    let calls = (ubus.calls() - before) / u64::from(ROUNDS);
    println!(
        "backend refresh (3 radios, 8 SSIDs, 64 stations): {per:?}, {calls} ubus calls + 1 uci show"
    );

    let backend = OpenWrtWifi::with_programs(&bed.paths, &bed.programs);
    let wifi: Box<dyn Plugin> =
        Box::new(WiFi::new(Box::new(backend), Arc::new(NoWake), Duration::from_secs(3600)));
    let mut plugins = builtin(&AgentIdentity::default());
    plugins.push(wifi);
    let now = Now { uptime: Duration::ZERO, wall: DateTime::from_unix(1_714_564_800) };
    let mut dm = DataModel::new(plugins, Box::new(NullStore), now).expect("data model");
    let who = Requester::Controller("proto::bench".into());
    let path = Path::parse("Device.WiFi.").expect("path");
    let before = ubus.calls();
    let started = Instant::now();
    let mut values = 0;
    for _ in 0..ROUNDS {
        values = get(&mut dm, &who, &path);
    }
    let per = started.elapsed() / ROUNDS;
    println!(
        "Get Device.WiFi. ({values} values): {per:?}, {} ubus calls (served from the cache)",
        (ubus.calls() - before) / u64::from(ROUNDS)
    );
}

/// A Get of every parameter under `path`, as the core does: resolve, walk, read.
fn get(dm: &mut DataModel, who: &Requester, path: &Path) -> usize {
    let mut n = 0;
    for target in dm.resolve(who, path).expect("resolve") {
        for w in dm.walk(&target, 0) {
            n += dm.read_all(who, w.obj, &w.numbers).len();
        }
    }
    n
}
