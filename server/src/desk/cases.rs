//! Cases: the inbox, the case page, and each step from receipt to termination.
//!
//! A case exists from the moment its report document (part 0) is complete on the server;
//! attachments may still be arriving, and the inbox shows how far. The initial assessment is
//! due [`SLA_SECS`] after that moment. The stages follow the national service standard
//! (Permen PPPA 2/2022): received → identified (risk level) → assessed (bio-psycho-social) →
//! intervention plan (consent) → services → monitoring → terminated (reason).
//!
//! Only workflow facts are stored in clear. The report is decrypted in memory for a session
//! holding the intake identity; notes and step details are sealed to the intake key before
//! they are stored.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use berani_core::age::{self, Identity, Recipient};
use berani_core::model::choices::{AgeBand, AttachmentKind, Category, Choice, VictimSex};
use berani_core::model::{IncidentDate, ReportDocument};
use maud::{Markup, html};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::accounts;
use super::i18n::Lang;
use super::page::{self, csrf};
use super::{Ctx, DeskError, InLang, Role, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::db;

/// The initial assessment is due this long after the report arrived: one day.
pub const SLA_SECS: i64 = 24 * 3600;
/// Coordinators on duty are warned this long before a case breaches its SLA.
pub const WARN_BEFORE_SECS: i64 = 4 * 3600;

/// A stage of the national service standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 1. Received (pengaduan).
    Received,
    /// 2. Identified, with a risk level.
    Identified,
    /// 3. Assessed (bio-psycho-social).
    Assessed,
    /// 4. Intervention plan, with consent.
    Planned,
    /// 5. Services.
    Services,
    /// 6. Monitoring and evaluation.
    Monitoring,
    /// 7. Terminated, with a reason.
    Terminated,
}

impl Stage {
    /// Every stage in order.
    pub const ALL: [Stage; 7] = [
        Stage::Received,
        Stage::Identified,
        Stage::Assessed,
        Stage::Planned,
        Stage::Services,
        Stage::Monitoring,
        Stage::Terminated,
    ];

    /// The stored name.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Received => "received",
            Stage::Identified => "identified",
            Stage::Assessed => "assessed",
            Stage::Planned => "planned",
            Stage::Services => "services",
            Stage::Monitoring => "monitoring",
            Stage::Terminated => "terminated",
        }
    }

    /// The stage of a stored name.
    pub fn from_key(k: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == k)
    }

    /// The name the national standard uses.
    pub fn label(self, l: Lang) -> &'static str {
        match self {
            Stage::Received => l.t("1. Pengaduan diterima", "1. Received"),
            Stage::Identified => l.t("2. Identifikasi", "2. Identified"),
            Stage::Assessed => l.t(
                "3. Asesmen bio-psiko-sosial",
                "3. Assessed (bio-psycho-social)",
            ),
            Stage::Planned => l.t("4. Rencana intervensi", "4. Intervention plan"),
            Stage::Services => l.t("5. Layanan", "5. Services"),
            Stage::Monitoring => l.t("6. Pemantauan dan evaluasi", "6. Monitoring"),
            Stage::Terminated => l.t("7. Terminasi", "7. Terminated"),
        }
    }

    /// The stage after this one.
    pub fn next(self) -> Option<Stage> {
        Self::ALL.into_iter().find(|s| *s > self)
    }

    /// The stages a case at `self` may move to: the next one, or termination from any open
    /// stage (a case can be withdrawn or referred at any point).
    pub fn allowed_next(self) -> Vec<Stage> {
        let mut v: Vec<Stage> = self.next().into_iter().collect();
        if self != Stage::Terminated && !v.contains(&Stage::Terminated) {
            v.push(Stage::Terminated);
        }
        v
    }
}

/// Risk levels recorded at identification.
pub const RISKS: [(&str, &str, &str); 3] = [
    ("low", "Rendah", "Low"),
    ("medium", "Sedang", "Medium"),
    ("high", "Tinggi", "High"),
];

/// Services of stage 5 (the national standard's list).
pub const SERVICES: [(&str, &str, &str); 10] = [
    ("health", "Layanan kesehatan", "Health care"),
    ("legal_aid", "Bantuan hukum", "Legal aid"),
    ("law_enforcement", "Penegakan hukum", "Law enforcement"),
    (
        "psychosocial",
        "Dukungan psikososial",
        "Psychosocial support",
    ),
    (
        "shelter",
        "Rumah aman / penampungan sementara",
        "Temporary shelter",
    ),
    ("mediation", "Mediasi", "Mediation"),
    (
        "rehabilitation",
        "Rehabilitasi sosial",
        "Social rehabilitation",
    ),
    (
        "reintegration",
        "Reintegrasi sosial",
        "Social reintegration",
    ),
    ("repatriation", "Pemulangan", "Repatriation"),
    (
        "religious",
        "Pendampingan rohani",
        "Religious accompaniment",
    ),
];

/// Reasons a case is terminated.
pub const TERMINATIONS: [(&str, &str, &str); 5] = [
    (
        "reintegrated",
        "Korban sudah kembali ke keluarga/masyarakat (reintegrasi)",
        "Reintegrated",
    ),
    (
        "referred",
        "Dirujuk ke lembaga lain",
        "Referred to another agency",
    ),
    ("withdrawn", "Pelapor/korban mencabut laporan", "Withdrawn"),
    ("unreachable", "Korban tidak dapat dihubungi", "Unreachable"),
    ("other", "Lainnya", "Other"),
];

fn label_of(list: &[(&str, &'static str, &'static str)], key: &str, l: Lang) -> String {
    list.iter()
        .find(|(k, _, _)| *k == key)
        .map_or_else(|| key.to_string(), |(_, id, en)| l.t(id, en).to_string())
}

/// A case as stored (workflow facts only).
#[derive(Debug, Clone)]
pub struct CaseRow {
    /// The report id.
    pub report: String,
    /// When the report document arrived (Unix seconds).
    pub received_at: i64,
    /// When the initial assessment is due.
    pub due_at: i64,
    /// Current stage.
    pub stage: Stage,
    /// Who holds it.
    pub assignee: Option<String>,
    /// When it reached "assessed".
    pub assessed_at: Option<i64>,
    /// When it was terminated.
    pub closed_at: Option<i64>,
    /// Demo data.
    pub synthetic: bool,
    /// Parts complete on the server.
    pub parts_done: u32,
    /// Parts the report has.
    pub parts_total: u32,
    /// Bytes of attachments received so far and in all.
    pub bytes_done: u64,
    /// Bytes of the whole report.
    pub bytes_total: u64,
}

impl CaseRow {
    /// Seconds until the assessment is due (negative: overdue); `None` once assessed.
    pub fn sla_left(&self, now: i64) -> Option<i64> {
        if self.assessed_at.is_some() || self.stage >= Stage::Assessed {
            None
        } else {
            Some(self.due_at - now)
        }
    }

