//! Logging in to the desk: wrong passwords, throttling, the TOTP second factor (set up,
//! required, not replayable, switched off by an admin when a phone is lost), and logout
//! ending the session.

mod common;

use common::desk::{ADMIN_PW, Desk, DeskClient, create, first_login};
use reqwest::StatusCode;
use totp_rs::{Builder, Secret};

fn code_at(secret_b32: &str, user: &str, unix: u64) -> String {
    Builder::new()
        .with_secret(Secret::try_from_base32(secret_b32).unwrap())
        .with_issuer(Some("Berani"))
        .with_account_name(user)
        .build()
        .unwrap()
        .generate(unix)
        .to_string()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_passwords_are_refused_then_throttled() {
    let d = Desk::start().await;
    let _admin = d.admin().await;
    for _ in 0..5 {
        let (_, p) = DeskClient::try_login(&d.base, "admin", "not the password").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert!(p.body.contains("Nama pengguna, kata sandi atau kode salah"));
    }
    // Locked now, even with the right password; an unknown user gets the same answer.
    let (_, p) = DeskClient::try_login(&d.base, "admin", ADMIN_PW).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("Terlalu banyak percobaan"), "{}", p.body);
    let (_, p) = DeskClient::try_login(&d.base, "nobody", "whatever").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    let failed = d
        .audit()
        .into_iter()
        .filter(|(_, a, _, _)| a == "login_failed")
        .count();
    assert_eq!(failed, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn totp_is_required_once_set_not_replayable_and_resettable_by_an_admin() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    let (_, pw) = create(&mut admin, "koor", "coordinator", "koor@example.org").await;
    let mut koor = first_login(&d, "koor", &pw, "Penjaga malam hari ke-4").await;

    // Set up: the page shows a key; a wrong code is refused and nothing is stored.
    let setup = koor.post_form("/desk/account/totp", &[]).await;
    assert_eq!(setup.status, StatusCode::OK);
    let marker = "name=\"secret\" value=\"";
    let at = setup.body.find(marker).unwrap() + marker.len();
    let secret = setup.body[at..at + setup.body[at..].find('"').unwrap()].to_string();
    let p = koor
        .post_form(
            "/desk/account/totp/enable",
            &[("secret", &secret), ("code", "000000")],
        )
        .await;
    assert_eq!(p.status, StatusCode::BAD_REQUEST);
    assert!(p.body.contains("Kode"), "the error names the field");
    let code = code_at(&secret, "koor", now());
    let p = koor
        .post_form(
            "/desk/account/totp/enable",
            &[("secret", &secret), ("code", &code)],
        )
        .await;
    assert_eq!(p.path, "/desk/account?done=totp-on", "{}", p.body);

    // Logging in now needs the code: without it, or with the one just used, it fails.
    let (_, p) = DeskClient::try_login(&d.base, "koor", "Penjaga malam hari ke-4").await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    let mut c = DeskClient::new(&d.base);
    c.get("/desk/login").await;
    let p = c
        .post_form(
            "/desk/login",
            &[
                ("username", "koor"),
                ("password", "Penjaga malam hari ke-4"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED, "a code is good once");
    // The next time step's code (within the allowed skew) logs in.
    let next = code_at(&secret, "koor", now() + 30);
    let mut c = DeskClient::new(&d.base);
    c.get("/desk/login").await;
    let p = c
        .post_form(
            "/desk/login",
            &[
                ("username", "koor"),
                ("password", "Penjaga malam hari ke-4"),
                ("code", &next),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(c.logged_in().await);

    // The phone is lost: an admin switches the second factor off; the sessions end.
    let p = admin.post_form("/desk/users/koor/totp-off", &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    assert!(!c.logged_in().await);
    assert!(!koor.logged_in().await);
    let c = DeskClient::login(&d.base, "koor", "Penjaga malam hari ke-4").await;
    drop(c);
    let actions: Vec<String> = d
        .audit()
        .into_iter()
        .filter(|(_, _, s, _)| s == "koor")
        .map(|(_, a, _, _)| a)
        .collect();
    assert!(actions.contains(&"totp_enable".to_string()), "{actions:?}");
    assert!(actions.contains(&"totp_disable".to_string()), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_ends_the_session_and_its_key() {
    let d = Desk::start().await;
    let mut admin = d.admin().await;
    assert!(admin.logged_in().await);
    let live = d.running.state().desk.sessions.len();
    let p = admin.post_form("/desk/logout", &[]).await;
    assert_eq!(p.path, "/desk/login");
    assert!(!admin.logged_in().await);
    assert_eq!(d.running.state().desk.sessions.len(), live - 1);
    // A replayed old cookie no longer opens anything.
    let p = admin.get("/desk/inbox").await;
    assert!(p.path.starts_with("/desk/login"));
}

/// One client trying many user names (one password against the whole team) is throttled
/// after ten failures, before any password is checked, even for a right password of an
/// account that is not locked itself; the answer is the same "too many tries" page.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_trying_many_names_is_throttled() {
    let d = Desk::start().await;
    let _admin = d.admin().await;
    for i in 0..10 {
        let (_, p) = DeskClient::try_login(&d.base, &format!("tebakan{i}"), "sandi123").await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED);
        assert!(
            p.body.contains("Nama pengguna, kata sandi atau kode salah"),
            "try {i}: {}",
            p.body
        );
    }
    // No single name failed more than once, so only the per-client limit can refuse now.
    let started = std::time::Instant::now();
    let (c, p) = DeskClient::try_login(&d.base, "admin", ADMIN_PW).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.body.contains("Terlalu banyak percobaan"), "{}", p.body);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "a throttled try is answered without a password check"
    );
    drop(c);
    let throttled = d
        .audit()
        .into_iter()
        .filter(|(_, a, _, detail)| a == "login_failed" && detail == "throttled")
        .count();
    assert_eq!(throttled, 1);
}
