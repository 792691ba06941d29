//! Access control over every desk route: anonymous requests go to the login page, and each
//! role is refused what is above it.
//!
//! The routes are read from the desk's source (`server/src/desk/*.rs`, every `.route("…",
//! get(…).post(…))`), so a route added without a line in [`ACCESS`] fails this test until
//! someone decides who may use it.

mod common;

use std::collections::BTreeSet;

use common::desk::{Desk, DeskClient, create, first_login};
use reqwest::StatusCode;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone (login form, stylesheet, language switch).
    Public,
    /// Any logged-in user.
    Login,
    /// Coordinators and admins.
    Coordinator,
    /// Caseworkers and up (the inbox).
    Caseworker,
    /// A case's holder, coordinators and admins.
    Case,
    /// Admins.
    Admin,
    /// Viewers and up (statistics).
    Viewer,
}

use Access::*;

/// Every desk route: method, path, access.
const ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/desk", Login),
    ("GET", "/desk/", Login),
    ("GET", "/desk/static/desk.css", Public),
    ("GET", "/desk/lang", Public),
    ("GET", "/desk/login", Public),
    ("POST", "/desk/login", Public),
    ("POST", "/desk/logout", Login),
    ("GET", "/desk/account", Login),
    ("GET", "/desk/account/password", Login),
    ("POST", "/desk/account/password", Login),
    ("POST", "/desk/account/totp", Coordinator),
    ("POST", "/desk/account/totp/enable", Coordinator),
    ("POST", "/desk/account/totp/disable", Login),
    ("POST", "/desk/account/duty", Coordinator),
    ("GET", "/desk/inbox", Caseworker),
    ("GET", "/desk/cases/{id}", Case),
    ("GET", "/desk/cases/{id}/parts/{part}", Case),
    ("POST", "/desk/cases/{id}/assign", Coordinator),
    ("POST", "/desk/cases/{id}/stage", Case),
    ("POST", "/desk/cases/{id}/note", Case),
    ("POST", "/desk/cases/{id}/refer", Case),
    ("POST", "/desk/cases/{id}/message", Case),
    ("GET", "/desk/audit", Admin),
    ("GET", "/desk/users", Admin),
    ("POST", "/desk/users", Admin),
    ("POST", "/desk/users/{name}/update", Admin),
    ("POST", "/desk/users/{name}/reset", Admin),
    ("POST", "/desk/users/{name}/grant", Admin),
    ("POST", "/desk/users/{name}/revoke", Admin),
    ("POST", "/desk/users/{name}/disable", Admin),
    ("POST", "/desk/users/{name}/enable", Admin),
    ("POST", "/desk/users/{name}/totp-off", Admin),
    ("GET", "/desk/stats", Viewer),
    ("GET", "/desk/stats.csv", Viewer),
    ("GET", "/desk/export.csv", Admin),
    ("GET", "/desk/volunteers", Viewer),
    ("POST", "/desk/volunteers", Admin),
    ("POST", "/desk/volunteers/{vid}/disable", Admin),
    ("POST", "/desk/volunteers/{vid}/enable", Admin),
    ("GET", "/desk/volunteers/{vid}/poster.pdf", Admin),
    // The APK offered on the public page (server/src/public/apk.rs).
    ("GET", "/desk/apk", Admin),
    ("POST", "/desk/apk", Admin),
];

/// `(METHOD, path)` of every route registered in the desk's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("src/desk");
    let mut found = BTreeSet::new();
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        // Desk routes that live outside src/desk.
        .chain([root.join("src/public/apk.rs")]);
    for path in files {
        if path.extension().is_none_or(|x| x != "rs") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        for piece in src.split(".route(").skip(1) {
            let Some(start) = piece.find('"') else {
                continue;
            };
            let Some(len) = piece[start + 1..].find('"') else {
                continue;
            };
            let route = &piece[start + 1..start + 1 + len];
            // The handler part ends where the call does: up to the next line that closes it.
            let end = ["\n        .", "\n}", "\n    }"]
                .iter()
                .filter_map(|stop| piece.find(stop))
                .min()
                .unwrap_or(piece.len());
            let handlers = &piece[start + 1 + len..end];
            for (word, method) in [("get(", "GET"), ("post(", "POST")] {
                if handlers.contains(word) {
                    found.insert((method.to_string(), route.to_string()));
                }
            }
        }
    }
    found
}

