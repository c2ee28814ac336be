//! Helpers shared by the MQTT link tests: an event collector with bounded waits, and a test
//! configuration.
#![allow(dead_code)]

pub mod fake_broker;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use rumqttc::v5::mqttbytes::v5::Publish as Publish5;
use usp_mtp::mqtt::MqttConfig;
use usp_mtp::retry::RetryPolicy;
use usp_mtp::{ConnectInfo, EventSink, MtpEvent};
use usp_testkit::mosquitto::Mosquitto;

/// The bound on every wait (generous for a slow CI machine).
pub const LIMIT: Duration = Duration::from_secs(10);

/// Fast retries for tests: 1–2 s, capped at 2 s.
pub const FAST_RETRY: RetryPolicy =
    RetryPolicy { min_wait_secs: 1, multiplier_permille: 2000, max_wait_secs: 2 };

/// The events of one or more links, in arrival order. Events skipped by one wait stay
/// available to the next ones.
pub struct Events {
    rx: mpsc::Receiver<MtpEvent>,
    skipped: RefCell<VecDeque<MtpEvent>>,
}

/// A sink feeding an [`Events`].
pub fn sink() -> (EventSink, Events) {
    let (tx, rx) = mpsc::channel();
    let sink: EventSink = Arc::new(move |e| {
        let _ = tx.send(e);
    });
    (sink, Events { rx, skipped: RefCell::new(VecDeque::new()) })
}

impl Events {
    /// The next event matching `pred` within [`LIMIT`], skipping others. Panics naming `what`.
    pub fn wait(&self, what: &str, pred: impl Fn(&MtpEvent) -> bool) -> MtpEvent {
        let mut skipped = self.skipped.borrow_mut();
        if let Some(i) = skipped.iter().position(&pred) {
            return skipped.remove(i).expect("position is in range");
        }
        let end = Instant::now() + LIMIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(e) if pred(&e) => return e,
                Ok(e) => skipped.push_back(e),
                Err(_) => panic!("no {what} within {LIMIT:?}; other events: {skipped:#?}"),
            }
        }
    }

    /// The next event of any kind (skipped ones first) within `limit`, if any.
    pub fn next_within(&self, limit: Duration) -> Option<MtpEvent> {
        let first = self.skipped.borrow_mut().pop_front();
        first.or_else(|| self.rx.recv_timeout(limit).ok())
    }

    /// Forgets every event received so far.
    pub fn clear(&self) {
        self.skipped.borrow_mut().clear();
        while self.rx.try_recv().is_ok() {}
    }

    /// Waits for link `link` to come up; returns its connect information.
    pub fn up(&self, link: u32) -> ConnectInfo {
        match self.wait(
            &format!("Up of link {link}"),
            |e| matches!(e, MtpEvent::Up { link: l, .. } if *l == link),
        ) {
            MtpEvent::Up { info, .. } => info,
            _ => unreachable!(),
        }
    }

    /// Waits for a Down of link `link`; returns (reason, retry_in).
    pub fn down(&self, link: u32) -> (String, Option<Duration>) {
        match self.wait(
            &format!("Down of link {link}"),
            |e| matches!(e, MtpEvent::Down { link: l, .. } if *l == link),
        ) {
            MtpEvent::Down { reason, retry_in, .. } => (reason, retry_in),
            _ => unreachable!(),
        }
    }

    /// Waits for a Record on link `link`; returns (reply_to, record).
    pub fn received(&self, link: u32) -> (Option<String>, Vec<u8>) {
        match self.wait(
            &format!("Record on link {link}"),
            |e| matches!(e, MtpEvent::Received { link: l, .. } if *l == link),
        ) {
            MtpEvent::Received { reply_to, record, .. } => (reply_to, record),
            _ => unreachable!(),
        }
    }
}

/// A link configuration towards 127.0.0.1:`port` with ClientId `client_id`, the configured
/// response topic `own`, no subscriptions, fast retries, and small Records (64 KiB).
pub fn config(port: u16, v5: bool, client_id: &str, own: &str) -> MqttConfig {
    MqttConfig {
        endpoint_id: format!("proto::{client_id}"),
        host: "127.0.0.1".into(),
        port,
        v5,
        client_id: client_id.into(),
        username: String::new(),
        password: String::new(),
        keep_alive: Duration::from_secs(30),
        clean_start: true,
        request_response_info: v5,
        subscriptions: Vec::new(),
        response_topic: own.into(),
        publish_qos: 1,
        retry: FAST_RETRY,
        tls: None,
        max_record: 64 * 1024,
        extended: Default::default(),
    }
}

/// The `ConnectInfo::Mqtt` fields, or a panic.
pub fn mqtt_info(info: &ConnectInfo) -> (bool, &str, Option<&str>, &[String]) {
    match info {
        ConnectInfo::Mqtt { v5, subscribed_topic, assigned_client_id, subscribed, .. } => {
            (*v5, subscribed_topic, assigned_client_id.as_deref(), subscribed)
        }
        other => panic!("not MQTT: {other:?}"),
    }
}

/// Waits (bounded) until the broker's log contains `needle`: the broker logs a moment after
/// the packet left the link.
pub fn wait_log(broker: &Mosquitto, needle: &str) {
    let end = std::time::Instant::now() + LIMIT;
    while !broker.log().contains(needle) {
        assert!(std::time::Instant::now() < end, "no {needle:?} in the log:\n{}", broker.log());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A raw v5 client subscribed to `filter` (returns once the SUBACK is in) and the PUBLISHes it
/// receives.
pub fn raw_v5(
    port: u16,
    id: &str,
    filter: &str,
) -> (rumqttc::v5::Client, mpsc::Receiver<Publish5>) {
    use rumqttc::v5::{Event, Incoming};
    let (client, mut conn) =
        rumqttc::v5::Client::new(rumqttc::v5::MqttOptions::new(id, "127.0.0.1", port), 16);
    client.subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce).expect("subscribe");
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for e in conn.iter() {
            match e {
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    ready_rx.recv_timeout(LIMIT).expect("raw v5 client subscribed");
    (client, rx)
}
