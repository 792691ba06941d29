//! Accounts administration and key custody (admins only): create users, reset passwords,
//! disable and enable accounts, change roles and details, grant and revoke access to
//! report content.
//!
//! A new account, and every reset, gets a password the server generates
//! ([`keys::generate_password`]). It is shown once to the admin on the result page, stored
//! only as an Argon2id hash with `password_generated = 1`, and must be replaced at the
//! user's first login. For roles that read content, the intake identity is wrapped under
//! that password with the identity the admin's own session holds: granting access needs an
//! admin who holds the key. Viewers never get a wrapping; revoking access deletes it.
//!
//! A reset keeps access as it was (a user holding the key gets it re-wrapped; a user whose
//! access was revoked stays without). "Grant access" is a reset that also wraps the key, for
//! a content role without one (a new caseworker moved up from viewer, or access revoked
//! earlier).
//!
//! The last enabled admin holding the key cannot be disabled, demoted or revoked, since
//! nobody could grant access again; an admin cannot disable their own account. Every change
//! is written with its audit row in one transaction, and a change that alters what a user
//! may see ends their sessions (a session keeps its role and unwrapped key in memory). The
//! command line's `user add` shares [`create_blocking`] with the web form.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use berani_core::age::Identity;
use maud::{Markup, html};
use rusqlite::{Connection, Transaction, params};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::accounts::{self, User};
use super::i18n::Lang;
use super::page::{self, csrf};
use super::{Ctx, DeskError, InLang, Role, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::db::{self, Db};
use crate::keys::{self, Wrapped};

/// The user-administration routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk/users", get(list).post(create))
        .route("/desk/users/{name}/update", post(update))
        .route("/desk/users/{name}/reset", post(reset))
        .route("/desk/users/{name}/grant", post(grant))
        .route("/desk/users/{name}/revoke", post(revoke))
        .route("/desk/users/{name}/disable", post(disable))
        .route("/desk/users/{name}/enable", post(enable))
        .route("/desk/users/{name}/totp-off", post(totp_off))
}

// ----- checks ----------------------------------------------------------------------------

/// Longest display name.
pub const MAX_DISPLAY_NAME: usize = 80;
/// Longest office name.
pub const MAX_OFFICE: usize = 120;

/// A new account's details, checked.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Office.
    pub office: String,
    /// Address for duty notifications.
    pub email: Option<String>,
    /// Role.
    pub role: Role,
}

impl NewUser {
    /// Checks the fields of a new account as typed; the first wrong field is named.
    pub fn check(
        username: &str,
        display_name: &str,
        office: &str,
        email: &str,
        role: &str,
    ) -> Result<Self, DeskError> {
        let username = username.trim().to_lowercase();
        accounts::check_username(&username)
            .map_err(|(id, en)| DeskError::invalid("username", id, en))?;
        let display_name = check_text("display_name", display_name, MAX_DISPLAY_NAME)?;
        Ok(NewUser {
            display_name: if display_name.is_empty() {
                username.clone()
            } else {
                display_name
            },
            username,
            office: check_text("office", office, MAX_OFFICE)?,
            email: check_email(email)?,
            role: check_role(role)?,
        })
    }
}

/// A role from its stored name.
pub fn check_role(role: &str) -> Result<Role, DeskError> {
    Role::from_key(role.trim()).ok_or_else(|| {
        DeskError::invalid(
            "role",
            "peran tidak dikenal; pilih admin, coordinator, caseworker atau viewer",
            "unknown role; choose admin, coordinator, caseworker or viewer",
        )
    })
}

/// A short single-line text: trimmed, at most `max` characters, no control characters.
pub(super) fn check_text(field: &'static str, s: &str, max: usize) -> Result<String, DeskError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(DeskError::invalid(
            field,
            format!("paling banyak {max} karakter"),
            format!("at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(DeskError::invalid(
            field,
            "hanya satu baris teks biasa",
            "one line of plain text only",
        ));
    }
    Ok(s.to_string())
}

