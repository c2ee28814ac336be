//! Issue 20's fault suites at full counts (a program, not a test): prints each suite's figures.
//!
//! ```sh
//! cargo build --release -p uspagent
//! cargo run --release -p usp-tests --example faults            # every suite
//! cargo run --release -p usp-tests --example faults -- kill 100 # kill -9 rounds
//! cargo run --release -p usp-tests --example faults -- broker 50
//! cargo run --release -p usp-tests --example faults -- crowd 500 # Gets per controller
//! ```
//!
//! The agent is the `uspagent` next to this program (`target/release/`). Exits 1 with the
//! broken promise when a suite fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use usp_tests::faults::{Violation, broker, crowd, kill};

fn suite(name: &str, count: Option<usize>) -> Result<String, Violation> {
    Ok(match name {
        "kill" => kill::run(count.unwrap_or(100), 4)?.summary(),
        "broker" => broker::run(count.unwrap_or(50))?.summary(),
        "crowd" => {
            let gets = count.unwrap_or(500);
            // 20 controllers, 5 waves of `gets / 5` each, a flooder sending 2,000 per wave.
            crowd::run(20, (gets / 5).max(1), 5, 2_000)?.summary()
        }
        other => return Err(Violation(format!("unknown suite {other} (kill, broker, crowd)"))),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = args.get(1).and_then(|n| n.parse().ok());
    let names: Vec<&str> = match args.first() {
        Some(name) => vec![name.as_str()],
        None => vec!["kill", "broker", "crowd"],
    };
    for name in names {
        let started = std::time::Instant::now();
        match suite(name, count) {
            Ok(line) => println!("{line} [{:.0} s]", started.elapsed().as_secs_f64()),
            Err(v) => {
                eprintln!("{name}: FAILED: {v}");
                std::process::exit(1);
            }
        }
    }
}
