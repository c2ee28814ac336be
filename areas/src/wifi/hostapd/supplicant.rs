//! Station mode on plain Linux: wpa_supplicant's control interface (the same `wpa_ctrl`
//! protocol as hostapd's; formats of `wpa_supplicant/ctrl_iface.c`). Every socket in
//! `--wpa-supplicant-dir` (`/var/run/wpa_supplicant/<ifname>`) is one station interface: an
//! `SSID.{i}` and an `EndPoint.{i}` keyed by its name, and each configured network
//! (`LIST_NETWORKS`, `GET_NETWORK <id> <field>`) an `EndPoint.{i}.Profile.{i}` keyed
//! `<ifname>/<id>`. `STATUS` gives the state, the network in use and the link, `SIGNAL_POLL`
//! its signal and rate.
//!
//! Writes: per interface and transaction, `SET_NETWORK <id> <field> <value>`,
//! `ENABLE_NETWORK` / `DISABLE_NETWORK`, `SELECT_NETWORK` (a new `ProfileReference`), then one
//! `SAVE_CONFIG` (wpa_supplicant rewrites its own file; it answers `FAIL` when started
//! without `update_config=1`: the change then lives in its memory only, logged).
//!
//! Never does: add or remove networks, or validate values (the plugin did).

use std::path::Path;

use usp_datamodel::value::Value;

use super::parse::{self, Fields};
use super::wpa_ctrl::{Ctrl, CtrlError};
use crate::wifi::model::{Change, Kind, Row, WifiError, text};

/// The most networks read from one interface (a loop guard).
const MAX_NETWORKS: usize = 256;

/// The security modes a profile reads and writes here.
pub const MODES_SUPPORTED: &str = "None,WPA2-Personal,WPA3-Personal,WPA3-Personal-Transition";

/// One station interface as read.
#[derive(Debug, Default)]
pub struct Station {
    /// Its `SSID.{i}` row.
    pub ssid: Row,
    /// Its `EndPoint.{i}` row.
    pub endpoint: Row,
    /// Its `Profile.{i}` rows.
    pub profiles: Vec<Row>,
}

/// One network of `LIST_NETWORKS` (`id \t ssid \t bssid \t flags`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// `network id`.
    pub id: u32,
    /// The SSID as listed (escaped text).
    pub ssid: String,
    /// `[CURRENT]`, `[DISABLED]`, ...
    pub flags: String,
}

/// The networks of a `LIST_NETWORKS` reply (the header line skipped).
pub fn networks(reply: &str) -> Vec<Network> {
    reply
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let id = cols.next()?.trim().parse().ok()?;
            let ssid = cols.next().unwrap_or("").to_owned();
            let _bssid = cols.next();
            Some(Network { id, ssid, flags: cols.next().unwrap_or("").to_owned() })
        })
        .take(MAX_NETWORKS)
        .collect()
}

/// A `GET_NETWORK <id> ssid` value: `"text"` (quoted) or hex bytes.
pub fn unquote(value: &str) -> String {
    let v = value.trim_end_matches('\n');
    if let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        return inner.to_owned();
    }
    let bytes: Option<Vec<u8>> = (0..v.len() / 2)
        .map(|i| v.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    bytes.map_or_else(|| v.to_owned(), |b| String::from_utf8_lossy(&b).into_owned())
}

/// TR-181 `ModeEnabled` of a network's `key_mgmt`.
pub fn mode(key_mgmt: &str) -> &'static str {
    let m: Vec<&str> = key_mgmt.split_whitespace().collect();
    match (m.contains(&"WPA-PSK"), m.contains(&"SAE"), m.contains(&"WPA-EAP")) {
        (true, true, _) => "WPA3-Personal-Transition",
        (false, true, _) => "WPA3-Personal",
        (true, false, _) => "WPA2-Personal",
        (_, _, true) => "WPA2-Enterprise",
        _ => "None",
    }
}

/// The key of network `id` of `ifname`.
pub fn profile_key(ifname: &str, id: u32) -> String {
    format!("{ifname}/{id}")
}

