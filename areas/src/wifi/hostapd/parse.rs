//! hostapd's control-interface replies turned into TR-181 rows: `STATUS` (one per radio, from
//! `hostapd_ctrl_iface_status` in `src/ap/ctrl_iface_ap.c`), `GET_CONFIG` (one per BSS,
//! `hostapd_ctrl_iface_get_config` in `hostapd/ctrl_iface.c`) and `STA-FIRST` / `STA-NEXT`
//! (`hostapd_ctrl_iface_sta_mib`: the MAC address on the first line, then `key=value` lines).
//!
//! Never does: I/O. Every function is pure, so the tests feed it hostapd's exact texts.

use std::collections::BTreeMap;

use usp_datamodel::value::Value;

use crate::wifi::model::{Row, band_of_mhz, text};

/// The `key=value` lines of a reply.
pub type Fields = BTreeMap<String, String>;

/// Parses `key=value` lines (lines without `=` are skipped).
pub fn fields(reply: &str) -> Fields {
    reply
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A `STA-FIRST` / `STA-NEXT` reply: the station's MAC address and its fields; `None` for the
/// empty reply that ends the list.
pub fn station(reply: &str) -> Option<(String, Fields)> {
    let mac = reply.lines().next()?.trim();
    if mac.len() != 17 || mac.contains('=') {
        return None;
    }
    Some((mac.to_ascii_lowercase(), fields(reply)))
}

fn get<'a>(f: &'a Fields, key: &str) -> &'a str {
    f.get(key).map_or("", String::as_str)
}

fn num(f: &Fields, key: &str) -> u64 {
    get(f, key).trim().parse().unwrap_or(0)
}

fn int(f: &Fields, key: &str) -> i64 {
    get(f, key).trim().parse().unwrap_or(0)
}

fn u32_of(n: u64) -> Value {
    Value::UnsignedInt(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The BSS interface names of a `STATUS` reply (`bss[0]=wlan0`, `bss[1]=wlan0-1`), in order.
pub fn bss_names(status: &Fields) -> Vec<String> {
    (0..64).map_while(|i| status.get(&format!("bss[{i}]")).cloned()).collect()
}

/// The radio a BSS is on: `STATUS`'s `phy` (`phy0`), else the interface name.
pub fn radio_key(status: &Fields, ifname: &str) -> String {
    let phy = get(status, "phy").trim();
    if phy.is_empty() { ifname.to_owned() } else { phy.to_owned() }
}

/// The band of a `STATUS` reply, from `freq`.
pub fn band(status: &Fields) -> &'static str {
    band_of_mhz(num(status, "freq")).unwrap_or("2.4GHz")
}

/// TR-181 `OperatingStandards` of a `STATUS` reply: `hw_mode` and the `ieee80211*` flags.
pub fn standards(status: &Fields) -> String {
    let mut out: Vec<&str> = match get(status, "hw_mode") {
        "a" => vec!["a"],
        "b" => vec!["b"],
        "g" => vec!["b", "g"],
        _ if band(status) == "2.4GHz" => vec!["b", "g"],
        _ => vec!["a"],
    };
    for (flag, std) in
        [("ieee80211n", "n"), ("ieee80211ac", "ac"), ("ieee80211ax", "ax"), ("ieee80211be", "be")]
    {
        if get(status, flag) == "1" {
            out.push(std);
        }
    }
    out.join(",")
}

/// The channel width in use: `vht_oper_chwidth` / `he_oper_chwidth` (hostapd's
/// `CONF_OPER_CHWIDTH_*`: 0 = 20 or 40, 1 = 80, 2 = 160, 3 = 80+80), else 40 MHz when a
/// secondary channel is set.
pub fn bandwidth(status: &Fields) -> &'static str {
    let width = status.get("he_oper_chwidth").or_else(|| status.get("vht_oper_chwidth"));
    match width.map(String::as_str) {
        Some("1") => "80MHz",
        Some("2") => "160MHz",
        Some("3") => "80+80MHz",
        _ if int(status, "secondary_channel") != 0 => "40MHz",
        _ => "20MHz",
    }
}

/// `RegulatoryDomain` from `country_code=DE` and `country3=0x20` (the third octet: ' ', 'O',
/// 'I' or a table number).
pub fn regulatory_domain(status: &Fields) -> Option<String> {
    let cc = get(status, "country_code");
    if cc.len() != 2 {
        return None;
    }
    let third = u8::from_str_radix(get(status, "country3").trim_start_matches("0x"), 16)
        .ok()
        .filter(|b| b.is_ascii_graphic() || *b == b' ')
        .map_or(' ', char::from);
    Some(format!("{cc}{third}"))
}

