//! The Wi-Fi plugin on the lab backend, driven through a real data model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use usp_datamodel::error::ErrorCode;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::{DmEvent, Outcome, Plugin, Requester};
use usp_datamodel::schema::ObjId;
use usp_datamodel::{Item, Target};

use super::lab::{LabControl, LabWifi};
use super::{Backend, WiFi};
use crate::testutil::Lab;
use crate::{AgentIdentity, NoWake, builtin};

/// A data model with the agent's areas and Wi-Fi on `backend`, once its first read ended.
pub(crate) fn model_with(backend: Box<dyn Backend>) -> Lab {
    let (wifi, ready) = plugin(backend);
    let mut plugins = builtin(&AgentIdentity::default());
    plugins.push(wifi);
    let mut t = Lab::new(plugins);
    wait_ready(&mut t, &ready);
    t
}

/// The Wi-Fi plugin on `backend` and its "first read ended" flag.
pub(crate) fn plugin(backend: Box<dyn Backend>) -> (Box<dyn Plugin>, Arc<AtomicBool>) {
    let wifi = WiFi::new(backend, Arc::new(NoWake), Duration::from_secs(3600));
    let ready = wifi.ready_flag();
    (Box::new(wifi), ready)
}

/// Polls the plugins (as the worker's wake would) until the first read ended, for 5 s.
pub(crate) fn wait_ready(t: &mut Lab, ready: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ready.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
        t.dm.tick(t.dm.now(), true);
        t.dm.flush().expect("flush");
    }
    assert!(ready.load(Ordering::Acquire), "the first Wi-Fi read ends within 5 s");
}

/// The lab backend whose first read takes `.1` (a slow platform at boot).
struct SlowFirstRead(LabWifi, Duration);

impl Backend for SlowFirstRead {
    fn name(&self) -> &'static str {
        "slow lab"
    }
    fn refresh(&mut self) -> Result<super::Snapshot, super::WifiError> {
        std::thread::sleep(std::mem::take(&mut self.1));
        self.0.refresh()
    }
    fn apply(&mut self, changes: &[super::Change]) -> Result<(), super::WifiError> {
        self.0.apply(changes)
    }
    fn scan(&mut self) -> Result<Vec<super::Row>, super::WifiError> {
        self.0.scan()
    }
    fn reset(&mut self, access_point: Option<&str>) -> Result<(), super::WifiError> {
        self.0.reset(access_point)
    }
}

#[test]
fn start_up_does_not_wait_for_the_first_read_and_tables_list_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let backend = LabWifi::with_station_period(dir.path(), None);
    let begun = Instant::now();
    let (wifi, ready) = plugin(Box::new(SlowFirstRead(backend, Duration::from_millis(400))));
    let mut plugins = builtin(&AgentIdentity::default());
    plugins.push(wifi);
    let mut t = Lab::new(plugins);
    assert!(begun.elapsed() < Duration::from_millis(250), "start-up waited for the Wi-Fi read");
    assert!(!ready.load(Ordering::Acquire));
    assert_eq!(count(&mut t, "Device.WiFi.Radio.*."), 0, "no rows before the first read");
    wait_ready(&mut t, &ready);
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "6");
    assert_eq!(count(&mut t, "Device.WiFi.Radio.*."), 3);
    assert!(t.brief().iter().all(|e| !e.starts_with('+')), "the first listing reports no creation");
}

fn lab(dir: &std::path::Path) -> (Lab, LabControl) {
    let backend = LabWifi::with_station_period(dir, None);
    let control = backend.control();
    (model_with(Box::new(backend)), control)
}

/// Polls the plugins (as a wake would) until `done` holds for the events so far, for 5 s.
pub(crate) fn poll_until(t: &mut Lab, done: impl Fn(&[DmEvent]) -> bool) -> Vec<DmEvent> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut events = Vec::new();
    while Instant::now() < deadline {
        t.dm.tick(t.dm.now(), true);
        t.dm.flush().expect("flush");
        events.extend(t.events());
        if done(&events) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    events
}

