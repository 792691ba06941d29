//! The uploader's error paths: what it does with each kind of failure.
//!
//! The scripted loopback server here STANDS IN FOR ERROR PATHS ONLY: it answers fixed
//! statuses so that each failure class can be provoked on demand. It is not a tus server and
//! proves nothing about interop; the happy path is tested against tusd (`upload_tusd.rs`)
//! and, end to end, against berani-server (tests/).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use berani_core::Reporter;
use berani_core::model::{Category, FieldValue};
use berani_core::outbox::{FailureReason, ReportState};
use berani_core::upload::{NoListener, StopReason, SyncListener, SyncOptions, sync};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
    at: Instant,
}

/// One scripted answer.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    /// Never answer (a stalled link).
    hang: bool,
}

fn reply(status: u16, headers: &[(&str, &str)]) -> Reply {
    Reply {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        hang: false,
    }
}

/// `reply` with `Tus-Resumable: 1.0.0`, as the intake server sends on every answer.
fn tus(status: u16, headers: &[(&str, &str)]) -> Reply {
    let mut r = reply(status, headers);
    r.headers.push(("Tus-Resumable".into(), "1.0.0".into()));
    r
}

type Script = Box<dyn Fn(usize, &Seen) -> Reply + Send + Sync>;

/// A scripted HTTP/1.1 server on loopback: every request gets `script(n, request)`, then
/// the connection closes.
struct Scripted {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    async fn start(script: Script) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (log, script) = (log.clone(), script.clone());
                tokio::spawn(async move {
                    let _ = serve(tcp, &log, &script).await;
                });
            }
        });
        Scripted { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn methods(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.method).collect()
    }
}

async fn serve(mut tcp: TcpStream, log: &Mutex<Vec<Seen>>, script: &Script) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = tcp.read(&mut tmp).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let path = first.next().unwrap_or("").to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = tcp.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    let seen = Seen {
        method,
        path,
        headers,
        body,
        at: Instant::now(),
    };
    let n = {
        let mut log = log.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let r = script(n, &seen);
    if r.hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(());
    }
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: 0\r\nConnection: close\r\n",
        r.status
    );
    for (k, v) in &r.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    tcp.write_all(out.as_bytes()).await?;
    tcp.shutdown().await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A home whose profile points at `intake` (version 2, expiring in `life`), with one text
/// report queued.
fn queued(intake: &str, life: time::Duration) -> (Home, Reporter, String) {
    let (h, r) = home();
    let mut p = h.agency.profile(2);
    p.intake_url = intake.to_string();
    p.expires_at = time::OffsetDateTime::now_utc() + life;
    r.import_profile(&h.agency.signed(&p), None).unwrap();
    let d = r.create_draft().unwrap();
    r.update_draft(&d.id, FieldValue::Category(Some(Category::Neglect)))
        .unwrap();
    r.update_draft(&d.id, FieldValue::District(Some("33.16.09".into())))
        .unwrap();
    r.update_draft(&d.id, FieldValue::Description(Some("uji galat".into())))
        .unwrap();
    let id = r.submit(&d.id).unwrap().id;
    (h, r, id)
}

fn queued_for(intake: &str) -> (Home, Reporter, String) {
    queued(intake, time::Duration::days(30))
}

fn upload_only(secs: u64) -> SyncOptions {
    SyncOptions {
        fetch_receipts: false,
        ..SyncOptions::new(Duration::from_secs(secs))
    }
}

fn state(r: &Reporter, id: &str) -> (ReportState, Option<FailureReason>) {
    let rep = r.outbox().get(id).unwrap().unwrap();
    (rep.state, rep.failure)
}

#[derive(Default)]
struct States(Mutex<Vec<ReportState>>);

impl SyncListener for States {
    fn part_progress(&self, _: &str, _: u32, _: u64, _: u64) {}
    fn report_state(&self, _: &str, s: ReportState) {
        self.0.lock().unwrap().push(s);
    }
}

