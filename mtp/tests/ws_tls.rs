//! The WebSocket links over TLS (rustls on both sides) with a private test CA: mutual TLS,
//! Records large enough to fill the socket buffers both ways, and a client that does not trust
//! the server.
#![allow(clippy::unwrap_used)]

mod ws_common;

use usp_mtp::tls::{ClientTls, ServerTls};
use usp_mtp::ws::{spawn_client, spawn_server};
use usp_mtp::{Link, MtpEvent, Outbound};
use usp_testkit::certs::{LeafSpec, TestPki};
use ws_common::*;

fn to(dest: &str, record: Vec<u8>) -> Outbound {
    Outbound { dest: dest.to_owned(), record, retain: false }
}

#[test]
fn tls_on_both_sides_with_a_test_ca() {
    let certs = TestPki::generate("WebSocket test CA", "client");
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.tls = Some(ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        client_ca_file: Some(certs.ca.clone()),
        require_client_cert: false,
    });
    let mut server = spawn_server(1, config, ssink).unwrap();
    let port = server.local_addrs()[0].port();

    let (csink, cev) = sink();
    let mut config = client_config("os::secure", port);
    config.host = "localhost".into();
    config.tls = Some(ClientTls {
        ca_file: Some(certs.ca.clone()),
        client_cert: Some((certs.client_cert.clone(), certs.client_key.clone())),
        insecure_skip_verify: false,
    });
    let mut client = spawn_client(2, config, csink);
    cev.up();
    sev.up();

    // Small and multi-megabyte Records both ways: partial writes, TLS records split across
    // reads, several Records in one read.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    for record in [b"\x00small".to_vec(), big.clone(), b"after".to_vec()] {
        client.send(to("", record.clone())).unwrap();
        assert_eq!(sev.record(), (Some("os::secure".into()), record.clone()));
        server.send(to("os::secure", record.clone())).unwrap();
        assert_eq!(cev.record().1, record);
    }
    for i in 0..20u8 {
        client.send(to("", vec![i; 100])).unwrap();
    }
    for i in 0..20u8 {
        assert_eq!(sev.record().1, vec![i; 100]);
    }
    client.stop();
    server.stop();
}

#[test]
fn a_client_that_does_not_trust_the_server_certificate_does_not_connect() {
    let certs = TestPki::generate("WebSocket test CA", "client");
    let other = TestPki::generate("WebSocket test CA", "client");
    let (ssink, _sev) = sink();
    let mut config = server_config(0);
    config.tls = Some(ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        client_ca_file: None,
        require_client_cert: false,
    });
    let mut server = spawn_server(1, config, ssink).unwrap();
    let (csink, cev) = sink();
    let mut config = client_config("os::wary", server.local_addrs()[0].port());
    config.host = "localhost".into();
    config.tls = Some(ClientTls { ca_file: Some(other.ca.clone()), ..ClientTls::default() });
    let mut client = spawn_client(2, config, csink);
    let down = cev.down();
    assert!(
        matches!(&down, MtpEvent::Down { reason, retry_in: Some(_), .. }
            if reason.to_lowercase().contains("certificate")),
        "{down:?}"
    );
    assert!(!client.is_connected());
    client.stop();
    server.stop();
}

#[test]
fn a_server_with_a_bad_tls_configuration_is_reported_to_the_caller() {
    let certs = TestPki::generate("WebSocket test CA", "client");
    let mut config = server_config(0);
    config.tls = Some(ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: std::path::PathBuf::from("/nonexistent/missing.key"),
        client_ca_file: None,
        require_client_cert: false,
    });
    let (ssink, _sev) = sink();
    let err = spawn_server(1, config, ssink).err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("missing.key"), "{err}");
}

/// A server requiring client certificates from the test CA (R-MTP.1).
fn requiring_server(certs: &TestPki) -> (usp_mtp::ws::WsServerLink, ws_common::Events, u16) {
    let (ssink, sev) = sink();
    let mut config = server_config(0);
    config.tls = Some(ServerTls {
        cert_file: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        client_ca_file: Some(certs.ca.clone()),
        require_client_cert: true,
    });
    let server = spawn_server(1, config, ssink).unwrap();
    let port = server.local_addrs()[0].port();
    (server, sev, port)
}

/// A client of `port` claiming `eid`, trusting `ca`, presenting `cert` (certificate and key).
fn tls_client(
    eid: &str,
    port: u16,
    ca: &std::path::Path,
    cert: Option<(&std::path::Path, &std::path::Path)>,
) -> (usp_mtp::ws::WsClientLink, ws_common::Events) {
    let (csink, cev) = sink();
    let mut config = client_config(eid, port);
    config.host = "localhost".into();
    config.tls = Some(ClientTls {
        ca_file: Some(ca.to_owned()),
        client_cert: cert.map(|(c, k)| (c.to_owned(), k.to_owned())),
        insecure_skip_verify: false,
    });
    (spawn_client(2, config, csink), cev)
}

/// The client tried and was turned away (`Down`), and the server opened no session.
fn no_session(sev: &ws_common::Events, cev: &ws_common::Events) {
    cev.down();
    let events = sev.during(std::time::Duration::from_millis(500));
    assert!(!events.iter().any(|e| matches!(e, MtpEvent::Up { .. })), "{events:?}");
}

