//! Sealing benchmark: throughput and peak memory of `berani_core::age`, against peers
//! measured in the same run.
//!
//! Run:
//!
//! ```text
//! cargo bench -p berani-core --bench seal
//! ```
//!
//! This measures, in one run:
//!
//! 1. Throughput of `berani_core::age::Encryptor` sealing a 64 MiB pseudo-random buffer in
//!    64 KiB writes into a discarding sink, against raw ring ChaCha20-Poly1305
//!    (`LessSafeKey::seal_in_place_separate_tag` over the same bytes in 64 KiB chunks with
//!    distinct nonces: the lower bound of any age writer on ring). Target: core ≥ 0.8× ring.
//!    For context it also times raw ring sealing each chunk after copying it into a scratch
//!    buffer: ring only seals in place, so a writer taking `&[u8]` must make that one copy.
//! 2. The same against the `age` crate's `Encryptor` (X25519 recipient, same buffer), and,
//!    to show where the difference comes from, the AEAD inside that crate timed alone:
//!    `chacha20poly1305` 0.10.1 sealing the same bytes in place in 64 KiB chunks, as raw ring
//!    does. The report says whether this CPU has AVX2 (detected at run time), which the
//!    RustCrypto ChaCha20 and Poly1305 code behind that crate uses on x86/x86_64.
//!
//!    Each contender runs once as a warm-up, then 15 timed rounds; the contenders are
//!    interleaved within every round (order rotated each round) and the median MB/s
//!    (1 MB = 10^6 bytes) is reported, with the ratio of medians.
//! 3. Peak resident memory while sealing a 200 MB file file-to-file with
//!    `berani_core::age::seal` through `BufReader`/`BufWriter`: the benchmark re-executes its
//!    own binary as a child (`--child-seal <in> <out> <recipient>`), which reads `VmHWM` from
//!    `/proc/self/status` right after start-up and again after sealing. Reported: peak −
//!    baseline. Target: < 16 MB (10^6 bytes) above baseline. The `age` crate is measured the
//!    same way (`--child-seal-age`) as a peer.
//! 4. Peak resident memory on the app's own path: a child (`--child-submit <home> <video>
//!    <recipient>`) opens a `Reporter` home, installs a signed profile, makes a draft,
//!    attaches a 200 MB MP4 video (metadata stripped, the default) and submits it (the
//!    attachment is decrypted from the device's store, hashed and sealed into the outbox).
//!    `VmHWM` is read at start-up, with the draft ready, after attaching and after submitting.
//!    The same child runs with a 1 MB video, and another child (`--child-receipt-code`)
//!    makes one receipt code alone (Argon2id at 19 MiB, which every submit runs), so what
//!    grows with the attachment's size shows apart from the fixed costs. Targets: the peak
//!    beyond the receipt code's own peak < 16 MB, and what the 200 MB video adds over the
//!    1 MB one < 16 MB; the whole peak, Argon2id included, is reported beside them.
//!    The parent opens the sealed part afterwards and checks it holds the stripped video.
//!
//! Before timing, the core's output is checked to open with the `age` crate, so what is timed
//! is a valid age file.
//!
//! The results are printed as a Markdown section and written to `BENCHMARKS.md` at the
//! workspace root, between `<!-- seal:begin -->` and `<!-- seal:end -->` (other sections
//! survive). Never edit the figures there by hand: rerun this command.
//!
//! Quick smoke check (8 MiB buffers, 20 MB file, 3 rounds; prints, does NOT write
//! `BENCHMARKS.md`):
//!
//! ```text
//! BERANI_BENCH_QUICK=1 cargo bench -p berani-core --bench seal
//! ```
//!
//! The benchmark takes a few minutes on 2 cores in full mode. Linux only (`/proc`).

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use berani_core::Reporter;
use berani_core::age::stream::CHUNK;
use berani_core::age::{self as core_age, Encryptor, Identity, Recipient};
use berani_core::model::{Category, FieldValue};
use berani_core::profile::{self, AgencyProfile, SigningKey};
use berani_core::store::KeyFile;
use chacha20poly1305::ChaCha20Poly1305;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

const COMMAND: &str = "cargo bench -p berani-core --bench seal";
const BENCHMARKS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
const BEGIN: &str = "<!-- seal:begin -->";
const END: &str = "<!-- seal:end -->";
const TARGET_RING_RATIO: f64 = 0.8;
const TARGET_MEM_MB: f64 = 16.0;
/// The pinned version of the `age` peer (workspace `Cargo.toml`: `age = "=0.12.1"`).
const AGE_CRATE: &str = "age 0.12.1";
/// The AEAD crate inside that peer (workspace `Cargo.toml`: `chacha20poly1305 = "=0.10.1"`).
const AGE_AEAD: &str = "chacha20poly1305 0.10.1";
/// The small video of the submit memory run, beside the full-size one.
const SMALL_VIDEO: u64 = 1_000_000;
/// A location in the test video's `udta` box, which stripping must remove.
const VIDEO_MARKER: &[u8] = b"+06.9700+111.4200/LOKASI-UJI";

