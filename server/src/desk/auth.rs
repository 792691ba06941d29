//! Login, logout, password change and the optional TOTP second factor.
//!
//! A login checks the password (Argon2id, at most two at once), the TOTP code when the user
//! has one, and then unwraps the intake identity from the user's own wrapping into the new
//! session. A generated password (the first admin password, an admin reset) must be replaced
//! before anything else; the change re-wraps the identity under the new password.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;
use serde::Deserialize;
use totp_rs::{Builder, Secret, Totp};
use zeroize::Zeroizing;

use super::accounts::{self, User};
use super::i18n::Lang;
use super::page::{self, csrf};
use super::session::{self, LOGIN_COOKIE};
use super::{Ctx, DeskError, DeskResult, InLang, Role, cookie_value, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::db;
use crate::keys;

/// The desk's account routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk/login", get(login_form).post(login))
        .route("/desk/logout", post(logout))
        .route("/desk/account", get(account))
        .route(
            "/desk/account/password",
            get(password_form).post(change_password),
        )
        .route("/desk/account/totp", post(totp_setup))
        .route("/desk/account/totp/enable", post(totp_enable))
        .route("/desk/account/totp/disable", post(totp_disable))
        .route("/desk/account/duty", post(set_duty))
}

/// A password from a form, zeroed when dropped.
#[derive(Default)]
pub struct Pw(Zeroizing<String>);

impl<'de> Deserialize<'de> for Pw {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Pw(Zeroizing::new(String::deserialize(d)?)))
    }
}

impl std::ops::Deref for Pw {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

fn cookie_header(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/desk; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie is ASCII")
}

fn login_page(lang: Lang, token: &str, error: Option<&str>, secure: bool) -> Response {
    let body = html! {
        section.card {
            h1 { (lang.t("Masuk ke meja kasus", "Log in to the case desk")) }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/desk/login" {
                input type="hidden" name="csrf" value=(token);
                label for="username" { (lang.t("Nama pengguna", "User name")) }
                input #username name="username" autocomplete="username" required autofocus;
                label for="password" { (lang.t("Kata sandi", "Password")) }
                input #password name="password" type="password" autocomplete="current-password" required;
                label for="code" { (lang.t("Kode 6 angka dari aplikasi autentikator (jika diaktifkan)",
                    "6-digit code from your authenticator app (if switched on)")) }
                input #code name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8";
                p { button type="submit" { (lang.t("Masuk", "Log in")) } }
            }
        }
    };
    let mut r = page::bare(lang, lang.t("Masuk", "Log in"), "/desk/login", body);
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(LOGIN_COOKIE, token, Some(3600), secure),
    );
    r
}

async fn login_form(State(s): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let lang = page::lang(&headers);
    // Already logged in: straight to the desk.
    if cookie_value(&headers, session::COOKIE)
        .and_then(|t| s.desk.sessions.get(&t))
        .is_some()
    {
        return Redirect::to("/desk").into_response();
    }
    login_page(lang, &session::token(), None, s.desk.secure_cookies)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: Pw,
    #[serde(default)]
    code: String,
}

/// Why a login failed (only ever shown as one message, so it tells nothing).
enum Refused {
    Wrong,
    Throttled,
}

