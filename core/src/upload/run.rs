//! The sync's state machine: one [`Run`] drains the outbox until it is empty, the budget
//! ends, it is cancelled, or the server cannot be reached.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::Url;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::client::{Answer, FirstChunk, Tus};
use super::pacing::{Backoff, ChunkSizer, Clock, FailureWindow, SystemClock, unit_random};
use super::receipt::{self, ReceiptError};
use super::tus::{self, Verdict};
use super::{
    CREATE_WITH_UPLOAD_MAX, CancelHandle, RECEIPT_TRIES, StopReason, SyncListener, open_reports,
};
use crate::error::{CoreError, Result};
use crate::outbox::{FailureReason, OutboxReport, PendingPart, ReportState};
use crate::profile::ProfileError;
use crate::reporter::Reporter;

/// Checksum mismatches (460) of one part that are answered by sending the chunk again at
/// once; at this many the part file is checked again, and from then on each mismatch waits a
/// backoff first.
const CHECKSUM_RESENDS: u32 = 3;
/// Answers in a row without progress before the uploader backs off (a server whose `HEAD`
/// and `PATCH` disagree must not make it spin).
const STUCK_AFTER: u32 = 3;
/// Least time between two progress records of the same part.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// How a step of the sync ends early.
pub(super) enum Stop {
    /// A normal stop, with when to try again.
    At(StopReason, Option<Duration>),
    /// An error the sync cannot work around.
    Hard(CoreError),
}

impl From<CoreError> for Stop {
    fn from(e: CoreError) -> Self {
        Stop::Hard(e)
    }
}

pub(super) type Step<T = ()> = std::result::Result<T, Stop>;

/// Runs `f` unless the sync is cancelled or out of time first (then `f` is dropped, which
/// aborts a request in flight).
async fn guarded<F: Future>(cancel: &CancelHandle, deadline: Instant, f: F) -> Step<F::Output> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(Stop::At(StopReason::Cancelled, None)),
        _ = tokio::time::sleep_until(deadline) => Err(Stop::At(StopReason::Budget, None)),
        out = f => Ok(out),
    }
}

/// One HTTP request, counted, cancellable and within the budget.
macro_rules! request {
    ($run:ident, $fut:expr) => {{
        $run.attempts += 1;
        guarded(&$run.cancel, $run.deadline, $fut).await?
    }};
}

/// A part's upload progress that is not saved yet.
struct Unsaved {
    report: String,
    idx: u32,
    url: String,
    sent: u64,
}

/// When to ask again for a report's receipt.
struct ReceiptWait {
    tries: u32,
    due: Instant,
}

/// Where one part's upload stands, as far as this sync knows.
struct PartState {
    /// The upload on the server, once created (or as saved).
    url: Option<Url>,
    /// The server's offset, when known; `None` means ask (`HEAD`).
    offset: Option<u64>,
    /// Checksum mismatches (460) of this part in this sync.
    mismatches: u32,
    /// Answers in a row that moved nothing forward (409, 404 after creation, an append
    /// that took nothing); from [`STUCK_AFTER`] on, each waits a backoff.
    stuck: u32,
}

/// Something other than the expected success.
enum Trouble {
    Verdict(Verdict),
    Lost { why: String, stalled: bool },
}

fn split<T>(a: Answer<T>) -> std::result::Result<T, Trouble> {
    match a {
        Answer::Ok(t) => Ok(t),
        Answer::Verdict(v) => Err(Trouble::Verdict(v)),
        Answer::Lost { why, stalled } => Err(Trouble::Lost { why, stalled }),
    }
}

/// What to do with a part after trouble.
enum After {
    /// Go on with the part.
    Continue,
    /// The report failed; move on.
    ReportFailed,
}

