//! The built-in TR-181 areas, one file per area, and [`builtin`], the one static registration
//! table that lists them in order (parents before children).
//!
//! Each area is a [`Plugin`]: it declares its objects, serves its live parameters from the
//! [`AgentIdentity`] and the clock, and runs its commands. Everything writable is stored by the
//! engine; plugins only veto, stamp or compute.
//!
//! Conventions between these modules and the agent's message core:
//! - `Device.Reboot()` / `Device.FactoryReset()` emit [`usp_datamodel::plugin::SystemRequest`]s; the
//!   core answers the controller first, then carries them out.
//! - `Device.LocalAgent.Controller.{i}.SendOnBoardRequest()` sets `OnBoardingComplete` to
//!   false and emits the *undeclared* event [`local_agent::ONBOARD_REQUEST_EVENT`] on the
//!   Controller instance: the core must intercept it (never forward it as a USP Event) and
//!   send an OnBoardRequest notification to that controller.
//! - `Device.LocalAgent.Request.{i}` rows are created and deleted by the core (see
//!   [`local_agent::Requests`]).
//! - `Device.LocalAgent.Subscription.{i}.Recipient` is read-only: the core puts the creating
//!   controller's instance path among the initial values it passes to `add_row`.
//! - The default ControllerTrust role ("Full Access") is a factory default: the core calls
//!   [`local_agent::apply_trust_defaults`] after `DataModel::new` (it applies
//!   [`local_agent::trust_default_entries`] when the Role table is empty). A controller gets
//!   the rights of its `AssignedRole` / `InheritedRole` Roles (see [`usp_datamodel::access`]); the
//!   reset file must give it one (`Role.1` for full access).
//! - `Device.LocalAgent.MTP.{i}.Status` (and the `...Discovered` / `...FromServer` values) are
//!   read-only, stored and volatile: the MTP layer updates them with internal sets.
//! - `Device.ScheduleTimer()` runs are kept in memory by [`Device`]: they do not survive a
//!   restart.
//! - `Device.MQTT.Client.{i}.ForceReconnect()` and
//!   `Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.Reset()` emit
//!   [`usp_datamodel::plugin::SystemRequest::Reconnect`] naming the link's row; the host closes and
//!   re-opens that link.
//! - `Device.MQTT.Client.{i}` / `Device.STOMP.Connection.{i}` `Status`, MQTT
//!   `ResponseInformation` and `Subscription.{i}.Status`, and
//!   `Controller.{i}.MTP.{i}.WebSocket.CurrentRetryCount` are read-only, stored and volatile:
//!   the MTP layer writes them with internal sets. MQTT `Client.{i}.Stats.` is live: the MTP
//!   layer counts into the [`MqttStats`] given to [`builtin_with`]. The MQTT `ClientID` it learns from a
//!   CONNACK persists. Passwords are hidden parameters (see
//!   [`usp_datamodel::schema::ParamDef::hidden`]).

mod device;
mod device_info;
pub mod local_agent;
pub mod mqtt;
pub mod stomp;
mod time;
pub mod typed;

#[cfg(test)]
pub(crate) mod testutil;

pub use device::Device;
pub use device_info::DeviceInfo;
pub use mqtt::{Mqtt, MqttStats};
pub use stomp::Stomp;
pub use time::Time;

use usp_datamodel::plugin::Plugin;

/// Who the agent is: the identity values served by `Device.DeviceInfo.` and
/// `Device.LocalAgent.`. Read from the agent's configuration at start-up; the [`Default`] gives
/// lab values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The USP Endpoint ID (`Device.LocalAgent.EndpointID`), e.g. `os::00D09E-LAB0001`.
    pub endpoint_id: String,
    /// `Device.DeviceInfo.Manufacturer` (at most 64 characters).
    pub manufacturer: String,
    /// `Device.DeviceInfo.ManufacturerOUI`: six upper-case hex digits.
    pub manufacturer_oui: String,
    /// `Device.DeviceInfo.ModelName`.
    pub model_name: String,
    /// `Device.DeviceInfo.ProductClass`.
    pub product_class: String,
    /// `Device.DeviceInfo.SerialNumber`.
    pub serial_number: String,
    /// `Device.DeviceInfo.SoftwareVersion` and `Device.LocalAgent.SoftwareVersion`.
    pub software_version: String,
    /// `Device.DeviceInfo.HardwareVersion`.
    pub hardware_version: String,
    /// `Device.DeviceInfo.Description`.
    pub description: String,
    /// `Device.LocalAgent.SupportedProtocols`: the MTPs this build has, comma-separated, each
    /// one of `WebSocket`, `STOMP`, `MQTT`, `UDS`.
    pub supported_protocols: String,
    /// Whether the MTPs of this build can use TLS (`Device.MQTT.Capabilities.` lists `TLS`, and
    /// an MQTT client may be set to it).
    pub tls: bool,
}

impl AgentIdentity {
    /// The Endpoint ID of the `os` authority scheme: `os::<OUI>-<serial number>`.
    pub fn os_endpoint_id(oui: &str, serial_number: &str) -> String {
        format!("os::{oui}-{serial_number}")
    }
}

