//! Reading a diagnostic's input arguments (already checked against the XML's types, ranges and
//! enumerations by the engine) and resolving its `Host` for the `ProtocolVersion` asked.
//!
//! Never does: resolve names on the data-model thread (only workers call [`resolve`]).

use std::net::{IpAddr, ToSocketAddrs};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::value::Value;

/// The input arguments of one run.
#[derive(Clone, Debug, Default)]
pub struct Args(pub Vec<(Box<str>, Value)>);

impl Args {
    /// The text of `name`, or `""`.
    pub fn text(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| &**k == name).map(|(_, v)| v.to_string()).unwrap_or_default()
    }

    /// The number `name`, `default` when absent, refused (7027) above `max`.
    pub fn number(&self, name: &str, default: u64, max: u64) -> Result<u64, UspError> {
        let v = self.0.iter().find(|(k, _)| &**k == name).and_then(|(_, v)| v.as_u64());
        let v = v.unwrap_or(default);
        if v > max {
            let msg = format!("{name} {v} is more than this agent allows ({max})");
            return Err(UspError::new(ErrorCode::InvalidCommandArgs, msg));
        }
        Ok(v)
    }

    /// The boolean `name`, false when absent.
    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().find(|(k, _)| &**k == name).and_then(|(_, v)| v.as_bool()).unwrap_or(false)
    }
}

/// Which IP versions a run may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Either (`ProtocolVersion` `Any` or absent): the first address found.
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// From `ProtocolVersion`.
    pub fn of(args: &Args) -> Family {
        match args.text("ProtocolVersion").as_str() {
            "IPv4" => Family::V4,
            "IPv6" => Family::V6,
            _ => Family::Any,
        }
    }

    fn admits(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// Resolves `host` (a literal address or a name, through the system resolver) to its first
/// address of `family`; `None` when it has none. Blocking: workers only.
pub fn resolve(host: &str, family: Family) -> Option<IpAddr> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return family.admits(&ip).then_some(ip);
    }
    let addrs = (host, 0).to_socket_addrs().ok()?;
    addrs.map(|a| a.ip()).find(|ip| family.admits(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_within_their_family_and_bad_names_do_not() {
        assert_eq!(
            resolve("127.0.0.1", Family::Any),
            Some("127.0.0.1".parse().unwrap_or(IpAddr::from([0; 4])))
        );
        assert_eq!(resolve("127.0.0.1", Family::V6), None);
        assert_eq!(resolve("[::1]", Family::V6), Some(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
        assert_eq!(resolve("", Family::Any), None);
        assert_eq!(resolve("no-such-host.invalid", Family::Any), None);
        assert!(resolve("localhost", Family::V4).is_some_and(|ip| ip.is_loopback()));
    }
}
