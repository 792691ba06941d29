//! Server load: 1,000 concurrent slow uploads against `berani-server` (release) and, in the
//! same run, against tusd, the reference tus server, on the same machine.
//!
//! Run (about two minutes; not part of CI):
//!
//! ```text
//! cargo bench -p berani-tests --bench server_load
//! ```
//!
//! `cargo bench` runs this in the `release` folder, so [`harness::binary`] builds and runs the
//! release `berani-server`. tusd comes from `scripts/install-test-peers` (`$(go env
//! GOPATH)/bin/tusd`, or `$TUSD`).
//!
//! The load generator runs in this process on tokio (hyper's HTTP/1.1 client, one TCP
//! connection per upload). Each upload `POST`s `/v1/uploads` with `Upload-Length: 65536` and
//! Berani's six metadata keys (its own report id, part 0 of 1, kind `report`, the content's
//! SHA-256, a valid client token), then sends one `PATCH` whose 64 KiB body is streamed in
//! 1 KiB pieces every 250 ms (about 16 s). The uploads start evenly over the first 5 s, so all
//! of them are in flight together. Meanwhile a sampler issues a `HEAD` every 25 ms, each on a
//! fresh connection and without waiting for the previous one (open loop), for one of 32 idle
//! uploads created before the load, and the server's `VmRSS` is sampled every 100 ms from
//! `/proc/<pid>/status`.
//!
//! The `HEAD`s go to idle uploads because a tus client asks for the offset only to resume,
//! when its earlier PATCH is gone; tusd answers a `HEAD` on an upload with a PATCH in flight by
//! asking that PATCH to give up its lock (it ends with 400 after a few seconds), which would
//! measure the sampler, not the load.
//!
//! berani-server is measured on its second start: the first one sets the data folder up
//! (keys, and Argon2id over 64 MiB for the admin password, a one-time peak). For both servers
//! `VmHWM` is reset (`/proc/<pid>/clear_refs` = 5) just before the load.
//!
//! Measured per server: peak memory (`VmHWM` at the end, the largest sampled `VmRSS`), `HEAD`
//! latency (p50, p99: connect to response headers), completed uploads per second over the run
//! and the time until all are complete, and correctness: every upload answered complete and
//! every stored file equal to what was sent (all of them are compared, not a sample).
//!
//! berani-server is started with the hidden `--max-patches` raised above the number of
//! uploads: its default (256 PATCHes in flight) would answer the rest with 429 and
//! `Retry-After`, which is the limit working, not the load this measures. The open-file limit
//! of this process (inherited by both servers) is raised to its hard limit with `setrlimit`.
//!
//! A third, informational run sends the same load to berani-server with `Upload-Checksum:
//! sha256` on every PATCH, as Berani's own uploader does (tusd does not implement the checksum
//! extension, so it has no counterpart).
//!
//! Quick smoke run (100 uploads; prints, does NOT write `BENCHMARKS.md`):
//!
//! ```text
//! BERANI_BENCH_QUICK=1 cargo bench -p berani-tests --bench server_load
//! ```

mod common;

use std::convert::Infallible;
use std::fs;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use berani_tests::peers::{self, TUSD_VERSION, free_port};
use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until};

use common::{Md, met, quantile};

const COMMAND: &str = "cargo bench -p berani-tests --bench server_load";
const SECTION: &str = "server-load";

/// Bytes per upload.
const BODY: usize = 64 * 1024;
/// Bytes per piece of a PATCH body, and the pause between pieces.
const PIECE: usize = 1024;
const PIECE_EVERY: Duration = Duration::from_millis(250);
/// A HEAD every this long.
const HEAD_EVERY: Duration = Duration::from_millis(25);
/// The longest one HEAD or one upload may take before it counts as failed.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(180);
/// A valid client token: 43 base64url characters with a canonical last one.
const TOKEN: &str = "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQA";

/// Targets, berani-server ÷ tusd (this benchmark's own; see the section).
const TARGET_MEM_RATIO: f64 = 1.0;
const TARGET_HEAD_P99_RATIO: f64 = 2.0;
const TARGET_THROUGHPUT_RATIO: f64 = 0.95;

