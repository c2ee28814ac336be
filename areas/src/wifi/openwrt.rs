//! The OpenWrt Wi-Fi backend: configuration in UCI (`/etc/config/wireless`: a `wifi-device`
//! section is a `Radio.{i}`, a `wifi-iface` an `SSID.{i}` and, in `ap` mode, an
//! `AccessPoint.{i}` with the same key), runtime state from ubus (netifd's `network.wireless`
//! and `network.device`, rpcd's `iwinfo`, hostapd's `hostapd.<ifname>`).
//!
//! - Keys are UCI section names as `uci show` prints them, so instance numbers stay with their
//!   section across reloads and restarts.
//! - A USP transaction is applied with one `uci batch` (sets, then `commit wireless`) and one
//!   `ubus call network reload` (netifd re-reads UCI and reconfigures what changed).
//! - Station events: `ubus subscribe` on every `hostapd.<ifname>`; any notification (`assoc`,
//!   `disassoc`, ...) triggers a refresh, which lists the stations again.
//! - Write-only secrets (`key`, `sae_password`) are written, never read back.
//!
//! See `crate::openwrt` for why the `uci` and `ubus` programs are used.

mod map;
mod read;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value as Json, json};
use usp_datamodel::value::Value;

use super::backend::{Backend, Reply};
use super::model::{Change, Kind, Row, Snapshot, WifiError};
use crate::PlatformPaths;
use crate::openwrt::ubus::Ubus;
use crate::openwrt::uci::{Edit, Section, Uci};
use crate::openwrt::{OsError, Programs};
use crate::worker::Inbox;

/// The OpenWrt backend.
#[derive(Debug)]
pub struct OpenWrtWifi {
    uci: Uci,
    ubus: Ubus,
    sections: Vec<Section>,
    warned: HashSet<String>,
    /// `Device.WiFi.Reset()`s since the agent started (`ResetCounter`).
    resets: u32,
}

impl From<OsError> for WifiError {
    fn from(e: OsError) -> WifiError {
        match e {
            OsError::Malformed(m) => WifiError::Malformed(m),
            other => WifiError::Io(other.to_string()),
        }
    }
}

impl OpenWrtWifi {
    /// The backend for a router's `paths` (programs included); the agent's UCI changes are
    /// staged in `state_dir/uci`.
    pub fn new(paths: &PlatformPaths) -> OpenWrtWifi {
        OpenWrtWifi::with_programs(paths, &Programs::of(paths))
    }

    /// As [`OpenWrtWifi::new`] with the given programs.
    pub fn with_programs(paths: &PlatformPaths, programs: &Programs) -> OpenWrtWifi {
        let uci = Uci {
            program: programs.uci.clone(),
            conf_dir: paths.uci_dir.clone(),
            save_dir: paths.state_dir.join("uci"),
        };
        let ubus = Ubus::new(programs.ubus.clone(), paths.ubus_socket.clone());
        OpenWrtWifi { uci, ubus, sections: Vec::new(), warned: HashSet::new(), resets: 0 }
    }

    /// The ubus client (its call count is the benchmark's figure).
    pub fn ubus(&self) -> &Ubus {
        &self.ubus
    }

    /// The UCI edits of one transaction.
    fn edits(&mut self, changes: &[Change]) -> Vec<Edit> {
        let mut out = Vec::new();
        for c in changes {
            match edit(&self.sections, c) {
                Some((option, value)) => {
                    out.push(Edit { section: c.key.clone(), option: option.to_owned(), value })
                }
                None => self.warn_once(&format!(
                    "{:?} {} cannot be set on OpenWrt; ignored",
                    c.kind, c.name
                )),
            }
        }
        out
    }

    /// The interface names of the access points (for hostapd's objects).
    fn ap_ifnames(&self) -> Vec<String> {
        let status = self.ubus.call("network.wireless", "status", &json!({})).unwrap_or(Json::Null);
        let aps: HashSet<&str> = self
            .sections
            .iter()
            .filter(|s| s.kind == "wifi-iface" && s.get("mode").unwrap_or("ap") == "ap")
            .map(|s| s.name.as_str())
            .collect();
        let mut out = Vec::new();
        for radio in status.as_object().into_iter().flat_map(|o| o.values()) {
            for i in radio.get("interfaces").and_then(Json::as_array).into_iter().flatten() {
                let (section, ifname) = (map::string(i, "section"), map::string(i, "ifname"));
                if aps.contains(section) && !ifname.is_empty() {
                    out.push(ifname.to_owned());
                }
            }
        }
        out
    }
}

