//! TP-469 8.6/8.7 against the daemon: `uspagent --mdns 127.0.0.1:PORT` answers a DNS-SD query
//! for `_usp-agt-ws._tcp.local` with its WebSocket MTP (instance = Endpoint ID, SRV port, TXT
//! `path=` and `name=`). Unicast on 127.0.0.1 (RFC 6762 legacy unicast): no multicast leaves
//! the machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use usp_mtp::mdns::codec::{Message, Question, RData, TYPE_PTR, name};
use usp_testkit::agent::RunningAgent;
use usp_testkit::free_port;

const AGENT: &str = "os::012345-MDNSD";

#[test]
fn tp469_8_7_the_daemon_answers_dns_sd_queries_for_its_websocket_mtp() {
    let (ws_port, mdns_port) = (free_port(), free_port());
    let reset = format!(
        "Device.LocalAgent.MTP.1.Enable true
Device.LocalAgent.MTP.1.Protocol \"WebSocket\"
Device.LocalAgent.MTP.1.WebSocket.Port {ws_port}
Device.LocalAgent.MTP.1.WebSocket.Path \"/usp\"
Device.LocalAgent.MTP.1.WebSocket.EnableEncryption false
"
    );
    let bind = format!("127.0.0.1:{mdns_port}");
    let agent = RunningAgent::start(&reset, &["--endpoint-id", AGENT, "--mdns", &bind]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let q = Question { name: name("_usp-agt-ws._tcp.local"), qtype: TYPE_PTR };
    let query = Message { id: 9, questions: vec![q], ..Message::default() }.encode().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = [0u8; 4096];
    let reply = loop {
        client.send_to(&query, &bind).unwrap();
        if let Ok((n, _)) = client.recv_from(&mut buf) {
            break Message::decode(&buf[..n]).unwrap();
        }
        assert!(Instant::now() < deadline, "no answer; agent log:\n{}", agent.log());
    };
    let instance = vec![AGENT.to_owned(), "_usp-agt-ws".into(), "_tcp".into(), "local".into()];
    assert_eq!(reply.answers[0].data, RData::Ptr(instance.clone()));
    let srv = reply.additional.iter().find_map(|r| match &r.data {
        RData::Srv { port, .. } if r.name == instance => Some(*port),
        _ => None,
    });
    assert_eq!(srv, Some(ws_port));
    let txt = reply.additional.iter().find_map(|r| match &r.data {
        RData::Txt(t) => Some(t.clone()),
        _ => None,
    });
    let txt = txt.unwrap();
    assert!(txt.contains(&"path=/usp".to_owned()), "{txt:?}");
    assert!(txt.iter().any(|t| t.starts_with("name=")), "{txt:?}");
    assert!(!txt.contains(&"encrypt".to_owned()));
}
