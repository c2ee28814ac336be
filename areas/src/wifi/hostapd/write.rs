//! A USP transaction as hostapd control commands and configuration-file edits: per BSS,
//! `SET <field> <value>` lines (each also the file line `<field>=<value>`) and then one
//! `RELOAD`; a channel change as `CHAN_SWITCH` (and `channel=`, `retune.rs`), `Radio.Enable` as
//! `ENABLE` / `DISABLE` on the radio's first BSS, a BSS's `Enable` as `start_disabled=` and
//! `STOP_AP` / `UPDATE_BEACON` after the `RELOAD` (hostapd has no per-BSS disable; a
//! `RELOAD` restarts every BSS's beacon).
//!
//! Never does: validation (the plugin checked every value against the snapshot already) or
//! I/O on the file (`conf.rs`, called by the backend).

use super::RadioRef;
use super::parse;
use super::wpa_ctrl::Ctrl;
use crate::wifi::model::{Change, Kind, WifiError};

/// What one transaction does to one BSS.
#[derive(Debug, Default)]
pub(super) struct BssPlan {
    /// The BSS's interface (its control socket and its file section).
    pub ifname: String,
    /// The control commands, in order (without the `RELOAD`, which [`run`] adds).
    pub cmds: Vec<String>,
    /// The `key=value` lines for its section of the configuration file.
    pub edits: Vec<(String, String)>,
    /// Some change is read back from the file only: without a file it cannot be made.
    pub needs_file: bool,
}

/// The parameters whose value is read from hostapd's configuration file only.
pub(super) const FROM_FILE: &[&str] =
    &["Enable", "SSIDAdvertisementEnabled", "IsolationEnable", "WMMEnable", "MaxAssociatedDevices"];

/// hostapd's most stations per BSS (`MAX_STA_COUNT`), the `max_num_sta` of "no limit".
pub(super) const MAX_STA_COUNT: u64 = 2007;

/// The commands and file edits of one transaction, per BSS, in first-touched order.
pub(super) fn plan(radios: &[RadioRef], changes: &[Change]) -> Result<Vec<BssPlan>, WifiError> {
    let mut out: Vec<BssPlan> = Vec::new();
    for c in changes {
        let (ifname, cmds) = commands(radios, c)?;
        let pos = match out.iter().position(|p| p.ifname == ifname) {
            Some(pos) => pos,
            None => {
                out.push(BssPlan { ifname, ..BssPlan::default() });
                out.len() - 1
            }
        };
        let p = &mut out[pos];
        p.needs_file |= c.kind != Kind::Radio && FROM_FILE.contains(&c.name.as_str());
        for cmd in &cmds {
            if let Some((k, v)) = cmd.strip_prefix("SET ").and_then(|kv| kv.split_once(' ')) {
                p.edits.push((k.to_owned(), v.to_owned()));
            } else if cmd.starts_with("CHAN_SWITCH ") {
                p.edits.push(("channel".into(), c.value.as_u64().unwrap_or(0).to_string()));
            }
        }
        p.cmds.extend(cmds);
    }
    Ok(out)
}

/// Whether a command restarts or stops a BSS's beacon (sent after every `RELOAD`).
pub(super) fn is_beacon(cmd: &str) -> bool {
    cmd == "STOP_AP" || cmd == "UPDATE_BEACON"
}

/// Sends one BSS's commands but the beacon ones, with one `RELOAD` after its `SET`s.
/// Returns whether it sent a `RELOAD` (which restarted every BSS of the radio).
pub(super) fn run(ctrl: &Ctrl, cmds: &[String]) -> Result<bool, WifiError> {
    for cmd in cmds.iter().filter(|c| !is_beacon(c)) {
        ctrl.command(cmd)?;
    }
    let reload = cmds.iter().any(|c| c.starts_with("SET "));
    if reload {
        ctrl.command("RELOAD")?;
    }
    Ok(reload)
}

