//! Building a [`Snapshot`] from `/etc/config/wireless` and ubus: one `uci show`, one
//! `network.wireless status`, one `network.device status`, then per radio `iwinfo info` and
//! `iwinfo freqlist` and per access point `hostapd.<ifname> get_clients` (or `iwinfo
//! assoclist` where hostapd has no ubus object). Never one call per parameter.
//!
//! A part that cannot be read (no `hostapd.wlan0`, no `iwinfo`) is left out with one warning
//! (repeated warnings are logged once); the rest is served.

use std::collections::HashMap;

use serde_json::{Value as Json, json};
use usp_datamodel::value::Value;

use super::OpenWrtWifi;
use super::map::{self, int, string, u32_of, uci_bool};
use crate::openwrt::uci::Section;
use crate::wifi::model::{Row, Snapshot, WifiError, text};

/// What ubus says about the interfaces: UCI section → (ifname, radio up).
type Ifaces = HashMap<String, (String, bool)>;

impl OpenWrtWifi {
    /// Reads everything (see the module doc).
    pub(super) fn read(&mut self) -> Result<Snapshot, WifiError> {
        let sections = self.uci.show("wireless").map_err(|e| {
            WifiError::Malformed(format!(
                "{e} (the Wi-Fi configuration is not served until it reads)"
            ))
        })?;
        self.sections = sections.clone();
        let status =
            self.call_or_warn("network.wireless", "status", json!({})).unwrap_or(Json::Null);
        let ifaces = interfaces(&status);
        let devices =
            self.call_or_warn("network.device", "status", json!({})).unwrap_or(Json::Null);
        let mut snap = Snapshot { reset_counter: self.resets, ..Snapshot::default() };
        for s in sections.iter().filter(|s| s.kind == "wifi-device") {
            snap.radios.push(self.radio(s, &sections, &ifaces));
        }
        for (i, s) in sections.iter().filter(|s| s.kind == "wifi-iface").enumerate() {
            let (ifname, up) = ifaces.get(&s.name).cloned().unwrap_or_default();
            snap.ssids.push(ssid(s, i, &ifname, up, &devices));
            match s.get("mode").unwrap_or("ap") {
                "ap" => {
                    snap.access_points.push(access_point(s, up));
                    if !ifname.is_empty() {
                        snap.stations.extend(self.stations(&s.name, &ifname));
                    }
                }
                "sta" => {
                    let (endpoint, profile) = self.endpoint(s, &ifname, up);
                    snap.endpoints.push(endpoint);
                    snap.profiles.push(profile);
                }
                _ => {}
            }
        }
        radio_totals(&mut snap);
        Ok(snap)
    }

    /// A ubus call, or `None` with a warning (once per distinct text).
    pub(super) fn call_or_warn(&mut self, object: &str, method: &str, args: Json) -> Option<Json> {
        match self.ubus.call(object, method, &args) {
            Ok(v) => Some(v),
            Err(e) => {
                self.warn_once(&format!("{e}; that part of Device.WiFi is not served"));
                None
            }
        }
    }

    /// Logs `msg` the first time only.
    pub(super) fn warn_once(&mut self, msg: &str) {
        if self.warned.insert(msg.to_owned()) {
            log::warn!("Device.WiFi (openwrt): {msg}");
        }
    }

