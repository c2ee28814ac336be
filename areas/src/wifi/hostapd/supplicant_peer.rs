//! A wpa_supplicant-protocol peer for tests: one UNIX datagram socket per station interface
//! in a directory of the test's own, answering in the formats of `wpa_supplicant/ctrl_iface.c`:
//! `PING`, `STATUS` (`wpa_supplicant_ctrl_iface_status`), `LIST_NETWORKS`, `GET_NETWORK`,
//! `SET_NETWORK` (the fields the agent writes, with wpa_supplicant's checks), `SELECT_NETWORK`,
//! `ENABLE_NETWORK` / `DISABLE_NETWORK`, `SIGNAL_POLL`, `SAVE_CONFIG` (writes the
//! configuration file as `wpa_config_write` does, `FAIL` without `update_config=1`) and
//! `ATTACH` / `DETACH` (then `CTRL-EVENT-CONNECTED` events); anything else gets
//! `UNKNOWN COMMAND`. Selecting a network makes it the current one at once (the
//! association itself is not simulated).
//!
//! Owns: its sockets and threads (stopped and joined on drop; 100 ms receive timeouts).
//! Never does: Wi-Fi.

use std::fmt::Write as _;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// One configured network.
#[derive(Clone, Debug, Default)]
pub struct PeerNetwork {
    /// `network id`.
    pub id: u32,
    /// `ssid` (text).
    pub ssid: String,
    /// `psk` (a passphrase, quoted in the file) or `sae_password`.
    pub psk: Option<String>,
    /// `key_mgmt`.
    pub key_mgmt: String,
    /// `ieee80211w`.
    pub mfp: u32,
    /// `priority`.
    pub priority: u32,
    /// `disabled`.
    pub disabled: bool,
}

/// One station interface.
#[derive(Clone, Debug, Default)]
pub struct PeerIface {
    /// Its name (the socket's).
    pub ifname: String,
    /// Own address.
    pub address: String,
    /// The networks.
    pub networks: Vec<PeerNetwork>,
    /// The network in use (`COMPLETED`), if any.
    pub current: Option<u32>,
    /// `update_config`: whether `SAVE_CONFIG` may write `conf`.
    pub update_config: bool,
    /// The configuration file `SAVE_CONFIG` writes.
    pub conf: PathBuf,
}

/// What the peer serves and what it was told.
#[derive(Debug, Default)]
pub struct SupplicantState {
    /// The interfaces.
    pub ifaces: Vec<PeerIface>,
    /// Every command received, as `(ifname, command)`.
    pub log: Vec<(String, String)>,
    /// The attached clients' socket paths, as `(ifname, path)`.
    pub attached: Vec<(String, PathBuf)>,
}

impl SupplicantState {
    /// `wlan2` with two networks, connected to the first (`uplink`, WPA2) and `backup`
    /// (WPA3, priority 5, disabled); its file `conf`, saved when `update_config`.
    pub fn one_station(conf: &Path, update_config: bool) -> SupplicantState {
        let net = |id, ssid: &str, key_mgmt: &str, priority, disabled| PeerNetwork {
            id,
            ssid: ssid.into(),
            psk: Some("uplink-secret".into()),
            key_mgmt: key_mgmt.into(),
            mfp: 0,
            priority,
            disabled,
        };
        SupplicantState {
            ifaces: vec![PeerIface {
                ifname: "wlan2".into(),
                address: "02:00:00:00:02:02".into(),
                networks: vec![
                    net(0, "uplink", "WPA-PSK", 0, false),
                    net(1, "backup", "SAE", 5, true),
                ],
                current: Some(0),
                update_config,
                conf: conf.to_owned(),
            }],
            log: Vec::new(),
            attached: Vec::new(),
        }
    }
}

