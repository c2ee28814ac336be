//! Test certificates: a private CA with a server certificate (for `localhost` and `127.0.0.1`)
//! and a client certificate, written as PEM files into a temporary directory.
//!
//! Generated in-process with rcgen (ring backend, ECDSA P-256) rather than with the `openssl`
//! command: no external program to install or to call with the right flags on each
//! distribution, and a few milliseconds per set. Never used by shipped code.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// One generated PKI; the files live as long as this value.
#[derive(Debug)]
pub struct TestPki {
    dir: tempfile::TempDir,
    /// The CA certificate (PEM): the trust anchor for both sides.
    pub ca: PathBuf,
    /// The server certificate (PEM), for `localhost` and `127.0.0.1`, signed by the CA.
    pub server_cert: PathBuf,
    /// The server's private key (PKCS#8 PEM).
    pub server_key: PathBuf,
    /// A client certificate (PEM) signed by the CA, common name `client_cn`.
    pub client_cert: PathBuf,
    /// The client's private key (PKCS#8 PEM).
    pub client_key: PathBuf,
}

impl TestPki {
    /// Generates a fresh CA (named `ca_name`) with a server and a client certificate. Panics
    /// (it is test code) when generation or writing fails.
    pub fn generate(ca_name: &str, client_cn: &str) -> TestPki {
        TestPki::generate_with(ca_name, client_cn, &LeafSpec::default())
    }

    /// [`TestPki::generate`] with the client certificate's Endpoint ID and both leaves'
    /// validity chosen by `spec`.
    pub fn generate_with(ca_name: &str, client_cn: &str, spec: &LeafSpec) -> TestPki {
        let dir = tempfile::tempdir().expect("temporary directory for test certificates");
        let ca = ca(ca_name);
        let server = leaf(&ca, "localhost", &["localhost", "127.0.0.1"], true, spec);
        let client = leaf(&ca, client_cn, &[], false, spec);
        let write = |name: &str, pem: &str| -> PathBuf {
            let p = dir.path().join(name);
            std::fs::write(&p, pem).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
            p
        };
        TestPki {
            ca: write("ca.pem", &ca.pem()),
            server_cert: write("server.pem", &server.0),
            server_key: write("server.key", &server.1),
            client_cert: write("client.pem", &client.0),
            client_key: write("client.key", &client.1),
            dir,
        }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// Options of the leaf certificates of [`TestPki::generate_with`].
#[derive(Clone, Debug, Default)]
pub struct LeafSpec {
    /// The client certificate's Endpoint ID, as TR-369 R-SEC.0a puts it in the
    /// subjectAltName: a `uniformResourceIdentifier` `urn:bbf:usp:id:<endpoint id>`.
    pub client_endpoint_id: Option<String>,
    /// A `dNSName` in the client certificate's subjectAltName (R-SEC.0a: how an Endpoint ID
    /// `fqdn::<name>` is named).
    pub client_dns_name: Option<String>,
    /// The leaves are valid from January 1st of this year (rcgen's default: 1975).
    pub not_before_year: Option<i32>,
    /// The leaves are valid until January 1st of this year (rcgen's default: 4096).
    pub not_after_year: Option<i32>,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("CA key");
    CertifiedIssuer::self_signed(params, key).expect("self-signed CA certificate")
}

/// A certificate and its key, both PEM.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    cn: &str,
    names: &[&str],
    server: bool,
    spec: &LeafSpec,
) -> (String, String) {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    if let (false, Some(dns)) = (server, &spec.client_dns_name) {
        names.push(dns.clone());
    }
    let mut params = CertificateParams::new(names).expect("certificate parameters");
    if let (false, Some(eid)) = (server, &spec.client_endpoint_id) {
        let uri = format!("urn:bbf:usp:id:{eid}").try_into().expect("an IA5 string");
        params.subject_alt_names.push(rcgen::SanType::URI(uri));
    }
    if let Some(year) = spec.not_before_year {
        params.not_before = rcgen::date_time_ymd(year, 1, 1);
    }
    if let Some(year) = spec.not_after_year {
        params.not_after = rcgen::date_time_ymd(year, 1, 1);
    }
    params.distinguished_name.push(DnType::CommonName, cn);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, ca).expect("CA-signed certificate");
    (cert.pem(), key.serialize_pem())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_five_pem_files() {
        let pki = TestPki::generate("Test CA", "client-1");
        for (p, tag) in [
            (&pki.ca, "CERTIFICATE"),
            (&pki.server_cert, "CERTIFICATE"),
            (&pki.server_key, "PRIVATE KEY"),
            (&pki.client_cert, "CERTIFICATE"),
            (&pki.client_key, "PRIVATE KEY"),
        ] {
            let text = std::fs::read_to_string(p).expect("readable");
            assert!(text.starts_with(&format!("-----BEGIN {tag}-----")), "{}", p.display());
            assert!(p.starts_with(pki.dir()));
        }
        // Two PKIs never share a CA.
        let other = TestPki::generate("Test CA", "client-1");
        assert_ne!(
            std::fs::read(&pki.ca).expect("ca"),
            std::fs::read(&other.ca).expect("other ca")
        );
    }
}