/// Reads one interface; `radio` is the key of its radio (`phy0`), when known.
pub fn read(ctrl: &Ctrl, ifname: &str, radio: &str) -> Result<Station, CtrlError> {
    let status = parse::fields(&ctrl.request("STATUS")?);
    let get = |k: &str| status.get(k).map_or("", String::as_str);
    let state = get("wpa_state");
    let linked = state == "COMPLETED";
    let on = state != "INTERFACE_DISABLED";
    let ssid = Row::new(ifname)
        .with("Enable", Value::Boolean(on))
        .with(
            "Status",
            text(if !on {
                "Down"
            } else if linked {
                "Up"
            } else {
                "Dormant"
            }),
        )
        .with("Name", text(ifname))
        .with("LowerLayers", text(radio))
        .with("SSID", text(if linked { get("ssid") } else { "" }))
        .with("BSSID", text(if linked { get("bssid") } else { "" }))
        .with("MACAddress", text(get("address")));
    let current = if linked { get("id").parse::<u32>().ok() } else { None };
    let mut endpoint = Row::new(ifname)
        .with("Enable", Value::Boolean(on))
        .with("Status", text(if on { "Enabled" } else { "Disabled" }))
        .with("SSIDReference", text(ifname))
        .with(
            "ProfileReference",
            text(&current.map_or(String::new(), |id| profile_key(ifname, id))),
        )
        .with("Security.ModesSupported", text(MODES_SUPPORTED));
    if linked {
        signal(ctrl, &mut endpoint)?;
    }
    let mut profiles = Vec::new();
    for n in networks(&ctrl.request("LIST_NETWORKS")?) {
        profiles.push(profile(ctrl, ifname, &n)?);
    }
    Ok(Station { ssid, endpoint, profiles })
}

/// `SIGNAL_POLL`: `RSSI=` (dBm) and `LINKSPEED=` (Mbit/s) of the link.
fn signal(ctrl: &Ctrl, row: &mut Row) -> Result<(), CtrlError> {
    let f: Fields = parse::fields(&ctrl.request("SIGNAL_POLL")?);
    let num = |k: &str| f.get(k).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(0);
    let rssi = i32::try_from(num("RSSI")).unwrap_or(0).clamp(-200, 0);
    row.set("Stats.SignalStrength", Value::Int(rssi));
    let kbps = u32::try_from(num("LINKSPEED").saturating_mul(1000)).unwrap_or(u32::MAX);
    row.set("Stats.LastDataDownlinkRate", Value::UnsignedInt(kbps));
    Ok(())
}

/// One network's `Profile.{i}` row (its fields from `GET_NETWORK`; `FAIL` is an unset field).
fn profile(ctrl: &Ctrl, ifname: &str, n: &Network) -> Result<Row, CtrlError> {
    let field = |name: &str| -> Result<Option<String>, CtrlError> {
        match ctrl.request(&format!("GET_NETWORK {} {name}", n.id)) {
            Ok(v) => Ok(Some(v)),
            Err(CtrlError::Refused(_)) => Ok(None),
            Err(e) => Err(e),
        }
    };
    let ssid = field("ssid")?.map_or_else(|| n.ssid.clone(), |s| unquote(&s));
    let key_mgmt = field("key_mgmt")?.unwrap_or_default();
    let priority = field("priority")?.and_then(|p| p.trim().parse::<u32>().ok()).unwrap_or(0);
    let disabled = n.flags.contains("[DISABLED]");
    let status = match () {
        _ if disabled => "Disabled",
        _ if n.flags.contains("[CURRENT]") => "Active",
        _ => "Available",
    };
    let mut row = Row::new(profile_key(ifname, n.id))
        .with("Enable", Value::Boolean(!disabled))
        .with("Status", text(status))
        .with("SSID", text(&ssid))
        .with("Priority", Value::UnsignedInt(priority))
        .with("Security.ModeEnabled", text(mode(&key_mgmt)));
    row.parent = ifname.to_owned();
    Ok(row)
}

/// Whether a change is for wpa_supplicant (an end point or a profile).
pub fn owns(c: &Change) -> bool {
    matches!(c.kind, Kind::EndPoint | Kind::Profile)
}

