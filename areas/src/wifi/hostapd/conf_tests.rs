//! Persistent writes: hostapd's configuration files edited (comments and unknown lines kept,
//! atomically), read back, restored when hostapd refuses, and loaded by a restarted peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use super::conf;
use super::peer::{HostapdPeer, PeerState};
use super::tests::{backend, wait};
use crate::testutil::Lab;
use crate::wifi::tests::{model_with, poll_until};

/// phy0's file, as a distribution ships it: comments, a setting the agent does not know,
/// two BSSes.
const PHY0: &str = "\
# hostapd for the 2.4 GHz radio
interface=wlan0
driver=nl80211
ctrl_interface=/var/run/hostapd
hw_mode=g
channel=6
ssid=lab-2g
# the home network's passphrase
wpa=2
wpa_key_mgmt=WPA-PSK
wpa_passphrase=lab-secret-1
wps_state=2
bridge=br-lan

# guests
bss=wlan0-1
ssid=lab-guest
wps_state=0
";

const PHY1: &str = "\
interface=wlan1
hw_mode=a
channel=36
ssid=lab-5g
wpa=2
wpa_key_mgmt=WPA-PSK SAE
wpa_passphrase=lab-secret-1
wps_state=2
";

fn conf_dir(dir: &Path) -> PathBuf {
    let d = dir.join("hostapd-conf");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("phy0.conf"), PHY0).unwrap();
    std::fs::write(d.join("phy1.conf"), PHY1).unwrap();
    std::fs::write(d.join("notes.txt"), "interface=wlan9\n").unwrap();
    d
}

fn setup(dir: &Path) -> (HostapdPeer, Lab, PathBuf) {
    let confs = conf_dir(dir);
    let peer = HostapdPeer::start(&dir.join("hostapd"), PeerState::two_radios()).unwrap();
    (peer, model_with(Box::new(backend(dir))), confs)
}

#[test]
fn sections_are_found_read_and_edited_with_comments_kept() {
    assert_eq!(conf::interfaces(PHY0), ["wlan0", "wlan0-1"]);
    assert_eq!(conf::get(PHY0, "wlan0", "ssid").as_deref(), Some("lab-2g"));
    assert_eq!(conf::get(PHY0, "wlan0-1", "ssid").as_deref(), Some("lab-guest"));
    assert_eq!(conf::get(PHY0, "wlan0-1", "bridge"), None, "wlan0's line is not wlan0-1's");
    let text = conf::set(PHY0, "wlan0", "ssid", "new name").unwrap();
    let text = conf::set(&text, "wlan0-1", "ap_isolate", "1").unwrap();
    let text = conf::set(&text, "wlan0", "max_num_sta", "10").unwrap();
    let want = PHY0
        .replace("ssid=lab-2g", "ssid=new name")
        .replace("bridge=br-lan\n", "bridge=br-lan\nmax_num_sta=10\n")
        .replace("wps_state=0\n", "wps_state=0\nap_isolate=1\n");
    assert_eq!(text, want);
    assert_eq!(conf::get(&text, "wlan0-1", "ap_isolate").as_deref(), Some("1"));
    assert!(conf::set(PHY0, "wlan0", "ssid", "two\nlines").is_err());
    // ssid2= and ssid= (wpa_psk= and wpa_passphrase=) set the same: the last line wins.
    let quoted = "interface=wlan0\nssid2=\"old\"\nwpa_psk=00ff\n#ssid=commented\n";
    let text = conf::set(quoted, "wlan0", "ssid", "new").unwrap();
    let text = conf::set(&text, "wlan0", "wpa_passphrase", "a-passphrase").unwrap();
    assert_eq!(text, "interface=wlan0\nssid=new\nwpa_passphrase=a-passphrase\n#ssid=commented\n");
    assert!(conf::set(PHY0, "wlan7", "ssid", "x").is_err());
    let dir = tempfile::tempdir().unwrap();
    let d = conf_dir(dir.path());
    let index = conf::index(&d);
    assert_eq!(index.get("wlan0-1"), Some(&d.join("phy0.conf")));
    assert_eq!(index.get("wlan1"), Some(&d.join("phy1.conf")));
    assert_eq!(index.get("wlan9"), None, "only *.conf files");
}

