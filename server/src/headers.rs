//! Security headers on every response, desk and public alike.
//!
//! Desk pages set their own, stricter set ([`crate::desk::page::secure_headers`]); this layer
//! fills in whatever a response lacks, so that redirects, refusals, the stylesheet, the tus
//! and follow-up answers and the 404 fallback carry them too: no MIME sniffing, no referrer,
//! no framing, and a content security policy that allows only this server's own assets and
//! no inline script.

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy for responses that do not bring their own: this server's assets only, no
/// inline script, no plugins, never framed.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
                               frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Middleware: adds the security headers a response does not already carry.
pub async fn secure(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    // The router's own 405 has an empty body: say what is wrong, as every refusal does.
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED && resp.body().size_hint().exact() == Some(0)
    {
        *resp.body_mut() = Body::from("method not allowed on this path\n");
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    let h = resp.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
    ] {
        h.entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    resp
}
