//! nl80211 replies turned into what the Wi-Fi model needs: a wiphy's bands (enabled channels,
//! HT / VHT / HE support) from `NL80211_CMD_NEW_WIPHY` messages (merged across a split dump),
//! and one `NeighboringWiFiDiagnostic()` result row per `NL80211_ATTR_BSS` of a scan dump
//! (SSID, channel, security and standards from the 802.11 information elements).
//!
//! Never does: I/O. Malformed attributes end the walk of their container, never a panic.

use usp_datamodel::value::Value;

use crate::netlink::{Attr, Attrs, OwnedMessage};
use crate::wifi::model::{Row, band_of_mhz, text};

/// `NL80211_ATTR_WIPHY` (u32).
pub const ATTR_WIPHY: u16 = 1;
/// `NL80211_ATTR_WIPHY_NAME` (string).
pub const ATTR_WIPHY_NAME: u16 = 2;
/// `NL80211_ATTR_WIPHY_BANDS` (nested, one per `nl80211_band`).
pub const ATTR_WIPHY_BANDS: u16 = 22;
/// `NL80211_ATTR_BSS` (nested `nl80211_bss`).
pub const ATTR_BSS: u16 = 47;
/// `NL80211_BAND_ATTR_FREQS`, `_HT_CAPA`, `_VHT_CAPA`, `_IFTYPE_DATA`.
pub const BAND_FREQS: u16 = 1;
/// `NL80211_BAND_ATTR_HT_CAPA` (u16).
pub const BAND_HT_CAPA: u16 = 4;
/// `NL80211_BAND_ATTR_VHT_CAPA` (u32).
pub const BAND_VHT_CAPA: u16 = 8;
/// `NL80211_BAND_ATTR_IFTYPE_DATA` (nested; HE and later capabilities).
pub const BAND_IFTYPE_DATA: u16 = 9;
/// `NL80211_FREQUENCY_ATTR_FREQ` (u32, MHz).
pub const FREQ: u16 = 1;
/// `NL80211_FREQUENCY_ATTR_DISABLED` (flag).
pub const FREQ_DISABLED: u16 = 2;
/// `NL80211_BSS_BSSID` (6 bytes).
pub const BSS_BSSID: u16 = 1;
/// `NL80211_BSS_FREQUENCY` (u32, MHz).
pub const BSS_FREQUENCY: u16 = 2;
/// `NL80211_BSS_BEACON_INTERVAL` (u16, TU).
pub const BSS_BEACON_INTERVAL: u16 = 4;
/// `NL80211_BSS_CAPABILITY` (u16).
pub const BSS_CAPABILITY: u16 = 5;
/// `NL80211_BSS_INFORMATION_ELEMENTS` (bytes).
pub const BSS_IES: u16 = 6;
/// `NL80211_BSS_SIGNAL_MBM` (s32, 1/100 dBm).
pub const BSS_SIGNAL_MBM: u16 = 7;

/// One band of a wiphy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Band {
    /// TR-181 band name (`2.4GHz`, `5GHz`, `6GHz`).
    pub name: &'static str,
    /// The channels not disabled (by regulation), in order.
    pub channels: Vec<u32>,
    /// 802.11n, ac, ax capabilities present.
    pub ht: bool,
    /// 802.11ac.
    pub vht: bool,
    /// 802.11ax (the band has interface-type data: HE capabilities).
    pub he: bool,
}

/// One radio (wiphy).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wiphy {
    /// `NL80211_ATTR_WIPHY`.
    pub index: u32,
    /// `NL80211_ATTR_WIPHY_NAME` (`phy0`: hostapd's `STATUS` `phy=`).
    pub name: String,
    /// Its bands, in `nl80211_band` order.
    pub bands: Vec<Band>,
}

impl Wiphy {
    /// TR-181 `SupportedStandards` of this radio.
    pub fn standards(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        let mut add = |s| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        for b in &self.bands {
            if b.name == "2.4GHz" {
                add("b");
                add("g");
            } else {
                add("a");
            }
        }
        for b in &self.bands {
            if b.ht {
                add("n");
            }
        }
        for (has, s) in
            [(self.bands.iter().any(|b| b.vht), "ac"), (self.bands.iter().any(|b| b.he), "ax")]
        {
            if has {
                add(s);
            }
        }
        out.join(",")
    }
}

/// The TR-181 band of an `nl80211_band` (60 GHz and sub-1 GHz are not TR-181 Wi-Fi bands).
fn band_name(index: u16) -> Option<&'static str> {
    match index {
        0 => Some("2.4GHz"),
        1 => Some("5GHz"),
        3 => Some("6GHz"),
        _ => None,
    }
}