/// [`poll_until`] on the events' short text forms ([`DmEvent::describe`]: `+path`,
/// `path=value`, ...).
pub(crate) fn poll_until_brief(t: &mut Lab, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut brief = Vec::new();
    while Instant::now() < deadline {
        t.dm.tick(t.dm.now(), true);
        t.dm.flush().expect("flush");
        brief.extend(t.brief());
        if done(&brief) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    brief
}

/// How many instances `path` (with search expressions) names.
pub(crate) fn count(t: &mut Lab, path: &str) -> usize {
    let p = Path::parse(path).expect("path");
    t.dm.resolve(&Requester::Internal, &p).map(|v| v.len()).unwrap_or(0)
}

#[test]
fn lab_radios_ssids_and_access_points_read_like_tr181() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = lab(dir.path());
    assert_eq!(t.get("Device.WiFi.RadioNumberOfEntries"), "3");
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "6");
    assert_eq!(t.get("Device.WiFi.Radio.2.OperatingFrequencyBand"), "5GHz");
    assert_eq!(
        t.get("Device.WiFi.Radio.3.SupportedOperatingChannelBandwidths"),
        "20MHz,40MHz,80MHz,160MHz,320MHz-1"
    );
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "lab-2g");
    assert_eq!(t.get("Device.WiFi.SSID.1.LowerLayers"), "Device.WiFi.Radio.1.");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.SSIDReference"), "Device.WiFi.SSID.2.");
    assert!(t.get("Device.WiFi.AccessPoint.1.Security.ModesSupported").contains("WPA2-Personal"));
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"), "");
    assert_eq!(count(&mut t, "Device.WiFi.Radio.[Enable==true].Channel"), 3);
    assert_eq!(count(&mut t, "Device.WiFi.AccessPoint.1.AssociatedDevice.*.MACAddress"), 1);
}

#[test]
fn every_instance_reads_every_parameter_and_every_lab_value_is_declared() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = lab(dir.path());
    let root = Target { obj: ObjId::ROOT, numbers: Vec::new(), item: Item::Object };
    let walked = t.dm.walk(&root, 0);
    let mut rows = 0;
    for w in walked {
        let def = t.dm.schema().obj(w.obj).clone();
        if !def.path.starts_with("Device.WiFi.") {
            continue;
        }
        let read = t.dm.read_all(&Requester::Internal, w.obj, &w.numbers);
        assert_eq!(read.len(), def.params.len(), "every parameter of {} reads", def.path);
        rows += 1;
    }
    assert!(rows > 10, "{rows} Wi-Fi objects");
    let snap = LabWifi::with_station_period(dir.path(), None).refresh().unwrap();
    let declared: Vec<String> = super::tr181::OBJECTS
        .iter()
        .flat_map(|o| {
            let info = o.path.replace("Device.WiFi.", "");
            o.params.iter().map(move |p| format!("{info}{}", p.name))
        })
        .collect();
    let kinds = [
        ("Radio.{i}.", &snap.radios),
        ("SSID.{i}.", &snap.ssids),
        ("AccessPoint.{i}.", &snap.access_points),
    ];
    for (prefix, rows) in kinds {
        for row in rows {
            for name in row.values.keys() {
                assert!(
                    declared.contains(&format!("{prefix}{name}")),
                    "{prefix}{name} is declared"
                );
            }
        }
    }
}

#[test]
fn one_transaction_is_one_apply_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, control) = lab(dir.path());
    t.set("Device.WiFi.Radio.1.", &[("Channel", "11"), ("OperatingChannelBandwidth", "40MHz")])
        .unwrap();
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "11", "the cache shows the change at once");
    poll_until(&mut t, |_| control.applies() == 1);
    assert_eq!(control.applies(), 1);
    t.set("Device.WiFi.SSID.2.", &[("SSID", "renamed")]).unwrap();
    poll_until(&mut t, |_| control.applies() == 2);
    let file = std::fs::read_to_string(dir.path().join(super::lab::CONFIG_FILE)).unwrap();
    assert!(file.contains("radio radio0 Channel=11"), "{file}");
    assert!(file.contains("ssid ssid1 SSID=renamed"), "{file}");
    let (mut again, _) = lab(dir.path());
    assert_eq!(again.get("Device.WiFi.Radio.1.Channel"), "11");
    assert_eq!(again.get("Device.WiFi.SSID.2.SSID"), "renamed");
}

#[test]
fn bad_values_get_7012_and_nothing_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, control) = lab(dir.path());
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("Device.WiFi.Radio.1.", &[("Channel", "36")]),
        ("Device.WiFi.Radio.2.", &[("Channel", "14")]),
        ("Device.WiFi.Radio.1.", &[("OperatingFrequencyBand", "6GHz")]),
        ("Device.WiFi.Radio.1.", &[("OperatingFrequencyBand", "7GHz")]),
        ("Device.WiFi.AccessPoint.1.Security.", &[("KeyPassphrase", "short")]),
        ("Device.WiFi.AccessPoint.1.Security.", &[("ModeEnabled", "WEP-64")]),
        ("Device.WiFi.SSID.1.", &[("SSID", "")]),
    ];
    for (obj, values) in cases {
        let e = t.set(obj, values).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue, "{obj} {values:?}: {e}");
    }
    // A good value next to a bad one: the whole object update is refused.
    assert!(t.set("Device.WiFi.Radio.1.", &[("TransmitPower", "50"), ("Channel", "99")]).is_err());
    poll_until(&mut t, |_| false);
    assert_eq!(control.applies(), 0);
    assert!(!dir.path().join(super::lab::CONFIG_FILE).exists());
    assert_eq!(t.get("Device.WiFi.Radio.1.TransmitPower"), "100");
}

