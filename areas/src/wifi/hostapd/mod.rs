//! The Linux Wi-Fi backend (`--platform linux`): hostapd's control interface for the access
//! points and their stations, nl80211 for what hostapd does not say (the bands, channels and
//! standards a radio supports; neighbour scans).
//!
//! - Every socket in [`PlatformPaths::hostapd_dir`] (`/var/run/hostapd/<ifname>`) is one BSS:
//!   an `SSID.{i}` and an `AccessPoint.{i}` keyed by its interface name. `STATUS` names the
//!   radio (`phy=phy0`, the `Radio.{i}` key) and its channel, band and standards; `GET_CONFIG`
//!   the SSID, BSSID, security and WPS state; `STA-FIRST` / `STA-NEXT` the stations.
//! - Writes persist: each one is first written to the BSS's section of its hostapd
//!   configuration file (`conf.rs`: the `*.conf` file of `--hostapd-conf` naming the BSS;
//!   comments and unknown lines kept; temporary file + rename), then applied at runtime with
//!   hostapd's own commands. A transaction becomes, per BSS, `SET <field> <value>` lines then
//!   ONE `RELOAD` (hostapd re-applies its in-memory configuration); a channel is changed with
//!   `CHAN_SWITCH 5 <MHz> bandwidth=.. ht vht ..` keeping its width and standards (a `RELOAD`
//!   does not retune the radio; `retune.rs`), a radio switched with
//!   `ENABLE` / `DISABLE` (runtime only: hostapd's file has no such setting), a BSS with
//!   `start_disabled` and `STOP_AP` / `UPDATE_BEACON`. When hostapd refuses a command the
//!   files are put back as they were. What the control interface cannot read back (Enable of
//!   a BSS, hidden SSID, isolation, WMM, maximum stations) is read from the file, and without
//!   a file it is not served and cannot be set; the other writes then live in hostapd's memory
//!   only (logged once).
//! - Station mode: wpa_supplicant's sockets in `--wpa-supplicant-dir` are the `EndPoint`s
//!   and their networks the `Profile`s (`supplicant.rs`, `stations.rs`).
//! - Events: one thread per BSS sends `ATTACH` and turns `AP-STA-CONNECTED`,
//!   `AP-STA-DISCONNECTED` and `WPS-*` events into a refresh, so a station that associates
//!   becomes a new `AssociatedDevice` row without waiting for the periodic refresh.
//! - A missing or stale socket (hostapd gone) is logged once with its path and left out; the
//!   rest is served.

pub mod conf;
#[cfg(test)]
mod conf_tests;
pub mod parse;
#[cfg(any(test, feature = "testbed"))]
pub mod peer;
#[cfg(any(test, feature = "testbed"))]
mod peer_reply;
mod retune;
mod stations;
pub mod supplicant;
#[cfg(any(test, feature = "testbed"))]
pub mod supplicant_peer;
#[cfg(test)]
mod supplicant_tests;
#[cfg(test)]
mod tests;
pub mod wpa_ctrl;

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;
use std::time::Duration;

use usp_datamodel::value::Value;

use super::backend::{Backend, Reply};
use super::model::{Change, Kind, Row, Snapshot, WifiError};
use super::nl80211::{Nl80211, Wiphy};
use crate::PlatformPaths;
use crate::worker::Inbox;
use parse::Fields;
use wpa_ctrl::{Ctrl, CtrlError};

mod events;
mod persist;
mod write;

/// How long one control-interface exchange may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// The hostapd backend.
#[derive(Debug)]
pub struct HostapdWifi {
    dir: PathBuf,
    /// The directory of wpa_supplicant's control sockets (station interfaces).
    wpa_dir: PathBuf,
    /// The directory of hostapd's configuration files.
    conf_dir: PathBuf,
    /// Which configuration file holds each BSS (as of the last refresh).
    confs: BTreeMap<String, PathBuf>,
    /// Where the kernel's interface counters are (`/sys/class/net`).
    sys_net: PathBuf,
    warned: HashSet<String>,
    /// `Device.WiFi.Reset()`s since the agent started (`ResetCounter`).
    resets: u32,
    /// The radios of the last refresh: key, band and BSSes (a radio write goes to the first).
    radios: Vec<RadioRef>,
    /// The nl80211 socket, opened at the first refresh (`None`: not available, logged).
    nl: Option<Nl80211>,
}

