//! Measures the round-trip time of a USP Record between two STOMP links through a private
//! RabbitMQ (Debian `rabbitmq-server`), over plain TCP and over TLS: a "controller" link sends
//! a Record to the "agent" link's destination, the agent echoes it to the `reply-to-dest`, the
//! controller times the answer. A measurement, not a test.
//!
//! `cargo run -p usp-mtp --example stomp_rtt --release [-- <round trips> <record bytes>]`
#![allow(clippy::unwrap_used)]

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use usp_mtp::stomp::{StompConfig, StompLink, spawn};
use usp_mtp::tls::ClientTls;
use usp_mtp::{Link, MtpEvent, Outbound};
use usp_testkit::rabbitmq::{RabbitMq, RabbitMqOptions};

fn wait_up(rx: &Receiver<MtpEvent>) {
    loop {
        match rx.recv_timeout(Duration::from_secs(30)).expect("link up") {
            MtpEvent::Up { .. } => return,
            MtpEvent::Down { reason, .. } => eprintln!("down: {reason}"),
            _ => {}
        }
    }
}

fn link(rabbit: &RabbitMq, name: &str, tls: bool) -> (StompLink, Receiver<MtpEvent>, String) {
    let dest = format!("/queue/rtt-{name}-{tls}");
    let mut c = StompConfig::new(&format!("proto::{name}"), "localhost", rabbit.stomp_port);
    c.virtual_host = rabbit.options.vhost.clone();
    c.username = rabbit.options.user.clone();
    c.password = rabbit.options.password.clone();
    c.destination = dest.clone();
    if tls {
        c.port = rabbit.stomp_tls_port.unwrap();
        let ca = rabbit.certs.as_ref().unwrap().ca.clone();
        c.tls = Some(ClientTls { ca_file: Some(ca), ..ClientTls::default() });
    }
    let (sink, rx) = usp_mtp::channel_sink();
    let l = spawn(1, c, sink);
    wait_up(&rx);
    (l, rx, dest)
}

fn measure(rabbit: &RabbitMq, tls: bool, rounds: usize, size: usize) {
    let (agent, agent_rx, agent_dest) = link(rabbit, "agent", tls);
    let (ctl, ctl_rx, _) = link(rabbit, "controller", tls);
    // The agent echoes every Record to its reply-to-dest.
    let echo = std::thread::spawn(move || {
        while let Ok(e) = agent_rx.recv_timeout(Duration::from_secs(5)) {
            if let MtpEvent::Received { reply_to: Some(to), record, .. } = e {
                agent.send(Outbound { dest: to, record, retain: false }).unwrap();
            }
        }
    });
    let record: Vec<u8> = (0..size).map(|i| (i % 256) as u8).collect();
    let mut times = Vec::with_capacity(rounds);
    for i in 0..rounds + 50 {
        let start = Instant::now();
        ctl.send(Outbound { dest: agent_dest.clone(), record: record.clone(), retain: false })
            .unwrap();
        loop {
            match ctl_rx.recv_timeout(Duration::from_secs(10)).expect("echo") {
                MtpEvent::Received { record: r, .. } if r == record => break,
                other => eprintln!("ignored {other:?}"),
            }
        }
        if i >= 50 {
            times.push(start.elapsed());
        }
    }
    drop(ctl);
    echo.join().unwrap();
    times.sort();
    let pct = |p: usize| times[(times.len() - 1) * p / 100];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "STOMP{} via RabbitMQ, {size}-byte Record, {rounds} round trips: min {:?}, median {:?}, \
         p90 {:?}, p99 {:?}, max {:?}, mean {mean:?}",
        if tls { "+TLS" } else { "" },
        times[0],
        pct(50),
        pct(90),
        pct(99),
        times[times.len() - 1],
    );
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rounds = args.first().copied().unwrap_or(1000).max(1);
    let size = args.get(1).copied().unwrap_or(300);
    let rabbit = RabbitMq::start(RabbitMqOptions::default());
    println!("{}", rabbit.describe());
    measure(&rabbit, false, rounds, size);
    measure(&rabbit, true, rounds, size);
}
