//! The STREAM construction of the age v1 payload: ChaCha20-Poly1305 in 64 KiB chunks.
//!
//! Each chunk is sealed with a nonce made of an 11-byte big-endian chunk counter and a final
//! byte that is 1 only for the last chunk, so truncation and reordering are detected. The same
//! construction encrypts attachments at rest on the device, under a key derived from the
//! device key. Memory use is one chunk, whatever the size of the data.

use std::io::{self, Read, Write};

use ring::aead::{Aad, LessSafeKey, Nonce};

use crate::crypto::chacha_key;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// Poly1305 tag size.
pub const TAG: usize = 16;
/// Ciphertext bytes per full chunk (65,552).
pub const SEALED_CHUNK: usize = CHUNK + TAG;

/// Why a STREAM payload could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A chunk failed authentication: the data was altered, truncated or reordered.
    #[error("payload chunk failed authentication")]
    Auth,
    /// The payload ends in an empty chunk after a full one, which a writer never produces.
    #[error("payload has an empty final chunk")]
    EmptyLastChunk,
    /// The chunk counter would overflow (more than 2^88 chunks).
    #[error("payload is too long")]
    TooLong,
    /// Data follows the final chunk.
    #[error("payload has data after its final chunk")]
    TrailingData,
}

impl From<StreamError> for io::Error {
    fn from(e: StreamError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

struct Nonces {
    counter: u128,
}

impl Nonces {
    /// The nonce of the current chunk, without moving to the next one.
    fn current(&self, last: bool) -> Result<Nonce, StreamError> {
        if self.counter >= 1u128 << 88 {
            return Err(StreamError::TooLong);
        }
        let mut n = [0u8; 12];
        n[..11].copy_from_slice(&self.counter.to_be_bytes()[5..16]);
        n[11] = u8::from(last);
        Ok(Nonce::assume_unique_for_key(n))
    }

    fn next(&mut self, last: bool) -> Result<Nonce, StreamError> {
        let n = self.current(last)?;
        self.counter += 1;
        Ok(n)
    }
}

/// Encrypts everything written to it as a STREAM payload into `inner`.
///
/// Call [`StreamWriter::finish`] at the end: it writes the final chunk, without which the
/// payload does not open.
pub struct StreamWriter<W: Write> {
    // Always Some until `finish` takes it; an Option so Drop can wipe the buffer.
    inner: Option<W>,
    key: LessSafeKey,
    nonces: Nonces,
    buf: Vec<u8>,
}

impl<W: Write> StreamWriter<W> {
    /// A writer sealing under the 32-byte payload `key`.
    pub fn new(key: &[u8; 32], inner: W) -> Self {
        Self {
            inner: Some(inner),
            key: chacha_key(key),
            nonces: Nonces { counter: 0 },
            buf: Vec::with_capacity(SEALED_CHUNK),
        }
    }

    fn flush_chunk(&mut self, last: bool) -> io::Result<()> {
        let nonce = self.nonces.next(last)?;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::empty(), &mut self.buf)
            .map_err(|_| io::Error::other("chunk encryption failed"))?;
        self.buf.extend_from_slice(tag.as_ref());
        self.inner
            .as_mut()
            .expect("writer not finished")
            .write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Seals the final chunk and returns the inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_chunk(true)?;
        let mut inner = self.inner.take().expect("writer not finished");
        inner.flush()?;
        Ok(inner)
    }
}

impl<W: Write> Write for StreamWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A full chunk is only sealed once more data arrives: if the plaintext ends exactly at
        // a chunk boundary, that chunk is the last one and needs the final flag.
        if self.buf.len() == CHUNK {
            self.flush_chunk(false)?;
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

/// Decrypts a STREAM payload read from `inner`.
///
/// Plaintext is only released after its chunk authenticates; an error is returned, never
/// unauthenticated data.
pub struct StreamReader<R: Read> {
    inner: R,
    key: LessSafeKey,
    nonces: Nonces,
    /// Ciphertext read ahead: up to one sealed chunk plus one byte, to tell whether data
    /// follows a full final chunk.
    cipher: Vec<u8>,
    plain: Vec<u8>,
    pos: usize,
    done: bool,
    first: bool,
    /// Data was found after the final chunk: an error once its plaintext has been read.
    trailing: bool,
}

impl<R: Read> StreamReader<R> {
    /// A reader opening a payload sealed under the 32-byte `key`.
    pub fn new(key: &[u8; 32], inner: R) -> Self {
        Self {
            inner,
            key: chacha_key(key),
            nonces: Nonces { counter: 0 },
            cipher: Vec::with_capacity(SEALED_CHUNK + 1),
            plain: Vec::with_capacity(SEALED_CHUNK),
            pos: 0,
            done: false,
            first: true,
            trailing: false,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        while self.cipher.len() < SEALED_CHUNK + 1 {
            let start = self.cipher.len();
            self.cipher.resize(SEALED_CHUNK + 1, 0);
            match self.inner.read(&mut self.cipher[start..]) {
                Ok(0) => {
                    self.cipher.truncate(start);
                    break;
                }
                Ok(n) => self.cipher.truncate(start + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.cipher.truncate(start),
                Err(e) => {
                    self.cipher.truncate(start);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Opens the first `take` bytes of `cipher` as the current chunk into `plain`.
    fn open_chunk(&mut self, take: usize, last: bool) -> Result<usize, StreamError> {
        self.plain.clear();
        self.plain.extend_from_slice(&self.cipher[..take]);
        let nonce = self.nonces.current(last)?;
        self.key
            .open_in_place(nonce, Aad::empty(), &mut self.plain)
            .map(|p| p.len())
            .map_err(|_| StreamError::Auth)
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        self.fill()?;
        let take = self.cipher.len().min(SEALED_CHUNK);
        if take < TAG {
            return Err(StreamError::Auth.into());
        }
        // A short chunk can only be the last one. A full chunk is usually not, but is when the
        // plaintext ends at a chunk boundary: as in the reference implementation, try it as
        // a middle chunk first, then as the final one. Each chunk is released as soon as it
        // authenticates, so on a payload error the output is exactly what the C2SP test
        // vectors expect.
        let (len, last) = if take < SEALED_CHUNK {
            (self.open_chunk(take, true)?, true)
        } else {
            match self.open_chunk(take, false) {
                Ok(len) => (len, false),
                Err(_) => (self.open_chunk(take, true)?, true),
            }
        };
        self.nonces.next(last)?;
        self.cipher.drain(..take);
        self.plain.truncate(len);
        if last && len == 0 && !self.first {
            return Err(StreamError::EmptyLastChunk.into());
        }
        self.first = false;
        self.pos = 0;
        self.done = last;
        self.trailing = last && !self.cipher.is_empty();
        Ok(())
    }
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.plain.len() {
            if self.trailing {
                return Err(StreamError::TrailingData.into());
            }
            if self.done {
                return Ok(0);
            }
            self.next_chunk()?;
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl<R: Read> Drop for StreamReader<R> {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.plain.zeroize();
    }
}

impl<W: Write> Drop for StreamWriter<W> {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.buf.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
        let mut w = StreamWriter::new(key, Vec::new());
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn open(key: &[u8; 32], data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        StreamReader::new(key, data).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn round_trips_at_chunk_boundaries() {
        let key = [3u8; 32];
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 7] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&key, &data);
            let chunks = if len == 0 { 1 } else { len.div_ceil(CHUNK) };
            assert_eq!(sealed.len(), len + chunks * TAG, "len {len}");
            assert_eq!(open(&key, &sealed).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn detects_truncation_at_a_chunk_boundary() {
        let key = [3u8; 32];
        let data = vec![9u8; 2 * CHUNK + 5];
        let sealed = seal(&key, &data);
        // Dropping the final chunk leaves a sequence of valid non-final chunks.
        let cut = &sealed[..2 * SEALED_CHUNK];
        assert!(open(&key, cut).is_err());
        let cut = &sealed[..sealed.len() - 1];
        assert!(open(&key, cut).is_err());
    }

    #[test]
    fn detects_tampering_and_wrong_key() {
        let key = [3u8; 32];
        let mut sealed = seal(&key, b"rahasia");
        assert!(open(&[4u8; 32], &sealed).is_err());
        sealed[2] ^= 0x80;
        assert!(open(&key, &sealed).is_err());
    }

    #[test]
    fn releases_a_full_final_chunk_then_rejects_trailing_data() {
        let key = [6u8; 32];
        let data = vec![2u8; CHUNK];
        let mut sealed = seal(&key, &data);
        sealed.push(0);
        let mut r = StreamReader::new(&key, &sealed[..]);
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, data);
        assert_eq!(err.to_string(), StreamError::TrailingData.to_string());
    }

    #[test]
    fn rejects_trailing_empty_chunk() {
        // A full first chunk followed by an empty final chunk is not what a writer emits.
        let key = [5u8; 32];
        let mut w = StreamWriter::new(&key, Vec::new());
        w.write_all(&vec![1u8; CHUNK]).unwrap();
        // Force the full chunk out as non-final, then seal an empty final chunk.
        w.flush_chunk(false).unwrap();
        let sealed = w.finish().unwrap();
        assert_eq!(
            open(&key, &sealed).unwrap_err().to_string(),
            StreamError::EmptyLastChunk.to_string()
        );
    }
}