async fn login(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<crate::followup::ClientTag>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let lang = page::lang(&headers);
    let secure = s.desk.secure_cookies;
    // Double-submit check: the form's token must equal the cookie set with the form.
    let cookie = cookie_value(&headers, LOGIN_COOKIE).unwrap_or_default();
    if cookie.is_empty() || !session::same_token(&cookie, &f.csrf) {
        return DeskError::Csrf.into_response_in(lang);
    }
    let username = f.username.trim().to_lowercase();
    // Without a listener (a router driven directly), every request is one client.
    let client = tag.map(|t| t.0);
    let checked = if client.is_some_and(|c| s.desk.client_throttle.locked(c)) {
        Err(Refused::Throttled)
    } else {
        check_login(&s, &username, &f.password, &f.code).await
    };
    if let (Err(Refused::Wrong), Some(c)) = (&checked, client) {
        s.desk.client_throttle.failed(c);
    }
    match checked {
        Ok((user, identity)) => {
            // A session this browser held before (another user's, or one planted on it) ends
            // here: the login always starts a fresh session under a new token.
            if let Some(old) =
                cookie_value(&headers, session::COOKIE).and_then(|t| s.desk.sessions.get(&t))
            {
                s.desk.sessions.end(&old.key);
            }
            let must_change = user.password_generated;
            let token = s
                .desk
                .sessions
                .start(&user.username, user.role, identity, must_change);
            let name = user.username.clone();
            let logged =
                s.db.write_async(move |tx| audit::append(tx, &name, action::LOGIN, "", ""))
                    .await;
            if let Err(e) = logged {
                tracing::error!("desk: audit of a login failed: {e}");
            }
            let mut r = Redirect::to(if must_change {
                "/desk/account/password"
            } else {
                "/desk"
            })
            .into_response();
            let h = r.headers_mut();
            h.append(
                header::SET_COOKIE,
                cookie_header(session::COOKIE, &token, None, secure),
            );
            h.append(
                header::SET_COOKIE,
                cookie_header(LOGIN_COOKIE, "", Some(0), secure),
            );
            r
        }
        Err(why) => {
            let name = username.clone();
            let detail = match why {
                Refused::Wrong => "wrong credentials",
                Refused::Throttled => "throttled",
            };
            let _ = s
                .db
                .write_async(move |tx| audit::append(tx, &name, action::LOGIN_FAILED, "", detail))
                .await;
            let msg = match why {
                Refused::Wrong => lang.t(
                    "Nama pengguna, kata sandi atau kode salah, atau akun dinonaktifkan.",
                    "Wrong user name, password or code, or the account is disabled.",
                ),
                Refused::Throttled => lang.t(
                    "Terlalu banyak percobaan yang salah. Tunggu beberapa menit lalu coba lagi.",
                    "Too many wrong tries. Wait a few minutes and try again.",
                ),
            };
            let mut r = login_page(lang, &session::token(), Some(msg), secure);
            *r.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
            r
        }
    }
}

/// A PHC string that no password matches, for timing the check of an unknown user like
/// that of a known one.
const DUMMY_PHC: &str = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$ZmFrZWhhc2hmYWtlaGFzaGZha2VoYXNoZmFrZWhhc2g";

async fn check_login(
    s: &Arc<AppState>,
    username: &str,
    password: &str,
    code: &str,
) -> Result<(User, Option<berani_core::age::Identity>), Refused> {
    if s.desk.throttle.locked(username).is_some() {
        return Err(Refused::Throttled);
    }
    let name = username.to_string();
    let found =
        s.db.read_async(move |c| {
            let u = accounts::find(c, &name)?;
            let w = match &u {
                Some(u) if u.role.reads_content() => accounts::wrapper(c, &u.username)?,
                _ => None,
            };
            Ok::<_, rusqlite::Error>((u, w))
        })
        .await
        .map_err(|_| Refused::Wrong)?;
    let _permit = s.desk.kdf.acquire().await.map_err(|_| Refused::Wrong)?;
    let (user, wrapper) = found;
    let pw = Zeroizing::new(password.to_string());
    let u2 = user.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let Some(u) = u2 else {
            let _ = keys::verify_password(&pw, DUMMY_PHC, false);
            return None;
        };
        if !keys::verify_password(&pw, &u.password_hash, u.password_generated) {
            return None;
        }
        let identity = wrapper.and_then(|(recipient, w)| {
            accounts::unwrap_for(&recipient, &w, &u.username, &pw, u.password_generated)
                .map_err(|e| tracing::error!("desk: a wrapping did not open: {e}"))
                .ok()
        });
        Some(identity)
    })
    .await
    .ok()
    .flatten();
    let (Some(user), Some(identity)) = (user, checked) else {
        s.desk.throttle.failed(username);
        return Err(Refused::Wrong);
    };
    if user.disabled_at.is_some() {
        s.desk.throttle.failed(username);
        return Err(Refused::Wrong);
    }
    if let Some(secret) = &user.totp_secret {
        let ok = totp_for(&user.username, secret)
            .ok()
            .and_then(|t| t.check_current(&code.replace(' ', "")))
            .is_some_and(|step| s.desk.totp_step_unused(&user.username, step));
        if !ok {
            s.desk.throttle.failed(username);
            return Err(Refused::Wrong);
        }
    }
    s.desk.throttle.succeeded(username);
    Ok((user, identity))
}

