//! TP-469 2.6 (connect without absolute time) and TR-369 R-SEC.19/20: mutual TLS between the
//! agent's rustls configurations on 127.0.0.1, with the test CA's certificates, under a clock
//! that is not set (1970, as a router without a real-time clock boots) and one that is.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::UnixTime;
use rustls::time_provider::TimeProvider;
use usp_mtp::tls::{self, ClientTls, ServerTls};
use usp_testkit::certs::{LeafSpec, TestPki};

/// A clock stopped at `0` seconds after 1970.
#[derive(Debug)]
struct At(u64);

impl TimeProvider for At {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_secs(self.0)))
    }
}

/// Ten minutes after boot on a router without a clock.
const BOOT_1970: u64 = 600;
/// 2030-01-01.
const KNOWN: u64 = 1_893_456_000;

/// One byte each way over mutual TLS (client certificates required), both sides at `clock`;
/// the client trusts `client_ca`. `Err` with the client's error when it fails.
fn exchange(certs: &TestPki, client_ca: &std::path::Path, clock: u64) -> Result<(), String> {
    let server = ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        client_ca_file: Some(certs.ca.clone()),
        require_client_cert: true,
    };
    let server = tls::server_config_with(&server, Arc::new(At(clock))).unwrap();
    let client = ClientTls {
        ca_file: Some(client_ca.to_owned()),
        client_cert: Some((certs.client_cert.clone(), certs.client_key.clone())),
        insecure_skip_verify: false,
    };
    let client = tls::client_config_with(&client, Arc::new(At(clock))).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = std::thread::spawn(move || -> Result<(), String> {
        let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = rustls::ServerConnection::new(server).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);
        let mut b = [0u8; 1];
        s.read_exact(&mut b).map_err(|e| e.to_string())?;
        s.write_all(&b).map_err(|e| e.to_string())
    });
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let conn = rustls::ClientConnection::new(client, tls::server_name("localhost").unwrap());
    let mut s = rustls::StreamOwned::new(conn.unwrap(), tcp);
    let result = s.write_all(b"x").and_then(|()| {
        let mut b = [0u8; 1];
        s.read_exact(&mut b)
    });
    drop(s);
    let served = served.join().unwrap();
    result.map_err(|e| e.to_string())?;
    served.map_err(|e| format!("server: {e}"))
}

/// 2024-06-01: a clock that runs, but before [`tls::CLOCK_KNOWN_AFTER`] (not trusted).
const UNSET_2024: u64 = 1_717_200_000;

#[test]
fn tp469_2_6_connect_without_absolute_time() {
    // rcgen's certificates are valid from 1975: not yet valid for a router booting in 1970.
    let certs = TestPki::generate("Clock test CA", "controller");
    exchange(&certs, &certs.ca, BOOT_1970).unwrap();
    exchange(&certs, &certs.ca, KNOWN).unwrap();
    // The plan's case: expired certificates (2020–2021), the clock not set.
    let spec =
        LeafSpec { not_before_year: Some(2020), not_after_year: Some(2021), ..LeafSpec::default() };
    let expired = TestPki::generate_with("Clock test CA", "controller", &spec);
    exchange(&expired, &expired.ca, BOOT_1970).unwrap();
    exchange(&expired, &expired.ca, UNSET_2024).unwrap();
}

/// TP-469 2.8 at the MTP layer: with absolute time, an expired certificate is refused.
#[test]
fn tp469_2_8_an_expired_certificate_is_refused_once_the_time_is_known() {
    let spec =
        LeafSpec { not_before_year: Some(2020), not_after_year: Some(2021), ..LeafSpec::default() };
    let expired = TestPki::generate_with("Clock test CA", "controller", &spec);
    let e = exchange(&expired, &expired.ca, KNOWN).unwrap_err();
    assert!(e.to_lowercase().contains("expired"), "{e}");
}

/// R-SEC.20: once the clock is set, dates are checked: certificates valid from 2099 are refused
/// in 2030, and taken in 1970 (the clock is not set: dates ignored).
#[test]
fn a_set_clock_checks_the_certificate_dates() {
    let spec = LeafSpec { not_before_year: Some(2099), ..LeafSpec::default() };
    let certs = TestPki::generate_with("Clock test CA", "controller", &spec);
    let e = exchange(&certs, &certs.ca, KNOWN).unwrap_err();
    assert!(e.to_lowercase().contains("valid"), "{e}");
    exchange(&certs, &certs.ca, BOOT_1970).unwrap();
}

/// Only the dates are ignored without a clock: a server certificate from a CA the client does
/// not trust is still refused.
#[test]
fn without_a_clock_an_untrusted_certificate_is_still_refused() {
    let certs = TestPki::generate("Clock test CA", "controller");
    let other = TestPki::generate("Another CA", "controller");
    let e = exchange(&certs, &other.ca, BOOT_1970).unwrap_err();
    assert!(e.to_lowercase().contains("issuer") || e.contains("Unknown"), "{e}");
}

#[test]
fn the_endpoint_id_is_read_from_the_subject_alt_name() {
    let spec =
        LeafSpec { client_endpoint_id: Some("os::012345-ctrl".into()), ..LeafSpec::default() };
    let certs = TestPki::generate_with("Clock test CA", "controller", &spec);
    let cert = tls::load_certs(&certs.client_cert).unwrap().remove(0);
    assert_eq!(tls::endpoint_ids(&cert), vec!["os::012345-ctrl".to_owned()]);
    let server = tls::load_certs(&certs.server_cert).unwrap().remove(0);
    // A dNSName names the fqdn Endpoint ID (R-SEC.0a); the IP address names none.
    assert_eq!(tls::endpoint_ids(&server), vec!["fqdn::localhost".to_owned()]);
}
