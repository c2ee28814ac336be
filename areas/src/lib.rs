//! The TR-181 areas the agent serves, one folder per area, and [`AREAS`], the one static
//! registration table that lists them in order (parents before children).
//!
//! Each area is one or more [`Plugin`]s built from the [`Host`] (who the agent is, which
//! [`Platform`] it runs on, where that platform's files are). An area that manages the router
//! (Wi-Fi, software, firmware, diagnostics) has, in its folder, the schema and plugin glue
//! (`mod.rs`), a backend trait, and one file per backend (`lab.rs`, `openwrt.rs`, `linux.rs`);
//! its slow work runs on a [`worker::Worker`] thread and reaches the plugin through the
//! data-model thread's waker, so that no call of the engine ever blocks. The agent's own areas
//! (LocalAgent, MQTT, STOMP, ...) are the same on every platform.
//!
//! Adding an area: a folder here and one line in [`AREAS`]. The README's "Adding your own data
//! model" walks through one.
//!
//! Never does: USP message handling (the core's), MTP I/O (the links'), or blocking work on the
//! data-model thread (backends do theirs on workers).
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
//! - `Device.DeviceInfo.FirmwareImage.{i}.` ([`firmware`], a router area; lab and OpenWrt
//!   backends; on OpenWrt the host runs [`firmware::openwrt::flash_if_requested`] after its
//!   clean shutdown, before restarting):
//!   `Download()`/`Activate()` end by asking the host to reboot (`SystemRequest::Reboot`,
//!   Cause `RemoteReboot`); the area sets [`Host::running_version`], which
//!   `DeviceInfo.SoftwareVersion` reports, so the core's `Boot!` says `FirmwareUpdated=true`
//!   after a switch. Each Download emits `Device.LocalAgent.TransferComplete!` (declared by
//!   LocalAgent, for every area that transfers files through [`transfer`]).
//! - `Device.DeviceInfo.VendorConfigFile.{i}.` ([`vendor_config`]) exists when the host sets
//!   [`Host::database`]; a successful `Restore()` asks for a reboot, and the host swaps the
//!   staged database in before it opens it.
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
//!   layer counts into the [`MqttStats`] of the [`Host`]. The MQTT `ClientID` it learns from a
//!   CONNACK persists. Passwords are hidden parameters (see
//!   [`usp_datamodel::schema::ParamDef::hidden`]).
//! - `Device.WiFi.` ([`wifi`]) is a router area: every parameter is live (the backend owns the
//!   values), its tables are external rows keyed by backend keys, and a USP transaction reaches
//!   the backend as one job at commit. The lab backend ([`wifi::lab`]) is the worked example of
//!   a backend; [`openwrt`] has the UCI and ubus helpers OpenWrt backends share.
//! - `Device.BulkData.` ([`bulkdata`]) emits the undeclared event [`bulkdata::COLLECT_EVENT`]
//!   when a report is due: the core must intercept it and call [`bulkdata::snapshot`] with the
//!   [`Host::bulkdata`] collector the daemon gave it ([`Host`] and core share one); a
//!   profile's `Push!` goes only to the controller [`bulkdata::push_recipient`] names.
//! - `Device.WiFi.` on the linux platform ([`wifi::hostapd`]) talks to hostapd's control sockets
//!   in [`PlatformPaths::hostapd_dir`], to wpa_supplicant's in
//!   [`PlatformPaths::wpa_supplicant_dir`] and to nl80211 through [`netlink`]; its writes
//!   persist in the hostapd `*.conf` of [`PlatformPaths::hostapd_conf_dir`] naming the BSS.
//! - `Device.SoftwareModules.` ([`software`]): tables keyed by DUID/EUID (external rows), one
//!   [`software::backend::ExecEnv`] per platform (opkg on OpenWrt, supervised processes on
//!   Linux and in the lab); each operation emits `DUStateChange!` then its OperationComplete.
//! - `Device.IP.`, `Ethernet.`, `Hosts.` and the health objects of `DeviceInfo.` (feature
//!   `diagnostics`) are read-only and live, read from the kernel when asked (cheap netlink
//!   dumps and `/proc` reads, cached 500 ms); the IP diagnostics run on threads of their own
//!   and end in OperationComplete (7023 when canceled).