struct Config {
    quick: bool,
    buf_len: usize,
    file_len: u64,
    rounds: usize,
}

impl Config {
    fn from_env() -> Self {
        let quick = std::env::var("BERANI_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Self {
                quick,
                buf_len: 8 << 20,
                file_len: 20_000_000,
                rounds: 3,
            }
        } else {
            Self {
                quick,
                buf_len: 64 << 20,
                file_len: 200_000_000,
                rounds: 15,
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // cargo bench passes `--bench` (and possibly filters): look for our own flags anywhere.
    for (flag, age_crate) in [("--child-seal", false), ("--child-seal-age", true)] {
        if let Some(i) = args.iter().position(|a| a == flag) {
            let rest = &args[i + 1..];
            if rest.len() < 3 {
                eprintln!("usage: {flag} <in> <out> <recipient>");
                std::process::exit(2);
            }
            child_seal(&rest[0], &rest[1], &rest[2], age_crate);
            return;
        }
    }
    if args.iter().any(|a| a == "--child-receipt-code") {
        child_receipt_code();
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--child-submit") {
        let rest = &args[i + 1..];
        if rest.len() < 3 {
            eprintln!("usage: --child-submit <home> <video> <recipient>");
            std::process::exit(2);
        }
        child_submit(Path::new(&rest[0]), Path::new(&rest[1]), &rest[2]);
        return;
    }

    let cfg = Config::from_env();
    eprintln!(
        "seal bench: {} MiB buffer, {} timed rounds, {} MB file{}",
        cfg.buf_len >> 20,
        cfg.rounds,
        cfg.file_len / 1_000_000,
        if cfg.quick { " (quick mode)" } else { "" }
    );

    let identity = Identity::generate();
    let recipient = identity.to_public();
    let data = pseudo_random(cfg.buf_len, 0x5eed_0001);
    sanity_check();

    let tp = throughput(&cfg, &recipient, &data);
    drop(data);
    let mem = memory(&cfg, &recipient);
    let sub = submit_memory(&cfg, &identity);

    let section = render(&cfg, &tp, &mem, &sub);
    println!("\n{section}");
    if cfg.quick {
        eprintln!("quick mode: BENCHMARKS.md not written");
    } else {
        write_section(&section).expect("writing BENCHMARKS.md");
        eprintln!("written to {}", Path::new(BENCHMARKS_MD).display());
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput

/// A writer that discards everything, but not in a way the optimiser can see through.
struct Discard;

impl Write for Discard {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn seal_core(recipient: &Recipient, data: &[u8]) {
    let mut enc = Encryptor::new(std::slice::from_ref(recipient), Discard).expect("core header");
    for chunk in data.chunks(CHUNK) {
        enc.write_all(black_box(chunk)).expect("core write");
    }
    black_box(enc.finish().expect("core finish"));
}

fn seal_age_crate(recipient: &age::x25519::Recipient, data: &[u8]) {
    let enc = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .expect("age header");
    let mut w = enc.wrap_output(Discard).expect("age wrap");
    for chunk in data.chunks(CHUNK) {
        w.write_all(black_box(chunk)).expect("age write");
    }
    black_box(w.finish().expect("age finish"));
}

/// The STREAM nonce of chunk `i`: an 11-byte big-endian counter and the last-chunk flag.
fn stream_nonce(i: usize, last: bool) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..11].copy_from_slice(&(i as u128).to_be_bytes()[5..]);
    nonce[11] = u8::from(last);
    nonce
}

fn seal_raw_ring(key: &LessSafeKey, buf: &mut [u8]) {
    let n = buf.len().div_ceil(CHUNK);
    for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
        let nonce = stream_nonce(i, i + 1 == n);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::empty(),
                black_box(chunk),
            )
            .expect("ring seal");
        let _ = black_box(tag);
    }
}

/// The `age` crate's AEAD alone, as raw ring is timed: in place, 64 KiB chunks, STREAM nonces.
fn seal_age_aead(key: &ChaCha20Poly1305, buf: &mut [u8]) {
    let n = buf.len().div_ceil(CHUNK);
    for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
        let nonce = stream_nonce(i, i + 1 == n);
        let tag = key
            .encrypt_in_place_detached(&nonce.into(), b"", black_box(chunk))
            .expect("chacha20poly1305 seal");
        let _ = black_box(tag);
    }
}

fn seal_ring_copy(key: &LessSafeKey, data: &[u8], scratch: &mut Vec<u8>) {
    let n = data.len().div_ceil(CHUNK);
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        scratch.clear();
        scratch.extend_from_slice(black_box(chunk));
        let nonce = stream_nonce(i, i + 1 == n);
        let tag = key
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), scratch)
            .expect("ring seal");
        let _ = black_box(tag);
        black_box(&mut *scratch);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Contender {
    Core,
    Ring,
    RingCopy,
    AgeCrate,
    AgeAead,
}

