//! The public side of the server, for people who are not on the handling team: the page at
//! `/` (what the service is, emergency numbers, the app download, the way to the form), the
//! web report form at `/lapor`, the receipt check at `/cek`, and the APK at `/berani.apk`.
//!
//! These pages are built for a cheap phone's browser on a 2G link: server-rendered HTML with
//! both languages on the page (Bahasa Indonesia first, English second), one small stylesheet
//! and scripts served from this server under names that carry their hash (cached for a year),
//! nothing from any other site, no cookie, no analytics. The access log has the route
//! template and status only, as everywhere on this server ([`crate::log`]): no address.
//!
//! The report form and the receipt check do their cryptography in the browser (scripts in
//! `server/web/src`, bundled by `scripts/build-web` into `server/web/dist` and embedded here):
//! the report is sealed to the profile's recipients before it leaves the page, so the server
//! never holds plaintext, exactly as with the app.

pub mod apk;
mod assets;
mod pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::app::AppState;

pub use assets::asset_path;

/// Every public route.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(pages::home))
        .route("/lapor", get(pages::lapor))
        .route("/cek", get(pages::cek))
        .route("/static/{name}", get(assets::get))
        .route(apk::PUBLIC_PATH, get(apk::download))
        .merge(apk::routes())
}

/// A volunteer code as typed or carried in `?v=`: trimmed and upper-cased, 3 to 32 letters,
/// digits or dashes; anything else is dropped (the page then simply shows no code).
pub fn volunteer_code(raw: &str) -> Option<String> {
    let v = raw.trim().to_ascii_uppercase();
    let ok =
        (3..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some(v)
}

/// A WhatsApp link for an Indonesian number: `08…` and `+62…` both become `62…`.
pub fn wa_link(number: &str) -> Option<String> {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let intl = if let Some(rest) = digits.strip_prefix('0') {
        format!("62{rest}")
    } else {
        digits
    };
    (8..=15)
        .contains(&intl.len())
        .then(|| format!("https://wa.me/{intl}"))
}

/// A `tel:` link: digits and a leading `+` only.
pub fn tel_link(number: &str) -> Option<String> {
    let t = number.trim();
    let plus = t.starts_with('+');
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty() && digits.len() <= 15).then(|| {
        if plus {
            format!("tel:+{digits}")
        } else {
            format!("tel:{digits}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volunteer_codes_are_checked() {
        assert_eq!(volunteer_code(" blora-07 ").as_deref(), Some("BLORA-07"));
        assert_eq!(volunteer_code("ab"), None);
        assert_eq!(volunteer_code("<script>"), None);
        assert_eq!(volunteer_code(&"A".repeat(33)), None);
    }

    #[test]
    fn phone_links() {
        assert_eq!(
            wa_link("08111-129-129").as_deref(),
            Some("https://wa.me/628111129129")
        );
        assert_eq!(
            wa_link("+62 812 3456 7890").as_deref(),
            Some("https://wa.me/6281234567890")
        );
        assert_eq!(wa_link("12"), None);
        assert_eq!(tel_link("112").as_deref(), Some("tel:112"));
        assert_eq!(
            tel_link("(0296) 531-001").as_deref(),
            Some("tel:0296531001")
        );
        assert_eq!(tel_link("+62 296").as_deref(), Some("tel:+62296"));
        assert_eq!(tel_link("none"), None);
    }
}
