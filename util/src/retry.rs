//! The reconnection schedule TR-369 uses for every MTP (and for Notify retries): the n-th retry
//! waits a random time in `[m·(k/1000)^(n-1), m·(k/1000)^n]` seconds, where `m` is the minimum
//! wait and `k` the interval multiplier in thousandths, capped at a maximum (MQTT's
//! `ConnectRetryMaxInterval`, STOMP's `ServerRetryMaxInterval`). With m=5 and k=2000 the windows
//! are 5–10 s, 10–20 s, 20–40 s, ...
//!
//! [`RetryPolicy::window`] is the pure schedule; [`Backoff`] adds the attempt counter and a
//! small random source (xorshift, seeded by the caller) so that a fleet does not reconnect in
//! step.

use std::time::Duration;

/// The parameters of the schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `m`: the lower bound of the first wait, in seconds (at least 1 is used).
    pub min_wait_secs: u32,
    /// `k`: the multiplier in thousandths (2000 doubles the window each time; below 1000 is
    /// treated as 1000).
    pub multiplier_permille: u32,
    /// The cap on any wait, in seconds; `0` means no cap.
    pub max_wait_secs: u32,
}

impl RetryPolicy {
    /// TR-369's defaults for MQTT (`ConnectRetryTime` 5, multiplier 2000, max 30720 s).
    pub const MQTT_DEFAULT: RetryPolicy =
        RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 30720 };

    /// The window `[low, high]` of retry number `attempt` (1 for the first retry), capped.
    pub fn window(&self, attempt: u32) -> (Duration, Duration) {
        let m = f64::from(self.min_wait_secs.max(1));
        let k = f64::from(self.multiplier_permille.max(1000)) / 1000.0;
        let n = attempt.clamp(1, 64);
        // powi on a bounded exponent; saturates to +inf at worst, which the cap absorbs.
        let low = m * k.powi(i32::try_from(n - 1).unwrap_or(63));
        let high = low * k;
        let cap = if self.max_wait_secs == 0 { f64::MAX } else { f64::from(self.max_wait_secs) };
        let secs = |x: f64| Duration::from_secs_f64(x.min(cap).min(1e9));
        (secs(low), secs(high))
    }

    /// The wait before retry number `attempt`, at position `unit` (0.0 to 1.0) of its window.
    pub fn delay(&self, attempt: u32, unit: f64) -> Duration {
        let (low, high) = self.window(attempt);
        let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.0 };
        low + (high - low).mul_f64(unit)
    }
}

/// A retry counter over a [`RetryPolicy`], with its own random source.
#[derive(Clone, Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    attempts: u32,
    growth_limit: u32,
    rng: u64,
}

impl Backoff {
    /// A fresh counter. `seed` varies the random waits (e.g. from the clock and the process id);
    /// any value, zero included, works.
    pub fn new(policy: RetryPolicy, seed: u64) -> Backoff {
        // splitmix64 scrambles small or similar seeds into well-spread states.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Backoff { policy, attempts: 0, growth_limit: u32::MAX, rng: (z ^ (z >> 31)) | 1 }
    }

    /// Stops the windows from growing after retry `last` (the WebSocket binding's table: "#10
    /// and subsequent" all use the 10th window). Attempts are still counted.
    pub fn limit_growth(mut self, last: u32) -> Backoff {
        self.growth_limit = last.max(1);
        self
    }

    /// The wait before the next attempt; counts the attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.attempts = self.attempts.saturating_add(1);
        // xorshift64: cheap, good enough to spread reconnects.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64;
        self.policy.delay(self.attempts.min(self.growth_limit), unit)
    }

    /// How many retries were counted since the last [`Backoff::reset`].
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Back to the first window (after a successful connection).
    pub fn reset(&mut self) {
        self.attempts = 0;
    }

    /// Changes the policy (the data model was edited); keeps the count.
    pub fn set_policy(&mut self, policy: RetryPolicy) {
        self.policy = policy;
    }
}

/// A seed for [`Backoff::new`] from the clock and the process id.
pub fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (u64::from(std::process::id()) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn windows_double_from_five_seconds() {
        let p = RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 };
        let w: Vec<(f64, f64)> =
            (1..=4).map(|n| p.window(n)).map(|(a, b)| (secs(a), secs(b))).collect();
        assert_eq!(w, vec![(5.0, 10.0), (10.0, 20.0), (20.0, 40.0), (40.0, 80.0)]);
        assert_eq!(secs(p.window(10).0), 2560.0);
        assert_eq!(secs(p.window(10).1), 5120.0);
    }

    #[test]
    fn the_cap_bounds_every_wait() {
        let p = RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 60 };
        for n in 1..200 {
            let (lo, hi) = p.window(n);
            assert!(lo <= hi && secs(hi) <= 60.0, "retry {n}: {lo:?}..{hi:?}");
        }
        assert_eq!(secs(p.delay(1000, 0.5)), 60.0);
    }

    #[test]
    fn odd_inputs_stay_sane() {
        let p = RetryPolicy { min_wait_secs: 0, multiplier_permille: 10, max_wait_secs: 0 };
        assert_eq!(p.window(0), (Duration::from_secs(1), Duration::from_secs(1)));
        assert_eq!(p.delay(3, f64::NAN), Duration::from_secs(1));
        let huge = RetryPolicy { min_wait_secs: u32::MAX, multiplier_permille: 65535, ..p };
        assert!(huge.delay(u32::MAX, 1.0) <= Duration::from_secs(1_000_000_000));
    }

    #[test]
    fn backoff_stays_in_its_windows_and_resets() {
        let p = RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 };
        let mut b = Backoff::new(p, 0);
        for n in 1..=6 {
            let d = b.next_delay();
            let (lo, hi) = p.window(n);
            assert!(lo <= d && d <= hi, "retry {n}: {d:?} not in {lo:?}..{hi:?}");
        }
        assert_eq!(b.attempts(), 6);
        b.reset();
        let d = b.next_delay();
        assert!(secs(d) >= 5.0 && secs(d) <= 10.0, "{d:?}");
    }

    #[test]
    fn limited_growth_keeps_the_last_window() {
        let p = RetryPolicy { min_wait_secs: 5, multiplier_permille: 2000, max_wait_secs: 0 };
        let mut b = Backoff::new(p, 3).limit_growth(10);
        for _ in 0..30 {
            let d = b.next_delay();
            assert!(secs(d) <= 5120.0, "{d:?}");
        }
        let d = b.next_delay();
        assert!((2560.0..=5120.0).contains(&secs(d)), "{d:?}");
        assert_eq!(b.attempts(), 31);
    }

    #[test]
    fn different_seeds_spread_the_waits() {
        let p = RetryPolicy::MQTT_DEFAULT;
        let waits: std::collections::BTreeSet<u128> =
            (0..20u64).map(|s| Backoff::new(p, s * 7919).next_delay().as_millis()).collect();
        assert!(waits.len() > 10, "{waits:?}");
    }
}
