//! Declares `Device.WiFi.` from the generated tables of [`super::tr181`] and keeps what the
//! plugin needs to serve it: for every declared object its row [`Kind`] and the prefix of its
//! parameters' names in a [`Row`](super::model::Row) (`"Stats."`), for every parameter its
//! relative name, and the ids of the commands.
//!
//! Every parameter is live: the backend owns the values (UCI, the lab's state file), the engine
//! stores none. Read-write parameters are applied through `Plugin::set` / `commit`. The tables
//! are external (rows come from the backend) and read-only to controllers: radios, interfaces
//! and stations are not created by a USP Add here.

use std::collections::HashMap;

use usp_datamodel::schema::{CmdId, ObjAccess, ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::ParamType;

use super::model::Kind;
use super::tr181::{COMMANDS, OBJECTS};
use crate::tr181;

/// Where an object's values live: the row kind and the name prefix inside the row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ObjInfo {
    pub kind: Kind,
    pub prefix: &'static str,
}

/// The ids the plugin dispatches on, filled by [`Ids::register`].
#[derive(Debug, Default)]
pub(super) struct Ids {
    /// Every declared object.
    pub objects: HashMap<ObjId, ObjInfo>,
    /// Every declared parameter: its name relative to its row (`"Stats.BytesSent"`) and type.
    pub params: HashMap<ParamId, (String, ParamType)>,
    /// Every declared parameter by row kind and relative name, with its object.
    pub by_name: HashMap<(Kind, String), (ObjId, ParamId)>,
    /// The table of each row kind.
    pub tables: HashMap<Kind, ObjId>,
    /// `NeighboringWiFiDiagnostic()`.
    pub scan: Option<CmdId>,
    /// `Device.WiFi.Reset()`.
    pub reset: Option<CmdId>,
    /// `AccessPoint.{i}.Security.Reset()`.
    pub security_reset: Option<CmdId>,
    /// `AccessPoint.{i}.WPS.InitiateWPSPBC()`.
    pub wps_pbc: Option<CmdId>,
}

/// The row kind and prefix of an object path of the generated table.
fn info_of(path: &'static str) -> ObjInfo {
    let body = path.strip_prefix("Device.WiFi.").unwrap_or("");
    let (kind, rest) = if let Some(r) = body.strip_prefix("AccessPoint.{i}.AssociatedDevice.{i}.") {
        (Kind::Station, r)
    } else if let Some(r) = body.strip_prefix("AccessPoint.{i}.") {
        (Kind::AccessPoint, r)
    } else if let Some(r) = body.strip_prefix("Radio.{i}.") {
        (Kind::Radio, r)
    } else if let Some(r) = body.strip_prefix("SSID.{i}.") {
        (Kind::Ssid, r)
    } else if let Some(r) = body.strip_prefix("EndPoint.{i}.Profile.{i}.") {
        (Kind::Profile, r)
    } else if let Some(r) = body.strip_prefix("EndPoint.{i}.") {
        (Kind::EndPoint, r)
    } else {
        (Kind::Root, body)
    };
    ObjInfo { kind, prefix: rest }
}

impl Ids {
    /// Declares every object, parameter and command of the generated tables; a writable
    /// parameter not in `settable` (when given) is declared read-only.
    pub(super) fn register(
        b: &mut SchemaBuilder,
        settable: Option<&[(Kind, &'static str)]>,
    ) -> Ids {
        let mut ids = Ids::default();
        for o in OBJECTS {
            let obj = tr181::object(b, o, ObjAccess::ReadOnly);
            if o.table {
                b.external(obj);
            }
            let info = info_of(o.path);
            if o.table {
                ids.tables.insert(info.kind, obj);
            }
            ids.objects.insert(obj, info);
            for p in o.params {
                let name = format!("{}{}", info.prefix, p.name);
                let rw = p.rw
                    && settable
                        .is_none_or(|s| s.iter().any(|(k, n)| *k == info.kind && *n == name));
                let def = tr181::param(b, obj, p);
                def.live();
                if rw {
                    def.rw();
                }
                if let Some(id) = b.param_id(obj, p.name) {
                    ids.by_name.insert((info.kind, name.clone()), (obj, id));
                    ids.params.insert(id, (name, p.ty));
                }
            }
            tr181::unique_keys(b, obj, o, |_| false);
        }
        ids.register_commands(b);
        ids
    }

    fn register_commands(&mut self, b: &mut SchemaBuilder) {
        for c in COMMANDS {
            let id = tr181::command(b, c);
            match (c.obj, c.name) {
                ("Device.WiFi.", "NeighboringWiFiDiagnostic") => self.scan = id,
                ("Device.WiFi.", "Reset") => self.reset = id,
                (_, "InitiateWPSPBC") => self.wps_pbc = id,
                (_, "Reset") => self.security_reset = id,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_paths_map_to_row_kinds_and_prefixes() {
        let station = info_of("Device.WiFi.AccessPoint.{i}.AssociatedDevice.{i}.Stats.");
        assert_eq!(station, ObjInfo { kind: Kind::Station, prefix: "Stats." });
        let sec = info_of("Device.WiFi.AccessPoint.{i}.Security.");
        assert_eq!(sec, ObjInfo { kind: Kind::AccessPoint, prefix: "Security." });
        assert_eq!(info_of("Device.WiFi.").kind, Kind::Root);
        assert_eq!(info_of("Device.WiFi.Radio.{i}.").prefix, "");
    }

    #[test]
    fn the_generated_tables_hold_what_oktopus_reads() {
        let find = |obj: &str, name: &str| {
            OBJECTS
                .iter()
                .find(|o| o.path == obj)
                .and_then(|o| o.params.iter().find(|p| p.name == name))
        };
        let radio = "Device.WiFi.Radio.{i}.";
        for name in [
            "Channel",
            "AutoChannelEnable",
            "CurrentOperatingChannelBandwidth",
            "OperatingFrequencyBand",
            "SupportedOperatingChannelBandwidths",
        ] {
            assert!(find(radio, name).is_some(), "{name}");
        }
        assert!(find("Device.WiFi.SSID.{i}.", "SSID").is_some_and(|p| p.rw));
        let sec = "Device.WiFi.AccessPoint.{i}.Security.";
        assert!(find(sec, "ModesSupported").is_some());
        assert!(find(sec, "KeyPassphrase").is_some_and(|p| p.hidden && p.rw));
    }
}