    /// The SLA outcome: met, breached, or pending.
    pub fn sla_outcome(&self, now: i64) -> &'static str {
        match self.assessed_at {
            Some(t) if t <= self.due_at => "met",
            Some(_) => "breached",
            None if self.stage >= Stage::Assessed => "met",
            None if now > self.due_at => "breached",
            None => "pending",
        }
    }
}

const CASE_COLUMNS: &str = "c.report, c.received_at, c.due_at, c.stage, c.assignee,
    c.assessed_at, c.closed_at, c.synthetic, r.part_count,
    (SELECT count(*) FROM uploads u WHERE u.report = c.report AND u.completed_at IS NOT NULL),
    (SELECT coalesce(sum(u.upload_offset), 0) FROM uploads u WHERE u.report = c.report),
    (SELECT coalesce(sum(u.length), 0) FROM uploads u WHERE u.report = c.report)";

fn case_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let stage: String = r.get(3)?;
    Ok(CaseRow {
        report: r.get(0)?,
        received_at: r.get(1)?,
        due_at: r.get(2)?,
        stage: Stage::from_key(&stage).unwrap_or(Stage::Received),
        assignee: r.get(4)?,
        assessed_at: r.get(5)?,
        closed_at: r.get(6)?,
        synthetic: r.get(7)?,
        parts_total: r.get(8)?,
        parts_done: r.get(9)?,
        bytes_done: r.get(10)?,
        bytes_total: r.get(11)?,
    })
}

/// One case by report id.
pub fn find(c: &Connection, report: &str) -> rusqlite::Result<Option<CaseRow>> {
    c.query_row(
        &format!(
            "SELECT {CASE_COLUMNS} FROM cases c JOIN reports r ON r.id = c.report WHERE c.report = ?1"
        ),
        [report],
        case_row,
    )
    .optional()
}

/// Cases for a list: open or all, every one or only `assignee`'s.
pub fn list(
    c: &Connection,
    open_only: bool,
    assignee: Option<&str>,
) -> rusqlite::Result<Vec<CaseRow>> {
    let mut st = c.prepare(&format!(
        "SELECT {CASE_COLUMNS} FROM cases c JOIN reports r ON r.id = c.report
         WHERE (?1 = 0 OR c.stage != 'terminated') AND (?2 IS NULL OR c.assignee = ?2)
         ORDER BY c.due_at"
    ))?;
    st.query_map(params![open_only, assignee], case_row)?
        .collect()
}

/// Opens a case for a report whose document just arrived (in the completing transaction).
pub fn open_case(tx: &Transaction, report: &str, now: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO cases (report, received_at, due_at, updated_at) VALUES (?1, ?2, ?3, ?2)
         ON CONFLICT (report) DO NOTHING",
        params![report, now, now + SLA_SECS],
    )?;
    Ok(())
}

/// What the inbox and statistics need from a decrypted report.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The report document.
    pub doc: ReportDocument,
}

impl Summary {
    /// The category key, or `unknown`.
    pub fn category(&self) -> &'static str {
        self.doc.fields.category.map_or("unknown", Category::key)
    }
    /// The district code, or `unknown`.
    pub fn district(&self) -> String {
        self.doc
            .fields
            .location
            .district
            .clone()
            .unwrap_or_else(|| "unknown".into())
    }
    /// The victim's sex key, or `unknown`.
    pub fn victim(&self) -> &'static str {
        self.doc.fields.victim_sex.map_or("unknown", VictimSex::key)
    }
    /// The age band key, or `unknown`.
    pub fn age_band(&self) -> &'static str {
        self.doc
            .fields
            .victim_age_band
            .map_or("unknown", AgeBand::key)
    }
    /// Someone is in danger now.
    pub fn in_danger(&self) -> bool {
        self.doc.fields.in_danger_now
    }
}

/// The district's name in the report's regency.
pub fn district_name(regency: &str, code: &str) -> String {
    berani_core::gazetteer::Gazetteer::for_regency(regency)
        .and_then(|g| g.district(code))
        .map_or_else(|| code.to_string(), |a| a.name.clone())
}

fn village_name(regency: &str, code: &str) -> String {
    berani_core::gazetteer::Gazetteer::for_regency(regency)
        .and_then(|g| g.village(code))
        .map_or_else(|| code.to_string(), |a| a.name.clone())
}

/// The upload blob of a complete part.
fn part_blob(c: &Connection, report: &str, part: u32) -> rusqlite::Result<Option<String>> {
    c.query_row(
        "SELECT id FROM uploads WHERE report = ?1 AND part = ?2 AND completed_at IS NOT NULL",
        params![report, part],
        |r| r.get(0),
    )
    .optional()
}

/// Decrypts a case's report document (blocking).
pub fn decrypt_document(
    state: &AppState,
    identity: &Identity,
    report: &str,
) -> Result<ReportDocument, DeskError> {
    let blob = state
        .db
        .read(|c| part_blob(c, report, 0))?
        .ok_or(DeskError::NotFound)?;
    let file = std::fs::File::open(state.blobs.path(&blob))
        .map_err(|e| DeskError::Internal(format!("report document blob: {e}")))?;
    let mut dec = age::Decryptor::new(file, std::slice::from_ref(identity))
        .map_err(|e| DeskError::Internal(format!("report document does not open: {e}")))?;
    let mut json = zeroize::Zeroizing::new(Vec::new());
    dec.by_ref()
        .take(4 * 1024 * 1024)
        .read_to_end(&mut json)
        .map_err(|e| DeskError::Internal(format!("report document does not open: {e}")))?;
    let doc = ReportDocument::from_json(&json)
        .map_err(|e| DeskError::Internal(format!("report document is malformed: {e}")))?;
    if doc.report_id != report {
        return Err(DeskError::Internal(
            "a report document carries another report's id".into(),
        ));
    }
    Ok(doc)
}

/// The decrypted summary of a case, from the session's cache or decrypted now.
pub async fn summary(ctx: &Ctx, report: &str) -> Result<Arc<Summary>, DeskError> {
    let key = ctx.session.key.clone();
    if let Some(s) = ctx
        .state
        .desk
        .sessions
        .with(&key, |s| s.summaries.get(report).cloned())
        .flatten()
    {
        return Ok(s);
    }
    let identity = ctx.session.identity.clone().ok_or(DeskError::NoKey)?;
    let state = ctx.state.clone();
    let id = report.to_string();
    let doc = tokio::task::spawn_blocking(move || decrypt_document(&state, &identity, &id))
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))??;
    let s = Arc::new(Summary { doc });
    ctx.state.desk.sessions.with(&key, |sess| {
        sess.summaries.insert(report.to_string(), s.clone());
    });
    Ok(s)
}

// ----- sealed details --------------------------------------------------------------------

/// The sealed part of a case event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Details {
    /// Free text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Risk level (identification).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub risk: String,
    /// Consent to the plan was given (intervention plan).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub consent: bool,
    /// Services given (services).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Termination reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The office a case is referred to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub office: String,
}