pub(super) struct Run<'a> {
    reporter: &'a Reporter,
    listener: &'a dyn SyncListener,
    tus: Tus,
    cancel: CancelHandle,
    deadline: Instant,
    /// Fetch receipts (else upload only).
    pub(super) fetch_receipts: bool,
    /// The wall clock of the failure window.
    pub(super) clock: std::sync::Arc<dyn Clock>,
    sizer: ChunkSizer,
    backoff: Backoff,
    failures: FailureWindow,
    /// HTTP requests made.
    pub(super) attempts: u32,
    /// The last problem met.
    pub(super) last_error: Option<String>,
    /// Reports delivered.
    pub(super) delivered: Vec<String>,
    /// Reports failed, with why.
    pub(super) failed: Vec<(String, FailureReason)>,
    /// Parts whose file was checked in this sync.
    checked: HashSet<(String, u32)>,
    /// Reports announced as sending in this sync.
    announced: HashSet<String>,
    receipts: HashMap<String, ReceiptWait>,
    unsaved: Option<Unsaved>,
    last_save: Option<Instant>,
}

impl<'a> Run<'a> {
    /// A run over `tus` until `deadline`, fetching receipts.
    pub(super) fn new(
        reporter: &'a Reporter,
        listener: &'a dyn SyncListener,
        tus: Tus,
        cancel: CancelHandle,
        deadline: Instant,
    ) -> Self {
        Run {
            reporter,
            listener,
            tus,
            cancel,
            deadline,
            fetch_receipts: true,
            clock: std::sync::Arc::new(SystemClock),
            sizer: ChunkSizer::new(),
            backoff: Backoff::default(),
            failures: FailureWindow::default().with_times(&load_failures(reporter)),
            attempts: 0,
            last_error: None,
            delivered: Vec::new(),
            failed: Vec::new(),
            checked: HashSet::new(),
            announced: HashSet::new(),
            receipts: HashMap::new(),
            unsaved: None,
            last_save: None,
        }
    }
}

