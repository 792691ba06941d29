//! Network chaos: the phone's uploader (berani-core, in this process) against a real
//! `berani-server` through a broken link or a misbehaving front, one scenario per row.
//!
//! Every scenario ends in delivery — checked on the server: one report row, one upload per
//! part, each stored part byte-identical to what the phone sealed — or in a clear stop with
//! the report still queued on the phone and nothing half-stored as delivered. Every scenario
//! counts the uploader's HTTP requests and holds them to a bound derived from the backoff
//! policy (`core/src/upload/pacing.rs`), so a retry loop that spins fails the test.
//!
//! The TLS rows run the phone's real verifier: web PKI first (a certificate no trusted
//! authority signed is refused), then the profile's SPKI pin. For the pin row the phone is
//! given a throwaway CA as its only root (`SyncOptions::tls_roots`, a test-only feature), so
//! that the certificate passes web PKI and the pin is what refuses it, as it would refuse a
//! front holding a real authority's certificate for another key.
//!
//! Failures that last (a stall, a link down for hours, a TLS or DNS failure) run on tokio's
//! paused clock: waits and request timeouts pass in virtual time, and the hourly cap on failed
//! attempts reads the same virtual time through [`Clock`]. Delivery afterwards runs in real
//! time, as real traffic must.
//!
//! ```sh
//! cargo test -p berani-tests --test chaos -- --nocapture
//! ```

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berani_core::Reporter;
use berani_core::store::KeyFile;
use berani_core::upload::pacing::{Clock, REQUEST_TIMEOUT_FLOOR};
use berani_core::upload::{self, NoListener, StopReason, SyncOptions, SyncReport};
use berani_tests::fault_http::{FaultHttp, Rule};
use berani_tests::harness::{ReporterCli, Server, binary, wait_for_port};
use berani_tests::peers::{free_port, pseudo_random};
use berani_tests::proxy::{FaultProxy, Faults, Reset, Stall};

/// The hourly cap on failed attempts (`FailureWindow::default()`): 60 an hour.
const FAILURES_PER_HOUR: u32 = 60;
/// The budget of one sync, as an Android job gets.
const BUDGET: Duration = upload::DEFAULT_BUDGET;
/// The budget of a failing sync that runs in real time.
const SHORT: Duration = Duration::from_secs(15);

/// Unix time that follows tokio's (possibly paused) clock, from the real time at creation.
#[derive(Debug)]
struct TokioClock {
    unix0: u64,
    t0: tokio::time::Instant,
}

impl TokioClock {
    fn new() -> Arc<Self> {
        Arc::new(TokioClock {
            unix0: berani_core::upload::pacing::unix_now(),
            t0: tokio::time::Instant::now(),
        })
    }
}

impl Clock for TokioClock {
    fn unix_now(&self) -> u64 {
        self.unix0 + self.t0.elapsed().as_secs()
    }
}

/// A file of `len` pseudo-random bytes that type detection reads as MP4 video.
fn video(path: &Path, len: usize) -> PathBuf {
    let mut data = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
    ];
    data.extend_from_slice(&[0, 0, 0, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    let body = len.saturating_sub(data.len() + 8);
    data.extend_from_slice(&u32::try_from(body + 8).unwrap().to_be_bytes());
    data.extend_from_slice(b"mdat");
    data.extend(pseudo_random(body, len as u64));
    fs::write(path, &data).unwrap();
    path.to_path_buf()
}

/// What sits between the phone and the server.
enum Front {
    Direct,
    Proxy(FaultProxy),
    Http(FaultHttp),
    Tls(TlsFront),
}

/// A throwaway certificate authority, and certificates for `localhost` it signs.
struct TestCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    der: Vec<u8>,
}

/// A certificate for `localhost` and its key, as a TLS server needs them.
struct Leaf {
    config: Arc<rustls::ServerConfig>,
    /// The SHA-256 of its SubjectPublicKeyInfo, base64: what a profile pins.
    pin: String,
}

impl TestCa {
    fn new() -> TestCa {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        TestCa {
            issuer: rcgen::Issuer::new(params, key),
            der,
        }
    }

