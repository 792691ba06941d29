//! Anonymous follow-up end to end on loopback: the real `berani-server` binary, the real
//! `berani` CLI, and the desk driven over HTTP like a browser (cookies, CSRF).
//!
//! A reporter submits; a desk user replies from the case page; the reporter reads the reply
//! with the CLI, then again from a fresh home with only the receipt code; the reporter
//! answers through the outbox; the desk sees the answer and the inbox marks it unread. Wrong
//! receipts are refused alike, brute force meets 429, and no message text, receipt code or
//! auth value is ever on the server's disk or in its log.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use berani_core::followup::{FollowupKeys, ReceiptCode};
use common::desk::DeskClient;
use common::phone::Phone;
use common::{Server, client};
use reqwest::StatusCode;

const TEAM_TEXT: &str = "Apakah anak aman malam ini? PENANDA-TIM-7d2e";
const REPORTER_TEXT: &str = "Ya, dia di rumah neneknya. PENANDA-PELAPOR-41ac";
const ADMIN_PW: &str = "Kopi tubruk, tiga gelas!";

async fn admin(server: &Server) -> DeskClient {
    let first = server.admin_password();
    let mut c = DeskClient::login(&server.base, "admin", &first).await;
    let p = c.change_password(&first, ADMIN_PW).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    c
}

