//! The audit log: append-only and hash-chained.
//!
//! Every view of decrypted content, every export, every key operation and every stage or
//! assignment change is one row: when, who, what, on which case or user, and a short detail
//! that never holds report content. Each row's `hash` is SHA-256 over the previous row's hash
//! and this row's fields, so editing, deleting or reordering a row breaks the chain from there
//! on, and [`verify`] names the first row that does not fit. Triggers refuse `UPDATE` and
//! `DELETE` on the table, so the server itself cannot rewrite history by mistake; someone with
//! the database file can, but not without the chain showing it (unless they rewrite every
//! later row too — keep copies of [`head`] elsewhere, e.g. in the daily report, to catch that).

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Result;

/// The hash the first row chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened. Stored as the string; kept in one place so that filters can list them.
pub mod action {
    /// A successful desk login.
    pub const LOGIN: &str = "login";
    /// A refused desk login (wrong password, wrong code, disabled, throttled).
    pub const LOGIN_FAILED: &str = "login_failed";
    /// A logout.
    pub const LOGOUT: &str = "logout";
    /// Decrypted report content was shown (the case page).
    pub const VIEW_CASE: &str = "view_case";
    /// A decrypted attachment was sent to a browser.
    pub const VIEW_ATTACHMENT: &str = "view_attachment";
    /// Line-level export (one row per case).
    pub const EXPORT_LINES: &str = "export_lines";
    /// Aggregate statistics export.
    pub const EXPORT_AGGREGATES: &str = "export_aggregates";
    /// The intake identity printed by `key export`.
    pub const KEY_EXPORT: &str = "key_export";
    /// The intake identity wrapped for a user.
    pub const KEY_GRANT: &str = "key_grant";
    /// A user's wrapping deleted.
    pub const KEY_REVOKE: &str = "key_revoke";
    /// A user's wrapping replaced under a new password.
    pub const KEY_REWRAP: &str = "key_rewrap";
    /// A case moved to another stage.
    pub const STAGE: &str = "stage";
    /// A case assigned or reassigned.
    pub const ASSIGN: &str = "assign";
    /// A sealed note added to a case.
    pub const NOTE: &str = "note";
    /// A case referred to another office.
    pub const REFERRAL: &str = "referral";
    /// A desk account created.
    pub const USER_CREATE: &str = "user_create";
    /// A desk account disabled.
    pub const USER_DISABLE: &str = "user_disable";
    /// A desk account enabled again.
    pub const USER_ENABLE: &str = "user_enable";
    /// A user's role or details changed.
    pub const USER_UPDATE: &str = "user_update";
    /// An admin reset a user's password.
    pub const PASSWORD_RESET: &str = "password_reset";
    /// A user changed their own password.
    pub const PASSWORD_CHANGE: &str = "password_change";
    /// A second factor switched on.
    pub const TOTP_ENABLE: &str = "totp_enable";
    /// A second factor switched off.
    pub const TOTP_DISABLE: &str = "totp_disable";
    /// A reply to the reporter, sealed to the reporter's follow-up key and the intake key.
    pub const FOLLOWUP_REPLY: &str = "followup_reply";
    /// A volunteer code created.
    pub const VOLUNTEER_CREATE: &str = "volunteer_create";
    /// A volunteer code switched off.
    pub const VOLUNTEER_DISABLE: &str = "volunteer_disable";
    /// A volunteer code switched on again.
    pub const VOLUNTEER_ENABLE: &str = "volunteer_enable";
    /// A new APK offered for download on the public page.
    pub const APK_UPLOAD: &str = "apk_upload";

    /// Every action, for the filter.
    pub const ALL: &[&str] = &[
        LOGIN,
        LOGIN_FAILED,
        LOGOUT,
        VIEW_CASE,
        VIEW_ATTACHMENT,
        EXPORT_LINES,
        EXPORT_AGGREGATES,
        KEY_EXPORT,
        KEY_GRANT,
        KEY_REVOKE,
        KEY_REWRAP,
        STAGE,
        ASSIGN,
        NOTE,
        REFERRAL,
        USER_CREATE,
        USER_DISABLE,
        USER_ENABLE,
        USER_UPDATE,
        PASSWORD_RESET,
        PASSWORD_CHANGE,
        TOTP_ENABLE,
        TOTP_DISABLE,
        FOLLOWUP_REPLY,
        VOLUNTEER_CREATE,
        VOLUNTEER_DISABLE,
        VOLUNTEER_ENABLE,
        APK_UPLOAD,
    ];
}

/// One row of the log.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    /// Row number, in order of writing.
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    /// The user (or `system`, or the command line's `admin`).
    pub actor: String,
    /// One of [`action`].
    pub action: String,
    /// The case (report id) or user the action was on; empty when none.
    pub subject: String,
    /// A short detail without report content, e.g. the new stage.
    pub detail: String,
    /// The previous row's hash.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

fn chain_hash(
    prev: &str,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    // A JSON array is an unambiguous encoding of the fields (no field can end early).
    let input = serde_json::to_vec(&["berani-audit-v1", prev, at, actor, action, subject, detail])
        .expect("strings serialise");
    berani_core::crypto::hex(&berani_core::crypto::sha256(&input))
}

