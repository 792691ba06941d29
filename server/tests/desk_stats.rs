//! Statistics on the case desk: a real server on loopback, reports sealed with the core and
//! delivered over tus, the team working them through the desk, and then the charts, the
//! aggregate CSV and the admin's line-level export, seen by an admin and by a viewer.

use std::collections::HashMap;
use std::path::Path;

use berani_core::model::choices::{
    AgeBand, Category, Choice, PlaceType, Relationship, ReporterRole, VictimSex,
};
use berani_core::model::{Location, REPORT_SCHEMA_VERSION, ReportDocument, ReportFields};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

mod common;
use common::{Report, Server};

/// Words only the reporter wrote: they must never reach a statistics page or an export.
const MARKER: &str = "PENANDA-RAHASIA-7Q4X";

// ----- a small desk client: cookies, CSRF tokens, no automatic redirects ---------------------

struct Desk {
    base: String,
    http: reqwest::Client,
    jar: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: String,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Desk {
    fn new(s: &Server) -> Desk {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Desk {
            base: s.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: HashMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Page {
        for v in r.headers().get_all(SET_COOKIE) {
            let c = v.to_str().unwrap();
            let pair = c.split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            let expired = c.contains("Max-Age=0") || val.is_empty();
            if expired {
                self.jar.remove(k.trim());
            } else {
                self.jar.insert(k.trim().to_string(), val.to_string());
            }
        }
        let status = r.status();
        let location = r
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let headers = r.headers().clone();
        let body = r.text().await.unwrap();
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// Logs in; a generated password is replaced by `new_password` first.
    async fn login(&mut self, user: &str, password: &str, new_password: &str) {
        let form = self.get("/desk/login").await;
        let csrf = csrf_of(&form.body);
        let r = self
            .post(
                "/desk/login",
                &[("csrf", &csrf), ("username", user), ("password", password)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "login: {}", r.body);
        if r.location == "/desk/account/password" {
            let page = self.get("/desk/account/password").await;
            let csrf = csrf_of(&page.body);
            let r = self
                .post(
                    "/desk/account/password",
                    &[
                        ("csrf", &csrf),
                        ("current", password),
                        ("new", new_password),
                        ("again", new_password),
                    ],
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "password change: {}",
                r.body
            );
        }
    }

    /// The CSRF token of a page this session can open.
    async fn csrf(&mut self, path: &str) -> String {
        let p = self.get(path).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.body);
        csrf_of(&p.body)
    }

    async fn stage(&mut self, report: &str, to: &str, extra: &[(&str, &str)]) {
        let path = format!("/desk/cases/{report}");
        let csrf = self.csrf(&path).await;
        let mut form = vec![("csrf", csrf.as_str()), ("to", to)];
        form.extend_from_slice(extra);
        let r = self.post(&format!("{path}/stage"), &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "stage {to}: {}", r.body);
    }
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

// ----- reports from the core --------------------------------------------------------------

struct Sent {
    id: String,
}

#[allow(clippy::too_many_arguments)]
async fn send(
    s: &Server,
    recipient: &str,
    category: Category,
    victim: VictimSex,
    age: AgeBand,
    district: &str,
    village: &str,
) -> Sent {
    let report = Report::new();
    let now = time::OffsetDateTime::now_utc();
    let doc = ReportDocument {
        schema_version: REPORT_SCHEMA_VERSION,
        report_id: report.id.clone(),
        regency: "33.16".into(),
        profile_version: 1,
        drafted_at: now - time::Duration::hours(2),
        submitted_at: now,
        fields: ReportFields {
            category: Some(category),
            victim_sex: Some(victim),
            victim_age_band: Some(age),
            reporter_role: Some(ReporterRole::Neighbour),
            location: Location {
                district: Some(district.into()),
                village: Some(village.into()),
                detail: Some(format!("{MARKER} dekat pos ronda")),
            },
            place_type: Some(PlaceType::Household),
            perpetrator_relationship: Some(Relationship::Parent),
            description: Some(format!("CONTOH SINTETIS {MARKER}: laporan uji")),
            ..ReportFields::default()
        },
        attachments: vec![],
        reporter_recipient: None,
    };
    let part = common::seal(recipient, doc.to_json());
    common::upload(s, &report, 0, 1, &part, 64 * 1024).await;
    Sent { id: report.id }
}

fn db(s: &Server) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(s.data.join("berani.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c
}

/// The number in the data table `table` on the row `key` (and the column `series`).
fn cell(html: &str, table: &str, key: &str, series: Option<&str>) -> u64 {
    let start = html
        .find(&format!("id=\"t-{table}\""))
        .unwrap_or_else(|| panic!("no table {table}"));
    let t = &html[start..start + html[start..].find("</table>").unwrap()];
    let r = t
        .find(&format!("data-key=\"{key}\""))
        .unwrap_or_else(|| panic!("no row {key} in {table}"));
    let row = &t[r..r + t[r..].find("</tr>").unwrap()];
    let td = match series {
        Some(s) => row.find(&format!("data-series=\"{s}\"")).unwrap(),
        None => row.find("<td").unwrap(),
    };
    let v = &row[td..];
    let v = &v[v.find('>').unwrap() + 1..];
    v[..v.find('<').unwrap()].trim().parse().unwrap()
}

/// Every inline SVG of a page, parsed as XML.
fn check_svgs(html: &str) -> usize {
    let mut n = 0;
    let mut rest = html;
    while let Some(at) = rest.find("<svg") {
        let end = rest[at..].find("</svg>").expect("a closed svg") + at + 6;
        let svg = &rest[at..end];
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("SVG is not well-formed XML: {e}\n{svg}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(root.attribute("role"), Some("img"));
        let title = root
            .children()
            .find(|c| c.has_tag_name("title"))
            .expect("a <title>");
        assert!(!title.text().unwrap_or("").trim().is_empty());
        let labelled = root.attribute("aria-labelledby").unwrap();
        assert!(labelled.contains(title.attribute("id").unwrap()));
        n += 1;
        rest = &rest[end..];
    }
    n
}

fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            head.iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect();
    (head, rows)
}

fn district_name(code: &str) -> String {
    berani_core::gazetteer::Gazetteer::for_regency("33.16")
        .unwrap()
        .district(code)
        .unwrap()
        .name
        .clone()
}

fn assert_no_marker(what: &str, text: &str) {
    assert!(!text.contains(MARKER), "{what} holds report text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_exports_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let s = Server::start(&data, &[]);
    let admin_pw = s.admin_password();
    let profile = common::profile(&s).await;
    let recipient = profile.recipients[0].clone();

    // Four reports. Three are worked by the admin; the fourth is never opened, so it is
    // not counted in the aggregates (its category and district stay sealed).
    let r1 = send(
        &s,
        &recipient,
        Category::Physical,
        VictimSex::Girl,
        AgeBand::Age6To12,
        "33.16.03",
        "33.16.03.2002",
    )
    .await;
    let r2 = send(
        &s,
        &recipient,
        Category::Sexual,
        VictimSex::Woman,
        AgeBand::Age25To44,
        "33.16.01",
        "33.16.01.2001",
    )
    .await;
    let r3 = send(
        &s,
        &recipient,
        Category::Physical,
        VictimSex::Boy,
        AgeBand::Age13To17,
        "33.16.03",
        "33.16.03.2001",
    )
    .await;
    let _r4 = send(
        &s,
        &recipient,
        Category::Neglect,
        VictimSex::Girl,
        AgeBand::Age0To5,
        "33.16.02",
        "33.16.02.2001",
    )
    .await;
    common::eventually(10, async || {
        db(&s)
            .query_row("SELECT count(*) FROM cases", [], |r| r.get::<_, i64>(0))
            .unwrap()
            == 4
    })
    .await;
    // The second case's 24 hours ran out unassessed (its due time is moved into the past,
    // as a day passing would).
    db(&s)
        .execute(
            "UPDATE cases SET due_at = received_at - 1 WHERE report = ?1",
            [&r2.id],
        )
        .unwrap();

    let mut admin = Desk::new(&s);
    let admin_new = "kata sandi pengelola yang baru 2026";
    admin.login("admin", &admin_pw, admin_new).await;

    // Case 1: identified, assessed (on time), planned, services, referred.
    admin.stage(&r1.id, "identified", &[("risk", "high")]).await;
    admin.stage(&r1.id, "assessed", &[]).await;
    admin.stage(&r1.id, "planned", &[("consent", "1")]).await;
    admin
        .stage(
            &r1.id,
            "services",
            &[("services", "health"), ("services", "legal_aid")],
        )
        .await;
    let csrf = admin.csrf(&format!("/desk/cases/{}", r1.id)).await;
    let r = admin
        .post(
            &format!("/desk/cases/{}/refer", r1.id),
            &[
                ("csrf", &csrf),
                ("office", "UPTD PPA Provinsi Jawa Tengah"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Case 2: identified only, after its deadline. Case 3: opened, still received.
    admin
        .stage(&r2.id, "identified", &[("risk", "medium")])
        .await;
    assert_eq!(
        admin.get(&format!("/desk/cases/{}", r3.id)).await.status,
        StatusCode::OK
    );

    // The counts hold no case id and no report text.
    let c = db(&s);
    let total: i64 = c
        .query_row("SELECT sum(count) FROM stats_counts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(total, 3);
    drop(c);

    // ----- the statistics page, as the admin -----
    let page = admin.get("/desk/stats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers["cache-control"], "no-store");
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"));
    let html = &page.body;
    assert_no_marker("the statistics page", html);
    assert!(!html.contains("<script"), "no script on the page");
    assert!(html.contains("data-received=\"4\""), "four received");
    assert!(html.contains("data-counted=\"3\""), "three counted");
    assert_eq!(cell(html, "category", "physical", None), 2);
    assert_eq!(cell(html, "category", "sexual", None), 1);
    assert_eq!(cell(html, "category", "neglect", None), 0, "not opened yet");
    assert_eq!(cell(html, "category", "total", None), 3);
    assert_eq!(cell(html, "district", "33.16.03", None), 2);
    assert_eq!(cell(html, "district", "33.16.01", None), 1);
    assert!(html.contains(&district_name("33.16.03")));
    assert_eq!(cell(html, "age", "6-12", Some("girl")), 1);
    assert_eq!(cell(html, "age", "13-17", Some("boy")), 1);
    assert_eq!(cell(html, "age", "25-44", Some("woman")), 1);
    assert_eq!(cell(html, "age", "25-44", Some("total")), 1);
    // Open cases by stage come from the clear workflow columns: all four.
    assert_eq!(cell(html, "open", "services", None), 1);
    assert_eq!(cell(html, "open", "identified", None), 1);
    assert_eq!(cell(html, "open", "received", None), 2);
    // SLA: case 1 on time, case 2 late, cases 3 and 4 not yet due.
    assert!(html.contains("data-sla-met=\"1\""));
    assert!(html.contains("data-sla-breached=\"1\""));
    assert!(html.contains("data-sla-pending=\"2\""));
    assert!(html.contains("data-sla-rate=\"50.0\""));
    assert!(!html.contains("data-median-secs=\"\""), "a median exists");
    // The months: this month holds the three counted cases.
    let wib = time::UtcOffset::from_hms(7, 0, 0).unwrap();
    let now = time::OffsetDateTime::now_utc().to_offset(wib);
    let this_month = format!("{:04}-{:02}", now.year(), u8::from(now.month()));
    assert_eq!(cell(html, "month", &this_month, None), 3);
    assert_eq!(cell(html, "year", &now.year().to_string(), None), 3);
    let svgs = check_svgs(html);
    assert_eq!(svgs, 7, "seven charts");
    assert!(html.contains("<rect"), "bars are drawn");

    // The year filter, and bad filters named in both languages.
    let page = admin.get(&format!("/desk/stats?year={}", now.year())).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(cell(&page.body, "category", "total", None), 3);
    let page = admin
        .get(&format!("/desk/stats?year={}", now.year() - 1))
        .await;
    assert_eq!(cell(&page.body, "category", "total", None), 0);
    let bad = admin.get("/desk/stats?year=20x6").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("year"), "{}", bad.body);
    let bad = admin.get("/desk/stats?month=4").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("month"));

    // ----- a viewer -----
    let viewer_pw = "pemantau statistik kabupaten";
    let hash = berani_server::keys::hash_password(viewer_pw, false).unwrap();
    db(&s)
        .execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ('vera', 'viewer', ?1, unixepoch())",
            [&hash],
        )
        .unwrap();
    let mut viewer = Desk::new(&s);
    viewer.login("vera", viewer_pw, viewer_pw).await;
    let home = viewer.get("/desk").await;
    assert_eq!(home.location, "/desk/stats");
    let page = viewer.get("/desk/stats").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_no_marker("the viewer's statistics page", &page.body);
    assert_eq!(cell(&page.body, "category", "physical", None), 2);
    assert_eq!(check_svgs(&page.body), 7);
    assert!(
        !page.body.contains("/desk/export.csv"),
        "no export link for a viewer"
    );
    // English too.
    viewer.jar.insert("lang".into(), "en".into());
    let page = viewer.get("/desk/stats").await;
    assert!(page.body.contains("Physical violence"));
    assert_eq!(check_svgs(&page.body), 7);
    viewer.jar.remove("lang");
    // Refused: the line export, case pages, the inbox, the audit log.
    let r = viewer.get("/desk/export.csv").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_no_marker("a refusal", &r.body);
    assert_eq!(
        viewer.get(&format!("/desk/cases/{}", r1.id)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get("/desk/inbox").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        viewer.get("/desk/audit").await.status,
        StatusCode::FORBIDDEN
    );

    // The viewer's aggregate CSV: SIMFONI-style columns, summing to the counted cases.
    let r = viewer.get("/desk/stats.csv").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_no_marker("the aggregate CSV", &r.body);
    let (head, rows) = parse_csv(r.body.as_bytes());
    for col in [
        "periode",
        "kode_kecamatan",
        "kecamatan",
        "jenis_kekerasan",
        "jenis_kelamin_korban",
        "kelompok_usia_korban",
        "tahap",
        "sla_asesmen_24_jam",
        "jumlah",
    ] {
        assert!(head.iter().any(|h| h == col), "column {col}");
    }
    let sum: u64 = rows
        .iter()
        .map(|r| r["jumlah"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(sum, 3);
    let kradenan: u64 = rows
        .iter()
        .filter(|r| r["kode_kecamatan"] == "33.16.03")
        .map(|r| {
            assert_eq!(r["kecamatan"], district_name("33.16.03"));
            r["jumlah"].parse::<u64>().unwrap()
        })
        .sum();
    assert_eq!(kradenan, 2);
    let girl = rows
        .iter()
        .find(|r| r["korban"] == "girl")
        .expect("the girl's row");
    assert_eq!(girl["jenis_kelamin_korban"], "P");
    assert_eq!(girl["kelompok_usia_korban"], "6-12");
    assert_eq!(girl["tahap"], "services");
    assert_eq!(girl["sla_asesmen_24_jam"], "met");
    let late = rows.iter().find(|r| r["korban"] == "woman").unwrap();
    assert_eq!(late["sla_asesmen_24_jam"], "breached");
    // A filtered year with no cases: only the header.
    let r = viewer
        .get(&format!("/desk/stats.csv?year={}", now.year() - 1))
        .await;
    assert_eq!(parse_csv(r.body.as_bytes()).1.len(), 0);

    // ----- the line-level export, as the admin -----
    let r = admin.get("/desk/export.csv").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_no_marker("the line export", &r.body);
    let (head, rows) = parse_csv(r.body.as_bytes());
    assert!(head.iter().any(|h| h == "jenis_kekerasan"));
    assert!(
        !head
            .iter()
            .any(|h| h.contains("cerita") || h.contains("deskripsi")),
        "no free-text column"
    );
    assert_eq!(rows.len(), 4, "every case, one row each");
    let line1 = rows.iter().find(|r| r["id_kasus"] == r1.id).unwrap();
    assert_eq!(line1["kecamatan"], district_name("33.16.03"));
    assert_eq!(line1["kode_desa"], "33.16.03.2002");
    assert_eq!(line1["jenis_kekerasan"], Category::Physical.label_id());
    assert_eq!(line1["jenis_kelamin_korban"], "P");
    assert_eq!(line1["kelompok_usia_korban"], AgeBand::Age6To12.label_id());
    assert_eq!(line1["tempat_kejadian"], PlaceType::Household.label_id());
    assert_eq!(line1["hubungan_pelaku"], Relationship::Parent.label_id());
    assert!(line1["layanan"].contains("Layanan kesehatan"));
    assert!(line1["layanan"].contains("Bantuan hukum"));
    assert_eq!(line1["rujukan"], "UPTD PPA Provinsi Jawa Tengah");
    assert_eq!(line1["tingkat_risiko"], "Tinggi");
    assert_eq!(line1["sla_asesmen_24_jam"], "met");
    // A coordinator sees the statistics but may not export lines either.
    let coord_pw = "koordinator unit layanan";
    let hash = berani_server::keys::hash_password(coord_pw, false).unwrap();
    db(&s)
        .execute(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ('cora', 'coordinator', ?1, unixepoch())",
            [&hash],
        )
        .unwrap();
    let mut coord = Desk::new(&s);
    coord.login("cora", coord_pw, coord_pw).await;
    assert_eq!(coord.get("/desk/stats").await.status, StatusCode::OK);
    assert_eq!(
        coord.get("/desk/export.csv").await.status,
        StatusCode::FORBIDDEN
    );
    // The export opened every case, so the fourth is counted now.
    let page = admin.get("/desk/stats").await;
    assert!(page.body.contains("data-counted=\"4\""));
    assert_eq!(cell(&page.body, "category", "neglect", None), 1);

    // ----- both exports are in the audit log -----
    let audit = admin.get("/desk/audit?action=export_lines").await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(audit.body.contains("data-action=\"export_lines\""));
    assert!(audit.body.contains("rows=4"));
    let audit = admin.get("/desk/audit?action=export_aggregates").await;
    assert!(audit.body.contains("data-action=\"export_aggregates\""));
    assert!(audit.body.contains("vera"));
    let (lines, aggs): (i64, i64) = db(&s)
        .query_row(
            "SELECT sum(action = 'export_lines'), sum(action = 'export_aggregates') FROM audit",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((lines, aggs), (1, 2));

    // Anonymous: to the login page, never the numbers.
    let mut anon = Desk::new(&s);
    for path in ["/desk/stats", "/desk/stats.csv", "/desk/export.csv"] {
        let r = anon.get(path).await;
        assert!(r.status.is_redirection(), "{path}: {}", r.status);
        assert_eq!(r.location, "/desk/login");
    }

    // Nothing the reporter wrote reached the data folder or the logs.
    let logs = s.stdout() + &s.stderr();
    assert_no_marker("the server's log", &logs);
    assert!(s.stop().success());
    assert_no_marker_under(&data);
}

fn assert_no_marker_under(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            assert_no_marker_under(&p);
        } else {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()),
                "{} holds report text",
                p.display()
            );
        }
    }
}
