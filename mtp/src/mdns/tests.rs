//! The DNS codec, the answers (TP-469 8.5–8.7: per-MTP records, DNS-SD content, queries
//! answered), controllers learnt, and the responder thread over UDP on 127.0.0.1 (unicast
//! queries: no multicast on the test machine's LAN).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::codec::{TYPE_A, TYPE_PTR, TYPE_SRV};
use super::*;

const EID: &str = "os::012345-MDNS.1";

fn advert(service: &str, port: u16) -> Advert {
    Advert {
        service: service.into(),
        instance: EID.into(),
        host: "router".into(),
        addr: Ipv4Addr::new(192, 0, 2, 1),
        port,
        txt: vec!["path=/usp".into(), "name=Living room".into(), "encrypt".into()],
    }
}

fn query(id: u16, qname: &str, qtype: u16) -> Message {
    let q = Question { name: name(qname), qtype };
    Message { id, questions: vec![q], ..Message::default() }
}

#[test]
fn messages_round_trip_and_garbage_is_refused() {
    let adverts = [advert("_usp-agt-ws._tcp", 8080)];
    let reply = answer(&query(7, "_usp-agt-ws._tcp.local", TYPE_PTR), &adverts).unwrap();
    let bytes = reply.encode().unwrap();
    assert_eq!(Message::decode(&bytes).unwrap(), reply);
    for cut in 0..bytes.len() {
        assert!(Message::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // A pointer loop and a forward pointer are refused, not followed.
    let mut looped = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    looped.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1]);
    assert!(Message::decode(&looped).is_err());
    let long = Advert { instance: "x".repeat(64), ..advert("_usp-agt-ws._tcp", 1) };
    let reply = answer(&query(0, "_usp-agt-ws._tcp.local", TYPE_PTR), &[long]).unwrap();
    assert!(reply.encode().is_err(), "a label over 63 bytes");
}

#[test]
fn tp469_8_6_dns_sd_records_name_the_endpoint_with_path_and_name() {
    let adverts = [advert("_usp-agt-ws._tcp", 8080), advert("_usp-agt-mqtt._tcp", 1883)];
    let reply = answer(&query(0, "_usp-agt-ws._tcp.local", TYPE_PTR), &adverts).unwrap();
    let instance = vec![EID.to_owned(), "_usp-agt-ws".into(), "_tcp".into(), "local".into()];
    assert_eq!(reply.answers.len(), 1, "only the WebSocket service");
    assert_eq!(reply.answers[0].data, RData::Ptr(instance.clone()));
    let srv = reply.additional.iter().find(|r| matches!(r.data, RData::Srv { .. })).unwrap();
    assert_eq!(srv.name, instance);
    assert_eq!(srv.data, RData::Srv { port: 8080, target: name("router.local") });
    let txt = reply.additional.iter().find_map(|r| match &r.data {
        RData::Txt(t) => Some(t.clone()),
        _ => None,
    });
    assert_eq!(txt.unwrap(), ["path=/usp", "name=Living room", "encrypt"]);
    assert!(reply.additional.iter().any(|r| r.data == RData::A(Ipv4Addr::new(192, 0, 2, 1))));
}

#[test]
fn tp469_8_5_each_mtp_has_its_own_records() {
    let adverts = [advert("_usp-agt-ws._tcp", 8080), advert("_usp-agt-mqtt._tcp", 1883)];
    let mqtt = answer(&query(0, "_USP-AGT-MQTT._tcp.local", TYPE_PTR), &adverts).unwrap();
    assert_eq!(mqtt.answers.len(), 1, "names compare without case");
    assert!(answer(&query(0, "x.local", TYPE_PTR), &adverts).is_none(), "other names: nothing");
    let mut q = query(0, "", TYPE_SRV);
    q.questions[0].name = vec![EID.into(), "_usp-agt-mqtt".into(), "_tcp".into(), "local".into()];
    let r = answer(&q, &adverts).unwrap();
    assert_eq!(r.answers.len(), 1);
    assert_eq!(r.answers[0].data, RData::Srv { port: 1883, target: name("router.local") });
    let a = answer(&query(0, "router.local", TYPE_A), &adverts).unwrap();
    assert_eq!(a.answers[0].data, RData::A(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(answer(&query(0, "_usp-agt-stomp._tcp.local", TYPE_PTR), &adverts).is_none());
}

/// A controller's answer, as another endpoint would send it.
fn controller_answer() -> Message {
    let ctl = Advert {
        service: "_usp-ctr-ws._tcp".into(),
        instance: "proto::ctl".into(),
        host: "ctl-host".into(),
        addr: Ipv4Addr::new(127, 0, 0, 1),
        port: 9443,
        txt: vec!["path=/usp".into(), "encrypt".into()],
    };
    answer(&query(0, "_usp-ctr-ws._tcp.local", TYPE_PTR), &[ctl]).unwrap()
}

#[test]
fn controllers_are_learnt_from_ptr_srv_and_txt() {
    let found = controllers_in(&controller_answer());
    assert_eq!(
        found,
        vec![Discovered {
            endpoint_id: "proto::ctl".into(),
            service: "_usp-ctr-ws._tcp".into(),
            host: "ctl-host.local".into(),
            addr: Some(Ipv4Addr::new(127, 0, 0, 1)),
            port: 9443,
            path: Some("/usp".into()),
            encrypt: true,
        }]
    );
    let agents =
        answer(&query(0, "_usp-agt-ws._tcp.local", TYPE_PTR), &[advert("_usp-agt-ws._tcp", 1)]);
    assert!(controllers_in(&agents.unwrap()).is_empty(), "agents are not controllers");
}

#[test]
fn tp469_8_7_the_responder_answers_queries_and_learns_controllers() {
    let any = "127.0.0.1:0".parse().unwrap();
    let mut r =
        Responder::spawn(any, Ipv4Addr::LOCALHOST, vec![advert("_usp-agt-ws._tcp", 8080)]).unwrap();
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // Garbage first: the responder keeps serving.
    client.send_to(b"\x00\x01garbage", r.local_addr()).unwrap();
    let q = query(0x1234, "_usp-agt-ws._tcp.local", TYPE_PTR);
    client.send_to(&q.encode().unwrap(), r.local_addr()).unwrap();
    let mut buf = [0u8; 2048];
    let (n, from) = client.recv_from(&mut buf).unwrap();
    assert_eq!(from, r.local_addr());
    let reply = Message::decode(&buf[..n]).unwrap();
    assert_eq!((reply.id, reply.questions.len()), (0x1234, 1), "legacy unicast echoes the query");
    assert!(matches!(&reply.answers[0].data, RData::Ptr(i) if i[0] == EID));
    client.send_to(&controller_answer().encode().unwrap(), r.local_addr()).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while r.learnt().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(r.learnt()[0].endpoint_id, "proto::ctl");
    r.stop();
}
