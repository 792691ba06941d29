//! The public pages: `/`, `/lapor` and `/cek`, rendered on the server with both languages.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use berani_core::gazetteer::Gazetteer;
use berani_core::model::choices::{
    AgeBand, Category, Choice, ContactMethod, PlaceType, Relationship, ReporterRole, VictimSex,
};
use berani_core::model::fields::{MAX_DESCRIPTION_CHARS, MAX_DETAIL_CHARS};
use berani_core::model::validate::MAX_ATTACHMENTS;
use berani_core::profile::AgencyProfile;
use berani_core::{Field, FieldError, Reason};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;

use super::{apk, asset_path, assets, tel_link, volunteer_code, wa_link};
use crate::app::AppState;
use crate::profile;

/// Where the quick exit goes: a neutral page (the national weather service).
pub const NEUTRAL_URL: &str = "https://www.bmkg.go.id/";

/// The Content-Security-Policy of the public pages: only this server, no framing.
/// `wasm-unsafe-eval` lets the bundled Argon2id (WebAssembly) run; nothing else is evaluated.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Deserialize, Default)]
pub struct VolunteerQuery {
    #[serde(default)]
    v: String,
}

/// Indonesian, then English in a quieter line.
fn two(id: &str, en: &str) -> Markup {
    html! { (id) span.en lang="en" { (en) } }
}

/// A page; gzipped when the browser accepts it (the form's page with its village list is
/// about 38 KB, 8 KB gzipped: seconds on a 2G link).
fn frame(
    req: &HeaderMap,
    title: &str,
    main: Markup,
    scripts: &[&str],
    microphone: bool,
) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="id" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href=(asset_path("public.css"));
                script src=(asset_path("exit.js")) defer {}
                @for s in scripts { script src=(asset_path(s)) defer {} }
            }
            body {
                header.top {
                    a.brand href="/" { "Berani" }
                    a #keluar .exit href=(NEUTRAL_URL) rel="noreferrer" data-to=(NEUTRAL_URL) {
                        "Keluar cepat" span.en lang="en" { "Quick exit" }
                    }
                }
                p.esc { "Tekan Esc untuk keluar cepat." span.en lang="en" { "Press Esc to leave at once." } }
                main { (main) }
            }
        }
    };
    let html = markup.into_string();
    let mut r = if assets::accepts_gzip(req) {
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_ENCODING, "gzip"),
            ],
            assets::gzip(html.as_bytes()),
        )
            .into_response()
    } else {
        Html(html).into_response()
    };
    let h = r.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // Not kept in the browser's cache of a shared phone.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static(if microphone {
            "microphone=(self), camera=(), geolocation=()"
        } else {
            "microphone=(), camera=(), geolocation=()"
        }),
    );
    r
}

/// The emergency numbers: 112, SAPA 129 (call and WhatsApp) and the profile's hotlines.
fn emergency(p: Option<&AgencyProfile>) -> Markup {
    html! {
        ul.numbers {
            li { a.call href="tel:112" { "112" } " " (two("Darurat: polisi, ambulans, pemadam", "Emergency: police, ambulance, fire")) }
            li {
                a.call href="tel:129" { "SAPA 129" } " "
                a.call href="https://wa.me/628111129129" { "WhatsApp 08111-129-129" } " "
                (two("Layanan pengaduan perempuan dan anak (KemenPPPA)", "Women and children's helpline (national)"))
            }
            @if let Some(p) = p {
                // The national numbers above are not repeated when the profile lists them.
                @for h in p.hotlines.iter().filter(|h| !matches!(h.number.trim(), "112" | "129")) {
                    li {
                        @if let Some(tel) = tel_link(&h.number) { a.call href=(tel) { (h.name) " " (h.number) } }
                        @if let Some(wa) = h.whatsapp.as_deref().and_then(wa_link) {
                            " " a.call href=(wa) { "WhatsApp " (h.whatsapp.as_deref().unwrap_or_default()) }
                        }
                    }
                }
            }
        }
    }
}

async fn current_profile(s: &Arc<AppState>) -> Option<(AgencyProfile, String)> {
    let stored = s.db.read_async(profile::load).await.ok()?;
    let p = stored.profile().ok()?;
    Some((p, stored.signing_key.to_string()))
}

fn with_code(path: &str, code: Option<&str>) -> String {
    match code {
        Some(c) => format!("{path}?v={c}"),
        None => path.to_string(),
    }
}

