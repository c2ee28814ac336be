//! Device.WiFi end to end: the `uspagent` daemon with `--platform openwrt` pointed at a private
//! OpenWrt userland (the real ubusd and uci, netifd/iwinfo/hostapd objects from the Lua mock of
//! `usp_areas::openwrt::testbed`), driven by a controller over a private Mosquitto broker.
//!
//! A Set of the SSID and the channel changes `/etc/config/wireless` (checked with the real
//! `uci`) with exactly one `network reload`; a bad channel gets 7012 and leaves the file alone;
//! a station joining (a hostapd `assoc` notification) reaches a subscribed controller as an
//! ObjectCreation; `NeighboringWiFiDiagnostic()` completes with results.
//!
//! The same with `--platform linux` against a hostapd-protocol peer (UNIX datagram sockets in a
//! temporary `--hostapd-dir`, hostapd's reply formats and events): values from STATUS and
//! GET_CONFIG, a Set of the SSID reaching hostapd as `SET ssid` + `RELOAD`, an
//! `AP-STA-CONNECTED` event reaching a subscribed controller as an ObjectCreation, and a stale
//! socket logged clearly without a crash.
//!
//! Needs `mosquitto`, the `uspagent` binary (`cargo build -p uspagent`) and, for the OpenWrt
//! test, the OpenWrt sources (`USP_OPENWRT_SRC`); without them that test prints `skipped: ...`
//! and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "daemon_mqtt/ctl.rs"]
#[allow(dead_code)]
mod ctl;
#[path = "daemon_mqtt/setup.rs"]
#[allow(dead_code)]
mod setup;

use std::collections::BTreeMap;

use usp_areas::openwrt::testbed::{Spec, Testbed};
use usp_proto::msg::add::{CreateObject, CreateParamSetting};
use usp_proto::msg::notify::Notification;
use usp_proto::msg::request::ReqType;
use usp_proto::msg::response::RespType;
use usp_proto::msg::set::{UpdateObject, UpdateParamSetting};
use usp_proto::msg::set_resp::updated_object_result::operation_status::OperStatus as SetStatus;
use usp_proto::msg::{Add, Operate, Set};
use usp_testkit::agent::RunningAgent;
use usp_testkit::mosquitto::{Mosquitto, MosquittoOpts};

use ctl::Ctl;

fn get(ctl: &mut Ctl, agent: &RunningAgent, path: &str) -> BTreeMap<String, String> {
    ctl.get_values(agent, &[path])
}

/// A Set of one object; `Ok` or the failure's error code.
fn set(ctl: &mut Ctl, agent: &RunningAgent, obj: &str, values: &[(&str, &str)]) -> Result<(), u32> {
    let settings = values
        .iter()
        .map(|(p, v)| UpdateParamSetting { param: (*p).into(), value: (*v).into(), required: true })
        .collect();
    let set = Set {
        allow_partial: false,
        update_objs: vec![UpdateObject { obj_path: obj.into(), param_settings: settings }],
    };
    let id = ctl.send_request(ReqType::Set(set));
    let msg = ctl.answer(&id, agent);
    match msg.body.and_then(|b| b.msg_body) {
        Some(usp_proto::msg::body::MsgBody::Response(r)) => match r.resp_type {
            Some(RespType::SetResp(resp)) => {
                let status =
                    resp.updated_obj_results[0].oper_status.clone().and_then(|s| s.oper_status);
                assert!(matches!(status, Some(SetStatus::OperSuccess(_))), "{status:?}");
                Ok(())
            }
            other => panic!("{other:?}"),
        },
        Some(usp_proto::msg::body::MsgBody::Error(e)) => Err(e.err_code),
        other => panic!("{other:?}"),
    }
}

