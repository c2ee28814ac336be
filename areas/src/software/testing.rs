//! Test helpers that build real OpenWrt packages: an `.ipk` (gzip-compressed tar of
//! `debian-binary`, `control.tar.gz`, `data.tar.gz`, as OpenWrt's `ipkg-build` makes them)
//! holding a control file and a test init script. For the area's tests and the end-to-end
//! tests (feature `testbed`); never part of the agent.

use std::io::Write;
use std::process::{Command, Stdio};

use super::tarball::pack;

/// A test init script for service `name`: start/stop/running with a pid file,
/// enable/disable/enabled with an `rc.d` link, all under `$IPKG_INSTROOT` (procd's scripts
/// answer the same actions).
pub fn init_script(name: &str) -> String {
    format!(
        "#!/bin/sh\nR=\"$IPKG_INSTROOT\"; PID=\"$R/var/run/{name}.pid\"\ncase \"$1\" in\n\
         start) mkdir -p \"$R/var/run\"; sleep 60 >/dev/null 2>&1 & echo $! > \"$PID\" ;;\n\
         stop) [ -f \"$PID\" ] && kill \"$(cat \"$PID\")\" 2>/dev/null; rm -f \"$PID\" ;;\n\
         running) [ -f \"$PID\" ] && kill -0 \"$(cat \"$PID\")\" 2>/dev/null ;;\n\
         enable) mkdir -p \"$R/etc/rc.d\"; ln -sf ../init.d/{name} \"$R/etc/rc.d/S50{name}\" ;;\n\
         disable) rm -f \"$R/etc/rc.d/S50{name}\" ;;\n\
         enabled) [ -e \"$R/etc/rc.d/S50{name}\" ] ;;\n\
         *) exit 1 ;;\nesac\n"
    )
}

/// `data` compressed by the system's `gzip`.
///
/// # Panics
/// When `gzip` cannot be run (a test helper: the test fails).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("gzip: {e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("gzip stdin"));
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("gzip: {e}"));
    let _ = writer.join();
    assert!(out.status.success(), "gzip failed");
    out.stdout
}

/// An `.ipk` of package `name` with an init script `/etc/init.d/<name>`.
pub fn ipk(name: &str, version: &str, arch: &str) -> Vec<u8> {
    ipk_with(name, version, arch, &[])
}

/// [`ipk`] with `extra` data files (names like `./etc/x`, under `./etc/`).
pub fn ipk_with(name: &str, version: &str, arch: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let control = format!(
        "Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: Example\n\
         Description: test {name}\n"
    );
    let control = gzip(&pack(&[("./control", 0o644, control.as_bytes())]));
    let script = init_script(name);
    let init = format!("./etc/init.d/{name}");
    let mut files: Vec<(&str, u32, &[u8])> = vec![
        ("./etc/", 0o755, b""),
        ("./etc/init.d/", 0o755, b""),
        (init.as_str(), 0o755, script.as_bytes()),
    ];
    files.extend(extra.iter().map(|(n, d)| (*n, 0o644, *d)));
    let data = gzip(&pack(&files));
    let outer = pack(&[
        ("./debian-binary", 0o644, b"2.0\n"),
        ("./control.tar.gz", 0o644, &control),
        ("./data.tar.gz", 0o644, &data),
    ]);
    gzip(&outer)
}