/// An e-mail address's shape (`name@domain.tld`); empty means none.
pub fn check_email(s: &str) -> Result<Option<String>, DeskError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let label_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('-')
            && !p.ends_with('-')
            && p.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let ok = s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
        && match s.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !local.starts_with('.')
                    && !local.ends_with('.')
                    && !local.contains("..")
                    && domain.contains('.')
                    && domain.split('.').all(label_ok)
            }
            None => false,
        };
    if ok {
        Ok(Some(s.to_string()))
    } else {
        Err(DeskError::invalid(
            "email",
            "bukan alamat e-mail (contoh: nama@kantor.go.id)",
            "not an e-mail address (for example name@office.go.id)",
        ))
    }
}

fn no_admin_key(field: &'static str) -> DeskError {
    DeskError::invalid(
        field,
        "sesi Anda tidak memegang kunci isi laporan, jadi tidak dapat memberikannya; masuk dengan akun admin yang memegang kunci",
        "your session does not hold the report key, so it cannot pass it on; log in with an admin account that holds the key",
    )
}

/// Checks that an identity is the intake identity this server seals to.
fn check_identity(identity: &Identity, recipient: &str) -> Result<(), DeskError> {
    if identity.to_public().to_string() == recipient {
        Ok(())
    } else {
        Err(DeskError::Internal(
            "the session's identity does not match the intake recipient".into(),
        ))
    }
}

/// True when `username` is the last enabled admin that holds the key.
pub fn last_keyed_admin(c: &Connection, username: &str) -> rusqlite::Result<bool> {
    let Some(u) = accounts::find(c, username)? else {
        return Ok(false);
    };
    if u.role != Role::Admin || u.disabled_at.is_some() || !u.has_key {
        return Ok(false);
    }
    let others: i64 = c.query_row(
        "SELECT count(*) FROM users u
         WHERE u.role = 'admin' AND u.disabled_at IS NULL AND u.username != ?1
           AND EXISTS (SELECT 1 FROM key_wrappers w WHERE w.user = u.username)",
        [username],
        |r| r.get(0),
    )?;
    Ok(others == 0)
}

fn last_admin_error(field: &'static str) -> DeskError {
    DeskError::invalid(
        field,
        "ini admin aktif terakhir yang memegang kunci; tanpa dia tidak ada yang dapat memberi akses lagi. Buat atau beri kunci kepada admin lain dulu",
        "this is the last enabled admin holding the key; without it nobody could grant access again. Create or grant another admin first",
    )
}

// ----- credentials -------------------------------------------------------------------------

/// A generated one-time password, its hash, and the identity wrapped under it.
pub struct Issued {
    /// The password, shown once.
    pub password: Zeroizing<String>,
    phc: String,
    wrapped: Option<Wrapped>,
}

/// Generates a password for `username`, hashes it and, given an identity, wraps it under it
/// (Argon2id twice: run it outside the database lock and behind the KDF semaphore).
pub fn issue(username: &str, identity: Option<&Identity>) -> Result<Issued, DeskError> {
    let password = keys::generate_password();
    let phc = keys::hash_password(&password, true)?;
    let wrapped = identity
        .map(|id| keys::wrap_identity(id, username, &password, true))
        .transpose()?;
    Ok(Issued {
        password,
        phc,
        wrapped,
    })
}

/// Creates an account: checks, generates its password, wraps the key for content roles with
/// `identity`, and writes the user, the wrapping and the audit rows in one transaction.
/// Blocking (Argon2id); returns the password to show once.
pub fn create_blocking(
    db: &Db,
    actor: &str,
    identity: Option<&Identity>,
    new: &NewUser,
) -> Result<Zeroizing<String>, DeskError> {
    let name = new.username.clone();
    let (recipient, taken) = db.read(|c| {
        Ok::<_, rusqlite::Error>((
            accounts::intake_recipient(c)?,
            accounts::find(c, &name)?.is_some(),
        ))
    })?;
    if taken {
        return Err(taken_error());
    }
    let identity = if new.role.reads_content() {
        let id = identity.ok_or_else(|| no_admin_key("role"))?;
        check_identity(id, &recipient)?;
        Some(id)
    } else {
        None
    };
    let issued = issue(&new.username, identity)?;
    db.write(|tx| insert(tx, actor, new, &issued, &recipient))?;
    Ok(issued.password)
}

fn taken_error() -> DeskError {
    DeskError::invalid(
        "username",
        "nama pengguna ini sudah dipakai",
        "this user name is already taken",
    )
}