impl Run<'_> {
    pub(super) async fn run(&mut self) -> Step<StopReason> {
        // Earlier syncs already used this hour's attempts while the server was unreachable.
        let now = self.clock.unix_now();
        if self.failures.is_full(now) && !self.reporter.outbox().pending_parts()?.is_empty() {
            return Err(Stop::At(
                StopReason::Offline,
                Some(self.failures.clears_in(now)),
            ));
        }
        loop {
            if self.cancel.is_cancelled() {
                return Err(Stop::At(StopReason::Cancelled, None));
            }
            if Instant::now() >= self.deadline {
                return Err(Stop::At(StopReason::Budget, None));
            }
            let pending = self.reporter.outbox().pending_parts()?;
            let awaiting = if self.fetch_receipts {
                self.awaiting_receipts()?
            } else {
                Vec::new()
            };
            let now = Instant::now();
            if let Some(report) = awaiting.iter().find(|r| self.receipt_due(&r.id, now)) {
                self.fetch_receipt(report).await?;
                continue;
            }
            if let Some(part) = pending.first() {
                self.send_part(part).await?;
                continue;
            }
            let next = awaiting
                .iter()
                .filter_map(|r| self.receipts.get(&r.id))
                .filter(|w| w.tries < RECEIPT_TRIES)
                .map(|w| w.due)
                .min();
            match next {
                Some(due) => {
                    guarded(&self.cancel, self.deadline, tokio::time::sleep_until(due)).await?
                }
                None if awaiting.is_empty() => return Ok(StopReason::Done),
                None => return Ok(StopReason::AwaitingReceipt),
            }
        }
    }

    fn time_left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The server answered: the link works.
    fn answered(&mut self) {
        self.backoff.reset();
        if !self.failures.is_empty() {
            self.failures.clear();
            save_failures(self.reporter, &self.failures);
        }
    }

    /// No usable answer: waits (backoff, or the server's `Retry-After`) or stops the sync
    /// when the wait would pass the budget or too many attempts failed within an hour.
    async fn failed_attempt(
        &mut self,
        why: String,
        after: Option<Duration>,
        stalled: bool,
    ) -> Step {
        if stalled {
            self.sizer.stalled();
        }
        self.last_error = Some(why);
        let now = self.clock.unix_now();
        let full = self.failures.record(now);
        save_failures(self.reporter, &self.failures);
        if full {
            let wait = self.failures.clears_in(now);
            return Err(Stop::At(StopReason::Offline, Some(wait)));
        }
        let delay = match after {
            Some(d) => {
                self.backoff.count_failure();
                d
            }
            None => self.backoff.next_delay(unit_random()),
        };
        if Instant::now() + delay >= self.deadline {
            return Err(Stop::At(StopReason::Offline, Some(delay)));
        }
        guarded(&self.cancel, self.deadline, tokio::time::sleep(delay)).await
    }

    fn fail(&mut self, report_id: &str, reason: FailureReason) -> Step {
        self.reporter.outbox().mark_failed(report_id, reason)?;
        if self.unsaved.as_ref().is_some_and(|u| u.report == report_id) {
            self.unsaved = None;
        }
        self.failed.push((report_id.to_string(), reason));
        self.listener.report_state(report_id, ReportState::Failed);
        Ok(())
    }

    /// Records a part's progress, at most about once a second unless `now_or_never`.
    fn save_progress(
        &mut self,
        report_id: &str,
        idx: u32,
        url: &Url,
        sent: u64,
        now_or_never: bool,
    ) -> Step {
        let now = Instant::now();
        let due = self
            .last_save
            .is_none_or(|t| now.duration_since(t) >= SAVE_EVERY);
        if now_or_never || due {
            self.reporter
                .outbox()
                .record_progress(report_id, idx, url.as_str(), sent)?;
            self.last_save = Some(now);
            self.unsaved = None;
        } else {
            self.unsaved = Some(Unsaved {
                report: report_id.to_string(),
                idx,
                url: url.to_string(),
                sent,
            });
        }
        Ok(())
    }

    /// Saves progress held back by the once-a-second limit.
    pub(super) fn flush(&mut self) -> Result<()> {
        if let Some(u) = self.unsaved.take() {
            self.reporter
                .outbox()
                .record_progress(&u.report, u.idx, &u.url, u.sent)?;
        }
        Ok(())
    }

    // ----- receipts ---------------------------------------------------------------------

    fn awaiting_receipts(&self) -> Result<Vec<OutboxReport>> {
        Ok(open_reports(self.reporter)?
            .into_iter()
            .filter(|r| !r.parts.is_empty() && r.parts.iter().all(|p| p.done))
            .collect())
    }

    fn receipt_due(&self, report_id: &str, now: Instant) -> bool {
        self.receipts
            .get(report_id)
            .is_none_or(|w| w.tries < RECEIPT_TRIES && w.due <= now)
    }

    fn receipt_later(&mut self, report_id: &str) {
        let w = self
            .receipts
            .entry(report_id.to_string())
            .or_insert(ReceiptWait {
                tries: 0,
                due: Instant::now(),
            });
        w.tries += 1;
        w.due = Instant::now() + Duration::from_secs(1 << (w.tries - 1).min(4));
    }

    async fn fetch_receipt(&mut self, report: &OutboxReport) -> Step {
        let token = self.reporter.outbox().client_token(&report.id)?;
        let answer = request!(self, self.tus.receipt(&report.id, &token));
        match split(answer) {
            Ok(Some(signed)) => {
                self.answered();
                let key = self.reporter.profile()?.and_then(|p| p.receipt_key);
                match receipt::check_receipt(&signed, key.as_ref(), report) {
                    Ok(_) => {
                        self.reporter.outbox().mark_delivered(&report.id, &signed)?;
                        self.reporter.after_delivery(&report.id)?;
                        self.receipts.remove(&report.id);
                        self.delivered.push(report.id.clone());
                        self.listener
                            .report_state(&report.id, ReportState::Delivered);
                    }
                    Err(ReceiptError::Mismatch) => {
                        self.last_error = Some(ReceiptError::Mismatch.to_string());
                        self.fail(&report.id, FailureReason::RejectedByServer)?;
                    }
                    Err(e) => {
                        self.last_error = Some(e.to_string());
                        self.receipt_later(&report.id);
                    }
                }
            }
            Ok(None) => {
                self.answered();
                self.receipt_later(&report.id);
            }
            Err(Trouble::Verdict(Verdict::Retry { after, why })) => {
                self.failed_attempt(format!("receipt: {why}"), after, false)
                    .await?
            }
            Err(Trouble::Verdict(_)) => self.receipt_later(&report.id),
            Err(Trouble::Lost { why, stalled }) => self.failed_attempt(why, None, stalled).await?,
        }
        Ok(())
    }

    // ----- parts ------------------------------------------------------------------------

    async fn send_part(&mut self, p: &PendingPart) -> Step {
        let id = p.report_id.as_str();
        let (idx, size) = (p.part.idx, p.part.size);
        let profile = self
            .reporter
            .profile()?
            .ok_or(CoreError::Profile(ProfileError::NotInstalled))?;
        if profile.is_expired(OffsetDateTime::now_utc()) {
            return self.fail(id, FailureReason::ProfileExpired);
        }
        let path = self.reporter.store().part_path(id, idx);
        let key = (id.to_string(), idx);
        if !self.checked.contains(&key) {
            if !self.part_file_intact(&path, size, &p.part.sha256).await? {
                return self.fail(id, FailureReason::PartDamaged);
            }
            self.checked.insert(key);
        }
        if self.announced.insert(id.to_string()) {
            self.listener.report_state(id, ReportState::Sending);
        }
        let token = self.reporter.outbox().client_token(id)?;
        let followup = if idx == 0 {
            crate::followup::upload_keys(self.reporter, id)?
        } else {
            None
        };
        let metadata = tus::part_metadata(
            p,
            &token,
            followup.as_ref().map(|(l, a)| (l.as_str(), a.as_str())),
        )
        .ok_or(CoreError::RecordCorrupt)?;
        let mut st = PartState {
            // A saved upload on another server (the profile moved the intake) is left behind.
            url: p
                .part
                .upload_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok())
                .filter(|u| tus::same_origin(u, self.tus.intake())),
            offset: None,
            mismatches: 0,
            stuck: 0,
        };
        loop {
            let after = match (st.url.clone(), st.offset) {
                (None, _) => self.create(p, &path, &metadata, &mut st).await?,
                (Some(url), None) => self.head(p, &url, &mut st).await?,
                (Some(_), Some(offset)) if offset >= size => {
                    self.reporter.outbox().mark_part_done(id, idx)?;
                    if self
                        .unsaved
                        .as_ref()
                        .is_some_and(|u| u.report == id && u.idx == idx)
                    {
                        self.unsaved = None;
                    }
                    self.listener.part_progress(id, idx, size, size);
                    return Ok(());
                }
                (Some(url), Some(offset)) => self.patch(p, &path, &url, offset, &mut st).await?,
            };
            if let After::ReportFailed = after {
                return Ok(());
            }
        }
    }

    /// `POST`: creates the upload, with the first chunk when it is small.
    async fn create(
        &mut self,
        p: &PendingPart,
        path: &Path,
        metadata: &str,
        st: &mut PartState,
    ) -> Step<After> {
        let size = p.part.size;
        let n = self.sizer.next(size, self.time_left());
        let first = if n <= CREATE_WITH_UPLOAD_MAX {
            match self.read_chunk(path, 0, n).await? {
                Some(data) => Some(FirstChunk {
                    checksum: tus::checksum(&data),
                    data,
                }),
                None => {
                    self.fail(&p.report_id, FailureReason::PartDamaged)?;
                    return Ok(After::ReportFailed);
                }
            }
        } else {
            None
        };
        let sent = first.as_ref().map_or(0, |f| f.data.len() as u64);
        let timeout = self.sizer.timeout_for(sent);
        let started = Instant::now();
        let answer = request!(self, self.tus.create(metadata, size, first, timeout));
        match split(answer) {
            Ok(created) => {
                self.answered_part(st);
                if let Some(o) = created.offset.filter(|&o| o > 0 && sent > 0) {
                    self.sizer.record(o.min(sent), started.elapsed());
                }
                let saved = created.offset.unwrap_or(0);
                self.save_progress(&p.report_id, p.part.idx, &created.url, saved, true)?;
                if let Some(o) = created.offset.filter(|&o| o < size) {
                    self.listener
                        .part_progress(&p.report_id, p.part.idx, o, size);
                }
                st.url = Some(created.url);
                st.offset = created.offset;
                Ok(After::Continue)
            }
            Err(t) => self.trouble(t, p, path, st).await,
        }
    }

    /// `HEAD`: the server's offset.
    async fn head(&mut self, p: &PendingPart, url: &Url, st: &mut PartState) -> Step<After> {
        let size = p.part.size;
        let answer = request!(self, self.tus.head(url));
        match split(answer) {
            Ok(o) => {
                self.answered_part(st);
                if o.offset > size || o.length.is_some_and(|l| l != size) {
                    // Not this part's upload: create it again.
                    st.url = None;
                    st.offset = None;
                    self.no_progress(st, "the upload is not this part's")
                        .await?;
                    return Ok(After::Continue);
                }
                st.offset = Some(o.offset);
                self.save_progress(&p.report_id, p.part.idx, url, o.offset, false)?;
                if o.offset < size {
                    self.listener
                        .part_progress(&p.report_id, p.part.idx, o.offset, size);
                }
                Ok(After::Continue)
            }
            Err(t) => {
                let path = self.reporter.store().part_path(&p.report_id, p.part.idx);
                self.trouble(t, p, &path, st).await
            }
        }
    }

    /// `PATCH`: the next chunk from `offset`.
    async fn patch(
        &mut self,
        p: &PendingPart,
        path: &Path,
        url: &Url,
        offset: u64,
        st: &mut PartState,
    ) -> Step<After> {
        let size = p.part.size;
        let n = self.sizer.next(size - offset, self.time_left());
        let Some(chunk) = self.read_chunk(path, offset, n).await? else {
            self.fail(&p.report_id, FailureReason::PartDamaged)?;
            return Ok(After::ReportFailed);
        };
        // A first attempt goes without a checksum, so that the server keeps whatever arrives
        // before a dropped connection (with one it must throw a broken chunk away, and on a
        // link that drops every minute that costs about half a chunk per drop). The whole
        // part is still checked against its SHA-256 when it completes. Once the server has
        // answered 460 for this part, every further chunk carries one.
        let checksum = (st.mismatches > 0).then(|| tus::checksum(&chunk));
        let timeout = self.sizer.timeout_for(n);
        let started = Instant::now();
        let answer = request!(self, self.tus.patch(url, offset, chunk, checksum, timeout));
        match split(answer) {
            Ok(new) if new <= offset || new > size => {
                // The append took nothing, or the answer is not one an append can give:
                // ask for the offset again.
                st.offset = None;
                self.no_progress(st, "an append that took nothing").await?;
                Ok(After::Continue)
            }
            Ok(new) => {
                self.answered();
                st.stuck = 0;
                self.sizer.record(new - offset, started.elapsed());
                st.offset = Some(new);
                self.save_progress(&p.report_id, p.part.idx, url, new, false)?;
                if new < size {
                    self.listener
                        .part_progress(&p.report_id, p.part.idx, new, size);
                }
                Ok(After::Continue)
            }
            Err(t) => self.trouble(t, p, path, st).await,
        }
    }

    /// Handles anything but the expected success, for every request of a part.
    async fn trouble(
        &mut self,
        t: Trouble,
        p: &PendingPart,
        path: &Path,
        st: &mut PartState,
    ) -> Step<After> {
        match t {
            Trouble::Lost { why, stalled } => {
                // The server may have kept part of what was sent: ask before sending more.
                st.offset = None;
                self.failed_attempt(why, None, stalled).await?;
            }
            Trouble::Verdict(Verdict::Retry { after, why }) => {
                st.offset = None;
                self.failed_attempt(why, after, false).await?;
            }
            Trouble::Verdict(Verdict::Gone) => {
                st.url = None;
                st.offset = None;
                self.no_progress(st, "the upload is gone (HTTP 404)")
                    .await?;
            }
            Trouble::Verdict(Verdict::Conflict) => {
                st.offset = None;
                self.no_progress(st, "the offset was not the server's (HTTP 409)")
                    .await?;
            }
            Trouble::Verdict(Verdict::ChecksumMismatch) => {
                // The offset is unchanged: the same chunk goes again (a server that reset
                // the upload answers the resend with 409, and HEAD follows).
                st.mismatches += 1;
                if st.mismatches == CHECKSUM_RESENDS
                    && !self
                        .part_file_intact(path, p.part.size, &p.part.sha256)
                        .await?
                {
                    self.fail(&p.report_id, FailureReason::PartDamaged)?;
                    return Ok(After::ReportFailed);
                }
                if st.mismatches >= CHECKSUM_RESENDS {
                    self.failed_attempt(
                        "the server's checksum of a chunk did not match (HTTP 460)".into(),
                        None,
                        false,
                    )
                    .await?;
                }
            }
            Trouble::Verdict(Verdict::Refused) => {
                self.answered();
                self.last_error = Some("the server refused the report".into());
                self.fail(&p.report_id, FailureReason::RejectedByServer)?;
                return Ok(After::ReportFailed);
            }
        }
        Ok(After::Continue)
    }

    /// The server answered a part's request: the link works, and the backoff starts again
    /// from its base — unless the part is stuck (answers without progress, repeated checksum
    /// mismatches), where the backoff must keep growing.
    fn answered_part(&mut self, st: &PartState) {
        if st.stuck < STUCK_AFTER && st.mismatches < CHECKSUM_RESENDS {
            self.answered();
        }
    }

    /// An answer that moved nothing forward: fine once or twice (an upload expired, an
    /// offset to fetch again), a backoff from [`STUCK_AFTER`] in a row on.
    async fn no_progress(&mut self, st: &mut PartState, why: &str) -> Step {
        st.stuck += 1;
        if st.stuck < STUCK_AFTER {
            return Ok(());
        }
        self.failed_attempt(format!("no progress: {why}"), None, false)
            .await
    }

    // ----- the part file ----------------------------------------------------------------

    /// True when the part file has the size and SHA-256 it was queued with.
    async fn part_file_intact(&self, path: &Path, size: u64, sha256: &str) -> Step<bool> {
        let path = path.to_path_buf();
        let want = sha256.to_string();
        let job =
            tokio::task::spawn_blocking(move || hash_file(&path, size).is_ok_and(|h| h == want));
        let joined = guarded(&self.cancel, self.deadline, job).await?;
        Ok(joined.map_err(|e| CoreError::Io(io::Error::other(e.to_string())))?)
    }

    /// Reads `len` bytes at `offset` of the part file; `None` when the file is shorter or
    /// unreadable (damaged).
    async fn read_chunk(&self, path: &Path, offset: u64, len: u64) -> Step<Option<Vec<u8>>> {
        let path: PathBuf = path.to_path_buf();
        let job = tokio::task::spawn_blocking(move || read_at(&path, offset, len).ok());
        let joined = guarded(&self.cancel, self.deadline, job).await?;
        Ok(joined.map_err(|e| CoreError::Io(io::Error::other(e.to_string())))?)
    }
}