/// A radio as the last refresh saw it.
#[derive(Clone, Debug, Default)]
struct RadioRef {
    key: String,
    band: String,
    /// Width and standards, for a channel switch that keeps them.
    operating: retune::Operating,
    bsses: Vec<String>,
}

impl From<CtrlError> for WifiError {
    fn from(e: CtrlError) -> WifiError {
        match e {
            CtrlError::NotListening(_) => WifiError::Unavailable(e.to_string()),
            _ => WifiError::Io(e.to_string()),
        }
    }
}

/// One BSS as read: its interface, `STATUS`, `GET_CONFIG` and stations.
struct Bss {
    ifname: String,
    status: Fields,
    config: Fields,
    stations: Vec<(String, Fields)>,
}

/// The most stations read from one BSS (a loop guard: hostapd's own limit is 2007).
const MAX_STATIONS: usize = 2048;

impl HostapdWifi {
    /// The backend for the hostapd sockets in `paths.hostapd_dir`.
    pub fn new(paths: &PlatformPaths) -> HostapdWifi {
        HostapdWifi {
            dir: paths.hostapd_dir.clone(),
            conf_dir: paths.hostapd_conf_dir.clone(),
            wpa_dir: paths.wpa_supplicant_dir.clone(),
            confs: BTreeMap::new(),
            sys_net: PathBuf::from("/sys/class/net"),
            warned: HashSet::new(),
            resets: 0,
            radios: Vec::new(),
            nl: None,
        }
    }

    /// The nl80211 socket, opened on first use; `None` (logged once) where the kernel has none.
    fn nl80211(&mut self) -> Option<&mut Nl80211> {
        if self.nl.is_none() {
            match Nl80211::open() {
                Ok(nl) => self.nl = Some(nl),
                Err(e) => self.warn_once(&format!(
                    "{e}; radio capabilities are the operating ones and \
                     NeighboringWiFiDiagnostic() cannot scan"
                )),
            }
        }
        self.nl.as_mut()
    }

    /// Radio capabilities from nl80211 (bands, channels, standards), where it answers.
    fn add_wiphy_facts(&mut self, snap: &mut Snapshot) {
        let wiphys = match self.nl80211().map(Nl80211::wiphys) {
            Some(Ok(w)) => w,
            Some(Err(e)) => {
                self.nl = None;
                return self.warn_once(&e.to_string());
            }
            None => return,
        };
        for radio in &mut snap.radios {
            if let Some(w) = wiphys.iter().find(|w| w.name == radio.key) {
                wiphy_facts(radio, w);
            }
        }
    }

    /// Logs `msg` the first time only.
    fn warn_once(&mut self, msg: &str) {
        if self.warned.insert(msg.to_owned()) {
            log::warn!("Device.WiFi (linux): {msg}");
        }
    }

    /// The control sockets in the directory, sorted by interface name.
    fn sockets(&self) -> Result<Vec<String>, WifiError> {
        sockets_in(&self.dir).map_err(|e| {
            WifiError::Unavailable(format!(
                "no hostapd control directory {}: {e} (is hostapd running with \
                 ctrl_interface={}?)",
                self.dir.display(),
                self.dir.display()
            ))
        })
    }

    fn open(&self, ifname: &str) -> Result<Ctrl, CtrlError> {
        Ctrl::open(&self.dir.join(ifname), TIMEOUT)
    }