fn totp_for(user: &str, secret: &[u8]) -> Result<Totp, String> {
    Builder::new()
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some("Berani"))
        .with_account_name(user)
        .build()
        .map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(ctx: Ctx, Form(f): Form<CsrfForm>) -> Response {
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(ctx.lang);
    }
    ctx.state.desk.sessions.end(&ctx.session.key);
    let user = ctx.user().to_string();
    let _ = ctx
        .state
        .db
        .write_async(move |tx| audit::append(tx, &user, action::LOGOUT, "", ""))
        .await;
    let mut r = Redirect::to("/desk/login").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(session::COOKIE, "", Some(0), ctx.state.desk.secure_cookies),
    );
    r
}

async fn account(ctx: Ctx, q: axum::extract::Query<Done>) -> Response {
    respond(account_page(ctx, q.0.done.as_deref()).await)
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn account_page(ctx: Ctx, done: Option<&str>) -> DeskResult {
    let l = ctx.lang;
    let name = ctx.user().to_string();
    let user = ctx
        .state
        .db
        .read_async(move |c| accounts::find(c, &name))
        .await
        .lang(l)?
        .ok_or((l, DeskError::NotLoggedIn))?;
    let notice = done.map(|d| match d {
        "password" => l.t("Kata sandi sudah diganti.", "Password changed."),
        "totp-on" => l.t(
            "Verifikasi dua langkah aktif.",
            "Two-step verification is on.",
        ),
        "totp-off" => l.t(
            "Verifikasi dua langkah dimatikan.",
            "Two-step verification is off.",
        ),
        "duty" => l.t("Status piket disimpan.", "Duty status saved."),
        _ => l.t("Tersimpan.", "Saved."),
    });
    let body = html! {
        h1 { (l.t("Akun saya", "My account")) }
        (page::notice(notice))
        section.card {
            dl.fields {
                dt { (l.t("Nama pengguna", "User name")) } dd { (user.username) }
                dt { (l.t("Nama", "Name")) } dd { (user.display_name) }
                dt { (l.t("Peran", "Role")) } dd { (user.role.label(l)) }
                dt { (l.t("Kantor", "Office")) } dd { (user.office) }
                dt { (l.t("Akses isi laporan", "Access to report content")) }
                dd { @if ctx.session.identity.is_some() { (l.t("Ya", "Yes")) } @else { (l.t("Tidak", "No")) } }
            }
            p { a href="/desk/account/password" { (l.t("Ganti kata sandi", "Change password")) } }
        }
        @if user.role >= Role::Coordinator {
            section.card {
                h2 { (l.t("Piket", "On duty")) }
                p { (l.t("Petugas piket menerima e-mail saat laporan baru masuk dan saat kasus hampir melewati batas 24 jam. E-mail tidak memuat isi laporan.",
                    "Coordinators on duty get an e-mail when a report arrives and when a case nears its 24-hour limit. The e-mail holds nothing of the report.")) }
                form method="post" action="/desk/account/duty" {
                    (csrf(&ctx))
                    input type="hidden" name="on" value=(if user.on_duty { "0" } else { "1" });
                    p { (l.t("Sekarang: ", "Now: "))
                        strong { @if user.on_duty { (l.t("sedang piket", "on duty")) } @else { (l.t("tidak piket", "off duty")) } }
                        @if user.email.is_none() { " — " span.overdue { (l.t("belum ada alamat e-mail; minta admin mengisinya", "no e-mail address yet; ask an admin to add one")) } }
                    }
                    button type="submit" { @if user.on_duty { (l.t("Selesai piket", "Go off duty")) } @else { (l.t("Mulai piket", "Go on duty")) } }
                }
            }
            section.card {
                h2 { (l.t("Verifikasi dua langkah (TOTP)", "Two-step verification (TOTP)")) }
                @if user.totp_secret.is_some() {
                    p { (l.t("Aktif. Saat masuk, Anda perlu kode dari aplikasi autentikator.", "On. Logging in needs a code from your authenticator app.")) }
                    form method="post" action="/desk/account/totp/disable" {
                        (csrf(&ctx))
                        label for="code" { (l.t("Kode saat ini", "Current code")) }
                        input #code name="code" inputmode="numeric" autocomplete="one-time-code" required;
                        p { button.secondary type="submit" { (l.t("Matikan", "Switch off")) } }
                    }
                } @else {
                    p { (l.t("Belum aktif. Disarankan untuk admin dan koordinator.", "Off. Recommended for admins and coordinators.")) }
                    form method="post" action="/desk/account/totp" {
                        (csrf(&ctx))
                        button type="submit" { (l.t("Siapkan", "Set up")) }
                    }
                }
            }
        }
    };
    Ok(page::page(
        &ctx,
        l.t("Akun saya", "My account"),
        "/desk/account",
        body,
    ))
}

async fn password_form(ctx: Ctx) -> Response {
    password_page(&ctx, None)
}

fn password_page(ctx: &Ctx, error: Option<String>) -> Response {
    let l = ctx.lang;
    let body = html! {
        section.card {
            h1 { (l.t("Ganti kata sandi", "Change password")) }
            @if ctx.session.must_change {
                p.notice { (l.t("Anda masuk dengan kata sandi sementara. Buat kata sandi Anda sendiri sebelum melanjutkan.",
                    "You logged in with a temporary password. Choose your own before you go on.")) }
            }
            @if let Some(e) = error { p.error role="alert" { (e) } }
            form method="post" action="/desk/account/password" {
                (csrf(ctx))
                label for="current" { (l.t("Kata sandi sekarang", "Current password")) }
                input #current name="current" type="password" autocomplete="current-password" required;
                label for="new" { (l.t("Kata sandi baru (minimal 12 karakter; kalimat pendek mudah diingat)",
                    "New password (at least 12 characters; a short sentence is easy to remember)")) }
                input #new name="new" type="password" autocomplete="new-password" minlength="12" required;
                label for="again" { (l.t("Ulangi kata sandi baru", "New password again")) }
                input #again name="again" type="password" autocomplete="new-password" required;
                p { button type="submit" { (l.t("Simpan", "Save")) } }
            }
        }
    };
    page::page(
        ctx,
        l.t("Ganti kata sandi", "Change password"),
        "/desk/account/password",
        body,
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: Pw,
    #[serde(default)]
    new: Pw,
    #[serde(default)]
    again: Pw,
}

async fn change_password(ctx: Ctx, Form(f): Form<PasswordForm>) -> Response {
    let l = ctx.lang;
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(l);
    }
    if let Err((id, en)) = accounts::check_new_password(ctx.user(), &f.new) {
        let field = l.t("Kata sandi baru", "New password");
        return password_page(&ctx, Some(format!("{field}: {}", l.t(id, en))));
    }
    if *f.new != *f.again {
        return password_page(
            &ctx,
            Some(
                l.t(
                    "Ulangi kata sandi baru: tidak sama dengan kata sandi baru.",
                    "New password again: does not match the new password.",
                )
                .into(),
            ),
        );
    }
    let name = ctx.user().to_string();
    let Ok(Some(user)) = ctx
        .state
        .db
        .read_async({
            let n = name.clone();
            move |c| accounts::find(c, &n)
        })
        .await
    else {
        return DeskError::NotLoggedIn.into_response_in(l);
    };
    let Ok(_permit) = ctx.state.desk.kdf.acquire().await else {
        return DeskError::Internal("kdf".into()).into_response_in(l);
    };
    let identity = ctx.session.identity.clone();
    let recipient = match ctx.state.db.read_async(accounts::intake_recipient).await {
        Ok(r) => r,
        Err(e) => return DeskError::from(e).into_response_in(l),
    };
    let (current, new) = (
        Zeroizing::new(f.current.to_string()),
        Zeroizing::new(f.new.to_string()),
    );
    let u = user.clone();
    let hashed = tokio::task::spawn_blocking(move || {
        if !keys::verify_password(&current, &u.password_hash, u.password_generated) {
            return Ok(None);
        }
        let phc = keys::hash_password(&new, false)?;
        let wrapped = match &identity {
            Some(id) => Some(keys::wrap_identity(id, &u.username, &new, false)?),
            None => None,
        };
        Ok::<_, crate::error::ServerError>(Some((phc, wrapped)))
    })
    .await
    .map_err(|e| DeskError::Internal(e.to_string()));
    let (phc, wrapped) = match hashed {
        Ok(Ok(Some(x))) => x,
        Ok(Ok(None)) => {
            ctx.state.desk.throttle.failed(&name);
            return password_page(
                &ctx,
                Some(
                    l.t("Kata sandi sekarang: salah.", "Current password: wrong.")
                        .into(),
                ),
            );
        }
        Ok(Err(e)) => return DeskError::from(e).into_response_in(l),
        Err(e) => return e.into_response_in(l),
    };
    let has_key = user.has_key;
    let n = name.clone();
    let written = ctx
        .state
        .db
        .write_async(move |tx| {
            accounts::set_password(tx, &n, &phc, false)?;
            audit::append(tx, &n, action::PASSWORD_CHANGE, &n, "")?;
            if let Some(w) = wrapped {
                accounts::put_wrapper(tx, &n, &recipient, &w, db::now())?;
                audit::append(tx, &n, action::KEY_REWRAP, &n, "password change")?;
            } else if has_key {
                // A wrapping this session could not open stays as it was; say so.
                audit::append(
                    tx,
                    &n,
                    action::KEY_REWRAP,
                    &n,
                    "skipped: key not open in session",
                )?;
            }
            Ok::<_, rusqlite::Error>(())
        })
        .await;
    if let Err(e) = written {
        return DeskError::from(e).into_response_in(l);
    }
    ctx.state
        .desk
        .sessions
        .with(&ctx.session.key, |s| s.must_change = false);
    Redirect::to("/desk/account?done=password").into_response()
}

async fn totp_setup(ctx: Ctx, Form(f): Form<CsrfForm>) -> Response {
    let l = ctx.lang;
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(l);
    }
    if ctx.role() < Role::Coordinator {
        return DeskError::Forbidden.into_response_in(l);
    }
    // The new secret rides in the confirmation form until a code proves the app has it.
    let secret = berani_core::crypto::random::<20>();
    let Ok(totp) = totp_for(ctx.user(), &secret) else {
        return DeskError::Internal("totp".into()).into_response_in(l);
    };
    let b32 = totp.secret().to_base32();
    let url = totp.to_url().unwrap_or_default();
    let body = html! {
        section.card {
            h1 { (l.t("Siapkan verifikasi dua langkah", "Set up two-step verification")) }
            ol {
                li { (l.t("Buka aplikasi autentikator di ponsel Anda (misalnya FreeOTP atau Aegis).",
                    "Open an authenticator app on your phone (for example FreeOTP or Aegis).")) }
                li { (l.t("Tambahkan akun dengan kunci ini:", "Add an account with this key:")) br; code { (b32) } }
                li { (l.t("Atau buka tautan ini di ponsel:", "Or open this link on the phone:")) br; code { (url) } }
                li { (l.t("Ketik kode 6 angka yang muncul:", "Type the 6-digit code it shows:")) }
            }
            form method="post" action="/desk/account/totp/enable" {
                (csrf(&ctx))
                input type="hidden" name="secret" value=(b32);
                label for="code" { (l.t("Kode", "Code")) }
                input #code name="code" inputmode="numeric" autocomplete="one-time-code" required;
                p { button type="submit" { (l.t("Aktifkan", "Switch on")) } }
            }
        }
    };
    page::page(
        &ctx,
        l.t("Verifikasi dua langkah", "Two-step verification"),
        "/desk/account",
        body,
    )
}

