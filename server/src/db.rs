//! The server's SQLite database: one writer connection and one reader, in WAL mode.
//!
//! Every change goes through [`Db::write`], one immediate transaction committed only when the
//! closure succeeds, so a kill -9 leaves either all of a change or none of it
//! (`synchronous=FULL`: a commit is on disk when `write` returns). Reads go through
//! [`Db::read`] on their own connection and do not wait behind a writer. The calls block;
//! async code runs them on tokio's blocking pool with [`Db::read_async`] and
//! [`Db::write_async`].

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::Result;
use crate::schema;

/// The database of one data folder.
pub struct Db {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl Db {
    /// Opens an existing database, upgrading an older schema.
    pub fn open(path: &Path) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut writer = Connection::open_with_flags(path, flags)?;
        configure(&writer)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        schema::upgrade(&mut writer)?;
        let reader = Connection::open_with_flags(path, flags)?;
        configure(&reader)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    /// Runs `f` on the reader connection.
    pub fn read<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Runs `f` in an immediate transaction on the writer; commits when it returns `Ok`.
    pub fn write<T, E>(&self, f: impl FnOnce(&Transaction) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// [`Db::read`] on the blocking pool.
    pub async fn read_async<T, E>(
        self: &Arc<Self>,
        f: impl FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read(f))
            .await
            .expect("database task panicked")
    }

    /// [`Db::write`] on the blocking pool.
    pub async fn write_async<T, E>(
        self: &Arc<Self>,
        f: impl FnOnce(&Transaction) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<rusqlite::Error> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write(f))
            .await
            .expect("database task panicked")
    }
}

/// Current time as Unix seconds, the unit every time column uses.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_commits_on_ok_and_rolls_back_on_err() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        schema::create(&Connection::open(&path).unwrap()).unwrap();
        let db = Db::open(&path).unwrap();
        db.write(|tx| {
            tx.execute("INSERT INTO settings VALUES ('a', '1')", [])
                .map(|_| ())
        })
        .unwrap();
        let r: Result<(), rusqlite::Error> = db.write(|tx| {
            tx.execute("INSERT INTO settings VALUES ('b', '2')", [])?;
            Err(rusqlite::Error::InvalidQuery)
        });
        assert!(r.is_err());
        let n: i64 = db
            .read(|c| c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(n, 1);
    }
}