    /// Reads one BSS (`None`, logged once, when its hostapd does not answer).
    fn read_bss(&mut self, ifname: &str) -> Option<Bss> {
        let read = |ctrl: &Ctrl| -> Result<Bss, CtrlError> {
            let status = parse::fields(&ctrl.request("STATUS")?);
            let config = parse::fields(&ctrl.request("GET_CONFIG")?);
            let mut stations: Vec<(String, Fields)> = Vec::new();
            let mut reply = ctrl.request("STA-FIRST")?;
            while let Some((mac, f)) = parse::station(&reply) {
                if stations.len() >= MAX_STATIONS || stations.iter().any(|(m, _)| *m == mac) {
                    break;
                }
                stations.push((mac.clone(), f));
                reply = ctrl.request(&format!("STA-NEXT {mac}"))?;
            }
            Ok(Bss { ifname: ifname.to_owned(), status, config, stations })
        };
        match self.open(ifname).and_then(|c| read(&c)) {
            Ok(bss) => Some(bss),
            Err(e) => {
                self.warn_once(&format!("{e}; the BSS {ifname} is not served"));
                None
            }
        }
    }

    /// Reads everything (see the module doc).
    fn read(&mut self) -> Result<Snapshot, WifiError> {
        let names = match self.sockets() {
            Ok(names) => names,
            // A station-only system: no hostapd, but wpa_supplicant.
            Err(e) if self.wpa_dir.is_dir() => {
                self.warn_once(&e.to_string());
                Vec::new()
            }
            Err(e) => return Err(e).inspect_err(|e| self.warn_once(&e.to_string())),
        };
        let all: Vec<Bss> = names.iter().filter_map(|n| self.read_bss(n)).collect();
        self.confs = conf::index(&self.conf_dir);
        let mut snap = Snapshot { reset_counter: self.resets, ..Snapshot::default() };
        let mut radios: Vec<RadioRef> = Vec::new();
        for bss in &all {
            let phy = parse::radio_key(&bss.status, &bss.ifname);
            let band = parse::band(&bss.status);
            match radios.iter_mut().find(|r| r.key == phy) {
                Some(r) => r.bsses.push(bss.ifname.clone()),
                None => {
                    snap.radios.push(radio_row(&phy, &bss.status));
                    let bsses = vec![bss.ifname.clone()];
                    let operating = retune::Operating::of(&bss.status);
                    radios.push(RadioRef {
                        key: phy.clone(),
                        band: band.to_owned(),
                        operating,
                        bsses,
                    });
                }
            }
            let names = parse::bss_names(&bss.status);
            let i = names.iter().position(|n| *n == bss.ifname).unwrap_or(0);
            let mut ssid = parse::ssid(&bss.ifname, &phy, &bss.status, i, &bss.config);
            self.add_counters(&mut ssid, &bss.ifname);
            let mut ap = parse::access_point(&bss.ifname, &bss.status, &bss.config);
            if let Some(text) = self.confs.get(&bss.ifname).and_then(|p| read_conf(p)) {
                parse::from_conf(&mut ssid, &mut ap, &|key| conf::get(&text, &bss.ifname, key));
            }
            snap.ssids.push(ssid);
            snap.access_points.push(ap);
            for (mac, f) in &bss.stations {
                snap.stations.push(parse::associated_device(&bss.ifname, mac, f, band));
            }
        }
        self.radios = radios;
        self.add_stations(&mut snap);
        self.add_wiphy_facts(&mut snap);
        radio_totals(&mut snap);
        Ok(snap)
    }

    /// The kernel's counters of `ifname` (`/sys/class/net/<ifname>/statistics`), when it has
    /// them.
    fn add_counters(&self, row: &mut Row, ifname: &str) {
        let dir = self.sys_net.join(ifname).join("statistics");
        let read = |f: &str| -> Option<u64> {
            std::fs::read_to_string(dir.join(f)).ok()?.trim().parse().ok()
        };
        for (tr, f) in [
            ("Stats.BytesSent", "tx_bytes"),
            ("Stats.BytesReceived", "rx_bytes"),
            ("Stats.PacketsSent", "tx_packets"),
            ("Stats.PacketsReceived", "rx_packets"),
        ] {
            if let Some(n) = read(f) {
                row.set(tr, Value::UnsignedLong(n));
            }
        }
        for (tr, f) in [("Stats.ErrorsSent", "tx_errors"), ("Stats.ErrorsReceived", "rx_errors")] {
            if let Some(n) = read(f) {
                row.set(tr, Value::UnsignedInt(u32::try_from(n).unwrap_or(u32::MAX)));
            }
        }
    }
}

