//! The encrypted local store: one SQLite database (WAL, `synchronous=FULL`) plus encrypted
//! files beside it.
//!
//! Layout of a home folder:
//! ```text
//! berani.db          drafts, attachment metadata, outbox, the pinned profile-signing key and
//!                    the installed profile (sealed with the device key)
//! files/<id>.bin     attached files, STREAM-encrypted with a key derived from the device key
//! outbox/<id>/N.age  sealed parts, age files to the agency (readable only by the agency)
//! tmp/               work files, removed at the next open
//! device-key.wrap    the device key wrapped under the platform key and the PIN (see `pin`)
//! .wiping            only while a panic wipe is under way (see `crate::wipe`)
//! ```
//! Nothing under the home folder holds plaintext report content. Every SQLite error goes
//! through [`CoreError::from_sqlite`], so damage found by any statement is
//! [`CoreError::StorageCorrupt`].

pub mod device_key;
pub mod files;
pub mod pin;
pub mod schema;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction};
use zeroize::Zeroizing;

use crate::crypto::{self, RecordKey};
use crate::error::{CoreError, Result};
pub use device_key::{DeviceKeyStore, KeyFile, KeyStoreError};
pub use pin::{PinFailure, PinLock, PinStatus};

/// The database file in a home folder.
pub(crate) const DB_FILE: &str = "berani.db";
const KEY_CHECK: &[u8] = b"berani device key check v1";

/// The open store of one home folder.
pub struct Store {
    home: PathBuf,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    records: RecordKey,
    file_key: Zeroizing<[u8; 32]>,
    // Held for the store's lifetime: a shared lock tells other openers not to sweep files.
    _lock: File,
}

fn open_conn(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(CoreError::from_sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(CoreError::from_sqlite)?;
    // journal_mode is the first statement that reads the file, so a file that is not a
    // database fails here, before anything is written to it.
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(CoreError::from_sqlite)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(CoreError::StorageCorrupt);
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;")
        .map_err(CoreError::from_sqlite)?;
    Ok(conn)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

impl Store {
    /// Opens (creating if new) the store in `home` with the platform's device key.
    pub fn open(home: &Path, keys: &dyn DeviceKeyStore) -> Result<Store> {
        fs::create_dir_all(home)?;
        for d in ["files", "outbox", "tmp"] {
            fs::create_dir_all(home.join(d))?;
        }
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(home.join(".lock"))?;
        let sole_user = lock.try_lock().is_ok();

        let key = keys
            .device_key()
            .map_err(|e| CoreError::DeviceKey(e.to_string()))?;
        let key: &[u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| CoreError::DeviceKey("the device key must be 32 bytes".into()))?;
        let records = RecordKey::new(&crypto::derive_key(key, b"", b"berani/v1/records"));
        let file_key = crypto::derive_key(key, b"", b"berani/v1/files");

        let path = home.join(DB_FILE);
        let mut writer = open_conn(&path, true)?;
        migrate(&mut writer, &records)?;
        check_key(&mut writer, &records)?;
        let reader = open_conn(&path, false)?;

        let store = Store {
            home: home.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            records,
            file_key,
            _lock: lock,
        };
        if sole_user {
            store.sweep()?;
            store._lock.unlock()?;
        }
        store._lock.lock_shared()?;
        Ok(store)
    }

    /// The home folder.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The key that seals records at rest.
    pub fn records(&self) -> &RecordKey {
        &self.records
    }

    /// Runs `f` on the reader connection.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&lock(&self.reader))
    }

    /// Runs `f` in one write transaction, committed (durably) only if `f` returns `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(CoreError::from_sqlite)?;
        let out = f(&tx)?;
        tx.commit().map_err(CoreError::from_sqlite)?;
        Ok(out)
    }

    /// Checkpoints the write-ahead log into the database and truncates it to zero bytes, so
    /// that no older page image (of rows just deleted) stays in the log file.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = lock(&self.writer);
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(CoreError::from_sqlite)
    }

    /// Folder of encrypted attachment files.
    pub fn files_dir(&self) -> PathBuf {
        self.home.join("files")
    }

    /// Folder of one report's sealed parts.
    pub fn outbox_dir(&self, report_id: &str) -> PathBuf {
        self.home.join("outbox").join(report_id)
    }

    /// Path of one sealed part.
    pub fn part_path(&self, report_id: &str, idx: u32) -> PathBuf {
        self.outbox_dir(report_id).join(format!("{idx}.age"))
    }

    /// Folder for work files.
    pub fn tmp_dir(&self) -> PathBuf {
        self.home.join("tmp")
    }

    /// fsyncs a folder, so that files created or removed in it survive a crash.
    pub fn sync_dir(&self, dir: &Path) -> Result<()> {
        sync_dir(dir)
    }

    /// Removes what a crash can leave behind: work files, attachment files no draft refers
    /// to, and sealed parts of reports that were never committed to the outbox.
    fn sweep(&self) -> Result<()> {
        let (files, reports) = self.read(|c| {
            let files = column(c, "SELECT file FROM attachments")?;
            // A forgotten delivered report keeps its row but no parts: its folder goes.
            let reports = column(
                c,
                "SELECT id FROM reports r WHERE EXISTS (SELECT 1 FROM parts p WHERE p.report_id = r.id)",
            )?;
            Ok((files, reports))
        })?;
        remove_unlisted(&self.tmp_dir(), &[])?;
        remove_unlisted(&self.files_dir(), &files)?;
        remove_unlisted(&self.home.join("outbox"), &reports)?;
        Ok(())
    }
}

