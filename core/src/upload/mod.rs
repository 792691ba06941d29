//! The uploader: drains the outbox to the agency's intake server over tus 1.0.0, as
//! `docs/PROTOCOL.md` ("Client behaviour") describes.
//!
//! [`sync`] runs for at most a time budget (an Android job gets ten minutes) and stops early
//! when cancelled, when everything is delivered, or when the server cannot be reached. Parts
//! go in [`Outbox::pending_parts`](crate::outbox::Outbox::pending_parts) order — every
//! report's text first, then attachments smallest first — and the queue is read again after
//! every part, so a report queued meanwhile overtakes a long video. Each part:
//!
//! 1. is checked on the phone first (size and SHA-256 as queued; else the report fails with
//!    `part_damaged`), once per part and sync;
//! 2. resumes from the server's offset (`HEAD`) when the outbox has its upload URL, which is
//!    saved the moment the server creates the upload; a gone upload (404) is created again
//!    (`POST` with every metadata key, the first chunk riding along when it is small);
//! 3. goes up in `PATCH` chunks sized to about 15 s of the measured throughput (see
//!    [`pacing`]) and read from the part file at the offset, so memory stays bounded (4 MiB
//!    at most); a chunk's first attempt has no `Upload-Checksum`, so the server keeps what
//!    arrives before a drop (the server checks the whole part's SHA-256 at the end), and
//!    after a 460 every chunk of that part carries `Upload-Checksum: sha256`;
//! 4. survives failures: network errors, timeouts, 5xx, 408, 423, 429 and answers that are
//!    not the intake server's (no `Tus-Resumable`) wait with exponential backoff and full
//!    jitter (or the server's `Retry-After`) and resume from `HEAD`; 409 → `HEAD`; 460 →
//!    the chunk again. Other 4xx refuse the report for good (`rejected_by_server`).
//!
//! When every part of a report is on the server, the signed receipt is fetched with the
//! report's client token, checked ([`receipt`]) and kept, and the report is `delivered`.
//!
//! The server's offset is the truth: the outbox records offsets at most about once a second
//! (and always when an upload is created, when a part completes and when the sync stops), and
//! a restarted sync asks the server before sending more. A sync needs a tokio runtime with
//! time and I/O enabled; the CLI builds one, the Android bindings run on uniffi's.

mod cancel;
pub(crate) mod client;
pub mod pacing;
pub mod receipt;
mod run;
pub mod tls;
pub(crate) mod tus;

use std::time::Duration;

use tokio::time::Instant;

pub use cancel::CancelHandle;
pub use client::fetch_profile;
pub use receipt::{ReadReceipt, ReceiptError, read_receipt};
pub use tls::PinMismatch;

use crate::error::Result;
use crate::followup;
use crate::outbox::{FailureReason, OutboxReport, ReportState};
use crate::profile::ProfileError;
use crate::reporter::Reporter;
use client::Tus;
use pacing::AGE_CHUNK;
use run::{Run, Stop};

/// The default time budget of a sync: ten minutes, what an Android job gets.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(600);
/// A first chunk up to this size rides with the creation request (creation-with-upload).
pub const CREATE_WITH_UPLOAD_MAX: u64 = 4 * AGE_CHUNK;
/// Receipt requests per report and sync while the server has none yet (404 right after the
/// last part: the server may still be finishing). Waits between them: 1, 2, 4, 8, 16 s.
pub const RECEIPT_TRIES: u32 = 6;
/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The longest the sync may run; it stops with [`StopReason::Budget`] when this runs out
    /// (the request in flight is dropped; the server keeps what it confirmed).
    pub budget: Duration,
    /// Cancels the sync at once from another thread.
    pub cancel: CancelHandle,
    /// Fetch receipts and mark reports delivered (the normal case). `false` only uploads the
    /// parts and leaves complete reports `sending`: for plain tus servers without Berani's
    /// receipt endpoint (the tusd interop test).
    pub fetch_receipts: bool,
    /// The wall clock for the hourly cap on failed attempts; [`pacing::SystemClock`] unless a
    /// test simulates time.
    pub clock: std::sync::Arc<dyn pacing::Clock>,
    /// Trust anchors (DER certificates) used instead of the Mozilla roots; the profile's pin,
    /// when it has one, still applies on top. Only in builds with the `test-tls-roots`
    /// feature, which the test crates turn on to reach a server whose certificate a
    /// throwaway CA signed; the app, the bindings and the CLI are built without it.
    #[cfg(feature = "test-tls-roots")]
    pub tls_roots: Option<Vec<Vec<u8>>>,
}