/// TP-469 4.1 / R-MTP.1: with client certificates required, a client without one, or with one
/// from another CA, gets no session; one with the CA's certificate naming its Endpoint ID
/// (subjectAltName `urn:bbf:usp:id:…`) does.
#[test]
fn tp469_4_1_the_server_requires_a_trusted_client_certificate() {
    let eid = "proto::ctrl-cert";
    let spec = LeafSpec { client_endpoint_id: Some(eid.into()), ..LeafSpec::default() };
    let certs = TestPki::generate_with("WebSocket test CA", "controller", &spec);
    let other = TestPki::generate_with("Another CA", "controller", &spec);
    let (mut server, sev, port) = requiring_server(&certs);

    let (mut client, cev) = tls_client(eid, port, &certs.ca, None);
    no_session(&sev, &cev);
    client.stop();
    let foreign = Some((other.client_cert.as_path(), other.client_key.as_path()));
    let (mut client, cev) = tls_client(eid, port, &certs.ca, foreign);
    no_session(&sev, &cev);
    client.stop();

    let own = Some((certs.client_cert.as_path(), certs.client_key.as_path()));
    let (mut client, cev) = tls_client(eid, port, &certs.ca, own);
    cev.up();
    assert!(matches!(sev.up(), MtpEvent::Up { peer: Some(p), .. } if p == eid));
    client.send(to("", b"record".to_vec())).unwrap();
    assert_eq!(sev.record(), (Some(eid.into()), b"record".to_vec()));
    client.stop();
    server.stop();
}

/// R-SEC.0a: a client whose certificate names one Endpoint ID cannot open a session as
/// another; a certificate naming none is refused when certificates are required.
#[test]
fn a_client_certificate_binds_the_session_endpoint_id() {
    let spec = LeafSpec { client_endpoint_id: Some("proto::ctrl-a".into()), ..LeafSpec::default() };
    let certs = TestPki::generate_with("WebSocket test CA", "controller", &spec);
    let (mut server, sev, port) = requiring_server(&certs);
    let own = Some((certs.client_cert.as_path(), certs.client_key.as_path()));
    let (mut client, cev) = tls_client("proto::ctrl-b", port, &certs.ca, own);
    no_session(&sev, &cev);
    client.stop();
    server.stop();

    let plain = TestPki::generate("WebSocket test CA", "controller");
    let (mut server, sev, port) = requiring_server(&plain);
    let own = Some((plain.client_cert.as_path(), plain.client_key.as_path()));
    let (mut client, cev) = tls_client("proto::ctrl-b", port, &plain.ca, own);
    no_session(&sev, &cev);
    client.stop();
    server.stop();
}

/// Whether a client presenting a certificate made with `spec` gets a session as `eid` (the
/// server reports it `Up` within two seconds; a refused client may see its own handshake
/// complete before the server checks the certificate and closes it).
fn session_as(spec: &LeafSpec, eid: &str) -> bool {
    let certs = TestPki::generate_with("WebSocket test CA", "controller", spec);
    let (mut server, sev, port) = requiring_server(&certs);
    let own = Some((certs.client_cert.as_path(), certs.client_key.as_path()));
    let (mut client, _cev) = tls_client(eid, port, &certs.ca, own);
    let events = sev.during(std::time::Duration::from_secs(2));
    client.stop();
    server.stop();
    let ups: Vec<_> = events.iter().filter(|e| matches!(e, MtpEvent::Up { .. })).collect();
    assert!(ups.iter().all(|e| matches!(e, MtpEvent::Up { peer: Some(p), .. } if p == eid)));
    !ups.is_empty()
}

/// R-SEC.11/12: a certificate shared by several endpoints names a wildcarded instance-id; it
/// opens sessions for the IDs it covers, not for others, and a wildcard where R-SEC.12 forbids
/// it (a `self` ID, the OUI of an `os` ID) covers nothing.
#[test]
fn r_sec_11_12_a_wildcarded_certificate_endpoint_id() {
    let shared =
        LeafSpec { client_endpoint_id: Some("os::00256D-*".into()), ..LeafSpec::default() };
    assert!(session_as(&shared, "os::00256D-0123456789"));
    assert!(!session_as(&shared, "os::00256E-0123456789"));
    let bad = LeafSpec { client_endpoint_id: Some("self::*".into()), ..LeafSpec::default() };
    assert!(!session_as(&bad, "self::ctrl"));
    let bad = LeafSpec { client_endpoint_id: Some("os::*-1".into()), ..LeafSpec::default() };
    assert!(!session_as(&bad, "os::00256D-1"));
}

/// R-SEC.0a: for an `fqdn` Endpoint ID the certificate may carry the instance-id as a
/// `dNSName` instead of the URN.
#[test]
fn r_sec_0a_a_dns_name_authenticates_an_fqdn_endpoint_id() {
    let spec = LeafSpec { client_dns_name: Some("ctrl.example.org".into()), ..LeafSpec::default() };
    assert!(session_as(&spec, "fqdn::ctrl.example.org"));
    assert!(!session_as(&spec, "fqdn::other.example.org"));
    assert!(!session_as(&spec, "proto::ctrl.example.org"));
}
