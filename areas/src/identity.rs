//! [`AgentIdentity`]: who the agent is, as `Device.DeviceInfo.` and `Device.LocalAgent.` serve
//! it. Read from the agent's configuration at start-up.

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
