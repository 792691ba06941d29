//! The case desk: the handling team's web workplace at `/desk`.
//!
//! Server-rendered HTML (maud, escaped by default) with one local stylesheet and no script
//! that a page needs to work; nothing is loaded from outside the server. Indonesian first,
//! English when chosen ([`i18n`]).
//!
//! Roles ([`Role`]): `admin` manages users, keys and settings and can do what a coordinator
//! can; `coordinator` sees every case, triages and assigns; `caseworker` sees the cases
//! assigned to them; `viewer` sees aggregate statistics only, never content.
//!
//! Every state change is a `POST` carrying the session's CSRF token; sessions live in memory
//! ([`session`]). Report content is decrypted in memory for a session that holds the intake
//! identity and is never written to disk.

pub mod accounts;
pub mod audit_page;
pub mod auth;
pub mod cases;
pub mod followup;
pub mod i18n;
pub mod notify;
pub mod page;
pub mod poster;
pub mod session;
pub mod stats;
pub mod users;
pub mod volunteers;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::sync::Semaphore;

use crate::app::AppState;
use i18n::Lang;

/// A desk user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Aggregate statistics only.
    Viewer,
    /// The cases assigned to them.
    Caseworker,
    /// Every case; triage and assignment.
    Coordinator,
    /// Users, keys and settings, and everything a coordinator does.
    Admin,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Coordinator,
        Role::Caseworker,
        Role::Viewer,
    ];

    /// The stored name.
    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Caseworker => "caseworker",
            Role::Viewer => "viewer",
        }
    }

    /// The role of a stored name.
    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == k)
    }

    /// The role's name for people.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Role::Admin => lang.t("Admin", "Admin"),
            Role::Coordinator => lang.t("Koordinator", "Coordinator"),
            Role::Caseworker => lang.t("Pendamping kasus", "Caseworker"),
            Role::Viewer => lang.t("Pemantau statistik", "Statistics viewer"),
        }
    }

    /// May read report content (and so holds a wrapping of the intake identity).
    pub fn reads_content(self) -> bool {
        self >= Role::Caseworker
    }

    /// Sees every case, not only assigned ones.
    pub fn sees_all_cases(self) -> bool {
        self >= Role::Coordinator
    }
}

/// The desk's own state, beside the intake's.
pub struct DeskState {
    /// Live sessions.
    pub sessions: session::Sessions,
    /// Login throttling.
    pub throttle: session::Throttle,
    /// Login throttling per client.
    pub client_throttle: session::ClientThrottle,
    /// Argon2id runs at 64 MiB; at most two at once, so a login flood cannot exhaust memory.
    pub kdf: Semaphore,
    /// Cookies get `Secure` (the desk is reached over HTTPS).
    pub secure_cookies: bool,
    /// The intake URL (links in e-mails).
    pub public_url: String,
    /// The last TOTP time step accepted per user: a code is good once (RFC 6238 §5.2).
    totp_steps: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

impl DeskState {
    /// The desk state for a server whose public URL is `public_url`.
    pub fn new(public_url: &str) -> Self {
        Self {
            sessions: session::Sessions::default(),
            throttle: session::Throttle::default(),
            client_throttle: session::ClientThrottle::default(),
            kdf: Semaphore::new(2),
            secure_cookies: public_url.starts_with("https://"),
            public_url: public_url.to_string(),
            totp_steps: Default::default(),
        }
    }

    /// True (and remembered) when `step` is later than the last step accepted for `user`.
    pub fn totp_step_unused(&self, user: &str, step: u64) -> bool {
        let mut m = self.totp_steps.lock().unwrap_or_else(|p| p.into_inner());
        match m.get(user) {
            Some(&last) if step <= last => false,
            _ => {
                m.insert(user.to_string(), step);
                true
            }
        }
    }
}

/// Ends expired sessions once a minute, so that an idle session's identity does not stay in
/// memory until its next request.
pub async fn sweep_sessions(state: Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => state.desk.sessions.sweep(),
            () = crate::http::stopped(&mut stop) => return,
        }
    }
}

/// Every desk route.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk", get(home))
        .route("/desk/", get(home))
        .route("/desk/static/desk.css", get(page::css))
        .route("/desk/lang", get(page::switch_lang))
        .merge(auth::routes())
        .merge(cases::routes())
        .merge(followup::routes())
        .merge(audit_page::routes())
        .merge(users::routes())
        .merge(stats::routes())
        .merge(volunteers::routes())
}

async fn home(ctx: Ctx) -> Response {
    if ctx.role() >= Role::Caseworker {
        Redirect::to("/desk/inbox").into_response()
    } else {
        Redirect::to("/desk/stats").into_response()
    }
}

