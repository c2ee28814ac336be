//! `Device.LocalAgent.Subscription.{i}.`: the notifications controllers asked for.
//!
//! The plugin stamps `CreationDate` when a row is added and, at start-up, deletes the rows
//! whose `Persistent` is false: they must not survive a restart. `Recipient` is read-only:
//! the core gives the creating controller's instance path
//! (`Device.LocalAgent.Controller.2`) among the initial values of the Add.
//!
//! The `Boot!` of that restart still belongs to the deleted rows (TP-469 9.10 subscribes to
//! `Device.Boot!` without `Persistent`; obuspa sends the Boot! before removing them). So before
//! deleting a row, the plugin emits the undeclared event [`REMOVED_AT_START_EVENT`] on it,
//! with every stored parameter of the row as (name, value) arguments: the core reads them when
//! it boots, never forwards them as a USP Event.

use usp_datamodel::error::UspError;
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ObjAccess, ParamId, SchemaBuilder, Storage};
use usp_datamodel::value::{ParamType, Value};

/// The name of the internal event carrying a non-`Persistent` subscription deleted at
/// start-up, with its parameters (see the module doc).
pub const REMOVED_AT_START_EVENT: &str = "RemovedAtStart";

/// The `Device.LocalAgent.Subscription.{i}.` plugin.
#[derive(Debug, Default)]
pub struct Subscriptions;

