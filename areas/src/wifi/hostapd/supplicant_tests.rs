//! Station mode against the wpa_supplicant-protocol peer (`supplicant_peer.rs`: real datagram
//! sockets, wpa_supplicant's reply formats), beside the hostapd peer, through a data model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::peer::{HostapdPeer, PeerState};
use super::supplicant;
use super::supplicant_peer::{SupplicantPeer, SupplicantState};
use super::tests::{backend, wait};
use crate::testutil::Lab;
use crate::wifi::tests::{model_with, poll_until};

fn setup(dir: &Path, update_config: bool) -> (HostapdPeer, SupplicantPeer, Lab) {
    let phy = dir.join("sys-class-net/wlan2/phy80211");
    std::fs::create_dir_all(&phy).unwrap();
    std::fs::write(phy.join("name"), "phy1\n").unwrap();
    let hostapd = HostapdPeer::start(&dir.join("hostapd"), PeerState::two_radios()).unwrap();
    let state = SupplicantState::one_station(&dir.join("wpa_supplicant.conf"), update_config);
    let wpa = SupplicantPeer::start(&dir.join("wpa_supplicant"), state).unwrap();
    (hostapd, wpa, model_with(Box::new(backend(dir))))
}

#[test]
fn list_networks_and_get_network_replies_parse() {
    let list = "network id / ssid / bssid / flags\n0\tuplink\tany\t[CURRENT]\n\
                1\tbackup\t02:00:00:00:0a:01\t[DISABLED]\n";
    let nets = supplicant::networks(list);
    assert_eq!(nets.len(), 2);
    assert_eq!(
        (nets[0].id, nets[0].ssid.as_str(), nets[0].flags.as_str()),
        (0, "uplink", "[CURRENT]")
    );
    assert_eq!(nets[1].flags, "[DISABLED]");
    assert!(supplicant::networks("network id / ssid / bssid / flags\n").is_empty());
    assert_eq!(supplicant::unquote("\"caf\u{e9} \"x\"\""), "caf\u{e9} \"x\"");
    assert_eq!(supplicant::unquote("6361666500"), "cafe\u{0}");
    assert_eq!(supplicant::mode("WPA-PSK SAE"), "WPA3-Personal-Transition");
    assert_eq!(supplicant::mode("NONE"), "None");
}

#[test]
fn an_end_point_and_its_profiles_read_from_wpa_supplicant() {
    let dir = tempfile::tempdir().unwrap();
    let (_hostapd, _wpa, mut t) = setup(dir.path(), true);
    assert_eq!(t.get("Device.WiFi.EndPointNumberOfEntries"), "1");
    assert_eq!(t.get("Device.WiFi.SSIDNumberOfEntries"), "4");
    let ep = "Device.WiFi.EndPoint.1.";
    assert_eq!(t.get(&format!("{ep}Status")), "Enabled");
    assert_eq!(t.get(&format!("{ep}SSIDReference")), "Device.WiFi.SSID.4.");
    assert_eq!(t.get(&format!("{ep}ProfileReference")), "Device.WiFi.EndPoint.1.Profile.1.");
    assert_eq!(t.get(&format!("{ep}Stats.SignalStrength")), "-58");
    assert_eq!(t.get(&format!("{ep}Stats.LastDataDownlinkRate")), "866000");
    assert_eq!(t.get("Device.WiFi.SSID.4.Name"), "wlan2");
    assert_eq!(t.get("Device.WiFi.SSID.4.SSID"), "uplink");
    assert_eq!(t.get("Device.WiFi.SSID.4.LowerLayers"), "Device.WiFi.Radio.2.");
    assert_eq!(t.get("Device.WiFi.SSID.4.MACAddress"), "02:00:00:00:02:02");
    assert_eq!(t.get(&format!("{ep}Profile.1.SSID")), "uplink");
    assert_eq!(t.get(&format!("{ep}Profile.1.Status")), "Active");
    assert_eq!(t.get(&format!("{ep}Profile.1.Security.ModeEnabled")), "WPA2-Personal");
    assert_eq!(t.get(&format!("{ep}Profile.1.Security.KeyPassphrase")), "");
    assert_eq!(t.get(&format!("{ep}Profile.2.SSID")), "backup");
    assert_eq!(t.get(&format!("{ep}Profile.2.Enable")), "false");
    assert_eq!(t.get(&format!("{ep}Profile.2.Status")), "Disabled");
    assert_eq!(t.get(&format!("{ep}Profile.2.Priority")), "5");
    assert_eq!(t.get(&format!("{ep}Profile.2.Security.ModeEnabled")), "WPA3-Personal");
}

