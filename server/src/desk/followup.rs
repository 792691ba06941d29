//! The follow-up thread on the case page: the reporter's messages and the team's replies,
//! decrypted in memory for a session holding the intake identity, and the reply form.
//!
//! A reply is sealed to the reporter's follow-up key (the `reporter_recipient` inside the
//! decrypted report) and to the intake key, so that colleagues read it too; only ciphertext is
//! stored, and each reply is one audit row. Opening the case page marks the reporter's messages
//! read for the team; the inbox marks cases with unread reporter messages.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use berani_core::age::{Identity, Recipient};
use berani_core::followup::{self as core_fu, MessageBody, Sender};
use maud::{Markup, html};
use rusqlite::{Connection, params};
use serde::Deserialize;

use super::cases::{self, CaseRow, Summary};
use super::page::{self, csrf};
use super::{Ctx, DeskError, InLang, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::db;

/// The reply route.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/desk/cases/{id}/message", post(reply))
}

/// One message of the thread, opened.
pub struct Item {
    /// When it was stored.
    pub at: i64,
    /// Who wrote it.
    pub from: Sender,
    /// The desk user, for team replies.
    pub actor: Option<String>,
    /// The text; `None` when it does not open with the intake identity.
    pub text: Option<String>,
    /// A reporter message not yet seen by the team.
    pub unread: bool,
}

/// A case's thread, oldest first, opened with `identity`.
pub fn thread(c: &Connection, identity: &Identity, report: &str) -> rusqlite::Result<Vec<Item>> {
    let mut st = c.prepare(
        "SELECT at, sender, actor, sealed, read_at IS NULL FROM followup_messages
         WHERE report = ?1 ORDER BY id",
    )?;
    st.query_map([report], |r| {
        let sender: String = r.get(1)?;
        let from = if sender == "team" {
            Sender::Team
        } else {
            Sender::Reporter
        };
        let sealed: Vec<u8> = r.get(3)?;
        let text = MessageBody::open(identity, &sealed)
            .filter(|b| b.report == report && b.from == from)
            .map(|b| b.text);
        Ok(Item {
            at: r.get(0)?,
            from,
            actor: r.get(2)?,
            text,
            unread: from == Sender::Reporter && r.get::<_, bool>(4)?,
        })
    })?
    .collect()
}

/// Reports with reporter messages the team has not seen.
pub fn unread_reports(c: &Connection) -> rusqlite::Result<HashSet<String>> {
    let mut st = c.prepare(
        "SELECT DISTINCT report FROM followup_messages WHERE sender = 'reporter' AND read_at IS NULL",
    )?;
    st.query_map([], |r| r.get(0))?.collect()
}

/// The thread section of the case page; marks the reporter's messages read.
pub async fn section(ctx: &Ctx, case: &CaseRow, s: &Summary) -> Result<Markup, DeskError> {
    let l = ctx.lang;
    let identity = ctx.session.identity.clone().ok_or(DeskError::NoKey)?;
    let report = case.report.clone();
    let (items, registered) = ctx
        .state
        .db
        .read_async(move |c| {
            Ok::<_, rusqlite::Error>((
                thread(c, &identity, &report)?,
                crate::followup::is_registered(c, &report)?,
            ))
        })
        .await?;
    if items.iter().any(|i| i.unread) {
        let report = case.report.clone();
        ctx.state
            .db
            .write_async(move |tx| {
                tx.execute(
                    "UPDATE followup_messages SET read_at = ?2
                     WHERE report = ?1 AND sender = 'reporter' AND read_at IS NULL",
                    params![report, db::now()],
                )
            })
            .await?;
    }
    let can_reply = registered
        && s.doc.reporter_recipient.is_some()
        && (ctx.role().sees_all_cases() || case.assignee.as_deref() == Some(ctx.user()));
    Ok(html! {
        section.card #thread aria-labelledby="thread-h" {
            h2 #thread-h { (l.t("Pesan dengan pelapor", "Messages with the reporter")) }
            @if !registered || s.doc.reporter_recipient.is_none() {
                p.muted { (l.t("Laporan ini dikirim tanpa kode laporan, jadi pelapor tidak bisa menerima pesan.",
                    "This report was sent without a report code, so the reporter cannot receive messages.")) }
            } @else {
                p.muted { (l.t("Pelapor melihat status laporan (Diterima, Sedang ditangani, Selesai) dan pesan di sini dengan kode laporannya. Pesan disegel: hanya pelapor dan tim yang bisa membacanya.",
                    "The reporter sees the status (Received, Being handled, Finished) and the messages here with their report code. Messages are sealed: only the reporter and the team can read them.")) }
            }
            @if items.is_empty() {
                p.muted { (l.t("Belum ada pesan.", "No messages yet.")) }
            } @else {
                ol.thread {
                    @for i in &items {
                        li.from-team[i.from == Sender::Team] .from-reporter[i.from == Sender::Reporter] data-from=(i.from.key()) {
                            strong { (page::when(i.at)) } " — "
                            @match i.from {
                                Sender::Team => { (l.t("Tim", "Team")) " (" (i.actor.as_deref().unwrap_or("?")) ")" },
                                Sender::Reporter => { (l.t("Pelapor", "Reporter")) },
                            }
                            @if i.unread { " " span.unread { (l.t("baru", "new")) } }
                            @match &i.text {
                                Some(t) => blockquote.note { (t) },
                                None => p.muted { (l.t("(pesan tidak bisa dibuka)", "(this message does not open)")) },
                            }
                        }
                    }
                }
            }
            @if can_reply {
                form method="post" action={ "/desk/cases/" (case.report) "/message" } {
                    (csrf(ctx))
                    label for="message" { (l.t("Balas pelapor (disegel untuk pelapor dan tim; jangan tulis hal yang membahayakan pelapor bila kodenya jatuh ke tangan orang lain)",
                        "Reply to the reporter (sealed to the reporter and the team; write nothing that would endanger the reporter if someone else held their code)")) }
                    textarea #message name="message" required maxlength=(core_fu::MAX_TEXT_CHARS) {}
                    p { button type="submit" { (l.t("Kirim balasan", "Send reply")) } }
                }
            }
        }
    })
}

