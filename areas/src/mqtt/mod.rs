//! `Device.MQTT.`: the MQTT clients the agent's MQTT MTPs run on (TR-181 2.19, `MQTTClientCon:1`,
//! `MQTTClientSubscribe:1`, `MQTTClientExtended:1`), with their subscriptions, user properties
//! and statistics. The MQTT broker side (`Device.MQTT.Broker.{i}.`) is not served.
//!
//! Everything a controller configures is stored by the engine; this plugin only vetoes what the
//! MTP layer cannot do (MQTT 3.1, MQTT over WebSocket, TLS in a build without it) and serves
//! `Capabilities.` live. `Client.{i}.Status`, `ResponseInformation` and
//! `Subscription.{i}.Status` are read-only to controllers, stored and volatile: the MTP layer
//! writes them with internal sets (see `uspagent::links`), and they are back to `Disabled` /
//! `Unsubscribed` after a restart. `Client.{i}.Stats.` is live: the MTP layer counts into the
//! plugin's [`MqttStats`] (nothing is written per message) and the values start from zero with
//! the agent. `ClientID` is also written by the MTP layer when an MQTT 5.0 broker assigns
//! one (R-MQTT.9), and persists. `Password` is hidden: controllers read an empty string.
//!
//! `ForceReconnect()` asks the host, through [`SystemRequest::Reconnect`], to close and re-open
//! the client's connection; the data model itself never touches a connection.

use super::UINT_MAX;
use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, OpHandle, Outcome, Plugin, SystemRequest};
use usp_datamodel::schema::{CmdId, ObjAccess, ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

mod config;
mod names;
mod stats;
mod status;

use names as n;

pub use config::{
    ClientConfig, MqttIds, SubscriptionConfig, UserPropertyConfig, WillConfig, client_number,
};
pub use stats::{ClientStats, MqttStats};
pub use status::{ClientStatus, SubscriptionStatus};

/// `Client.{i}.Status` values (TR-181 enumeration).
pub const CLIENT_STATUS: &[&str] = &[
    ClientStatus::Disabled.as_str(),
    ClientStatus::Connecting.as_str(),
    ClientStatus::Connected.as_str(),
    ClientStatus::ErrorMisconfigured.as_str(),
    ClientStatus::ErrorBrokerUnreachable.as_str(),
    ClientStatus::Error.as_str(),
];

/// `Client.{i}.Subscription.{i}.Status` values (TR-181 enumeration).
pub const SUBSCRIPTION_STATUS: &[&str] = &[
    SubscriptionStatus::Unsubscribed.as_str(),
    SubscriptionStatus::Subscribed.as_str(),
    SubscriptionStatus::Subscribing.as_str(),
    SubscriptionStatus::Unsubscribing.as_str(),
    SubscriptionStatus::Error.as_str(),
];

/// Every `ProtocolVersion` TR-181 names; the agent speaks 3.1.1 and 5.0.
const PROTOCOL_VERSIONS: &[&str] = &["3.1", "3.1.1", "5.0"];

/// Every `TransportProtocol` TR-181 names; the agent speaks `TCP/IP` and, with TLS built in,
/// `TLS`.
const TRANSPORTS: &[&str] = &["TCP/IP", "TLS", "WebSocket", "WebSocketTLS"];

/// MQTT control packets a user property may be sent in.
const PACKET_TYPES: &[&str] = &[
    "AUTH",
    "CONNECT",
    "DISCONNECT",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "WILL",
];

/// The `Device.MQTT.` plugin.
#[derive(Debug)]
pub struct Mqtt {
    tls: bool,
    stats: MqttStats,
}

impl Mqtt {
    /// Serves the MQTT clients of an agent that can (`tls`) or cannot use TLS; nothing counts
    /// into their `Stats.` (they read zero).
    pub fn new(tls: bool) -> Mqtt {
        Mqtt::with_stats(tls, MqttStats::new())
    }

    /// As [`Mqtt::new`], serving `Client.{i}.Stats.` from `stats`, which the MTP layer counts
    /// into.
    pub fn with_stats(tls: bool, stats: MqttStats) -> Mqtt {
        Mqtt { tls, stats }
    }
}

impl Plugin for Mqtt {
    fn name(&self) -> &'static str {
        "MQTT"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        b.object("Device.MQTT.");
        let caps = b.object("Device.MQTT.Capabilities.");
        b.param(caps, "ProtocolVersionsSupported", ParamType::String)
            .list()
            .enumeration(PROTOCOL_VERSIONS)
            .live();
        b.param(caps, "TransportProtocolSupported", ParamType::String)
            .list()
            .enumeration(TRANSPORTS)
            .live();
        b.param(caps, "MaxNumberOfClientSubscriptions", ParamType::UnsignedInt).live();
        register_client(b);
        register_client_tables(b);
        register_stats(b);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        // Only `Client.{i}.Stats.` has an instance number: read its counters once per call.
        let stats = inst.numbers.first().map(|client| self.stats.get(*client));
        for p in params {
            let name = &*ctx.schema().param(*p).name;
            if let Some(v) = stats.and_then(|s| s.value(name)) {
                out.push(v);
                continue;
            }
            out.push(match name {
                "ProtocolVersionsSupported" => Value::String("3.1.1,5.0".into()),
                "TransportProtocolSupported" => {
                    Value::String(if self.tls { "TCP/IP,TLS" } else { "TCP/IP" }.into())
                }
                // No limit of our own.
                "MaxNumberOfClientSubscriptions" => Value::UnsignedInt(0),
                other => return Err(UspError::internal(format!("MQTT has no live {other}"))),
            });
        }
        Ok(())
    }

    fn validate(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        changes: &[(ParamId, Value)],
    ) -> Result<(), UspError> {
        for (p, v) in changes {
            let text = v.as_str().unwrap_or_default();
            let refused = match &*ctx.schema().param(*p).name {
                "ProtocolVersion" if text == "3.1" => {
                    "MQTT 3.1 is not supported (use 3.1.1 or 5.0)"
                }
                "TransportProtocol" if text.starts_with("WebSocket") => {
                    "MQTT over WebSocket is not supported (use TCP/IP or TLS)"
                }
                "TransportProtocol" if text == "TLS" && !self.tls => {
                    "this agent is built without TLS"
                }
                _ => continue,
            };
            return Err(UspError::new(ErrorCode::InvalidValue, refused));
        }
        Ok(())
    }

    fn operate(
        &mut self,
        ctx: &mut Ctx,
        cmd: CmdId,
        inst: &Instance,
        _input: &[(Box<str>, Value)],
        _handle: OpHandle,
    ) -> Result<Outcome, UspError> {
        if &*ctx.schema().command(cmd).name != "ForceReconnect" {
            return Err(UspError::new(ErrorCode::CommandFailure, "unknown command"));
        }
        let link = inst.path(ctx.schema());
        ctx.system(SystemRequest::Reconnect { link });
        Ok(Outcome::Done(Vec::new()))
    }
}