/// hostapd's interface state (`hostapd_state_text`) as TR-181 `Status` of a radio / SSID.
pub fn up_status(status: &Fields) -> &'static str {
    match get(status, "state") {
        "ENABLED" => "Up",
        "DISABLED" | "UNINITIALIZED" => "Down",
        _ => "Dormant", // COUNTRY_UPDATE, ACS, HT_SCAN, DFS, NO_IR
    }
}

/// The `Radio.{i}` values a `STATUS` reply gives.
pub fn radio(key: &str, status: &Fields) -> Row {
    let on = !matches!(get(status, "state"), "DISABLED" | "UNINITIALIZED" | "");
    let mut row = Row::new(key)
        .with("Enable", Value::Boolean(on))
        .with("Status", text(up_status(status)))
        .with("Name", text(key))
        .with("OperatingFrequencyBand", text(band(status)))
        .with("OperatingStandards", text(&standards(status)))
        .with("Channel", u32_of(num(status, "channel")))
        .with("AutoChannelSupported", Value::Boolean(true))
        .with("AutoChannelEnable", Value::Boolean(false))
        .with("CurrentOperatingChannelBandwidth", text(bandwidth(status)))
        .with("OperatingChannelBandwidth", text(bandwidth(status)))
        .with("BeaconPeriod", u32_of(num(status, "beacon_int")))
        .with("DTIMPeriod", u32_of(num(status, "dtim_period")))
        .with("MaxSupportedSSIDs", u32_of(bss_names(status).len() as u64))
        // hostapd leaves the transmit power to the driver: TR-181's -1, "auto".
        .with("TransmitPowerSupported", text("-1"))
        .with("TransmitPower", Value::Int(-1));
    if let Some(domain) = regulatory_domain(status) {
        row.set("RegulatoryDomain", text(&domain));
    }
    row
}

/// The `SSID.{i}` values of the BSS `ifname` (index `i` in `STATUS`) and its `GET_CONFIG`.
pub fn ssid(ifname: &str, radio: &str, status: &Fields, i: usize, config: &Fields) -> Row {
    let bssid = config.get("bssid").or_else(|| status.get(&format!("bssid[{i}]")));
    let bssid = bssid.map_or(String::new(), |b| b.to_ascii_lowercase());
    let name = config.get("ssid").or_else(|| status.get(&format!("ssid[{i}]")));
    Row::new(ifname)
        .with("Enable", Value::Boolean(up_status(status) != "Down"))
        .with("Status", text(up_status(status)))
        .with("Name", text(ifname))
        .with("LowerLayers", text(radio))
        .with("SSID", text(name.map_or("", String::as_str)))
        .with("BSSID", text(&bssid))
        .with("MACAddress", text(&bssid))
}

/// The security modes this backend reads and writes.
pub const MODES_SUPPORTED: &str =
    "None,WPA2-Personal,WPA3-Personal,WPA3-Personal-Transition,WPA2-Enterprise";

/// `Security.ModeEnabled` from `GET_CONFIG`'s `wpa` and `key_mgmt` (`WPA-PSK SAE `).
pub fn mode(config: &Fields) -> &'static str {
    let wpa = num(config, "wpa");
    let mgmt: Vec<&str> = get(config, "key_mgmt").split_whitespace().collect();
    let has = |m: &str| mgmt.contains(&m);
    match () {
        _ if wpa == 0 => "None",
        _ if has("SAE") && has("WPA-PSK") => "WPA3-Personal-Transition",
        _ if has("SAE") => "WPA3-Personal",
        _ if has("WPA-EAP") => "WPA2-Enterprise",
        _ if wpa == 1 => "WPA-Personal",
        _ if wpa == 3 => "WPA-WPA2-Personal",
        _ => "WPA2-Personal",
    }
}

/// The `AccessPoint.{i}` values of the BSS `ifname`.
pub fn access_point(ifname: &str, status: &Fields, config: &Fields) -> Row {
    let enabled = up_status(status) == "Up";
    let wps = get(config, "wps_state");
    Row::new(ifname)
        .with("Enable", Value::Boolean(up_status(status) != "Down"))
        .with("Status", text(if enabled { "Enabled" } else { "Disabled" }))
        .with("SSIDReference", text(ifname))
        .with("WMMCapability", Value::Boolean(true))
        .with("Security.ModesSupported", text(MODES_SUPPORTED))
        .with("Security.ModeEnabled", text(mode(config)))
        .with("WPS.Enable", Value::Boolean(!wps.is_empty() && wps != "disabled"))
        .with("WPS.ConfigMethodsSupported", text("PushButton"))
        .with("WPS.ConfigMethodsEnabled", text(if wps == "disabled" { "" } else { "PushButton" }))
        .with("WPS.Status", text(wps_status(wps)))
        .with("WPS.Version", text("2.0"))
}

