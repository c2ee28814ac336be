//! Temperature sensors the kernel exposes: `/sys/class/thermal/thermal_zone*/temp`
//! (millidegrees Celsius), keyed by the zone's directory name.
//!
//! Never does: change trip points or fan states.

use std::path::Path;

/// One sensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sensor {
    /// The zone's directory name (`thermal_zone0`), the row key.
    pub key: String,
    /// Its temperature in whole degrees Celsius, `None` when it cannot be read now.
    pub celsius: Option<i32>,
}

/// The sensors under `thermal` (`/sys/class/thermal`), by key.
pub fn sensors(thermal: &Path) -> Vec<Sensor> {
    let Ok(dir) = std::fs::read_dir(thermal) else { return Vec::new() };
    let mut out: Vec<Sensor> = dir
        .flatten()
        .filter_map(|e| {
            let key = e.file_name().to_str()?.to_owned();
            key.starts_with("thermal_zone").then_some(key)
        })
        .map(|key| {
            let milli = std::fs::read_to_string(thermal.join(&key).join("temp"))
                .ok()
                .and_then(|t| t.trim().parse::<i64>().ok());
            let celsius = milli.map(|m| i32::try_from(m.div_euclid(1000)).unwrap_or(i32::MAX));
            Sensor { key, celsius }
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}
