//! `Device.Time.`: the clock as the agent sees it. `Status` and `CurrentLocalTime` come from
//! the wall clock passed to the engine; `Enable`, the NTP servers and `LocalTimeZone` are
//! stored settings for the host's time service.

use usp_datamodel::error::UspError;
use usp_datamodel::fields::Fields;
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ParamId, SchemaBuilder};
use usp_datamodel::value::{ParamType, Value};

/// The `Device.Time.` plugin.
#[derive(Debug, Default)]
pub struct Time {
    fields: Fields<Field>,
}

/// The parameters this plugin reads: the live ones and the `Enable` their value depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Enable,
    Status,
    CurrentLocalTime,
}

/// `Status` values (TR-181 enumeration).
const STATUS: &[&str] =
    &["Disabled", "Unsynchronized", "Synchronized", "Error_FailedToSynchronize", "Error"];

impl Plugin for Time {
    fn name(&self) -> &'static str {
        "Time"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        let time = b.object("Device.Time.");
        let f = &mut self.fields;
        f.param(b, time, "Enable", ParamType::Boolean, Field::Enable).rw().default("true");
        f.param(b, time, "Status", ParamType::String, Field::Status).enumeration(STATUS).live();
        for name in ["NTPServer1", "NTPServer2", "NTPServer3", "NTPServer4", "NTPServer5"] {
            b.param(time, name, ParamType::String).rw().max_len(64);
        }
        f.param(b, time, "CurrentLocalTime", ParamType::DateTime, Field::CurrentLocalTime)
            .live()
            .no_value_change();
        b.param(time, "LocalTimeZone", ParamType::String).rw().max_len(256);
    }

    fn get(
        &mut self,
        ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        let wall = ctx.now().wall;
        for &p in params {
            match self.fields.of(p) {
                Some(Field::Status) => {
                    let enabled = self
                        .fields
                        .id(Field::Enable)
                        .and_then(|e| ctx.stored(inst, e))
                        .and_then(Value::as_bool)
                        .unwrap_or(true);
                    let status = match (enabled, wall.is_unknown()) {
                        (false, _) => "Disabled",
                        (true, true) => "Unsynchronized",
                        (true, false) => "Synchronized",
                    };
                    out.push(Value::String(status.into()));
                }
                Some(Field::CurrentLocalTime) => out.push(Value::DateTime(wall)),
                Some(Field::Enable) | None => {
                    let name = &ctx.schema().param(p).name;
                    return Err(UspError::internal(format!("Time has no live {name}")));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::testutil::*;
    use usp_datamodel::plugin::Now;
    use usp_datamodel::store::MemStore;

    #[test]
    fn every_parameter_reads() {
        let mut t = Lab::new(vec![Box::new(Time::default())]);
        assert_eq!(t.read_all("Device.Time.").len(), 9);
        assert_eq!(t.get("Device.Time.Status"), "Synchronized");
        assert_eq!(t.get("Device.Time.CurrentLocalTime"), "2024-05-01T12:00:00Z");
        t.tick(61);
        assert_eq!(t.get("Device.Time.CurrentLocalTime"), "2024-05-01T12:01:01Z");
    }

    #[test]
    fn status_follows_enable_and_the_wall_clock() {
        let mut t = Lab::on(vec![Box::new(Time::default())], MemStore::new(), Now::default());
        assert_eq!(t.get("Device.Time.Status"), "Unsynchronized");
        assert_eq!(t.get("Device.Time.CurrentLocalTime"), "0001-01-01T00:00:00Z");
        t.set("Device.Time.", &[("Enable", "false"), ("LocalTimeZone", "CET-1CEST")]).unwrap();
        assert_eq!(t.get("Device.Time.Status"), "Disabled");
        let mut t = t.restart(vec![Box::new(Time::default())]);
        assert_eq!(t.get("Device.Time.LocalTimeZone"), "CET-1CEST");
        assert_eq!(t.get("Device.Time.Enable"), "false");
    }
}
