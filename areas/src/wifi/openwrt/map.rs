//! The OpenWrt ↔ TR-181 vocabulary, without I/O: UCI option values and ubus reply fields
//! (shapes from openwrt/rpcd `iwinfo.c`, OpenWrt's hostapd `ubus.c`, netifd's wireless status)
//! turned into [`Row`] values, and TR-181 writes turned into UCI edits.

use serde_json::Value as Json;
use usp_datamodel::value::Value;

use crate::openwrt::uci::Section;
use crate::wifi::model::{Row, band_of_mhz, join_numbers, text};

/// UCI `band` → TR-181 `OperatingFrequencyBand`.
pub fn band_from_uci(band: &str) -> Option<&'static str> {
    match band {
        "2g" => Some("2.4GHz"),
        "5g" => Some("5GHz"),
        "6g" => Some("6GHz"),
        _ => None,
    }
}

/// TR-181 band → UCI `band`.
pub fn band_to_uci(band: &str) -> Option<&'static str> {
    match band {
        "2.4GHz" => Some("2g"),
        "5GHz" => Some("5g"),
        "6GHz" => Some("6g"),
        _ => None,
    }
}

/// The band of a radio section: `band`, else the legacy `hwmode` (`11a` = 5 GHz).
pub fn radio_band(s: &Section) -> &'static str {
    match (s.get("band"), s.get("hwmode")) {
        (Some(b), _) => band_from_uci(b).unwrap_or(""),
        (None, Some("11a")) => "5GHz",
        (None, Some(_)) => "2.4GHz",
        (None, None) => "",
    }
}

/// Splits an `htmode` (`HE80`) into its family (`HE`) and width in MHz (`80`).
pub fn split_htmode(htmode: &str) -> (&str, u32) {
    let at = htmode.find(|c: char| c.is_ascii_digit()).unwrap_or(htmode.len());
    let (family, width) = htmode.split_at(at);
    (family, width.trim_end_matches(['+', '-']).parse().unwrap_or(0))
}

/// `htmode` → `OperatingChannelBandwidth` (`Auto` when unset).
pub fn bandwidth(htmode: Option<&str>) -> &'static str {
    match htmode.map(split_htmode).map(|(_, w)| w) {
        Some(20) => "20MHz",
        Some(40) => "40MHz",
        Some(80) => "80MHz",
        Some(160) => "160MHz",
        Some(320) => "320MHz-1",
        _ => "Auto",
    }
}

/// `OperatingChannelBandwidth` → the `htmode` in the radio's family (`None`: delete it).
pub fn htmode_for(width: &str, current: Option<&str>) -> Option<String> {
    let family = current.map(|h| split_htmode(h).0).filter(|f| !f.is_empty()).unwrap_or("HT");
    let mhz = width.split("MHz").next().and_then(|n| n.parse::<u32>().ok())?;
    Some(format!("{family}{mhz}"))
}

/// The standards a radio runs, from its band and `htmode` family.
pub fn standards(band: &str, htmode: Option<&str>) -> String {
    let family = htmode.map(|h| split_htmode(h).0).unwrap_or("HT");
    let base: &[&str] = match band {
        "2.4GHz" => &["b", "g", "n"],
        "6GHz" => &[],
        _ => &["a", "n"],
    };
    let mut out: Vec<&str> = base.to_vec();
    match family {
        "VHT" => out.push("ac"),
        "HE" => out.extend(if band == "5GHz" { &["ac", "ax"][..] } else { &["ax"][..] }),
        "EHT" => {
            out.extend(if band == "5GHz" { &["ac", "ax", "be"][..] } else { &["ax", "be"][..] })
        }
        _ => {}
    }
    out.join(",")
}