impl Default for AgentIdentity {
    fn default() -> AgentIdentity {
        let manufacturer_oui = "00D09E".to_owned();
        let serial_number = "LAB0001".to_owned();
        AgentIdentity {
            endpoint_id: AgentIdentity::os_endpoint_id(&manufacturer_oui, &serial_number),
            manufacturer: "USP Lab".to_owned(),
            manufacturer_oui,
            model_name: "Lab Agent".to_owned(),
            product_class: "LabAgent".to_owned(),
            serial_number,
            software_version: env!("CARGO_PKG_VERSION").to_owned(),
            hardware_version: "1.0".to_owned(),
            description: "USP agent (lab build)".to_owned(),
            supported_protocols: "WebSocket,STOMP,MQTT".to_owned(),
            tls: true,
        }
    }
}

/// The built-in areas, in registration order (parents first): `Device.`, `DeviceInfo.`,
/// `Time.`, then `LocalAgent.` with its MTPs, Controllers (and their WebSocket session
/// command), Subscriptions, Requests and ControllerTrust, then the MQTT clients and STOMP
/// connections the MTPs refer to.
pub fn builtin(config: &AgentIdentity) -> Vec<Box<dyn Plugin>> {
    builtin_with(config, &MqttStats::new())
}

/// [`builtin`], with the MQTT clients' `Stats.` read from `mqtt_stats` (the host's MTP layer
/// counts into another handle of the same table).
pub fn builtin_with(config: &AgentIdentity, mqtt_stats: &MqttStats) -> Vec<Box<dyn Plugin>> {
    vec![
        Box::new(Device::default()),
        Box::new(DeviceInfo::new(config.clone())),
        Box::new(Time),
        Box::new(local_agent::LocalAgent::new(config.clone())),
        Box::new(local_agent::Controllers),
        Box::new(local_agent::WebSocketSessions),
        Box::new(local_agent::Subscriptions),
        Box::new(local_agent::Requests),
        Box::new(local_agent::ControllerTrust),
        Box::new(Mqtt::with_stats(config.tls, mqtt_stats.clone())),
        Box::new(Stomp),
    ]
}

/// Seconds of a duration as an `unsignedInt`, saturating.
pub(crate) fn secs_u32(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_secs()).unwrap_or(u32::MAX)
}

/// The largest `unsignedInt`, for ranges open at the top (`1..`).
pub(crate) const UINT_MAX: i128 = u32::MAX as i128;

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;
    use usp_datamodel::plugin::Requester;
    use usp_datamodel::schema::ObjId;
    use usp_datamodel::{Item, Target};

    #[test]
    fn default_identity_derives_the_endpoint_id() {
        let id = AgentIdentity::default();
        assert_eq!(id.endpoint_id, format!("os::{}-{}", id.manufacturer_oui, id.serial_number));
    }

    #[test]
    fn builtin_registers_and_every_instance_reads() {
        let mut t = Lab::new(builtin(&AgentIdentity::default()));
        assert_eq!(t.get("Device.RootDataModelVersion"), "2.19");
        assert_eq!(t.get("Device.LocalAgent.EndpointID"), "os::00D09E-LAB0001");
        assert_eq!(t.get("Device.DeviceInfo.SerialNumber"), "LAB0001");
        assert!(local_agent::apply_trust_defaults(&mut t.dm).expect("defaults"));
        let who = Requester::Internal;
        let c = t.add_as(who.clone(), "Device.LocalAgent.Controller.", &[]).expect("add");
        t.add_as(who.clone(), &format!("{c}MTP."), &[]).expect("add");
        t.add_as(who.clone(), &format!("{c}BootParameter."), &[]).expect("add");
        t.add_as(who.clone(), "Device.LocalAgent.MTP.", &[]).expect("add");
        t.add_as(who.clone(), "Device.LocalAgent.Subscription.", &[]).expect("add");
        t.add_as(who.clone(), "Device.LocalAgent.Request.", &[]).expect("add");
        let m = t.add_as(who.clone(), "Device.MQTT.Client.", &[]).expect("add");
        t.add_as(who.clone(), &format!("{m}Subscription."), &[]).expect("add");
        t.add_as(who.clone(), &format!("{m}UserProperty."), &[]).expect("add");
        t.add_as(who.clone(), "Device.STOMP.Connection.", &[]).expect("add");
        let root = Target { obj: ObjId::ROOT, numbers: Vec::new(), item: Item::Object };
        let walked = t.dm.walk(&root, 0);
        let tables = t.dm.schema().objects().filter(|(_, d)| d.multi).count();
        let rows = walked.iter().filter(|w| t.dm.schema().obj(w.obj).multi).count();
        assert_eq!(rows, tables, "one row of every table");
        for w in walked {
            let def = t.dm.schema().obj(w.obj).clone();
            let read = t.dm.read_all(&who, w.obj, &w.numbers);
            assert_eq!(read.len(), def.params.len(), "every parameter of {} reads", def.path);
        }
    }
}
