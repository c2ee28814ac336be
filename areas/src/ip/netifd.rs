//! On OpenWrt, `Device.IP.Interface.{i}` rows are netifd's logical interfaces (`lan`, `wan`,
//! `wan6`, `loopback`), as `ubus call network.interface dump` lists them: the row key and
//! `Name` are the logical name, the addresses are netifd's (`ipv4-address`, `ipv6-address`),
//! and status, MTU and counters come from the interface's L3 device through rtnetlink.
//!
//! The dump runs the `ubus` program, so it runs on a [`Worker`]: the plugin asks for a new one
//! when its copy is older than [`REFRESH`] and serves the last one meanwhile (rows appear once
//! the first dump is in, announced with `rows_changed`).
//!
//! Never does: call ubus on the data-model thread, or change netifd's configuration.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::Host;
use usp_datamodel::value::Value;

use crate::live::links;
use crate::netlink::route::{Addr, IFA_F_PERMANENT, Link};
use crate::openwrt::OsError;
use crate::openwrt::ubus::Ubus;
use crate::worker::Worker;

/// How old a dump may be before another is asked for.
pub const REFRESH: Duration = Duration::from_secs(5);

/// One logical interface of the dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIface {
    /// Its name (`lan`).
    pub name: String,
    /// Whether netifd has it up.
    pub up: bool,
    /// Its L3 device (`br-lan`), while up.
    pub l3_device: Option<String>,
    /// Its protocol (`static`, `dhcp`, `dhcpv6`, ...).
    pub proto: String,
    /// Its addresses with their prefix lengths and lifetimes, as [`Addr`]s (index 0).
    pub addrs: Vec<Addr>,
}

/// The interfaces of a `network.interface dump` reply (malformed entries are skipped).
pub fn parse_dump(reply: &Json) -> Vec<NetIface> {
    let Some(list) = reply.get("interface").and_then(Json::as_array) else { return Vec::new() };
    list.iter()
        .filter_map(|i| {
            let name = i.get("interface")?.as_str()?.to_owned();
            let text = |k: &str| i.get(k).and_then(Json::as_str).map(str::to_owned);
            let mut addrs = Vec::new();
            for key in ["ipv4-address", "ipv6-address"] {
                for a in i.get(key).and_then(Json::as_array).into_iter().flatten() {
                    let Some(ip) = a
                        .get("address")
                        .and_then(Json::as_str)
                        .and_then(|s| s.parse::<IpAddr>().ok())
                    else {
                        continue;
                    };
                    let num = |k: &str| {
                        a.get(k)
                            .and_then(Json::as_u64)
                            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
                    };
                    let valid = num("valid");
                    addrs.push(Addr {
                        index: 0,
                        address: ip,
                        prefix_len: num("mask").map_or(0, |m| m.min(128) as u8),
                        flags: if valid.is_none() { IFA_F_PERMANENT } else { 0 },
                        preferred: num("preferred").unwrap_or(u32::MAX),
                        valid: valid.unwrap_or(u32::MAX),
                    });
                }
            }
            Some(NetIface {
                name,
                up: i.get("up").and_then(Json::as_bool).unwrap_or(false),
                l3_device: text("l3_device"),
                proto: text("proto").unwrap_or_default(),
                addrs,
            })
        })
        .collect()
}

/// The last dump and the worker that takes the next.
pub struct Netifd {
    worker: Worker<(), Result<Vec<NetIface>, OsError>>,
    ifaces: Vec<NetIface>,
    asked: Option<Instant>,
    pending: bool,
}

impl std::fmt::Debug for Netifd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netifd").field("ifaces", &self.ifaces.len()).finish()
    }
}

impl Netifd {
    /// A worker calling `ubus` as `host`'s paths say.
    pub fn new(host: &Host) -> std::io::Result<Netifd> {
        let ubus = Ubus::new(host.paths.ubus_program.clone(), host.paths.ubus_socket.clone());
        let worker = Worker::spawn("netifd-dump", host.waker.clone(), move |()| {
            let reply =
                ubus.call("network.interface", "dump", &Json::Object(Default::default()))?;
            Ok(parse_dump(&reply))
        })?;
        Ok(Netifd { worker, ifaces: Vec::new(), asked: None, pending: false })
    }

