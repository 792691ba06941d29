//! Case desk test helpers: an in-process server on loopback, a small browser-like client
//! (cookie jar, redirects followed by hand so that every `Set-Cookie` is seen, the page's
//! CSRF token added to forms), reports sent through the real sealing and tus upload, and
//! reads of the audit table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berani_core::model::{REPORT_SCHEMA_VERSION, ReportDocument, ReportFields};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use super::{Report, client, sha256_b64};

/// The password tests give the first admin in place of the generated one.
pub const ADMIN_PW: &str = "Kopi tubruk, tiga gelas!";

/// A server started in-process (`berani_server::start`) on a fresh data folder.
pub struct Desk {
    pub running: berani_server::Running,
    pub base: String,
    pub data: PathBuf,
    /// The generated first admin password (until [`Desk::admin`] changes it).
    pub first_password: String,
    _dir: tempfile::TempDir,
}

impl Desk {
    pub async fn start() -> Desk {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut cfg = berani_server::ServeConfig::new(&data);
        cfg.listen = "127.0.0.1:0".parse().unwrap();
        let running = berani_server::start(cfg).await.unwrap();
        let first_password = running.admin_password.as_ref().unwrap().to_string();
        Desk {
            base: format!("http://{}", running.addr),
            running,
            data,
            first_password,
            _dir: dir,
        }
    }

    /// Logs the first admin in and replaces the generated password with [`ADMIN_PW`].
    pub async fn admin(&self) -> DeskClient {
        let mut c = DeskClient::login(&self.base, "admin", &self.first_password).await;
        let p = c.change_password(&self.first_password, ADMIN_PW).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        c
    }