fn insert(
    tx: &Transaction,
    actor: &str,
    new: &NewUser,
    issued: &Issued,
    recipient: &str,
) -> Result<(), DeskError> {
    if accounts::find(tx, &new.username)?.is_some() {
        return Err(taken_error());
    }
    let now = db::now();
    tx.execute(
        "INSERT INTO users (username, role, password_hash, created_at, display_name, office,
                            email, on_duty, password_generated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 1)",
        params![
            new.username,
            new.role.key(),
            issued.phc,
            now,
            new.display_name,
            new.office,
            new.email
        ],
    )?;
    audit::append(
        tx,
        actor,
        action::USER_CREATE,
        &new.username,
        &format!("role={}", new.role.key()),
    )?;
    if let Some(w) = &issued.wrapped {
        accounts::put_wrapper(tx, &new.username, recipient, w, now)?;
        audit::append(tx, actor, action::KEY_GRANT, &new.username, "new account")?;
    }
    Ok(())
}

// ----- pages -------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    done: String,
    #[serde(default)]
    user: String,
}

async fn list(ctx: Ctx, Query(q): Query<Done>) -> Response {
    respond(list_inner(&ctx, q).await.lang(ctx.lang))
}

fn yes_no(l: Lang, b: bool) -> &'static str {
    if b {
        l.t("ya", "yes")
    } else {
        l.t("tidak", "no")
    }
}

fn role_select(l: Lang, id: &str, current: Option<Role>) -> Markup {
    html! {
        select id=(id) name="role" required {
            @for r in Role::ALL {
                option value=(r.key()) selected[Some(r) == current] { (r.label(l)) " (" (r.key()) ")" }
            }
        }
    }
}

fn done_notice(l: Lang, done: &str, user: &str) -> Option<String> {
    let text = match done {
        "" => return None,
        "update" => l.t("Perubahan disimpan.", "Changes saved."),
        "update-grant" => l.t(
            "Perubahan disimpan. Peran baru ini membaca isi laporan tetapi belum memegang kunci: pakai \"Beri akses\" (kata sandinya akan diganti).",
            "Changes saved. The new role reads report content but holds no key yet: use \"Grant access\" (this resets the password).",
        ),
        "nochange" => l.t("Tidak ada yang berubah.", "Nothing changed."),
        "totp-off" => l.t(
            "Verifikasi dua langkah dimatikan; pengguna dapat menyiapkannya lagi di Akun saya.",
            "Two-step verification switched off; the user can set it up again in My account.",
        ),
        "revoke" => l.t(
            "Akses ke isi laporan dicabut; sesi pengguna ini diakhiri.",
            "Access to report content revoked; this user's sessions were ended.",
        ),
        "disable" => l.t(
            "Akun dinonaktifkan; sesinya diakhiri.",
            "Account disabled; its sessions were ended.",
        ),
        "enable" => l.t("Akun diaktifkan lagi.", "Account enabled again."),
        _ => l.t("Tersimpan.", "Saved."),
    };
    // Only a real user name is echoed, so a crafted link cannot put words on the page.
    Some(
        if user.is_empty() || accounts::check_username(user).is_err() {
            text.to_string()
        } else {
            format!("{user}: {text}")
        },
    )
}

