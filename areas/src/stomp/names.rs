//! The TR-181 names of the `Device.STOMP.Connection.{i}` items that the registration declares
//! and the typed readers and writers (`config`) use, each written here once.

/// `Device.STOMP.Connection.{i}.`
pub(crate) const CONNECTION: &str = "Device.STOMP.Connection.{i}.";
/// `Enable`.
pub(crate) const ENABLE: &str = "Enable";
/// `Status`.
pub(crate) const STATUS: &str = "Status";
/// `LastChangeDate`.
pub(crate) const LAST_CHANGE_DATE: &str = "LastChangeDate";
/// `Host`.
pub(crate) const HOST: &str = "Host";
/// `Port`.
pub(crate) const PORT: &str = "Port";
/// `Username`.
pub(crate) const USERNAME: &str = "Username";
/// `Password`.
pub(crate) const PASSWORD: &str = "Password";
/// `VirtualHost`.
pub(crate) const VIRTUAL_HOST: &str = "VirtualHost";
/// `EnableHeartbeats`.
pub(crate) const ENABLE_HEARTBEATS: &str = "EnableHeartbeats";
/// `OutgoingHeartbeat`, milliseconds.
pub(crate) const OUTGOING_HEARTBEAT: &str = "OutgoingHeartbeat";
/// `IncomingHeartbeat`, milliseconds.
pub(crate) const INCOMING_HEARTBEAT: &str = "IncomingHeartbeat";
/// `ServerRetryInitialInterval`.
pub(crate) const SERVER_RETRY_INITIAL_INTERVAL: &str = "ServerRetryInitialInterval";
/// `ServerRetryIntervalMultiplier`.
pub(crate) const SERVER_RETRY_INTERVAL_MULTIPLIER: &str = "ServerRetryIntervalMultiplier";
/// `ServerRetryMaxInterval`.
pub(crate) const SERVER_RETRY_MAX_INTERVAL: &str = "ServerRetryMaxInterval";
/// `EnableEncryption`.
pub(crate) const ENABLE_ENCRYPTION: &str = "EnableEncryption";