#[derive(Deserialize)]
struct TotpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    code: String,
}

async fn totp_enable(ctx: Ctx, Form(f): Form<TotpForm>) -> Response {
    let l = ctx.lang;
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(l);
    }
    if ctx.role() < Role::Coordinator {
        return DeskError::Forbidden.into_response_in(l);
    }
    let Some(secret) = Secret::try_from_base32(f.secret.trim())
        .ok()
        .map(|s| s.as_bytes().to_vec())
        .filter(|s| s.len() == 20)
    else {
        return DeskError::invalid(
            "secret",
            "kunci tidak dikenali",
            "the key is not recognised",
        )
        .into_response_in(l);
    };
    let ok = totp_for(ctx.user(), &secret)
        .ok()
        .and_then(|t| t.check_current(&f.code.replace(' ', "")))
        .is_some_and(|step| ctx.state.desk.totp_step_unused(ctx.user(), step));
    if !ok {
        return DeskError::invalid(
            "Kode",
            "tidak cocok; periksa jam ponsel lalu coba lagi dari awal",
            "does not match; check the phone's clock and start again",
        )
        .into_response_in(l);
    }
    let name = ctx.user().to_string();
    let r = ctx
        .state
        .db
        .write_async(move |tx| {
            tx.execute(
                "UPDATE users SET totp_secret = ?2 WHERE username = ?1",
                rusqlite::params![name, secret],
            )?;
            audit::append(tx, &name, action::TOTP_ENABLE, &name, "")
        })
        .await;
    match r {
        Ok(_) => Redirect::to("/desk/account?done=totp-on").into_response(),
        Err(e) => DeskError::from(e).into_response_in(l),
    }
}