    fn radio(&mut self, s: &Section, all: &[Section], ifaces: &Ifaces) -> Row {
        let band = map::radio_band(s);
        let htmode = s.get("htmode");
        let auto = s.get("channel").is_none_or(|c| c == "auto");
        let on = !uci_bool(s.get("disabled"), false);
        let mut row = Row::new(&s.name)
            .with("Enable", Value::Boolean(on))
            .with("Name", text(&s.name))
            .with("OperatingFrequencyBand", text(band))
            .with("SupportedFrequencyBands", text(band))
            .with("AutoChannelSupported", Value::Boolean(true))
            .with("AutoChannelEnable", Value::Boolean(auto))
            .with("OperatingChannelBandwidth", text(map::bandwidth(htmode)))
            .with(
                "CurrentOperatingChannelBandwidth",
                text(map::bandwidth(htmode).replace("Auto", "20MHz").as_str()),
            )
            .with("OperatingStandards", text(&map::standards(band, htmode)))
            .with("SupportedStandards", text(&map::standards(band, htmode)))
            .with("TransmitPowerSupported", text("-1,100"))
            .with("TransmitPower", Value::Int(if s.get("txpower").is_some() { 100 } else { -1 }));
        if let Some(ch) = s.get("channel").and_then(|c| c.parse::<u32>().ok()) {
            row.set("Channel", Value::UnsignedInt(ch));
        }
        if let Some(c) = s.get("country") {
            row.set("RegulatoryDomain", text(&format!("{c:<3}")));
        }
        // The radio's first interface that is up answers for the radio.
        let ifname = all
            .iter()
            .filter(|i| i.kind == "wifi-iface" && i.get("device") == Some(s.name.as_str()))
            .find_map(|i| ifaces.get(&i.name).filter(|(n, _)| !n.is_empty()))
            .map(|(n, up)| (n.clone(), *up));
        let up = ifname.as_ref().is_some_and(|(_, up)| *up);
        row.set(
            "Status",
            text(if !on {
                "Down"
            } else if up {
                "Up"
            } else {
                "Dormant"
            }),
        );
        if let Some((ifname, _)) = ifname {
            let info = self
                .call_or_warn("iwinfo", "info", json!({ "device": ifname }))
                .unwrap_or(Json::Null);
            let freqs = self
                .call_or_warn("iwinfo", "freqlist", json!({ "device": ifname }))
                .unwrap_or(Json::Null);
            map::radio_runtime(&mut row, band, &info, &freqs);
        }
        row
    }

    /// The `EndPoint.{i}` row of a `sta` `wifi-iface`, with the link from `iwinfo info`, and
    /// its one `Profile.{i}` (the section's `ssid`, `encryption`, `key`; same key, the
    /// end point as parent).
    fn endpoint(&mut self, s: &Section, ifname: &str, up: bool) -> (Row, Row) {
        let on = !uci_bool(s.get("disabled"), false);
        let mut row = Row::new(&s.name)
            .with("Enable", Value::Boolean(on))
            .with("Status", text(if on && up { "Enabled" } else { "Disabled" }))
            .with("ProfileReference", text(&s.name))
            .with("SSIDReference", text(&s.name))
            .with("Security.ModesSupported", text(map::MODES_SUPPORTED));
        let mut linked = false;
        if !ifname.is_empty() {
            let info = self.call_or_warn("iwinfo", "info", json!({ "device": ifname }));
            let info = info.unwrap_or(Json::Null);
            let bssid = string(&info, "bssid");
            linked = !bssid.is_empty() && bssid != "00:00:00:00:00:00";
            row.set(
                "Stats.SignalStrength",
                Value::Int(map::i32_of(int(&info, "signal")).clamp(-200, 0)),
            );
            row.set(
                "Stats.LastDataDownlinkRate",
                Value::UnsignedInt(u32_of(int(&info, "bitrate"))),
            );
        }
        let status = match (on, up && linked) {
            (false, _) => "Disabled",
            (true, true) => "Active",
            (true, false) => "Available",
        };
        let mut profile = Row::new(&s.name)
            .with("Enable", Value::Boolean(true))
            .with("Status", text(status))
            .with("SSID", text(s.get("ssid").unwrap_or("")))
            .with("Priority", Value::UnsignedInt(0))
            .with("Security.ModeEnabled", text(map::mode_from_uci(s.get("encryption"))))
            .with("Security.MFPConfig", text(mfp_of(s)));
        profile.parent = s.name.clone();
        (row, profile)
    }

    /// The stations of one access point: hostapd's ubus object, else iwinfo's assoclist.
    fn stations(&mut self, ap: &str, ifname: &str) -> Vec<Row> {
        let object = format!("hostapd.{ifname}");
        if let Ok(reply) = self.ubus.call(&object, "get_clients", &json!({})) {
            let clients =
                reply.get("clients").and_then(Json::as_object).cloned().unwrap_or_default();
            return clients
                .iter()
                .map(|(mac, c)| map::station_from_hostapd(ap, &mac.to_ascii_lowercase(), c))
                .collect();
        }
        self.warn_once(&format!("no ubus object {object}; stations read from iwinfo assoclist"));
        let list = self
            .call_or_warn("iwinfo", "assoclist", json!({ "device": ifname }))
            .unwrap_or(Json::Null);
        let results = list.get("results").and_then(Json::as_array).cloned().unwrap_or_default();
        results
            .iter()
            .filter(|a| !string(a, "mac").is_empty())
            .map(|a| map::station_from_iwinfo(ap, a))
            .collect()
    }
}

/// A radio's byte and packet counters: the sums of its interfaces' (the kernel counts per
/// interface).
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

