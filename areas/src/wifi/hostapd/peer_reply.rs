//! The replies of the hostapd-protocol peer (see `peer.rs`), in the formats of hostapd's
//! `hostapd_ctrl_iface_status`, `hostapd_ctrl_iface_get_config`, `hostapd_ctrl_iface_sta_mib`
//! and `hostapd_ctrl_iface_receive_process` (`OK\n`, `FAIL\n`, `PONG\n`,
//! `UNKNOWN COMMAND\n`). Never does: I/O.

use std::fmt::Write as _;
use std::path::Path;

use super::peer::{PeerBss, PeerRadio, PeerState, PeerStation};

const OK: &str = "OK\n";
const FAIL: &str = "FAIL\n";

/// The reply to `cmd` received on `ifname` from the client socket `from`.
pub(super) fn answer(st: &mut PeerState, ifname: &str, cmd: &str, from: &Path) -> String {
    let (word, rest) = cmd.split_once(' ').unwrap_or((cmd, ""));
    match word {
        "PING" => "PONG\n".into(),
        "STATUS" => status(st, ifname),
        "GET_CONFIG" => bss(st, ifname).map_or(FAIL.into(), get_config),
        "STA-FIRST" => bss(st, ifname).and_then(|b| b.stations.first()).map_or(String::new(), sta),
        "STA-NEXT" => sta_next(st, ifname, rest),
        "ATTACH" => {
            st.attached.push((ifname.to_owned(), from.to_owned()));
            OK.into()
        }
        "DETACH" => {
            st.attached.retain(|(i, p)| !(i == ifname && p == from));
            OK.into()
        }
        "SET" => set(st, ifname, rest).map_or(FAIL.into(), |()| OK.into()),
        "RELOAD" => {
            // hostapd_reload_iface: every BSS of the interface is reconfigured and its beacon
            // set again (ieee802_11_set_beacon), whatever start_disabled says.
            let phy = bss(st, ifname).map(|b| b.phy.clone()).unwrap_or_default();
            st.bsses.iter_mut().filter(|b| b.phy == phy).for_each(|b| b.beaconing = true);
            OK.into()
        }
        "STOP_AP" | "UPDATE_BEACON" => match st.bsses.iter_mut().find(|b| b.ifname == ifname) {
            Some(b) => {
                b.beaconing = word == "UPDATE_BEACON";
                OK.into()
            }
            None => FAIL.into(),
        },
        "CHAN_SWITCH" => chan_switch(st, ifname, rest).map_or(FAIL.into(), |()| OK.into()),
        "DISABLE" | "ENABLE" => {
            let state = if word == "ENABLE" { "ENABLED" } else { "DISABLED" };
            radio_mut(st, ifname).map_or(FAIL.into(), |r| {
                r.state = state;
                OK.into()
            })
        }
        "WPS_PBC" => match bss(st, ifname) {
            Some(b) if b.wps_state != 0 => OK.into(),
            _ => FAIL.into(),
        },
        _ => "UNKNOWN COMMAND\n".into(),
    }
}

fn bss<'a>(st: &'a PeerState, ifname: &str) -> Option<&'a PeerBss> {
    st.bsses.iter().find(|b| b.ifname == ifname)
}

fn radio_mut<'a>(st: &'a mut PeerState, ifname: &str) -> Option<&'a mut PeerRadio> {
    let phy = bss(st, ifname)?.phy.clone();
    st.radios.iter_mut().find(|r| r.phy == phy)
}

