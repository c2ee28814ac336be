//! A hostapd-protocol peer for tests: binds one UNIX datagram socket per BSS in a directory
//! of the test's own (as hostapd does in its `ctrl_interface` directory) and answers the
//! control commands the agent sends in hostapd's exact formats (`hostapd/ctrl_iface.c`,
//! `src/ap/ctrl_iface_ap.c`): `PING`, `STATUS`, `GET_CONFIG`, `STA-FIRST` / `STA-NEXT`,
//! `SET` (the fields the agent writes, with hostapd's checks), `RELOAD`, `CHAN_SWITCH`,
//! `ENABLE` / `DISABLE`, `WPS_PBC`, `ATTACH` / `DETACH`; anything else gets
//! `UNKNOWN COMMAND`. Events (`<3>AP-STA-CONNECTED <mac>`) go to the attached clients.
//!
//! Owns: its sockets and threads (stopped and joined on drop; every loop is bounded by a
//! stop flag and 100 ms receive timeouts). Never does: Wi-Fi.

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// One station as the peer reports it.
#[derive(Clone, Debug)]
pub struct PeerStation {
    /// Its MAC address (lower case).
    pub mac: String,
    /// `signal=` in dBm.
    pub signal: i32,
    /// `tx_rate_info=` in 100 kbit/s.
    pub tx_rate: u32,
    /// `rx_bytes=` / `tx_bytes=`.
    pub bytes: (u64, u64),
}

/// One BSS: its interface, radio and configuration.
#[derive(Clone, Debug)]
pub struct PeerBss {
    /// Interface name (the socket's name).
    pub ifname: String,
    /// The radio (`phy0`).
    pub phy: String,
    /// Own address.
    pub bssid: String,
    /// `ssid`.
    pub ssid: String,
    /// `wpa` (0, 1, 2, 3).
    pub wpa: u32,
    /// `wpa_key_mgmt` (`WPA-PSK`, `SAE`, `WPA-PSK SAE`).
    pub key_mgmt: String,
    /// `wpa_passphrase`.
    pub passphrase: String,
    /// `wps_state` (0, 1, 2).
    pub wps_state: u32,
    /// `ieee80211w`.
    pub mfp: u32,
    /// `ignore_broadcast_ssid` (0, 1, 2).
    pub hidden: u32,
    /// `ap_isolate`.
    pub isolate: u32,
    /// `wmm_enabled`.
    pub wmm: u32,
    /// `max_num_sta` (1..=2007).
    pub max_sta: u32,
    /// `start_disabled`.
    pub start_disabled: u32,
    /// Whether it sends beacons (`STOP_AP` stops them; `UPDATE_BEACON` and `RELOAD` restart).
    pub beaconing: bool,
    /// Associated stations.
    pub stations: Vec<PeerStation>,
}

/// One radio (hostapd interface): its channel and capabilities.
#[derive(Clone, Debug)]
pub struct PeerRadio {
    /// `phy=`.
    pub phy: String,
    /// `freq=` (MHz) and `channel=`.
    pub freq: u32,
    /// `channel=`.
    pub channel: u32,
    /// `hw_mode=` (`g`, `a`).
    pub hw_mode: &'static str,
    /// `ieee80211n`, `ieee80211ac`, `ieee80211ax`.
    pub ht_vht_he: (bool, bool, bool),
    /// `vht_oper_chwidth` (0, 1 = 80 MHz, 2 = 160 MHz).
    pub chwidth: u32,
    /// `country_code=`.
    pub country: &'static str,
    /// `state=` (`ENABLED`, `DISABLED`).
    pub state: &'static str,
}

/// What the peer serves and what it was told.
#[derive(Debug, Default)]
pub struct PeerState {
    /// The radios.
    pub radios: Vec<PeerRadio>,
    /// The BSSes, in socket order.
    pub bsses: Vec<PeerBss>,
    /// Every command received, as `(ifname, command)`, in order.
    pub log: Vec<(String, String)>,
    /// The attached clients' socket paths, as `(ifname, path)`.
    pub attached: Vec<(String, PathBuf)>,
}

