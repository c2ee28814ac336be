//! The hostapd backend against the hostapd-protocol peer (`peer.rs`: real UNIX datagram
//! sockets in a temporary directory, hostapd's reply formats), through a real data model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use usp_datamodel::error::ErrorCode;

use super::HostapdWifi;
use super::peer::{HostapdPeer, PeerState};
use super::wpa_ctrl::{Ctrl, CtrlError, Message};
use crate::PlatformPaths;
use crate::testutil::Lab;
use crate::wifi::Backend;
use crate::wifi::tests::{count, model_with, poll_until, poll_until_brief, undeclared};

pub(super) fn backend(dir: &std::path::Path) -> HostapdWifi {
    let mut paths = PlatformPaths::system(dir);
    paths.hostapd_dir = dir.join("hostapd");
    paths.hostapd_conf_dir = dir.join("hostapd-conf");
    paths.wpa_supplicant_dir = dir.join("wpa_supplicant");
    let mut b = HostapdWifi::new(&paths);
    b.sys_net = dir.join("sys-class-net");
    b
}

fn setup(dir: &std::path::Path) -> (HostapdPeer, Lab) {
    let peer = HostapdPeer::start(&dir.join("hostapd"), PeerState::two_radios()).unwrap();
    let t = model_with(Box::new(backend(dir)));
    (peer, t)
}

/// Waits (bounded) until `ok` holds.
pub(super) fn wait(mut ok: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    ok()
}

#[test]
fn status_get_config_and_stations_read_as_tr181() {
    let dir = tempfile::tempdir().unwrap();
    for (ifname, tx) in [("wlan0", "1000"), ("wlan0-1", "234")] {
        let stats = dir.path().join("sys-class-net").join(ifname).join("statistics");
        std::fs::create_dir_all(&stats).unwrap();
        std::fs::write(stats.join("tx_bytes"), format!("{tx}\n")).unwrap();
    }
    let (_peer, mut t) = setup(dir.path());
    assert_eq!(t.get("Device.WiFi.SSID.1.Stats.BytesSent"), "1000", "the kernel's counter");
    assert_eq!(t.get("Device.WiFi.Radio.1.Stats.BytesSent"), "1234", "its interfaces' sum");
    assert_eq!(t.get("Device.WiFi.Radio.1.TransmitPower"), "-1");
    assert_eq!(t.get("Device.WiFi.RadioNumberOfEntries"), "2");
    assert_eq!(t.get("Device.WiFi.SSIDNumberOfEntries"), "3");
    assert_eq!(t.get("Device.WiFi.Radio.1.Name"), "phy0");
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "6");
    assert_eq!(t.get("Device.WiFi.Radio.1.OperatingFrequencyBand"), "2.4GHz");
    assert_eq!(t.get("Device.WiFi.Radio.1.OperatingStandards"), "b,g,n");
    assert_eq!(t.get("Device.WiFi.Radio.1.RegulatoryDomain"), "DE ");
    assert_eq!(t.get("Device.WiFi.Radio.1.Status"), "Up");
    assert_eq!(t.get("Device.WiFi.Radio.2.Channel"), "36");
    assert_eq!(t.get("Device.WiFi.Radio.2.OperatingStandards"), "a,n,ac");
    assert_eq!(t.get("Device.WiFi.Radio.2.CurrentOperatingChannelBandwidth"), "80MHz");
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "lab-2g");
    assert_eq!(t.get("Device.WiFi.SSID.1.BSSID"), "02:00:00:00:00:00");
    assert_eq!(t.get("Device.WiFi.SSID.2.Name"), "wlan0-1");
    assert_eq!(t.get("Device.WiFi.SSID.2.LowerLayers"), "Device.WiFi.Radio.1.");
    assert_eq!(t.get("Device.WiFi.SSID.3.LowerLayers"), "Device.WiFi.Radio.2.");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.SSIDReference"), "Device.WiFi.SSID.1.");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.ModeEnabled"), "WPA2-Personal");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.Security.ModeEnabled"), "None");
    assert_eq!(t.get("Device.WiFi.AccessPoint.3.Security.ModeEnabled"), "WPA3-Personal-Transition");
    // GET_CONFIG shows the passphrase; TR-181 passwords read empty.
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"), "");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.Status"), "Configured");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.WPS.Enable"), "false");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.AssociatedDeviceNumberOfEntries"), "1");
    let sta = "Device.WiFi.AccessPoint.1.AssociatedDevice.1.";
    assert_eq!(t.get(&format!("{sta}MACAddress")), "02:00:00:00:01:00");
    assert_eq!(t.get(&format!("{sta}SignalStrength")), "-45");
    assert_eq!(t.get(&format!("{sta}LastDataDownlinkRate")), "130000");
    assert_eq!(t.get(&format!("{sta}LastDataUplinkRate")), "65000");
    assert_eq!(t.get(&format!("{sta}OperatingStandard")), "n");
    assert_eq!(t.get(&format!("{sta}AuthenticationState")), "true");
    assert_eq!(t.get(&format!("{sta}Stats.BytesSent")), "8765");
    assert_eq!(count(&mut t, "Device.WiFi.Radio.[Enable==true].Channel"), 2);
    assert_eq!(count(&mut t, "Device.WiFi.Radio.[OperatingFrequencyBand==\"5GHz\"]."), 1);
    let snap = backend(dir.path()).refresh().unwrap();
    assert_eq!(undeclared(&snap), Vec::<String>::new());
}

