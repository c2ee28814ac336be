//! Checks a controller's Wi-Fi write against what the backend reported it can do (the cached
//! [`Snapshot`]'s capability parameters) before anything is staged, so a bad value gets USP
//! 7012 (Invalid Value) at once and nothing reaches UCI or the lab's file.
//!
//! The engine has already checked the type, enumeration, range and maximum length the TR-181
//! XML gives; this adds what depends on the device: the channel valid for the (possibly newly
//! set) band, the band among `SupportedFrequencyBands`, passphrase lengths, the security mode
//! among `ModesSupported`, the bandwidth and standards among the supported ones.

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::value::Value;

use super::model::{Change, Kind, Snapshot, band_channels, parse_channel_list};

/// Checks one change, given the changes already staged in this transaction.
pub(super) fn check(snap: &Snapshot, staged: &[Change], c: &Change) -> Result<(), UspError> {
    let row = snap.row(c.kind, &c.key);
    let cap = |name: &str| row.map(|r| r.text(name).to_owned()).unwrap_or_default();
    let text = c.value.as_str().unwrap_or("");
    match (c.kind, c.name.as_str()) {
        (Kind::Radio, "Channel") => check_channel(snap, staged, c),
        (Kind::Radio, "OperatingFrequencyBand") => {
            in_list(&cap("SupportedFrequencyBands"), text, "band")
        }
        (Kind::Radio, "OperatingChannelBandwidth") if text != "Auto" => {
            in_list(&cap("SupportedOperatingChannelBandwidths"), text, "channel bandwidth")
        }
        (Kind::Radio, "OperatingStandards") => text
            .split(',')
            .map(str::trim)
            .try_for_each(|s| in_list(&cap("SupportedStandards"), s, "standard")),
        (Kind::Radio, "TransmitPower") => check_power(&cap("TransmitPowerSupported"), &c.value),
        (Kind::Ssid, "SSID") if text.is_empty() || text.len() > 32 => {
            Err(invalid("an SSID has 1 to 32 bytes"))
        }
        (Kind::AccessPoint, "Security.ModeEnabled") => {
            in_list(&cap("Security.ModesSupported"), text, "security mode")
        }
        (Kind::AccessPoint, "Security.KeyPassphrase") => check_passphrase(text),
        (Kind::AccessPoint, "Security.SAEPassphrase") if text.is_empty() || text.len() > 128 => {
            Err(invalid("a SAE passphrase has 1 to 128 characters"))
        }
        (Kind::AccessPoint, "Security.PreSharedKey") => check_psk(text),
        (Kind::Profile, _) => check_profile(snap, c),
        (Kind::EndPoint, "ProfileReference") => {
            match snap.row(Kind::Profile, text).map(|p| p.parent == c.key) {
                Some(true) => Ok(()),
                _ => Err(invalid("ProfileReference must name one of this EndPoint's profiles")),
            }
        }
        _ => Ok(()),
    }
}

/// An end point profile's SSID, passphrases, and security mode (among its end point's
/// `Security.ModesSupported`).
fn check_profile(snap: &Snapshot, c: &Change) -> Result<(), UspError> {
    let text = c.value.as_str().unwrap_or("");
    match c.name.as_str() {
        "SSID" if text.is_empty() || text.len() > 32 => Err(invalid("an SSID has 1 to 32 bytes")),
        "Security.KeyPassphrase" => check_passphrase(text),
        "Security.PreSharedKey" => check_psk(text),
        "Security.SAEPassphrase" if text.is_empty() || text.len() > 128 => {
            Err(invalid("a SAE passphrase has 1 to 128 characters"))
        }
        "Security.ModeEnabled" => {
            let endpoint = snap.row(Kind::Profile, &c.key).map_or("", |p| p.parent.as_str());
            let modes = snap
                .row(Kind::EndPoint, endpoint)
                .map_or("", |e| e.text("Security.ModesSupported"));
            in_list(modes, text, "security mode")
        }
        _ => Ok(()),
    }
}

/// The band the radio will be on after this transaction's staged changes.
fn band_after(snap: &Snapshot, staged: &[Change], radio: &str) -> String {
    let staged_band = staged
        .iter()
        .rev()
        .find(|c| c.kind == Kind::Radio && c.key == radio && c.name == "OperatingFrequencyBand");
    match staged_band.and_then(|c| c.value.as_str()) {
        Some(b) => b.to_owned(),
        None => snap
            .row(Kind::Radio, radio)
            .map(|r| r.text("OperatingFrequencyBand").to_owned())
            .unwrap_or_default(),
    }
}