fn recipient(c: &Connection) -> Result<Recipient, DeskError> {
    accounts::intake_recipient(c)?
        .parse()
        .map_err(|_| DeskError::Internal("the stored intake recipient is malformed".into()))
}

/// Seals bytes to the intake recipient.
pub fn seal_to(r: &Recipient, plain: &[u8]) -> Result<Vec<u8>, DeskError> {
    let (_, out) = age::seal(std::slice::from_ref(r), plain, Vec::new())
        .map_err(|e| DeskError::Internal(format!("sealing failed: {e}")))?;
    Ok(out)
}

/// Opens sealed bytes with the session's identity.
pub fn open_with(identity: &Identity, sealed: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let mut out = zeroize::Zeroizing::new(Vec::new());
    age::open(std::slice::from_ref(identity), sealed, &mut *out).ok()?;
    Some(out)
}

/// One step of a case, with its details opened when the session can.
pub struct Event {
    /// When.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// `stage`, `assign`, `note` or `referral`.
    pub kind: String,
    /// New stage.
    pub stage: Option<Stage>,
    /// New assignee.
    pub assignee: Option<String>,
    /// Opened details.
    pub details: Option<Details>,
}

/// A case's steps, oldest first, with their sealed details opened when `identity` is given.
pub fn events(
    c: &Connection,
    report: &str,
    identity: Option<&Identity>,
) -> rusqlite::Result<Vec<Event>> {
    let mut st = c.prepare(
        "SELECT at, actor, kind, stage, assignee, sealed FROM case_events
         WHERE report = ?1 ORDER BY id",
    )?;
    st.query_map([report], |r| {
        let stage: Option<String> = r.get(3)?;
        let sealed: Option<Vec<u8>> = r.get(5)?;
        let details = match (sealed, identity) {
            (Some(s), Some(id)) => open_with(id, &s).and_then(|p| serde_json::from_slice(&p).ok()),
            _ => None,
        };
        Ok(Event {
            at: r.get(0)?,
            actor: r.get(1)?,
            kind: r.get(2)?,
            stage: stage.as_deref().and_then(Stage::from_key),
            assignee: r.get(4)?,
            details,
        })
    })?
    .collect()
}

// ----- statistics buckets ----------------------------------------------------------------

/// The aggregate cell a case counts in (no case id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Month of receipt, `YYYY-MM` (WIB).
    pub month: String,
    /// Category key.
    pub category: String,
    /// District code.
    pub district: String,
    /// Victim sex key.
    pub victim: String,
    /// Age band key.
    pub age_band: String,
    /// Stage key.
    pub stage: String,
    /// met / breached / pending.
    pub sla: String,
}

/// The bucket of a case now.
pub fn bucket(case: &CaseRow, s: &Summary, now: i64) -> Bucket {
    let wib = time::UtcOffset::from_hms(7, 0, 0).expect("UTC+7");
    let month = time::OffsetDateTime::from_unix_timestamp(case.received_at)
        .map(|t| t.to_offset(wib))
        .map(|t| format!("{:04}-{:02}", t.year(), u8::from(t.month())))
        .unwrap_or_else(|_| "unknown".into());
    Bucket {
        month,
        category: s.category().into(),
        district: s.district(),
        victim: s.victim().into(),
        age_band: s.age_band().into(),
        stage: case.stage.key().into(),
        sla: case.sla_outcome(now).into(),
    }
}

fn add(tx: &Transaction, b: &Bucket, delta: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO stats_counts (month, category, district, victim, age_band, stage, sla, count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, max(?8, 0))
         ON CONFLICT DO UPDATE SET count = max(count + ?8, 0)",
        params![
            b.month, b.category, b.district, b.victim, b.age_band, b.stage, b.sla, delta
        ],
    )?;
    // An emptied cell is removed, so the table does not keep the trail of a case's stages.
    tx.execute("DELETE FROM stats_counts WHERE count = 0", [])?;
    Ok(())
}

/// Moves a case's count into its current bucket: out of the one it was counted in (opened
/// with the keyholder's identity), into the new one, and re-seals the new bucket on the case
/// row. Runs whenever a keyholder views or works a case; a no-op when nothing changed.
pub fn recount(
    tx: &Transaction,
    identity: &Identity,
    case: &CaseRow,
    s: &Summary,
    now: i64,
) -> Result<(), DeskError> {
    let new = bucket(case, s, now);
    let sealed: Option<Vec<u8>> = tx
        .query_row(
            "SELECT stats_bucket FROM cases WHERE report = ?1",
            [&case.report],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let old: Option<Bucket> = match &sealed {
        Some(b) => open_with(identity, b).and_then(|p| serde_json::from_slice(&p).ok()),
        None => None,
    };
    if old.as_ref() == Some(&new) {
        return Ok(());
    }
    if let Some(old) = &old {
        add(tx, old, -1)?;
    }
    add(tx, &new, 1)?;
    let r = recipient(tx)?;
    let resealed = seal_to(&r, &serde_json::to_vec(&new).expect("bucket serialises"))?;
    tx.execute(
        "UPDATE cases SET stats_bucket = ?2 WHERE report = ?1",
        params![case.report, resealed],
    )?;
    Ok(())
}

async fn recount_async(ctx: &Ctx, report: &str) -> Result<(), DeskError> {
    let Some(identity) = ctx.session.identity.clone() else {
        return Ok(());
    };
    let s = summary(ctx, report).await?;
    let id = report.to_string();
    ctx.state
        .db
        .write_async(move |tx| {
            let Some(case) = find(tx, &id)? else {
                return Ok(());
            };
            recount(tx, &identity, &case, &s, db::now())
        })
        .await
}

// ----- access --------------------------------------------------------------------------

/// The case, if this user may see it (coordinators and admins: every case; caseworkers:
/// their own). A case the user may not see is "not found", so ids are not confirmed.
pub(crate) async fn visible(ctx: &Ctx, report: &str) -> Result<CaseRow, DeskError> {
    ctx.require(Role::Caseworker)?;
    if !berani_core::protocol::is_report_id(report) {
        return Err(DeskError::NotFound);
    }
    let id = report.to_string();
    let case = ctx
        .state
        .db
        .read_async(move |c| find(c, &id))
        .await?
        .ok_or(DeskError::NotFound)?;
    if ctx.role().sees_all_cases() || case.assignee.as_deref() == Some(ctx.user()) {
        Ok(case)
    } else {
        Err(DeskError::NotFound)
    }
}

// ----- routes ----------------------------------------------------------------------------

/// The case routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk/inbox", get(inbox))
        .route("/desk/cases/{id}", get(case_page))
        .route("/desk/cases/{id}/parts/{part}", get(attachment))
        .route("/desk/cases/{id}/assign", post(assign))
        .route("/desk/cases/{id}/stage", post(move_stage))
        .route("/desk/cases/{id}/note", post(add_note))
        .route("/desk/cases/{id}/refer", post(refer))
}