#[test]
fn a_transaction_is_set_lines_then_one_reload_and_a_channel_is_a_chan_switch() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t) = setup(dir.path());
    t.set("Device.WiFi.SSID.1.", &[("SSID", "from-usp")]).unwrap();
    t.set("Device.WiFi.AccessPoint.1.Security.", &[("KeyPassphrase", "a-new-secret")]).unwrap();
    assert!(wait(|| peer.commands("wlan0").iter().filter(|c| *c == "RELOAD").count() == 2));
    let sent: Vec<String> = peer
        .commands("wlan0")
        .into_iter()
        .filter(|c| c.starts_with("SET") || c == "RELOAD")
        .collect();
    assert_eq!(sent, ["SET ssid from-usp", "RELOAD", "SET wpa_passphrase a-new-secret", "RELOAD"]);
    assert_eq!(peer.state().bsses[0].passphrase, "a-new-secret");
    t.set("Device.WiFi.AccessPoint.3.Security.", &[("ModeEnabled", "WPA3-Personal")]).unwrap();
    assert!(wait(|| peer.commands("wlan1").contains(&"RELOAD".to_owned())));
    assert_eq!(peer.state().bsses[2].key_mgmt, "SAE");
    assert_eq!(peer.state().bsses[2].mfp, 2);
    t.set("Device.WiFi.Radio.1.", &[("Channel", "11")]).unwrap();
    let switch = "CHAN_SWITCH 5 2462 bandwidth=20 ht";
    assert!(wait(|| peer.commands("wlan0").contains(&switch.to_owned())));
    assert!(wait(|| peer.state().radios[0].channel == 11));
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "from-usp");
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "11");
    assert_eq!(t.get("Device.WiFi.Radio.1.OperatingStandards"), "b,g,n", "still 802.11n");
    assert_eq!(t.get("Device.WiFi.AccessPoint.3.Security.ModeEnabled"), "WPA3-Personal");
    assert!(!peer.commands("wlan0-1").iter().any(|c| c.starts_with("SET")), "only wlan0 written");
    t.set("Device.WiFi.Radio.2.", &[("Enable", "false")]).unwrap();
    assert!(wait(|| peer.state().radios[1].state == "DISABLED"));
    assert_eq!(peer.commands("wlan1").last().map(String::as_str), Some("DISABLE"));
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.Radio.2.Status"), "Down");
    assert_eq!(t.get("Device.WiFi.Radio.2.Enable"), "false");
}

#[test]
fn bad_values_get_7012_and_read_only_ones_7013_and_nothing_reaches_hostapd() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t) = setup(dir.path());
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("Device.WiFi.Radio.1.", &[("Channel", "36")]),
        ("Device.WiFi.Radio.2.", &[("Channel", "14")]),
        ("Device.WiFi.AccessPoint.1.Security.", &[("KeyPassphrase", "short")]),
        ("Device.WiFi.AccessPoint.1.Security.", &[("ModeEnabled", "WEP-64")]),
        ("Device.WiFi.SSID.1.", &[("SSID", "")]),
    ];
    for (obj, values) in cases {
        let e = t.set(obj, values).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue, "{obj} {values:?}: {e}");
    }
    let e = t.set("Device.WiFi.Radio.1.", &[("AutoChannelEnable", "true")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::ParamReadOnly, "{e}");
    poll_until(&mut t, |_| false);
    let log = peer.state().log.clone();
    assert!(!log.iter().any(|(_, c)| c.starts_with("SET") || c.starts_with("CHAN")), "{log:?}");
}

