//! Statistics: charts for every role, the aggregate CSV, and the admin's line-level export.
//!
//! The charts and the aggregate CSV read only two sources, and neither needs a key:
//! - the `stats_counts` table: counts per month × category × district × victim × age band ×
//!   stage × SLA outcome, with no case id (kept by [`cases::recount`] whenever a keyholder
//!   works a case, so a case counts only once someone holding the key has opened it);
//! - the clear workflow columns of `cases` (received, due, assessed, stage) for the SLA
//!   compliance rate, the median time to assessment and the open cases by stage.
//!
//! Charts are SVG drawn here on the server (no script), each with a `<title>`, a `<desc>` and
//! a data table beside it for screen readers.
//!
//! The line-level export (`/desk/export.csv`) is for admins only and audited: it decrypts
//! every report document and its sealed steps in memory with the admin's session identity and
//! writes one row per case, in SIMFONI-PPA's terms, without the reporter's own words, the
//! place details or the contact. Nothing is written to disk.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use berani_core::age::Identity;
use berani_core::model::IncidentDate;
use berani_core::model::choices::{AgeBand, Category, Choice, VictimSex};
use maud::{Markup, html};
use rusqlite::Connection;
use serde::Deserialize;

use super::cases::{self, CaseRow, Details, Stage, Summary};
use super::i18n::Lang;
use super::page;
use super::{Ctx, DeskError, InLang, Role, respond};
use crate::app::AppState;
use crate::audit::{self, action};
use crate::db;

/// The statistics routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/desk/stats", get(stats_page))
        .route("/desk/stats.csv", get(stats_csv))
        .route("/desk/export.csv", get(export_lines))
}

// ----- the data -------------------------------------------------------------------------

/// One aggregate cell of `stats_counts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// Month of receipt, `YYYY-MM` (WIB).
    pub month: String,
    /// Category key.
    pub category: String,
    /// District code.
    pub district: String,
    /// Victim key (woman, girl, boy, other, unknown).
    pub victim: String,
    /// Age band key.
    pub age_band: String,
    /// Stage key.
    pub stage: String,
    /// SLA outcome when last counted: met, breached, pending.
    pub sla: String,
    /// Cases in the cell.
    pub count: u64,
}

/// Every aggregate cell, in a stable order.
pub fn cells(c: &Connection) -> rusqlite::Result<Vec<Cell>> {
    let mut st = c.prepare(
        "SELECT month, category, district, victim, age_band, stage, sla, count FROM stats_counts
         WHERE count > 0
         ORDER BY month, district, category, victim, age_band, stage, sla",
    )?;
    st.query_map([], |r| {
        Ok(Cell {
            month: r.get(0)?,
            category: r.get(1)?,
            district: r.get(2)?,
            victim: r.get(3)?,
            age_band: r.get(4)?,
            stage: r.get(5)?,
            sla: r.get(6)?,
            count: r.get(7)?,
        })
    })?
    .collect()
}

/// The clear workflow facts of one case.
#[derive(Debug, Clone, Copy)]
struct Flow {
    received_at: i64,
    due_at: i64,
    assessed_at: Option<i64>,
    stage: Stage,
}

impl Flow {
    /// Same rule as [`CaseRow::sla_outcome`].
    fn sla(&self, now: i64) -> &'static str {
        match self.assessed_at {
            Some(t) if t <= self.due_at => "met",
            Some(_) => "breached",
            None if self.stage >= Stage::Assessed => "met",
            None if now > self.due_at => "breached",
            None => "pending",
        }
    }
}

fn flows(c: &Connection) -> rusqlite::Result<Vec<Flow>> {
    let mut st = c.prepare("SELECT received_at, due_at, assessed_at, stage FROM cases")?;
    st.query_map([], |r| {
        let stage: String = r.get(3)?;
        Ok(Flow {
            received_at: r.get(0)?,
            due_at: r.get(1)?,
            assessed_at: r.get(2)?,
            stage: Stage::from_key(&stage).unwrap_or(Stage::Received),
        })
    })?
    .collect()
}

fn wib() -> time::UtcOffset {
    time::UtcOffset::from_hms(7, 0, 0).expect("UTC+7")
}

/// `(year, month)` of a Unix time in WIB.
fn month_of(unix: i64) -> (i32, u8) {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(wib());
    (t.year(), u8::from(t.month()))
}

fn month_key(y: i32, m: u8) -> String {
    format!("{y:04}-{m:02}")
}

/// `(year, month)` of a `YYYY-MM` key.
fn parse_month(k: &str) -> Option<(i32, u8)> {
    let (y, m) = k.split_once('-')?;
    let (y, m): (i32, u8) = (y.parse().ok()?, m.parse().ok()?);
    (y.to_string().len() == 4 && (1..=12).contains(&m)).then_some((y, m))
}

/// The `n` months up to and including `(y, m)`, oldest first.
fn months_back(y: i32, m: u8, n: u32) -> Vec<(i32, u8)> {
    let mut out = Vec::new();
    let (mut y, mut m) = (y, m);
    for _ in 0..n {
        out.push((y, m));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

const MONTHS_ID: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_name(l: Lang, m: u8) -> &'static str {
    let i = usize::from(m.clamp(1, 12)) - 1;
    match l {
        Lang::Id => MONTHS_ID[i],
        Lang::En => MONTHS_EN[i],
    }
}

// ----- the filter -----------------------------------------------------------------------

/// `?year=2026&month=5`.
#[derive(Debug, Default, Deserialize)]
pub struct StatsQuery {
    #[serde(default)]
    year: String,
    #[serde(default)]
    month: String,
}

/// The period the page or the CSV covers: everything, a year, or a month of a year.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    year: Option<i32>,
    month: Option<u8>,
}