fn check_channel(snap: &Snapshot, staged: &[Change], c: &Change) -> Result<(), UspError> {
    let channel = c.value.as_u64().and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
    let band = band_after(snap, staged, &c.key);
    if !band_channels(&band).contains(&channel) {
        return Err(invalid(&format!("channel {channel} is not a {band} channel")));
    }
    let row = snap.row(Kind::Radio, &c.key);
    let current_band = row.map(|r| r.text("OperatingFrequencyBand")).unwrap_or("");
    let possible = parse_channel_list(row.map(|r| r.text("PossibleChannels")).unwrap_or(""));
    if band == current_band && !possible.is_empty() && !possible.contains(&channel) {
        return Err(invalid(&format!(
            "channel {channel} is not among this radio's PossibleChannels"
        )));
    }
    Ok(())
}

fn check_power(supported: &str, value: &Value) -> Result<(), UspError> {
    let Some(Ok(p)) = value.as_i64().map(i32::try_from) else { return Err(invalid("bad power")) };
    if p == -1
        || supported.is_empty()
        || supported.split(',').any(|s| s.trim().parse::<i32>() == Ok(p))
    {
        return Ok(());
    }
    Err(invalid(&format!("transmit power {p}% is not among {supported}")))
}

fn check_passphrase(text: &str) -> Result<(), UspError> {
    let printable = text.bytes().all(|b| (32..=126).contains(&b));
    if (8..=63).contains(&text.len()) && printable {
        return Ok(());
    }
    Err(invalid("a WPA passphrase has 8 to 63 printable ASCII characters"))
}

fn check_psk(text: &str) -> Result<(), UspError> {
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    Err(invalid("a pre-shared key is 64 hexadecimal digits"))
}

fn in_list(list: &str, item: &str, what: &str) -> Result<(), UspError> {
    if list.split(',').any(|s| s.trim() == item) {
        return Ok(());
    }
    Err(invalid(&format!("{what} '{item}' is not supported here (supported: {list})")))
}

fn invalid(msg: &str) -> UspError {
    UspError::new(ErrorCode::InvalidValue, msg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::super::model::{Row, text};
    use super::*;

    fn snap() -> Snapshot {
        let radio = Row::new("radio0")
            .with("OperatingFrequencyBand", text("2.4GHz"))
            .with("SupportedFrequencyBands", text("2.4GHz,5GHz"))
            .with("PossibleChannels", text("1-11"));
        let ap = Row::new("ap0").with("Security.ModesSupported", text("None,WPA2-Personal"));
        Snapshot { radios: vec![radio], access_points: vec![ap], ..Snapshot::default() }
    }

    fn change(kind: Kind, name: &str, value: Value) -> Change {
        let key = if kind == Kind::Radio { "radio0" } else { "ap0" };
        Change { kind, key: key.into(), name: name.into(), value }
    }

    #[test]
    fn channels_follow_the_band_and_the_possible_channels() {
        let s = snap();
        let ok = change(Kind::Radio, "Channel", Value::UnsignedInt(6));
        assert!(check(&s, &[], &ok).is_ok());
        let e =
            check(&s, &[], &change(Kind::Radio, "Channel", Value::UnsignedInt(13))).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        assert!(check(&s, &[], &change(Kind::Radio, "Channel", Value::UnsignedInt(36))).is_err());
        let to5 = change(Kind::Radio, "OperatingFrequencyBand", text("5GHz"));
        assert!(
            check(
                &s,
                std::slice::from_ref(&to5),
                &change(Kind::Radio, "Channel", Value::UnsignedInt(36))
            )
            .is_ok()
        );
        assert!(check(&s, &[to5], &change(Kind::Radio, "Channel", Value::UnsignedInt(6))).is_err());
        assert!(
            check(&s, &[], &change(Kind::Radio, "OperatingFrequencyBand", text("6GHz"))).is_err()
        );
    }

    #[test]
    fn passphrases_and_modes_are_checked() {
        let s = snap();
        let short = change(Kind::AccessPoint, "Security.KeyPassphrase", text("short"));
        assert_eq!(check(&s, &[], &short).unwrap_err().code, ErrorCode::InvalidValue);
        assert!(
            check(
                &s,
                &[],
                &change(Kind::AccessPoint, "Security.KeyPassphrase", text("long enough"))
            )
            .is_ok()
        );
        assert!(
            check(
                &s,
                &[],
                &change(Kind::AccessPoint, "Security.ModeEnabled", text("WPA3-Personal"))
            )
            .is_err()
        );
        assert!(
            check(&s, &[], &change(Kind::AccessPoint, "Security.PreSharedKey", text("abc")))
                .is_err()
        );
    }
}