/// The language of a request (its `lang` cookie).
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie_value(headers, "lang")
        .map(|v| Lang::from_code(&v))
        .unwrap_or_default()
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(|c| c.ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A request from a logged-in user: the session and the language.
pub struct Ctx {
    /// The session.
    pub session: session::View,
    /// The page language.
    pub lang: Lang,
    /// The shared state.
    pub state: Arc<AppState>,
}

impl Ctx {
    /// The user name.
    pub fn user(&self) -> &str {
        &self.session.user
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.session.role
    }

    /// Refuses users below `role`.
    pub fn require(&self, role: Role) -> Result<(), DeskError> {
        if self.role() >= role {
            Ok(())
        } else {
            Err(DeskError::Forbidden)
        }
    }

    /// Checks a form's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), DeskError> {
        if session::same_token(token, &self.session.csrf) {
            Ok(())
        } else {
            Err(DeskError::Csrf)
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let view =
            cookie_value(&parts.headers, session::COOKIE).and_then(|t| state.desk.sessions.get(&t));
        let Some(session) = view else {
            return Err(DeskError::NotLoggedIn.into_response_in(lang));
        };
        // A generated password must be replaced before anything else.
        let path = parts.uri.path();
        if session.must_change
            && !matches!(
                path,
                "/desk/account/password" | "/desk/logout" | "/desk/static/desk.css" | "/desk/lang"
            )
        {
            return Err(Redirect::to("/desk/account/password").into_response());
        }
        Ok(Ctx {
            session,
            lang,
            state: state.clone(),
        })
    }
}

/// Why a desk request was refused.
#[derive(Debug)]
pub enum DeskError {
    /// No live session: to the login page.
    NotLoggedIn,
    /// The role may not do this.
    Forbidden,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// No such case, user or page (or not one this user may know of).
    NotFound,
    /// The session holds no intake identity (access not granted).
    NoKey,
    /// A form field is wrong: the field and the reason in both languages.
    Invalid {
        /// The field's name as the form shows it.
        field: &'static str,
        /// Indonesian reason.
        id: String,
        /// English reason.
        en: String,
    },
    /// Something failed inside; the message never holds report content.
    Internal(String),
}

impl DeskError {
    /// A bad form field.
    pub fn invalid(field: &'static str, id: impl Into<String>, en: impl Into<String>) -> Self {
        DeskError::Invalid {
            field,
            id: id.into(),
            en: en.into(),
        }
    }

    /// The response, in `lang`.
    pub fn into_response_in(self, lang: Lang) -> Response {
        let (status, title, text): (StatusCode, &str, String) = match self {
            DeskError::NotLoggedIn => return Redirect::to("/desk/login").into_response(),
            DeskError::Forbidden => (
                StatusCode::FORBIDDEN,
                lang.t("Tidak diizinkan", "Not allowed"),
                lang.t(
                    "Peran Anda tidak boleh membuka halaman ini.",
                    "Your role may not open this page.",
                )
                .into(),
            ),
            DeskError::Csrf => (
                StatusCode::FORBIDDEN,
                lang.t("Formulir kedaluwarsa", "Form expired"),
                lang.t(
                    "Formulir ini tidak membawa token keamanan yang benar. Muat ulang halaman lalu coba lagi.",
                    "This form did not carry the right security token. Reload the page and try again.",
                )
                .into(),
            ),
            DeskError::NotFound => (
                StatusCode::NOT_FOUND,
                lang.t("Tidak ditemukan", "Not found"),
                lang.t(
                    "Halaman atau kasus ini tidak ada, atau tidak ditugaskan kepada Anda.",
                    "This page or case does not exist, or is not assigned to you.",
                )
                .into(),
            ),
            DeskError::NoKey => (
                StatusCode::FORBIDDEN,
                lang.t("Belum diberi akses isi laporan", "No access to report content yet"),
                lang.t(
                    "Akun Anda belum memegang kunci untuk membuka laporan. Minta admin memberi akses.",
                    "Your account does not hold the key that opens reports yet. Ask an admin to grant access.",
                )
                .into(),
            ),
            DeskError::Invalid { field, id, en } => (
                StatusCode::BAD_REQUEST,
                lang.t("Isian belum benar", "Something to fix"),
                match lang {
                    Lang::Id => format!("{field}: {id}"),
                    Lang::En => format!("{field}: {en}"),
                },
            ),
            DeskError::Internal(why) => {
                tracing::error!("desk: {why}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    lang.t("Terjadi kesalahan", "Something went wrong"),
                    lang.t(
                        "Server tidak dapat menyelesaikan permintaan ini. Tidak ada data yang berubah.",
                        "The server could not finish this request. Nothing was changed.",
                    )
                    .into(),
                )
            }
        };
        (status, page::message(lang, title, &text)).into_response()
    }
}

impl From<crate::error::ServerError> for DeskError {
    fn from(e: crate::error::ServerError) -> Self {
        DeskError::Internal(e.to_string())
    }
}

impl From<rusqlite::Error> for DeskError {
    fn from(e: rusqlite::Error) -> Self {
        DeskError::Internal(format!("database: {e}"))
    }
}

/// A handler's result: a page, or a refusal shown in the request's language.
pub type DeskResult = Result<Response, (Lang, DeskError)>;

/// Attaches the language to an error.
pub trait InLang<T> {
    /// Maps the error into `(lang, error)`.
    fn lang(self, lang: Lang) -> Result<T, (Lang, DeskError)>;
}

impl<T, E: Into<DeskError>> InLang<T> for Result<T, E> {
    fn lang(self, lang: Lang) -> Result<T, (Lang, DeskError)> {
        self.map_err(|e| (lang, e.into()))
    }
}

/// Turns a handler's result into a response.
pub fn respond(r: DeskResult) -> Response {
    match r {
        Ok(r) => r,
        Err((lang, e)) => e.into_response_in(lang),
    }
}

/// Shared state accessor for handlers that only need the state.
pub type St = State<Arc<AppState>>;
