//! The data folder: its layout, and the first start that creates it.
//!
//! A first start makes the agency's keys and the first signed profile. It must never leave a
//! half-made folder that a later start would run with (say, a profile whose recipient key was
//! never stored): everything is built in `DIR/.setup-tmp`, fsynced, and moved into place with
//! the database last. The database's presence is the one sign that a folder is set up; a
//! folder without it holding only leftovers of an interrupted first start is cleared and set
//! up again, and a folder holding anything else is refused.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use berani_core::age::Identity;
use berani_core::jws::SigningKey;
use rusqlite::{Connection, params};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::config::FirstStart;
use crate::db::{self, Db};
use crate::error::{Result, ServerError};
use crate::profile::Wanted;
use crate::{keys, profile, schema};

const DB_FILE: &str = "berani.db";
const PROFILE_KEY_FILE: &str = "profile-signing.pem";
const RECEIPT_KEY_FILE: &str = "receipt-signing.pem";
const UPLOADS_DIR: &str = "uploads";
const SETUP_TMP: &str = ".setup-tmp";

/// The user that first start creates.
pub const ADMIN: &str = "admin";

/// Paths inside a data folder.
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// The data folder at `root` (which may not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The SQLite database.
    pub fn db(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }
    /// The profile-signing key (absent when it is kept offline).
    pub fn profile_key(&self) -> PathBuf {
        self.root.join(PROFILE_KEY_FILE)
    }
    /// The receipt-signing key.
    pub fn receipt_key(&self) -> PathBuf {
        self.root.join(RECEIPT_KEY_FILE)
    }
    /// The folder of upload blobs, one file per upload id.
    pub fn uploads(&self) -> PathBuf {
        self.root.join(UPLOADS_DIR)
    }

    /// True once a first start has completed.
    pub fn is_set_up(&self) -> bool {
        self.db().is_file()
    }

    /// Opens the database of a set-up folder.
    pub fn open(&self) -> Result<Db> {
        if !self.is_set_up() {
            return Err(ServerError::Folder(format!(
                "{} is not set up; start `berani-server serve --data {}` once first",
                self.root.display(),
                self.root.display()
            )));
        }
        // A crash after the database moved into place can leave the emptied temp folder.
        let _ = fs::remove_dir(self.root.join(SETUP_TMP));
        Db::open(&self.db())
    }
}

/// What a first start made that must be shown once.
pub struct Created {
    /// The admin password, to print once and never store in clear.
    pub admin_password: Zeroizing<String>,
}

/// Sets up a new data folder; refuses a folder that holds anything but leftovers of an
/// interrupted first start.
pub fn first_start(folder: &Folder, first: &FirstStart, wanted: &Wanted) -> Result<Created> {
    create_private_dir(folder.root())?;
    if clear_leftovers(folder)? {
        tracing::warn!("an earlier first start was interrupted; setting the data folder up again");
    }
    let tmp = folder.root().join(SETUP_TMP);
    create_private_dir(&tmp)?;

    let password = keys::generate_password();
    let identity = Identity::generate();
    let recipient = identity.to_public().to_string();
    let profile_key = SigningKey::generate();
    let receipt_key = SigningKey::generate();
    keys::write_secret_file(&tmp.join(PROFILE_KEY_FILE), profile_key.to_pem().as_bytes())?;
    keys::write_secret_file(&tmp.join(RECEIPT_KEY_FILE), receipt_key.to_pem().as_bytes())?;
    create_private_dir(&tmp.join(UPLOADS_DIR))?;

    let db_path = tmp.join(DB_FILE);
    {
        // A rollback journal (not WAL) while building, so that the one file holds it all
        // when it is moved; Db::open switches to WAL.
        let conn = Connection::open(&db_path)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        schema::create(&conn)?;
        let tx = conn.unchecked_transaction()?;
        let now = db::now();
        tx.execute(
            "INSERT INTO users (username, role, password_hash, created_at, display_name,
                                password_generated)
             VALUES (?1, 'admin', ?2, ?3, 'Admin', 1)",
            params![ADMIN, keys::hash_password(&password, true)?, now],
        )?;
        let w = keys::wrap_identity(&identity, ADMIN, &password, true)?;
        tx.execute(
            "INSERT INTO key_wrappers (user, recipient, salt, params, wrapped, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ADMIN, recipient, w.salt, w.params, w.wrapped, now],
        )?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES ('intake_recipient', ?1)",
            [&recipient],
        )?;
        let p = profile::initial(
            first,
            wanted,
            &recipient,
            receipt_key.public(),
            OffsetDateTime::now_utc(),
        );
        profile::store(&tx, &p, &profile_key)?;
        tx.commit()?;
    }
    sync(&db_path)?;
    sync(&tmp)?;

    for name in [PROFILE_KEY_FILE, RECEIPT_KEY_FILE, UPLOADS_DIR, DB_FILE] {
        fs::rename(tmp.join(name), folder.root().join(name))
            .map_err(|e| ServerError::io(format!("moving {name} into place"), e))?;
    }
    sync(folder.root())?;
    let _ = fs::remove_dir(&tmp);
    Ok(Created {
        admin_password: password,
    })
}

