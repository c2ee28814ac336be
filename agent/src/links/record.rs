//! What the links report, written into the data model: one transaction of internal sets per
//! call, flushed (only the assigned MQTT ClientID persists; the rest is volatile).
//!
//! Status values per row (TR-181 enumerations):
//!
//! | state                   | MQTT `Client.Status`      | STOMP `Connection.Status` | `LocalAgent.MTP.Status` |
//! |-------------------------|---------------------------|---------------------------|-------------------------|
//! | [`record_connecting`]   | `Connecting`              | `Connecting`              | (unchanged)             |
//! | [`record_up`]           | `Connected`               | `Enabled`                 | `Up`                    |
//! | [`Down::Retrying`]      | `Error_BrokerUnreachable` | `ServerNotPresent`        | `Down`                  |
//! | [`Down::GaveUp`]        | `Error`                   | `Error`                   | `Error`                 |
//! | [`Down::Misconfigured`] | `Error_Misconfigured`     | `Error_Misconfigured`     | `Error`                 |
//! | [`Down::Stopped`]       | `Disabled`                | `Disabled`                | `Down`                  |
//!
//! A WebSocket client link (`Controller.{i}.MTP.{i}.`) has no Status: its
//! `WebSocket.CurrentRetryCount` counts the retries since the last session. A WebSocket server
//! link writes its `LocalAgent.MTP.{i}.Status` only: record it up once it listens, down when the
//! listener stops (not per session). Keys whose row no longer exists are ignored.
//!
//! MQTT `Client.{i}.Stats.` are not written here: they are counted in memory (`super::stats`).

use super::read::{Ids, agent_mtps, owner_of};
use std::time::Duration;
use usp_areas::local_agent::MtpStatus;
use usp_areas::mqtt::{ClientStatus, SubscriptionStatus};
use usp_areas::stomp::ConnectionStatus;
use usp_areas::typed::Writes;
use usp_datamodel::{DataModel, UspError};
use usp_mtp::ConnectInfo;

/// Why a record could not be written (the areas' typed-write error).
pub use usp_areas::typed::WriteError as RecordError;

/// How a link went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down {
    /// The connection failed or was lost and the link retries by itself
    /// (`MtpEvent::Down` with `retry_in: Some(..)`).
    Retrying,
    /// The link gave up because a protocol rule disables it, e.g. MQTT without any topic to
    /// subscribe to (`MtpEvent::Down` with `retry_in: None`).
    GaveUp,
    /// The plan could not build the link (a [`super::Problem`] names its row).
    Misconfigured,
    /// The daemon stopped it (disabled, deleted, reconfigured, shutting down).
    Stopped,
}

impl Down {
    /// The kind of an `MtpEvent::Down` from its `retry_in`.
    pub fn from_retry(retry_in: Option<Duration>) -> Down {
        if retry_in.is_some() { Down::Retrying } else { Down::GaveUp }
    }
}

/// The kinds of link keys, with the row's instance number.
enum Key {
    Mqtt(u32),
    Stomp(u32),
    WsClient,
    AgentMtp(u32),
}

fn key_kind(ids: &Ids, key: &str) -> Option<Key> {
    if let Some(n) = ids.mqtt.number_of(key) {
        Some(Key::Mqtt(n))
    } else if let Some(n) = ids.stomp.number_of(key) {
        Some(Key::Stomp(n))
    } else if ids.controller.is_mtp_path(key) {
        Some(Key::WsClient)
    } else {
        ids.mtp.number_of(key).map(Key::AgentMtp)
    }
}

/// The ids the records need; a data model without the link areas cannot record.
pub(super) fn ids(dm: &DataModel) -> Result<Ids, RecordError> {
    Ids::resolve(dm.schema()).map_err(|e| RecordError::Refused(UspError::internal(e.to_string())))
}

/// The Status of a `Subscription.{i}` row: enabled and among the filters the link is
/// subscribed to, or not.
pub(super) fn subscription_status(enable: bool, subscribed: bool) -> SubscriptionStatus {
    match (enable, subscribed) {
        (false, _) => SubscriptionStatus::Unsubscribed,
        (true, true) => SubscriptionStatus::Subscribed,
        (true, false) => SubscriptionStatus::Error,
    }
}

/// The instance number of the agent MTP a link key serves, as the plan sees it.
fn owner(dm: &mut DataModel, ids: &Ids, key: &str) -> Option<u32> {
    let mtps = agent_mtps(dm, ids);
    owner_of(&mtps, key).map(|m| m.config.number)
}

/// Records that the link `key` is being started (MQTT and STOMP Status `Connecting`).
pub fn record_connecting(dm: &mut DataModel, key: &str) -> Result<(), RecordError> {
    let ids = ids(dm)?;
    let mut w = Writes::default();
    match key_kind(&ids, key) {
        Some(Key::Mqtt(n)) => ids.mqtt.set_status(&mut w, n, ClientStatus::Connecting),
        Some(Key::Stomp(n)) => ids.stomp.set_status(dm, &mut w, n, ConnectionStatus::Connecting),
        _ => {}
    }
    w.apply(dm)
}

