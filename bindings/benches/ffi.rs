//! FFI benchmark: the phone library's footprint, the cost of opening a full reporter home, and
//! the overhead of calling the core through the Kotlin bindings.
//!
//! Run (kept out of CI; builds the release library, runs the Kotlin side, then this):
//!
//! ```text
//! scripts/bench-ffi
//! ```
//!
//! This measures, in one run:
//!
//! 1. **Footprint**: the size of `libberani_ffi.so` for x86_64 as the script builds it (the
//!    `phone` profile: release with fat LTO, one codegen unit, `opt-level = "s"`) and strips
//!    it (`BERANI_FFI_SO_STRIPPED`), beside the unstripped one (`BERANI_FFI_SO`). Target:
//!    ≤ 6 MB (10^6 bytes) per ABI. aarch64 is not measured: there is no Android linker here
//!    (`scripts/check-android` only compiles).
//! 2. **Startup**: cold `berani_ffi::Reporter::open` on a home folder holding 1,000 delivered
//!    and 20 queued reports, against `berani_core::Reporter::open` on the same folder as the
//!    peer (the facade's own cost), interleaved, 1 warm-up and 30 timed rounds each; median
//!    and p95. Every open is a new store (new SQLite connections, key derivation, schema and
//!    key checks, the start-up sweep); the OS page cache is warm (it cannot be dropped here).
//!    The folder is built through the core's API: every report is a real draft, sealed and
//!    queued by `submit`; the 1,000 "delivered" ones are then moved along with the outbox's
//!    own transitions (`mark_part_done`, `mark_delivered` with a placeholder receipt), since
//!    this measures opening, not delivery. Target: median ≤ 20 ms. For context it also times
//!    open + listing the whole outbox. The same opens are timed from Kotlin on the same home
//!    (`FfiOverheadBench.kt`, timings passed in `BERANI_FFI_KOTLIN_TIMINGS`), with the first
//!    open in a fresh JVM (JNA loading the library, uniffi's checks) as one sample apart.
//! 3. **FFI overhead**: one draft-field update (`set_description`, a durable SQLite write)
//!    and one draft read (`draft`), called from Rust on `berani_ffi::Reporter` here and
//!    from Kotlin through JNA by `bindings/kotlin` (`mvn -Pbench`, its timings passed in
//!    `BERANI_FFI_KOTLIN_TIMINGS`): same calls, same counts, same machine, same run, and the
//!    same compiler settings (the script runs this benchmark with `--profile phone`). Median
//!    per call and the ratio Kotlin ÷ Rust. No target; informational.
//!
//! The results are printed as a Markdown section and written to `BENCHMARKS.md` at the
//! workspace root, between `<!-- ffi:begin -->` and `<!-- ffi:end -->` (other sections
//! survive). Never edit the figures there by hand: rerun the command.
//!
//! Quick smoke check (100 + 5 reports, few rounds; prints, does NOT write `BENCHMARKS.md`):
//!
//! ```text
//! BERANI_BENCH_QUICK=1 cargo bench -p berani-ffi --bench ffi
//! ```
//!
//! Run alone like that, the footprint and Kotlin rows say "not measured" / "not run".
//!
//! `scripts/bench-ffi` builds the home once, before the Kotlin half runs, so both halves open
//! the same folder: with `BERANI_FFI_HOME=DIR` the home is kept in `DIR/home`, its device key
//! in `DIR/device.key` and what it holds in `DIR/built.txt` (built there if `built.txt` is
//! missing, reused otherwise); `BERANI_FFI_STAGE=home` stops once the home is ready.

use std::fs;
use std::hint::black_box;
use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berani_core::age::Identity;
use berani_core::profile::{self, AgencyProfile, SigningKey};
use berani_ffi::{BeraniError, Category, DeviceKeyStore, Reporter, new_device_key};