impl Contender {
    const ALL: [Contender; 5] = [
        Contender::Core,
        Contender::Ring,
        Contender::RingCopy,
        Contender::AgeCrate,
        Contender::AgeAead,
    ];

    fn label(self) -> String {
        match self {
            Contender::Core => "berani-core `age::Encryptor`".into(),
            Contender::Ring => {
                "raw ring ChaCha20-Poly1305, in place, 64 KiB chunks (target peer)".into()
            }
            Contender::RingCopy => "raw ring + one copy per chunk into a scratch buffer \
                 (context: the floor for a `Write` API, as ring seals only in place)"
                .into(),
            Contender::AgeCrate => format!("`age` crate ({AGE_CRATE}) `Encryptor`, X25519"),
            Contender::AgeAead => format!(
                "`{AGE_AEAD}` alone, in place, 64 KiB chunks (context: the AEAD inside the \
                 `age` crate)"
            ),
        }
    }
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

fn stats(mut mbps: Vec<f64>) -> Stats {
    mbps.sort_by(f64::total_cmp);
    let n = mbps.len();
    let median = if n % 2 == 1 {
        mbps[n / 2]
    } else {
        (mbps[n / 2 - 1] + mbps[n / 2]) / 2.0
    };
    Stats {
        median,
        min: mbps[0],
        max: mbps[n - 1],
    }
}

struct Throughput {
    /// Indexed like `Contender::ALL`.
    stats: Vec<Stats>,
}

impl Throughput {
    fn get(&self, c: Contender) -> &Stats {
        &self.stats[Contender::ALL.iter().position(|&x| x == c).unwrap()]
    }
}

fn throughput(cfg: &Config, recipient: &Recipient, data: &[u8]) -> Throughput {
    let age_recipient: age::x25519::Recipient = recipient
        .to_string()
        .parse()
        .expect("the age crate parses our recipient");
    let ring_key = LessSafeKey::new(
        UnboundKey::new(&CHACHA20_POLY1305, &pseudo_random(32, 7)).expect("32-byte key"),
    );
    let aead_key = ChaCha20Poly1305::new(pseudo_random(32, 7)[..].into());
    // Raw ring and the bare AEAD seal in place: each works on its own copy of the same bytes,
    // made once.
    let mut ring_buf = data.to_vec();
    let mut aead_buf = data.to_vec();
    let mut scratch = Vec::with_capacity(CHUNK + 16);

    let mut run = |c: Contender| -> f64 {
        let start = Instant::now();
        match c {
            Contender::Core => seal_core(recipient, black_box(data)),
            Contender::Ring => seal_raw_ring(&ring_key, black_box(&mut ring_buf)),
            Contender::RingCopy => seal_ring_copy(&ring_key, black_box(data), &mut scratch),
            Contender::AgeCrate => seal_age_crate(&age_recipient, black_box(data)),
            Contender::AgeAead => seal_age_aead(&aead_key, black_box(&mut aead_buf)),
        }
        let secs = start.elapsed().as_secs_f64();
        data.len() as f64 / secs / 1e6
    };

    for c in Contender::ALL {
        run(c); // warm-up
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); Contender::ALL.len()];
    for round in 0..cfg.rounds {
        for k in 0..Contender::ALL.len() {
            let idx = (round + k) % Contender::ALL.len();
            let mbps = run(Contender::ALL[idx]);
            samples[idx].push(mbps);
        }
        eprintln!(
            "round {}: core {:.0}, ring {:.0}, ring+copy {:.0}, age {:.0}, age's AEAD {:.0} MB/s",
            round + 1,
            samples[0][round],
            samples[1][round],
            samples[2][round],
            samples[3][round],
            samples[4][round]
        );
    }
    Throughput {
        stats: samples.into_iter().map(stats).collect(),
    }
}

/// Checks that what is being timed is a real age file: the core's output opens with the
/// `age` crate.
fn sanity_check() {
    let id = age::x25519::Identity::generate();
    let ours: Recipient = id.to_public().to_string().parse().expect("age recipient");
    let data = pseudo_random(3 * CHUNK + 11, 3);
    let mut enc = Encryptor::new(&[ours], Vec::new()).expect("core header");
    for chunk in data.chunks(CHUNK) {
        enc.write_all(chunk).expect("core write");
    }
    let sealed = enc.finish().expect("core finish");
    let dec = age::Decryptor::new(&sealed[..]).expect("age parses the core's header");
    let mut out = Vec::new();
    dec.decrypt(std::iter::once(&id as &dyn age::Identity))
        .expect("age unwraps the core's stanza")
        .read_to_end(&mut out)
        .expect("age opens the core's payload");
    assert_eq!(
        out, data,
        "core output does not round-trip through the age crate"
    );
}

// ---------------------------------------------------------------------------------------------
// Memory

