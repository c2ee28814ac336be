//! A private OpenWrt userland for tests and benchmarks: the real `ubusd`, `ubus` and `uci`
//! built from OpenWrt's sources, a UCI configuration directory of its own, and the router
//! daemons' ubus objects (netifd, rpcd's iwinfo, hostapd) served by `testdata/ubus-mock.lua`
//! through the real Lua binding.
//!
//! The sources come from `USP_OPENWRT_SRC` (default: `../shared/openwrt` beside the
//! repository); they are built once with their `build-userland.sh` into
//! `target/openwrt-userland`. When they are missing, [`Testbed::start_or_skip`] prints
//! `skipped: ...`, records it in `target/test-skips.txt` (counted by `scripts/test.sh`) and the
//! test returns.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::Programs;
use super::ubus::Ubus;
use crate::PlatformPaths;

/// A radio of the simulated router.
#[derive(Clone, Debug)]
pub struct RadioSpec {
    /// UCI section (`radio0`).
    pub name: String,
    /// UCI band (`2g`, `5g`, `6g`).
    pub band: String,
    /// Channel.
    pub channel: u32,
    /// UCI htmode (`HE20`).
    pub htmode: String,
}

/// An interface of the simulated router.
#[derive(Clone, Debug)]
pub struct IfaceSpec {
    /// UCI section (`default_radio0`).
    pub section: String,
    /// Its radio's section.
    pub radio: String,
    /// Kernel interface name (`wlan0`).
    pub ifname: String,
    /// SSID.
    pub ssid: String,
    /// MAC address.
    pub mac: String,
    /// UCI mode: `ap` or `sta`.
    pub mode: String,
}

/// What the simulated router has.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Radios.
    pub radios: Vec<RadioSpec>,
    /// Access point interfaces.
    pub ifaces: Vec<IfaceSpec>,
    /// Whether hostapd's objects exist.
    pub hostapd: bool,
    /// Stations already associated: (ifname, MAC).
    pub clients: Vec<(String, String)>,
}

impl Spec {
    /// `radios` radios (2.4, 5, 6 GHz in turn) with `ifaces` access points spread over them
    /// and `stations` stations spread over those.
    pub fn router(radios: usize, ifaces: usize, stations: usize) -> Spec {
        let bands = [("2g", 6, "HE20"), ("5g", 36, "HE80"), ("6g", 37, "HE80")];
        let radios: Vec<RadioSpec> = (0..radios)
            .map(|i| {
                let (band, channel, htmode) = bands[i % 3];
                RadioSpec {
                    name: format!("radio{i}"),
                    band: band.into(),
                    channel,
                    htmode: htmode.into(),
                }
            })
            .collect();
        let ifaces: Vec<IfaceSpec> = (0..ifaces)
            .map(|i| IfaceSpec {
                section: format!("default_radio{i}"),
                radio: radios[i % radios.len().max(1)].name.clone(),
                ifname: format!("wlan{i}"),
                ssid: format!("OpenWrt-{i}"),
                mac: format!("02:00:00:00:01:{i:02x}"),
                mode: "ap".into(),
            })
            .collect();
        let clients = (0..stations)
            .map(|n| {
                (
                    format!("wlan{}", n % ifaces.len().max(1)),
                    format!("02:00:00:aa:{:02x}:{:02x}", n / 256, n % 256),
                )
            })
            .collect();
        Spec { radios, ifaces, hostapd: true, clients }
    }

    /// `/etc/config/wireless` for this router (with a comment, as `wifi config` writes none).
    pub fn wireless(&self) -> String {
        let mut out = String::from("# written by the testbed\n");
        for r in &self.radios {
            let _ = write!(
                out,
                "\nconfig wifi-device '{}'\n\toption type 'mac80211'\n\toption band '{}'\n\toption channel '{}'\n\toption htmode '{}'\n\toption country 'DE'\n",
                r.name, r.band, r.channel, r.htmode
            );
        }
        for i in &self.ifaces {
            let _ = write!(
                out,
                "\nconfig wifi-iface '{}'\n\toption device '{}'\n\toption network 'lan'\n\toption mode '{}'\n\toption ssid '{}'\n\toption encryption 'psk2'\n\toption key 'changeme123'\n\toption vendor_extra 'kept'\n",
                i.section, i.radio, i.mode, i.ssid
            );
        }
        out
    }

