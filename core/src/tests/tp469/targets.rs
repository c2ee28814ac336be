//! Permission targets with a search expression or a reference step (TR-181
//! `Permission.{i}.Targets`: "a list of Path Names, Search Paths or reference-following
//! paths"): the agent resolves them as it sees the data model, at each check, so a change of
//! the values they select changes what they cover.

use super::*;

const PERMISSIONS: &str = "Device.LocalAgent.ControllerTrust.Role.1.Permission.";
const BOOT: &str = "Device.LocalAgent.Controller.1.BootParameter.";

/// Adds a Permission to the test controller's Role denying everything on `targets`.
fn deny(h: &mut Harness, n: u32, targets: &str) {
    let p = format!("{PERMISSIONS}{n}.");
    h.default(&format!("{p}Enable"), "true");
    h.default(&format!("{p}Order"), &(n + 10).to_string());
    h.default(&format!("{p}Targets"), targets);
}

/// The ParameterName values of the BootParameter rows the controller reads.
fn boot_names(h: &mut Harness) -> Vec<String> {
    let r = h.get1(&format!("{BOOT}*.ParameterName"), 0);
    let mut names: Vec<String> =
        r.resolved_path_results.iter().flat_map(|p| p.result_params.values().cloned()).collect();
    names.sort();
    names
}

#[test]
fn permission_targets_with_search_expressions_follow_the_values() {
    let mut h = Harness::builtin();
    h.default(&format!("{BOOT}1.ParameterName"), "Device.DeviceInfo.SerialNumber");
    h.default(&format!("{BOOT}2.ParameterName"), "Device.DeviceInfo.ModelName");
    let both = vec!["Device.DeviceInfo.ModelName", "Device.DeviceInfo.SerialNumber"];
    assert_eq!(boot_names(&mut h), both);
    deny(&mut h, 2, &format!("{BOOT}[ParameterName==\"Device.DeviceInfo.SerialNumber\"]."));
    assert_eq!(boot_names(&mut h), vec!["Device.DeviceInfo.ModelName"]);
    // The row no longer matches: it is readable again, and the other one is hidden once it
    // matches.
    h.default(&format!("{BOOT}1.ParameterName"), "Device.DeviceInfo.HardwareVersion");
    h.default(&format!("{BOOT}2.ParameterName"), "Device.DeviceInfo.SerialNumber");
    assert_eq!(boot_names(&mut h), vec!["Device.DeviceInfo.HardwareVersion"]);
    // A search matching nothing covers nothing.
    h.default(&format!("{BOOT}2.ParameterName"), "Device.DeviceInfo.ModelName");
    assert_eq!(boot_names(&mut h).len(), 2);
}

#[test]
fn permission_targets_follow_references() {
    let mut h = Harness::builtin();
    let name = "Device.LocalAgent.ControllerTrust.Role.1.Name";
    assert_eq!(h.value(name).as_deref(), Some("Full Access"));
    // Controller.1.AssignedRole's first entry is Role.1: the target denies reading that Role.
    deny(&mut h, 2, "Device.LocalAgent.Controller.1.AssignedRole#1+.");
    let r = h.get1(name, 0);
    assert!(r.resolved_path_results.iter().all(|p| p.result_params.is_empty()), "{r:?}");
    assert_eq!(h.value("Device.LocalAgent.Controller.1.EndpointID").as_deref(), Some(CTRL));
}