/// Removes what an interrupted first start left; true if there was any.
fn clear_leftovers(folder: &Folder) -> Result<bool> {
    let root = folder.root();
    let entries = fs::read_dir(root).map_err(|e| ServerError::io(root.display(), e))?;
    let mut leftovers = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let empty_dir = |p: &Path| fs::read_dir(p).is_ok_and(|mut d| d.next().is_none());
        let ours = match name.as_ref() {
            SETUP_TMP => true,
            PROFILE_KEY_FILE | RECEIPT_KEY_FILE => entry.path().is_file(),
            UPLOADS_DIR => empty_dir(&entry.path()),
            _ => false,
        };
        if !ours {
            return Err(ServerError::Folder(format!(
                "{} is not empty and is not a Berani data folder (found {name})",
                root.display()
            )));
        }
        leftovers.push(entry.path());
    }
    for path in &leftovers {
        let r = if path.is_dir() {
            fs::remove_dir_all(path)
        } else {
            fs::remove_file(path)
        };
        r.map_err(|e| ServerError::io(path.display(), e))?;
    }
    Ok(!leftovers.is_empty())
}

fn create_private_dir(path: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path)
        .map_err(|e| ServerError::io(path.display(), e))
}

/// fsyncs a file or a directory (for a directory: the names in it).
pub fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| ServerError::io(path.display(), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(url: &str) -> Wanted {
        Wanted {
            intake_url: url.into(),
            tls_pin: None,
        }
    }

    #[test]
    fn redoes_an_interrupted_first_start_and_refuses_foreign_folders() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::new(dir.path().join("data"));
        // What a crash after writing the keys into place, before the database, leaves.
        fs::create_dir_all(folder.root().join(SETUP_TMP)).unwrap();
        fs::write(folder.profile_key(), "half").unwrap();
        fs::create_dir(folder.uploads()).unwrap();
        assert!(!folder.is_set_up());
        first_start(
            &folder,
            &FirstStart::default(),
            &wanted("http://127.0.0.1:1"),
        )
        .unwrap();
        assert!(folder.is_set_up());
        assert!(!folder.root().join(SETUP_TMP).exists());
        keys::read_signing_key(&folder.profile_key()).unwrap();
        let db = folder.open().unwrap();
        let p = db.read(profile::load).unwrap();
        assert_eq!(p.version, 1);

        let foreign = dir.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("notes.txt"), "x").unwrap();
        assert!(matches!(
            first_start(
                &Folder::new(&foreign),
                &FirstStart::default(),
                &wanted("http://x")
            ),
            Err(ServerError::Folder(_))
        ));
    }
}
