//! `Device.STOMP.`: the STOMP connections the agent's STOMP MTPs run on (TR-181 2.19,
//! `STOMPConn:1`, `STOMPHeartbeat:1`).
//!
//! Everything a controller configures is stored by the engine. `Connection.{i}.Status` and
//! `LastChangeDate` are read-only to controllers, stored and volatile: the MTP layer writes them
//! with internal sets (see `uspagent::links`), and they are back to `Disabled` / unknown after a
//! restart. `Password` is hidden: controllers read an empty string.
//!
//! TR-181's functional unique key (`Host`, `Username`, `VirtualHost`) is not declared: the engine
//! fills empty string keys of a new row with `cpe-<n>`, which would put made-up values into the
//! STOMP `host` header and login of every connection created by a reset file. Only `Alias` is a
//! key.

mod config;
mod names;

pub use config::{ConnectionConfig, ConnectionStatus, StompIds};

use super::UINT_MAX;
use names as n;
use usp_datamodel::plugin::Plugin;
use usp_datamodel::schema::{ObjAccess, SchemaBuilder};
use usp_datamodel::value::ParamType;

/// `Connection.{i}.Status` values (TR-181 enumeration).
pub const CONNECTION_STATUS: &[&str] = &[
    ConnectionStatus::Enabled.as_str(),
    ConnectionStatus::Disabled.as_str(),
    ConnectionStatus::Unknown.as_str(),
    ConnectionStatus::Connecting.as_str(),
    ConnectionStatus::ServerNotPresent.as_str(),
    ConnectionStatus::ErrorMisconfigured.as_str(),
    ConnectionStatus::ErrorAuthenticationFailure.as_str(),
    ConnectionStatus::Error.as_str(),
];

/// The `Device.STOMP.` plugin.
#[derive(Debug, Default)]
pub struct Stomp;

impl Plugin for Stomp {
    fn name(&self) -> &'static str {
        "STOMP"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        b.object("Device.STOMP.");
        let c = b.table(n::CONNECTION, ObjAccess::AddDelete);
        b.alias(c);
        b.param(c, n::ENABLE, ParamType::Boolean).rw().default("false");
        b.param(c, n::STATUS, ParamType::String)
            .enumeration(CONNECTION_STATUS)
            .stored()
            .volatile()
            .default(ConnectionStatus::Disabled.as_str());
        b.param(c, n::LAST_CHANGE_DATE, ParamType::DateTime).stored().volatile();
        b.param(c, n::HOST, ParamType::String).rw().max_len(256);
        b.param(c, n::PORT, ParamType::UnsignedInt).rw().range(1, 65535).default("61613");
        b.param(c, n::USERNAME, ParamType::String).rw().max_len(256);
        b.param(c, n::PASSWORD, ParamType::String).rw().max_len(256).hidden();
        b.param(c, n::VIRTUAL_HOST, ParamType::String).rw().max_len(256);
        b.param(c, n::ENABLE_HEARTBEATS, ParamType::Boolean).rw().default("false");
        // Milliseconds.
        b.param(c, n::OUTGOING_HEARTBEAT, ParamType::UnsignedInt).rw().default("0");
        b.param(c, n::INCOMING_HEARTBEAT, ParamType::UnsignedInt).rw().default("0");
        b.param(c, n::SERVER_RETRY_INITIAL_INTERVAL, ParamType::UnsignedInt)
            .rw()
            .range(1, 65535)
            .default("60");
        b.param(c, n::SERVER_RETRY_INTERVAL_MULTIPLIER, ParamType::UnsignedInt)
            .rw()
            .range(1000, 65535)
            .default("2000");
        b.param(c, n::SERVER_RETRY_MAX_INTERVAL, ParamType::UnsignedInt)
            .rw()
            .range(1, UINT_MAX)
            .default("30720");
        b.param(c, n::ENABLE_ENCRYPTION, ParamType::Boolean).rw().default("true");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::mqtt::tests::{controller_get, internal_set};
    use crate::testutil::*;
    use usp_datamodel::error::ErrorCode;

    fn lab() -> Lab {
        Lab::new(vec![Box::new(Stomp)])
    }

    #[test]
    fn a_new_connection_has_the_tr181_defaults() {
        let mut t = lab();
        let c = t.add("Device.STOMP.Connection.", &[("Host", "stomp.lab")]).unwrap();
        assert_eq!(c, "Device.STOMP.Connection.1.");
        assert_eq!(t.get("Device.STOMP.ConnectionNumberOfEntries"), "1");
        for (name, want) in [
            ("Alias", "cpe-1"),
            ("Enable", "false"),
            ("Status", "Disabled"),
            ("LastChangeDate", "0001-01-01T00:00:00Z"),
            ("Host", "stomp.lab"),
            ("Port", "61613"),
            ("Username", ""),
            ("VirtualHost", ""),
            ("EnableHeartbeats", "false"),
            ("OutgoingHeartbeat", "0"),
            ("IncomingHeartbeat", "0"),
            ("ServerRetryInitialInterval", "60"),
            ("ServerRetryIntervalMultiplier", "2000"),
            ("ServerRetryMaxInterval", "30720"),
            ("EnableEncryption", "true"),
        ] {
            assert_eq!(t.get(&format!("{c}{name}")), want, "{name}");
        }
        assert_eq!(t.read_all(&c).len(), 16);
        // Two rows without Host, Username or VirtualHost do not collide.
        t.add("Device.STOMP.Connection.", &[]).unwrap();
        t.add("Device.STOMP.Connection.", &[]).unwrap();
        assert_eq!(t.get("Device.STOMP.Connection.2.VirtualHost"), "");
    }

    #[test]
    fn ranges_are_enforced() {
        let mut t = lab();
        let c = t.add("Device.STOMP.Connection.", &[]).unwrap();
        for (name, value) in [
            ("ServerRetryInitialInterval", "0"),
            ("ServerRetryInitialInterval", "65536"),
            ("ServerRetryIntervalMultiplier", "999"),
            ("ServerRetryMaxInterval", "0"),
            ("Port", "0"),
        ] {
            let e = t.set(&c, &[(name, value)]).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidValue, "{name} = {value}");
        }
    }

    #[test]
    fn the_password_is_hidden_from_controllers() {
        let mut t = lab();
        let c = t.add("Device.STOMP.Connection.", &[("Password", "pw")]).unwrap();
        assert_eq!(controller_get(&mut t, &format!("{c}Password")), "");
        assert_eq!(t.get(&format!("{c}Password")), "pw");
        t.events();
        t.set(&c, &[("Password", "pw2")]).unwrap();
        assert_eq!(t.brief(), vec![format!("{c}Password=")]);
    }

    #[test]
    fn status_and_last_change_are_the_agents_and_volatile() {
        let mut t = lab();
        let c = t.add("Device.STOMP.Connection.", &[("Enable", "true")]).unwrap();
        let e = t.set(&c, &[("Status", "Enabled")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        let e = t.set(&c, &[("LastChangeDate", "2024-05-01T12:00:00Z")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        internal_set(
            &mut t,
            &c,
            &[("Status", "Enabled"), ("LastChangeDate", "2024-05-01T12:00:00Z")],
        );
        assert_eq!(t.get(&format!("{c}Status")), "Enabled");
        let mut t = t.restart(vec![Box::new(Stomp)]);
        assert_eq!(t.get(&format!("{c}Status")), "Disabled");
        assert_eq!(t.get(&format!("{c}LastChangeDate")), "0001-01-01T00:00:00Z");
        assert_eq!(t.get(&format!("{c}Enable")), "true");
    }
}
