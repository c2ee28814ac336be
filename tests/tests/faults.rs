//! Issue 20's fault suites at small counts (the full counts: `cargo run --release -p usp-tests
//! --example faults`): the real `uspagent` over MQTT through a private Mosquitto.
//!
//! Needs the `mosquitto` program and the `uspagent` binary built (`cargo build -p uspagent`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use usp_tests::faults::{broker, crowd, kill};

#[test]
fn kill_9_in_set_add_delete_storms_loses_no_acknowledged_write() {
    let figures = kill::run(3, 3).unwrap_or_else(|v| panic!("{v}"));
    println!("{}", figures.summary());
    assert_eq!(figures.rounds, 3);
    assert_eq!(figures.lost, 0);
    assert!(figures.acknowledged >= 3 * 3, "storms too small to show anything: {figures:?}");
    assert_eq!(figures.restart_to_answer.len(), 3);
}

#[test]
fn broker_restarts_lose_no_notification_and_reconnect_within_the_backoff() {
    let figures = broker::run(2).unwrap_or_else(|v| panic!("{v}"));
    println!("{}", figures.summary());
    assert_eq!((figures.rounds, figures.changes, figures.notified), (2, 4, 4));
    assert_eq!(figures.new_id_duplicates, 0);
}

#[test]
fn twenty_pipelining_controllers_and_a_flooder_get_answers_in_flat_memory() {
    let figures = crowd::run(20, 40, 3, 300).unwrap_or_else(|v| panic!("{v}"));
    println!("{}", figures.summary());
    assert_eq!(figures.answered, 20 * 40 * 3);
    assert_eq!(figures.flooded, 3 * 300);
    assert!(figures.flood_answered > 1, "the flood never reached the agent: {figures:?}");
    let [_, first, _, last] = figures.rss_kib;
    assert!(first > 0 && last <= first + crowd::FLAT_KIB, "{figures:?}");
}
