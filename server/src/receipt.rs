//! The signed receipt: the server's statement that every part of a report arrived intact.
//!
//! Only the phone that holds the report's client token can fetch it, and every refusal is
//! the same 404, so the endpoint does not reveal which reports exist. The receipt is signed
//! on each request with the receipt key; Ed25519 is deterministic, so the bytes are the same
//! every time.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use berani_core::protocol::{self, Receipt, ReceiptPart};
use time::OffsetDateTime;

use crate::app::AppState;
use crate::tus::records;
use crate::tus::reply::Reject;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// `GET /v1/reports/{report}/receipt` with `Authorization: Bearer <client token>`.
pub async fn get(
    State(s): State<Arc<AppState>>,
    Path(report): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Reject> {
    let Some(token) = bearer(&headers) else {
        return Err(Reject::not_found());
    };
    if !protocol::is_report_id(&report) || token.len() != 43 {
        return Err(Reject::not_found());
    }
    let token_hash = protocol::token_hash(token);
    let id = report.clone();
    let found =
        s.db.read_async(move |c| records::received_parts(c, &id, &token_hash))
            .await
            .map_err(|e| Reject::internal("reading a receipt", e))?;
    let Some((received_at, parts)) = found else {
        return Err(Reject::not_found());
    };
    let receipt = Receipt {
        schema_version: 1,
        report,
        received_at: OffsetDateTime::from_unix_timestamp(received_at)
            .map_err(|e| Reject::internal("reading a receipt time", e))?,
        parts: parts
            .into_iter()
            .map(|(part, size, sha256)| ReceiptPart { part, size, sha256 })
            .collect(),
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        receipt.sign(&s.receipt_key),
    )
        .into_response())
}