#[test]
fn a_station_joining_is_an_object_creation() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, control) = lab(dir.path());
    assert_eq!(count(&mut t, "Device.WiFi.AccessPoint.2.AssociatedDevice.*."), 1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !control.watched() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    control.join("ssid1", "aa:bb:cc:dd:ee:01");
    let created =
        |e: &[String]| e.iter().any(|d| d == "+Device.WiFi.AccessPoint.2.AssociatedDevice.2.");
    let events = poll_until_brief(&mut t, created);
    let n = count(&mut t, "Device.WiFi.AccessPoint.2.AssociatedDevice.*.");
    assert!(created(&events), "{events:?} {n}");
    assert_eq!(
        t.get("Device.WiFi.AccessPoint.2.AssociatedDevice.2.MACAddress"),
        "aa:bb:cc:dd:ee:01"
    );
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.AssociatedDeviceNumberOfEntries"), "2");
}

#[test]
fn the_neighbour_scan_completes_with_results() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = lab(dir.path());
    let (handle, outcome) = t.operate("Device.WiFi.NeighboringWiFiDiagnostic()", &[]).unwrap();
    assert_eq!(outcome, Outcome::Running);
    let done = |e: &[DmEvent]| e.iter().any(|e| matches!(e, DmEvent::OperationComplete { .. }));
    let events = poll_until(&mut t, done);
    let result = events.iter().find_map(|e| match e {
        DmEvent::OperationComplete { handle: h, result } if *h == handle => Some(result.clone()),
        _ => None,
    });
    let args = result.expect("completed").expect("succeeded");
    let arg = |name: &str| args.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string());
    assert_eq!(arg("Status").as_deref(), Some("Complete"));
    assert_eq!(arg("Result.1.SSID").as_deref(), Some("neighbour-home"));
    assert_eq!(arg("Result.1.Radio").as_deref(), Some("Device.WiFi.Radio.1."));
    assert_eq!(arg("Result.3.Channel").as_deref(), Some("44"));
}

#[test]
fn reset_restarts_the_radios_and_security_reset_restores_the_factory_security() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, control) = lab(dir.path());
    t.set("Device.WiFi.SSID.1.", &[("SSID", "mine")]).unwrap();
    t.set("Device.WiFi.AccessPoint.1.Security.", &[("ModeEnabled", "None")]).unwrap();
    poll_until(&mut t, |_| control.applies() == 2);
    let (_, outcome) = t.operate("Device.WiFi.Reset()", &[]).unwrap();
    assert_eq!(outcome, Outcome::Done(Vec::new()));
    t.operate("Device.WiFi.AccessPoint.1.Security.Reset()", &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while t.get("Device.WiFi.AccessPoint.1.Security.ModeEnabled") != "WPA2-Personal"
        && Instant::now() < deadline
    {
        poll_until(&mut t, |_| true);
    }
    assert_eq!(t.get("Device.WiFi.ResetCounter"), "1");
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "mine", "a restart keeps the configuration");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.ModeEnabled"), "WPA2-Personal");
    assert_eq!(count(&mut t, "Device.WiFi.AccessPoint.*.AssociatedDevice.*."), 0);
}

/// The names in `snap`'s rows that the generated schema does not declare (for every
/// backend's tests: a backend may only write declared names).
pub(crate) fn undeclared(snap: &super::Snapshot) -> Vec<String> {
    let declared: Vec<String> = super::tr181::OBJECTS
        .iter()
        .flat_map(|o| {
            let info = o.path.replace("Device.WiFi.", "");
            o.params.iter().map(move |p| format!("{info}{}", p.name))
        })
        .collect();
    let kinds = [
        ("Radio.{i}.", &snap.radios),
        ("SSID.{i}.", &snap.ssids),
        ("AccessPoint.{i}.", &snap.access_points),
        ("AccessPoint.{i}.AssociatedDevice.{i}.", &snap.stations),
        ("EndPoint.{i}.", &snap.endpoints),
        ("EndPoint.{i}.Profile.{i}.", &snap.profiles),
    ];
    let mut out = Vec::new();
    for (prefix, rows) in kinds {
        for name in rows.iter().flat_map(|r| r.values.keys()) {
            let full = format!("{prefix}{name}");
            if !declared.contains(&full) && !out.contains(&full) {
                out.push(full);
            }
        }
    }
    out
}