/// `GET /`: the public page.
pub async fn home(
    State(s): State<Arc<AppState>>,
    Query(q): Query<VolunteerQuery>,
    req: HeaderMap,
) -> Response {
    let code = volunteer_code(&q.v);
    let profile = current_profile(&s).await.map(|(p, _)| p);
    let agency = profile
        .as_ref()
        .map_or("tim penanganan", |p| p.agency_name.as_str());
    let apk = apk::current(&s.public_dir).await;
    let main = html! {
        h1 { (two("Laporkan kekerasan terhadap perempuan dan anak, dengan aman", "Report violence against women and children, safely")) }
        section #darurat .card .urgent {
            h2 { (two("Dalam bahaya sekarang? Telepon:", "In danger now? Call:")) }
            (emergency(profile.as_ref()))
        }
        p { (two(
            &format!("Berani meneruskan laporan Anda ke {agency}. Laporan dikunci di ponsel Anda sebelum dikirim; hanya tim penanganan yang bisa membukanya. Tidak perlu akun, dan Anda tidak harus menulis nama."),
            &format!("Berani passes your report to {agency}. It is locked on your phone before it is sent; only the handling team can open it. No account is needed, and you do not have to give your name."),
        )) }
        section.card {
            h2 { (two("Buat laporan", "Make a report")) }
            p { a #ke-lapor .button href=(with_code("/lapor", code.as_deref())) { (two("Lapor lewat formulir web", "Report with the web form")) } }
            p { a #ke-cek href="/cek" { (two("Cek laporan dengan kode", "Check my report with a receipt code")) } }
        }
        section #unduh .card {
            h2 { (two("Aplikasi Android", "Android app")) }
            @match &apk {
                Some(a) => {
                    p { a #unduh-apk .button href=(apk::PUBLIC_PATH) download="berani.apk" type="application/vnd.android.package-archive" {
                        (two("Unduh aplikasi Berani", "Download the Berani app"))
                    } }
                    p { (two("Ukuran", "Size")) ": " span #apk-size { (format!("{:.1} MB", a.size as f64 / 1_000_000.0)) } " (" (a.size) " byte)" }
                    p { "SHA-256: " code #apk-sha256 { (a.sha256) } }
                    p.small { (two(
                        "Aplikasi menyimpan laporan terkunci dan mengirimnya sendiri saat ada sinyal.",
                        "The app keeps reports locked and sends them by itself when there is signal.",
                    )) }
                }
                None => p #apk-none { (two("Aplikasi belum tersedia untuk diunduh di sini.", "The app cannot be downloaded here yet.")) },
            }
        }
        section #relawan .card {
            @if let Some(c) = &code {
                p { "Kode relawan / " span lang="en" { "Volunteer code" } ": " strong #kode-relawan { (c) } }
            }
            form method="get" action="/" {
                label for="v" { (two("Kode relawan", "Volunteer code")) }
                input #v name="v" type="text" maxlength="32" autocomplete="off" value=[code.as_deref()];
                button type="submit" { (two("Pakai", "Use")) }
            }
        }
        p.small { (two(
            "Halaman ini tidak memakai cookie, tidak melacak, dan tidak mencatat alamat IP.",
            "This page uses no cookies, does no tracking, and does not record IP addresses.",
        )) }
    };
    frame(&req, "Berani — Lapor dengan aman", main, &[], false)
}

/// The messages the form's checks show, made by the core so that they read as in the app:
/// `{"field.reason": ["Indonesian", "English"]}`.
fn field_messages(max_attachment_bytes: u64) -> String {
    let list = [
        FieldError::new(Field::Category, Reason::Required),
        FieldError::new(Field::District, Reason::Required),
        FieldError::new(Field::Village, Reason::NotInDistrict),
        FieldError::new(Field::Description, Reason::TextOrVoiceNoteRequired),
        FieldError::with_limit(
            Field::Description,
            Reason::TooLong,
            MAX_DESCRIPTION_CHARS as u64,
        ),
        FieldError::with_limit(
            Field::LocationDetail,
            Reason::TooLong,
            MAX_DETAIL_CHARS as u64,
        ),
        FieldError::new(Field::ContactNumber, Reason::InvalidFormat),
        FieldError::new(Field::IncidentDate, Reason::InvalidFormat),
        FieldError::new(Field::IncidentDate, Reason::InFuture),
        FieldError::new(Field::IncidentDate, Reason::InvalidRange),
        FieldError::with_limit(Field::Attachment, Reason::TooMany, MAX_ATTACHMENTS as u64),
        FieldError::with_limit(Field::Attachment, Reason::TooLarge, max_attachment_bytes),
        FieldError::new(Field::Attachment, Reason::UnsupportedType),
        FieldError::new(Field::Attachment, Reason::MetadataNotRemoved),
        FieldError::new(Field::Attachment, Reason::Unreadable),
        FieldError::with_limit(Field::Receipt, Reason::InvalidFormat, 21),
        FieldError::new(Field::Receipt, Reason::Mistyped),
    ];
    let map: serde_json::Map<String, serde_json::Value> = list
        .iter()
        .map(|e| {
            (
                format!("{}.{}", e.field.as_str(), e.reason.as_str()),
                serde_json::json!([e.message_id(), e.message_en()]),
            )
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn select<C: Choice>(name: &str, id: &str, en: &str) -> Markup {
    html! {
        p {
            label for=(name) { (two(id, en)) }
            select #(name) name=(name) {
                option value="" { "—" }
                @for c in C::ALL { option value=(c.key()) { (c.label_id()) " / " (c.label_en()) } }
            }
        }
    }
}

/// `GET /lapor`: the web report form.
pub async fn lapor(
    State(s): State<Arc<AppState>>,
    Query(q): Query<VolunteerQuery>,
    req: HeaderMap,
) -> Response {
    let code = volunteer_code(&q.v);
    let Some((p, key)) = current_profile(&s).await else {
        return frame(
            &req,
            "Berani — Lapor",
            html! { p.error role="alert" { (two("Layanan belum siap. Silakan telepon nomor darurat.", "The service is not ready. Please call an emergency number.")) } (emergency(None)) },
            &[],
            false,
        );
    };
    let g = Gazetteer::for_regency(&p.regency_code);
    let main = html! {
        h1 { (two("Formulir laporan", "Report form")) }
        p { (two(
            "Laporan dikunci di peramban ini sebelum dikirim; server tidak bisa membacanya. Tidak perlu akun. Hanya jenis kejadian, kecamatan, dan cerita (tulisan atau pesan suara) yang wajib.",
            "The report is locked in this browser before it is sent; the server cannot read it. No account is needed. Only what happened, the district, and the story (written or a voice note) are required.",
        )) }
        noscript { p.error { (two("Formulir ini perlu JavaScript untuk mengunci laporan. Bila tidak bisa, telepon nomor di bawah.", "This form needs JavaScript to lock the report. If you cannot use it, call a number below.")) } (emergency(Some(&p))) }
        @if let Some(c) = &code { p { "Kode relawan / " span lang="en" { "Volunteer code" } ": " strong #kode-relawan { (c) } } }
        form #lapor novalidate
            data-profile-key=(key)
            data-max-bytes=(p.max_attachment_bytes)
            data-volunteer=[code.as_deref()]
            data-messages=(field_messages(p.max_attachment_bytes))
        {
            p.danger {
                label { input #in_danger_now type="checkbox" name="in_danger_now"; " " (two("Ada yang dalam bahaya sekarang", "Someone is in danger now")) }
            }
            section #bahaya .card .urgent hidden {
                h2 { (two("Telepon sekarang juga:", "Call now:")) }
                (emergency(Some(&p)))
                p { (two("Anda tetap bisa mengirim laporan ini.", "You can still send this report.")) }
            }
            fieldset #f-category {
                legend { (two("Apa yang terjadi? (wajib)", "What happened? (required)")) }
                @for c in Category::ALL {
                    label.choice {
                        input type="radio" name="category" value=(c.key());
                        strong { (c.label_id()) } " / " (c.label_en())
                        span.desc { (c.description_id()) span.en lang="en" { (c.description_en()) } }
                    }
                }
            }
            (select::<VictimSex>("victim_sex", "Korban", "Victim"))
            (select::<AgeBand>("victim_age_band", "Umur korban", "Victim's age"))
            (select::<ReporterRole>("reporter_role", "Pelapor", "Reporter"))
            fieldset #f-incident_date {
                legend { (two("Waktu kejadian", "When it happened")) }
                select #date_kind name="date_kind" {
                    option value="unknown" { "Tidak tahu / Don't know" }
                    option value="exact" { "Tanggal pasti / On a known day" }
                    option value="approximate" { "Kira-kira antara / Some time between" }
                }
                input #date_from type="date" name="date_from" aria-label="Tanggal / Date";
                input #date_to type="date" name="date_to" aria-label="Sampai / Until";
            }
            fieldset #f-district {
                legend { (two("Tempat kejadian", "Where it happened")) }
                p {
                    label for="district" { (two("Kecamatan (wajib)", "District (required)")) }
                    select #district name="district" {
                        option value="" { "—" }
                        @if let Some(g) = g { @for d in g.districts() { option value=(d.code) { (d.name) } } }
                    }
                }
                p {
                    label for="village" { (two("Desa/kelurahan", "Village")) }
                    select #village name="village" {
                        option value="" { "—" }
                        @if let Some(g) = g {
                            @for d in g.districts() {
                                @for v in g.villages(&d.code).unwrap_or_default() {
                                    option value=(v.code) data-d=(d.code) { (v.name) " (" (d.name) ")" }
                                }
                            }
                        }
                    }
                }
                p {
                    label for="location_detail" { (two("Keterangan tempat (dusun, patokan)", "Place details (hamlet, landmark)")) }
                    input #location_detail type="text" name="location_detail" maxlength=(MAX_DETAIL_CHARS);
                }
            }
            (select::<PlaceType>("place_type", "Jenis tempat", "Kind of place"))
            (select::<Relationship>("perpetrator_relationship", "Hubungan pelaku dengan korban", "Perpetrator's relationship to the victim"))
            p #f-description {
                label for="description" { (two("Ceritakan apa yang terjadi", "Tell what happened")) }
                textarea #description name="description" rows="6" maxlength=(MAX_DESCRIPTION_CHARS) {}
            }
            fieldset #f-voice {
                legend { (two("Pesan suara (bisa menggantikan tulisan)", "Voice note (can replace writing)")) }
                p #voice-unsupported hidden { (two("Peramban ini tidak bisa merekam suara.", "This browser cannot record sound.")) }
                button #rekam type="button" { (two("Mulai rekam", "Start recording")) }
                button #stop type="button" disabled { (two("Berhenti", "Stop")) }
                button #hapus-suara type="button" hidden { (two("Hapus rekaman", "Delete recording")) }
                span #voice-state role="status" {}
                audio #voice-preview controls hidden {}
            }
            fieldset #f-attachment {
                legend { (two("Foto", "Photos")) }
                input #photos type="file" name="photos" accept="image/*" multiple;
                p.small { (two(
                    "Lokasi (GPS), waktu, dan jenis ponsel dihapus dari foto di peramban ini sebelum dikunci: setiap foto digambar ulang sebagai JPEG baru, jadi hanya gambarnya yang terkirim.",
                    "Location (GPS), time and phone model are removed from photos in this browser before they are locked: each photo is redrawn as a new JPEG, so only the picture is sent.",
                )) }
                ul #photo-list {}
            }
            fieldset #f-contact_number {
                legend { (two("Boleh dihubungi?", "May the team contact you?")) }
                label { input #contact_ok type="checkbox" name="contact_ok"; " " (two("Ya, saya setuju dihubungi", "Yes, I agree to be contacted")) }
                p {
                    select #contact_method name="contact_method" aria-label="Cara / Method" {
                        @for m in ContactMethod::ALL { option value=(m.key()) { (m.label_id()) " / " (m.label_en()) } }
                    }
                    input #contact_number type="tel" name="contact_number" maxlength="24" aria-label="Nomor / Number" placeholder="08…";
                }
            }
            ul #errors .error role="alert" {}
            p { button #kirim .button type="submit" { (two("Kunci dan kirim laporan", "Lock and send the report")) } }
            p #progress role="status" aria-live="polite" {}
        }
        section #tanda-terima .card hidden {
            h2 { (two("Laporan terkirim", "Report sent")) }
            p { (two("Kode laporan Anda:", "Your report code:")) }
            p.code #kode { }
            p { (berani_core::followup::RECEIPT_ADVICE_ID) }
            p.en lang="en" { (berani_core::followup::RECEIPT_ADVICE_EN) }
            p { a href="/cek" { (two("Cek laporan dengan kode", "Check my report with a receipt code")) } }
        }
    };
    frame(&req, "Berani — Lapor", main, &["lapor.js"], true)
}

/// `GET /cek`: the status and replies of a report, from its receipt code.
pub async fn cek(req: HeaderMap) -> Response {
    let main = html! {
        h1 { (two("Cek laporan dengan kode", "Check a report with its code")) }
        p { (two(
            "Ketik kode laporan yang Anda terima. Kode diolah di peramban ini dan tidak dikirim ke server; balasan petugas dibuka di sini juga.",
            "Type the report code you were given. The code is worked on in this browser and not sent to the server; the team's replies are opened here too.",
        )) }
        form #cek novalidate data-messages=(field_messages(1)) {
            label for="kode" { (two("Kode laporan", "Report code")) }
            input #kode name="kode" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="40" placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-X";
            button #periksa .button type="submit" { (two("Periksa", "Check")) }
        }
        p #cek-error .error role="alert" {}
        p #cek-progress role="status" aria-live="polite" {}
        section #hasil .card hidden {
            p { (two("Status", "Status")) ": " strong #status {} }
            h2 { (two("Pesan", "Messages")) }
            ul #pesan {}
        }
    };
    frame(&req, "Berani — Cek laporan", main, &["cek.js"], false)
}