async fn totp_disable(ctx: Ctx, Form(f): Form<TotpForm>) -> Response {
    let l = ctx.lang;
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(l);
    }
    let name = ctx.user().to_string();
    let user = match ctx
        .state
        .db
        .read_async({
            let n = name.clone();
            move |c| accounts::find(c, &n)
        })
        .await
    {
        Ok(Some(u)) => u,
        Ok(None) => return DeskError::NotLoggedIn.into_response_in(l),
        Err(e) => return DeskError::from(e).into_response_in(l),
    };
    let ok = user.totp_secret.as_deref().is_some_and(|s| {
        totp_for(&name, s)
            .ok()
            .and_then(|t| t.check_current(&f.code.replace(' ', "")))
            .is_some()
    });
    if !ok {
        return DeskError::invalid("Kode", "tidak cocok", "does not match").into_response_in(l);
    }
    let r = ctx
        .state
        .db
        .write_async(move |tx| {
            tx.execute(
                "UPDATE users SET totp_secret = NULL WHERE username = ?1",
                [&name],
            )?;
            audit::append(tx, &name, action::TOTP_DISABLE, &name, "")
        })
        .await;
    match r {
        Ok(_) => Redirect::to("/desk/account?done=totp-off").into_response(),
        Err(e) => DeskError::from(e).into_response_in(l),
    }
}

