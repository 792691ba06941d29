//! Delivery over a poor link: the real `berani` CLI sends a ~5 MB report (text, three photos,
//! one voice note) to a real `berani-server` through the fault proxy at 64 kbit/s each way,
//! ~600 ms round trip and a connection reset about once a minute; then tus-js-client, at its
//! default settings, sends the same sealed parts the same way, as the peer.
//!
//! Run (about 25 minutes; not part of CI):
//!
//! ```text
//! cargo build --release -p berani-server -p berani-cli   # optional: the bench builds them too
//! cargo bench -p berani-tests --bench poor_link
//! ```
//!
//! `cargo bench` runs this in the `release` folder, so [`harness::binary`] builds and runs the
//! release `berani-server` and `berani`.
//!
//! For each contender, from a fresh server, a fresh proxy (same faults, same seed) and a fresh
//! data folder:
//!
//! 1. **berani**: a reporter home imports the server's signed profile (straight from the
//!    server, not through the proxy, so the proxy counts only the delivery), drafts the report
//!    with `--attach` ×3 and `--voice-note`, submits it (sealing five age parts), then runs
//!    `berani sync` (its default 600 s budget, what an Android job gets) again and again until
//!    the outbox says `delivered` (the signed receipt is checked and kept).
//! 2. **tus-js-client** (`tests/node/tus-upload.mjs`, default settings: one PATCH per file, no
//!    checksum, `retryDelays` [0, 1000, 3000, 5000] ms) uploads the same five sealed files, with
//!    Berani's six metadata keys, one after another in the outbox order (text first, then the
//!    smaller attachments first). When it gives up, it is started again with its URL storage,
//!    as an app would restart it, and the restarts are counted.
//!
//! Measured: time from the start until the text part (part 0) is complete on the server and
//! until every part is (the server database, polled read-only every 100 ms), until the phone
//! holds the receipt (berani), and the bytes the proxy carried (up + down). Targets for
//! berani: delivery ≤ 1.3× the link's minimum (ciphertext bytes × 8 / 64,000 s), bytes carried
//! ≤ 1.05× the ciphertext, text part on the server ≤ 10 s.
//!
//! Quick smoke run (a ~300 KB report on the same link, a minute or two; prints, does NOT write
//! `BENCHMARKS.md`):
//!
//! ```text
//! BERANI_BENCH_QUICK=1 cargo bench -p berani-tests --bench poor_link
//! ```

mod common;

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berani_tests::harness::{ReporterCli, Server};
use berani_tests::peers::{self, UploadOptions, free_port};
use berani_tests::proxy::{FaultProxy, Faults, Reset, Stats};
use common::{Md, met};

const COMMAND: &str = "cargo bench -p berani-tests --bench poor_link";
const SECTION: &str = "poor-link";

/// The link: 64 kbit/s each way, 300 ms one way plus up to 50 ms of jitter, a reset after a
/// mean of 60 s per connection.
const RATE_BPS: u64 = 64_000;
const LATENCY: Duration = Duration::from_millis(300);
const JITTER: Duration = Duration::from_millis(50);
const RESET_MEAN: Duration = Duration::from_secs(60);
/// Seeds the proxy's reset points and jitter; the same for both contenders.
const SEED: u64 = 0x00B1_0A2A_2026_0001;

const TARGET_TIME_RATIO: f64 = 1.3;
const TARGET_BYTES_RATIO: f64 = 1.05;
const TARGET_TEXT_SECS: f64 = 10.0;

/// Berani's client token for the peer's uploads: 43 base64url characters, canonical end.
const PEER_TOKEN: &str = "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQA";

/// What the reporter writes (synthetic).
const TEXT: &str = "CONTOH SINTETIS UNTUK UJI KINERJA. Tetangga saya, seorang anak perempuan \
umur sekitar 14 tahun, sering terdengar menangis dan berteriak minta tolong pada malam hari. \
Beberapa kali saya melihat memar di lengan dan wajahnya. Orang tuanya bekerja di luar kota dan \
anak itu tinggal bersama seorang kerabat laki-laki yang sering mabuk. Kejadian terakhir hari \
Sabtu malam sekitar pukul sebelas; suara pukulan terdengar sampai ke rumah saya. Saya takut \
melapor ke kepala desa karena dia masih saudara pelaku. Foto-foto terlampir diambil dari \
halaman rumah saya, dan rekaman suara berisi keterangan saya sendiri. Mohon dibantu segera.";

