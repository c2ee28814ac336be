//! `Device.MQTT.Client.{i}.Stats.` as live values: the host's MTP layer counts every message
//! into an [`MqttStats`] table in memory, and the [`super::Mqtt`] plugin reads it on Get.
//! Nothing is written into the data model per message (no transaction, no store flush), so
//! counting costs a lock and a few additions.
//!
//! Owns the counters and their TR-181 names. Never decides what counts (the host does: see
//! `uspagent::links::count_*`) and never persists: the values start from zero with the agent,
//! like the volatile parameters they replace. Instance numbers are never reused while the agent
//! runs, so a deleted client's counters cannot leak into a new row.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use usp_datamodel::value::{DateTime, Value};

/// The `Stats.` of one MQTT client since the agent started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientStats {
    /// `BrokerConnectionEstablished`: when the client last connected.
    pub broker_connection_established: DateTime,
    /// `LastPublishMessageSent`.
    pub last_publish_sent: DateTime,
    /// `LastPublishMessageReceived`.
    pub last_publish_received: DateTime,
    /// `PublishSent`.
    pub publish_sent: u64,
    /// `PublishReceived`.
    pub publish_received: u64,
    /// `SubscribeSent`.
    pub subscribe_sent: u64,
    /// `UnSubscribeSent`.
    pub unsubscribe_sent: u64,
    /// `MQTTMessagesSent`.
    pub messages_sent: u64,
    /// `MQTTMessagesReceived`.
    pub messages_received: u64,
    /// `ConnectionErrors` (served saturated to an `unsignedInt`).
    pub connection_errors: u64,
    /// `PublishErrors` (served saturated to an `unsignedInt`).
    pub publish_errors: u64,
}

impl Default for ClientStats {
    fn default() -> ClientStats {
        ClientStats {
            broker_connection_established: DateTime::UNKNOWN,
            last_publish_sent: DateTime::UNKNOWN,
            last_publish_received: DateTime::UNKNOWN,
            publish_sent: 0,
            publish_received: 0,
            subscribe_sent: 0,
            unsubscribe_sent: 0,
            messages_sent: 0,
            messages_received: 0,
            connection_errors: 0,
            publish_errors: 0,
        }
    }
}

/// The names of the `Stats.` parameters, in declaration order, with their types.
pub(super) const DATE_TIMES: [&str; 3] =
    ["BrokerConnectionEstablished", "LastPublishMessageSent", "LastPublishMessageReceived"];

/// The `unsignedLong` counters of `Stats.`.
pub(super) const LONG_COUNTERS: [&str; 6] = [
    "PublishSent",
    "PublishReceived",
    "SubscribeSent",
    "UnSubscribeSent",
    "MQTTMessagesSent",
    "MQTTMessagesReceived",
];

/// The `unsignedInt` counters of `Stats.`.
pub(super) const INT_COUNTERS: [&str; 2] = ["ConnectionErrors", "PublishErrors"];

impl ClientStats {
    /// The value of the `Stats.` parameter `name`; `None` for a name that is not one.
    pub fn value(&self, name: &str) -> Option<Value> {
        let int = |n: u64| Value::UnsignedInt(u32::try_from(n).unwrap_or(u32::MAX));
        Some(match name {
            "BrokerConnectionEstablished" => Value::DateTime(self.broker_connection_established),
            "LastPublishMessageSent" => Value::DateTime(self.last_publish_sent),
            "LastPublishMessageReceived" => Value::DateTime(self.last_publish_received),
            "PublishSent" => Value::UnsignedLong(self.publish_sent),
            "PublishReceived" => Value::UnsignedLong(self.publish_received),
            "SubscribeSent" => Value::UnsignedLong(self.subscribe_sent),
            "UnSubscribeSent" => Value::UnsignedLong(self.unsubscribe_sent),
            "MQTTMessagesSent" => Value::UnsignedLong(self.messages_sent),
            "MQTTMessagesReceived" => Value::UnsignedLong(self.messages_received),
            "ConnectionErrors" => int(self.connection_errors),
            "PublishErrors" => int(self.publish_errors),
            _ => return None,
        })
    }
}

/// The counters of every MQTT client, by the instance number of its `Device.MQTT.Client.{i}`
/// row. Cheap to clone (one shared table): the host keeps one handle to count, the plugin
/// another to read. Usable from any thread.
#[derive(Clone, Debug, Default)]
pub struct MqttStats(Arc<Mutex<BTreeMap<u32, ClientStats>>>);

impl MqttStats {
    /// A table with no counts yet.
    pub fn new() -> MqttStats {
        MqttStats::default()
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<u32, ClientStats>> {
        // A poisoned lock only means a thread panicked while counting; the counts stay usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the counters of the client `client` (created at zero on first use).
    pub fn update(&self, client: u32, change: impl FnOnce(&mut ClientStats)) {
        change(self.lock().entry(client).or_default());
    }

    /// The counters of the client `client` (zero when nothing was counted).
    pub fn get(&self, client: u32) -> ClientStats {
        self.lock().get(&client).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_count_apart_and_start_at_zero() {
        let stats = MqttStats::new();
        let shared = stats.clone();
        stats.update(2, |s| s.publish_sent += 3);
        shared.update(2, |s| s.publish_sent += 1);
        stats.update(5, |s| s.connection_errors = u64::from(u32::MAX) + 7);
        assert_eq!(shared.get(2).publish_sent, 4);
        assert_eq!(shared.get(5).publish_sent, 0);
        assert_eq!(shared.get(1), ClientStats::default());
        assert_eq!(shared.get(5).value("ConnectionErrors"), Some(Value::UnsignedInt(u32::MAX)));
        assert_eq!(stats.get(2).value("PublishSent"), Some(Value::UnsignedLong(4)));
        assert_eq!(stats.get(2).value("Enable"), None);
    }

    #[test]
    fn every_declared_name_has_a_value() {
        let s = ClientStats::default();
        for name in DATE_TIMES.iter().chain(&LONG_COUNTERS).chain(&INT_COUNTERS) {
            assert!(s.value(name).is_some(), "{name}");
        }
        assert_eq!(s.value("LastPublishMessageSent"), Some(Value::DateTime(DateTime::UNKNOWN)));
    }
}
