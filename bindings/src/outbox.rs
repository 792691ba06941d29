//! The outbox as Kotlin sees it: sealed reports, their state, and upload progress per part.
//!
//! Read-only snapshots; the uploader (`sync.rs`) moves reports along. Nothing here can be read
//! to learn what a report says: the core keeps only ids, sizes, hashes, times and the
//! category (sealed) for the reporter's own list.

use std::time::SystemTime;

use berani_core::outbox as core;

use crate::choices::Category;

/// Where a report is in its journey: queued → sending → delivered, or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReportState {
    /// Sealed and waiting for a network.
    Queued,
    /// Uploading.
    Sending,
    /// The server confirmed every part and its signed receipt is kept.
    Delivered,
    /// Stopped for good; see the failure reason.
    Failed,
}

impl From<core::ReportState> for ReportState {
    fn from(s: core::ReportState) -> Self {
        match s {
            core::ReportState::Queued => ReportState::Queued,
            core::ReportState::Sending => ReportState::Sending,
            core::ReportState::Delivered => ReportState::Delivered,
            core::ReportState::Failed => ReportState::Failed,
        }
    }
}

/// A permanent reason a report could not be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum FailureReason {
    /// The agency profile expired before delivery.
    ProfileExpired,
    /// The server refused the report for good.
    RejectedByServer,
    /// The sealed part on the phone is missing or damaged.
    PartDamaged,
}

impl From<core::FailureReason> for FailureReason {
    fn from(r: core::FailureReason) -> Self {
        match r {
            core::FailureReason::ProfileExpired => FailureReason::ProfileExpired,
            core::FailureReason::RejectedByServer => FailureReason::RejectedByServer,
            core::FailureReason::PartDamaged => FailureReason::PartDamaged,
        }
    }
}

/// What a part carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PartKind {
    /// Part 0: the report document (the text and answers).
    Report,
    /// An attachment.
    Attachment,
}

impl From<core::PartKind> for PartKind {
    fn from(k: core::PartKind) -> Self {
        match k {
            core::PartKind::Report => PartKind::Report,
            core::PartKind::Attachment => PartKind::Attachment,
        }
    }
}

/// One sealed part and how much of it the server has confirmed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartStatus {
    /// Part index; 0 is the report document.
    pub index: u32,
    /// What it carries.
    pub kind: PartKind,
    /// Sealed size in bytes.
    pub size: u64,
    /// Bytes the server has confirmed.
    pub sent: u64,
    /// The server has the whole part.
    pub done: bool,
}

/// A report in the outbox.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)] // Kotlin's toString too leaves the receipt out
pub struct OutboxReport {
    /// The report id (the draft's id).
    pub id: String,
    /// Its state.
    pub state: ReportState,
    /// When it was queued.
    pub queued_at: SystemTime,
    /// When its state last changed.
    pub updated_at: SystemTime,
    /// The category, for the reporter's own list.
    pub category: Option<Category>,
    /// When the reporter started the draft.
    pub drafted_at: SystemTime,
    /// The parts, in index order.
    pub parts: Vec<PartStatus>,
    /// Share of sealed bytes the server has confirmed, 0–100.
    pub percent: u8,
    /// Why it failed, when it did.
    pub failure: Option<FailureReason>,
    /// The server's signed receipt (JSON), once delivered and verified.
    pub receipt: Option<String>,
    /// Carried for someone else ("Titipan relawan"): only its state is known here.
    pub carried: bool,
}

impl std::fmt::Debug for OutboxReport {
    // The receipt proves that this phone made a report: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxReport")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("parts", &self.parts)
            .field("percent", &self.percent)
            .field("failure", &self.failure)
            .field("has_receipt", &self.receipt.is_some())
            .field("carried", &self.carried)
            .finish_non_exhaustive()
    }
}

impl From<core::OutboxReport> for OutboxReport {
    fn from(r: core::OutboxReport) -> Self {
        OutboxReport {
            percent: r.percent(),
            id: r.id,
            state: r.state.into(),
            queued_at: r.queued_at.into(),
            updated_at: r.updated_at.into(),
            category: r.category.map(Into::into),
            drafted_at: r.drafted_at.into(),
            parts: r
                .parts
                .into_iter()
                .map(|p| PartStatus {
                    index: p.idx,
                    kind: p.kind.into(),
                    size: p.size,
                    sent: p.sent,
                    done: p.done,
                })
                .collect(),
            failure: r.failure.map(Into::into),
            receipt: r.receipt,
            carried: r.carried,
        }
    }
}

/// A failure reason with what to tell the reporter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FailureReasonInfo {
    /// The reason.
    pub value: FailureReason,
    /// Its stable key, e.g. `profile_expired`.
    pub key: String,
    /// What to tell the reporter, in Indonesian.
    pub message_id: String,
    /// What to tell the reporter, in English.
    pub message_en: String,
}

/// Every failure reason with its messages.
#[uniffi::export]
pub fn failure_reasons() -> Vec<FailureReasonInfo> {
    [
        core::FailureReason::ProfileExpired,
        core::FailureReason::RejectedByServer,
        core::FailureReason::PartDamaged,
    ]
    .into_iter()
    .map(|r| FailureReasonInfo {
        value: r.into(),
        key: r.key().to_owned(),
        message_id: r.message_id().to_owned(),
        message_en: r.message_en().to_owned(),
    })
    .collect()
}
