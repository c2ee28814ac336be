//! The lab Wi-Fi backend: three simulated radios (2.4, 5 and 6 GHz), one SSID and access point
//! on each, statistics that grow with time, stations that come and go, a neighbour scan that
//! takes a moment, and the configuration kept in `wifi.conf` under the host's state directory.
//! `uspagent --platform lab` (and `uspctl lab`) serve it on any machine.
//!
//! # A worked example of a backend
//! Copy this file to add a platform. What each part shows:
//! - **State.** [`LabWifi`] owns a [`Sim`] behind an `Arc<Mutex<_>>`, shared by the worker
//!   thread (which calls the [`Backend`] methods) and the watcher thread of [`Backend::watch`].
//!   The plugin never sees it: it gets [`Snapshot`]s.
//! - **Refresh.** [`Backend::refresh`] builds a full snapshot: configuration (from the file)
//!   plus runtime values (status, counters, stations). A real backend reads its platform here.
//! - **Apply.** [`Backend::apply`] gets one transaction, already validated against the
//!   capabilities the snapshot advertised (`PossibleChannels`, `ModesSupported`, ...), changes
//!   the configuration and writes the file once (atomically: a temporary file renamed).
//! - **Events.** The watcher thread makes a station join or leave every `station_period` and
//!   pushes a new snapshot through the [`Inbox`]; the plugin diffs it, so the engine sends
//!   ObjectCreation / ObjectDeletion for `AssociatedDevice.{i}` rows. Its loop ends when the
//!   plugin is gone (`push` returns false). [`LabControl`] lets tests make a station join now.
//! - **Errors.** Nothing panics: a bad line of the file is logged and skipped, a failed write is
//!   a [`WifiError::Io`] that the plugin logs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use usp_datamodel::value::{ParamType, Value};

use super::backend::{Backend, Reply};
use super::model::{Change, Kind, Row, Snapshot, WifiError, text};
use crate::worker::Inbox;
use snapshot::neighbours;

mod snapshot;

/// The configuration file's name in the state directory.
pub const CONFIG_FILE: &str = "wifi.conf";

/// The simulated radios: key, interface name, band, default channel, standards, bandwidths.
const RADIOS: &[(&str, &str, &str, u32, &str, &str)] = &[
    ("radio0", "wlan0", "2.4GHz", 6, "b,g,n,ax", "20MHz,40MHz"),
    ("radio1", "wlan1", "5GHz", 36, "a,n,ac,ax", "20MHz,40MHz,80MHz,160MHz"),
    ("radio2", "wlan2", "6GHz", 37, "ax,be", "20MHz,40MHz,80MHz,160MHz,320MHz-1"),
];

/// What the lab applies: the names of its configuration (see [`defaults`]) and the secrets
/// (accepted, not kept). Other writable parameters are read-only in the lab.
const SETTABLE: &[(Kind, &str)] = &[
    (Kind::Radio, "Enable"),
    (Kind::Radio, "OperatingFrequencyBand"),
    (Kind::Radio, "Channel"),
    (Kind::Radio, "AutoChannelEnable"),
    (Kind::Radio, "OperatingChannelBandwidth"),
    (Kind::Radio, "OperatingStandards"),
    (Kind::Radio, "TransmitPower"),
    (Kind::Radio, "RegulatoryDomain"),
    (Kind::Ssid, "Enable"),
    (Kind::Ssid, "SSID"),
    (Kind::Ssid, "LowerLayers"),
    (Kind::AccessPoint, "Enable"),
    (Kind::AccessPoint, "SSIDReference"),
    (Kind::AccessPoint, "SSIDAdvertisementEnabled"),
    (Kind::AccessPoint, "IsolationEnable"),
    (Kind::AccessPoint, "WMMEnable"),
    (Kind::AccessPoint, "MaxAssociatedDevices"),
    (Kind::AccessPoint, "Security.ModeEnabled"),
    (Kind::AccessPoint, "Security.RekeyingInterval"),
    (Kind::AccessPoint, "Security.MFPConfig"),
    (Kind::AccessPoint, "Security.KeyPassphrase"),
    (Kind::AccessPoint, "Security.PreSharedKey"),
    (Kind::AccessPoint, "Security.SAEPassphrase"),
    (Kind::AccessPoint, "WPS.Enable"),
    (Kind::EndPoint, "Enable"),
    (Kind::EndPoint, "ProfileReference"),
    (Kind::Profile, "Enable"),
    (Kind::Profile, "SSID"),
    (Kind::Profile, "Location"),
    (Kind::Profile, "Priority"),
    (Kind::Profile, "Security.ModeEnabled"),
    (Kind::Profile, "Security.MFPConfig"),
    (Kind::Profile, "Security.KeyPassphrase"),
    (Kind::Profile, "Security.PreSharedKey"),
    (Kind::Profile, "Security.SAEPassphrase"),
];

