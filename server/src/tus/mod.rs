//! The tus 1.0.0 intake at `/v1/uploads`, exactly as `docs/PROTOCOL.md` describes it.
//!
//! Extensions: creation, creation-with-upload, checksum (sha1, sha256), expiration and
//! termination. Handlers here read headers, pick the answer and call into the parts: the
//! metadata parser, the rows ([`records`]), the blob files ([`store`]), the append path
//! ([`append`]) and the expiry sweeper ([`expiry`]).

pub mod append;
pub mod checksum;
pub mod expiry;
pub mod metadata;
pub mod records;
pub mod reply;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{options, post};
use berani_core::protocol::{TUS_EXTENSIONS, TUS_VERSION, UPLOADS_PATH};

use crate::app::AppState;
use crate::db;
use crate::limits::Busy;
use records::{CreateError, Upload};
use reply::{
    OFFSET_OCTET_STREAM, Reject, TUS_CHECKSUM_ALGORITHM, TUS_EXTENSION, TUS_MAX_SIZE,
    TUS_VERSION_H, UPLOAD_CHECKSUM, UPLOAD_DEFER_LENGTH, UPLOAD_EXPIRES, UPLOAD_LENGTH,
    UPLOAD_METADATA, UPLOAD_OFFSET,
};

/// The tus routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(UPLOADS_PATH, post(create).options(discover))
        .route(
            "/v1/uploads/{upload}",
            options(discover)
                .head(offset)
                .patch(patch)
                .delete(terminate),
        )
        .layer(middleware::from_fn(reply::tus_version))
}

/// `OPTIONS`: what this server speaks.
async fn discover(State(s): State<Arc<AppState>>) -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (TUS_VERSION_H, HeaderValue::from_static(TUS_VERSION)),
            (TUS_EXTENSION, HeaderValue::from_static(TUS_EXTENSIONS)),
            (TUS_MAX_SIZE, reply::number(s.max_part)),
            (
                TUS_CHECKSUM_ALGORITHM,
                HeaderValue::from_static(checksum::ALGORITHMS),
            ),
        ],
    )
        .into_response()
}

fn is_append_body(headers: &HeaderMap) -> Option<bool> {
    headers.get(header::CONTENT_TYPE).map(|v| {
        v.as_bytes()
            .eq_ignore_ascii_case(OFFSET_OCTET_STREAM.as_bytes())
    })
}

fn content_length(headers: &HeaderMap) -> Result<Option<u64>, Reject> {
    reply::parse_number(headers, &header::CONTENT_LENGTH)
        .transpose()
        .map_err(|()| Reject::new(StatusCode::BAD_REQUEST, "Content-Length is malformed"))
}

fn parse_checksum(headers: &HeaderMap) -> Result<Option<checksum::Expected>, Reject> {
    headers
        .get(UPLOAD_CHECKSUM)
        .map(|v| checksum::parse(v.as_bytes()))
        .transpose()
        .map_err(|e| Reject::new(StatusCode::BAD_REQUEST, e.0))
}

/// Looks an upload up; unknown, malformed and expired ids all answer 404.
async fn live_upload(s: &AppState, id: String) -> Result<Upload, Reject> {
    if !store::is_upload_id(&id) {
        return Err(Reject::not_found());
    }
    let u =
        s.db.read_async(move |c| records::find(c, &id))
            .await
            .map_err(|e| Reject::internal("reading an upload", e))?
            .ok_or_else(Reject::not_found)?;
    if u.is_expired(s.ttl.as_secs() as i64, db::now()) {
        return Err(Reject::not_found());
    }
    Ok(u)
}

/// Headers every answer about an upload carries.
fn progress_headers(s: &AppState, u: &Upload, resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(UPLOAD_OFFSET, reply::number(u.offset));
    if !u.completed {
        h.insert(UPLOAD_EXPIRES, reply::expires(u.progress_at, s.ttl));
    }
}

