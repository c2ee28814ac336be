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

use super::read::{agent_mtps, object, owner_of, rows};
use std::fmt;
use std::time::Duration;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::Requester;
use usp_datamodel::store::StoreError;
use usp_datamodel::{DataModel, UspError};
use usp_mtp::ConnectInfo;

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

/// Why a record could not be written.
#[derive(Debug)]
pub enum RecordError {
    /// The data model refused one of the values (a bug: they are the agent's own); nothing of
    /// the call was applied.
    Refused(UspError),
    /// The values are applied but could not be persisted (they are retried with the next flush).
    Store(StoreError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Refused(e) => write!(f, "link state refused by the data model: {}", e.msg),
            RecordError::Store(e) => write!(f, "link state not persisted: {e}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// The kinds of link keys.
enum Key {
    Mqtt,
    Stomp,
    WsClient,
    AgentMtp,
}

fn key_kind(key: &str) -> Option<Key> {
    let kinds = [
        ("Device.MQTT.Client.", Key::Mqtt),
        ("Device.STOMP.Connection.", Key::Stomp),
        ("Device.LocalAgent.Controller.", Key::WsClient),
        ("Device.LocalAgent.MTP.", Key::AgentMtp),
    ];
    kinds.into_iter().find(|(prefix, _)| key.starts_with(prefix)).map(|(_, k)| k)
}

/// The writes of one call: (object instance path, parameter name, value text).
#[derive(Default)]
pub(super) struct Writes(Vec<(String, &'static str, String)>);

impl Writes {
    pub(super) fn set(&mut self, obj: &str, name: &'static str, value: impl Into<String>) {
        self.0.push((obj.to_owned(), name, value.into()));
    }

    /// Adds `by` to the counter `name` of the object at `obj`.
    fn add(&mut self, dm: &mut DataModel, obj: &str, name: &'static str, by: u64) {
        let now = object(dm, obj).map_or(0, |v| v.num(name));
        self.set(obj, name, now.saturating_add(by).to_string());
    }

    /// Sets a STOMP connection's Status, and LastChangeDate when it changes.
    fn stomp_status(&mut self, dm: &mut DataModel, key: &str, status: &str) {
        if object(dm, key).is_some_and(|v| v.text("Status") != status) {
            self.set(key, "Status", status);
            self.set(key, "LastChangeDate", dm.now().wall.to_string());
        }
    }

    /// Applies every write in one transaction as the agent, then flushes. Objects that no
    /// longer exist are skipped.
    pub(super) fn apply(self, dm: &mut DataModel) -> Result<(), RecordError> {
        if self.0.is_empty() {
            return Ok(());
        }
        dm.begin(Requester::Internal);
        for (obj, name, text) in self.0 {
            if let Err(e) = write(dm, &obj, name, &text) {
                dm.abort();
                return Err(RecordError::Refused(e));
            }
        }
        dm.commit();
        dm.flush().map_err(RecordError::Store)
    }
}

fn write(dm: &mut DataModel, obj: &str, name: &str, text: &str) -> Result<(), UspError> {
    let Ok(path) = Path::parse(obj) else { return Ok(()) };
    let Some(target) =
        dm.resolve(&Requester::Internal, &path).ok().and_then(|t| t.into_iter().next())
    else {
        return Ok(());
    };
    let param = dm
        .schema()
        .param_by_name(target.obj, name)
        .ok_or_else(|| UspError::internal(format!("{obj}{name} is not in the data model")))?;
    let value = dm.check_value(&Requester::Internal, param, text, false)?;
    dm.set_values(target.obj, &target.numbers, &[(param, value)])
}

/// The agent MTP a link key serves, as the plan sees it.
fn owner(dm: &mut DataModel, key: &str) -> Option<String> {
    let mtps = agent_mtps(dm);
    owner_of(&mtps, key).map(|m| m.path.clone())
}

/// Records that the link `key` is being started (MQTT and STOMP Status `Connecting`).
pub fn record_connecting(dm: &mut DataModel, key: &str) -> Result<(), RecordError> {
    let mut w = Writes::default();
    match key_kind(key) {
        Some(Key::Mqtt) => w.set(key, "Status", "Connecting"),
        Some(Key::Stomp) => w.stomp_status(dm, key, "Connecting"),
        _ => {}
    }
    w.apply(dm)
}

/// Records that the link `key` is up, with what it learnt while connecting: Status, the
/// assigned ClientID (persisted), Response Information / `ResponseTopicDiscovered`, the
/// subscriptions' Status, `DestinationFromServer`, the agent MTP's Status, `CurrentRetryCount`
/// back to 0.
pub fn record_up(dm: &mut DataModel, key: &str, info: &ConnectInfo) -> Result<(), RecordError> {
    let mut w = Writes::default();
    let owner = owner(dm, key);
    match (key_kind(key), info) {
        (
            Some(Key::Mqtt),
            ConnectInfo::Mqtt { assigned_client_id, response_information, subscribed, .. },
        ) => {
            let response = response_information.as_deref().unwrap_or_default();
            w.set(key, "Status", "Connected");
            w.set(key, "ResponseInformation", response);
            if let Some(id) = assigned_client_id {
                w.set(key, "ClientID", id.as_str());
            }
            for s in rows(dm, &format!("{key}Subscription.")) {
                let topic = s.values.text("Topic");
                let status = match (s.values.flag("Enable"), subscribed.iter().any(|t| t == topic))
                {
                    (false, _) => "Unsubscribed",
                    (true, true) => "Subscribed",
                    (true, false) => "Error",
                };
                w.set(&s.path, "Status", status);
            }
            if let Some(mtp) = &owner {
                w.set(mtp, "Status", "Up");
                w.set(&format!("{mtp}MQTT."), "ResponseTopicDiscovered", response);
            }
        }
        (Some(Key::Stomp), ConnectInfo::Stomp { destination_from_server, .. }) => {
            w.stomp_status(dm, key, "Enabled");
            if let Some(mtp) = &owner {
                w.set(mtp, "Status", "Up");
                let from_server = destination_from_server.as_deref().unwrap_or_default();
                w.set(&format!("{mtp}STOMP."), "DestinationFromServer", from_server);
            }
        }
        (Some(Key::WsClient), ConnectInfo::WebSocket) => {
            w.set(&format!("{key}WebSocket."), "CurrentRetryCount", "0");
        }
        (Some(Key::AgentMtp), ConnectInfo::WebSocket) => w.set(key, "Status", "Up"),
        _ => log::warn!("{key}: connection report {info:?} does not fit this link"),
    }
    w.apply(dm)
}

/// Records that the link `key` is down (see the table in the module doc); a retrying WebSocket
/// client also counts a retry.
pub fn record_down(dm: &mut DataModel, key: &str, down: Down) -> Result<(), RecordError> {
    let mut w = Writes::default();
    let mtp_status = match down {
        Down::Retrying | Down::Stopped => "Down",
        Down::GaveUp | Down::Misconfigured => "Error",
    };
    match key_kind(key) {
        Some(Key::Mqtt) => {
            let status = match down {
                Down::Retrying => "Error_BrokerUnreachable",
                Down::GaveUp => "Error",
                Down::Misconfigured => "Error_Misconfigured",
                Down::Stopped => "Disabled",
            };
            w.set(key, "Status", status);
            for s in rows(dm, &format!("{key}Subscription.")) {
                w.set(&s.path, "Status", "Unsubscribed");
            }
        }
        Some(Key::Stomp) => {
            let status = match down {
                Down::Retrying => "ServerNotPresent",
                Down::GaveUp => "Error",
                Down::Misconfigured => "Error_Misconfigured",
                Down::Stopped => "Disabled",
            };
            w.stomp_status(dm, key, status);
        }
        Some(Key::WsClient) => {
            let ws = format!("{key}WebSocket.");
            match down {
                Down::Retrying => w.add(dm, &ws, "CurrentRetryCount", 1),
                _ => w.set(&ws, "CurrentRetryCount", "0"),
            }
        }
        Some(Key::AgentMtp) => w.set(key, "Status", mtp_status),
        None => {}
    }
    if let Some(mtp) = owner(dm, key) {
        w.set(&mtp, "Status", mtp_status);
    }
    w.apply(dm)
}