async fn list_inner(ctx: &Ctx, q: Done) -> Result<Response, DeskError> {
    ctx.require(Role::Admin)?;
    let l = ctx.lang;
    let users = ctx.state.db.read_async(accounts::all).await?;
    let notice = done_notice(l, &q.done, &q.user);
    let holds_key = ctx.session.identity.is_some();
    let body = html! {
        h1 { (l.t("Pengguna", "Users")) }
        (page::notice(notice.as_deref()))
        @if !holds_key {
            p.error { (l.t("Sesi Anda tidak memegang kunci isi laporan: Anda dapat membuat pemantau statistik, tetapi tidak dapat memberi akses isi laporan.",
                "Your session does not hold the report key: you can create statistics viewers, but cannot grant access to report content.")) }
        }
        div.table-wrap {
            table {
                thead { tr {
                    th { (l.t("Nama pengguna", "User name")) }
                    th { (l.t("Nama", "Name")) }
                    th { (l.t("Kantor", "Office")) }
                    th { (l.t("Peran", "Role")) }
                    th { (l.t("E-mail", "E-mail")) }
                    th { (l.t("Piket", "On duty")) }
                    th { (l.t("Memegang kunci", "Holds key")) }
                    th { "TOTP" }
                    th { (l.t("Status", "Status")) }
                    th { (l.t("Tindakan", "Actions")) }
                } }
                tbody {
                    @for u in &users {
                        tr id={ "user-" (u.username) } {
                            td { (u.username) }
                            td { (u.display_name) }
                            td { (u.office) }
                            td { (u.role.label(l)) }
                            td { (u.email.as_deref().unwrap_or("—")) }
                            td { (yes_no(l, u.on_duty)) }
                            td { (yes_no(l, u.has_key)) }
                            td { (yes_no(l, u.totp_secret.is_some())) }
                            td {
                                @if let Some(t) = u.disabled_at {
                                    span.overdue { (l.t("nonaktif", "disabled")) } br; span.muted { (page::when(t)) }
                                } @else if u.password_generated {
                                    (l.t("aktif; kata sandi sementara", "enabled; temporary password"))
                                } @else {
                                    (l.t("aktif", "enabled"))
                                }
                            }
                            td { (actions(ctx, u)) }
                        }
                    }
                }
            }
        }
        section.card {
            h2 { (l.t("Tambah pengguna", "Add a user")) }
            p { (l.t("Server membuat kata sandi sementara yang ditampilkan sekali saja. Pengguna menggantinya saat pertama masuk. Peran yang membaca isi laporan langsung diberi kunci.",
                "The server makes a temporary password that is shown only once. The user replaces it at first login. Roles that read report content get the key straight away.")) }
            form method="post" action="/desk/users" {
                (csrf(ctx))
                label for="n-username" { (l.t("Nama pengguna (huruf kecil, angka, . - _)", "User name (lowercase letters, digits, . - _)")) }
                input #n-username name="username" required minlength="2" maxlength="32" pattern="[a-z0-9._\\-]+" autocomplete="off";
                label for="n-display" { (l.t("Nama lengkap", "Full name")) }
                input #n-display name="display_name" maxlength=(MAX_DISPLAY_NAME);
                label for="n-office" { (l.t("Kantor", "Office")) }
                input #n-office name="office" maxlength=(MAX_OFFICE);
                label for="n-email" { (l.t("E-mail (untuk pemberitahuan piket)", "E-mail (for duty notifications)")) }
                input #n-email name="email" type="email" maxlength="254";
                label for="n-role" { (l.t("Peran", "Role")) }
                (role_select(l, "n-role", Some(Role::Caseworker)))
                p { button type="submit" { (l.t("Buat akun", "Create account")) } }
            }
        }
    };
    Ok(page::page(
        ctx,
        l.t("Pengguna", "Users"),
        "/desk/users",
        body,
    ))
}

