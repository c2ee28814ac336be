//! `Device.IP.Interface.` on OpenWrt: rows from netifd's `network.interface dump` served by a
//! Lua stand-in on the real ubusd of the OpenWrt testbed (skipped, recorded, without the
//! OpenWrt sources), measured on the kernel's `lo`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::live::testing::row_where;
use crate::openwrt::testbed::{Spec, Testbed};
use crate::testutil::{Lab, at};
use crate::{AgentIdentity, Host, NoWake, Platform};

/// The netifd stand-in, stopped (by its PID) on drop.
struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_mock(bed: &Testbed) -> Mock {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/netifd-mock.lua");
    let mut child = Command::new("lua5.1")
        .env("LD_LIBRARY_PATH", bed.prefix.join("lib"))
        .arg(script)
        .arg(&bed.prefix)
        .arg(bed.paths.ubus_socket.as_deref().unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("lua5.1");
    let ready = child.stdout.take().map(|o| BufReader::new(o).lines().next().is_some());
    let mock = Mock(child);
    assert_eq!(ready, Some(true), "the netifd mock did not start");
    mock
}

#[test]
fn openwrt_interfaces_are_netifds_logical_ones() {
    let dir = tempfile::tempdir().unwrap();
    let Some(bed) = Testbed::start_or_skip(dir.path(), &Spec::router(1, 1, 0)) else { return };
    let _mock = start_mock(&bed);
    let mut host = Host {
        waker: Arc::new(NoWake),
        ..Host::new(AgentIdentity::default(), Platform::OpenWrt, dir.path())
    };
    host.paths = bed.paths.clone();
    let mut t = Lab::new(super::build(&host));
    let end = Instant::now() + Duration::from_secs(10);
    while t.try_get("Device.IP.Interface.3.Name").is_err() && Instant::now() < end {
        t.dm.tick(at(1), true);
        std::thread::sleep(Duration::from_millis(20));
    }
    let lan = row_where(&mut t, "Device.IP.Interface.", "Name", "lan");
    let wan = row_where(&mut t, "Device.IP.Interface.", "Name", "wan");
    let _ = row_where(&mut t, "Device.IP.Interface.", "Name", "loopback");
    assert_eq!(t.get("Device.IP.InterfaceNumberOfEntries"), "3");
    assert_eq!(t.get(&format!("{lan}Status")), "Up");
    assert_eq!(t.get(&format!("{lan}Loopback")), "true", "measured on lo");
    let v4 = row_where(&mut t, &format!("{lan}IPv4Address."), "IPAddress", "192.168.1.1");
    assert_eq!(t.get(&format!("{v4}SubnetMask")), "255.255.255.0");
    assert_eq!(t.get(&format!("{v4}AddressingType")), "Static");
    let v6 = row_where(&mut t, &format!("{lan}IPv6Address."), "IPAddress", "fd00::1");
    assert_eq!(t.get(&format!("{v6}Origin")), "AutoConfigured");
    let packets: u64 = t.get(&format!("{lan}Stats.PacketsReceived")).parse().unwrap();
    assert!(packets > 0, "lo's counters");
    assert_eq!(t.get(&format!("{wan}Status")), "Down");
    assert_eq!(t.get(&format!("{wan}Enable")), "false");
    assert_eq!(t.get(&format!("{wan}Stats.BytesSent")), "0", "no device while down");
}