/// UCI `encryption` (`psk2+ccmp`) ↔ TR-181 `ModeEnabled`.
const ENCRYPTION: &[(&str, &str)] = &[
    ("none", "None"),
    ("psk", "WPA-Personal"),
    ("psk2", "WPA2-Personal"),
    ("psk-mixed", "WPA-WPA2-Personal"),
    ("sae", "WPA3-Personal"),
    ("sae-mixed", "WPA3-Personal-Transition"),
    ("owe", "OWE"),
    ("wpa", "WPA-Enterprise"),
    ("wpa2", "WPA2-Enterprise"),
    ("wpa3", "WPA3-Enterprise"),
    ("wpa-mixed", "WPA-WPA2-Enterprise"),
];

/// The modes an access point offers (those of wpad builds with SAE and OWE).
pub const MODES_SUPPORTED: &str =
    "None,WPA-Personal,WPA2-Personal,WPA-WPA2-Personal,WPA3-Personal,WPA3-Personal-Transition,OWE";

/// UCI `encryption` → `ModeEnabled` (unknown values read as the closest WPA2 mode).
pub fn mode_from_uci(encryption: Option<&str>) -> &'static str {
    let base = encryption.unwrap_or("none").split('+').next().unwrap_or("none");
    ENCRYPTION.iter().find(|(u, _)| *u == base).map_or("WPA2-Personal", |(_, t)| t)
}

/// `ModeEnabled` → UCI `encryption`.
pub fn mode_to_uci(mode: &str) -> Option<&'static str> {
    ENCRYPTION.iter().find(|(_, t)| *t == mode).map(|(u, _)| *u)
}

/// A UCI boolean (`1`, `true`, `on`, `yes`, `enabled`), `default` when unset.
pub fn uci_bool(v: Option<&str>, default: bool) -> bool {
    match v {
        Some(v) => matches!(v, "1" | "true" | "on" | "yes" | "enabled"),
        None => default,
    }
}

/// A JSON number as `i64` (0 when absent or not a number).
pub fn int(j: &Json, key: &str) -> i64 {
    j.get(key).and_then(Json::as_i64).unwrap_or(0)
}

/// A JSON string (`""` when absent).
pub fn string<'a>(j: &'a Json, key: &str) -> &'a str {
    j.get(key).and_then(Json::as_str).unwrap_or("")
}

/// Clamps to `u32`.
pub fn u32_of(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

/// Clamps to `i32`.
pub fn i32_of(n: i64) -> i32 {
    i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX })
}

/// Adds what `iwinfo info` and `iwinfo freqlist` say about a radio (capabilities, the channel
/// in use when `auto`, noise).
pub fn radio_runtime(row: &mut Row, band: &str, info: &Json, freqlist: &Json) {
    let strings = |key: &str| -> Vec<String> {
        info.get(key)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    };
    let hwmodes = strings("hwmodes");
    if !hwmodes.is_empty() {
        row.set("SupportedStandards", text(&hwmodes.join(",")));
    }
    let mut widths: Vec<&str> =
        strings("htmodes").iter().map(|h| bandwidth(Some(h))).filter(|w| *w != "Auto").collect();
    widths.sort_by_key(|w| {
        w.trim_end_matches(|c: char| !c.is_ascii_digit()).parse::<u32>().unwrap_or(0)
    });
    widths.dedup();
    if !widths.is_empty() {
        row.set("SupportedOperatingChannelBandwidths", text(&widths.join(",")));
    }
    if let Some(ch) = info.get("channel").and_then(Json::as_i64) {
        row.set("ChannelsInUse", text(&ch.to_string()));
        if row.text("Channel").is_empty() && row.number("Channel") == 0 {
            row.set("Channel", Value::UnsignedInt(u32_of(ch)));
        }
    }
    if info.get("noise").is_some() {
        row.set("Stats.Noise", Value::Int(i32_of(int(info, "noise"))));
    }
    if let Some(c) = info.get("country").and_then(Json::as_str) {
        row.set("RegulatoryDomain", text(&format!("{:<3}", c.chars().take(2).collect::<String>())));
    }
    let (bands, channels) = freqs(freqlist, band);
    if !bands.is_empty() {
        row.set("SupportedFrequencyBands", text(&bands.join(",")));
    }
    if !channels.is_empty() {
        row.set("PossibleChannels", text(&join_numbers(&channels)));
    }
}

