//! Forgetting a delivered report: after delivery, the phone can drop its own copy of what
//! was sent and keep only what the reporter still needs.
//!
//! What stays: the report id, its state (`delivered`) and times, the server's signed receipt,
//! and the follow-up registration (receipt code and keys, sealed) with the message thread, so
//! the reporter can still read the team's replies and answer them. What goes: the sealed
//! parts (the report document and every attachment, as age files), their rows, the client
//! token, and the reporter's own summary (the category). Drafts and attached files are
//! already gone once a report is queued (submit deletes them in the same transaction).
//!
//! SQLite runs with `secure_delete=ON` (see [`crate::store`]), so deleted rows are
//! overwritten with zeros in the database file; after the change the write-ahead log is
//! checkpointed and truncated, so no older page image of the rows stays in it. The part
//! files are overwritten with zeros, fsynced and unlinked. A kill between the transaction and
//! the file deletion leaves part files that no row names; the next open sweeps them.
//!
//! The setting [`Reporter::set_forget_after_delivery`] (off by default: the reporter may want
//! to see what was sent) applies this to every report the moment the uploader marks it
//! delivered.

use rusqlite::{OptionalExtension, params};

use crate::error::{CoreError, Result};
use crate::outbox::Summary;
use crate::reporter::Reporter;
use crate::store::device_key::shred_file;
use crate::store::set_meta;

/// The `meta` key of the forget-after-delivery setting.
const SETTING: &str = "forget_after_delivery";

/// The [`CoreError::WrongState`] detail when the report is not delivered yet.
pub const NOT_DELIVERED: &str = "not delivered yet (forgetting it now would lose the report)";

impl Reporter {
    /// Destroys the phone's copy of a **delivered** report (see the module documentation):
    /// sealed parts, their rows, the token and the summary go; the id, the state, the signed
    /// receipt and the follow-up (code, keys, messages) stay. Forgetting twice is harmless.
    /// A report not yet delivered is refused with [`CoreError::WrongState`]
    /// ([`NOT_DELIVERED`]) and nothing changes: forgetting it would lose the report.
    pub fn forget_delivered(&self, report_id: &str) -> Result<()> {
        // A report carried for someone else stays marked so (its follow-up pair, needed only
        // for the upload, goes).
        let carried = self.outbox().get(report_id)?.is_some_and(|r| r.carried);
        let parts = self.store().write(|tx| {
            let row: Option<(String, i64)> = tx
                .query_row(
                    "SELECT state, queued_at FROM reports WHERE id = ?1",
                    [report_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (state, queued_at) = row.ok_or(CoreError::NotFound("report"))?;
            if state != "delivered" {
                return Err(CoreError::WrongState(NOT_DELIVERED));
            }
            let parts: Vec<u32> = tx
                .prepare("SELECT idx FROM parts WHERE report_id = ?1")?
                .query_map([report_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            // The summary keeps no category and no draft time of its own.
            let summary = Summary {
                category: None,
                drafted_at: time::OffsetDateTime::from_unix_timestamp(queued_at)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                carried: carried.then_some(crate::outbox::Carried { followup: None }),
            };
            let sealed = self.store().records().seal(
                format!("reports:{report_id}").as_bytes(),
                &serde_json::to_vec(&summary).expect("summary serialises"),
            );
            tx.execute("DELETE FROM parts WHERE report_id = ?1", [report_id])?;
            tx.execute(
                "UPDATE reports SET summary = ?2, token = NULL WHERE id = ?1",
                params![report_id, sealed],
            )?;
            Ok(parts)
        })?;
        let dir = self.store().outbox_dir(report_id);
        for idx in parts {
            shred_file(&self.store().part_path(report_id, idx))?;
        }
        if dir.exists() {
            // Anything else left in the folder (a part written by an interrupted submit).
            for entry in std::fs::read_dir(&dir)? {
                shred_file(&entry?.path())?;
            }
            std::fs::remove_dir(&dir)?;
            self.store().sync_dir(&self.store().home().join("outbox"))?;
        }
        self.store().checkpoint()
    }

    /// True when delivered reports are forgotten automatically (off by default).
    pub fn forget_after_delivery(&self) -> Result<bool> {
        Ok(self
            .store()
            .meta(SETTING)?
            .is_some_and(|v| v.as_slice() == b"1"))
    }

    /// Turns forgetting after delivery on or off. Turning it on also forgets every report
    /// already delivered; returns how many were forgotten now.
    pub fn set_forget_after_delivery(&self, on: bool) -> Result<u32> {
        self.store()
            .write(|tx| set_meta(tx, SETTING, if on { b"1" } else { b"0" }))?;
        if !on {
            return Ok(0);
        }
        let delivered: Vec<String> = self.store().read(|c| {
            let mut st = c.prepare(
                "SELECT id FROM reports r WHERE state = 'delivered'
                 AND EXISTS (SELECT 1 FROM parts p WHERE p.report_id = r.id)",
            )?;
            let rows = st.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        for id in &delivered {
            self.forget_delivered(id)?;
        }
        Ok(delivered.len() as u32)
    }

    /// Called by the uploader once a report is delivered: forgets it if the setting is on.
    pub(crate) fn after_delivery(&self, report_id: &str) -> Result<()> {
        crate::followup::registration_done(self, report_id)?;
        if self.forget_after_delivery()? {
            self.forget_delivered(report_id)?;
        }
        Ok(())
    }
}