    /// A new key and a certificate for it.
    fn leaf(&self) -> Leaf {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        let pin = berani_core::upload::tls::pin_of_certificate(cert.der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        Leaf {
            config: Arc::new(config),
            pin,
        }
    }
}

/// A TLS-terminating front on 127.0.0.1, as a reverse proxy (or someone in the middle who
/// holds a certificate) is: TLS from the phone ends here and plain HTTP goes on to the
/// server. The certificate it shows can be swapped between connections.
struct TlsFront {
    addr: SocketAddr,
    showing: Arc<std::sync::Mutex<Arc<rustls::ServerConfig>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TlsFront {
    fn start(upstream: SocketAddr, leaf: &Leaf) -> TlsFront {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let showing = Arc::new(std::sync::Mutex::new(leaf.config.clone()));
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let current = showing.clone();
        std::thread::spawn(move || {
            runtime().block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let tcp = tokio::select! {
                        a = listener.accept() => match a {
                            Ok((tcp, _)) => tcp,
                            Err(_) => continue,
                        },
                        _ = &mut stopped => return,
                    };
                    let config = current.lock().unwrap().clone();
                    tokio::spawn(async move {
                        let acceptor = tokio_rustls::TlsAcceptor::from(config);
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Ok(mut up) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut up).await;
                    });
                }
            });
        });
        TlsFront {
            addr,
            showing,
            _stop: stop,
        }
    }

    /// New connections get `leaf`'s certificate.
    fn show(&self, leaf: &Leaf) {
        *self.showing.lock().unwrap() = leaf.config.clone();
    }
}

/// A server, a front, and a phone with one queued report carrying a video.
struct Scene {
    dir: tempfile::TempDir,
    server: Server,
    front: Front,
    phone: ReporterCli,
    report: String,
    /// The phone's trust anchors for this scene, instead of the Mozilla roots.
    roots: Option<Vec<Vec<u8>>>,
}

impl Scene {
    /// `front` makes the front for the server's address; `public` overrides the URL the
    /// profile gives the phone (else the front's; `{port}` stands for the server's port).
    fn new(
        video_len: usize,
        front: impl FnOnce(SocketAddr) -> Front,
        public: Option<String>,
    ) -> Scene {
        Self::with_server_args(video_len, front, public, &[])
    }