fn vm_hwm_kb() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

fn child_seal(input: &str, output: &str, recipient: &str, age_crate: bool) {
    let baseline = vm_hwm_kb();
    let reader = BufReader::new(File::open(input).expect("open input"));
    let writer = BufWriter::new(File::create(output).expect("create output"));
    let n = if age_crate {
        let r: age::x25519::Recipient = recipient.parse().expect("recipient");
        let enc = age::Encryptor::with_recipients(std::iter::once(&r as &dyn age::Recipient))
            .expect("age header");
        let mut w = enc.wrap_output(writer).expect("age wrap");
        let mut reader = reader;
        let n = io::copy(&mut reader, &mut w).expect("age seal");
        w.finish()
            .expect("age finish")
            .into_inner()
            .map_err(|e| e.into_error())
            .expect("flush")
            .sync_all()
            .expect("sync");
        n
    } else {
        let r: Recipient = recipient.parse().expect("recipient");
        let (n, w) = core_age::seal(&[r], reader, writer).expect("core seal");
        w.into_inner()
            .map_err(|e| e.into_error())
            .expect("flush")
            .sync_all()
            .expect("sync");
        n
    };
    let peak = vm_hwm_kb();
    println!("sealed {n}");
    println!("baseline_kb {baseline}");
    println!("peak_kb {peak}");
}

struct MemRun {
    baseline_kb: u64,
    peak_kb: u64,
}

impl MemRun {
    fn delta_mb(&self) -> f64 {
        (self.peak_kb.saturating_sub(self.baseline_kb) * 1024) as f64 / 1e6
    }
}

struct Memory {
    file_len: u64,
    core: MemRun,
    age_crate: MemRun,
}

fn memory(cfg: &Config, recipient: &Recipient) -> Memory {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("plain.bin");
    write_pseudo_random_file(&input, cfg.file_len).expect("writing the input file");
    let exe = std::env::current_exe().expect("current exe");
    let run = |flag: &str, out: &str| -> MemRun {
        let out = dir.path().join(out);
        let o = Command::new(&exe)
            .arg(flag)
            .arg(&input)
            .arg(&out)
            .arg(recipient.to_string())
            .output()
            .expect("running the child");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "child {flag} failed: {}\n{stdout}",
            String::from_utf8_lossy(&o.stderr)
        );
        let field = |name: &str| -> u64 {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("child did not report {name}: {stdout}"))
        };
        assert_eq!(field("sealed "), cfg.file_len, "child sealed a short file");
        let sealed_len = fs::metadata(&out).expect("sealed file").len();
        assert!(sealed_len > cfg.file_len, "sealed file is too short");
        fs::remove_file(&out).ok();
        let m = MemRun {
            baseline_kb: field("baseline_kb "),
            peak_kb: field("peak_kb "),
        };
        eprintln!(
            "{flag}: VmHWM baseline {} kB, peak {} kB",
            m.baseline_kb, m.peak_kb
        );
        m
    };
    let core = run("--child-seal", "core.age");
    let age_crate = run("--child-seal-age", "age.age");
    fs::remove_file(&input).ok();
    Memory {
        file_len: cfg.file_len,
        core,
        age_crate,
    }
}

// ---------------------------------------------------------------------------------------------
// Memory on the app's path: attach and submit through `Reporter`

/// Prints VmHWM at each step of attaching `video` to a draft and submitting it, in a fresh
/// reporter home at `home`.
fn child_submit(home: &Path, video: &Path, recipient: &str) {
    let baseline = vm_hwm_kb();
    let keys = KeyFile::new(home.join("device.key"));
    let data = home.join("data");
    let r = Reporter::open(&data, &keys).expect("open the reporter home");
    let signing = SigningKey::generate();
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("a whole second");
    let p = AgencyProfile {
        schema_version: profile::PROFILE_SCHEMA_VERSION,
        version: 1,
        agency_name: "Dinsos P3A Kabupaten Blora".into(),
        regency_code: "33.16".into(),
        intake_url: "http://127.0.0.1:9".into(),
        recipients: vec![recipient.to_string()],
        tls_spki_sha256: None,
        hotlines: vec![profile::Hotline {
            name: "Dinsos P3A Blora".into(),
            number: "0296531234".into(),
            whatsapp: None,
        }],
        max_attachment_bytes: 1 << 30,
        issued_at: now,
        expires_at: now + time::Duration::days(30),
        receipt_key: None,
        download_url: None,
    };
    r.import_profile(&profile::sign(&p, &signing), Some(signing.public()))
        .expect("install the profile");
    let d = r.create_draft().expect("a draft");
    for v in [
        FieldValue::Category(Some(Category::Physical)),
        FieldValue::District(Some("33.16.09".into())),
        FieldValue::Description(Some("CONTOH SINTETIS: laporan dengan video.".into())),
    ] {
        r.update_draft(&d.id, v).expect("a draft field");
    }
    let ready = vm_hwm_kb();
    let a = r
        .attach_file(&d.id, video, false, false)
        .expect("attach the video");
    let attached = vm_hwm_kb();
    let report = r.submit(&d.id).expect("submit");
    let submitted = vm_hwm_kb();
    assert_eq!(report.parts.len(), 2, "the report and the video");
    println!("attached {}", a.size);
    println!(
        "part {}",
        data.join(format!("outbox/{}/1.age", report.id)).display()
    );
    println!("baseline_kb {baseline}");
    println!("ready_kb {ready}");
    println!("attached_kb {attached}");
    println!("peak_kb {submitted}");
}

