//! The OpenWrt backend against the real `ubusd`, `ubus` and `uci` (see `crate::openwrt::testbed`),
//! through a real data model. Each test prints `skipped: ...` and returns when the OpenWrt
//! sources are missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use usp_datamodel::error::ErrorCode;
use usp_datamodel::plugin::{DmEvent, Outcome};

use super::OpenWrtWifi;
use crate::openwrt::testbed::{Spec, Testbed};
use crate::testutil::Lab;
use crate::wifi::tests::{count, model_with, poll_until, poll_until_brief};

/// A testbed for `spec` in `dir`, or `None` (printed) when the userland cannot be had.
fn bed(dir: &std::path::Path, spec: &Spec) -> Option<Testbed> {
    Testbed::start_or_skip(dir, spec)
}

fn model(bed: &Testbed) -> Lab {
    model_with(Box::new(OpenWrtWifi::with_programs(&bed.paths, &bed.programs)))
}

#[test]
fn a_set_of_ssid_and_channel_is_one_uci_commit_and_one_reload() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(2, 2, 1)) else { return };
    let mut t = model(&bed);
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "6");
    assert_eq!(t.get("Device.WiFi.Radio.2.OperatingFrequencyBand"), "5GHz");
    assert_eq!(t.get("Device.WiFi.Radio.2.CurrentOperatingChannelBandwidth"), "80MHz");
    assert_eq!(t.get("Device.WiFi.SSID.1.SSID"), "OpenWrt-0");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.ModeEnabled"), "WPA2-Personal");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"), "");
    assert_eq!(t.get("Device.WiFi.Radio.1.Stats.BytesSent"), "5678", "its interfaces' sum");
    assert_eq!(t.get("Device.WiFi.Radio.1.PossibleChannels"), "1,2,3,4,5,6,7,8,9,10,11");
    assert_eq!(
        t.get("Device.WiFi.Radio.2.SupportedOperatingChannelBandwidths"),
        "20MHz,40MHz,80MHz"
    );
    assert_eq!(count(&mut t, "Device.WiFi.Radio.[OperatingFrequencyBand==\"2.4GHz\"].Channel"), 1);
    t.set("Device.WiFi.SSID.1.", &[("SSID", "usp-renamed")]).unwrap_or_else(|e| panic!("{e}"));
    poll_until(&mut t, |_| bed.reloads() >= 1);
    t.set("Device.WiFi.Radio.1.", &[("Channel", "11"), ("OperatingChannelBandwidth", "40MHz")])
        .unwrap();
    poll_until(&mut t, |_| bed.reloads() >= 2);
    assert_eq!(bed.reloads(), 2, "one reload per transaction");
    assert_eq!(bed.uci_get("wireless.default_radio0.ssid").as_deref(), Some("usp-renamed"));
    assert_eq!(bed.uci_get("wireless.radio0.channel").as_deref(), Some("11"));
    assert_eq!(bed.uci_get("wireless.radio0.htmode").as_deref(), Some("HE40"));
    assert_eq!(bed.uci_get("wireless.default_radio0.vendor_extra").as_deref(), Some("kept"));
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "11");
}

#[test]
fn bad_values_get_the_usp_error_and_the_uci_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(2, 2, 0)) else { return };
    let before = std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap();
    let mut t = model(&bed);
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("Device.WiFi.Radio.1.", &[("Channel", "12")]),
        ("Device.WiFi.Radio.1.", &[("Channel", "36")]),
        ("Device.WiFi.Radio.2.", &[("OperatingFrequencyBand", "6GHz")]),
        ("Device.WiFi.Radio.2.", &[("OperatingFrequencyBand", "60GHz")]),
        ("Device.WiFi.AccessPoint.1.Security.", &[("KeyPassphrase", "1234567")]),
        ("Device.WiFi.AccessPoint.2.Security.", &[("ModeEnabled", "WEP-128")]),
    ];
    for (obj, values) in cases {
        let e = t.set(obj, values).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue, "{obj} {values:?}: {e}");
    }
    poll_until(&mut t, |_| false);
    assert_eq!(bed.reloads(), 0);
    assert_eq!(std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap(), before);
}

#[test]
fn a_broken_uci_file_serves_no_wifi_and_nothing_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(1, 1, 0)) else { return };
    std::fs::write(bed.paths.uci_dir.join("wireless"), "config wifi-device 'radio0\n\toption x\n")
        .unwrap();
    let mut t = model(&bed);
    assert_eq!(t.get("Device.WiFi.RadioNumberOfEntries"), "0");
    assert_eq!(t.get("Device.WiFi.SSIDNumberOfEntries"), "0");
    assert!(t.get("Device.DeviceInfo.SerialNumber").starts_with("LAB"), "the rest is served");
}

#[test]
fn without_hostapd_objects_stations_come_from_iwinfo() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::router(1, 1, 2);
    spec.hostapd = false;
    let Some(bed) = bed(dir.path(), &spec) else { return };
    let mut t = model(&bed);
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.AssociatedDeviceNumberOfEntries"), "2");
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.AssociatedDevice.1.SignalStrength"), "-55");
    assert_eq!(
        t.get("Device.WiFi.AccessPoint.1.AssociatedDevice.1.LastDataDownlinkRate"),
        "576500"
    );
}

