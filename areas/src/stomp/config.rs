//! The typed reader of the STOMP connections' configuration ([`ConnectionConfig`]) and the
//! typed writer of their `Status` and `LastChangeDate` ([`StompIds::set_status`]), for the
//! host's MTP links; built on [`StompIds`], resolved once from the schema by the names the
//! registration uses (`names`).

use usp_datamodel::DataModel;
use usp_datamodel::schema::{ObjId, ParamId, Schema};
use usp_datamodel::value::Value;

use super::names as n;
use crate::typed::{Lookup, SchemaMismatch, Values, Writes};

/// `Connection.{i}.Status` (TR-181 enumeration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// `Enabled` (connected).
    Enabled,
    /// `Disabled`.
    Disabled,
    /// `Unknown`.
    Unknown,
    /// `Connecting`.
    Connecting,
    /// `ServerNotPresent`.
    ServerNotPresent,
    /// `Error_Misconfigured`.
    ErrorMisconfigured,
    /// `Error_AuthenticationFailure`.
    ErrorAuthenticationFailure,
    /// `Error`.
    Error,
}

impl ConnectionStatus {
    /// The TR-181 text.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Enabled => "Enabled",
            ConnectionStatus::Disabled => "Disabled",
            ConnectionStatus::Unknown => "Unknown",
            ConnectionStatus::Connecting => "Connecting",
            ConnectionStatus::ServerNotPresent => "ServerNotPresent",
            ConnectionStatus::ErrorMisconfigured => "Error_Misconfigured",
            ConnectionStatus::ErrorAuthenticationFailure => "Error_AuthenticationFailure",
            ConnectionStatus::Error => "Error",
        }
    }
}

/// One `Device.STOMP.Connection.{i}` row, as configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Its instance path (`Device.STOMP.Connection.1.`).
    pub path: String,
    /// Its instance number.
    pub number: u32,
    /// `Enable`.
    pub enable: bool,
    /// `Host`.
    pub host: String,
    /// `Port` (1..=65535).
    pub port: u32,
    /// `Username`.
    pub username: String,
    /// `Password` (hidden from controllers, read here as the agent).
    pub password: String,
    /// `VirtualHost`.
    pub virtual_host: String,
    /// `EnableHeartbeats`.
    pub enable_heartbeats: bool,
    /// `OutgoingHeartbeat`, milliseconds.
    pub outgoing_heartbeat: u32,
    /// `IncomingHeartbeat`, milliseconds.
    pub incoming_heartbeat: u32,
    /// `ServerRetryInitialInterval`, seconds.
    pub server_retry_initial_interval: u32,
    /// `ServerRetryIntervalMultiplier`, per mille.
    pub server_retry_interval_multiplier: u32,
    /// `ServerRetryMaxInterval`, seconds.
    pub server_retry_max_interval: u32,
    /// `EnableEncryption`.
    pub enable_encryption: bool,
}

/// The ids of the `Device.STOMP.Connection.{i}` parameters the reader and writer use, resolved
/// once from the schema ([`StompIds::resolve`]).
#[derive(Clone, Debug)]
pub struct StompIds {
    connection: ObjId,
    enable: ParamId,
    status: ParamId,
    last_change_date: ParamId,
    host: ParamId,
    port: ParamId,
    username: ParamId,
    password: ParamId,
    virtual_host: ParamId,
    enable_heartbeats: ParamId,
    outgoing_heartbeat: ParamId,
    incoming_heartbeat: ParamId,
    server_retry_initial_interval: ParamId,
    server_retry_interval_multiplier: ParamId,
    server_retry_max_interval: ParamId,
    enable_encryption: ParamId,
}

impl StompIds {
    /// Resolves the ids from the frozen schema; fails when the STOMP area is not registered or
    /// lacks one of them.
    pub fn resolve(schema: &Schema) -> Result<StompIds, SchemaMismatch> {
        let c = Lookup::new(schema, n::CONNECTION)?;
        Ok(StompIds {
            connection: c.obj(),
            enable: c.param(n::ENABLE)?,
            status: c.param(n::STATUS)?,
            last_change_date: c.param(n::LAST_CHANGE_DATE)?,
            host: c.param(n::HOST)?,
            port: c.param(n::PORT)?,
            username: c.param(n::USERNAME)?,
            password: c.param(n::PASSWORD)?,
            virtual_host: c.param(n::VIRTUAL_HOST)?,
            enable_heartbeats: c.param(n::ENABLE_HEARTBEATS)?,
            outgoing_heartbeat: c.param(n::OUTGOING_HEARTBEAT)?,
            incoming_heartbeat: c.param(n::INCOMING_HEARTBEAT)?,
            server_retry_initial_interval: c.param(n::SERVER_RETRY_INITIAL_INTERVAL)?,
            server_retry_interval_multiplier: c.param(n::SERVER_RETRY_INTERVAL_MULTIPLIER)?,
            server_retry_max_interval: c.param(n::SERVER_RETRY_MAX_INTERVAL)?,
            enable_encryption: c.param(n::ENABLE_ENCRYPTION)?,
        })
    }

    /// Every connection row, in instance order.
    pub fn connections(&self, dm: &mut DataModel) -> Vec<ConnectionConfig> {
        dm.row_numbers(self.connection, &[]).into_iter().map(|n| self.read(dm, n)).collect()
    }

    /// The instance number of the connection whose instance path is `path`
    /// (`Device.STOMP.Connection.2.` → 2); `None` for other paths.
    pub fn number_of(&self, path: &str) -> Option<u32> {
        path.strip_prefix(n::CONNECTION.strip_suffix("{i}.")?)?.strip_suffix('.')?.parse().ok()
    }

    fn read(&self, dm: &mut DataModel, number: u32) -> ConnectionConfig {
        let v = Values::read(dm, self.connection, &[number]);
        ConnectionConfig {
            path: dm.schema().instance_path(self.connection, &[number]),
            number,
            enable: v.flag(self.enable),
            host: v.text(self.host),
            port: v.num(self.port),
            username: v.text(self.username),
            password: v.text(self.password),
            virtual_host: v.text(self.virtual_host),
            enable_heartbeats: v.flag(self.enable_heartbeats),
            outgoing_heartbeat: v.num(self.outgoing_heartbeat),
            incoming_heartbeat: v.num(self.incoming_heartbeat),
            server_retry_initial_interval: v.num(self.server_retry_initial_interval),
            server_retry_interval_multiplier: v.num(self.server_retry_interval_multiplier),
            server_retry_max_interval: v.num(self.server_retry_max_interval),
            enable_encryption: v.flag(self.enable_encryption),
        }
    }

    /// Writes `Connection.{number}.Status`, and `LastChangeDate` (the data model's current
    /// time) when the status changes; nothing when the row does not exist.
    pub fn set_status(
        &self,
        dm: &mut DataModel,
        w: &mut Writes,
        number: u32,
        status: ConnectionStatus,
    ) {
        if !dm.row_numbers(self.connection, &[]).contains(&number) {
            return;
        }
        let now = Values::read(dm, self.connection, &[number]).text(self.status);
        if now != status.as_str() {
            w.set(self.connection, &[number], self.status, Value::String(status.as_str().into()));
            let date = Value::DateTime(dm.now().wall);
            w.set(self.connection, &[number], self.last_change_date, date);
        }
    }
}