/// The reply form.
#[derive(Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    message: String,
}

async fn reply(ctx: Ctx, Path(id): Path<String>, Form(f): Form<ReplyForm>) -> Response {
    respond(reply_inner(&ctx, &id, f).await.lang(ctx.lang))
}

async fn reply_inner(ctx: &Ctx, id: &str, f: ReplyForm) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    let case = cases::visible(ctx, id).await?;
    if !(ctx.role().sees_all_cases() || case.assignee.as_deref() == Some(ctx.user())) {
        return Err(DeskError::Forbidden);
    }
    ctx.session.identity.as_ref().ok_or(DeskError::NoKey)?;
    let text = core_fu::check_text(&f.message).map_err(|e| match e.reason {
        berani_core::Reason::TooLong => DeskError::invalid(
            "message",
            "terlalu panjang (maks. 4.000 karakter)",
            "too long (at most 4,000 characters)",
        ),
        _ => DeskError::invalid("message", "pesan masih kosong", "the message is empty"),
    })?;
    let s = cases::summary(ctx, &case.report).await?;
    let no_code = || {
        DeskError::invalid(
            "message",
            "laporan ini dikirim tanpa kode laporan; pelapor tidak bisa membaca balasan",
            "this report was sent without a report code; the reporter cannot read replies",
        )
    };
    let reporter: Recipient = s
        .doc
        .reporter_recipient
        .as_deref()
        .and_then(|r| r.parse().ok())
        .ok_or_else(no_code)?;
    let body = MessageBody {
        v: 1,
        report: case.report.clone(),
        from: Sender::Team,
        text,
    };
    let actor = ctx.user().to_string();
    let report = case.report.clone();
    ctx.state
        .db
        .write_async(move |tx| {
            if !crate::followup::is_registered(tx, &report)? {
                return Err(no_code());
            }
            let intake: Recipient =
                super::accounts::intake_recipient(tx)?
                    .parse()
                    .map_err(|_| {
                        DeskError::Internal("the stored intake recipient is malformed".into())
                    })?;
            let sealed = body
                .seal(&[reporter, intake])
                .map_err(|e| DeskError::Internal(format!("sealing a reply failed: {e}")))?;
            tx.execute(
                "INSERT INTO followup_messages (report, sender, actor, at, sealed)
                 VALUES (?1, 'team', ?2, ?3, ?4)",
                params![report, actor, db::now(), sealed],
            )?;
            audit::append(tx, &actor, action::FOLLOWUP_REPLY, &report, "")?;
            Ok::<_, DeskError>(())
        })
        .await?;
    Ok(Redirect::to(&format!("/desk/cases/{}?done=message#thread", case.report)).into_response())
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::form;
    if let Some(f) = form::<ReplyForm>(body)
        && let Ok(text) = core_fu::check_text(&f.message)
    {
        assert!(!text.is_empty() && text.chars().count() <= core_fu::MAX_TEXT_CHARS);
        let _ = f.csrf;
    }
}
