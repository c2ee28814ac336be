//! What every Wi-Fi backend hands the plugin: a [`Snapshot`] of the radios, SSIDs, access
//! points and stations (rows of TR-181 values keyed by stable backend keys), the [`Change`]s of
//! one USP transaction, and [`WifiError`].
//!
//! A row holds its values by TR-181 parameter name relative to the row's object
//! (`"Channel"`, `"Stats.BytesSent"`, `"Security.ModeEnabled"`): the plugin reads them by the
//! names the generated schema declares, and the tests check every name a backend writes is a
//! declared one. A value missing from a row reads as the type's zero (`""`, `0`, `false`).
//!
//! References between rows are given as backend keys, not paths: `SSID.{i}.LowerLayers` holds
//! the Radio's key and `AccessPoint.{i}.SSIDReference` the SSID's key; the plugin turns them into
//! instance paths (and paths written by a controller back into keys).

use std::collections::BTreeMap;
use std::fmt;

use usp_datamodel::value::Value;

/// The kinds of rows (one per TR-181 table; `Root` is `Device.WiFi.` itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `Device.WiFi.`
    Root,
    /// `Device.WiFi.Radio.{i}.` (with `Stats.`).
    Radio,
    /// `Device.WiFi.SSID.{i}.` (with `Stats.`).
    Ssid,
    /// `Device.WiFi.AccessPoint.{i}.` (with `Security.` and `WPS.`).
    AccessPoint,
    /// `Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.` (with `Stats.`).
    Station,
    /// `Device.WiFi.EndPoint.{i}.` (with `Stats.` and `Security.`): an interface in station
    /// mode (keys usually those of their SSIDs).
    EndPoint,
    /// `Device.WiFi.EndPoint.{i}.Profile.{i}.` (with `Security.`): a network the end point may
    /// join, `parent` naming its end point; keys unique across all end points.
    Profile,
}

impl Kind {
    /// The kinds with tables, parents before children.
    pub const TABLES: [Kind; 6] =
        [Kind::Radio, Kind::Ssid, Kind::AccessPoint, Kind::Station, Kind::EndPoint, Kind::Profile];

    /// The kind of the parent row of a nested table (stations: access points; profiles: end
    /// points); `None` for top-level tables.
    pub fn parent(self) -> Option<Kind> {
        match self {
            Kind::Station => Some(Kind::AccessPoint),
            Kind::Profile => Some(Kind::EndPoint),
            _ => None,
        }
    }
}

/// One row: its stable key (UCI section, MAC address), the key of its parent row (the access
/// point of a station) and its values by relative TR-181 name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// Stable across refreshes and restarts: the engine maps it to an instance number for good.
    pub key: String,
    /// The parent row's key (stations: their access point), empty otherwise.
    pub parent: String,
    /// Values by relative name (`"Channel"`, `"Stats.BytesSent"`).
    pub values: BTreeMap<String, Value>,
}

impl Row {
    /// A row with no values.
    pub fn new(key: impl Into<String>) -> Row {
        Row { key: key.into(), ..Row::default() }
    }

    /// Sets `name` to `value`, builder style.
    pub fn with(mut self, name: &str, value: Value) -> Row {
        self.values.insert(name.to_owned(), value);
        self
    }

    /// Sets `name` to `value`.
    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_owned(), value);
    }

    /// The text of a string value (`""` when absent or not a string).
    pub fn text(&self, name: &str) -> &str {
        self.values.get(name).and_then(Value::as_str).unwrap_or("")
    }

    /// A number value (0 when absent or not a number).
    pub fn number(&self, name: &str) -> u64 {
        self.values.get(name).and_then(Value::as_u64).unwrap_or(0)
    }
}

/// A string value.
pub fn text(s: &str) -> Value {
    Value::String(s.into())
}

/// Everything a backend knows at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// `Radio.{i}` rows.
    pub radios: Vec<Row>,
    /// `SSID.{i}` rows.
    pub ssids: Vec<Row>,
    /// `AccessPoint.{i}` rows (keys usually those of their SSIDs).
    pub access_points: Vec<Row>,
    /// `AssociatedDevice.{i}` rows, `parent` naming their access point.
    pub stations: Vec<Row>,
    /// `EndPoint.{i}` rows.
    pub endpoints: Vec<Row>,
    /// `EndPoint.{i}.Profile.{i}` rows, `parent` naming their end point.
    pub profiles: Vec<Row>,
    /// `Device.WiFi.ResetCounter`.
    pub reset_counter: u32,
}

impl Snapshot {
    /// The rows of one kind (`Root` has none).
    pub fn rows(&self, kind: Kind) -> &[Row] {
        match kind {
            Kind::Root => &[],
            Kind::Radio => &self.radios,
            Kind::Ssid => &self.ssids,
            Kind::AccessPoint => &self.access_points,
            Kind::Station => &self.stations,
            Kind::EndPoint => &self.endpoints,
            Kind::Profile => &self.profiles,
        }
    }

