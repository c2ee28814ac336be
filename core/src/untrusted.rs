//! Controllers missing from `Device.LocalAgent.Controller.` (TR-369 "Assigning Controller
//! Roles": the `UntrustedRole` "is the Role the Agent will automatically assign to any
//! Controller that has not been authorized for a different Role"; TP-469 2.9).
//!
//! Policy: when `ControllerTrust.UntrustedRole` names a Role, a Record from an unknown
//! Endpoint ID adds a Controller row for it (`EndpointID`, `Enable` true, `AssignedRole` the
//! UntrustedRole) and is then answered with that Role's rights; the row is what lets another
//! Controller (or a Challenge) raise its Role later. When `UntrustedRole` is empty the agent
//! keeps to its configured controllers: such Records are ignored silently (R-MTP.5 allows no
//! answer to an endpoint that is not known). At most [`MAX_CONTROLLERS`] rows: beyond them an
//! unknown controller is ignored, so a flood of invented Endpoint IDs cannot grow the table.
//!
//! Never decides what the Role grants (the access evaluator does) and never admits a Record
//! whose `from_id` contradicts the identity its MTP proved (see `record`).

use usp_datamodel::plugin::Requester;
use usp_datamodel::value::Value;

use super::Core;

/// The most rows of the Controller table an unknown controller may be added to.
pub const MAX_CONTROLLERS: usize = 32;

const TRUST: &str = "Device.LocalAgent.ControllerTrust.";

impl Core {
    /// The value of `ControllerTrust.UntrustedRole` (empty when not set or not declared).
    pub(crate) fn untrusted_role(&mut self) -> String {
        let schema = self.dm.schema();
        let Some(trust) = schema.obj_by_path(TRUST) else { return String::new() };
        let Some(param) = schema.param_by_name(trust, "UntrustedRole") else {
            return String::new();
        };
        let value = self.dm.read_params(&Requester::Internal, trust, &[], &[param]);
        match value.into_iter().next() {
            Some(Ok(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// Admits the unknown controller `eid` under the UntrustedRole (see the module doc);
    /// returns whether its Record may be processed.
    pub(crate) fn admit_unknown(&mut self, eid: &str) -> bool {
        let role = self.untrusted_role();
        if role.is_empty() {
            log::warn!(
                "ignoring a Record from the unknown controller {:?} (no UntrustedRole)",
                super::short(eid)
            );
            return false;
        }
        let Some((table, eid_param)) = self.controller_table() else { return true };
        if self.dm.row_numbers(table, &[]).len() >= MAX_CONTROLLERS {
            log::warn!(
                "ignoring a Record from the unknown controller {:?}: {MAX_CONTROLLERS} \
                 controllers already",
                super::short(eid)
            );
            return false;
        }
        let schema = self.dm.schema();
        let mut values = vec![(eid_param, Value::String(eid.into()))];
        if let Some(p) = schema.param_by_name(table, "AssignedRole") {
            values.push((p, Value::String(role.as_str().into())));
        }
        if let Some(p) = schema.param_by_name(table, "Enable") {
            values.push((p, Value::Boolean(true)));
        }
        self.dm.begin(Requester::Internal);
        match self.dm.add_row(table, &[], &values) {
            Ok(numbers) => {
                self.dm.commit();
                log::info!(
                    "unknown controller {eid:?} added as Controller.{} with the UntrustedRole {role}",
                    numbers.first().copied().unwrap_or_default()
                );
                true
            }
            Err(e) => {
                self.dm.abort();
                log::warn!("unknown controller {eid:?} could not be added ({e}); ignored");
                false
            }
        }
    }
}
