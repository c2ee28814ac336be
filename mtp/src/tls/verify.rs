//! Certificate checks the stock rustls verifiers do not make: a router whose clock is not set
//! yet (TR-369 R-SEC.19, R-MTP.2/3), and the Endpoint ID a certificate carries (R-SEC.0a).
//!
//! # Before the time is known
//!
//! Routers without a battery-backed clock boot in 1970 (or, on OpenWrt, at the newest file
//! time under `/etc`) and learn the time from NTP later. TR-369 R-SEC.19: an Agent that
//! contacts a Controller before it has accurate absolute time "MUST ignore those components of
//! the Controller certificate that involve absolute time"; R-SEC.20: once it has the time it
//! MUST check them. This module treats the clock as not known while it reads before
//! [`CLOCK_KNOWN_AFTER`] (2025-01-01, earlier than any build of this agent): a certificate
//! refused only as "not valid yet" is then verified again, completely (chain, signatures,
//! name, usage), at its own notBefore time (an "expired" one at its notAfter), so only the
//! dates are ignored. With a clock past that date every check applies as usual.
//!
//! Never does: decide what an Endpoint ID may do, or pick trust anchors (the parent module).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

/// Before this time (2025-01-01T00:00:00Z, in seconds since 1970) the clock counts as not set.
pub const CLOCK_KNOWN_AFTER: u64 = 1_735_689_600;

/// The subjectAltName URI prefix of an Endpoint ID (R-SEC.0a).
pub const USP_ID_URN: &str = "urn:bbf:usp:id:";

/// Whether `now` is a time the clock can be trusted to know.
pub fn clock_known(now: UnixTime) -> bool {
    now.as_secs() >= CLOCK_KNOWN_AFTER
}

/// Runs `verify` at `now`; while the clock is not known, a "not valid yet" refusal is followed
/// by a complete verification at the notBefore it names (a few times, for a chain whose
/// certificates start at different times).
fn at_known_time<T>(
    now: UnixTime,
    mut verify: impl FnMut(UnixTime) -> Result<T, rustls::Error>,
) -> Result<T, rustls::Error> {
    let mut at = now;
    for _ in 0..4 {
        match verify(at) {
            Err(rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext {
                not_before,
                ..
            })) if !clock_known(now) && not_before > at => {
                ignoring_dates(now);
                at = not_before;
            }
            Err(rustls::Error::InvalidCertificate(CertificateError::ExpiredContext {
                not_after,
                ..
            })) if !clock_known(now) && not_after < at => {
                ignoring_dates(now);
                at = not_after;
            }
            other => return other,
        }
    }
    verify(at)
}

fn ignoring_dates(now: UnixTime) {
    log::warn!(
        "TLS: the clock is not set ({}s after 1970): certificate dates ignored (R-SEC.19)",
        now.as_secs()
    );
}

/// The Endpoint IDs a certificate names in its subjectAltName (R-SEC.0a): each URI
/// `urn:bbf:usp:id:<id>` names `<id>` (perhaps wildcarded, see [`crate::endpoint_id`]), each
/// `dNSName` the `fqdn::<name>` Endpoint ID. Empty for a certificate that cannot be parsed or
/// names none.
pub fn endpoint_ids(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok(ee) = webpki::EndEntityCert::try_from(cert) else { return Vec::new() };
    let urns = ee
        .valid_uri_names()
        .filter_map(|uri| uri.strip_prefix(USP_ID_URN))
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    let fqdns = ee.valid_dns_names().filter_map(crate::endpoint_id::fqdn_endpoint_id);
    urns.chain(fqdns).collect()
}

/// The server verifier: rustls's WebPKI verifier with the clock rule above.
#[derive(Debug)]
pub(super) struct Server(pub(super) Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for Server {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        at_known_time(now, |t| {
            self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, t)
        })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// The client-certificate verifier: rustls's WebPKI one with the clock rule above.
#[derive(Debug)]
pub(super) struct Client(pub(super) Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for Client {
    fn offer_client_auth(&self) -> bool {
        self.0.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.0.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        at_known_time(now, |t| self.0.verify_client_cert(end_entity, intermediates, t))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