/// `STATUS`: the interface, then every BSS of the radio.
fn status(st: &PeerState, ifname: &str) -> String {
    let Some(b) = bss(st, ifname) else { return FAIL.into() };
    let Some(r) = st.radios.iter().find(|r| r.phy == b.phy) else { return FAIL.into() };
    let (ht, vht, he) = r.ht_vht_he;
    let mut out = format!(
        "state={}\nphy={}\nfreq={}\nnum_sta_non_erp=0\nnum_sta_no_short_slot_time=0\n\
         num_sta_no_short_preamble=0\nolbc=0\nnum_sta_ht_no_gf=0\nnum_sta_no_ht=0\n\
         num_sta_ht_20_mhz=0\nnum_sta_ht40_intolerant=0\nolbc_ht=0\nht_op_mode=0x0\n\
         hw_mode={}\ncountry_code={}\ncountry3=0x20\ncac_time_seconds=0\n\
         cac_time_left_seconds=N/A\nchannel={}\nedmg_enable=0\nedmg_channel=0\n\
         secondary_channel={}\nieee80211n={}\nieee80211ac={}\nieee80211ax={}\n\
         ieee80211be=0\nbeacon_int=100\ndtim_period=2\n",
        r.state,
        r.phy,
        r.freq,
        r.hw_mode,
        r.country,
        r.channel,
        i32::from(ht && r.chwidth > 0),
        u8::from(ht),
        u8::from(vht),
        u8::from(he),
    );
    if vht {
        let seg0 = r.channel + if r.chwidth == 1 { 6 } else { 0 };
        let _ = write!(
            out,
            "vht_oper_chwidth={}\nvht_oper_centr_freq_seg0_idx={seg0}\n\
             vht_oper_centr_freq_seg1_idx=0\nvht_caps_info=338001b2\n",
            r.chwidth
        );
    }
    if ht {
        out.push_str("ht_caps_info=000c\nht_mcs_bitmask=ffff0000000000000000\n");
    }
    out.push_str("supported_rates=02 04 0b 16 0c 12 18 24 30 48 60 6c\nmax_rate=540\nmax_nss=2\n");
    out.push_str("max_txpower=20\n");
    for (i, b) in st.bsses.iter().filter(|x| x.phy == r.phy).enumerate() {
        let _ = write!(
            out,
            "bss[{i}]={}\nbssid[{i}]={}\nssid[{i}]={}\nnum_sta[{i}]={}\n",
            b.ifname,
            b.bssid,
            b.ssid,
            b.stations.len()
        );
    }
    out
}

/// `GET_CONFIG` (the passphrase shows, as hostapd shows it, when WPS and WPA are on).
fn get_config(b: &PeerBss) -> String {
    let wps = ["disabled", "not configured", "configured"];
    let mut out = format!("bssid={}\nssid={}\n", b.bssid, b.ssid);
    let _ = writeln!(out, "wps_state={}", wps.get(b.wps_state as usize).unwrap_or(&"disabled"));
    if b.wps_state != 0 && b.wpa != 0 {
        let _ = writeln!(out, "passphrase={}", b.passphrase);
    }
    if b.wpa != 0 {
        let _ = writeln!(out, "wpa={}", b.wpa);
        let mgmt: String = b.key_mgmt.split_whitespace().map(|m| format!("{m} ")).collect();
        let _ = writeln!(out, "key_mgmt={mgmt}");
        out.push_str("group_cipher=CCMP\nrsn_pairwise_cipher=CCMP\n");
    }
    out
}

/// One station, as `hostapd_ctrl_iface_sta_mib` prints it (WPA2 MIB, driver data, HT).
fn sta(s: &PeerStation) -> String {
    format!(
        "{mac}\nflags=[AUTH][ASSOC][AUTHORIZED][WMM][HT]\naid=1\ncapability=0x411\n\
         listen_interval=10\nsupported_rates=82 84 8b 96 0c 12 18 24 30 48 60 6c\n\
         timeout_next=NULLFUNC POLL\ndot11RSNAStatsSTAAddress={mac}\n\
         dot11RSNAStatsVersion=1\ndot11RSNAStatsSelectedPairwiseCipher=00-0f-ac-4\n\
         dot11RSNAStatsTKIPLocalMICFailures=0\ndot11RSNAStatsTKIPRemoteMICFailures=0\n\
         wpa=2\nAKMSuiteSelector=00-0f-ac-2\nhostapdWPAPTKState=11\n\
         hostapdWPAPTKGroupState=0\nrx_packets=17\ntx_packets=23\nrx_bytes={rx}\n\
         tx_bytes={tx}\ninactive_msec=300\nsignal={signal}\nrx_rate_info=650 mcs 7 shortGI\n\
         tx_rate_info={rate} mcs 15 shortGI\nht_mcs_bitmask=ffff0000000000000000\n\
         connected_time=42\nmax_nss=2\nht_caps_info=0x016e\n",
        mac = s.mac,
        rx = s.bytes.0,
        tx = s.bytes.1,
        signal = s.signal,
        rate = s.tx_rate,
    )
}