/// The channel number of a frequency (MHz), as IEEE 802.11 numbers them.
pub fn channel_of(mhz: u32) -> Option<u32> {
    match mhz {
        2484 => Some(14),
        2412..=2472 => Some((mhz - 2407) / 5),
        5935 => Some(2),
        5955..=7115 => Some((mhz - 5950) / 5),
        5000..=5900 => Some((mhz - 5000) / 5),
        _ => None,
    }
}

fn attrs_of(m: &OwnedMessage) -> Vec<Attr<'_>> {
    m.borrow().split(4).map(|(_, a)| a.map_while(Result::ok).collect()).unwrap_or_default()
}

fn ok_attrs(a: Attrs<'_>) -> impl Iterator<Item = Attr<'_>> {
    a.map_while(Result::ok)
}

/// The wiphys of a `GET_WIPHY` dump, merging the parts of a split dump by wiphy index.
pub fn wiphys(messages: &[OwnedMessage]) -> Vec<Wiphy> {
    let mut out: Vec<Wiphy> = Vec::new();
    for m in messages {
        let attrs = attrs_of(m);
        let Some(index) = attrs.iter().find(|a| a.ty == ATTR_WIPHY).and_then(Attr::u32) else {
            continue;
        };
        let pos = match out.iter().position(|w| w.index == index) {
            Some(p) => p,
            None => {
                out.push(Wiphy { index, ..Wiphy::default() });
                out.len() - 1
            }
        };
        let w = &mut out[pos];
        for a in &attrs {
            match a.ty {
                ATTR_WIPHY_NAME => w.name = a.str().unwrap_or("").to_owned(),
                ATTR_WIPHY_BANDS => ok_attrs(a.attrs()).for_each(|b| merge_band(w, &b)),
                _ => {}
            }
        }
    }
    out
}

/// Adds one `NL80211_ATTR_WIPHY_BANDS` entry (attribute type = `nl80211_band`) to `w`.
fn merge_band(w: &mut Wiphy, attr: &Attr<'_>) {
    let Some(name) = band_name(attr.ty) else { return };
    if !w.bands.iter().any(|b| b.name == name) {
        w.bands.push(Band { name, ..Band::default() });
    }
    let Some(band) = w.bands.iter_mut().find(|b| b.name == name) else { return };
    for a in ok_attrs(attr.attrs()) {
        match a.ty {
            BAND_FREQS => {
                for f in ok_attrs(a.attrs()) {
                    let fa: Vec<Attr<'_>> = ok_attrs(f.attrs()).collect();
                    let disabled = fa.iter().any(|x| x.ty == FREQ_DISABLED);
                    let mhz = fa.iter().find(|x| x.ty == FREQ).and_then(Attr::u32);
                    if let Some(ch) = mhz.and_then(channel_of).filter(|_| !disabled) {
                        if !band.channels.contains(&ch) {
                            band.channels.push(ch);
                        }
                    }
                }
            }
            BAND_HT_CAPA => band.ht = true,
            BAND_VHT_CAPA => band.vht = true,
            BAND_IFTYPE_DATA => band.he = true,
            _ => {}
        }
    }
}

/// One scan result (`NL80211_ATTR_BSS`) as a `Result.{i}` row heard by `radio`.
pub fn bss(m: &OwnedMessage, radio: &str) -> Option<Row> {
    let attrs = attrs_of(m);
    let nested = attrs.iter().find(|a| a.ty == ATTR_BSS)?;
    let b: Vec<Attr<'_>> = ok_attrs(nested.attrs()).collect();
    let get = |ty: u16| b.iter().find(|a| a.ty == ty);
    let mac = get(BSS_BSSID).map(|a| a.value).filter(|v| v.len() == 6)?;
    let bssid = mac.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":");
    let mhz = get(BSS_FREQUENCY).and_then(Attr::u32).unwrap_or(0);
    let band = band_of_mhz(u64::from(mhz)).unwrap_or("2.4GHz");
    let ies = ies(get(BSS_IES).map_or(&[][..], |a| a.value));
    let ie = |id: u8| ies.iter().find(|(i, _)| *i == id).map(|(_, d)| *d);
    let ssid = ie(0).map(|d| String::from_utf8_lossy(d).into_owned()).unwrap_or_default();
    let signal = get(BSS_SIGNAL_MBM).and_then(Attr::u32).map_or(0, |v| v as i32 / 100);
    let privacy = get(BSS_CAPABILITY).and_then(Attr::u16).is_some_and(|c| c & 0x10 != 0);
    let (mode, encryption) = security(ie(48), &ies, privacy);
    Some(
        Row::new(&bssid)
            .with("Radio", text(radio))
            .with("SSID", text(&ssid))
            .with("BSSID", text(&bssid))
            .with("Mode", text("Infrastructure"))
            .with("Channel", Value::UnsignedInt(channel_of(mhz).unwrap_or(0)))
            .with("SignalStrength", Value::Int(signal.clamp(-200, 0)))
            .with("OperatingFrequencyBand", text(band))
            .with("OperatingStandards", text(&standards(band, &ies)))
            .with("OperatingChannelBandwidth", text(width(&ies)))
            .with("SecurityModeEnabled", text(mode))
            .with("EncryptionMode", text(encryption))
            .with(
                "BeaconPeriod",
                Value::UnsignedInt(
                    get(BSS_BEACON_INTERVAL).and_then(Attr::u16).map_or(0, u32::from),
                ),
            )
            .with(
                "DTIMPeriod",
                Value::UnsignedInt(ie(5).and_then(|d| d.get(1)).map_or(0, |d| u32::from(*d))),
            ),
    )
}

