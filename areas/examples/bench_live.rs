//! What the live areas cost the data-model thread per read: one rtnetlink dump of the links,
//! of the addresses and of the neighbours, and one scan of `/proc` for `Process.{i}` (each
//! answers a whole Get for 500 ms). Prints the mean of 200 runs of each.
//!
//! `cargo run --release -p usp-areas --example bench_live`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Instant;

use usp_areas::health::proc::processes;
use usp_areas::netlink::route::{addresses, links, neighbours};

fn mean_us<T>(runs: u32, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut last = f();
    let start = Instant::now();
    for _ in 0..runs {
        last = f();
    }
    (start.elapsed().as_secs_f64() * 1e6 / f64::from(runs), last)
}

fn main() {
    let (l, links) = mean_us(200, || links().unwrap());
    let (a, addrs) = mean_us(200, || addresses().unwrap());
    let (n, neigh) = mean_us(200, || neighbours().unwrap());
    let (p, procs) = mean_us(200, || processes(Path::new("/proc")));
    println!("RTM_GETLINK dump:  {l:8.1} us ({} links)", links.len());
    println!("RTM_GETADDR dump:  {a:8.1} us ({} addresses)", addrs.len());
    println!("RTM_GETNEIGH dump: {n:8.1} us ({} neighbours)", neigh.len());
    println!("/proc scan:        {p:8.1} us ({} processes)", procs.len());
}