const COMMAND: &str = "scripts/bench-ffi";
const BENCHMARKS_MD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../BENCHMARKS.md");
const BEGIN: &str = "<!-- ffi:begin -->";
const END: &str = "<!-- ffi:end -->";
const TARGET_SO_MB: f64 = 6.0;
const TARGET_OPEN_MS: f64 = 20.0;
/// The call counts the Kotlin side uses too (`FfiOverheadBench.kt`).
const WRITES: usize = 300;
const READS: usize = 3000;
const WARM_UP: usize = 2000;
const TEXT_A: &str = "CONTOH SINTETIS: tetangga mendengar anak menangis setiap malam.";
const TEXT_B: &str = "CONTOH SINTETIS: anak terlihat lebam di lengan, dua kali minggu ini.";

struct Config {
    quick: bool,
    delivered: usize,
    queued: usize,
    rounds: usize,
}

impl Config {
    fn from_env() -> Self {
        let quick = std::env::var("BERANI_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Config {
                quick,
                delivered: 100,
                queued: 5,
                rounds: 5,
            }
        } else {
            Config {
                quick,
                delivered: 1000,
                queued: 20,
                rounds: 30,
            }
        }
    }
}

struct Keys(Vec<u8>);

impl DeviceKeyStore for Keys {
    fn device_key(&self) -> Result<Vec<u8>, BeraniError> {
        Ok(self.0.clone())
    }

    fn destroy_key(&self) -> Result<(), BeraniError> {
        Err(BeraniError::Internal {
            detail: "the benchmark's key is not destroyed".into(),
        })
    }
}

fn main() {
    let cfg = Config::from_env();
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = std::env::var_os("BERANI_FFI_HOME").map(std::path::PathBuf::from);
    let (home, keys, built) = full_home(kept.as_deref().unwrap_or(dir.path()), &cfg);
    if std::env::var("BERANI_FFI_STAGE").is_ok_and(|s| s == "home") {
        eprintln!("home ready in {}", home.display());
        return;
    }

    let size = footprint();
    let startup = startup(&home, &keys, &cfg);
    eprintln!("timing draft updates and reads from Rust…");
    let rust = overhead(&dir.path().join("overhead"), &keys);
    let kotlin = kotlin_timings();

    let section = render(&cfg, &size, built, &startup, &rust, &kotlin);
    print!("{section}");
    if cfg.quick {
        eprintln!("quick mode: BENCHMARKS.md not written");
    } else {
        write_section(&section).expect("writing BENCHMARKS.md");
        eprintln!("written to {}", Path::new(BENCHMARKS_MD).display());
    }
}

// ---------------------------------------------------------------------------------------------
// Footprint

struct Footprint {
    unstripped: Option<u64>,
    stripped: Option<u64>,
}

fn footprint() -> Footprint {
    let len = |var: &str| {
        std::env::var_os(var)
            .and_then(|p| fs::metadata(p).ok())
            .map(|m| m.len())
    };
    Footprint {
        unstripped: len("BERANI_FFI_SO"),
        stripped: len("BERANI_FFI_SO_STRIPPED"),
    }
}

// ---------------------------------------------------------------------------------------------
// Startup

fn signed_profile() -> (Vec<u8>, String) {
    let signing = SigningKey::generate();
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap();
    let p = AgencyProfile {
        schema_version: profile::PROFILE_SCHEMA_VERSION,
        version: 1,
        agency_name: "Dinsos P3A Kabupaten Blora".into(),
        regency_code: "33.16".into(),
        intake_url: "http://127.0.0.1:9".into(),
        recipients: vec![Identity::generate().to_public().to_string()],
        tls_spki_sha256: None,
        hotlines: vec![],
        max_attachment_bytes: 10_000_000,
        issued_at: now,
        expires_at: now + time::Duration::days(30),
        receipt_key: None,
        download_url: None,
    };
    (profile::sign(&p, &signing), signing.public().to_string())
}

