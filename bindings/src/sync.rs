//! Delivering the outbox: a sync runs as a task on the bindings' runtime, and Kotlin holds a
//! [`SyncHandle`] to cancel it, wait for its summary, or drop it (which stops it).
//!
//! uniffi futures cannot be cancelled from Kotlin, so a sync is not an `async fn`: it is a
//! task (model: matrix-rust-sdk's `TaskHandle`). Progress reaches the app through a
//! [`SyncListener`]; a listener that throws or panics is logged and ignored, so a broken
//! progress bar never stops a report from being delivered.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use berani_core::outbox as core_outbox;
use berani_core::upload::{self, CancelHandle, StopReason as CoreStopReason, SyncOptions};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{BeraniError, Result};
use crate::outbox::{FailureReason, ReportState};
use crate::runtime::runtime;

/// Hears what a sync does, for a progress bar and the outbox screen.
///
/// Called on a sync thread, never while the core holds a lock: keep it quick, and post to the
/// UI thread from here. An exception thrown here is logged and ignored.
#[uniffi::export(foreign)]
pub trait SyncListener: Send + Sync {
    /// The server confirmed `sent` of `total` bytes of part `part` of a report (after each
    /// chunk, and the offset found when resuming). A completed part is heard once with
    /// `sent == total`.
    fn on_part_progress(&self, report_id: String, part: u32, sent: u64, total: u64) -> Result<()>;
    /// A report started sending in this sync, was delivered, or failed.
    fn on_report_state(&self, report_id: String, state: ReportState) -> Result<()>;
}

/// Why a sync stopped. Every reason is a normal end; errors are thrown by `wait` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum StopReason {
    /// Nothing is left to send.
    Done,
    /// Every part is on the server, but a receipt was not ready yet; a later sync fetches it.
    AwaitingReceipt,
    /// The time budget ran out; the rest is sent next time.
    Budget,
    /// `SyncHandle.cancel` was called; the rest is sent next time.
    Cancelled,
    /// The server cannot be reached now; `retry_after_seconds` says when to try again.
    Offline,
}

impl From<CoreStopReason> for StopReason {
    fn from(r: CoreStopReason) -> Self {
        match r {
            CoreStopReason::Done => StopReason::Done,
            CoreStopReason::AwaitingReceipt => StopReason::AwaitingReceipt,
            CoreStopReason::Budget => StopReason::Budget,
            CoreStopReason::Cancelled => StopReason::Cancelled,
            CoreStopReason::Offline => StopReason::Offline,
        }
    }
}

/// A report that failed for good in a sync.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FailedReport {
    /// The report id.
    pub report_id: String,
    /// Why.
    pub reason: FailureReason,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncSummary {
    /// Reports delivered (receipt checked and kept) in this sync.
    pub delivered: Vec<String>,
    /// Reports that failed for good in this sync.
    pub failed: Vec<FailedReport>,
    /// Reports still queued or sending at the end.
    pub pending: u32,
    /// HTTP requests made.
    pub attempts: u32,
    /// Why the sync stopped.
    pub stopped: StopReason,
    /// What the stop means, in Indonesian, for the reporter.
    pub stopped_message_id: String,
    /// What the stop means, in English.
    pub stopped_message_en: String,
    /// When it makes sense to try again, in seconds, when known.
    pub retry_after_seconds: Option<u64>,
    /// The last network or server problem met, for diagnostics (no URL, token or content).
    pub last_error: Option<String>,
    /// Follow-up messages delivered in this sync.
    pub messages_sent: u32,
}

impl From<upload::SyncReport> for SyncSummary {
    fn from(r: upload::SyncReport) -> Self {
        SyncSummary {
            delivered: r.delivered,
            failed: r
                .failed
                .into_iter()
                .map(|(report_id, reason)| FailedReport {
                    report_id,
                    reason: reason.into(),
                })
                .collect(),
            pending: u32::try_from(r.pending).unwrap_or(u32::MAX),
            attempts: r.attempts,
            stopped: r.stopped.into(),
            stopped_message_id: r.stopped.message_id().to_owned(),
            stopped_message_en: r.stopped.message_en().to_owned(),
            retry_after_seconds: r.retry_after.map(|d| d.as_secs()),
            last_error: r.last_error,
            messages_sent: u32::try_from(r.messages_sent.len()).unwrap_or(u32::MAX),
        }
    }
}