impl SyncOptions {
    /// Options with this budget, a fresh cancel handle, and receipts fetched.
    pub fn new(budget: Duration) -> Self {
        Self {
            budget,
            cancel: CancelHandle::new(),
            fetch_receipts: true,
            clock: std::sync::Arc::new(pacing::SystemClock),
            #[cfg(feature = "test-tls-roots")]
            tls_roots: None,
        }
    }
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self::new(DEFAULT_BUDGET)
    }
}

/// Hears what a sync does, for a progress bar and the outbox screen. Called on the sync's
/// task; keep it quick.
pub trait SyncListener: Send + Sync {
    /// The server confirmed `sent` of `total` bytes of a part (after each chunk, and the
    /// offset found when resuming). A completed part is heard once with `sent == total`.
    fn part_progress(&self, report_id: &str, part: u32, sent: u64, total: u64);
    /// A report started sending in this sync ([`ReportState::Sending`]), was delivered, or
    /// failed.
    fn report_state(&self, report_id: &str, state: ReportState);
}

/// A listener that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoListener;

impl SyncListener for NoListener {
    fn part_progress(&self, _: &str, _: u32, _: u64, _: u64) {}
    fn report_state(&self, _: &str, _: ReportState) {}
}

/// Why a sync stopped. Every reason is a normal end; errors are returned as errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Nothing is left to send.
    Done,
    /// Every part is on the server, but a receipt was not ready yet; a later sync fetches it.
    AwaitingReceipt,
    /// The time budget ran out.
    Budget,
    /// The cancel handle was used.
    Cancelled,
    /// The server could not be reached (or asked to wait) for longer than this sync can
    /// wait; [`SyncReport::retry_after`] says when to try again.
    Offline,
}

impl StopReason {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            StopReason::Done => "done",
            StopReason::AwaitingReceipt => "awaiting_receipt",
            StopReason::Budget => "budget",
            StopReason::Cancelled => "cancelled",
            StopReason::Offline => "offline",
        }
    }

    /// What it means, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            StopReason::Done => "nothing is left to send",
            StopReason::AwaitingReceipt => {
                "everything is on the server; its receipt is not ready yet and is fetched next time"
            }
            StopReason::Budget => "the time allowed ran out; the rest is sent next time",
            StopReason::Cancelled => "stopped on request; the rest is sent next time",
            StopReason::Offline => {
                "the server cannot be reached now; reports stay on this phone and are sent later"
            }
        }
    }

    /// What it means, in Indonesian.
    pub fn message_id(self) -> &'static str {
        match self {
            StopReason::Done => "tidak ada lagi yang perlu dikirim",
            StopReason::AwaitingReceipt => {
                "semua sudah di server; tanda terima belum siap dan diambil nanti"
            }
            StopReason::Budget => "waktu habis; sisanya dikirim nanti",
            StopReason::Cancelled => "dihentikan; sisanya dikirim nanti",
            StopReason::Offline => {
                "server tidak terjangkau; laporan tetap tersimpan di ponsel dan dikirim nanti"
            }
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// Reports delivered (receipt checked and kept) in this sync.
    pub delivered: Vec<String>,
    /// Reports that failed for good in this sync.
    pub failed: Vec<(String, FailureReason)>,
    /// Reports still queued or sending at the end.
    pub pending: usize,
    /// HTTP requests made.
    pub attempts: u32,
    /// Why the sync stopped.
    pub stopped: StopReason,
    /// When it makes sense to try again, when the server said or the backoff knows.
    pub retry_after: Option<Duration>,
    /// The last network or server problem met, for diagnostics (no URL, token or content).
    pub last_error: Option<String>,
    /// Follow-up messages delivered in this sync (their ids).
    pub messages_sent: Vec<String>,
}