/// What [`edit`] can write (the backend's [`Backend::settable`]); a test keeps the two in step.
const SETTABLE: &[(Kind, &str)] = &[
    (Kind::Radio, "Enable"),
    (Kind::Radio, "Channel"),
    (Kind::Radio, "AutoChannelEnable"),
    (Kind::Radio, "OperatingFrequencyBand"),
    (Kind::Radio, "OperatingChannelBandwidth"),
    (Kind::Radio, "RegulatoryDomain"),
    (Kind::Ssid, "Enable"),
    (Kind::Ssid, "SSID"),
    (Kind::Ssid, "LowerLayers"),
    (Kind::AccessPoint, "Enable"),
    (Kind::AccessPoint, "SSIDAdvertisementEnabled"),
    (Kind::AccessPoint, "IsolationEnable"),
    (Kind::AccessPoint, "WMMEnable"),
    (Kind::AccessPoint, "MaxAssociatedDevices"),
    (Kind::AccessPoint, "Security.ModeEnabled"),
    (Kind::AccessPoint, "Security.KeyPassphrase"),
    (Kind::AccessPoint, "Security.PreSharedKey"),
    (Kind::AccessPoint, "Security.SAEPassphrase"),
    (Kind::AccessPoint, "Security.RekeyingInterval"),
    (Kind::AccessPoint, "Security.MFPConfig"),
    (Kind::AccessPoint, "WPS.Enable"),
    (Kind::EndPoint, "Enable"),
    (Kind::Profile, "SSID"),
    (Kind::Profile, "Security.ModeEnabled"),
    (Kind::Profile, "Security.KeyPassphrase"),
    (Kind::Profile, "Security.PreSharedKey"),
    (Kind::Profile, "Security.SAEPassphrase"),
    (Kind::Profile, "Security.MFPConfig"),
];

/// The UCI option and value for one change (`None`: not settable here).
fn edit(sections: &[Section], c: &Change) -> Option<(&'static str, Option<String>)> {
    let b = |v: &Value| v.as_bool().unwrap_or(false);
    let flag = |on: bool| Some(if on { "1" } else { "0" }.to_owned());
    let s = c.value.as_str().unwrap_or("");
    let n = c.value.as_u64().unwrap_or(0);
    let current = sections.iter().find(|x| x.name == c.key);
    Some(match (c.kind, c.name.as_str()) {
        (Kind::Radio | Kind::Ssid | Kind::AccessPoint | Kind::EndPoint, "Enable") => {
            ("disabled", flag(!b(&c.value)))
        }
        (Kind::Radio, "Channel") => ("channel", Some(n.to_string())),
        (Kind::Radio, "AutoChannelEnable") if b(&c.value) => ("channel", Some("auto".into())),
        (Kind::Radio, "OperatingFrequencyBand") => ("band", Some(map::band_to_uci(s)?.into())),
        (Kind::Radio, "OperatingChannelBandwidth") if s == "Auto" => ("htmode", None),
        (Kind::Radio, "OperatingChannelBandwidth") => {
            ("htmode", Some(map::htmode_for(s, current.and_then(|x| x.get("htmode")))?))
        }
        (Kind::Radio, "RegulatoryDomain") => ("country", Some(s.trim().to_owned())),
        (Kind::Ssid | Kind::Profile, "SSID") => ("ssid", Some(s.to_owned())),
        (Kind::Ssid, "LowerLayers") => ("device", Some(s.to_owned())),
        (Kind::AccessPoint, "SSIDAdvertisementEnabled") => ("hidden", flag(!b(&c.value))),
        (Kind::AccessPoint, "IsolationEnable") => ("isolate", flag(b(&c.value))),
        (Kind::AccessPoint, "WMMEnable") => ("wmm", flag(b(&c.value))),
        (Kind::AccessPoint, "MaxAssociatedDevices") if n == 0 => ("maxassoc", None),
        (Kind::AccessPoint, "MaxAssociatedDevices") => ("maxassoc", Some(n.to_string())),
        (Kind::AccessPoint | Kind::Profile, "Security.ModeEnabled") => {
            ("encryption", Some(map::mode_to_uci(s)?.into()))
        }
        (Kind::AccessPoint | Kind::Profile, "Security.KeyPassphrase" | "Security.PreSharedKey") => {
            ("key", Some(s.to_owned()))
        }
        (Kind::AccessPoint | Kind::Profile, "Security.SAEPassphrase") => {
            ("sae_password", Some(s.to_owned()))
        }
        (Kind::AccessPoint, "Security.RekeyingInterval") => {
            ("wpa_group_rekey", Some(n.to_string()))
        }
        (Kind::AccessPoint | Kind::Profile, "Security.MFPConfig") => {
            let level = match s {
                "Optional" => "1",
                "Required" => "2",
                _ => "0",
            };
            ("ieee80211w", Some(level.into()))
        }
        (Kind::AccessPoint, "WPS.Enable") => ("wps_pushbutton", flag(b(&c.value))),
        _ => return None,
    })
}

