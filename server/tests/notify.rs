//! E-mail notifications against a real in-process server on loopback and the in-repo SMTP
//! sink: reports are written, sealed and delivered by the real reporter core.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use berani_core::Reporter;
use berani_core::model::{Category, FieldValue};
use berani_core::store::KeyFile;
use berani_core::upload::{self, NoListener, SyncOptions};
use berani_server::config::{NotifyConfig, SmtpConfig};
use berani_server::{Running, ServeConfig};

mod common;
use common::smtp::Sink;
use common::{client, eventually};

const DISTRICT: &str = "33.16.09";

async fn start(data: &Path, smtp_url: String) -> Running {
    let mut cfg = ServeConfig::new(data);
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.notify = NotifyConfig {
        smtp: Some(SmtpConfig {
            url: smtp_url,
            from: "Berani <berani@dinsos.example>".into(),
        }),
        interval: Duration::from_millis(200),
    };
    berani_server::start(cfg).await.unwrap()
}

/// Runs SQL on the server's own database.
async fn sql(s: &Running, q: &'static str, args: Vec<rusqlite::types::Value>) {
    s.state()
        .db
        .write_async(move |tx| tx.execute(q, rusqlite::params_from_iter(args)).map(|_| ()))
        .await
        .unwrap();
}

async fn add_user(s: &Running, user: &str, role: &str, email: &str, on_duty: bool) {
    sql(
        s,
        "INSERT INTO users (username, role, password_hash, created_at, email, on_duty)
         VALUES (?1, ?2, 'unused', 0, ?3, ?4)",
        vec![
            user.to_string().into(),
            role.to_string().into(),
            email.to_string().into(),
            i64::from(on_duty).into(),
        ],
    )
    .await;
}