/// Uploads what the outbox holds, for at most `opts.budget`.
///
/// Returns how it went; reports that cannot be sent now stay queued and a later sync picks
/// them up where the server left them. Errors are for what the uploader cannot work around:
/// no profile installed, a malformed profile, or the local database failing.
pub async fn sync(
    reporter: &Reporter,
    listener: &dyn SyncListener,
    opts: SyncOptions,
) -> Result<SyncReport> {
    let open = open_reports(reporter)?;
    if open.is_empty() && reporter.queued_messages()? == 0 {
        return Ok(SyncReport {
            delivered: Vec::new(),
            failed: Vec::new(),
            pending: 0,
            attempts: 0,
            stopped: StopReason::Done,
            retry_after: None,
            last_error: None,
            messages_sent: Vec::new(),
        });
    }
    let profile = reporter.profile()?.ok_or(ProfileError::NotInstalled)?;
    let intake =
        tus::parse_intake(&profile.intake_url).ok_or(ProfileError::Malformed("intake URL"))?;
    let config = tls::client_config(profile.tls_spki_sha256.as_deref())?;
    #[cfg(feature = "test-tls-roots")]
    let config = match &opts.tls_roots {
        None => config,
        Some(roots) => {
            let mut store = rustls::RootCertStore::empty();
            for der in roots {
                store
                    .add(rustls::pki_types::CertificateDer::from(der.clone()))
                    .map_err(|e| crate::error::CoreError::Network(format!("test root: {e}")))?;
            }
            let pin = profile.tls_spki_sha256.as_deref().map(tls::parse_pin);
            tls::config_with_roots(store, pin.transpose()?)?
        }
    };
    let tus = Tus::new(client::http_client(config)?, intake);
    let now = Instant::now();
    let deadline = now
        .checked_add(opts.budget)
        .unwrap_or(now + Duration::from_secs(100 * 365 * 86_400));
    let cancel = opts.cancel.clone();
    let mut run = Run::new(reporter, listener, tus, opts.cancel, deadline);
    run.fetch_receipts = opts.fetch_receipts;
    run.clock = opts.clock;
    let outcome = run.run().await;
    let flushed = run.flush();
    let (stopped, retry_after) = match outcome {
        Ok(reason) => (reason, None),
        Err(Stop::At(reason, after)) => (reason, after),
        Err(Stop::Hard(e)) => return Err(e),
    };
    flushed?;
    // Follow-up messages go once the reports are through (a message can only be filed under
    // a report the server has), while the server answers and time is left.
    let mut messages_sent = Vec::new();
    let mut last_error = run.last_error;
    let mut attempts = run.attempts;
    if matches!(stopped, StopReason::Done | StopReason::AwaitingReceipt)
        && reporter.queued_messages()? > 0
    {
        let left = deadline.saturating_duration_since(Instant::now());
        let sending = followup::send_queued(reporter);
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {}
            r = tokio::time::timeout(left, sending) => {
                if let Ok(r) = r {
                    let (sent, why) = r?;
                    attempts += sent.len() as u32 + u32::from(why.is_some());
                    messages_sent = sent;
                    if why.is_some() {
                        last_error = why;
                    }
                }
            }
        }
    }
    Ok(SyncReport {
        pending: open_reports(reporter)?.len(),
        delivered: run.delivered,
        failed: run.failed,
        attempts,
        stopped,
        retry_after,
        last_error,
        messages_sent,
    })
}

/// Reports still queued or sending.
fn open_reports(reporter: &Reporter) -> Result<Vec<OutboxReport>> {
    Ok(reporter
        .outbox()
        .list()?
        .into_iter()
        .filter(|r| matches!(r.state, ReportState::Queued | ReportState::Sending))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn the_sync_future_can_run_on_any_runtime_thread() {
        let dir = tempfile::tempdir().unwrap();
        let keys = crate::store::KeyFile::new(dir.path().join("device.key"));
        let r = Reporter::open(&dir.path().join("home"), &keys).unwrap();
        let fut = sync(&r, &NoListener, SyncOptions::default());
        assert_send(&fut);
        // With nothing queued, a sync is done at once, without a profile or a request.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let report = rt.block_on(fut).unwrap();
        assert_eq!(report.stopped, StopReason::Done);
        assert_eq!(report.attempts, 0);
    }
}