/// Inbox filters.
#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    done: String,
}

async fn inbox(ctx: Ctx, Query(q): Query<InboxQuery>) -> Response {
    respond(inbox_page(&ctx, q).await.lang(ctx.lang))
}

async fn inbox_page(ctx: &Ctx, q: InboxQuery) -> Result<Response, DeskError> {
    ctx.require(Role::Caseworker)?;
    let l = ctx.lang;
    let now = db::now();
    let mine = (!ctx.role().sees_all_cases()).then(|| ctx.user().to_string());
    let open_only = q.status != "all" && q.status != "terminated";
    let (rows, people, unread) = ctx
        .state
        .db
        .read_async(move |c| {
            Ok::<_, rusqlite::Error>((
                list(c, open_only, mine.as_deref())?,
                accounts::assignable(c)?,
                super::followup::unread_reports(c)?,
            ))
        })
        .await?;
    let mut shown: Vec<(CaseRow, Option<Arc<Summary>>)> = Vec::new();
    for row in rows {
        if q.status == "terminated" && row.stage != Stage::Terminated {
            continue;
        }
        if let Some(st) = Stage::from_key(&q.status)
            && row.stage != st
        {
            continue;
        }
        if !q.assignee.is_empty() {
            let want = if q.assignee == "-" {
                None
            } else {
                Some(q.assignee.as_str())
            };
            if row.assignee.as_deref() != want {
                continue;
            }
        }
        if q.overdue == "1" && row.sla_left(now).is_none_or(|s| s >= 0) {
            continue;
        }
        let s = if ctx.session.identity.is_some() {
            match summary(ctx, &row.report).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!("desk: a report document did not open: {e:?}");
                    None
                }
            }
        } else {
            None
        };
        if !q.category.is_empty() && s.as_ref().map(|s| s.category()) != Some(q.category.as_str()) {
            continue;
        }
        if !q.district.is_empty() && s.as_ref().map(|s| s.district()) != Some(q.district.clone()) {
            continue;
        }
        shown.push((row, s));
    }
    // In danger now first, then the earliest due.
    shown.sort_by_key(|(r, s)| (!s.as_ref().is_some_and(|s| s.in_danger()), r.due_at));

    let regency = crate::profile::regency(&ctx.state.db).unwrap_or_default();
    let districts: Vec<(String, String)> = berani_core::gazetteer::Gazetteer::for_regency(&regency)
        .map(|g| {
            g.districts()
                .iter()
                .map(|a| (a.code.clone(), a.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let notice = (!q.done.is_empty()).then(|| l.t("Tersimpan.", "Saved."));
    let body = html! {
        h1 { (l.t("Kotak masuk", "Inbox")) }
        (page::notice(notice))
        @if ctx.session.identity.is_none() {
            p.error { (l.t("Akun Anda belum memegang kunci untuk membuka laporan: kategori dan wilayah tidak dapat ditampilkan.",
                "Your account does not hold the key that opens reports: category and district cannot be shown.")) }
        }
        form.filters method="get" action="/desk/inbox" aria-label=(l.t("Saring", "Filter")) {
            div {
                label for="f-status" { (l.t("Status", "Status")) }
                select #f-status name="status" {
                    option value="" selected[q.status.is_empty()] { (l.t("Semua yang terbuka", "All open")) }
                    @for st in Stage::ALL {
                        option value=(st.key()) selected[q.status == st.key()] { (st.label(l)) }
                    }
                    option value="all" selected[q.status == "all"] { (l.t("Semua, termasuk yang selesai", "All, closed too")) }
                }
            }
            div {
                label for="f-category" { (l.t("Kategori", "Category")) }
                select #f-category name="category" {
                    option value="" { (l.t("Semua", "All")) }
                    @for c in Category::ALL {
                        option value=(c.key()) selected[q.category == c.key()] { (l.choice(*c)) }
                    }
                }
            }
            div {
                label for="f-district" { (l.t("Kecamatan", "District")) }
                select #f-district name="district" {
                    option value="" { (l.t("Semua", "All")) }
                    @for (code, name) in &districts {
                        option value=(code) selected[&q.district == code] { (name) }
                    }
                }
            }
            @if ctx.role().sees_all_cases() {
                div {
                    label for="f-assignee" { (l.t("Pemegang kasus", "Assignee")) }
                    select #f-assignee name="assignee" {
                        option value="" { (l.t("Semua", "All")) }
                        option value="-" selected[q.assignee == "-"] { (l.t("Belum ditugaskan", "Not assigned")) }
                        @for p in &people {
                            option value=(p.username) selected[q.assignee == p.username] { (display(p)) }
                        }
                    }
                }
            }
            div {
                label for="f-overdue" {
                    input #f-overdue type="checkbox" name="overdue" value="1" checked[q.overdue == "1"];
                    " " (l.t("Hanya yang terlambat", "Overdue only"))
                }
            }
            div { button type="submit" { (l.t("Terapkan", "Apply")) } }
        }
        p.muted { (shown.len()) " " (l.t("kasus", "cases")) }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { (l.t("Kasus", "Case")) }
                    th scope="col" { (l.t("Batas asesmen awal (24 jam)", "Initial assessment due (24 h)")) }
                    th scope="col" { (l.t("Kategori", "Category")) }
                    th scope="col" { (l.t("Kecamatan", "District")) }
                    th scope="col" { (l.t("Tahap", "Stage")) }
                    th scope="col" { (l.t("Lampiran", "Attachments")) }
                    th scope="col" { (l.t("Pemegang kasus", "Assignee")) }
                } }
                tbody {
                    @for (row, s) in &shown {
                        @let danger = s.as_ref().is_some_and(|s| s.in_danger());
                        tr.pinned[danger] data-case=(row.report) {
                            td {
                                a href={ "/desk/cases/" (row.report) } { (short_id(&row.report)) }
                                @if danger { " " span.danger { (l.t("BAHAYA SEKARANG", "IN DANGER NOW")) } }
                                @if row.synthetic { " " span.synthetic { (l.t("contoh", "sample")) } }
                                @if unread.contains(&row.report) { " " span.unread data-unread="1" { (l.t("pesan baru dari pelapor", "new message from the reporter")) } }
                                br;
                                span.muted { (l.t("Diterima ", "Received ")) (page::when(row.received_at)) }
                                @if let Some(s) = s {
                                    br; span.muted { (l.t("Ditulis ", "Drafted ")) (page::when(s.doc.drafted_at.unix_timestamp())) }
                                }
                            }
                            td { (sla_cell(l, row, now)) }
                            td { @if let Some(s) = s { (s.doc.fields.category.map_or("—", |c| l.choice(c))) } @else { "—" } }
                            td { @if let Some(s) = s { (s.doc.fields.location.district.as_deref().map_or_else(|| "—".to_string(), |d| district_name(&s.doc.regency, d))) } @else { "—" } }
                            td { (row.stage.label(l)) }
                            td { (arrival(l, row)) }
                            td {
                                @if ctx.role().sees_all_cases() && row.stage != Stage::Terminated {
                                    (assign_form(ctx, row, &people))
                                } @else {
                                    (row.assignee.as_deref().unwrap_or("—"))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page::page(
        ctx,
        l.t("Kotak masuk", "Inbox"),
        "/desk/inbox",
        body,
    ))
}

fn display(u: &accounts::User) -> String {
    if u.display_name.is_empty() {
        u.username.clone()
    } else {
        format!("{} ({})", u.display_name, u.username)
    }
}

/// The first characters of a report id, enough to tell cases apart when speaking.
pub fn short_id(id: &str) -> String {
    let s: String = id.chars().take(8).collect();
    format!("#{s}")
}

fn sla_cell(l: Lang, row: &CaseRow, now: i64) -> Markup {
    match row.sla_left(now) {
        None => html! {
            @match row.sla_outcome(now) {
                "met" => span.ontime { (l.t("Asesmen tepat waktu", "Assessed on time")) },
                _ => span.overdue { (l.t("Asesmen terlambat", "Assessed late")) },
            }
        },
        Some(left) if left < 0 => html! {
            span.overdue data-sla="overdue" { (l.t("TERLAMBAT ", "OVERDUE by ")) (page::span(l, left)) }
        },
        Some(left) if left < WARN_BEFORE_SECS => html! {
            span.soon data-sla="soon" { (l.t("sisa ", "")) (page::span(l, left)) (l.t("", " left")) }
        },
        Some(left) => html! {
            span data-sla="open" { (l.t("sisa ", "")) (page::span(l, left)) (l.t("", " left")) }
            br; span.muted { (page::when(row.due_at)) }
        },
    }
}

fn arrival(l: Lang, row: &CaseRow) -> Markup {
    let attachments = row.parts_total.saturating_sub(1);
    let done = row.parts_done.saturating_sub(1);
    html! {
        @if attachments == 0 {
            span.muted { (l.t("tidak ada", "none")) }
        } @else if done >= attachments {
            (done) "/" (attachments) " " span.ontime { "✓" }
        } @else {
            @let pct = (row.bytes_done * 100).checked_div(row.bytes_total).unwrap_or(0);
            (done) "/" (attachments) " · " (pct) "%" " " span.muted { (l.t("masih masuk", "arriving")) }
        }
    }
}

fn assign_form(ctx: &Ctx, row: &CaseRow, people: &[accounts::User]) -> Markup {
    let l = ctx.lang;
    html! {
        form method="post" action={ "/desk/cases/" (row.report) "/assign" } {
            (csrf(ctx))
            label.visually-hidden for={ "as-" (row.report) } { (l.t("Tugaskan kepada", "Assign to")) }
            select id={ "as-" (row.report) } name="assignee" {
                option value="" { (l.t("— belum —", "— none —")) }
                @for p in people {
                    option value=(p.username) selected[row.assignee.as_deref() == Some(&p.username)] { (display(p)) }
                }
            }
            " "
            button.secondary type="submit" { (l.t("Tugaskan", "Assign")) }
        }
    }
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    assignee: String,
}

async fn assign(ctx: Ctx, Path(id): Path<String>, Form(f): Form<AssignForm>) -> Response {
    respond(assign_inner(&ctx, &id, f).await.lang(ctx.lang))
}

async fn assign_inner(ctx: &Ctx, id: &str, f: AssignForm) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    ctx.require(Role::Coordinator)?;
    let case = visible(ctx, id).await?;
    let to = (!f.assignee.is_empty()).then_some(f.assignee);
    let actor = ctx.user().to_string();
    let report = case.report.clone();
    ctx.state
        .db
        .write_async(move |tx| {
            if let Some(u) = &to {
                let ok = accounts::assignable(tx)?.iter().any(|p| &p.username == u);
                if !ok {
                    return Err(DeskError::invalid(
                        "assignee",
                        "pengguna ini tidak dapat memegang kasus (nonaktif, atau belum memegang kunci)",
                        "this user cannot hold cases (disabled, or holds no key)",
                    ));
                }
            }
            tx.execute(
                "UPDATE cases SET assignee = ?2, updated_at = ?3 WHERE report = ?1",
                params![report, to, db::now()],
            )?;
            tx.execute(
                "INSERT INTO case_events (report, at, actor, kind, assignee) VALUES (?1, ?2, ?3, 'assign', ?4)",
                params![report, db::now(), actor, to],
            )?;
            audit::append(tx, &actor, action::ASSIGN, &report, to.as_deref().unwrap_or("-"))?;
            Ok(())
        })
        .await?;
    Ok(Redirect::to("/desk/inbox?done=assign").into_response())
}

async fn case_page(ctx: Ctx, Path(id): Path<String>, Query(q): Query<InboxQuery>) -> Response {
    respond(case_inner(&ctx, &id, &q.done).await.lang(ctx.lang))
}

fn fmt_date(d: &IncidentDate, l: Lang) -> String {
    match d {
        IncidentDate::Exact { date } => date.clone(),
        IncidentDate::Approximate { from, to } => {
            format!(
                "{} {from} {} {to}",
                l.t("antara", "between"),
                l.t("dan", "and")
            )
        }
        IncidentDate::Unknown => l.t("tidak diketahui", "unknown").into(),
    }
}

async fn case_inner(ctx: &Ctx, id: &str, done: &str) -> Result<Response, DeskError> {
    let l = ctx.lang;
    let case = visible(ctx, id).await?;
    let identity = ctx.session.identity.clone().ok_or(DeskError::NoKey)?;
    let s = summary(ctx, &case.report).await?;
    // Every look at decrypted content is traced.
    let (actor, report) = (ctx.user().to_string(), case.report.clone());
    ctx.state
        .db
        .write_async(move |tx| audit::append(tx, &actor, action::VIEW_CASE, &report, ""))
        .await?;
    recount_async(ctx, &case.report).await?;
    let (report, ident) = (case.report.clone(), identity.clone());
    let (timeline, people) = ctx
        .state
        .db
        .read_async(move |c| {
            Ok::<_, rusqlite::Error>((events(c, &report, Some(&ident))?, accounts::assignable(c)?))
        })
        .await?;
    let parts_done: HashMap<u32, bool> = {
        let report = case.report.clone();
        ctx.state
            .db
            .read_async(move |c| {
                let mut st = c.prepare(
                    "SELECT part, completed_at IS NOT NULL FROM uploads WHERE report = ?1",
                )?;
                st.query_map([&report], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .await?
    };
    let thread = super::followup::section(ctx, &case, &s).await?;
    let now = db::now();
    let d = &s.doc;
    let f = &d.fields;
    let body = html! {
        h1 { (l.t("Kasus ", "Case ")) (short_id(&case.report)) }
        (page::notice((!done.is_empty()).then(|| l.t("Tersimpan.", "Saved."))))
        @if case.synthetic { p.synthetic { (l.t("CONTOH SINTETIS — bukan laporan sungguhan", "SYNTHETIC SAMPLE — not a real report")) } }
        @if s.in_danger() {
            p.danger role="alert" { (l.t("Pelapor menyatakan ada yang DALAM BAHAYA SEKARANG. Hubungi 112 / polisi 110 bila perlu.",
                "The reporter said someone is IN DANGER NOW. Call 112 / police 110 if needed.")) }
        }
        section.card {
            dl.fields {
                dt { (l.t("Batas asesmen awal", "Initial assessment due")) } dd { (sla_cell(l, &case, now)) }
                dt { (l.t("Diterima server", "Received by the server")) } dd { (page::when(case.received_at)) }
                dt { (l.t("Ditulis pelapor", "Drafted by the reporter")) } dd { (page::when(d.drafted_at.unix_timestamp())) }
                dt { (l.t("Dikirim pelapor", "Submitted by the reporter")) } dd { (page::when(d.submitted_at.unix_timestamp())) }
                dt { (l.t("Pemegang kasus", "Assignee")) } dd {
                    @if ctx.role().sees_all_cases() && case.stage != Stage::Terminated { (assign_form(ctx, &case, &people)) }
                    @else { (case.assignee.as_deref().unwrap_or("—")) }
                }
            }
        }
        section.card aria-labelledby="report-h" {
            h2 #report-h { (l.t("Laporan", "Report")) }
            dl.fields {
                dt { (l.t("Kategori", "Category")) } dd { (f.category.map_or("—", |c| l.choice(c))) }
                dt { (l.t("Korban", "Victim")) } dd {
                    (f.victim_sex.map_or("—", |v| l.choice(v))) ", "
                    (f.victim_age_band.map_or("—", |v| l.choice(v)))
                }
                dt { (l.t("Pelapor", "Reporter")) } dd { (f.reporter_role.map_or("—", |v| l.choice(v))) }
                dt { (l.t("Waktu kejadian", "When it happened")) } dd { (f.incident_date.as_ref().map_or_else(|| "—".into(), |d| fmt_date(d, l))) }
                dt { (l.t("Kecamatan", "District")) } dd { (f.location.district.as_deref().map_or_else(|| "—".into(), |c| district_name(&d.regency, c))) }
                dt { (l.t("Desa/kelurahan", "Village")) } dd { (f.location.village.as_deref().map_or_else(|| "—".into(), |c| village_name(&d.regency, c))) }
                dt { (l.t("Keterangan tempat", "Place details")) } dd { (f.location.detail.as_deref().unwrap_or("—")) }
                dt { (l.t("Jenis tempat", "Kind of place")) } dd { (f.place_type.map_or("—", |v| l.choice(v))) }
                dt { (l.t("Hubungan pelaku dengan korban", "Perpetrator's relationship to the victim")) } dd { (f.perpetrator_relationship.map_or("—", |v| l.choice(v))) }
                dt { (l.t("Cerita pelapor", "In the reporter's words")) } dd.report-text { (f.description.as_deref().unwrap_or("—")) }
                dt { (l.t("Boleh dihubungi", "May be contacted")) } dd {
                    @match &f.contact {
                        Some(c) => { (l.choice(c.method)) ": " (c.number) }
                        None => { (l.t("Tidak — pelapor tidak memberi kontak", "No — the reporter left no contact")) }
                    }
                }
            }
        }
        @if !d.attachments.is_empty() {
            section.card.media aria-labelledby="att-h" {
                h2 #att-h { (l.t("Lampiran", "Attachments")) }
                @for a in &d.attachments {
                    @let src = format!("/desk/cases/{}/parts/{}", case.report, a.part);
                    figure {
                        @if parts_done.get(&a.part).copied().unwrap_or(false) {
                            @match a.kind {
                                AttachmentKind::Photo => img src=(src) alt=(l.t("Foto dari pelapor", "Photo from the reporter")) loading="lazy";,
                                AttachmentKind::Audio => audio controls preload="none" src=(src) {},
                                AttachmentKind::Video => video controls preload="none" src=(src) {},
                                AttachmentKind::Document => a href=(src) { (l.t("Buka dokumen", "Open the document")) },
                            }
                        } @else {
                            p.muted { (l.choice(a.kind)) ": " (l.t("masih dalam perjalanan dari ponsel pelapor", "still on its way from the reporter's phone")) }
                        }
                        figcaption.muted { (l.choice(a.kind)) " · " (a.mime) " · " (a.size / 1024) " KB" }
                    }
                }
            }
        }
        section.card aria-labelledby="stage-h" {
            h2 #stage-h { (l.t("Tahap penanganan", "Stage")) }
            ol.stages {
                @for st in Stage::ALL {
                    li.done[st < case.stage] .current[st == case.stage] aria-current=[(st == case.stage).then_some("step")] { (st.label(l)) }
                }
            }
            @if case.stage != Stage::Terminated && (ctx.role().sees_all_cases() || case.assignee.as_deref() == Some(ctx.user())) {
                (stage_form(ctx, &case))
            }
        }
        (thread)
        section.card aria-labelledby="tl-h" {
            h2 #tl-h { (l.t("Riwayat", "Timeline")) }
            ol.timeline {
                li { strong { (page::when(case.received_at)) } " — " (Stage::Received.label(l)) " (" (l.t("server", "server")) ")" }
                @for e in &timeline {
                    li {
                        strong { (page::when(e.at)) } " — " (e.actor) ": "
                        @match e.kind.as_str() {
                            "stage" => { (e.stage.map_or("?", |s| s.label(l))) },
                            "assign" => { (l.t("menugaskan kepada ", "assigned to ")) (e.assignee.as_deref().unwrap_or("—")) },
                            "referral" => { (l.t("merujuk ke ", "referred to ")) (e.details.as_ref().map_or("?", |d| d.office.as_str())) },
                            _ => { (l.t("catatan", "note")) },
                        }
                        @if let Some(d) = &e.details { (details_view(l, d)) }
                    }
                }
            }
            @if case.stage != Stage::Terminated {
                form method="post" action={ "/desk/cases/" (case.report) "/note" } {
                    (csrf(ctx))
                    label for="note" { (l.t("Tambah catatan (disegel, hanya tim yang bisa membaca)", "Add a note (sealed; only the team can read it)")) }
                    textarea #note name="note" required maxlength="20000" {}
                    p { button type="submit" { (l.t("Simpan catatan", "Save note")) } }
                }
                form method="post" action={ "/desk/cases/" (case.report) "/refer" } {
                    (csrf(ctx))
                    label for="office" { (l.t("Rujuk ke lembaga lain", "Refer to another office")) }
                    input #office name="office" required maxlength="200" placeholder=(l.t("mis. UPTD PPA Provinsi, Puskesmas Cepu", "e.g. provincial UPTD PPA, Cepu health centre"));
                    label for="refer-note" { (l.t("Catatan rujukan", "Referral note")) }
                    textarea #refer-note name="note" maxlength="20000" {}
                    p { button.secondary type="submit" { (l.t("Catat rujukan", "Record referral")) } }
                }
            }
        }
    };
    Ok(page::page(
        ctx,
        &format!("{} {}", l.t("Kasus", "Case"), short_id(&case.report)),
        "/desk/inbox",
        body,
    ))
}

fn details_view(l: Lang, d: &Details) -> Markup {
    html! {
        @if !d.risk.is_empty() { br; (l.t("Tingkat risiko: ", "Risk level: ")) strong { (label_of(&RISKS, &d.risk, l)) } }
        @if d.consent { br; (l.t("Persetujuan korban/wali: ada", "Consent of the victim/guardian: given")) }
        @if !d.services.is_empty() {
            br; (l.t("Layanan: ", "Services: "))
            (d.services.iter().map(|s| label_of(&SERVICES, s, l)).collect::<Vec<_>>().join(", "))
        }
        @if !d.reason.is_empty() { br; (l.t("Alasan terminasi: ", "Reason: ")) strong { (label_of(&TERMINATIONS, &d.reason, l)) } }
        @if !d.note.is_empty() { blockquote.note { (d.note) } }
    }
}

fn stage_form(ctx: &Ctx, case: &CaseRow) -> Markup {
    let l = ctx.lang;
    html! {
        form method="post" action={ "/desk/cases/" (case.report) "/stage" } {
            (csrf(ctx))
            label for="to" { (l.t("Pindah ke tahap", "Move to stage")) }
            select #to name="to" required {
                @for st in case.stage.allowed_next() { option value=(st.key()) { (st.label(l)) } }
            }
            fieldset {
                legend { (l.t("Isi sesuai tahap", "Fill in for the stage")) }
                label for="risk" { (l.t("Tingkat risiko (wajib untuk identifikasi)", "Risk level (required for identification)")) }
                select #risk name="risk" {
                    option value="" { "—" }
                    @for (k, id, en) in RISKS { option value=(k) { (l.t(id, en)) } }
                }
                label {
                    input type="checkbox" name="consent" value="1";
                    " " (l.t("Korban/wali menyetujui rencana intervensi (wajib untuk rencana)", "The victim/guardian consents to the plan (required for the plan)"))
                }
                p { strong { (l.t("Layanan yang diberikan (wajib untuk tahap layanan)", "Services given (required for the services stage)")) } }
                @for (k, id, en) in SERVICES {
                    label { input type="checkbox" name="services" value=(k); " " (l.t(id, en)) }
                }
                label for="reason" { (l.t("Alasan terminasi (wajib untuk terminasi)", "Reason for termination (required to terminate)")) }
                select #reason name="reason" {
                    option value="" { "—" }
                    @for (k, id, en) in TERMINATIONS { option value=(k) { (l.t(id, en)) } }
                }
            }
            label for="stage-note" { (l.t("Catatan (disegel)", "Note (sealed)")) }
            textarea #stage-note name="note" maxlength="20000" {}
            p { button type="submit" { (l.t("Simpan tahap", "Save stage")) } }
        }
    }
}

async fn write_event(
    ctx: &Ctx,
    case: &CaseRow,
    kind: &'static str,
    stage: Option<Stage>,
    details: Details,
    audit_action: &'static str,
    audit_detail: String,
) -> Result<(), DeskError> {
    let actor = ctx.user().to_string();
    let report = case.report.clone();
    let json = zeroize::Zeroizing::new(serde_json::to_vec(&details).expect("details serialise"));
    let current = case.stage;
    ctx.state
        .db
        .write_async(move |tx| {
            let r = recipient(tx)?;
            let sealed = seal_to(&r, &json)?;
            let now = db::now();
            // The stage is checked again inside the transaction: two people moving the same
            // case at once cannot skip a stage.
            let stored: String = tx.query_row("SELECT stage FROM cases WHERE report = ?1", [&report], |r| r.get(0))?;
            if Stage::from_key(&stored) != Some(current) {
                return Err(DeskError::invalid(
                    "stage",
                    "kasus ini baru saja diubah orang lain; muat ulang halaman",
                    "someone else just changed this case; reload the page",
                ));
            }
            tx.execute(
                "INSERT INTO case_events (report, at, actor, kind, stage, sealed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![report, now, actor, kind, stage.map(Stage::key), sealed],
            )?;
            if let Some(st) = stage {
                tx.execute(
                    "UPDATE cases SET stage = ?2, updated_at = ?3,
                        assessed_at = CASE WHEN ?4 AND assessed_at IS NULL THEN ?3 ELSE assessed_at END,
                        closed_at = CASE WHEN ?5 THEN ?3 ELSE closed_at END
                     WHERE report = ?1",
                    params![report, st.key(), now, st >= Stage::Assessed, st == Stage::Terminated],
                )?;
            } else {
                tx.execute("UPDATE cases SET updated_at = ?2 WHERE report = ?1", params![report, now])?;
            }
            audit::append(tx, &actor, audit_action, &report, &audit_detail)?;
            Ok::<_, DeskError>(())
        })
        .await?;
    recount_async(ctx, &case.report).await
}

/// The stage form.
#[derive(Deserialize)]
pub struct StageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    risk: String,
    #[serde(default)]
    consent: String,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

async fn move_stage(ctx: Ctx, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    // `services` repeats, which serde_urlencoded reads as a sequence only through pairs.
    let f = parse_stage_form(&body);
    respond(stage_inner(&ctx, &id, f).await.lang(ctx.lang))
}

fn parse_stage_form(body: &[u8]) -> StageForm {
    let mut f = StageForm {
        csrf: String::new(),
        to: String::new(),
        risk: String::new(),
        consent: String::new(),
        services: Vec::new(),
        reason: String::new(),
        note: String::new(),
    };
    for (k, v) in form_urlencoded::parse(body) {
        let v = v.into_owned();
        match k.as_ref() {
            "csrf" => f.csrf = v,
            "to" => f.to = v,
            "risk" => f.risk = v,
            "consent" => f.consent = v,
            "services" => f.services.push(v),
            "reason" => f.reason = v,
            "note" => f.note = v,
            _ => {}
        }
    }
    f
}

async fn stage_inner(ctx: &Ctx, id: &str, f: StageForm) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    let case = visible(ctx, id).await?;
    if !(ctx.role().sees_all_cases() || case.assignee.as_deref() == Some(ctx.user())) {
        return Err(DeskError::Forbidden);
    }
    ctx.session.identity.as_ref().ok_or(DeskError::NoKey)?;
    let to = Stage::from_key(&f.to).ok_or_else(|| {
        DeskError::invalid("to", "pilih tahap berikutnya", "choose the next stage")
    })?;
    if !case.stage.allowed_next().contains(&to) {
        return Err(DeskError::invalid(
            "to",
            "tahap ini tidak bisa dipilih dari tahap sekarang",
            "this stage cannot follow the current one",
        ));
    }
    let mut d = Details {
        note: f.note.trim().to_string(),
        ..Details::default()
    };
    if d.note.len() > 20_000 {
        return Err(DeskError::invalid(
            "note",
            "terlalu panjang (maks. 20.000 karakter)",
            "too long (at most 20,000 characters)",
        ));
    }
    match to {
        Stage::Identified => {
            if !RISKS.iter().any(|(k, _, _)| *k == f.risk) {
                return Err(DeskError::invalid(
                    "risk",
                    "pilih tingkat risiko",
                    "choose a risk level",
                ));
            }
            d.risk = f.risk;
        }
        Stage::Planned => {
            if f.consent != "1" {
                return Err(DeskError::invalid(
                    "consent",
                    "rencana intervensi memerlukan persetujuan korban atau walinya",
                    "an intervention plan needs the consent of the victim or their guardian",
                ));
            }
            d.consent = true;
        }
        Stage::Services => {
            if f.services.is_empty()
                || !f
                    .services
                    .iter()
                    .all(|s| SERVICES.iter().any(|(k, _, _)| k == s))
            {
                return Err(DeskError::invalid(
                    "services",
                    "pilih minimal satu layanan dari daftar",
                    "choose at least one service from the list",
                ));
            }
            d.services = f.services;
        }
        Stage::Terminated => {
            if !TERMINATIONS.iter().any(|(k, _, _)| *k == f.reason) {
                return Err(DeskError::invalid(
                    "reason",
                    "pilih alasan terminasi",
                    "choose a reason for termination",
                ));
            }
            d.reason = f.reason;
        }
        _ => {}
    }
    write_event(
        ctx,
        &case,
        "stage",
        Some(to),
        d,
        action::STAGE,
        to.key().to_string(),
    )
    .await?;
    Ok(Redirect::to(&format!("/desk/cases/{}?done=stage", case.report)).into_response())
}

#[derive(Deserialize)]
struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    office: String,
}

