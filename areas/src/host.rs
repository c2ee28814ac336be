//! What the areas are built from: the [`Platform`] whose backends serve them, where that
//! platform keeps its files and sockets ([`PlatformPaths`]), and the [`Host`] handed to every
//! area's constructor in [`crate::AREAS`].
//!
//! A new area reads what it needs from [`Host`]; adding a field here never changes a caller
//! (they build a `Host` with [`Host::new`] and set the fields they care about).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use usp_datamodel::plugin::Wake;

use crate::{AgentIdentity, MqttStats};

/// Which backends serve the router areas (Wi-Fi, software, firmware, diagnostics). The agent's
/// own areas (LocalAgent, MQTT, STOMP, ...) are the same on every platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// Simulated hardware that runs anywhere (`uspctl lab`, tests, demos): radios, stations,
    /// images and packages are files under [`PlatformPaths::state_dir`].
    Lab,
    /// A plain Linux system: hostapd's control sockets, netlink, `/proc`.
    Linux,
    /// OpenWrt: UCI, ubus, opkg, sysupgrade.
    OpenWrt,
}

impl Platform {
    /// Every platform, for help texts.
    pub const ALL: [Platform; 3] = [Platform::Lab, Platform::Linux, Platform::OpenWrt];

    /// The platform of the system whose root directory is `root`: OpenWrt when
    /// `etc/openwrt_release` exists there, plain Linux otherwise. The lab is never detected:
    /// it is asked for.
    pub fn detect(root: &Path) -> Platform {
        if root.join("etc/openwrt_release").is_file() { Platform::OpenWrt } else { Platform::Linux }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Lab => "lab",
            Platform::Linux => "linux",
            Platform::OpenWrt => "openwrt",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A platform name that is not one of [`Platform::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownPlatform(pub String);

impl fmt::Display for UnknownPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown platform '{}' (expected lab, linux or openwrt)", self.0)
    }
}

impl std::error::Error for UnknownPlatform {}

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(s: &str) -> Result<Platform, UnknownPlatform> {
        Platform::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownPlatform(s.to_owned()))
    }
}

/// Where the platform's backends find their files, programs and sockets. The defaults are a
/// router's; tests point them into a temporary directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformPaths {
    /// Where backends keep state of their own (the lab's simulated hardware, downloads in
    /// progress). The daemon uses the directory of its database.
    pub state_dir: PathBuf,
    /// The UCI configuration directory (`/etc/config`).
    pub uci_dir: PathBuf,
    /// The UCI save directory holding other tools' uncommitted changes (`/tmp/.uci`).
    pub uci_save_dir: PathBuf,
    /// The ubusd socket; `None`: libubus's default (`/var/run/ubus/ubus.sock`).
    pub ubus_socket: Option<PathBuf>,
    /// The directory of hostapd's control sockets (`/var/run/hostapd`).
    pub hostapd_dir: PathBuf,
    /// The directory of hostapd's configuration files (`/etc/hostapd`): the `*.conf` file
    /// naming a BSS (`interface=` / `bss=`) is where its settings persist.
    pub hostapd_conf_dir: PathBuf,
    /// The directory of wpa_supplicant's control sockets (`/var/run/wpa_supplicant`).
    pub wpa_supplicant_dir: PathBuf,
    /// The `uci` program (`uci` from `PATH`, or the environment variable `USP_UCI`).
    pub uci_program: PathBuf,
    /// The `ubus` program (`ubus` from `PATH`, or the environment variable `USP_UBUS`).
    pub ubus_program: PathBuf,
    /// Where big files that must not reach the flash are staged (a firmware image before it
    /// is flashed): `$TMPDIR`, else `/tmp` (a RAM disk on OpenWrt).
    pub tmp_dir: PathBuf,
    /// OpenWrt's `sysupgrade` (`sysupgrade` from `PATH`, or the environment variable
    /// `USP_SYSUPGRADE`).
    pub sysupgrade_program: PathBuf,
    /// The `opkg` program (`opkg` from `PATH`, or the environment variable `USP_OPKG`).
    pub opkg_program: PathBuf,
    /// opkg's offline root (`opkg -o`); `None`: the running system.
    pub opkg_root: Option<PathBuf>,
    /// opkg's configuration file (`opkg -f`); `None`: opkg's own (`/etc/opkg.conf`).
    pub opkg_conf: Option<PathBuf>,
    /// dnsmasq's DHCP lease file, read by `Device.Hosts.` (`/tmp/dhcp.leases`).
    pub dhcp_leases: PathBuf,
}

impl PlatformPaths {
    /// A router's paths, with backend state in `state_dir`.
    pub fn system(state_dir: impl Into<PathBuf>) -> PlatformPaths {
        PlatformPaths {
            state_dir: state_dir.into(),
            uci_dir: PathBuf::from("/etc/config"),
            uci_save_dir: PathBuf::from("/tmp/.uci"),
            ubus_socket: None,
            hostapd_dir: PathBuf::from("/var/run/hostapd"),
            hostapd_conf_dir: PathBuf::from("/etc/hostapd"),
            wpa_supplicant_dir: PathBuf::from("/var/run/wpa_supplicant"),
            uci_program: program("USP_UCI", "uci"),
            ubus_program: program("USP_UBUS", "ubus"),
            tmp_dir: std::env::temp_dir(),
            sysupgrade_program: program("USP_SYSUPGRADE", "sysupgrade"),
            opkg_program: program("USP_OPKG", "opkg"),
            opkg_root: None,
            opkg_conf: None,
            dhcp_leases: PathBuf::from("/tmp/dhcp.leases"),
        }
    }
}

/// The program named by the environment variable `var`, else `default` (found through `PATH`).
fn program(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A [`Wake`] that does nothing: for hosts that poll (tests drive `handle_wake` themselves).
#[derive(Debug, Default)]
pub struct NoWake;

impl Wake for NoWake {
    fn wake(&self) {}
}

/// Everything an area may need to build its plugins.
#[derive(Clone)]
pub struct Host {
    /// Who the agent is.
    pub identity: AgentIdentity,
    /// Whose backends serve the router areas.
    pub platform: Platform,
    /// Where those backends find their files and sockets.
    pub paths: PlatformPaths,
    /// The MQTT clients' `Stats.`, counted by the host's MTP layer.
    pub mqtt_stats: MqttStats,
    /// Wakes the data-model thread when a backend worker has something for its plugin (see
    /// [`crate::worker`]).
    pub waker: Arc<dyn Wake>,
    /// Whether the router areas (those of [`crate::Area::router`]) are built at all; `false`
    /// gives only the agent's own areas (see [`Host::agent_only`]).
    pub router_areas: bool,
    /// The version of the firmware image running, set by the firmware area when it boots
    /// (see [`RunningVersion`]); `Device.DeviceInfo.SoftwareVersion` reports it.
    pub running_version: RunningVersion,
    /// Carries the core's bulk data snapshots to the BulkData area's worker (see
    /// [`crate::bulkdata::Collector`]).
    pub bulkdata: crate::bulkdata::Collector,
    /// The agent's database, for the configuration backup and restore of
    /// `Device.DeviceInfo.VendorConfigFile.` (set by the daemon; `None`: no such area).
    pub database: Option<Arc<dyn crate::vendor_config::AgentDatabase>>,
}

/// The version of the running firmware image, shared between the firmware area (which learns
/// it when it selects the image at start-up) and `Device.DeviceInfo.` (which reports it as
/// `SoftwareVersion`, falling back to the identity's when no firmware area knows better).
#[derive(Clone, Debug, Default)]
pub struct RunningVersion(Arc<Mutex<Option<String>>>);

impl RunningVersion {
    /// Records the running image's version.
    pub fn set(&self, version: &str) {
        if let Ok(mut v) = self.0.lock() {
            *v = Some(version.to_owned());
        }
    }

    /// The running image's version, if a firmware area has set it.
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|v| v.clone())
    }
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("endpoint_id", &self.identity.endpoint_id)
            .field("platform", &self.platform)
            .field("paths", &self.paths)
            .finish()
    }
}

impl Host {
    /// A host for `identity` on `platform`, with backend state in `state_dir`, a router's other
    /// paths, fresh MQTT statistics and no waker (the host polls).
    pub fn new(identity: AgentIdentity, platform: Platform, state_dir: impl Into<PathBuf>) -> Host {
        Host {
            identity,
            platform,
            paths: PlatformPaths::system(state_dir),
            mqtt_stats: MqttStats::new(),
            waker: Arc::new(NoWake),
            router_areas: true,
            running_version: RunningVersion::default(),
            bulkdata: crate::bulkdata::Collector::default(),
            database: None,
        }
    }

    /// Only the agent's own areas (Device., DeviceInfo, Time, LocalAgent, MQTT, STOMP): no
    /// router area is built. For tests and tools that manage no hardware.
    pub fn agent_only(identity: AgentIdentity) -> Host {
        Host { router_areas: false, ..Host::new(identity, Platform::Lab, PathBuf::new()) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn platform_names_round_trip_and_unknown_ones_are_refused() {
        for p in Platform::ALL {
            assert_eq!(p.name().parse::<Platform>(), Ok(p));
        }
        assert_eq!("OpenWrt".parse::<Platform>(), Ok(Platform::OpenWrt));
        let e = "windows".parse::<Platform>().unwrap_err();
        assert!(e.to_string().contains("lab, linux or openwrt"), "{e}");
    }

    #[test]
    fn openwrt_is_detected_by_its_release_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Platform::detect(dir.path()), Platform::Linux);
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(dir.path().join("etc/openwrt_release"), "DISTRIB_ID='OpenWrt'\n").unwrap();
        assert_eq!(Platform::detect(dir.path()), Platform::OpenWrt);
    }
}
