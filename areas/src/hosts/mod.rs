//! `Device.Hosts.Host.{i}.` with its `IPv4Address.{i}.` and `IPv6Address.{i}.` (TR-181 2.19):
//! the LAN's hosts from the kernel's neighbour table and dnsmasq's lease file
//! ([`crate::PlatformPaths::dhcp_leases`]), merged by MAC address ([`scan`]), read live (a
//! 500 ms cache answers one Get). Rows are keyed by MAC address; `Layer3Interface` names the
//! `Device.IP.Interface.{i}.` row the host was seen on. The declarations are generated from
//! the BBF XML (`scripts/gen-diag-schema.py` → [`tr181`]).
//!
//! Never does: probe the network, or change leases or the neighbour table.

pub mod scan;
#[cfg(test)]
mod tests;
#[rustfmt::skip]
mod tr181;

use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::Value;

use self::scan::HostEntry;
use crate::Host;
use crate::live::Ids;
use crate::live::links::MAX_AGE;

const HOST: &str = "Device.Hosts.Host.{i}.";
const V4: &str = "Device.Hosts.Host.{i}.IPv4Address.{i}.";
const V6: &str = "Device.Hosts.Host.{i}.IPv6Address.{i}.";

/// The Hosts area's plugin.
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    vec![Box::new(Hosts::new(host.paths.dhcp_leases.clone()))]
}

/// The `Device.Hosts.` plugin.
#[derive(Debug)]
pub struct Hosts {
    ids: Ids,
    leases: PathBuf,
    hosts: Vec<HostEntry>,
    taken: Option<Instant>,
}

impl Hosts {
    /// Serves the hosts of the neighbour table and of the lease file `leases`.
    pub fn new(leases: PathBuf) -> Hosts {
        Hosts { ids: Ids::default(), leases, hosts: Vec::new(), taken: None }
    }

    fn refresh(&mut self) {
        if self.taken.is_none_or(|t| t.elapsed() >= MAX_AGE) {
            self.hosts = scan::scan(&self.leases);
            self.taken = Some(Instant::now());
        }
    }

    fn value(
        &self,
        ctx: &Ctx,
        h: &HostEntry,
        obj: &str,
        name: &str,
        key: Option<&str>,
    ) -> Option<Value> {
        let s = |t: &str| Value::String(t.into());
        if obj == V4 || obj == V6 {
            return key.map(s);
        }
        Some(match name {
            "PhysAddress" => s(&h.mac),
            "IPAddress" => {
                let ip = h
                    .lease
                    .as_ref()
                    .map(|l| l.ip)
                    .or_else(|| h.ips.iter().find(|i| i.is_ipv4()).copied());
                s(&ip.or_else(|| h.ips.first().copied()).map(|i| i.to_string()).unwrap_or_default())
            }
            "AddressSource" => s(if h.lease.is_some() { "DHCP" } else { "Static" }),
            "LeaseTimeRemaining" => Value::Int(match &h.lease {
                Some(l) if l.expiry == 0 => -1,
                Some(l) => {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                    let left = (l.expiry - now.as_secs() as i64).clamp(0, i64::from(i32::MAX));
                    i32::try_from(left).unwrap_or(i32::MAX)
                }
                None => 0,
            }),
            "Layer3Interface" => s(&h.iface.as_deref().map(|i| ip_row(ctx, i)).unwrap_or_default()),
            "HostName" => s(h.lease.as_ref().and_then(|l| l.hostname.as_deref()).unwrap_or("")),
            "Active" => Value::Boolean(h.active),
            _ => return None,
        })
    }
}

/// The `Device.IP.Interface.N.` row of interface `name`, if that table lists it.
fn ip_row(ctx: &Ctx, name: &str) -> String {
    let table = ctx.schema().obj_by_path("Device.IP.Interface.{i}.");
    table
        .and_then(|t| ctx.row_number(t, &[], name))
        .map_or_else(String::new, |n| format!("Device.IP.Interface.{n}."))
}

impl Plugin for Hosts {
    fn name(&self) -> &'static str {
        "Hosts"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids = Ids::register(b, tr181::OBJECTS, &[]);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        self.refresh();
        let gone = || {
            UspError::new(ErrorCode::ObjectDoesNotExist, format!("host {:?} is gone", inst.keys))
        };
        let mac = inst.keys.first().cloned().flatten().ok_or_else(gone)?;
        let h = self.hosts.iter().find(|h| *h.mac == *mac).ok_or_else(gone)?;
        let key = inst.keys.get(1).cloned().flatten();
        for &p in params {
            let (obj, name) =
                self.ids.param(p).ok_or_else(|| UspError::internal("Hosts: unknown parameter"))?;
            out.push(self.value(ctx, h, obj, name, key.as_deref()).ok_or_else(gone)?);
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        table: ObjId,
        parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        self.refresh();
        if self.ids.table(HOST) == Some(table) {
            return Ok(self.hosts.iter().map(|h| h.mac.clone()).collect());
        }
        let v6 = self.ids.table(V6) == Some(table);
        let Some(h) = parent.key().and_then(|m| self.hosts.iter().find(|h| h.mac == m)) else {
            return Ok(Vec::new());
        };
        Ok(h.ips.iter().filter(|i| i.is_ipv6() == v6).map(|i| i.to_string()).collect())
    }
}