async fn add_note(ctx: Ctx, Path(id): Path<String>, Form(f): Form<NoteForm>) -> Response {
    respond(note_inner(&ctx, &id, f, false).await.lang(ctx.lang))
}

async fn refer(ctx: Ctx, Path(id): Path<String>, Form(f): Form<NoteForm>) -> Response {
    respond(note_inner(&ctx, &id, f, true).await.lang(ctx.lang))
}

async fn note_inner(
    ctx: &Ctx,
    id: &str,
    f: NoteForm,
    referral: bool,
) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    let case = visible(ctx, id).await?;
    ctx.session.identity.as_ref().ok_or(DeskError::NoKey)?;
    let note = f.note.trim().to_string();
    let office = f.office.trim().to_string();
    if note.len() > 20_000 {
        return Err(DeskError::invalid(
            "note",
            "terlalu panjang (maks. 20.000 karakter)",
            "too long (at most 20,000 characters)",
        ));
    }
    if referral {
        if office.is_empty() || office.len() > 200 {
            return Err(DeskError::invalid(
                "office",
                "tulis nama lembaga tujuan (maks. 200 karakter)",
                "name the office (at most 200 characters)",
            ));
        }
        let d = Details {
            note,
            office,
            ..Details::default()
        };
        write_event(
            ctx,
            &case,
            "referral",
            None,
            d,
            action::REFERRAL,
            String::new(),
        )
        .await?;
    } else {
        if note.is_empty() {
            return Err(DeskError::invalid(
                "note",
                "catatan masih kosong",
                "the note is empty",
            ));
        }
        let d = Details {
            note,
            ..Details::default()
        };
        write_event(ctx, &case, "note", None, d, action::NOTE, String::new()).await?;
    }
    Ok(Redirect::to(&format!("/desk/cases/{}?done=note", case.report)).into_response())
}