/// `STA-NEXT <mac>`: the station after `mac`, empty at the end, `FAIL` for an unknown one.
fn sta_next(st: &PeerState, ifname: &str, mac: &str) -> String {
    let Some(b) = bss(st, ifname) else { return FAIL.into() };
    match b.stations.iter().position(|s| s.mac.eq_ignore_ascii_case(mac.trim())) {
        Some(i) => b.stations.get(i + 1).map_or(String::new(), sta),
        None => FAIL.into(),
    }
}

/// The configuration fields the peer models (see [`set`]).
pub(super) const MODELLED: &[&str] = &[
    "ssid",
    "wpa_passphrase",
    "sae_password",
    "wpa_psk",
    "rsn_pairwise",
    "wpa",
    "wpa_key_mgmt",
    "wps_state",
    "ieee80211w",
    "ignore_broadcast_ssid",
    "ap_isolate",
    "wmm_enabled",
    "max_num_sta",
    "start_disabled",
];

/// `SET <field> <value>` with the checks of hostapd's configuration parser for the fields
/// the agent writes; any other field fails, as hostapd fails an unknown one.
pub(super) fn set(st: &mut PeerState, ifname: &str, args: &str) -> Option<()> {
    let (field, value) = args.split_once(' ')?;
    let b = st.bsses.iter_mut().find(|b| b.ifname == ifname)?;
    let number = || value.trim().parse::<u32>().ok();
    match field {
        "ssid" if (1..=32).contains(&value.len()) => b.ssid = value.to_owned(),
        "wpa_passphrase" if (8..=63).contains(&value.len()) => b.passphrase = value.to_owned(),
        "sae_password" | "wpa_psk" | "rsn_pairwise" if !value.is_empty() => {}
        "wpa" => b.wpa = number().filter(|n| *n <= 3)?,
        "wpa_key_mgmt" => b.key_mgmt = value.to_owned(),
        "wps_state" => b.wps_state = number().filter(|n| *n <= 2)?,
        "ieee80211w" => b.mfp = number().filter(|n| *n <= 2)?,
        "ignore_broadcast_ssid" => b.hidden = number().filter(|n| *n <= 2)?,
        "ap_isolate" => b.isolate = number()?,
        "wmm_enabled" => b.wmm = number()?,
        // hostapd: "Invalid max_num_sta=%d; allowed range 0..%d" (MAX_STA_COUNT 2007).
        "max_num_sta" => b.max_sta = number().filter(|n| *n <= 2007)?,
        "start_disabled" => b.start_disabled = number()?,
        _ => return None,
    }
    Some(())
}

/// `CHAN_SWITCH <cs_count> <freq> [center_freq1=] [bandwidth=] [ht] [vht] [he]`: the radio
/// moves to `freq` with the width and standards given, as `hostapd_parse_freq_params` reads
/// them (without ` ht` the radio is legacy afterwards, without `bandwidth=` 20 MHz).
pub(super) fn chan_switch(st: &mut PeerState, ifname: &str, args: &str) -> Option<()> {
    let mut words = args.split_whitespace();
    let _count: u32 = words.next()?.parse().ok()?;
    let freq: u32 = words.next()?.parse().ok()?;
    let channel = channel_of(freq)?;
    let rest = format!(" {}", words.collect::<Vec<_>>().join(" "));
    let param = |name: &str| {
        rest.split_whitespace().find_map(|w| w.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    let width: u32 = param("bandwidth").unwrap_or(20);
    let r = radio_mut(st, ifname)?;
    r.freq = freq;
    r.channel = channel;
    r.ht_vht_he = (rest.contains(" ht"), rest.contains(" vht"), rest.contains(" he"));
    r.chwidth = match width {
        80 => 1,
        160 => 2,
        _ => 0,
    };
    Some(())
}

/// The channel of a frequency (2.4 and 5 GHz).
fn channel_of(freq: u32) -> Option<u32> {
    match freq {
        2484 => Some(14),
        2412..=2472 => Some((freq - 2407) / 5),
        5160..=5885 => Some((freq - 5000) / 5),
        _ => None,
    }
}

/// `channel=` of a configuration file: the radio's channel, width and standards unchanged.
pub(super) fn set_channel(st: &mut PeerState, ifname: &str, channel: u32) -> Option<()> {
    let freq = match channel {
        14 => 2484,
        1..=13 => 2407 + 5 * channel,
        32..=177 => 5000 + 5 * channel,
        _ => return None,
    };
    let r = radio_mut(st, ifname)?;
    r.freq = freq;
    r.channel = channel;
    Some(())
}
