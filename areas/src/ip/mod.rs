//! `Device.IP.` (TR-181 2.19): `Interface.{i}.` with `IPv4Address.{i}.`, `IPv6Address.{i}.`
//! and `Stats.`, read live from the kernel through rtnetlink (one dump answers a whole Get,
//! [`crate::live::links`]), and `Diagnostics.` with the async commands `IPPing()`,
//! `TraceRoute()`, `DownloadDiagnostics()`, `UploadDiagnostics()`, `UDPEchoDiagnostics()` and
//! `ServerSelectionDiagnostics()` run on threads of their own ([`diagnostics`]).
//!
//! Rows are keyed by the kernel's interface name and by the address text; on OpenWrt they are
//! netifd's logical interfaces instead ([`netifd`]: `lan`, `wan`, from
//! `ubus call network.interface dump`), measured on their L3 device. Every parameter is
//! read-only here (the XML's writable ones are served read-only: configuration belongs to the
//! platform's network manager). The declarations are generated from the BBF XML
//! (`scripts/gen-diag-schema.py` → [`tr181`]).
//!
//! Never does: change the system's interfaces or addresses.

pub mod diagnostics;
mod interfaces;
#[cfg(feature = "openwrt")]
pub mod netifd;
#[cfg(test)]
mod netns_tests;
#[cfg(all(test, feature = "openwrt"))]
mod openwrt_tests;
#[cfg(test)]
mod tests;
#[rustfmt::skip]
mod tr181;

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin};
use usp_datamodel::schema::{CmdId, ObjId, SchemaBuilder};
use usp_datamodel::value::Value;

use crate::Host;
use crate::live::Ids;
use crate::live::links::Links;

const V4: &str = "Device.IP.Interface.{i}.IPv4Address.{i}.";
const V6: &str = "Device.IP.Interface.{i}.IPv6Address.{i}.";

/// The plugins of the IP area, on every platform (the lab's interfaces are the machine's).
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    vec![Box::new(Ip::new(host))]
}

/// The `Device.IP.` plugin.
pub struct Ip {
    ids: Ids,
    snap: Links,
    diag: diagnostics::Diagnostics,
    #[cfg(feature = "openwrt")]
    netifd: Option<netifd::Netifd>,
}

impl std::fmt::Debug for Ip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ip")
    }
}

impl Ip {
    /// Has `https://` Download/UploadDiagnostics trust the CAs of `ca_file` instead of the
    /// system bundle.
    pub fn trusting(mut self, ca_file: std::path::PathBuf) -> Ip {
        self.diag.ca_file = Some(ca_file);
        self
    }

    /// Serves the kernel's interfaces; diagnostics wake the data-model thread through
    /// `host.waker` when they end.
    pub fn new(host: &Host) -> Ip {
        Ip {
            ids: Ids::default(),
            snap: Links::default(),
            diag: diagnostics::Diagnostics::new(host),
            #[cfg(feature = "openwrt")]
            netifd: (host.platform == crate::Platform::OpenWrt)
                .then(|| netifd::Netifd::new(host))
                .and_then(|n| n.map_err(|e| log::error!("IP: no netifd worker: {e}")).ok()),
        }
    }

    /// The row keys of `Device.IP.Interface.`: netifd's interfaces on OpenWrt, the kernel's
    /// links elsewhere.
    fn interface_keys(&mut self) -> Vec<String> {
        #[cfg(feature = "openwrt")]
        if let Some(n) = &mut self.netifd {
            n.refresh();
            return n.ifaces().iter().map(|i| i.name.clone()).collect();
        }
        self.snap.links.iter().map(|l| l.name.clone()).collect()
    }

    /// The kernel device of interface row `key`.
    fn device(&self, key: &str) -> Option<String> {
        #[cfg(feature = "openwrt")]
        if let Some(n) = &self.netifd {
            return n.iface(key).and_then(|i| i.l3_device.clone());
        }
        Some(key.to_owned())
    }

    /// The addresses of interface row `key` in family `v6`.
    fn addrs(&self, key: &str, v6: bool) -> Vec<crate::netlink::route::Addr> {
        #[cfg(feature = "openwrt")]
        if let Some(n) = &self.netifd {
            let addrs = n.iface(key).map(|i| i.addrs.clone()).unwrap_or_default();
            return addrs.into_iter().filter(|a| a.address.is_ipv6() == v6).collect();
        }
        self.snap.addrs_of(key, v6).cloned().collect()
    }

    /// The kernel device of the `Device.IP.Interface.N.` row `path` names (7027 when none).
    fn device_of_path(&mut self, ctx: &Ctx, path: &str) -> Result<String, UspError> {
        let wanted = format!("{}.", path.trim_end_matches('.'));
        let table = self.ids.table("Device.IP.Interface.{i}.");
        self.snap.refresh(true);
        let key = self.interface_keys().into_iter().find(|k| {
            let n = table.and_then(|t| ctx.row_number(t, &[], k));
            n.is_some_and(|n| format!("Device.IP.Interface.{n}.") == wanted)
        });
        key.and_then(|k| self.device(&k)).ok_or_else(|| {
            let msg = format!("Interface '{path}' is no IP interface that is up");
            UspError::new(ErrorCode::InvalidCommandArgs, msg)
        })
    }