/// Prints VmHWM before and after making one receipt code, as `submit` does for every report.
fn child_receipt_code() {
    let baseline = vm_hwm_kb();
    let r = berani_core::followup::Registration::create().expect("a receipt code");
    black_box(&r);
    let peak = vm_hwm_kb();
    println!("baseline_kb {baseline}");
    println!("peak_kb {peak}");
}

struct SubmitRun {
    video_len: u64,
    baseline_kb: u64,
    ready_kb: u64,
    attached_kb: u64,
    peak_kb: u64,
}

impl SubmitRun {
    fn above(&self, kb: u64) -> f64 {
        (kb.saturating_sub(self.baseline_kb) * 1024) as f64 / 1e6
    }
}

struct SubmitMemory {
    small: SubmitRun,
    large: SubmitRun,
    /// The receipt code alone, in its own child.
    receipt_code: MemRun,
}

fn box_bytes(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// Writes a video-like MP4 of `len` bytes: `ftyp`, a `moov` whose `udta` holds a location
/// (`©xyz`, [`VIDEO_MARKER`]), then an `mdat` of pseudo-random bytes. Returns where the
/// `mdat` starts: stripping may change only the bytes before it.
fn write_video(path: &Path, len: u64) -> io::Result<u64> {
    let mut head = box_bytes(b"ftyp", b"isom\0\0\x02\0isommp41");
    let mut xyz = (VIDEO_MARKER.len() as u16).to_be_bytes().to_vec();
    xyz.extend_from_slice(&0x15c7u16.to_be_bytes());
    xyz.extend_from_slice(VIDEO_MARKER);
    let udta = box_bytes(b"udta", &box_bytes(b"\xa9xyz", &xyz));
    head.extend_from_slice(&box_bytes(b"moov", &udta));
    let mdat_at = head.len() as u64;
    let mdat_body = len - mdat_at - 8;
    head.extend_from_slice(&u32::try_from(mdat_body + 8).expect("< 4 GB").to_be_bytes());
    head.extend_from_slice(b"mdat");
    let mut f = File::create(path)?;
    f.write_all(&head)?;
    let mut rng = SplitMix(0x5eed_0003);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = mdat_body;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.sync_all()?;
    Ok(mdat_at)
}

/// Reads until `buf` is full or the input ends.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Checks that the sealed part opens to the video with its location removed and every byte
/// from the `mdat` box on unchanged.
fn check_part(part: &Path, identity: &Identity, video: &Path, mdat_at: u64) {
    let sealed = BufReader::new(File::open(part).expect("the sealed part"));
    let mut opened = core_age::Decryptor::new(sealed, std::slice::from_ref(identity))
        .expect("the part opens for the agency");
    let mut original = BufReader::new(File::open(video).expect("the video"));
    let mut head = vec![0u8; mdat_at as usize];
    let mut orig_head = vec![0u8; mdat_at as usize];
    assert_eq!(read_full(&mut opened, &mut head).expect("part"), head.len());
    assert_eq!(
        read_full(&mut original, &mut orig_head).expect("video"),
        head.len()
    );
    let has_marker = |b: &[u8]| b.windows(VIDEO_MARKER.len()).any(|w| w == VIDEO_MARKER);
    assert!(
        has_marker(&orig_head) && !has_marker(&head),
        "the location was not removed"
    );
    let (mut a, mut b) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut opened, &mut a).expect("part");
        let m = read_full(&mut original, &mut b).expect("video");
        assert!(
            n == m && a[..n] == b[..m],
            "the sealed video differs from the original"
        );
        if n == 0 {
            break;
        }
    }
}

