//! The server database's tables, and how an older database is brought up to date.
//!
//! Rows hold ids, sizes, hashes, times and the *hash* of each report's client token: never
//! report content, never a client address. The intake identity is stored only wrapped, one
//! wrapping per desk user, so that adding or removing a user never touches the others.
//! `PRAGMA user_version` carries [`VERSION`]; `upgrade_from` walks an older file forward,
//! and a newer file is refused rather than guessed at.

use rusqlite::{Connection, Transaction};

use crate::error::{Result, ServerError};

/// The schema this build writes.
pub const VERSION: u32 = 4;

const CREATE: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'caseworker', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Added in schema 2 (the case desk).
    display_name TEXT NOT NULL DEFAULT '',
    office TEXT NOT NULL DEFAULT '',
    email TEXT,
    on_duty INTEGER NOT NULL DEFAULT 0,
    -- 1 while the password is one the server generated (the first admin password, a reset):
    -- it is compared in Crockford-normalised form and must be changed at the next login.
    password_generated INTEGER NOT NULL DEFAULT 0,
    totp_secret BLOB,
    disabled_at INTEGER
) STRICT;

-- The intake identity wrapped under a key derived from one user's password.
CREATE TABLE key_wrappers (
    user TEXT PRIMARY KEY REFERENCES users(username) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    salt BLOB NOT NULL,
    params TEXT NOT NULL,
    wrapped BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Append-only and hash-chained (see audit.rs): each row's hash covers the previous row's.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    -- Added in schema 2.
    subject TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
) STRICT;

-- The one current signed profile, served byte for byte.
CREATE TABLE profile (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    signing_key TEXT NOT NULL,
    signed BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A report exists from its first upload; received_at is set when every part is complete.
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    part_count INTEGER NOT NULL,
    token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    received_at INTEGER
) STRICT;

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    report TEXT NOT NULL REFERENCES reports(id),
    part INTEGER NOT NULL,
    length INTEGER NOT NULL,
    upload_offset INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    progress_at INTEGER NOT NULL,
    completed_at INTEGER,
    UNIQUE (report, part)
) STRICT;

CREATE INDEX uploads_incomplete ON uploads (progress_at) WHERE completed_at IS NULL;
";

/// Schema 2: the case desk. Shared by a new database and the upgrade from schema 1.
const DESK: &str = "
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- One case per report, from the moment its report document (part 0) is complete. Only
-- workflow facts are in clear: times, stage, assignee. Everything the reporter wrote, and
-- every note the team writes, stays sealed to the intake key.
CREATE TABLE cases (
    report TEXT PRIMARY KEY REFERENCES reports(id),
    received_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    stage TEXT NOT NULL DEFAULT 'received' CHECK (stage IN ('received', 'identified',
        'assessed', 'planned', 'services', 'monitoring', 'terminated')),
    assignee TEXT REFERENCES users(username),
    assessed_at INTEGER,
    closed_at INTEGER,
    updated_at INTEGER NOT NULL,
    notified_at INTEGER,
    sla_warned_at INTEGER,
    -- The statistics bucket this case is counted in, age-sealed to the intake key, so the
    -- counts carry no case id; NULL until a keyholder first works the case.
    stats_bucket BLOB,
    synthetic INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX cases_open ON cases (due_at) WHERE stage != 'terminated';
CREATE INDEX cases_assignee ON cases (assignee);

-- Each step of a case: a stage change, an assignment, a note, a referral. The free text and
-- details (risk level, services, consent, reason, office) are in `sealed`, age-sealed to the
-- intake key.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    report TEXT NOT NULL REFERENCES cases(report),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('stage', 'assign', 'note', 'referral')),
    stage TEXT,
    assignee TEXT,
    sealed BLOB
) STRICT;
CREATE INDEX case_events_report ON case_events (report, id);

