//! A tiny MQTT probe on the link: `mqtt_probe HOST PORT OWN_TOPIC [3.1.1] [--ca FILE]` connects,
//! prints every event, and answers nothing. Useful by hand against a broker, and the program
//! whose release size measures what the MQTT link costs (build it with and without the `mqtt`
//! and `tls` features).

#[cfg(feature = "mqtt")]
fn main() {
    use std::sync::Arc;
    use std::time::Duration;

    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: mqtt_probe HOST PORT OWN_TOPIC [3.1.1] [--ca FILE]");
        std::process::exit(2);
    }
    let Ok(port) = args[1].parse() else {
        eprintln!("mqtt_probe: bad port {:?}", args[1]);
        std::process::exit(2);
    };
    let config = usp_mtp::mqtt::MqttConfig {
        endpoint_id: "proto::mqtt-probe".into(),
        host: args[0].clone(),
        port,
        v5: !args.iter().any(|a| a == "3.1.1"),
        client_id: String::new(),
        username: String::new(),
        password: String::new(),
        keep_alive: Duration::from_secs(60),
        clean_start: true,
        request_response_info: true,
        subscriptions: Vec::new(),
        response_topic: args[2].clone(),
        publish_qos: 1,
        retry: usp_mtp::retry::RetryPolicy::MQTT_DEFAULT,
        #[cfg(feature = "tls")]
        tls: args.iter().position(|a| a == "--ca").map(|i| usp_mtp::tls::ClientTls {
            ca_file: args.get(i + 1).map(Into::into),
            ..Default::default()
        }),
        max_record: usp_mtp::DEFAULT_MAX_RECORD,
        extended: Default::default(),
    };
    let sink: usp_mtp::EventSink = Arc::new(|e| println!("{e:?}"));
    let _link = usp_mtp::mqtt::spawn(1, config, sink);
    std::thread::park();
}

#[cfg(not(feature = "mqtt"))]
fn main() {
    // The baseline for size measurements; with `tls`, rustls is linked in as the MQTT build has it.
    #[cfg(feature = "tls")]
    {
        let tls = usp_mtp::tls::ClientTls::default();
        println!("tls: {:?}", usp_mtp::tls::client_config(&tls).is_ok());
    }
    println!("mqtt_probe: built without the mqtt feature");
}
