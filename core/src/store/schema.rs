//! The on-device database schema and its migrations.
//!
//! Only ids, states, sizes, hashes and times are stored in clear. Everything a reporter
//! writes is in `body` columns sealed with the device key (see [`crate::crypto::RecordKey`]),
//! and so are the `meta` rows the core trusts (the pinned profile-signing key and the
//! installed profile, see [`SEALED_META`]).

use rusqlite::{OptionalExtension, Transaction};

use crate::crypto::RecordKey;
use crate::error::Result;

/// The schema version this build writes. Stored in `PRAGMA user_version`.
pub const VERSION: i64 = 4;

/// The `meta` row of the pinned profile-signing key.
pub const PROFILE_KEY: &str = "profile_key";
/// The `meta` row of the installed signed agency profile.
pub const PROFILE: &str = "profile";

/// The `meta` rows sealed with the device key since version 4, each under the associated data
/// `meta:<key>` (see [`super::set_sealed_meta`]): the pinned profile-signing key and the
/// installed signed profile. Sealed, whoever can write the database file but lacks the device
/// key cannot swap in a key and a profile of their own (and with them the recipients every
/// report is sealed to): a row that does not open is refused, never trusted.
pub const SEALED_META: [&str; 2] = [PROFILE_KEY, PROFILE];

const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- Drafts being written: the whole draft, sealed with the device key.
CREATE TABLE drafts (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body       BLOB NOT NULL
) STRICT;

-- Files attached to drafts. The bytes live encrypted in files/<file>; the metadata
-- (kind, type, size) is sealed in body.
CREATE TABLE attachments (
    id       TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    file     TEXT NOT NULL UNIQUE,
    body     BLOB NOT NULL
) STRICT;

-- The outbox: sealed reports. `seq` orders reports by the time they were queued.
CREATE TABLE reports (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('queued','sending','delivered','failed')),
    queued_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    part_count   INTEGER NOT NULL,
    profile_version INTEGER NOT NULL,
    failure      TEXT,
    receipt      BLOB,
    summary      BLOB NOT NULL
) STRICT;

-- The sealed parts of each report: age files in outbox/<report id>/<idx>.age.
CREATE TABLE parts (
    report_id  TEXT NOT NULL REFERENCES reports(id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('report','attachment')),
    size       INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    upload_url TEXT,
    sent       INTEGER NOT NULL DEFAULT 0,
    done       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (report_id, idx)
) STRICT;
";

/// Version 2: each report gets a client token (sealed), the secret that lets the phone fetch
/// the server's receipt. Reports queued before it get one at their first upload.
const V2: &str = "ALTER TABLE reports ADD COLUMN token BLOB;";

/// Version 3: anonymous follow-up. Each report's receipt code and the keys derived from it
/// (sealed), and the reporter's own messages: the text sealed with the device key, and the
/// age file sealed to the agency that is sent as is (queued until a sync delivers it).
const V3: &str = "
CREATE TABLE followups (
    report_id TEXT PRIMARY KEY,
    lookup    TEXT NOT NULL,
    body      BLOB NOT NULL
) STRICT;

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    report_id  TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('queued','sent')),
    created_at INTEGER NOT NULL,
    body       BLOB NOT NULL,
    sealed     BLOB NOT NULL
) STRICT;
CREATE INDEX messages_report ON messages (report_id, created_at);
";

/// Version 4: the [`SEALED_META`] rows, written in clear by versions 1 to 3, are sealed under
/// `records`. No table changes. A store that does not open with `records` (its key check
/// fails) is refused before anything is sealed, so a wrong device key cannot turn the
/// installed profile into rows that no longer open with the right one.
fn seal_meta_rows(tx: &Transaction<'_>, records: &RecordKey) -> Result<()> {
    super::verify_key(tx, records)?;
    for key in SEALED_META {
        let plain: Option<Vec<u8>> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        if let Some(plain) = plain {
            super::set_sealed_meta(tx, records, key, &plain)?;
        }
    }
    Ok(())
}

/// Brings a database at `from` up to [`VERSION`] inside `tx`; `records` seals what version 4
/// seals.
pub fn upgrade_from(tx: &Transaction<'_>, from: i64, records: &RecordKey) -> Result<()> {
    if from < 1 {
        tx.execute_batch(V1)?;
    }
    if from < 2 {
        tx.execute_batch(V2)?;
    }
    if from < 3 {
        tx.execute_batch(V3)?;
    }
    // A new database has no rows to seal.
    if (1..4).contains(&from) {
        seal_meta_rows(tx, records)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    Ok(())
}
