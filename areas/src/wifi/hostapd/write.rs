//! A USP transaction as hostapd control commands: per BSS, `SET <field> <value>` lines and
//! then one `RELOAD`; a channel change as `CHAN_SWITCH 5 <MHz>` and `Radio.Enable` as
//! `ENABLE` / `DISABLE` on the radio's first BSS.
//!
//! Never does: validation (the plugin checked every value against the snapshot already) or
//! any write to hostapd's configuration file.

use super::RadioRef;
use super::parse;
use super::wpa_ctrl::Ctrl;
use crate::wifi::model::{Change, Kind, WifiError};

/// The commands of one transaction, per BSS, in first-touched order.
pub(super) fn plan(
    radios: &[RadioRef],
    changes: &[Change],
) -> Result<Vec<(String, Vec<String>)>, WifiError> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for c in changes {
        let (ifname, cmds) = commands(radios, c)?;
        match out.iter_mut().find(|(i, _)| *i == ifname) {
            Some((_, list)) => list.extend(cmds),
            None => out.push((ifname, cmds)),
        }
    }
    Ok(out)
}

/// Sends one BSS's commands, with one `RELOAD` after its `SET`s.
pub(super) fn run(ctrl: &Ctrl, cmds: &[String]) -> Result<(), WifiError> {
    for cmd in cmds {
        ctrl.command(cmd)?;
    }
    if cmds.iter().any(|c| c.starts_with("SET ")) {
        ctrl.command("RELOAD")?;
    }
    Ok(())
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
        return Ok((bss, vec![format!("CHAN_SWITCH 5 {mhz}")]));
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