    /// Asks for a new dump if the last is older than [`REFRESH`] and none is on its way.
    pub fn refresh(&mut self) {
        if !self.pending && self.asked.is_none_or(|t| t.elapsed() >= REFRESH) {
            self.pending = self.worker.submit(()).is_ok();
            self.asked = Some(Instant::now());
        }
    }

    /// Takes the dumps that arrived; true when the set of interfaces changed.
    pub fn poll(&mut self) -> bool {
        let mut changed = false;
        for result in self.worker.results().collect::<Vec<_>>() {
            self.pending = false;
            match result {
                Ok(ifaces) => {
                    let names =
                        |l: &[NetIface]| l.iter().map(|i| i.name.clone()).collect::<Vec<_>>();
                    changed |= names(&ifaces) != names(&self.ifaces);
                    self.ifaces = ifaces;
                }
                Err(e) => log::warn!("Device.IP.Interface: network.interface dump: {e}"),
            }
        }
        changed
    }

    /// Every logical interface of the last dump.
    pub fn ifaces(&self) -> &[NetIface] {
        &self.ifaces
    }

    /// The logical interface `name`.
    pub fn iface(&self, name: &str) -> Option<&NetIface> {
        self.ifaces.iter().find(|i| i.name == name)
    }
}

/// A parameter of the interface row of logical interface `i` itself or of its `Stats.`,
/// measured on its L3 device `link` (none while it is down: counters read 0).
pub fn value(
    i: &NetIface,
    link: Option<&Link>,
    obj: &str,
    name: &str,
    lower: &str,
) -> Option<Value> {
    let s = |t: &str| Value::String(t.into());
    match (name, link) {
        ("Name", _) => Some(s(&i.name)),
        ("Enable", _) => Some(Value::Boolean(i.up)),
        ("Status", Some(l)) if i.up => Some(s(links::status(l))),
        ("Status", _) => Some(s(if i.up { "LowerLayerDown" } else { "Down" })),
        (_, Some(l)) => super::interfaces::interface_value(l, obj, name, lower),
        (_, None) if obj.ends_with("Stats.") => Some(Value::UnsignedLong(0)),
        ("LowerLayers", None) => Some(s("")),
        ("IPv6Enable" | "Loopback", None) => Some(Value::Boolean(false)),
        ("MaxMTUSize", None) => Some(Value::UnsignedInt(0)),
        ("Type", None) => Some(s("Normal")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_dump_as_netifd_writes_it_parses() {
        let reply: Json = serde_json::from_str(
            r#"{"interface":[
              {"interface":"lan","up":true,"l3_device":"br-lan","proto":"static","device":"br-lan",
               "ipv4-address":[{"address":"192.168.1.1","mask":24}],
               "ipv6-address":[{"address":"fd00::1","mask":60,"preferred":3600,"valid":7200}]},
              {"interface":"wan","up":false,"proto":"dhcp","ipv4-address":[]},
              {"up":true}
            ]}"#,
        )
        .unwrap();
        let l = parse_dump(&reply);
        assert_eq!(l.len(), 2, "the entry without a name is skipped");
        assert_eq!(
            (l[0].name.as_str(), l[0].up, l[0].l3_device.as_deref()),
            ("lan", true, Some("br-lan"))
        );
        assert_eq!(l[0].addrs[0].prefix_len, 24);
        assert_eq!(l[0].addrs[0].valid, u32::MAX);
        assert_eq!((l[0].addrs[1].preferred, l[0].addrs[1].valid), (3600, 7200));
        assert_eq!(
            (l[1].up, l[1].l3_device.as_deref(), l[1].proto.as_str()),
            (false, None, "dhcp")
        );
        assert!(parse_dump(&Json::Null).is_empty());
    }
}
