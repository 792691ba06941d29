//! The audit log page (admins): newest first, filtered by user, action or case, with the
//! state of the hash chain at the top.

use std::sync::Arc;

use axum::Router;
use axum::extract::Query;
use axum::response::Response;
use axum::routing::get;
use maud::html;
use serde::Deserialize;

use super::page;
use super::{Ctx, DeskError, InLang, Role, respond};
use crate::app::AppState;
use crate::audit;

/// The audit routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/desk/audit", get(audit_log))
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    before: Option<i64>,
}

const PAGE: u32 = 200;

async fn audit_log(ctx: Ctx, Query(q): Query<AuditQuery>) -> Response {
    respond(audit_inner(&ctx, q).await.lang(ctx.lang))
}

async fn audit_inner(ctx: &Ctx, q: AuditQuery) -> Result<Response, DeskError> {
    ctx.require(Role::Admin)?;
    let l = ctx.lang;
    let filter = audit::Filter {
        actor: q.actor.trim().to_string(),
        action: q.action.trim().to_string(),
        subject: q.subject.trim().to_string(),
        before: q.before,
        limit: PAGE,
    };
    let (rows, verified) = ctx
        .state
        .db
        .read_async(move |c| {
            Ok::<_, crate::error::ServerError>((audit::list(c, &filter)?, audit::verify(c)?))
        })
        .await?;
    let next = (rows.len() as u32 == PAGE)
        .then(|| rows.last().map(|e| e.id))
        .flatten();
    let body = html! {
        h1 { (l.t("Log audit", "Audit log")) }
        @match verified.first_bad {
            None => p.notice data-chain="ok" {
                (l.t("Rantai hash utuh: ", "Hash chain intact: ")) (verified.rows) (l.t(" baris. Kepala rantai: ", " rows. Chain head: ")) code { (verified.head) }
            },
            Some(id) => p.error role="alert" data-chain="broken" {
                (l.t("PERINGATAN: rantai hash putus di baris ", "WARNING: the hash chain breaks at row ")) (id)
                (l.t(". Log ini telah diubah di luar aplikasi.", ". This log was changed outside the application."))
            },
        }
        form.filters method="get" action="/desk/audit" {
            div { label for="a-actor" { (l.t("Pengguna", "User")) } input #a-actor name="actor" value=(q.actor); }
            div {
                label for="a-action" { (l.t("Tindakan", "Action")) }
                select #a-action name="action" {
                    option value="" { (l.t("Semua", "All")) }
                    @for a in audit::action::ALL { option value=(a) selected[q.action == *a] { (a) } }
                }
            }
            div { label for="a-subject" { (l.t("Kasus atau pengguna", "Case or user")) } input #a-subject name="subject" value=(q.subject); }
            div { button type="submit" { (l.t("Saring", "Filter")) } }
        }
        div.table-wrap {
            table {
                thead { tr {
                    th scope="col" { "#" }
                    th scope="col" { (l.t("Waktu (UTC)", "Time (UTC)")) }
                    th scope="col" { (l.t("Pengguna", "User")) }
                    th scope="col" { (l.t("Tindakan", "Action")) }
                    th scope="col" { (l.t("Kasus/pengguna", "Case/user")) }
                    th scope="col" { (l.t("Rincian", "Detail")) }
                } }
                tbody {
                    @for e in &rows {
                        tr data-action=(e.action) {
                            td { (e.id) }
                            td { (e.at) }
                            td { (e.actor) }
                            td { (e.action) }
                            td { (e.subject) }
                            td { (e.detail) }
                        }
                    }
                }
            }
        }
        @if let Some(before) = next {
            @let query = form_urlencoded::Serializer::new(String::new())
                .append_pair("actor", &q.actor)
                .append_pair("action", &q.action)
                .append_pair("subject", &q.subject)
                .append_pair("before", &before.to_string())
                .finish();
            p { a href={ "/desk/audit?" (query) } { (l.t("Lebih lama →", "Older →")) } }
        }
    };
    Ok(page::page(
        ctx,
        l.t("Log audit", "Audit log"),
        "/desk/audit",
        body,
    ))
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::query;
    let _ = query::<AuditQuery>(body).map(|q| (q.actor, q.action, q.subject, q.before));
}
