//! The WebSocket links over TLS (rustls on both sides) with a private test CA: mutual TLS,
//! Records large enough to fill the socket buffers both ways, and a client that does not trust
//! the server.
#![allow(clippy::unwrap_used)]

mod ws_common;

use usp_mtp::tls::{ClientTls, ServerTls};
use usp_mtp::ws::{spawn_client, spawn_server};
use usp_mtp::{Link, MtpEvent, Outbound};
use usp_testkit::certs::TestPki;
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
    });
    let (ssink, _sev) = sink();
    let err = spawn_server(1, config, ssink).err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("missing.key"), "{err}");
}