struct Config {
    quick: bool,
    uploads: usize,
    ramp: Duration,
}

impl Config {
    fn from_env() -> Self {
        if common::quick() {
            Config {
                quick: true,
                uploads: 100,
                ramp: Duration::from_secs(1),
            }
        } else {
            Config {
                quick: false,
                uploads: 1000,
                ramp: Duration::from_secs(5),
            }
        }
    }

    fn max_patches(&self) -> usize {
        self.uploads + 100
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Contender {
    Berani,
    Tusd,
    BeraniChecksum,
}

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::Berani => "berani-server",
            Contender::Tusd => "tusd",
            Contender::BeraniChecksum => {
                "berani-server, PATCH with `Upload-Checksum: sha256` (informational)"
            }
        }
    }

    fn is_berani(self) -> bool {
        self != Contender::Tusd
    }

    fn create_path(self) -> &'static str {
        if self.is_berani() {
            "/v1/uploads"
        } else {
            peers::TUS_BASE_PATH
        }
    }
}

/// One upload's content and metadata.
struct Item {
    report: String,
    data: Bytes,
    metadata: String,
    checksum: String,
}

/// `n` uploads whose report ids count up from `base`.
fn items(n: usize, base: u128) -> Vec<Item> {
    (0..n)
        .map(|i| {
            let data = common::pseudo_random(BODY, base as u64 ^ (0x10AD_0000 + i as u64));
            let report = format!("{:032x}", base + i as u128);
            let sha = common::sha256_hex(&data);
            let metadata = [
                ("report", report.as_str()),
                ("part", "0"),
                ("parts", "1"),
                ("kind", "report"),
                ("sha256", sha.as_str()),
                ("token", TOKEN),
            ]
            .iter()
            .map(|(k, v)| format!("{k} {}", B64.encode(v)))
            .collect::<Vec<_>>()
            .join(",");
            let digest = ring::digest::digest(&ring::digest::SHA256, &data);
            Item {
                report,
                checksum: format!("sha256 {}", B64.encode(digest.as_ref())),
                metadata,
                data: Bytes::from(data),
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The server processes

/// A server under test; killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
    /// berani-server's data folder, or tusd's upload folder.
    dir: PathBuf,
    log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "exited ({status}); log:\n{}",
                fs::read_to_string(&self.log).unwrap_or_default()
            )),
            _ => None,
        }
    }
}

