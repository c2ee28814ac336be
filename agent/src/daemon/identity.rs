//! Who the agent is: the Endpoint ID and the DeviceInfo identity, from the command line, the
//! environment and the machine.
//!
//! The serial number is, in order: `--serial`, the MAC address of `-i IFACE` (obuspa's
//! choice), the MAC address of the first non-loopback interface, `/etc/machine-id`, and a
//! fixed lab value. The Endpoint ID is `USP_ENDPOINT_ID` / `--endpoint-id`, else
//! `os::<OUI>-<serial>` (TR-369's `os` authority scheme).

use std::path::Path;

use usp_areas::AgentIdentity;

use super::options::Options;

/// The identity for `opts`, reading interface addresses under `sys_net` (`/sys/class/net`).
pub fn identity(opts: &Options, sys_net: &Path) -> AgentIdentity {
    let mut id = AgentIdentity::default();
    if let Some(oui) = &opts.oui {
        id.manufacturer_oui = oui.clone();
    }
    let serial = opts
        .serial
        .clone()
        .or_else(|| opts.interface.as_deref().and_then(|i| mac_serial(sys_net, i)))
        .or_else(|| first_interface_serial(sys_net))
        .or_else(machine_id_serial);
    if let Some(serial) = serial {
        id.serial_number = serial;
    }
    id.endpoint_id = opts
        .endpoint_id
        .clone()
        .unwrap_or_else(|| AgentIdentity::os_endpoint_id(&id.manufacturer_oui, &id.serial_number));
    id.supported_protocols = supported_protocols();
    id.description = "uspagent".into();
    id
}

/// The MTPs compiled in, as `Device.LocalAgent.SupportedProtocols` lists them.
fn supported_protocols() -> String {
    let mut p = Vec::new();
    if cfg!(feature = "websocket") {
        p.push("WebSocket");
    }
    if cfg!(feature = "stomp") {
        p.push("STOMP");
    }
    if cfg!(feature = "mqtt") {
        p.push("MQTT");
    }
    p.join(",")
}

/// The MAC address of `iface` as 12 upper-case hex digits, unless absent or all zero.
fn mac_serial(sys_net: &Path, iface: &str) -> Option<String> {
    if iface.contains('/') || iface.starts_with('.') {
        return None;
    }
    let text = std::fs::read_to_string(sys_net.join(iface).join("address")).ok()?;
    let hex: String = text.trim().chars().filter(|c| *c != ':').collect::<String>().to_uppercase();
    let valid = hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    (valid && hex != "000000000000").then_some(hex)
}

fn first_interface_serial(sys_net: &Path) -> Option<String> {
    let mut names: Vec<String> = std::fs::read_dir(sys_net)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names.iter().find_map(|n| mac_serial(sys_net, n))
}

fn machine_id_serial() -> Option<String> {
    let id = std::fs::read_to_string("/etc/machine-id").ok()?;
    let id = id.trim();
    (id.len() >= 12).then(|| id[..12].to_uppercase())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sys_with(ifaces: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, mac) in ifaces {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("address"), format!("{mac}\n")).unwrap();
        }
        dir
    }

    #[test]
    fn the_interface_mac_is_the_serial_and_makes_the_endpoint_id() {
        let sys = sys_with(&[("lo", "00:00:00:00:00:00"), ("eth0", "a0:b1:c2:d3:e4:f5")]);
        let opts = Options { interface: Some("eth0".into()), ..Options::default() };
        let id = identity(&opts, sys.path());
        assert_eq!(id.serial_number, "A0B1C2D3E4F5");
        assert_eq!(id.endpoint_id, "os::00D09E-A0B1C2D3E4F5");
    }

    #[test]
    fn options_win_and_the_first_real_interface_is_the_fallback() {
        let sys = sys_with(&[("lo", "00:00:00:00:00:00"), ("wan", "02:00:00:00:00:01")]);
        let opts = Options { interface: Some("eth9".into()), ..Options::default() };
        assert_eq!(identity(&opts, sys.path()).serial_number, "020000000001");
        let opts =
            Options { serial: Some("S1".into()), oui: Some("ABCDEF".into()), ..Options::default() };
        assert_eq!(identity(&opts, sys.path()).endpoint_id, "os::ABCDEF-S1");
        let opts = Options { endpoint_id: Some("proto::x".into()), ..Options::default() };
        assert_eq!(identity(&opts, sys.path()).endpoint_id, "proto::x");
    }

    #[test]
    fn odd_interface_names_are_not_paths() {
        let sys = sys_with(&[("eth0", "a0:b1:c2:d3:e4:f5")]);
        assert_eq!(mac_serial(sys.path(), "../eth0"), None);
        assert_eq!(mac_serial(sys.path(), "eth0"), Some("A0B1C2D3E4F5".into()));
    }
}
