//! Logging: `tracing` to stderr, and one access line per request.
//!
//! Who reports violence, and from where, is itself sensitive. The access line therefore has
//! the method, the route *template* (`/v1/uploads/{upload}`, not the id), the status and the
//! duration, and nothing else: no client address (the server never asks for `ConnectInfo`
//! and never reads `X-Forwarded-For` or `Forwarded`), no metadata, no tokens. There is no
//! switch to turn addresses on.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Level;

/// Installs the stderr logger; `BERANI_LOG` (error, warn, info, debug, trace) sets the level.
pub fn init() {
    let level = std::env::var("BERANI_LOG")
        .ok()
        .and_then(|l| l.parse::<Level>().ok())
        .unwrap_or(Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .try_init();
}

/// Middleware writing the access line.
pub async fn access(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let start = Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        target: "access",
        "{method} {route} {} {}ms",
        resp.status().as_u16(),
        start.elapsed().as_millis()
    );
    resp
}
