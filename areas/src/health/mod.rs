//! The device-health objects of `Device.DeviceInfo.` (TR-181 2.19), read live from Linux:
//! `MemoryStatus.` (`Total`, `Free` in KiB from `/proc/meminfo`), `ProcessStatus.`
//! (`CPUUsage` between two samples of `/proc/stat` at least a second apart, and
//! `Process.{i}` keyed by PID) and `TemperatureStatus.TemperatureSensor.{i}` (the kernel's
//! thermal zones; none where it has none). The declarations are generated from the BBF XML
//! (`scripts/gen-diag-schema.py` → [`tr181`]); this area lives beside `device_info` and
//! adds its objects under `Device.DeviceInfo.`.
//!
//! Cost on the data-model thread: one scan of `/proc/*/stat` per 500 ms while the table is
//! read (3.2 ms for 209 processes on the development machine, `cargo run --release -p
//! usp-areas --example bench_live`); a command line is read only for a `Command` asked.
//!
//! Never does: change anything (every parameter is read-only), or scan more than once per
//! 500 ms.

pub mod proc;
pub mod sensors;
#[cfg(test)]
mod tests;
#[rustfmt::skip]
mod tr181;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Plugin};
use usp_datamodel::schema::{ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::Value;

use crate::Host;
use crate::live::Ids;
use crate::live::links::MAX_AGE;

const PROCESS: &str = "Device.DeviceInfo.ProcessStatus.Process.{i}.";

/// The health area's plugin.
pub fn build(_host: &Host) -> Vec<Box<dyn Plugin>> {
    vec![Box::new(Health::new(PathBuf::from("/proc"), PathBuf::from("/sys/class/thermal")))]
}

/// The health plugin.
#[derive(Debug)]
pub struct Health {
    ids: Ids,
    proc: PathBuf,
    thermal: PathBuf,
    processes: Vec<proc::Process>,
    sensors: Vec<sensors::Sensor>,
    taken: Option<Instant>,
    /// The last `/proc/stat` sample and when it was taken; the usage it gave.
    cpu: Option<(Instant, (u64, u64))>,
    usage: u32,
}

impl Health {
    /// Reads processes and memory under `proc` and sensors under `thermal`.
    pub fn new(proc: PathBuf, thermal: PathBuf) -> Health {
        Health {
            ids: Ids::default(),
            proc,
            thermal,
            processes: Vec::new(),
            sensors: Vec::new(),
            taken: None,
            cpu: None,
            usage: 0,
        }
    }

    fn refresh(&mut self) {
        if self.taken.is_none_or(|t| t.elapsed() >= MAX_AGE) {
            self.processes = proc::processes(&self.proc);
            self.sensors = sensors::sensors(&self.thermal);
            self.taken = Some(Instant::now());
        }
    }

    /// CPU use since the previous sample (since boot for the first), re-sampled once a second.
    fn cpu_usage(&mut self) -> u32 {
        if self.cpu.is_some_and(|(t, _)| t.elapsed() < Duration::from_secs(1)) {
            return self.usage;
        }
        let stat = std::fs::read_to_string(self.proc.join("stat")).unwrap_or_default();
        if let Some(now) = proc::cpu_times(&stat) {
            let before = self.cpu.map_or((0, 0), |(_, s)| s);
            self.usage = proc::cpu_usage(before, now);
            self.cpu = Some((Instant::now(), now));
        }
        self.usage
    }

    fn value(&mut self, obj: &str, name: &str, key: Option<&str>) -> Option<Value> {
        match obj {
            "Device.DeviceInfo.MemoryStatus." => {
                let text = std::fs::read_to_string(self.proc.join("meminfo")).ok()?;
                let field = if name == "Total" { "MemTotal" } else { "MemFree" };
                let kib = proc::meminfo(&text, field)?;
                Some(Value::UnsignedInt(u32::try_from(kib).unwrap_or(u32::MAX)))
            }
            "Device.DeviceInfo.ProcessStatus." => Some(Value::UnsignedInt(self.cpu_usage())),
            PROCESS => {
                let pid: u32 = key?.parse().ok()?;
                let p = self.processes.iter().find(|p| p.pid == pid)?;
                Some(match name {
                    "PID" => Value::UnsignedInt(p.pid),
                    "Command" => {
                        let file = self.proc.join(pid.to_string()).join("cmdline");
                        let cmdline = std::fs::read(file).unwrap_or_default();
                        Value::String(proc::command(&p.name, &cmdline).into())
                    }
                    "Size" => Value::UnsignedInt(p.size_kib),
                    "Priority" => Value::UnsignedInt(p.priority),
                    "CPUTime" => Value::UnsignedInt(p.cpu_ms),
                    _ => Value::String(p.state.into()),
                })
            }
            _ => {
                let s = self.sensors.iter().find(|s| Some(s.key.as_str()) == key)?;
                Some(match name {
                    "Enable" => Value::Boolean(true),
                    "Status" => {
                        Value::String(if s.celsius.is_some() { "Enabled" } else { "Error" }.into())
                    }
                    "Name" => Value::String(s.key.as_str().into()),
                    _ => Value::Int(s.celsius.unwrap_or(-274)),
                })
            }
        }
    }
}

impl Plugin for Health {
    fn name(&self) -> &'static str {
        "Health"
    }

    fn register(&mut self, b: &mut SchemaBuilder) {
        self.ids = Ids::register(b, tr181::OBJECTS, &[]);
    }

    fn get(
        &mut self,
        _ctx: &mut Ctx,
        inst: &Instance,
        params: &[ParamId],
        out: &mut Vec<Value>,
    ) -> Result<(), UspError> {
        self.refresh();
        for &p in params {
            let (obj, name) =
                self.ids.param(p).ok_or_else(|| UspError::internal("Health: unknown parameter"))?;
            let v = self.value(obj, name, inst.key()).ok_or_else(|| {
                UspError::new(
                    ErrorCode::ObjectDoesNotExist,
                    format!("{obj}{name} of {:?} cannot be read", inst.keys),
                )
            })?;
            out.push(v);
        }
        Ok(())
    }

    fn list(
        &mut self,
        _ctx: &mut Ctx,
        table: ObjId,
        _parent: &Instance,
    ) -> Result<Vec<String>, UspError> {
        self.refresh();
        if self.ids.table(PROCESS) == Some(table) {
            return Ok(self.processes.iter().map(|p| p.pid.to_string()).collect());
        }
        Ok(self.sensors.iter().map(|s| s.key.clone()).collect())
    }
}