#[test]
fn a_station_event_is_an_object_creation_and_a_leave_a_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t) = setup(dir.path());
    assert!(wait(|| peer.attached("wlan0") == 1), "the backend attaches to every BSS");
    assert!(wait(|| peer.attached("wlan1") == 1));
    peer.join("wlan0", "aa:bb:cc:00:00:42");
    let created =
        |e: &[String]| e.iter().any(|d| d == "+Device.WiFi.AccessPoint.1.AssociatedDevice.2.");
    let events = poll_until_brief(&mut t, created);
    assert!(created(&events), "{events:?}");
    assert_eq!(
        t.get("Device.WiFi.AccessPoint.1.AssociatedDevice.2.MACAddress"),
        "aa:bb:cc:00:00:42"
    );
    peer.leave("wlan0", "02:00:00:00:01:00");
    let deleted =
        |e: &[String]| e.iter().any(|d| d == "-Device.WiFi.AccessPoint.1.AssociatedDevice.1.");
    let events = poll_until_brief(&mut t, deleted);
    assert!(deleted(&events), "{events:?}");
}

#[test]
fn a_stale_socket_is_left_out_and_a_missing_directory_serves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut peer =
        HostapdPeer::start(&dir.path().join("hostapd"), PeerState::two_radios()).unwrap();
    peer.crash("wlan0-1");
    assert!(dir.path().join("hostapd/wlan0-1").exists(), "the stale socket stays");
    let mut t = model_with(Box::new(backend(dir.path())));
    assert_eq!(t.get("Device.WiFi.SSIDNumberOfEntries"), "2");
    assert_eq!(t.get("Device.WiFi.SSID.2.Name"), "wlan1");
    let err = backend(dir.path()).open("wlan0-1").unwrap_err();
    assert!(matches!(err, CtrlError::NotListening(_)), "{err}");
    assert!(err.to_string().contains("wlan0-1"), "{err}");

    let empty = tempfile::tempdir().unwrap();
    let e = backend(empty.path()).refresh().unwrap_err();
    assert!(e.to_string().contains("no hostapd control directory"), "{e}");
    let mut t = model_with(Box::new(backend(empty.path())));
    assert_eq!(t.get("Device.WiFi.RadioNumberOfEntries"), "0");
}

#[test]
fn the_client_skips_events_while_waiting_for_a_reply_and_reads_them_after_attach() {
    let dir = tempfile::tempdir().unwrap();
    let peer = HostapdPeer::start(dir.path(), PeerState::two_radios()).unwrap();
    let ctrl = Ctrl::open(&dir.path().join("wlan0"), Duration::from_secs(2)).unwrap();
    assert_eq!(ctrl.request("PING").unwrap(), "PONG\n");
    ctrl.command("ATTACH").unwrap();
    peer.event("wlan0", "AP-STA-CONNECTED 02:00:00:00:02:00");
    assert!(ctrl.request("STATUS").unwrap().starts_with("state=ENABLED\nphy=phy0\n"));
    peer.event("wlan0", "AP-STA-DISCONNECTED 02:00:00:00:02:00");
    assert_eq!(
        ctrl.next(Duration::from_secs(2)).unwrap(),
        Some(Message::Event("AP-STA-DISCONNECTED 02:00:00:00:02:00".into()))
    );
    let e = ctrl.request("NO_SUCH_COMMAND").unwrap_err();
    assert!(matches!(e, CtrlError::Refused(_)), "{e}");
    let e = ctrl.command("SET wpa_passphrase short").unwrap_err();
    assert!(e.to_string().contains("FAIL"), "{e}");
}

#[test]
fn wps_push_button_is_wps_pbc_where_hostapd_has_wps() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t) = setup(dir.path());
    let out =
        crate::wifi::tests::run_async(&mut t, "Device.WiFi.AccessPoint.1.WPS.InitiateWPSPBC()");
    assert_eq!(out.unwrap(), [("Status".to_owned(), "Success".to_owned())]);
    assert!(peer.commands("wlan0").contains(&"WPS_PBC".to_owned()));
    let e = crate::wifi::tests::run_async(&mut t, "Device.WiFi.AccessPoint.2.WPS.InitiateWPSPBC()")
        .unwrap_err();
    assert!(e.contains("WPS_PBC: FAIL"), "{e}");
    t.set("Device.WiFi.AccessPoint.2.WPS.", &[("Enable", "true")]).unwrap();
    assert!(wait(|| peer.commands("wlan0-1").contains(&"SET wps_state 2".to_owned())));
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.WPS.Status"), "Configured");
}

