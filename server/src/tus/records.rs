//! The upload and report rows: creation per (report, part), progress, completion, removal.
//!
//! Each (report id, part) pair is one upload however often a phone retries, which the
//! `UNIQUE (report, part)` constraint and the single writer guarantee. A report row is made
//! with its first upload (holding the token hash and part count every later part must
//! match) and gets `received_at` in the same transaction that completes its last part.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::metadata::UploadMeta;

/// One upload as stored.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The upload id (URL and blob name).
    pub id: String,
    /// The report it belongs to.
    pub report: String,
    /// The part index.
    pub part: u32,
    /// `Upload-Length`.
    pub length: u64,
    /// Bytes received and fsynced.
    pub offset: u64,
    /// Expected SHA-256 of the whole part, lowercase hex.
    pub sha256: String,
    /// Last progress (Unix seconds); expiry counts from here.
    pub progress_at: i64,
    /// True once the part matched its hash.
    pub completed: bool,
    /// True once every part of the report is complete.
    pub report_received: bool,
}

impl Upload {
    /// True for an incomplete upload without progress for `ttl_secs` at `now`.
    pub fn is_expired(&self, ttl_secs: i64, now: i64) -> bool {
        !self.completed && self.progress_at.saturating_add(ttl_secs) <= now
    }
}

const SELECT: &str = "SELECT u.id, u.report, u.part, u.length, u.upload_offset, u.sha256,
        u.progress_at, u.completed_at IS NOT NULL, r.received_at IS NOT NULL
    FROM uploads u JOIN reports r ON r.id = u.report";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Upload> {
    Ok(Upload {
        id: r.get(0)?,
        report: r.get(1)?,
        part: r.get(2)?,
        length: r.get::<_, i64>(3)? as u64,
        offset: r.get::<_, i64>(4)? as u64,
        sha256: r.get(5)?,
        progress_at: r.get(6)?,
        completed: r.get(7)?,
        report_received: r.get(8)?,
    })
}

/// The upload with this id.
pub fn find(conn: &Connection, id: &str) -> rusqlite::Result<Option<Upload>> {
    conn.query_row(&format!("{SELECT} WHERE u.id = ?1"), [id], row)
        .optional()
}

