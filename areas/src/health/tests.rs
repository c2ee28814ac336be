//! The health objects read from this machine's `/proc`, and thermal zones from a directory
//! laid out as the kernel's (this machine may have none).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use super::Health;
use crate::live::testing::row_where;
use crate::testutil::Lab;

fn lab(thermal: PathBuf) -> Lab {
    let info = crate::DeviceInfo::new(crate::AgentIdentity::default());
    Lab::new(vec![Box::new(info), Box::new(Health::new(PathBuf::from("/proc"), thermal))])
}

#[test]
fn memory_cpu_and_this_process_are_the_kernels() {
    let mut t = lab(PathBuf::from("/sys/class/thermal"));
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total = super::proc::meminfo(&meminfo, "MemTotal").unwrap();
    assert_eq!(t.get("Device.DeviceInfo.MemoryStatus.Total"), total.to_string());
    let free: u64 = t.get("Device.DeviceInfo.MemoryStatus.Free").parse().unwrap();
    assert!(free > 0 && free < total);
    let usage: u32 = t.get("Device.DeviceInfo.ProcessStatus.CPUUsage").parse().unwrap();
    assert!(usage <= 100);
    let me = std::process::id().to_string();
    let row = row_where(&mut t, "Device.DeviceInfo.ProcessStatus.Process.", "PID", &me);
    assert!(t.get(&format!("{row}Command")).contains("usp_areas"));
    // The process's state is its main thread's: the test harness waits while tests run.
    let state = t.get(&format!("{row}State"));
    assert!(state == "Sleeping" || state == "Running", "{state}");
    assert!(t.get(&format!("{row}Size")).parse::<u32>().unwrap() > 0);
    let count: usize =
        t.get("Device.DeviceInfo.ProcessStatus.ProcessNumberOfEntries").parse().unwrap();
    assert!(count >= 2, "{count}");
}

#[test]
fn thermal_zones_become_temperature_sensors() {
    let dir = tempfile::tempdir().unwrap();
    for (zone, temp) in
        [("thermal_zone0", "45500\n"), ("thermal_zone1", "-2000\n"), ("cooling_device0", "0\n")]
    {
        std::fs::create_dir(dir.path().join(zone)).unwrap();
        std::fs::write(dir.path().join(zone).join("temp"), temp).unwrap();
    }
    std::fs::create_dir(dir.path().join("thermal_zone2")).unwrap();
    let mut t = lab(dir.path().to_path_buf());
    let base = "Device.DeviceInfo.TemperatureStatus.";
    assert_eq!(t.get(&format!("{base}TemperatureSensorNumberOfEntries")), "3");
    let z0 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone0");
    assert_eq!(t.get(&format!("{z0}Value")), "45");
    assert_eq!(t.get(&format!("{z0}Status")), "Enabled");
    let z1 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone1");
    assert_eq!(t.get(&format!("{z1}Value")), "-2");
    let z2 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone2");
    assert_eq!(t.get(&format!("{z2}Status")), "Error", "a zone without a reading");
}
