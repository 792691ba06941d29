//! Accounts administration and key custody at `/desk/users`, and `berani-server user add`,
//! against a real server in-process on loopback with a real data folder.

mod common;

use berani_server::audit;
use common::desk::{ADMIN_PW, Desk, DeskClient, Page, create, files_under, first_login};
use reqwest::StatusCode;

fn has_wrapper(d: &Desk, user: &str) -> bool {
    d.db()
        .query_row(
            "SELECT count(*) FROM key_wrappers WHERE user = ?1",
            [user],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

fn count(d: &Desk, table: &str) -> i64 {
    d.db()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn actions_on(d: &Desk, subject: &str) -> Vec<String> {
    d.audit()
        .into_iter()
        .filter(|(_, _, s, _)| s == subject)
        .map(|(_, a, _, _)| a)
        .collect()
}

fn chain_ok(d: &Desk) {
    let v = audit::verify(&d.db()).unwrap();
    assert_eq!(v.first_bad, None);
    assert!(v.rows > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_caseworker_gets_a_one_time_password_and_the_key() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let list = admin.get("/desk/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("id=\"user-admin\""));

    let (shown, pw) = create(&mut admin, "ani", "caseworker", "ani@dinsos.blorakab.go.id").await;
    assert_eq!(shown.body.matches(pw.as_str()).count(), 1);
    // Shown once: not on the list, not in the database or any file in clear.
    let list = admin.get("/desk/users").await;
    assert!(list.body.contains("id=\"user-ani\""));
    assert!(list.body.contains("ani@dinsos.blorakab.go.id"));
    assert!(!list.body.contains(pw.as_str()));
    let compact = pw.replace('-', "");
    for (path, bytes) in files_under(&d.data) {
        for needle in [pw.as_bytes(), compact.as_bytes()] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "password in {}",
                path.display()
            );
        }
    }
    let (generated, role): (bool, String) = d
        .db()
        .query_row(
            "SELECT password_generated, role FROM users WHERE username = 'ani'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(generated);
    assert_eq!(role, "caseworker");
    assert!(has_wrapper(&d, "ani"));

    // A report arrives; the admin assigns it to the new caseworker.
    let marker = "PENANDA-ani-7c1e";
    let report = d.send_report(marker).await;
    let p = admin
        .post_form(
            &format!("/desk/cases/{report}/assign"),
            &[("assignee", "ani")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);

    // The caseworker logs in, must change the password, and then holds the key.
    let mut ani = first_login(&d, "ani", &pw, "Sate ayam di alun-alun").await;
    let case = ani.get(&format!("/desk/cases/{report}")).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    assert!(case.body.contains(marker));
    // The password change re-wrapped the key: it opens after a fresh login as well.
    let mut again = DeskClient::login(&d.base, "ani", "Sate ayam di alun-alun").await;
    let case = again.get(&format!("/desk/cases/{report}")).await;
    assert!(case.body.contains(marker));
    // Not an admin: the users page is refused.
    assert_eq!(ani.get("/desk/users").await.status, StatusCode::FORBIDDEN);
    let p = ani
        .post_form("/desk/users", &[("username", "mallory"), ("role", "admin")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&d, "users WHERE username = 'mallory'"), 0);

    assert_eq!(
        actions_on(&d, "ani"),
        ["user_create", "key_grant", "password_change", "key_rewrap"]
    );
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_viewer_gets_no_key_and_no_content() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let report = d.send_report("PENANDA-viewer").await;
    let (_, pw) = create(&mut admin, "vera", "viewer", "").await;
    assert!(!has_wrapper(&d, "vera"));
    let mut vera = first_login(&d, "vera", &pw, "Statistik saja, terima kasih").await;
    assert_eq!(vera.get("/desk/inbox").await.status, StatusCode::FORBIDDEN);
    let case = vera.get(&format!("/desk/cases/{report}")).await;
    assert_eq!(case.status, StatusCode::FORBIDDEN);
    assert!(!case.body.contains("PENANDA-viewer"));
    assert_eq!(vera.get("/desk/users").await.status, StatusCode::FORBIDDEN);
    // Granting a viewer the key is refused: the role must change first.
    let p = admin.post_form("/desk/users/vera/grant", &[]).await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(!has_wrapper(&d, "vera"));
    assert_eq!(actions_on(&d, "vera"), ["user_create", "password_change"]);
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reset_revoke_grant_and_role_changes_move_the_key() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let report = d.send_report("PENANDA-budi").await;
    let (_, pw) = create(&mut admin, "budi", "coordinator", "budi@x.id").await;
    let mut budi = first_login(&d, "budi", &pw, "Nasi goreng pedas sekali").await;
    assert_eq!(
        budi.get(&format!("/desk/cases/{report}")).await.status,
        StatusCode::OK
    );

    // A reset: a new one-time password, the key re-wrapped under it, the sessions ended.
    let p = admin.post_form("/desk/users/budi/reset", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let reset_pw = p.element_text("one-time-password").unwrap();
    assert!(!budi.logged_in().await, "budi's session survived the reset");
    let (_, old) = DeskClient::try_login(&d.base, "budi", "Nasi goreng pedas sekali").await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let mut budi = first_login(&d, "budi", &reset_pw, "Mie ayam tanpa sawi").await;
    let case = budi.get(&format!("/desk/cases/{report}")).await;
    assert!(case.body.contains("PENANDA-budi"), "{}", case.body);

    // Revoke: the wrapping is deleted and the key leaves memory with the sessions.
    let p = admin.post_form("/desk/users/budi/revoke", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(!has_wrapper(&d, "budi"));
    assert!(!budi.logged_in().await);
    let mut budi = DeskClient::login(&d.base, "budi", "Mie ayam tanpa sawi").await;
    let case = budi.get(&format!("/desk/cases/{report}")).await;
    assert_eq!(case.status, StatusCode::FORBIDDEN);
    assert!(!case.body.contains("PENANDA-budi"));
    // A plain reset keeps access as it was (revoked).
    let p = admin.post_form("/desk/users/budi/reset", &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!has_wrapper(&d, "budi"));
    // Grant: a reset that wraps the key.
    let p = admin.post_form("/desk/users/budi/grant", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let grant_pw = p.element_text("one-time-password").unwrap();
    assert!(has_wrapper(&d, "budi"));
    let mut budi = first_login(&d, "budi", &grant_pw, "Es teh manis dua").await;
    let case = budi.get(&format!("/desk/cases/{report}")).await;
    assert!(case.body.contains("PENANDA-budi"));

    // To viewer: the wrapping goes, the session ends.
    let update = |role: &'static str| {
        [
            ("display_name", "Budi Santoso"),
            ("office", "Dinsos P3A"),
            ("email", "budi@x.id"),
            ("role", role),
            ("on_duty", "1"),
        ]
    };
    let p = admin
        .post_form("/desk/users/budi/update", &update("viewer"))
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(!has_wrapper(&d, "budi"));
    assert!(!budi.logged_in().await);
    let (role, on_duty, office): (String, bool, String) = d
        .db()
        .query_row(
            "SELECT role, on_duty, office FROM users WHERE username = 'budi'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    // Viewers take no duty.
    assert_eq!(
        (role.as_str(), on_duty, office.as_str()),
        ("viewer", false, "Dinsos P3A")
    );
    // Back to coordinator: no key until granted, and the page says so.
    let p = admin
        .post_form("/desk/users/budi/update", &update("coordinator"))
        .await;
    assert!(p.path.contains("done=update-grant"), "{}", p.path);
    assert!(p.body.contains("Beri akses"));
    assert!(!has_wrapper(&d, "budi"));
    let (role, on_duty): (String, bool) = d
        .db()
        .query_row(
            "SELECT role, on_duty FROM users WHERE username = 'budi'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((role.as_str(), on_duty), ("coordinator", true));
    // Saving the same again changes nothing and writes no audit row.
    let before = d.audit().len();
    let p = admin
        .post_form("/desk/users/budi/update", &update("coordinator"))
        .await;
    assert!(p.path.contains("done=nochange"), "{}", p.path);
    assert_eq!(d.audit().len(), before);

    let a = actions_on(&d, "budi");
    assert_eq!(
        a,
        [
            "user_create",
            "key_grant",
            "password_change",
            "key_rewrap",
            "password_reset",
            "key_rewrap",
            "password_change",
            "key_rewrap",
            "key_revoke",
            "password_reset",
            "password_reset",
            "key_grant",
            "password_change",
            "key_rewrap",
            "user_update",
            "key_revoke",
            "user_update",
        ]
    );
    let resets: Vec<String> = d
        .audit()
        .into_iter()
        .filter(|(_, a, s, _)| a == "password_reset" && s == "budi")
        .map(|(actor, _, _, detail)| format!("{actor}:{detail}"))
        .collect();
    assert_eq!(
        resets,
        ["admin:key re-wrapped", "admin:", "admin:access granted"]
    );
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabled_users_cannot_log_in_until_enabled() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let (_, pw) = create(&mut admin, "citra", "caseworker", "").await;
    let mut citra = first_login(&d, "citra", &pw, "Bakso urat dua mangkok").await;

    let p = admin.post_form("/desk/users/citra/disable", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(p.body.contains("id=\"user-citra\""));
    assert!(!citra.logged_in().await, "the session survived disabling");
    let (_, refused) = DeskClient::try_login(&d.base, "citra", "Bakso urat dua mangkok").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // Disabled keeps the key, so enabling gives the same access back.
    assert!(has_wrapper(&d, "citra"));

    let p = admin.post_form("/desk/users/citra/enable", &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    let mut citra = DeskClient::login(&d.base, "citra", "Bakso urat dua mangkok").await;
    assert_eq!(citra.get("/desk/inbox").await.status, StatusCode::OK);

    // Without the CSRF token nothing happens.
    let p = admin
        .post_form_raw("/desk/users/citra/disable", &[("csrf", "wrong")])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(citra.logged_in().await);
    // An unknown user is not found.
    let p = admin.post_form("/desk/users/nobody/disable", &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);

    let a = actions_on(&d, "citra");
    assert_eq!(
        a,
        [
            "user_create",
            "key_grant",
            "password_change",
            "key_rewrap",
            "user_disable",
            "user_enable"
        ]
    );
    assert!(
        d.audit()
            .iter()
            .any(|(actor, act, _, _)| actor == "citra" && act == "login_failed")
    );
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_last_admin_holding_the_key_is_protected() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let before = d.audit().len();
    let refused = |p: &Page, field: &str| {
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
        assert!(p.body.contains(&format!("{field}: ")), "{}", p.body);
    };
    // Alone: no self-disable, no demotion, no revoke.
    let p = admin.post_form("/desk/users/admin/disable", &[]).await;
    refused(&p, "username");
    let p = admin
        .post_form(
            "/desk/users/admin/update",
            &[("display_name", "Admin"), ("role", "coordinator")],
        )
        .await;
    refused(&p, "role");
    assert!(p.body.contains("admin aktif terakhir"));
    let p = admin.post_form("/desk/users/admin/revoke", &[]).await;
    refused(&p, "access");
    assert!(has_wrapper(&d, "admin"));
    assert_eq!(d.audit().len(), before);

    // A second admin with the key: now the first may be demoted by the second…
    let (_, pw) = create(&mut admin, "dewi", "admin", "").await;
    let mut dewi = first_login(&d, "dewi", &pw, "Soto kudus hangat sekali").await;
    let p = dewi.post_form("/desk/users/admin/disable", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(!admin.logged_in().await);
    // …and the second is then the last one.
    let p = dewi.post_form("/desk/users/dewi/revoke", &[]).await;
    refused(&p, "access");
    let p = dewi
        .post_form("/desk/users/dewi/update", &[("role", "viewer")])
        .await;
    refused(&p, "role");
    let p = dewi.post_form("/desk/users/dewi/disable", &[]).await;
    refused(&p, "username");
    assert!(has_wrapper(&d, "dewi"));
    // With the first admin back, the second may step down.
    let p = dewi.post_form("/desk/users/admin/enable", &[]).await;
    assert_eq!(p.status, StatusCode::OK);
    let p = dewi
        .post_form(
            "/desk/users/dewi/update",
            &[("display_name", "Dewi"), ("role", "coordinator")],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    // Her own role changed: her session ended with it.
    assert_eq!(p.path, "/desk/login");
    let mut admin = DeskClient::login(&d.base, "admin", ADMIN_PW).await;
    assert_eq!(admin.get("/desk/users").await.status, StatusCode::OK);
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_input_is_named_and_changes_nothing() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let (_, _) = create(&mut admin, "eka", "caseworker", "").await;
    let users = count(&d, "users");
    let rows = d.audit().len();
    for (fields, field) in [
        (
            vec![("username", "Eka Putri!"), ("role", "viewer")],
            "username",
        ),
        (vec![("username", "x"), ("role", "viewer")], "username"),
        (vec![("username", "eka"), ("role", "viewer")], "username"),
        (
            vec![
                ("username", "fajar"),
                ("role", "viewer"),
                ("email", "fajar@"),
            ],
            "email",
        ),
        (
            vec![
                ("username", "fajar"),
                ("role", "viewer"),
                ("email", "a b@x.id"),
            ],
            "email",
        ),
        (vec![("username", "fajar"), ("role", "officer")], "role"),
        (vec![("username", "fajar")], "role"),
        (
            vec![
                ("username", "fajar"),
                ("role", "viewer"),
                ("office", "a\nb"),
            ],
            "office",
        ),
    ] {
        let p = admin.post_form("/desk/users", &fields).await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{fields:?}: {}", p.body);
        assert!(
            p.body.contains(&format!("{field}: ")),
            "{fields:?} does not name {field}: {}",
            p.body
        );
        assert!(!p.body.contains("one-time-password"));
    }
    for (fields, field) in [
        (vec![("role", "caseworker"), ("email", "nope")], "email"),
        (vec![("role", "superuser")], "role"),
    ] {
        let p = admin.post_form("/desk/users/eka/update", &fields).await;
        assert_eq!(p.status, StatusCode::BAD_REQUEST, "{}", p.body);
        assert!(p.body.contains(&format!("{field}: ")), "{}", p.body);
    }
    // In English too.
    admin.get("/desk/lang?to=en&back=/desk/users").await;
    let p = admin
        .post_form("/desk/users", &[("username", "fajar"), ("role", "root")])
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("role: unknown role"), "{}", p.body);

    assert_eq!(count(&d, "users"), users);
    assert_eq!(d.audit().len(), rows);
    let (email, role): (Option<String>, String) = d
        .db()
        .query_row(
            "SELECT email, role FROM users WHERE username = 'eka'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((email, role.as_str()), (None, "caseworker"));
    chain_ok(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn user_add_on_the_command_line_prints_a_password_that_logs_in() {
    let d = Desk::start().await;
    let report = d.send_report("PENANDA-cli").await;
    let add = |pw: Option<&str>, extra: &[&str]| -> std::process::Output {
        let mut args = vec!["user", "add"];
        args.extend_from_slice(extra);
        common::run(&args, &d.data, pw)
    };
    // The generated admin password works before it is changed, like `key export`.
    let first = d.first_password.as_str();
    let out = add(
        Some(first),
        &[
            "--name",
            "gita",
            "--role",
            "coordinator",
            "--display-name",
            "Gita Lestari",
            "--office",
            "UPTD PPA",
            "--email",
            "gita@x.id",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let pw = lines[0].strip_prefix("password: ").unwrap();
    assert_eq!(pw.len(), 29);
    assert!(has_wrapper(&d, "gita"));
    let mut gita = first_login(&d, "gita", pw, "Gudeg manis dari Jogja").await;
    let case = gita.get(&format!("/desk/cases/{report}")).await;
    assert!(case.body.contains("PENANDA-cli"), "{}", case.body);

    // A viewer gets no wrapping.
    let out = add(Some(first), &["--name", "hadi", "--role", "viewer"]);
    assert!(out.status.success());
    assert!(!has_wrapper(&d, "hadi"));

    let users = count(&d, "users");
    let rows = d.audit().len();
    // Wrong admin password, unknown role, bad name, bad e-mail, taken name: refused, nothing
    // written, no password printed.
    for (pw, extra, says) in [
        (
            Some("WRONG-PASSWORD"),
            vec!["--name", "ika", "--role", "viewer"],
            "wrong password",
        ),
        (
            Some(first),
            vec!["--name", "ika", "--role", "boss"],
            "role: ",
        ),
        (
            Some(first),
            vec!["--name", "I K A", "--role", "viewer"],
            "username: ",
        ),
        (
            Some(first),
            vec!["--name", "ika", "--role", "viewer", "--email", "ika"],
            "email: ",
        ),
        (
            Some(first),
            vec!["--name", "gita", "--role", "viewer"],
            "username: ",
        ),
    ] {
        let out = add(pw, &extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra:?}");
        assert!(err.contains(says), "{extra:?}: {err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(count(&d, "users"), users);
    assert_eq!(d.audit().len(), rows);

    // After the admin chooses a password, that one is needed.
    let _admin = d.admin().await;
    let out = add(Some(first), &["--name", "joko", "--role", "viewer"]);
    assert!(!out.status.success());
    let out = add(Some(ADMIN_PW), &["--name", "joko", "--role", "viewer"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let created: Vec<(String, String)> = d
        .audit()
        .into_iter()
        .filter(|(_, a, _, _)| a == "user_create" || a == "key_grant")
        .map(|(actor, a, s, _)| (actor, format!("{a} {s}")))
        .collect();
    assert_eq!(
        created,
        [
            ("admin".into(), "user_create gita".into()),
            ("admin".into(), "key_grant gita".into()),
            ("admin".into(), "user_create hadi".into()),
            ("admin".into(), "user_create joko".into()),
        ]
    );
    chain_ok(&d);
}