async fn attachment(ctx: Ctx, Path((id, part)): Path<(String, u32)>) -> Response {
    respond(attachment_inner(&ctx, &id, part).await.lang(ctx.lang))
}

async fn attachment_inner(ctx: &Ctx, id: &str, part: u32) -> Result<Response, DeskError> {
    let case = visible(ctx, id).await?;
    let identity = ctx.session.identity.clone().ok_or(DeskError::NoKey)?;
    let s = summary(ctx, &case.report).await?;
    let a = s
        .doc
        .attachments
        .iter()
        .find(|a| a.part == part && part > 0)
        .cloned()
        .ok_or(DeskError::NotFound)?;
    let report = case.report.clone();
    let blob = ctx
        .state
        .db
        .read_async(move |c| part_blob(c, &report, part))
        .await?
        .ok_or(DeskError::NotFound)?;
    let (actor, report) = (ctx.user().to_string(), case.report.clone());
    ctx.state
        .db
        .write_async(move |tx| {
            audit::append(
                tx,
                &actor,
                action::VIEW_ATTACHMENT,
                &report,
                &format!("part {part}"),
            )
        })
        .await?;
    // Decrypted in memory, chunk by chunk, straight to the socket: never a temp file.
    let path = ctx.state.blobs.path(&blob);
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), std::io::Error> {
            let file = std::fs::File::open(&path)?;
            let mut dec = age::Decryptor::new(file, std::slice::from_ref(&*identity))
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            loop {
                let mut buf = vec![0u8; 64 * 1024];
                let n = dec.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                buf.truncate(n);
                if tx.blocking_send(Ok(buf)).is_err() {
                    return Ok(());
                }
            }
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let stream = tokio_stream_from(rx);
    let mime = a.mime.clone();
    let playable = matches!(
        a.kind,
        AttachmentKind::Photo | AttachmentKind::Audio | AttachmentKind::Video
    ) && (mime.starts_with("image/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/"))
        && !mime.contains("svg");
    let ctype = if playable {
        mime
    } else {
        "application/octet-stream".into()
    };
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ctype)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(if playable {
            "inline"
        } else {
            "attachment; filename=\"lampiran.bin\""
        }),
    );
    page::secure_headers(&mut r);
    Ok(r)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Does this user hold the case (for tests and other modules).
pub fn holds(role: Role, user: &str, case: &CaseRow) -> bool {
    role.sees_all_cases() || case.assignee.as_deref() == Some(user)
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::{form, query};
    let _ = query::<InboxQuery>(body).map(|q| Stage::from_key(&q.status));
    let _ = form::<AssignForm>(body).map(|f| (f.csrf, f.assignee));
    let _ = form::<NoteForm>(body).map(|f| (f.csrf, f.note, f.office));
    let f = parse_stage_form(body);
    let _ = (
        Stage::from_key(&f.to),
        f.csrf,
        f.reason,
        f.note.trim().len(),
    );
    let _ = RISKS.iter().any(|(k, _, _)| *k == f.risk);
    let _ = f
        .services
        .iter()
        .all(|s| SERVICES.iter().any(|(k, _, _)| k == s));
    let _ = f.consent;
}
