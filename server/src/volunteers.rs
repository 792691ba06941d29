//! Volunteer codes and their counts: `POST /v1/volunteers/installs` and
//! `POST /v1/volunteers/web-reports`.
//!
//! Both take `{"code":"K7M2QDV"}` (dashes, spaces and case do not matter) and answer 204 when
//! the code is a volunteer's and enabled, 404 `{"error":…,"field":"code"}` when it is unknown
//! or switched off, 400 naming `code` when the body is not that JSON or the code is not a
//! well-formed volunteer code, and 429 with `Retry-After` past the same per-client and overall
//! limits as `/v1/followup` (a limiter of its own, so the two never eat each other's budget).
//!
//! What is stored is one number per code per day (WIB) and kind: `volunteer_counts`. No report,
//! upload, token, address or time finer than the day is kept with it, and no report table has
//! a column for a code, so a count cannot be traced back to a report or a person. The client
//! address is used only as a keyed hash in memory, for the rate limit ([`ClientTag`]).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use berani_core::volunteer::{CountBody, INSTALLS_PATH, VolunteerCode, WEB_REPORTS_PATH};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::app::AppState;
use crate::followup::{
    CLIENT_BURST, CLIENT_PER_SEC, ClientTag, GLOBAL_BURST, GLOBAL_PER_SEC, RateLimiter,
};

/// The volunteers' share of the server state.
pub struct VolunteerState {
    /// Per-client and overall request limits (the follow-up's numbers).
    pub limiter: RateLimiter,
}

impl Default for VolunteerState {
    fn default() -> Self {
        VolunteerState {
            limiter: RateLimiter::new(CLIENT_BURST, CLIENT_PER_SEC, GLOBAL_BURST, GLOBAL_PER_SEC),
        }
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The app was installed and the code entered on it.
    Install,
    /// A report was filed through the web form reached by the volunteer's link.
    WebReport,
}

impl Kind {
    fn column(self) -> &'static str {
        match self {
            Kind::Install => "installs",
            Kind::WebReport => "web_reports",
        }
    }
}

/// One volunteer with the totals of their counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volunteer {
    /// Row id (in desk URLs).
    pub id: i64,
    /// The canonical code, e.g. `K7M2QDV`.
    pub code: String,
    /// Name.
    pub name: String,
    /// A gazetteer code (kecamatan or desa) or free text.
    pub area: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds, when switched off.
    pub disabled_at: Option<i64>,
    /// Installs counted, all days.
    pub installs: i64,
    /// Web reports counted, all days.
    pub web_reports: i64,
}

/// Today in WIB (UTC+7), the office's day: `YYYY-MM-DD`.
pub fn today() -> String {
    day_of(crate::db::now())
}

/// The WIB day of Unix seconds.
pub fn day_of(unix: i64) -> String {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("UTC+7");
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(wib);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Every volunteer with totals, newest first.
pub fn all(c: &Connection) -> rusqlite::Result<Vec<Volunteer>> {
    let mut st = c.prepare(
        "SELECT v.id, v.code, v.name, v.area, v.created_at, v.disabled_at,
                coalesce(sum(n.installs), 0), coalesce(sum(n.web_reports), 0)
         FROM volunteers v LEFT JOIN volunteer_counts n ON n.volunteer = v.id
         GROUP BY v.id ORDER BY v.id DESC",
    )?;
    st.query_map([], |r| {
        Ok(Volunteer {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
            area: r.get(3)?,
            created_at: r.get(4)?,
            disabled_at: r.get(5)?,
            installs: r.get(6)?,
            web_reports: r.get(7)?,
        })
    })?
    .collect()
}

/// One volunteer by row id.
pub fn find(c: &Connection, id: i64) -> rusqlite::Result<Option<Volunteer>> {
    Ok(all(c)?.into_iter().find(|v| v.id == id))
}

/// The counts of one volunteer per day, newest first: (day, installs, web reports).
pub fn days(c: &Connection, id: i64) -> rusqlite::Result<Vec<(String, i64, i64)>> {
    let mut st = c.prepare(
        "SELECT day, installs, web_reports FROM volunteer_counts WHERE volunteer = ?1
         ORDER BY day DESC",
    )?;
    st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect()
}

/// Inserts a volunteer with a fresh code; returns the row id and the code.
pub fn insert(tx: &Transaction, name: &str, area: &str) -> rusqlite::Result<(i64, VolunteerCode)> {
    loop {
        let code = VolunteerCode::generate();
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM volunteers WHERE code = ?1)",
            [code.canonical()],
            |r| r.get(0),
        )?;
        if taken {
            continue;
        }
        tx.execute(
            "INSERT INTO volunteers (code, name, area, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![code.canonical(), name, area, crate::db::now()],
        )?;
        return Ok((tx.last_insert_rowid(), code));
    }
}