/// The running peer.
#[derive(Debug)]
pub struct SupplicantPeer {
    state: Arc<Mutex<SupplicantState>>,
    sockets: Vec<(String, Arc<UnixDatagram>)>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl SupplicantPeer {
    /// Binds one socket per interface of `state` in `dir` and answers on them.
    pub fn start(dir: &Path, state: SupplicantState) -> std::io::Result<SupplicantPeer> {
        std::fs::create_dir_all(dir)?;
        let names: Vec<String> = state.ifaces.iter().map(|i| i.ifname.clone()).collect();
        let mut peer = SupplicantPeer {
            state: Arc::new(Mutex::new(state)),
            sockets: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        };
        for ifname in names {
            let path = dir.join(&ifname);
            let _ = std::fs::remove_file(&path);
            let sock = Arc::new(UnixDatagram::bind(&path)?);
            sock.set_read_timeout(Some(Duration::from_millis(100)))?;
            peer.sockets.push((ifname.clone(), sock.clone()));
            let (st, stop) = (peer.state.clone(), peer.stop.clone());
            peer.threads.push(
                std::thread::Builder::new()
                    .name(format!("wpa-peer-{ifname}"))
                    .spawn(move || serve(&sock, &st, &stop, &ifname))?,
            );
        }
        Ok(peer)
    }

    /// The state, to look at or change.
    pub fn state(&self) -> MutexGuard<'_, SupplicantState> {
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

    /// `ifname` associates with network `id` (wpa_supplicant found it, without being told):
    /// it becomes the current one and `CTRL-EVENT-CONNECTED` goes to the attached clients in
    /// `wpa_supplicant_set_state`'s format.
    pub fn connect(&self, ifname: &str, id: u32) {
        if let Some(i) = self.state().ifaces.iter_mut().find(|i| i.ifname == ifname) {
            i.current = Some(id);
        }
        let text = format!(
            "<3>CTRL-EVENT-CONNECTED - Connection to 06:00:00:00:0a:01 completed [id={id} id_str=]"
        );
        let Some((_, sock)) = self.sockets.iter().find(|(i, _)| i == ifname) else { return };
        let clients: Vec<PathBuf> = self
            .state()
            .attached
            .iter()
            .filter(|(i, _)| i == ifname)
            .map(|(_, p)| p.clone())
            .collect();
        for c in clients {
            let _ = sock.send_to(text.as_bytes(), c);
        }
    }
}

impl Drop for SupplicantPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve(
    sock: &Arc<UnixDatagram>,
    state: &Mutex<SupplicantState>,
    stop: &AtomicBool,
    ifname: &str,
) {
    let mut buf = vec![0u8; 4096];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        let cmd = String::from_utf8_lossy(&buf[..n]).into_owned();
        let Some(from) = from.as_pathname().map(Path::to_owned) else { continue };
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.log.push((ifname.to_owned(), cmd.clone()));
        if cmd == "ATTACH" {
            st.attached.push((ifname.to_owned(), from.clone()));
        } else if cmd == "DETACH" {
            st.attached.retain(|(i, p)| !(i == ifname && *p == from));
        }
        let reply = st
            .ifaces
            .iter_mut()
            .find(|i| i.ifname == ifname)
            .map_or_else(|| "FAIL\n".to_owned(), |i| answer(i, &cmd));
        drop(st);
        let _ = sock.send_to(reply.as_bytes(), &from);
    }
}

const OK: &str = "OK\n";
const FAIL: &str = "FAIL\n";

