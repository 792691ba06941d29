//! The device key: 256 bits that encrypt everything the core keeps at rest.
//!
//! The platform supplies it. On Android a Keystore key wraps it, so it never leaves the phone
//! in clear; the CLI keeps it in a key file with mode 0600. Destroying this key crypto-shreds
//! every draft and attachment on the device.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Length of the device key.
pub const DEVICE_KEY_LEN: usize = 32;

/// Why the platform could not supply the device key. The message must not contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyStoreError(pub String);

/// The platform's custody of the device key.
pub trait DeviceKeyStore: Send + Sync {
    /// Returns the 32-byte device key, creating and keeping a new random one on first use.
    fn device_key(&self) -> Result<Zeroizing<Vec<u8>>, KeyStoreError>;

    /// Destroys the device key for good, so that everything encrypted under it can never be
    /// read again (crypto-shredding); the next [`DeviceKeyStore::device_key`] makes a new one.
    /// Destroying a key that does not exist succeeds. Only `Ok` may mean the key is gone.
    fn destroy(&self) -> Result<(), KeyStoreError>;
}

/// A device key kept in a file with mode 0600, for the CLI and tests.
#[derive(Debug, Clone)]
pub struct KeyFile {
    path: PathBuf,
}

impl KeyFile {
    /// A key file at `path`; it is created on first use.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the key lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn create(&self) -> Result<(), KeyStoreError> {
        let err = |what: &str, e: std::io::Error| KeyStoreError(format!("{what}: {}", e.kind()));
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| err("cannot create key folder", e))?;
        }
        let tmp = self.path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let key = Zeroizing::new(crate::crypto::random::<DEVICE_KEY_LEN>());
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| err("cannot create key file", e))?;
        f.write_all(key.as_ref())
            .and_then(|_| f.sync_all())
            .map_err(|e| err("cannot write key file", e))?;
        // Hard-link instead of rename: if another process created the key meanwhile, keep
        // theirs rather than replacing a key that may already encrypt data.
        match fs::hard_link(&tmp, &self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(err("cannot install key file", e)),
        }
        let _ = fs::remove_file(&tmp);
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).ok();
        }
        Ok(())
    }
}

impl DeviceKeyStore for KeyFile {
    fn device_key(&self) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        if !self.path.exists() {
            self.create()?;
        }
        let mut f = File::open(&self.path)
            .map_err(|e| KeyStoreError(format!("cannot open key file: {}", e.kind())))?;
        let mode = f
            .metadata()
            .map_err(|e| KeyStoreError(format!("cannot stat key file: {}", e.kind())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyStoreError(
                "key file is readable by other users; make it mode 0600".into(),
            ));
        }
        let mut key = Zeroizing::new(Vec::with_capacity(DEVICE_KEY_LEN + 1));
        Read::take(&mut f, DEVICE_KEY_LEN as u64 + 1)
            .read_to_end(&mut key)
            .map_err(|e| KeyStoreError(format!("cannot read key file: {}", e.kind())))?;
        if key.len() != DEVICE_KEY_LEN {
            return Err(KeyStoreError("key file does not hold a 32-byte key".into()));
        }
        Ok(key)
    }

    /// Overwrites the key's bytes with zeros, fsyncs, then unlinks the file (and a leftover
    /// temporary file from an interrupted creation).
    fn destroy(&self) -> Result<(), KeyStoreError> {
        let err =
            |e: std::io::Error| KeyStoreError(format!("cannot destroy key file: {}", e.kind()));
        shred_file(&self.path.with_extension("tmp")).map_err(err)?;
        shred_file(&self.path).map_err(err)
    }
}

/// Overwrites a file's bytes with zeros in place, fsyncs them, then unlinks the file and
/// fsyncs its folder. A file that does not exist is already gone.
pub fn shred_file(path: &Path) -> std::io::Result<()> {
    let mut f = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    let zeros = [0u8; 4096];
    let mut left = len;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        f.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    drop(f);
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_private_key_once() {
        let dir = tempfile::tempdir().unwrap();
        let kf = KeyFile::new(dir.path().join("device.key"));
        let k1 = kf.device_key().unwrap();
        let k2 = kf.device_key().unwrap();
        assert_eq!(k1, k2);
        assert_eq!(k1.len(), 32);
        let mode = fs::metadata(kf.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn destroy_zeroes_the_key_before_unlinking_it() {
        use std::io::{Seek, SeekFrom};
        let dir = tempfile::tempdir().unwrap();
        let kf = KeyFile::new(dir.path().join("device.key"));
        let key = kf.device_key().unwrap();
        let mut held = File::open(kf.path()).unwrap();
        kf.destroy().unwrap();
        assert!(!kf.path().exists());
        let mut left = Vec::new();
        held.seek(SeekFrom::Start(0)).unwrap();
        held.read_to_end(&mut left).unwrap();
        assert_eq!(left, [0u8; 32], "the freed inode holds zeros");
        kf.destroy().unwrap();
        assert_ne!(kf.device_key().unwrap(), key, "a new key after destroy");
    }

    #[test]
    fn refuses_open_or_short_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("device.key");
        fs::write(&p, [1u8; 32]).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(KeyFile::new(&p).device_key().is_err());
        fs::write(&p, [1u8; 31]).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(KeyFile::new(&p).device_key().is_err());
    }
}