/// The per-user action forms, folded away in a `<details>` (no script needed).
fn actions(ctx: &Ctx, u: &User) -> Markup {
    let l = ctx.lang;
    let base = format!("/desk/users/{}", u.username);
    let id = |s: &str| format!("{s}-{}", u.username);
    let is_self = u.username == ctx.user();
    html! {
        details {
            summary { (l.t("Ubah", "Change")) }
            form method="post" action={ (base) "/update" } {
                (csrf(ctx))
                label for=(id("d")) { (l.t("Nama lengkap", "Full name")) }
                input id=(id("d")) name="display_name" value=(u.display_name) maxlength=(MAX_DISPLAY_NAME);
                label for=(id("o")) { (l.t("Kantor", "Office")) }
                input id=(id("o")) name="office" value=(u.office) maxlength=(MAX_OFFICE);
                label for=(id("e")) { (l.t("E-mail", "E-mail")) }
                input id=(id("e")) name="email" type="email" value=(u.email.as_deref().unwrap_or("")) maxlength="254";
                label for=(id("r")) { (l.t("Peran", "Role")) }
                (role_select(l, &id("r"), Some(u.role)))
                label for=(id("p")) {
                    input id=(id("p")) type="checkbox" name="on_duty" value="1" checked[u.on_duty];
                    " " (l.t("Piket (koordinator dan admin)", "On duty (coordinators and admins)"))
                }
                p.muted { (l.t("Menjadi pemantau statistik mencabut kunci. Dari pemantau ke peran lain, kunci diberikan dengan \"Beri akses\".",
                    "Becoming a statistics viewer revokes the key. From viewer to another role, the key is given with \"Grant access\".")) }
                p { button type="submit" { (l.t("Simpan", "Save")) } }
            }
            @if !is_self {
                form method="post" action={ (base) "/reset" } {
                    (csrf(ctx))
                    button.secondary type="submit" { (l.t("Atur ulang kata sandi", "Reset password")) }
                }
            }
            @if u.role.reads_content() && !u.has_key && !is_self {
                form method="post" action={ (base) "/grant" } {
                    (csrf(ctx))
                    button.secondary type="submit" { (l.t("Beri akses isi laporan (mengganti kata sandi)", "Grant access to report content (resets the password)")) }
                }
            }
            @if u.has_key {
                form method="post" action={ (base) "/revoke" } {
                    (csrf(ctx))
                    button.secondary type="submit" { (l.t("Cabut akses isi laporan", "Revoke access to report content")) }
                }
            }
            @if u.totp_secret.is_some() && !is_self {
                form method="post" action={ (base) "/totp-off" } {
                    (csrf(ctx))
                    button.secondary type="submit" { (l.t("Matikan verifikasi dua langkah (ponsel autentikator hilang)", "Switch off two-step verification (authenticator phone lost)")) }
                }
            }
            @if !is_self {
                @if u.disabled_at.is_some() {
                    form method="post" action={ (base) "/enable" } {
                        (csrf(ctx))
                        button.secondary type="submit" { (l.t("Aktifkan", "Enable")) }
                    }
                } @else {
                    form method="post" action={ (base) "/disable" } {
                        (csrf(ctx))
                        button.secondary type="submit" { (l.t("Nonaktifkan", "Disable")) }
                    }
                }
            }
        }
    }
}

/// The page that shows a generated password, once. It is never logged, never stored in
/// clear and never in a URL; the page is sent with `Cache-Control: no-store`.
fn password_shown(ctx: &Ctx, username: &str, password: &str, what: Shown) -> Response {
    let l = ctx.lang;
    let head = match what {
        Shown::Created => l.t("Akun dibuat", "Account created"),
        Shown::Reset => l.t("Kata sandi diatur ulang", "Password reset"),
        Shown::Granted => l.t("Akses diberikan", "Access granted"),
    };
    let body = html! {
        section.card {
            h1 { (head) ": " (username) }
            p { (l.t("Kata sandi sementara (ditampilkan sekali ini saja):", "Temporary password (shown only this once):")) }
            p { code #one-time-password { (password) } }
            ul {
                li { (l.t("Berikan langsung kepada pemiliknya, jangan lewat e-mail atau grup obrolan.",
                    "Hand it to its owner directly, not by e-mail or a group chat.")) }
                li { (l.t("Pengguna harus menggantinya dengan kata sandinya sendiri saat pertama masuk.",
                    "The user must replace it with their own at first login.")) }
                @if matches!(what, Shown::Reset | Shown::Granted) {
                    li { (l.t("Sesi pengguna ini yang sedang berjalan sudah diakhiri.", "This user's open sessions were ended.")) }
                }
            }
            p { a href="/desk/users" { (l.t("Kembali ke daftar pengguna", "Back to the users")) } }
        }
    };
    page::page(ctx, head, "/desk/users", body)
}

#[derive(Clone, Copy)]
enum Shown {
    Created,
    Reset,
    Granted,
}

// ----- create ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

async fn create(ctx: Ctx, Form(f): Form<CreateForm>) -> Response {
    respond(create_inner(&ctx, f).await.lang(ctx.lang))
}

async fn create_inner(ctx: &Ctx, f: CreateForm) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    ctx.require(Role::Admin)?;
    let new = NewUser::check(&f.username, &f.display_name, &f.office, &f.email, &f.role)?;
    let identity = if new.role.reads_content() {
        Some(
            ctx.session
                .identity
                .clone()
                .ok_or_else(|| no_admin_key("role"))?,
        )
    } else {
        None
    };
    let _permit = ctx
        .state
        .desk
        .kdf
        .acquire()
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))?;
    let (state, actor, n) = (ctx.state.clone(), ctx.user().to_string(), new.clone());
    let password = tokio::task::spawn_blocking(move || {
        create_blocking(&state.db, &actor, identity.as_deref(), &n)
    })
    .await
    .map_err(|e| DeskError::Internal(e.to_string()))??;
    Ok(password_shown(
        ctx,
        &new.username,
        &password,
        Shown::Created,
    ))
}