/// The information elements `(id, data)`; an element running past the end ends the list.
pub fn ies(mut buf: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while buf.len() >= 2 {
        let (id, len) = (buf[0], usize::from(buf[1]));
        let Some(data) = buf.get(2..2 + len) else { break };
        out.push((id, data));
        buf = &buf[2 + len..];
    }
    out
}

/// Whether an extension element (id 255) with extension id `ext` is present.
fn has_ext(ies: &[(u8, &[u8])], ext: u8) -> bool {
    ies.iter().any(|(id, d)| *id == 255 && d.first() == Some(&ext))
}

/// TR-181 `OperatingStandards` of a BSS: HT (45), VHT (191), HE (extension 35), EHT (108).
fn standards(band: &str, ies: &[(u8, &[u8])]) -> String {
    let mut out = vec![if band == "2.4GHz" { "g" } else { "a" }];
    let has = |id: u8| ies.iter().any(|(i, _)| *i == id);
    if has(45) {
        out.push("n");
    }
    if has(191) {
        out.push("ac");
    }
    if has_ext(ies, 35) {
        out.push("ax");
    }
    if has_ext(ies, 108) {
        out.push("be");
    }
    if band == "6GHz" {
        out.retain(|s| *s != "a");
    }
    out.join(",")
}

/// The channel width a BSS announces: VHT operation (192) width 1/2, else HT operation (61)
/// secondary channel offset.
fn width(ies: &[(u8, &[u8])]) -> &'static str {
    let ie = |id: u8| ies.iter().find(|(i, _)| *i == id).map(|(_, d)| *d);
    match ie(192).and_then(|d| d.first()) {
        Some(1) => return "80MHz",
        Some(2 | 3) => return "160MHz",
        _ => {}
    }
    match ie(61).and_then(|d| d.get(1)) {
        Some(b) if b & 0x03 != 0 => "40MHz",
        _ => "20MHz",
    }
}

/// `SecurityModeEnabled` and `EncryptionMode` from the RSN element (48: version, group
/// cipher, pairwise ciphers, AKM suites), the WPA vendor element, or the privacy bit.
fn security(
    rsn: Option<&[u8]>,
    ies: &[(u8, &[u8])],
    privacy: bool,
) -> (&'static str, &'static str) {
    let Some(rsn) = rsn else {
        let wpa = ies.iter().any(|(id, d)| *id == 221 && d.starts_with(&[0x00, 0x50, 0xf2, 0x01]));
        return match (wpa, privacy) {
            (true, _) => ("WPA-Personal", "TKIP"),
            (false, true) => ("WEP-128", ""),
            _ => ("None", ""),
        };
    };
    let suites = |at: usize| -> (Vec<u8>, usize) {
        let n = rsn.get(at..at + 2).map_or(0, |c| usize::from(u16::from_le_bytes([c[0], c[1]])));
        let list = (0..n.min(16))
            .filter_map(|i| rsn.get(at + 2 + 4 * i..at + 6 + 4 * i))
            .filter(|s| s[..3] == [0x00, 0x0f, 0xac])
            .map(|s| s[3])
            .collect();
        (list, at + 2 + 4 * n)
    };
    let (pairwise, next) = suites(6); // version (2) and group cipher (4) come first
    let (akm, _) = suites(next);
    let mode = match (akm.contains(&2) || akm.contains(&6), akm.contains(&8), akm.contains(&1)) {
        (true, true, _) => "WPA3-Personal-Transition",
        (false, true, _) => "WPA3-Personal",
        (_, _, true) => "WPA2-Enterprise",
        _ => "WPA2-Personal",
    };
    let encryption = match (pairwise.contains(&2), pairwise.contains(&4)) {
        (true, true) => "TKIP,AES",
        (true, false) => "TKIP",
        _ => "AES",
    };
    (mode, encryption)
}