#[test]
fn every_desk_route_is_classified() {
    let found = routes_in_source();
    assert!(found.len() >= 25, "too few routes found: {found:?}");
    let listed: BTreeSet<(String, String)> = ACCESS
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let unlisted: Vec<_> = found.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "routes without an access rule in ACCESS: {unlisted:?}"
    );
    let stale: Vec<_> = listed.difference(&found).collect();
    assert!(
        stale.is_empty(),
        "ACCESS lists routes that do not exist: {stale:?}"
    );
}

fn concrete(path: &str, case: &str) -> String {
    path.replace("{id}", case)
        .replace("{part}", "1")
        .replace("{name}", "cw")
        .replace("{vid}", "1")
}

/// True when a response refuses: 403 or 404 (a case one may not see is "not found"), or
/// the login page.
fn refused(status: StatusCode, landed: &str) -> bool {
    status == StatusCode::FORBIDDEN
        || status == StatusCode::NOT_FOUND
        || landed.starts_with("/desk/login")
}

/// Fields that make each POST form otherwise valid, so that only access decides.
fn fields_for(path: &str) -> Vec<(&'static str, &'static str)> {
    if path.ends_with("/assign") {
        vec![("assignee", "")]
    } else if path.ends_with("/stage") {
        vec![("to", "identified"), ("risk", "low")]
    } else if path.ends_with("/note") {
        vec![("note", "catatan uji")]
    } else if path.ends_with("/refer") {
        vec![("office", "UPTD PPA Provinsi"), ("note", "")]
    } else if path == "/desk/volunteers" {
        vec![("name", "Relawan uji"), ("area", "")]
    } else if path == "/desk/users" {
        vec![("username", "probe"), ("role", "viewer"), ("email", "")]
    } else {
        Vec::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn anonymous_and_wrong_roles_are_refused_everywhere() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let case = d.send_report("CONTOH SINTETIS untuk uji akses").await;
    let (_, pw) = create(&mut admin, "coord", "coordinator", "coord@example.org").await;
    let mut coordinator = first_login(&d, "coord", &pw, "Koordinator jaga pagi 1").await;
    let (_, pw) = create(&mut admin, "cw", "caseworker", "").await;
    let mut caseworker = first_login(&d, "cw", &pw, "Pendamping kasus pagi 2").await;
    let (_, pw) = create(&mut admin, "viewer", "viewer", "").await;
    let mut viewer = first_login(&d, "viewer", &pw, "Pemantau angka bulanan 3").await;

    // Anonymous: every non-public route sends to the login page and changes nothing.
    let audit_rows = d.audit().len();
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for (method, path, access) in ACCESS {
        let url = format!("{}{}", d.base, concrete(path, &case));
        let r = match *method {
            "GET" => raw.get(&url).send().await.unwrap(),
            _ => raw
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("csrf=x&note=y")
                .send()
                .await
                .unwrap(),
        };
        let status = r.status();
        let to = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        if *access == Public {
            assert!(
                status.is_success() || status.is_redirection() || status == StatusCode::FORBIDDEN,
                "{method} {path}: {status}"
            );
            continue;
        }
        assert_eq!(
            (status, to.as_str()),
            (StatusCode::SEE_OTHER, "/desk/login"),
            "anonymous {method} {path}"
        );
    }
    // Anonymous POST /desk/login with a bad CSRF writes nothing either.
    assert_eq!(
        d.audit().len(),
        audit_rows,
        "anonymous requests wrote to the audit log"
    );

    // Each role against each route above it (the case is assigned to nobody, so the
    // caseworker does not hold it).
    let ranks = [
        ("viewer", &mut viewer as &mut DeskClient, 0),
        ("caseworker", &mut caseworker, 1),
        ("coordinator", &mut coordinator, 2),
    ];
    let mut checked = 0;
    for (who, client, rank) in ranks {
        for (method, path, access) in ACCESS {
            let needed = match access {
                Public | Login | Viewer => 0,
                Caseworker => 1,
                Case => 2, // not assigned: only coordinators and up
                Coordinator => 2,
                Admin => 3,
            };
            if rank >= needed || *path == "/desk/logout" {
                continue;
            }
            let p = concrete(path, &case);
            let page = match *method {
                "GET" => client.get(&p).await,
                _ => client.post_form(&p, &fields_for(path)).await,
            };
            assert!(
                refused(page.status, &page.path),
                "{who} {method} {path}: {} at {}",
                page.status,
                page.path
            );
            // A refusal leaves the user logged in, and tells nothing of the case.
            assert!(
                !page.body.contains("CONTOH SINTETIS"),
                "{who} {method} {path}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} refusals checked");
    println!(
        "desk routes checked: {} (anonymous), wrong role x route refusals: {checked} \
         (viewer, caseworker, coordinator)",
        ACCESS.len()
    );

    // The same routes open for the role they are meant for (so the refusals above are not
    // everything refusing).
    let p = coordinator.get(&format!("/desk/cases/{case}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("CONTOH SINTETIS untuk uji akses"));
    assert_eq!(caseworker.get("/desk/inbox").await.status, StatusCode::OK);
    assert_eq!(viewer.get("/desk/account").await.status, StatusCode::OK);
    assert_eq!(admin.get("/desk/audit").await.status, StatusCode::OK);
    let p = coordinator
        .post_form(&format!("/desk/cases/{case}/assign"), &[("assignee", "cw")])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let p = caseworker.get(&format!("/desk/cases/{case}")).await;
    assert_eq!(
        p.status,
        StatusCode::OK,
        "the assigned caseworker opens the case"
    );
    assert!(p.body.contains("CONTOH SINTETIS untuk uji akses"));

    // CSRF: a valid session without the form's token is refused and changes nothing.
    let before = d.audit().len();
    let p = caseworker
        .post_form_raw(
            &format!("/desk/cases/{case}/note"),
            &[("note", "tanpa token")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = caseworker
        .post_form_raw(
            &format!("/desk/cases/{case}/note"),
            &[("csrf", "not-the-token"), ("note", "token salah")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(d.audit().len(), before);
}

/// After the team has opened a case and written on it, neither the report's text nor the
/// team's note is anywhere under the data folder or in the server's log.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn content_viewed_on_the_desk_stays_off_disk_and_out_of_logs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = common::Server::start(&data, &[]);
    let first = server.admin_password();
    let (mut admin, _) = DeskClient::try_login(&server.base, "admin", &first).await;
    let p = admin
        .change_password(&first, "Teh manis hangat di pagi hari")
        .await;
    assert_eq!(p.path, "/desk/account?done=password");
    let recipient = {
        let db = rusqlite::Connection::open(data.join("berani.db")).unwrap();
        db.query_row(
            "SELECT value FROM settings WHERE key = 'intake_recipient'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    let marker = "PENANDA-RAHASIA-7Q3ZK";
    let note = "CATATAN-TIM-9XW2P";
    let case = common::desk::send_report(&server.base, &recipient, marker).await;
    let p = admin.get(&format!("/desk/cases/{case}")).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains(marker), "the desk shows the decrypted text");
    let p = admin
        .post_form(&format!("/desk/cases/{case}/note"), &[("note", note)])
        .await;
    assert_eq!(p.status, StatusCode::OK);
    let p = admin
        .post_form(
            &format!("/desk/cases/{case}/stage"),
            &[("to", "identified"), ("risk", "high"), ("note", note)],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(
        admin
            .get(&format!("/desk/cases/{case}"))
            .await
            .body
            .contains(note)
    );
    let stderr = server.stderr();
    let stdout = server.stdout();
    server.stop();
    for (path, bytes) in common::desk::files_under(&data) {
        for secret in [marker, note] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {}",
                path.display()
            );
        }
    }
    for secret in [marker, note] {
        assert!(!stderr.contains(secret), "{secret} in the server's log");
        assert!(!stdout.contains(secret), "{secret} on the server's stdout");
    }
    // The log did record the requests (so it was looked at, not empty).
    assert!(stderr.contains("GET /desk/cases/{id} 200"), "{stderr}");
}

/// The security headers every response must carry, and a policy that allows no inline script.
fn assert_secure_headers(what: &str, r: &reqwest::Response) {
    let h = |n: &str| {
        r.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    let csp = h("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: {csp}");
}

/// A page that needs no inline script: no `<script>` without `src`, no `on…=` handler, no
/// `javascript:` URL.
fn assert_no_inline_script(what: &str, body: &str) {
    let lower = body.to_ascii_lowercase();
    for (at, _) in lower.match_indices("<script") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap_or(0)];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
    }
    assert!(!lower.contains("javascript:"), "{what}: javascript: URL");
    let mut rest = lower.as_str();
    while let Some(i) = rest.find(" on") {
        let word: String = rest[i + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let after = &rest[i + 3 + word.len()..];
        // Only inside a tag: an attribute `onclick="…"`, not the text "on duty".
        let in_tag = rest[..i].rfind('<') > rest[..i].rfind('>');
        assert!(
            !(in_tag && !word.is_empty() && after.starts_with('=')),
            "{what}: event handler attribute on{word}"
        );
        rest = &rest[i + 3..];
    }
}

/// Every desk route, anonymous and as an admin, and the public endpoints, carry the security
/// headers; every desk page an admin can open has no inline script.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_response_carries_security_headers_and_no_inline_script() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let case = d.send_report("CONTOH SINTETIS untuk uji header").await;
    let (_, _) = create(&mut admin, "cw", "caseworker", "").await;
    // Open the case once so that it has a page with everything on it.
    assert_eq!(
        admin.get(&format!("/desk/cases/{case}")).await.status,
        StatusCode::OK
    );
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut checked = 0;
    for (method, path, _) in ACCESS {
        let url = format!("{}{}", d.base, concrete(path, &case));
        let r = match *method {
            "GET" => raw.get(&url).send().await.unwrap(),
            _ => raw.post(&url).body("").send().await.unwrap(),
        };
        assert_secure_headers(&format!("anonymous {method} {path}"), &r);
        checked += 1;
    }
    // As an admin (who may open everything), every GET page: headers, and no inline script.
    let cookie = admin.cookie_header();
    for (method, path, _) in ACCESS.iter().filter(|(m, _, _)| *m == "GET") {
        let url = format!("{}{}", d.base, concrete(path, &case));
        let r = raw
            .get(&url)
            .header("Cookie", &cookie)
            .send()
            .await
            .unwrap();
        let what = format!("admin {method} {path}");
        assert_secure_headers(&what, &r);
        let html = r
            .headers()
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        let body = r.text().await.unwrap();
        if html {
            assert_no_inline_script(&what, &body);
        }
        checked += 1;
    }
    // Public endpoints: the profile, tus discovery, a refusal, an unknown path, follow-up.
    let public = [
        ("GET", "/v1/profile"),
        ("OPTIONS", "/v1/uploads"),
        ("POST", "/v1/uploads"),
        ("HEAD", "/v1/uploads/00000000000000000000000000000000"),
        ("GET", "/no/such/page"),
        ("POST", "/v1/followup/status"),
        ("DELETE", "/v1/profile"),
    ];
    for (method, path) in public {
        let r = raw
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", d.base),
            )
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_secure_headers(&format!("{method} {path}"), &r);
        checked += 1;
    }
    println!("responses checked for security headers: {checked}");
}

/// Every POST form of the desk refuses a request without its CSRF token and one with a wrong
/// token, even from an admin's live session, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_post_form_refuses_a_missing_or_wrong_csrf_token() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let case = d.send_report("CONTOH SINTETIS untuk uji CSRF").await;
    let (_, _) = create(&mut admin, "cw", "caseworker", "").await;
    let real = admin.csrf().unwrap();
    let before = d.audit();
    let mut checked = 0;
    for (_, path, _) in ACCESS.iter().filter(|(m, _, _)| *m == "POST") {
        let p = concrete(path, &case);
        for token in [None, Some("not-the-token"), Some(&real[..real.len() - 1])] {
            let mut fields: Vec<(&str, &str)> = Vec::new();
            if let Some(t) = token {
                fields.push(("csrf", t));
            }
            fields.extend(fields_for(path));
            let page = admin.post_form_raw(&p, &fields).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "POST {path} with csrf {token:?}: {} at {}",
                page.status,
                page.path
            );
            assert!(
                page.body.contains("Formulir kedaluwarsa") || page.body.contains("Form expired"),
                "POST {path}: {}",
                page.body
            );
            checked += 1;
        }
    }
    assert_eq!(d.audit(), before, "a refused form wrote to the audit log");
    assert!(
        admin.logged_in().await,
        "the refusals left the session alone"
    );
    println!("POST forms x bad CSRF tokens refused: {checked}");
}

fn set_cookie_value(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| cookie::Cookie::parse(v.to_str().unwrap().to_string()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A login starts a new session under a new token: a cookie held before (planted by someone
/// else, or a session of another user on the same browser) is dead afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_rotates_the_session_id() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let (_, pw) = create(&mut admin, "viewer", "viewer", "").await;
    let _ = first_login(&d, "viewer", &pw, "Pemantau angka bulanan 3").await;
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = async |cookies: String, user: &str, password: &str| {
        let form = raw
            .get(format!("{}/desk/login", d.base))
            .send()
            .await
            .unwrap();
        let token = set_cookie_value(&form, "berani_login").unwrap();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", token.as_str()),
                ("username", user),
                ("password", password),
                ("code", ""),
            ])
            .finish();
        raw.post(format!("{}/desk/login", d.base))
            .header("Cookie", format!("berani_login={token}; {cookies}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    };
    let alive = async |session: &str| {
        let r = raw
            .get(format!("{}/desk/account", d.base))
            .header("Cookie", format!("berani_desk={session}"))
            .send()
            .await
            .unwrap();
        r.status() == StatusCode::OK
    };

    // A planted session id is not adopted: the login sets a fresh one.
    let planted = "A".repeat(43);
    let r = login(
        format!("berani_desk={planted}"),
        "viewer",
        "Pemantau angka bulanan 3",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let first = set_cookie_value(&r, "berani_desk").unwrap();
    assert_ne!(first, planted);
    assert!(!alive(&planted).await);
    assert!(alive(&first).await);
    // The pre-login form cookie is cleared by the same answer.
    let cleared = r.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("berani_login=;") && v.contains("Max-Age=0")
    });
    assert!(cleared, "the login form's cookie is not cleared");

    // Logging in again on the same browser (as someone else) ends the earlier session.
    let r = login(
        format!("berani_desk={first}"),
        "admin",
        common::desk::ADMIN_PW,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let second = set_cookie_value(&r, "berani_desk").unwrap();
    assert_ne!(second, first);
    assert!(
        !alive(&first).await,
        "the session from before the login is still alive"
    );
    assert!(alive(&second).await);
}

/// Someone with the disk edits and deletes audit rows past the triggers, as an attacker
/// would; the admin's audit page shows the break and names the first row that does not fit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampering_with_the_audit_log_shows_on_the_audit_page() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let case = d.send_report("CONTOH SINTETIS untuk uji audit").await;
    for _ in 0..3 {
        assert_eq!(
            admin.get(&format!("/desk/cases/{case}")).await.status,
            StatusCode::OK
        );
    }
    let p = admin.get("/desk/audit").await;
    assert!(p.body.contains("data-chain=\"ok\""), "{}", p.body);
    let rows = d.audit().len();
    assert!(rows >= 5, "{rows}");

    // The triggers stop an ordinary edit…
    let db = d.db();
    assert!(
        db.execute("UPDATE audit SET detail = 'x' WHERE id = 2", [])
            .is_err()
    );
    assert!(db.execute("DELETE FROM audit WHERE id = 4", []).is_err());
    // …so the attacker drops them, and removes one row.
    db.execute_batch(
        "DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;",
    )
    .unwrap();
    db.execute("DELETE FROM audit WHERE id = 4", []).unwrap();
    let p = admin.get("/desk/audit").await;
    assert!(p.body.contains("data-chain=\"broken\""), "{}", p.body);
    assert!(
        p.body.contains("rantai hash putus di baris 5"),
        "a deleted row breaks the chain at the next one: {}",
        p.body
    );
    // Rewriting an earlier row's detail moves the break to that row.
    db.execute("UPDATE audit SET actor = 'someone-else' WHERE id = 2", [])
        .unwrap();
    let p = admin.get("/desk/audit").await;
    assert!(
        p.body.contains("rantai hash putus di baris 2"),
        "{}",
        p.body
    );
}
