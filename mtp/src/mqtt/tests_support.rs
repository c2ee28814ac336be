//! Test configurations shared by the unit tests of the MQTT modules.

use std::time::Duration;

use super::MqttConfig;
use crate::retry::RetryPolicy;

/// A v5 configuration towards 127.0.0.1:1883 with ClientId `agent-t`, Endpoint ID
/// `proto::agent-t`, the configured response topic `own`, no subscriptions and nothing extended.
pub(crate) fn config(own: &str) -> MqttConfig {
    MqttConfig {
        endpoint_id: "proto::agent-t".into(),
        host: "127.0.0.1".into(),
        port: 1883,
        v5: true,
        client_id: "agent-t".into(),
        username: String::new(),
        password: String::new(),
        keep_alive: Duration::from_secs(30),
        clean_start: true,
        request_response_info: true,
        subscriptions: Vec::new(),
        response_topic: own.into(),
        publish_qos: 1,
        retry: RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 2 },
        #[cfg(feature = "tls")]
        tls: None,
        max_record: 64 * 1024,
        extended: super::MqttExtended::default(),
    }
}
