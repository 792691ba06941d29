//! Volunteers (`/desk/volunteers`): codes for the people who pass the app on, their counts,
//! and their printable poster.
//!
//! Admins create a volunteer (name, and an area: a kecamatan or desa code from the
//! gazetteer, or free text), switch one off and on again, and print the poster
//! (`/desk/volunteers/{vid}/poster.pdf`). Every change is audited. Coordinators, caseworkers
//! and viewers see the same list and counts read-only: counts are aggregate numbers per code
//! per day and say nothing about any report (see [`crate::volunteers`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use berani_core::gazetteer::Gazetteer;
use berani_core::volunteer::VolunteerCode;
use maud::html;
use serde::Deserialize;

use super::page::{self, csrf};
use super::poster::{self, Poster};
use super::{Ctx, DeskError, InLang, Role, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::volunteers::{self, Volunteer};

/// Longest volunteer name.
pub const MAX_NAME: usize = 80;
/// Longest free-text area.
pub const MAX_AREA: usize = 120;

/// The volunteer routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk/volunteers", get(list).post(create))
        .route("/desk/volunteers/{vid}/disable", post(disable))
        .route("/desk/volunteers/{vid}/enable", post(enable))
        .route("/desk/volunteers/{vid}/poster.pdf", get(poster_pdf))
}

use super::users::check_text as check_line;

/// Checks a volunteer's name.
pub fn check_name(s: &str) -> Result<String, DeskError> {
    let name = check_line("name", s, MAX_NAME)?;
    if name.is_empty() {
        return Err(DeskError::invalid(
            "name",
            "wajib diisi",
            "this must be filled in",
        ));
    }
    Ok(name)
}

/// Checks an area: a code (digits and dots) must be a kecamatan or desa of `regency` in the
/// gazetteer; anything else is free text.
pub fn check_area(s: &str, regency: &str) -> Result<String, DeskError> {
    let area = check_line("area", s, MAX_AREA)?;
    let looks_like_code = !area.is_empty()
        && area.contains('.')
        && area.chars().all(|c| c.is_ascii_digit() || c == '.');
    if looks_like_code && area_name(&area, regency).is_none() {
        return Err(DeskError::invalid(
            "area",
            format!(
                "kode wilayah {area} tidak ada di kabupaten {regency}; tulis kode kecamatan/desa yang benar atau nama wilayah"
            ),
            format!(
                "area code {area} is not in regency {regency}; give a right kecamatan/desa code or a place name"
            ),
        ));
    }
    Ok(area)
}