impl Period {
    /// The period of a query, or the field that is wrong.
    pub fn parse(q: &StatsQuery) -> Result<Period, DeskError> {
        let (year, month) = (q.year.trim(), q.month.trim());
        let year = if year.is_empty() {
            None
        } else {
            match year.parse::<i32>() {
                Ok(y) if (2000..=2100).contains(&y) && year.len() == 4 => Some(y),
                _ => {
                    return Err(DeskError::invalid(
                        "year",
                        "tahun harus 4 angka antara 2000 dan 2100, mis. 2026",
                        "the year must be 4 digits between 2000 and 2100, e.g. 2026",
                    ));
                }
            }
        };
        let month = if month.is_empty() {
            None
        } else {
            match month.parse::<u8>() {
                Ok(m) if (1..=12).contains(&m) => Some(m),
                _ => {
                    return Err(DeskError::invalid(
                        "month",
                        "bulan harus angka 1 sampai 12",
                        "the month must be a number from 1 to 12",
                    ));
                }
            }
        };
        if month.is_some() && year.is_none() {
            return Err(DeskError::invalid(
                "month",
                "pilih tahunnya juga",
                "choose the year as well",
            ));
        }
        Ok(Period { year, month })
    }

    /// A `YYYY-MM` key falls in the period.
    fn holds(&self, month: &str) -> bool {
        match (self.year, parse_month(month)) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(y), Some((my, mm))) => y == my && self.month.is_none_or(|m| m == mm),
        }
    }

    /// A Unix time falls in the period (WIB).
    fn holds_time(&self, unix: i64) -> bool {
        let (y, m) = month_of(unix);
        self.holds(&month_key(y, m))
    }

    fn label(&self, l: Lang) -> String {
        match (self.year, self.month) {
            (None, _) => l.t("semua waktu", "all time").into(),
            (Some(y), None) => y.to_string(),
            (Some(y), Some(m)) => format!("{} {y}", month_name(l, m)),
        }
    }

    /// For the audit detail and the file name.
    fn key(&self) -> String {
        match (self.year, self.month) {
            (None, _) => "all".into(),
            (Some(y), None) => y.to_string(),
            (Some(y), Some(m)) => month_key(y, m),
        }
    }
}

// ----- SVG charts -----------------------------------------------------------------------

/// Fills for series, dark enough for white gaps and readable beside black text.
const PALETTE: [&str; 6] = [
    "#7a1f5c", "#1f5c7a", "#b35900", "#2f6b3a", "#5c5c5c", "#8c6bb1",
];

const W: u32 = 640;

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

/// The accessible frame of a chart: a figure with a caption, the SVG labelled by its title
/// and description, and the numbers as a table.
fn figure(id: &str, title: &str, l: Lang, svg: Markup, table: Markup) -> Markup {
    html! {
        figure.chart.card id={ "chart-" (id) } {
            figcaption { strong { (title) } }
            (svg)
            details {
                summary { (l.t("Tabel data", "Data table")) }
                div.table-wrap { (table) }
            }
        }
    }
}

fn svg_head(id: &str, title: &str, l: Lang, h: u32, body: Markup) -> Markup {
    html! {
        svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (W) " " (h) } width=(W) height=(h)
            role="img" aria-labelledby={ "svg-" (id) "-t svg-" (id) "-d" } data-chart=(id) {
            title id={ "svg-" (id) "-t" } { (title) }
            desc id={ "svg-" (id) "-d" } {
                (l.t("Angka lengkapnya ada di tabel data di bawah grafik.", "The exact numbers are in the data table below the chart."))
            }
            (body)
        }
    }
}

fn empty_note(l: Lang) -> Markup {
    html! {
        text x=(W / 2) y="30" text-anchor="middle" font-size="13" fill="#555" {
            (l.t("Belum ada data untuk periode ini", "No data for this period yet"))
        }
    }
}

/// One labelled number per row.
struct Row {
    key: String,
    label: String,
    value: u64,
}

fn row(key: impl Into<String>, label: impl Into<String>, value: u64) -> Row {
    Row {
        key: key.into(),
        label: label.into(),
        value,
    }
}

fn table_of(id: &str, l: Lang, head: &str, rows: &[Row]) -> Markup {
    let total: u64 = rows.iter().map(|r| r.value).sum();
    html! {
        table id={ "t-" (id) } {
            thead { tr { th scope="col" { (head) } th scope="col" { (l.t("Jumlah kasus", "Cases")) } } }
            tbody {
                @for r in rows {
                    tr data-key=(r.key) { th scope="row" { (r.label) } td { (r.value) } }
                }
            }
            tfoot { tr data-key="total" { th scope="row" { (l.t("Jumlah", "Total")) } td { (total) } } }
        }
    }
}

/// Horizontal bars: one per row, labels on the left, the number at the end of the bar.
fn hbars(id: &str, title: &str, l: Lang, head: &str, rows: &[Row]) -> Markup {
    let (label_w, value_w, row_h, top) = (190u32, 48u32, 24u32, 8u32);
    let plot = f64::from(W - label_w - value_w);
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0);
    let h = top * 2 + row_h * rows.len().max(1) as u32;
    let body = html! {
        @if max == 0 { (empty_note(l)) }
        @for (i, r) in rows.iter().enumerate() {
            @let y = top + row_h * i as u32;
            @let w = if max == 0 { 0.0 } else { plot * r.value as f64 / max as f64 };
            text x=(label_w - 6) y=(y + 16) text-anchor="end" font-size="12" fill="#1b1b1b" { (r.label) }
            rect x=(label_w) y=(y + 4) width=(fmt1(w)) height="16" fill=(PALETTE[0]) {
                title { (r.label) ": " (r.value) }
            }
            text x=(fmt1(f64::from(label_w) + w + 4.0)) y=(y + 16) font-size="12" fill="#1b1b1b" { (r.value) }
        }
    };
    figure(
        id,
        title,
        l,
        svg_head(id, title, l, h, body),
        table_of(id, l, head, rows),
    )
}