fn start(c: Contender, cfg: &Config, root: &Path) -> Running {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let log = root.join(format!("{c:?}.log"));
    let log_file = fs::File::create(&log).expect("server log");
    let (child, dir, ready_request) = if c.is_berani() {
        let dir = root.join(format!("{c:?}-data"));
        let spawn = |log_file: fs::File| {
            Command::new(berani_tests::harness::binary("berani-server"))
                .arg("serve")
                .arg("--data")
                .arg(&dir)
                .arg("--listen")
                .arg(addr.to_string())
                .arg("--max-patches")
                .arg(cfg.max_patches().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .expect("start berani-server")
        };
        // The first start sets the data folder up (keys, Argon2id over 64 MiB for the admin
        // password); the server under test is a second start on that folder, as in service.
        let mut first = Running {
            child: spawn(log_file.try_clone().unwrap()),
            addr,
            dir: dir.clone(),
            log: log.clone(),
        };
        wait_ready(&mut first, c, "GET /v1/profile");
        drop(first);
        (spawn(log_file), dir, "GET /v1/profile")
    } else {
        let dir = root.join("tusd-uploads");
        fs::create_dir_all(&dir).unwrap();
        let child = Command::new(peers::tusd_binary())
            .args(["-host", "127.0.0.1", "-port", &addr.port().to_string()])
            .args(["-base-path", peers::TUS_BASE_PATH])
            .arg("-upload-dir")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("start tusd");
        (child, dir, "OPTIONS /v1/uploads/")
    };
    let mut r = Running {
        child,
        addr,
        dir,
        log,
    };
    wait_ready(&mut r, c, ready_request);
    r
}

fn wait_ready(r: &mut Running, c: Contender, request: &str) {
    let t = std::time::Instant::now();
    while !answers(r.addr, request) {
        if let Some(why) = r.exited() {
            panic!("{} {why}", c.label());
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "{} did not answer",
            c.label()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Resets the peak resident set size (`VmHWM`) of `pid` to its current RSS.
fn reset_hwm(pid: u32) -> bool {
    fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// True when `request` (`METHOD /path`) at `addr` answers 2xx.
fn answers(addr: SocketAddr, request: &str) -> bool {
    let Ok(mut s) = StdTcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!(
        "{request} HTTP/1.1\r\nHost: {addr}\r\nTus-Resumable: 1.0.0\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 2")
}

/// A field of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`) or as a count (`Threads`).
fn proc_status(pid: u32, field: &str) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// User + system CPU time of a process so far.
fn cpu_time(pid: u32) -> Option<Duration> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (hz > 0).then(|| Duration::from_secs_f64(ticks as f64 / hz as f64))
}

/// Raises this process's soft open-file limit to its hard limit; returns the new soft limit.
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit write/read the struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            let _ = libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        }
    }
    lim.rlim_cur
}

// ---------------------------------------------------------------------------------------------
// The load

/// A request body that hands out `piece` bytes at a time, one piece per `every`.
struct Trickle {
    data: Bytes,
    pos: usize,
    piece: usize,
    every: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Trickle {
    fn new(data: Bytes, piece: usize, every: Duration) -> Self {
        Trickle {
            data,
            pos: 0,
            piece,
            every,
            timer: None,
        }
    }

    fn empty() -> Self {
        Self::new(Bytes::new(), 1, Duration::ZERO)
    }
}

impl Body for Trickle {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.pos >= this.data.len() {
            return Poll::Ready(None);
        }
        let next = match this.timer.as_mut() {
            Some(t) => {
                ready!(t.as_mut().poll(cx));
                t.deadline() + this.every
            }
            None => Instant::now() + this.every,
        };
        let end = (this.pos + this.piece).min(this.data.len());
        let frame = this.data.slice(this.pos..end);
        this.pos = end;
        match this.timer.as_mut() {
            Some(t) => t.as_mut().reset(next),
            None => this.timer = Some(Box::pin(sleep_until(next))),
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.pos) as u64)
    }
}

/// One HTTP/1.1 connection to `addr`.
async fn connect(addr: SocketAddr) -> Result<http1::SendRequest<Trickle>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let (send, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(send)
}

/// The path of an upload from a `Location` (relative for berani-server, absolute for tusd).
fn upload_path(location: &str) -> Option<String> {
    let at = location.find("/v1/uploads/")?;
    Some(location[at..].to_string())
}

/// Idle uploads (created, never PATCHed) the `HEAD` sampler asks about.
const PROBES: usize = 32;

/// What the load generator saw.
#[derive(Default)]
struct Shared {
    /// The probe uploads' paths.
    probes: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
    stop: AtomicBool,
}

struct Done {
    path: String,
    /// From the load's start to the PATCH's 204.
    completed_at: Duration,
    /// From this upload's POST to its PATCH's 204.
    took: Duration,
}

