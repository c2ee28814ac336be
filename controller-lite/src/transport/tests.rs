//! Option parsing and the link configurations they make.

#![allow(clippy::unwrap_used)]

use super::*;

fn opts(t: Transport) -> TransportOptions {
    TransportOptions { transport: Some(t), ..TransportOptions::default() }
}

#[test]
fn host_and_port_forms() {
    assert_eq!(parse_host_port("broker").unwrap(), ("broker".into(), None));
    assert_eq!(parse_host_port("broker:1884").unwrap(), ("broker".into(), Some(1884)));
    assert_eq!(parse_host_port("[::1]:1883").unwrap(), ("::1".into(), Some(1883)));
    assert_eq!(parse_host_port("[::1]").unwrap(), ("::1".into(), None));
    assert_eq!(parse_host_port("fe80::1").unwrap(), ("fe80::1".into(), None));
    for bad in ["", ":1883", "h:99999", "h:x", "[::1", "[::1]x"] {
        assert!(parse_host_port(bad).is_err(), "{bad}");
    }
}

#[test]
fn websocket_urls_and_listen_addresses() {
    let u = parse_ws_url("ws://10.0.0.1:5683/usp").unwrap();
    assert_eq!(u, WsUrl { tls: false, host: "10.0.0.1".into(), port: 5683, path: "/usp".into() });
    let u = parse_ws_url("wss://agent.lan").unwrap();
    assert_eq!((u.tls, u.port, u.path.as_str()), (true, 443, "/"));
    assert!(parse_ws_url("http://x").is_err());
    assert_eq!(parse_listen("8080").unwrap(), "0.0.0.0:8080".parse().unwrap());
    assert_eq!(parse_listen("127.0.0.1:9").unwrap(), "127.0.0.1:9".parse().unwrap());
    assert!(parse_listen("nope").is_err());
}

#[test]
fn mqtt_configuration() {
    let mut o = opts(Transport::Mqtt { host: "b".into(), port: None, v5: false });
    o.user = Some("u".into());
    let c = mqtt_config(&o, "self::ctl").unwrap();
    assert_eq!((c.port, c.v5, c.username.as_str()), (1883, false, "u"));
    assert_eq!(c.subscriptions, [("usp/controller/self::ctl".to_owned(), 1)]);
    assert_eq!(c.response_topic, "usp/controller/self::ctl");
    assert!(c.tls.is_none());
    // 3.1.1: a ClientId of our own, not the Endpoint ID another uspctl would use too.
    assert!(c.client_id.starts_with("uspctl") && c.client_id.len() <= 23, "{}", c.client_id);
    assert!(c.client_id.chars().all(|ch| ch.is_ascii_alphanumeric()), "{}", c.client_id);
    let v5 = opts(Transport::Mqtt { host: "b".into(), port: None, v5: true });
    assert_eq!(mqtt_config(&v5, "self::ctl").unwrap().client_id, "", "the broker assigns one");
    o.client_id = Some("lab-1".into());
    assert_eq!(mqtt_config(&o, "self::ctl").unwrap().client_id, "lab-1");
    o.topic = Some("mine".into());
    o.insecure = true;
    let c = mqtt_config(&o, "self::ctl").unwrap();
    assert_eq!((c.port, c.response_topic.as_str()), (8883, "mine"));
    assert!(c.tls.unwrap().insecure_skip_verify);
    o.agent_topic = Some("agent/t".into());
    assert_eq!(o.agent_destination().as_deref(), Some("agent/t"));
}

#[test]
fn stomp_and_websocket_configurations() {
    let o = opts(Transport::Stomp { host: "b".into(), port: Some(7) });
    let c = stomp_config(&o, "self::ctl").unwrap();
    assert_eq!((c.port, c.destination.as_str()), (7, "/queue/uspctl.self::ctl"));
    assert_eq!(c.virtual_host, "", "the link sends the host name");
    let mut o = o;
    o.vhost = Some("/".into());
    assert_eq!(stomp_config(&o, "self::ctl").unwrap().virtual_host, "/");
    let o = opts(Transport::WsClient(parse_ws_url("ws://a:1/p").unwrap()));
    let c = ws_client_config(&o, "self::ctl", Some("os::agent")).unwrap();
    assert_eq!((c.host.as_str(), c.port, c.path.as_str()), ("a", 1, "/p"));
    assert_eq!(c.peer_endpoint_id.as_deref(), Some("os::agent"));
    assert!(c.tls.is_none());
    let o = opts(Transport::WsListen(parse_listen("127.0.0.1:9").unwrap()));
    let c = ws_server_config(&o, "self::ctl").unwrap();
    assert_eq!(c.listen, ["127.0.0.1:9".parse().unwrap()]);
    assert!(c.path.is_empty() && c.tls.is_none());
}

#[test]
fn tls_options_are_checked_before_any_connection() {
    let mut o = opts(Transport::Mqtt { host: "b".into(), port: None, v5: true });
    o.tls_ca = Some("/nonexistent/ca.pem".into());
    assert!(matches!(mqtt_config(&o, "e"), Err(TransportError::Tls(_))));
    o.tls_ca = None;
    o.tls = true;
    o.tls_cert = Some("/x.pem".into());
    assert!(matches!(mqtt_config(&o, "e"), Err(TransportError::Config(_))));
    let mut o = opts(Transport::WsListen(parse_listen("1").unwrap()));
    o.tls = true;
    assert!(matches!(ws_server_config(&o, "e"), Err(TransportError::Config(_))));
}

#[test]
fn without_a_transport_no_link() {
    let sink: EventSink = std::sync::Arc::new(|_| {});
    let err = open_link(&TransportOptions::default(), "e", None, 1, sink).err().unwrap();
    assert!(matches!(err, TransportError::NoneChosen));
    assert!(err.to_string().contains("--ws-listen"));
}
