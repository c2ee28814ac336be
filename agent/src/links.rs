//! From the data model to the MTP links the daemon runs, and back.
//!
//! [`plan`] is a pure reading of the data model: which links must run with which configuration
//! ([`LinkSpec`], one per enabled `Device.MQTT.Client.{i}`, `Device.STOMP.Connection.{i}`,
//! WebSocket `Controller.{i}.MTP.{i}` with a Host, and WebSocket `LocalAgent.MTP.{i}`), how each
//! enabled controller is reached ([`Route`]s in `Order`), and what is misconfigured
//! ([`Problem`]s). Every spec is `PartialEq`, so the daemon re-plans after a configuration change
//! and restarts exactly the links whose spec changed (but an MQTT link whose subscriptions alone
//! changed, which takes them on its live connection). The `record_*` functions go the other way:
//! they write what the links report (Status, LastChangeDate, the assigned ClientID, Response
//! Information, `DestinationFromServer`, `CurrentRetryCount`, the Subscription Status after a
//! live change) with internal sets, one transaction per call; the `count_*` functions count MQTT
//! `Stats.` in memory ([`usp_areas::MqttStats`]), never in a transaction.
//!
//! Conventions, as obuspa and Oktopus reset files use them:
//! - An MQTT client (STOMP connection) runs when its own `Enable` is true; the first enabled
//!   `LocalAgent.MTP.{i}` whose `MQTT.Reference` (`STOMP.Reference`) names it is its *agent MTP*:
//!   it gives the agent's response topic and publish QoS (the STOMP destination) and gets
//!   `Status` Up/Down.
//! - A controller's MQTT MTP goes through the client of the agent MTP named by
//!   `AgentMTPReference`, else the client named by the (deprecated, still common) `Reference`,
//!   else the first MQTT link that has an agent MTP; its destination is `Topic`. STOMP alike with
//!   `Reference` and `Destination`.
//! - A WebSocket controller MTP with a `Host` is a client link of its own; without one, the
//!   controller is expected to connect to the agent's WebSocket server. Every controller also
//!   gets, after its configured routes, a route through each WebSocket server link (destination:
//!   its Endpoint ID), so that a controller connected there can be answered and notified when its
//!   configured MTPs are down.
//! - References may be written with or without the trailing dot, or with unique-key addressing.
//! - `LocalAgent.MTP.{i}.WebSocket.Interfaces` is not supported yet: servers listen on every
//!   address.
//!
//! Never does: open sockets or spawn threads (the daemon does, with `usp_mtp`), decide when to
//! re-plan, or keep state between calls.

mod build;
#[cfg(feature = "mqtt")]
mod mqtt;
mod read;
mod record;
mod routes;
mod stats;
mod subs;

#[cfg(all(test, feature = "mqtt", feature = "stomp", feature = "websocket", feature = "tls"))]
mod tests;

pub use build::MAX_WS_SESSIONS;
pub use record::{Down, RecordError, record_connecting, record_down, record_up};
pub use stats::{Traffic, count_down, count_traffic, count_up, mqtt_client};
pub use subs::record_subscribed;

use std::collections::BTreeMap;
use std::path::PathBuf;
use usp_datamodel::DataModel;
#[cfg(feature = "mqtt")]
use usp_mtp::ConnectInfo;

/// Where the TLS files come from: TR-181 has no file paths, so the daemon takes them from its
/// command line. Unset files mean: the system trust store, no client certificate, no server
/// certificate (then an encrypted WebSocket server cannot run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM file of the CAs trusted for servers (brokers, controllers) and, on the WebSocket
    /// server, for client certificates; `None`: the system bundle.
    pub ca_file: Option<PathBuf>,
    /// PEM certificate chain the agent presents as a TLS client (with `client_key`).
    pub client_cert: Option<PathBuf>,
    /// PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
    /// PEM certificate chain of the agent's WebSocket server (with `server_key`).
    pub server_cert: Option<PathBuf>,
    /// PEM private key of `server_cert`.
    pub server_key: Option<PathBuf>,
    /// Accept any server certificate (labs only; the links log it at every connection).
    pub insecure: bool,
    /// The WebSocket server requires a client certificate from `ca_file` (R-MTP.1).
    pub require_client_cert: bool,
}

/// What the daemon must run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkPlan {
    /// The links, MQTT first, then STOMP, WebSocket servers, WebSocket clients; each in instance
    /// order.
    pub links: Vec<LinkSpec>,
    /// For each enabled controller (by Endpoint ID) the ways to reach it, best first.
    pub routes: BTreeMap<String, Vec<Route>>,
    /// What could not be planned, for the log and for `record_down(.., Down::Misconfigured)`.
    pub problems: Vec<Problem>,
}

impl LinkPlan {
    /// The link with this key.
    pub fn link(&self, key: &str) -> Option<&LinkSpec> {
        self.links.iter().find(|l| l.key == key)
    }
}