/// Presents a platform [`SyncListener`] to the core, swallowing its failures.
struct ListenerAdapter(Arc<dyn SyncListener>);

impl ListenerAdapter {
    fn call(&self, what: &str, f: impl FnOnce(&dyn SyncListener) -> Result<()>) {
        match catch_unwind(AssertUnwindSafe(|| f(&*self.0))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(target: "berani_ffi::sync", error = %e, "sync listener {what} failed; ignored")
            }
            Err(_) => {
                tracing::warn!(target: "berani_ffi::sync", "sync listener {what} panicked; ignored")
            }
        }
    }
}

impl upload::SyncListener for ListenerAdapter {
    fn part_progress(&self, report_id: &str, part: u32, sent: u64, total: u64) {
        self.call("on_part_progress", |l| {
            l.on_part_progress(report_id.to_owned(), part, sent, total)
        });
    }

    fn report_state(&self, report_id: &str, state: core_outbox::ReportState) {
        self.call("on_report_state", |l| {
            l.on_report_state(report_id.to_owned(), state.into())
        });
    }
}

type Outcome = Option<Result<SyncSummary>>;

/// A running (or finished) sync. Dropping it (Kotlin: `close()`, leaving `use {}`, or the
/// garbage collector) stops the sync: keep it for as long as the sync should run. What the
/// server confirmed stays confirmed, and the next sync resumes from there.
#[derive(uniffi::Object)]
pub struct SyncHandle {
    cancel: CancelHandle,
    task: JoinHandle<()>,
    outcome: watch::Receiver<Outcome>,
}

impl SyncHandle {
    /// Starts a sync of `reporter`'s outbox on the bindings' runtime.
    pub(crate) fn start(
        reporter: Arc<berani_core::Reporter>,
        budget: Duration,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<SyncHandle>> {
        let opts = SyncOptions::new(budget);
        let cancel = opts.cancel.clone();
        let (tx, outcome) = watch::channel(None);
        let task = runtime()?.spawn(async move {
            tracing::info!(target: "berani_ffi::sync", budget_s = budget.as_secs(), "sync started");
            let listener = ListenerAdapter(listener);
            let out = upload::sync(&reporter, &listener, opts).await;
            match &out {
                Ok(r) => tracing::info!(
                    target: "berani_ffi::sync",
                    stopped = r.stopped.key(),
                    delivered = r.delivered.len(),
                    failed = r.failed.len(),
                    pending = r.pending,
                    attempts = r.attempts,
                    "sync stopped"
                ),
                Err(e) => tracing::warn!(target: "berani_ffi::sync", error = %e, "sync failed"),
            }
            // Nobody waiting is fine: the outbox holds the result too.
            let _ = tx.send(Some(out.map(Into::into).map_err(Into::into)));
        });
        Ok(Arc::new(SyncHandle {
            cancel,
            task,
            outcome,
        }))
    }
}

// `wait` only waits on a watch channel, which needs no tokio runtime: polled from Kotlin as is.
#[uniffi::export]
impl SyncHandle {
    /// Stops the sync soon: the request in flight is dropped, progress is saved, and `wait`
    /// returns with `StopReason.CANCELLED`. Safe from any thread, any number of times.
    pub fn cancel(&self) {
        self.cancel.cancel()
    }

    /// True once the sync has stopped (for any reason).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the sync to stop and returns what it did. Can be awaited from several
    /// coroutines, and again after it returned.
    pub async fn wait(&self) -> Result<SyncSummary> {
        let mut rx = self.outcome.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(done) => done.clone().unwrap_or_else(no_outcome_yet),
            Err(_) => Err(BeraniError::Internal {
                detail: "the sync stopped without a result".into(),
            }),
        }
    }
}

/// Not reachable (`wait_for` returns once there is an outcome), but no panic crosses the FFI.
fn no_outcome_yet() -> Result<SyncSummary> {
    Err(BeraniError::Internal {
        detail: "the sync has no result yet".into(),
    })
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.task.abort();
    }
}