#[test]
fn atomic_writes_keep_the_file_mode_and_leave_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = conf_dir(dir.path()).join("phy0.conf");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    conf::write_atomic(&path, "interface=wlan0\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "interface=wlan0\n");
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().flatten().collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let link = dir.path().join("link.conf");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    conf::write_atomic(&link, "interface=wlan5\n").unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "interface=wlan5\n");
    let e = conf::write_atomic(&dir.path().join("none/x.conf"), "x").unwrap_err();
    assert!(e.to_string().contains("none/x.conf"), "{e}");
}

#[test]
fn a_set_persists_in_the_file_and_a_restarted_hostapd_that_loads_it_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut peer, mut t, confs) = setup(dir.path());
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.SSIDAdvertisementEnabled"), "true");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.MaxAssociatedDevices"), "2007");
    t.set("Device.WiFi.SSID.1.", &[("SSID", "from-usp")]).unwrap();
    t.set("Device.WiFi.Radio.1.", &[("Channel", "11")]).unwrap();
    t.set(
        "Device.WiFi.AccessPoint.2.",
        &[
            ("SSIDAdvertisementEnabled", "false"),
            ("IsolationEnable", "true"),
            ("WMMEnable", "false"),
        ],
    )
    .unwrap();
    t.set("Device.WiFi.AccessPoint.3.", &[("MaxAssociatedDevices", "12")]).unwrap();
    assert!(wait(|| peer.commands("wlan1").contains(&"RELOAD".to_owned())));
    let phy0 = std::fs::read_to_string(confs.join("phy0.conf")).unwrap();
    let want =
        PHY0.replace("ssid=lab-2g", "ssid=from-usp").replace("channel=6", "channel=11").replace(
            "wps_state=0\n",
            "wps_state=0\nignore_broadcast_ssid=1\nap_isolate=1\nwmm_enabled=0\n",
        );
    assert_eq!(phy0, want, "the new values, every comment and unknown line kept");
    let phy1 = std::fs::read_to_string(confs.join("phy1.conf")).unwrap();
    assert_eq!(phy1, format!("{PHY1}max_num_sta=12\n"));
    let guest = peer.state().bsses[1].clone();
    assert_eq!((guest.hidden, guest.isolate, guest.wmm), (1, 1, 0), "applied at runtime too");
    assert_eq!(peer.state().bsses[2].max_sta, 12);

    // hostapd restarts and reads its files: what it reports is what was set.
    for ifname in ["wlan0", "wlan0-1", "wlan1"] {
        peer.crash(ifname);
    }
    drop(peer);
    let mut state = PeerState::two_radios();
    for file in ["phy0.conf", "phy1.conf"] {
        let refused = state.load_conf(&std::fs::read_to_string(confs.join(file)).unwrap());
        assert!(refused.is_empty(), "{refused:?}");
    }
    let restarted = HostapdPeer::start(&dir.path().join("hostapd"), state).unwrap();
    assert_eq!(restarted.state().bsses[1].hidden, 1);
    let mut t = model_with(Box::new(backend(dir.path())));
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "from-usp");
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "11");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.SSIDAdvertisementEnabled"), "false");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.IsolationEnable"), "true");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.WMMEnable"), "false");
    assert_eq!(t.get("Device.WiFi.AccessPoint.3.MaxAssociatedDevices"), "12");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.IsolationEnable"), "false");
}

#[test]
fn a_bss_is_disabled_in_its_file_and_stays_stopped_when_a_sibling_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t, confs) = setup(dir.path());
    t.set("Device.WiFi.AccessPoint.2.", &[("Enable", "false")]).unwrap();
    assert!(wait(|| !peer.state().bsses[1].beaconing));
    let cmds = peer.commands("wlan0-1");
    let tail: Vec<&str> = cmds.iter().rev().take(3).rev().map(String::as_str).collect();
    assert_eq!(tail, ["SET start_disabled 1", "RELOAD", "STOP_AP"]);
    let phy0 = std::fs::read_to_string(confs.join("phy0.conf")).unwrap();
    assert_eq!(conf::get(&phy0, "wlan0-1", "start_disabled").as_deref(), Some("1"));
    // wlan0's RELOAD restarts every BSS of the radio: wlan0-1 is stopped again.
    t.set("Device.WiFi.SSID.1.", &[("SSID", "sibling")]).unwrap();
    assert!(wait(|| peer.commands("wlan0-1").iter().filter(|c| *c == "STOP_AP").count() == 2));
    assert!(!peer.state().bsses[1].beaconing);
    assert!(peer.state().bsses[0].beaconing);
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.Enable"), "false");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.Status"), "Disabled");
    assert_eq!(t.get("Device.WiFi.SSID.2.Enable"), "false");
    assert_eq!(t.get("Device.WiFi.SSID.2.Status"), "Down");
    t.set("Device.WiFi.SSID.2.", &[("Enable", "true")]).unwrap();
    assert!(wait(|| peer.commands("wlan0-1").last().is_some_and(|c| c == "UPDATE_BEACON")));
    assert!(peer.state().bsses[1].beaconing);
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.Status"), "Enabled");
}

