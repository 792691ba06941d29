//! The outbox: sealed reports waiting to be delivered, and the states they go through.
//!
//! ```text
//! draft ──submit──▶ queued ──▶ sending ──▶ delivered (with the server's receipt)
//!                      │           │
//!                      └───────────┴──▶ failed (permanent reason)
//! ```
//! Queueing is one durable transaction: after a crash a report is either still a draft or
//! fully queued. The uploader reads [`Outbox::pending_parts`] in priority order and records
//! progress with the transition methods here; the server's offset stays the truth.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{CoreError, Result};
use crate::model::Category;
use crate::store::Store;

/// Where a report is in its journey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Sealed and waiting for a network.
    Queued,
    /// Uploading.
    Sending,
    /// The server confirmed every part.
    Delivered,
    /// Stopped for good; see the failure reason.
    Failed,
}

impl ReportState {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            ReportState::Queued => "queued",
            ReportState::Sending => "sending",
            ReportState::Delivered => "delivered",
            ReportState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => ReportState::Queued,
            "sending" => ReportState::Sending,
            "delivered" => ReportState::Delivered,
            "failed" => ReportState::Failed,
            _ => return Err(CoreError::RecordCorrupt),
        })
    }
}

/// A permanent reason a report could not be delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureReason {
    /// The agency profile expired before delivery.
    ProfileExpired,
    /// The server refused the report for good.
    RejectedByServer,
    /// The sealed part on the phone is missing or damaged.
    PartDamaged,
}

impl FailureReason {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            FailureReason::ProfileExpired => "profile_expired",
            FailureReason::RejectedByServer => "rejected_by_server",
            FailureReason::PartDamaged => "part_damaged",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            FailureReason::ProfileExpired,
            FailureReason::RejectedByServer,
            FailureReason::PartDamaged,
        ]
        .into_iter()
        .find(|r| r.key() == s)
    }

    /// What to tell the reporter, in Indonesian.
    pub fn message_id(self) -> &'static str {
        match self {
            FailureReason::ProfileExpired => {
                "Gagal: data lembaga sudah kedaluwarsa. Perbarui aplikasi lalu kirim ulang."
            }
            FailureReason::RejectedByServer => {
                "Gagal: laporan ditolak server. Hubungi hotline lembaga."
            }
            FailureReason::PartDamaged => "Gagal: file laporan di ponsel rusak. Buat laporan baru.",
        }
    }

    /// What to tell the reporter, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            FailureReason::ProfileExpired => {
                "Failed: the agency data has expired. Update the app, then send again."
            }
            FailureReason::RejectedByServer => {
                "Failed: the server refused the report. Call the agency hotline."
            }
            FailureReason::PartDamaged => {
                "Failed: the report's file on this phone is damaged. Make a new report."
            }
        }
    }
}

/// What a part carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// Part 0: the report document.
    Report,
    /// An attachment.
    Attachment,
}

impl PartKind {
    /// Stable key, as in the upload metadata.
    pub fn key(self) -> &'static str {
        match self {
            PartKind::Report => "report",
            PartKind::Attachment => "attachment",
        }
    }
}

/// A sealed part and its upload progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartStatus {
    /// Part index; 0 is the report document.
    pub idx: u32,
    /// What it carries.
    pub kind: PartKind,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the ciphertext.
    pub sha256: String,
    /// Bytes the server has confirmed.
    pub sent: u64,
    /// The server has the whole part.
    pub done: bool,
    /// Where the upload lives on the server, once created.
    pub upload_url: Option<String>,
}

/// A report in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxReport {
    /// The report id.
    pub id: String,
    /// Its state.
    pub state: ReportState,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub queued_at: OffsetDateTime,
    /// When its state last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The category, for the reporter's own list (stored sealed).
    pub category: Option<Category>,
    /// When the reporter started the draft.
    #[serde(with = "time::serde::rfc3339")]
    pub drafted_at: OffsetDateTime,
    /// The parts.
    pub parts: Vec<PartStatus>,
    /// Why it failed, when it did.
    pub failure: Option<FailureReason>,
    /// The server's signed receipt, once delivered.
    pub receipt: Option<String>,
    /// Carried for someone else (imported from a relay bundle): this phone only delivers it
    /// and knows nothing of what it says.
    pub carried: bool,
}

impl OutboxReport {
    /// Share of ciphertext bytes confirmed by the server, 0–100.
    pub fn percent(&self) -> u8 {
        let total: u64 = self.parts.iter().map(|p| p.size).sum();
        let sent: u64 = self
            .parts
            .iter()
            .map(|p| if p.done { p.size } else { p.sent })
            .sum();
        if total == 0 {
            return 0;
        }
        (sent * 100 / total).min(100) as u8
    }
}