/// The key of the station-mode interface (its SSID and EndPoint rows).
const STA: &str = "sta0";

/// Security modes the simulated access points offer.
const MODES: &str = "None,WPA2-Personal,WPA3-Personal,WPA3-Personal-Transition";

/// The simulated state.
#[derive(Debug)]
pub struct Sim {
    file: PathBuf,
    /// Writable values by (kind, key) then relative name.
    config: BTreeMap<(Kind, String), BTreeMap<String, Value>>,
    /// Associated stations: (access point key, MAC address, joined at).
    stations: Vec<(String, String, Instant)>,
    started: Instant,
    joins: u64,
    reset_counter: u32,
    /// How many transactions were applied (tests count them).
    pub applies: u32,
    inbox: Option<Inbox<Reply>>,
}

/// The lab backend.
#[derive(Debug, Clone)]
pub struct LabWifi {
    sim: Arc<Mutex<Sim>>,
    station_period: Option<Duration>,
}

/// A test's handle on the simulation.
#[derive(Debug, Clone)]
pub struct LabControl(Arc<Mutex<Sim>>);

impl LabControl {
    /// Associates a station with the access point `ap` now and tells the plugin.
    pub fn join(&self, ap: &str, mac: &str) {
        let mut sim = lock(&self.0);
        sim.stations.push((ap.to_owned(), mac.to_owned(), Instant::now()));
        sim.push();
    }

    /// Whether the plugin's watcher is attached (a [`LabControl::join`] reaches it at once).
    pub fn watched(&self) -> bool {
        lock(&self.0).inbox.is_some()
    }

    /// How many transactions were applied.
    pub fn applies(&self) -> u32 {
        lock(&self.0).applies
    }
}

fn lock(sim: &Arc<Mutex<Sim>>) -> MutexGuard<'_, Sim> {
    // A poisoned lock means a thread panicked while holding it; the data is still usable.
    sim.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl LabWifi {
    /// The lab radios with configuration in `state_dir/wifi.conf` (defaults when absent), a
    /// station joining or leaving every 20 seconds.
    pub fn open(state_dir: &Path) -> LabWifi {
        LabWifi::with_station_period(state_dir, Some(Duration::from_secs(20)))
    }

    /// As [`LabWifi::open`], with stations changing every `period` (`None`: only through
    /// [`LabControl::join`]).
    pub fn with_station_period(state_dir: &Path, period: Option<Duration>) -> LabWifi {
        let mut sim = Sim {
            file: state_dir.join(CONFIG_FILE),
            config: defaults(),
            stations: Vec::new(),
            started: Instant::now(),
            joins: 0,
            reset_counter: 0,
            applies: 0,
            inbox: None,
        };
        sim.load();
        for ap in ["ssid0", "ssid1"] {
            sim.join_next(ap);
        }
        LabWifi { sim: Arc::new(Mutex::new(sim)), station_period: period }
    }

    /// A handle for tests.
    pub fn control(&self) -> LabControl {
        LabControl(self.sim.clone())
    }
}

