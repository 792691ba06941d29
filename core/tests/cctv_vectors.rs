//! The Community Cryptography Test Vectors for age (C2SP/CCTV `age/testdata`), run against
//! `berani_core::age::open`.
//!
//! The vectors come from the npm package `cctv-age`, pinned in `tests/node/package.json`; run
//! `npm ci --prefix tests/node` once to fetch them. That package ships no folder of files: its
//! `index.js` holds every vector as a base64 string, preceded by a `// ../testdata/<name>`
//! comment, and this test reads them from there. `BERANI_CCTV_DIR` may point instead to either
//! another copy of the package (a folder with `index.js`) or a plain folder of vector files,
//! such as `age/testdata` in a checkout of the CCTV repository.
//!
//! Each vector is a text header of `key: value` lines, an empty line, then an age file,
//! zlib-compressed when `compressed: zlib` says so (see the package's README.md).
//!
//! A vector applies when every identity it gives is X25519: our opener does not implement
//! passphrase (scrypt) or hybrid post-quantum (ML-KEM-768 + X25519) identities. Vectors with a
//! header key the README does not define are skipped too, as the README asks. Armored vectors
//! (`armored: yes`) are read through `age::armor::ArmoredReader`, as the reference
//! implementation's test runner reads them through its armor reader; every vector is also
//! opened through `age::open_detecting_armor`, the entry point of `berani open`.
//!
//! For the pinned `cctv-age` release the test asserts exactly how many vectors apply and why
//! the others do not, so a filter that skips too much fails.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berani_core::age::armor::{ArmoredReader, looks_armored};
use berani_core::age::{self, AgeError, Decryptor, Identity};
use berani_core::crypto::{hex, sha256};

const NPM_HINT: &str = "run `npm ci --prefix tests/node` from the workspace root to install the \
                        `cctv-age` test vectors (or set BERANI_CCTV_DIR to a folder of vectors)";

/// The `cctv-age` release the counts below are for; tests/node/package.json pins it.
const PINNED_VERSION: &str = "0.2.0";
/// Vectors in the pinned release.
const PINNED_VECTORS: usize = 143;
/// Vectors of the pinned release that apply, and the armored ones among them.
const PINNED_APPLICABLE: usize = 98;
const PINNED_ARMORED: usize = 31;
/// Why the other vectors of the pinned release do not apply (reason, count), by reason.
const PINNED_NOT_APPLICABLE: &[(&str, usize)] = &[("hybrid", 19), ("scrypt", 26)];
/// Armored vectors of the pinned release whose file does not start like armor (leading
/// garbage), which `open_detecting_armor` therefore reads as a binary file.
const PINNED_DETECTED_BINARY: usize = 1;

/// Header keys defined by the vector format.
const KNOWN_KEYS: &[&str] = &[
    "expect",
    "payload",
    "file key",
    "identity",
    "passphrase",
    "armored",
    "compressed",
    "comment",
];

struct Vector {
    name: String,
    /// The header lines, in order (keys such as `identity` may repeat).
    fields: Vec<(String, String)>,
    /// The age file, decompressed.
    body: Vec<u8>,
}

impl Vector {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits a vector file into its header fields and its (decompressed) age file.
fn parse_vector(name: &str, raw: &[u8]) -> Vector {
    let mut fields = Vec::new();
    let mut rest = raw;
    loop {
        let end = rest
            .iter()
            .position(|&c| c == b'\n')
            .unwrap_or_else(|| panic!("{name}: the header does not end with an empty line"));
        let line = &rest[..end];
        rest = &rest[end + 1..];
        if line.is_empty() {
            break;
        }
        let line = std::str::from_utf8(line)
            .unwrap_or_else(|_| panic!("{name}: header line is not UTF-8"));
        let (k, v) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{name}: header line {line:?} is not `key: value`"));
        fields.push((k.to_string(), v.to_string()));
    }
    let mut v = Vector {
        name: name.to_string(),
        fields,
        body: rest.to_vec(),
    };
    match v.get("compressed") {
        None => {}
        Some("zlib") => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(&v.body[..])
                .read_to_end(&mut out)
                .unwrap_or_else(|e| panic!("{name}: zlib body does not decompress: {e}"));
            v.body = out;
        }
        Some(other) => panic!("{name}: unknown compression {other:?}"),
    }
    v
}

/// Reads the vectors embedded in the `cctv-age` package's `index.js`.
fn vectors_from_index_js(path: &Path) -> Vec<Vector> {
    let js = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {NPM_HINT}", path.display()));
    let mut out = Vec::new();
    let mut lines = js.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.strip_prefix("// ../testdata/") else {
            continue;
        };
        let def = lines.next().unwrap_or("");
        let b64 = def
            .split_once("__toBinary(\"")
            .and_then(|(_, r)| r.split_once("\")"))
            .map(|(b, _)| b)
            .unwrap_or_else(|| panic!("{}: no data after the comment for {name}", path.display()));
        let raw = STANDARD
            .decode(b64)
            .unwrap_or_else(|e| panic!("{}: bad base64 for {name}: {e}", path.display()));
        out.push(parse_vector(name, &raw));
    }
    // Guard against a format change that would make the scan above miss vectors silently.
    let embedded = js.matches("__toBinary(\"").count();
    assert_eq!(
        out.len(),
        embedded,
        "{}: found {embedded} embedded vectors but parsed {}; has the package layout changed?",
        path.display(),
        out.len()
    );
    out
}