    fn lua(&self) -> String {
        let mut out = String::from("return {\n  radios = {\n");
        for r in &self.radios {
            let _ = writeln!(
                out,
                "    {{ name = {:?}, band = {:?}, channel = {}, htmode = {:?} }},",
                r.name, r.band, r.channel, r.htmode
            );
        }
        out.push_str("  },\n  ifaces = {\n");
        for i in &self.ifaces {
            let _ = writeln!(
                out,
                "    {{ section = {:?}, radio = {:?}, ifname = {:?}, ssid = {:?}, mac = {:?}, mode = {:?} }},",
                i.section, i.radio, i.ifname, i.ssid, i.mac, i.mode
            );
        }
        let _ = writeln!(out, "  }},\n  hostapd = {},\n  clients = {{", self.hostapd);
        for i in &self.ifaces {
            let macs: Vec<String> = self
                .clients
                .iter()
                .filter(|(f, _)| *f == i.ifname)
                .map(|(_, m)| format!("[{m:?}] = true"))
                .collect();
            let _ = writeln!(out, "    [{:?}] = {{ {} }},", i.ifname, macs.join(", "));
        }
        out.push_str("  },\n}\n");
        out
    }
}

/// A running private ubusd with the mock objects, and a UCI directory.
#[derive(Debug)]
pub struct Testbed {
    /// The userland's prefix.
    pub prefix: PathBuf,
    /// Where the backend finds everything.
    pub paths: PlatformPaths,
    /// The programs.
    pub programs: Programs,
    children: Vec<Child>,
}

impl Testbed {
    /// The built userland, building it from `USP_OPENWRT_SRC` if needed; `Err` says why it
    /// cannot be had (the caller skips). Built once per process: tests running in parallel
    /// wait for the one build instead of racing each other in the same directory.
    pub fn userland() -> Result<PathBuf, String> {
        static USERLAND: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
        USERLAND.get_or_init(Testbed::build_userland).clone()
    }