fn busy(b: Busy) -> Reject {
    match b {
        Busy::Upload => Reject::new(
            StatusCode::LOCKED,
            "another PATCH to this upload is in flight",
        ),
        Busy::Report => Reject::busy("too many uploads in flight for this report"),
        Busy::Server => Reject::busy("too many uploads in flight; try again shortly"),
    }
}

/// For the `tus_headers` fuzz target (server/fuzz): every check the handlers make on a
/// request's headers and its upload id, without the state they then touch.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_headers(headers: &HeaderMap, upload_id: &str) {
    let _ = headers.contains_key(UPLOAD_DEFER_LENGTH);
    for name in [&UPLOAD_LENGTH, &UPLOAD_OFFSET] {
        if let Some(Ok(n)) = reply::parse_number(headers, name) {
            assert!(n < 10_000_000_000_000_000_000);
        }
    }
    if let Some(m) = headers.get(UPLOAD_METADATA)
        && let Ok(m) = metadata::parse(m.as_bytes())
    {
        assert!(berani_core::protocol::is_report_id(&m.report));
        assert!(m.part < m.parts);
    }
    let _ = is_append_body(headers);
    let _ = parse_checksum(headers);
    let _ = content_length(headers);
    if store::is_upload_id(upload_id) {
        assert!(upload_id.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
}

/// `POST /v1/uploads`: creation, idempotent per (report, part), with an optional first chunk.
async fn create(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Reject> {
    let bad = |r| Reject::new(StatusCode::BAD_REQUEST, r);
    if headers.contains_key(UPLOAD_DEFER_LENGTH) {
        return Err(bad(
            "Upload-Defer-Length is not supported; send Upload-Length",
        ));
    }
    let length = match reply::parse_number(&headers, &UPLOAD_LENGTH) {
        None => return Err(bad("Upload-Length is required")),
        Some(Err(())) => return Err(bad("Upload-Length must be a decimal number")),
        Some(Ok(0)) => return Err(bad("Upload-Length must be at least 1")),
        Some(Ok(n)) => n,
    };
    let meta = headers
        .get(UPLOAD_METADATA)
        .ok_or_else(|| bad("Upload-Metadata is required"))?;
    let meta = metadata::parse(meta.as_bytes()).map_err(|e| bad(e.0))?;
    if length > s.max_part {
        return Err(Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Upload-Length is larger than this server accepts (see Tus-Max-Size)",
        ));
    }
    let with_body = match is_append_body(&headers) {
        Some(false) => {
            return Err(Reject::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/offset+octet-stream",
            ));
        }
        Some(true) => true,
        None => false,
    };
    let checksum = parse_checksum(&headers)?;
    let cl = content_length(&headers)?;
    // A first chunk that cannot fit is refused before anything is stored.
    if with_body && cl.is_some_and(|n| n > length) {
        return Err(Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body would pass Upload-Length; nothing of it was kept",
        ));
    }

    let ttl = s.ttl.as_secs() as i64;
    let now = db::now();
    // A follow-up registration rides on part 0: its verifier is hashed before the write (and
    // only once: a retried creation finds it stored).
    let followup = match &meta.followup {
        Some(f) => crate::followup::prepare(&s, &meta.report, f)
            .await
            .map_err(|why| Reject::new(StatusCode::CONFLICT, why))?,
        None => None,
    };
    let created =
        s.db.write_async(move |tx| {
            let created = records::create(tx, &meta, length, ttl, now)?;
            if let Some((lookup, verifier)) = &followup {
                crate::followup::register(tx, &meta.report, lookup, verifier, now)?
                    .map_err(CreateError::Conflict)?;
            }
            Ok(created)
        })
        .await
        .map_err(|e| match e {
            CreateError::Token => Reject::new(
                StatusCode::FORBIDDEN,
                "token does not match the report's earlier uploads",
            ),
            CreateError::Conflict(reason) => Reject::new(StatusCode::CONFLICT, reason),
            CreateError::Db(e) => Reject::internal("creating an upload", e),
        })?;
    if let Some(old) = &created.replaced
        && let Err(e) = s.blobs.remove(old).await
    {
        tracing::warn!("removing a replaced upload blob: {e}");
    }
    let mut upload = created.upload;
    let location = format!("{UPLOADS_PATH}/{}", upload.id);
    let location = HeaderValue::from_str(&location).expect("upload ids are hex");

    // The first chunk is appended only to an upload still at 0 and free; otherwise the
    // answer says where the upload stands and the phone continues with PATCH.
    if with_body
        && upload.offset == 0
        && !upload.completed
        && cl != Some(0)
        && let Ok(_slot) = s.limits.acquire(&upload.id, &upload.report)
    {
        upload = append::append(&s, upload, body, checksum, cl)
            .await
            .map_err(|r| r.with(header::LOCATION, location.clone()))?;
    }
    if !created.existed {
        tracing::debug!("upload created");
    }
    let mut resp = (StatusCode::CREATED, [(header::LOCATION, location)]).into_response();
    progress_headers(&s, &upload, &mut resp);
    Ok(resp)
}