/// What only hostapd's configuration file says about a BSS (`get` reads its section):
/// `start_disabled` (SSID and access point `Enable`), `ignore_broadcast_ssid`, `ap_isolate`,
/// `wmm_enabled` and `max_num_sta`, with hostapd's defaults for absent lines.
pub fn from_conf(ssid: &mut Row, ap: &mut Row, get: &dyn Fn(&str) -> Option<String>) {
    let flag = |key: &str, default: bool| {
        get(key).and_then(|v| v.trim().parse::<i64>().ok()).map_or(default, |n| n != 0)
    };
    let on = !flag("start_disabled", false);
    let running = ap.text("Status") == "Enabled";
    ssid.set("Enable", Value::Boolean(on));
    if !on {
        ssid.set("Status", text("Down"));
    }
    ap.set("Enable", Value::Boolean(on));
    ap.set("Status", text(if on && running { "Enabled" } else { "Disabled" }));
    ap.set("SSIDAdvertisementEnabled", Value::Boolean(!flag("ignore_broadcast_ssid", false)));
    ap.set("IsolationEnable", Value::Boolean(flag("ap_isolate", false)));
    ap.set("WMMEnable", Value::Boolean(flag("wmm_enabled", true)));
    let max = get("max_num_sta").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(2007);
    ap.set("MaxAssociatedDevices", u32_of(max));
}

/// TR-181 `WPS.Status` from `GET_CONFIG`'s `wps_state`.
fn wps_status(wps_state: &str) -> &'static str {
    match wps_state {
        "configured" => "Configured",
        "not configured" => "Unconfigured",
        _ => "Disabled",
    }
}

/// The `AssociatedDevice.{i}` values of one station of access point `ap`.
pub fn associated_device(ap: &str, mac: &str, f: &Fields, band: &str) -> Row {
    let flags = get(f, "flags");
    let rate = |key: &str| {
        // `rx_rate_info=866 vhtmcs 9 ...`: the rate in units of 100 kbit/s.
        let n: u64 = get(f, key).split_whitespace().next().unwrap_or("0").parse().unwrap_or(0);
        u32_of(n.saturating_mul(100))
    };
    let standard = if flags.contains("[EHT]") {
        "be"
    } else if flags.contains("[HE]") {
        "ax"
    } else if flags.contains("[VHT]") {
        "ac"
    } else if flags.contains("[HT]") {
        "n"
    } else if band == "2.4GHz" {
        "g"
    } else {
        "a"
    };
    let signal = i32::try_from(int(f, "signal")).unwrap_or(0).clamp(-200, 0);
    let mut row = Row::new(mac)
        .with("MACAddress", text(mac))
        .with("AuthenticationState", Value::Boolean(flags.contains("[AUTHORIZED]")))
        .with("Active", Value::Boolean(flags.contains("[ASSOC]")))
        .with("OperatingStandard", text(standard))
        .with("SignalStrength", Value::Int(signal))
        .with("LastDataDownlinkRate", rate("tx_rate_info"))
        .with("LastDataUplinkRate", rate("rx_rate_info"))
        .with("Stats.BytesSent", Value::UnsignedLong(num(f, "tx_bytes")))
        .with("Stats.BytesReceived", Value::UnsignedLong(num(f, "rx_bytes")))
        .with("Stats.PacketsSent", Value::UnsignedLong(num(f, "tx_packets")))
        .with("Stats.PacketsReceived", Value::UnsignedLong(num(f, "rx_packets")));
    row.parent = ap.to_owned();
    row
}

/// The hostapd channel switch frequency of `channel` in `band` (MHz), as `CHAN_SWITCH` wants.
pub fn channel_mhz(band: &str, channel: u32) -> Option<u32> {
    match (band, channel) {
        ("2.4GHz", 14) => Some(2484),
        ("2.4GHz", 1..=13) => Some(2407 + 5 * channel),
        ("5GHz", 32..=177) => Some(5000 + 5 * channel),
        ("6GHz", 2) => Some(5935),
        ("6GHz", 1..=233) => Some(5950 + 5 * channel),
        _ => None,
    }
}