fn submit_memory(cfg: &Config, identity: &Identity) -> SubmitMemory {
    let exe = std::env::current_exe().expect("current exe");
    let run = |len: u64| -> SubmitRun {
        let dir = tempfile::tempdir().expect("temp dir");
        let video = dir.path().join("video.mp4");
        let mdat_at = write_video(&video, len).expect("writing the video");
        let home = dir.path().join("home");
        fs::create_dir(&home).expect("home folder");
        let o = Command::new(&exe)
            .arg("--child-submit")
            .arg(&home)
            .arg(&video)
            .arg(identity.to_public().to_string())
            .output()
            .expect("running the child");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "child --child-submit failed: {}\n{stdout}",
            String::from_utf8_lossy(&o.stderr)
        );
        let field = |name: &str| -> &str {
            stdout
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_else(|| panic!("child did not report {name}: {stdout}"))
        };
        let kb = |name: &str| -> u64 { field(name).parse().expect("a number") };
        assert_eq!(
            kb("attached "),
            len,
            "the attachment is not the whole video"
        );
        check_part(Path::new(field("part ")), identity, &video, mdat_at);
        let r = SubmitRun {
            video_len: len,
            baseline_kb: kb("baseline_kb "),
            ready_kb: kb("ready_kb "),
            attached_kb: kb("attached_kb "),
            peak_kb: kb("peak_kb "),
        };
        eprintln!(
            "--child-submit {} MB: VmHWM baseline {} kB, draft ready {} kB, attached {} kB, \
             submitted {} kB",
            len / 1_000_000,
            r.baseline_kb,
            r.ready_kb,
            r.attached_kb,
            r.peak_kb
        );
        r
    };
    let o = Command::new(&exe)
        .arg("--child-receipt-code")
        .output()
        .expect("running the child");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "child --child-receipt-code failed: {stdout}"
    );
    let kb = |name: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("child did not report {name}: {stdout}"))
    };
    let receipt_code = MemRun {
        baseline_kb: kb("baseline_kb "),
        peak_kb: kb("peak_kb "),
    };
    eprintln!(
        "--child-receipt-code: VmHWM baseline {} kB, peak {} kB",
        receipt_code.baseline_kb, receipt_code.peak_kb
    );
    SubmitMemory {
        small: run(SMALL_VIDEO),
        large: run(cfg.file_len),
        receipt_code,
    }
}

// ---------------------------------------------------------------------------------------------
// Data

/// Fast non-cryptographic pseudo-random bytes (SplitMix64): incompressible enough that no
/// layer can shortcut it, and cheap to produce.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, buf: &mut [u8]) {
        let mut words = buf.chunks_exact_mut(8);
        for w in &mut words {
            w.copy_from_slice(&self.next().to_le_bytes());
        }
        let rest = words.into_remainder();
        let last = self.next().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    SplitMix(seed).fill(&mut v);
    v
}

fn write_pseudo_random_file(path: &Path, len: u64) -> io::Result<()> {
    let mut rng = SplitMix(0x5eed_0002);
    let mut f = File::create(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.sync_all()
}

// ---------------------------------------------------------------------------------------------
// Report

fn machine() -> String {
    let nproc = Command::new("nproc")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .or_else(|| {
            std::thread::available_parallelism()
                .ok()
                .map(|n| n.to_string())
        })
        .unwrap_or_else(|| "?".into());
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "{cpu}, nproc {nproc}, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc (version unknown)".into())
}

fn now_utc() -> String {
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::now_utc()
        .format(fmt)
        .unwrap_or_else(|_| "unknown".into())
}

fn met(ok: bool) -> &'static str {
    if ok { "✅" } else { "❌" }
}

/// Whether this CPU has AVX2, as the RustCrypto crates detect it at run time.
fn has_avx2() -> Option<bool> {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        Some(std::arch::is_x86_feature_detected!("avx2"))
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        None
    }
}

