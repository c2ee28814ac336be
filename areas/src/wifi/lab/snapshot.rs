//! The lab's runtime values: capabilities, status, counters that grow with time, stations,
//! and the neighbours a scan "hears".

use std::time::Instant;

use usp_datamodel::value::Value;

use super::{MODES, RADIOS, STA, Sim};
use crate::wifi::model::{Kind, Row, Snapshot, band_channels, join_numbers, text};

impl Sim {
    /// The whole state now.
    pub(super) fn snapshot(&self) -> Snapshot {
        let secs = self.started.elapsed().as_secs().max(1);
        let mut snap = Snapshot { reset_counter: self.reset_counter, ..Snapshot::default() };
        for (i, (key, ifname, band, _, standards, widths)) in RADIOS.iter().enumerate() {
            let mut row = self.configured(Kind::Radio, key);
            let channel = row.number("Channel");
            let on = row.values.get("Enable") == Some(&Value::Boolean(true));
            let status = if on { "Up" } else { "Down" };
            let configured_band = row.text("OperatingFrequencyBand").to_owned();
            let width = row.text("OperatingChannelBandwidth").to_owned();
            row = row
                .with("Status", text(status))
                .with("Name", text(ifname))
                .with("SupportedFrequencyBands", text(band))
                .with("SupportedStandards", text(standards))
                .with("PossibleChannels", text(&join_numbers(&band_channels(&configured_band))))
                .with("ChannelsInUse", text(&channel.to_string()))
                .with("AutoChannelSupported", Value::Boolean(true))
                .with("SupportedOperatingChannelBandwidths", text(widths))
                .with(
                    "CurrentOperatingChannelBandwidth",
                    text(if width == "Auto" { "20MHz" } else { &width }),
                )
                .with("TransmitPowerSupported", text("25,50,75,100"))
                .with("MaxSupportedSSIDs", Value::UnsignedInt(8))
                .with("MaxSupportedAssociations", Value::UnsignedInt(64))
                .with("MaxBitRate", Value::UnsignedInt([574, 2402, 5765][i]))
                .with("BeaconPeriod", Value::UnsignedInt(100))
                .with("DTIMPeriod", Value::UnsignedInt(2))
                .with("LastChange", Value::UnsignedInt(u32::try_from(secs).unwrap_or(u32::MAX)));
            counters(&mut row, secs * (i as u64 + 1) * 1500);
            row.set("Stats.Noise", Value::Int(-92 + i as i32 * 3));
            snap.radios.push(row);
            self.interface(&mut snap, i, secs);
        }
        self.station_mode(&mut snap, secs);
        for (ap, mac, since) in &self.stations {
            snap.stations.push(station(ap, mac, *since));
        }
        snap
    }

