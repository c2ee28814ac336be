//! Test harnesses shared by the workspace's tests and benchmarks: real peers started privately
//! (each on free 127.0.0.1 ports, with its own data directory under a temporary directory, and
//! stopped by PID when its guard drops), test certificates, and small process helpers.
//!
//! Never used by shipped code. Never stops a process it did not start. Every wait is bounded.

pub mod agent;
pub mod certs;
pub mod http;
pub mod mosquitto;
pub mod rabbitmq;

use std::net::TcpListener;

use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound then released; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}

/// Waits until something accepts TCP connections on `127.0.0.1:port`, at most `limit`.
pub fn wait_for_port(port: u16, limit: Duration) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_can_be_bound_and_waited_for() {
        let port = free_port();
        assert!(!wait_for_port(port, Duration::from_millis(50)));
        let _l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
        assert!(wait_for_port(port, Duration::from_secs(1)));
    }
}