struct Config {
    quick: bool,
    photos: [usize; 3],
    voice: usize,
}

impl Config {
    fn from_env() -> Self {
        if common::quick() {
            Config {
                quick: true,
                photos: [70_000, 80_000, 60_000],
                voice: 90_000,
            }
        } else {
            Config {
                quick: false,
                photos: [1_200_000, 1_250_000, 1_150_000],
                voice: 1_300_000,
            }
        }
    }
}

fn faults() -> Faults {
    Faults {
        bandwidth_bps: Some(RATE_BPS),
        latency: LATENCY,
        jitter: JITTER,
        reset: Some(Reset::AfterMeanDuration(RESET_MEAN)),
        seed: SEED,
        ..Faults::default()
    }
}

/// One sealed part as the phone queued it.
#[derive(Clone, Debug)]
struct Part {
    idx: u32,
    path: PathBuf,
    size: u64,
    sha256: String,
}

/// A fresh berani-server behind a fresh fault proxy.
struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
    server: Server,
    proxy: FaultProxy,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let upstream = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let proxy = FaultProxy::start(upstream, faults());
        let public = format!("http://{}", proxy.addr());
        let server = Server::start_on(&root.join("server"), upstream, &["--public-url", &public]);
        Site {
            _dir: dir,
            root,
            server,
            proxy,
        }
    }
}

/// How one contender did. Times are from the start of its first process.
#[derive(Default)]
struct Outcome {
    delivered: bool,
    /// Every stored part equals the sealed file, byte for byte.
    verified: bool,
    text_at: Option<Duration>,
    server_done_at: Option<Duration>,
    /// berani only: the phone holds the checked receipt.
    receipt_at: Option<Duration>,
    stats: Stats,
    /// Processes run: `berani sync` runs, or tus-js-client runs over all parts.
    runs: u32,
    /// Runs that ended without finishing their job (tus-js-client gave up).
    restarts: u32,
    /// HTTP requests berani made (from `berani sync`'s summary).
    requests: Option<u64>,
    notes: Vec<String>,
}

/// Polls the server's database (read-only) for part 0 complete and the report received.
struct Watch {
    text_at: Mutex<Option<Duration>>,
    done_at: Mutex<Option<Duration>>,
    stop: AtomicBool,
}

impl Watch {
    fn new() -> Arc<Watch> {
        Arc::new(Watch {
            text_at: Mutex::new(None),
            done_at: Mutex::new(None),
            stop: AtomicBool::new(false),
        })
    }