/// The bands of a `freqlist` and its unrestricted channels in `band`.
fn freqs(freqlist: &Json, band: &str) -> (Vec<&'static str>, Vec<u32>) {
    let mut bands = Vec::new();
    let mut channels = Vec::new();
    for f in freqlist.get("results").and_then(Json::as_array).into_iter().flatten() {
        let Some(b) = band_of_mhz(u64::try_from(int(f, "mhz")).unwrap_or(0)) else { continue };
        if !bands.contains(&b) {
            bands.push(b);
        }
        let restricted = f.get("restricted").and_then(Json::as_bool).unwrap_or(false);
        if b == band && !restricted {
            channels.push(u32_of(int(f, "channel")));
        }
    }
    (bands, channels)
}

/// One station of `hostapd.<ifname> get_clients` (`clients` is a map from MAC address to
/// flags; newer hostapd adds `signal`, `bytes`, `packets`, `rate`, read when present).
pub fn station_from_hostapd(ap: &str, mac: &str, c: &Json) -> Row {
    let flag = |k: &str| c.get(k).and_then(Json::as_bool).unwrap_or(false);
    let pair = |k: &str, side: &str| {
        c.get(k).and_then(|v| v.get(side)).and_then(Json::as_u64).unwrap_or(0)
    };
    let mut row = Row::new(mac)
        .with("MACAddress", text(mac))
        .with("AuthenticationState", Value::Boolean(flag("authorized")))
        .with("Active", Value::Boolean(flag("assoc")))
        .with("SignalStrength", Value::Int(i32_of(int(c, "signal")).clamp(-200, 0)))
        .with("OperatingStandard", text(standard_of(c)))
        .with(
            "LastDataDownlinkRate",
            Value::UnsignedInt(u32_of(i64::try_from(pair("rate", "tx") * 100).unwrap_or(0))),
        )
        .with(
            "LastDataUplinkRate",
            Value::UnsignedInt(u32_of(i64::try_from(pair("rate", "rx") * 100).unwrap_or(0))),
        );
    row.parent = ap.to_owned();
    row.set("Stats.BytesSent", Value::UnsignedLong(pair("bytes", "tx")));
    row.set("Stats.BytesReceived", Value::UnsignedLong(pair("bytes", "rx")));
    row.set("Stats.PacketsSent", Value::UnsignedLong(pair("packets", "tx")));
    row.set("Stats.PacketsReceived", Value::UnsignedLong(pair("packets", "rx")));
    row
}

/// The standard of a hostapd client from its capability flags.
fn standard_of(c: &Json) -> &'static str {
    let flag = |k: &str| c.get(k).and_then(Json::as_bool).unwrap_or(false);
    if flag("he") {
        "ax"
    } else if flag("vht") {
        "ac"
    } else if flag("ht") {
        "n"
    } else {
        "g"
    }
}

/// One station of `iwinfo assoclist` (rates in kbit/s, signal and noise in dBm).
pub fn station_from_iwinfo(ap: &str, a: &Json) -> Row {
    let mac = string(a, "mac").to_ascii_lowercase();
    let side =
        |s: &str, k: &str| a.get(s).and_then(|v| v.get(k)).and_then(Json::as_u64).unwrap_or(0);
    let mut row = Row::new(&mac)
        .with("MACAddress", text(&mac))
        .with(
            "AuthenticationState",
            Value::Boolean(a.get("authorized").and_then(Json::as_bool).unwrap_or(true)),
        )
        .with("Active", Value::Boolean(true))
        .with("SignalStrength", Value::Int(i32_of(int(a, "signal")).clamp(-200, 0)))
        .with("Noise", Value::Int(i32_of(int(a, "noise")).clamp(-200, 0)))
        .with(
            "LastDataDownlinkRate",
            Value::UnsignedInt(u32_of(i64::try_from(side("tx", "rate")).unwrap_or(0))),
        )
        .with(
            "LastDataUplinkRate",
            Value::UnsignedInt(u32_of(i64::try_from(side("rx", "rate")).unwrap_or(0))),
        );
    row.parent = ap.to_owned();
    row.set("Stats.BytesSent", Value::UnsignedLong(side("tx", "bytes")));
    row.set("Stats.BytesReceived", Value::UnsignedLong(side("rx", "bytes")));
    row.set("Stats.PacketsSent", Value::UnsignedLong(side("tx", "packets")));
    row.set("Stats.PacketsReceived", Value::UnsignedLong(side("rx", "packets")));
    row
}