async fn post_json(server: &Server, path: &str, body: serde_json::Value) -> reqwest::Response {
    client()
        .post(server.url(path))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Every byte under `dir`, file by file.
fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push((e.path(), std::fs::read(e.path()).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporter_and_team_talk_through_sealed_messages_with_only_the_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &[]);
    let mut desk = admin(&server).await;

    // The reporter submits and delivers; submit shows the receipt code with advice.
    let a = Phone::new(dir.path(), "phone-a", &server);
    let id = a
        .ok(&[
            "draft",
            "new",
            "--category",
            "physical",
            "--district",
            "33.16.09",
            "--text",
            "CONTOH SINTETIS: laporan untuk uji tindak lanjut",
        ])
        .trim()
        .to_string();
    let out = a.ok(&["submit", &id]);
    let code = out
        .lines()
        .find_map(|l| l.strip_prefix("receipt code: "))
        .expect("the receipt code is shown")
        .to_string();
    assert!(out.contains("simpan di tempat yang aman"), "{out}");
    assert!(out.contains("somewhere safe"), "{out}");
    assert_eq!(code.len(), 26, "{code}");
    a.ok(&["sync", "--for", "60"]);
    assert!(a.ok(&["outbox"]).contains("delivered"));

    // The server keeps the lookup id and an Argon2id verifier, nothing more.
    let keys = FollowupKeys::derive(&ReceiptCode::parse(&code).unwrap()).unwrap();
    let (lookup, verifier): (String, String) = server_db(&data)
        .query_row(
            "SELECT lookup, verifier FROM followups WHERE report = ?1",
            [&id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(lookup, keys.lookup);
    assert!(verifier.starts_with("$argon2id$"), "{verifier}");

    // Before any message: the status in plain words.
    let shown = a.ok(&["followup", &id]);
    assert!(shown.contains("status: Diterima / Received"), "{shown}");
    assert!(shown.contains("belum ada pesan"), "{shown}");

    // A desk user replies from the case page.
    let page = desk.get(&format!("/desk/cases/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Pesan dengan pelapor"));
    let p = desk
        .post_form(
            &format!("/desk/cases/{id}/message"),
            &[("message", TEAM_TEXT)],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains(TEAM_TEXT), "the thread shows the reply");
    // An empty reply is refused, naming the field.
    let empty = desk
        .post_form(&format!("/desk/cases/{id}/message"), &[("message", "  ")])
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("message: pesan masih kosong"),
        "{}",
        empty.body
    );
    // Without the CSRF token nothing is sent.
    let forged = desk
        .post_form_raw(
            &format!("/desk/cases/{id}/message"),
            &[("message", "palsu")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let n: i64 = server_db(&data)
        .query_row("SELECT count(*) FROM followup_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let audited: i64 = server_db(&data)
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'followup_reply' AND subject = ?1 AND actor = 'admin'",
            [&id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);

    // The reporter reads it on the phone that sent the report…
    let shown = a.ok(&["followup", &id]);
    assert!(shown.contains(TEAM_TEXT), "{shown}");
    // …and on a fresh phone with nothing but the code, typed sloppily.
    let b = Phone::new(dir.path(), "phone-b", &server);
    let sloppy = code.to_lowercase().replace('-', " ");
    let shown = b.ok(&["followup", "--receipt", &sloppy]);
    assert!(shown.contains(TEAM_TEXT), "{shown}");
    assert!(shown.contains(&id), "{shown}");

    // Wrong receipts: a typo is caught on the phone; a valid but unknown code is refused.
    let mut typo: Vec<char> = code.chars().collect();
    typo[0] = if typo[0] == '7' { '8' } else { '7' };
    let e = b.err(&[
        "followup",
        "--receipt",
        &typo.into_iter().collect::<String>(),
    ]);
    assert!(e.contains("mistyped") && e.contains("salah ketik"), "{e}");
    let other = ReceiptCode::generate().display().to_string();
    let e = b.err(&["followup", "--receipt", &other]);
    assert!(e.contains("receipt not found"), "{e}");

    // The reporter answers through the outbox: queued offline, sent by sync, once.
    let queued = a.ok(&["reply", &id, REPORTER_TEXT]);
    assert!(queued.contains("queued"), "{queued}");
    let shown = a.ok(&["followup", &id]);
    assert!(shown.contains("menunggu dikirim"), "{shown}");
    let synced = a.ok(&["sync", "--for", "60"]);
    assert!(synced.contains("messages sent 1"), "{synced}");
    let again = a.ok(&["sync", "--for", "60"]);
    assert!(!again.contains("messages sent"), "{again}");
    let reporter_rows: i64 = server_db(&data)
        .query_row(
            "SELECT count(*) FROM followup_messages WHERE sender = 'reporter'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reporter_rows, 1);

    // A retried send with the same message id stores nothing twice.
    let client_id: String = server_db(&data)
        .query_row(
            "SELECT client_id FROM followup_messages WHERE sender = 'reporter'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let sealed: Vec<u8> = server_db(&data)
        .query_row(
            "SELECT sealed FROM followup_messages WHERE sender = 'reporter'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let retry = post_json(
        &server,
        "/v1/followup/send",
        serde_json::json!({
            "lookup": keys.lookup, "auth": keys.auth.as_str(), "message_id": client_id,
            "sealed": base64::engine::general_purpose::STANDARD.encode(&sealed),
        }),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::OK);
    let reporter_rows: i64 = server_db(&data)
        .query_row(
            "SELECT count(*) FROM followup_messages WHERE sender = 'reporter'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reporter_rows, 1);

    // The desk's inbox marks the case; the case page shows the answer and clears the mark.
    let inbox = desk.get("/desk/inbox").await;
    assert!(inbox.body.contains("data-unread=\"1\""), "{}", inbox.body);
    let page = desk.get(&format!("/desk/cases/{id}")).await;
    assert!(page.body.contains(REPORTER_TEXT), "{}", page.body);
    let inbox = desk.get("/desk/inbox").await;
    assert!(!inbox.body.contains("data-unread=\"1\""));

    // The fresh phone sees that it answered without reading it (sealed to the agency only).
    let shown = b.ok(&["followup", &id]);
    assert!(
        shown.contains(TEAM_TEXT) && !shown.contains(REPORTER_TEXT),
        "{shown}"
    );
    assert!(shown.contains("only the agency can read it"), "{shown}");
    let shown = a.ok(&["followup", &id, "--json"]);
    assert!(shown.contains(REPORTER_TEXT), "{shown}");

    // The team moves the case on: the reporter sees "being handled", nothing more.
    let p = desk
        .post_form(
            &format!("/desk/cases/{id}/stage"),
            &[
                ("to", "identified"),
                ("risk", "high"),
                ("note", "catatan internal"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let status = post_json(
        &server,
        "/v1/followup/status",
        serde_json::json!({ "lookup": keys.lookup, "auth": keys.auth.as_str() }),
    )
    .await;
    assert_eq!(status.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&status.text().await.unwrap()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({ "report": id, "status": "in_progress" })
    );
    assert!(a.ok(&["followup", &id]).contains("Sedang ditangani"));

    // Unknown and wrong receipts get the same answer.
    let wrong = post_json(
        &server,
        "/v1/followup/status",
        serde_json::json!({ "lookup": keys.lookup, "auth": berani_core::protocol::new_token() }),
    )
    .await;
    let unknown = post_json(
        &server,
        "/v1/followup/status",
        serde_json::json!({ "lookup": "ab".repeat(16), "auth": berani_core::protocol::new_token() }),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
    // A malformed body is refused, naming the fields.
    let bad = post_json(
        &server,
        "/v1/followup/status",
        serde_json::json!({ "lookup": 1 }),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("lookup"));

    // Marker test: no message text, receipt code or auth value in clear on the server's disk
    // or in its log.
    let canonical: String = code.chars().filter(|c| *c != '-').collect();
    let secrets = [
        TEAM_TEXT,
        REPORTER_TEXT,
        "PENANDA-TIM",
        "PENANDA-PELAPOR",
        code.as_str(),
        &canonical[..20],
        keys.auth.as_str(),
    ];
    let log = server.stderr();
    assert!(
        log.contains("/v1/followup/send"),
        "the access log has the route"
    );
    for s in secrets.iter().chain([&keys.lookup.as_str()]) {
        assert!(!log.contains(s), "{s:?} in the server log");
    }
    let stopped = server.stop();
    assert!(stopped.success());
    for (path, bytes) in files(&data) {
        for s in secrets {
            assert!(!contains(&bytes, s), "{s:?} in clear in {}", path.display());
        }
    }
    let _ = desk;
}

fn server_db(data: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(data.join("berani.db")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brute_force_meets_the_rate_limit_and_unknown_costs_what_wrong_costs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let guess = || {
        serde_json::json!({
            "lookup": berani_core::crypto::random_id(),
            "auth": berani_core::protocol::new_token(),
        })
    };
    let mut refused = 0;
    let mut limited = None;
    let mut times = Vec::new();
    for _ in 0..80 {
        let t = Instant::now();
        let r = post_json(&server, "/v1/followup/messages", guess()).await;
        match r.status() {
            StatusCode::FORBIDDEN => {
                refused += 1;
                times.push(t.elapsed());
            }
            StatusCode::TOO_MANY_REQUESTS => {
                limited = Some(r);
                break;
            }
            s => panic!("unexpected {s}"),
        }
    }
    let limited = limited.expect("brute force hits the rate limit");
    assert!(
        refused >= 20,
        "the burst allows honest use first ({refused})"
    );
    let wait: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    // An unknown lookup id still costs an Argon2id verification (a dummy one).
    times.sort();
    assert!(
        times[times.len() / 2] >= Duration::from_millis(5),
        "unknown receipts are verified against a dummy hash: {:?}",
        times[times.len() / 2]
    );
    // The log names no client address and no lookup id.
    let log = server.stderr();
    for line in log.lines().filter(|l| l.contains("/v1/followup")) {
        assert!(!line.contains("127.0.0.1"), "{line}");
    }
}