#[test]
fn a_413_from_the_intake_server_fails_the_report_at_once() {
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|_, _| tus(413, &[]))).await;
        let (_h, r, id) = queued_for(&srv.url());
        let states = States::default();
        let rep = sync(&r, &states, upload_only(30)).await.unwrap();
        assert_eq!(
            rep.failed,
            vec![(id.clone(), FailureReason::RejectedByServer)]
        );
        assert_eq!(
            (rep.stopped, rep.attempts, rep.pending),
            (StopReason::Done, 1, 0)
        );
        assert_eq!(
            state(&r, &id),
            (ReportState::Failed, Some(FailureReason::RejectedByServer))
        );
        assert_eq!(
            *states.0.lock().unwrap(),
            vec![ReportState::Sending, ReportState::Failed]
        );
        // The creation request carried every metadata key and the first chunk.
        let post = &srv.seen()[0];
        assert_eq!(
            (post.method.as_str(), post.path.as_str()),
            ("POST", "/v1/uploads")
        );
        assert_eq!(post.headers["tus-resumable"], "1.0.0");
        let keys: Vec<&str> = post.headers["upload-metadata"]
            .split(',')
            .map(|kv| kv.split(' ').next().unwrap())
            .collect();
        // Part 0 registers the follow-up (the lookup id and auth value from the receipt code).
        assert_eq!(
            keys,
            [
                "report",
                "part",
                "parts",
                "kind",
                "sha256",
                "token",
                "followup",
                "followup_auth"
            ]
        );
        assert_eq!(
            post.headers["upload-length"],
            post.body.len().to_string(),
            "the whole small part rides with the creation"
        );
        assert_eq!(
            post.headers["content-type"],
            "application/offset+octet-stream"
        );
    });
}

#[test]
fn a_4xx_that_is_not_from_the_intake_server_is_retried_not_fatal() {
    // A captive portal or a proxy's error page: no Tus-Resumable.
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|_, _| reply(403, &[]))).await;
        let (_h, r, id) = queued_for(&srv.url());
        let rep = sync(&r, &NoListener, upload_only(3)).await.unwrap();
        assert!(rep.failed.is_empty(), "{rep:?}");
        assert!(
            matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
            "{rep:?}"
        );
        assert!(rep.attempts >= 2 && rep.attempts <= 12, "{rep:?}");
        assert!(
            rep.last_error
                .unwrap()
                .contains("not from the intake server")
        );
        assert_eq!(state(&r, &id).1, None);
        assert_eq!(rep.pending, 1);
    });
}

#[test]
fn a_busy_server_is_waited_for_as_retry_after_says() {
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|n, req| match n {
            0 => tus(503, &[("Retry-After", "2")]),
            _ => {
                let len = req.headers["upload-length"].clone();
                tus(
                    201,
                    &[("Location", "/v1/uploads/ab12"), ("Upload-Offset", &len)],
                )
            }
        }))
        .await;
        let (_h, r, id) = queued_for(&srv.url());
        let rep = sync(&r, &NoListener, upload_only(30)).await.unwrap();
        assert_eq!(
            (rep.stopped, rep.attempts),
            (StopReason::Done, 2),
            "{rep:?}"
        );
        let seen = srv.seen();
        let waited = seen[1].at - seen[0].at;
        assert!(waited >= Duration::from_millis(1900), "{waited:?}");
        assert!(waited < Duration::from_secs(10), "{waited:?}");
        let rep = r.outbox().get(&id).unwrap().unwrap();
        assert!(rep.parts[0].done);
        assert_eq!(
            rep.parts[0].upload_url.as_deref(),
            Some(format!("{}/v1/uploads/ab12", srv.url()).as_str()),
            "the relative Location is resolved against the intake URL"
        );
    });
}