/// One BSS of `iwinfo scan`, as a `NeighboringWiFiDiagnostic()` result.
pub fn neighbour(radio: &str, r: &Json) -> Row {
    let mhz = u64::try_from(int(r, "mhz")).unwrap_or(0);
    let enc = r.get("encryption").cloned().unwrap_or(Json::Null);
    let enabled = enc.get("enabled").and_then(Json::as_bool).unwrap_or(false);
    let wpa = enc
        .get("wpa")
        .and_then(Json::as_array)
        .and_then(|a| a.iter().filter_map(Json::as_i64).max());
    let sae = enc
        .get("authentication")
        .and_then(Json::as_array)
        .is_some_and(|a| a.iter().any(|x| x == "sae"));
    let mode = match (enabled, wpa, sae) {
        (false, _, _) => "None",
        (true, _, true) => "WPA3-Personal",
        (true, Some(1), _) => "WPA-Personal",
        (true, Some(_), _) => "WPA2-Personal",
        (true, None, _) => "WEP-128",
    };
    let width = ["eht_operation", "he_operation", "vht_operation", "ht_operation"]
        .iter()
        .find_map(|k| r.get(*k).map(|o| int(o, "channel_width")))
        .map_or("20MHz", |w| match w {
            40 => "40MHz",
            80 => "80MHz",
            160 => "160MHz",
            320 => "320MHz-1",
            _ => "20MHz",
        });
    Row::new(string(r, "bssid"))
        .with("Radio", text(radio))
        .with("SSID", text(string(r, "ssid")))
        .with("BSSID", text(&string(r, "bssid").to_ascii_lowercase()))
        .with("Mode", text(if string(r, "mode") == "Ad-Hoc" { "AdHoc" } else { "Infrastructure" }))
        .with("Channel", Value::UnsignedInt(u32_of(int(r, "channel"))))
        .with("SignalStrength", Value::Int(i32_of(int(r, "signal"))))
        .with("SecurityModeEnabled", text(mode))
        .with("EncryptionMode", text(if enabled { "AES" } else { "" }))
        .with("OperatingFrequencyBand", text(band_of_mhz(mhz).unwrap_or("")))
        .with("OperatingChannelBandwidth", text(width))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn htmodes_bands_and_encryption_map_both_ways() {
        assert_eq!(split_htmode("HE80"), ("HE", 80));
        assert_eq!(bandwidth(Some("VHT160")), "160MHz");
        assert_eq!(bandwidth(None), "Auto");
        assert_eq!(htmode_for("40MHz", Some("HE80")).as_deref(), Some("HE40"));
        assert_eq!(standards("5GHz", Some("HE80")), "a,n,ac,ax");
        assert_eq!(mode_from_uci(Some("psk2+ccmp")), "WPA2-Personal");
        assert_eq!(mode_to_uci("WPA3-Personal"), Some("sae"));
        assert_eq!(band_to_uci("6GHz"), Some("6g"));
    }

    #[test]
    fn replies_with_missing_or_odd_fields_read_as_zeros() {
        let row =
            station_from_hostapd("ap", "aa:bb:cc:dd:ee:ff", &serde_json::json!({"signal": "x"}));
        assert_eq!(row.values.get("SignalStrength"), Some(&Value::Int(0)));
        let n = neighbour("radio0", &serde_json::json!([1, 2]));
        assert_eq!(n.text("SSID"), "");
        let mut radio = Row::new("radio0");
        radio_runtime(&mut radio, "2.4GHz", &Json::Null, &serde_json::json!({"results": 7}));
        assert!(radio.text("PossibleChannels").is_empty());
    }
}