/// The reply to `cmd`.
fn answer(i: &mut PeerIface, cmd: &str) -> String {
    let (word, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
    let id = rest.split(' ').next().and_then(|n| n.parse::<u32>().ok());
    let ok = |done: Option<()>| if done.is_some() { OK.to_owned() } else { FAIL.to_owned() };
    match word {
        "PING" => "PONG\n".into(),
        "ATTACH" | "DETACH" => OK.into(),
        "STATUS" => status(i),
        "LIST_NETWORKS" => list(i),
        "GET_NETWORK" => get_network(i, rest).unwrap_or_else(|| FAIL.into()),
        "SET_NETWORK" => ok(set_network(i, rest)),
        "SELECT_NETWORK" => ok(id.filter(|id| i.networks.iter().any(|n| n.id == *id)).map(|id| {
            // wpa_supplicant_select_network: the others are disabled, this one enabled.
            for n in &mut i.networks {
                n.disabled = n.id != id;
            }
            i.current = Some(id);
        })),
        "ENABLE_NETWORK" | "DISABLE_NETWORK" => {
            let on = word == "ENABLE_NETWORK";
            ok(i.networks.iter_mut().find(|n| Some(n.id) == id).map(|n| n.disabled = !on))
        }
        "SIGNAL_POLL" if i.current.is_some() => {
            "RSSI=-58\nLINKSPEED=866\nNOISE=-92\nFREQUENCY=5180\nWIDTH=80 MHz\nCENTER_FRQ1=5210\n"
                .into()
        }
        "SAVE_CONFIG" if i.update_config => match std::fs::write(&i.conf, config_text(i)) {
            Ok(()) => OK.into(),
            Err(_) => FAIL.into(),
        },
        "SIGNAL_POLL" | "SAVE_CONFIG" => FAIL.into(),
        _ => "UNKNOWN COMMAND\n".into(),
    }
}

fn status(i: &PeerIface) -> String {
    let mut out = String::new();
    if let Some(n) = i.current.and_then(|c| i.networks.iter().find(|n| n.id == c)) {
        let _ = write!(
            out,
            "bssid=06:00:00:00:0a:01\nfreq=5180\nssid={}\nid={}\nmode=station\n\
             wifi_generation=5\npairwise_cipher=CCMP\ngroup_cipher=CCMP\nkey_mgmt={}\n\
             wpa_state=COMPLETED\n",
            n.ssid,
            n.id,
            if n.key_mgmt.contains("SAE") { "SAE" } else { "WPA2-PSK" }
        );
    } else {
        out.push_str("wpa_state=SCANNING\n");
    }
    let _ = write!(out, "address={}\nuuid=5e7a3b1c-0000-5000-8000-020000000202\n", i.address);
    out
}

fn list(i: &PeerIface) -> String {
    let mut out = String::from("network id / ssid / bssid / flags\n");
    for n in &i.networks {
        let current = if i.current == Some(n.id) { "[CURRENT]" } else { "" };
        let disabled = if n.disabled { "[DISABLED]" } else { "" };
        let _ = writeln!(out, "{}\t{}\tany\t{current}{disabled}", n.id, n.ssid);
    }
    out
}

/// `GET_NETWORK <id> <field>` (no trailing newline; the key is `*`, as `wpa_config_get_no_key`).
fn get_network(i: &PeerIface, args: &str) -> Option<String> {
    let (id, field) = args.split_once(' ')?;
    let n = i.networks.iter().find(|n| n.id.to_string() == id)?;
    Some(match field {
        "ssid" => format!("\"{}\"", n.ssid),
        "psk" => n.psk.as_ref().map(|_| "*".to_owned())?,
        "key_mgmt" => n.key_mgmt.clone(),
        "priority" => n.priority.to_string(),
        "ieee80211w" => n.mfp.to_string(),
        "disabled" => u8::from(n.disabled).to_string(),
        _ => return None,
    })
}

/// `SET_NETWORK <id> <field> <value>` with the parser's checks (`wpa_config_set`).
fn set_network(i: &mut PeerIface, args: &str) -> Option<()> {
    let mut parts = args.splitn(3, ' ');
    let (id, field, value) = (parts.next()?, parts.next()?, parts.next()?);
    let n = i.networks.iter_mut().find(|n| n.id.to_string() == id)?;
    let quoted = || value.strip_prefix('"').and_then(|v| v.rsplit_once('"')).map(|(v, _)| v);
    match field {
        "ssid" => n.ssid = quoted().filter(|v| (1..=32).contains(&v.len()))?.to_owned(),
        "psk" => match quoted() {
            Some(p) if (8..=63).contains(&p.len()) => n.psk = Some(p.to_owned()),
            None if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) => {
                n.psk = Some(value.to_owned());
            }
            _ => return None,
        },
        "sae_password" => n.psk = Some(quoted()?.to_owned()),
        "key_mgmt" => {
            let known = ["NONE", "WPA-PSK", "SAE", "WPA-EAP"];
            if !value.split_whitespace().all(|m| known.contains(&m)) {
                return None;
            }
            n.key_mgmt = value.to_owned();
        }
        "priority" => n.priority = value.parse().ok()?,
        "ieee80211w" => n.mfp = value.parse().ok().filter(|m| *m <= 2)?,
        _ => return None,
    }
    Some(())
}

/// The file as `wpa_config_write` writes it: globals, then one `network={...}` block each.
pub fn config_text(i: &PeerIface) -> String {
    let mut out = String::from("ctrl_interface=/var/run/wpa_supplicant\nupdate_config=1\n");
    for n in &i.networks {
        let _ = write!(out, "\nnetwork={{\n\tssid=\"{}\"\n", n.ssid);
        if let Some(p) = &n.psk {
            let _ = writeln!(out, "\tpsk=\"{p}\"");
        }
        let _ = writeln!(out, "\tkey_mgmt={}", n.key_mgmt);
        if n.priority != 0 {
            let _ = writeln!(out, "\tpriority={}", n.priority);
        }
        if n.mfp != 0 {
            let _ = writeln!(out, "\tieee80211w={}", n.mfp);
        }
        if n.disabled {
            out.push_str("\tdisabled=1\n");
        }
        out.push_str("}\n");
    }
    out
}
