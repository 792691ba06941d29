//! The crash campaign: the reporter CLI and the intake server are killed with SIGKILL at
//! random moments, many times over, and afterwards nothing may be lost or doubled.
//!
//! Two campaigns run on one server and one phone folder:
//!
//! 1. **Reporter kills.** Each round runs one `berani` command — `draft new` (draft save),
//!    `submit` (seal and enqueue, one transaction), or `sync` (upload, then receipt) — and
//!    sends it SIGKILL after a random delay drawn from that command's observed run time, so
//!    kills fall anywhere from process start to the last write. A kill counts only when the
//!    process was still running; a `sync` kill is counted as "receipt" when every part of the
//!    reports it was sending was already complete on the server, else as "upload".
//! 2. **Server kills.** A report with a 1.5 MB video is synced through a 24 Mbit/s link and
//!    the server is killed after a random delay, then restarted on the same folder. Each kill
//!    is classed by what the server database shows afterwards: "mid-upload" (a part partly
//!    received), "mid-completion" (every byte of a part received but the report not yet
//!    marked received), or "other" (between requests).
//!
//! After each campaign, with every process stopped and a clean sync run: every report the
//! phone said was queued (and every report found in the outbox) is delivered exactly once —
//! one report row, one upload per part, one stored file per upload; each stored part's
//! SHA-256 equals what the phone sealed; every draft whose save returned is there with its
//! text; `PRAGMA integrity_check` is `ok` on the phone's store and the server's database.
//!
//! The kill counts come from `BERANI_CRASH_KILLS` (reporter, default 40) and
//! `BERANI_SERVER_KILLS` (server, default 10); the seed from `BERANI_CRASH_SEED` (default: the
//! clock), printed first so a failing run can be repeated. The full campaign:
//!
//! ```sh
//! BERANI_CRASH_KILLS=1000 BERANI_SERVER_KILLS=100 \
//!   cargo test -p berani-tests --test crash_campaign -- --nocapture
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use berani_tests::harness::{ReporterCli, Server};
use berani_tests::peers::{free_port, pseudo_random};
use berani_tests::proxy::{FaultProxy, Faults};

/// SplitMix64, seeded: the campaign's only source of randomness.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} is not a number"))
        })
        .unwrap_or(default)
}