fn column(c: &Connection, sql: &str) -> Result<Vec<String>> {
    let mut st = c.prepare(sql)?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn remove_unlisted(dir: &Path, keep: &[String]) -> Result<()> {
    let mut removed = false;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if keep.contains(&name) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            // An attachment file left by a crash is overwritten before it goes, like any.
            device_key::shred_file(&entry.path())?;
        }
        removed = true;
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves SQLite consistent (the transaction rolls back on
    // drop), so the connection is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn migrate(conn: &mut Connection, records: &RecordKey) -> Result<()> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(CoreError::from_sqlite)?;
    if found > schema::VERSION {
        return Err(CoreError::NewerSchema {
            found,
            supported: schema::VERSION,
        });
    }
    if found < schema::VERSION {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(CoreError::from_sqlite)?;
        schema::upgrade_from(&tx, found, records)?;
        tx.commit().map_err(CoreError::from_sqlite)?;
    }
    Ok(())
}

/// Checks the stored key check against `records`: `Ok(true)` when it opens, `Ok(false)` when
/// none is stored yet (a new store), [`CoreError::WrongDeviceKey`] when it does not open.
fn verify_key(conn: &Connection, records: &RecordKey) -> Result<bool> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE key = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match stored {
        Some(v) => match records.open(b"meta:key_check", &v) {
            Some(pt) if pt.as_slice() == KEY_CHECK => Ok(true),
            _ => Err(CoreError::WrongDeviceKey),
        },
        None => Ok(false),
    }
}

fn check_key(conn: &mut Connection, records: &RecordKey) -> Result<()> {
    if !verify_key(conn, records)? {
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('key_check', ?1)",
            [records.seal(b"meta:key_check", KEY_CHECK)],
        )?;
    }
    Ok(())
}

impl Store {
    /// Reads a value from the `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    /// The key files are derived from.
    pub(crate) fn file_key(&self) -> &[u8; 32] {
        &self.file_key
    }
}

/// Writes a value into the `meta` table within a transaction.
pub fn set_meta(tx: &Transaction<'_>, key: &str, value: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        rusqlite::params![key, value],
    )?;
    Ok(())
}

/// A `meta` value sealed with the device key, as read back.
pub enum SealedMeta {
    /// No such row.
    Absent,
    /// The row opened under this store's key.
    Opened(Zeroizing<Vec<u8>>),
    /// The row does not open under this store's key: it was written or changed outside the
    /// app. Never to be trusted.
    Refused,
}

fn meta_aad(key: &str) -> Vec<u8> {
    format!("meta:{key}").into_bytes()
}

/// Writes `value` into the `meta` table sealed under `records`, bound to its row (associated
/// data `meta:<key>`), within a transaction.
pub fn set_sealed_meta(
    tx: &Transaction<'_>,
    records: &RecordKey,
    key: &str,
    value: &[u8],
) -> Result<()> {
    set_meta(tx, key, &records.seal(&meta_aad(key), value))
}

/// Reads a `meta` value written by [`set_sealed_meta`] through the connection `c`.
pub fn read_sealed_meta(c: &Connection, records: &RecordKey, key: &str) -> Result<SealedMeta> {
    let sealed: Option<Vec<u8>> = c
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(match sealed {
        None => SealedMeta::Absent,
        Some(v) => match records.open(&meta_aad(key), &v) {
            Some(pt) => SealedMeta::Opened(pt),
            None => SealedMeta::Refused,
        },
    })
}

impl Store {
    /// Reads a `meta` value written by [`set_sealed_meta`].
    pub fn sealed_meta(&self, key: &str) -> Result<SealedMeta> {
        self.read(|c| read_sealed_meta(c, &self.records, key))
    }
}