/// The running peer.
#[derive(Debug)]
pub struct HostapdPeer {
    dir: PathBuf,
    state: Arc<Mutex<PeerState>>,
    stop: Arc<AtomicBool>,
    threads: Vec<(String, JoinHandle<()>)>,
    sockets: Vec<(String, Arc<UnixDatagram>)>,
}

impl PeerState {
    /// Two radios: `phy0` on 2.4 GHz channel 6 (802.11n) with BSSes `wlan0` (WPA2, one
    /// station) and `wlan0-1` (open), `phy1` on 5 GHz channel 36 (802.11ac, 80 MHz) with
    /// `wlan1` (WPA3 transition).
    pub fn two_radios() -> PeerState {
        let radio = |phy: &str, freq, channel, hw_mode, ht_vht_he, chwidth| PeerRadio {
            phy: phy.into(),
            freq,
            channel,
            hw_mode,
            ht_vht_he,
            chwidth,
            country: "DE",
            state: "ENABLED",
        };
        let bss = |ifname: &str, phy: &str, n: u8, ssid: &str, wpa, key_mgmt: &str| PeerBss {
            ifname: ifname.into(),
            phy: phy.into(),
            bssid: format!("02:00:00:00:00:{n:02x}"),
            ssid: ssid.into(),
            wpa,
            key_mgmt: key_mgmt.into(),
            passphrase: "lab-secret-1".into(),
            wps_state: 2,
            mfp: 0,
            hidden: 0,
            isolate: 0,
            wmm: 1,
            max_sta: 2007,
            start_disabled: 0,
            beaconing: true,
            stations: Vec::new(),
        };
        let mut wlan0 = bss("wlan0", "phy0", 0, "lab-2g", 2, "WPA-PSK");
        wlan0.stations.push(PeerStation {
            mac: "02:00:00:00:01:00".into(),
            signal: -45,
            tx_rate: 1300,
            bytes: (4321, 8765),
        });
        let mut guest = bss("wlan0-1", "phy0", 1, "lab-guest", 0, "");
        guest.wps_state = 0;
        PeerState {
            radios: vec![
                radio("phy0", 2437, 6, "g", (true, false, false), 0),
                radio("phy1", 5180, 36, "a", (true, true, false), 1),
            ],
            bsses: vec![wlan0, guest, bss("wlan1", "phy1", 2, "lab-5g", 2, "WPA-PSK SAE")],
            ..PeerState::default()
        }
    }
}

impl PeerState {
    /// Loads a hostapd configuration file as hostapd does at its start: each section's
    /// settings (those this peer models; others are left alone) to the BSS it names, `channel`
    /// to its radio; a BSS with `start_disabled=1` sends no beacon. Returns the lines it
    /// refused, as hostapd names them (`Line <n>: invalid ...`), empty when all loaded.
    pub fn load_conf(&mut self, text: &str) -> Vec<String> {
        let mut refused = Vec::new();
        for ifname in super::conf::interfaces(text) {
            for (key, value) in super::conf::settings(text, &ifname) {
                let line = format!("{key} {value}");
                if key == "channel" {
                    let channel = value.trim().parse::<u32>().unwrap_or(0);
                    if super::peer_reply::set_channel(self, &ifname, channel).is_none() {
                        refused.push(format!("{ifname}: invalid {line}"));
                    }
                } else if super::peer_reply::MODELLED.contains(&key.as_str())
                    && super::peer_reply::set(self, &ifname, &line).is_none()
                {
                    refused.push(format!("{ifname}: invalid {line}"));
                }
            }
            if let Some(b) = self.bsses.iter_mut().find(|b| b.ifname == ifname) {
                b.beaconing = b.start_disabled == 0;
            }
        }
        refused
    }
}

