//! tus headers, and the short plain-text answers the intake gives.
//!
//! Every refusal is a status and one English sentence about the request (which header or
//! key, which limit), never anything a reporter wrote. [`tus_version`] is the middleware that
//! enforces `Tus-Resumable` (412) and stamps it on every tus response.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berani_core::protocol::TUS_VERSION;
use time::OffsetDateTime;
use time::macros::format_description;

/// `Tus-Resumable`.
pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
/// `Tus-Version`.
pub const TUS_VERSION_H: HeaderName = HeaderName::from_static("tus-version");
/// `Tus-Extension`.
pub const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
/// `Tus-Max-Size`.
pub const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
/// `Tus-Checksum-Algorithm`.
pub const TUS_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("tus-checksum-algorithm");
/// `Upload-Offset`.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
/// `Upload-Length`.
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
/// `Upload-Defer-Length`.
pub const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// `Upload-Metadata`.
pub const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
/// `Upload-Checksum`.
pub const UPLOAD_CHECKSUM: HeaderName = HeaderName::from_static("upload-checksum");
/// `Upload-Expires`.
pub const UPLOAD_EXPIRES: HeaderName = HeaderName::from_static("upload-expires");
/// The body type of tus appends.
pub const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

/// 460 Checksum Mismatch (tus checksum extension).
pub fn checksum_mismatch() -> StatusCode {
    StatusCode::from_u16(460).expect("460 is a valid status code")
}

/// A refusal: status, reason, and any extra headers.
#[derive(Debug)]
pub struct Reject {
    status: StatusCode,
    reason: &'static str,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reject {
    /// A refusal with `status` and a one-sentence `reason`.
    pub fn new(status: StatusCode, reason: &'static str) -> Self {
        Self {
            status,
            reason,
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: HeaderName, value: impl Into<HeaderValue>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 404, the same for unknown, expired and foreign ids.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    /// 500 for a storage failure; the cause is logged, not sent.
    pub fn internal(what: &'static str, e: impl std::fmt::Display) -> Self {
        tracing::error!("{what}: {e}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "storage failure; try again later",
        )
    }

    /// 429 with `Retry-After`.
    pub fn busy(reason: &'static str) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, reason)
            .with(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", self.reason),
        )
            .into_response();
        resp.headers_mut().extend(self.headers);
        resp
    }
}

/// An HTTP date (RFC 7231 IMF-fixdate), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: OffsetDateTime) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .expect("HTTP dates format")
}

/// `Upload-Expires` for an upload last advanced at `progress_at`.
pub fn expires(progress_at: i64, ttl: Duration) -> HeaderValue {
    let at = OffsetDateTime::from_unix_timestamp(progress_at.saturating_add(ttl.as_secs() as i64))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    HeaderValue::from_str(&http_date(at)).expect("HTTP dates are ASCII")
}

/// A decimal header value such as `Upload-Offset`.
pub fn number(n: u64) -> HeaderValue {
    HeaderValue::from(n)
}

/// Reads a header that must be a plain non-negative decimal number.
pub fn parse_number(headers: &HeaderMap, name: &HeaderName) -> Option<Result<u64, ()>> {
    let v = headers.get(name)?;
    let ok = v
        .to_str()
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse().ok());
    Some(ok.ok_or(()))
}

/// Middleware: refuses tus requests without `Tus-Resumable: 1.0.0` (412, except OPTIONS)
/// and adds `Tus-Resumable` to every response.
pub async fn tus_version(req: Request, next: Next) -> Response {
    let ok = req.method() == Method::OPTIONS
        || req
            .headers()
            .get(&TUS_RESUMABLE)
            .is_some_and(|v| v == TUS_VERSION);
    let mut resp = if ok {
        next.run(req).await
    } else {
        Reject::new(
            StatusCode::PRECONDITION_FAILED,
            "Tus-Resumable must be 1.0.0",
        )
        .with(TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION))
        .into_response()
    };
    resp.headers_mut()
        .insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_imf_fixdate() {
        let t = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