#[test]
fn when_hostapd_refuses_the_file_is_put_back_and_without_a_file_nothing_is_half_done() {
    let dir = tempfile::tempdir().unwrap();
    let (mut peer, mut t, confs) = setup(dir.path());
    peer.crash("wlan0-1"); // gone after the first refresh: its commands fail.
    t.set("Device.WiFi.AccessPoint.2.", &[("IsolationEnable", "true")]).unwrap();
    poll_until(&mut t, |_| false);
    assert_eq!(std::fs::read_to_string(confs.join("phy0.conf")).unwrap(), PHY0);
    let leftovers = std::fs::read_dir(&confs).unwrap().flatten().count();
    assert_eq!(leftovers, 3, "no temporary file left");

    std::fs::remove_file(confs.join("phy1.conf")).unwrap();
    poll_until(&mut t, |_| false);
    t.set("Device.WiFi.AccessPoint.3.", &[("IsolationEnable", "true")]).unwrap();
    poll_until(&mut t, |_| false);
    let log = peer.commands("wlan1");
    assert!(!log.iter().any(|c| c.starts_with("SET")), "{log:?}");
    // What hostapd reports itself is still written at runtime, without a file.
    t.set("Device.WiFi.SSID.3.", &[("SSID", "runtime-only")]).unwrap();
    assert!(wait(|| peer.commands("wlan1").contains(&"SET ssid runtime-only".to_owned())));
}

#[test]
fn centre_channels_and_secondary_offsets_follow_the_channel() {
    use super::retune::center;
    assert_eq!(center("5GHz", 36, 80), (42, 1));
    assert_eq!(center("5GHz", 40, 80), (42, -1));
    assert_eq!(center("5GHz", 48, 80), (42, -1));
    assert_eq!(center("5GHz", 153, 80), (155, -1));
    assert_eq!(center("5GHz", 165, 80), (171, 1));
    assert_eq!(center("5GHz", 100, 160), (114, 1));
    assert_eq!(center("5GHz", 44, 40), (46, 1));
    assert_eq!(center("6GHz", 5, 80), (7, -1));
    assert_eq!(center("2.4GHz", 6, 40), (8, 1));
    assert_eq!(center("2.4GHz", 11, 40), (9, -1));
    assert_eq!(center("2.4GHz", 11, 20), (11, 0));
}

#[test]
fn a_5ghz_channel_change_keeps_80mhz_and_vht_and_its_file_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (peer, mut t, confs) = setup(dir.path());
    let phy1 = format!(
        "{PHY1}ieee80211n=1\nieee80211ac=1\nht_capab=[HT40+][SHORT-GI-20]\n\
         vht_oper_chwidth=1\nvht_oper_centr_freq_seg0_idx=42\n"
    );
    std::fs::write(confs.join("phy1.conf"), &phy1).unwrap();
    t.set("Device.WiFi.Radio.2.", &[("Channel", "153")]).unwrap();
    let switch = "CHAN_SWITCH 5 5765 center_freq1=5775 sec_channel_offset=-1 bandwidth=80 ht vht";
    assert!(
        wait(|| peer.commands("wlan1").contains(&switch.to_owned())),
        "{:?}",
        peer.commands("wlan1")
    );
    let file = std::fs::read_to_string(confs.join("phy1.conf")).unwrap();
    let want = phy1
        .replace("channel=36", "channel=153")
        .replace("[HT40+]", "[HT40-]")
        .replace("seg0_idx=42", "seg0_idx=155");
    assert_eq!(file, want);
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.Radio.2.Channel"), "153");
    assert_eq!(t.get("Device.WiFi.Radio.2.CurrentOperatingChannelBandwidth"), "80MHz");
    assert_eq!(t.get("Device.WiFi.Radio.2.OperatingStandards"), "a,n,ac");
}
