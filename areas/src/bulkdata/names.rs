//! The names parameters get in a report (TR-369 "Using Alternative Names in the Report"):
//! the full path when the `Parameter.{i}.Name` is empty; otherwise the Name, followed by the
//! instance numbers that stand for the reference's wildcards (R-BULK.9) and, for an object
//! reference, by the rest of the parameter's path (R-BULK.10).
//!
//! Never does: resolution of the references (the core's snapshot) or encoding.

/// The name `path` (a resolved parameter path) gets in a report, for the profile parameter
/// whose `Reference` is `reference` and whose `Name` is `name`.
pub fn report_name(name: &str, reference: &str, path: &str) -> String {
    if name.is_empty() {
        return path.to_owned();
    }
    let refs: Vec<&str> = reference.split('.').collect();
    let parts: Vec<&str> = path.split('.').collect();
    let mut out = name.to_owned();
    let object_ref = reference.ends_with('.');
    let fixed = if object_ref { refs.len() - 1 } else { refs.len() };
    for (i, r) in refs.iter().take(fixed).enumerate() {
        if is_wildcard(r) {
            if let Some(n) = parts.get(i) {
                out.push('.');
                out.push_str(n);
            }
        }
    }
    if object_ref {
        for rest in parts.iter().skip(fixed) {
            out.push('.');
            out.push_str(rest);
        }
    }
    out
}

/// A wildcard or search expression in place of an instance number.
fn is_wildcard(segment: &str) -> bool {
    segment == "*" || segment.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_r_bulk_9_and_10() {
        // TR-369's examples, verbatim.
        let r = "Device.MoCA.Interface.1.Stats.BroadPktSent";
        assert_eq!(report_name("", r, r), r);
        assert_eq!(report_name("BroadPktSent", r, r), "BroadPktSent");
        let r = "Device.WiFi.AccessPoint.*.AssociatedDevice.*.Stats.BytesSent";
        let p = "Device.WiFi.AccessPoint.3.AssociatedDevice.11.Stats.BytesSent";
        assert_eq!(report_name("WiFi_AP_Assoc_BSent", r, p), "WiFi_AP_Assoc_BSent.3.11");
        let r = "Device.WiFi.AccessPoint.1.AssociatedDevice.10.Stats.";
        let p = "Device.WiFi.AccessPoint.1.AssociatedDevice.10.Stats.RetransCount";
        assert_eq!(report_name("WiFi_AP1_Assoc10", r, p), "WiFi_AP1_Assoc10.RetransCount");
        let r = "Device.WiFi.AccessPoint.*.AssociatedDevice.*.Stats.";
        let p = "Device.WiFi.AccessPoint.1.AssociatedDevice.10.Stats.BytesSent";
        assert_eq!(report_name("WiFi_AP_Assoc", r, p), "WiFi_AP_Assoc.1.10.BytesSent");
    }
}
