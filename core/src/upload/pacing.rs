//! How much to send at once, how long to wait for it, and how long to wait after a failure.
//!
//! All of it is plain arithmetic over measured numbers, so it is tested without a network.

use std::collections::VecDeque;
use std::time::Duration;

/// One sealed age STREAM chunk on the wire: 64 KiB of plaintext plus its 16-byte tag.
pub const AGE_CHUNK: u64 = 65_552;
/// The smallest chunk: one age chunk (about 64 KiB).
pub const MIN_CHUNK: u64 = AGE_CHUNK;
/// The largest chunk: the most whole age chunks within 4 MiB (63 of them, 4,129,776 bytes).
pub const MAX_CHUNK: u64 = (4 * 1024 * 1024 / AGE_CHUNK) * AGE_CHUNK;
/// How long one chunk should take to send; chunks take about 10–30 s each.
pub const TARGET_CHUNK_TIME: Duration = Duration::from_secs(15);
/// The slowest link assumed before anything is measured (bytes per second): one bar of 2G.
pub const SLOW_LINK_RATE: f64 = 2_000.0;
/// The least any request is given, on top of its expected transfer time.
pub const REQUEST_TIMEOUT_FLOOR: Duration = Duration::from_secs(30);
/// The most any request is given.
pub const REQUEST_TIMEOUT_CAP: Duration = Duration::from_secs(15 * 60);

/// Sizes chunks from the throughput measured on this link.
///
/// Starts at one age chunk (the link is unknown), aims at [`TARGET_CHUNK_TIME`] of data per
/// chunk, grows at most twofold from one chunk to the next (one fast sample does not make a
/// 4 MiB chunk on a link that then stalls), and falls back to the smallest chunk after a
/// stall. Every chunk is a whole number of age chunks, clamped to
/// [`MIN_CHUNK`]..=[`MAX_CHUNK`], except a part's last chunk, which is whatever is left.
#[derive(Debug, Clone)]
pub struct ChunkSizer {
    /// Smoothed throughput in bytes per second; `None` while the link is unknown.
    rate: Option<f64>,
    /// Size of the last chunk that went through.
    last: u64,
}

impl Default for ChunkSizer {
    fn default() -> Self {
        Self::new()
    }
}

fn whole_chunks(bytes: f64) -> u64 {
    let n = (bytes / AGE_CHUNK as f64).floor();
    (n.max(0.0) as u64).saturating_mul(AGE_CHUNK)
}

impl ChunkSizer {
    /// A sizer for a link nothing is known about.
    pub fn new() -> Self {
        Self {
            rate: None,
            last: MIN_CHUNK,
        }
    }

    /// The measured throughput in bytes per second, once there is one.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// The size of the next chunk, with `remaining` bytes of the part left to send and
    /// `time_left` before the sync's budget ends.
    pub fn next(&self, remaining: u64, time_left: Duration) -> u64 {
        let mut n = match self.rate {
            None => MIN_CHUNK,
            Some(rate) => {
                let target = whole_chunks(rate * TARGET_CHUNK_TIME.as_secs_f64());
                // Do not start a chunk that cannot finish within the budget (half of what is
                // left, for the answer and for a slower moment).
                let fits = whole_chunks(rate * time_left.as_secs_f64() / 2.0);
                target.min(self.last.saturating_mul(2)).min(fits)
            }
        };
        n = n.clamp(MIN_CHUNK, MAX_CHUNK);
        n.min(remaining)
    }

    /// Records that `bytes` went through (and were confirmed) in `elapsed`.
    pub fn record(&mut self, bytes: u64, elapsed: Duration) {
        if bytes == 0 {
            return;
        }
        let sample = bytes as f64 / elapsed.as_secs_f64().max(0.001);
        self.rate = Some(match self.rate {
            None => sample,
            Some(r) => 0.5 * r + 0.5 * sample,
        });
        self.last = bytes.max(MIN_CHUNK);
    }

    /// Records a stall (a timeout or a dropped connection mid-chunk): the link is unknown
    /// again and the next chunk is the smallest.
    pub fn stalled(&mut self) {
        self.rate = None;
        self.last = MIN_CHUNK;
    }

    /// How long to wait for a request carrying `bytes`: the floor plus three times the
    /// expected transfer time at the measured rate (or at [`SLOW_LINK_RATE`] when unknown).
    pub fn timeout_for(&self, bytes: u64) -> Duration {
        let rate = self
            .rate
            .unwrap_or(SLOW_LINK_RATE)
            .max(SLOW_LINK_RATE / 4.0);
        let expected = Duration::from_secs_f64(bytes as f64 / rate);
        (REQUEST_TIMEOUT_FLOOR + expected * 3).min(REQUEST_TIMEOUT_CAP)
    }
}

/// Exponential backoff with full jitter: the n-th wait in a row is drawn evenly from
/// `[floor, min(cap, base × 2ⁿ)]`, so phones that lost the same tower do not come back at
/// the same moment.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(5 * 60))
    }
}

