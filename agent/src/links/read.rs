//! Reading the data model as the agent: table rows and single objects as name → value maps,
//! references resolved to instance paths, and the enabled `LocalAgent.MTP.{i}` rows.
// A build without any MTP reads less.
#![cfg_attr(not(any(feature = "mqtt", feature = "stomp", feature = "websocket")), allow(dead_code))]

use std::collections::HashMap;
use usp_datamodel::path::Path;
use usp_datamodel::plugin::Requester;
use usp_datamodel::value::Value;
use usp_datamodel::{DataModel, Item};

/// The parameter values of one object instance, by name.
#[derive(Clone, Debug, Default)]
pub(super) struct Values(HashMap<String, Value>);

impl Values {
    /// The text of a string parameter (empty when absent).
    pub(super) fn text(&self, name: &str) -> &str {
        self.0.get(name).and_then(Value::as_str).unwrap_or_default()
    }
    /// A boolean parameter (false when absent).
    pub(super) fn flag(&self, name: &str) -> bool {
        self.0.get(name).and_then(Value::as_bool).unwrap_or(false)
    }
    /// An unsigned parameter (0 when absent).
    pub(super) fn num(&self, name: &str) -> u64 {
        self.0.get(name).and_then(Value::as_u64).unwrap_or(0)
    }
    /// An unsigned parameter as `u32`, saturating.
    pub(super) fn num32(&self, name: &str) -> u32 {
        u32::try_from(self.num(name)).unwrap_or(u32::MAX)
    }
}

/// One row of a table: its instance path (`Device.MQTT.Client.1.`) and values.
#[derive(Clone, Debug)]
pub(super) struct Row {
    /// The instance path, ending with `.`.
    pub(super) path: String,
    /// Its parameters.
    pub(super) values: Values,
}

/// Every row of the table `table` (`Device.MQTT.Client.`), in instance order.
pub(super) fn rows(dm: &mut DataModel, table: &str) -> Vec<Row> {
    let Ok(path) = Path::parse(&format!("{table}*.")) else { return Vec::new() };
    let Ok(targets) = dm.resolve(&Requester::Internal, &path) else { return Vec::new() };
    targets
        .into_iter()
        .map(|t| {
            let path = dm.schema().instance_path(t.obj, &t.numbers);
            let values = values_of(dm, t.obj, &t.numbers);
            Row { path, values }
        })
        .collect()
}

/// The values of the object instance at `path` (`Device.LocalAgent.MTP.1.MQTT.`), if it exists.
pub(super) fn object(dm: &mut DataModel, path: &str) -> Option<Values> {
    let parsed = Path::parse(path).ok()?;
    let target = dm.resolve(&Requester::Internal, &parsed).ok()?.into_iter().next()?;
    (target.item == Item::Object).then(|| values_of(dm, target.obj, &target.numbers))
}

fn values_of(dm: &mut DataModel, obj: usp_datamodel::schema::ObjId, numbers: &[u32]) -> Values {
    let read = dm.read_all(&Requester::Internal, obj, numbers);
    let schema = dm.schema();
    Values(read.into_iter().map(|(p, v)| (schema.param(p).name.to_string(), v)).collect())
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
    /// The values of its protocol's sub-object (`MQTT.`, `STOMP.`, `WebSocket.`).
    pub(super) sub: Values,
}

/// The enabled `LocalAgent.MTP.{i}` rows, in instance order.
pub(super) fn agent_mtps(dm: &mut DataModel) -> Vec<AgentMtp> {
    let mut out = Vec::new();
    for row in rows(dm, "Device.LocalAgent.MTP.") {
        if !row.values.flag("Enable") {
            continue;
        }
        let protocol = row.values.text("Protocol").to_owned();
        let sub = object(dm, &format!("{}{protocol}.", row.path)).unwrap_or_default();
        let link = match protocol.as_str() {
            "MQTT" | "STOMP" => reference(dm, sub.text("Reference")),
            _ => None,
        };
        out.push(AgentMtp { path: row.path, protocol, link, sub });
    }
    out
}

/// The agent MTP a link serves: the first enabled one whose Reference names the link's row.
pub(super) fn owner_of<'a>(mtps: &'a [AgentMtp], link: &str) -> Option<&'a AgentMtp> {
    mtps.iter().find(|m| m.link.as_deref() == Some(link))
}
