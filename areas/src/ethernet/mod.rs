//! `Device.Ethernet.Interface.{i}.` and its `Stats.` (TR-181 2.19), read live: the kernel's
//! Ethernet devices (hardware type `ARPHRD_ETHER` with no virtual kind, or a `veth` / `dsa`
//! port) from rtnetlink, link speed and duplex from `/sys/class/net/NAME/`. Rows are keyed by
//! the interface name. The declarations are generated from the BBF XML
//! (`scripts/gen-diag-schema.py` → [`tr181`]).
//!
//! Never does: change a device (every parameter is served read-only), or list bridges,
//! VLANs and other virtual devices (they are not Ethernet interfaces in TR-181's sense).

#[cfg(test)]
mod tests;
#[rustfmt::skip]
mod tr181;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::Value;

use crate::Host;
use crate::live::Ids;
use crate::live::links::{self, Links};
use crate::netlink::route::{ARPHRD_ETHER, IFF_UP, Link, mac_text};

/// The Ethernet area's plugin.
pub fn build(_host: &Host) -> Vec<Box<dyn Plugin>> {
    vec![Box::new(Ethernet::default())]
}

/// Whether a link is an Ethernet interface: Ethernet framing and a physical device (no
/// virtual kind), a veth end (containers) or a DSA switch port (OpenWrt).
pub fn is_ethernet(link: &Link) -> bool {
    link.hw_type == ARPHRD_ETHER && matches!(link.kind.as_deref(), None | Some("veth" | "dsa"))
}

/// The `Device.Ethernet.` plugin.
#[derive(Debug, Default)]
pub struct Ethernet {
    ids: Ids,
    snap: Links,
}

/// A file of `/sys/class/net/NAME/`, trimmed.
fn sys(name: &str, file: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/{file}"))
        .ok()
        .map(|s| s.trim().to_owned())
}

fn value(link: &Link, obj: &str, name: &str) -> Option<Value> {
    if obj.ends_with("Stats.") {
        return links::stat(link, name).map(Value::UnsignedLong);
    }
    Some(match name {
        "Enable" => Value::Boolean(link.flags & IFF_UP != 0),
        "Status" => Value::String(links::status(link).into()),
        "Name" => Value::String(link.name.as_str().into()),
        "MACAddress" => Value::String(mac_text(&link.mac).into()),
        "CurrentBitRate" => {
            let mbps = sys(&link.name, "speed").and_then(|s| s.parse::<u32>().ok());
            Value::UnsignedInt(mbps.unwrap_or(0))
        }
        "CurrentDuplexMode" => Value::String(
            match sys(&link.name, "duplex").as_deref() {
                Some("full") => "Full",
                Some("half") => "Half",
                _ => "Unknown",
            }
            .into(),
        ),
        _ => return None,
    })
}

impl Plugin for Ethernet {
    fn name(&self) -> &'static str {
        "Ethernet"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids = Ids::register(b, tr181::OBJECTS, &[]);
    }

    fn get(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        self.snap.refresh(false);
        let gone =
            || UspError::new(ErrorCode::ObjectDoesNotExist, format!("{:?} is gone", inst.keys));
        let link = inst.keys.first().cloned().flatten().and_then(|k| self.snap.link(&k).cloned());
        let link = link.ok_or_else(gone)?;
        for &p in params {
            let (obj, name) = self
                .ids
                .param(p)
                .ok_or_else(|| UspError::internal("Ethernet: unknown parameter"))?;
            out.push(value(&link, obj, name).ok_or_else(gone)?);
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        _table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        self.snap.refresh(false);
        Ok(self.snap.links.iter().filter(|l| is_ethernet(l)).map(|l| l.name.clone()).collect())
    }
}