fn subscribe(ctl: &mut Ctl, agent: &RunningAgent, id: &str, kind: &str, refs: &str) {
    let p = |name: &str, value: &str| CreateParamSetting {
        param: name.into(),
        value: value.into(),
        required: true,
    };
    let add = Add {
        allow_partial: false,
        create_objs: vec![CreateObject {
            obj_path: "Device.LocalAgent.Subscription.".into(),
            param_settings: vec![
                p("ID", id),
                p("NotifType", kind),
                p("ReferenceList", refs),
                p("Enable", "true"),
            ],
        }],
    };
    let RespType::AddResp(_) = ctl.call(ReqType::Add(add), agent) else { panic!("AddResp") };
}

#[test]
fn a_controller_manages_openwrt_wifi_over_mqtt() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(2, 2, 1)) else { return };
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let path = |p: &std::path::Path| p.to_str().expect("UTF-8").to_owned();
    let (uci_dir, socket) =
        (path(&bed.paths.uci_dir), path(bed.paths.ubus_socket.as_deref().unwrap()));
    let (uci, ubus) = (path(&bed.programs.uci), path(&bed.programs.ubus));
    let agent = setup::agent(
        &setup::reset(broker.port(), true),
        &[
            "--platform",
            "openwrt",
            "--uci-dir",
            &uci_dir,
            "--ubus-socket",
            &socket,
            "--uci-program",
            &uci,
            "--ubus-program",
            &ubus,
        ],
    );
    ctl.connect_record(&agent);

    // The first Wi-Fi read runs on its worker after start-up: the rows come when it ends.
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut radios = BTreeMap::new();
    while radios.is_empty() && std::time::Instant::now() < end {
        radios = get(&mut ctl, &agent, "Device.WiFi.Radio.[OperatingFrequencyBand==\"2.4GHz\"].");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        radios.get("Device.WiFi.Radio.1.Channel").map(String::as_str),
        Some("6"),
        "{radios:?}"
    );
    let before = std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap();
    assert_eq!(set(&mut ctl, &agent, "Device.WiFi.Radio.1.", &[("Channel", "36")]), Err(7012));
    assert_eq!(
        set(&mut ctl, &agent, "Device.WiFi.AccessPoint.1.Security.", &[("KeyPassphrase", "short")]),
        Err(7012)
    );
    assert_eq!(std::fs::read(bed.paths.uci_dir.join("wireless")).unwrap(), before);

    subscribe(
        &mut ctl,
        &agent,
        "stations",
        "ObjectCreation",
        "Device.WiFi.AccessPoint.1.AssociatedDevice.",
    );
    set(&mut ctl, &agent, "Device.WiFi.SSID.1.", &[("SSID", "from-usp")]).unwrap();
    set(&mut ctl, &agent, "Device.WiFi.Radio.1.", &[("Channel", "11")]).unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while bed.reloads() < 2 && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(bed.reloads(), 2, "one reload per Set; agent log:\n{}", agent.log());
    assert_eq!(bed.uci_get("wireless.default_radio0.ssid").as_deref(), Some("from-usp"));
    assert_eq!(bed.uci_get("wireless.radio0.channel").as_deref(), Some("11"));

    std::thread::sleep(std::time::Duration::from_millis(300));
    bed.join("wlan0", "aa:bb:cc:00:00:42");
    ctl.notify("ObjectCreation of the new station", &agent, |n| {
        matches!(n, Notification::ObjCreation(c) if c.obj_path == "Device.WiFi.AccessPoint.1.AssociatedDevice.2.")
    });

    subscribe(
        &mut ctl,
        &agent,
        "scan",
        "OperationComplete",
        "Device.WiFi.NeighboringWiFiDiagnostic()",
    );
    let op = Operate {
        command: "Device.WiFi.NeighboringWiFiDiagnostic()".into(),
        command_key: "scan".into(),
        send_resp: true,
        input_args: Default::default(),
    };
    let RespType::OperateResp(_) = ctl.call(ReqType::Operate(op), &agent) else {
        panic!("OperateResp")
    };
    let (_, n) = ctl.notify("OperationComplete of the scan", &agent, |n| {
        matches!(n, Notification::OperComplete(_))
    });
    let text = format!("{n:?}");
    assert!(text.contains("neighbour-2g"), "{text}");
}