/// The control sockets in `dir` (hostapd's or wpa_supplicant's), sorted by interface name;
/// the global sockets and wpa_supplicant's P2P device sockets left out.
fn sockets_in(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(dir)?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_socket()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with("global") && !n.starts_with("p2p-dev-"))
        .collect();
    out.sort();
    Ok(out)
}

/// A configuration file's text (`None`, logged, when it cannot be read).
fn read_conf(path: &std::path::Path) -> Option<String> {
    std::fs::read_to_string(path)
        .inspect_err(|e| log::warn!("Device.WiFi (linux): {}: {e}", path.display()))
        .ok()
}

/// The `Radio.{i}` row of `STATUS`, with what can be derived from it (the capabilities nl80211
/// would give are the operating ones).
fn radio_row(key: &str, status: &Fields) -> Row {
    let mut row = parse::radio(key, status);
    let band = parse::band(status);
    let standards = parse::standards(status);
    let mut widths = vec!["20MHz"];
    if standards.contains('n') || standards.contains("ax") {
        widths.push("40MHz");
    }
    if band != "2.4GHz" && (standards.contains("ac") || standards.contains("ax")) {
        widths.extend(["80MHz", "160MHz"]);
    }
    row.set("SupportedFrequencyBands", super::model::text(band));
    row.set("SupportedStandards", super::model::text(&standards));
    row.set("SupportedOperatingChannelBandwidths", super::model::text(&widths.join(",")));
    let channels = super::model::band_channels(band);
    row.set("PossibleChannels", super::model::text(&super::model::join_numbers(&channels)));
    row.set("ChannelsInUse", super::model::text(&row.number("Channel").to_string()));
    row
}

/// What nl80211 says about a radio's capabilities, over what `STATUS` implied.
fn wiphy_facts(row: &mut Row, w: &Wiphy) {
    use super::model::{join_numbers, text};
    let bands: Vec<&str> = w.bands.iter().map(|b| b.name).collect();
    row.set("SupportedFrequencyBands", text(&bands.join(",")));
    row.set("SupportedStandards", text(&w.standards()));
    let band = row.text("OperatingFrequencyBand").to_owned();
    if let Some(b) = w.bands.iter().find(|b| b.name == band) {
        row.set("PossibleChannels", text(&join_numbers(&b.channels)));
        let mut widths = vec!["20MHz"];
        if b.ht || b.he {
            widths.push("40MHz");
        }
        if b.vht || (b.he && band != "2.4GHz") {
            widths.extend(["80MHz", "160MHz"]);
        }
        row.set("SupportedOperatingChannelBandwidths", text(&widths.join(",")));
    }
}

/// A radio's counters: the sums of its interfaces'.
fn radio_totals(snap: &mut Snapshot) {
    const SUMMED: [&str; 4] =
        ["Stats.BytesSent", "Stats.BytesReceived", "Stats.PacketsSent", "Stats.PacketsReceived"];
    for radio in &mut snap.radios {
        for name in SUMMED {
            let total = snap
                .ssids
                .iter()
                .filter(|s| s.text("LowerLayers") == radio.key)
                .map(|s| s.number(name))
                .fold(0u64, u64::saturating_add);
            radio.set(name, Value::UnsignedLong(total));
        }
    }
}