/// A file of `len` pseudo-random bytes that type detection reads as MP4 video.
fn video(path: &Path, len: usize, seed: u64) -> PathBuf {
    let mut data = vec![
        0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm',
    ];
    data.extend_from_slice(&[0, 0, 0, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    let body = len.saturating_sub(data.len() + 8);
    data.extend_from_slice(&u32::try_from(body + 8).unwrap().to_be_bytes());
    data.extend_from_slice(b"mdat");
    data.extend(pseudo_random(body, seed));
    fs::write(path, &data).unwrap();
    path.to_path_buf()
}

/// Bytes of a file on disk (0 when it is not there).
fn on_disk(f: &Path) -> u64 {
    fs::metadata(f).map_or(0, |m| m.len())
}

/// How a killed-or-not run of one command ended.
enum Ran {
    /// It finished by itself, with this stdout.
    Finished { ok: bool, stdout: String },
    /// SIGKILL found it still running.
    Killed,
}

/// Runs `child`, killing it with SIGKILL after `after` unless it ends first.
fn run_and_kill(mut child: Child, after: Duration) -> Ran {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stdout = String::new();
            if let Some(mut out) = child.stdout.take() {
                use std::io::Read;
                out.read_to_string(&mut stdout).unwrap();
            }
            return Ran::Finished {
                ok: status.success(),
                stdout,
            };
        }
        if start.elapsed() >= after {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return Ran::Killed;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Observed run times of a command, to draw kill delays from.
struct Timing {
    /// A moving average of the run times seen.
    typical: Duration,
    /// Not killed: a step that sets up another phase's kill.
    never: bool,
}

impl Timing {
    fn new(initial: Duration) -> Self {
        Self {
            typical: initial,
            never: false,
        }
    }

    fn never() -> Self {
        Self {
            typical: Duration::MAX,
            never: true,
        }
    }

    /// A delay uniform in `[0, 1.5 × typical]`: most kills land while the command works,
    /// some after it ended (those count as finished, not as kills).
    fn draw(&self, rng: &mut Rng) -> Duration {
        if self.never {
            return Duration::MAX;
        }
        self.typical.mul_f64(1.5 * rng.unit())
    }

    /// The phase a finished run is counted under.
    fn finished_as(&self, phase: &'static str) -> &'static str {
        if self.never {
            "set-up (not killed)"
        } else {
            phase
        }
    }

    fn saw(&mut self, d: Duration) {
        if self.never {
            return;
        }
        // A run that waited long (a receipt not ready yet) must not stretch every delay.
        let d = d.min(self.typical * 4);
        self.typical = self.typical.mul_f64(0.8) + d.mul_f64(0.2);
    }
}

#[derive(Default)]
struct Counts {
    kills: BTreeMap<&'static str, u64>,
    finished: BTreeMap<&'static str, u64>,
}

struct Campaign {
    dir: tempfile::TempDir,
    server: Server,
    proxy: FaultProxy,
    phone: ReporterCli,
    rng: Rng,
    /// Drafts whose save returned, with their text.
    drafts: BTreeMap<String, String>,
    /// Reports `submit` said were queued.
    told_queued: BTreeSet<String>,
    /// Drafts whose `submit` was killed: now a draft or a queued report, never half of each.
    submit_killed: BTreeMap<String, String>,
    counts: Counts,
    round: u64,
}

impl Campaign {
    fn new(seed: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let upstream = SocketAddr::from(([127, 0, 0, 1], free_port()));
        // 24 Mbit/s: a 1.5 MB video takes about half a second, long enough to be killed in.
        let proxy = FaultProxy::start(
            upstream,
            Faults {
                bandwidth_bps: Some(24_000_000),
                ..Faults::default()
            },
        );
        let public = format!("http://{}", proxy.addr());
        let server = Server::start_on(
            &dir.path().join("server"),
            upstream,
            &["--public-url", &public],
        );
        let phone = ReporterCli::new(&dir.path().join("phone"));
        phone.ok(&[
            "profile",
            "import",
            &format!("{public}/v1/profile"),
            "--trust",
            &server.profile_key(),
        ]);
        Campaign {
            dir,
            server,
            proxy,
            phone,
            rng: Rng(seed),
            drafts: BTreeMap::new(),
            told_queued: BTreeSet::new(),
            submit_killed: BTreeMap::new(),
            counts: Counts::default(),
            round: 0,
        }
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.phone
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    fn text(&self) -> String {
        format!("CONTOH SINTETIS laporan uji ketahanan nomor {}", self.round)
    }

    fn kill(&mut self, phase: &'static str) {
        *self.counts.kills.entry(phase).or_default() += 1;
    }

    fn finished(&mut self, phase: &'static str) {
        *self.counts.finished.entry(phase).or_default() += 1;
    }

    /// `draft new`, killed at a random point.
    fn draft_round(&mut self, t: &mut Timing) {
        let text = self.text();
        let mut args = vec![
            "draft".to_string(),
            "new".into(),
            "--category".into(),
            "physical".into(),
            "--district".into(),
            "33.16.09".into(),
            "--text".into(),
            text.clone(),
        ];
        // A third of the reports carry a video: a longer save, seal and upload.
        if self.rng.below(3) == 0 {
            let len = 200_000 + self.rng.below(1_300_000);
            let v = video(
                &self.dir.path().join(format!("clip-{}.mp4", self.round)),
                len,
                self.round,
            );
            args.push("--attach".into());
            args.push(v.to_str().unwrap().into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let delay = t.draw(&mut self.rng);
        let start = Instant::now();
        match run_and_kill(self.spawn(&args), delay) {
            Ran::Finished { ok, stdout } => {
                assert!(ok, "draft new failed");
                t.saw(start.elapsed());
                self.finished(t.finished_as("draft save"));
                self.drafts.insert(stdout.trim().to_string(), text);
            }
            Ran::Killed => self.kill("draft save"),
        }
    }

    /// `submit` of a saved draft, killed at a random point.
    fn submit_round(&mut self, t: &mut Timing) {
        if self.drafts.is_empty() {
            return;
        }
        let i = self.rng.below(self.drafts.len());
        let id = self.drafts.keys().nth(i).unwrap().clone();
        let text = self.drafts.remove(&id).unwrap();
        let delay = t.draw(&mut self.rng);
        let start = Instant::now();
        match run_and_kill(self.spawn(&["submit", &id]), delay) {
            Ran::Finished { ok, stdout } => {
                assert!(ok, "submit failed");
                assert!(stdout.contains(&format!("queued {id}")), "{stdout}");
                t.saw(start.elapsed());
                self.finished(t.finished_as("seal+enqueue"));
                self.told_queued.insert(id);
            }
            Ran::Killed => {
                self.kill("seal+enqueue");
                self.submit_killed.insert(id, text);
            }
        }
    }

    /// Reports whose every part is complete on the server.
    fn complete_on_server(&self) -> BTreeSet<String> {
        let db = self.server.db();
        let mut st = db
            .prepare(
                "SELECT r.id FROM reports r WHERE r.part_count = (SELECT count(*) FROM uploads u
                 WHERE u.report = r.id AND u.completed_at IS NOT NULL)",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Reports in the outbox still to deliver.
    fn open_reports(&self) -> BTreeSet<String> {
        self.phone
            .outbox()
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["state"] == "queued" || r["state"] == "sending")
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }

    /// `sync`, killed at a random point: upload or receipt.
    fn sync_round(&mut self, t: &mut Timing) {
        let open = self.open_reports();
        if open.is_empty() {
            return;
        }
        let delay = t.draw(&mut self.rng);
        let start = Instant::now();
        match run_and_kill(self.spawn(&["sync", "--for", "60"]), delay) {
            Ran::Finished { ok, .. } => {
                assert!(ok, "sync failed");
                t.saw(start.elapsed());
                self.finished("upload/receipt");
            }
            Ran::Killed => {
                let complete = self.complete_on_server();
                if open.iter().all(|id| complete.contains(id)) {
                    self.kill("receipt");
                } else {
                    self.kill("upload");
                }
            }
        }
    }

    fn reporter_kills(&self) -> u64 {
        ["draft save", "seal+enqueue", "upload", "receipt"]
            .iter()
            .map(|p| self.counts.kills.get(p).copied().unwrap_or(0))
            .sum()
    }

    /// Server kills mid-upload or mid-completion (the "other" ones are not counted).
    fn server_kills(&self) -> u64 {
        ["server mid-upload", "server mid-completion"]
            .iter()
            .map(|p| self.counts.kills.get(p).copied().unwrap_or(0))
            .sum()
    }

    /// Kills the reporter `target` times across its phases.
    fn reporter_campaign(&mut self, target: u64) {
        let mut draft = Timing::new(Duration::from_millis(300));
        let mut submit = Timing::new(Duration::from_millis(300));
        let mut sync = Timing::new(Duration::from_millis(1500));
        let start = Instant::now();
        let mut shown = 0;
        while self.reporter_kills() < target {
            if self.reporter_kills() >= shown + 100 {
                shown = self.reporter_kills();
                println!(
                    "  {shown} reporter kills, {:.0} s",
                    start.elapsed().as_secs_f64()
                );
            }
            self.round += 1;
            // Half the rounds pick a command at random, half the one killed least so far, so
            // that each phase gets its share of kills whatever the machine's speed.
            let k = |c: &Self, p: &[&str]| -> u64 {
                p.iter()
                    .map(|p| c.counts.kills.get(p).copied().unwrap_or(0))
                    .sum()
            };
            let kills = [
                k(self, &["draft save"]),
                k(self, &["seal+enqueue"]),
                k(self, &["upload", "receipt"]),
            ];
            let command = if self.rng.below(2) == 0 {
                self.rng.below(3)
            } else {
                (0..3).min_by_key(|&i| kills[i]).unwrap()
            };
            match command {
                0 => self.draft_round(&mut draft),
                1 => {
                    if self.drafts.is_empty() {
                        self.draft_round(&mut Timing::never());
                    }
                    self.submit_round(&mut submit)
                }
                _ => {
                    if self.open_reports().is_empty() {
                        self.draft_round(&mut Timing::never());
                        self.submit_round(&mut Timing::never());
                    }
                    self.sync_round(&mut sync)
                }
            }
        }
    }

    /// Uploads of a report on the server: (file, length, complete).
    fn uploads(&self, report: &str) -> Vec<(PathBuf, u64, bool)> {
        let db = self.server.db();
        let mut st = db
            .prepare("SELECT id, length, completed_at IS NOT NULL FROM uploads WHERE report = ?1")
            .unwrap();
        let rows: Vec<(String, u64, bool)> = st
            .query_map([report], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.into_iter()
            .map(|(id, len, done)| (self.server.data.join("uploads").join(id), len, done))
            .collect()
    }

    /// Uploads of a report on the server: (length, bytes of its file on disk, complete).
    fn blobs(&self, report: &str) -> Vec<(u64, u64, bool)> {
        self.uploads(report)
            .into_iter()
            .map(|(f, len, done)| (len, on_disk(&f), done))
            .collect()
    }

    fn received(&self, report: &str) -> bool {
        self.server
            .db()
            .query_row(
                "SELECT received_at IS NOT NULL FROM reports WHERE id = ?1",
                [report],
                |r| r.get(0),
            )
            .unwrap_or(false)
    }

    /// Kills the server `target` times while reports with videos upload.
    fn server_campaign(&mut self, target: u64) {
        let mut sync: Option<Child> = None;
        let mut current: Option<String> = None;
        let mut tries = 0;
        while self.server_kills() < target {
            tries += 1;
            assert!(tries <= target * 4 + 20, "kills keep missing the upload");
            self.round += 1;
            // A new report with a video whenever the last one is through.
            let need_new = current.as_ref().is_none_or(|id| self.received(id));
            if need_new {
                let v = video(
                    &self.dir.path().join(format!("clip-{}.mp4", self.round)),
                    1_500_000,
                    self.round,
                );
                let id = self
                    .phone
                    .ok(&[
                        "draft",
                        "new",
                        "--category",
                        "physical",
                        "--district",
                        "33.16.09",
                        "--text",
                        &self.text(),
                        "--attach",
                        v.to_str().unwrap(),
                    ])
                    .trim()
                    .to_string();
                self.phone.ok(&["submit", &id]);
                self.told_queued.insert(id.clone());
                current = Some(id);
            }
            let id = current.clone().unwrap();
            // A sync is running (or starts now) while the server dies.
            if sync
                .as_mut()
                .is_none_or(|c| c.try_wait().unwrap().is_some())
            {
                if let Some(mut c) = sync.take() {
                    c.wait().unwrap();
                }
                sync = Some(
                    self.phone
                        .command(&["sync", "--for", "60"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap(),
                );
            }
            // Aim at a moment: half the kills while a part is partly on disk, half the
            // moment a part's last byte is written (hash check, fsync and the completing
            // transaction still to come). A moment not reached in 5 s kills anyway.
            let at_completion = self.rng.below(2) == 0;
            let lag = Duration::from_secs_f64(0.03 * self.rng.unit());
            let waited = Instant::now();
            // The incomplete uploads' files, polled by size (cheap); the list is read again
            // from the database every 50 ms until both parts exist.
            let mut files = Vec::new();
            let mut listed = Instant::now() - Duration::from_secs(1);
            while waited.elapsed() < Duration::from_secs(5) {
                if files.len() < 2 && listed.elapsed() > Duration::from_millis(50) {
                    files = self.uploads(&id);
                    listed = Instant::now();
                }
                let reached = files.iter().any(|(f, len, done)| {
                    let on_disk = on_disk(f);
                    !done
                        && if at_completion {
                            on_disk == *len
                        } else {
                            on_disk * 10 > *len && on_disk * 10 < *len * 9
                        }
                });
                if reached {
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            if !at_completion {
                std::thread::sleep(lag);
            }
            self.server.kill9();
            let blobs = self.blobs(&id);
            let phase = if blobs
                .iter()
                .any(|&(len, on_disk, done)| !done && on_disk == len)
            {
                "server mid-completion"
            } else if blobs
                .iter()
                .any(|&(len, on_disk, done)| !done && on_disk > 0 && on_disk < len)
            {
                "server mid-upload"
            } else {
                "server other"
            };
            self.kill(phase);
            self.server.restart();
        }
        if let Some(mut c) = sync {
            let _ = c.kill();
            c.wait().unwrap();
        }
    }

    /// Stops nothing (every process is already stopped), syncs cleanly until the outbox is
    /// empty, then checks that nothing was lost or doubled.
    fn settle_and_check(&mut self, after: &str) {
        let mut rounds = 0;
        while !self.open_reports().is_empty() {
            rounds += 1;
            assert!(
                rounds <= 5,
                "{after}: outbox not empty after {rounds} syncs"
            );
            self.phone.ok(&["sync", "--for", "120"]);
        }
        let outbox = self.phone.outbox();
        let outbox = outbox.as_array().unwrap();
        let in_outbox: BTreeMap<String, &serde_json::Value> = outbox
            .iter()
            .map(|r| (r["id"].as_str().unwrap().to_string(), r))
            .collect();

        // A killed submit leaves a draft or a queued report, never neither.
        let drafts: serde_json::Value =
            serde_json::from_str(&self.phone.ok(&["draft", "list", "--json"])).unwrap();
        let draft_ids: BTreeSet<String> = drafts
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string())
            .collect();
        let mut requeued = 0;
        for (id, text) in std::mem::take(&mut self.submit_killed) {
            match (in_outbox.contains_key(&id), draft_ids.contains(&id)) {
                (true, false) => requeued += 1,
                (false, true) => {
                    self.drafts.insert(id, text);
                }
                (a, b) => panic!("{after}: killed submit of {id}: in outbox {a}, draft {b}"),
            }
        }
        // Every draft whose save returned is there, with its text.
        for (id, text) in &self.drafts {
            let d: serde_json::Value =
                serde_json::from_str(&self.phone.ok(&["draft", "show", id, "--json"])).unwrap();
            assert!(
                d.to_string().contains(text.as_str()),
                "{after}: draft {id} lost its text"
            );
        }

        // Every report told queued is in the outbox, delivered, and on the server once.
        for id in &self.told_queued {
            assert!(in_outbox.contains_key(id), "{after}: report {id} lost");
        }
        let db = self.server.db();
        let mut delivered = 0;
        let mut parts_checked = 0;
        for (id, r) in &in_outbox {
            assert_eq!(r["state"], "delivered", "{after}: {id}: {r}");
            assert!(r["receipt"].is_string(), "{after}: {id} has no receipt");
            let rows: i64 = db
                .query_row("SELECT count(*) FROM reports WHERE id = ?1", [id], |x| {
                    x.get(0)
                })
                .unwrap();
            assert_eq!(rows, 1, "{after}: report {id} stored {rows} times");
            for p in r["parts"].as_array().unwrap() {
                let idx = p["idx"].as_u64().unwrap();
                let mut st = db
                    .prepare(
                        "SELECT id, completed_at IS NOT NULL FROM uploads
                         WHERE report = ?1 AND part = ?2",
                    )
                    .unwrap();
                let ups: Vec<(String, bool)> = st
                    .query_map(rusqlite::params![id, idx], |x| Ok((x.get(0)?, x.get(1)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                assert_eq!(
                    ups.len(),
                    1,
                    "{after}: {id} part {idx}: {} uploads",
                    ups.len()
                );
                assert!(ups[0].1, "{after}: {id} part {idx} incomplete");
                let stored = fs::read(self.server.data.join("uploads").join(&ups[0].0)).unwrap();
                let sealed =
                    fs::read(self.phone.home.join(format!("outbox/{id}/{idx}.age"))).unwrap();
                let hex = |b: &[u8]| {
                    ring::digest::digest(&ring::digest::SHA256, b)
                        .as_ref()
                        .iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<String>()
                };
                assert_eq!(
                    hex(&stored),
                    p["sha256"].as_str().unwrap(),
                    "{after}: {id} part {idx}: stored bytes differ from what was sealed"
                );
                assert_eq!(hex(&sealed), hex(&stored));
                parts_checked += 1;
            }
            delivered += 1;
        }
        // Nothing more on the server than the phone sent: no stray reports, uploads or files.
        let (reports, uploads): (i64, i64) = db
            .query_row(
                "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM uploads)",
                [],
                |x| Ok((x.get(0)?, x.get(1)?)),
            )
            .unwrap();
        assert_eq!(reports as usize, in_outbox.len(), "{after}: stray reports");
        assert_eq!(uploads as usize, parts_checked, "{after}: stray uploads");
        let files = fs::read_dir(self.server.data.join("uploads"))
            .unwrap()
            .count();
        assert_eq!(files, parts_checked, "{after}: stray files in uploads/");

        // Both databases are sound.
        let check = |path: &Path| -> String {
            let c = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            c.query_row("PRAGMA integrity_check", [], |x| x.get(0))
                .unwrap()
        };
        let phone_db = self.phone.home.join("berani.db");
        assert!(phone_db.exists(), "{}", phone_db.display());
        assert_eq!(check(&phone_db), "ok", "{after}: phone store");
        assert_eq!(
            check(&self.server.data.join("berani.db")),
            "ok",
            "{after}: server database"
        );
        println!(
            "{after}: {delivered} reports delivered exactly once ({} told queued, {requeued} \
             queued by a killed submit), {parts_checked} parts matching what was sealed, {} \
             drafts intact, integrity_check ok on both sides",
            self.told_queued.len(),
            self.drafts.len()
        );
    }
}

#[test]
fn nothing_is_lost_or_doubled_across_kill_9() {
    let reporter_target = env_num("BERANI_CRASH_KILLS", 40);
    let server_target = env_num("BERANI_SERVER_KILLS", 10);
    let seed = env_num(
        "BERANI_CRASH_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    );
    println!(
        "crash campaign: seed {seed} (repeat with BERANI_CRASH_SEED={seed}), \
         {reporter_target} reporter kills, {server_target} server kills"
    );
    let start = Instant::now();
    let mut c = Campaign::new(seed);
    c.reporter_campaign(reporter_target);
    c.settle_and_check("after the reporter campaign");
    c.server_campaign(server_target);
    c.settle_and_check("after the server campaign");
    let stats = c.proxy.stats();
    println!("kills per phase (SIGKILL landed while running):");
    for (phase, n) in &c.counts.kills {
        println!("  {phase:<24} {n}");
    }
    println!("commands that finished before their kill time:");
    for (phase, n) in &c.counts.finished {
        println!("  {phase:<24} {n}");
    }
    println!(
        "total: {} reporter kills, {} server kills, {} reports delivered, {} MB through the \
         link, {:.0} s",
        c.reporter_kills(),
        c.server_kills(),
        c.phone.outbox().as_array().unwrap().len(),
        stats.bytes_up / 1_000_000,
        start.elapsed().as_secs_f64()
    );
    assert!(c.reporter_kills() >= reporter_target);
    assert!(c.server_kills() >= server_target);
}