impl Backoff {
    /// Backoff from `base`, doubling up to `cap`.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self {
            base,
            cap,
            failures: 0,
        }
    }

    /// The upper bound of the next wait.
    pub fn ceiling(&self) -> Duration {
        let exp = self.failures.min(30);
        self.base.saturating_mul(1u32 << exp).min(self.cap)
    }

    /// The next wait, for `unit` drawn evenly from `[0, 1)`; counts one more failure.
    pub fn next_delay(&mut self, unit: f64) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        // A small floor, so that a draw near zero is not an immediate retry.
        let floor = (self.base / 4).min(ceiling);
        let span = ceiling - floor;
        floor + span.mul_f64(unit.clamp(0.0, 1.0))
    }

    /// Counts a failure whose wait was set by the server (`Retry-After`).
    pub fn count_failure(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The server answered: start again from the base.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A uniform draw from `[0, 1)` from the system's random source.
pub fn unit_random() -> f64 {
    let r = u64::from_le_bytes(crate::crypto::random::<8>());
    (r >> 11) as f64 / (1u64 << 53) as f64
}

/// Caps failed attempts within a sliding window (60 an hour by default) while the server
/// cannot be reached; any answer from the server clears it.
///
/// Times are wall-clock seconds so the window can be kept in the store: the cap then holds
/// across syncs and restarts (an Android job, a `berani sync` in a loop), not only within one.
#[derive(Debug, Clone)]
pub struct FailureWindow {
    limit: usize,
    window: Duration,
    times: VecDeque<u64>,
}

impl Default for FailureWindow {
    fn default() -> Self {
        Self::new(60, Duration::from_secs(3600))
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The wall clock the uploader keeps its [`FailureWindow`] by (Unix seconds).
///
/// Waits and the budget run on tokio's clock, which tests can pause and advance; the failure
/// window is kept in the store across syncs, so it needs wall-clock time, and this is where a
/// test that simulates hours of outage supplies its own. Every real sync uses [`SystemClock`].
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Seconds since the Unix epoch.
    fn unix_now(&self) -> u64;
}

/// The system's clock: [`unix_now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn unix_now(&self) -> u64 {
        unix_now()
    }
}