/// One link to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkSpec {
    /// The data-model row it comes from, as an instance path: `Device.MQTT.Client.1.`,
    /// `Device.STOMP.Connection.1.`, `Device.LocalAgent.MTP.2.` (WebSocket server) or
    /// `Device.LocalAgent.Controller.1.MTP.2.` (WebSocket client). Stable across plans.
    pub key: String,
    /// The `Device.LocalAgent.MTP.{i}.` row served by this link, if any.
    pub agent_mtp: Option<String>,
    /// The transport and its configuration.
    pub kind: LinkKind,
}

impl LinkSpec {
    /// Takes into this (running) link's spec what [`record_up`] wrote to the data model from
    /// `info`, so that the next [`plan`] compares equal and the link is not restarted for it:
    /// an MQTT ClientID assigned by the broker (R-MQTT.9) when none was configured.
    pub fn learn(&mut self, info: &usp_mtp::ConnectInfo) {
        #[cfg(feature = "mqtt")]
        if let (LinkKind::Mqtt(config), ConnectInfo::Mqtt { assigned_client_id: Some(id), .. }) =
            (&mut self.kind, info)
        {
            if config.client_id.is_empty() {
                config.client_id.clone_from(id);
            }
        }
        #[cfg(not(feature = "mqtt"))]
        let _ = info;
    }
}

/// The transport of a link and its configuration (variants exist for the MTPs built in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// An MQTT client (`Device.MQTT.Client.{i}`).
    #[cfg(feature = "mqtt")]
    Mqtt(usp_mtp::mqtt::MqttConfig),
    /// A STOMP connection (`Device.STOMP.Connection.{i}`).
    #[cfg(feature = "stomp")]
    Stomp(usp_mtp::stomp::StompConfig),
    /// A WebSocket session the agent opens towards one controller.
    #[cfg(feature = "websocket")]
    WsClient {
        /// The controller's Endpoint ID.
        controller: String,
        /// The client configuration.
        config: usp_mtp::ws::WsClientConfig,
    },
    /// The agent's WebSocket server (`LocalAgent.MTP.{i}` with Protocol `WebSocket`).
    #[cfg(feature = "websocket")]
    WsServer(usp_mtp::ws::WsServerConfig),
}

/// One way to reach a controller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The key of the [`LinkSpec`] to send on.
    pub link: String,
    /// The destination on that link (`usp_mtp::Outbound::dest`): the controller's MQTT topic or
    /// STOMP destination, or its Endpoint ID on a WebSocket server (ignored by a WebSocket
    /// client link).
    pub dest: String,
    /// MQTT `PublishRetainResponse`: publish responses with the retain flag.
    pub retain_response: bool,
    /// MQTT `PublishRetainNotify`: publish notifications with the retain flag.
    pub retain_notify: bool,
    /// The `Controller.{i}.MTP.{i}.` row the route comes from; `None` for the fallback through
    /// a WebSocket server.
    pub mtp: Option<String>,
}

/// The data-model subtrees whose changes may change the plan (for the core's config watch).
/// Link state written by the `record_*` functions is under them too; re-planning after it
/// gives the same plan.
pub const CONFIG_PREFIXES: &[&str] =
    &["Device.MQTT.", "Device.STOMP.", "Device.LocalAgent.MTP.", "Device.LocalAgent.Controller."];

/// Something the plan had to leave out (the row has no link and no route goes through it), and
/// why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The instance path of the row at fault (a link key when the row is a link's).
    pub key: String,
    /// What is wrong, for the log.
    pub reason: String,
}

/// Checks that the data model declares every item the links read and write (the areas' typed
/// ids resolve). The daemon runs it once at start-up, so that a missing or misspelt name stops
/// the agent instead of leaving its links unplanned.
pub fn check_schema(dm: &DataModel) -> Result<(), usp_areas::typed::SchemaMismatch> {
    read::Ids::resolve(dm.schema()).map(|_| ())
}

/// Reads the links and routes the data model configures for the agent `endpoint_id`, with TLS
/// files from `tls` (see the module doc for the rules). Reads only, as the agent itself.
/// A data model without the areas the links read (MQTT, STOMP, LocalAgent) plans nothing and
/// reports the missing item as a problem keyed `Device.`.
pub fn plan(dm: &mut DataModel, endpoint_id: &str, tls: &TlsFiles) -> LinkPlan {
    let mut plan = LinkPlan::default();
    let ids = match read::Ids::resolve(dm.schema()) {
        Ok(ids) => ids,
        Err(e) => {
            plan.problem("Device.", e.to_string());
            return plan;
        }
    };
    let mtps = read::agent_mtps(dm, &ids);
    let ctx = build::Ctx { endpoint_id, tls };
    for m in &mtps {
        build::check_agent_mtp(m, &mtps, &mut plan);
    }
    #[cfg(feature = "mqtt")]
    mqtt::mqtt_links(dm, &ids, &mtps, &ctx, &mut plan);
    #[cfg(not(feature = "mqtt"))]
    build::mqtt_links(dm, &ids, &mtps, &ctx, &mut plan);
    build::stomp_links(dm, &ids, &mtps, &ctx, &mut plan);
    build::ws_server_links(&mtps, &ctx, &mut plan);
    routes::controllers(dm, &ids, &mtps, &ctx, &mut plan);
    plan
}