/// Vertical columns over time, with a baseline and the largest value on the axis.
fn columns(id: &str, title: &str, l: Lang, head: &str, rows: &[Row]) -> Markup {
    let (left, bottom, top, h) = (36u32, 28u32, 20u32, 220u32);
    let plot_w = f64::from(W - left - 8);
    let plot_h = f64::from(h - top - bottom);
    let max = rows.iter().map(|r| r.value).max().unwrap_or(0);
    let n = rows.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.7).clamp(2.0, 56.0);
    let base = h - bottom;
    let body = html! {
        line x1=(left) y1=(base) x2=(W - 8) y2=(base) stroke="#888" stroke-width="1" {}
        text x=(left - 4) y=(top + 4) text-anchor="end" font-size="11" fill="#555" { (max) }
        text x=(left - 4) y=(base) text-anchor="end" font-size="11" fill="#555" { "0" }
        @if max == 0 { (empty_note(l)) }
        @for (i, r) in rows.iter().enumerate() {
            @let cx = f64::from(left) + slot * (i as f64 + 0.5);
            @let bh = if max == 0 { 0.0 } else { plot_h * r.value as f64 / max as f64 };
            rect x=(fmt1(cx - bar / 2.0)) y=(fmt1(f64::from(base) - bh)) width=(fmt1(bar)) height=(fmt1(bh)) fill=(PALETTE[1]) {
                title { (r.label) ": " (r.value) }
            }
            @if r.value > 0 {
                text x=(fmt1(cx)) y=(fmt1(f64::from(base) - bh - 3.0)) text-anchor="middle" font-size="11" fill="#1b1b1b" { (r.value) }
            }
            text x=(fmt1(cx)) y=(base + 16) text-anchor="middle" font-size="11" fill="#1b1b1b" { (r.label) }
        }
    };
    figure(
        id,
        title,
        l,
        svg_head(id, title, l, h, body),
        table_of(id, l, head, rows),
    )
}

/// Horizontal bars split into series (e.g. age bands split by the victim's sex), with a
/// legend, and a table with one column per series.
fn stacked(
    id: &str,
    title: &str,
    l: Lang,
    head: &str,
    rows: &[(String, String)],
    series: &[(String, String)],
    value: impl Fn(&str, &str) -> u64,
) -> Markup {
    let (label_w, value_w, row_h, legend_h) = (190u32, 48u32, 24u32, 28u32);
    let plot = f64::from(W - label_w - value_w);
    let totals: Vec<u64> = rows
        .iter()
        .map(|(rk, _)| series.iter().map(|(sk, _)| value(rk, sk)).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0);
    let h = legend_h + 8 + row_h * rows.len().max(1) as u32;
    let legend_step = (W - 16) / series.len().max(1) as u32;
    // Each row's segments: (x, width, series index, series label, value).
    type Seg<'a> = (f64, f64, usize, &'a str, u64);
    let bars: Vec<(&str, Vec<Seg<'_>>)> = rows
        .iter()
        .map(|(rk, rl)| {
            let mut x = f64::from(label_w);
            let mut segs = Vec::new();
            for (j, (sk, sl)) in series.iter().enumerate() {
                let v = value(rk, sk);
                if v > 0 && max > 0 {
                    let w = plot * v as f64 / max as f64;
                    segs.push((x, w, j, sl.as_str(), v));
                    x += w;
                }
            }
            (rl.as_str(), segs)
        })
        .collect();
    let body = html! {
        @for (j, (_, sl)) in series.iter().enumerate() {
            @let x = 8 + legend_step * j as u32;
            rect x=(x) y="6" width="12" height="12" fill=(PALETTE[j % PALETTE.len()]) {}
            text x=(x + 16) y="16" font-size="11" fill="#1b1b1b" { (sl) }
        }
        @if max == 0 {
            text x=(W / 2) y=(legend_h + 20) text-anchor="middle" font-size="13" fill="#555" {
                (l.t("Belum ada data untuk periode ini", "No data for this period yet"))
            }
        }
        @for (i, (rl, segs)) in bars.iter().enumerate() {
            @let y = legend_h + row_h * i as u32;
            text x=(label_w - 6) y=(y + 16) text-anchor="end" font-size="12" fill="#1b1b1b" { (rl) }
            @for (x, w, j, sl, v) in segs {
                rect x=(fmt1(*x)) y=(y + 4) width=(fmt1(*w)) height="16" fill=(PALETTE[j % PALETTE.len()]) {
                    title { (rl) ", " (sl) ": " (v) }
                }
            }
            @let end = segs.last().map_or(f64::from(label_w), |(x, w, ..)| x + w);
            text x=(fmt1(end + 4.0)) y=(y + 16) font-size="12" fill="#1b1b1b" { (totals[i]) }
        }
    };
    let table = html! {
        table id={ "t-" (id) } {
            thead { tr {
                th scope="col" { (head) }
                @for (_, sl) in series { th scope="col" { (sl) } }
                th scope="col" { (l.t("Jumlah", "Total")) }
            } }
            tbody {
                @for (i, (rk, rl)) in rows.iter().enumerate() {
                    tr data-key=(rk) {
                        th scope="row" { (rl) }
                        @for (sk, _) in series { td data-series=(sk) { (value(rk, sk)) } }
                        td data-series="total" { (totals[i]) }
                    }
                }
            }
        }
    };
    figure(id, title, l, svg_head(id, title, l, h, body), table)
}