    /// A row of the configured values of `kind` `key`.
    fn configured(&self, kind: Kind, key: &str) -> Row {
        let mut row = Row::new(key);
        if let Some(values) = self.config.get(&(kind, key.to_owned())) {
            row.values.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        row
    }

    /// The station-mode interface: its SSID (named as the active profile's), its EndPoint
    /// linked to the profile it uses, and its profiles.
    fn station_mode(&self, snap: &mut Snapshot, secs: u64) {
        let endpoint = self.configured(Kind::EndPoint, STA);
        let on = endpoint.values.get("Enable") == Some(&Value::Boolean(true));
        let active = endpoint.text("ProfileReference").to_owned();
        let profiles: Vec<Row> = self
            .config
            .keys()
            .filter(|(k, key)| *k == Kind::Profile && key.starts_with(STA))
            .map(|(_, key)| {
                let mut p = self.configured(Kind::Profile, key);
                let enabled = p.values.get("Enable") == Some(&Value::Boolean(true));
                let status = match (enabled, on && *key == active) {
                    (false, _) => "Disabled",
                    (true, true) => "Active",
                    (true, false) => "Available",
                };
                p.set("Status", text(status));
                p.parent = STA.to_owned();
                p
            })
            .collect();
        let uplink = profiles.iter().find(|p| p.key == active).map(|p| p.text("SSID").to_owned());
        let mut ssid = self
            .configured(Kind::Ssid, STA)
            .with("Status", text(if on { "Up" } else { "Down" }))
            .with("Name", text("wlan1-sta"))
            .with("SSID", text(&uplink.unwrap_or_default()))
            .with("BSSID", text("06:aa:bb:cc:00:03"))
            .with("MACAddress", text("02:11:22:33:44:20"));
        counters(&mut ssid, secs * 700);
        snap.ssids.push(ssid);
        let wobble = i32::try_from(secs % 5).unwrap_or(0);
        let endpoint = endpoint
            .with("Status", text(if on { "Enabled" } else { "Disabled" }))
            .with("SSIDReference", text(STA))
            .with("Security.ModesSupported", text(MODES))
            .with("Stats.SignalStrength", Value::Int(if on { -55 - wobble } else { 0 }))
            .with("Stats.LastDataDownlinkRate", Value::UnsignedInt(if on { 866_700 } else { 0 }))
            .with("Stats.LastDataUplinkRate", Value::UnsignedInt(if on { 650_000 } else { 0 }));
        snap.endpoints.push(endpoint);
        snap.profiles.extend(profiles);
    }

    /// The SSID and access point of radio `i`.
    fn interface(&self, snap: &mut Snapshot, i: usize, secs: u64) {
        let key = format!("ssid{i}");
        let mac = format!("02:11:22:33:44:{:02x}", 0x10 + i);
        let mut ssid = self.configured(Kind::Ssid, &key);
        let up = ssid.values.get("Enable") == Some(&Value::Boolean(true));
        ssid = ssid
            .with("Status", text(if up { "Up" } else { "Down" }))
            .with("Name", text(&format!("wlan{i}")))
            .with("BSSID", text(&mac))
            .with("MACAddress", text(&mac));
        counters(&mut ssid, secs * (i as u64 + 1) * 1200);
        snap.ssids.push(ssid);
        let mut ap = self.configured(Kind::AccessPoint, &key);
        ap = ap
            .with("Status", text(if up { "Enabled" } else { "Disabled" }))
            .with("WMMCapability", Value::Boolean(true))
            .with("UAPSDCapability", Value::Boolean(true))
            .with("Security.ModesSupported", text(MODES))
            .with("WPS.ConfigMethodsSupported", text("PushButton"));
        let wps = ap.values.get("WPS.Enable") == Some(&Value::Boolean(true));
        ap = ap
            .with("WPS.ConfigMethodsEnabled", text(if wps { "PushButton" } else { "" }))
            .with("WPS.Status", text(if wps { "Configured" } else { "Disabled" }))
            .with("WPS.Version", text("2.0"));
        snap.access_points.push(ap);
    }
}

/// Byte and packet counters that grow with `bytes`.
fn counters(row: &mut Row, bytes: u64) {
    row.set("Stats.BytesSent", Value::UnsignedLong(bytes));
    row.set("Stats.BytesReceived", Value::UnsignedLong(bytes / 3));
    row.set("Stats.PacketsSent", Value::UnsignedLong(bytes / 1000));
    row.set("Stats.PacketsReceived", Value::UnsignedLong(bytes / 3000));
    row.set("Stats.ErrorsSent", Value::UnsignedInt(u32::try_from(bytes / 10_000_000).unwrap_or(0)));
}

/// One associated station.
fn station(ap: &str, mac: &str, since: Instant) -> Row {
    let secs = since.elapsed().as_secs();
    let wobble = i32::try_from(secs % 7).unwrap_or(0);
    let mut row = Row::new(mac)
        .with("MACAddress", text(mac))
        .with("OperatingStandard", text("ax"))
        .with("AuthenticationState", Value::Boolean(true))
        .with("Active", Value::Boolean(true))
        .with("SignalStrength", Value::Int(-48 - wobble))
        .with("Noise", Value::Int(-92))
        .with("SNR", Value::UnsignedInt(u32::try_from(44 - wobble).unwrap_or(0)))
        .with("LastDataDownlinkRate", Value::UnsignedInt(573_500))
        .with("LastDataUplinkRate", Value::UnsignedInt(286_800))
        .with("Retransmissions", Value::UnsignedInt(u32::try_from(secs % 50).unwrap_or(0)));
    row.parent = ap.to_owned();
    row.set("Stats.BytesSent", Value::UnsignedLong(secs * 40_000));
    row.set("Stats.BytesReceived", Value::UnsignedLong(secs * 9_000));
    row.set("Stats.PacketsSent", Value::UnsignedLong(secs * 40));
    row.set("Stats.PacketsReceived", Value::UnsignedLong(secs * 12));
    row
}

/// What the lab radios hear around them.
pub(super) fn neighbours() -> Vec<Row> {
    let bss = |radio: &str,
               ssid: &str,
               bssid: &str,
               channel: u32,
               band: &str,
               signal: i32,
               mode: &str| {
        Row::new(bssid)
            .with("Radio", text(radio))
            .with("SSID", text(ssid))
            .with("BSSID", text(bssid))
            .with("Mode", text("Infrastructure"))
            .with("Channel", Value::UnsignedInt(channel))
            .with("SignalStrength", Value::Int(signal))
            .with("SecurityModeEnabled", text(mode))
            .with("EncryptionMode", text("AES"))
            .with("OperatingFrequencyBand", text(band))
            .with("OperatingStandards", text(if band == "2.4GHz" { "n" } else { "ac" }))
            .with(
                "OperatingChannelBandwidth",
                text(if band == "2.4GHz" { "20MHz" } else { "80MHz" }),
            )
            .with("BeaconPeriod", Value::UnsignedInt(100))
            .with("Noise", Value::Int(-95))
            .with("DTIMPeriod", Value::UnsignedInt(1))
    };
    vec![
        bss("radio0", "neighbour-home", "06:aa:bb:cc:00:01", 1, "2.4GHz", -61, "WPA2-Personal"),
        bss("radio0", "cafe-guest", "06:aa:bb:cc:00:02", 11, "2.4GHz", -78, "None"),
        bss("radio1", "neighbour-home-5g", "06:aa:bb:cc:00:03", 44, "5GHz", -70, "WPA3-Personal"),
        bss("radio1", "", "06:aa:bb:cc:00:04", 149, "5GHz", -83, "WPA2-Personal"),
    ]
}