impl Backend for OpenWrtWifi {
    fn name(&self) -> &'static str {
        "openwrt"
    }

    fn refresh(&mut self) -> Result<Snapshot, WifiError> {
        self.read()
    }

    fn settable(&self) -> Option<&'static [(Kind, &'static str)]> {
        Some(SETTABLE)
    }

    fn resets_security(&self) -> bool {
        false // OpenWrt keeps no factory security settings apart from the configuration.
    }

    fn apply(&mut self, changes: &[Change]) -> Result<(), WifiError> {
        let edits = self.edits(changes);
        if edits.is_empty() {
            return Ok(());
        }
        self.uci.commit("wireless", &edits)?;
        self.ubus.call("network", "reload", &json!({}))?;
        Ok(())
    }

    fn scan(&mut self) -> Result<Vec<Row>, WifiError> {
        let snap = self.read()?;
        let mut out = Vec::new();
        for radio in &snap.radios {
            let ifname = snap
                .ssids
                .iter()
                .find(|s| s.text("LowerLayers") == radio.key)
                .map(|s| s.text("Name").to_owned());
            let Some(ifname) = ifname else { continue };
            let reply = self.ubus.call("iwinfo", "scan", &json!({ "device": ifname }))?;
            let results =
                reply.get("results").and_then(Json::as_array).cloned().unwrap_or_default();
            out.extend(results.iter().map(|r| map::neighbour(&radio.key, r)));
        }
        Ok(out)
    }

    /// `hostapd.<ifname> wps_start` (OpenWrt's hostapd `ubus.c`: WPS_PBC), when the section
    /// has `wps_pushbutton` on (hostapd refuses otherwise).
    fn wps_pbc(&mut self, access_point: &str) -> Result<(), WifiError> {
        let section = self.sections.iter().find(|s| s.name == access_point);
        if !section.is_some_and(|s| map::uci_bool(s.get("wps_pushbutton"), false)) {
            return Err(WifiError::Unavailable(format!(
                "WPS push button is off on {access_point} (wps_pushbutton)"
            )));
        }
        let status = self.ubus.call("network.wireless", "status", &json!({}))?;
        let ifname = read::interfaces(&status)
            .get(access_point)
            .map(|(i, _)| i.clone())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| WifiError::Unavailable(format!("{access_point} is not up")))?;
        self.ubus.call(&format!("hostapd.{ifname}"), "wps_start", &json!({}))?;
        Ok(())
    }

    fn reset(&mut self, access_point: Option<&str>) -> Result<(), WifiError> {
        if let Some(ap) = access_point {
            return Err(WifiError::Unavailable(format!(
                "no factory security settings are known for {ap} on OpenWrt"
            )));
        }
        self.ubus.call("network.wireless", "down", &json!({}))?;
        self.ubus.call("network.wireless", "up", &json!({}))?;
        self.resets = self.resets.saturating_add(1);
        Ok(())
    }

    fn watch(&mut self, inbox: Inbox<Reply>) -> Result<(), WifiError> {
        let objects: Vec<String> =
            self.ap_ifnames().iter().map(|i| format!("hostapd.{i}")).collect();
        if objects.is_empty() {
            return Err(WifiError::Unavailable("no access point interface is up".into()));
        }
        let ubus = self.ubus.clone();
        let watcher = std::thread::Builder::new().name("wifi-hostapd-events".into());
        watcher
            .spawn(move || watch_loop(&ubus, &objects, &inbox))
            .map(|_| ())
            .map_err(|e| WifiError::Io(format!("event thread: {e}")))
    }
}

/// Subscribes to hostapd's objects and turns every notification into a refresh; subscribes
/// again when the subscription ends. Ends when the plugin is gone.
fn watch_loop(ubus: &Ubus, objects: &[String], inbox: &Inbox<Reply>) {
    loop {
        let started = std::time::Instant::now();
        if let Ok(mut sub) = ubus.subscribe(objects) {
            while let Some(note) = sub.next_notification() {
                let what =
                    note.as_object().and_then(|o| o.keys().next().cloned()).unwrap_or_default();
                if !inbox.push(Reply::Changed(format!("hostapd notification {what}"))) {
                    return;
                }
            }
        }
        // A subscription that ran a while (ubusd or hostapd restarted) is renewed at once; one
        // that failed at once (no such object yet) is retried later.
        let long_lived = started.elapsed() > Duration::from_secs(30);
        std::thread::sleep(Duration::from_secs(if long_lived { 1 } else { 30 }));
        if !inbox.push(Reply::Changed("the hostapd subscription ended".into())) {
            return;
        }
    }
}