// ----- the per-user actions ----------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Checks the form and the role, and finds the user named in the path.
async fn target(ctx: &Ctx, name: &str, csrf_token: &str) -> Result<User, DeskError> {
    ctx.check_csrf(csrf_token)?;
    ctx.require(Role::Admin)?;
    if accounts::check_username(name).is_err() {
        return Err(DeskError::NotFound);
    }
    let n = name.to_string();
    ctx.state
        .db
        .read_async(move |c| accounts::find(c, &n))
        .await?
        .ok_or(DeskError::NotFound)
}

fn done(what: &str, user: &str) -> Response {
    Redirect::to(&format!("/desk/users?done={what}&user={user}")).into_response()
}

async fn reset(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(reset_inner(&ctx, &name, f, false).await.lang(ctx.lang))
}

async fn grant(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(reset_inner(&ctx, &name, f, true).await.lang(ctx.lang))
}

/// A reset (keeps access as it was) or a grant (a reset that wraps the key).
async fn reset_inner(
    ctx: &Ctx,
    name: &str,
    f: CsrfForm,
    grant: bool,
) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    if user.username == ctx.user() {
        return Err(DeskError::invalid(
            "username",
            "kata sandi Anda sendiri diganti di \"Akun saya\"",
            "change your own password under \"My account\"",
        ));
    }
    let wrap = if grant {
        if !user.role.reads_content() {
            return Err(DeskError::invalid(
                "role",
                "pemantau statistik tidak pernah memegang kunci; ubah perannya dulu",
                "statistics viewers never hold the key; change the role first",
            ));
        }
        true
    } else {
        user.role.reads_content() && user.has_key
    };
    let identity = if wrap {
        Some(
            ctx.session
                .identity
                .clone()
                .ok_or_else(|| no_admin_key("access"))?,
        )
    } else {
        None
    };
    let recipient = ctx.state.db.read_async(accounts::intake_recipient).await?;
    if let Some(id) = &identity {
        check_identity(id, &recipient)?;
    }
    let _permit = ctx
        .state
        .desk
        .kdf
        .acquire()
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))?;
    let n = user.username.clone();
    let issued = tokio::task::spawn_blocking(move || issue(&n, identity.as_deref()))
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))??;
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    let issued = ctx
        .state
        .db
        .write_async(move |tx| {
            if accounts::find(tx, &n)?.is_none() {
                return Err(DeskError::NotFound);
            }
            accounts::set_password(tx, &n, &issued.phc, true)?;
            let detail = match (&issued.wrapped, grant) {
                (Some(_), true) => "access granted",
                (Some(_), false) => "key re-wrapped",
                (None, _) => "",
            };
            audit::append(tx, &actor, action::PASSWORD_RESET, &n, detail)?;
            if let Some(w) = &issued.wrapped {
                accounts::put_wrapper(tx, &n, &recipient, w, db::now())?;
                let act = if grant {
                    action::KEY_GRANT
                } else {
                    action::KEY_REWRAP
                };
                audit::append(tx, &actor, act, &n, "password reset")?;
            }
            Ok::<_, DeskError>(issued)
        })
        .await?;
    ctx.state.desk.sessions.end_user(&user.username);
    // An admin's reset also lifts a login lockout, so the new password works at once.
    ctx.state.desk.throttle.succeeded(&user.username);
    let what = if grant { Shown::Granted } else { Shown::Reset };
    Ok(password_shown(ctx, &user.username, &issued.password, what))
}

async fn revoke(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(revoke_inner(&ctx, &name, f).await.lang(ctx.lang))
}