    fn run(&self, db: &Path, report: &str, t0: Instant) {
        while !self.stop.load(Ordering::SeqCst) {
            if let Ok(c) = rusqlite::Connection::open_with_flags(
                db,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            ) {
                let now = t0.elapsed();
                let text: bool = c
                    .query_row(
                        "SELECT completed_at IS NOT NULL FROM uploads WHERE report = ?1 AND part = 0",
                        [report],
                        |r| r.get(0),
                    )
                    .unwrap_or(false);
                let done: bool = c
                    .query_row(
                        "SELECT received_at IS NOT NULL FROM reports WHERE id = ?1",
                        [report],
                        |r| r.get(0),
                    )
                    .unwrap_or(false);
                let mut t = self.text_at.lock().unwrap();
                if text && t.is_none() {
                    *t = Some(now);
                }
                let mut d = self.done_at.lock().unwrap();
                if done && d.is_none() {
                    *d = Some(now);
                }
                if d.is_some() && t.is_some() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Upper bound on one contender's run: three times the link's minimum plus ten minutes.
fn cap(min_secs: f64) -> Duration {
    Duration::from_secs_f64(min_secs * 3.0 + 600.0)
}

fn main() {
    let cfg = Config::from_env();
    let tjc_version = tus_js_client_version();
    eprintln!(
        "poor_link bench{}: link {} kbit/s each way, {} ms one way + up to {} ms jitter, \
         resets after a mean of {} s per connection, seed {SEED:#018x}",
        if cfg.quick { " (quick mode)" } else { "" },
        RATE_BPS / 1000,
        LATENCY.as_millis(),
        JITTER.as_millis(),
        RESET_MEAN.as_secs()
    );
    eprintln!(
        "berani-server: {}",
        berani_tests::harness::binary("berani-server").display()
    );

    // ----- berani ------------------------------------------------------------------------
    let site = Site::new();
    let r = ReporterCli::new(&site.root.join("phone"));
    r.ok(&[
        "profile",
        "import",
        &format!("{}/v1/profile", site.server.url()),
        "--trust",
        &site.server.profile_key(),
    ]);
    let media = site.root.join("media");
    fs::create_dir_all(&media).unwrap();
    let mut args: Vec<String> = [
        "draft",
        "new",
        "--category",
        "physical",
        "--district",
        "33.16.09",
        "--victim",
        "girl",
        "--age-band",
        "13-17",
        "--role",
        "neighbour",
        "--place",
        "household",
        "--text",
        TEXT,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, &len) in cfg.photos.iter().enumerate() {
        let p = photo(
            &media.join(format!("IMG_2026110{i}.jpg")),
            len,
            0xF070 + i as u64,
        );
        args.extend(["--attach".into(), p.display().to_string()]);
    }
    let v = voice_note(&media.join("rekaman.m4a"), cfg.voice, 0xA0D10);
    args.extend(["--voice-note".into(), v.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let id = r.ok(&args).trim().to_string();
    r.ok(&["submit", &id]);
    // The peer sends these same bytes later; the outbox is the phone's to clean up.
    let sealed_copy = tempfile::tempdir().expect("tempdir");
    let parts = sealed_parts(&r, &id, sealed_copy.path());
    let total: u64 = parts.iter().map(|p| p.size).sum();
    let min_secs = total as f64 * 8.0 / RATE_BPS as f64;
    eprintln!(
        "report {id}: {} sealed parts, {total} bytes of ciphertext ({}); link minimum {min_secs:.1} s",
        parts.len(),
        parts
            .iter()
            .map(|p| p.size.to_string())
            .collect::<Vec<_>>()
            .join(" + ")
    );

    let berani = run_berani(&site, &r, &id, &parts, min_secs);
    report_outcome("berani sync", &berani, total, min_secs);
    drop(site);

    // ----- tus-js-client -------------------------------------------------------------------
    let site = Site::new();
    let peer = run_peer(&site, &parts, min_secs);
    report_outcome("tus-js-client", &peer, total, min_secs);
    drop(site);

    let section = render(&cfg, &parts, total, min_secs, &berani, &peer, &tjc_version);
    common::publish(SECTION, &section, cfg.quick);
}

fn run_berani(site: &Site, r: &ReporterCli, id: &str, parts: &[Part], min_secs: f64) -> Outcome {
    let mut out = Outcome::default();
    let watch = Watch::new();
    let db = site.server.data.join("berani.db");
    let before = site.proxy.stats();
    let t0 = Instant::now();
    let limit = cap(min_secs);
    std::thread::scope(|s| {
        s.spawn(|| watch.run(&db, id, t0));
        let mut requests = 0u64;
        loop {
            out.runs += 1;
            let o = r.command(&["sync"]).output().expect("run berani sync");
            let stdout = String::from_utf8_lossy(&o.stdout);
            let summary: Vec<&str> = stdout
                .lines()
                .filter(|l| {
                    l.starts_with("delivered ")
                        || l.starts_with("stopped:")
                        || l.starts_with("last problem:")
                })
                .collect();
            if let Some(n) = summary
                .iter()
                .find_map(|l| l.rsplit("attempts ").next()?.trim().parse::<u64>().ok())
            {
                requests += n;
            }
            eprintln!(
                "[{:>7.1} s] berani sync run {}: {}",
                t0.elapsed().as_secs_f64(),
                out.runs,
                summary.join(" | ")
            );
            if !o.status.success() {
                out.notes.push(format!(
                    "sync run {} failed: {}",
                    out.runs,
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
            }
            match r.state(id).as_deref() {
                Some("delivered") => {
                    out.receipt_at = Some(t0.elapsed());
                    out.delivered = true;
                    break;
                }
                Some("failed") => {
                    out.notes.push("the report failed".into());
                    break;
                }
                _ => {}
            }
            if t0.elapsed() > limit {
                out.notes
                    .push(format!("gave up after {} s", limit.as_secs()));
                break;
            }
        }
        out.requests = Some(requests);
        // Let the watcher see the last state, then stop it.
        std::thread::sleep(Duration::from_millis(300));
        watch.stop.store(true, Ordering::SeqCst);
    });
    out.stats = diff(site.proxy.stats(), before);
    out.text_at = *watch.text_at.lock().unwrap();
    out.server_done_at = *watch.done_at.lock().unwrap();
    out.verified = out.delivered && stored_parts_match(&site.server, id, parts);
    out
}

fn run_peer(site: &Site, parts: &[Part], min_secs: f64) -> Outcome {
    let mut out = Outcome::default();
    // A report id of its own; the server does not open the parts, it checks size and sha256.
    let report = "b0b1ba5e0000000000000000000000fe";
    let count = parts.len().to_string();
    let endpoint = format!("http://{}/v1/uploads", site.proxy.addr());
    let storage = site.root.join("tus-js-url-storage.json");
    let watch = Watch::new();
    let db = site.server.data.join("berani.db");
    let before = site.proxy.stats();
    let t0 = Instant::now();
    let limit = cap(min_secs);
    std::thread::scope(|s| {
        s.spawn(|| watch.run(&db, report, t0));
        'parts: for p in outbox_order(parts) {
            let idx = p.idx.to_string();
            let kind = if p.idx == 0 { "report" } else { "attachment" };
            let meta = [
                ("report", report),
                ("part", idx.as_str()),
                ("parts", count.as_str()),
                ("kind", kind),
                ("sha256", p.sha256.as_str()),
                ("token", PEER_TOKEN),
            ];
            let mut idle = 0u32;
            loop {
                let left = limit.saturating_sub(t0.elapsed());
                if left.is_zero() {
                    out.notes
                        .push(format!("gave up after {} s", limit.as_secs()));
                    break 'parts;
                }
                out.runs += 1;
                let opts = UploadOptions {
                    url_storage: Some(storage.clone()),
                    timeout: Some(left),
                    ..UploadOptions::default()
                };
                match peers::node_tus_upload(&endpoint, &p.path, &meta, &opts) {
                    Ok(o) if o.succeeded() => {
                        eprintln!(
                            "[{:>7.1} s] tus-js-client: part {} ({} bytes) done",
                            t0.elapsed().as_secs_f64(),
                            p.idx,
                            p.size
                        );
                        break;
                    }
                    Ok(o) => {
                        out.restarts += 1;
                        let moved = o.events_named("chunk").next().is_some()
                            || o.events_named("progress").next().is_some()
                            || o.events_named("upload_url").next().is_some();
                        idle = if moved { 0 } else { idle + 1 };
                        let why = o
                            .events_named("error")
                            .last()
                            .and_then(|e| e.get("message"))
                            .and_then(|m| m.as_str())
                            .unwrap_or("no error event")
                            .to_string();
                        eprintln!(
                            "[{:>7.1} s] tus-js-client gave up on part {} ({why}); restarting",
                            t0.elapsed().as_secs_f64(),
                            p.idx
                        );
                        out.notes.push(format!("part {}: {why}", p.idx));
                        if idle >= 10 {
                            out.notes.push(format!(
                                "stopped after {idle} runs in a row without progress"
                            ));
                            break 'parts;
                        }
                    }
                    Err(e) => {
                        out.notes.push(format!("part {}: {e}", p.idx));
                        break 'parts;
                    }
                }
            }
        }
        let wait = Instant::now();
        while watch.done_at.lock().unwrap().is_none() && wait.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
        watch.stop.store(true, Ordering::SeqCst);
    });
    out.stats = diff(site.proxy.stats(), before);
    out.text_at = *watch.text_at.lock().unwrap();
    out.server_done_at = *watch.done_at.lock().unwrap();
    out.delivered = out.server_done_at.is_some();
    out.verified = out.delivered && stored_parts_match(&site.server, report, parts);
    out
}

/// Part 0 first, then attachments smallest first: the outbox's delivery order.
fn outbox_order(parts: &[Part]) -> Vec<Part> {
    let mut v = parts.to_vec();
    v.sort_by_key(|p| (p.idx != 0, p.size, p.idx));
    v
}

fn diff(after: Stats, before: Stats) -> Stats {
    Stats {
        bytes_up: after.bytes_up - before.bytes_up,
        bytes_down: after.bytes_down - before.bytes_down,
        accepted: after.accepted - before.accepted,
        active: after.active,
        resets: after.resets - before.resets,
        truncated: after.truncated - before.truncated,
        cut_by_down: after.cut_by_down - before.cut_by_down,
        upstream_failures: after.upstream_failures - before.upstream_failures,
    }
}

/// The sealed parts of `report` in the reporter's outbox folder, copied into `keep`.
fn sealed_parts(r: &ReporterCli, report: &str, keep: &Path) -> Vec<Part> {
    let dir = r.home.join(format!("outbox/{report}"));
    let mut parts: Vec<Part> = fs::read_dir(&dir)
        .expect("outbox folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name();
            let idx: u32 = name.to_str()?.strip_suffix(".age")?.parse().ok()?;
            let data = fs::read(dir.join(&name)).ok()?;
            let path = keep.join(&name);
            fs::write(&path, &data).ok()?;
            Some(Part {
                idx,
                size: data.len() as u64,
                sha256: common::sha256_hex(&data),
                path,
            })
        })
        .collect();
    parts.sort_by_key(|p| p.idx);
    assert_eq!(parts.len(), 5, "text + 3 photos + 1 voice note");
    parts
}

/// True when every part of `report` on the server equals the sealed file.
fn stored_parts_match(server: &Server, report: &str, parts: &[Part]) -> bool {
    let db = server.db();
    let Ok(mut st) = db.prepare("SELECT part, id FROM uploads WHERE report = ?1") else {
        return false;
    };
    let rows: Vec<(u32, String)> = match st.query_map([report], |r| Ok((r.get(0)?, r.get(1)?))) {
        Ok(rows) => rows.filter_map(Result::ok).collect(),
        Err(_) => return false,
    };
    rows.len() == parts.len()
        && rows.iter().all(|(idx, upload)| {
            let stored = fs::read(server.data.join("uploads").join(upload)).ok();
            let sealed = parts
                .iter()
                .find(|p| p.idx == *idx)
                .and_then(|p| fs::read(&p.path).ok());
            stored.is_some() && stored == sealed
        })
}

/// A well-formed JPEG of `len` bytes: SOI, a JFIF APP0, a start of scan, pseudo-random
/// entropy-coded data (no 0xFF bytes, so no stray markers, as compressed data looks), EOI.
/// The metadata stripper walks it like a camera photo (it refuses files it cannot walk).
fn photo(path: &Path, len: usize, seed: u64) -> PathBuf {
    let mut data = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00,
        0x48, 0x00, 0x48, 0x00, 0x00,
    ];
    // SOS: length 8, one component (id 1, tables 0/0), spectral 0..63, approximation 0.
    data.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    let scan = len.saturating_sub(data.len() + 2);
    data.extend(
        common::pseudo_random(scan, seed)
            .into_iter()
            .map(|b| if b == 0xFF { 0xFE } else { b }),
    );
    data.extend_from_slice(&[0xFF, 0xD9]);
    fs::write(path, &data).unwrap();
    path.to_path_buf()
}

/// A well-formed M4A voice note: an `ftyp` box, then one `mdat` box of pseudo-random bytes.
fn voice_note(path: &Path, len: usize, seed: u64) -> PathBuf {
    let mut data = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'M', b'4', b'A', b' ',
    ];
    data.extend_from_slice(&[0, 0, 0, 0, b'M', b'4', b'A', b' ', b'm', b'p', b'4', b'2']);
    let body = len - data.len() - 8;
    data.extend_from_slice(&u32::try_from(body + 8).unwrap().to_be_bytes());
    data.extend_from_slice(b"mdat");
    data.extend(common::pseudo_random(body, seed));
    fs::write(path, &data).unwrap();
    path.to_path_buf()
}

fn tus_js_client_version() -> String {
    let p = peers::repo_root().join("tests/node/node_modules/tus-js-client/package.json");
    fs::read_to_string(p)
        .ok()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("—".into(), |d| format!("{:.1} s", d.as_secs_f64()))
}

fn ratio(d: Option<Duration>, min_secs: f64) -> Option<f64> {
    d.map(|d| d.as_secs_f64() / min_secs)
}

fn carried(o: &Outcome) -> u64 {
    o.stats.bytes_up + o.stats.bytes_down
}

fn report_outcome(name: &str, o: &Outcome, total: u64, min_secs: f64) {
    eprintln!(
        "{name}: delivered {} (verified {}), text {}, all parts {} ({:.2}× minimum), receipt {}, \
         carried {} up + {} down = {:.3}× ciphertext, {} connections, {} resets, {} runs, \
         notes {:?}",
        o.delivered,
        o.verified,
        secs(o.text_at),
        secs(o.server_done_at),
        ratio(o.server_done_at, min_secs).unwrap_or(f64::NAN),
        secs(o.receipt_at),
        o.stats.bytes_up,
        o.stats.bytes_down,
        carried(o) as f64 / total as f64,
        o.stats.accepted,
        o.stats.resets,
        o.runs,
        counted(&o.notes)
    );
}

/// Distinct notes in first-seen order, with a count when repeated.
fn counted(notes: &[String]) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for n in notes {
        match out.iter_mut().find(|(m, _)| m == n) {
            Some((_, c)) => *c += 1,
            None => out.push((n.clone(), 1)),
        }
    }
    out.into_iter()
        .map(|(n, c)| if c > 1 { format!("{n} (×{c})") } else { n })
        .collect()
}

fn mb(bytes: u64) -> String {
    format!("{:.3} MB", bytes as f64 / 1e6)
}

fn render(
    cfg: &Config,
    parts: &[Part],
    total: u64,
    min_secs: f64,
    berani: &Outcome,
    peer: &Outcome,
    tjc: &str,
) -> String {
    let mut md = Md::default();
    md.line("## Delivery over a poor link: `berani sync` vs tus-js-client");
    md.line("");
    md.line(format!("- Command: `{COMMAND}`"));
    md.line(format!("- Date: {}", common::now_utc()));
    md.line(format!("- Machine: {}", common::machine()));
    md.line(format!(
        "- Compiler: {}, `bench` profile (bench driver), `release` profile (`berani`, `berani-server`)",
        common::rustc_version()
    ));
    if cfg.quick {
        md.line("- **Quick mode (`BERANI_BENCH_QUICK=1`): smoke check, not a result**");
    }
    md.line(format!(
        "- Link: the fault proxy (`tests/src/proxy`) on 127.0.0.1 at {} kbit/s each way (shared \
         by all connections), {} ms one-way latency plus 0–{} ms jitter per chunk, each connection \
         reset after an exponentially distributed time with mean {} s (`Reset::AfterMeanDuration`), \
         seed `{SEED:#018x}`. A fresh proxy with the same faults and seed and a fresh \
         `berani-server` (release) for each contender.",
        RATE_BPS / 1000,
        LATENCY.as_millis(),
        JITTER.as_millis(),
        RESET_MEAN.as_secs()
    ));
    let sizes: Vec<String> = parts.iter().map(|p| format!("{}", p.size)).collect();
    md.line(format!(
        "- Report: text ({} characters) + 3 photos (JPEG header + pseudo-random bytes, {} bytes) \
         + 1 voice note (`--voice-note`, M4A header + pseudo-random bytes, {} bytes), sealed into \
         5 age parts of {} bytes: **{} bytes of ciphertext**. Link minimum = {} × 8 / {} = \
         **{:.1} s**.",
        TEXT.chars().count(),
        cfg.photos
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        cfg.voice,
        sizes.join(" + "),
        total,
        total,
        RATE_BPS,
        min_secs
    ));
    md.line(
        "- berani: the release `berani` CLI runs `berani sync` (default budget 600 s per run) \
         again at once whenever a run ends, until the outbox says `delivered` (the signed receipt \
         checked and kept).",
    );
    md.line(format!(
        "- Peer: tus-js-client {tjc} (`tests/node/tus-upload.mjs`) at default settings (one \
         PATCH per file, no checksum, `retryDelays` [0, 1000, 3000, 5000] ms) uploads the same \
         five sealed files with Berani's metadata keys, one after another in outbox order (text, \
         then attachments smallest first); when it gives up it is started again with its URL \
         storage (resuming from the server's offset), as an app would restart it."
    ));
    md.line(
        "- Times are from the start of the contender's first process; \"on server\" is polled \
         read-only from the server's database every 100 ms. Bytes carried are what the proxy \
         delivered, both directions, headers included. 1 MB = 10^6 bytes.",
    );
    md.line("");
    md.line(
        "| Contender | Delivered, bytes verified | Text part on server | All parts on server | \
         ÷ link minimum | Receipt on phone | Bytes carried up + down | ÷ ciphertext | \
         Connections / resets | Processes run |",
    );
    md.line("|---|:---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (name, o) in [("`berani sync`", berani), ("tus-js-client", peer)] {
        let runs = if std::ptr::eq(o, berani) {
            format!(
                "{} sync run(s), {} HTTP requests",
                o.runs,
                o.requests.unwrap_or(0)
            )
        } else {
            format!(
                "{} run(s), {} restart(s) after giving up",
                o.runs, o.restarts
            )
        };
        md.line(format!(
            "| {name} | {} | {} | {} | {} | {} | {} ({} + {}) | {:.3}× | {} / {} | {runs} |",
            met(o.delivered && o.verified),
            secs(o.text_at),
            secs(o.server_done_at),
            ratio(o.server_done_at, min_secs).map_or("—".into(), |r| format!("{r:.3}×")),
            if std::ptr::eq(o, berani) {
                secs(o.receipt_at)
            } else {
                "n/a (no receipt)".into()
            },
            mb(carried(o)),
            mb(o.stats.bytes_up),
            mb(o.stats.bytes_down),
            carried(o) as f64 / total as f64,
            o.stats.accepted,
            o.stats.resets,
        ));
    }
    md.line("");
    let time_vs = match (berani.server_done_at, peer.server_done_at) {
        (Some(b), Some(p)) => format!("{:.3}×", b.as_secs_f64() / p.as_secs_f64()),
        _ => "—".into(),
    };
    let bytes_vs = if carried(peer) > 0 {
        format!("{:.3}×", carried(berani) as f64 / carried(peer) as f64)
    } else {
        "—".into()
    };
    md.line(format!(
        "berani ÷ tus-js-client: all parts on server {time_vs}, bytes carried {bytes_vs} \
         (below 1 is better for berani)."
    ));
    let notes: Vec<String> = counted(&berani.notes)
        .into_iter()
        .map(|n| format!("berani: {n}"))
        .chain(
            counted(&peer.notes)
                .into_iter()
                .map(|n| format!("tus-js-client: {n}")),
        )
        .collect();
    if !notes.is_empty() {
        md.line("");
        md.line(format!("Notes: {}.", notes.join("; ")));
    }
    md.line("");
    md.line("| Target (`berani sync`) | Measured | Met |");
    md.line("|---|---:|:---:|");
    let t = ratio(berani.receipt_at, min_secs);
    md.line(format!(
        "| delivery (receipt on phone) ≤ {TARGET_TIME_RATIO}× link minimum | {} | {} |",
        t.map_or("not delivered".into(), |r| format!("{r:.3}×")),
        met(t.is_some_and(|r| r <= TARGET_TIME_RATIO) && berani.verified)
    ));
    let b = carried(berani) as f64 / total as f64;
    md.line(format!(
        "| bytes carried ≤ {TARGET_BYTES_RATIO}× ciphertext | {b:.3}× | {} |",
        met(berani.delivered && b <= TARGET_BYTES_RATIO)
    ));
    md.line(format!(
        "| text part complete on server ≤ {TARGET_TEXT_SECS:.0} s | {} | {} |",
        secs(berani.text_at),
        met(berani
            .text_at
            .is_some_and(|d| d.as_secs_f64() <= TARGET_TEXT_SECS))
    ));
    md.0
}
