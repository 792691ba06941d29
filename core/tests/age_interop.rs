//! Interoperability of `berani_core::age` with the `age` crate and with the reference `age`
//! command-line tool (Go), in both directions, plus damaged files from the reference tool.
//!
//! The CLI tests need `age` and `age-keygen` on PATH (Debian package `age`, which CI
//! installs); without them they fail rather than pass silently.

use std::io::{Read, Write};
use std::iter;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use age::secrecy::ExposeSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use berani_core::age::{self as core_age, AgeError, Identity, Recipient, parse_identity_file};

const SIZES: &[usize] = &[0, 1, 65_535, 65_536, 65_537, 200_000];
const CHUNK: usize = 64 * 1024;
const SEALED_CHUNK: usize = CHUNK + 16;

/// Deterministic, non-repeating test content, so reordered or misplaced chunks show up.
fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9 ^ len as u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

fn core_seal(to: &[Recipient], plain: &[u8]) -> Vec<u8> {
    let (n, sealed) = core_age::seal(to, plain, Vec::new()).expect("core seals");
    assert_eq!(n, plain.len() as u64);
    sealed
}

fn core_open(ids: &[Identity], sealed: &[u8]) -> Result<Vec<u8>, AgeError> {
    let mut out = Vec::new();
    let n = core_age::open(ids, sealed, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

/// Opens with core, also returning whatever plaintext was released before an error.
fn core_open_partial(ids: &[Identity], sealed: &[u8]) -> (Result<u64, AgeError>, Vec<u8>) {
    let mut out = Vec::new();
    let res = core_age::open(ids, sealed, &mut out);
    (res, out)
}

/// The `age` crate's view of a core identity.
fn crate_identity(id: &Identity) -> age::x25519::Identity {
    id.to_secret_string()
        .parse()
        .expect("the age crate parses our identity")
}

/// Core's view of an `age` crate identity.
fn core_identity(id: &age::x25519::Identity) -> Identity {
    id.to_string()
        .expose_secret()
        .parse()
        .expect("core parses the age crate's identity")
}

fn crate_encrypt(to: &[age::x25519::Recipient], plain: &[u8]) -> Vec<u8> {
    let enc = age::Encryptor::with_recipients(to.iter().map(|r| r as &dyn age::Recipient))
        .expect("age crate encryptor");
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).expect("age crate header");
    w.write_all(plain).expect("age crate encrypts");
    w.finish().expect("age crate finishes");
    out
}

fn crate_decrypt(id: &age::x25519::Identity, sealed: &[u8]) -> Result<Vec<u8>, age::DecryptError> {
    let dec = age::Decryptor::new(sealed)?;
    let mut r = dec.decrypt(iter::once(id as &dyn age::Identity))?;
    let mut out = Vec::new();
    r.read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn core_seals_age_crate_opens() {
    for &n_recipients in &[1, 3] {
        let ids: Vec<Identity> = (0..n_recipients).map(|_| Identity::generate()).collect();
        let to: Vec<Recipient> = ids.iter().map(Identity::to_public).collect();
        for &len in SIZES {
            let plain = data(len);
            let sealed = core_seal(&to, &plain);
            for id in &ids {
                let out = crate_decrypt(&crate_identity(id), &sealed).unwrap_or_else(|e| {
                    panic!("age crate fails on {len} bytes to {n_recipients} recipients: {e}")
                });
                assert!(
                    out == plain,
                    "content differs: {len} bytes, {n_recipients} recipients"
                );
            }
        }
    }
}

#[test]
fn age_crate_seals_core_opens() {
    for &n_recipients in &[1, 3] {
        let ids: Vec<age::x25519::Identity> = (0..n_recipients)
            .map(|_| age::x25519::Identity::generate())
            .collect();
        let to: Vec<age::x25519::Recipient> = ids.iter().map(|i| i.to_public()).collect();
        // Both libraries must agree on the recipient string.
        for (id, r) in ids.iter().zip(&to) {
            assert_eq!(core_identity(id).to_public().to_string(), r.to_string());
        }
        let core_ids: Vec<Identity> = ids.iter().map(core_identity).collect();
        for &len in SIZES {
            let plain = data(len);
            let sealed = crate_encrypt(&to, &plain);
            for id in &core_ids {
                let out = core_open(std::slice::from_ref(id), &sealed).unwrap_or_else(|e| {
                    panic!("core fails on {len} bytes to {n_recipients} recipients: {e}")
                });
                assert!(
                    out == plain,
                    "content differs: {len} bytes, {n_recipients} recipients"
                );
            }
            // All identities at once, as an officer's identity file would give them.
            assert!(core_open(&core_ids, &sealed).unwrap() == plain);
        }
    }
}

#[test]
fn wrong_identity_is_no_match_with_the_age_crate() {
    let plain = data(1000);
    // core seals, age crate opens with a stranger's key.
    let id = Identity::generate();
    let sealed = core_seal(&[id.to_public(), Identity::generate().to_public()], &plain);
    let stranger = age::x25519::Identity::generate();
    assert!(matches!(
        crate_decrypt(&stranger, &sealed),
        Err(age::DecryptError::NoMatchingKeys)
    ));
    assert!(crate_decrypt(&crate_identity(&id), &sealed).unwrap() == plain);
    // age crate seals, core opens with a stranger's key.
    let id = age::x25519::Identity::generate();
    let sealed = crate_encrypt(&[id.to_public()], &plain);
    assert!(matches!(
        core_open(&[Identity::generate()], &sealed),
        Err(AgeError::NoMatch)
    ));
    assert!(core_open(&[core_identity(&id)], &sealed).unwrap() == plain);
}

// ---- the reference `age` CLI ----

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The path of a reference tool; fails the test when it is missing.
fn tool(name: &str) -> PathBuf {
    on_path(name).unwrap_or_else(|| {
        panic!(
            "`{name}` is not on PATH: install the reference age tool with `apt-get install age` \
             (CI installs it)"
        )
    })
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("the command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A key written by `age-keygen -o`, and its recipient.
struct CliKey {
    path: PathBuf,
    recipient: String,
}

impl CliKey {
    fn new(dir: &Path, name: &str) -> Self {
        let path = dir.join(name);
        run(Command::new(tool("age-keygen")).arg("-o").arg(&path));
        let out = run(Command::new(tool("age-keygen")).arg("-y").arg(&path));
        let recipient = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Self { path, recipient }
    }

    /// The key file read as core reads an officer's identity file.
    fn core_identities(&self) -> Vec<Identity> {
        let text = std::fs::read_to_string(&self.path).unwrap();
        parse_identity_file(&text).expect("core reads an age-keygen file")
    }
}

fn cli_encrypt(dir: &Path, to: &[&str], plain: &[u8]) -> Vec<u8> {
    cli_encrypt_with(dir, &[], to, plain)
}

/// `age [flags] -r … -o cli.age plain.bin`.
fn cli_encrypt_with(dir: &Path, flags: &[&str], to: &[&str], plain: &[u8]) -> Vec<u8> {
    let input = dir.join("plain.bin");
    let output = dir.join("cli.age");
    std::fs::write(&input, plain).unwrap();
    let mut cmd = Command::new(tool("age"));
    cmd.args(flags);
    for r in to {
        cmd.arg("-r").arg(r);
    }
    run(cmd.arg("-o").arg(&output).arg(&input));
    std::fs::read(&output).unwrap()
}

fn cli_decrypt(dir: &Path, key: &Path, sealed: &[u8]) -> Output {
    let input = dir.join("core.age");
    std::fs::write(&input, sealed).unwrap();
    Command::new(tool("age"))
        .arg("-d")
        .arg("-i")
        .arg(key)
        .arg(&input)
        .output()
        .expect("age starts")
}

#[test]
fn core_seals_age_cli_opens() {
    let dir = tempfile::tempdir().unwrap();
    let key = CliKey::new(dir.path(), "key.txt");
    let ours: Recipient = key
        .recipient
        .parse()
        .expect("core parses an age-keygen recipient");
    assert_eq!(ours.to_string(), key.recipient);
    let others = [Identity::generate(), Identity::generate()];
    for to in [
        vec![ours],
        vec![others[0].to_public(), ours, others[1].to_public()],
    ] {
        for &len in SIZES {
            let plain = data(len);
            let sealed = core_seal(&to, &plain);
            let out = cli_decrypt(dir.path(), &key.path, &sealed);
            assert!(
                out.status.success(),
                "age -d fails on {len} bytes to {} recipients: {}",
                to.len(),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                out.stdout == plain,
                "content differs: {len} bytes, {} recipients",
                to.len()
            );
        }
    }
}

#[test]
fn age_cli_seals_core_opens() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        CliKey::new(dir.path(), "a.txt"),
        CliKey::new(dir.path(), "b.txt"),
        CliKey::new(dir.path(), "c.txt"),
    ];
    for n in [1, 3] {
        let to: Vec<&str> = keys[..n].iter().map(|k| k.recipient.as_str()).collect();
        for &len in SIZES {
            let plain = data(len);
            let sealed = cli_encrypt(dir.path(), &to, &plain);
            for k in &keys[..n] {
                let out = core_open(&k.core_identities(), &sealed).unwrap_or_else(|e| {
                    panic!("core fails on {len} bytes from age -r to {n} recipients: {e}")
                });
                assert!(out == plain, "content differs: {len} bytes, {n} recipients");
            }
        }
    }
}

#[test]
fn wrong_identity_is_no_match_with_the_age_cli() {
    let dir = tempfile::tempdir().unwrap();
    let key = CliKey::new(dir.path(), "key.txt");
    let stranger = CliKey::new(dir.path(), "stranger.txt");
    let plain = data(5000);

    // core seals to someone else: the reference tool finds no matching identity.
    let sealed = core_seal(&[Identity::generate().to_public()], &plain);
    let out = cli_decrypt(dir.path(), &key.path, &sealed);
    assert!(
        !out.status.success(),
        "age -d opened a file not sealed to it"
    );
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no identity matched"),
        "unexpected age -d error: {stderr}"
    );

    // age -r seals to `key`: core with the stranger's identity file finds no match.
    let sealed = cli_encrypt(dir.path(), &[&key.recipient], &plain);
    assert!(matches!(
        core_open(&stranger.core_identities(), &sealed),
        Err(AgeError::NoMatch)
    ));
    assert!(core_open(&key.core_identities(), &sealed).unwrap() == plain);
}

/// Where the header of an age file ends: just after the `--- <mac>` line.
fn header_end(sealed: &[u8]) -> usize {
    let mac = sealed
        .windows(5)
        .position(|w| w == b"\n--- ")
        .expect("MAC line")
        + 1;
    mac + sealed[mac..].iter().position(|&c| c == b'\n').unwrap() + 1
}

#[test]
fn damaged_age_cli_files_fail_in_core() {
    let dir = tempfile::tempdir().unwrap();
    let key = CliKey::new(dir.path(), "key.txt");
    let ids = key.core_identities();
    // Three full chunks and a short final one.
    let plain = data(200_000);
    let sealed = cli_encrypt(dir.path(), &[&key.recipient], &plain);
    let head = header_end(&sealed);
    let payload = head + 16;
    assert_eq!(sealed.len(), payload + plain.len() + 4 * 16);
    assert!(core_open(&ids, &sealed).unwrap() == plain);

    let payload_err = |name: &str, bad: &[u8], released: usize| {
        let (res, out) = core_open_partial(&ids, bad);
        assert!(
            matches!(res, Err(AgeError::Payload(_))),
            "{name}: expected a payload error, got {res:?}"
        );
        // Only whole authenticated chunks before the damage may be released.
        assert!(
            out[..] == plain[..released],
            "{name}: released {} bytes, expected the first {released}",
            out.len()
        );
    };
    let header_err = |name: &str, bad: &[u8]| {
        let res = core_open(&ids, bad);
        assert!(
            matches!(res, Err(AgeError::Header(_))),
            "{name}: expected a header error, got {res:?}"
        );
    };

    // Payload damage.
    let mut bad = sealed.clone();
    *bad.last_mut().unwrap() ^= 0x01;
    payload_err("flipped last byte", &bad, 3 * CHUNK);
    let mut bad = sealed.clone();
    bad[payload + 10] ^= 0x80;
    payload_err("flipped byte in the first chunk", &bad, 0);
    let mut bad = sealed.clone();
    bad[payload + SEALED_CHUNK + 100] ^= 0x04;
    payload_err("flipped byte in the second chunk", &bad, CHUNK);
    let mut bad = sealed.clone();
    bad[head + 3] ^= 0x10;
    payload_err("flipped byte in the payload nonce", &bad, 0);
    payload_err("last byte cut", &sealed[..sealed.len() - 1], 3 * CHUNK);
    payload_err(
        "final chunk cut at a chunk boundary",
        &sealed[..payload + 3 * SEALED_CHUNK],
        3 * CHUNK,
    );
    payload_err("payload cut to the nonce", &sealed[..payload], 0);
    let mut bad = sealed.clone();
    bad.extend_from_slice(b"garbage");
    payload_err("trailing garbage", &bad, 3 * CHUNK);
    let mut bad = sealed.clone();
    bad[payload..payload + 2 * SEALED_CHUNK].rotate_left(SEALED_CHUNK);
    payload_err("first two chunks swapped", &bad, 0);

    // Header damage.
    header_err("cut inside the header", &sealed[..head / 2]);
    header_err("cut before the MAC line ends", &sealed[..head - 1]);
    header_err("cut inside the payload nonce", &sealed[..head + 7]);
    header_err("empty file", &[]);
    let mut bad = sealed.clone();
    bad[b"age-encryption.org/v".len()] = b'2';
    header_err("unsupported version", &bad);
    let mut bad = sealed.clone();
    bad.insert(head - 1, b'\r');
    header_err("CRLF after the MAC", &bad);

    // A different, well-formed MAC: the header parses and the file key unwraps, but the MAC
    // does not verify.
    let mac_at = head - 1 - 43;
    assert_eq!(&sealed[mac_at - 4..mac_at], b"--- ");
    let mut mac = STANDARD_NO_PAD.decode(&sealed[mac_at..head - 1]).unwrap();
    mac[7] ^= 0x01;
    let mut bad_mac = sealed[..mac_at].to_vec();
    bad_mac.extend_from_slice(STANDARD_NO_PAD.encode(&mac).as_bytes());
    bad_mac.extend_from_slice(&sealed[head - 1..]);
    assert_eq!(bad_mac.len(), sealed.len());
    let res = core_open(&ids, &bad_mac);
    assert!(
        matches!(res, Err(AgeError::HeaderMac)),
        "altered MAC: {res:?}"
    );

    // A flipped bit in the wrapped file key: the stanza does not open for this identity, which
    // the age spec (and the C2SP vector `x25519_bad_tag`) calls "no match", not a header error.
    let stanza_at = sealed
        .windows(11)
        .position(|w| w == b"\n-> X25519 ")
        .expect("X25519 stanza")
        + 1;
    let body_at = stanza_at
        + sealed[stanza_at..]
            .iter()
            .position(|&c| c == b'\n')
            .unwrap()
        + 1;
    let mut body_line = sealed[body_at..]
        .iter()
        .position(|&c| c == b'\n')
        .map(|e| {
            STANDARD_NO_PAD
                .decode(&sealed[body_at..body_at + e])
                .unwrap()
        })
        .unwrap();
    assert_eq!(
        body_line.len(),
        32,
        "X25519 body is a 16-byte key and a tag"
    );
    body_line[3] ^= 0x20;
    let mut bad_key = sealed[..body_at].to_vec();
    bad_key.extend_from_slice(STANDARD_NO_PAD.encode(&body_line).as_bytes());
    bad_key.extend_from_slice(&sealed[body_at + 43..]);
    assert_eq!(bad_key.len(), sealed.len());
    let res = core_open(&ids, &bad_key);
    assert!(
        matches!(res, Err(AgeError::NoMatch)),
        "altered wrapped key: {res:?}"
    );

    // The reference tool agrees that these files are damaged.
    for (name, bad) in [
        ("flipped last byte", {
            let mut b = sealed.clone();
            *b.last_mut().unwrap() ^= 1;
            b
        }),
        (
            "final chunk cut",
            sealed[..payload + 3 * SEALED_CHUNK].to_vec(),
        ),
        ("altered MAC", bad_mac),
        ("altered wrapped key", bad_key),
    ] {
        let out = cli_decrypt(dir.path(), &key.path, &bad);
        assert!(!out.status.success(), "age -d accepted: {name}");
    }
}

// ---- ASCII armor (`age -a`) ----

/// Opens with the armor-detecting entry point, as `berani open` does.
fn core_open_detecting(ids: &[Identity], file: &[u8]) -> Result<Vec<u8>, AgeError> {
    let mut out = Vec::new();
    let n = core_age::open_detecting_armor(ids, file, &mut out)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}

#[test]
fn armored_files_from_the_age_cli_open_in_core() {
    let dir = tempfile::tempdir().unwrap();
    let keys = [
        CliKey::new(dir.path(), "a.txt"),
        CliKey::new(dir.path(), "b.txt"),
    ];
    let to: Vec<&str> = keys.iter().map(|k| k.recipient.as_str()).collect();
    for &len in SIZES {
        let plain = data(len);
        let armored = cli_encrypt_with(dir.path(), &["-a"], &to, &plain);
        assert!(armored.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----\n"));
        for k in &keys {
            let out = core_open_detecting(&k.core_identities(), &armored)
                .unwrap_or_else(|e| panic!("core fails on {len} bytes from age -a -r: {e}"));
            assert!(out == plain, "content differs: {len} bytes");
        }
        let ids = keys[0].core_identities();
        // The same file with CRLF line endings, and with whitespace around it.
        let text = String::from_utf8(armored.clone()).unwrap();
        let crlf = text.replace('\n', "\r\n");
        assert!(core_open_detecting(&ids, crlf.as_bytes()).unwrap() == plain);
        let padded = format!("\n  \n{text}\n\t\n");
        assert!(core_open_detecting(&ids, padded.as_bytes()).unwrap() == plain);
        // The plain `open` takes binary files only, as report parts are.
        assert!(matches!(
            core_open(&ids, &armored),
            Err(AgeError::Header(_))
        ));
        // A binary file from the same tool still opens through the detecting entry point.
        let binary = cli_encrypt(dir.path(), &to, &plain);
        assert!(core_open_detecting(&ids, &binary).unwrap() == plain);
    }
}

#[test]
fn armored_files_from_the_age_crate_open_in_core() {
    use age::armor::{ArmoredWriter, Format};
    let id = age::x25519::Identity::generate();
    let core_id = core_identity(&id);
    for &len in SIZES {
        let plain = data(len);
        let enc = age::Encryptor::with_recipients(iter::once(&id.to_public() as _)).unwrap();
        let mut out = Vec::new();
        let armor = ArmoredWriter::wrap_output(&mut out, Format::AsciiArmor).unwrap();
        let mut w = enc.wrap_output(armor).unwrap();
        w.write_all(&plain).unwrap();
        w.finish().unwrap().finish().unwrap();
        let got = core_open_detecting(std::slice::from_ref(&core_id), &out).unwrap_or_else(|e| {
            panic!("core fails on {len} armored bytes from the age crate: {e}")
        });
        assert!(got == plain, "content differs: {len} bytes");
    }
}

#[test]
fn damaged_armor_fails_in_core_and_in_the_age_cli() {
    let dir = tempfile::tempdir().unwrap();
    let key = CliKey::new(dir.path(), "key.txt");
    let ids = key.core_identities();
    let plain = data(200_000);
    let armored = cli_encrypt_with(dir.path(), &["-a"], &[&key.recipient], &plain);
    let text = String::from_utf8(armored).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    let rejoin = |ls: Vec<String>| ls.join("\n") + "\n";
    let owned = || lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "garbage after END",
            format!("{text}garbage\n"),
            "data follows",
        ),
        (
            "garbage before BEGIN",
            format!("garbage\n{text}"),
            "not an age v1 file",
        ),
        (
            "no END line",
            rejoin(owned()[..n - 1].to_vec()),
            "ends before",
        ),
        (
            "an empty line",
            {
                let mut l = owned();
                l.insert(1, String::new());
                rejoin(l)
            },
            "empty line",
        ),
        (
            "a data line cut short",
            {
                let mut l = owned();
                l[5].truncate(60);
                rejoin(l)
            },
            "follows the last",
        ),
        (
            "a space at a line end",
            {
                let mut l = owned();
                l[5].push(' ');
                rejoin(l)
            },
            "whitespace",
        ),
        (
            "the last line's padding removed",
            {
                let mut l = owned();
                let last = l[n - 2].trim_end_matches('=').to_string();
                assert_ne!(last, l[n - 2], "the last line has padding");
                l[n - 2] = last;
                rejoin(l)
            },
            "multiple of 4",
        ),
        (
            "mixed line endings",
            text.replacen('\n', "\r\n", 3),
            "mixes LF and CRLF",
        ),
    ];
    for (name, bad, want) in cases {
        let res = core_open_detecting(&ids, bad.as_bytes());
        let msg = match &res {
            Err(e @ (AgeError::Armor(_) | AgeError::Header(_))) => e.to_string(),
            other => panic!("{name}: expected an armor or header error, got {other:?}"),
        };
        assert!(msg.contains(want), "{name}: {msg}");
        // The reference tool takes LF or CRLF line by line; the core wants one kind throughout
        // (the spec allows either and asks for non-canonical armor to be refused).
        let reference_accepts = name == "mixed line endings";
        let out = cli_decrypt(dir.path(), &key.path, bad.as_bytes());
        assert_eq!(
            out.status.success(),
            reference_accepts,
            "age -d on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
