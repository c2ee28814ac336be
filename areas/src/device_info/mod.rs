//! `Device.DeviceInfo.`: the device's identity (from [`AgentIdentity`], read-only), its uptime
//! and the writable `ProvisioningCode`. `SoftwareVersion` is the running firmware image's
//! version when the firmware area knows it ([`RunningVersion`]), the identity's otherwise.
//! `UpTime` is the system's (`/proc/uptime`) when a file is given, the agent's otherwise (the
//! lab, where the agent's start is the device's).

use super::{AgentIdentity, RunningVersion, secs_u32};
use usp_datamodel::error::UspError;
use usp_datamodel::fields::Fields;
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The `Device.DeviceInfo.` plugin.
#[derive(Debug)]
pub struct DeviceInfo {
    identity: AgentIdentity,
    running: RunningVersion,
    fields: Fields<Field>,
    uptime_file: Option<std::path::PathBuf>,
}

impl DeviceInfo {
    /// Serves `identity`.
    pub fn new(identity: AgentIdentity) -> DeviceInfo {
        DeviceInfo {
            identity,
            running: RunningVersion::default(),
            fields: Fields::default(),
            uptime_file: None,
        }
    }

    /// Reports `running`'s version as `SoftwareVersion` once the firmware area has set it.
    pub fn with_running_version(self, running: RunningVersion) -> DeviceInfo {
        DeviceInfo { running, ..self }
    }

    /// Reports the seconds of `file` (`/proc/uptime`: the system's uptime) as `UpTime`.
    pub fn with_uptime_file(self, file: impl Into<std::path::PathBuf>) -> DeviceInfo {
        DeviceInfo { uptime_file: Some(file.into()), ..self }
    }
}

/// The live parameters this plugin serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Manufacturer,
    ManufacturerOui,
    ModelName,
    Description,
    ProductClass,
    SerialNumber,
    HardwareVersion,
    SoftwareVersion,
    UpTime,
}

/// The identity parameters: name, maximum length and field.
const IDENTITY: &[(&str, u32, Field)] = &[
    ("Manufacturer", 64, Field::Manufacturer),
    ("ManufacturerOUI", 6, Field::ManufacturerOui),
    ("ModelName", 64, Field::ModelName),
    ("Description", 256, Field::Description),
    ("ProductClass", 64, Field::ProductClass),
    ("SerialNumber", 64, Field::SerialNumber),
    ("HardwareVersion", 64, Field::HardwareVersion),
    ("SoftwareVersion", 64, Field::SoftwareVersion),
];

impl Plugin for DeviceInfo {
    fn name(&self) -> &'static str {
        "DeviceInfo"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let info = b.object("Device.DeviceInfo.");
        let f = &mut self.fields;
        for &(name, len, field) in IDENTITY {
            f.param(b, info, name, ParamType::String, field).max_len(len).live();
        }
        b.param(info, "ProvisioningCode", ParamType::String).rw().max_len(64);
        f.param(b, info, "UpTime", ParamType::UnsignedInt, Field::UpTime).live().no_value_change();
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        _inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let id = &self.identity;
        for &p in params {
            let Some(field) = self.fields.of(p) else {
                let name = &ctx.schema().param(p).name;
                return Err(UspError::internal(format!("DeviceInfo has no live {name}")));
            };
            let text = match field {
                Field::Manufacturer => &id.manufacturer,
                Field::ManufacturerOui => &id.manufacturer_oui,
                Field::ModelName => &id.model_name,
                Field::Description => &id.description,
                Field::ProductClass => &id.product_class,
                Field::SerialNumber => &id.serial_number,
                Field::HardwareVersion => &id.hardware_version,
                Field::SoftwareVersion => {
                    let v = self.running.get().unwrap_or_else(|| id.software_version.clone());
                    out.push(Value::String(v.into()));
                    continue;
                }
                Field::UpTime => {
                    let system = self.uptime_file.as_ref().and_then(|f| {
                        let text = std::fs::read_to_string(f).ok()?;
                        let secs = text.split(['.', ' ']).next()?.parse::<u64>().ok()?;
                        Some(u32::try_from(secs).unwrap_or(u32::MAX))
                    });
                    out.push(Value::UnsignedInt(system.unwrap_or(secs_u32(ctx.now().uptime))));
                    continue;
                }
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
    fn uptime_is_the_systems_when_a_file_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("uptime");
        std::fs::write(&file, "12345.67 999.00\n").unwrap();
        let info = DeviceInfo::new(AgentIdentity::default()).with_uptime_file(&file);
        let mut t = Lab::new(vec![Box::new(info)]);
        assert_eq!(t.get("Device.DeviceInfo.UpTime"), "12345");
        let info = DeviceInfo::new(AgentIdentity::default()).with_uptime_file("/proc/uptime");
        let mut t = Lab::new(vec![Box::new(info)]);
        let proc: u64 = std::fs::read_to_string("/proc/uptime")
            .unwrap()
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let got: u64 = t.get("Device.DeviceInfo.UpTime").parse().unwrap();
        assert!(got >= proc && got <= proc + 5, "{got} vs {proc}");
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