/// Why a creation was refused.
#[derive(Debug)]
pub enum CreateError {
    /// The token does not match the report's (403).
    Token,
    /// The request contradicts what is stored (409).
    Conflict(&'static str),
    /// The database failed.
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for CreateError {
    fn from(e: rusqlite::Error) -> Self {
        CreateError::Db(e)
    }
}

/// The result of a creation.
pub struct Created {
    /// The upload for the (report, part) pair.
    pub upload: Upload,
    /// True when it already existed (an idempotent retry).
    pub existed: bool,
    /// An expired upload for the same pair that was replaced; its blob must go.
    pub replaced: Option<String>,
}

fn hashes_equal(a: &str, b: &str) -> bool {
    // Constant time, so that response timing says nothing about a stored token hash.
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Finds or creates the upload for the metadata's (report, part).
pub fn create(
    tx: &Transaction,
    meta: &UploadMeta,
    length: u64,
    ttl_secs: i64,
    now: i64,
) -> Result<Created, CreateError> {
    let report: Option<(u32, String)> = tx
        .query_row(
            "SELECT part_count, token_hash FROM reports WHERE id = ?1",
            [&meta.report],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let mut replaced = None;
    match &report {
        Some((_, token_hash)) if !hashes_equal(token_hash, &meta.token_hash) => {
            return Err(CreateError::Token);
        }
        Some((parts, _)) if *parts != meta.parts => {
            return Err(CreateError::Conflict(
                "parts differs from the report's earlier uploads",
            ));
        }
        _ => {}
    }
    let existing = tx
        .query_row(
            &format!("{SELECT} WHERE u.report = ?1 AND u.part = ?2"),
            params![meta.report, meta.part],
            row,
        )
        .optional()?;
    if let Some(u) = existing {
        if u.is_expired(ttl_secs, now) {
            tx.execute("DELETE FROM uploads WHERE id = ?1", [&u.id])?;
            replaced = Some(u.id);
        } else if u.length != length {
            return Err(CreateError::Conflict(
                "Upload-Length differs from the existing upload",
            ));
        } else if u.sha256 != meta.sha256 {
            return Err(CreateError::Conflict(
                "sha256 differs from the existing upload",
            ));
        } else {
            return Ok(Created {
                upload: u,
                existed: true,
                replaced: None,
            });
        }
    }
    if report.is_none() {
        tx.execute(
            "INSERT INTO reports (id, part_count, token_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![meta.report, meta.parts, meta.token_hash, now],
        )?;
    }
    let id = berani_core::crypto::random_id();
    tx.execute(
        "INSERT INTO uploads (id, report, part, length, sha256, created_at, progress_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![id, meta.report, meta.part, length as i64, meta.sha256, now],
    )?;
    Ok(Created {
        upload: Upload {
            id,
            report: meta.report.clone(),
            part: meta.part,
            length,
            offset: 0,
            sha256: meta.sha256.clone(),
            progress_at: now,
            completed: false,
            report_received: false,
        },
        existed: false,
        replaced,
    })
}

/// Records fsynced progress.
pub fn set_offset(tx: &Transaction, id: &str, offset: u64, now: i64) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE uploads SET upload_offset = ?2, progress_at = ?3 WHERE id = ?1",
        params![id, offset as i64, now],
    )?;
    Ok(())
}

/// Marks a part complete; when it was the report's last, marks the report received and
/// returns true.
pub fn complete(tx: &Transaction, upload: &Upload, now: i64) -> rusqlite::Result<bool> {
    tx.execute(
        "UPDATE uploads SET upload_offset = length, progress_at = ?2, completed_at = ?2
         WHERE id = ?1",
        params![upload.id, now],
    )?;
    if upload.part == 0 {
        // The report document is what the team acts on: the case opens now, even while
        // attachments are still on their way, and its one-day clock starts.
        crate::desk::cases::open_case(tx, &upload.report, now)?;
    }
    let (done, parts): (u32, u32) = tx.query_row(
        "SELECT (SELECT count(*) FROM uploads WHERE report = ?1 AND completed_at IS NOT NULL),
                part_count
         FROM reports WHERE id = ?1",
        [&upload.report],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    if done < parts {
        return Ok(false);
    }
    let n = tx.execute(
        "UPDATE reports SET received_at = ?2 WHERE id = ?1 AND received_at IS NULL",
        params![upload.report, now],
    )?;
    Ok(n == 1)
}

/// Removes an upload row, and its report row when that was the last upload of a report
/// that never arrived whole.
pub fn delete(tx: &Transaction, id: &str, report: &str) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM uploads WHERE id = ?1", [id])?;
    tx.execute(
        "DELETE FROM reports WHERE id = ?1 AND received_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM uploads WHERE report = ?1)",
        [report],
    )?;
    Ok(())
}

/// Incomplete uploads whose last progress is at or before `cutoff`.
pub fn expired(conn: &Connection, cutoff: i64) -> rusqlite::Result<Vec<Upload>> {
    let mut st = conn.prepare(&format!(
        "{SELECT} WHERE u.completed_at IS NULL AND u.progress_at <= ?1"
    ))?;
    st.query_map([cutoff], row)?.collect()
}

/// Every upload id in the database.
pub fn ids(conn: &Connection) -> rusqlite::Result<std::collections::HashSet<String>> {
    let mut st = conn.prepare("SELECT id FROM uploads")?;
    st.query_map([], |r| r.get(0))?.collect()
}

/// A received report: when it arrived (Unix seconds) and its parts (index, size, sha256).
pub type Received = (i64, Vec<(u32, u64, String)>);

/// A received report's parts, when `token_hash` is its token's.
pub fn received_parts(
    conn: &Connection,
    report: &str,
    token_hash: &str,
) -> rusqlite::Result<Option<Received>> {
    let r: Option<(String, Option<i64>)> = conn
        .query_row(
            "SELECT token_hash, received_at FROM reports WHERE id = ?1",
            [report],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((stored, Some(received_at))) = r else {
        return Ok(None);
    };
    if !hashes_equal(&stored, token_hash) {
        return Ok(None);
    }
    let mut st = conn.prepare(
        "SELECT part, length, sha256 FROM uploads WHERE report = ?1 AND completed_at IS NOT NULL
         ORDER BY part",
    )?;
    let parts = st
        .query_map([report], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some((received_at, parts)))
}
