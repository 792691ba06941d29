//! Upload blobs: one file per upload id under `DIR/uploads/`, holding the sealed bytes.
//!
//! The database's offset is the truth about how much of a blob counts. Bytes reach the file
//! first and are fsynced before the offset moves, so after a crash the file can only hold
//! *more* than the offset says; [`BlobStore::open_at`] cuts such a tail off before appending.
//! File names are upload ids the server made (128-bit random hex), never anything a client
//! sent, so no request can name a path.

use std::collections::HashSet;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use berani_core::crypto::Sha256;
use tokio::fs::{File, OpenOptions};
use tokio::io::AsyncSeekExt;

/// The folder of upload blobs.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// True for names the server gives uploads (32 lowercase hex characters).
pub fn is_upload_id(s: &str) -> bool {
    berani_core::protocol::is_report_id(s)
}

impl BlobStore {
    /// Blobs in `dir` (which exists).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The blob file of an upload.
    pub fn path(&self, id: &str) -> PathBuf {
        debug_assert!(is_upload_id(id));
        self.dir.join(id)
    }

    /// Opens the blob for appending at `offset`, creating it when missing and cutting off
    /// anything past `offset`. Returns the file and its length before appending, which is
    /// below `offset` only if bytes the database counted were lost.
    pub async fn open_at(&self, id: &str, offset: u64) -> io::Result<(File, u64)> {
        let path = self.path(id);
        let existed = tokio::fs::try_exists(&path).await?;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .await?;
        if !existed {
            self.sync_dir().await?;
        }
        let len = f.metadata().await?.len();
        if len > offset {
            f.set_len(offset).await?;
            f.sync_data().await?;
        }
        let at = len.min(offset);
        f.seek(io::SeekFrom::Start(at)).await?;
        Ok((f, at))
    }

    /// Cuts the blob back to `len` bytes (and fsyncs).
    pub async fn truncate(&self, id: &str, len: u64) -> io::Result<()> {
        let f = OpenOptions::new().write(true).open(self.path(id)).await?;
        f.set_len(len).await?;
        f.sync_data().await
    }

    /// SHA-256 and length of the whole blob (blocking; run it off the async threads).
    pub fn hash_blocking(path: &Path) -> io::Result<([u8; 32], u64)> {
        let mut f = std::fs::File::open(path)?;
        let mut h = Sha256::default();
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0u64;
        loop {
            let got = f.read(&mut buf)?;
            if got == 0 {
                break;
            }
            h.update(&buf[..got]);
            n += got as u64;
        }
        Ok((h.finish(), n))
    }

    /// Removes a blob; a missing one is fine.
    pub async fn remove(&self, id: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(id)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// fsyncs the folder, so that created, renamed or removed names survive a crash.
    pub async fn sync_dir(&self) -> io::Result<()> {
        File::open(&self.dir).await?.sync_all().await
    }

    /// The upload ids that have a blob file.
    pub async fn ids(&self) -> io::Result<HashSet<String>> {
        let mut out = HashSet::new();
        let mut rd = tokio::fs::read_dir(&self.dir).await?;
        while let Some(e) = rd.next_entry().await? {
            if let Some(name) = e.file_name().to_str().filter(|n| is_upload_id(n)) {
                out.insert(name.to_owned());
            }
        }
        Ok(out)
    }
}