// ----- the page -------------------------------------------------------------------------

fn category_label(l: Lang, key: &str) -> String {
    Category::from_key(key).map_or_else(
        || l.t("Tidak diisi", "Not given").to_string(),
        |c| l.choice(c).to_string(),
    )
}

fn victim_label(l: Lang, key: &str) -> String {
    VictimSex::from_key(key).map_or_else(
        || l.t("Tidak diisi", "Not given").to_string(),
        |c| l.choice(c).to_string(),
    )
}

fn age_label(l: Lang, key: &str) -> String {
    AgeBand::from_key(key).map_or_else(
        || l.t("Tidak diisi", "Not given").to_string(),
        |c| l.choice(c).to_string(),
    )
}

fn district_label(l: Lang, regency: &str, code: &str) -> String {
    if code == "unknown" {
        l.t("Tidak diisi", "Not given").into()
    } else {
        cases::district_name(regency, code)
    }
}

/// SIMFONI-PPA records the victim's sex as P (perempuan) or L (laki-laki).
fn simfoni_sex(victim: &str) -> &'static str {
    match victim {
        "woman" | "girl" => "P",
        "boy" => "L",
        _ => "",
    }
}

fn sla_label(l: Lang, key: &str) -> &'static str {
    match key {
        "met" => l.t("Tepat waktu", "On time"),
        "breached" => l.t("Terlambat", "Late"),
        _ => l.t("Belum jatuh tempo", "Not yet due"),
    }
}

/// What the page shows, computed from the cells and the workflow facts.
struct Figures {
    per_month: Vec<Row>,
    per_year: Vec<Row>,
    by_category: Vec<Row>,
    by_district: Vec<Row>,
    by_age_sex: BTreeMap<(String, String), u64>,
    age_rows: Vec<(String, String)>,
    sex_series: Vec<(String, String)>,
    by_sla_counted: Vec<Row>,
    counted: u64,
    received: u64,
    sla_met: u64,
    sla_breached: u64,
    sla_pending: u64,
    median_to_assessment: Option<i64>,
    open_by_stage: Vec<Row>,
    years: Vec<i32>,
}