/// Section → (ifname, radio up), from `network.wireless status`.
pub(super) fn interfaces(status: &Json) -> Ifaces {
    let mut out = HashMap::new();
    for radio in status.as_object().into_iter().flat_map(|o| o.values()) {
        let up = radio.get("up").and_then(Json::as_bool).unwrap_or(false);
        for i in radio.get("interfaces").and_then(Json::as_array).into_iter().flatten() {
            out.insert(string(i, "section").to_owned(), (string(i, "ifname").to_owned(), up));
        }
    }
    out
}

/// The `SSID.{i}` row of a `wifi-iface` (the `i`-th), with counters from `network.device`.
fn ssid(s: &Section, i: usize, ifname: &str, up: bool, devices: &Json) -> Row {
    let on = !uci_bool(s.get("disabled"), false);
    let name = if ifname.is_empty() { format!("wifi-iface{i}") } else { ifname.to_owned() };
    let mut row = Row::new(&s.name)
        .with("Enable", Value::Boolean(on))
        .with("Status", text(if on && up { "Up" } else { "Down" }))
        .with("Name", text(&name))
        .with("SSID", text(s.get("ssid").unwrap_or("")))
        .with("LowerLayers", text(s.get("device").unwrap_or("")));
    if let Some(mac) = devices.get(ifname).map(|d| string(d, "macaddr")).filter(|m| !m.is_empty()) {
        row.set("MACAddress", text(mac));
        row.set("BSSID", text(mac));
    }
    let stats =
        devices.get(ifname).and_then(|d| d.get("statistics")).cloned().unwrap_or(Json::Null);
    for (tr, key) in [
        ("Stats.BytesSent", "tx_bytes"),
        ("Stats.BytesReceived", "rx_bytes"),
        ("Stats.PacketsSent", "tx_packets"),
        ("Stats.PacketsReceived", "rx_packets"),
    ] {
        row.set(tr, Value::UnsignedLong(u64::try_from(int(&stats, key)).unwrap_or(0)));
    }
    for (tr, key) in [("Stats.ErrorsSent", "tx_errors"), ("Stats.ErrorsReceived", "rx_errors")] {
        row.set(tr, Value::UnsignedInt(u32_of(int(&stats, key))));
    }
    row
}

/// TR-181 `MFPConfig` of the section's `ieee80211w`.
fn mfp_of(s: &Section) -> &'static str {
    match s.get("ieee80211w") {
        Some("1") => "Optional",
        Some("2") => "Required",
        _ => "Disabled",
    }
}

/// The `AccessPoint.{i}` row of an `ap` `wifi-iface` (its key is the section's, as its SSID's).
fn access_point(s: &Section, up: bool) -> Row {
    let on = !uci_bool(s.get("disabled"), false);
    let mfp = mfp_of(s);
    let wps = uci_bool(s.get("wps_pushbutton"), false);
    Row::new(&s.name)
        .with("Enable", Value::Boolean(on))
        .with("Status", text(if on && up { "Enabled" } else { "Disabled" }))
        .with("SSIDReference", text(&s.name))
        .with("SSIDAdvertisementEnabled", Value::Boolean(!uci_bool(s.get("hidden"), false)))
        .with("IsolationEnable", Value::Boolean(uci_bool(s.get("isolate"), false)))
        .with("WMMCapability", Value::Boolean(true))
        .with("WMMEnable", Value::Boolean(uci_bool(s.get("wmm"), true)))
        .with(
            "MaxAssociatedDevices",
            Value::UnsignedInt(s.get("maxassoc").and_then(|m| m.parse().ok()).unwrap_or(0)),
        )
        .with("Security.ModesSupported", text(map::MODES_SUPPORTED))
        .with("Security.ModeEnabled", text(map::mode_from_uci(s.get("encryption"))))
        .with(
            "Security.RekeyingInterval",
            Value::UnsignedInt(s.get("wpa_group_rekey").and_then(|m| m.parse().ok()).unwrap_or(0)),
        )
        .with("Security.MFPConfig", text(mfp))
        .with("WPS.Enable", Value::Boolean(wps))
        .with("WPS.ConfigMethodsSupported", text("PushButton"))
        .with("WPS.ConfigMethodsEnabled", text(if wps { "PushButton" } else { "" }))
        .with("WPS.Status", text(if wps { "Configured" } else { "Disabled" }))
        .with("WPS.Version", text("2.0"))
}
