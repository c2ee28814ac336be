//! What the links report, counted into `Device.MQTT.Client.{i}.Stats.`: the counters live in
//! memory ([`MqttStats`], shared with the data model's MQTT plugin, which serves them on Get),
//! so a message costs a lock and a few additions, never a data-model transaction.
//!
//! What counts (the agent's side of the connection, as before these counters moved out of the
//! data model): at each connection, CONNECT and one SUBSCRIBE per subscribed topic out, CONNACK
//! and the SUBACKs in, and `BrokerConnectionEstablished`; each connection loss that is retried
//! is a `ConnectionErrors`; each Record handed to the link is a PUBLISH out (`PublishSent`,
//! `MQTTMessagesSent`, `LastPublishMessageSent`), or a `PublishErrors` when the link refused
//! it; each Record received is a PUBLISH in. Acknowledgements and pings are not counted.
//! Keys that are not MQTT clients count nothing.

use usp_areas::MqttStats;
use usp_datamodel::value::DateTime;
use usp_mtp::ConnectInfo;

use super::Down;

/// One message through a link, for `Client.{i}.Stats.`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    /// A Record was handed to the link for publishing.
    Sent,
    /// A Record was received.
    Received,
    /// A Record could not be handed to the link.
    SendFailed,
}

/// The instance number of the MQTT client whose link key is `key` (`Device.MQTT.Client.3.` →
/// 3); `None` for other links.
pub fn mqtt_client(key: &str) -> Option<u32> {
    usp_areas::mqtt::client_number(key)
}

/// Counts a connection of the link `key` made at `now` (see the module doc).
pub fn count_up(stats: &MqttStats, key: &str, info: &ConnectInfo, now: DateTime) {
    let (Some(client), ConnectInfo::Mqtt { subscribed, .. }) = (mqtt_client(key), info) else {
        return;
    };
    let n = u64::try_from(subscribed.len()).unwrap_or(u64::MAX);
    stats.update(client, |s| {
        s.broker_connection_established = now;
        s.subscribe_sent = s.subscribe_sent.saturating_add(n);
        s.messages_sent = s.messages_sent.saturating_add(n.saturating_add(1));
        s.messages_received = s.messages_received.saturating_add(n.saturating_add(1));
    });
}

/// Counts the link `key` going down: a connection error when it retries.
pub fn count_down(stats: &MqttStats, key: &str, down: Down) {
    if let (Some(client), Down::Retrying) = (mqtt_client(key), down) {
        stats.update(client, |s| s.connection_errors = s.connection_errors.saturating_add(1));
    }
}

/// Counts one Record through the link `key` at `now`.
pub fn count_traffic(stats: &MqttStats, key: &str, traffic: Traffic, now: DateTime) {
    let Some(client) = mqtt_client(key) else { return };
    stats.update(client, |s| match traffic {
        Traffic::Sent => {
            s.publish_sent = s.publish_sent.saturating_add(1);
            s.messages_sent = s.messages_sent.saturating_add(1);
            s.last_publish_sent = now;
        }
        Traffic::Received => {
            s.publish_received = s.publish_received.saturating_add(1);
            s.messages_received = s.messages_received.saturating_add(1);
            s.last_publish_received = now;
        }
        Traffic::SendFailed => s.publish_errors = s.publish_errors.saturating_add(1),
    });
}