    fn build_userland() -> Result<PathBuf, String> {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let repo = manifest.parent().unwrap_or(manifest);
        let src = std::env::var_os("USP_OPENWRT_SRC")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("../shared/openwrt"));
        let src = src.canonicalize().unwrap_or(src);
        let script = src.join("build-userland.sh");
        let prefix = repo.join("target/openwrt-userland");
        let built = |p: &Path| {
            p.join("sbin/ubusd").is_file()
                && p.join("bin/uci").is_file()
                && p.join("lib/lua/ubus.so").is_file()
        };
        if built(&prefix) {
            return Ok(prefix);
        }
        if !script.is_file() {
            return Err(format!(
                "the OpenWrt sources are not at {} (set USP_OPENWRT_SRC)",
                src.display()
            ));
        }
        let out = Command::new("bash").arg(&script).arg(&prefix).stdin(Stdio::null()).output();
        let out = out.map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() || !built(&prefix) {
            let tail = |b: &[u8]| {
                let text = String::from_utf8_lossy(b).into_owned();
                let lines: Vec<&str> = text.lines().rev().take(5).collect();
                lines.into_iter().rev().collect::<Vec<_>>().join(" / ")
            };
            return Err(format!(
                "{} failed ({}): {} {}",
                script.display(),
                out.status,
                tail(&out.stderr),
                tail(&out.stdout)
            ));
        }
        Ok(prefix)
    }

    /// Starts ubusd and the mock in `dir` for `spec`, writing `dir/config/wireless`; `None`
    /// (with `skipped: ...` printed) when the userland cannot be had. Any other failure panics:
    /// the test fails.
    pub fn start_or_skip(dir: &Path, spec: &Spec) -> Option<Testbed> {
        let prefix = match Testbed::userland() {
            Ok(p) => p,
            Err(why) => {
                record_skip(&why);
                return None;
            }
        };
        match Testbed::start(dir, spec, prefix) {
            Ok(bed) => Some(bed),
            Err(e) => panic!("the OpenWrt testbed did not start: {e}"),
        }
    }

    /// Starts ubusd and the mock in `dir` for `spec`, writing `dir/config/wireless`.
    pub fn start(dir: &Path, spec: &Spec, prefix: PathBuf) -> Result<Testbed, String> {
        let conf = dir.join("config");
        std::fs::create_dir_all(&conf).map_err(|e| e.to_string())?;
        std::fs::write(conf.join("wireless"), spec.wireless()).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("spec.lua"), spec.lua()).map_err(|e| e.to_string())?;
        let socket = dir.join("ubus.sock");
        let mut bed = Testbed {
            paths: PlatformPaths {
                state_dir: dir.join("state"),
                uci_dir: conf,
                uci_save_dir: dir.join("uci-save"),
                ubus_socket: Some(socket.clone()),
                hostapd_dir: dir.join("hostapd"),
                hostapd_conf_dir: dir.join("hostapd-conf"),
                wpa_supplicant_dir: dir.join("wpa_supplicant"),
                uci_program: prefix.join("bin/uci"),
                ubus_program: prefix.join("bin/ubus"),
                tmp_dir: dir.join("tmp"),
                sysupgrade_program: dir.join("sysupgrade"),
                dhcp_leases: dir.join("dhcp.leases"),
                ..PlatformPaths::system(dir.join("state"))
            },
            programs: Programs { uci: prefix.join("bin/uci"), ubus: prefix.join("bin/ubus") },
            prefix,
            children: Vec::new(),
        };
        let ubusd = Command::new(bed.prefix.join("sbin/ubusd"))
            .arg("-s")
            .arg(&socket)
            .stdin(Stdio::null())
            .spawn();
        bed.children.push(ubusd.map_err(|e| format!("ubusd: {e}"))?);
        wait_for(|| socket.exists(), "ubusd's socket")?;
        bed.start_mock(dir)?;
        Ok(bed)
    }

    fn start_mock(&mut self, dir: &Path) -> Result<(), String> {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ubus-mock.lua");
        let socket = self.paths.ubus_socket.clone().unwrap_or_default();
        let mut mock = Command::new("lua5.1")
            .env("LD_LIBRARY_PATH", self.prefix.join("lib"))
            .arg(script)
            .arg(&self.prefix)
            .arg(&socket)
            .arg(dir.join("spec.lua"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("lua5.1: {e}"))?;
        let ready = mock.stdout.take().map(|o| BufReader::new(o).lines().next().is_some());
        self.children.push(mock);
        if ready != Some(true) {
            return Err("the ubus mock did not start".into());
        }
        Ok(())
    }

    /// A ubus client on the private socket.
    pub fn ubus(&self) -> Ubus {
        Ubus::new(self.programs.ubus.clone(), self.paths.ubus_socket.clone())
    }

    /// How many `network reload`s were asked.
    pub fn reloads(&self) -> i64 {
        let r = self.ubus().call("test", "reloads", &Json::Object(Default::default()));
        r.ok().and_then(|v| v.get("count").and_then(Json::as_i64)).unwrap_or(-1)
    }

    /// How many `wps_start` calls the hostapd objects got.
    pub fn wps_starts(&self) -> i64 {
        let r = self.ubus().call("test", "wps_starts", &Json::Object(Default::default()));
        r.ok().and_then(|v| v.get("count").and_then(Json::as_i64)).unwrap_or(-1)
    }

    /// A station associates with `ifname` (hostapd notifies `assoc`).
    pub fn join(&self, ifname: &str, mac: &str) {
        let _ =
            self.ubus().call("test", "join", &serde_json::json!({ "ifname": ifname, "mac": mac }));
    }

    /// Another tool's change: `uci set path=value` then `uci commit` (with the default save
    /// directory under the testbed's), as LuCI would.
    pub fn uci_set(&self, path: &str, value: &str) -> bool {
        let config = path.split('.').next().unwrap_or("");
        self.uci_run(&["set", &format!("{path}={value}")]) && self.uci_run(&["commit", config])
    }

    /// Another tool deletes `path` (a section or an option) and commits.
    pub fn uci_delete(&self, path: &str) -> bool {
        let config = path.split('.').next().unwrap_or("");
        self.uci_run(&["delete", path]) && self.uci_run(&["commit", config])
    }

    /// Runs the real `uci` as another tool would (the testbed's config and save directories);
    /// true when it succeeded.
    fn uci_run(&self, args: &[&str]) -> bool {
        Command::new(&self.programs.uci)
            .arg("-c")
            .arg(&self.paths.uci_dir)
            .arg("-t")
            .arg(&self.paths.uci_save_dir)
            .args(args)
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `uci get` of `path` (`wireless.radio0.channel`) with the real program; `None` if unset.
    pub fn uci_get(&self, path: &str) -> Option<String> {
        let out = Command::new(&self.programs.uci)
            .arg("-c")
            .arg(&self.paths.uci_dir)
            .args(["get", path])
            .output()
            .ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Prints `skipped: ...` and appends the same line, with the test's name, to
/// `target/test-skips.txt`, which `scripts/test.sh` counts into its "skipped" total (cargo
/// shows no output of a passing test).
pub fn record_skip(why: &str) {
    println!("skipped: {why}");
    let name = std::thread::current().name().unwrap_or("?").to_owned();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-skips.txt");
    let line = format!("skipped: {name}: {why}\n");
    let open = std::fs::OpenOptions::new().create(true).append(true).open(file);
    if let Ok(mut f) = open {
        let _ = std::io::Write::write_all(&mut f, line.as_bytes());
    }
}

/// Waits up to 5 s for `done`.
fn wait_for(done: impl Fn() -> bool, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}
