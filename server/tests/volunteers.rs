//! Volunteers: codes made on the desk, counted through the two public endpoints per code per
//! day, never linked to a report, and printed on a one-page A4 poster whose QR code opens
//! the public page with the code.

mod common;

use std::path::Path;

use berani_core::Reporter;
use berani_core::store::KeyFile;
use common::desk::{Desk, first_login};
use reqwest::StatusCode;
use serde_json::json;

/// Every volunteer as (id, canonical code, name), oldest first.
fn volunteers(d: &Desk) -> Vec<(i64, String, String)> {
    let c = d.db();
    let mut st = c
        .prepare("SELECT id, code, name FROM volunteers ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// (installs, web_reports) of a code on a day, as stored.
fn counts(d: &Desk, code: &str, day: &str) -> (i64, i64) {
    d.db()
        .query_row(
            "SELECT coalesce(sum(n.installs), 0), coalesce(sum(n.web_reports), 0)
             FROM volunteer_counts n JOIN volunteers v ON v.id = n.volunteer
             WHERE v.code = ?1 AND n.day = ?2",
            [code, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

async fn count(d: &Desk, what: &str, body: serde_json::Value) -> (StatusCode, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/volunteers/{what}", d.base))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    let v = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    (status, v)
}

/// A phone's reporter core in `home`, holding the server's signed profile.
async fn reporter_for(d: &Desk, home: &Path) -> Reporter {
    let mut key = Vec::new();
    berani_server::commands::profile_pubkey(&d.data, &mut key).unwrap();
    let key = String::from_utf8(key).unwrap().trim().parse().unwrap();
    let signed = common::client()
        .get(format!("{}/v1/profile", d.base))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let r = open_phone(home);
    r.import_profile(&signed, Some(key)).unwrap();
    r
}

fn open_phone(home: &Path) -> Reporter {
    Reporter::open(home, &KeyFile::new(home.join("device.key"))).unwrap()
}

fn display(code: &str) -> String {
    berani_core::volunteer::VolunteerCode::parse(code)
        .unwrap()
        .display()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_go_up_per_code_and_day_and_no_report_row_holds_a_code() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;

    // Bad input names the field and creates nothing.
    let p = admin
        .post_form("/desk/volunteers", &[("name", "  "), ("area", "")])
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("name: wajib diisi"), "{}", p.body);
    let p = admin
        .post_form(
            "/desk/volunteers",
            &[("name", "Siti"), ("area", "33.16.99")],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("area: kode wilayah 33.16.99"), "{}", p.body);
    assert!(volunteers(&d).is_empty());

    for (name, area) in [
        ("Siti Relawan", "33.16.09"),
        ("Budi Relawan", "Dukuh Sendang"),
    ] {
        let p = admin
            .post_form("/desk/volunteers", &[("name", name), ("area", area)])
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        assert_eq!(p.path, "/desk/volunteers?done=create");
    }
    let all = volunteers(&d);
    assert_eq!(all.len(), 2);
    let (siti_id, siti) = (all[0].0, all[0].1.clone());
    let (budi_id, budi) = (all[1].0, all[1].1.clone());
    assert_ne!(siti, budi);
    for c in [&siti, &budi] {
        assert_eq!(c.len(), 7);
        assert!(c.bytes().all(|b| b.is_ascii_alphanumeric()), "{c}");
    }

    let today = berani_server::volunteers::today();
    assert_eq!(counts(&d, &siti, &today), (0, 0));

    // Installs and web reports, with the code typed as a person would (dash, lower case).
    let typed = display(&siti).to_lowercase();
    for _ in 0..3 {
        let (s, _) = count(&d, "installs", json!({ "code": typed })).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }
    // Reports arrive while codes are in play (through tus, as a phone sends them).
    let case1 = d.send_report("CONTOH SINTETIS laporan satu").await;
    let (s, _) = count(&d, "web-reports", json!({ "code": siti })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let case2 = d.send_report("CONTOH SINTETIS laporan dua").await;
    let (s, _) = count(&d, "web-reports", json!({ "code": budi })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = count(&d, "installs", json!({ "code": budi })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(counts(&d, &siti, &today), (3, 1));
    assert_eq!(counts(&d, &budi, &today), (1, 1));

    // Per day: a count from another day stays its own row, and today's adds to today's.
    d.db()
        .execute(
            "INSERT INTO volunteer_counts (volunteer, day, installs, web_reports)
             VALUES (?1, '2024-12-31', 5, 2)",
            [siti_id],
        )
        .unwrap();
    let (s, _) = count(&d, "installs", json!({ "code": siti })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(counts(&d, &siti, &today), (4, 1));
    assert_eq!(counts(&d, &siti, "2024-12-31"), (5, 2));
    let rows: i64 = d
        .db()
        .query_row(
            "SELECT count(*) FROM volunteer_counts WHERE volunteer = ?1",
            [siti_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 2, "one row per code per day");

    // Unknown, malformed and wrong bodies are refused, naming `code`, and count nothing.
    let unknown = loop {
        let c = berani_core::volunteer::VolunteerCode::generate().canonical();
        if c != siti && c != budi {
            break c;
        }
    };
    let (s, v) = count(&d, "installs", json!({ "code": unknown })).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["field"], "code", "{v}");
    assert!(v["error"].as_str().unwrap().contains("unknown"), "{v}");
    assert!(
        v["error_id"].as_str().unwrap().contains("tidak dikenal"),
        "{v}"
    );
    let mistyped = format!(
        "{}{}",
        &siti[..6],
        if siti.ends_with('0') { '1' } else { '0' }
    );
    for body in [
        json!({ "code": "xyz" }),
        json!({ "code": mistyped }),
        json!({ "kode": siti }),
        json!({ "code": siti, "report": case1 }),
        json!("K7M2QDV"),
    ] {
        let (s, v) = count(&d, "web-reports", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(v["field"], "code", "{body}: {v}");
    }
    let r = reqwest::Client::new()
        .post(format!("{}/v1/volunteers/installs", d.base))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(counts(&d, &siti, &today), (4, 1));

    // A switched-off code is refused until it is switched on again.
    let p = admin
        .post_form(&format!("/desk/volunteers/{budi_id}/disable"), &[])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let (s, v) = count(&d, "installs", json!({ "code": budi })).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("code"))
    );
    let p = admin
        .post_form(&format!("/desk/volunteers/{budi_id}/enable"), &[])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let (s, _) = count(&d, "installs", json!({ "code": budi })).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(counts(&d, &budi, &today), (2, 1));

    // The desk shows the totals (all days) per volunteer.
    let p = admin.get("/desk/volunteers").await;
    assert_eq!(p.status, StatusCode::OK);
    let row = |body: &str, code: &str| {
        let at = body.find(&format!("id=\"volunteer-{code}\"")).unwrap();
        let end = body[at..].find("</tr>").unwrap();
        body[at..at + end].to_string()
    };
    let r = row(&p.body, &siti);
    assert!(r.contains("<td class=\"installs\">9</td>"), "{r}");
    assert!(r.contains("<td class=\"web-reports\">3</td>"), "{r}");
    assert!(r.contains(&display(&siti)), "{r}");
    assert!(r.contains("Kec. "), "the area code is named: {r}");
    let r = row(&p.body, &budi);
    assert!(r.contains("<td class=\"installs\">2</td>"), "{r}");
    assert!(r.contains("Dukuh Sendang"), "{r}");

    // Every action is in the audit log.
    let audit = d.audit();
    let acts: Vec<&str> = audit
        .iter()
        .filter(|a| a.1.starts_with("volunteer_"))
        .map(|a| a.1.as_str())
        .collect();
    assert_eq!(
        acts,
        [
            "volunteer_create",
            "volunteer_create",
            "volunteer_disable",
            "volunteer_enable"
        ]
    );

    // No report row references a volunteer code: no column of a report table is about
    // volunteers, and neither code appears in any value of any table but the volunteers'
    // own (and the audit log, which records the code an admin created).
    assert!(!case1.is_empty() && !case2.is_empty());
    let c = d.db();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in ["reports", "uploads", "cases", "case_events", "followups"] {
        assert!(tables.iter().any(|x| x == t), "{t} missing: {tables:?}");
    }
    let reports: i64 = c
        .query_row("SELECT count(*) FROM reports", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reports, 2);
    let mut scanned = 0;
    for t in &tables {
        if ["volunteers", "volunteer_counts", "audit"].contains(&t.as_str()) {
            continue;
        }
        let cols: Vec<String> = c
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for col in &cols {
            assert!(!col.contains("volunteer"), "{t}.{col}");
            let mut st = c
                .prepare(&format!("SELECT CAST(\"{col}\" AS BLOB) FROM \"{t}\""))
                .unwrap();
            let values: Vec<Option<Vec<u8>>> = st
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for v in values.into_iter().flatten() {
                scanned += 1;
                for code in [&siti, &budi, &display(&siti), &display(&budi)] {
                    assert!(
                        !v.windows(code.len()).any(|w| w == code.as_bytes()),
                        "{code} in {t}.{col}"
                    );
                }
            }
        }
    }
    assert!(scanned > 20, "only {scanned} values scanned");
    // The counts table holds a code's row id, a day and two numbers, nothing else.
    let cols: Vec<String> = c
        .prepare("SELECT name FROM pragma_table_info('volunteer_counts') ORDER BY cid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(cols, ["volunteer", "day", "installs", "web_reports"]);

    // Coordinators and viewers see the counts read-only.
    let (_, pw) = common::desk::create(&mut admin, "viewer", "viewer", "").await;
    let mut viewer = first_login(&d, "viewer", &pw, "Pemantau angka bulanan 3").await;
    let p = viewer.get("/desk/volunteers").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(row(&p.body, &siti).contains("<td class=\"installs\">9</td>"));
    assert!(
        !p.body.contains("action=\"/desk/volunteers\""),
        "no create form"
    );
    assert!(!p.body.contains("poster.pdf"));
    let p = viewer
        .post_form("/desk/volunteers", &[("name", "Bukan admin"), ("area", "")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let (s, _, _) = viewer
        .get_bytes(&format!("/desk/volunteers/{siti_id}/poster.pdf"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(volunteers(&d).len(), 2);

    // The same per-client limit as follow-up: a burst of 30, then 429 with Retry-After.
    let mut limited = None;
    for i in 0..60 {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/volunteers/installs", d.base))
            .body(json!({ "code": unknown }).to_string())
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().get("retry-after").is_some());
            limited = Some(i);
            break;
        }
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert!(limited.is_some_and(|i| i <= 31), "{limited:?}");
}

/// The text shown by the page's `Tj`/`TJ` operators, and the filled rectangles, in order.
fn page_parts(doc: &lopdf::Document) -> (String, Vec<[f32; 4]>) {
    let pages = doc.get_pages();
    let (_, id) = pages.iter().next().unwrap();
    let content = lopdf::content::Content::decode(&doc.get_page_content(*id)).unwrap();
    let num = |o: &lopdf::Object| match o {
        lopdf::Object::Integer(i) => *i as f32,
        lopdf::Object::Real(r) => *r,
        other => panic!("not a number: {other:?}"),
    };
    let mut text = String::new();
    let mut rects = Vec::new();
    for op in content.operations {
        match op.operator.as_str() {
            "Tj" => {
                if let lopdf::Object::String(bytes, _) = &op.operands[0] {
                    // WinAnsi is Latin-1 for everything the poster writes here.
                    text.extend(bytes.iter().map(|&b| b as char));
                    text.push('\n');
                }
            }
            "re" => {
                let v: Vec<f32> = op.operands.iter().map(num).collect();
                rects.push([v[0], v[1], v[2], v[3]]);
            }
            _ => {}
        }
    }
    (text, rects)
}

/// Draws the rectangles into a greyscale picture and reads the QR code in it.
fn decode_qr(rects: &[[f32; 4]]) -> String {
    let m = rects.iter().map(|r| r[3]).fold(f32::MAX, f32::min);
    let left = rects.iter().map(|r| r[0]).fold(f32::MAX, f32::min);
    let right = rects.iter().map(|r| r[0] + r[2]).fold(f32::MIN, f32::max);
    let top = rects.iter().map(|r| r[1] + r[3]).fold(f32::MIN, f32::max);
    let n = ((right - left) / m).round() as usize;
    assert!((21..=177).contains(&n), "{n} modules");
    let mut dark = vec![vec![false; n]; n];
    for r in rects {
        let row = ((top - (r[1] + r[3])) / m).round() as usize;
        let c0 = ((r[0] - left) / m).round() as usize;
        let w = (r[2] / m).round() as usize;
        assert!(
            (r[3] - m).abs() < 0.01,
            "every rectangle is one module high"
        );
        dark[row][c0..c0 + w].fill(true);
    }
    let (px, quiet) = (6, 4);
    let size = (n + 2 * quiet) * px;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(size, size, |x, y| {
        let (c, r) = (x / px, y / px);
        if c < quiet || r < quiet || c >= n + quiet || r >= n + quiet {
            255
        } else if dark[r - quiet][c - quiet] {
            0
        } else {
            255
        }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_poster_is_one_a4_page_with_the_code_the_numbers_and_a_qr_to_the_public_page() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let p = admin
        .post_form(
            "/desk/volunteers",
            &[("name", "Siti Relawan"), ("area", "33.16.09")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let (id, code, _) = volunteers(&d).remove(0);
    assert!(
        p.body
            .contains(&format!("/desk/volunteers/{id}/poster.pdf"))
    );

    let (status, ctype, pdf) = admin
        .get_bytes(&format!("/desk/volunteers/{id}/poster.pdf"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.len() < 64 * 1024, "{} bytes", pdf.len());
    // scripts/poster-screenshot keeps the rendered poster for the README.
    if let Ok(out) = std::env::var("BERANI_POSTER_OUT") {
        std::fs::write(out, &pdf).unwrap();
    }

    let doc = lopdf::Document::load_mem(&pdf).unwrap();
    let pages = doc.get_pages();
    assert_eq!(pages.len(), 1, "one page");
    let page = doc.get_object(*pages.values().next().unwrap()).unwrap();
    let media: Vec<f32> = page
        .as_dict()
        .unwrap()
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_float().unwrap())
        .collect();
    assert_eq!(media[0], 0.0);
    assert!(
        (media[2] - 595.28).abs() < 0.5 && (media[3] - 841.89).abs() < 0.5,
        "A4: {media:?}"
    );

    let (text, rects) = page_parts(&doc);
    let shown = display(&code);
    assert!(
        text.contains(&format!("\n{shown}\n")),
        "the code on a line: {text}"
    );
    for must in [
        "Darurat / Emergency: 112",
        "SAPA 129 \u{b7} WhatsApp 08111-129-129",
        "KODE RELAWAN / VOLUNTEER CODE",
    ] {
        assert!(text.contains(must), "{must} in {text}");
    }
    // The agency's hotline from the signed profile.
    let profile = d
        .running
        .state()
        .db
        .read(berani_server::profile::load)
        .unwrap()
        .profile()
        .unwrap();
    assert!(!profile.hotlines.is_empty());
    for h in &profile.hotlines {
        assert!(text.contains(&h.number), "{} in {text}", h.number);
    }
    // Three sentences in Indonesian with English below, wrapped into lines.
    let flat = text.replace('\n', " ");
    for (id, en) in berani_server::desk::poster::HOW {
        assert!(flat.contains(id), "{id}");
        assert!(flat.contains(en), "{en}");
    }

    let url = format!("{}/?v={code}", d.running.public_url);
    assert!(text.contains(&url), "the link is printed too");
    assert_eq!(decode_qr(&rects), url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_phone_counts_its_install_once_through_the_core() {
    use berani_core::volunteer::InstallState;
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    admin
        .post_form(
            "/desk/volunteers",
            &[("name", "Siti Relawan"), ("area", "")],
        )
        .await;
    let (_, code, _) = volunteers(&d).remove(0);
    let today = berani_server::volunteers::today();

    let phone = tempfile::tempdir().unwrap();
    let reporter = reporter_for(&d, phone.path()).await;
    assert_eq!(reporter.volunteer().unwrap(), None);
    assert!(
        !reporter.report_volunteer_install().await.unwrap(),
        "nothing to send"
    );
    let e = reporter.set_volunteer_code("K7M").unwrap_err();
    assert!(e.to_string().contains("volunteer_code"), "{e}");
    let v = reporter
        .set_volunteer_code(&display(&code).to_lowercase())
        .unwrap();
    assert_eq!(
        (v.code.as_str(), v.state),
        (display(&code).as_str(), InstallState::Pending)
    );
    assert!(reporter.report_volunteer_install().await.unwrap());
    assert_eq!(counts(&d, &code, &today), (1, 0));
    // Once per install: again, and after the phone's store is reopened, nothing more is sent.
    assert!(!reporter.report_volunteer_install().await.unwrap());
    drop(reporter);
    let reporter = open_phone(phone.path());
    assert_eq!(
        reporter.volunteer().unwrap().unwrap().state,
        InstallState::Counted
    );
    reporter.set_volunteer_code(&code).unwrap();
    assert!(!reporter.report_volunteer_install().await.unwrap());
    assert_eq!(counts(&d, &code, &today), (1, 0));

    // An unknown code is refused once and not sent again.
    let other = tempfile::tempdir().unwrap();
    let r2 = reporter_for(&d, other.path()).await;
    let unknown = loop {
        let c = berani_core::volunteer::VolunteerCode::generate();
        if c.canonical() != code {
            break c;
        }
    };
    r2.set_volunteer_code(&unknown.display()).unwrap();
    assert!(matches!(
        r2.report_volunteer_install().await,
        Err(berani_core::CoreError::NotFound("volunteer code"))
    ));
    assert_eq!(
        r2.volunteer().unwrap().unwrap().state,
        InstallState::Refused
    );
    assert!(!r2.report_volunteer_install().await.unwrap());

    // A server that is down leaves the install pending.
    let third = tempfile::tempdir().unwrap();
    let r3 = reporter_for(&d, third.path()).await;
    r3.set_volunteer_code(&code).unwrap();
    d.running
        .state()
        .stopping
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(r3.report_volunteer_install().await.is_err());
    assert_eq!(
        r3.volunteer().unwrap().unwrap().state,
        InstallState::Pending
    );
    d.running
        .state()
        .stopping
        .store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(r3.report_volunteer_install().await.unwrap());
    assert_eq!(counts(&d, &code, &today), (2, 0));
}