impl Plugin for Subscriptions {
    fn name(&self) -> &'static str {
        "Subscription"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let s = b.table("Device.LocalAgent.Subscription.{i}.", ObjAccess::AddDelete);
        b.alias(s);
        b.param(s, "Enable", ParamType::Boolean).rw().default("false");
        b.param(s, "Recipient", ParamType::String).reference().stored();
        // {Recipient, ID} is a non-functional key: ID never changes once set (R-KEY.1).
        b.param(s, "ID", ParamType::String).rw().max_len(64).immutable_key();
        b.unique_key(s, &["Recipient", "ID"]);
        b.param(s, "CreationDate", ParamType::DateTime).stored().no_value_change();
        b.param(s, "NotifType", ParamType::String).rw().enumeration(&[
            "ValueChange",
            "ObjectCreation",
            "ObjectDeletion",
            "OperationComplete",
            "Event",
        ]);
        b.param(s, "ReferenceList", ParamType::String).rw().list();
        b.param(s, "Persistent", ParamType::Boolean).rw().default("false");
        b.param(s, "TimeToLive", ParamType::UnsignedInt).rw().default("0");
        b.param(s, "NotifRetry", ParamType::Boolean).rw().default("false");
        b.param(s, "NotifExpiration", ParamType::UnsignedInt).rw().default("0");
        b.param(s, "TriggerAction", ParamType::String)
            .rw()
            .enumeration(&["Notify", "Config", "NotifyAndConfig"])
            .default("Notify");
        b.param(s, "TriggerConfigSettings", ParamType::String).rw().list();
    }

    fn start(&mut self, ctx: &mut Ctx) {
        let schema = ctx.schema();
        let Some(table) = schema.obj_by_path("Device.LocalAgent.Subscription.{i}.") else {
            return;
        };
        let Some(persistent) = schema.param_by_name(table, "Persistent") else { return };
        let mut volatile = Vec::new();
        for n in ctx.rows(table, &[]) {
            let inst = Instance { obj: table, numbers: vec![n], keys: vec![None] };
            match ctx.stored(&inst, persistent) {
                Some(Value::Boolean(true)) | None => {}
                Some(_) => volatile.push(inst),
            }
        }
        let stored: Vec<ParamId> = schema
            .obj(table)
            .params
            .iter()
            .copied()
            .filter(|p| matches!(schema.param(*p).storage, Storage::Stored(_)))
            .collect();
        for inst in volatile {
            let args = stored
                .iter()
                .filter_map(|p| {
                    let value = ctx.stored(&inst, *p)?.clone();
                    Some((ctx.schema().param(*p).name.clone(), value))
                })
                .collect();
            ctx.emit(&inst, REMOVED_AT_START_EVENT, args);
            ctx.delete_row(&inst);
        }
    }

    fn add(
        &mut self,
        ctx: &mut Ctx,
        row: &Instance,
        _params: &[(ParamId, Value)],
    ) -> Result<Option<String>, UspError> {
        // Applied once the Add commits; dropped if it aborts.
        if let Some(created) = ctx.schema().param_by_name(row.obj, "CreationDate") {
            let now = ctx.now().wall;
            ctx.set_stored(row, created, Value::DateTime(now));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::local_agent::{Controllers, LocalAgent};
    use crate::testutil::*;
    use usp_datamodel::error::ErrorCode;
    use usp_datamodel::plugin::{DmEvent, Requester};

    fn plugins() -> Vec<Box<dyn Plugin>> {
        vec![
            Box::new(LocalAgent::new(Default::default())),
            Box::new(Controllers),
            Box::new(Subscriptions),
        ]
    }

    const TABLE: &str = "Device.LocalAgent.Subscription.";
    const RECIPIENT: (&str, &str) = ("Recipient", "Device.LocalAgent.Controller.1.");

    /// Adds a subscription the way the core does: Recipient among the initial values.
    fn subscribe(t: &mut Lab, values: &[(&str, &str)]) -> Result<String, UspError> {
        let mut all = vec![RECIPIENT];
        all.extend_from_slice(values);
        let p = usp_datamodel::path::Path::parse(TABLE).unwrap();
        let target = t.dm.resolve(&Requester::Internal, &p).unwrap().remove(0);
        let mut initial = Vec::new();
        for (name, text) in all {
            let param = t.dm.schema().param_by_name(target.obj, name).unwrap();
            let internal = name == "Recipient";
            let who = if internal { Requester::Internal } else { t.who.clone() };
            initial.push((param, t.dm.check_value(&who, param, text, true)?));
        }
        t.dm.begin(t.who.clone());
        let r = t.dm.add_row(target.obj, &target.numbers, &initial);
        if r.is_ok() {
            t.dm.commit()
        } else {
            t.dm.abort()
        }
        t.dm.flush().unwrap();
        r.map(|n| t.dm.schema().instance_path(target.obj, &n))
    }

    #[test]
    fn every_parameter_reads_and_creation_date_is_stamped() {
        let mut t = Lab::on(plugins(), Default::default(), at(30));
        let s = subscribe(&mut t, &[("NotifType", "ValueChange")]).unwrap();
        assert_eq!(t.read_all(&s).len(), 13);
        assert_eq!(t.get(&format!("{s}CreationDate")), "2024-05-01T12:00:30Z");
        assert_eq!(t.get(&format!("{s}TriggerAction")), "Notify");
        assert_eq!(t.get(&format!("{s}Recipient")), RECIPIENT.1);
        let events = t.events();
        assert!(
            !events.iter().any(|e| matches!(e, DmEvent::ValueChanged { .. })),
            "stamping is no value change: {events:?}"
        );
        let e = t.set(&s, &[("CreationDate", "2020-01-01T00:00:00Z")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        let e = t.set(&s, &[("Recipient", "Device.LocalAgent.Controller.2.")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
    }

    #[test]
    fn keys_are_assigned_and_distinct() {
        let mut t = Lab::new(plugins());
        let s1 = subscribe(&mut t, &[]).unwrap();
        let s2 = subscribe(&mut t, &[]).unwrap();
        let (a1, a2) = (t.get(&format!("{s1}Alias")), t.get(&format!("{s2}Alias")));
        let (i1, i2) = (t.get(&format!("{s1}ID")), t.get(&format!("{s2}ID")));
        assert!(a1.starts_with("cpe-") && a2.starts_with("cpe-"));
        assert_ne!(a1, a2);
        assert!(!i1.is_empty() && !i2.is_empty());
        assert_ne!(i1, i2);
        let events = t.events();
        let created: Vec<Vec<(String, String)>> = events
            .into_iter()
            .filter_map(|e| match e {
                DmEvent::ObjectCreated { keys, .. } => Some(keys),
                _ => None,
            })
            .map(|keys| {
                let schema = t.dm.schema();
                keys.iter()
                    .map(|(p, v)| (schema.param(*p).name.to_string(), v.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(created.len(), 2);
        assert!(created[0].iter().any(|(k, v)| k == "ID" && *v == i1), "{created:?}");
        assert_eq!(t.get("Device.LocalAgent.SubscriptionNumberOfEntries"), "2");
    }

    #[test]
    fn same_id_for_the_same_recipient_conflicts() {
        let mut t = Lab::new(plugins());
        subscribe(&mut t, &[("ID", "sub")]).unwrap();
        let e = subscribe(&mut t, &[("ID", "sub")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::UniqueKeyConflict);
        let e = subscribe(&mut t, &[("Alias", "9sub")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
    }

    #[test]
    fn id_is_immutable_once_set() {
        let mut t = Lab::new(plugins());
        let s = subscribe(&mut t, &[("ID", "sub")]).unwrap();
        let e = t.set(&s, &[("ID", "other")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        assert_eq!(t.get(&format!("{s}ID")), "sub");
        let assigned = subscribe(&mut t, &[]).unwrap();
        let e = t.set(&assigned, &[("ID", "mine")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly, "an agent-assigned ID is set too");
    }

    #[test]
    fn only_persistent_subscriptions_survive_a_restart() {
        let mut t = Lab::new(plugins());
        let keep = subscribe(&mut t, &[("ID", "keep"), ("Persistent", "true")]).unwrap();
        let gone = subscribe(&mut t, &[("ID", "gone")]).unwrap();
        let mut t = t.restart(plugins());
        t.dm.flush().unwrap();
        assert_eq!(t.get(&format!("{keep}ID")), "keep");
        assert!(t.try_get(&format!("{gone}ID")).is_err());
        assert!(!t.store.has_row(&gone));
        assert_eq!(t.get("Device.LocalAgent.SubscriptionNumberOfEntries"), "1");
        let again = subscribe(&mut t, &[("ID", "new")]).unwrap();
        assert_eq!(again, "Device.LocalAgent.Subscription.3.", "numbers are never reused");
    }

    #[test]
    fn a_volatile_row_is_handed_to_the_core_before_it_goes() {
        let mut t = Lab::new(plugins());
        subscribe(&mut t, &[("ID", "keep"), ("Persistent", "true")]).unwrap();
        let gone = subscribe(&mut t, &[("ID", "gone"), ("NotifType", "Event")]).unwrap();
        let mut t = t.restart(plugins());
        let events = t.events();
        let removed: Vec<_> = events
            .into_iter()
            .filter_map(|e| match e {
                DmEvent::Event { obj, numbers, name, args } if &*name == REMOVED_AT_START_EVENT => {
                    Some((t.dm.schema().instance_path(obj, &numbers), args))
                }
                _ => None,
            })
            .collect();
        assert_eq!(removed.len(), 1, "{removed:?}");
        let (path, args) = &removed[0];
        assert_eq!(path, &gone);
        let arg = |n: &str| args.iter().find(|(k, _)| &**k == n).map(|(_, v)| v.to_string());
        assert_eq!(arg("ID").as_deref(), Some("gone"));
        assert_eq!(arg("NotifType").as_deref(), Some("Event"));
        assert_eq!(arg("Recipient").as_deref(), Some(RECIPIENT.1));
        assert_eq!(arg("Persistent").as_deref(), Some("false"));
    }
}
