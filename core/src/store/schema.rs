//! The on-device database schema and its migrations.
//!
//! Only ids, states, sizes, hashes and times are stored in clear. Everything a reporter
//! writes is in `body` columns sealed with the device key (see [`crate::crypto::RecordKey`]).

use rusqlite::Transaction;

/// The schema version this build writes. Stored in `PRAGMA user_version`.
pub const VERSION: i64 = 3;

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

/// Brings a database at `from` up to [`VERSION`] inside `tx`.
pub fn upgrade_from(tx: &Transaction<'_>, from: i64) -> rusqlite::Result<()> {
    if from < 1 {
        tx.execute_batch(V1)?;
    }
    if from < 2 {
        tx.execute_batch(V2)?;
    }
    if from < 3 {
        tx.execute_batch(V3)?;
    }
    tx.pragma_update(None, "user_version", VERSION)
}