/// `HEAD /v1/uploads/{upload}`: how far the upload got.
async fn offset(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let u = live_upload(&s, id).await?;
    let mut resp = (
        StatusCode::OK,
        [
            (UPLOAD_LENGTH, reply::number(u.length)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response();
    progress_headers(&s, &u, &mut resp);
    Ok(resp)
}

/// `PATCH /v1/uploads/{upload}`: appends at `Upload-Offset`.
async fn patch(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Reject> {
    if is_append_body(&headers) != Some(true) {
        return Err(Reject::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/offset+octet-stream",
        ));
    }
    let at = match reply::parse_number(&headers, &UPLOAD_OFFSET) {
        None => {
            return Err(Reject::new(
                StatusCode::BAD_REQUEST,
                "Upload-Offset is required",
            ));
        }
        Some(Err(())) => {
            return Err(Reject::new(
                StatusCode::BAD_REQUEST,
                "Upload-Offset must be a decimal number",
            ));
        }
        Some(Ok(n)) => n,
    };
    let checksum = parse_checksum(&headers)?;
    let cl = content_length(&headers)?;
    let u = live_upload(&s, id.clone()).await?;
    let _slot = s.limits.acquire(&u.id, &u.report).map_err(busy)?;
    // Read again under the slot: a PATCH that just finished may have moved the offset.
    let u = live_upload(&s, id).await?;
    if at != u.offset {
        return Err(Reject::new(
            StatusCode::CONFLICT,
            "Upload-Offset does not match the upload's offset",
        ));
    }
    let u = if u.completed {
        if cl.unwrap_or(0) > 0 {
            return Err(Reject::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the upload is complete; nothing more is accepted",
            ));
        }
        u
    } else {
        append::append(&s, u, body, checksum, cl).await?
    };
    let mut resp = StatusCode::NO_CONTENT.into_response();
    progress_headers(&s, &u, &mut resp);
    Ok(resp)
}

/// `DELETE /v1/uploads/{upload}`: removes an incomplete upload and its bytes.
async fn terminate(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, Reject> {
    let u = live_upload(&s, id).await?;
    if u.report_received {
        return Err(Reject::new(
            StatusCode::FORBIDDEN,
            "parts of a received report are kept",
        ));
    }
    let _claim = s.limits.claim(&u.id).ok_or_else(|| busy(Busy::Upload))?;
    let (uid, report) = (u.id.clone(), u.report.clone());
    s.db.write_async(move |tx| records::delete(tx, &uid, &report))
        .await
        .map_err(|e| Reject::internal("deleting an upload", e))?;
    s.blobs
        .remove(&u.id)
        .await
        .map_err(|e| Reject::internal("deleting an upload blob", e))?;
    let _ = s.blobs.sync_dir().await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