#[derive(Deserialize)]
struct DutyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: String,
}

async fn set_duty(ctx: Ctx, Form(f): Form<DutyForm>) -> Response {
    let l = ctx.lang;
    if let Err(e) = ctx.check_csrf(&f.csrf) {
        return e.into_response_in(l);
    }
    if ctx.role() < Role::Coordinator {
        return DeskError::Forbidden.into_response_in(l);
    }
    let on = f.on == "1";
    let name = ctx.user().to_string();
    let r = ctx
        .state
        .db
        .write_async(move |tx| {
            tx.execute(
                "UPDATE users SET on_duty = ?2 WHERE username = ?1",
                rusqlite::params![name, on],
            )?;
            audit::append(
                tx,
                &name,
                action::USER_UPDATE,
                &name,
                if on { "on duty" } else { "off duty" },
            )
        })
        .await;
    match r {
        Ok(_) => Redirect::to("/desk/account?done=duty").into_response(),
        Err(e) => DeskError::from(e).into_response_in(l),
    }
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::{form, query};
    if let Some(f) = form::<LoginForm>(body) {
        let _ = (f.csrf, f.code, f.password.len());
        let _ = accounts::check_username(f.username.trim());
    }
    if let Some(f) = form::<PasswordForm>(body) {
        let _ = (f.csrf, f.current.len(), *f.new == *f.again);
        if accounts::check_new_password("petugas", &f.new).is_ok() {
            assert!((12..=256).contains(&f.new.chars().count()));
        }
    }
    let _ = form::<TotpForm>(body).map(|f| (f.csrf, f.secret, f.code));
    let _ = form::<DutyForm>(body).map(|f| (f.csrf, f.on));
    let _ = form::<CsrfForm>(body).map(|f| f.csrf);
    let _ = query::<Done>(body).map(|q| q.done);
}
