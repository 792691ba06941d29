//! Anonymous follow-up as Kotlin sees it: the receipt code shown after submit, the case's
//! status in plain words, the sealed message thread, and replies queued in the outbox.
//!
//! One call each into the core (`berani_core::followup`). A receipt typed by hand is read
//! forgivingly; a typo is `InvalidInput` (field `receipt`, reason `mistyped`), an unknown or
//! wrong code is `NotFound` (`receipt`), and too many tries is `Network`.

use std::time::SystemTime;

use berani_core::followup as core;

use crate::error::Result;
use crate::reporter::Reporter;
use crate::runtime::on_runtime;

/// A report's receipt code, with what to tell the reporter about it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptCode {
    /// The code in groups, e.g. `7K2Q-D9XR-T4M1-0B8S-HN3C-V`.
    pub code: String,
    /// Advice to show beside it, in Indonesian.
    pub advice_id: String,
    /// Advice to show beside it, in English.
    pub advice_en: String,
}

/// A case's status as the reporter sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CaseStatus {
    /// Diterima.
    Received,
    /// Sedang ditangani.
    InProgress,
    /// Selesai.
    Closed,
}

impl From<core::CaseStatus> for CaseStatus {
    fn from(s: core::CaseStatus) -> Self {
        match s {
            core::CaseStatus::Received => CaseStatus::Received,
            core::CaseStatus::InProgress => CaseStatus::InProgress,
            core::CaseStatus::Closed => CaseStatus::Closed,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum MessageSender {
    /// The handling team.
    Team,
    /// The reporter.
    Reporter,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FollowupMessage {
    /// The message id.
    pub id: String,
    /// Who wrote it.
    pub from: MessageSender,
    /// When the server stored it (or the phone queued it).
    pub at: SystemTime,
    /// The text; `None` for the reporter's own message sent from another phone.
    pub text: Option<String>,
    /// On the server; `false` while it waits in this phone's outbox.
    pub sent: bool,
}

/// A report's follow-up: status and messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FollowupThread {
    /// The report.
    pub report_id: String,
    /// The status.
    pub status: CaseStatus,
    /// The status in Indonesian (Diterima, Sedang ditangani, Selesai).
    pub status_id: String,
    /// The status in English.
    pub status_en: String,
    /// The messages.
    pub messages: Vec<FollowupMessage>,
}

impl From<core::Thread> for FollowupThread {
    fn from(t: core::Thread) -> Self {
        FollowupThread {
            report_id: t.report_id,
            status: t.status.into(),
            status_id: t.status.label_id().to_owned(),
            status_en: t.status.label_en().to_owned(),
            messages: t
                .messages
                .into_iter()
                .map(|m| FollowupMessage {
                    id: m.id,
                    from: match m.from {
                        core::Sender::Team => MessageSender::Team,
                        core::Sender::Reporter => MessageSender::Reporter,
                    },
                    at: m.at.into(),
                    text: m.text,
                    sent: m.sent,
                })
                .collect(),
        }
    }
}

#[uniffi::export]
impl Reporter {
    /// The receipt code of a report submitted (or followed up) on this phone, with advice.
    pub fn receipt_code(&self, report_id: String) -> Result<Option<ReceiptCode>> {
        Ok(self
            .core()
            .receipt_code(&report_id)?
            .map(|code| ReceiptCode {
                code,
                advice_id: core::RECEIPT_ADVICE_ID.to_owned(),
                advice_en: core::RECEIPT_ADVICE_EN.to_owned(),
            }))
    }

    /// Queues a message to the team about a report; the next sync sends it (offline first,
    /// never twice). Returns the message id.
    pub fn reply(&self, report_id: String, text: String) -> Result<String> {
        Ok(self.core().reply(&report_id, &text)?.id)
    }

    /// Messages to the team still waiting in this phone's outbox (a sync sends them).
    pub fn queued_messages(&self) -> Result<u32> {
        Ok(u32::try_from(self.core().queued_messages()?).unwrap_or(u32::MAX))
    }
}

// Run on the bindings' runtime: see runtime.rs.
#[uniffi::export]
impl Reporter {
    /// The status and messages of a report submitted (or followed up) on this phone.
    pub async fn followup(&self, report_id: String) -> Result<FollowupThread> {
        let core = self.shared_core();
        on_runtime(async move { Ok(core.followup(&report_id).await?.into()) }).await
    }

    /// The same from a receipt code typed by hand (any phone with the profile installed);
    /// the code is then kept on this phone, sealed.
    pub async fn followup_with_receipt(&self, code: String) -> Result<FollowupThread> {
        let core = self.shared_core();
        on_runtime(async move { Ok(core.followup_with_receipt(&code).await?.into()) }).await
    }
}
