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
pub const VERSION: u32 = 1;

const CREATE: &str = "
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('admin', 'officer')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
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

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL
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

/// Creates every table in a new, empty database.
pub fn create(conn: &Connection) -> Result<()> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(CREATE)?;
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
    let tx = conn.transaction()?;
    upgrade_from(&tx, found)?;
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Migrates from schema `from` (older than [`VERSION`]) to the current one.
fn upgrade_from(_tx: &Transaction, from: u32) -> Result<()> {
    // Schema 1 is the first; later versions add one arm per step here.
    Err(ServerError::Folder(format!(
        "no upgrade from schema {from}"
    )))
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
}
