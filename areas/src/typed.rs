//! Typed access to the stored configuration and state of the areas, for the host's MTP links:
//! the pieces each area's typed readers (`mqtt::ClientConfig`, `stomp::ConnectionConfig`,
//! `local_agent::AgentMtpConfig`, `local_agent::ControllerConfig`) and status writers are
//! built on.
//!
//! An area resolves the ids of the parameters its readers and writers use once, from the frozen
//! schema, with the same name constants its registration declares them with (each name is
//! written once, next to the declaration). A name the schema lacks is a [`SchemaMismatch`] when
//! the ids are resolved (at start-up, and in the areas' tests), never a value silently read as
//! "" or 0. Reads and writes are the agent's own ([`Requester::Internal`]).
//!
//! Never does: I/O, or writes outside one [`Writes::apply`] transaction.

use std::fmt;

use usp_datamodel::plugin::Requester;
use usp_datamodel::schema::{ObjId, ParamId, Schema};
use usp_datamodel::store::StoreError;
use usp_datamodel::value::Value;
use usp_datamodel::{DataModel, UspError};

/// An object or parameter a typed reader or writer needs is not in the schema: the area's
/// registration and its readers disagree (a bug caught at start-up and by the tests).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaMismatch {
    /// The path that is missing (`Device.MQTT.Client.{i}.BrokerAddress`).
    pub path: String,
}

impl fmt::Display for SchemaMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not in the data model", self.path)
    }
}

impl std::error::Error for SchemaMismatch {}

/// One object of the schema, for resolving its parameters' ids by name.
pub(crate) struct Lookup<'a> {
    schema: &'a Schema,
    obj: ObjId,
}

impl<'a> Lookup<'a> {
    /// The object at the supported-path `path` (`Device.MQTT.Client.{i}.`).
    pub(crate) fn new(schema: &'a Schema, path: &str) -> Result<Lookup<'a>, SchemaMismatch> {
        let obj = schema.obj_by_path(path).ok_or_else(|| SchemaMismatch { path: path.into() })?;
        Ok(Lookup { schema, obj })
    }

    /// The object's id.
    pub(crate) fn obj(&self) -> ObjId {
        self.obj
    }

    /// The id of its parameter `name`.
    pub(crate) fn param(&self, name: &str) -> Result<ParamId, SchemaMismatch> {
        self.schema.param_by_name(self.obj, name).ok_or_else(|| SchemaMismatch {
            path: format!("{}{name}", self.schema.obj(self.obj).path),
        })
    }
}

/// The values of one object instance, read once, looked up by id.
pub(crate) struct Values(Vec<(ParamId, Value)>);

impl Values {
    /// Reads every parameter of the instance `numbers` of `obj` (none when it does not exist).
    pub(crate) fn read(dm: &mut DataModel, obj: ObjId, numbers: &[u32]) -> Values {
        Values(dm.read_all(&Requester::Internal, obj, numbers))
    }

    fn get(&self, p: ParamId) -> Option<&Value> {
        self.0.iter().find(|(id, _)| *id == p).map(|(_, v)| v)
    }

    /// A string parameter (its schema type; empty only when the instance is gone).
    pub(crate) fn text(&self, p: ParamId) -> String {
        self.get(p).and_then(Value::as_str).unwrap_or_default().to_owned()
    }

    /// A boolean parameter.
    pub(crate) fn flag(&self, p: ParamId) -> bool {
        self.get(p).and_then(Value::as_bool).unwrap_or(false)
    }

