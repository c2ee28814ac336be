//! `Device.LocalAgent.`: the agent itself (Endpoint ID, supported protocols), its MTPs, and,
//! in the sub-modules, the Controller, Subscription, Request and ControllerTrust tables, and the
//! WebSocket session command of controller MTPs.
//!
//! `MTP.{i}.Status` and the `...Discovered` / `...FromServer` parameters are read-only,
//! stored and volatile: the MTP layer updates them with internal sets as connections come and
//! go; they start as `Down` / empty after every restart.

mod challenge;
mod controller;
mod controller_config;
pub mod dhcp;
mod e2e_session;
mod mtp_config;
mod names;
mod request;
mod subscription;
mod trust;
mod ws_session;

pub use controller::{Controllers, ONBOARD_REQUEST_EVENT};
pub use controller_config::{
    ControllerConfig, ControllerIds, ControllerMtpConfig, ControllerMtpMqtt, ControllerMtpStomp,
    ControllerMtpWebSocket,
};
pub use e2e_session::{E2E_RESET_EVENT, E2E_SESSION, E2ESessions, MIN_RECORD_SIZE};
pub use mtp_config::{
    AgentMtpConfig, AgentMtpIds, AgentMtpMqtt, AgentMtpStomp, AgentMtpWebSocket, MTP_STATUS,
    MtpStatus,
};
pub use request::{PROGRESS, Requests, report_progress};
pub use subscription::{REMOVED_AT_START_EVENT, Subscriptions};
pub use trust::{
    ControllerTrust, apply_defaults as apply_trust_defaults,
    default_entries as trust_default_entries,
};
pub use ws_session::WebSocketSessions;

use super::{AgentIdentity, UINT_MAX, secs_u32};
use names as n;
use usp_datamodel::error::UspError;
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ObjAccess, ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The MTP protocols TR-181 2.19 names (`SupportedProtocols`, `MTP.{i}.Protocol`).
pub(crate) const PROTOCOLS: &[&str] = &["WebSocket", "STOMP", "MQTT", "UDS"];

/// The LocalAgent area's plugins, in registration order: `LocalAgent.` with its MTPs, the
/// Controllers and their WebSocket session command, Subscriptions, Requests and ControllerTrust.
pub fn build(host: &crate::Host) -> Vec<Box<dyn usp_datamodel::plugin::Plugin>> {
    vec![
        Box::new(LocalAgent::new(host.identity.clone())),
        Box::new(Controllers),
        Box::new(WebSocketSessions),
        Box::new(E2ESessions),
        Box::new(Subscriptions),
        Box::new(Requests),
        Box::new(ControllerTrust::default()),
    ]
}

/// The `Device.LocalAgent.` plugin: the agent's own parameters and the `MTP.{i}` table.
#[derive(Debug)]
pub struct LocalAgent {
    identity: AgentIdentity,
}

impl LocalAgent {
    /// Serves `identity`.
    pub fn new(identity: AgentIdentity) -> LocalAgent {
        LocalAgent { identity }
    }
}

impl Plugin for LocalAgent {
    fn name(&self) -> &'static str {
        "LocalAgent"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let la = b.object("Device.LocalAgent.");
        b.param(la, "EndpointID", ParamType::String).live();
        b.param(la, "SoftwareVersion", ParamType::String).max_len(64).live();
        b.param(la, "UpTime", ParamType::UnsignedInt).live().no_value_change();
        b.param(la, "SupportedProtocols", ParamType::String).list().enumeration(PROTOCOLS).live();
        b.param(la, "SupportedFingerprintAlgorithms", ParamType::String)
            .list()
            .enumeration(&["SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512"])
            .live();
        b.param(la, "AdvertisedDeviceSubtypes", ParamType::String).rw().list();
        b.param(la, "MaxSubscriptionChangeAdoptionTime", ParamType::UnsignedInt)
            .rw()
            .range(5, UINT_MAX)
            .default("5");
        b.event(la, "Periodic");
        // Emitted by the areas that transfer files (FirmwareImage Download, ...).
        b.event(la, "TransferComplete")
            .arg("Command", ParamType::String)
            .arg("CommandKey", ParamType::String)
            .arg("Requestor", ParamType::String)
            .arg("TransferType", ParamType::String)
            .arg("Affected", ParamType::String)
            .arg("TransferURL", ParamType::String)
            .arg("StartTime", ParamType::DateTime)
            .arg("CompleteTime", ParamType::DateTime)
            .arg("FaultCode", ParamType::UnsignedInt)
            .arg("FaultString", ParamType::String);

        let mtp = b.table(n::MTP, ObjAccess::AddDelete);
        b.alias(mtp);
        b.param(mtp, n::ENABLE, ParamType::Boolean).rw().default("false");
        b.param(mtp, n::STATUS, ParamType::String)
            .enumeration(MTP_STATUS)
            .stored()
            .volatile()
            .default(MtpStatus::Down.as_str());
        b.param(mtp, n::PROTOCOL, ParamType::String).rw().enumeration(PROTOCOLS);
        b.param(mtp, "EnableMDNS", ParamType::Boolean).rw().default("true");

        let mqtt = b.object(n::MTP_MQTT);
        b.param(mqtt, n::REFERENCE, ParamType::String).rw().reference();
        b.param(mqtt, n::RESPONSE_TOPIC_CONFIGURED, ParamType::String).rw().max_len(65535);
        b.param(mqtt, n::RESPONSE_TOPIC_DISCOVERED, ParamType::String)
            .max_len(65535)
            .stored()
            .volatile();
        b.param(mqtt, n::PUBLISH_QOS, ParamType::UnsignedInt).rw().range(0, 2);