/// Reads a folder of vector files (the CCTV repository's `age/testdata` layout).
fn vectors_from_dir(dir: &Path) -> Vec<Vector> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}; {NPM_HINT}", dir.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        if !entry.file_type().expect("file type").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let raw = std::fs::read(entry.path()).expect("read vector");
        out.push(parse_vector(&name, &raw));
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The version of the `cctv-age` package in `dir`, if `dir` is one.
fn package_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    (json["name"] == "cctv-age").then(|| json["version"].as_str().map(str::to_string))?
}

/// The `cctv-age` version that tests/node/package.json pins.
fn pinned_in_package_json() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/node/package.json");
    let text = std::fs::read_to_string(&path).expect("tests/node/package.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("package.json is JSON");
    json["dependencies"]["cctv-age"]
        .as_str()
        .expect("tests/node/package.json pins cctv-age")
        .to_string()
}

fn load_vectors() -> (PathBuf, Vec<Vector>) {
    let dir = match std::env::var_os("BERANI_CCTV_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/node/node_modules/cctv-age"),
    };
    assert!(
        dir.is_dir(),
        "the age test vectors are missing: {} does not exist; {NPM_HINT}",
        dir.display()
    );
    let index = dir.join("index.js");
    let vectors = if index.is_file() {
        vectors_from_index_js(&index)
    } else {
        vectors_from_dir(&dir)
    };
    assert!(
        !vectors.is_empty(),
        "no age test vectors found in {}; {NPM_HINT}",
        dir.display()
    );
    (dir, vectors)
}

/// Why a vector does not apply to our opener, or the identities to open it with.
fn applicability(v: &Vector) -> Result<Vec<Identity>, &'static str> {
    if v.fields
        .iter()
        .any(|(k, _)| !KNOWN_KEYS.contains(&k.as_str()))
    {
        return Err("unknown header key");
    }
    if v.get("passphrase").is_some() {
        return Err("scrypt");
    }
    let mut ids = Vec::new();
    for s in v.all("identity") {
        let upper = s.to_ascii_uppercase();
        if upper.starts_with("AGE-SECRET-KEY-PQ-1") {
            return Err("hybrid");
        }
        if !upper.starts_with("AGE-SECRET-KEY-1") {
            return Err("other identity type");
        }
        let id = s
            .parse::<Identity>()
            .unwrap_or_else(|e| panic!("{}: X25519 identity does not parse: {e}", v.name));
        ids.push(id);
    }
    Ok(ids)
}

/// What our API reported.
enum Outcome {
    Ok { len: u64, hash: String },
    Err { err: AgeError, hash: String },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Ok { len, hash } => write!(f, "Ok({len} bytes, sha256 {hash})"),
            Outcome::Err { err, hash } => {
                write!(f, "Err({err:?}: {err}) after output with sha256 {hash}")
            }
        }
    }
}

/// Runs `open` into a fresh buffer: the result, and how many bytes it released.
fn outcome(open: impl FnOnce(&mut Vec<u8>) -> Result<u64, AgeError>) -> (Outcome, usize) {
    let mut out = Vec::new();
    let res = open(&mut out);
    let hash = hex(&sha256(&out));
    let got = match res {
        Ok(len) => Outcome::Ok { len, hash },
        Err(err) => Outcome::Err { err, hash },
    };
    (got, out.len())
}

/// Opens a binary vector with `age::open`, an armored one through `ArmoredReader`.
fn open_as_flagged(v: &Vector, ids: &[Identity]) -> (Outcome, usize) {
    if v.get("armored") == Some("yes") {
        outcome(|out| {
            let mut dec = Decryptor::new(ArmoredReader::new(&v.body[..]), ids)?;
            std::io::copy(&mut dec, out).map_err(AgeError::from_io)
        })
    } else {
        outcome(|out| age::open(ids, &v.body[..], out))
    }
}

/// Whether `got` is what the vector expects.
fn expected(v: &Vector, got: &Outcome, released: usize) -> bool {
    let want_hash = v.get("payload");
    let hash_ok = |h: &str| want_hash.is_none_or(|w| w.eq_ignore_ascii_case(h));
    match (v.get("expect").unwrap_or("<missing>"), got) {
        ("success", Outcome::Ok { len, hash }) => {
            want_hash.is_some() && hash_ok(hash) && *len == released as u64
        }
        ("no match", Outcome::Err { err, .. }) => matches!(err, AgeError::NoMatch),
        ("HMAC failure", Outcome::Err { err, .. }) => matches!(err, AgeError::HeaderMac),
        ("header failure", Outcome::Err { err, .. }) => matches!(err, AgeError::Header(_)),
        ("armor failure", Outcome::Err { err, .. }) => matches!(err, AgeError::Armor(_)),
        // The format requires that whatever plaintext was released before the error match
        // `payload:`; `open` writes only authenticated chunks to its output.
        ("payload failure", Outcome::Err { err, hash }) => {
            matches!(err, AgeError::Payload(_)) && hash_ok(hash)
        }
        _ => false,
    }
}

