//! ubus JSON replies as the OpenWrt Wi-Fi backend decodes them: the text `ubus call` prints is
//! parsed as `Ubus::call` does (serde_json), then handed to the production mapping code
//! (areas/src/wifi/openwrt/map.rs, compiled into this target as it is: the module is private
//! to usp-areas) for rpcd's `iwinfo info` + `iwinfo freqlist`, hostapd's `get_clients`
//! entries, `iwinfo assoclist` entries and `iwinfo scan` results.
//!
//! Input: one selector byte, then the reply text; for `info` + `freqlist` the two replies
//! are separated by a NUL byte. Checks besides "no panic": every value the mapping sets is
//! within its TR-181 type (the row's values print and parse back).
#![no_main]
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;
use serde_json::Value as Json;

/// What map.rs reaches through `crate::`: the public usp-areas modules of the same names.
mod openwrt {
    pub use usp_areas::openwrt::uci;
}
mod wifi {
    pub use usp_areas::wifi::model;
}
#[path = "../../areas/src/wifi/openwrt/map.rs"]
mod map;

use wifi::model::Row;

fn json(text: &[u8]) -> Json {
    // As Ubus::call: empty output is `{}`; unreadable output is an error (then: nothing).
    let text = String::from_utf8_lossy(text);
    if text.trim().is_empty() {
        return Json::Object(Default::default());
    }
    serde_json::from_str(&text).unwrap_or(Json::Null)
}

/// Every value the mapping set prints as wire text that parses back, under its own type, to
/// the same value (what a Get would send must be a valid value of that type).
fn check(row: &Row) {
    for (name, value) in &row.values {
        let text = value.to_string();
        let back = value.param_type().parse(&text);
        assert!(matches!(&back, Ok(v) if v == value), "{name} = {text:?}: {back:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    match selector % 5 {
        0 | 1 => {
            let (info, freqs) = match rest.iter().position(|b| *b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            let band = if selector % 5 == 0 { "2.4GHz" } else { "5GHz" };
            let mut row = Row::new("radio0");
            map::radio_runtime(&mut row, band, &json(info), &json(freqs));
            check(&row);
        }
        2 => {
            // get_clients: a map from MAC address to the station's flags.
            let reply = json(rest);
            let clients = reply.get("clients").and_then(Json::as_object).cloned().unwrap_or_default();
            for (mac, c) in clients.iter().take(64) {
                check(&map::station_from_hostapd("ap0", &mac.to_ascii_lowercase(), c));
            }
        }
        3 => {
            let reply = json(rest);
            for a in reply.get("results").and_then(Json::as_array).into_iter().flatten().take(64) {
                check(&map::station_from_iwinfo("ap0", a));
            }
        }
        _ => {
            let reply = json(rest);
            for r in reply.get("results").and_then(Json::as_array).into_iter().flatten().take(64) {
                check(&map::neighbour("radio0", r));
            }
        }
    }
});