#[test]
fn a_conflict_is_followed_by_head_and_the_servers_offset() {
    let rt = runtime();
    rt.block_on(async {
        let len = Arc::new(Mutex::new(String::new()));
        let l = len.clone();
        let srv = Scripted::start(Box::new(move |_, req| match req.method.as_str() {
            "POST" => {
                *l.lock().unwrap() = req.headers["upload-length"].clone();
                // The server kept none of the first chunk.
                tus(
                    201,
                    &[("Location", "/v1/uploads/c0ffee"), ("Upload-Offset", "0")],
                )
            }
            "PATCH" => tus(409, &[]),
            _ => {
                let n = l.lock().unwrap().clone();
                tus(200, &[("Upload-Offset", &n), ("Upload-Length", &n)])
            }
        }))
        .await;
        let (_h, r, id) = queued_for(&srv.url());
        let rep = sync(&r, &NoListener, upload_only(30)).await.unwrap();
        assert_eq!(rep.stopped, StopReason::Done, "{rep:?}");
        assert_eq!(srv.methods(), ["POST", "PATCH", "HEAD"]);
        let seen = srv.seen();
        let patch = &seen[1];
        assert_eq!(patch.path, "/v1/uploads/c0ffee");
        assert_eq!(patch.headers["upload-offset"], "0");
        assert_eq!(
            patch.headers["content-type"],
            "application/offset+octet-stream"
        );
        assert_eq!(patch.headers["tus-resumable"], "1.0.0");
        // A first attempt carries no checksum, so the server keeps what arrives before a drop.
        assert!(!patch.headers.contains_key("upload-checksum"), "{patch:?}");
        assert_eq!(seen[2].method, "HEAD");
        assert!(r.outbox().get(&id).unwrap().unwrap().parts[0].done);
    });
}

#[test]
fn a_server_whose_offsets_never_move_is_backed_off_not_hammered() {
    // HEAD says 0, PATCH at 0 says 409, for ever: a broken server must not make a busy loop.
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|_, req| match req.method.as_str() {
            "POST" => tus(
                201,
                &[("Location", "/v1/uploads/stuck"), ("Upload-Offset", "0")],
            ),
            "PATCH" => tus(409, &[]),
            _ => tus(200, &[("Upload-Offset", "0")]),
        }))
        .await;
        let (_h, r, id) = queued_for(&srv.url());
        let rep = sync(&r, &NoListener, upload_only(4)).await.unwrap();
        assert!(
            matches!(rep.stopped, StopReason::Offline | StopReason::Budget),
            "{rep:?}"
        );
        assert!(rep.attempts <= 20, "{rep:?}");
        assert!(rep.last_error.unwrap().contains("no progress"));
        assert_eq!(state(&r, &id).0, ReportState::Sending);
    });
}

#[test]
fn a_checksum_mismatch_sends_the_same_chunk_again() {
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(move |n, req| match (n, req.method.as_str()) {
            (_, "POST") => tus(
                201,
                &[("Location", "/v1/uploads/460"), ("Upload-Offset", "0")],
            ),
            (1, "PATCH") => tus(460, &[]),
            _ => {
                let got = req.body.len().to_string();
                tus(204, &[("Upload-Offset", &got)])
            }
        }))
        .await;
        let (_h, r, id) = queued_for(&srv.url());
        let rep = sync(&r, &NoListener, upload_only(30)).await.unwrap();
        assert_eq!(rep.stopped, StopReason::Done, "{rep:?}");
        assert_eq!(srv.methods(), ["POST", "PATCH", "PATCH"]);
        let seen = srv.seen();
        assert_eq!(seen[1].body, seen[2].body);
        // The first attempt went without a checksum; after the 460 the chunk carries one.
        assert!(!seen[1].headers.contains_key("upload-checksum"));
        let digest = berani_core::crypto::sha256(&seen[2].body);
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert_eq!(seen[2].headers["upload-checksum"], format!("sha256 {b64}"));
        assert!(r.outbox().get(&id).unwrap().unwrap().parts[0].done);
    });
}

#[test]
fn an_unreachable_server_stops_offline_without_busy_looping() {
    let rt = runtime();
    rt.block_on(async {
        // A port with nothing listening.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (_h, r, id) = queued_for(&format!("http://127.0.0.1:{port}"));
        let started = Instant::now();
        let rep = sync(&r, &NoListener, SyncOptions::new(Duration::from_secs(6)))
            .await
            .unwrap();
        assert_eq!(rep.stopped, StopReason::Offline, "{rep:?}");
        assert!(started.elapsed() <= Duration::from_secs(7));
        // Backoff from 1 s with full jitter (and a 250 ms floor): a handful of tries.
        assert!(rep.attempts >= 2 && rep.attempts <= 10, "{rep:?}");
        assert!(rep.retry_after.is_some());
        assert!(rep.last_error.unwrap().contains("could not connect"));
        assert_eq!(state(&r, &id), (ReportState::Queued, None));
    });
}

