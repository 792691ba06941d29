//! The desk's page frame, stylesheet and language switch.

use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::{Ctx, Role, lang_of};

const CSS: &str = include_str!("desk.css");

/// `GET /desk/static/desk.css`.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LangQuery {
    #[serde(default)]
    to: String,
    #[serde(default)]
    back: String,
}

/// `GET /desk/lang?to=en&back=/desk/inbox`: sets the language cookie and goes back.
pub async fn switch_lang(Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::from_code(&q.to);
    // Only a path on this desk, so the switch cannot redirect elsewhere, and one that fits in
    // a header (a decoded control character would turn the redirect into a 500).
    let back = if q.back.starts_with("/desk")
        && !q.back.starts_with("//")
        && HeaderValue::from_str(&q.back).is_ok()
    {
        q.back
    } else {
        "/desk".to_string()
    };
    let mut r = Redirect::to(&back).into_response();
    let c = format!(
        "lang={}; Path=/; Max-Age=31536000; SameSite=Strict",
        lang.code()
    );
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Headers every desk page carries: no caching of content, no framing, no referrer, and a
/// content security policy that allows only this server's own assets.
pub fn secure_headers(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; \
             style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; \
             base-uri 'none'; form-action 'self'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

fn frame(lang: Lang, title: &str, path: &str, nav: Option<Markup>, body: Markup) -> Response {
    let other = lang.other();
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex, nofollow";
                title { (title) " · Berani" }
                link rel="stylesheet" href="/desk/static/desk.css";
            }
            body {
                header.top {
                    a.brand href="/desk" { "Berani" span.sub { (lang.t("Meja kasus", "Case desk")) } }
                    @if let Some(nav) = nav { (nav) }
                    a.lang href={ "/desk/lang?to=" (other.code()) "&back=" (path) } lang=(other.code()) {
                        (lang.t("English", "Bahasa Indonesia"))
                    }
                }
                main { (body) }
            }
        }
    };
    let mut r = Html(markup.into_string()).into_response();
    secure_headers(&mut r);
    r
}

fn nav(ctx: &Ctx, path: &str) -> Markup {
    let l = ctx.lang;
    let item = |href: &'static str, label: &'static str| {
        let current = path == href || (href != "/desk" && path.starts_with(href));
        html! { a href=(href) aria-current=[current.then_some("page")] { (label) } }
    };
    html! {
        nav.main aria-label=(l.t("Menu utama", "Main menu")) {
            @if ctx.role() >= Role::Caseworker {
                (item("/desk/inbox", l.t("Kotak masuk", "Inbox")))
            }
            (item("/desk/stats", l.t("Statistik", "Statistics")))
            (item("/desk/volunteers", l.t("Relawan", "Volunteers")))
            @if ctx.role() >= Role::Admin {
                (item("/desk/users", l.t("Pengguna", "Users")))
                (item("/desk/audit", l.t("Log audit", "Audit log")))
                (item("/desk/apk", l.t("Aplikasi", "App")))
            }
            (item("/desk/account", l.t("Akun saya", "My account")))
            form.inline method="post" action="/desk/logout" {
                input type="hidden" name="csrf" value=(ctx.session.csrf);
                button.link type="submit" { (l.t("Keluar", "Log out")) " (" (ctx.user()) ")" }
            }
        }
    }
}

/// A full page for a logged-in user.
pub fn page(ctx: &Ctx, title: &str, path: &str, body: Markup) -> Response {
    frame(ctx.lang, title, path, Some(nav(ctx, path)), body)
}

/// A page without the menu (login, errors before login).
pub fn bare(lang: Lang, title: &str, path: &str, body: Markup) -> Response {
    frame(lang, title, path, None, body)
}

/// A short message page (errors).
pub fn message(lang: Lang, title: &str, text: &str) -> Response {
    bare(
        lang,
        title,
        "/desk",
        html! {
            section.card role="alert" {
                h1 { (title) }
                p { (text) }
                p { a href="/desk" { (lang.t("Kembali ke meja kasus", "Back to the case desk")) } }
            }
        },
    )
}

/// The hidden CSRF field of a form.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.session.csrf); }
}

/// A notice shown at the top of a page after an action (`?done=…`).
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(t) = text {
            p.notice role="status" { (t) }
        }
    }
}

/// Formats Unix seconds as a local (WIB, UTC+7) date and time, the way the office reads it.
pub fn when(unix: i64) -> String {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("UTC+7");
    match time::OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => {
            let t = t.to_offset(wib);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02} WIB",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        }
        Err(_) => "—".into(),
    }
}

/// A duration in hours and minutes, e.g. `3 j 20 m` / `3 h 20 m`.
pub fn span(lang: Lang, secs: i64) -> String {
    let s = secs.abs();
    let (h, m) = (s / 3600, (s % 3600) / 60);
    let hu = lang.t("j", "h");
    if h >= 48 {
        format!("{} {}", h / 24, lang.t("hari", "days"))
    } else {
        format!("{h} {hu} {m} m")
    }
}

/// Raw HTML that is known safe (static strings only).
pub fn raw(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

/// The language of a request without a session.
pub fn lang(headers: &HeaderMap) -> Lang {
    lang_of(headers)
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::query;
    use futures_util::FutureExt;
    if let Some(q) = query::<LangQuery>(body) {
        let r = switch_lang(Query(q))
            .now_or_never()
            .expect("the language switch never waits")
            .into_response();
        // The switch always answers with a redirect, and only ever to a page of the desk.
        assert_eq!(r.status(), axum::http::StatusCode::SEE_OTHER);
        // A valid header value may hold UTF-8 (obs-text), so compare bytes.
        let to = r.headers()[header::LOCATION].as_bytes();
        assert!(to.starts_with(b"/desk") && !to.starts_with(b"//"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn back_to(back: &str) -> (axum::http::StatusCode, String) {
        let q = LangQuery {
            to: "en".into(),
            back: back.into(),
        };
        let r = switch_lang(Query(q)).now_or_never().unwrap();
        let to = r.headers()[header::LOCATION].to_str().unwrap().to_string();
        (r.status(), to)
    }

    #[test]
    fn the_language_switch_goes_back_only_to_a_desk_page_that_fits_a_header() {
        use axum::http::StatusCode;
        assert_eq!(
            back_to("/desk/inbox?status=all"),
            (StatusCode::SEE_OTHER, "/desk/inbox?status=all".into())
        );
        // `back=/desk%0A` made a 500: a newline cannot be in a Location header.
        assert_eq!(back_to("/desk\n"), (StatusCode::SEE_OTHER, "/desk".into()));
        assert_eq!(
            back_to("/desk\u{7f}x"),
            (StatusCode::SEE_OTHER, "/desk".into())
        );
        assert_eq!(
            back_to("https://elsewhere.example/"),
            (StatusCode::SEE_OTHER, "/desk".into())
        );
        assert_eq!(
            back_to("//elsewhere.example/desk"),
            (StatusCode::SEE_OTHER, "/desk".into())
        );
    }
}
