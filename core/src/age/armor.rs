//! The ASCII armor of age files (C2SP age spec, "ASCII armor"), read as a stream.
//!
//! An armored age file is the binary file in the strict PEM encoding of RFC 7468 (section 3,
//! figure 3) with the label `AGE ENCRYPTED FILE`, as `age -a` writes it:
//!
//! ```text
//! -----BEGIN AGE ENCRYPTED FILE-----
//! <standard base64 with = padding, 64 columns per line, the last line 1 to 64 columns>
//! -----END AGE ENCRYPTED FILE-----
//! ```
//!
//! Berani seals binary files only (the outbox uploads binary parts); the armor is read so that
//! a file written with `age -a` opens with the core (`berani open`). Armor is malleable unless
//! every other encoding of the same bytes is refused, so the reader is strict, as the spec asks:
//!
//! - only whitespace may come before the BEGIN line and after the END line, and the BEGIN line
//!   starts a line;
//! - no PEM headers, no empty lines, no whitespace inside a line;
//! - every base64 line is exactly 64 columns except the last, which is 1 to 64 columns and is
//!   followed by the END line;
//! - base64 is canonical: `=` padding present, unused bits zero;
//! - lines end in LF or in CRLF, the same throughout (the BEGIN line sets which); the END
//!   line may end the file without one.
//!
//! Memory is one line (at most 66 bytes) and one decoded line (48 bytes), whatever the size
//! of the file.

use std::io::{self, BufRead, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The first line of an armored age file.
pub const BEGIN: &str = "-----BEGIN AGE ENCRYPTED FILE-----";
/// The last line of an armored age file.
pub const END: &str = "-----END AGE ENCRYPTED FILE-----";
/// Base64 columns per full line.
const COLUMNS: usize = 64;
/// Bytes a full line decodes to.
const BYTES_PER_LINE: usize = COLUMNS / 4 * 3;
/// The longest line accepted, with its line ending.
const MAX_LINE: usize = COLUMNS + 2;

/// Why the armor around an age file was refused. Carries no file content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArmorError(pub &'static str);

impl From<ArmorError> for io::Error {
    fn from(e: ArmorError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Whether a file whose first byte is `first` is read as armor rather than as a binary age
/// file. A binary age file starts with `age-encryption.org/`; armor starts with its BEGIN line,
/// possibly after whitespace.
pub fn looks_armored(first: u8) -> bool {
    first == b'-' || first.is_ascii_whitespace()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Lf,
    CrLf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the BEGIN line.
    Start,
    /// Between BEGIN and END; `last` once a line shorter than a full one was read.
    Body { eol: Eol, last: bool },
    /// The END line and the whitespace after it were read.
    Done,
    /// A read failed; the armor error, if that was the cause, is repeated.
    Failed(Option<ArmorError>),
}

/// Decodes the armored age file read from `inner`: reading yields the binary age file.
///
/// Errors are `io::ErrorKind::InvalidData` carrying an [`ArmorError`]. The bytes decoded
/// before a malformed line are returned first and the error at the next read, so the reader
/// streams; nothing it returns is trusted until the age layer authenticates it.
pub struct ArmoredReader<R: BufRead> {
    inner: R,
    state: State,
    line: Vec<u8>,
    decoded: [u8; BYTES_PER_LINE],
    pos: usize,
    len: usize,
    /// An error met after some bytes were already returned by the same read.
    pending: Option<io::Error>,
}

impl<R: BufRead> ArmoredReader<R> {
    /// A reader of the armored file in `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            state: State::Start,
            line: Vec::with_capacity(MAX_LINE + 1),
            decoded: [0; BYTES_PER_LINE],
            pos: 0,
            len: 0,
            pending: None,
        }
    }

    /// Reads one line (at most [`MAX_LINE`] bytes) into `self.line`, without its ending.
    fn read_line(&mut self) -> io::Result<Option<Eol>> {
        self.line.clear();
        (&mut self.inner)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut self.line)?;
        if self.line.len() > MAX_LINE {
            return Err(ArmorError("a line is longer than 64 columns").into());
        }
        if self.line.ends_with(b"\r\n") {
            self.line.truncate(self.line.len() - 2);
            Ok(Some(Eol::CrLf))
        } else if self.line.ends_with(b"\n") {
            self.line.truncate(self.line.len() - 1);
            Ok(Some(Eol::Lf))
        } else {
            Ok(None)
        }
    }

    /// Skips the whitespace before the BEGIN line and reads that line.
    fn begin(&mut self) -> io::Result<Eol> {
        let mut last_skipped = None;
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(ArmorError("no -----BEGIN AGE ENCRYPTED FILE----- line").into());
            }
            let n = buf.iter().take_while(|c| c.is_ascii_whitespace()).count();
            if n > 0 {
                last_skipped = Some(buf[n - 1]);
            }
            let more = n == buf.len();
            self.inner.consume(n);
            if !more {
                break;
            }
        }
        if last_skipped.is_some_and(|c| c != b'\n') {
            return Err(ArmorError("the BEGIN line does not start a line").into());
        }
        let eol = self.read_line()?;
        if self.line != BEGIN.as_bytes() {
            return Err(
                ArmorError("the first line is not -----BEGIN AGE ENCRYPTED FILE-----").into(),
            );
        }
        eol.ok_or_else(|| {
            ArmorError("the file ends before -----END AGE ENCRYPTED FILE-----").into()
        })
    }

    /// Checks that only whitespace follows the END line.
    fn trailing(&mut self) -> io::Result<()> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            if !buf.iter().all(u8::is_ascii_whitespace) {
                return Err(ArmorError("data follows -----END AGE ENCRYPTED FILE-----").into());
            }
            let n = buf.len();
            self.inner.consume(n);
        }
    }

    /// Decodes the next line into `self.decoded`; `false` at the end of the armor.
    fn advance(&mut self) -> io::Result<bool> {
        let (eol, last) = match self.state {
            State::Start => {
                let eol = self.begin()?;
                self.state = State::Body { eol, last: false };
                (eol, false)
            }
            State::Body { eol, last } => (eol, last),
            State::Done => return Ok(false),
            State::Failed(_) => unreachable!("read returns before advancing a failed reader"),
        };
        let got = self.read_line()?;
        if self.line == END.as_bytes() {
            if got.is_some_and(|g| g != eol) {
                return Err(ArmorError("the file mixes LF and CRLF line endings").into());
            }
            self.trailing()?;
            self.state = State::Done;
            return Ok(false);
        }
        match got {
            None => {
                return Err(
                    ArmorError("the file ends before -----END AGE ENCRYPTED FILE-----").into(),
                );
            }
            Some(g) if g != eol => {
                return Err(ArmorError("the file mixes LF and CRLF line endings").into());
            }
            Some(_) => {}
        }
        let line = &self.line[..];
        if line.starts_with(b"-----") {
            return Err(ArmorError("the last line is not -----END AGE ENCRYPTED FILE-----").into());
        }
        if last {
            return Err(ArmorError(
                "a line follows the last, shorter one instead of -----END AGE ENCRYPTED FILE-----",
            )
            .into());
        }
        if line.is_empty() {
            return Err(
                ArmorError("an empty line inside the armor (PEM headers are not allowed)").into(),
            );
        }
        if line.iter().any(u8::is_ascii_whitespace) {
            return Err(ArmorError("whitespace inside a line of the armor").into());
        }
        if line.len() > COLUMNS {
            return Err(ArmorError("a line is longer than 64 columns").into());
        }
        if !line.len().is_multiple_of(4) {
            return Err(ArmorError(
                "a base64 line is not a multiple of 4 columns (missing padding)",
            )
            .into());
        }
        let n = STANDARD
            .decode_slice(line, &mut self.decoded)
            .map_err(|_| ArmorError("invalid or non-canonical base64"))?;
        self.pos = 0;
        self.len = n;
        self.state = State::Body {
            eol,
            last: line.len() < COLUMNS || n < BYTES_PER_LINE,
        };
        Ok(true)
    }
}