#[test]
fn profile_writes_are_set_network_then_one_save_config_and_the_file_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let (_hostapd, wpa, mut t) = setup(dir.path(), true);
    let p2 = "Device.WiFi.EndPoint.1.Profile.2.";
    t.set(p2, &[("SSID", "backup-2"), ("Priority", "7"), ("Enable", "true")]).unwrap();
    t.set(&format!("{p2}Security."), &[("KeyPassphrase", "a-new-uplink-key")]).unwrap();
    assert!(wait(|| wpa.commands("wlan2").iter().filter(|c| *c == "SAVE_CONFIG").count() == 2));
    let sent: Vec<String> = wpa
        .commands("wlan2")
        .into_iter()
        .filter(|c| c.starts_with("SET_") || c.ends_with("_NETWORK 1") || c == "SAVE_CONFIG")
        .collect();
    assert_eq!(
        sent,
        [
            "SET_NETWORK 1 ssid \"backup-2\"",
            "SET_NETWORK 1 priority 7",
            "ENABLE_NETWORK 1",
            "SAVE_CONFIG",
            "SET_NETWORK 1 psk \"a-new-uplink-key\"",
            "SAVE_CONFIG",
        ]
    );
    let file = std::fs::read_to_string(dir.path().join("wpa_supplicant.conf")).unwrap();
    assert!(file.contains("\tssid=\"backup-2\"\n\tpsk=\"a-new-uplink-key\"\n"), "{file}");
    assert!(file.contains("\tpriority=7\n"), "{file}");
    t.set("Device.WiFi.EndPoint.1.", &[("ProfileReference", "Device.WiFi.EndPoint.1.Profile.2.")])
        .unwrap();
    assert!(wait(|| wpa.commands("wlan2").contains(&"SELECT_NETWORK 1".to_owned())));
    poll_until(&mut t, |_| false);
    assert_eq!(
        t.get("Device.WiFi.EndPoint.1.ProfileReference"),
        "Device.WiFi.EndPoint.1.Profile.2."
    );
    assert_eq!(t.get(&format!("{p2}SSID")), "backup-2");
    assert_eq!(t.get(&format!("{p2}Status")), "Active");
    assert_eq!(t.get("Device.WiFi.EndPoint.1.Profile.1.Status"), "Disabled");
    assert_eq!(t.get("Device.WiFi.SSID.4.SSID"), "backup-2");
}

#[test]
fn without_update_config_the_change_is_runtime_only_and_bad_values_get_7012() {
    let dir = tempfile::tempdir().unwrap();
    let (_hostapd, wpa, mut t) = setup(dir.path(), false);
    let p1 = "Device.WiFi.EndPoint.1.Profile.1.";
    t.set(p1, &[("Priority", "3")]).unwrap();
    assert!(wait(|| wpa.commands("wlan2").contains(&"SAVE_CONFIG".to_owned())));
    assert!(!dir.path().join("wpa_supplicant.conf").exists(), "SAVE_CONFIG refused");
    assert_eq!(wpa.state().ifaces[0].networks[0].priority, 3);
    // A PSK of 64 characters that are not hex, an SSID of 33: 7012, nothing sent.
    let e = t.set(&format!("{p1}Security."), &[("PreSharedKey", &"z".repeat(64))]).unwrap_err();
    assert_eq!(e.code, usp_datamodel::error::ErrorCode::InvalidValue, "{e}");
    let e = t.set(p1, &[("SSID", "x".repeat(33).as_str())]).unwrap_err();
    assert_eq!(e.code, usp_datamodel::error::ErrorCode::InvalidValue, "{e}");
    poll_until(&mut t, |_| false);
    let log = wpa.commands("wlan2");
    assert!(!log.iter().any(|c| c.contains(" psk ") || c.contains(" ssid ")), "{log:?}");
}

#[test]
fn a_station_only_system_serves_its_end_point_without_hostapd() {
    let dir = tempfile::tempdir().unwrap();
    let state = SupplicantState::one_station(&dir.path().join("w.conf"), true);
    let _wpa = SupplicantPeer::start(&dir.path().join("wpa_supplicant"), state).unwrap();
    let mut t = model_with(Box::new(backend(dir.path())));
    assert_eq!(t.get("Device.WiFi.AccessPointNumberOfEntries"), "0");
    assert_eq!(t.get("Device.WiFi.EndPointNumberOfEntries"), "1");
    assert_eq!(t.get("Device.WiFi.EndPoint.1.Profile.1.SSID"), "uplink");
    assert_eq!(t.get("Device.WiFi.SSID.1.LowerLayers"), "", "no phy80211 link: no radio");
}

#[test]
fn a_connection_event_is_a_value_change_of_the_profile_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (_hostapd, wpa, mut t) = setup(dir.path(), true);
    assert!(wait(|| wpa.attached("wlan2") == 1), "the backend attaches to wpa_supplicant");
    poll_until(&mut t, |_| false);
    wpa.connect("wlan2", 1);
    let want = "Device.WiFi.EndPoint.1.ProfileReference=Device.WiFi.EndPoint.1.Profile.2.";
    let changed = |e: &[String]| e.iter().any(|d| d == want);
    let events = crate::wifi::tests::poll_until_brief(&mut t, changed);
    assert!(changed(&events), "{events:?}");
}