/// `Client.{i}.` and its own parameters (TR-181 names, types, ranges and defaults).
fn register_client(b: &mut SchemaBuilder) {
    let c = b.table(n::CLIENT, ObjAccess::AddDelete);
    b.alias(c);
    b.param(c, n::NAME, ParamType::String).rw().max_len(64);
    b.unique_key(c, &["Name"]);
    b.param(c, n::ENABLE, ParamType::Boolean).rw().default("false");
    b.param(c, n::STATUS, ParamType::String)
        .enumeration(CLIENT_STATUS)
        .stored()
        .volatile()
        .default(ClientStatus::Disabled.as_str());
    b.param(c, "Interface", ParamType::String).rw().max_len(256).reference();
    b.param(c, n::PROTOCOL_VERSION, ParamType::String)
        .rw()
        .enumeration(PROTOCOL_VERSIONS)
        .default("5.0");
    b.param(c, n::BROKER_ADDRESS, ParamType::String).rw().max_len(256);
    b.param(c, n::BROKER_PORT, ParamType::UnsignedInt).rw().range(1, 65535).default("1883");
    b.param(c, n::TRANSPORT_PROTOCOL, ParamType::String)
        .rw()
        .enumeration(TRANSPORTS)
        .default("TCP/IP");
    b.param(c, n::CLEAN_SESSION, ParamType::Boolean).rw().default("true");
    b.param(c, n::CLEAN_START, ParamType::Boolean).rw().default("true");
    b.param(c, n::KEEP_ALIVE_TIME, ParamType::UnsignedInt).rw().range(0, 65535).default("60");
    b.param(c, n::SESSION_EXPIRY_INTERVAL, ParamType::UnsignedInt).rw();
    b.param(c, n::RECEIVE_MAXIMUM, ParamType::UnsignedInt).rw();
    b.param(c, n::MAXIMUM_PACKET_SIZE, ParamType::UnsignedInt).rw();
    b.param(c, n::TOPIC_ALIAS_MAXIMUM, ParamType::UnsignedInt).rw().range(0, 65535);
    b.param(c, n::REQUEST_RESPONSE_INFO, ParamType::Boolean).rw().default("false");
    b.param(c, n::REQUEST_PROBLEM_INFO, ParamType::Boolean).rw().default("false");
    b.param(c, "AuthenticationMethod", ParamType::String).rw().max_len(256);
    b.param(c, "ALPN", ParamType::String).rw().list().max_len(256);
    b.param(c, n::CLIENT_ID, ParamType::String).rw().max_len(65535);
    register_will(b, c);
    b.param(c, n::USERNAME, ParamType::String).rw().max_len(256);
    b.param(c, n::PASSWORD, ParamType::String).rw().max_len(256).hidden();
    b.param(c, n::PUBLISH_MESSAGE_EXPIRY_INTERVAL, ParamType::UnsignedInt).rw();
    for (name, default) in [("MessageRetryTime", "5"), (n::CONNECT_RETRY_TIME, "5")] {
        b.param(c, name, ParamType::UnsignedInt).rw().range(1, UINT_MAX).default(default);
    }
    b.param(c, n::CONNECT_RETRY_INTERVAL_MULTIPLIER, ParamType::UnsignedInt)
        .rw()
        .range(1000, 65535)
        .default("2000");
    b.param(c, n::CONNECT_RETRY_MAX_INTERVAL, ParamType::UnsignedInt)
        .rw()
        .range(1, UINT_MAX)
        .default("30720");
    b.param(c, n::RESPONSE_INFORMATION, ParamType::String).max_len(65535).stored().volatile();
    b.command(c, "ForceReconnect", false);
}