fn render(cfg: &Config, tp: &Throughput, mem: &Memory, sub: &SubmitMemory) -> String {
    let core = tp.get(Contender::Core).median;
    let mut s = String::new();
    let mut line = |l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    line("## Sealing: `berani_core::age`");
    line("");
    line(&format!("- Command: `{COMMAND}`"));
    line(&format!("- Date: {}", now_utc()));
    line(&format!("- Machine: {}", machine()));
    line(&format!("- Compiler: {}, `bench` profile", rustc_version()));
    if cfg.quick {
        line("- **Quick mode (`BERANI_BENCH_QUICK=1`): smoke check, not a result**");
    }
    line("");
    line("### Throughput");
    line("");
    line(&format!(
        "{} MiB of pseudo-random plaintext, written in 64 KiB writes into a discarding sink; \
         1 warm-up and {} timed rounds per contender, interleaved (order rotated each round). \
         MB/s with 1 MB = 10^6 bytes; ratio = core median ÷ contender median.",
        cfg.buf_len >> 20,
        cfg.rounds
    ));
    line("");
    line("| Contender | Median MB/s | Min–max MB/s | Core ÷ contender |");
    line("|---|---:|---:|---:|");
    for c in Contender::ALL {
        let st = tp.get(c);
        line(&format!(
            "| {} | {:.0} | {:.0}–{:.0} | {:.2}× |",
            c.label(),
            st.median,
            st.min,
            st.max,
            core / st.median
        ));
    }
    line("");
    let ring_ratio = core / tp.get(Contender::Ring).median;
    let age_ratio = core / tp.get(Contender::AgeCrate).median;
    line("| Target | Measured | Met |");
    line("|---|---:|:---:|");
    line(&format!(
        "| core ≥ {TARGET_RING_RATIO}× raw ring | {ring_ratio:.2}× | {} |",
        met(ring_ratio >= TARGET_RING_RATIO)
    ));
    line(&format!(
        "| core ÷ `age` crate (informational, no target) | {age_ratio:.2}× | n/a |"
    ));
    line("");
    let age = tp.get(Contender::AgeCrate).median;
    let aead = tp.get(Contender::AgeAead).median;
    let ring = tp.get(Contender::Ring).median;
    line(&format!(
        "#### Why the `age` crate is {age_ratio:.1}× slower here{}",
        if age_ratio < 3.0 {
            ", not several times"
        } else {
            ""
        }
    ));
    line("");
    line(&format!(
        "The ratio splits in two factors measured above: core ÷ `{AGE_AEAD}` alone \
         ({:.2}×) times `{AGE_AEAD}` alone ÷ the `age` crate ({:.2}×).",
        core / aead,
        aead / age
    ));
    line("");
    let arch = std::env::consts::ARCH;
    line(&match has_avx2() {
        Some(avx2) => format!(
            "- **The cipher code.** Raw ring is {:.2}× as fast as `{AGE_AEAD}` on the same \
             bytes. This CPU {} AVX2 (detected at run time). On x86/x86_64 the `chacha20` \
             0.9.1 and `poly1305` 0.8.0 crates under `{AGE_AEAD}` switch to AVX2 code at run \
             time when the CPU has it (their `cpufeatures` checks, read in their sources), and \
             ring uses its own assembly (SSE4.1, with AVX2 and BMI2 paths), so both sides are \
             vectorised here and the difference stays small.",
            ring / aead,
            if avx2 { "has" } else { "does not have" },
        ),
        None => format!(
            "- **The cipher code.** Raw ring is {:.2}× as fast as `{AGE_AEAD}` on the same \
             bytes. On {arch} the `chacha20` 0.9.1 and `poly1305` 0.8.0 crates under \
             `{AGE_AEAD}` run portable code (no SIMD code is switched on for this \
             architecture by default; read in their sources), while ring uses its assembly.",
            ring / aead
        ),
    });
    line(
        "- **The writer around it.** For every 64 KiB chunk, the `age` crate's STREAM writer \
         copies the plaintext into its chunk buffer, then `Aead::encrypt` allocates a new \
         vector and copies it again before sealing (read in its source, \
         `primitives/stream.rs`); the core copies once into a reused buffer and seals in \
         place (the \"raw ring + one copy\" row is that floor).",
    );
    line("");
    if has_avx2().is_some() {
        line(&format!(
            "Phones are aarch64, where ring seals with its NEON assembly \
             (`chacha20_poly1305_armv8`) while `chacha20` 0.9.1 has NEON code only behind \
             `--cfg chacha20_force_neon` and `poly1305` 0.8.0 has none (read in their \
             sources): the cipher factor is expected to be larger there. This run ({arch}) \
             does not measure that; run this command on an aarch64 machine to do so. To see \
             what the portable code does on this machine, run `RUSTFLAGS=\"--cfg \
             chacha20_force_soft --cfg poly1305_force_soft\" BERANI_BENCH_QUICK=1 {COMMAND}` \
             with its own `CARGO_TARGET_DIR` (it forces those crates' portable code; quick \
             mode prints its figures and writes nothing here)."
        ));
        line("");
    }
    line("### Peak resident memory");
    line("");
    line(&format!(
        "Sealing a {} MB file file-to-file through `BufReader`/`BufWriter`, in a child \
         process of the benchmark binary. `VmHWM` from `/proc/self/status` read right after \
         the child starts (baseline) and after sealing (peak); 1 MB = 10^6 bytes.",
        mem.file_len / 1_000_000
    ));
    line("");
    line("| Sealer | Baseline VmHWM | Peak VmHWM | Peak − baseline |");
    line("|---|---:|---:|---:|");
    for (name, m) in [
        ("berani-core `age::seal`", &mem.core),
        (&*format!("`age` crate ({AGE_CRATE}), peer"), &mem.age_crate),
    ] {
        line(&format!(
            "| {name} | {:.2} MB | {:.2} MB | {:.2} MB |",
            (m.baseline_kb * 1024) as f64 / 1e6,
            (m.peak_kb * 1024) as f64 / 1e6,
            m.delta_mb()
        ));
    }
    line("");
    line("| Target | Measured | Met |");
    line("|---|---:|:---:|");
    let d = mem.core.delta_mb();
    line(&format!(
        "| core peak < {TARGET_MEM_MB} MB above baseline | {d:.2} MB | {} |",
        met(d < TARGET_MEM_MB)
    ));
    line("");
    line("### Peak resident memory: attaching and submitting through `Reporter`");
    line("");
    line(&format!(
        "The app's own path, in a child process: open a `Reporter` home, install a signed \
         profile, make a draft, attach an MP4 video (metadata stripped, the default: the \
         location box is blanked in place while the file streams into the device's encrypted \
         store) and `submit` it (the receipt code's keys are derived with Argon2id at 19 MiB; \
         the attachment is decrypted from the store, hashed and sealed into the outbox). \
         `VmHWM` is read at start-up (baseline) and after each step; it only grows, so each \
         row is the peak so far. The benchmark then opens the sealed part and checks that it \
         is the video with its location removed. A {:.0} MB video runs beside the {:.0} MB \
         one, so what grows with the attachment's size shows apart from fixed costs.",
        sub.small.video_len as f64 / 1e6,
        sub.large.video_len as f64 / 1e6
    ));
    line("");
    line(&format!(
        "| Step (peak so far − baseline) | {:.0} MB video | {:.0} MB video |",
        sub.small.video_len as f64 / 1e6,
        sub.large.video_len as f64 / 1e6
    ));
    line("|---|---:|---:|");
    for (step, pick) in [
        (
            "profile installed, draft ready",
            (|r: &SubmitRun| r.ready_kb) as fn(&SubmitRun) -> u64,
        ),
        ("`attach_file` (metadata stripped)", |r| r.attached_kb),
        ("`submit`", |r| r.peak_kb),
    ] {
        line(&format!(
            "| {step} | {:.2} MB | {:.2} MB |",
            sub.small.above(pick(&sub.small)),
            sub.large.above(pick(&sub.large))
        ));
    }
    line(&format!(
        "| baseline `VmHWM` | {:.2} MB | {:.2} MB |",
        (sub.small.baseline_kb * 1024) as f64 / 1e6,
        (sub.large.baseline_kb * 1024) as f64 / 1e6
    ));
    line("");
    let peak = sub.large.above(sub.large.peak_kb);
    let growth = peak - sub.small.above(sub.small.peak_kb);
    let large = sub.large.video_len as f64 / 1e6;
    let small = sub.small.video_len as f64 / 1e6;
    line(&format!(
        "For comparison, making one receipt code alone \
         (`followup::Registration::create`, which `submit` runs for every report before \
         sealing: Argon2id with {} KiB of memory, `followup::KDF_M_KIB`, freed when the keys \
         are derived) peaks at {:.2} MB above its own baseline in a child of its own; the \
         {large:.0} MB video adds {growth:.2} MB to the peak of the {small:.0} MB one.",
        berani_core::followup::KDF_M_KIB,
        sub.receipt_code.delta_mb()
    ));
    line("");
    line("| Target | Measured | Met |");
    line("|---|---:|:---:|");
    let beyond_kdf = peak - sub.receipt_code.delta_mb();
    line(&format!(
        "| attach + submit of a {large:.0} MB video, beyond the receipt code's Argon2id \
         (submit's peak − the receipt code's own peak): < {TARGET_MEM_MB} MB | \
         {beyond_kdf:.2} MB | {} |",
        met(beyond_kdf < TARGET_MEM_MB)
    ));
    line(&format!(
        "| what the {large:.0} MB video adds to that peak over a {small:.0} MB one: \
         < {TARGET_MEM_MB} MB (memory bounded whatever the size) | {growth:.2} MB | {} |",
        met(growth < TARGET_MEM_MB)
    ));
    line(&format!(
        "| attach + submit of a {large:.0} MB video, Argon2id included (informational: the \
         {TARGET_MEM_MB} MB target is for sealing; the receipt code's Argon2id, \
         {} KiB by design, comes on top) | {peak:.2} MB | n/a |",
        berani_core::followup::KDF_M_KIB
    ));
    s
}