#[test]
fn a_station_joining_is_an_object_creation_from_the_hostapd_event() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(1, 1, 1)) else { return };
    let mut t = model(&bed);
    assert_eq!(count(&mut t, "Device.WiFi.AccessPoint.1.AssociatedDevice.*."), 1);
    // The subscription starts on the worker; give it a moment, then join.
    std::thread::sleep(std::time::Duration::from_millis(300));
    bed.join("wlan0", "aa:bb:cc:00:00:01");
    let created =
        |e: &[String]| e.iter().any(|d| d == "+Device.WiFi.AccessPoint.1.AssociatedDevice.2.");
    let events = poll_until_brief(&mut t, created);
    assert!(created(&events), "{events:?}");
    assert_eq!(
        t.get("Device.WiFi.AccessPoint.1.AssociatedDevice.2.MACAddress"),
        "aa:bb:cc:00:00:01"
    );
}

#[test]
fn the_neighbour_scan_completes_with_iwinfo_results() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(2, 2, 0)) else { return };
    let mut t = model(&bed);
    let (handle, outcome) = t.operate("Device.WiFi.NeighboringWiFiDiagnostic()", &[]).unwrap();
    assert_eq!(outcome, Outcome::Running);
    let done = |e: &[DmEvent]| e.iter().any(|e| matches!(e, DmEvent::OperationComplete { .. }));
    let events = poll_until(&mut t, done);
    let args = events
        .iter()
        .find_map(|e| match e {
            DmEvent::OperationComplete { handle: h, result } if *h == handle => {
                Some(result.clone())
            }
            _ => None,
        })
        .expect("completed")
        .expect("succeeded");
    let arg = |name: &str| args.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string());
    assert_eq!(arg("Status").as_deref(), Some("Complete"));
    assert_eq!(arg("Result.1.SSID").as_deref(), Some("neighbour-2g"));
    assert_eq!(arg("Result.1.SecurityModeEnabled").as_deref(), Some("WPA2-Personal"));
    assert_eq!(arg("Result.2.SecurityModeEnabled").as_deref(), Some("None"));
    assert_eq!(arg("Result.3.OperatingFrequencyBand").as_deref(), Some("5GHz"));
    assert_eq!(arg("Result.1.Radio").as_deref(), Some("Device.WiFi.Radio.1."));
    t.operate("Device.WiFi.Reset()", &[]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while t.get("Device.WiFi.ResetCounter") != "1" && std::time::Instant::now() < deadline {
        poll_until(&mut t, |_| true);
    }
    assert_eq!(t.get("Device.WiFi.ResetCounter"), "1");
    let e = t.operate("Device.WiFi.AccessPoint.1.Security.Reset()", &[]).unwrap_err();
    assert_eq!(e.code, ErrorCode::CommandFailure);
}

#[test]
fn another_tools_change_is_a_value_change_after_the_periodic_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(1, 1, 0)) else { return };
    let mut t = model(&bed);
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "6");
    assert!(bed.uci_set("wireless.radio0.channel", "1"));
    t.tick(3601);
    let changed = |e: &[String]| e.iter().any(|d| d == "Device.WiFi.Radio.1.Channel=1");
    let events = poll_until_brief(&mut t, changed);
    assert!(changed(&events), "{events:?}");
    assert_eq!(t.get("Device.WiFi.Radio.1.Channel"), "1");
}

#[test]
fn instance_numbers_stay_with_their_uci_section_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(2, 2, 0)) else { return };
    let mut t = model(&bed);
    t.dm.flush().unwrap();
    assert!(bed.uci_delete("wireless.radio0") && bed.uci_delete("wireless.default_radio0"));
    let backend = OpenWrtWifi::with_programs(&bed.paths, &bed.programs);
    let (wifi, ready) = crate::wifi::tests::plugin(Box::new(backend));
    let mut plugins = crate::builtin(&crate::AgentIdentity::default());
    plugins.push(wifi);
    let mut t = t.restart(plugins);
    crate::wifi::tests::wait_ready(&mut t, &ready);
    assert_eq!(t.get("Device.WiFi.RadioNumberOfEntries"), "1");
    assert_eq!(t.get("Device.WiFi.Radio.2.Name"), "radio1", "radio1 keeps instance 2");
    assert_eq!(t.get("Device.WiFi.SSID.2.SSID"), "OpenWrt-1");
    assert_eq!(t.get("Device.WiFi.AccessPoint.2.SSIDReference"), "Device.WiFi.SSID.2.");
}

