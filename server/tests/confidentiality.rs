//! Confidentiality, end to end: marker strings go in everywhere a person writes or attaches
//! something, and afterwards none of them is anywhere in clear.
//!
//! The reporter is the real `berani` CLI (the reporter core): a draft with a story, a contact
//! number, a photo carrying a GPS position and a PDF, whose file names and content carry
//! markers. The server is the real `berani-server` process with its own `TMPDIR` and an SMTP
//! sink for notifications. The team opens the case and both attachments on the desk, writes a
//! note, moves the stage with details, refers the case, and exchanges follow-up messages with
//! the reporter.
//!
//! Then every byte is searched: every file under the server's data folder (SQLite's main
//! file, its WAL and shared-memory files, so free pages too; once while running and once after
//! the stop), the server's stdout and stderr, its temp folder, the reporter's data folder, and
//! every e-mail. Client addresses are searched for too: requests come from 127.0.0.3, which
//! must appear nowhere, and 127.0.0.1 may appear only as the server's own listen address. The
//! delivered photo, opened with the stock `age` tool and the intake identity, has no Exif.

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::desk::{ADMIN_PW, DeskClient, create, files_under};
use common::smtp::Sink;
use common::{Server, run};
use exif::{Field, In, Rational, Tag, Value};
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const STORY: &str = "PENANDA-CERITA-Q7X3";
const CONTACT: &str = "081234509876";
const PHOTO_NAME: &str = "FOTO-PENANDA-N4M3";
const PDF_NAME: &str = "DOKUMEN-PENANDA-P5D9";
const PDF_TEXT: &str = "ISI-PDF-PENANDA-C8V2";
const NOTE: &str = "CATATAN-PENANDA-T6N1";
const STAGE: &str = "RINCIAN-TAHAP-PENANDA-S2K8";
const REFERRAL: &str = "RUJUKAN-PENANDA-R3F7";
const TEAM_MSG: &str = "PESAN-TIM-PENANDA-M1T4";
const REPORTER_MSG: &str = "PESAN-PELAPOR-PENANDA-M2R5";
/// The latitude's seconds, a byte pattern found nowhere else.
const LAT_SECONDS: Rational = Rational {
    num: 987_654_321,
    denom: 1_000_000,
};

fn markers() -> Vec<&'static str> {
    vec![
        STORY,
        CONTACT,
        PHOTO_NAME,
        PDF_NAME,
        PDF_TEXT,
        NOTE,
        STAGE,
        REFERRAL,
        TEAM_MSG,
        REPORTER_MSG,
    ]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// A JPEG (the core's test photo) with an Exif block holding a GPS position.
fn photo_with_gps() -> Vec<u8> {
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let r = |num, denom| Rational { num, denom };
    let fields = [
        (Tag::Model, ascii("SM-PENANDA-1")),
        (Tag::GPSLatitudeRef, ascii("S")),
        (
            Tag::GPSLatitude,
            Value::Rational(vec![r(6, 1), r(58, 1), LAT_SECONDS]),
        ),
        (Tag::GPSLongitudeRef, ascii("E")),
        (
            Tag::GPSLongitude,
            Value::Rational(vec![r(111, 1), r(25, 1), r(1, 1)]),
        ),
    ]
    .map(|(tag, value)| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    });
    let mut w = exif::experimental::Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let mut body = b"Exif\0\0".to_vec();
    body.extend_from_slice(&tiff.into_inner());
    let jpeg = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/photo.jpg"),
    )
    .unwrap();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn gps_fields(file: &[u8]) -> usize {
    match exif::Reader::new().read_from_container(&mut Cursor::new(file)) {
        Ok(e) => e
            .fields()
            .filter(|f| {
                matches!(
                    f.tag,
                    Tag::GPSLatitude | Tag::GPSLongitude | Tag::GPSLatitudeRef | Tag::Model
                )
            })
            .count(),
        Err(_) => 0,
    }
}

struct Phone {
    home: PathBuf,
}