#[test]
fn nl80211_facts_replace_the_operating_ones_and_a_scan_without_it_fails_clearly() {
    use crate::wifi::nl80211::{Band, Wiphy};
    let status = super::parse::fields("state=ENABLED\nphy=phy0\nfreq=2437\nchannel=6\nhw_mode=g\n");
    let mut row = super::radio_row("phy0", &status);
    assert_eq!(row.text("PossibleChannels"), "1,2,3,4,5,6,7,8,9,10,11,12,13,14");
    let band = |name, channels: Vec<u32>, ht, vht, he| Band { name, channels, ht, vht, he };
    let w = Wiphy {
        index: 0,
        name: "phy0".into(),
        bands: vec![
            band("2.4GHz", (1..=11).collect(), true, false, true),
            band("5GHz", vec![36, 40, 44, 48], true, true, true),
        ],
    };
    super::wiphy_facts(&mut row, &w);
    assert_eq!(row.text("SupportedFrequencyBands"), "2.4GHz,5GHz");
    assert_eq!(row.text("PossibleChannels"), "1,2,3,4,5,6,7,8,9,10,11");
    assert_eq!(row.text("SupportedStandards"), "b,g,a,n,ac,ax");
    assert_eq!(row.text("SupportedOperatingChannelBandwidths"), "20MHz,40MHz");

    let dir = tempfile::tempdir().unwrap();
    let (_peer, mut t) = setup(dir.path());
    let e = crate::wifi::tests::run_async(&mut t, "Device.WiFi.NeighboringWiFiDiagnostic()")
        .unwrap_err();
    assert!(e.contains("nl80211 is not available") || e.contains("no interface wlan0"), "{e}");
}

#[test]
fn after_hostapd_restarts_the_backend_attaches_again_and_hears_stations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut peer, mut t) = setup(dir.path());
    assert!(wait(|| peer.attached("wlan0") == 1));
    peer.crash("wlan0");
    let mut state = PeerState::two_radios();
    state.bsses.retain(|b| b.ifname == "wlan0");
    let restarted = HostapdPeer::start(&dir.path().join("hostapd"), state).unwrap();
    assert!(wait(|| restarted.attached("wlan0") == 1), "attached to the new hostapd");
    restarted.join("wlan0", "aa:bb:cc:00:00:77");
    let created = |e: &[String]| {
        e.iter().any(|d| d.starts_with("+Device.WiFi.AccessPoint.1.AssociatedDevice."))
    };
    let events = poll_until_brief(&mut t, created);
    assert!(created(&events), "{events:?}");
    assert_eq!(
        count(
            &mut t,
            "Device.WiFi.AccessPoint.1.AssociatedDevice.[MACAddress==\"aa:bb:cc:00:00:77\"]."
        ),
        1
    );
}

#[test]
fn a_refresh_costs_three_requests_per_bss_and_one_per_station() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = PeerState::two_radios();
    for i in 0..63u32 {
        let mut s = state.bsses[0].stations[0].clone();
        s.mac = format!("02:00:00:00:{:02x}:{:02x}", 2 + i / 256, i % 256);
        state.bsses[i as usize % 3].stations.push(s);
    }
    let peer = HostapdPeer::start(&dir.path().join("hostapd"), state).unwrap();
    let mut b = backend(dir.path());
    let before = peer.state().log.len();
    let started = Instant::now();
    let snap = b.refresh().unwrap();
    let took = started.elapsed();
    let requests = peer.state().log.len() - before;
    assert_eq!(snap.stations.len(), 64);
    // STATUS, GET_CONFIG, STA-FIRST per BSS; a STA-NEXT per station (the last one answers "").
    assert_eq!(requests, 3 * 3 + 64, "{:?}", peer.state().log);
    println!("hostapd refresh: 3 BSS, 64 stations: {requests} requests in {took:?}");
}

#[test]
fn reset_restarts_each_radio_once_and_security_reset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t) = setup(dir.path());
    let (_, outcome) = t.operate("Device.WiFi.Reset()", &[]).unwrap();
    assert_eq!(outcome, usp_datamodel::plugin::Outcome::Done(Vec::new()));
    assert!(wait(|| peer.commands("wlan1").contains(&"ENABLE".to_owned())));
    let restarts = |ifname: &str| {
        peer.commands(ifname)
            .into_iter()
            .filter(|c| c == "DISABLE" || c == "ENABLE")
            .collect::<Vec<_>>()
    };
    assert_eq!(restarts("wlan0"), ["DISABLE", "ENABLE"]);
    assert!(restarts("wlan0-1").is_empty(), "once per radio, through its first BSS");
    assert_eq!(restarts("wlan1"), ["DISABLE", "ENABLE"]);
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.ResetCounter"), "1");
    let e = t.operate("Device.WiFi.AccessPoint.1.Security.Reset()", &[]).unwrap_err();
    assert!(e.to_string().contains("no factory security settings"), "{e}");
}
