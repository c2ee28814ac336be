//! The values of `Device.IP.Interface.{i}.` and its `IPv4Address.{i}.`, `IPv6Address.{i}.` and
//! `Stats.` from one netlink snapshot ([`Links`]): the row keys (interface name, address text)
//! and each parameter's value.
//!
//! Never does: change an interface or an address (every parameter is served read-only).

use std::net::IpAddr;

use usp_datamodel::value::{DateTime, Value};

use crate::live::links;
use crate::netlink::route::{
    ARPHRD_LOOPBACK, Addr, IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_PERMANENT, IFA_F_TENTATIVE,
    IFF_UP, Link,
};

/// The TR-181 value of "forever" for a lifetime (`9999-12-31T23:59:59Z`).
const FOREVER: DateTime = DateTime { secs: 253_402_300_799, micros: 0 };

/// A parameter of the interface row itself or of its `Stats.`; `lower` is its
/// `LowerLayers` value (the Ethernet row it runs on, if any).
pub fn interface_value(link: &Link, obj: &str, name: &str, lower: &str) -> Option<Value> {
    if obj.ends_with("Stats.") {
        return links::stat(link, name).map(Value::UnsignedLong);
    }
    Some(match name {
        "Enable" => Value::Boolean(link.flags & IFF_UP != 0),
        "Status" => Value::String(links::status(link).into()),
        "Name" => Value::String(link.name.as_str().into()),
        "LowerLayers" => Value::String(lower.into()),
        "IPv6Enable" => Value::Boolean(ipv6_enabled(&link.name)),
        "MaxMTUSize" => Value::UnsignedInt(link.mtu),
        "Type" => {
            let t = if link.hw_type == ARPHRD_LOOPBACK { "Loopback" } else { "Normal" };
            Value::String(t.into())
        }
        "Loopback" => Value::Boolean(link.hw_type == ARPHRD_LOOPBACK),
        _ => return None,
    })
}

/// Whether IPv6 is on for interface `name` (`/proc/sys/net/ipv6/conf/NAME/disable_ipv6`).
fn ipv6_enabled(name: &str) -> bool {
    let path = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
    std::fs::read_to_string(path).is_ok_and(|s| s.trim() == "0")
}

/// The netmask of an IPv4 prefix length.
pub fn netmask(prefix_len: u8) -> String {
    let bits = if prefix_len == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix_len.min(32))) };
    std::net::Ipv4Addr::from(bits).to_string()
}

/// A parameter of an `IPv4Address.{i}.` row.
pub fn ipv4_value(a: &Addr, name: &str) -> Option<Value> {
    let s = |t: &str| Value::String(t.into());
    Some(match name {
        "Enable" => Value::Boolean(true),
        "Status" => s("Enabled"),
        "IPAddress" => s(&a.address.to_string()),
        "SubnetMask" => s(&netmask(a.prefix_len)),
        "AddressingType" => s(match a.address {
            IpAddr::V4(v4) if v4.is_link_local() => "AutoIP",
            _ if a.valid != u32::MAX => "DHCP",
            _ => "Static",
        }),
        _ => return None,
    })
}

/// A parameter of an `IPv6Address.{i}.` row; `now` turns lifetimes into times.
pub fn ipv6_value(a: &Addr, name: &str, now: DateTime) -> Option<Value> {
    let s = |t: &str| Value::String(t.into());
    let until = |secs: u32| {
        if secs == u32::MAX { FOREVER } else { DateTime::from_unix(now.secs + i64::from(secs)) }
    };
    Some(match name {
        "Enable" => Value::Boolean(true),
        "Status" => s(if a.flags & IFA_F_DADFAILED != 0 { "Error" } else { "Enabled" }),
        "IPAddressStatus" => s(match a.flags {
            f if f & IFA_F_DADFAILED != 0 => "Duplicate",
            f if f & IFA_F_TENTATIVE != 0 => "Tentative",
            f if f & IFA_F_DEPRECATED != 0 => "Deprecated",
            _ => "Preferred",
        }),
        "IPAddress" => s(&a.address.to_string()),
        "Origin" => s(match a.address {
            IpAddr::V6(v6) if v6.is_loopback() => "WellKnown",
            IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80 => "AutoConfigured",
            _ if a.flags & IFA_F_PERMANENT != 0 => "Static",
            _ => "AutoConfigured",
        }),
        "PreferredLifetime" => Value::DateTime(until(a.preferred)),
        "ValidLifetime" => Value::DateTime(until(a.valid)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_become_netmasks() {
        assert_eq!(netmask(8), "255.0.0.0");
        assert_eq!(netmask(24), "255.255.255.0");
        assert_eq!(netmask(0), "0.0.0.0");
        assert_eq!(netmask(32), "255.255.255.255");
    }
}