/// Records that the link `key` is up, with what it learnt while connecting: Status, the
/// assigned ClientID (persisted), Response Information / `ResponseTopicDiscovered`, the
/// subscriptions' Status, `DestinationFromServer`, the agent MTP's Status, `CurrentRetryCount`
/// back to 0.
pub fn record_up(dm: &mut DataModel, key: &str, info: &ConnectInfo) -> Result<(), RecordError> {
    let ids = ids(dm)?;
    let mut w = Writes::default();
    let owner = owner(dm, &ids, key);
    match (key_kind(&ids, key), info) {
        (
            Some(Key::Mqtt(n)),
            ConnectInfo::Mqtt { assigned_client_id, response_information, subscribed, .. },
        ) => {
            let response = response_information.as_deref().unwrap_or_default();
            ids.mqtt.set_status(&mut w, n, ClientStatus::Connected);
            ids.mqtt.set_response_information(&mut w, n, response);
            if let Some(id) = assigned_client_id {
                ids.mqtt.set_client_id(&mut w, n, id);
            }
            for s in ids.mqtt.client(dm, n).map(|c| c.subscriptions).unwrap_or_default() {
                let status = subscription_status(s.enable, subscribed.contains(&s.topic));
                ids.mqtt.set_subscription_status(&mut w, n, s.number, status);
            }
            if let Some(mtp) = owner {
                ids.mtp.set_status(&mut w, mtp, MtpStatus::Up);
                ids.mtp.set_response_topic_discovered(&mut w, mtp, response);
            }
        }
        (Some(Key::Stomp(n)), ConnectInfo::Stomp { destination_from_server, .. }) => {
            ids.stomp.set_status(dm, &mut w, n, ConnectionStatus::Enabled);
            if let Some(mtp) = owner {
                ids.mtp.set_status(&mut w, mtp, MtpStatus::Up);
                let from_server = destination_from_server.as_deref().unwrap_or_default();
                ids.mtp.set_destination_from_server(&mut w, mtp, from_server);
            }
        }
        (Some(Key::WsClient), ConnectInfo::WebSocket) => {
            ids.controller.set_current_retry_count(&mut w, key, 0);
        }
        (Some(Key::AgentMtp(n)), ConnectInfo::WebSocket) => {
            ids.mtp.set_status(&mut w, n, MtpStatus::Up);
        }
        _ => log::warn!("{key}: connection report {info:?} does not fit this link"),
    }
    w.apply(dm)
}

/// Records that the link `key` is down (see the table in the module doc); a retrying WebSocket
/// client also counts a retry.
pub fn record_down(dm: &mut DataModel, key: &str, down: Down) -> Result<(), RecordError> {
    let ids = ids(dm)?;
    let mut w = Writes::default();
    let mtp_status = match down {
        Down::Retrying | Down::Stopped => MtpStatus::Down,
        Down::GaveUp | Down::Misconfigured => MtpStatus::Error,
    };
    match key_kind(&ids, key) {
        Some(Key::Mqtt(n)) => {
            let status = match down {
                Down::Retrying => ClientStatus::ErrorBrokerUnreachable,
                Down::GaveUp => ClientStatus::Error,
                Down::Misconfigured => ClientStatus::ErrorMisconfigured,
                Down::Stopped => ClientStatus::Disabled,
            };
            ids.mqtt.set_status(&mut w, n, status);
            for s in ids.mqtt.client(dm, n).map(|c| c.subscriptions).unwrap_or_default() {
                let status = SubscriptionStatus::Unsubscribed;
                ids.mqtt.set_subscription_status(&mut w, n, s.number, status);
            }
        }
        Some(Key::Stomp(n)) => {
            let status = match down {
                Down::Retrying => ConnectionStatus::ServerNotPresent,
                Down::GaveUp => ConnectionStatus::Error,
                Down::Misconfigured => ConnectionStatus::ErrorMisconfigured,
                Down::Stopped => ConnectionStatus::Disabled,
            };
            ids.stomp.set_status(dm, &mut w, n, status);
        }
        Some(Key::WsClient) => {
            let count = match down {
                Down::Retrying => ids
                    .controller
                    .mtp_at(dm, key)
                    .map_or(0, |m| m.websocket.current_retry_count)
                    .saturating_add(1),
                _ => 0,
            };
            ids.controller.set_current_retry_count(&mut w, key, count);
        }
        Some(Key::AgentMtp(n)) => ids.mtp.set_status(&mut w, n, mtp_status),
        None => {}
    }
    if let Some(mtp) = owner(dm, &ids, key) {
        ids.mtp.set_status(&mut w, mtp, mtp_status);
    }
    w.apply(dm)
}