async fn revoke_inner(ctx: &Ctx, name: &str, f: CsrfForm) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    ctx.state
        .db
        .write_async(move |tx| {
            if last_keyed_admin(tx, &n)? {
                return Err(last_admin_error("access"));
            }
            if !accounts::delete_wrapper(tx, &n)? {
                return Err(DeskError::invalid(
                    "access",
                    "pengguna ini tidak memegang kunci",
                    "this user holds no key",
                ));
            }
            audit::append(tx, &actor, action::KEY_REVOKE, &n, "")?;
            Ok(())
        })
        .await?;
    // The key is also dropped from memory: the user's sessions end.
    ctx.state.desk.sessions.end_user(&user.username);
    Ok(done("revoke", &user.username))
}

async fn totp_off(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(totp_off_inner(&ctx, &name, f).await.lang(ctx.lang))
}

/// For a user who lost the phone with their authenticator: the second factor goes, the
/// password stays; their sessions end.
async fn totp_off_inner(ctx: &Ctx, name: &str, f: CsrfForm) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    ctx.state
        .db
        .write_async(move |tx| {
            let changed = tx.execute(
                "UPDATE users SET totp_secret = NULL WHERE username = ?1 AND totp_secret IS NOT NULL",
                [&n],
            )?;
            if changed == 1 {
                audit::append(tx, &actor, action::TOTP_DISABLE, &n, "by an admin")?;
            }
            Ok::<_, DeskError>(())
        })
        .await?;
    ctx.state.desk.sessions.end_user(&user.username);
    Ok(done("totp-off", &user.username))
}

async fn disable(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(disable_inner(&ctx, &name, f).await.lang(ctx.lang))
}

async fn disable_inner(ctx: &Ctx, name: &str, f: CsrfForm) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    if user.username == ctx.user() {
        return Err(DeskError::invalid(
            "username",
            "Anda tidak dapat menonaktifkan akun Anda sendiri",
            "you cannot disable your own account",
        ));
    }
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    ctx.state
        .db
        .write_async(move |tx| {
            if last_keyed_admin(tx, &n)? {
                return Err(last_admin_error("username"));
            }
            let changed = tx.execute(
                "UPDATE users SET disabled_at = ?2 WHERE username = ?1 AND disabled_at IS NULL",
                params![n, db::now()],
            )?;
            if changed == 1 {
                audit::append(tx, &actor, action::USER_DISABLE, &n, "")?;
            }
            Ok::<_, DeskError>(())
        })
        .await?;
    ctx.state.desk.sessions.end_user(&user.username);
    Ok(done("disable", &user.username))
}

async fn enable(ctx: Ctx, Path(name): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(enable_inner(&ctx, &name, f).await.lang(ctx.lang))
}

async fn enable_inner(ctx: &Ctx, name: &str, f: CsrfForm) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    ctx.state
        .db
        .write_async(move |tx| {
            let changed = tx.execute(
                "UPDATE users SET disabled_at = NULL WHERE username = ?1 AND disabled_at IS NOT NULL",
                [&n],
            )?;
            if changed == 1 {
                audit::append(tx, &actor, action::USER_ENABLE, &n, "")?;
            }
            Ok::<_, rusqlite::Error>(())
        })
        .await?;
    Ok(done("enable", &user.username))
}

#[derive(Debug, Default, Deserialize)]
struct UpdateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    office: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    on_duty: String,
}

async fn update(ctx: Ctx, Path(name): Path<String>, Form(f): Form<UpdateForm>) -> Response {
    respond(update_inner(&ctx, &name, f).await.lang(ctx.lang))
}