    /// Mutable rows of one kind (`Root` has none).
    pub fn rows_mut(&mut self, kind: Kind) -> Option<&mut Vec<Row>> {
        match kind {
            Kind::Root => None,
            Kind::Radio => Some(&mut self.radios),
            Kind::Ssid => Some(&mut self.ssids),
            Kind::AccessPoint => Some(&mut self.access_points),
            Kind::Station => Some(&mut self.stations),
            Kind::EndPoint => Some(&mut self.endpoints),
            Kind::Profile => Some(&mut self.profiles),
        }
    }

    /// The row of `kind` with `key`.
    pub fn row(&self, kind: Kind, key: &str) -> Option<&Row> {
        self.rows(kind).iter().find(|r| r.key == key)
    }

    /// The keys of the rows of `kind` under the parent `parent` (`""` for top-level tables).
    pub fn keys(&self, kind: Kind, parent: &str) -> Vec<String> {
        self.rows(kind).iter().filter(|r| r.parent == parent).map(|r| r.key.clone()).collect()
    }

    /// Applies staged changes to the cached values (what a Get shows until the next refresh).
    pub fn apply(&mut self, changes: &[Change]) {
        for c in changes {
            if is_secret(&c.name) {
                continue;
            }
            let row =
                self.rows_mut(c.kind).and_then(|rows| rows.iter_mut().find(|r| r.key == c.key));
            if let Some(row) = row {
                row.set(&c.name, c.value.clone());
            }
        }
    }
}

/// Whether a relative name is a write-only secret, never cached nor returned.
pub fn is_secret(name: &str) -> bool {
    matches!(name, "Security.KeyPassphrase" | "Security.PreSharedKey" | "Security.SAEPassphrase")
}

/// One parameter write of a USP transaction, as the backend applies it.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The row's kind.
    pub kind: Kind,
    /// The row's key.
    pub key: String,
    /// The relative TR-181 name (`"Channel"`, `"Security.KeyPassphrase"`).
    pub name: String,
    /// The new value (references as keys, see the module doc).
    pub value: Value,
}

/// Why a backend could not do something. Every variant carries a text for the log line and the
/// USP error message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WifiError {
    /// A program or socket of the platform failed (`uci`, `ubus`, the state file).
    Io(String),
    /// The platform answered something this backend cannot read (bad UCI file, bad JSON).
    Malformed(String),
    /// The platform lacks what was asked (no `iwinfo` object, no such radio).
    Unavailable(String),
}

impl fmt::Display for WifiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WifiError::Io(m) => write!(f, "I/O error: {m}"),
            WifiError::Malformed(m) => write!(f, "malformed data: {m}"),
            WifiError::Unavailable(m) => write!(f, "not available: {m}"),
        }
    }
}

impl std::error::Error for WifiError {}

/// The channels TR-181 / IEEE 802.11 allow in a band (20 MHz primary channels).
pub fn band_channels(band: &str) -> Vec<u32> {
    match band {
        "2.4GHz" => (1..=14).collect(),
        "5GHz" => {
            let mut c: Vec<u32> = (36..=64).step_by(4).collect();
            c.extend((100..=144).step_by(4));
            c.extend((149..=177).step_by(4));
            c
        }
        "6GHz" => (1..=233).step_by(4).collect(),
        _ => Vec::new(),
    }
}

/// The band of a channel number and frequency in MHz (`None` for an unknown frequency).
pub fn band_of_mhz(mhz: u64) -> Option<&'static str> {
    match mhz {
        2400..=2500 => Some("2.4GHz"),
        5150..=5900 => Some("5GHz"),
        5925..=7125 => Some("6GHz"),
        _ => None,
    }
}

/// Parses a comma-separated list of numbers and ranges (`"1-11,13"`), ignoring bad items.
pub fn parse_channel_list(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b.min(a.saturating_add(300)));
                }
            }
            None => out.extend(item.parse::<u32>().ok()),
        }
    }
    out
}

/// A comma-separated list of numbers.
pub fn join_numbers(items: &[u32]) -> String {
    items.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_lists_parse_ranges_and_skip_garbage() {
        assert_eq!(parse_channel_list("1-3,6, x,11"), vec![1, 2, 3, 6, 11]);
        assert_eq!(parse_channel_list(""), Vec::<u32>::new());
        assert_eq!(parse_channel_list("9-1"), Vec::<u32>::new());
        assert!(band_channels("5GHz").contains(&36) && !band_channels("5GHz").contains(&37));
        assert_eq!(band_of_mhz(2437), Some("2.4GHz"));
    }

    #[test]
    fn staged_changes_update_the_cache_but_never_with_secrets() {
        let mut s = Snapshot { radios: vec![Row::new("radio0")], ..Snapshot::default() };
        s.access_points.push(Row::new("ap0"));
        s.apply(&[
            Change {
                kind: Kind::Radio,
                key: "radio0".into(),
                name: "Channel".into(),
                value: Value::UnsignedInt(6),
            },
            Change {
                kind: Kind::AccessPoint,
                key: "ap0".into(),
                name: "Security.KeyPassphrase".into(),
                value: text("secret12"),
            },
        ]);
        assert_eq!(s.radios[0].number("Channel"), 6);
        assert!(s.access_points[0].values.is_empty());
    }
}