/// `Client.{i}.Subscription.{i}.` and `Client.{i}.UserProperty.{i}.`.
fn register_client_tables(b: &mut SchemaBuilder) {
    let s = b.table(n::SUBSCRIPTION, ObjAccess::AddDelete);
    b.alias(s);
    b.param(s, n::ENABLE, ParamType::Boolean).rw().default("false");
    b.param(s, n::STATUS, ParamType::String)
        .enumeration(SUBSCRIPTION_STATUS)
        .stored()
        .volatile()
        .default(SubscriptionStatus::Unsubscribed.as_str());
    b.param(s, n::TOPIC, ParamType::String).rw().max_len(65535);
    b.unique_key(s, &[n::TOPIC]);
    b.param(s, n::QOS, ParamType::UnsignedInt).rw().range(0, 2).default("0");

    let u = b.table(n::USER_PROPERTY, ObjAccess::AddDelete);
    b.alias(u);
    b.param(u, n::ENABLE, ParamType::Boolean).rw().default("false");
    b.param(u, n::NAME, ParamType::String).rw().max_len(65535);
    b.unique_key(u, &[n::NAME]);
    b.param(u, n::VALUE, ParamType::String).rw().max_len(65535);
    b.param(u, n::PACKET_TYPE, ParamType::String).rw().list().enumeration(PACKET_TYPES);
}

/// The Last Will parameters of `Client.{i}.` (stored for the MTP layer; TR-181 defaults).
fn register_will(b: &mut SchemaBuilder, c: usp_datamodel::schema::ObjId) {
    b.param(c, n::WILL_ENABLE, ParamType::Boolean).rw().default("false");
    b.param(c, n::WILL_QOS, ParamType::UnsignedInt).rw().range(0, 2);
    b.param(c, n::WILL_RETAIN, ParamType::Boolean).rw().default("false");
    b.param(c, n::WILL_DELAY_INTERVAL, ParamType::UnsignedInt).rw().default("5");
    b.param(c, n::WILL_MESSAGE_EXPIRY_INTERVAL, ParamType::UnsignedInt).rw();
    b.param(c, n::WILL_CONTENT_TYPE, ParamType::String).rw().max_len(256);
    b.param(c, n::WILL_RESPONSE_TOPIC, ParamType::String).rw().max_len(65535);
    b.param(c, n::WILL_TOPIC, ParamType::String).rw().max_len(65535);
    b.param(c, n::WILL_VALUE, ParamType::String).rw().max_len(65535);
}

/// `Client.{i}.Stats.`: read-only, live (from [`MqttStats`]), and never a ValueChange
/// (counters and timestamps that move with every message).
fn register_stats(b: &mut SchemaBuilder) {
    let st = b.object("Device.MQTT.Client.{i}.Stats.");
    for name in stats::DATE_TIMES {
        b.param(st, name, ParamType::DateTime).live().no_value_change();
    }
    for name in stats::LONG_COUNTERS {
        b.param(st, name, ParamType::UnsignedLong).live().no_value_change();
    }
    for name in stats::INT_COUNTERS {
        b.param(st, name, ParamType::UnsignedInt).live().no_value_change();
    }
}

#[cfg(test)]
pub(crate) mod tests;
