//! Test certificates: a private CA, a server certificate for `localhost` / `127.0.0.1` and a
//! client certificate, made with the `openssl` command-line tool (Debian package `openssl`)
//! into a temporary directory that lives as long as the [`TestCerts`] value.
//!
//! Never used by shipped code; the keys are throw-away.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA with one server and one client certificate (EC P-256, PEM files).
#[derive(Debug)]
pub struct TestCerts {
    /// The CA certificate (the trust anchor to configure on clients and servers).
    pub ca_cert: PathBuf,
    /// The server certificate (subjectAltName `localhost` and `127.0.0.1`), signed by the CA.
    pub server_cert: PathBuf,
    /// The server's private key (PKCS#8).
    pub server_key: PathBuf,
    /// A client certificate (CN `usp-test-client`), signed by the CA.
    pub client_cert: PathBuf,
    /// The client's private key (PKCS#8).
    pub client_key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCerts {
    /// Generates a fresh set. Panics with a clear message when `openssl` is missing or fails.
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
                "3650",
                "-subj",
                "/CN=usp test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        issue(
            d,
            "server",
            "localhost",
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        );
        issue(d, "client", "usp-test-client", "extendedKeyUsage=clientAuth\n");
        TestCerts {
            ca_cert: p("ca.pem"),
            server_cert: p("server.pem"),
            server_key: p("server.key"),
            client_cert: p("client.pem"),
            client_key: p("client.key"),
            _dir: dir,
        }
    }
}

/// Makes `<name>.key` and `<name>.pem` signed by the CA in `dir`, with extra v3 extensions.
fn issue(dir: &Path, name: &str, cn: &str, extensions: &str) {
    let ext =
        format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n{extensions}");
    let ext_file = format!("{name}.ext");
    std::fs::write(dir.join(&ext_file), ext)
        .unwrap_or_else(|e| panic!("cannot write {ext_file}: {e}"));
    let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
    let subj = format!("/CN={cn}");
    openssl(
        dir,
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
            &subj,
        ],
    );
    openssl(
        dir,
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
            "3650",
            "-extfile",
            &ext_file,
        ],
    );
}

/// Runs `openssl` in `dir`; panics naming the package when it is missing, with its output when
/// it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run `openssl` ({e}): install the Debian package `openssl`")
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
    fn the_certificates_chain_to_the_ca() {
        let c = TestCerts::generate();
        for cert in [&c.server_cert, &c.client_cert] {
            let out = Command::new("openssl")
                .arg("verify")
                .arg("-CAfile")
                .arg(&c.ca_cert)
                .arg(cert)
                .output()
                .expect("openssl verify runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let text = Command::new("openssl")
            .args(["x509", "-noout", "-ext", "subjectAltName", "-in"])
            .arg(&c.server_cert)
            .output()
            .expect("openssl x509 runs");
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"), "{text}");
        assert!(std::fs::read_to_string(&c.server_key).expect("key").contains("PRIVATE KEY"));
    }
}