impl<R: BufRead> Read for ArmoredReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        if let State::Failed(cause) = self.state {
            return Err(match cause {
                Some(a) => a.into(),
                None => io::Error::other("an earlier read of the armored file failed"),
            });
        }
        let mut n = 0;
        while n < buf.len() {
            if self.pos < self.len {
                let k = (buf.len() - n).min(self.len - self.pos);
                buf[n..n + k].copy_from_slice(&self.decoded[self.pos..self.pos + k]);
                self.pos += k;
                n += k;
                continue;
            }
            match self.advance() {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    let cause = e
                        .get_ref()
                        .and_then(|i| i.downcast_ref::<ArmorError>())
                        .copied();
                    self.state = State::Failed(cause);
                    if n == 0 {
                        return Err(e);
                    }
                    self.pending = Some(e);
                    break;
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armor(data: &[u8], eol: &str) -> String {
        let mut out = format!("{BEGIN}{eol}");
        for chunk in data.chunks(BYTES_PER_LINE) {
            out.push_str(&STANDARD.encode(chunk));
            out.push_str(eol);
        }
        out.push_str(END);
        out.push_str(eol);
        out
    }

    fn decode(text: &[u8]) -> Result<Vec<u8>, ArmorError> {
        let mut out = Vec::new();
        ArmoredReader::new(text)
            .read_to_end(&mut out)
            .map_err(|e| {
                *e.into_inner()
                    .expect("an armor error")
                    .downcast::<ArmorError>()
                    .expect("an armor error")
            })?;
        Ok(out)
    }

    #[test]
    fn round_trips_every_last_line_length() {
        for len in [0, 1, 2, 3, 47, 48, 49, 95, 96, 97, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 % 256) as u8).collect();
            for eol in ["\n", "\r\n"] {
                assert_eq!(decode(armor(&data, eol).as_bytes()).unwrap(), data, "{len}");
            }
        }
    }

    #[test]
    fn decodes_through_one_byte_reads() {
        let data: Vec<u8> = (0..500u32).map(|i| (i % 251) as u8).collect();
        let text = armor(&data, "\n");
        let mut r = ArmoredReader::new(text.as_bytes());
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while r.read(&mut b).unwrap() == 1 {
            out.push(b[0]);
        }
        assert_eq!(out, data);
    }

    #[test]
    fn whitespace_around_the_block_is_allowed() {
        let data = b"age file bytes".to_vec();
        let text = format!("\n \t\r\n{}\r\n \n", armor(&data, "\n"));
        assert_eq!(decode(text.as_bytes()).unwrap(), data);
        let no_final_eol = armor(&data, "\n");
        assert_eq!(
            decode(no_final_eol.trim_end().as_bytes()).unwrap(),
            data,
            "the END line may end the file"
        );
    }

    #[test]
    fn refuses_each_non_canonical_form() {
        // 101 bytes: two full lines and a last line of 7 columns and one `=`.
        let data: Vec<u8> = (0..101u8).collect();
        let good = armor(&data, "\n");
        let lines: Vec<&str> = good.lines().collect();
        assert_eq!(lines.len(), 5, "{good}");
        assert!(lines[3].len() == 8 && lines[3].ends_with('=') && !lines[3].ends_with("=="));
        let join = |ls: &[&str]| ls.join("\n") + "\n";
        // The same bits with a non-zero unused bit: the symbol before `=` moved by one.
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut last = lines[3].as_bytes().to_vec();
        let i = alphabet.iter().position(|&c| c == last[6]).unwrap();
        last[6] = alphabet[i + 1];
        let non_canonical = String::from_utf8(last).unwrap();
        let cases: Vec<(String, &str)> = vec![
            (format!("  {good}"), "does not start a line"),
            (format!("x\n{good}"), "first line"),
            (
                good.replace("AGE ENCRYPTED FILE", "AGE ENCRYPTED DATA"),
                "first line",
            ),
            (format!("{good}x"), "data follows"),
            (good.replacen('\n', "\r\n", 2), "mixes LF and CRLF"),
            (
                good.replace(END, "").trim_end().to_string() + "\n",
                "ends before",
            ),
            (
                join(&[lines[0], "", lines[1], lines[2], lines[3], lines[4]]),
                "empty line",
            ),
            (
                join(&[
                    lines[0],
                    "Proc-Type: 4",
                    lines[1],
                    lines[2],
                    lines[3],
                    lines[4],
                ]),
                "whitespace",
            ),
            (
                join(&[lines[0], &lines[1][..60], lines[2], lines[3], lines[4]]),
                "follows the last",
            ),
            (
                join(&[
                    lines[0],
                    &format!("{}{}", lines[1], &lines[2][..4]),
                    lines[3],
                    lines[4],
                ]),
                "longer than 64",
            ),
            (
                join(&[
                    lines[0],
                    lines[1],
                    lines[2],
                    &lines[3].replace('=', ""),
                    lines[4],
                ]),
                "multiple of 4",
            ),
            (
                join(&[
                    lines[0],
                    lines[1],
                    lines[2],
                    &format!("{} ", lines[3]),
                    lines[4],
                ]),
                "whitespace",
            ),
            (
                join(&[lines[0], lines[1], lines[2], &non_canonical, lines[4]]),
                "base64",
            ),
            (
                join(&[
                    lines[0],
                    &lines[1].replace('A', "*"),
                    lines[2],
                    lines[3],
                    lines[4],
                ]),
                "base64",
            ),
            (
                join(&[
                    lines[0],
                    lines[1],
                    lines[2],
                    lines[3],
                    "-----END AGE ENCRYPTED FILE----- ",
                ]),
                "last line is not",
            ),
            (String::new(), "no -----BEGIN"),
        ];
        for (text, want) in cases {
            let err = decode(text.as_bytes()).unwrap_err();
            assert!(err.0.contains(want), "{text:?}: got {err}, want {want}");
        }
    }

    #[test]
    fn returns_decoded_lines_before_the_error() {
        let data = vec![9u8; 200];
        let mut text = armor(&data, "\n");
        text.push_str("garbage");
        let mut r = ArmoredReader::new(text.as_bytes());
        let mut buf = vec![0u8; 1024];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], &data[..]);
        assert!(r.read(&mut buf).is_err());
        assert!(r.read(&mut buf).is_err(), "a failed reader stays failed");
    }

    #[test]
    fn detects_armor_by_the_first_byte() {
        assert!(looks_armored(b'-'));
        assert!(looks_armored(b'\n'));
        assert!(looks_armored(b' '));
        assert!(!looks_armored(b'a'));
        assert!(!looks_armored(0));
    }
}
