//! The two pieces of randomness and rate arithmetic the proxy's links are made of: a seedable
//! PRNG, so that a failing run can be replayed from its seed, and a token bucket (in its GCRA
//! form), so that a bandwidth cap is shared by every connection like the one radio link a phone
//! really has.

use std::time::Duration;

use tokio::time::Instant;

/// How far ahead of the steady rate a bucket lets bytes go after an idle period. A real link
/// has some queue in front of it; 50 ms keeps bursts small enough that a 3 s measurement is not
/// skewed by more than a couple of percent.
const BURST: Duration = Duration::from_millis(50);

/// SplitMix64: tiny, fast, and statistically good enough for fault timing; not for secrets.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for one purpose of one connection. Mixing the stream number in keeps the
    /// streams independent, so that, for example, jitter draws do not shift reset points.
    pub(crate) fn new(seed: u64, connection: u64, stream: u64) -> Self {
        let mut rng = Rng(seed ^ connection.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.0 ^= rng.next_u64() ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        rng
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean. Exponential gaps are memoryless, which is
    /// what lets the proxy redraw a connection's reset point whenever the faults change without
    /// changing the distribution.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.next_f64()).ln()
    }

    /// Uniform in [0, max].
    pub(crate) fn duration_up_to(&mut self, max: Duration) -> Duration {
        max.mul_f64(self.next_f64())
    }
}

/// A rate limiter for one direction of the link, shared by all connections.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate_bps: u64,
    /// Theoretical arrival time: when the link would be free if every byte so far had gone at
    /// exactly the rate.
    tat: Instant,
}

impl Bucket {
    pub(crate) fn new() -> Self {
        Bucket {
            rate_bps: 0,
            tat: Instant::now(),
        }
    }

    /// Books `bytes` on the link and returns when they have finished crossing it. Booking
    /// ahead (rather than waiting and retrying) makes concurrent connections queue in order.
    pub(crate) fn reserve(&mut self, bytes: usize, rate_bps: u64, now: Instant) -> Instant {
        if rate_bps != self.rate_bps {
            // A new rate starts from an idle link, so a slow rate does not leave a backlog
            // that would throttle a faster one set later.
            self.rate_bps = rate_bps;
            self.tat = now;
        }
        let cost = Duration::from_secs_f64(bytes as f64 * 8.0 / rate_bps.max(1) as f64);
        self.tat = self.tat.max(now) + cost;
        (self.tat - BURST).max(now)
    }
}

/// How many bytes a capped link moves in about 20 ms: reads are cut to this size so bytes
/// trickle out as they would over a slow link instead of arriving in large late lumps.
pub(crate) fn quantum(rate_bps: Option<u64>, max: usize) -> usize {
    match rate_bps {
        None => max,
        Some(bps) => ((bps / 8 / 50) as usize).clamp(64, max),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_reproducible_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, 1, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::new(7, 1, 0).next_u64(), Rng::new(7, 1, 1).next_u64());
        assert_ne!(Rng::new(7, 1, 0).next_u64(), Rng::new(7, 2, 0).next_u64());
        assert_ne!(Rng::new(7, 1, 0).next_u64(), Rng::new(8, 1, 0).next_u64());
    }

    #[test]
    fn exponential_has_the_requested_mean() {
        let mut rng = Rng::new(42, 0, 0);
        let n = 20_000;
        let mean = (0..n).map(|_| rng.exponential(1000.0)).sum::<f64>() / n as f64;
        assert!((mean - 1000.0).abs() < 30.0, "mean {mean}");
    }

    #[test]
    fn bucket_books_bytes_at_the_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new();
        // 8000 bit/s = 1000 bytes/s: ten 100-byte quanta take one second, less the burst.
        let mut last = start;
        for _ in 0..10 {
            last = bucket.reserve(100, 8000, start);
        }
        assert_eq!(last - start, Duration::from_secs(1) - BURST);
        // A new rate forgets the backlog of the old one.
        let t = bucket.reserve(1000, 8_000_000, start);
        assert_eq!(t, start);
    }

    #[test]
    fn quantum_follows_the_rate() {
        assert_eq!(quantum(None, 16384), 16384);
        assert_eq!(quantum(Some(64_000), 16384), 160);
        assert_eq!(quantum(Some(1_000), 16384), 64);
        assert_eq!(quantum(Some(100_000_000), 16384), 16384);
    }
}
