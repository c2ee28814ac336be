//! `Device.DeviceInfo.`: the device's identity (from [`AgentIdentity`], read-only), its uptime
//! and the writable `ProvisioningCode`.

use super::{AgentIdentity, secs_u32};
use usp_datamodel::error::UspError;
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The `Device.DeviceInfo.` plugin.
#[derive(Debug)]
pub struct DeviceInfo {
    identity: AgentIdentity,
}

impl DeviceInfo {
    /// Serves `identity`.
    pub fn new(identity: AgentIdentity) -> DeviceInfo {
        DeviceInfo { identity }
    }
}

/// The identity parameters: name and maximum length.
const IDENTITY: &[(&str, u32)] = &[
    ("Manufacturer", 64),
    ("ManufacturerOUI", 6),
    ("ModelName", 64),
    ("Description", 256),
    ("ProductClass", 64),
    ("SerialNumber", 64),
    ("HardwareVersion", 64),
    ("SoftwareVersion", 64),
];

impl Plugin for DeviceInfo {
    fn name(&self) -> &'static str {
        "DeviceInfo"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let info = b.object("Device.DeviceInfo.");
        for (name, len) in IDENTITY {
            b.param(info, name, ParamType::String).max_len(*len).live();
        }
        b.param(info, "ProvisioningCode", ParamType::String).rw().max_len(64);
        b.param(info, "UpTime", ParamType::UnsignedInt).live().no_value_change();
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
            let text = match &*ctx.schema().param(*p).name {
                "Manufacturer" => &id.manufacturer,
                "ManufacturerOUI" => &id.manufacturer_oui,
                "ModelName" => &id.model_name,
                "Description" => &id.description,
                "ProductClass" => &id.product_class,
                "SerialNumber" => &id.serial_number,
                "HardwareVersion" => &id.hardware_version,
                "SoftwareVersion" => &id.software_version,
                "UpTime" => {
                    out.push(Value::UnsignedInt(secs_u32(ctx.now().uptime)));
                    continue;
                }
                other => return Err(UspError::internal(format!("DeviceInfo has no {other}"))),
            };
            out.push(Value::String(text.as_str().into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testutil::*;

    fn lab() -> Lab {
        Lab::new(vec![Box::new(DeviceInfo::new(AgentIdentity::default()))])
    }

    #[test]
    fn every_parameter_reads() {
        let mut t = lab();
        let all = t.read_all("Device.DeviceInfo.");
        assert_eq!(all.len(), IDENTITY.len() + 2);
        let id = AgentIdentity::default();
        assert!(all.contains(&("Manufacturer".into(), id.manufacturer.clone())));
        assert!(all.contains(&("ManufacturerOUI".into(), id.manufacturer_oui.clone())));
        assert!(all.contains(&("SoftwareVersion".into(), id.software_version.clone())));
        assert!(all.contains(&("ProvisioningCode".into(), String::new())));
    }

    #[test]
    fn uptime_follows_the_clock() {
        let mut t = lab();
        assert_eq!(t.get("Device.DeviceInfo.UpTime"), "0");
        t.tick(42);
        assert_eq!(t.get("Device.DeviceInfo.UpTime"), "42");
    }

    #[test]
    fn identity_is_read_only_and_provisioning_code_persists() {
        let mut t = lab();
        let e = t.set("Device.DeviceInfo.", &[("SerialNumber", "X")]).unwrap_err();
        assert_eq!(e.code, usp_datamodel::error::ErrorCode::ParamReadOnly);
        t.set("Device.DeviceInfo.", &[("ProvisioningCode", "lab.1")]).unwrap();
        let mut t = t.restart(vec![Box::new(DeviceInfo::new(AgentIdentity::default()))]);
        assert_eq!(t.get("Device.DeviceInfo.ProvisioningCode"), "lab.1");
    }
}