impl HostapdPeer {
    /// Binds one socket per BSS of `state` in `dir` and answers on them.
    pub fn start(dir: &Path, state: PeerState) -> std::io::Result<HostapdPeer> {
        std::fs::create_dir_all(dir)?;
        let names: Vec<String> = state.bsses.iter().map(|b| b.ifname.clone()).collect();
        let mut peer = HostapdPeer {
            dir: dir.to_owned(),
            state: Arc::new(Mutex::new(state)),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            sockets: Vec::new(),
        };
        for ifname in names {
            let path = dir.join(&ifname);
            let _ = std::fs::remove_file(&path);
            let sock = Arc::new(UnixDatagram::bind(&path)?);
            sock.set_read_timeout(Some(Duration::from_millis(100)))?;
            let (s, st, stop, name) =
                (sock.clone(), peer.state.clone(), peer.stop.clone(), ifname.clone());
            let handle = std::thread::Builder::new()
                .name(format!("hostapd-peer-{ifname}"))
                .spawn(move || serve(&s, &st, &stop, &name))?;
            peer.threads.push((ifname.clone(), handle));
            peer.sockets.push((ifname, sock));
        }
        Ok(peer)
    }

    /// The directory of the sockets (the agent's `--hostapd-dir`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The state, to look at or change.
    pub fn state(&self) -> MutexGuard<'_, PeerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The commands received on `ifname`, in order.
    pub fn commands(&self, ifname: &str) -> Vec<String> {
        self.state().log.iter().filter(|(i, _)| i == ifname).map(|(_, c)| c.clone()).collect()
    }

    /// How many clients are attached to `ifname`.
    pub fn attached(&self, ifname: &str) -> usize {
        self.state().attached.iter().filter(|(i, _)| i == ifname).count()
    }

    /// A station associates with `ifname`: added, and `AP-STA-CONNECTED` sent to the attached
    /// clients, as hostapd's `ap_sta_set_authorized_event` does.
    pub fn join(&self, ifname: &str, mac: &str) {
        let station =
            PeerStation { mac: mac.to_ascii_lowercase(), signal: -60, tx_rate: 650, bytes: (0, 0) };
        if let Some(b) = self.state().bsses.iter_mut().find(|b| b.ifname == ifname) {
            b.stations.push(station);
        }
        self.event(ifname, &format!("AP-STA-CONNECTED {mac}"));
    }

    /// A station leaves `ifname` (`AP-STA-DISCONNECTED`).
    pub fn leave(&self, ifname: &str, mac: &str) {
        if let Some(b) = self.state().bsses.iter_mut().find(|b| b.ifname == ifname) {
            b.stations.retain(|s| !s.mac.eq_ignore_ascii_case(mac));
        }
        self.event(ifname, &format!("AP-STA-DISCONNECTED {mac}"));
    }

    /// Sends `<3>text` (MSG_INFO) to the clients attached to `ifname`.
    pub fn event(&self, ifname: &str, text: &str) {
        let Some((_, sock)) = self.sockets.iter().find(|(i, _)| i == ifname) else { return };
        let clients: Vec<PathBuf> = self
            .state()
            .attached
            .iter()
            .filter(|(i, _)| i == ifname)
            .map(|(_, p)| p.clone())
            .collect();
        for c in clients {
            let _ = sock.send_to(format!("<3>{text}").as_bytes(), c);
        }
    }

    /// Stops answering on `ifname` and leaves its socket file behind, as a crashed hostapd
    /// does (a stale socket: connections are refused).
    pub fn crash(&mut self, ifname: &str) {
        self.sockets.retain(|(i, _)| i != ifname);
        if let Some(pos) = self.threads.iter().position(|(i, _)| i == ifname) {
            // Its thread holds the last reference to the socket now and ends within 100 ms.
            let (_, handle) = self.threads.remove(pos);
            let _ = handle.join();
        }
    }
}

impl Drop for HostapdPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (_, t) in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Answers on one BSS's socket until `stop` is set or the peer dropped the socket.
fn serve(sock: &Arc<UnixDatagram>, state: &Mutex<PeerState>, stop: &AtomicBool, ifname: &str) {
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) && Arc::strong_count(sock) > 1 {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        let cmd = String::from_utf8_lossy(&buf[..n]).into_owned();
        let Some(from) = from.as_pathname().map(Path::to_owned) else { continue };
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.log.push((ifname.to_owned(), cmd.clone()));
        let reply = super::peer_reply::answer(&mut st, ifname, &cmd, &from);
        drop(st);
        let _ = sock.send_to(reply.as_bytes(), &from);
    }
}
