//! Reading the data model as the agent, through the areas' typed readers: the ids they need
//! ([`Ids`]), references resolved to instance paths, and the enabled `LocalAgent.MTP.{i}` rows.
// A build without any MTP reads less.
#![cfg_attr(not(any(feature = "mqtt", feature = "stomp", feature = "websocket")), allow(dead_code))]

use usp_areas::local_agent::{AgentMtpConfig, AgentMtpIds, ControllerIds};
use usp_areas::mqtt::MqttIds;
use usp_areas::stomp::StompIds;
use usp_areas::typed::SchemaMismatch;
use usp_datamodel::DataModel;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::Schema;

/// The ids of every parameter the links read and write, resolved from the schema.
pub(super) struct Ids {
    /// `Device.MQTT.Client.{i}` and its tables.
    pub(super) mqtt: MqttIds,
    /// `Device.STOMP.Connection.{i}`.
    pub(super) stomp: StompIds,
    /// `Device.LocalAgent.MTP.{i}`.
    pub(super) mtp: AgentMtpIds,
    /// `Device.LocalAgent.Controller.{i}` and its `MTP.{i}`.
    pub(super) controller: ControllerIds,
}

impl Ids {
    /// Resolves them; fails when an area the links need is missing from `schema`.
    pub(super) fn resolve(schema: &Schema) -> Result<Ids, SchemaMismatch> {
        Ok(Ids {
            mqtt: MqttIds::resolve(schema)?,
            stomp: StompIds::resolve(schema)?,
            mtp: AgentMtpIds::resolve(schema)?,
            controller: ControllerIds::resolve(schema)?,
        })
    }
}

/// The instance path (`Device.MQTT.Client.1.`) a reference value names, when it names exactly
/// one existing row: `Device.MQTT.Client.1`, `Device.MQTT.Client.1.` and
/// `Device.MQTT.Client.[Alias=="a"].` all work.
pub(super) fn reference(dm: &mut DataModel, text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let text = if text.ends_with('.') { text.to_owned() } else { format!("{text}.") };
    let parsed = Path::parse(&text).ok()?;
    let mut targets = dm.resolve(&Requester::Internal, &parsed).ok()?;
    let target = targets.pop()?;
    let complete = dm.schema().depth(target.obj) == target.numbers.len();
    (targets.is_empty() && complete && dm.schema().obj(target.obj).multi)
        .then(|| dm.schema().instance_path(target.obj, &target.numbers))
}

/// An enabled `Device.LocalAgent.MTP.{i}` row.
#[derive(Clone, Debug)]
pub(super) struct AgentMtp {
    /// Its instance path (`Device.LocalAgent.MTP.1.`).
    pub(super) path: String,
    /// `Protocol`.
    pub(super) protocol: String,
    /// For MQTT and STOMP: the row its `Reference` names, if it exists.
    pub(super) link: Option<String>,
    /// The row as configured.
    pub(super) config: AgentMtpConfig,
}

/// The enabled `LocalAgent.MTP.{i}` rows, in instance order.
pub(super) fn agent_mtps(dm: &mut DataModel, ids: &Ids) -> Vec<AgentMtp> {
    let mut out = Vec::new();
    for config in ids.mtp.mtps(dm).into_iter().filter(|m| m.enable) {
        let link = match config.protocol.as_str() {
            "MQTT" => reference(dm, &config.mqtt.reference),
            "STOMP" => reference(dm, &config.stomp.reference),
            _ => None,
        };
        out.push(AgentMtp {
            path: config.path.clone(),
            protocol: config.protocol.clone(),
            link,
            config,
        });
    }
    out
}

/// The agent MTP a link serves: the first enabled one whose Reference names the link's row.
pub(super) fn owner_of<'a>(mtps: &'a [AgentMtp], link: &str) -> Option<&'a AgentMtp> {
    mtps.iter().find(|m| m.link.as_deref() == Some(link))
}