/// The reporter's own summary of a queued report, kept sealed with the device key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Summary {
    pub category: Option<Category>,
    #[serde(with = "time::serde::rfc3339")]
    pub drafted_at: OffsetDateTime,
    /// Set for a report carried for someone else (see [`crate::relay`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<Carried>,
}

/// What a phone keeps of a report it carries for someone else: the follow-up pair part 0's
/// upload metadata needs (the receipt code stays with the reporter).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Carried {
    pub followup: Option<crate::relay::RelayFollowup>,
}

/// A part waiting to be uploaded, in priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPart {
    /// The report.
    pub report_id: String,
    /// How many parts the report has.
    pub part_count: u32,
    /// The part.
    pub part: PartStatus,
}

/// Read and transition access to the outbox of one store.
pub struct Outbox<'a> {
    pub(crate) store: &'a Store,
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn ts(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn part_from_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<PartStatus> {
    let kind: String = r.get(at + 1)?;
    Ok(PartStatus {
        idx: r.get(at)?,
        kind: if kind == "report" {
            PartKind::Report
        } else {
            PartKind::Attachment
        },
        size: r.get(at + 2)?,
        sha256: r.get(at + 3)?,
        sent: r.get(at + 4)?,
        done: r.get(at + 5)?,
        upload_url: r.get(at + 6)?,
    })
}

const PART_COLS: &str = "p.idx, p.kind, p.size, p.sha256, p.sent, p.done, p.upload_url";

impl Outbox<'_> {
    /// Every report in the outbox, newest first.
    pub fn list(&self) -> Result<Vec<OutboxReport>> {
        let rows = self.store.read(|c| {
            let mut st = c.prepare(
                "SELECT id, state, queued_at, updated_at, failure, receipt, summary
                 FROM reports ORDER BY seq DESC",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<Vec<u8>>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter()
            .map(|(id, state, q, u, failure, receipt, summary)| {
                let summary = self.open_summary(&id, &summary)?;
                Ok(OutboxReport {
                    parts: self.parts(&id)?,
                    state: ReportState::parse(&state)?,
                    queued_at: ts(q),
                    updated_at: ts(u),
                    category: summary.category,
                    drafted_at: summary.drafted_at,
                    failure: failure.as_deref().and_then(FailureReason::parse),
                    receipt: receipt.map(|r| String::from_utf8_lossy(&r).into_owned()),
                    carried: summary.carried.is_some(),
                    id,
                })
            })
            .collect()
    }

    /// One report, if it is in the outbox.
    pub fn get(&self, id: &str) -> Result<Option<OutboxReport>> {
        Ok(self.list()?.into_iter().find(|r| r.id == id))
    }

    fn open_summary(&self, id: &str, sealed: &[u8]) -> Result<Summary> {
        let pt = self
            .store
            .records()
            .open(format!("reports:{id}").as_bytes(), sealed)
            .ok_or(CoreError::RecordCorrupt)?;
        serde_json::from_slice(&pt).map_err(|_| CoreError::RecordCorrupt)
    }

    fn parts(&self, id: &str) -> Result<Vec<PartStatus>> {
        self.store.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT {PART_COLS} FROM parts p WHERE p.report_id = ?1 ORDER BY p.idx"
            ))?;
            let rows = st.query_map([id], |r| part_from_row(r, 0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Parts still to upload, in delivery order: every report's document part first (oldest
    /// report first), then attachments, smallest first.
    pub fn pending_parts(&self) -> Result<Vec<PendingPart>> {
        self.store.read(|c| {
            let mut st = c.prepare(&format!(
                "SELECT r.id, r.part_count, {PART_COLS}
                 FROM parts p JOIN reports r ON r.id = p.report_id
                 WHERE r.state IN ('queued', 'sending') AND p.done = 0
                 ORDER BY p.idx != 0, CASE WHEN p.idx = 0 THEN r.seq ELSE p.size END,
                          r.seq, p.idx"
            ))?;
            let rows = st.query_map([], |r| {
                Ok(PendingPart {
                    report_id: r.get(0)?,
                    part_count: r.get(1)?,
                    part: part_from_row(r, 2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The follow-up pair of a report carried for someone else, if it has one.
    pub(crate) fn carried_followup(
        &self,
        report_id: &str,
    ) -> Result<Option<(String, zeroize::Zeroizing<String>)>> {
        let sealed: Option<Vec<u8>> = self.store.read(|c| {
            Ok(c.query_row(
                "SELECT summary FROM reports WHERE id = ?1",
                [report_id],
                |r| r.get(0),
            )
            .optional()?)
        })?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        Ok(self
            .open_summary(report_id, &sealed)?
            .carried
            .and_then(|c| c.followup)
            .map(|f| (f.lookup, zeroize::Zeroizing::new(f.auth))))
    }

    /// The report's client token: made at submit, or on first use for a report queued by an
    /// older version; kept sealed.
    pub fn client_token(&self, report_id: &str) -> Result<String> {
        let aad = format!("reports-token:{report_id}");
        self.store.write(|tx| {
            let sealed: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT token FROM reports WHERE id = ?1",
                    [report_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(CoreError::NotFound("report"))?;
            if let Some(sealed) = sealed {
                let pt = self
                    .store
                    .records()
                    .open(aad.as_bytes(), &sealed)
                    .ok_or(CoreError::RecordCorrupt)?;
                return String::from_utf8(pt.to_vec()).map_err(|_| CoreError::RecordCorrupt);
            }
            let token = crate::protocol::new_token();
            let sealed = self.store.records().seal(aad.as_bytes(), token.as_bytes());
            tx.execute(
                "UPDATE reports SET token = ?2 WHERE id = ?1",
                params![report_id, sealed],
            )?;
            Ok(token)
        })
    }

    /// Records the server's upload URL and confirmed offset of a part; the report becomes
    /// `sending`. Callers save progress at most about once a second.
    pub fn record_progress(
        &self,
        report_id: &str,
        idx: u32,
        upload_url: &str,
        sent: u64,
    ) -> Result<()> {
        self.store.write(|tx| {
            expect_open(tx, report_id)?;
            tx.execute(
                "UPDATE parts SET upload_url = ?3, sent = ?4
                 WHERE report_id = ?1 AND idx = ?2 AND done = 0",
                params![report_id, idx, upload_url, sent],
            )?;
            tx.execute(
                "UPDATE reports SET state = 'sending', updated_at = ?2
                 WHERE id = ?1 AND state = 'queued'",
                params![report_id, now()],
            )?;
            Ok(())
        })
    }

    /// Records that the server holds the whole part.
    pub fn mark_part_done(&self, report_id: &str, idx: u32) -> Result<()> {
        self.store.write(|tx| {
            expect_open(tx, report_id)?;
            let n = tx.execute(
                "UPDATE parts SET done = 1, sent = size WHERE report_id = ?1 AND idx = ?2",
                params![report_id, idx],
            )?;
            if n == 0 {
                return Err(CoreError::NotFound("part"));
            }
            tx.execute(
                "UPDATE reports SET state = 'sending', updated_at = ?2
                 WHERE id = ?1 AND state = 'queued'",
                params![report_id, now()],
            )?;
            Ok(())
        })
    }

    /// Records delivery with the server's receipt. Every part must be done.
    pub fn mark_delivered(&self, report_id: &str, receipt: &[u8]) -> Result<()> {
        self.store.write(|tx| {
            expect_open(tx, report_id)?;
            let open: i64 = tx.query_row(
                "SELECT count(*) FROM parts WHERE report_id = ?1 AND done = 0",
                [report_id],
                |r| r.get(0),
            )?;
            if open > 0 {
                return Err(CoreError::WrongState("still sending"));
            }
            tx.execute(
                "UPDATE reports SET state = 'delivered', receipt = ?2, updated_at = ?3
                 WHERE id = ?1",
                params![report_id, receipt, now()],
            )?;
            Ok(())
        })
    }

    /// Stops a report for good with a permanent reason.
    pub fn mark_failed(&self, report_id: &str, reason: FailureReason) -> Result<()> {
        self.store.write(|tx| {
            expect_open(tx, report_id)?;
            tx.execute(
                "UPDATE reports SET state = 'failed', failure = ?2, updated_at = ?3
                 WHERE id = ?1",
                params![report_id, reason.key(), now()],
            )?;
            Ok(())
        })
    }
}

fn expect_open(tx: &rusqlite::Transaction<'_>, report_id: &str) -> Result<()> {
    let state: Option<String> = tx
        .query_row(
            "SELECT state FROM reports WHERE id = ?1",
            [report_id],
            |r| r.get(0),
        )
        .optional()?;
    match state.as_deref() {
        None => Err(CoreError::NotFound("report")),
        Some("queued" | "sending") => Ok(()),
        Some("delivered") => Err(CoreError::WrongState("delivered")),
        Some(_) => Err(CoreError::WrongState("failed")),
    }
}
