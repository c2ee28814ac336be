//! A channel change that keeps the radio's width and standards: the `CHAN_SWITCH` arguments
//! (hostapd's `hostapd_parse_freq_params`: without ` ht` / ` vht` / ` he` and `bandwidth=` the
//! radio would fall back to legacy 20 MHz) and the configuration lines that must follow the
//! channel (`*_oper_centr_freq_seg0_idx`, the `[HT40+]` / `[HT40-]` of `ht_capab`), so the file
//! hostapd reads at its next start stays valid.
//!
//! Never does: I/O, or check that the channel is allowed (the plugin did).

use super::conf;
use super::parse;

/// What a radio operates with, from its `STATUS`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Operating {
    /// The band (`2.4GHz`, `5GHz`, `6GHz`).
    pub band: String,
    /// The channel width in MHz (20, 40, 80, 160).
    pub width: u32,
    /// 802.11n, ac, ax.
    pub ht_vht_he: (bool, bool, bool),
}

impl Operating {
    /// From a `STATUS` reply.
    pub fn of(status: &parse::Fields) -> Operating {
        let flag = |k: &str| status.get(k).is_some_and(|v| v == "1");
        let width = match parse::bandwidth(status) {
            "40MHz" => 40,
            "80MHz" => 80,
            "160MHz" | "80+80MHz" => 160,
            _ => 20,
        };
        Operating {
            band: parse::band(status).to_owned(),
            width,
            ht_vht_he: (flag("ieee80211n"), flag("ieee80211ac"), flag("ieee80211ax")),
        }
    }
}

/// The first channel of the band's channel numbering (`5GHz`: 36; `6GHz`: 1; 149 starts a
/// new block on 5 GHz).
fn block_start(band: &str, channel: u32) -> u32 {
    match band {
        "6GHz" => 1,
        _ if channel >= 149 => 149,
        _ => 36,
    }
}

/// The centre channel and the secondary channel offset (+1 above, -1 below, 0 none: the
/// other half of the channel's 40 MHz pair) of `channel` at `width` MHz.
pub fn center(band: &str, channel: u32, width: u32) -> (u32, i32) {
    let (center_channel, _) = center_of_block(band, channel, width);
    let (_, offset) = center_of_block(band, channel, width.min(40));
    (center_channel, offset)
}

fn center_of_block(band: &str, channel: u32, width: u32) -> (u32, i32) {
    if band == "2.4GHz" {
        return match width {
            20 => (channel, 0),
            _ if channel <= 7 => (channel + 2, 1),
            _ => (channel - 2, -1),
        };
    }
    let span = match width {
        40 => 8,
        80 => 16,
        160 => 32,
        _ => return (channel, 0),
    };
    let first = block_start(band, channel);
    let base = first + (channel.saturating_sub(first) / span) * span;
    let center = base + span / 2 - 2;
    (center, if channel < center { 1 } else { -1 })
}

/// The `CHAN_SWITCH` command moving a radio operating as `op` to `mhz` / `channel`.
pub fn chan_switch(op: &Operating, channel: u32, mhz: u32) -> String {
    let (center_channel, offset) = center(&op.band, channel, op.width);
    let mut cmd = format!("CHAN_SWITCH 5 {mhz}");
    if op.width > 20 {
        let center_mhz = i64::from(mhz) + (i64::from(center_channel) - i64::from(channel)) * 5;
        cmd.push_str(&format!(" center_freq1={center_mhz} sec_channel_offset={offset}"));
    }
    cmd.push_str(&format!(" bandwidth={}", op.width));
    let (ht, vht, he) = op.ht_vht_he;
    for (on, flag) in [(ht, " ht"), (vht, " vht"), (he, " he")] {
        if on {
            cmd.push_str(flag);
        }
    }
    cmd
}

/// The lines of `ifname`'s section that follow a move to `channel` (only those the file
/// has): the centre channel indexes and the HT40 direction.
pub fn file_edits(text: &str, ifname: &str, op: &Operating, channel: u32) -> Vec<(String, String)> {
    let (center_channel, offset) = center(&op.band, channel, op.width);
    let mut out = Vec::new();
    if op.width >= 80 {
        for key in [
            "vht_oper_centr_freq_seg0_idx",
            "he_oper_centr_freq_seg0_idx",
            "eht_oper_centr_freq_seg0_idx",
        ] {
            if conf::get(text, ifname, key).is_some() {
                out.push((key.to_owned(), center_channel.to_string()));
            }
        }
    }
    if let Some(capab) = conf::get(text, ifname, "ht_capab") {
        let (from, to) = if offset > 0 { ("[HT40-]", "[HT40+]") } else { ("[HT40+]", "[HT40-]") };
        if op.width >= 40 && capab.contains(from) {
            out.push(("ht_capab".to_owned(), capab.replace(from, to)));
        }
    }
    out
}