        let stomp = b.object(n::MTP_STOMP);
        b.param(stomp, n::REFERENCE, ParamType::String).rw().reference();
        b.param(stomp, n::DESTINATION, ParamType::String).rw();
        b.param(stomp, n::DESTINATION_FROM_SERVER, ParamType::String).stored().volatile();

        let ws = b.object(n::MTP_WEBSOCKET);
        b.param(ws, "Interfaces", ParamType::String).rw().list().reference();
        b.param(ws, n::PORT, ParamType::UnsignedInt).rw().range(1, 65535).default("8443");
        b.param(ws, n::PATH, ParamType::String).rw();
        b.param(ws, n::ENABLE_ENCRYPTION, ParamType::Boolean).rw().default("true");
        b.param(ws, n::KEEP_ALIVE_INTERVAL, ParamType::UnsignedInt)
            .rw()
            .range(1, UINT_MAX)
            .default("60");

        let uds = b.object("Device.LocalAgent.MTP.{i}.UDS.");
        b.param(uds, "UnixDomainSocketRef", ParamType::String).rw().reference();
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let id = &self.identity;
        for p in params {
            let text: &str = match &*ctx.schema().param(*p).name {
                "EndpointID" => &id.endpoint_id,
                "SoftwareVersion" => &id.software_version,
                "SupportedProtocols" => &id.supported_protocols,
                "SupportedFingerprintAlgorithms" => "SHA-256",
                "UpTime" => {
                    out.push(Value::UnsignedInt(secs_u32(ctx.now().uptime)));
                    continue;
                }
                other => return Err(UspError::internal(format!("LocalAgent has no {other}"))),
            };
            out.push(Value::String(text.into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testutil::*;
    use usp_datamodel::error::ErrorCode;
    use usp_datamodel::plugin::Requester;

    fn plugins() -> Vec<Box<dyn Plugin>> {
        vec![Box::new(LocalAgent::new(AgentIdentity::default()))]
    }

    #[test]
    fn every_parameter_reads() {
        let mut t = Lab::new(plugins());
        let all = t.read_all("Device.LocalAgent.");
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "EndpointID",
            "SoftwareVersion",
            "UpTime",
            "SupportedProtocols",
            "SupportedFingerprintAlgorithms",
            "MaxSubscriptionChangeAdoptionTime",
            "MTPNumberOfEntries",
        ] {
            assert!(names.contains(&want), "{want} in {names:?}");
        }
        assert_eq!(t.get("Device.LocalAgent.SupportedProtocols"), "WebSocket,STOMP,MQTT");
        assert_eq!(t.get("Device.LocalAgent.SupportedFingerprintAlgorithms"), "SHA-256");
        assert_eq!(t.get("Device.LocalAgent.MaxSubscriptionChangeAdoptionTime"), "5");
        t.tick(7);
        assert_eq!(t.get("Device.LocalAgent.UpTime"), "7");
    }

    #[test]
    fn mtp_rows_have_defaults_and_count() {
        let mut t = Lab::new(plugins());
        assert_eq!(t.get("Device.LocalAgent.MTPNumberOfEntries"), "0");
        let m = t.add("Device.LocalAgent.MTP.", &[("Protocol", "MQTT")]).unwrap();
        assert_eq!(m, "Device.LocalAgent.MTP.1.");
        t.add("Device.LocalAgent.MTP.", &[("Protocol", "WebSocket")]).unwrap();
        assert_eq!(t.get("Device.LocalAgent.MTPNumberOfEntries"), "2");
        assert_eq!(t.get("Device.LocalAgent.MTP.1.Status"), "Down");
        assert_eq!(t.get("Device.LocalAgent.MTP.1.Alias"), "cpe-1");
        assert_eq!(t.get("Device.LocalAgent.MTP.2.WebSocket.Port"), "8443");
        assert_eq!(t.read_all("Device.LocalAgent.MTP.1.").len(), 5);
        assert_eq!(t.read_all("Device.LocalAgent.MTP.1.MQTT.").len(), 4);
        assert_eq!(t.read_all("Device.LocalAgent.MTP.1.STOMP.").len(), 3);
        assert_eq!(t.read_all("Device.LocalAgent.MTP.1.WebSocket.").len(), 5);
        let e = t.add("Device.LocalAgent.MTP.", &[("Protocol", "CoAP")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidValue);
        let e = t.set("Device.LocalAgent.MTP.1.", &[("Status", "Up")]).unwrap_err();
        assert_eq!(e.code, ErrorCode::ParamReadOnly);
        t.delete("Device.LocalAgent.MTP.2.").unwrap();
        assert_eq!(t.get("Device.LocalAgent.MTPNumberOfEntries"), "1");
    }

    #[test]
    fn mtp_status_is_volatile() {
        let mut t = Lab::new(plugins());
        t.add("Device.LocalAgent.MTP.", &[("Protocol", "MQTT"), ("Enable", "true")]).unwrap();
        let p = usp_datamodel::path::Path::parse("Device.LocalAgent.MTP.1.Status").unwrap();
        let target = t.dm.resolve(&Requester::Internal, &p).unwrap().remove(0);
        let usp_datamodel::Item::Param(status) = target.item else { panic!() };
        t.dm.begin(Requester::Internal);
        t.dm.set_values(target.obj, &target.numbers, &[(status, Value::String("Up".into()))])
            .unwrap();
        t.dm.commit();
        t.dm.flush().unwrap();
        assert_eq!(t.get("Device.LocalAgent.MTP.1.Status"), "Up");
        let mut t = t.restart(plugins());
        assert_eq!(t.get("Device.LocalAgent.MTP.1.Status"), "Down");
        assert_eq!(t.get("Device.LocalAgent.MTP.1.Enable"), "true");
    }
}