fn last_hash(tx: &Connection) -> rusqlite::Result<String> {
    Ok(tx
        .query_row("SELECT hash FROM audit ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string()))
}

/// The current time as the log writes it.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds")
        .format(&Rfc3339)
        .expect("RFC 3339 formats")
}

/// Appends one row in the caller's transaction, so that the action and its trace commit
/// together or not at all.
pub fn append(
    tx: &Transaction,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> rusqlite::Result<i64> {
    let prev = last_hash(tx)?;
    let at = now_rfc3339();
    let hash = chain_hash(&prev, &at, actor, action, subject, detail);
    tx.execute(
        "INSERT INTO audit (at, actor, action, subject, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![at, actor, action, subject, detail, prev, hash],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Fills in the chain over rows written before the log was chained (schema 1), in order.
/// Only the schema upgrade calls this, before the append-only triggers exist.
pub fn rechain(tx: &Transaction) -> Result<()> {
    let rows: Vec<(i64, String, String, String, String, String)> = {
        let mut st =
            tx.prepare("SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id")?;
        st.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut prev = GENESIS.to_string();
    for (id, at, actor, action, subject, detail) in rows {
        let hash = chain_hash(&prev, &at, &actor, &action, &subject, &detail);
        tx.execute(
            "UPDATE audit SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            params![id, prev, hash],
        )?;
        prev = hash;
    }
    Ok(())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Rows checked.
    pub rows: u64,
    /// The first row whose hash or link does not fit, if any.
    pub first_bad: Option<i64>,
    /// The last row's hash (the chain's head).
    pub head: String,
}

/// Walks the whole chain.
pub fn verify(conn: &Connection) -> Result<Verified> {
    let mut st = conn.prepare(
        "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY id",
    )?;
    let mut rows = st.query([])?;
    let mut prev = GENESIS.to_string();
    let mut n = 0;
    let mut first_bad = None;
    while let Some(r) = rows.next()? {
        n += 1;
        let e = entry(r)?;
        let want = chain_hash(&prev, &e.at, &e.actor, &e.action, &e.subject, &e.detail);
        if first_bad.is_none() && (e.prev_hash != prev || e.hash != want) {
            first_bad = Some(e.id);
        }
        prev = e.hash;
    }
    Ok(Verified {
        rows: n,
        first_bad,
        head: prev,
    })
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

/// Which rows [`list`] returns; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact user.
    pub actor: String,
    /// Exact action.
    pub action: String,
    /// Exact case or user.
    pub subject: String,
    /// Rows before this id (for paging back), when set.
    pub before: Option<i64>,
    /// At most this many rows (newest first).
    pub limit: u32,
}

/// The newest rows matching `f`, newest first.
pub fn list(conn: &Connection, f: &Filter) -> Result<Vec<Entry>> {
    let mut st = conn.prepare(
        "SELECT id, at, actor, action, subject, detail, prev_hash, hash FROM audit
         WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2)
           AND (?3 = '' OR subject = ?3) AND (?4 IS NULL OR id < ?4)
         ORDER BY id DESC LIMIT ?5",
    )?;
    let rows = st
        .query_map(
            params![f.actor, f.action, f.subject, f.before, f.limit.max(1)],
            entry,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        schema::create(&c).unwrap();
        c
    }

    #[test]
    fn chains_verifies_and_shows_tampering() {
        let mut c = db();
        let tx = c.transaction().unwrap();
        append(&tx, "ani", action::VIEW_CASE, "r1", "").unwrap();
        append(&tx, "budi", action::STAGE, "r1", "assessed").unwrap();
        append(&tx, "ani", action::ASSIGN, "r2", "budi").unwrap();
        tx.commit().unwrap();
        let v = verify(&c).unwrap();
        assert_eq!(v.rows, 3);
        assert_eq!(v.first_bad, None);

        // The server's own connection cannot rewrite a row…
        let err = c
            .execute("UPDATE audit SET detail = 'terminated' WHERE id = 2", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert!(c.execute("DELETE FROM audit WHERE id = 1", []).is_err());

        // …and whoever edits the file past the triggers breaks the chain at that row.
        c.execute_batch("DROP TRIGGER audit_append_only_update")
            .unwrap();
        c.execute("UPDATE audit SET detail = 'terminated' WHERE id = 2", [])
            .unwrap();
        assert_eq!(verify(&c).unwrap().first_bad, Some(2));
    }

    #[test]
    fn lists_newest_first_with_filters() {
        let mut c = db();
        let tx = c.transaction().unwrap();
        for i in 0..5 {
            append(
                &tx,
                if i % 2 == 0 { "ani" } else { "budi" },
                action::NOTE,
                "r",
                "",
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let all = list(
            &c,
            &Filter {
                limit: 10,
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(
            all.iter().map(|e| e.id).collect::<Vec<_>>(),
            [5, 4, 3, 2, 1]
        );
        let ani = list(
            &c,
            &Filter {
                actor: "ani".into(),
                limit: 10,
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(ani.len(), 3);
        let page = list(
            &c,
            &Filter {
                before: Some(3),
                limit: 1,
                ..Filter::default()
            },
        )
        .unwrap();
        assert_eq!(page[0].id, 2);
    }
}
