//! Temperature sensors the kernel exposes: thermal zones
//! (`/sys/class/thermal/thermal_zone*/temp`, keyed by the zone's directory name) and hwmon
//! chips (`/sys/class/hwmon/hwmon*/temp*_input`, keyed `hwmonN_tempK`), both in millidegrees
//! Celsius.
//!
//! Never does: change trip points, fan states or alarm limits.

use std::path::Path;

/// One sensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sensor {
    /// The zone's directory name (`thermal_zone0`) or `hwmon0_temp1`, the row key.
    pub key: String,
    /// Its temperature in whole degrees Celsius, `None` when it cannot be read now.
    pub celsius: Option<i32>,
}

/// Whole degrees from a file holding millidegrees; `None` when it cannot be read or parsed.
fn celsius(file: &Path) -> Option<i32> {
    let milli = std::fs::read_to_string(file).ok()?.trim().parse::<i64>().ok()?;
    Some(i32::try_from(milli.div_euclid(1000)).unwrap_or(i32::MAX))
}

/// The names of the entries of `dir` that start with `prefix`; none when it cannot be read.
fn entries(dir: &Path, prefix: &str) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    read.flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// The sensors under `thermal` (`/sys/class/thermal`) and `hwmon` (`/sys/class/hwmon`), by
/// key.
pub fn sensors(thermal: &Path, hwmon: &Path) -> Vec<Sensor> {
    let mut out: Vec<Sensor> = entries(thermal, "thermal_zone")
        .into_iter()
        .map(|key| Sensor { celsius: celsius(&thermal.join(&key).join("temp")), key })
        .collect();
    for chip in entries(hwmon, "hwmon") {
        for input in entries(&hwmon.join(&chip), "temp") {
            let Some(temp) = input.strip_suffix("_input") else { continue };
            let celsius = celsius(&hwmon.join(&chip).join(&input));
            out.push(Sensor { key: format!("{chip}_{temp}"), celsius });
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}
