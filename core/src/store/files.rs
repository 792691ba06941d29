//! Attached files at rest: each file is STREAM-encrypted under its own key, derived from the
//! device key and a random salt stored at the head of the file.
//!
//! Attaching copies the file in, encrypting as it goes, so the core never depends on the
//! original staying where it was, and memory stays at one chunk.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::age::{StreamReader, StreamWriter};
use crate::crypto;
use crate::store::device_key::shred_file;

const SALT_LEN: usize = 16;
const INFO: &[u8] = b"berani/v1/file";

/// Encrypts everything read from `src` into a new file at `dest`, fsynced.
/// Returns the plaintext length and the first bytes (for type detection).
pub fn encrypt_into(
    file_key: &[u8; 32],
    src: &mut dyn Read,
    dest: &Path,
    sniff: &mut Vec<u8>,
    max_len: u64,
) -> io::Result<u64> {
    let salt = crypto::random::<SALT_LEN>();
    let key = crypto::derive_key(file_key, &salt, INFO);
    let mut out = BufWriter::new(File::create_new(dest)?);
    out.write_all(&salt)?;
    let mut w = StreamWriter::new(&key, out);
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if sniff.len() < 8192 {
            let take = n.min(8192 - sniff.len());
            sniff.extend_from_slice(&buf[..take]);
        }
        total += n as u64;
        if total > max_len {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "file too large",
            ));
        }
        w.write_all(&buf[..n])?;
    }
    use zeroize::Zeroize;
    buf.zeroize();
    let out = w.finish()?;
    let f = out.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    Ok(total)
}

/// Opens an encrypted file for reading its plaintext.
pub fn decrypt_reader(file_key: &[u8; 32], path: &Path) -> io::Result<impl Read + use<>> {
    let mut f = BufReader::new(File::open(path)?);
    let mut salt = [0u8; SALT_LEN];
    f.read_exact(&mut salt)?;
    let key = crypto::derive_key(file_key, &salt, INFO);
    Ok(StreamReader::new(&key, f))
}

/// Path of an attachment file in `dir`.
pub fn path_in(dir: &Path, file: &str) -> PathBuf {
    dir.join(file)
}

/// Destroys an attachment file if it exists: its bytes are overwritten with zeros and
/// fsynced before it is unlinked (see [`shred_file`]), so that its ciphertext does not stay in
/// the freed blocks for someone who later gets the device key, as far as the file system
/// writes in place (flash storage may keep older copies of a block).
pub fn remove(path: &Path) -> io::Result<()> {
    shred_file(path)
}
