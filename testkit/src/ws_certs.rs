//! Test certificates made with the `openssl` command (Debian package `openssl`): a private CA,
//! a server certificate for `localhost` / `127.0.0.1`, and a client certificate, all P-256 and
//! valid for two days, in a temporary directory that disappears with the value.
//!
//! Never used by shipped code; panics with a clear message when `openssl` is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA and two certificates it signed, as PEM files.
pub struct TestCerts {
    /// Holds the files; removed on drop.
    pub dir: tempfile::TempDir,
    /// The CA certificate (trust anchor for both sides).
    pub ca: PathBuf,
    /// The server certificate (SAN `DNS:localhost`, `IP:127.0.0.1`, serverAuth).
    pub server_cert: PathBuf,
    /// Its private key (PKCS#8).
    pub server_key: PathBuf,
    /// The client certificate (clientAuth).
    pub client_cert: PathBuf,
    /// Its private key (PKCS#8).
    pub client_key: PathBuf,
}

/// Makes a fresh CA, server and client certificate.
pub fn generate() -> TestCerts {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temporary directory: {e}"));
    let d = dir.path();
    let p = |name: &str| d.join(name);
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=usp test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    leaf(
        d,
        "server",
        "localhost",
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
    );
    leaf(
        d,
        "client",
        "usp test client",
        "subjectAltName=DNS:client.test\nextendedKeyUsage=clientAuth",
    );
    TestCerts {
        ca: p("ca.pem"),
        server_cert: p("server.pem"),
        server_key: p("server.key"),
        client_cert: p("client.pem"),
        client_key: p("client.key"),
        dir,
    }
}

/// A key and a certificate `<name>.pem` signed by the CA, with extra extension lines.
fn leaf(d: &Path, name: &str, cn: &str, extensions: &str) {
    let ext = format!(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}\n"
    );
    let ext_file = d.join(format!("{name}.ext"));
    std::fs::write(&ext_file, ext).unwrap_or_else(|e| panic!("{}: {e}", ext_file.display()));
    let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN={cn}"),
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "2",
            "-extfile",
            &format!("{name}.ext"),
        ],
    );
}

/// Runs `openssl` in `dir`; panics with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run openssl ({e}): install the Debian package `openssl`")
    });
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_are_pem() {
        let c = generate();
        for f in [&c.ca, &c.server_cert, &c.client_cert] {
            let text = std::fs::read_to_string(f).expect("readable");
            assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{}", f.display());
        }
        for f in [&c.server_key, &c.client_key] {
            let text = std::fs::read_to_string(f).expect("readable");
            assert!(text.contains("PRIVATE KEY-----"), "{}", f.display());
        }
    }
}