/// What [`HostapdWifi::apply`] can write; the others are read-only on this backend.
const SETTABLE: &[(Kind, &str)] = &[
    (Kind::Radio, "Enable"),
    (Kind::Radio, "Channel"),
    (Kind::Ssid, "SSID"),
    (Kind::AccessPoint, "Security.ModeEnabled"),
    (Kind::AccessPoint, "Security.KeyPassphrase"),
    (Kind::AccessPoint, "Security.PreSharedKey"),
    (Kind::AccessPoint, "Security.SAEPassphrase"),
    (Kind::AccessPoint, "WPS.Enable"),
    (Kind::Ssid, "Enable"),
    (Kind::AccessPoint, "Enable"),
    (Kind::AccessPoint, "SSIDAdvertisementEnabled"),
    (Kind::AccessPoint, "IsolationEnable"),
    (Kind::AccessPoint, "WMMEnable"),
    (Kind::AccessPoint, "MaxAssociatedDevices"),
    (Kind::EndPoint, "ProfileReference"),
    (Kind::Profile, "Enable"),
    (Kind::Profile, "SSID"),
    (Kind::Profile, "Priority"),
    (Kind::Profile, "Security.ModeEnabled"),
    (Kind::Profile, "Security.KeyPassphrase"),
    (Kind::Profile, "Security.PreSharedKey"),
    (Kind::Profile, "Security.SAEPassphrase"),
];

impl Backend for HostapdWifi {
    fn name(&self) -> &'static str {
        "linux"
    }

    fn refresh(&mut self) -> Result<Snapshot, WifiError> {
        self.read()
    }

    fn settable(&self) -> Option<&'static [(Kind, &'static str)]> {
        Some(SETTABLE)
    }

    fn resets_security(&self) -> bool {
        false // hostapd keeps no factory security settings.
    }

    fn apply(&mut self, changes: &[Change]) -> Result<(), WifiError> {
        let (station, changes): (Vec<Change>, Vec<Change>) =
            changes.iter().cloned().partition(supplicant::owns);
        self.apply_stations(&station)?;
        let plan = write::plan(&self.radios, &changes)?;
        let saved = self.write_files(&plan)?;
        let ran = self.run_plan(&plan);
        if let Err(e) = &ran {
            for (path, old) in &saved {
                if let Err(undo) = conf::write_atomic(path, old) {
                    log::error!("Device.WiFi (linux): {undo} (after hostapd refused: {e})");
                }
            }
        }
        ran
    }

    fn scan(&mut self) -> Result<Vec<Row>, WifiError> {
        let radios: Vec<(String, String)> = self
            .radios
            .iter()
            .filter_map(|r| Some((r.key.clone(), r.bsses.first()?.clone())))
            .collect();
        let Some(nl) = self.nl80211() else {
            return Err(WifiError::Unavailable(
                "nl80211 is not available: no neighbour scan on this system".into(),
            ));
        };
        let mut out = Vec::new();
        for (radio, ifname) in radios {
            out.extend(nl.scan(&ifname, &radio)?);
        }
        Ok(out)
    }

    fn wps_pbc(&mut self, access_point: &str) -> Result<(), WifiError> {
        self.open(access_point)?.command("WPS_PBC")?;
        Ok(())
    }

    fn reset(&mut self, access_point: Option<&str>) -> Result<(), WifiError> {
        if let Some(ap) = access_point {
            return Err(WifiError::Unavailable(format!(
                "no factory security settings are known for {ap} under hostapd"
            )));
        }
        // DISABLE / ENABLE act on the whole interface: once per radio, through its first BSS.
        let firsts: Vec<String> =
            self.radios.iter().filter_map(|r| r.bsses.first().cloned()).collect();
        for ifname in firsts {
            let ctrl = self.open(&ifname)?;
            ctrl.command("DISABLE")?;
            ctrl.command("ENABLE")?;
        }
        self.resets = self.resets.saturating_add(1);
        Ok(())
    }

    fn watch(&mut self, inbox: Inbox<Reply>) -> Result<(), WifiError> {
        let hostapd = self.sockets().unwrap_or_default();
        let stations = sockets_in(&self.wpa_dir).unwrap_or_default();
        if hostapd.is_empty() && stations.is_empty() {
            return Err(WifiError::Unavailable(format!(
                "no hostapd control socket in {} and no wpa_supplicant one in {}",
                self.dir.display(),
                self.wpa_dir.display()
            )));
        }
        let servers = hostapd.iter().map(|n| self.dir.join(n));
        for server in servers.chain(stations.iter().map(|n| self.wpa_dir.join(n))) {
            events::spawn(server, inbox.clone())?;
        }
        Ok(())
    }
}