#[test]
fn a_controller_manages_hostapd_wifi_over_mqtt() {
    use usp_areas::wifi::hostapd::peer::{HostapdPeer, PeerState};
    use usp_areas::wifi::hostapd::supplicant_peer::{SupplicantPeer, SupplicantState};
    let dir = tempfile::tempdir().unwrap();
    let mut peer =
        HostapdPeer::start(&dir.path().join("hostapd"), PeerState::two_radios()).unwrap();
    peer.crash("wlan0-1"); // a stale socket: hostapd died and left it behind
    let confs = dir.path().join("hostapd-conf");
    std::fs::create_dir_all(&confs).unwrap();
    let phy0 = "# the 2.4 GHz radio\ninterface=wlan0\nssid=lab-2g\nbridge=br-lan\n";
    std::fs::write(confs.join("phy0.conf"), phy0).unwrap();
    let wpa_dir = dir.path().join("wpa_supplicant");
    let state = SupplicantState::one_station(&dir.path().join("wpa.conf"), true);
    let wpa = SupplicantPeer::start(&wpa_dir, state).unwrap();
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let hostapd_dir = peer.dir().to_str().expect("UTF-8").to_owned();
    let agent = setup::agent(
        &setup::reset(broker.port(), true),
        &[
            "--platform",
            "linux",
            "--hostapd-dir",
            &hostapd_dir,
            "--hostapd-conf",
            confs.to_str().expect("UTF-8"),
            "--wpa-supplicant-dir",
            wpa_dir.to_str().expect("UTF-8"),
        ],
    );
    ctl.connect_record(&agent);

    let values = get(&mut ctl, &agent, "Device.WiFi.");
    let v = |p: &str| values.get(p).map(String::as_str);
    assert_eq!(v("Device.WiFi.Radio.1.Channel"), Some("6"), "{values:?}");
    assert_eq!(v("Device.WiFi.Radio.2.CurrentOperatingChannelBandwidth"), Some("80MHz"));
    assert_eq!(v("Device.WiFi.SSID.1.SSID"), Some("lab-2g"));
    assert_eq!(v("Device.WiFi.SSID.2.Name"), Some("wlan1"), "the stale wlan0-1 is left out");
    assert_eq!(v("Device.WiFi.AccessPoint.1.Security.ModeEnabled"), Some("WPA2-Personal"));
    assert_eq!(v("Device.WiFi.AccessPoint.1.Security.KeyPassphrase"), Some(""));
    assert_eq!(v("Device.WiFi.AccessPoint.1.AssociatedDevice.1.SignalStrength"), Some("-45"));
    assert_eq!(v("Device.WiFi.AccessPoint.1.IsolationEnable"), Some("false"), "from the file");
    assert_eq!(v("Device.WiFi.EndPoint.1.Profile.1.SSID"), Some("uplink"), "wpa_supplicant");
    let enabled = get(&mut ctl, &agent, "Device.WiFi.Radio.[Enable==true].Channel");
    assert_eq!(enabled.len(), 2, "{enabled:?}");
    let log = agent.log();
    assert!(log.contains("no hostapd listens at") && log.contains("wlan0-1"), "{log}");
    if !std::path::Path::new("/sys/class/ieee80211").exists() {
        assert!(log.contains("nl80211 is not available"), "{log}");
    }

    assert_eq!(set(&mut ctl, &agent, "Device.WiFi.Radio.1.", &[("Channel", "36")]), Err(7012));
    set(&mut ctl, &agent, "Device.WiFi.SSID.1.", &[("SSID", "from-usp")]).unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !peer.commands("wlan0").contains(&"RELOAD".to_owned()) && std::time::Instant::now() < end
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let written: Vec<String> = peer
        .commands("wlan0")
        .into_iter()
        .filter(|c| c.starts_with("SET") || c == "RELOAD")
        .collect();
    assert_eq!(written, ["SET ssid from-usp", "RELOAD"], "agent log:\n{}", agent.log());
    assert_eq!(peer.state().bsses[0].ssid, "from-usp");
    let file = std::fs::read_to_string(confs.join("phy0.conf")).unwrap();
    assert_eq!(file, phy0.replace("ssid=lab-2g", "ssid=from-usp"), "persisted, comment kept");
    set(&mut ctl, &agent, "Device.WiFi.AccessPoint.1.", &[("IsolationEnable", "true")]).unwrap();
    set(&mut ctl, &agent, "Device.WiFi.EndPoint.1.Profile.2.", &[("Priority", "9")]).unwrap();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !(std::fs::read_to_string(confs.join("phy0.conf")).unwrap().contains("ap_isolate=1\n")
        && wpa.commands("wlan2").contains(&"SAVE_CONFIG".to_owned()))
        && std::time::Instant::now() < end
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(peer.state().bsses[0].isolate, 1, "agent log:\n{}", agent.log());
    assert!(wpa.commands("wlan2").contains(&"SET_NETWORK 1 priority 9".to_owned()));
    assert!(std::fs::read_to_string(dir.path().join("wpa.conf")).unwrap().contains("priority=9"));

    subscribe(
        &mut ctl,
        &agent,
        "stations",
        "ObjectCreation",
        "Device.WiFi.AccessPoint.1.AssociatedDevice.",
    );
    let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while peer.attached("wlan0") == 0 && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    peer.join("wlan0", "aa:bb:cc:00:00:42");
    ctl.notify("ObjectCreation of the new station", &agent, |n| {
        matches!(n, Notification::ObjCreation(c) if c.obj_path == "Device.WiFi.AccessPoint.1.AssociatedDevice.2.")
    });
    let after = get(&mut ctl, &agent, "Device.WiFi.AccessPoint.1.AssociatedDevice.2.MACAddress");
    assert_eq!(after.values().next().map(String::as_str), Some("aa:bb:cc:00:00:42"));
}