/// The factory configuration.
fn defaults() -> BTreeMap<(Kind, String), BTreeMap<String, Value>> {
    let mut c = BTreeMap::new();
    for (i, (key, _, band, channel, standards, _)) in RADIOS.iter().enumerate() {
        let radio: BTreeMap<String, Value> = [
            ("Enable", Value::Boolean(true)),
            ("OperatingFrequencyBand", text(band)),
            ("Channel", Value::UnsignedInt(*channel)),
            ("AutoChannelEnable", Value::Boolean(false)),
            ("OperatingChannelBandwidth", text(if i == 0 { "20MHz" } else { "80MHz" })),
            ("OperatingStandards", text(standards)),
            ("TransmitPower", Value::Int(100)),
            ("RegulatoryDomain", text("DE ")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        c.insert((Kind::Radio, (*key).to_owned()), radio);
        let ssid = format!("ssid{i}");
        let names = ["lab-2g", "lab-5g", "lab-6g"];
        let s = [
            ("Enable", Value::Boolean(true)),
            ("SSID", text(names[i])),
            ("LowerLayers", text(key)),
        ];
        c.insert(
            (Kind::Ssid, ssid.clone()),
            s.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        );
        let mode = if i == 2 { "WPA3-Personal" } else { "WPA2-Personal" };
        let ap = [
            ("Enable", Value::Boolean(true)),
            ("SSIDReference", text(&ssid)),
            ("SSIDAdvertisementEnabled", Value::Boolean(true)),
            ("IsolationEnable", Value::Boolean(false)),
            ("WMMEnable", Value::Boolean(true)),
            ("MaxAssociatedDevices", Value::UnsignedInt(32)),
            ("Security.ModeEnabled", text(mode)),
            ("Security.RekeyingInterval", Value::UnsignedInt(3600)),
            ("Security.MFPConfig", text(if i == 2 { "Required" } else { "Optional" })),
            ("WPS.Enable", Value::Boolean(i != 2)),
        ];
        c.insert(
            (Kind::AccessPoint, ssid),
            ap.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        );
    }
    station_defaults(&mut c);
    c
}

/// The station-mode interface (`EndPoint.1`, SSID key `sta0` on the 5 GHz radio) and its two
/// profiles.
fn station_defaults(c: &mut BTreeMap<(Kind, String), BTreeMap<String, Value>>) {
    let row = |pairs: Vec<(&str, Value)>| -> BTreeMap<String, Value> {
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    let ssid = row(vec![("Enable", Value::Boolean(true)), ("LowerLayers", text("radio1"))]);
    c.insert((Kind::Ssid, STA.to_owned()), ssid);
    let endpoint = row(vec![
        ("Enable", Value::Boolean(true)),
        ("ProfileReference", text(&format!("{STA}-p1"))),
    ]);
    c.insert((Kind::EndPoint, STA.to_owned()), endpoint);
    for (n, ssid, location, mode, mfp) in [
        (1, "uplink-5g", "", "WPA2-Personal", "Optional"),
        (2, "uplink-backup", "attic", "WPA3-Personal", "Required"),
    ] {
        let profile = row(vec![
            ("Enable", Value::Boolean(true)),
            ("SSID", text(ssid)),
            ("Location", text(location)),
            ("Priority", Value::UnsignedInt(n - 1)),
            ("Security.ModeEnabled", text(mode)),
            ("Security.MFPConfig", text(mfp)),
        ]);
        c.insert((Kind::Profile, format!("{STA}-p{n}")), profile);
    }
}

impl Sim {
    /// Reads `wifi.conf` over the defaults: lines `kind key name=value`; bad lines are logged.
    fn load(&mut self) {
        let Ok(body) = std::fs::read_to_string(&self.file) else { return };
        for (n, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            if self.load_line(line).is_none() {
                log::warn!("{}:{}: ignoring a bad line: {line}", self.file.display(), n + 1);
            }
        }
    }

    fn load_line(&mut self, line: &str) -> Option<()> {
        let (kind, rest) = line.split_once(' ')?;
        let (key, rest) = rest.split_once(' ')?;
        let (name, value) = rest.split_once('=')?;
        let kind = match kind {
            "radio" => Kind::Radio,
            "ssid" => Kind::Ssid,
            "ap" => Kind::AccessPoint,
            "endpoint" => Kind::EndPoint,
            "profile" => Kind::Profile,
            _ => return None,
        };
        let row = self.config.get_mut(&(kind, key.to_owned()))?;
        let ty: ParamType = row.get(name)?.param_type();
        row.insert(name.to_owned(), ty.parse(value).ok()?);
        Some(())
    }

    /// Writes the whole configuration, atomically.
    fn save(&self) -> Result<(), WifiError> {
        let mut body = String::new();
        for ((kind, key), values) in &self.config {
            let kind = match kind {
                Kind::Radio => "radio",
                Kind::Ssid => "ssid",
                Kind::EndPoint => "endpoint",
                Kind::Profile => "profile",
                _ => "ap",
            };
            for (name, v) in values {
                body.push_str(&format!("{kind} {key} {name}={v}\n"));
            }
        }
        let tmp = self.file.with_extension("conf.tmp");
        let io = |e: std::io::Error| WifiError::Io(format!("{}: {e}", self.file.display()));
        std::fs::write(&tmp, body).map_err(io)?;
        std::fs::rename(&tmp, &self.file).map_err(io)
    }

    /// A new station on `ap` (a made-up, locally administered MAC address).
    fn join_next(&mut self, ap: &str) {
        self.joins += 1;
        let mac = format!("02:00:00:00:{:02x}:{:02x}", (self.joins >> 8) & 0xff, self.joins & 0xff);
        self.stations.push((ap.to_owned(), mac, Instant::now()));
    }

    /// One step of the station simulation: join on even steps, the oldest leaves on odd ones.
    fn step(&mut self) {
        if self.joins % 2 == 0 || self.stations.is_empty() {
            let ap = format!("ssid{}", self.joins % 2);
            self.join_next(&ap);
        } else {
            self.stations.remove(0);
            self.joins += 1;
        }
    }

    /// Tells the plugin about the current state (when a watcher runs); false once it is gone.
    fn push(&self) -> bool {
        match &self.inbox {
            Some(inbox) => inbox.push(Reply::Snapshot(Ok(self.snapshot()))),
            None => true,
        }
    }
}

impl Backend for LabWifi {
    fn name(&self) -> &'static str {
        "lab"
    }

    fn refresh(&mut self) -> Result<Snapshot, WifiError> {
        Ok(lock(&self.sim).snapshot())
    }

    fn settable(&self) -> Option<&'static [(Kind, &'static str)]> {
        Some(SETTABLE)
    }

    fn apply(&mut self, changes: &[Change]) -> Result<(), WifiError> {
        let mut sim = lock(&self.sim);
        for c in changes {
            if super::model::is_secret(&c.name) {
                continue; // Accepted and not kept: the lab has no real keys to protect.
            }
            let row = sim.config.get_mut(&(c.kind, c.key.clone()));
            let row =
                row.ok_or_else(|| WifiError::Unavailable(format!("no {:?} {}", c.kind, c.key)))?;
            row.insert(c.name.clone(), c.value.clone());
        }
        sim.applies += 1;
        sim.save()
    }

    fn scan(&mut self) -> Result<Vec<Row>, WifiError> {
        std::thread::sleep(Duration::from_millis(200)); // a scan takes a moment
        Ok(neighbours())
    }

    /// A push-button session: the lab lets a new station join the access point at once.
    fn wps_pbc(&mut self, access_point: &str) -> Result<(), WifiError> {
        let mut sim = lock(&self.sim);
        let key = (Kind::AccessPoint, access_point.to_owned());
        let on = sim.config.get(&key).and_then(|r| r.get("WPS.Enable")).and_then(Value::as_bool);
        match on {
            None => Err(WifiError::Unavailable(format!("no access point {access_point}"))),
            Some(false) => {
                Err(WifiError::Unavailable(format!("WPS is disabled on {access_point}")))
            }
            Some(true) => {
                sim.join_next(access_point);
                Ok(())
            }
        }
    }

    fn reset(&mut self, access_point: Option<&str>) -> Result<(), WifiError> {
        let mut sim = lock(&self.sim);
        let factory = defaults();
        match access_point {
            None => {
                // A restart of the Wi-Fi subsystem (TR-181 `Reset()`): the configuration stays,
                // every station is dropped.
                sim.stations.clear();
                sim.reset_counter += 1;
                return Ok(());
            }
            Some(ap) => {
                let key = (Kind::AccessPoint, ap.to_owned());
                let (Some(row), Some(def)) = (sim.config.get_mut(&key), factory.get(&key)) else {
                    return Err(WifiError::Unavailable(format!("no access point {ap}")));
                };
                for (name, v) in def.iter().filter(|(n, _)| n.starts_with("Security.")) {
                    row.insert(name.clone(), v.clone());
                }
            }
        }
        sim.save()
    }

    fn watch(&mut self, inbox: Inbox<Reply>) -> Result<(), WifiError> {
        lock(&self.sim).inbox = Some(inbox);
        let Some(period) = self.station_period else { return Ok(()) };
        let sim = self.sim.clone();
        let spawned =
            std::thread::Builder::new().name("wifi-lab-stations".into()).spawn(move || {
                loop {
                    std::thread::sleep(period);
                    let mut s = lock(&sim);
                    s.step();
                    if !s.push() {
                        break; // the plugin is gone
                    }
                }
            });
        spawned.map(|_| ()).map_err(|e| WifiError::Io(format!("station thread: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_settable_name_is_configuration_or_a_secret() {
        let config = defaults();
        for (kind, name) in SETTABLE {
            let key = match kind {
                Kind::Radio => "radio0",
                Kind::EndPoint => STA,
                Kind::Profile => "sta0-p1",
                _ => "ssid0",
            };
            let known = config.get(&(*kind, key.to_owned())).is_some_and(|r| r.contains_key(*name));
            assert!(known || super::super::model::is_secret(name), "{kind:?} {name}");
        }
    }
}