/// The gazetteer name of a kecamatan or desa code, e.g. `Kec. Cepu`.
pub fn area_name(code: &str, regency: &str) -> Option<String> {
    let g = Gazetteer::for_regency(regency)?;
    if let Some(d) = g.district(code) {
        return Some(format!("Kec. {}", d.name));
    }
    g.village(code).map(|v| format!("Desa {}", v.name))
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn list(ctx: Ctx, Query(q): Query<Done>) -> Response {
    respond(list_inner(&ctx, q).await.lang(ctx.lang))
}

async fn regency(ctx: &Ctx) -> Result<String, DeskError> {
    Ok(ctx
        .state
        .db
        .read_async(crate::profile::load)
        .await?
        .profile()?
        .regency_code)
}

async fn list_inner(ctx: &Ctx, q: Done) -> Result<Response, DeskError> {
    let l = ctx.lang;
    let admin = ctx.role() >= Role::Admin;
    let all = ctx.state.db.read_async(volunteers::all).await?;
    let regency = regency(ctx).await?;
    let today = volunteers::today();
    let today_counts = ctx
        .state
        .db
        .read_async(move |c| {
            let mut st = c.prepare(
                "SELECT volunteer, installs, web_reports FROM volunteer_counts WHERE day = ?1",
            )?;
            st.query_map([&today], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?;
    let notice = match q.done.as_str() {
        "create" => Some(l.t(
            "Relawan dibuat. Cetak posternya dari tabel.",
            "Volunteer created. Print the poster from the table.",
        )),
        "disable" => Some(l.t(
            "Kode dinonaktifkan: tidak dihitung lagi.",
            "Code switched off: no longer counted.",
        )),
        "enable" => Some(l.t("Kode diaktifkan lagi.", "Code switched on again.")),
        _ => None,
    };
    let (sum_i, sum_w) = all
        .iter()
        .fold((0, 0), |(i, w), v| (i + v.installs, w + v.web_reports));
    let body = html! {
        h1 { (l.t("Relawan", "Volunteers")) }
        (page::notice(notice))
        p { (l.t(
            "Setiap relawan punya kode sendiri. Yang dihitung hanya dua angka per kode per hari: pemasangan aplikasi yang memasukkan kode, dan laporan lewat formulir web dari tautan relawan. Angka ini tidak terhubung dengan laporan, pelapor, alamat IP, atau jam.",
            "Each volunteer has a code of their own. Only two numbers per code per day are counted: app installs that entered the code, and reports through the web form from the volunteer's link. These numbers are linked to no report, reporter, IP address or time of day.")) }
        @if !admin {
            p.muted { (l.t("Hanya admin yang dapat membuat, menonaktifkan, atau mencetak poster.",
                "Only admins can create, switch off, or print posters.")) }
        }
        div.table-wrap {
            table #volunteers {
                thead { tr {
                    th { (l.t("Kode", "Code")) }
                    th { (l.t("Nama", "Name")) }
                    th { (l.t("Wilayah", "Area")) }
                    th { (l.t("Pemasangan", "Installs")) }
                    th { (l.t("Laporan web", "Web reports")) }
                    th { (l.t("Hari ini", "Today")) }
                    th { (l.t("Status", "Status")) }
                    @if admin { th { (l.t("Tindakan", "Actions")) } }
                } }
                tbody {
                    @for v in &all {
                        @let code = display_code(v);
                        @let t = today_counts.iter().find(|(id, _, _)| *id == v.id).map_or((0, 0), |(_, i, w)| (*i, *w));
                        tr id={ "volunteer-" (v.code) } {
                            td { code { (code) } }
                            td { (v.name) }
                            td {
                                (v.area)
                                @if let Some(n) = area_name(&v.area, &regency) { br; span.muted { (n) } }
                            }
                            td.installs { (v.installs) }
                            td.web-reports { (v.web_reports) }
                            td.today { (t.0) " / " (t.1) }
                            td {
                                @if let Some(at) = v.disabled_at {
                                    span.overdue { (l.t("nonaktif", "switched off")) } br; span.muted { (page::when(at)) }
                                } @else {
                                    (l.t("aktif", "active"))
                                }
                            }
                            @if admin {
                                td {
                                    a href={ "/desk/volunteers/" (v.id) "/poster.pdf" } { (l.t("Poster (PDF)", "Poster (PDF)")) }
                                    @let (to, label) = if v.disabled_at.is_some() {
                                        ("enable", l.t("Aktifkan", "Switch on"))
                                    } else {
                                        ("disable", l.t("Nonaktifkan", "Switch off"))
                                    };
                                    form.inline method="post" action={ "/desk/volunteers/" (v.id) "/" (to) } {
                                        (csrf(ctx))
                                        button.secondary type="submit" { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                tfoot { tr {
                    th colspan="3" { (l.t("Jumlah", "Total")) }
                    th { (sum_i) }
                    th { (sum_w) }
                } }
            }
        }
        @if admin {
            section.card {
                h2 { (l.t("Tambah relawan", "Add a volunteer")) }
                p { (l.t("Server membuat kode 7 karakter yang mudah dibacakan. Poster memuat kode QR ke halaman publik dengan kode ini.",
                    "The server makes a 7-character code that is easy to read aloud. The poster carries a QR code to the public page with this code.")) }
                form method="post" action="/desk/volunteers" {
                    (csrf(ctx))
                    label for="v-name" { (l.t("Nama relawan", "Volunteer's name")) }
                    input #v-name name="name" required maxlength=(MAX_NAME) autocomplete="off";
                    label for="v-area" { (l.t("Wilayah: kode kecamatan/desa (mis. 33.16.09) atau nama tempat", "Area: kecamatan/desa code (e.g. 33.16.09) or a place name")) }
                    input #v-area name="area" maxlength=(MAX_AREA) autocomplete="off";
                    p { button type="submit" { (l.t("Buat kode", "Create code")) } }
                }
            }
        }
    };
    Ok(page::page(
        ctx,
        l.t("Relawan", "Volunteers"),
        "/desk/volunteers",
        body,
    ))
}

fn display_code(v: &Volunteer) -> String {
    VolunteerCode::parse(&v.code).map_or_else(|_| v.code.clone(), |c| c.display())
}

#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    area: String,
}

async fn create(ctx: Ctx, Form(f): Form<CreateForm>) -> Response {
    respond(create_inner(&ctx, f).await.lang(ctx.lang))
}

async fn create_inner(ctx: &Ctx, f: CreateForm) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    ctx.require(Role::Admin)?;
    let name = check_name(&f.name)?;
    let area = check_area(&f.area, &regency(ctx).await?)?;
    let actor = ctx.user().to_string();
    ctx.state
        .db
        .write_async(move |tx| {
            let (id, code) = volunteers::insert(tx, &name, &area)?;
            audit::append(
                tx,
                &actor,
                action::VOLUNTEER_CREATE,
                &format!("volunteer {id}"),
                &format!("code {}", code.canonical()),
            )?;
            Ok::<_, rusqlite::Error>(())
        })
        .await?;
    Ok(Redirect::to("/desk/volunteers?done=create").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn disable(ctx: Ctx, Path(vid): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(switch(&ctx, &vid, f, false).await.lang(ctx.lang))
}

async fn enable(ctx: Ctx, Path(vid): Path<String>, Form(f): Form<CsrfForm>) -> Response {
    respond(switch(&ctx, &vid, f, true).await.lang(ctx.lang))
}

/// The role first, then the id, so that a refused role learns nothing about which ids exist.
fn volunteer_id(ctx: &Ctx, vid: &str) -> Result<i64, DeskError> {
    ctx.require(Role::Admin)?;
    vid.parse::<i64>().map_err(|_| DeskError::NotFound)
}

async fn switch(ctx: &Ctx, vid: &str, f: CsrfForm, on: bool) -> Result<Response, DeskError> {
    ctx.check_csrf(&f.csrf)?;
    let id = volunteer_id(ctx, vid)?;
    let actor = ctx.user().to_string();
    ctx.state
        .db
        .write_async(move |tx| {
            let sql = if on {
                "UPDATE volunteers SET disabled_at = NULL WHERE id = ?1 AND disabled_at IS NOT NULL"
            } else {
                "UPDATE volunteers SET disabled_at = ?2 WHERE id = ?1 AND disabled_at IS NULL"
            };
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM volunteers WHERE id = ?1)",
                [id],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(DeskError::NotFound);
            }
            let changed = if on {
                tx.execute(sql, [id])?
            } else {
                tx.execute(sql, rusqlite::params![id, crate::db::now()])?
            };
            if changed == 1 {
                let act = if on {
                    action::VOLUNTEER_ENABLE
                } else {
                    action::VOLUNTEER_DISABLE
                };
                audit::append(tx, &actor, act, &format!("volunteer {id}"), "")?;
            }
            Ok(())
        })
        .await?;
    let done = if on { "enable" } else { "disable" };
    Ok(Redirect::to(&format!("/desk/volunteers?done={done}")).into_response())
}

async fn poster_pdf(ctx: Ctx, Path(vid): Path<String>) -> Response {
    respond(poster_inner(&ctx, &vid).await.lang(ctx.lang))
}

async fn poster_inner(ctx: &Ctx, vid: &str) -> Result<Response, DeskError> {
    let id = volunteer_id(ctx, vid)?;
    let v = ctx
        .state
        .db
        .read_async(move |c| volunteers::find(c, id))
        .await?
        .ok_or(DeskError::NotFound)?;
    let profile = ctx
        .state
        .db
        .read_async(crate::profile::load)
        .await?
        .profile()?;
    let code = display_code(&v);
    let url = poster::link(&ctx.state.desk.public_url, &v.code);
    let pdf = poster::render(&Poster {
        url: &url,
        code: &code,
        agency: &profile.agency_name,
        hotlines: &profile.hotlines,
    })
    .map_err(DeskError::Internal)?;
    let mut r = pdf.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "inline; filename=\"berani-poster-{}.pdf\"",
        v.code
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_names_and_areas() {
        assert_eq!(check_name("  Siti Aminah ").unwrap(), "Siti Aminah");
        let field = |r: Result<String, DeskError>| match r {
            Err(DeskError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(check_name("")), "name");
        assert_eq!(field(check_name("a\nb")), "name");
        assert_eq!(field(check_name(&"x".repeat(81))), "name");
        assert_eq!(check_area("33.16.09", "33.16").unwrap(), "33.16.09");
        assert!(area_name("33.16.09", "33.16").unwrap().starts_with("Kec. "));
        assert_eq!(
            check_area("Dukuh Sendang", "33.16").unwrap(),
            "Dukuh Sendang"
        );
        assert_eq!(check_area("", "33.16").unwrap(), "");
        assert_eq!(field(check_area("33.16.99", "33.16")), "area");
        assert_eq!(field(check_area("33.17.01", "33.16")), "area");
        assert_eq!(field(check_area(&"x".repeat(121), "33.16")), "area");
    }
}