#[test]
fn a_broken_wireless_file_or_no_hostapd_is_a_clear_log_line_and_an_empty_wifi() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Mosquitto::start(MosquittoOpts::default());
    let mut ctl = Ctl::start(broker.port(), true, setup::names());
    let missing = dir.path().join("no-hostapd-here");
    let agent = setup::agent(
        &setup::reset(broker.port(), true),
        &["--platform", "linux", "--hostapd-dir", missing.to_str().expect("UTF-8")],
    );
    ctl.connect_record(&agent);
    let n = get(&mut ctl, &agent, "Device.WiFi.RadioNumberOfEntries");
    assert_eq!(n.values().next().map(String::as_str), Some("0"), "{n:?}");
    let log = agent.log();
    assert!(
        log.contains("no hostapd control directory") && log.contains("no-hostapd-here"),
        "{log}"
    );
    drop(agent);

    let Some(bed) = Testbed::start_or_skip(&dir.path().join("bed"), &Spec::router(1, 1, 0)) else {
        return;
    };
    std::fs::write(bed.paths.uci_dir.join("wireless"), "config wifi-device 'radio0\n").unwrap();
    let path = |p: &std::path::Path| p.to_str().expect("UTF-8").to_owned();
    let agent = setup::agent(
        &setup::reset(broker.port(), true),
        &[
            "--platform",
            "openwrt",
            "--uci-dir",
            &path(&bed.paths.uci_dir),
            "--ubus-socket",
            &path(bed.paths.ubus_socket.as_deref().unwrap()),
            "--uci-program",
            &path(&bed.programs.uci),
            "--ubus-program",
            &path(&bed.programs.ubus),
        ],
    );
    ctl.connect_record(&agent);
    let n = get(&mut ctl, &agent, "Device.WiFi.SSIDNumberOfEntries");
    assert_eq!(n.values().next().map(String::as_str), Some("0"), "{n:?}");
    let log = agent.log();
    assert!(log.contains("the Wi-Fi configuration is not served until it reads"), "{log}");
}