/// Runs the async command `path` and waits (bounded) for its completion: its output
/// arguments as text, or the error's text.
pub(crate) fn run_async(t: &mut Lab, path: &str) -> Result<Vec<(String, String)>, String> {
    let (handle, outcome) = t.operate(path, &[]).map_err(|e| e.to_string())?;
    assert_eq!(outcome, Outcome::Running, "{path} is async");
    let done = |e: &[DmEvent]| {
        e.iter().any(|e| matches!(e, DmEvent::OperationComplete { handle: h, .. } if *h == handle))
    };
    let events = poll_until(t, done);
    let result = events.into_iter().find_map(|e| match e {
        DmEvent::OperationComplete { handle: h, result } if h == handle => Some(result),
        _ => None,
    });
    match result {
        Some(Ok(args)) => Ok(args.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err(format!("{path} did not complete")),
    }
}

#[test]
fn wps_push_button_lets_a_station_join_where_wps_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, _) = lab(dir.path());
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.Status"), "Configured");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.ConfigMethodsEnabled"), "PushButton");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.Version"), "2.0");
    let before = count(&mut t, "Device.WiFi.AccessPoint.1.AssociatedDevice.*.");
    let out = run_async(&mut t, "Device.WiFi.AccessPoint.1.WPS.InitiateWPSPBC()").unwrap();
    assert_eq!(out, [("Status".to_owned(), "Success".to_owned())]);
    poll_until(&mut t, |_| false);
    assert_eq!(count(&mut t, "Device.WiFi.AccessPoint.1.AssociatedDevice.*."), before + 1);
    assert_eq!(t.get("Device.WiFi.AccessPoint.3.WPS.Status"), "Disabled");
    let e = run_async(&mut t, "Device.WiFi.AccessPoint.3.WPS.InitiateWPSPBC()").unwrap_err();
    assert!(e.contains("WPS is disabled"), "{e}");
    t.set("Device.WiFi.AccessPoint.3.WPS.", &[("Enable", "true")]).unwrap();
    poll_until(&mut t, |_| false);
    assert!(run_async(&mut t, "Device.WiFi.AccessPoint.3.WPS.InitiateWPSPBC()").is_ok());
}

#[test]
fn the_lab_station_interface_is_an_end_point_with_profiles() {
    let dir = tempfile::tempdir().unwrap();
    let (mut t, control) = lab(dir.path());
    let snap = LabWifi::with_station_period(dir.path(), None).refresh().unwrap();
    assert_eq!(undeclared(&snap), Vec::<String>::new());
    let ep = "Device.WiFi.EndPoint.1.";
    assert_eq!(t.get("Device.WiFi.EndPointNumberOfEntries"), "1");
    assert_eq!(t.get(&format!("{ep}ProfileNumberOfEntries")), "2");
    assert_eq!(t.get(&format!("{ep}SSIDReference")), "Device.WiFi.SSID.4.");
    assert_eq!(t.get(&format!("{ep}ProfileReference")), "Device.WiFi.EndPoint.1.Profile.1.");
    assert_eq!(t.get("Device.WiFi.SSID.4.SSID"), "uplink-5g");
    assert_eq!(t.get(&format!("{ep}Profile.1.Status")), "Active");
    assert_eq!(t.get(&format!("{ep}Profile.2.Status")), "Available");
    assert_eq!(t.get(&format!("{ep}Profile.2.Security.ModeEnabled")), "WPA3-Personal");
    assert_eq!(count(&mut t, "Device.WiFi.EndPoint.*.Profile.[Priority==1]."), 1);
    let bad: &[(&str, &[(&str, &str)])] = &[
        ("Device.WiFi.EndPoint.1.", &[("ProfileReference", "Device.WiFi.EndPoint.1.Profile.9.")]),
        ("Device.WiFi.EndPoint.1.Profile.1.Security.", &[("KeyPassphrase", "short")]),
        ("Device.WiFi.EndPoint.1.Profile.1.Security.", &[("ModeEnabled", "WEP-64")]),
        ("Device.WiFi.EndPoint.1.Profile.1.", &[("SSID", "")]),
    ];
    for (obj, values) in bad {
        let e = t.set(obj, values).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue, "{obj} {values:?}: {e}");
    }
    t.set("Device.WiFi.EndPoint.1.Profile.2.Security.", &[("KeyPassphrase", "backup-secret")])
        .unwrap();
    t.set(ep, &[("ProfileReference", "Device.WiFi.EndPoint.1.Profile.2.")]).unwrap();
    poll_until(&mut t, |_| control.applies() == 2);
    poll_until(&mut t, |_| false);
    assert_eq!(t.get(&format!("{ep}Profile.2.Status")), "Active");
    assert_eq!(t.get(&format!("{ep}Profile.1.Status")), "Available");
    assert_eq!(t.get("Device.WiFi.SSID.4.SSID"), "uplink-backup");
    assert_eq!(t.get(&format!("{ep}Profile.2.Security.KeyPassphrase")), "");
    let (mut again, _) = lab(dir.path());
    assert_eq!(again.get(&format!("{ep}ProfileReference")), "Device.WiFi.EndPoint.1.Profile.2.");
}