/// The commands of one transaction per interface, in first-touched order (no `SAVE_CONFIG`).
pub fn plan(changes: &[Change]) -> Result<Vec<(String, Vec<String>)>, WifiError> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in changes.iter().filter(|c| owns(c)) {
        let (ifname, cmds) = commands(c)?;
        match out.iter_mut().find(|(i, _)| *i == ifname) {
            Some((_, list)) => list.extend(cmds),
            None => out.push((ifname, cmds)),
        }
    }
    Ok(out)
}

/// The interface and network id of a profile key (`wlan2/0`).
fn split_key(key: &str) -> Result<(String, u32), WifiError> {
    let bad = || WifiError::Unavailable(format!("{key} is not a wpa_supplicant network"));
    let (ifname, id) = key.rsplit_once('/').ok_or_else(bad)?;
    Ok((ifname.to_owned(), id.parse().map_err(|_| bad())?))
}

/// A quoted string value for `SET_NETWORK` (wpa_supplicant takes up to the last quote).
fn quoted(v: &str) -> Result<String, WifiError> {
    if v.contains(['\n', '\r', '\0']) {
        return Err(WifiError::Malformed("a line break cannot be written".into()));
    }
    Ok(format!("\"{v}\""))
}

/// One change as commands to its interface.
fn commands(c: &Change) -> Result<(String, Vec<String>), WifiError> {
    let s = c.value.as_str().unwrap_or("");
    if c.kind == Kind::EndPoint && c.name == "ProfileReference" {
        let (ifname, id) = split_key(s)?;
        if ifname != c.key {
            return Err(WifiError::Unavailable(format!("{s} is not a network of {}", c.key)));
        }
        return Ok((ifname, vec![format!("SELECT_NETWORK {id}")]));
    }
    let (ifname, id) = split_key(&c.key)?;
    let set = |field: &str, v: String| vec![format!("SET_NETWORK {id} {field} {v}")];
    let cmds = match (c.kind, c.name.as_str()) {
        (Kind::Profile, "SSID") => set("ssid", quoted(s)?),
        (Kind::Profile, "Security.KeyPassphrase") => set("psk", quoted(s)?),
        (Kind::Profile, "Security.PreSharedKey") => set("psk", s.to_ascii_lowercase()),
        (Kind::Profile, "Security.SAEPassphrase") => set("sae_password", quoted(s)?),
        (Kind::Profile, "Priority") => set("priority", c.value.as_u64().unwrap_or(0).to_string()),
        (Kind::Profile, "Enable") if c.value.as_bool() == Some(true) => {
            vec![format!("ENABLE_NETWORK {id}")]
        }
        (Kind::Profile, "Enable") => vec![format!("DISABLE_NETWORK {id}")],
        (Kind::Profile, "Security.ModeEnabled") => {
            let (mgmt, mfp) = match s {
                "None" => ("NONE", 0),
                "WPA2-Personal" => ("WPA-PSK", 0),
                "WPA3-Personal" => ("SAE", 2),
                "WPA3-Personal-Transition" => ("WPA-PSK SAE", 1),
                other => {
                    return Err(WifiError::Unavailable(format!(
                        "security mode {other} under wpa_supplicant"
                    )));
                }
            };
            let mut v = set("key_mgmt", mgmt.to_owned());
            v.extend(set("ieee80211w", mfp.to_string()));
            v
        }
        (kind, name) => {
            return Err(WifiError::Unavailable(format!(
                "{kind:?} {name} cannot be set through wpa_supplicant"
            )));
        }
    };
    Ok((ifname, cmds))
}

/// Sends one interface's commands, then `SAVE_CONFIG`; `Ok(false)` when wpa_supplicant does
/// not save (started without `update_config=1`).
pub fn run(
    dir: &Path,
    ifname: &str,
    cmds: &[String],
    timeout: std::time::Duration,
) -> Result<bool, WifiError> {
    let ctrl = Ctrl::open(&dir.join(ifname), timeout)?;
    for cmd in cmds {
        ctrl.command(cmd)?;
    }
    match ctrl.command("SAVE_CONFIG") {
        Ok(()) => Ok(true),
        Err(CtrlError::Refused(m)) if m.ends_with("FAIL") => Ok(false),
        Err(e) => Err(e.into()),
    }
}