#[test]
fn the_hourly_cap_on_failed_attempts_holds_across_syncs() {
    let rt = runtime();
    rt.block_on(async {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let (h, r, _id) = queued_for(&format!("http://127.0.0.1:{port}"));
        // A first sync fails a few times; its failures are kept.
        let first = sync(&r, &NoListener, SyncOptions::new(Duration::from_secs(3)))
            .await
            .unwrap();
        assert!(first.attempts >= 1, "{first:?}");
        drop(r);
        // Fill this hour's allowance, as a phone that kept trying all hour would have.
        let r = h.open();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let times: Vec<u64> = (0..60).map(|i| now - 3000 + i * 10).collect();
        r.store()
            .write(|tx| {
                berani_core::store::set_meta(
                    tx,
                    "upload_failures",
                    &serde_json::to_vec(&times).unwrap(),
                )
            })
            .unwrap();
        // The next sync, in a new process as after a restart, makes no attempt at all.
        let rep = sync(&r, &NoListener, SyncOptions::new(Duration::from_secs(30)))
            .await
            .unwrap();
        assert_eq!(
            (rep.stopped, rep.attempts),
            (StopReason::Offline, 0),
            "{rep:?}"
        );
        let wait = rep.retry_after.unwrap();
        assert!(
            wait > Duration::from_secs(500) && wait <= Duration::from_secs(700),
            "{wait:?}"
        );
    });
}

#[test]
fn cancel_aborts_a_stalled_request_at_once() {
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|_, _| Reply {
            status: 0,
            headers: vec![],
            hang: true,
        }))
        .await;
        let (_h, r, _id) = queued_for(&srv.url());
        let opts = upload_only(600);
        let cancel = opts.cancel.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            cancel.cancel();
        });
        let started = Instant::now();
        let rep = sync(&r, &NoListener, opts).await.unwrap();
        t.join().unwrap();
        assert_eq!(
            (rep.stopped, rep.attempts),
            (StopReason::Cancelled, 1),
            "{rep:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    });
}

#[test]
fn the_budget_ends_a_stalled_request() {
    let rt = runtime();
    rt.block_on(async {
        let srv = Scripted::start(Box::new(|_, _| Reply {
            status: 0,
            headers: vec![],
            hang: true,
        }))
        .await;
        let (_h, r, _id) = queued_for(&srv.url());
        let started = Instant::now();
        let rep = sync(&r, &NoListener, upload_only(1)).await.unwrap();
        assert_eq!(rep.stopped, StopReason::Budget, "{rep:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    });
}

#[test]
fn an_expired_profile_fails_queued_reports_without_a_request() {
    let rt = runtime();
    let (_h, r, id) = queued("http://127.0.0.1:9", time::Duration::seconds(2));
    std::thread::sleep(Duration::from_millis(2100));
    let rep = rt
        .block_on(sync(&r, &NoListener, SyncOptions::default()))
        .unwrap();
    assert_eq!(
        rep.failed,
        vec![(id.clone(), FailureReason::ProfileExpired)]
    );
    assert_eq!((rep.attempts, rep.stopped), (0, StopReason::Done));
    assert_eq!(
        state(&r, &id),
        (ReportState::Failed, Some(FailureReason::ProfileExpired))
    );
}

#[test]
fn a_damaged_part_file_fails_its_report_without_a_request() {
    let rt = runtime();
    let (h, r, id) = queued_for("http://127.0.0.1:9");
    let (_h2, r2, id2) = queued_for("http://127.0.0.1:9");
    // One part altered, one part gone.
    let part = h.data().join(format!("outbox/{id}/0.age"));
    let mut bytes = std::fs::read(&part).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&part, bytes).unwrap();
    std::fs::remove_file(_h2.data().join(format!("outbox/{id2}/0.age"))).unwrap();
    for (r, id) in [(&r, &id), (&r2, &id2)] {
        let rep = rt
            .block_on(sync(r, &NoListener, SyncOptions::default()))
            .unwrap();
        assert_eq!(rep.failed, vec![(id.clone(), FailureReason::PartDamaged)]);
        assert_eq!(rep.attempts, 0);
        assert_eq!(
            state(r, id),
            (ReportState::Failed, Some(FailureReason::PartDamaged))
        );
    }
}
