//! The health objects read from this machine's `/proc`, thermal zones and hwmon chips from
//! directories laid out as the kernel's (this machine may have none), and a read that never
//! waits for the worker's scan.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{Health, Scan};
use crate::live::testing::row_where;
use crate::testutil::Lab;

fn lab_with(scanner: impl FnMut() -> Scan + Send + 'static) -> Lab {
    let info = crate::DeviceInfo::new(crate::AgentIdentity::default());
    let health = Health::new(PathBuf::from("/proc"), Arc::new(crate::host::NoWake), scanner);
    Lab::new(vec![Box::new(info), Box::new(health)])
}

fn lab(thermal: PathBuf, hwmon: PathBuf) -> Lab {
    lab_with(move || Scan::read(Path::new("/proc"), &thermal, &hwmon))
}

/// Reads `count` (a NumberOfEntries) until it is `want` or 5 s have passed; its last value.
fn entries_once(t: &mut Lab, count: &str, want: impl Fn(usize) -> bool) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n: usize = t.get(count).parse().unwrap();
        if want(n) || Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const PROCESSES: &str = "Device.DeviceInfo.ProcessStatus.ProcessNumberOfEntries";
const SENSORS: &str = "Device.DeviceInfo.TemperatureStatus.TemperatureSensorNumberOfEntries";

#[test]
fn memory_cpu_and_this_process_are_the_kernels() {
    let mut t = lab(PathBuf::from("/sys/class/thermal"), PathBuf::from("/sys/class/hwmon"));
    assert!(entries_once(&mut t, PROCESSES, |n| n >= 2) >= 2, "the first scan arrives");
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
    let mut t = lab(dir.path().to_path_buf(), dir.path().join("no-hwmon"));
    let base = "Device.DeviceInfo.TemperatureStatus.";
    assert_eq!(entries_once(&mut t, SENSORS, |n| n == 3), 3);
    let z0 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone0");
    assert_eq!(t.get(&format!("{z0}Value")), "45");
    assert_eq!(t.get(&format!("{z0}Status")), "Enabled");
    let z1 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone1");
    assert_eq!(t.get(&format!("{z1}Value")), "-2");
    let z2 = row_where(&mut t, &format!("{base}TemperatureSensor."), "Name", "thermal_zone2");
    assert_eq!(t.get(&format!("{z2}Status")), "Error", "a zone without a reading");
}

#[test]
fn hwmon_temperature_inputs_become_sensors_beside_thermal_zones() {
    let dir = tempfile::tempdir().unwrap();
    let thermal = dir.path().join("thermal");
    std::fs::create_dir_all(thermal.join("thermal_zone0")).unwrap();
    std::fs::write(thermal.join("thermal_zone0").join("temp"), "40000\n").unwrap();
    let hwmon = dir.path().join("hwmon");
    let chip = hwmon.join("hwmon1");
    std::fs::create_dir_all(&chip).unwrap();
    for (file, text) in [
        ("name", "coretemp\n"),
        ("temp1_input", "51999\n"),
        ("temp1_label", "Package id 0\n"),
        ("temp2_input", "not a number\n"),
        ("temp2_crit", "100000\n"),
        ("fan1_input", "1200\n"),
    ] {
        std::fs::write(chip.join(file), text).unwrap();
    }
    let mut t = lab(thermal, hwmon);
    assert_eq!(entries_once(&mut t, SENSORS, |n| n == 3), 3, "one zone, two hwmon inputs");
    let table = "Device.DeviceInfo.TemperatureStatus.TemperatureSensor.";
    let t1 = row_where(&mut t, table, "Name", "hwmon1_temp1");
    assert_eq!(t.get(&format!("{t1}Value")), "51");
    assert_eq!(t.get(&format!("{t1}Status")), "Enabled");
    let t2 = row_where(&mut t, table, "Name", "hwmon1_temp2");
    assert_eq!(t.get(&format!("{t2}Status")), "Error", "an input that cannot be parsed");
    let z0 = row_where(&mut t, table, "Name", "thermal_zone0");
    assert_eq!(t.get(&format!("{z0}Value")), "40");
}

#[test]
fn a_get_never_waits_for_a_scan() {
    let (release, gate) = mpsc::channel::<Scan>();
    let (started_tx, started) = mpsc::channel::<()>();
    let mut t = lab_with(move || {
        let _ = started_tx.send(());
        // Blocks the worker until the test hands it a scan (or drops the sender).
        gate.recv().unwrap_or_default()
    });
    started.recv_timeout(Duration::from_secs(5)).expect("the worker was asked for a scan");
    let before = Instant::now();
    assert_eq!(t.get(PROCESSES), "0", "no scan yet: the table is empty, not waited for");
    assert!(!t.get("Device.DeviceInfo.MemoryStatus.Total").is_empty());
    assert!(before.elapsed() < Duration::from_millis(200), "{:?}", before.elapsed());
    let mine = std::fs::read_to_string("/proc/self/stat").unwrap();
    let me = super::proc::process(4242, &mine).unwrap();
    release.send(Scan { processes: vec![me], sensors: Vec::new() }).unwrap();
    assert_eq!(entries_once(&mut t, PROCESSES, |n| n == 1), 1, "the scan's one process");
    let row = row_where(&mut t, "Device.DeviceInfo.ProcessStatus.Process.", "PID", "4242");
    assert!(t.get(&format!("{row}Size")).parse::<u32>().unwrap() > 0);
}