async fn upload(
    c: Contender,
    addr: SocketAddr,
    item: &Item,
    shared: &Shared,
    t0: Instant,
) -> Result<Done, String> {
    let began = Instant::now();
    let host = addr.to_string();
    let mut send = connect(addr).await?;
    let post = Request::post(c.create_path())
        .header("Host", &host)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", BODY.to_string())
        .header("Upload-Metadata", &item.metadata)
        .header("Content-Length", "0")
        .body(Trickle::empty())
        .map_err(|e| e.to_string())?;
    let resp = send
        .send_request(post)
        .await
        .map_err(|e| format!("POST: {e}"))?;
    let status = resp.status();
    let location = resp
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .and_then(upload_path);
    let _ = resp.into_body().collect().await;
    let path = match (status, location) {
        (StatusCode::CREATED, Some(p)) => p,
        (s, _) => return Err(format!("POST answered {s}")),
    };

    send.ready().await.map_err(|e| format!("connection: {e}"))?;
    let mut patch = Request::patch(&path)
        .header("Host", &host)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Content-Length", BODY.to_string());
    if c == Contender::BeraniChecksum {
        patch = patch.header("Upload-Checksum", &item.checksum);
    }
    let patch = patch
        .body(Trickle::new(item.data.clone(), PIECE, PIECE_EVERY))
        .map_err(|e| e.to_string())?;
    let n = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.peak_in_flight.fetch_max(n, Ordering::SeqCst);
    let resp = send.send_request(patch).await;
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let resp = resp.map_err(|e| format!("PATCH: {e}"))?;
    let status = resp.status();
    let offset = resp
        .headers()
        .get("Upload-Offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let _ = resp.into_body().collect().await;
    if status != StatusCode::NO_CONTENT || offset != Some(BODY) {
        return Err(format!("PATCH answered {status}, offset {offset:?}"));
    }
    Ok(Done {
        path,
        completed_at: t0.elapsed(),
        took: began.elapsed(),
    })
}

/// One HEAD on a fresh connection: connect → response headers.
async fn head(addr: SocketAddr, path: String) -> Result<Duration, String> {
    let t = Instant::now();
    let mut send = connect(addr).await?;
    let req = Request::head(&path)
        .header("Host", addr.to_string())
        .header("Tus-Resumable", "1.0.0")
        .body(Trickle::empty())
        .map_err(|e| e.to_string())?;
    let resp = send
        .send_request(req)
        .await
        .map_err(|e| format!("HEAD: {e}"))?;
    let took = t.elapsed();
    if resp.status() != StatusCode::OK || !resp.headers().contains_key("Upload-Offset") {
        return Err(format!("HEAD answered {}", resp.status()));
    }
    Ok(took)
}

/// Creates an upload without sending any of it; returns its path.
async fn create_probe(c: Contender, addr: SocketAddr, item: &Item) -> Result<String, String> {
    let mut send = connect(addr).await?;
    let post = Request::post(c.create_path())
        .header("Host", addr.to_string())
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", BODY.to_string())
        .header("Upload-Metadata", &item.metadata)
        .header("Content-Length", "0")
        .body(Trickle::empty())
        .map_err(|e| e.to_string())?;
    let resp = send
        .send_request(post)
        .await
        .map_err(|e| format!("POST: {e}"))?;
    let location = resp
        .headers()
        .get("Location")
        .and_then(|v| v.to_str().ok())
        .and_then(upload_path);
    match (resp.status(), location) {
        (StatusCode::CREATED, Some(p)) => Ok(p),
        (s, _) => Err(format!("probe POST answered {s}")),
    }
}

/// Issues a HEAD every [`HEAD_EVERY`] until told to stop, without waiting for earlier ones.
async fn sampler(addr: SocketAddr, shared: Arc<Shared>) -> Vec<Result<Duration, String>> {
    let mut tick = tokio::time::interval(HEAD_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut jobs = Vec::new();
    while !shared.stop.load(Ordering::SeqCst) {
        tick.tick().await;
        let path = {
            let probes = shared.probes.lock().unwrap();
            if probes.is_empty() {
                continue;
            }
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            probes[(rng % probes.len() as u64) as usize].clone()
        };
        jobs.push(tokio::spawn(async move {
            match tokio::time::timeout(HEAD_TIMEOUT, head(addr, path)).await {
                Ok(r) => r,
                Err(_) => Err("HEAD timed out".into()),
            }
        }));
    }
    let mut out = Vec::with_capacity(jobs.len());
    for j in jobs {
        out.push(j.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    out
}

/// Samples `VmRSS` and `Threads` of `pid` every 100 ms until `stop`.
fn memory_sampler(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<(u64, u64)> {
    std::thread::spawn(move || {
        let (mut rss, mut threads) = (0, 0);
        while !stop.load(Ordering::SeqCst) {
            rss = rss.max(proc_status(pid, "VmRSS").unwrap_or(0));
            threads = threads.max(proc_status(pid, "Threads").unwrap_or(0));
            std::thread::sleep(Duration::from_millis(100));
        }
        (rss, threads)
    })
}

/// The results of one server.
struct Result1 {
    contender: Contender,
    n: usize,
    completed: usize,
    verified: usize,
    errors: Vec<String>,
    peak_in_flight: usize,
    /// Load start → last completion.
    total: Duration,
    /// Per upload, POST → PATCH done, sorted (seconds).
    took: Vec<f64>,
    /// HEAD latencies in ms, sorted; and failed HEADs.
    heads: Vec<f64>,
    head_errors: usize,
    vm_hwm_kb: u64,
    rss_max_kb: u64,
    threads_max: u64,
    baseline_rss_kb: u64,
    cpu: Duration,
}

impl Result1 {
    fn throughput(&self) -> f64 {
        self.completed as f64 / self.total.as_secs_f64()
    }

    fn head_p(&self, q: f64) -> f64 {
        quantile(&self.heads, q)
    }
}

fn run_one(
    c: Contender,
    cfg: &Config,
    items: &Arc<Vec<Item>>,
    probes: &[Item],
    rt: &tokio::runtime::Runtime,
) -> Result1 {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(c, cfg, dir.path());
    let pid = server.pid();
    let addr = server.addr;
    let shared = Arc::new(Shared::default());
    let made: Vec<String> = rt.block_on(async {
        let mut v = Vec::new();
        for p in probes {
            v.push(create_probe(c, addr, p).await.expect("a probe upload"));
        }
        v
    });
    *shared.probes.lock().unwrap() = made;
    std::thread::sleep(Duration::from_millis(500));
    let baseline_rss_kb = proc_status(pid, "VmRSS").unwrap_or(0);
    assert!(
        reset_hwm(pid),
        "cannot reset VmHWM of {pid} (/proc/{pid}/clear_refs)"
    );
    let cpu0 = cpu_time(pid).unwrap_or_default();
    eprintln!(
        "{}: pid {pid} on {addr}, baseline VmRSS {baseline_rss_kb} kB; {} uploads…",
        c.label(),
        items.len()
    );
    let stop_mem = Arc::new(AtomicBool::new(false));
    let mem = memory_sampler(pid, stop_mem.clone());

    let (results, heads) = rt.block_on(async {
        let t0 = Instant::now();
        let sampler = tokio::spawn(sampler(addr, shared.clone()));
        let n = items.len();
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let shared = shared.clone();
            let items = items.clone();
            let at = t0 + cfg.ramp.mul_f64(i as f64 / n as f64);
            tasks.push(tokio::spawn(async move {
                sleep_until(at).await;
                let item = &items[i];
                match tokio::time::timeout(UPLOAD_TIMEOUT, upload(c, addr, item, &shared, t0)).await
                {
                    Ok(r) => r,
                    Err(_) => Err("upload timed out".into()),
                }
            }));
        }
        let mut results = Vec::with_capacity(n);
        for t in tasks {
            results.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
        shared.stop.store(true, Ordering::SeqCst);
        let heads = sampler.await.unwrap_or_default();
        (results, heads)
    });

    stop_mem.store(true, Ordering::SeqCst);
    let (rss_max_kb, threads_max) = mem.join().unwrap();
    let vm_hwm_kb = proc_status(pid, "VmHWM").unwrap_or(0);
    let cpu = cpu_time(pid).unwrap_or_default().saturating_sub(cpu0);
    if let Some(why) = server.exited() {
        eprintln!("{} {why}", c.label());
    }

    let mut errors = Vec::new();
    let mut done: Vec<Option<Done>> = Vec::new();
    for r in results {
        match r {
            Ok(d) => done.push(Some(d)),
            Err(e) => {
                errors.push(e);
                done.push(None);
            }
        }
    }
    let completed = done.iter().flatten().count();
    let total = done
        .iter()
        .flatten()
        .map(|d| d.completed_at)
        .max()
        .unwrap_or_default();
    let mut took: Vec<f64> = done
        .iter()
        .flatten()
        .map(|d| d.took.as_secs_f64())
        .collect();
    took.sort_by(f64::total_cmp);
    let verified = verify(c, &server, items, &done);
    let mut head_errors = 0;
    let mut heads: Vec<f64> = heads
        .into_iter()
        .filter_map(|h| match h {
            Ok(d) => Some(d.as_secs_f64() * 1000.0),
            Err(_) => {
                head_errors += 1;
                None
            }
        })
        .collect();
    heads.sort_by(f64::total_cmp);
    drop(server);
    let r = Result1 {
        contender: c,
        n: items.len(),
        completed,
        verified,
        peak_in_flight: shared.peak_in_flight.load(Ordering::SeqCst),
        total,
        took,
        heads,
        head_errors,
        vm_hwm_kb,
        rss_max_kb,
        threads_max,
        baseline_rss_kb,
        cpu,
        errors,
    };
    eprintln!(
        "{}: completed {}/{} (verified {}), peak in flight {}, all done after {:.1} s ({:.1}/s), \
         HEAD p50 {:.1} ms p99 {:.1} ms max {:.1} ms ({} ok, {} failed), VmHWM {} kB, \
         VmRSS max {} kB, threads max {}, CPU {:.1} s",
        c.label(),
        r.completed,
        r.n,
        r.verified,
        r.peak_in_flight,
        r.total.as_secs_f64(),
        r.throughput(),
        r.head_p(0.5),
        r.head_p(0.99),
        r.heads.last().copied().unwrap_or(f64::NAN),
        r.heads.len(),
        r.head_errors,
        r.vm_hwm_kb,
        r.rss_max_kb,
        r.threads_max,
        r.cpu.as_secs_f64()
    );
    if !r.errors.is_empty() {
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for e in &r.errors {
            *kinds.entry(e.as_str()).or_default() += 1;
        }
        eprintln!("  errors: {kinds:?}");
    }
    r
}

/// Counts uploads the server holds completely, byte for byte (every one is checked).
fn verify(c: Contender, server: &Running, items: &[Item], done: &[Option<Done>]) -> usize {
    if c.is_berani() {
        let Ok(db) = rusqlite::Connection::open_with_flags(
            server.dir.join("berani.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        ) else {
            return 0;
        };
        let Ok(mut st) = db.prepare(
            "SELECT id, upload_offset, completed_at IS NOT NULL FROM uploads WHERE report = ?1",
        ) else {
            return 0;
        };
        items
            .iter()
            .filter(|item| {
                let row: Option<(String, u64, bool)> = st
                    .query_row([&item.report], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .ok();
                row.is_some_and(|(id, offset, complete)| {
                    complete
                        && offset == BODY as u64
                        && fs::read(server.dir.join("uploads").join(id))
                            .is_ok_and(|b| b == item.data.as_ref())
                })
            })
            .count()
    } else {
        items
            .iter()
            .zip(done)
            .filter(|(item, d)| {
                d.as_ref().is_some_and(|d| {
                    let id = d.path.rsplit('/').next().unwrap_or_default();
                    let info = fs::read_to_string(server.dir.join(format!("{id}.info")))
                        .ok()
                        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok());
                    info.is_some_and(|i| i["Size"] == BODY)
                        && fs::read(server.dir.join(id)).is_ok_and(|b| b == item.data.as_ref())
                })
            })
            .count()
    }
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let cfg = Config::from_env();
    let nofile = raise_nofile();
    eprintln!(
        "server_load bench{}: {} uploads of {BODY} bytes, {PIECE}-byte pieces every {} ms, \
         started over {} s; open-file limit {nofile}",
        if cfg.quick { " (quick mode)" } else { "" },
        cfg.uploads,
        PIECE_EVERY.as_millis(),
        cfg.ramp.as_secs_f64()
    );
    eprintln!(
        "berani-server: {}; tusd: {}",
        berani_tests::harness::binary("berani-server").display(),
        peers::tusd_binary().display()
    );
    let probes = items(PROBES, 0xbe4b_0000_0000_0000_0000_0000_0000_0000);
    let items = Arc::new(items(
        cfg.uploads,
        0xbe4a_0000_0000_0000_0000_0000_0000_0000,
    ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mut results = Vec::new();
    for c in [
        Contender::Berani,
        Contender::Tusd,
        Contender::BeraniChecksum,
    ] {
        // Dirty pages of the previous server (tusd does not fsync) are written out first, so
        // they do not land on the next one's fsyncs.
        // SAFETY: sync(2) has no preconditions.
        unsafe { libc::sync() };
        std::thread::sleep(Duration::from_secs(2));
        results.push(run_one(c, &cfg, &items, &probes, &rt));
    }
    let section = render(&cfg, nofile, &results);
    common::publish(SECTION, &section, cfg.quick);
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 * 1024.0 / 1e6)
}

fn render(cfg: &Config, nofile: u64, results: &[Result1]) -> String {
    let get = |c: Contender| results.iter().find(|r| r.contender == c).expect("ran");
    let (b, t) = (get(Contender::Berani), get(Contender::Tusd));
    let mut md = Md::default();
    md.line(format!(
        "## Server load: {} concurrent slow uploads, `berani-server` vs tusd",
        cfg.uploads
    ));
    md.line("");
    md.line(format!("- Command: `{COMMAND}`"));
    md.line(format!("- Date: {}", common::now_utc()));
    md.line(format!("- Machine: {}", common::machine()));
    md.line(format!(
        "- Compiler: {}, `bench` profile (load generator), `release` profile (`berani-server`); \
         tusd {TUSD_VERSION} (`scripts/install-test-peers`)",
        common::rustc_version()
    ));
    if cfg.quick {
        md.line("- **Quick mode (`BERANI_BENCH_QUICK=1`): smoke check, not a result**");
    }
    md.line(format!(
        "- Load: {} uploads of {} bytes, each on its own TCP connection to 127.0.0.1 (HTTP/1.1, \
         hyper's client on tokio in the bench process, sharing the machine's cores with the \
         server): `POST` with `Upload-Length` and Berani's six metadata keys (a report id of its \
         own, part 0 of 1, kind `report`, the content's SHA-256, a valid token), then one `PATCH` \
         whose body is streamed in {PIECE}-byte pieces every {} ms (about {:.0} s). Uploads start \
         evenly over the first {:.0} s, so all are in flight together (peak in flight below).",
        cfg.uploads,
        BODY,
        PIECE_EVERY.as_millis(),
        (BODY / PIECE) as f64 * PIECE_EVERY.as_secs_f64(),
        cfg.ramp.as_secs_f64()
    ));
    md.line(format!(
        "- `HEAD` sampler: one `HEAD` every {} ms, each on a fresh connection, open loop (not \
         waiting for the previous one), for one of {PROBES} idle uploads created before the load \
         (a client asks for the offset only to resume; tusd answers a `HEAD` on an upload whose \
         PATCH is in flight by making that PATCH give up its lock, so in-flight uploads are not \
         probed); latency = connect → response headers.",
        HEAD_EVERY.as_millis()
    ));
    md.line(format!(
        "- berani-server (release): `serve --data DIR --listen 127.0.0.1:N --max-patches {}` — \
         the hidden `--max-patches` (default 256 PATCHes in flight; beyond it the server \
         answers 429 with `Retry-After`) is raised above the number of uploads for this bench; \
         otherwise defaults, fresh data folder. tusd: `-host 127.0.0.1 -port N -base-path \
         /v1/uploads/ -upload-dir DIR`, otherwise defaults. berani-server is measured on its \
         second start (the first sets the data folder up, with a one-time Argon2id over 64 MiB). \
         Open-file limit of the bench and the servers it starts: {nofile} (`setrlimit`).",
        cfg.max_patches()
    ));
    md.line(
        "- Memory: `VmHWM` of the server process from `/proc/<pid>/status`, reset \
         (`/proc/<pid>/clear_refs` = 5) just before the load and read at its end; `VmRSS` \
         (idle = just before the load) and `Threads` sampled every 100 ms. CPU = the server's user + system time during the \
         load. Correctness: every upload answered 204 with `Upload-Offset` = length, and every \
         stored file compared byte for byte with what was sent (all of them). 1 MB = 10^6 bytes.",
    );
    md.line("");
    md.line(
        "| Server | Completed / stored bytes equal | Peak PATCHes in flight | All complete after \
         | Completed uploads/s | Upload time p50 / p99 | HEAD p50 | HEAD p99 | HEAD max (n ok / \
         failed) | VmHWM | VmRSS max sampled (idle) | Threads max | Server CPU |",
    );
    md.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in results {
        md.line(format!(
            "| {} | {}/{} / {}/{} | {} | {:.1} s | {:.1} | {:.1} s / {:.1} s | {:.1} ms | {:.1} ms \
             | {:.1} ms ({} / {}) | {} | {} ({}) | {} | {:.1} s |",
            r.contender.label(),
            r.completed,
            r.n,
            r.verified,
            r.n,
            r.peak_in_flight,
            r.total.as_secs_f64(),
            r.throughput(),
            quantile(&r.took, 0.5),
            quantile(&r.took, 0.99),
            r.head_p(0.5),
            r.head_p(0.99),
            r.heads.last().copied().unwrap_or(f64::NAN),
            r.heads.len(),
            r.head_errors,
            mb(r.vm_hwm_kb),
            mb(r.rss_max_kb),
            mb(r.baseline_rss_kb),
            r.threads_max,
            r.cpu.as_secs_f64()
        ));
    }
    md.line("");
    md.line(
        "Targets are this benchmark's own (berani-server ÷ tusd in the same run): no more peak \
         memory than tusd, `HEAD` p99 within 2× tusd's, completed-upload throughput at least \
         0.95× tusd's, and every upload complete with its bytes intact.",
    );
    md.line("");
    md.line("| berani-server ÷ tusd | Ratio | Target | Met |");
    md.line("|---|---:|---:|:---:|");
    let mem = b.vm_hwm_kb as f64 / t.vm_hwm_kb as f64;
    md.line(format!(
        "| peak memory (VmHWM) | {mem:.2}× | ≤ {TARGET_MEM_RATIO:.2}× | {} |",
        met(mem <= TARGET_MEM_RATIO)
    ));
    let p99 = b.head_p(0.99) / t.head_p(0.99);
    md.line(format!(
        "| HEAD p99 latency | {p99:.2}× | ≤ {TARGET_HEAD_P99_RATIO:.2}× | {} |",
        met(p99 <= TARGET_HEAD_P99_RATIO && b.head_errors == 0)
    ));
    md.line(format!(
        "| HEAD p50 latency (informational) | {:.2}× | — | n/a |",
        b.head_p(0.5) / t.head_p(0.5)
    ));
    let tp = b.throughput() / t.throughput();
    md.line(format!(
        "| completed uploads/s | {tp:.2}× | ≥ {TARGET_THROUGHPUT_RATIO:.2}× | {} |",
        met(tp >= TARGET_THROUGHPUT_RATIO)
    ));
    md.line(format!(
        "| time until all complete (informational) | {:.2}× | — | n/a |",
        b.total.as_secs_f64() / t.total.as_secs_f64()
    ));
    md.line(format!(
        "| server CPU time (informational) | {:.2}× | — | n/a |",
        b.cpu.as_secs_f64() / t.cpu.as_secs_f64()
    ));
    md.line(format!(
        "| every upload complete, stored bytes equal | {}/{} (tusd {}/{}) | all | {} |",
        b.verified.min(b.completed),
        b.n,
        t.verified.min(t.completed),
        t.n,
        met(b.completed == b.n && b.verified == b.n)
    ));
    md.0
}