impl Phone {
    fn ok(&self, args: &[&str]) -> String {
        let o = Command::new(berani_tests::harness::binary("berani"))
            .arg("--home")
            .arg(&self.home)
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "berani {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

/// One HTTP/1.1 request from a given loopback source address; returns the status line.
async fn request_from(source: &str, server: std::net::SocketAddr, raw: &str) -> String {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut c = sock.connect(server).await.unwrap();
    c.write_all(raw.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Searches `files` for every marker; returns (files, bytes) searched.
fn search(place: &str, files: &[(PathBuf, Vec<u8>)], needles: &[&str]) -> (usize, usize) {
    let mut bytes = 0;
    for (path, content) in files {
        bytes += content.len();
        for n in needles {
            assert!(
                !contains(content, n.as_bytes()),
                "{n} in clear in {place}: {}",
                path.display()
            );
        }
    }
    (files.len(), bytes)
}

/// Every occurrence of `127.0.0.1` must be the server's own address (followed by its port).
fn only_own_address(place: &str, text: &[u8], port: u16) {
    let own = format!("127.0.0.1:{port}");
    let ip = b"127.0.0.1";
    for (i, w) in text.windows(ip.len()).enumerate() {
        if w == ip {
            assert!(
                text[i..].starts_with(own.as_bytes()),
                "a 127.0.0.1 that is not the listen address in {place}: {:?}",
                String::from_utf8_lossy(&text[i.saturating_sub(40)..(i + 40).min(text.len())])
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_marker_in_clear_anywhere_no_address_no_content_in_mail_no_exif() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let tmp = dir.path().join("tmp");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::create_dir_all(&src).unwrap();
    let sink = Sink::start("127.0.0.1:0".parse().unwrap()).await;
    let server = Server::start_env(
        &data,
        &[
            "--smtp-url",
            &sink.url(),
            "--smtp-from",
            "berani@dinsos.example",
            "--notify-interval",
            "1s",
        ],
        &[("TMPDIR", tmp.as_path())],
    );
    let port = server.addr.port();

    // The team: an admin, and a coordinator on duty who gets the e-mails.
    let first = server.admin_password();
    let mut admin = DeskClient::login(&server.base, "admin", &first).await;
    assert_eq!(
        admin.change_password(&first, ADMIN_PW).await.status,
        StatusCode::OK
    );
    let (_, pw) = create(&mut admin, "koor", "coordinator", "koor@dinsos.example").await;
    let (mut koor, landed) = DeskClient::try_login(&server.base, "koor", &pw).await;
    assert_eq!(landed.path, "/desk/account/password");
    let p = koor.change_password(&pw, "Penjaga malam hari ke-4").await;
    assert_eq!(p.path, "/desk/account?done=password", "{}", p.body);
    let p = koor.post_form("/desk/account/duty", &[("on", "1")]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);

    // The reporter: story, contact, a photo with GPS and a PDF, all carrying markers.
    let photo = photo_with_gps();
    assert!(gps_fields(&photo) >= 3, "the test photo carries GPS");
    let photo_path = src.join(format!("{PHOTO_NAME}.jpg"));
    std::fs::write(&photo_path, &photo).unwrap();
    let pdf_path = src.join(format!("{PDF_NAME}.pdf"));
    let pdf = format!(
        "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {PDF_TEXT}\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    );
    std::fs::write(&pdf_path, &pdf).unwrap();
    let phone = Phone {
        home: dir.path().join("phone"),
    };
    let key = String::from_utf8(run(&["profile", "pubkey"], &data, None).stdout)
        .unwrap()
        .trim()
        .to_string();
    phone.ok(&[
        "profile",
        "import",
        &server.url("/v1/profile"),
        "--trust",
        &key,
    ]);
    let id = phone
        .ok(&[
            "draft",
            "new",
            "--category",
            "physical",
            "--district",
            "33.16.09",
            "--text",
            &format!("CONTOH SINTETIS {STORY}"),
            "--contact-phone",
            CONTACT,
            "--attach",
            photo_path.to_str().unwrap(),
            "--attach",
            pdf_path.to_str().unwrap(),
        ])
        .trim()
        .to_string();
    phone.ok(&["submit", &id]);
    phone.ok(&["sync", "--for", "60"]);
    assert!(phone.ok(&["outbox"]).contains("delivered"));
    // The coordinator on duty is told of the new report (before anyone works it).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while sink.mails().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no e-mail: {}",
            server.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Requests from another loopback address, which must leave no trace.
    for raw in [
        "GET /v1/profile HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "POST /v1/followup/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        "GET /desk/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "HEAD /v1/uploads/00000000000000000000000000000000 HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nConnection: close\r\n\r\n",
    ] {
        let status = request_from("127.0.0.3", server.addr, raw).await;
        assert!(status.starts_with("HTTP/1.1 "), "{status}");
    }

    // The desk: the case page, both attachments, a note, a stage with details, a referral,
    // and a message to the reporter.
    let case = format!("/desk/cases/{id}");
    let page = admin.get(&case).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(STORY), "the desk shows the story");
    assert!(page.body.contains(CONTACT), "the desk shows the contact");
    let mut pdf_seen = false;
    for part in 1..=2 {
        let p = admin.get(&format!("{case}/parts/{part}")).await;
        assert_eq!(p.status, StatusCode::OK);
        pdf_seen |= p.body.contains(PDF_TEXT);
    }
    assert!(pdf_seen, "the desk serves the PDF");
    for (path, fields) in [
        ("note", vec![("note", NOTE)]),
        (
            "stage",
            vec![("to", "identified"), ("risk", "high"), ("note", STAGE)],
        ),
        (
            "refer",
            vec![("office", "UPTD PPA Provinsi"), ("note", REFERRAL)],
        ),
        ("message", vec![("message", TEAM_MSG)]),
    ] {
        let p = admin.post_form(&format!("{case}/{path}"), &fields).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
    }
    // The reporter reads the reply and answers.
    assert!(phone.ok(&["followup", &id]).contains(TEAM_MSG));
    phone.ok(&["reply", &id, REPORTER_MSG]);
    assert!(
        phone
            .ok(&["sync", "--for", "60"])
            .contains("messages sent 1")
    );
    let page = admin.get(&case).await;
    for m in [NOTE, STAGE, REFERRAL, TEAM_MSG, REPORTER_MSG] {
        assert!(page.body.contains(m), "the case page shows {m}");
    }

    // The delivered photo: opened with `age` and the intake identity, no GPS, no model.
    let out = run(&["key", "export"], &data, Some(ADMIN_PW));
    assert!(out.status.success());
    let key_file = dir.path().join("identity.txt");
    std::fs::write(&key_file, &out.stdout).unwrap();
    let blobs: Vec<String> = {
        let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
        let mut st = db
            .prepare("SELECT id FROM uploads WHERE report = ?1 AND part > 0 ORDER BY part")
            .unwrap();
        st.query_map([&id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(blobs.len(), 2);
    let mut photos = 0;
    for b in &blobs {
        let o = Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&key_file)
            .arg(data.join("uploads").join(b))
            .output()
            .expect("the age tool");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        if o.stdout.starts_with(&[0xFF, 0xD8]) {
            photos += 1;
            assert_eq!(gps_fields(&o.stdout), 0, "Exif left the phone");
            assert!(!contains(&o.stdout, &LAT_SECONDS.num.to_be_bytes()));
            assert!(!contains(&o.stdout, b"SM-PENANDA-1"));
        }
    }
    assert_eq!(photos, 1);
    std::fs::remove_file(&key_file).unwrap();

    // --- The searches. ---
    let needles = markers();
    let mut ip_needles = needles.clone();
    ip_needles.push("127.0.0.3");
    let running = files_under(&data);
    assert!(
        running
            .iter()
            .any(|(p, _)| p.to_string_lossy().ends_with("berani.db-wal")),
        "the WAL is searched while the server runs"
    );
    let (f1, b1) = search("the running server's data folder", &running, &ip_needles);
    for (p, content) in &running {
        only_own_address(&p.display().to_string(), content, port);
    }
    let stdout = server.stdout();
    let stderr = server.stderr();
    assert!(server.stop().success());
    let stopped = files_under(&data);
    let (f2, b2) = search("the stopped server's data folder", &stopped, &ip_needles);
    for (p, content) in &stopped {
        only_own_address(&p.display().to_string(), content, port);
    }
    let logs = vec![
        (PathBuf::from("stdout"), stdout.clone().into_bytes()),
        (PathBuf::from("stderr"), stderr.clone().into_bytes()),
    ];
    let (_, b3) = search("the server's log", &logs, &ip_needles);
    assert!(stderr.contains("GET /desk/cases/{id} 200"), "{stderr}");
    for (p, content) in &logs {
        only_own_address(&p.display().to_string(), content, port);
    }
    let temp = files_under(&tmp);
    let (f4, b4) = search("the server's temp folder", &temp, &ip_needles);
    let home = files_under(&phone.home);
    let (f5, b5) = search("the reporter's data folder", &home, &needles);
    let mails = sink.mails();
    let mail_text: Vec<(PathBuf, Vec<u8>)> = mails
        .iter()
        .map(|m| {
            (
                PathBuf::from("mail"),
                format!("{}\n{}", m.everything(), m.text()).into_bytes(),
            )
        })
        .collect();
    let (f6, b6) = search("the notification e-mails", &mail_text, &ip_needles);
    println!(
        "searched for {} markers: data folder while running {f1} files {b1} bytes, after stop \
         {f2} files {b2} bytes; server log {b3} bytes; temp folder {f4} files {b4} bytes; \
         reporter's folder {f5} files {b5} bytes; {f6} e-mails {b6} bytes",
        needles.len()
    );
}
