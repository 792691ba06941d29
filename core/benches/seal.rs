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
//! 2. The same against the `age` crate's `Encryptor` (X25519 recipient, same buffer).
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
//! The benchmark takes well under a minute on 2 cores in full mode. Linux only (`/proc`).

use std::fs::{self, File};
use std::hint::black_box;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use berani_core::age::stream::CHUNK;
use berani_core::age::{self as core_age, Encryptor, Identity, Recipient};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

const COMMAND: &str = "cargo bench -p berani-core --bench seal";
const BENCHMARKS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
const BEGIN: &str = "<!-- seal:begin -->";
const END: &str = "<!-- seal:end -->";
const TARGET_RING_RATIO: f64 = 0.8;
const TARGET_MEM_MB: f64 = 16.0;
/// The pinned version of the `age` peer (workspace `Cargo.toml`: `age = "=0.12.1"`).
const AGE_CRATE: &str = "age 0.12.1";

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

    let cfg = Config::from_env();
    eprintln!(
        "seal bench: {} MiB buffer, {} timed rounds, {} MB file{}",
        cfg.buf_len >> 20,
        cfg.rounds,
        cfg.file_len / 1_000_000,
        if cfg.quick { " (quick mode)" } else { "" }
    );

    let recipient = Identity::generate().to_public();
    let data = pseudo_random(cfg.buf_len, 0x5eed_0001);
    sanity_check();

    let tp = throughput(&cfg, &recipient, &data);
    drop(data);
    let mem = memory(&cfg, &recipient);

    let section = render(&cfg, &tp, &mem);
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

fn seal_raw_ring(key: &LessSafeKey, buf: &mut [u8]) {
    let n = buf.len().div_ceil(CHUNK);
    for (i, chunk) in buf.chunks_mut(CHUNK).enumerate() {
        let mut nonce = [0u8; 12];
        nonce[..11].copy_from_slice(&(i as u128).to_be_bytes()[5..]);
        nonce[11] = u8::from(i + 1 == n);
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

fn seal_ring_copy(key: &LessSafeKey, data: &[u8], scratch: &mut Vec<u8>) {
    let n = data.len().div_ceil(CHUNK);
    for (i, chunk) in data.chunks(CHUNK).enumerate() {
        scratch.clear();
        scratch.extend_from_slice(black_box(chunk));
        let mut nonce = [0u8; 12];
        nonce[..11].copy_from_slice(&(i as u128).to_be_bytes()[5..]);
        nonce[11] = u8::from(i + 1 == n);
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
}

impl Contender {
    const ALL: [Contender; 4] = [
        Contender::Core,
        Contender::Ring,
        Contender::RingCopy,
        Contender::AgeCrate,
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
    // Raw ring seals in place: it works on its own copy of the same bytes, made once.
    let mut ring_buf = data.to_vec();
    let mut scratch = Vec::with_capacity(CHUNK + 16);

    let mut run = |c: Contender| -> f64 {
        let start = Instant::now();
        match c {
            Contender::Core => seal_core(recipient, black_box(data)),
            Contender::Ring => seal_raw_ring(&ring_key, black_box(&mut ring_buf)),
            Contender::RingCopy => seal_ring_copy(&ring_key, black_box(data), &mut scratch),
            Contender::AgeCrate => seal_age_crate(&age_recipient, black_box(data)),
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
            "round {}: core {:.0}, ring {:.0}, ring+copy {:.0}, age {:.0} MB/s",
            round + 1,
            samples[0][round],
            samples[1][round],
            samples[2][round],
            samples[3][round]
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

fn render(cfg: &Config, tp: &Throughput, mem: &Memory) -> String {
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