/// The full home in `dir` (see the module doc): built, or reused when `dir/built.txt` says it
/// holds what `cfg` asks for. Returns its folder, its key and how long building it took.
fn full_home(dir: &Path, cfg: &Config) -> (std::path::PathBuf, Arc<Keys>, Duration) {
    let (home, key_file, facts) = (
        dir.join("home"),
        dir.join("device.key"),
        dir.join("built.txt"),
    );
    let wanted = format!("delivered={}\nqueued={}\n", cfg.delivered, cfg.queued);
    if let Ok(text) = fs::read_to_string(&facts) {
        let (counts, built) = text
            .split_once("built_s=")
            .expect("built.txt: no built_s line");
        assert_eq!(counts, wanted, "{} holds another home", dir.display());
        let built = built.trim().parse::<f64>().expect("built.txt: built_s");
        let keys = Arc::new(Keys(fs::read(&key_file).expect("device.key")));
        eprintln!("reusing the home in {}", home.display());
        return (home, keys, Duration::from_secs_f64(built));
    }
    if home.exists() {
        fs::remove_dir_all(&home).expect("removing a half-built home");
    }
    fs::create_dir_all(dir).expect("home folder");
    eprintln!(
        "building a home with {} delivered and {} queued reports…",
        cfg.delivered, cfg.queued
    );
    let keys = Arc::new(Keys(new_device_key()));
    let built = build_home(&home, &keys, cfg);
    fs::write(&key_file, &keys.0).expect("writing device.key");
    fs::write(&facts, format!("{wanted}built_s={}\n", built.as_secs_f64()))
        .expect("writing built.txt");
    (home, keys, built)
}

/// Fills `home` through the core's API; returns how long it took.
fn build_home(home: &Path, keys: &Arc<Keys>, cfg: &Config) -> Duration {
    let start = Instant::now();
    let r = Reporter::open(home.to_string_lossy().into(), keys.clone()).expect("open");
    let (signed, key) = signed_profile();
    r.import_profile_bytes(signed, Some(key)).expect("profile");
    let total = cfg.delivered + cfg.queued;
    for i in 0..total {
        let id = r.create_draft().expect("draft").id;
        r.set_category(id.clone(), Some(Category::Psychological))
            .unwrap();
        r.set_district(id.clone(), Some("33.16.09".into())).unwrap();
        r.set_description(id.clone(), Some(format!("CONTOH SINTETIS #{i}")))
            .unwrap();
        let report = r.submit(id).expect("submit");
        if i < cfg.delivered {
            let outbox = r.core().outbox();
            for p in &report.parts {
                outbox.mark_part_done(&report.id, p.index).unwrap();
            }
            outbox
                .mark_delivered(&report.id, b"{\"placeholder\":\"receipt\"}")
                .unwrap();
        }
        if (i + 1) % 100 == 0 {
            eprintln!("  {} of {total}", i + 1);
        }
    }
    let listed = r.outbox().unwrap();
    assert_eq!(listed.len(), total);
    assert_eq!(
        listed
            .iter()
            .filter(|r| r.state == berani_ffi::ReportState::Delivered)
            .count(),
        cfg.delivered
    );
    start.elapsed()
}

#[derive(Clone, Copy)]
struct Stats {
    median: f64,
    p95: f64,
    min: f64,
}

/// Median, p95 (nearest rank) and minimum of `xs`.
fn stats(mut xs: Vec<f64>) -> Stats {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    let median = if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    Stats {
        median,
        p95: xs[rank - 1],
        min: xs[0],
    }
}

