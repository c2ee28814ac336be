//! The device-health objects of `Device.DeviceInfo.` (TR-181 2.19), read live from Linux:
//! `MemoryStatus.` (`Total`, `Free` in KiB from `/proc/meminfo`), `ProcessStatus.`
//! (`CPUUsage` between two samples of `/proc/stat` at least a second apart, and
//! `Process.{i}` keyed by PID) and `TemperatureStatus.TemperatureSensor.{i}` (the kernel's
//! thermal zones and hwmon temperature inputs; none where it has none). The declarations are
//! generated from the BBF XML (`scripts/gen-diag-schema.py` → [`tr181`]); this area lives
//! beside `device_info` and adds its objects under `Device.DeviceInfo.`.
//!
//! The scan of `/proc/*/stat` and of the sensors (3.2 ms for 209 processes on the development
//! machine, `cargo run --release -p usp-areas --example bench_live`) runs on a [`Worker`]:
//! a read answers from the last [`Scan`] at once and, when that is older than 500 ms, asks
//! for a new one, so the tables lag a read by at most one scan. The data-model thread reads
//! only `/proc/meminfo`, `/proc/stat` and a `Command` asked (one small file each).
//!
//! Never does: change anything (every parameter is read-only), wait for a scan, or scan
//! more than once per 500 ms.

pub mod proc;
pub mod sensors;
#[cfg(test)]
mod tests;
#[rustfmt::skip]
mod tr181;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use usp_datamodel::error::{ErrorCode, UspError};
use usp_datamodel::plugin::{Ctx, Instance, Plugin, Wake};
use usp_datamodel::schema::{ObjId, ParamId, SchemaBuilder};
use usp_datamodel::value::Value;

use crate::Host;
use crate::live::Ids;
use crate::live::links::MAX_AGE;
use crate::worker::Worker;

const PROCESS: &str = "Device.DeviceInfo.ProcessStatus.Process.{i}.";

/// How long a scan asked for may take before another is asked (the first was lost).
const SCAN_PATIENCE: Duration = Duration::from_secs(5);

/// The health area's plugin.
pub fn build(host: &Host) -> Vec<Box<dyn Plugin>> {
    let (proc, thermal, hwmon) = ("/proc", "/sys/class/thermal", "/sys/class/hwmon");
    let scanner = move || Scan::read(proc.as_ref(), thermal.as_ref(), hwmon.as_ref());
    vec![Box::new(Health::new(PathBuf::from(proc), host.waker.clone(), scanner))]
}

/// One scan of the process table and the sensors, made on the worker thread.
#[derive(Clone, Debug, Default)]
pub struct Scan {
    /// The processes, by PID.
    pub processes: Vec<proc::Process>,
    /// The temperature sensors, by key.
    pub sensors: Vec<sensors::Sensor>,
}

impl Scan {
    /// Scans processes under `proc` and sensors under `thermal` and `hwmon`.
    pub fn read(proc: &Path, thermal: &Path, hwmon: &Path) -> Scan {
        Scan { processes: proc::processes(proc), sensors: sensors::sensors(thermal, hwmon) }
    }
}

/// The health plugin.
#[derive(Debug)]
pub struct Health {
    ids: Ids,
    proc: PathBuf,
    /// The scanning thread; `None` when it could not be started or has died (tables empty).
    worker: Option<Worker<(), Scan>>,
    scan: Scan,
    /// When the scan in hand was taken.
    taken: Option<Instant>,
    /// When the scan not yet answered was asked for.
    asked: Option<Instant>,
    /// The last `/proc/stat` sample and when it was taken; the usage it gave.
    cpu: Option<(Instant, (u64, u64))>,
    usage: u32,
}

impl Health {
    /// Reads memory and CPU under `proc`; `scanner` makes each [`Scan`] on a worker thread
    /// that wakes the data-model thread through `wake`. The first scan is asked at once.
    pub fn new(
        proc: PathBuf,
        wake: Arc<dyn Wake>,
        scanner: impl FnMut() -> Scan + Send + 'static,
    ) -> Health {
        let mut scanner = scanner;
        let worker = Worker::spawn("health-scan", wake, move |()| scanner())
            .map_err(|e| log::warn!("the process table cannot be scanned: {e}"))
            .ok();
        let mut health = Health {
            ids: Ids::default(),
            proc,
            worker,
            scan: Scan::default(),
            taken: None,
            asked: None,
            cpu: None,
            usage: 0,
        };
        health.refresh();
        health
    }

    /// Takes the newest scan that arrived, if any. Never waits.
    fn take(&mut self) {
        let Some(worker) = &self.worker else { return };
        if let Some(scan) = worker.results().last() {
            self.scan = scan;
            self.taken = Some(Instant::now());
            self.asked = None;
        }
    }

    /// Takes the scans that arrived; asks for another when the one in hand is older than
    /// [`MAX_AGE`] and none is on its way. Never waits.
    fn refresh(&mut self) {
        self.take();
        let Some(worker) = &self.worker else { return };
        let stale = self.taken.is_none_or(|t| t.elapsed() >= MAX_AGE);
        let waiting = self.asked.is_some_and(|t| t.elapsed() < SCAN_PATIENCE);
        if stale && !waiting {
            match worker.submit(()) {
                Ok(()) => self.asked = Some(Instant::now()),
                Err(e) => {
                    log::warn!("{e}: the process table and sensors are empty");
                    self.worker = None;
                    self.scan = Scan::default();
                }
            }
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
                let p = self.scan.processes.iter().find(|p| p.pid == pid)?;
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
                let s = self.scan.sensors.iter().find(|s| Some(s.key.as_str()) == key)?;
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
            return Ok(self.scan.processes.iter().map(|p| p.pid.to_string()).collect());
        }
        Ok(self.scan.sensors.iter().map(|s| s.key.clone()).collect())
    }

    /// Only takes a scan that arrived: scans are asked by reads, not by other areas' wakes.
    fn poll(&mut self, _ctx: &mut Ctx) {
        self.take();
    }
}