impl FailureWindow {
    /// At most `limit` failures within `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            times: VecDeque::new(),
        }
    }

    /// A window holding earlier failures (Unix seconds), as [`FailureWindow::times`] gave them.
    pub fn with_times(mut self, times: &[u64]) -> Self {
        self.times = times.iter().copied().collect();
        self
    }

    /// The failures in the window, in Unix seconds, for keeping.
    pub fn times(&self) -> Vec<u64> {
        self.times.iter().copied().collect()
    }

    fn expire(&mut self, now: u64) {
        while let Some(&t) = self.times.front() {
            if now.saturating_sub(t) >= self.window.as_secs() {
                self.times.pop_front();
            } else {
                break;
            }
        }
    }

    /// True when the cap is already reached at `now` (Unix seconds): no attempt should be made.
    pub fn is_full(&mut self, now: u64) -> bool {
        self.expire(now);
        self.times.len() >= self.limit
    }

    /// Records a failure at `now` (Unix seconds); true when the cap is reached and the sync
    /// should stop.
    pub fn record(&mut self, now: u64) -> bool {
        self.expire(now);
        self.times.push_back(now);
        self.times.len() >= self.limit
    }

    /// How long until the oldest failure in the window leaves it.
    pub fn clears_in(&self, now: u64) -> Duration {
        self.times.front().map_or(Duration::ZERO, |t| {
            self.window
                .saturating_sub(Duration::from_secs(now.saturating_sub(*t)))
        })
    }

    /// The server answered.
    pub fn clear(&mut self) {
        self.times.clear();
    }

    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOTS: Duration = Duration::from_secs(3600);

    fn aligned_or_last(n: u64, remaining: u64) -> bool {
        n == remaining || (n.is_multiple_of(AGE_CHUNK) && (MIN_CHUNK..=MAX_CHUNK).contains(&n))
    }

    #[test]
    fn the_limits_are_whole_age_chunks_within_64_kib_and_4_mib() {
        const {
            assert!(MIN_CHUNK.is_multiple_of(AGE_CHUNK));
            assert!(MAX_CHUNK.is_multiple_of(AGE_CHUNK));
            assert!(MIN_CHUNK >= 64 * 1024);
            assert!(MAX_CHUNK <= 4 * 1024 * 1024);
            assert!(MAX_CHUNK + AGE_CHUNK > 4 * 1024 * 1024);
        }
        assert_eq!(MAX_CHUNK, 4_129_776);
    }

    #[test]
    fn an_unknown_link_starts_with_one_age_chunk() {
        let s = ChunkSizer::new();
        assert_eq!(s.next(10 * MAX_CHUNK, LOTS), AGE_CHUNK);
        assert_eq!(
            s.next(1_000, LOTS),
            1_000,
            "a small last chunk is sent whole"
        );
    }

    #[test]
    fn chunks_follow_throughput_and_stay_whole_and_clamped() {
        // One bar of 2G (2 KB/s), EDGE, 3G, 4G, a LAN.
        for rate in [
            500.0,
            2_000.0,
            20_000.0,
            200_000.0,
            2_000_000.0,
            100_000_000.0,
        ] {
            let mut s = ChunkSizer::new();
            for _ in 0..20 {
                let n = s.next(u64::MAX, LOTS);
                assert!(aligned_or_last(n, u64::MAX), "{rate}: {n}");
                s.record(n, Duration::from_secs_f64(n as f64 / rate));
            }
            let n = s.next(u64::MAX, LOTS);
            let ideal = rate * TARGET_CHUNK_TIME.as_secs_f64();
            if ideal <= MIN_CHUNK as f64 {
                assert_eq!(n, MIN_CHUNK, "{rate}");
            } else if ideal >= MAX_CHUNK as f64 {
                assert_eq!(n, MAX_CHUNK, "{rate}");
            } else {
                // About 15 s of data: between 10 and 30 s at this rate.
                let secs = n as f64 / rate;
                assert!((10.0..=30.0).contains(&secs), "{rate}: {n} = {secs} s");
            }
        }
    }

    #[test]
    fn chunks_grow_at_most_twofold_and_shrink_after_a_stall() {
        let mut s = ChunkSizer::new();
        s.record(AGE_CHUNK, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX, LOTS), 2 * AGE_CHUNK);
        s.record(2 * AGE_CHUNK, Duration::from_millis(1));
        assert_eq!(s.next(u64::MAX, LOTS), 4 * AGE_CHUNK);
        s.stalled();
        assert_eq!(s.rate(), None);
        assert_eq!(s.next(u64::MAX, LOTS), MIN_CHUNK);
    }

    #[test]
    fn chunks_fit_the_time_left() {
        let mut s = ChunkSizer::new();
        for _ in 0..20 {
            let n = s.next(u64::MAX, LOTS);
            s.record(n, Duration::from_secs_f64(n as f64 / 100_000.0));
        }
        assert!(s.next(u64::MAX, LOTS) > 10 * AGE_CHUNK);
        // 4 s left at 100 KB/s: at most 2 s of data, whole age chunks.
        let n = s.next(u64::MAX, Duration::from_secs(4));
        assert_eq!(n, 3 * AGE_CHUNK);
        assert_eq!(s.next(u64::MAX, Duration::ZERO), MIN_CHUNK);
    }

    #[test]
    fn timeouts_follow_chunk_size_and_speed_with_a_floor() {
        let s = ChunkSizer::new();
        let unknown = s.timeout_for(AGE_CHUNK);
        assert!(unknown >= REQUEST_TIMEOUT_FLOOR + Duration::from_secs(90));
        assert!(s.timeout_for(0) >= REQUEST_TIMEOUT_FLOOR);
        assert!(s.timeout_for(u64::MAX / 2) <= REQUEST_TIMEOUT_CAP);
        let mut fast = ChunkSizer::new();
        fast.record(MAX_CHUNK, Duration::from_millis(10));
        assert_eq!(fast.timeout_for(MAX_CHUNK).as_secs(), 30);
    }

    #[test]
    fn backoff_grows_to_its_cap_with_bounded_jitter() {
        let mut b = Backoff::default();
        let mut ceilings = Vec::new();
        for i in 0..20 {
            let ceiling = b.ceiling();
            ceilings.push(ceiling);
            for unit in [0.0, 0.5, 0.999_999] {
                let mut probe = b.clone();
                let d = probe.next_delay(unit);
                assert!(d <= ceiling, "{i}: {d:?} > {ceiling:?}");
                assert!(d >= Duration::from_millis(250).min(ceiling));
            }
            b.next_delay(unit_random());
        }
        assert_eq!(ceilings[0], Duration::from_secs(1));
        assert_eq!(ceilings[1], Duration::from_secs(2));
        assert_eq!(ceilings[4], Duration::from_secs(16));
        assert!(ceilings.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*ceilings.last().unwrap(), Duration::from_secs(300));
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_secs(1));
        // Random draws stay within [0, 1).
        assert!(
            (0..1000)
                .map(|_| unit_random())
                .all(|u| (0.0..1.0).contains(&u))
        );
    }

    #[test]
    fn failures_are_capped_per_window_and_cleared_by_an_answer() {
        let mut w = FailureWindow::new(60, Duration::from_secs(3600));
        let t0 = 1_800_000_000u64;
        for i in 0..59 {
            assert!(!w.record(t0 + i), "{i}");
        }
        assert!(w.record(t0 + 59), "the 60th in an hour stops");
        assert_eq!(w.clears_in(t0 + 59), Duration::from_secs(3600 - 59));
        // Kept and restored, the window still holds: a new sync makes no attempt.
        let mut again = FailureWindow::new(60, Duration::from_secs(3600)).with_times(&w.times());
        assert!(again.is_full(t0 + 100));
        // An hour later the oldest ones have left the window.
        assert!(!again.is_full(t0 + 3600 + 30));
        assert!(!w.record(t0 + 3600 + 30));
        w.clear();
        assert!(w.is_empty());
        assert!(!w.record(t0 + 4000));
    }
}