struct Startup {
    ffi: Stats,
    core: Stats,
    ffi_and_list: Stats,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn startup(home: &Path, keys: &Arc<Keys>, cfg: &Config) -> Startup {
    let path: String = home.to_string_lossy().into();
    // The core peer gets the same key, from a plain core key store.
    struct CoreKeys(Vec<u8>);
    impl berani_core::store::DeviceKeyStore for CoreKeys {
        fn device_key(
            &self,
        ) -> Result<zeroize::Zeroizing<Vec<u8>>, berani_core::store::KeyStoreError> {
            Ok(zeroize::Zeroizing::new(self.0.clone()))
        }
        fn destroy(&self) -> Result<(), berani_core::store::KeyStoreError> {
            Err(berani_core::store::KeyStoreError(
                "the benchmark's key is not destroyed".into(),
            ))
        }
    }
    let core_keys = CoreKeys(keys.0.clone());
    let (mut ffi, mut core, mut listed) = (vec![], vec![], vec![]);
    for round in 0..=cfg.rounds {
        let mut one = |which: usize| match which {
            0 => {
                let t = Instant::now();
                let r = Reporter::open(path.clone(), keys.clone()).expect("open");
                let d = t.elapsed();
                drop(black_box(r));
                ffi.push(ms(d));
            }
            1 => {
                let t = Instant::now();
                let r = berani_core::Reporter::open(home, &core_keys).expect("open");
                let d = t.elapsed();
                drop(black_box(r));
                core.push(ms(d));
            }
            _ => {
                let t = Instant::now();
                let r = Reporter::open(path.clone(), keys.clone()).expect("open");
                black_box(r.outbox().expect("outbox"));
                let d = t.elapsed();
                drop(r);
                listed.push(ms(d));
            }
        };
        for k in 0..3 {
            one((round + k) % 3);
        }
        if round == 0 {
            // Warm-up round: discarded.
            ffi.clear();
            core.clear();
            listed.clear();
        }
    }
    Startup {
        ffi: stats(ffi),
        core: stats(core),
        ffi_and_list: stats(listed),
    }
}

// ---------------------------------------------------------------------------------------------
// FFI overhead

#[derive(Clone, Copy)]
struct Calls {
    write_us: f64,
    read_us: f64,
}

/// The same loop as `FfiOverheadBench.kt`: a fresh home, one draft, `WARM_UP` untimed calls,
/// then `WRITES` timed `set_description` and `READS` timed `draft` calls, each timed alone.
fn overhead(home: &Path, keys: &Arc<Keys>) -> Calls {
    let r = Reporter::open(home.to_string_lossy().into(), keys.clone()).expect("open");
    let id = r.create_draft().unwrap().id;
    let write = |i: usize| {
        let text = if i.is_multiple_of(2) { TEXT_A } else { TEXT_B };
        black_box(r.set_description(id.clone(), Some(text.into())).unwrap());
    };
    for i in 0..WARM_UP {
        write(i);
    }
    let mut writes = Vec::with_capacity(WRITES);
    for i in 0..WRITES {
        let t = Instant::now();
        write(i);
        writes.push(t.elapsed().as_secs_f64() * 1e6);
    }
    for _ in 0..WARM_UP {
        black_box(r.draft(id.clone()).unwrap());
    }
    let mut reads = Vec::with_capacity(READS);
    for _ in 0..READS {
        let t = Instant::now();
        black_box(r.draft(id.clone()).unwrap());
        reads.push(t.elapsed().as_secs_f64() * 1e6);
    }
    Calls {
        write_us: stats(writes).median,
        read_us: stats(reads).median,
    }
}

/// What the Kotlin side measured (`FfiOverheadBench.kt`).
struct Kotlin {
    calls: Option<Calls>,
    open: Option<KotlinOpen>,
}

/// `Reporter.open` timed from Kotlin on the same home, in milliseconds.
struct KotlinOpen {
    /// The first open in a fresh JVM: JNA loads the library and uniffi checks its API.
    first: f64,
    open: Stats,
    open_and_list: Stats,
}

/// The Kotlin side's figures, from the `key=value` file `FfiOverheadBench.kt` writes.
fn kotlin_timings() -> Kotlin {
    let text = std::env::var_os("BERANI_FFI_KOTLIN_TIMINGS")
        .and_then(|path| fs::read_to_string(path).ok())
        .unwrap_or_default();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let stats = |name: &str| {
        Some(Stats {
            median: get(&format!("{name}_median_ms"))?,
            p95: get(&format!("{name}_p95_ms"))?,
            min: get(&format!("{name}_min_ms"))?,
        })
    };
    Kotlin {
        calls: (|| {
            Some(Calls {
                write_us: get("set_description_median_us")?,
                read_us: get("draft_median_us")?,
            })
        })(),
        open: (|| {
            Some(KotlinOpen {
                first: get("open_first_ms")?,
                open: stats("open")?,
                open_and_list: stats("open_outbox")?,
            })
        })(),
    }
}

// ---------------------------------------------------------------------------------------------
// Report

fn machine() -> String {
    let nproc = std::thread::available_parallelism()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
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

fn command_line(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .and_then(|s| s.lines().next().map(str::to_owned))
}

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    command_line(&rustc, &["--version"]).unwrap_or_else(|| "rustc (version unknown)".into())
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

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn render(
    cfg: &Config,
    size: &Footprint,
    built: Duration,
    st: &Startup,
    rust: &Calls,
    kotlin: &Kotlin,
) -> String {
    let mut s = String::new();
    let mut line = |l: &str| {
        s.push_str(l);
        s.push('\n');
    };
    let profile = std::env::var("BERANI_FFI_PROFILE").unwrap_or_else(|_| "`bench`".into());
    line("## The phone library: `berani-ffi`");
    line("");
    line(&format!("- Command: `{COMMAND}`"));
    line(&format!("- Date: {}", now_utc()));
    line(&format!("- Machine: {}", machine()));
    line(&format!(
        "- Compiler: {}, profile {profile}, for the library and the Rust side alike",
        rustc_version()
    ));
    if let Some(java) = std::env::var("BERANI_FFI_JVM")
        .ok()
        .filter(|v| !v.is_empty())
    {
        line(&format!("- JVM (Kotlin side): {java}"));
    }
    if cfg.quick {
        line("- **Quick mode (`BERANI_BENCH_QUICK=1`): smoke check, not a result**");
    }
    line("");
    line("### Footprint");
    line("");
    line(
        "`libberani_ffi.so` as the script builds it; 1 MB = 10^6 bytes. aarch64 (arm64-v8a): \
         not measured: no Android linker here (`scripts/check-android` compiles only).",
    );
    line("");
    line("| ABI | Unstripped | Stripped | Target | Met |");
    line("|---|---:|---:|---:|:---:|");
    match (size.unstripped, size.stripped) {
        (Some(u), Some(st)) => line(&format!(
            "| x86_64 (host) | {:.2} MB | {:.2} MB | ≤ {TARGET_SO_MB} MB | {} |",
            mb(u),
            mb(st),
            met(mb(st) <= TARGET_SO_MB)
        )),
        _ => line(&format!(
            "| x86_64 (host) | not measured (run `{COMMAND}`) | | ≤ {TARGET_SO_MB} MB | n/a |"
        )),
    }
    line(&format!(
        "| aarch64 (arm64-v8a) | not measured: no Android linker here | | ≤ {TARGET_SO_MB} MB | n/a |"
    ));
    line("");
    line("### Startup: opening a full home");
    line("");
    line(&format!(
        "A home folder with {} delivered and {} queued reports, each a real draft sealed and \
         queued by `submit` (built in {:.0} s); the delivered ones were then marked with the \
         outbox's own transitions (`mark_part_done`, `mark_delivered` with a placeholder \
         receipt), as this measures opening, not delivery. Each open is cold for the store \
         (new SQLite connections, key derivation, schema and key checks, start-up sweep) with a \
         warm OS page cache (caches cannot be dropped here). 1 warm-up and {} timed rounds per \
         contender, interleaved (order rotated each round). The Kotlin rows time the same \
         calls through the generated bindings and JNA on the same folder and key, in the same \
         way (`bindings/kotlin`, `mvn -Pbench`), after the first open in that JVM.",
        cfg.delivered,
        cfg.queued,
        built.as_secs_f64(),
        cfg.rounds
    ));
    line("");
    line("| Contender | Median | p95 | Min | ÷ core peer (median) |");
    line("|---|---:|---:|---:|---:|");
    let kotlin_open = kotlin.open.as_ref();
    let rows = [
        ("`berani_ffi::Reporter::open` (Rust)", Some(st.ffi)),
        ("`Reporter.open` from Kotlin", kotlin_open.map(|k| k.open)),
        ("`berani_core::Reporter::open` (peer)", Some(st.core)),
        (
            "`berani_ffi::Reporter::open` + `outbox()` listing every report (Rust, context)",
            Some(st.ffi_and_list),
        ),
        (
            "`Reporter.open` + `outbox()` from Kotlin (context)",
            kotlin_open.map(|k| k.open_and_list),
        ),
    ];
    for (name, x) in rows.into_iter().filter_map(|(n, x)| Some((n, x?))) {
        line(&format!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2}× |",
            x.median,
            x.p95,
            x.min,
            x.median / st.core.median
        ));
    }
    line("");
    match &kotlin.open {
        Some(k) => line(&format!(
            "The first `Reporter.open` in a fresh JVM, which also loads the library through JNA \
             and runs uniffi's API checks, took {:.1} ms (one sample, so a rough figure).",
            k.first
        )),
        None => line(&format!(
            "`Reporter.open` from Kotlin: not run (run `{COMMAND}`)."
        )),
    }
    line("");
    line("| Target | Measured | Met |");
    line("|---|---:|:---:|");
    line(&format!(
        "| median cold `Reporter::open` ≤ {TARGET_OPEN_MS} ms (Rust) | {:.2} ms (p95 {:.2} ms) | {} |",
        st.ffi.median,
        st.ffi.p95,
        met(st.ffi.median <= TARGET_OPEN_MS)
    ));
    if let Some(k) = &kotlin.open {
        line(&format!(
            "| median cold `Reporter.open` ≤ {TARGET_OPEN_MS} ms (from Kotlin) | {:.2} ms (p95 {:.2} ms) | {} |",
            k.open.median,
            k.open.p95,
            met(k.open.median <= TARGET_OPEN_MS)
        ));
    }
    line("");
    line("### FFI overhead: one call from Kotlin vs the same call in Rust");
    line("");
    line(&format!(
        "A fresh home and one draft; {WARM_UP} untimed calls of each kind first (they also \
         warm the JVM's JIT), then {WRITES} `set_description` calls (alternating two texts; each a durable SQLite write, \
         `synchronous=FULL`) and {READS} `draft` reads, each call timed alone; median per call. \
         Rust calls `berani_ffi::Reporter` directly; Kotlin calls the generated bindings through \
         JNA (`bindings/kotlin`, `mvn -Pbench`) on the library above."
    ));
    line("");
    line("| Call | Rust median | Kotlin median | Kotlin ÷ Rust |");
    line("|---|---:|---:|---:|");
    for (name, r, k) in [
        (
            "`set_description` (one draft-field update)",
            rust.write_us,
            kotlin.calls.as_ref().map(|k| k.write_us),
        ),
        (
            "`draft` (read one draft)",
            rust.read_us,
            kotlin.calls.as_ref().map(|k| k.read_us),
        ),
    ] {
        match k {
            Some(k) => line(&format!(
                "| {name} | {r:.1} µs | {k:.1} µs | {:.2}× |",
                k / r
            )),
            None => line(&format!(
                "| {name} | {r:.1} µs | not run (run `{COMMAND}`) | n/a |"
            )),
        }
    }
    line("");
    line(
        "No target: informational. The difference is the FFI crossing (JNA, serialising \
          arguments and the returned `Draft` record) plus JVM-side allocation.",
    );
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
    let tmp = format!("{BENCHMARKS_MD}.tmp-ffi");
    fs::write(&tmp, new)?;
    fs::rename(&tmp, BENCHMARKS_MD)
}