#[test]
fn a_station_mode_interface_is_an_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::router(1, 2, 0);
    spec.ifaces[1].mode = "sta".into();
    let Some(bed) = bed(dir.path(), &spec) else { return };
    let mut t = model(&bed);
    assert_eq!(t.get("Device.WiFi.AccessPointNumberOfEntries"), "1");
    assert_eq!(t.get("Device.WiFi.EndPointNumberOfEntries"), "1");
    assert_eq!(t.get("Device.WiFi.EndPoint.1.SSIDReference"), "Device.WiFi.SSID.2.");
    assert_eq!(t.get("Device.WiFi.EndPoint.1.Status"), "Enabled");
    assert_eq!(t.get("Device.WiFi.EndPoint.1.Stats.SignalStrength"), "-40");
    let snap =
        crate::wifi::Backend::refresh(&mut OpenWrtWifi::with_programs(&bed.paths, &bed.programs));
    assert_eq!(crate::wifi::tests::undeclared(&snap.unwrap()), Vec::<String>::new());
    assert_eq!(t.get("Device.WiFi.EndPoint.1.ProfileNumberOfEntries"), "1");
    assert_eq!(
        t.get("Device.WiFi.EndPoint.1.ProfileReference"),
        "Device.WiFi.EndPoint.1.Profile.1."
    );
    let profile = "Device.WiFi.EndPoint.1.Profile.1.";
    assert_eq!(t.get(&format!("{profile}SSID")), "OpenWrt-1");
    assert_eq!(t.get(&format!("{profile}Status")), "Active", "iwinfo shows a BSSID");
    assert_eq!(t.get(&format!("{profile}Security.ModeEnabled")), "WPA2-Personal");
    assert_eq!(t.get(&format!("{profile}Security.KeyPassphrase")), "", "write-only");
    let before = std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap();
    let e = t.set(&format!("{profile}Security."), &[("KeyPassphrase", "short")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidValue, "{e}");
    assert_eq!(std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap(), before);
    t.set(profile, &[("SSID", "uplink")]).unwrap();
    t.set(&format!("{profile}Security."), &[("KeyPassphrase", "uplink-secret")]).unwrap();
    poll_until(&mut t, |_| bed.reloads() >= 2);
    assert_eq!(bed.uci_get("wireless.default_radio1.ssid").as_deref(), Some("uplink"));
    assert_eq!(bed.uci_get("wireless.default_radio1.key").as_deref(), Some("uplink-secret"));
    t.set("Device.WiFi.EndPoint.1.", &[("Enable", "false")]).unwrap();
    poll_until(&mut t, |_| bed.reloads() >= 3);
    assert_eq!(bed.uci_get("wireless.default_radio1.disabled").as_deref(), Some("1"));
}

#[test]
fn every_settable_parameter_has_a_uci_edit() {
    use crate::wifi::model::{Change, text};
    use usp_datamodel::value::Value;
    for (kind, name) in super::SETTABLE {
        let value = match *name {
            "Channel" | "MaxAssociatedDevices" | "Security.RekeyingInterval" => {
                Value::UnsignedInt(1)
            }
            "OperatingFrequencyBand" => text("2.4GHz"),
            "OperatingChannelBandwidth" => text("20MHz"),
            "Security.ModeEnabled" => text("None"),
            "Security.MFPConfig" => text("Optional"),
            n if n.ends_with("Enable") || n.ends_with("Enabled") => Value::Boolean(true),
            _ => text("x"),
        };
        let c = Change { kind: *kind, key: "s".into(), name: (*name).into(), value };
        assert!(super::edit(&[], &c).is_some(), "{kind:?} {name}");
    }
}

#[test]
fn what_openwrt_cannot_write_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(1, 1, 0)) else { return };
    let mut t = model(&bed);
    let e = t.set("Device.WiFi.Radio.1.", &[("OperatingStandards", "n")]).unwrap_err();
    assert_eq!(e.code, ErrorCode::ParamReadOnly, "{e}");
    assert!(t.set("Device.WiFi.Radio.1.", &[("Channel", "1")]).is_ok());
}

#[test]
fn wps_push_button_is_hostapd_wps_start_once_wps_pushbutton_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = bed(dir.path(), &Spec::router(1, 1, 0)) else { return };
    let mut t = model(&bed);
    let pbc = "Device.WiFi.AccessPoint.1.WPS.InitiateWPSPBC()";
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.Status"), "Disabled");
    let e = crate::wifi::tests::run_async(&mut t, pbc).unwrap_err();
    assert!(e.contains("wps_pushbutton"), "{e}");
    assert_eq!(bed.wps_starts(), 0);
    t.set("Device.WiFi.AccessPoint.1.WPS.", &[("Enable", "true")]).unwrap();
    poll_until(&mut t, |_| bed.reloads() >= 1);
    assert_eq!(bed.uci_get("wireless.default_radio0.wps_pushbutton").as_deref(), Some("1"));
    poll_until(&mut t, |_| false);
    assert_eq!(t.get("Device.WiFi.AccessPoint.1.WPS.Status"), "Configured");
    let out = crate::wifi::tests::run_async(&mut t, pbc).unwrap();
    assert_eq!(out, [("Status".to_owned(), "Success".to_owned())]);
    assert_eq!(bed.wps_starts(), 1);
}
