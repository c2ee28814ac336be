//! TLS for every MTP: rustls with the ring provider, TLS 1.2 and 1.3 (TR-369 requires ≥ 1.2).
//!
//! Trust anchors come from PEM files, never from a compiled-in bundle: a configured file, else
//! the system bundle (OpenWrt's `ca-bundle` and Debian's `ca-certificates` both install
//! [`SYSTEM_BUNDLES`]`[0]`). Skipping server verification exists only as the explicit
//! [`ClientTls::insecure_skip_verify`] option, and is logged loudly every time it is used.
//!
//! Certificates are verified by rustls's WebPKI verifiers with one rule added (see `verify`):
//! while the clock is not set (before [`CLOCK_KNOWN_AFTER`]) their dates are ignored
//! (TR-369 R-SEC.19, R-MTP.2/3). The WebSocket server asks for client certificates when it has
//! client CAs and requires one when [`ServerTls::require_client_cert`] is set (R-MTP.1);
//! [`endpoint_ids`] reads the Endpoint ID a certificate carries (R-SEC.0a).

mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::time_provider::{DefaultTimeProvider, TimeProvider};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

pub use verify::{CLOCK_KNOWN_AFTER, USP_ID_URN, clock_known, endpoint_ids};

/// Where the system's CA bundle is looked for, in order.
pub const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
];

/// The client side of TLS: how the agent (or uspctl) checks the server and proves itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTls {
    /// A PEM file of trusted CA certificates; `None` uses the system bundle.
    pub ca_file: Option<PathBuf>,
    /// A PEM client certificate chain and its PEM private key, for mutual TLS.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Accept any server certificate. Only for labs; logged as a warning at every connection.
    pub insecure_skip_verify: bool,
}

/// The server side of TLS (the agent's WebSocket server, uspctl's): its certificate, and
/// optionally the CAs whose client certificates it accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    /// The PEM certificate chain.
    pub cert_file: PathBuf,
    /// The PEM private key.
    pub key_file: PathBuf,
    /// When set, clients may present a certificate from these CAs (it is checked when given,
    /// not required unless `require_client_cert`).
    pub client_ca_file: Option<PathBuf>,
    /// Every client must present a certificate from `client_ca_file` (the system bundle when
    /// that is `None`), TR-369 R-MTP.1; its Endpoint ID, when it names one, must be the
    /// session's.
    pub require_client_cert: bool,
}

/// Why a TLS configuration could not be built.
#[derive(Debug)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No trusted certificate was found (no usable CA file and no system bundle).
    NoTrustAnchors,
    /// rustls refused the configuration (e.g. a key that does not match its certificate).
    Rustls(rustls::Error),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Pem { path, reason } => write!(f, "{}: {reason}", path.display()),
            TlsError::NoTrustAnchors => {
                write!(f, "no trusted CA certificates (looked in {})", SYSTEM_BUNDLES.join(", "))
            }
            TlsError::Rustls(e) => write!(f, "TLS configuration refused: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

impl From<rustls::Error> for TlsError {
    fn from(e: rustls::Error) -> TlsError {
        TlsError::Rustls(e)
    }
}

/// The ring provider every configuration uses.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |reason: String| TlsError::Pem { path: path.to_owned(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem("no certificate in the file".into()));
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| TlsError::Pem { path: path.to_owned(), reason: e.to_string() })
}

/// The trust anchors: `ca_file`, else the first system bundle that exists.
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let certs = match ca_file {
        Some(path) => load_certs(path)?,
        None => {
            let found = SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file());
            load_certs(found.ok_or(TlsError::NoTrustAnchors)?)?
        }
    };
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(certs);
    if ignored > 0 {
        log::warn!("TLS: {ignored} unusable CA certificate(s) ignored");
    }
    if added == 0 {
        return Err(TlsError::NoTrustAnchors);
    }
    Ok(roots)
}

/// A rustls client configuration for `tls`.
pub fn client_config(tls: &ClientTls) -> Result<Arc<ClientConfig>, TlsError> {
    client_config_with(tls, Arc::new(DefaultTimeProvider))
}

/// [`client_config`] with another clock (tests of a router whose clock is not set).
pub fn client_config_with(
    tls: &ClientTls,
    clock: Arc<dyn TimeProvider>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let builder = ClientConfig::builder_with_details(provider(), clock)
        .with_safe_default_protocol_versions()?;
    let builder = if tls.insecure_skip_verify {
        log::warn!("TLS: server certificate verification is DISABLED (insecure option)");
        builder.dangerous().with_custom_certificate_verifier(Arc::new(NoVerification(provider())))
    } else {
        let roots = Arc::new(root_store(tls.ca_file.as_deref())?);
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
        builder.dangerous().with_custom_certificate_verifier(Arc::new(verify::Server(webpki)))
    };
    let config = match &tls.client_cert {
        Some((cert, key)) => builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// A rustls server configuration for `tls`.
pub fn server_config(tls: &ServerTls) -> Result<Arc<ServerConfig>, TlsError> {
    server_config_with(tls, Arc::new(DefaultTimeProvider))
}

/// [`server_config`] with another clock (tests of a router whose clock is not set).
pub fn server_config_with(
    tls: &ServerTls,
    clock: Arc<dyn TimeProvider>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let builder = ServerConfig::builder_with_details(provider(), clock)
        .with_safe_default_protocol_versions()?;
    let builder = if tls.client_ca_file.is_some() || tls.require_client_cert {
        let roots = Arc::new(root_store(tls.client_ca_file.as_deref())?);
        let webpki = rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider());
        let webpki = if tls.require_client_cert { webpki } else { webpki.allow_unauthenticated() };
        let webpki =
            webpki.build().map_err(|e| TlsError::Rustls(rustls::Error::General(e.to_string())))?;
        builder.with_client_cert_verifier(Arc::new(verify::Client(webpki)))
    } else {
        builder.with_no_client_auth()
    };
    let config = builder.with_single_cert(load_certs(&tls.cert_file)?, load_key(&tls.key_file)?)?;
    Ok(Arc::new(config))
}

/// The server name to verify for `host` (a DNS name or an IP address).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_owned())
        .map_err(|e| TlsError::Rustls(rustls::Error::General(format!("bad host {host:?}: {e}"))))
}

/// The verifier behind `insecure_skip_verify`: accepts any certificate but still checks the
/// handshake signatures (so the session keys are bound to the certificate presented).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn missing_and_empty_files_are_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let e = load_certs(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a pem\n").unwrap();
        let e = root_store(Some(&empty)).unwrap_err().to_string();
        assert!(e.contains("no certificate"), "{e}");
        let e = load_key(&empty).unwrap_err().to_string();
        assert!(e.contains("empty.pem"), "{e}");
    }

    #[test]
    fn the_insecure_option_builds_without_trust_anchors() {
        let tls = ClientTls {
            ca_file: Some("/nonexistent".into()),
            insecure_skip_verify: true,
            ..ClientTls::default()
        };
        assert!(client_config(&tls).is_ok());
    }

    #[test]
    fn server_names_accept_hosts_and_addresses() {
        assert!(server_name("broker.example.com").is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("not a host!").is_err());
    }
}