/// `(notified_at, sla_warned_at)` of a case, if it exists.
async fn marks(s: &Running, report: &str) -> Option<(Option<i64>, Option<i64>)> {
    let id = report.to_string();
    s.state()
        .db
        .read_async(move |c| {
            use rusqlite::OptionalExtension;
            c.query_row(
                "SELECT notified_at, sla_warned_at FROM cases WHERE report = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .await
        .unwrap()
}

/// Writes, submits and delivers one report with the reporter core; returns its id.
async fn send_report(s: &Running, data: &Path, home: &Path, marker: &str) -> String {
    let mut key = Vec::new();
    berani_server::commands::profile_pubkey(data, &mut key).unwrap();
    let key = String::from_utf8(key).unwrap().trim().parse().unwrap();
    let signed = client()
        .get(format!("http://{}/v1/profile", s.addr))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let r = Reporter::open(home, &KeyFile::new(home.join("device.key"))).unwrap();
    r.import_profile(&signed, Some(key)).unwrap();
    let d = r.create_draft().unwrap();
    for v in [
        FieldValue::Category(Some(Category::Trafficking)),
        FieldValue::District(Some(DISTRICT.into())),
        FieldValue::Description(Some(format!("CONTOH SINTETIS {marker}"))),
    ] {
        r.update_draft(&d.id, v).unwrap();
    }
    let queued = r.submit(&d.id).unwrap();
    let done = upload::sync(&r, &NoListener, SyncOptions::new(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(done.delivered, vec![queued.id.clone()], "{done:?}");
    queued.id
}

/// Nothing about the report in any e-mail: not its text, category or district.
fn assert_no_content(sink: &Sink, marker: &str) {
    let name = berani_server::desk::cases::district_name("33.16", DISTRICT);
    assert!(!name.is_empty() && name != DISTRICT, "{name}");
    for m in sink.mails() {
        let all = format!("{}\n{}", m.everything(), m.text());
        let lower = all.to_lowercase();
        assert!(!all.contains(marker), "{all}");
        for word in ["trafficking", "perdagangan", "tppo", DISTRICT] {
            assert!(!lower.contains(word), "{word} in {all}");
        }
        assert!(!lower.contains(&name.to_lowercase()), "{name} in {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn new_report_and_deadline_warning_reach_the_on_duty_team_with_a_link_only() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start("127.0.0.1:0".parse().unwrap()).await;
    let s = start(&dir.path().join("data"), sink.url()).await;
    // Nobody on duty yet: a coordinator off duty, a caseworker, a disabled coordinator.
    add_user(&s, "koor2", "coordinator", "koor2@dinsos.example", false).await;
    add_user(
        &s,
        "pendamping",
        "caseworker",
        "pendamping@dinsos.example",
        true,
    )
    .await;
    add_user(&s, "mantan", "coordinator", "mantan@dinsos.example", true).await;
    sql(
        &s,
        "UPDATE users SET disabled_at = 1 WHERE username = 'mantan'",
        vec![],
    )
    .await;

    let marker = format!("PENANDA-{}", berani_core::crypto::random_id());
    let id = send_report(
        &s,
        &dir.path().join("data"),
        &dir.path().join("phone"),
        &marker,
    )
    .await;
    eventually(20, async || marks(&s, &id).await.is_some()).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(sink.mails().is_empty(), "{:?}", sink.mails());
    assert_eq!(
        marks(&s, &id).await,
        Some((None, None)),
        "not marked while nobody is on duty"
    );

    // A coordinator comes on duty: one e-mail, to them, with the link.
    add_user(&s, "koor", "coordinator", "koor@dinsos.example", true).await;
    eventually(20, async || !sink.mails().is_empty()).await;
    let link = format!("{}/desk/cases/{id}", s.public_url);
    let first = &sink.mails()[0];
    assert_eq!(first.to, vec!["koor@dinsos.example"]);
    assert_eq!(first.from, "berani@dinsos.example");
    assert!(first.text().contains(&link), "{}", first.data);
    assert!(
        first
            .data
            .contains("Subject: Berani: laporan baru masuk / a new report arrived"),
        "{}",
        first.data
    );
    // The case is marked once the send has been accepted, a moment after the sink has it.
    eventually(20, async || {
        marks(&s, &id)
            .await
            .is_some_and(|(notified, _)| notified.is_some())
    })
    .await;
    let (_, warned) = marks(&s, &id).await.unwrap();
    assert!(warned.is_none());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(sink.mails().len(), 1, "once only: {:?}", sink.mails());

    // Assigned to the caseworker and now due within 3 h: a warning to the coordinator and
    // one to the assignee, once.
    sql(
        &s,
        "UPDATE cases SET due_at = unixepoch() + 3 * 3600, assignee = 'pendamping'",
        vec![],
    )
    .await;
    eventually(20, async || sink.mails().len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 3, "{mails:?}");
    let mut to: Vec<_> = mails[1..].iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["koor@dinsos.example", "pendamping@dinsos.example"]);
    for m in &mails[1..] {
        assert!(m.text().contains(&link), "{}", m.data);
        assert!(
            m.data
                .contains("Subject: Berani: tenggat asesmen dekat / assessment deadline near")
        );
        assert!(
            m.text().contains("these cases is due within 4 hours"),
            "{}",
            m.data
        );
    }
    eventually(20, async || {
        marks(&s, &id)
            .await
            .is_some_and(|(_, warned)| warned.is_some())
    })
    .await;
    assert_no_content(&sink, &marker);

    // Already assessed cases are never warned about.
    let other = send_report(
        &s,
        &dir.path().join("data"),
        &dir.path().join("phone"),
        &marker,
    )
    .await;
    eventually(20, async || sink.mails().len() == 4).await;
    sql(
        &s,
        "UPDATE cases SET due_at = unixepoch() + 3600, stage = 'assessed', assessed_at = unixepoch()
         WHERE report = ?1",
        vec![other.clone().into()],
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(sink.mails().len(), 4, "{:?}", sink.mails());
    assert_eq!(marks(&s, &other).await.unwrap().1, None);
    assert_no_content(&sink, &marker);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn smtp_down_marks_nothing_and_delivers_when_it_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    // A port with nothing listening (yet).
    let port: SocketAddr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let s = start(&dir.path().join("data"), format!("smtp://{port}")).await;
    add_user(&s, "koor", "coordinator", "koor@dinsos.example", true).await;
    let marker = format!("PENANDA-{}", berani_core::crypto::random_id());
    let id = send_report(
        &s,
        &dir.path().join("data"),
        &dir.path().join("phone"),
        &marker,
    )
    .await;
    eventually(20, async || marks(&s, &id).await.is_some()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(marks(&s, &id).await, Some((None, None)), "not marked");

    let sink = Sink::start(port).await;
    eventually(20, async || !sink.mails().is_empty()).await;
    eventually(5, async || marks(&s, &id).await.unwrap().0.is_some()).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].text().contains(&format!("/desk/cases/{id}")));
    assert_no_content(&sink, &marker);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_smtp_setting_stops_the_start_and_no_url_means_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = ServeConfig::new(dir.path().join("data"));
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    cfg.notify.smtp = Some(SmtpConfig {
        url: "smtp://koor:rahasia-s3cret@".into(),
        from: "berani@dinsos.example".into(),
    });
    let e = berani_server::start(cfg.clone()).await.err().unwrap();
    let e = e.to_string();
    assert!(
        e.contains("--smtp-url") && !e.contains("rahasia-s3cret"),
        "{e}"
    );
    cfg.notify.smtp = None;
    let s = berani_server::start(cfg).await.unwrap();
    s.shutdown().await;
}