    /// A read-only connection to the database (beside the server's own).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.join("berani.db")).unwrap()
    }

    /// The intake recipient reports are sealed to.
    pub fn recipient(&self) -> String {
        self.db()
            .query_row(
                "SELECT value FROM settings WHERE key = 'intake_recipient'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Every audit row as (actor, action, subject, detail), oldest first.
    pub fn audit(&self) -> Vec<(String, String, String, String)> {
        let c = self.db();
        let mut st = c
            .prepare("SELECT actor, action, subject, detail FROM audit ORDER BY id")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Seals a report whose description is `description` and uploads it whole; returns its id
    /// once the case is open.
    pub async fn send_report(&self, description: &str) -> String {
        send_report(&self.base, &self.recipient(), description).await
    }
}

/// Seals a one-part report (no attachments) to `recipient` and uploads it over tus.
pub async fn send_report(base: &str, recipient: &str, description: &str) -> String {
    let report = Report::new();
    let now = time::OffsetDateTime::now_utc();
    let doc = ReportDocument {
        schema_version: REPORT_SCHEMA_VERSION,
        report_id: report.id.clone(),
        regency: "33.16".into(),
        profile_version: 1,
        drafted_at: now - time::Duration::hours(1),
        submitted_at: now,
        fields: ReportFields {
            description: Some(description.to_string()),
            ..ReportFields::default()
        },
        attachments: Vec::new(),
        reporter_recipient: None,
    };
    let part = super::seal(recipient, doc.to_json());
    let r = client()
        .post(format!("{base}/v1/uploads"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", part.sealed.len().to_string())
        .header("Upload-Metadata", report.meta(0, 1, &part.sha256))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let url = format!("{base}{}", r.headers()["location"].to_str().unwrap());
    let r = client()
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "0")
        .header(
            "Upload-Checksum",
            format!("sha256 {}", sha256_b64(&part.sealed)),
        )
        .body(part.sealed.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "{:?}", r.text().await);
    report.id
}

/// A fetched page, after any redirects.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    /// The path it was fetched from (the last hop).
    pub path: String,
    pub body: String,
}

impl Page {
    /// The text of the element with `id`, e.g. `<code id="one-time-password">…</code>`.
    pub fn element_text(&self, id: &str) -> Option<String> {
        let at = self.body.find(&format!("id=\"{id}\""))?;
        let rest = &self.body[at..];
        let start = rest.find('>')? + 1;
        let end = rest[start..].find('<')?;
        Some(rest[start..start + end].to_string())
    }
}

/// A browser-like desk client.
pub struct DeskClient {
    pub base: String,
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
    csrf: Option<String>,
}

fn scrape_csrf(body: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let at = body.find(marker)? + marker.len();
    let end = body[at..].find('"')?;
    Some(body[at..at + end].to_string())
}

impl DeskClient {
    pub fn new(base: &str) -> DeskClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        DeskClient {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
            csrf: None,
        }
    }

    /// Opens the login form and submits it; returns the client and the page it lands on.
    pub async fn try_login(base: &str, user: &str, password: &str) -> (DeskClient, Page) {
        let mut c = DeskClient::new(base);
        let form = c.get("/desk/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let page = c
            .post_form(
                "/desk/login",
                &[("username", user), ("password", password), ("code", "")],
            )
            .await;
        (c, page)
    }

    /// Logs in and asserts that it worked.
    pub async fn login(base: &str, user: &str, password: &str) -> DeskClient {
        let (c, page) = DeskClient::try_login(base, user, password).await;
        assert!(
            page.status == StatusCode::OK && !page.path.starts_with("/desk/login"),
            "login of {user} failed: {} {} {}",
            page.status,
            page.path,
            page.body
        );
        c
    }

    /// Replaces the password (the form every new user meets first).
    pub async fn change_password(&mut self, current: &str, new: &str) -> Page {
        self.post_form(
            "/desk/account/password",
            &[("current", current), ("new", new), ("again", new)],
        )
        .await
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// Posts a form with the CSRF token of the last page seen.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        if self.csrf.is_none() {
            self.get("/desk/account").await;
        }
        let token = self.csrf.clone().unwrap_or_default();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post_form_raw(path, &all).await
    }

    /// Posts a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn send(&mut self, method: reqwest::Method, path: &str, body: Option<String>) -> Page {
        let (mut method, mut path, mut body) = (method, path.to_string(), body);
        for _ in 0..10 {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if !self.jar.is_empty() {
                let cookies: Vec<String> =
                    self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
                req = req.header(COOKIE, cookies.join("; "));
            }
            if let Some(b) = body.take() {
                req = req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(b);
            }
            let r = req.send().await.unwrap();
            for v in r.headers().get_all(SET_COOKIE) {
                let c = cookie::Cookie::parse(v.to_str().unwrap().to_string()).unwrap();
                let gone =
                    c.value().is_empty() || c.max_age().is_some_and(|a| a.whole_seconds() <= 0);
                if gone {
                    self.jar.remove(c.name());
                } else {
                    self.jar.insert(c.name().to_string(), c.value().to_string());
                }
            }
            let status = r.status();
            if status.is_redirection() {
                let to = r.headers()[LOCATION].to_str().unwrap().to_string();
                if status == StatusCode::SEE_OTHER
                    || status == StatusCode::FOUND
                    || status == StatusCode::MOVED_PERMANENTLY
                {
                    method = reqwest::Method::GET;
                }
                path = to;
                continue;
            }
            let text = r.text().await.unwrap();
            if let Some(t) = scrape_csrf(&text) {
                self.csrf = Some(t);
            }
            return Page {
                status,
                path,
                body: text,
            };
        }
        panic!("too many redirects from {path}");
    }

    /// The CSRF token of the last page seen.
    pub fn csrf(&self) -> Option<String> {
        self.csrf.clone()
    }

    /// The `Cookie` header this client sends.
    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A GET whose body is kept as bytes (a PDF), with its status and content type; no
    /// redirects followed.
    pub async fn get_bytes(&mut self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let ctype = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ctype, r.bytes().await.unwrap().to_vec())
    }

    /// True while the client holds a session cookie the server still knows.
    pub async fn logged_in(&mut self) -> bool {
        let p = self.get("/desk/account").await;
        p.status == StatusCode::OK && p.path == "/desk/account"
    }
}

/// Creates a user through the form; returns the one-time password shown.
pub async fn create(admin: &mut DeskClient, name: &str, role: &str, email: &str) -> (Page, String) {
    let p = admin
        .post_form(
            "/desk/users",
            &[
                ("username", name),
                ("display_name", "Nama Lengkap"),
                ("office", "UPTD PPA Blora"),
                ("email", email),
                ("role", role),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let pw = p.element_text("one-time-password").expect("password shown");
    assert_eq!(pw.len(), 29, "{pw}");
    (p, pw)
}

/// Logs in with a one-time password, is sent to the password form first, and replaces it.
pub async fn first_login(d: &Desk, name: &str, one_time: &str, chosen: &str) -> DeskClient {
    let (mut c, landed) = DeskClient::try_login(&d.base, name, one_time).await;
    assert_eq!(landed.status, StatusCode::OK, "{}", landed.body);
    assert_eq!(landed.path, "/desk/account/password");
    // Nothing else opens before the password is changed.
    let p = c.get("/desk/inbox").await;
    assert_eq!(p.path, "/desk/account/password");
    let p = c.change_password(one_time, chosen).await;
    assert_eq!(p.path, "/desk/account?done=password", "{}", p.body);
    c
}

/// All bytes of every file under `dir`.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if let Ok(b) = std::fs::read(&p) {
            out.push((p, b));
        }
    }
    out
}