    /// A parameter of the interface row `key` itself or of its `Stats.`.
    fn interface_value(&self, ctx: &Ctx, key: &str, obj: &str, name: &str) -> Option<Value> {
        let dev = self.device(key);
        let link = dev.as_deref().and_then(|d| self.snap.link(d));
        let lower = match (&dev, name) {
            (Some(d), "LowerLayers") => Self::lower_layer(ctx, d),
            _ => String::new(),
        };
        #[cfg(feature = "openwrt")]
        if let Some(n) = &self.netifd {
            return netifd::value(n.iface(key)?, link, obj, name, &lower);
        }
        interfaces::interface_value(link?, obj, name, &lower)
    }

    /// The `Device.Ethernet.Interface.N.` row the link named `name` is, if that table lists it.
    fn lower_layer(ctx: &Ctx, name: &str) -> String {
        let table = ctx.schema().obj_by_path("Device.Ethernet.Interface.{i}.");
        table
            .and_then(|t| ctx.row_number(t, &[], name))
            .map_or_else(String::new, |n| format!("Device.Ethernet.Interface.{n}."))
    }

    fn value(&mut self, ctx: &Ctx, inst: &Instance, obj: &str, name: &str) -> Option<Value> {
        if obj == "Device.IP." {
            return Some(Value::Boolean(match name {
                "IPv4Capable" => std::path::Path::new("/proc/sys/net/ipv4").is_dir(),
                _ => std::path::Path::new("/proc/net/if_inet6").is_file(),
            }));
        }
        if obj == "Device.IP.Diagnostics." {
            return diagnostics::capability(name);
        }
        let iface = inst.keys.first().cloned().flatten()?;
        self.snap.refresh(true);
        let key = inst.keys.get(1).cloned().flatten();
        match obj {
            V4 | V6 => {
                let v6 = obj == V6;
                let addrs = self.addrs(&iface, v6);
                let a = addrs.iter().find(|a| Some(a.address.to_string().into()) == key)?;
                if v6 {
                    interfaces::ipv6_value(a, name, ctx.now().wall)
                } else {
                    interfaces::ipv4_value(a, name)
                }
            }
            _ => self.interface_value(ctx, &iface, obj, name),
        }
    }
}

impl Plugin for Ip {
    fn name(&self) -> &'static str {
        "IP"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids = Ids::register(b, tr181::OBJECTS, tr181::COMMANDS);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[usp_datamodel::schema::ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        for &p in params {
            let (obj, name) =
                self.ids.param(p).ok_or_else(|| UspError::internal("IP: unknown parameter"))?;
            let v = self.value(ctx, inst, obj, name).ok_or_else(|| {
                UspError::new(
                    ErrorCode::ObjectDoesNotExist,
                    format!("{obj}{name}: {:?} is gone", inst.keys),
                )
            })?;
            out.push(v);
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        table: ObjId,
        parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        let v4 = self.ids.table(V4) == Some(table);
        let v6 = self.ids.table(V6) == Some(table);
        self.snap.refresh(true);
        if !(v4 || v6) {
            return Ok(self.interface_keys());
        }
        let Some(iface) = parent.key() else { return Ok(Vec::new()) };
        Ok(self.addrs(iface, v6).iter().map(|a| a.address.to_string()).collect())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        _inst: &Instance,
        input: &[(Box<str>, Value)],
        handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        let name = self
            .ids
            .command(cmd)
            .ok_or_else(|| UspError::new(ErrorCode::CommandFailure, "unknown command"))?;
        let iface = input.iter().find(|(k, _)| &**k == "Interface").map(|(_, v)| v.to_string());
        let device = match iface.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            Some(path) => Some(self.device_of_path(ctx, path)?),
            None => None,
        };
        self.diag.start(name, input, device, handle)
    }

    fn cancel(&mut self, ctx: &mut Ctx, handle: OpHandle) -> Result<(), UspError> {
        self.diag.cancel(ctx, handle)
    }

    fn start(&mut self, _ctx: &mut Ctx) {
        #[cfg(feature = "openwrt")]
        if let Some(n) = &mut self.netifd {
            n.refresh();
        }
    }

    fn poll(&mut self, ctx: &mut Ctx) {
        self.diag.poll(ctx);
        #[cfg(feature = "openwrt")]
        if let Some(n) = &mut self.netifd {
            if n.poll() {
                if let Some(t) = ctx.schema().obj_by_path("Device.IP.Interface.{i}.") {
                    ctx.rows_changed(t);
                }
            }
        }
    }
}