/// Adds one to today's count of `kind` for an enabled volunteer's code; `false` when the code
/// is no enabled volunteer's.
pub fn count(
    tx: &Transaction,
    code: &VolunteerCode,
    kind: Kind,
    day: &str,
) -> rusqlite::Result<bool> {
    let id: Option<i64> = tx
        .query_row(
            "SELECT id FROM volunteers WHERE code = ?1 AND disabled_at IS NULL",
            [code.canonical()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        return Ok(false);
    };
    let col = kind.column();
    tx.execute(
        &format!(
            "INSERT INTO volunteer_counts (volunteer, day, {col}) VALUES (?1, ?2, 1)
             ON CONFLICT (volunteer, day) DO UPDATE SET {col} = {col} + 1"
        ),
        params![id, day],
    )?;
    Ok(true)
}

// ----- the public endpoints --------------------------------------------------------------

/// The counting routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(INSTALLS_PATH, post(installs))
        .route(WEB_REPORTS_PATH, post(web_reports))
        .layer(DefaultBodyLimit::max(1024))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refuse(status: StatusCode, id: &str, en: &str) -> Response {
    json(
        status,
        serde_json::json!({ "field": "code", "error": en, "error_id": id }),
    )
}

async fn installs(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<ClientTag>>,
    body: Bytes,
) -> Response {
    handle(&s, tag, &body, Kind::Install).await
}

async fn web_reports(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<ClientTag>>,
    body: Bytes,
) -> Response {
    handle(&s, tag, &body, Kind::WebReport).await
}

async fn handle(
    s: &Arc<AppState>,
    tag: Option<axum::Extension<ClientTag>>,
    body: &[u8],
    kind: Kind,
) -> Response {
    // Without a listener (a router driven directly), every request is one client.
    let tag = tag.map_or_else(|| ClientTag::of(IpAddr::V4(Ipv4Addr::UNSPECIFIED)), |t| t.0);
    if let Err(wait) = s.volunteers.limiter.check(tag) {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut r = json(
            StatusCode::TOO_MANY_REQUESTS,
            serde_json::json!({ "error": "too many requests; try again later",
                                "error_id": "terlalu banyak permintaan; coba lagi nanti" }),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    let Ok(req) = serde_json::from_slice::<CountBody>(body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "isi permintaan harus JSON {\"code\": \"…\"}",
            "the body must be JSON {\"code\": \"…\"}",
        );
    };
    let Ok(code) = VolunteerCode::parse(&req.code) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "kode relawan harus 7 huruf/angka, misalnya K7M-2QDV",
            "a volunteer code is 7 letters and digits, e.g. K7M-2QDV",
        );
    };
    let counted =
        s.db.write_async(move |tx| count(tx, &code, kind, &today()))
            .await;
    match counted {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => refuse(
            StatusCode::NOT_FOUND,
            "kode relawan tidak dikenal atau tidak aktif",
            "unknown or switched-off volunteer code",
        ),
        Err(e) => {
            tracing::error!("volunteers: counting failed: {e}");
            json(
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": "the server failed; try again later",
                                    "error_id": "server gagal; coba lagi nanti" }),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_wib() {
        // 2025-01-01 16:59:59 UTC is 23:59:59 WIB; a second later it is the 2nd in Blora.
        assert_eq!(day_of(1_735_750_799), "2025-01-01");
        assert_eq!(day_of(1_735_750_800), "2025-01-02");
    }
}
