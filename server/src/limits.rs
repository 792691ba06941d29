//! Limits that keep one client, or many, from tying up the intake.
//!
//! A report's parts may upload side by side, but only a few at a time ([`Limits`] counts
//! PATCHes in flight per report and overall, answered with 429 and `Retry-After`), one PATCH
//! at a time per upload (423), and no part may be larger than the profile allows plus the
//! age overhead ([`max_part_size`], 413). Slow clients are cut off by the body idle timeout
//! in the PATCH handler and by hyper's header read timeout in [`crate::http`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Bytes a 64 KiB age chunk grows by (the Poly1305 tag).
const AGE_CHUNK_OVERHEAD: u64 = 16;
/// Plaintext bytes per age chunk.
const AGE_CHUNK: u64 = 64 * 1024;
/// Room for the age header with a few recipients.
const AGE_HEADER_ALLOWANCE: u64 = 1024;

/// The largest sealed part for a plaintext limit of `max_attachment_bytes`.
pub fn max_part_size(max_attachment_bytes: u64) -> u64 {
    let chunks = max_attachment_bytes.div_ceil(AGE_CHUNK).max(1);
    max_attachment_bytes + chunks * AGE_CHUNK_OVERHEAD + AGE_HEADER_ALLOWANCE
}

/// Why a PATCH may not start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Another PATCH to the same upload is in flight (423).
    Upload,
    /// The report has too many PATCHes in flight (429).
    Report,
    /// The server has too many PATCHes in flight (429).
    Server,
}

#[derive(Default)]
struct InFlight {
    uploads: HashSet<String>,
    per_report: HashMap<String, usize>,
    total: usize,
}

/// Counts of appends in flight.
pub struct Limits {
    per_report: usize,
    total: usize,
    state: Mutex<InFlight>,
}

impl Limits {
    /// At most `per_report` appends per report and `total` overall.
    pub fn new(per_report: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_report,
            total,
            state: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, InFlight> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Claims a slot for appending to `upload` of `report`; released when the slot drops.
    pub fn acquire(self: &Arc<Self>, upload: &str, report: &str) -> Result<Slot, Busy> {
        let mut s = self.lock();
        if s.uploads.contains(upload) {
            return Err(Busy::Upload);
        }
        if s.total >= self.total {
            return Err(Busy::Server);
        }
        let n = s.per_report.get(report).copied().unwrap_or(0);
        if n >= self.per_report {
            return Err(Busy::Report);
        }
        s.uploads.insert(upload.to_owned());
        s.per_report.insert(report.to_owned(), n + 1);
        s.total += 1;
        Ok(Slot {
            limits: self.clone(),
            upload: upload.to_owned(),
            report: report.to_owned(),
        })
    }

    /// Claims `upload` alone, without counting against the append limits: for removing it
    /// (DELETE, expiry) while no append can start.
    pub fn claim(self: &Arc<Self>, upload: &str) -> Option<Claim> {
        self.lock()
            .uploads
            .insert(upload.to_owned())
            .then(|| Claim {
                limits: self.clone(),
                upload: upload.to_owned(),
            })
    }
}

/// An upload claimed for removal; released on drop.
pub struct Claim {
    limits: Arc<Limits>,
    upload: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.limits.lock().uploads.remove(&self.upload);
    }
}

/// A claimed append slot.
pub struct Slot {
    limits: Arc<Limits>,
    upload: String,
    report: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.limits.lock();
        s.uploads.remove(&self.upload);
        s.total -= 1;
        if let Some(n) = s.per_report.get_mut(&self.report) {
            *n -= 1;
            if *n == 0 {
                s.per_report.remove(&self.report);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_per_upload_report_and_server() {
        let l = Limits::new(2, 3);
        let a = l.acquire("u1", "r1").unwrap();
        assert_eq!(l.acquire("u1", "r1").err(), Some(Busy::Upload));
        let _b = l.acquire("u2", "r1").unwrap();
        assert_eq!(l.acquire("u3", "r1").err(), Some(Busy::Report));
        let _c = l.acquire("u4", "r2").unwrap();
        assert_eq!(l.acquire("u5", "r3").err(), Some(Busy::Server));
        assert!(l.claim("u1").is_none());
        drop(a);
        let claim = l.claim("u1").unwrap();
        assert_eq!(l.acquire("u1", "r9").err(), Some(Busy::Upload));
        drop(claim);
        l.acquire("u3", "r1").unwrap();
    }

    #[test]
    fn part_size_allows_for_age_overhead() {
        assert_eq!(max_part_size(65_536), 65_536 + 16 + 1024);
        assert_eq!(max_part_size(65_537), 65_537 + 32 + 1024);
        assert_eq!(max_part_size(100_000_000), 100_000_000 + 1526 * 16 + 1024);
    }
}