fn figures(
    l: Lang,
    regency: &str,
    period: Period,
    all: &[Cell],
    flows: &[Flow],
    now: i64,
) -> Figures {
    let inside: Vec<&Cell> = all.iter().filter(|c| period.holds(&c.month)).collect();
    let sum_by = |key: &dyn Fn(&Cell) -> String| -> HashMap<String, u64> {
        let mut m = HashMap::new();
        for c in &inside {
            *m.entry(key(c)).or_insert(0) += c.count;
        }
        m
    };

    // Months: the chosen year's twelve, or the last twelve up to now.
    let (ny, nm) = month_of(now);
    let months = match period.year {
        Some(y) => (1..=12).map(|m| (y, m)).collect(),
        None => months_back(ny, nm, 12),
    };
    let mut by_month: HashMap<&str, u64> = HashMap::new();
    let mut by_year: BTreeMap<i32, u64> = BTreeMap::new();
    for c in all {
        *by_month.entry(c.month.as_str()).or_insert(0) += c.count;
        if let Some((y, _)) = parse_month(&c.month) {
            *by_year.entry(y).or_insert(0) += c.count;
        }
    }
    let per_month = months
        .iter()
        .map(|&(y, m)| {
            let k = month_key(y, m);
            let v = by_month.get(k.as_str()).copied().unwrap_or(0);
            let label = if period.year.is_some() {
                month_name(l, m).to_string()
            } else {
                format!("{} {:02}", month_name(l, m), y % 100)
            };
            row(k, label, v)
        })
        .collect();
    let mut years: Vec<i32> = by_year.keys().copied().collect();
    for f in flows {
        years.push(month_of(f.received_at).0);
    }
    years.push(ny);
    years.extend(period.year);
    years.sort_unstable();
    years.dedup();
    let per_year = by_year
        .iter()
        .map(|(y, v)| row(y.to_string(), y.to_string(), *v))
        .collect();

    let cat = sum_by(&|c| c.category.clone());
    let mut by_category: Vec<Row> = Category::ALL
        .iter()
        .map(|c| {
            row(
                c.key(),
                l.choice(*c),
                cat.get(c.key()).copied().unwrap_or(0),
            )
        })
        .collect();
    for (k, v) in &cat {
        if Category::from_key(k).is_none() {
            by_category.push(row(k.clone(), category_label(l, k), *v));
        }
    }

    // Every district of the regency, busiest first, then any other code seen.
    let dist = sum_by(&|c| c.district.clone());
    let mut by_district: Vec<Row> = berani_core::gazetteer::Gazetteer::for_regency(regency)
        .map(|g| {
            g.districts()
                .iter()
                .map(|a| {
                    row(
                        a.code.clone(),
                        a.name.clone(),
                        dist.get(&a.code).copied().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut others: Vec<Row> = dist
        .iter()
        .filter(|(k, _)| !by_district.iter().any(|r| &r.key == *k))
        .map(|(k, v)| row(k.clone(), district_label(l, regency, k), *v))
        .collect();
    others.sort_by(|a, b| a.key.cmp(&b.key));
    by_district.append(&mut others);
    by_district.sort_by(|a, b| b.value.cmp(&a.value).then(a.label.cmp(&b.label)));

    let mut by_age_sex = BTreeMap::new();
    for c in &inside {
        *by_age_sex
            .entry((c.age_band.clone(), c.victim.clone()))
            .or_insert(0) += c.count;
    }
    let mut age_rows: Vec<(String, String)> = AgeBand::ALL
        .iter()
        .map(|a| (a.key().to_string(), l.choice(*a).to_string()))
        .collect();
    let mut sex_series: Vec<(String, String)> = VictimSex::ALL
        .iter()
        .map(|v| (v.key().to_string(), l.choice(*v).to_string()))
        .collect();
    for (a, v) in by_age_sex.keys() {
        if !age_rows.iter().any(|(k, _)| k == a) {
            age_rows.push((a.clone(), age_label(l, a)));
        }
        if !sex_series.iter().any(|(k, _)| k == v) {
            sex_series.push((v.clone(), victim_label(l, v)));
        }
    }

    let sla = sum_by(&|c| c.sla.clone());
    let by_sla_counted = ["met", "breached", "pending"]
        .iter()
        .map(|k| row(*k, sla_label(l, k), sla.get(*k).copied().unwrap_or(0)))
        .collect();
    let counted = inside.iter().map(|c| c.count).sum();

    // From the clear workflow columns.
    let mut received = 0;
    let (mut met, mut breached, mut pending) = (0, 0, 0);
    let mut waits = Vec::new();
    let mut open: HashMap<Stage, u64> = HashMap::new();
    for f in flows {
        if f.stage != Stage::Terminated {
            *open.entry(f.stage).or_insert(0) += 1;
        }
        if !period.holds_time(f.received_at) {
            continue;
        }
        received += 1;
        match f.sla(now) {
            "met" => met += 1,
            "breached" => breached += 1,
            _ => pending += 1,
        }
        if let Some(t) = f.assessed_at {
            waits.push((t - f.received_at).max(0));
        }
    }
    waits.sort_unstable();
    let median_to_assessment = match waits.len() {
        0 => None,
        n if n % 2 == 1 => Some(waits[n / 2]),
        n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2),
    };
    let open_by_stage = Stage::ALL
        .iter()
        .filter(|s| **s != Stage::Terminated)
        .map(|s| row(s.key(), s.label(l), open.get(s).copied().unwrap_or(0)))
        .collect();

    Figures {
        per_month,
        per_year,
        by_category,
        by_district,
        by_age_sex,
        age_rows,
        sex_series,
        by_sla_counted,
        counted,
        received,
        sla_met: met,
        sla_breached: breached,
        sla_pending: pending,
        median_to_assessment,
        open_by_stage,
        years,
    }
}

async fn load(ctx: &Ctx) -> Result<(Vec<Cell>, Vec<Flow>, String), DeskError> {
    let (cells, flows) = ctx
        .state
        .db
        .read_async(|c| Ok::<_, rusqlite::Error>((cells(c)?, flows(c)?)))
        .await?;
    let regency = crate::profile::regency(&ctx.state.db)?;
    Ok((cells, flows, regency))
}

async fn stats_page(ctx: Ctx, Query(q): Query<StatsQuery>) -> Response {
    respond(stats_inner(&ctx, q).await.lang(ctx.lang))
}

async fn stats_inner(ctx: &Ctx, q: StatsQuery) -> Result<Response, DeskError> {
    ctx.require(Role::Viewer)?;
    let l = ctx.lang;
    let period = Period::parse(&q)?;
    let (cells, flows, regency) = load(ctx).await?;
    let now = db::now();
    let f = figures(l, &regency, period, &cells, &flows, now);
    let decided = f.sla_met + f.sla_breached;
    let rate = (decided > 0).then(|| f.sla_met as f64 * 100.0 / decided as f64);
    let csv_href = format!(
        "/desk/stats.csv?year={}&month={}",
        period.year.map(|y| y.to_string()).unwrap_or_default(),
        period.month.map(|m| m.to_string()).unwrap_or_default()
    );
    let age_sex = f.by_age_sex.clone();
    let body = html! {
        h1 { (l.t("Statistik", "Statistics")) }
        form.filters method="get" action="/desk/stats" aria-label=(l.t("Pilih periode", "Choose the period")) {
            div {
                label for="s-year" { (l.t("Tahun", "Year")) }
                select #s-year name="year" {
                    option value="" selected[period.year.is_none()] { (l.t("Semua", "All")) }
                    @for y in f.years.iter().rev() {
                        option value=(y) selected[period.year == Some(*y)] { (y) }
                    }
                }
            }
            div {
                label for="s-month" { (l.t("Bulan", "Month")) }
                select #s-month name="month" {
                    option value="" selected[period.month.is_none()] { (l.t("Setahun penuh", "Whole year")) }
                    @for m in 1..=12u8 {
                        option value=(m) selected[period.month == Some(m)] { (month_name(l, m)) }
                    }
                }
            }
            div { button type="submit" { (l.t("Tampilkan", "Show")) } }
            div {
                a href=(csv_href) download { (l.t("Unduh agregat (CSV)", "Download aggregates (CSV)")) }
                @if ctx.role() >= Role::Admin {
                    " · " a href="/desk/export.csv" { (l.t("Ekspor per kasus (CSV, admin, tercatat di log audit)", "Per-case export (CSV, admin, recorded in the audit log)")) }
                }
            }
        }
        p.muted data-period=(period.key()) {
            (l.t("Periode: ", "Period: ")) strong { (period.label(l)) } ". "
            (l.t("Kasus diterima server pada periode ini: ", "Cases the server received in this period: "))
            strong data-received=(f.received) { (f.received) } ". "
            (l.t("Sudah terhitung dalam grafik: ", "Counted in the charts: "))
            strong data-counted=(f.counted) { (f.counted) } "."
        }
        @if f.received > f.counted {
            p.notice {
                (l.t("Grafik hanya menghitung kasus yang sudah dibuka oleh anggota tim pemegang kunci: kategori, wilayah dan usia korban tetap tersegel sampai saat itu. ",
                    "The charts count only cases a key-holding team member has opened: category, district and the victim's age stay sealed until then. "))
                (f.received - f.counted) (l.t(" kasus belum terhitung.", " cases are not counted yet."))
            }
        }
        section.card aria-labelledby="sla-h" {
            h2 #sla-h { (l.t("Asesmen awal dalam 24 jam", "Initial assessment within 24 hours")) }
            dl.fields {
                dt { (l.t("Tingkat kepatuhan", "Compliance rate")) }
                dd data-sla-rate=(rate.map(|r| format!("{r:.1}")).unwrap_or_default()) {
                    @match rate {
                        Some(r) => { strong { (format!("{r:.1}")) "%" } " (" (f.sla_met) (l.t(" dari ", " of ")) (decided) ")" },
                        None => { "—" },
                    }
                }
                dt { (l.t("Tepat waktu", "On time")) } dd data-sla-met=(f.sla_met) { (f.sla_met) }
                dt { (l.t("Terlambat", "Late")) } dd data-sla-breached=(f.sla_breached) { (f.sla_breached) }
                dt { (l.t("Belum jatuh tempo", "Not yet due")) } dd data-sla-pending=(f.sla_pending) { (f.sla_pending) }
                dt { (l.t("Median waktu dari diterima sampai asesmen", "Median time from receipt to assessment")) }
                dd data-median-secs=(f.median_to_assessment.map(|s| s.to_string()).unwrap_or_default()) {
                    @match f.median_to_assessment {
                        Some(s) => { (page::span(l, s)) },
                        None => { "—" },
                    }
                }
            }
            p.muted { (l.t("Dari waktu kerja kasus yang tercatat terbuka (tanpa kunci), untuk kasus yang diterima pada periode ini.",
                "From the cases' clear workflow times (no key needed), for cases received in this period.")) }
        }
        div {
            (columns("month", &format!("{} ({})", l.t("Kasus per bulan", "Cases per month"),
                match period.year { Some(y) => y.to_string(), None => l.t("12 bulan terakhir", "last 12 months").to_string() }),
                l, l.t("Bulan", "Month"), &f.per_month))
            (columns("year", l.t("Kasus per tahun", "Cases per year"), l, l.t("Tahun", "Year"), &f.per_year))
            (hbars("category", l.t("Menurut jenis kekerasan", "By kind of violence"), l, l.t("Jenis kekerasan", "Kind of violence"), &f.by_category))
            (hbars("district", l.t("Menurut kecamatan", "By district"), l, l.t("Kecamatan", "District"), &f.by_district))
            (stacked("age", l.t("Menurut usia dan jenis kelamin korban", "By the victim's age band and sex"), l,
                l.t("Kelompok usia", "Age band"), &f.age_rows, &f.sex_series,
                |a, v| age_sex.get(&(a.to_string(), v.to_string())).copied().unwrap_or(0)))
            (hbars("open", l.t("Kasus terbuka menurut tahap (saat ini)", "Open cases by stage (now)"), l, l.t("Tahap", "Stage"), &f.open_by_stage))
            (hbars("sla", l.t("Hasil batas 24 jam saat terakhir dihitung", "24-hour outcome when last counted"), l, l.t("Hasil", "Outcome"), &f.by_sla_counted))
        }
    };
    Ok(page::page(
        ctx,
        l.t("Statistik", "Statistics"),
        "/desk/stats",
        body,
    ))
}

// ----- CSV ------------------------------------------------------------------------------

/// A cell for a spreadsheet: text that a spreadsheet would run as a formula is prefixed
/// with `'`.
fn sheet(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn csv_response(bytes: Vec<u8>, filename: &str) -> Response {
    let mut r = Response::new(Body::from(bytes));
    page::secure_headers(&mut r);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn csv_err(e: impl std::fmt::Display) -> DeskError {
    DeskError::Internal(format!("csv: {e}"))
}

/// The aggregate CSV's columns, named as SIMFONI-PPA names its fields.
pub const AGGREGATE_COLUMNS: [&str; 12] = [
    "periode",
    "kode_kecamatan",
    "kecamatan",
    "jenis_kekerasan",
    "jenis_kekerasan_label",
    "korban",
    "jenis_kelamin_korban",
    "kelompok_usia_korban",
    "tahap",
    "tahap_label",
    "sla_asesmen_24_jam",
    "jumlah",
];

/// Writes the aggregate rows of `period` as CSV (a UTF-8 BOM first, for spreadsheets).
fn aggregates_csv(
    l: Lang,
    regency: &str,
    period: Period,
    all: &[Cell],
) -> Result<(Vec<u8>, usize), DeskError> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(AGGREGATE_COLUMNS).map_err(csv_err)?;
    let mut n = 0;
    for c in all.iter().filter(|c| period.holds(&c.month)) {
        let district = if c.district == "unknown" {
            String::new()
        } else {
            cases::district_name(regency, &c.district)
        };
        let stage = Stage::from_key(&c.stage).map_or("", |s| s.label(l));
        w.write_record([
            c.month.as_str(),
            c.district.as_str(),
            &sheet(&district),
            c.category.as_str(),
            &category_label(l, &c.category),
            c.victim.as_str(),
            simfoni_sex(&c.victim),
            c.age_band.as_str(),
            c.stage.as_str(),
            stage,
            c.sla.as_str(),
            &c.count.to_string(),
        ])
        .map_err(csv_err)?;
        n += 1;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    Ok((bytes, n))
}

async fn stats_csv(ctx: Ctx, Query(q): Query<StatsQuery>) -> Response {
    respond(stats_csv_inner(&ctx, q).await.lang(ctx.lang))
}

async fn stats_csv_inner(ctx: &Ctx, q: StatsQuery) -> Result<Response, DeskError> {
    ctx.require(Role::Viewer)?;
    let period = Period::parse(&q)?;
    let (cells, _, regency) = load(ctx).await?;
    let (bytes, rows) = aggregates_csv(ctx.lang, &regency, period, &cells)?;
    let (actor, detail) = (
        ctx.user().to_string(),
        format!("period={} rows={rows}", period.key()),
    );
    ctx.state
        .db
        .write_async(move |tx| audit::append(tx, &actor, action::EXPORT_AGGREGATES, "", &detail))
        .await?;
    Ok(csv_response(
        bytes,
        &format!("berani-statistik-{}.csv", period.key()),
    ))
}

/// The line-level export's columns: SIMFONI-PPA's fields for one case. The reporter's own
/// words, the place details and the contact are never exported.
pub const LINE_COLUMNS: [&str; 23] = [
    "id_kasus",
    "tanggal_diterima",
    "tanggal_kejadian",
    "kode_kecamatan",
    "kecamatan",
    "kode_desa",
    "desa",
    "jenis_kekerasan",
    "korban",
    "jenis_kelamin_korban",
    "kelompok_usia_korban",
    "tempat_kejadian",
    "hubungan_pelaku",
    "pelapor",
    "tahap",
    "sla_asesmen_24_jam",
    "tanggal_asesmen",
    "tingkat_risiko",
    "layanan",
    "rujukan",
    "tanggal_terminasi",
    "alasan_terminasi",
    "contoh_sintetis",
];

fn date_of(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(wib());
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn incident(d: Option<&IncidentDate>) -> String {
    match d {
        Some(IncidentDate::Exact { date }) => date.clone(),
        Some(IncidentDate::Approximate { from, to }) => format!("{from}/{to}"),
        Some(IncidentDate::Unknown) | None => String::new(),
    }
}

fn label_in(list: &[(&str, &'static str, &'static str)], key: &str, l: Lang) -> String {
    list.iter()
        .find(|(k, _, _)| *k == key)
        .map_or_else(|| key.to_string(), |(_, id, en)| l.t(id, en).to_string())
}

fn opt_choice<C: Choice>(l: Lang, c: Option<C>) -> &'static str {
    c.map_or("", |c| l.choice(c))
}

/// One case's row; the document and the events are opened in memory only.
fn line(l: Lang, case: &CaseRow, s: &Summary, events: &[cases::Event], now: i64) -> Vec<String> {
    let d = &s.doc;
    let f = &d.fields;
    let regency = d.regency.as_str();
    let district = f.location.district.clone().unwrap_or_default();
    let village = f.location.village.clone().unwrap_or_default();
    let name = |code: &str, village: bool| {
        if code.is_empty() {
            String::new()
        } else if village {
            berani_core::gazetteer::Gazetteer::for_regency(regency)
                .and_then(|g| g.village(code))
                .map_or_else(|| code.to_string(), |a| a.name.clone())
        } else {
            cases::district_name(regency, code)
        }
    };
    let details: Vec<&Details> = events.iter().filter_map(|e| e.details.as_ref()).collect();
    let risk = details
        .iter()
        .rev()
        .find(|d| !d.risk.is_empty())
        .map(|d| label_in(&cases::RISKS, &d.risk, l))
        .unwrap_or_default();
    let mut services: Vec<String> = Vec::new();
    for d in &details {
        for k in &d.services {
            let label = label_in(&cases::SERVICES, k, l);
            if !services.contains(&label) {
                services.push(label);
            }
        }
    }
    let referrals: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "referral")
        .filter_map(|e| e.details.as_ref())
        .map(|d| d.office.replace(['\n', '\r'], " "))
        .filter(|o| !o.is_empty())
        .collect();
    let reason = details
        .iter()
        .rev()
        .find(|d| !d.reason.is_empty())
        .map(|d| label_in(&cases::TERMINATIONS, &d.reason, l))
        .unwrap_or_default();
    vec![
        case.report.clone(),
        date_of(case.received_at),
        incident(f.incident_date.as_ref()),
        district.clone(),
        name(&district, false),
        village.clone(),
        name(&village, true),
        opt_choice(l, f.category).into(),
        opt_choice(l, f.victim_sex).into(),
        simfoni_sex(s.victim()).into(),
        opt_choice(l, f.victim_age_band).into(),
        opt_choice(l, f.place_type).into(),
        opt_choice(l, f.perpetrator_relationship).into(),
        opt_choice(l, f.reporter_role).into(),
        case.stage.label(l).into(),
        case.sla_outcome(now).into(),
        case.assessed_at.map(date_of).unwrap_or_default(),
        risk,
        services.join("; "),
        sheet(&referrals.join("; ")),
        case.closed_at.map(date_of).unwrap_or_default(),
        reason,
        if case.synthetic { "1" } else { "0" }.into(),
    ]
}

/// Builds the line-level CSV (blocking: it decrypts every case) and brings each case's
/// statistics bucket up to date on the way, as any keyholder's look at a case does.
fn lines_csv(
    state: &AppState,
    identity: &Identity,
    l: Lang,
) -> Result<(Vec<u8>, usize), DeskError> {
    let rows = state.db.read(|c| cases::list(c, false, None))?;
    let now = db::now();
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(LINE_COLUMNS).map_err(csv_err)?;
    let mut n = 0;
    for case in &rows {
        let doc = match cases::decrypt_document(state, identity, &case.report) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("desk: export skips a report document that did not open: {e:?}");
                continue;
            }
        };
        let s = Summary { doc };
        let events = state
            .db
            .read(|c| cases::events(c, &case.report, Some(identity)))?;
        w.write_record(line(l, case, &s, &events, now))
            .map_err(csv_err)?;
        state
            .db
            .write(|tx| cases::recount(tx, identity, case, &s, now))?;
        n += 1;
    }
    let bytes = w.into_inner().map_err(csv_err)?;
    Ok((bytes, n))
}

async fn export_lines(ctx: Ctx) -> Response {
    respond(export_inner(&ctx).await.lang(ctx.lang))
}

async fn export_inner(ctx: &Ctx) -> Result<Response, DeskError> {
    ctx.require(Role::Admin)?;
    let identity = ctx.session.identity.clone().ok_or(DeskError::NoKey)?;
    let (state, l) = (ctx.state.clone(), ctx.lang);
    let (bytes, rows) = tokio::task::spawn_blocking(move || lines_csv(&state, &identity, l))
        .await
        .map_err(|e| DeskError::Internal(e.to_string()))??;
    let (actor, detail) = (ctx.user().to_string(), format!("rows={rows}"));
    ctx.state
        .db
        .write_async(move |tx| audit::append(tx, &actor, action::EXPORT_LINES, "", &detail))
        .await?;
    Ok(csv_response(
        bytes,
        &format!("berani-kasus-{}.csv", date_of(db::now())),
    ))
}

/// For the `desk_forms` fuzz target (server/fuzz): this module's forms, read from `body` the
/// way the handlers' extractors read them, and the checks the handlers run on them.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_forms(body: &[u8]) {
    use crate::fuzzing::query;
    if let Some(q) = query::<StatsQuery>(body)
        && let Ok(p) = Period::parse(&q)
    {
        assert!(p.month.is_none() || p.year.is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(year: &str, month: &str) -> StatsQuery {
        StatsQuery {
            year: year.into(),
            month: month.into(),
        }
    }

    #[test]
    fn periods_parse_and_refuse_bad_input() {
        assert_eq!(Period::parse(&q("", "")).unwrap(), Period::default());
        let p = Period::parse(&q("2026", "5")).unwrap();
        assert!(p.holds("2026-05") && !p.holds("2026-06") && !p.holds("unknown"));
        let p = Period::parse(&q("2026", "")).unwrap();
        assert!(p.holds("2026-01") && p.holds("2026-12") && !p.holds("2025-12"));
        for (y, m, field) in [
            ("26", "", "year"),
            ("abcd", "", "year"),
            ("2026", "13", "month"),
            ("2026", "0", "month"),
            ("", "4", "month"),
        ] {
            match Period::parse(&q(y, m)) {
                Err(DeskError::Invalid { field: f, .. }) => assert_eq!(f, field, "{y}/{m}"),
                other => panic!("{y}/{m}: {other:?}"),
            }
        }
    }

    #[test]
    fn twelve_months_back_cross_the_year() {
        let m = months_back(2026, 2, 12);
        assert_eq!(m.first(), Some(&(2025, 3)));
        assert_eq!(m.last(), Some(&(2026, 2)));
        assert_eq!(m.len(), 12);
    }

    #[test]
    fn figures_sum_cells_and_workflow() {
        let cell = |month: &str, cat: &str, stage: &str, sla: &str, n: u64| Cell {
            month: month.into(),
            category: cat.into(),
            district: "33.16.09".into(),
            victim: "girl".into(),
            age_band: "6-12".into(),
            stage: stage.into(),
            sla: sla.into(),
            count: n,
        };
        let cells = vec![
            cell("2026-03", "physical", "assessed", "met", 2),
            cell("2026-04", "sexual", "received", "pending", 1),
            cell("2025-12", "physical", "terminated", "breached", 4),
        ];
        let day = 86_400;
        let t0 = 1_775_000_000; // 2026-03-31 (UTC)
        let flows = vec![
            Flow {
                received_at: t0,
                due_at: t0 + day,
                assessed_at: Some(t0 + 3600),
                stage: Stage::Assessed,
            },
            Flow {
                received_at: t0,
                due_at: t0 + day,
                assessed_at: Some(t0 + 2 * day),
                stage: Stage::Services,
            },
            Flow {
                received_at: t0,
                due_at: t0 + day,
                assessed_at: None,
                stage: Stage::Received,
            },
        ];
        let now = t0 + 3 * day;
        let f = figures(
            Lang::En,
            "33.16",
            Period::parse(&q("2026", "")).unwrap(),
            &cells,
            &flows,
            now,
        );
        assert_eq!(f.counted, 3);
        let physical = f.by_category.iter().find(|r| r.key == "physical").unwrap();
        assert_eq!(physical.value, 2);
        assert_eq!(f.per_year.iter().map(|r| r.value).sum::<u64>(), 7);
        assert_eq!(f.per_month.len(), 12);
        assert_eq!(f.per_month[2].value, 2);
        assert_eq!(f.by_age_sex[&("6-12".into(), "girl".into())], 3);
        // One assessed in an hour, one late, one never assessed and now overdue.
        assert_eq!((f.sla_met, f.sla_breached, f.sla_pending), (1, 2, 0));
        assert_eq!(f.median_to_assessment, Some((3600 + 2 * day) / 2));
        let open: u64 = f.open_by_stage.iter().map(|r| r.value).sum();
        assert_eq!(open, 3);
        let top = &f.by_district[0];
        assert_eq!((top.key.as_str(), top.value), ("33.16.09", 3));
        assert_ne!(top.label, "33.16.09", "named from the gazetteer");
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(sheet("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(sheet("UPTD PPA"), "UPTD PPA");
    }
}