    /// [`Scene::new`] with more `serve` flags.
    fn with_server_args(
        video_len: usize,
        front: impl FnOnce(SocketAddr) -> Front,
        public: Option<String>,
        extra: &[&str],
    ) -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let upstream = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let front = front(upstream);
        let front_url = match &front {
            Front::Direct => format!("http://{upstream}"),
            Front::Proxy(p) => format!("http://{}", p.addr()),
            Front::Http(h) => format!("http://{}", h.addr()),
            Front::Tls(t) => format!("https://localhost:{}", t.addr.port()),
        };
        let public = public
            .map(|p| p.replace("{port}", &upstream.port().to_string()))
            .unwrap_or_else(|| front_url.clone());
        let server = Server::start_on(
            &dir.path().join("server"),
            upstream,
            &[&["--public-url", &public][..], extra].concat(),
        );
        let phone = ReporterCli::new(&dir.path().join("phone"));
        // The profile is fetched from the server directly: the front's faults are for the
        // upload.
        phone.ok(&[
            "profile",
            "import",
            &format!("{}/v1/profile", server.url()),
            "--trust",
            &server.profile_key(),
        ]);
        let v = video(&dir.path().join("clip.mp4"), video_len);
        let report = phone
            .ok(&[
                "draft",
                "new",
                "--category",
                "physical",
                "--district",
                "33.16.09",
                "--text",
                "CONTOH SINTETIS uji jaringan",
                "--attach",
                v.to_str().unwrap(),
            ])
            .trim()
            .to_string();
        phone.ok(&["submit", &report]);
        Scene {
            dir,
            server,
            front,
            phone,
            report,
            roots: None,
        }
    }

    fn proxy(&self) -> &FaultProxy {
        match &self.front {
            Front::Proxy(p) => p,
            _ => panic!("no fault proxy in this scene"),
        }
    }

    fn http(&self) -> &FaultHttp {
        match &self.front {
            Front::Http(h) => h,
            _ => panic!("no fault front in this scene"),
        }
    }

    /// One sync in this process, on `rt`, with `clock` for the failure window.
    fn sync(
        &self,
        rt: &tokio::runtime::Runtime,
        budget: Duration,
        clock: Option<Arc<dyn Clock>>,
    ) -> SyncReport {
        let home = &self.phone.home;
        let r = Reporter::open(home, &KeyFile::new(home.join("device.key"))).unwrap();
        let mut opts = SyncOptions::new(budget);
        if let Some(c) = clock {
            opts.clock = c;
        }
        opts.tls_roots = self.roots.clone();
        rt.block_on(upload::sync(&r, &NoListener, opts)).unwrap()
    }

    /// Real-time syncs until the report is delivered (at most five); their request count.
    fn sync_until_delivered(&self, rt: &tokio::runtime::Runtime) -> u32 {
        let mut attempts = 0;
        for _ in 0..5 {
            let rep = self.sync(rt, Duration::from_secs(120), None);
            attempts += rep.attempts;
            if self.state() == "delivered" {
                return attempts;
            }
        }
        panic!("not delivered after five syncs: {}", self.state());
    }

    fn state(&self) -> String {
        self.phone.state(&self.report).unwrap_or_default()
    }

    /// Reports the server holds (any id).
    fn reports_on_server(&self) -> i64 {
        self.server
            .db()
            .query_row(
                "SELECT count(*) FROM reports WHERE received_at IS NOT NULL",
                [],
                |x| x.get(0),
            )
            .unwrap()
    }

    /// Delivered once: one report row, one complete upload per part, one stored file each,
    /// each byte-identical to what the phone sealed.
    fn assert_delivered_once(&self) {
        assert_eq!(self.state(), "delivered");
        let db = self.server.db();
        let rows: i64 = db
            .query_row("SELECT count(*) FROM reports", [], |x| x.get(0))
            .unwrap();
        assert_eq!(rows, 1, "report rows");
        let mut st = db
            .prepare("SELECT part, id, completed_at IS NOT NULL FROM uploads WHERE report = ?1")
            .unwrap();
        let ups: Vec<(u32, String, bool)> = st
            .query_map([&self.report], |x| Ok((x.get(0)?, x.get(1)?, x.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(ups.len(), 2, "uploads: {ups:?}");
        let total: i64 = db
            .query_row("SELECT count(*) FROM uploads", [], |x| x.get(0))
            .unwrap();
        assert_eq!(total, 2, "uploads on the server");
        for (part, id, done) in ups {
            assert!(done, "part {part} incomplete");
            let stored = fs::read(self.server.data.join("uploads").join(id)).unwrap();
            let sealed = fs::read(
                self.phone
                    .home
                    .join(format!("outbox/{}/{part}.age", self.report)),
            )
            .unwrap();
            assert!(stored == sealed, "part {part} differs from what was sealed");
        }
        let files = fs::read_dir(self.server.data.join("uploads"))
            .unwrap()
            .count();
        assert_eq!(files, 2, "files in uploads/");
    }

    /// Still queued on the phone, nothing received on the server.
    fn assert_kept_queued(&self) {
        let s = self.state();
        assert!(s == "queued" || s == "sending", "state {s}");
        assert_eq!(self.reports_on_server(), 0);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Pauses tokio's clock on `rt` (it auto-advances whenever the runtime would wait).
fn pause(rt: &tokio::runtime::Runtime) {
    rt.block_on(async { tokio::time::pause() });
}

fn resume(rt: &tokio::runtime::Runtime) {
    rt.block_on(async { tokio::time::resume() });
}

/// A row of the summary.
struct Row {
    scenario: &'static str,
    outcome: String,
    attempts: u32,
    bound: u32,
}

/// Requests of a failing sync of `budget` on the paused clock: each failed attempt is
/// followed by a backoff wait of at least a quarter of a second and at most the 60-an-hour
/// cap; in practice the waits double (1 s, 2 s, … 5 min), so a ten-minute budget holds about
/// ten. The bound is the cap: 60 per started hour.
fn failing_bound(span: Duration) -> u32 {
    FAILURES_PER_HOUR * (span.as_secs().div_ceil(3600) as u32).max(1)
}

/// Requests of a clean delivery of the same report, with slack for chunk sizes that follow
/// the measured throughput.
fn clean_attempts() -> u32 {
    let s = Scene::new(600_000, |_| Front::Direct, None);
    let rt = runtime();
    let n = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    n + 2
}

fn clean(base: u32) -> Row {
    Row {
        scenario: "clean link (baseline)",
        outcome: "delivered once".into(),
        attempts: base - 2,
        bound: base,
    }
}

fn resets_at_random_bytes(base: u32) -> Row {
    let s = Scene::new(
        600_000,
        |up| {
            Front::Proxy(FaultProxy::start(
                up,
                Faults {
                    reset: Some(Reset::AfterMeanBytes(48 * 1024)),
                    seed: 0x5eed_0001,
                    ..Faults::default()
                },
            ))
        },
        None,
    );
    let rt = runtime();
    let attempts = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    let resets = s.proxy().stats().resets as u32;
    assert!(resets >= 3, "only {resets} resets");
    // Each reset costs the request it cut and a HEAD to learn the offset.
    let bound = base + 2 * resets;
    Row {
        scenario: "resets at random byte counts (mean 48 KiB)",
        outcome: format!("delivered once through {resets} resets"),
        attempts,
        bound,
    }
}

fn stall_longer_than_timeouts(_: u32) -> Row {
    let s = Scene::new(
        200_000,
        |up| {
            Front::Proxy(FaultProxy::start(
                up,
                Faults {
                    stall: Some(Stall::UntilChanged),
                    ..Faults::default()
                },
            ))
        },
        None,
    );
    let rt = runtime();
    pause(&rt);
    let rep = s.sync(&rt, BUDGET, None);
    assert!(
        matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
        "{rep:?}"
    );
    s.assert_kept_queued();
    // Every request waits out at least the timeout floor: at most budget / floor of them.
    let bound = (BUDGET.as_secs() / REQUEST_TIMEOUT_FLOOR.as_secs()) as u32 + 1;
    assert!(rep.attempts <= bound, "{} > {bound}", rep.attempts);
    let stalled = rep.attempts;
    s.proxy().set_faults(Faults::none());
    resume(&rt);
    let more = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    Row {
        scenario: "stall longer than the timeouts (10 min, paused clock)",
        outcome: format!(
            "{}: {stalled} requests timed out; delivered once when the link moved",
            rep.stopped.key()
        ),
        attempts: stalled + more,
        bound: bound + more,
    }
}

fn down_for_hours(_: u32) -> Row {
    const HOURS: u64 = 6;
    // An Android periodic job runs at most every 15 minutes.
    const JOB_EVERY: Duration = Duration::from_secs(15 * 60);
    let s = Scene::new(
        200_000,
        |up| {
            Front::Proxy(FaultProxy::start(
                up,
                Faults {
                    down: true,
                    ..Faults::default()
                },
            ))
        },
        None,
    );
    let rt = runtime();
    pause(&rt);
    let clock = rt.block_on(async { TokioClock::new() });
    let span = Duration::from_secs(HOURS * 3600);
    let mut attempts = 0;
    let mut syncs = 0;
    while rt.block_on(async { clock.t0.elapsed() }) < span {
        let rep = s.sync(&rt, BUDGET, Some(clock.clone()));
        syncs += 1;
        attempts += rep.attempts;
        assert!(
            matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
            "{rep:?}"
        );
        let wait = rep.retry_after.unwrap_or_default().max(JOB_EVERY);
        rt.block_on(tokio::time::advance(wait));
    }
    s.assert_kept_queued();
    let bound = failing_bound(span + JOB_EVERY + BUDGET);
    assert!(attempts <= bound, "{attempts} > {bound}");
    // A ten-minute sync, then at least a quarter of an hour's wait: at least two an hour.
    assert!(syncs >= 2 * HOURS as u32, "only {syncs} syncs in {HOURS} h");
    s.proxy().set_faults(Faults::none());
    resume(&rt);
    let more = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    Row {
        scenario: "link down for 6 hours (paused clock)",
        outcome: format!("offline in {syncs} syncs, kept queued; delivered once when back"),
        attempts: attempts + more,
        bound: bound + more,
    }
}

fn truncated_responses(base: u32) -> Row {
    let s = Scene::new(
        200_000,
        |up| {
            Front::Proxy(FaultProxy::start(
                up,
                Faults {
                    // Inside the status line's headers: no answer is ever whole.
                    truncate_response_after: Some(40),
                    ..Faults::default()
                },
            ))
        },
        None,
    );
    // Real time: a cut answer must reach the phone as one, not as a paused-clock timeout.
    let rt = runtime();
    let rep = s.sync(&rt, SHORT, None);
    assert!(
        matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
        "{rep:?}"
    );
    let bound = failing_bound(SHORT);
    assert!(rep.attempts <= bound, "{} > {bound}", rep.attempts);
    let truncated = s.proxy().stats().truncated;
    assert!(truncated >= 1);
    // The server may have created the upload and kept bytes whose answer was cut; the phone
    // must resume or find it, not make a second one.
    s.proxy().set_faults(Faults::none());
    let more = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    Row {
        scenario: "truncated responses (40 bytes, for 15 s)",
        outcome: format!(
            "{}: {truncated} answers cut; delivered once when whole",
            rep.stopped.key()
        ),
        attempts: rep.attempts + more,
        bound: bound + base,
    }
}

/// A self-signed certificate for `localhost`, as PEM files in `dir`.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let c = dir.join("cert.pem");
    let k = dir.join("key.pem");
    fs::write(&c, cert.cert.pem()).unwrap();
    fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    (c, k)
}

/// The server restarted with TLS on the same folder and port.
fn serve_tls(s: &Scene, public: &str) -> Child {
    let (cert, key) = self_signed(s.dir.path());
    s.server.kill9();
    let child = Command::new(binary("berani-server"))
        .arg("serve")
        .arg("--data")
        .arg(&s.server.data)
        .arg("--listen")
        .arg(s.server.addr.to_string())
        .arg("--public-url")
        .arg(public)
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(s.server.addr, Duration::from_secs(60));
    child
}

fn tls_untrusted(_: u32) -> Row {
    // The profile sends the phone to https://localhost:<port>: the server, restarted with a
    // certificate no public authority signed.
    let s = Scene::new(
        200_000,
        |_| Front::Direct,
        Some("https://localhost:{port}".into()),
    );
    let public = format!("https://localhost:{}", s.server.addr.port());
    let mut tls = serve_tls(&s, &public);
    // Real time: the handshake must fail as a handshake, not as a paused-clock timeout.
    let rt = runtime();
    let rep = s.sync(&rt, SHORT, None);
    let _ = tls.kill();
    let _ = tls.wait();
    let why = rep.last_error.clone().unwrap_or_default();
    let bound = failing_bound(SHORT);
    assert!(rep.attempts <= bound, "{} > {bound}", rep.attempts);
    assert!(
        why.to_lowercase().contains("certificate") || why.to_lowercase().contains("tls"),
        "unclear error: {why}"
    );
    s.assert_kept_queued();
    Row {
        scenario: "TLS failure (certificate not trusted)",
        outcome: format!("{}, kept queued: {why}", rep.stopped.key()),
        attempts: rep.attempts,
        bound,
    }
}

fn wrong_pin(base: u32) -> Row {
    // The server sits behind a TLS front (plain HTTP behind it) and its profile pins key A.
    // The phone trusts the CA that signed both A's and B's certificates.
    let ca = TestCa::new();
    let (a, b) = (ca.leaf(), ca.leaf());
    let mut s = Scene::with_server_args(
        200_000,
        |up| Front::Tls(TlsFront::start(up, &b)),
        None,
        &["--tls-pin", &a.pin],
    );
    s.roots = Some(vec![ca.der.clone()]);
    let Front::Tls(front) = &s.front else {
        unreachable!()
    };
    // The front shows B: a certificate the CA signed, for the right name, but not the
    // pinned key. Refused on the pin, in real time, and nothing reaches the server.
    let rt = runtime();
    let rep = s.sync(&rt, SHORT, None);
    let why = rep.last_error.clone().unwrap_or_default();
    let bound = failing_bound(SHORT);
    assert!(rep.attempts <= bound, "{} > {bound}", rep.attempts);
    assert!(
        why.contains("does not match the pin in the agency profile"),
        "unclear error: {why}"
    );
    s.assert_kept_queued();
    // The front shows A, the pinned key: delivered once, over TLS.
    front.show(&a);
    let more = s.sync_until_delivered(&rt);
    s.assert_delivered_once();
    Row {
        scenario: "wrong SPKI pin (trusted CA, another key)",
        outcome: format!(
            "{}, kept queued: {why}; then the pinned key: delivered once",
            rep.stopped.key()
        ),
        attempts: rep.attempts + more,
        bound: bound + base,
    }
}

fn dns_failure(_: u32) -> Row {
    let s = Scene::new(
        200_000,
        |_| Front::Direct,
        Some("http://berani.invalid".into()),
    );
    let rt = runtime();
    pause(&rt);
    let rep = s.sync(&rt, BUDGET, None);
    let why = rep.last_error.clone().unwrap_or_default();
    let bound = failing_bound(BUDGET);
    assert!(rep.attempts <= bound, "{} > {bound}", rep.attempts);
    assert!(
        matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
        "{rep:?}"
    );
    s.assert_kept_queued();
    Row {
        scenario: "DNS failure (berani.invalid)",
        outcome: format!("{}, kept queued: {why}", rep.stopped.key()),
        attempts: rep.attempts,
        bound,
    }
}

/// A scene behind the fault front with `rules`; delivered in real time.
fn scripted(name: &'static str, base: u32, rules: Vec<Rule>) -> (Row, Duration) {
    let s = Scene::new(600_000, |up| Front::Http(FaultHttp::start(up, rules)), None);
    let rt = runtime();
    let start = Instant::now();
    let attempts = s.sync_until_delivered(&rt);
    let took = start.elapsed();
    s.assert_delivered_once();
    let n = s.http().scripted() as u32;
    assert!(n >= 1, "the script never answered");
    // Each scripted answer costs the refused request and at most a HEAD to resume.
    let bound = base + 2 * n;
    assert!(attempts <= bound, "{attempts} > {bound}");
    (
        Row {
            scenario: name,
            outcome: format!("delivered once after {n} scripted answers"),
            attempts,
            bound,
        },
        took,
    )
}

fn server_errors(base: u32) -> Row {
    scripted(
        "5xx: POST 500 once, PATCH 503 twice",
        base,
        vec![
            Rule {
                method: "POST",
                skip: 0,
                times: 1,
                status: 500,
                headers: vec![],
            },
            Rule {
                method: "PATCH",
                skip: 1,
                times: 2,
                status: 503,
                headers: vec![],
            },
        ],
    )
    .0
}

fn too_many_requests(base: u32) -> Row {
    let (row, took) = scripted(
        "429 with Retry-After: 2, twice",
        base,
        vec![Rule {
            method: "PATCH",
            skip: 0,
            times: 2,
            status: 429,
            headers: vec![("Retry-After", "2")],
        }],
    );
    // The server's wait was kept, not cut short.
    assert!(took >= Duration::from_secs(4), "took {took:?}");
    Row {
        outcome: format!("{} in {:.1} s", row.outcome, took.as_secs_f64()),
        ..row
    }
}

fn offset_conflicts(base: u32) -> Row {
    scripted(
        "409 offset conflict on two PATCHes",
        base,
        vec![Rule {
            method: "PATCH",
            skip: 1,
            times: 2,
            status: 409,
            headers: vec![],
        }],
    )
    .0
}

#[test]
fn every_scenario_ends_in_delivery_or_a_clear_stop_without_spinning_or_duplicates() {
    type Scenario = fn(u32) -> Row;
    let scenarios: &[(&str, Scenario)] = &[
        ("resets", resets_at_random_bytes),
        ("stall", stall_longer_than_timeouts),
        ("down", down_for_hours),
        ("truncated", truncated_responses),
        ("tls", tls_untrusted),
        ("pin", wrong_pin),
        ("dns", dns_failure),
        ("5xx", server_errors),
        ("429", too_many_requests),
        ("409", offset_conflicts),
    ];
    let start = Instant::now();
    let base = clean_attempts();
    let mut rows = vec![clean(base)];
    let mut failed = Vec::new();
    for (name, run) in scenarios {
        match std::panic::catch_unwind(|| run(base)) {
            Ok(row) => rows.push(row),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{name}: {msg}"));
            }
        }
    }
    println!("\nnetwork chaos: scenario → outcome → requests (bound)");
    for r in &rows {
        println!(
            "  {:<52} {:>4} (≤ {:>4})  {}",
            r.scenario, r.attempts, r.bound, r.outcome
        );
    }
    println!(
        "{} of {} scenarios passed in {:.0} s",
        rows.len() - 1,
        scenarios.len(),
        start.elapsed().as_secs_f64()
    );
    for r in &rows {
        assert!(
            r.attempts <= r.bound,
            "{}: {} > {}",
            r.scenario,
            r.attempts,
            r.bound
        );
    }
    assert!(
        failed.is_empty(),
        "failed scenarios:\n{}",
        failed.join("\n")
    );
}