/// Checks one applicable vector; `Err` describes the mismatch.
fn check(v: &Vector, ids: &[Identity]) -> Result<(), String> {
    let expect = v.get("expect").unwrap_or("<missing>");
    let want_hash = v.get("payload");
    let (got, released) = open_as_flagged(v, ids);
    if expected(v, &got, released) {
        return Ok(());
    }
    let mut want = expect.to_string();
    if let Some(h) = want_hash {
        want.push_str(&format!(" (payload sha256 {h})"));
    }
    let comment = v
        .get("comment")
        .map(|c| format!(" [comment: {c}]"))
        .unwrap_or_default();
    Err(format!("{}: expected {want}, got {got}{comment}", v.name))
}

/// Checks `age::open_detecting_armor` on one applicable vector. Where it reads the file as the
/// vector is flagged, it must give the expected result; an armored vector that does not start
/// like armor is read as binary and must fail without releasing anything. `Ok(true)` counts
/// such a vector.
fn check_detecting(v: &Vector, ids: &[Identity]) -> Result<bool, String> {
    let (got, released) = outcome(|out| age::open_detecting_armor(ids, &v.body[..], out));
    let flagged = v.get("armored") == Some("yes");
    let detected = v.body.first().copied().is_some_and(looks_armored);
    if detected == flagged {
        if expected(v, &got, released) {
            return Ok(false);
        }
        return Err(format!(
            "{}: open_detecting_armor: expected {}, got {got}",
            v.name,
            v.get("expect").unwrap_or("<missing>")
        ));
    }
    match (&got, v.get("expect")) {
        (
            Outcome::Err {
                err: AgeError::Header(_),
                ..
            },
            Some(e),
        ) if e != "success" && released == 0 => Ok(true),
        _ => Err(format!(
            "{}: open_detecting_armor read it as {}: expected a header failure, got {got}",
            v.name,
            if detected { "armor" } else { "binary" }
        )),
    }
}

#[test]
fn cctv_age_vectors() {
    let (dir, vectors) = load_vectors();
    let mut not_applicable: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut applicable = 0usize;
    let mut armored = 0usize;
    let mut detected_binary = 0usize;
    let mut passed = 0usize;
    let mut mismatches = Vec::new();
    for v in &vectors {
        let ids = match applicability(v) {
            Ok(ids) => ids,
            Err(reason) => {
                *not_applicable.entry(reason).or_default() += 1;
                continue;
            }
        };
        applicable += 1;
        if v.get("armored") == Some("yes") {
            armored += 1;
        }
        let flagged = check(v, &ids);
        let detecting = check_detecting(v, &ids);
        if let Ok(true) = detecting {
            detected_binary += 1;
        }
        match (flagged, detecting) {
            (Ok(()), Ok(_)) => passed += 1,
            (a, b) => mismatches.extend(a.err().into_iter().chain(b.err())),
        }
    }
    let mut reasons: Vec<_> = not_applicable.iter().map(|(r, n)| (*r, *n)).collect();
    reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let reasons = reasons
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "cctv-age: {} vectors, {applicable} applicable ({armored} armored), {passed} passed; \
         not applicable: {}",
        vectors.len(),
        if reasons.is_empty() { "none" } else { &reasons }
    );
    assert!(
        mismatches.is_empty(),
        "{} of {applicable} applicable age vectors failed:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    let pinned = pinned_in_package_json();
    assert_eq!(
        pinned, PINNED_VERSION,
        "tests/node/package.json pins cctv-age {pinned}: update the PINNED_ counts here for it"
    );
    match package_version(&dir) {
        Some(v) if v == PINNED_VERSION => {
            let got: Vec<(&str, usize)> = not_applicable.into_iter().collect();
            assert_eq!(
                (
                    vectors.len(),
                    applicable,
                    armored,
                    detected_binary,
                    &got[..]
                ),
                (
                    PINNED_VECTORS,
                    PINNED_APPLICABLE,
                    PINNED_ARMORED,
                    PINNED_DETECTED_BINARY,
                    PINNED_NOT_APPLICABLE
                ),
                "cctv-age {v}: (vectors, applicable, armored, armored read as binary, \
                 not applicable by reason) differ from what the release holds"
            );
        }
        // Another set of vectors (BERANI_CCTV_DIR): at least as many must apply as in the
        // pinned release.
        other => assert!(
            applicable >= PINNED_APPLICABLE && armored >= PINNED_ARMORED,
            "{} ({}): only {applicable} applicable vectors ({armored} armored), fewer than the \
             {PINNED_APPLICABLE} ({PINNED_ARMORED}) of cctv-age {PINNED_VERSION}; {NPM_HINT}",
            dir.display(),
            other
                .as_deref()
                .map_or("not a cctv-age package".into(), |v| format!("cctv-age {v}"))
        ),
    }
}