const HEADER: &str = "# Benchmarks

Measured results of Berani's speed and memory targets. Rules:

- Every figure here is written by a benchmark command, never typed by hand. To update a
  section, rerun the command it names; it replaces only its own section (between its
  `<!-- name:begin -->` / `<!-- name:end -->` markers).
- Results are ratios against a peer measured in the same run, on the same data and machine,
  so they stay comparable across machines; absolute figures are given for context only.
- Each section names its command, date, machine (CPU model, `nproc`) and compiler.
- Speed and memory targets are checked by benchmarks, never by timed tests.
";

fn write_section(section: &str) -> io::Result<()> {
    let block = format!("{BEGIN}\n{section}{END}\n");
    let text = match fs::read_to_string(BENCHMARKS_MD) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => HEADER.to_string(),
        Err(e) => return Err(e),
    };
    let new = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => {
            let mut after = &text[e + END.len()..];
            after = after.strip_prefix('\n').unwrap_or(after);
            format!("{}{block}{after}", &text[..b])
        }
        _ => {
            let mut t = text;
            if !t.ends_with('\n') {
                t.push('\n');
            }
            format!("{t}\n{block}")
        }
    };
    let tmp = format!("{BENCHMARKS_MD}.tmp-seal");
    fs::write(&tmp, new)?;
    fs::rename(&tmp, BENCHMARKS_MD)
}