async fn update_inner(ctx: &Ctx, name: &str, f: UpdateForm) -> Result<Response, DeskError> {
    let user = target(ctx, name, &f.csrf).await?;
    let display_name = check_text("display_name", &f.display_name, MAX_DISPLAY_NAME)?;
    let display_name = if display_name.is_empty() {
        user.username.clone()
    } else {
        display_name
    };
    let office = check_text("office", &f.office, MAX_OFFICE)?;
    let email = check_email(&f.email)?;
    let role = check_role(&f.role)?;
    // Only coordinators and admins take duty (and get its e-mails).
    let on_duty = f.on_duty == "1" && role >= Role::Coordinator;
    let (actor, n) = (ctx.user().to_string(), user.username.clone());
    let (role_changed, needs_grant) = ctx
        .state
        .db
        .write_async(move |tx| {
            let u = accounts::find(tx, &n)?.ok_or(DeskError::NotFound)?;
            let mut changes = Vec::new();
            if u.role != role {
                if u.role == Role::Admin && last_keyed_admin(tx, &n)? {
                    return Err(last_admin_error("role"));
                }
                changes.push(format!("role {} -> {}", u.role.key(), role.key()));
            }
            if u.display_name != display_name {
                changes.push("display name".into());
            }
            if u.office != office {
                changes.push("office".into());
            }
            if u.email != email {
                changes.push("e-mail".into());
            }
            if u.on_duty != on_duty {
                changes.push(if on_duty { "on duty" } else { "off duty" }.into());
            }
            if changes.is_empty() {
                return Ok((None, false));
            }
            tx.execute(
                "UPDATE users SET role = ?2, display_name = ?3, office = ?4, email = ?5,
                    on_duty = ?6 WHERE username = ?1",
                params![n, role.key(), display_name, office, email, on_duty],
            )?;
            audit::append(tx, &actor, action::USER_UPDATE, &n, &changes.join("; "))?;
            if !role.reads_content() && u.has_key {
                accounts::delete_wrapper(tx, &n)?;
                audit::append(tx, &actor, action::KEY_REVOKE, &n, "role viewer")?;
            }
            let needs_grant = role.reads_content() && !u.has_key;
            Ok::<_, DeskError>((Some(u.role != role), needs_grant))
        })
        .await?;
    match role_changed {
        None => Ok(done("nochange", &user.username)),
        Some(changed) => {
            if changed {
                // A session keeps its role (and key) in memory: start afresh with the new one.
                ctx.state.desk.sessions.end_user(&user.username);
            }
            let what = if changed && needs_grant {
                "update-grant"
            } else {
                "update"
            };
            Ok(done(what, &user.username))
        }
    }
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::{form, query};
    if let Some(f) = form::<CreateForm>(body)
        && let Ok(new) = NewUser::check(&f.username, &f.display_name, &f.office, &f.email, &f.role)
    {
        assert!(accounts::check_username(&new.username).is_ok());
        assert!(new.display_name.chars().count() <= MAX_DISPLAY_NAME);
        assert!(!new.office.chars().any(char::is_control));
    }
    if let Some(f) = form::<UpdateForm>(body) {
        let _ = check_text("display_name", &f.display_name, MAX_DISPLAY_NAME);
        let _ = check_text("office", &f.office, MAX_OFFICE);
        if let Ok(Some(e)) = check_email(&f.email) {
            assert!(e.contains('@') && e.len() <= 254);
        }
        let _ = check_role(&f.role);
        let _ = f.on_duty == "1";
    }
    let _ = form::<CsrfForm>(body).map(|f| f.csrf);
    let _ = query::<Done>(body).map(|q| (q.done, q.user));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_new_users() {
        let u = NewUser::check(" Ani.W ", "", "UPTD PPA", "", "caseworker").unwrap();
        assert_eq!(u.username, "ani.w");
        assert_eq!(u.display_name, "ani.w");
        assert_eq!(u.email, None);
        assert_eq!(u.role, Role::Caseworker);
        let field = |r: Result<NewUser, DeskError>| match r {
            Err(DeskError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(NewUser::check("a b", "", "", "", "viewer")),
            "username"
        );
        assert_eq!(field(NewUser::check("x", "", "", "", "viewer")), "username");
        assert_eq!(
            field(NewUser::check("ani", "", "", "ani@", "viewer")),
            "email"
        );
        assert_eq!(field(NewUser::check("ani", "", "", "", "officer")), "role");
        assert_eq!(
            field(NewUser::check("ani", "a\nb", "", "", "viewer")),
            "display_name"
        );
        assert_eq!(
            field(NewUser::check("ani", "", &"x".repeat(121), "", "viewer")),
            "office"
        );
    }

    #[test]
    fn checks_email_shapes() {
        for ok in [
            "ani@dinsos.blorakab.go.id",
            "a.b+c@x.id",
            "budi@puskesmas-1.id",
        ] {
            assert_eq!(check_email(ok).unwrap().as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "ani",
            "ani@",
            "@x.id",
            "ani@x",
            "ani@@x.id",
            "a b@x.id",
            "ani@x..id",
            "ani@-x.id",
            ".ani@x.id",
            "ani@x.id>",
            "Ani <ani@x.id>",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(check_email("  ").unwrap(), None);
    }
}