fn hash_file(path: &Path, size: u64) -> io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    if f.metadata()?.len() != size {
        return Err(io::ErrorKind::InvalidData.into());
    }
    let mut h = crate::crypto::Sha256::default();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(crate::crypto::hex(&h.finish()))
}

fn read_at(path: &Path, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; usize::try_from(len).map_err(io::Error::other)?];
    f.read_exact(&mut buf)?;
    Ok(buf)
}

const FAILURES_KEY: &str = "upload_failures";

/// Failed attempts of earlier syncs within the window (Unix seconds), from the store.
fn load_failures(reporter: &Reporter) -> Vec<u64> {
    reporter
        .store()
        .meta(FAILURES_KEY)
        .ok()
        .flatten()
        .and_then(|v| serde_json::from_slice(&v).ok())
        .unwrap_or_default()
}

/// Keeps the failure window so the hourly cap holds across syncs and restarts. Losing it is
/// harmless (the cap then starts afresh), so a write error is not fatal.
fn save_failures(reporter: &Reporter, w: &FailureWindow) {
    let value = serde_json::to_vec(&w.times()).expect("a list of numbers serialises");
    let _ = reporter
        .store()
        .write(|tx| crate::store::set_meta(tx, FAILURES_KEY, &value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_read_at_an_offset_and_short_files_are_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0.age");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        assert_eq!(read_at(&p, 70_000, 1000).unwrap(), &data[70_000..71_000]);
        assert!(read_at(&p, 199_990, 100).is_err());
        let want = crate::crypto::hex(&crate::crypto::sha256(&data));
        assert_eq!(hash_file(&p, 200_000).unwrap(), want);
        assert!(hash_file(&p, 200_001).is_err());
        assert!(hash_file(&dir.path().join("missing"), 1).is_err());
    }
}