    /// An `unsignedInt` parameter.
    pub(crate) fn num(&self, p: ParamId) -> u32 {
        self.get(p).and_then(Value::as_u64).map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// The rows of `table` under the parent instance `parent`, in instance order, each with its
/// full instance numbers.
pub(crate) fn rows(dm: &mut DataModel, table: ObjId, parent: &[u32]) -> Vec<Vec<u32>> {
    dm.row_numbers(table, parent)
        .into_iter()
        .map(|n| parent.iter().copied().chain([n]).collect())
        .collect()
}

/// Whether the instance `numbers` of `obj` exists.
pub(crate) fn exists(dm: &mut DataModel, obj: ObjId, numbers: &[u32]) -> bool {
    let chain = dm.schema().chain(obj).to_vec();
    chain.len() == numbers.len()
        && chain
            .iter()
            .enumerate()
            .all(|(k, t)| dm.row_numbers(*t, &numbers[..k]).contains(&numbers[k]))
}

/// Why [`Writes::apply`] failed.
#[derive(Debug)]
pub enum WriteError {
    /// The data model refused one of the values (a bug: they are the agent's own); nothing of
    /// the batch was applied.
    Refused(UspError),
    /// The values are applied but could not be persisted (they are retried with the next flush).
    Store(StoreError),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Refused(e) => write!(f, "link state refused by the data model: {}", e.msg),
            WriteError::Store(e) => write!(f, "link state not persisted: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

/// A batch of typed status writes (filled by the areas' status writers), applied as one
/// transaction of internal sets.
#[derive(Debug, Default)]
pub struct Writes(Vec<(ObjId, Vec<u32>, ParamId, Value)>);

impl Writes {
    /// Adds the write of `value` into `param` of the instance `numbers` of `obj`.
    pub(crate) fn set(&mut self, obj: ObjId, numbers: &[u32], param: ParamId, value: Value) {
        self.0.push((obj, numbers.to_vec(), param, value));
    }

    /// Whether nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies every write in one transaction as the agent, then flushes. Instances that no
    /// longer exist are skipped.
    pub fn apply(self, dm: &mut DataModel) -> Result<(), WriteError> {
        if self.0.is_empty() {
            return Ok(());
        }
        dm.begin(Requester::Internal);
        for (obj, numbers, param, value) in self.0 {
            if !exists(dm, obj, &numbers) {
                continue;
            }
            if let Err(e) = dm.set_values(obj, &numbers, &[(param, value)]) {
                dm.abort();
                return Err(WriteError::Refused(e));
            }
        }
        dm.commit();
        dm.flush().map_err(WriteError::Store)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::local_agent::{AgentMtpIds, ControllerIds, MtpStatus};
    use crate::mqtt::{ClientStatus, MqttIds, SubscriptionStatus};
    use crate::stomp::{ConnectionStatus, StompIds};
    use crate::testutil::*;
    use crate::{AgentIdentity, builtin};
    use usp_datamodel::plugin::Requester;

    use super::Writes;

    fn lab() -> Lab {
        let mut t = Lab::new(builtin(&AgentIdentity::default()));
        t.who = Requester::Internal;
        t
    }

    /// Every name the typed readers and writers use is declared by the built-in areas.
    #[test]
    fn every_typed_id_resolves_on_the_builtin_schema() {
        let t = lab();
        MqttIds::resolve(t.dm.schema()).unwrap();
        StompIds::resolve(t.dm.schema()).unwrap();
        AgentMtpIds::resolve(t.dm.schema()).unwrap();
        ControllerIds::resolve(t.dm.schema()).unwrap();
    }

    #[test]
    fn a_missing_area_is_a_schema_mismatch() {
        let t = Lab::new(vec![Box::new(crate::Stomp)]);
        let e = MqttIds::resolve(t.dm.schema()).unwrap_err();
        assert_eq!(e.to_string(), "Device.MQTT.Client.{i}. is not in the data model");
    }

    #[test]
    fn mqtt_clients_read_and_write_typed() {
        let mut t = lab();
        let c = t.add("Device.MQTT.Client.", &[("BrokerAddress", "b.lab"), ("Enable", "true")]);
        let c = c.unwrap();
        t.add(&format!("{c}Subscription."), &[("Topic", "t/a"), ("QoS", "1")]).unwrap();
        t.add(&format!("{c}UserProperty."), &[("Name", "n"), ("PacketType", "CONNECT")]).unwrap();
        let ids = MqttIds::resolve(t.dm.schema()).unwrap();
        let all = ids.clients(&mut t.dm);
        assert_eq!(all.len(), 1);
        let client = &all[0];
        assert_eq!((client.path.as_str(), client.number), ("Device.MQTT.Client.1.", 1));
        assert!(client.enable);
        assert_eq!((client.broker_address.as_str(), client.broker_port), ("b.lab", 1883));
        assert_eq!(client.connect_retry_interval_multiplier, 2000);
        assert_eq!(client.will.delay_interval, 5);
        assert_eq!(
            (client.subscriptions[0].topic.as_str(), client.subscriptions[0].qos),
            ("t/a", 1)
        );
        assert_eq!(client.user_properties[0].packet_type, "CONNECT");
        assert_eq!(ids.number_of("Device.MQTT.Client.1."), Some(1));
        assert_eq!(ids.number_of("Device.STOMP.Connection.1."), None);

        let mut w = Writes::default();
        ids.set_status(&mut w, 1, ClientStatus::ErrorBrokerUnreachable);
        ids.set_client_id(&mut w, 1, "given");
        ids.set_response_information(&mut w, 1, "resp/");
        ids.set_subscription_status(&mut w, 1, 1, SubscriptionStatus::Subscribed);
        ids.set_status(&mut w, 9, ClientStatus::Connected);
        w.apply(&mut t.dm).unwrap();
        assert_eq!(t.get(&format!("{c}Status")), "Error_BrokerUnreachable");
        assert_eq!(t.get(&format!("{c}ClientID")), "given");
        assert_eq!(t.get(&format!("{c}ResponseInformation")), "resp/");
        assert_eq!(t.get(&format!("{c}Subscription.1.Status")), "Subscribed");
    }

    #[test]
    fn stomp_status_stamps_its_change() {
        let mut t = lab();
        let c = t.add("Device.STOMP.Connection.", &[("Host", "s.lab")]).unwrap();
        let ids = StompIds::resolve(t.dm.schema()).unwrap();
        assert_eq!(ids.connections(&mut t.dm)[0].host, "s.lab");
        t.tick(10);
        let mut w = Writes::default();
        ids.set_status(&mut t.dm, &mut w, 1, ConnectionStatus::Enabled);
        w.apply(&mut t.dm).unwrap();
        assert_eq!(t.get(&format!("{c}Status")), "Enabled");
        assert_eq!(t.get(&format!("{c}LastChangeDate")), "2024-05-01T12:00:10Z");
        let mut w = Writes::default();
        ids.set_status(&mut t.dm, &mut w, 1, ConnectionStatus::Enabled);
        assert!(w.is_empty(), "no change, no write");
    }

    #[test]
    fn agent_mtps_and_controllers_read_and_write_typed() {
        let mut t = lab();
        let m = t.add("Device.LocalAgent.MTP.", &[("Protocol", "STOMP"), ("Enable", "true")]);
        let m = m.unwrap();
        t.set(&format!("{m}STOMP."), &[("Destination", "d/agent")]).unwrap();
        let c = t.add("Device.LocalAgent.Controller.", &[("EndpointID", "proto::c")]).unwrap();
        let cm = t.add(&format!("{c}MTP."), &[("Protocol", "WebSocket")]).unwrap();
        t.set(&format!("{cm}WebSocket."), &[("Host", "ctl.lab")]).unwrap();

        let ids = AgentMtpIds::resolve(t.dm.schema()).unwrap();
        let mtps = ids.mtps(&mut t.dm);
        assert_eq!(
            (mtps[0].protocol.as_str(), mtps[0].stomp.destination.as_str()),
            ("STOMP", "d/agent")
        );
        assert_eq!(mtps[0].websocket.port, 8443);
        let mut w = Writes::default();
        ids.set_status(&mut w, 1, MtpStatus::Up);
        ids.set_destination_from_server(&mut w, 1, "d/server");
        w.apply(&mut t.dm).unwrap();
        assert_eq!(t.get(&format!("{m}Status")), "Up");
        assert_eq!(t.get(&format!("{m}STOMP.DestinationFromServer")), "d/server");

        let ids = ControllerIds::resolve(t.dm.schema()).unwrap();
        let all = ids.controllers(&mut t.dm);
        assert_eq!(all[0].endpoint_id, "proto::c");
        assert_eq!(all[0].mtps[0].websocket.host, "ctl.lab");
        assert_eq!(all[0].mtps[0].order, 1);
        let mut w = Writes::default();
        ids.set_current_retry_count(&mut w, &cm, 3);
        w.apply(&mut t.dm).unwrap();
        assert_eq!(ids.mtp_at(&mut t.dm, &cm).unwrap().websocket.current_retry_count, 3);
        assert!(ids.is_mtp_path(&cm));
        assert!(!ids.is_mtp_path(&c));
    }
}