pub mod bulkdata;
mod device;
mod device_info;
#[cfg(feature = "diagnostics")]
pub mod ethernet;
pub mod firmware;
pub mod guide;
#[cfg(feature = "diagnostics")]
pub mod health;
mod host;
#[cfg(feature = "diagnostics")]
pub mod hosts;
mod identity;
#[cfg(feature = "diagnostics")]
pub mod ip;
#[cfg(feature = "diagnostics")]
mod live;
pub mod local_agent;
pub mod mqtt;
pub mod netlink;
#[cfg(feature = "openwrt")]
pub mod openwrt;
#[cfg(feature = "software")]
pub mod software;
pub mod stomp;
mod time;
mod tr181;
pub mod transfer;
pub mod typed;
pub mod vendor_config;
#[cfg(feature = "wifi")]
pub mod wifi;
pub mod worker;

#[cfg(test)]
pub(crate) mod testutil;

pub use device::Device;
pub use device_info::DeviceInfo;
pub use host::{Host, NoWake, Platform, PlatformPaths, RunningVersion, UnknownPlatform};
pub use identity::AgentIdentity;
pub use mqtt::{Mqtt, MqttStats};
pub use stomp::Stomp;
pub use time::Time;

use usp_datamodel::plugin::Plugin;

/// One line of the registration table: an area and how it is built.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    /// The area's name, for logs (`"WiFi"`).
    pub name: &'static str,
    /// Whether it manages the router (built only when [`Host::router_areas`] is set); the
    /// agent's own areas are always built.
    pub router: bool,
    /// Its plugins for `host`, in registration order; none when the platform lacks it (the
    /// area logs why).
    pub build: fn(&Host) -> Vec<Box<dyn Plugin>>,
}

/// Every area, in registration order (parents first): `Device.`, `DeviceInfo.`, `Time.`, then
/// `LocalAgent.` with its MTPs, Controllers (and their WebSocket session command),
/// Subscriptions, Requests and ControllerTrust, then the MQTT clients and STOMP connections the
/// MTPs refer to, then the router areas.
pub static AREAS: &[Area] = &[
    Area { name: "Device", router: false, build: |_| vec![Box::new(Device::default())] },
    Area {
        name: "DeviceInfo",
        router: false,
        build: |h| {
            let mut info = DeviceInfo::new(h.identity.clone());
            if h.router_areas && h.platform != Platform::Lab {
                info = info.with_uptime_file("/proc/uptime");
            }
            vec![Box::new(info.with_running_version(h.running_version.clone()))]
        },
    },
    Area { name: "Time", router: false, build: |_| vec![Box::new(Time::default())] },
    Area { name: "LocalAgent", router: false, build: local_agent::build },
    Area {
        name: "MQTT",
        router: false,
        build: |h| vec![Box::new(Mqtt::with_stats(h.identity.tls, h.mqtt_stats.clone()))],
    },
    Area { name: "STOMP", router: false, build: |_| vec![Box::new(Stomp)] },
    #[cfg(feature = "wifi")]
    Area { name: "WiFi", router: true, build: wifi::build },
    Area { name: "FirmwareImage", router: true, build: firmware::build },
    Area { name: "BulkData", router: true, build: bulkdata::build },
    Area { name: "VendorConfigFile", router: false, build: vendor_config::build },
    #[cfg(feature = "software")]
    Area { name: "SoftwareModules", router: true, build: software::build },
    #[cfg(feature = "diagnostics")]
    Area { name: "Ethernet", router: true, build: ethernet::build },
    #[cfg(feature = "diagnostics")]
    Area { name: "IP", router: true, build: ip::build },
    #[cfg(feature = "diagnostics")]
    Area { name: "Hosts", router: true, build: hosts::build },
    #[cfg(feature = "diagnostics")]
    Area { name: "Health", router: true, build: health::build },
];

/// The plugins of every area of [`AREAS`] that `host` asks for, in registration order.
pub fn plugins(host: &Host) -> Vec<Box<dyn Plugin>> {
    AREAS.iter().filter(|a| host.router_areas || !a.router).flat_map(|a| (a.build)(host)).collect()
}

/// The agent's own areas for `identity` (no router area): [`plugins`] of
/// [`Host::agent_only`]. For tests and tools.
pub fn builtin(identity: &AgentIdentity) -> Vec<Box<dyn Plugin>> {
    plugins(&Host::agent_only(identity.clone()))
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
        t.add_as(who.clone(), "Device.LocalAgent.ControllerTrust.Challenge.", &[]).expect("add");
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