-- Aggregate counts for statistics, with no case id (see SECURITY.md).
CREATE TABLE stats_counts (
    month TEXT NOT NULL,
    category TEXT NOT NULL,
    district TEXT NOT NULL,
    victim TEXT NOT NULL,
    age_band TEXT NOT NULL,
    stage TEXT NOT NULL,
    sla TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (month, category, district, victim, age_band, stage, sla)
) STRICT;
";

/// Schema 3: anonymous follow-up. Shared by a new database and the upgrade from schema 2.
const FOLLOWUP: &str = "
-- A report's follow-up registration, from part 0's metadata: the lookup id (derived from the
-- reporter's receipt code; a public index) and an Argon2id verifier of the auth value. Never
-- the receipt code, never the auth value.
CREATE TABLE followups (
    report TEXT PRIMARY KEY REFERENCES reports(id) ON DELETE CASCADE,
    lookup TEXT NOT NULL UNIQUE,
    verifier TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- The thread between the team and the reporter: age ciphertext only. Team replies are sealed
-- to the reporter's key and the intake key; reporter messages to the intake key. `client_id`
-- is the phone's message id, so a retried send never stores a second copy. `read_at` is set
-- when a keyholder opens the case page after a reporter message arrived.
CREATE TABLE followup_messages (
    id INTEGER PRIMARY KEY,
    report TEXT NOT NULL REFERENCES cases(report),
    sender TEXT NOT NULL CHECK (sender IN ('team', 'reporter')),
    client_id TEXT,
    actor TEXT,
    at INTEGER NOT NULL,
    sealed BLOB NOT NULL,
    read_at INTEGER,
    UNIQUE (report, client_id)
) STRICT;
CREATE INDEX followup_messages_unread ON followup_messages (report)
    WHERE sender = 'reporter' AND read_at IS NULL;
";

/// Schema 4: volunteer codes and their counts. Shared by a new database and the upgrade from
/// schema 3. The counts are per code per day (WIB) and nothing else: no report, upload,
/// token, address or finer time is linked to a counted event, and no report table has a
/// column for a volunteer code.
const VOLUNTEERS: &str = "
CREATE TABLE volunteers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    area TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    disabled_at INTEGER
) STRICT;

CREATE TABLE volunteer_counts (
    volunteer INTEGER NOT NULL REFERENCES volunteers(id),
    day TEXT NOT NULL,
    installs INTEGER NOT NULL DEFAULT 0 CHECK (installs >= 0),
    web_reports INTEGER NOT NULL DEFAULT 0 CHECK (web_reports >= 0),
    PRIMARY KEY (volunteer, day)
) STRICT;
";

/// Creates every table in a new, empty database.
pub fn create(conn: &Connection) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(CREATE)?;
    tx.execute_batch(DESK)?;
    tx.execute_batch(FOLLOWUP)?;
    tx.execute_batch(VOLUNTEERS)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Checks the version of an existing database and upgrades an older one.
pub fn upgrade(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found == VERSION {
        return Ok(());
    }
    if found == 0 {
        return Err(ServerError::Folder(
            "berani.db is not a Berani server database".into(),
        ));
    }
    if found > VERSION {
        return Err(ServerError::Folder(format!(
            "the database is from a newer berani-server (schema {found}, this build reads {VERSION})"
        )));
    }
    // Rebuilding a table (SQLite's twelve-step ALTER) needs foreign keys off, which cannot
    // change inside a transaction; foreign_key_check proves the result before it commits.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = (|| {
        let tx = conn.transaction()?;
        let mut at = found;
        while at < VERSION {
            upgrade_from(&tx, at)?;
            at += 1;
        }
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken != 0 {
            return Err(ServerError::Folder(format!(
                "the upgrade from schema {found} left {broken} broken references; nothing was changed"
            )));
        }
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.commit()?;
        Ok(())
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

/// Migrates one step, from schema `from` to `from + 1`.
fn upgrade_from(tx: &Transaction, from: u32) -> Result<()> {
    match from {
        1 => {
            // Roles: 'officer' (never created by schema 1's server) becomes 'caseworker'.
            tx.execute_batch(
                "CREATE TABLE users_v2 (
                    username TEXT PRIMARY KEY,
                    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'caseworker', 'viewer')),
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    display_name TEXT NOT NULL DEFAULT '',
                    office TEXT NOT NULL DEFAULT '',
                    email TEXT,
                    on_duty INTEGER NOT NULL DEFAULT 0,
                    password_generated INTEGER NOT NULL DEFAULT 0,
                    totp_secret BLOB,
                    disabled_at INTEGER
                 ) STRICT;
                 INSERT INTO users_v2 (username, role, password_hash, created_at, password_generated)
                    SELECT username, CASE role WHEN 'officer' THEN 'caseworker' ELSE role END,
                           password_hash, created_at, 1 FROM users;
                 DROP TABLE users;
                 ALTER TABLE users_v2 RENAME TO users;
                 ALTER TABLE audit ADD COLUMN subject TEXT NOT NULL DEFAULT '';
                 ALTER TABLE audit ADD COLUMN detail TEXT NOT NULL DEFAULT '';
                 ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
                 ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';",
            )?;
            crate::audit::rechain(tx)?;
            tx.execute_batch(DESK)?;
            // Reports whose document had arrived become cases, received when it did.
            tx.execute(
                "INSERT INTO cases (report, received_at, due_at, updated_at)
                 SELECT u.report, u.completed_at, u.completed_at + ?1, u.completed_at
                 FROM uploads u WHERE u.part = 0 AND u.completed_at IS NOT NULL",
                [crate::desk::cases::SLA_SECS],
            )?;
            Ok(())
        }
        2 => {
            tx.execute_batch(FOLLOWUP)?;
            Ok(())
        }
        3 => {
            tx.execute_batch(VOLUNTEERS)?;
            Ok(())
        }
        _ => Err(ServerError::Folder(format!(
            "no upgrade from schema {from}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_refuses_foreign_or_newer() {
        let mut c = Connection::open_in_memory().unwrap();
        create(&c).unwrap();
        upgrade(&mut c).unwrap();
        c.pragma_update(None, "user_version", VERSION + 1).unwrap();
        assert!(matches!(upgrade(&mut c), Err(ServerError::Folder(_))));
        let mut empty = Connection::open_in_memory().unwrap();
        assert!(matches!(upgrade(&mut empty), Err(ServerError::Folder(_))));
    }

    #[test]
    fn upgrades_schema_3_to_volunteers() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(CREATE).unwrap();
        c.execute_batch(DESK).unwrap();
        c.execute_batch(FOLLOWUP).unwrap();
        c.pragma_update(None, "user_version", 3).unwrap();
        upgrade(&mut c).unwrap();
        let v: u32 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        c.execute(
            "INSERT INTO volunteers (code, name, created_at) VALUES ('K7M2QDV', 'Siti', 1)",
            [],
        )
        .unwrap();
        c.execute(
            "INSERT INTO volunteer_counts (volunteer, day, installs) VALUES (1, '2025-01-02', 1)",
            [],
        )
        .unwrap();
        assert!(
            c.execute(
                "INSERT INTO volunteer_counts (volunteer, day, installs) VALUES (1, '2025-01-03', -1)",
                [],
            )
            .is_err()
        );
    }

    #[test]
    fn upgrades_schema_2_to_follow_up() {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(CREATE).unwrap();
        c.execute_batch(DESK).unwrap();
        c.pragma_update(None, "user_version", 2).unwrap();
        c.execute(
            "INSERT INTO reports (id, part_count, token_hash, created_at) VALUES ('r', 1, 'h', 1)",
            [],
        )
        .unwrap();
        upgrade(&mut c).unwrap();
        let v: u32 = c
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        c.execute(
            "INSERT INTO followups (report, lookup, verifier, created_at) VALUES ('r', 'l', 'v', 1)",
            [],
        )
        .unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM followup_messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
