//! Tests of the option 125 codec and of its application to the Controller table (TP-469 8.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::testutil::*;
use crate::{AgentIdentity, builtin};

/// Option 125 with a foreign element first, then the BBF element with `subs`.
fn option(subs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut bbf = Vec::new();
    for (code, value) in subs {
        bbf.push(*code);
        bbf.push(value.len() as u8);
        bbf.extend_from_slice(value);
    }
    let mut out = vec![0, 0, 0, 9, 2, 0xaa, 0xbb];
    out.extend_from_slice(&BBF_ENTERPRISE.to_be_bytes());
    out.push(bbf.len() as u8);
    out.extend(bbf);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn decodes_the_bbf_sub_options_as_strings() {
    let bytes = option(&[
        (25, b"wss://acs.example.net:8443/usp"),
        (26, b"PC-1\0"),
        (27, b"7"),
        (28, b"3000"),
        (29, b"proto::ctl-dhcp"),
        (99, b"ignored"),
    ]);
    let c = decode(&from_hex(&hex(&bytes)).unwrap()).unwrap();
    assert_eq!(c.url.as_deref(), Some("wss://acs.example.net:8443/usp"));
    assert_eq!(c.provisioning_code.as_deref(), Some("PC-1"), "the NUL is not part of it");
    assert_eq!(c.retry_min_wait.as_deref(), Some("7"));
    assert_eq!(c.retry_multiplier.as_deref(), Some("3000"));
    assert_eq!(c.endpoint_id.as_deref(), Some("proto::ctl-dhcp"));
}

#[test]
fn broken_options_are_refused() {
    assert_eq!(from_hex("abc"), Err(DhcpError::Hex));
    assert_eq!(from_hex("zz"), Err(DhcpError::Hex));
    let good = option(&[(29, b"a::b")]);
    for cut in 1..good.len() {
        assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
    }
    assert_eq!(decode(&[0, 0, 0, 9, 1, 0]), Err(DhcpError::NoBbfElement));
    assert_eq!(decode(&option(&[(26, &[0xff, 0xfe])])), Err(DhcpError::NotText(26)));
}

/// The number of rows of the table `obj` (a schema path) under `parent`.
fn rows(t: &mut Lab, obj: &str, parent: &[u32]) -> usize {
    let obj = t.dm.schema().obj_by_path(obj).unwrap();
    t.dm.row_numbers(obj, parent).len()
}

const CONTROLLERS: &str = "Device.LocalAgent.Controller.{i}.";
const MTPS: &str = "Device.LocalAgent.Controller.{i}.MTP.{i}.";

fn lab() -> Lab {
    let mut t = Lab::new(builtin(&AgentIdentity::default()));
    t.who = usp_datamodel::plugin::Requester::Internal;
    t
}

#[test]
fn tp469_8_2_dhcp_options_configure_a_controller() {
    let mut t = lab();
    let c = decode(&option(&[
        (25, b"wss://acs.example.net:8443/usp"),
        (26, b"PC-1"),
        (27, b"7"),
        (28, b"3000"),
        (29, b"proto::ctl-dhcp"),
    ]))
    .unwrap();
    let row = apply(&mut t.dm, &c).unwrap();
    assert_eq!(row, "Device.LocalAgent.Controller.1.");
    assert_eq!(t.get(&format!("{row}EndpointID")), "proto::ctl-dhcp");
    assert_eq!(t.get(&format!("{row}ProvisioningCode")), "PC-1");
    assert_eq!(t.get(&format!("{row}USPNotifRetryMinimumWaitInterval")), "7");
    assert_eq!(t.get(&format!("{row}USPNotifRetryIntervalMultiplier")), "3000");
    assert_eq!(t.get(&format!("{row}AssignedRole")), "", "no trust given by DHCP");
    let ws = format!("{row}MTP.1.WebSocket.");
    assert_eq!(t.get(&format!("{row}MTP.1.Protocol")), "WebSocket");
    assert_eq!(t.get(&format!("{ws}Host")), "acs.example.net");
    assert_eq!(t.get(&format!("{ws}Port")), "8443");
    assert_eq!(t.get(&format!("{ws}Path")), "/usp");
    assert_eq!(t.get(&format!("{ws}EnableEncryption")), "true");
    // A renewal with other values updates the same rows.
    let again = DhcpController {
        url: Some("ws://10.0.0.1/ctl".into()),
        provisioning_code: Some("PC-2".into()),
        ..c
    };
    assert_eq!(apply(&mut t.dm, &again).unwrap(), row);
    assert_eq!(t.get(&format!("{row}ProvisioningCode")), "PC-2");
    assert_eq!(t.get(&format!("{ws}Port")), "80");
    assert_eq!(t.get(&format!("{ws}EnableEncryption")), "false");
    assert_eq!(rows(&mut t, CONTROLLERS, &[]), 1);
    assert_eq!(rows(&mut t, MTPS, &[1]), 1);
}

#[test]
fn bad_values_change_nothing() {
    let mut t = lab();
    let no_eid = DhcpController { provisioning_code: Some("x".into()), ..Default::default() };
    assert_eq!(apply(&mut t.dm, &no_eid).unwrap_err().code, ErrorCode::InvalidArguments);
    let bad = DhcpController {
        endpoint_id: Some("proto::x".into()),
        retry_min_wait: Some("not a number".into()),
        ..Default::default()
    };
    assert!(apply(&mut t.dm, &bad).is_err());
    assert_eq!(rows(&mut t, CONTROLLERS, &[]), 0, "the transaction was undone");
    let mqtt = DhcpController {
        endpoint_id: Some("proto::y".into()),
        url: Some("mqtt://broker".into()),
        ..Default::default()
    };
    assert_eq!(apply(&mut t.dm, &mqtt).unwrap(), "Device.LocalAgent.Controller.1.");
    assert_eq!(rows(&mut t, MTPS, &[1]), 0, "only WebSocket URLs are applied");
}

#[test]
fn a_missing_or_broken_file_changes_nothing() {
    let mut t = lab();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("opt125");
    assert_eq!(apply_file(&mut t.dm, &file), None);
    std::fs::write(&file, "00 11 zz").unwrap();
    assert_eq!(apply_file(&mut t.dm, &file), None);
    std::fs::write(&file, hex(&option(&[(29, b"proto::f")])) + "\n").unwrap();
    assert_eq!(apply_file(&mut t.dm, &file).as_deref(), Some("Device.LocalAgent.Controller.1."));
}