/// The BSS a change goes to and its commands.
fn commands(radios: &[RadioRef], c: &Change) -> Result<(String, Vec<String>), WifiError> {
    let s = c.value.as_str().unwrap_or("");
    let set = |field: &str, v: &str| vec![format!("SET {field} {v}")];
    if c.kind == Kind::Radio && c.name == "Channel" {
        let radio = radios.iter().find(|r| r.key == c.key);
        let bss = radio.and_then(|r| r.bsses.first().cloned());
        let bss = bss.ok_or_else(|| WifiError::Unavailable(format!("no BSS on {}", c.key)))?;
        let band = radio.map_or("", |r| r.band.as_str());
        let channel = u32::try_from(c.value.as_u64().unwrap_or(0)).unwrap_or(0);
        let mhz = parse::channel_mhz(band, channel).ok_or_else(|| {
            WifiError::Unavailable(format!("channel {channel} has no frequency in {band}"))
        })?;
        let op = radio.map(|r| r.operating.clone()).unwrap_or_default();
        return Ok((bss, vec![super::retune::chan_switch(&op, channel, mhz)]));
    }
    let on = c.value.as_bool() == Some(true);
    if c.kind == Kind::Radio && c.name == "Enable" {
        // ENABLE / DISABLE act on the whole hostapd interface: the radio and all its BSSes.
        let bss = radios.iter().find(|r| r.key == c.key).and_then(|r| r.bsses.first().cloned());
        let bss = bss.ok_or_else(|| WifiError::Unavailable(format!("no BSS on {}", c.key)))?;
        return Ok((bss, vec![if on { "ENABLE" } else { "DISABLE" }.to_owned()]));
    }
    let cmds = match (c.kind, c.name.as_str()) {
        (Kind::Ssid, "SSID") => set("ssid", s),
        (Kind::AccessPoint, "Security.KeyPassphrase") => set("wpa_passphrase", s),
        (Kind::AccessPoint, "Security.PreSharedKey") => set("wpa_psk", s),
        (Kind::AccessPoint, "Security.SAEPassphrase") => set("sae_password", s),
        (Kind::AccessPoint, "Security.ModeEnabled") => mode_commands(s)?,
        // hostapd's wps_state: 0 disabled, 2 configured.
        (Kind::AccessPoint, "WPS.Enable") => set("wps_state", if on { "2" } else { "0" }),
        (Kind::AccessPoint, "SSIDAdvertisementEnabled") => {
            set("ignore_broadcast_ssid", if on { "0" } else { "1" })
        }
        (Kind::AccessPoint, "IsolationEnable") => set("ap_isolate", if on { "1" } else { "0" }),
        (Kind::AccessPoint, "WMMEnable") => set("wmm_enabled", if on { "1" } else { "0" }),
        (Kind::AccessPoint, "MaxAssociatedDevices") => {
            let n = c.value.as_u64().unwrap_or(0);
            if n > MAX_STA_COUNT {
                return Err(WifiError::Unavailable(format!(
                    "MaxAssociatedDevices {n}: hostapd allows at most {MAX_STA_COUNT}"
                )));
            }
            set("max_num_sta", &if n == 0 { MAX_STA_COUNT } else { n }.to_string())
        }
        (Kind::AccessPoint | Kind::Ssid, "Enable") => vec![
            format!("SET start_disabled {}", u8::from(!on)),
            if on { "UPDATE_BEACON" } else { "STOP_AP" }.to_owned(),
        ],
        (kind, name) => {
            return Err(WifiError::Unavailable(format!(
                "{kind:?} {name} cannot be set through hostapd"
            )));
        }
    };
    Ok((c.key.clone(), cmds))
}

/// `Security.ModeEnabled` as hostapd's `wpa`, `wpa_key_mgmt`, `rsn_pairwise` and
/// `ieee80211w` (management frame protection, which WPA3 requires).
fn mode_commands(mode: &str) -> Result<Vec<String>, WifiError> {
    let (wpa, mgmt, mfp) = match mode {
        "None" => return Ok(vec!["SET wpa 0".into()]),
        "WPA2-Personal" => (2, "WPA-PSK", 0),
        "WPA3-Personal" => (2, "SAE", 2),
        "WPA3-Personal-Transition" => (2, "WPA-PSK SAE", 1),
        "WPA2-Enterprise" => (2, "WPA-EAP", 0),
        other => {
            return Err(WifiError::Unavailable(format!("security mode {other} under hostapd")));
        }
    };
    Ok(vec![
        format!("SET wpa {wpa}"),
        format!("SET wpa_key_mgmt {mgmt}"),
        "SET rsn_pairwise CCMP".into(),
        format!("SET ieee80211w {mfp}"),
    ])
}
