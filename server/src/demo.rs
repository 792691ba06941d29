//! `berani-server demo --data DIR`: a new data folder with a living desk of synthetic cases.
//!
//! Nothing here writes report content into the server by a side door. The demo starts the
//! real server in-process on a free loopback port, and a handful of reporter homes (the real
//! `berani_core::Reporter`, as on a phone) import its signed profile, write drafts field by
//! field, attach a generated photo or voice note, seal, and deliver over tus with the real
//! uploader. The cases are then worked through the desk's own HTTP forms, logged in as the
//! admin (the forced first password is changed to a new random one), with the CSRF token
//! each form carries. Only workflow times of these synthetic cases are moved back in the
//! database afterwards (`received_at`, `due_at`, `assessed_at`, `closed_at` and the times of
//! their steps), so that the desk shows months of history and every SLA outcome; every case
//! is then opened once so that the statistics counts follow. What the reporter sealed is not
//! changed, so a backdated case shows the time it was drafted (today) after the time it was
//! received; the newest case is not backdated.
//!
//! Every report text starts with "CONTOH SINTETIS" and every case has `synthetic = 1`. The
//! choices are drawn from a fixed seed, so two runs make the same desk (ids and keys differ).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use berani_core::Reporter;
use berani_core::gazetteer::Gazetteer;
use berani_core::model::{
    AgeBand, Category, Contact, ContactMethod, FieldValue, IncidentDate, PlaceType, Relationship,
    ReporterRole, VictimSex,
};
use berani_core::profile::ProfileKey;
use berani_core::store::KeyFile;
use berani_core::upload::{self, NoListener, StopReason, SyncOptions};
use reqwest::StatusCode;
use rusqlite::params;
use zeroize::Zeroizing;

use crate::config::ServeConfig;
use crate::desk::cases::{SLA_SECS, Stage};
use crate::desk::session::{COOKIE, LOGIN_COOKIE};
use crate::error::{Result, ServerError};
use crate::setup::ADMIN;
use crate::{app, db, keys, profile};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// Reporter homes ("phones") the reports are spread over.
const PHONES: usize = 5;

fn demo_err(what: impl std::fmt::Display) -> ServerError {
    ServerError::Config(format!("demo: {what}"))
}

/// A small deterministic generator (xorshift64*), so that every run makes the same desk.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }
}

/// Where one synthetic case ends up.
struct Plan {
    /// How long before now the server "received" it.
    age: i64,
    /// The stage it is worked to.
    stage: Stage,
    /// Hours from receipt to the initial assessment (for stages from `assessed` on).
    assess_after_h: i64,
    /// Someone is in danger now.
    danger: bool,
    /// Attach a generated photo.
    photo: bool,
    /// Attach a generated voice note.
    voice: bool,
    /// Assign it (unassigned cases wait in the inbox).
    assign: bool,
    /// Termination reason.
    reason: &'static str,
}

#[allow(clippy::too_many_arguments)]
const fn plan(
    age: i64,
    stage: Stage,
    assess_after_h: i64,
    danger: bool,
    photo: bool,
    voice: bool,
    assign: bool,
    reason: &'static str,
) -> Plan {
    Plan {
        age,
        stage,
        assess_after_h,
        danger,
        photo,
        voice,
        assign,
        reason,
    }
}

/// 25 cases: fresh ones with their SLA clock running (some overdue, one close), cases at
/// every stage, assessments on time and late, and terminations over six months.
fn plans() -> Vec<Plan> {
    use Stage::*;
    vec![
        plan(0, Received, 0, true, true, false, false, ""),
        plan(2 * HOUR, Received, 0, false, false, true, false, ""),
        plan(5 * HOUR, Received, 0, false, true, false, false, ""),
        plan(21 * HOUR, Received, 0, false, false, false, true, ""),
        plan(30 * HOUR, Received, 0, false, false, false, true, ""),
        plan(50 * HOUR, Received, 0, true, false, false, true, ""),
        plan(3 * HOUR, Identified, 0, true, true, false, true, ""),
        plan(10 * HOUR, Identified, 0, false, false, false, true, ""),
        plan(28 * HOUR, Identified, 0, false, true, false, true, ""),
        plan(3 * DAY, Assessed, 6, false, false, true, true, ""),
        plan(9 * DAY, Assessed, 20, false, true, false, true, ""),
        plan(14 * DAY, Assessed, 40, false, false, false, true, ""),
        plan(20 * DAY, Planned, 10, false, false, false, true, ""),
        plan(35 * DAY, Planned, 30, false, true, false, true, ""),
        plan(50 * DAY, Planned, 4, false, false, false, true, ""),
        plan(40 * DAY, Services, 16, false, false, true, true, ""),
        plan(60 * DAY, Services, 22, false, false, false, true, ""),
        plan(75 * DAY, Services, 52, false, false, false, true, ""),
        plan(90 * DAY, Monitoring, 8, false, false, false, true, ""),
        plan(110 * DAY, Monitoring, 18, false, false, false, true, ""),
        plan(
            120 * DAY,
            Terminated,
            8,
            false,
            false,
            false,
            true,
            "reintegrated",
        ),
        plan(
            140 * DAY,
            Terminated,
            30,
            false,
            false,
            false,
            true,
            "referred",
        ),
        plan(
            160 * DAY,
            Terminated,
            12,
            false,
            false,
            false,
            true,
            "withdrawn",
        ),
        plan(
            175 * DAY,
            Terminated,
            20,
            false,
            false,
            false,
            true,
            "unreachable",
        ),
        plan(
            200 * DAY,
            Terminated,
            26,
            false,
            false,
            false,
            true,
            "reintegrated",
        ),
    ]
}

/// What the reporter wrote, by category (always marked synthetic).
fn story(category: Category, rng: &mut Rng) -> String {
    let lines: &[&str] = match category {
        Category::Physical => &[
            "Tetangga sering mendengar teriakan dan melihat memar di lengan korban.",
            "Korban dipukul dengan sapu oleh anggota keluarga setelah bertengkar soal uang.",
            "Anak datang ke sekolah dengan luka di wajah dan takut pulang.",
        ],
        Category::Psychological => &[
            "Korban terus dihina dan diancam akan diusir dari rumah.",
            "Korban dilarang keluar rumah dan ponselnya diperiksa setiap hari.",
        ],
        Category::Sexual => &[
            "Anak bercerita kepada guru bahwa ia disentuh secara tidak pantas.",
            "Korban menerima pesan dan foto tidak senonoh berulang kali lewat ponsel.",
        ],
        Category::Neglect => &[
            "Dua anak kecil sering ditinggal sendirian tanpa makanan selama berhari-hari.",
            "Lansia tinggal sendiri dan tidak dirawat oleh keluarganya.",
        ],
        Category::Exploitation => &[
            "Anak disuruh mengemis di perempatan sampai malam.",
            "Remaja dipekerjakan di penggilingan padi tanpa upah dan tidak sekolah.",
        ],
        Category::Trafficking => &[
            "Korban dijanjikan pekerjaan di kota, lalu dokumennya ditahan dan ia tidak boleh pulang.",
        ],
        Category::Other => {
            &["Pelapor khawatir dengan keadaan korban dan meminta kunjungan petugas."]
        }
    };
    format!(
        "CONTOH SINTETIS — bukan laporan sungguhan. {}",
        rng.pick(lines)
    )
}

/// A small PNG (a sky, a field and a house shape), built here and compressed with flate2.
pub fn demo_png(seed: u64, width: u32, height: u32) -> Vec<u8> {
    use flate2::Compression;
    use flate2::write::ZlibEncoder;
    let hue = (seed % 5) as u8;
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let horizon = height * 3 / 5;
            let (cx, cy) = (width / 2, horizon);
            let in_house =
                x + 40 > cx && x < cx + 40 && y + 40 > cy && y <= cy + 10 && y >= cy - 40;
            let in_roof = y + 60 > cy
                && y + 40 <= cy
                && (x as i64 - cx as i64).abs() < (y as i64 - (cy as i64 - 60)) * 2;
            let px = if in_house {
                [180, 120, 80]
            } else if in_roof {
                [150, 50, 40]
            } else if y < horizon {
                let t = (y * 120 / horizon) as u8;
                [90 + t / 2, 150 + t / 3, 230 - hue * 10]
            } else {
                let t = ((x + y) % 16) as u8;
                [60 + hue * 8, 140 + t, 60]
            };
            raw.extend_from_slice(&px);
        }
    }
    let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
    z.write_all(&raw).expect("in-memory write");
    let idat = z.finish().expect("in-memory write");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &idat), (b"IEND", &[])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    out
}

/// Two seconds of a soft two-tone hum as an 8 kHz mono WAV, standing in for a voice note.
pub fn demo_wav(seed: u64) -> Vec<u8> {
    let rate = 8000u32;
    let f = 180.0 + (seed % 7) as f32 * 20.0;
    let samples: Vec<u8> = (0..rate * 2)
        .flat_map(|i| {
            let t = i as f32 / rate as f32;
            let v = ((t * f * std::f32::consts::TAU).sin() * 0.6
                + (t * f * 1.5 * std::f32::consts::TAU).sin() * 0.3)
                * 6000.0;
            (v as i16).to_le_bytes()
        })
        .collect();
    let mut out = Vec::with_capacity(44 + samples.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

/// A temporary folder for the demo's reporter homes, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes one synthetic report on `r` following `p`; returns the queued report's id.
fn write_report(
    r: &Reporter,
    p: &Plan,
    i: usize,
    rng: &mut Rng,
    g: &Gazetteer,
    files: &Path,
) -> Result<String> {
    let core = |e: berani_core::CoreError| demo_err(format!("reporter core: {e}"));
    let categories = [
        Category::Physical,
        Category::Physical,
        Category::Psychological,
        Category::Sexual,
        Category::Neglect,
        Category::Physical,
        Category::Exploitation,
        Category::Psychological,
        Category::Trafficking,
        Category::Other,
    ];
    let category = *rng.pick(&categories);
    let (victim, ages): (VictimSex, &[AgeBand]) = match rng.below(4) {
        0 | 1 => (
            VictimSex::Woman,
            &[
                AgeBand::Age18To24,
                AgeBand::Age25To44,
                AgeBand::Age45To59,
                AgeBand::Age60Plus,
            ],
        ),
        2 => (
            VictimSex::Girl,
            &[AgeBand::Age0To5, AgeBand::Age6To12, AgeBand::Age13To17],
        ),
        _ => (
            VictimSex::Boy,
            &[AgeBand::Age0To5, AgeBand::Age6To12, AgeBand::Age13To17],
        ),
    };
    let age = *rng.pick(ages);
    let district = rng.pick(g.districts()).clone();
    let village = g
        .villages(&district.code)
        .filter(|v| !v.is_empty())
        .map(|v| rng.pick(v).code.clone());
    let place = *rng.pick(&[
        PlaceType::Household,
        PlaceType::Household,
        PlaceType::School,
        PlaceType::PublicPlace,
        PlaceType::Online,
    ]);
    let relationship = *rng.pick(&[
        Relationship::Parent,
        Relationship::Spouse,
        Relationship::StepParent,
        Relationship::Relative,
        Relationship::Neighbour,
        Relationship::Unknown,
    ]);
    let role = *rng.pick(&[
        ReporterRole::Victim,
        ReporterRole::Family,
        ReporterRole::Neighbour,
        ReporterRole::Volunteer,
    ]);
    // The incident happened a few days before the (backdated) receipt.
    let incident = time::OffsetDateTime::now_utc()
        - time::Duration::seconds(p.age + (1 + rng.below(6) as i64) * DAY);
    let d = r.create_draft().map_err(core)?;
    let mut fields = vec![
        FieldValue::Category(Some(category)),
        FieldValue::VictimSex(Some(victim)),
        FieldValue::VictimAgeBand(Some(age)),
        FieldValue::ReporterRole(Some(role)),
        FieldValue::InDangerNow(p.danger),
        FieldValue::IncidentDate(Some(IncidentDate::Exact {
            date: format!(
                "{:04}-{:02}-{:02}",
                incident.year(),
                u8::from(incident.month()),
                incident.day()
            ),
        })),
        FieldValue::District(Some(district.code.clone())),
    ];
    if let Some(v) = village {
        fields.push(FieldValue::Village(Some(v)));
    }
    fields.extend([
        FieldValue::LocationDetail(Some("CONTOH SINTETIS: dekat balai desa".into())),
        FieldValue::PlaceType(Some(place)),
        FieldValue::PerpetratorRelationship(Some(relationship)),
        FieldValue::Description(Some(story(category, rng))),
    ]);
    if i.is_multiple_of(3) {
        fields.push(FieldValue::Contact(Some(Contact {
            method: ContactMethod::WhatsApp,
            number: format!("0812000{:05}", 10_000 + i * 137),
        })));
    }
    for f in fields {
        r.update_draft(&d.id, f).map_err(core)?;
    }
    if p.photo {
        let path = files.join(format!("foto-{i}.png"));
        std::fs::write(&path, demo_png(i as u64, 320, 240))?;
        r.attach_file(&d.id, &path, false, false).map_err(core)?;
    }
    if p.voice {
        let path = files.join(format!("suara-{i}.wav"));
        std::fs::write(&path, demo_wav(i as u64))?;
        r.attach_file(&d.id, &path, true, false).map_err(core)?;
    }
    Ok(r.submit(&d.id).map_err(core)?.id)
}

/// A desk client: reqwest without redirects, with the two desk cookies kept by hand.
struct Desk {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
}

impl Desk {
    fn new(base: &str) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(demo_err)?;
        Ok(Self {
            http,
            base: base.to_string(),
            cookies: BTreeMap::new(),
        })
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Result<(StatusCode, String)> {
        let resp = req
            .header(reqwest::header::COOKIE, self.cookie_header())
            .send()
            .await
            .map_err(demo_err)?;
        for v in resp.headers().get_all(reqwest::header::SET_COOKIE) {
            if let Ok(c) = cookie::Cookie::parse(v.to_str().unwrap_or_default().to_string()) {
                if c.value().is_empty() {
                    self.cookies.remove(c.name());
                } else {
                    self.cookies
                        .insert(c.name().to_string(), c.value().to_string());
                }
            }
        }
        let status = resp.status();
        Ok((status, resp.text().await.map_err(demo_err)?))
    }

    async fn get(&mut self, path: &str) -> Result<String> {
        let req = self.http.get(format!("{}{path}", self.base));
        let (status, body) = self.send(req).await?;
        if status != StatusCode::OK {
            return Err(demo_err(format!("GET {path} answered {status}")));
        }
        Ok(body)
    }

    /// POSTs a form that must answer with a redirect (the desk's "done").
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<()> {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        let (status, _) = self.send(req).await?;
        if !status.is_redirection() {
            return Err(demo_err(format!("POST {path} answered {status}")));
        }
        Ok(())
    }
}

/// The CSRF token of the first form on a page.
fn csrf_of(page: &str) -> Result<String> {
    let at = page
        .find("name=\"csrf\" value=\"")
        .ok_or_else(|| demo_err("a desk page carried no CSRF token"))?;
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    Ok(rest[..rest.find('"').unwrap_or(0)].to_string())
}

/// Creates the demo in `data` (which must not exist, or be empty) and prints how to use it.
pub fn run(data: &Path, out: &mut impl Write) -> Result<()> {
    if data.exists()
        && std::fs::read_dir(data)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(demo_err(format!(
            "{} already exists; the demo needs a new folder",
            data.display()
        )));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let accounts = rt.block_on(seed(data))?;
    writeln!(out, "demo desk ready in {}", data.display())?;
    writeln!(
        out,
        "{} synthetic cases (CONTOH SINTETIS), worked through every stage",
        plans().len()
    )?;
    writeln!(
        out,
        "serve it:  berani-server serve --data {}",
        data.display()
    )?;
    writeln!(out, "then open: http://127.0.0.1:8080/desk")?;
    for (name, role, pw) in accounts.iter().skip(1) {
        writeln!(out, "{role} {name}, password: {}", pw.as_str())?;
    }
    if accounts.len() == 1 {
        writeln!(
            out,
            "every case is assigned to the admin (this desk has no users page to make a team)"
        )?;
    }
    writeln!(out, "admin user: {ADMIN}")?;
    writeln!(out, "admin password: {}", accounts[0].2.as_str())?;
    Ok(())
}

async fn seed(data: &Path) -> Result<Vec<(String, &'static str, Zeroizing<String>)>> {
    let mut cfg = ServeConfig::new(data);
    cfg.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let running = app::start(cfg).await?;
    let result = seed_running(&running).await;
    running.shutdown().await;
    result
}

async fn seed_running(
    running: &app::Running,
) -> Result<Vec<(String, &'static str, Zeroizing<String>)>> {
    let first_password = running
        .admin_password
        .clone()
        .ok_or_else(|| demo_err("the data folder was set up before"))?;
    let state = running.state().clone();
    let base = running.public_url.clone();
    let plans = plans();
    let mut rng = Rng(0x6265_7261_6e69_2121);

    // ----- the reporters: real reporter homes, sealing and delivering over tus -----------
    let stored = state.db.read(profile::load)?;
    let trust: ProfileKey = stored.signing_key;
    let regency = stored.profile()?.regency_code;
    let g = Gazetteer::for_regency(&regency).ok_or_else(|| demo_err("no map data"))?;
    let scratch = Scratch(
        std::env::temp_dir().join(format!("berani-demo-{}", berani_core::crypto::random_id())),
    );
    let files = scratch.0.join("files");
    std::fs::create_dir_all(&files)?;
    eprintln!("writing and sending {} synthetic reports…", plans.len());
    let mut phones = Vec::new();
    for n in 0..PHONES {
        let home = scratch.0.join(format!("phone-{n}"));
        std::fs::create_dir_all(&home)?;
        let r = Reporter::open(&home, &KeyFile::new(home.join("device.key")))
            .map_err(|e| demo_err(format!("reporter core: {e}")))?;
        r.import_profile(&stored.signed, Some(trust))
            .map_err(|e| demo_err(format!("profile import: {e}")))?;
        phones.push(r);
    }
    let mut ids = Vec::new();
    for (i, p) in plans.iter().enumerate() {
        ids.push(write_report(
            &phones[i % PHONES],
            p,
            i,
            &mut rng,
            g,
            &files,
        )?);
    }
    for r in &phones {
        let report = upload::sync(r, &NoListener, SyncOptions::new(Duration::from_secs(120)))
            .await
            .map_err(|e| demo_err(format!("sync: {e}")))?;
        if report.stopped != StopReason::Done || !report.failed.is_empty() {
            return Err(demo_err(format!(
                "delivery stopped: {} ({})",
                report.stopped.message_en(),
                report.last_error.unwrap_or_default()
            )));
        }
    }
    drop(phones);
    drop(scratch);

    // ----- synthetic marks and receipt times, before anyone works the cases ---------------
    let now = db::now();
    {
        let (ids, ages): (Vec<String>, Vec<i64>) =
            (ids.clone(), plans.iter().map(|p| p.age).collect());
        state.db.write(|tx| {
            for (id, age) in ids.iter().zip(ages) {
                // A case of age 0 keeps the time it really arrived.
                let received = now - age;
                let n = tx.execute(
                    "UPDATE cases SET synthetic = 1,
                        received_at = CASE WHEN ?4 THEN received_at ELSE ?2 END,
                        due_at = CASE WHEN ?4 THEN due_at ELSE ?3 END,
                        updated_at = CASE WHEN ?4 THEN updated_at ELSE ?2 END
                     WHERE report = ?1",
                    params![id, received, received + SLA_SECS, age == 0],
                )?;
                if n != 1 {
                    return Err(demo_err("a delivered report has no case"));
                }
            }
            Ok(())
        })?;
    }

    // ----- the team: log in through the desk, change the first password, work the cases ---
    eprintln!("working the cases through the desk…");
    let password = Zeroizing::new(format!("demo-{}", keys::generate_password().to_lowercase()));
    let mut admin = Person::log_in(&base, ADMIN, &first_password, Some(&password)).await?;
    let team = make_team(&mut admin, &base).await?;
    let (mut coordinator, mut workers) = match team {
        Some((c, w)) => (Some(c), w),
        None => (None, Vec::new()),
    };

    for (i, (id, p)) in ids.iter().zip(&plans).enumerate() {
        // The coordinator assigns; the assignee works the case. Without a team, the admin
        // does both.
        let worker = (!workers.is_empty()).then(|| i % workers.len());
        if p.assign {
            let to = worker.map_or(ADMIN.to_string(), |w| workers[w].name.clone());
            let by = coordinator.as_mut().unwrap_or(&mut admin);
            by.post(&format!("/desk/cases/{id}/assign"), &[("assignee", &to)])
                .await?;
        }
        let person = match worker {
            Some(w) if p.assign => &mut workers[w],
            _ => &mut admin,
        };
        work_case(person, id, p, i).await?;
    }

    // ----- history: move the synthetic workflow times back, so the desk has months of it ---
    state.db.write(|tx| {
        for (id, p) in ids.iter().zip(&plans).filter(|(_, p)| p.age > 0) {
            retime(tx, id, p, now)?;
        }
        Ok::<_, ServerError>(())
    })?;

    // ----- open every case once: the statistics counts follow the case as it is now -------
    for id in &ids {
        admin.desk.get(&format!("/desk/cases/{id}")).await?;
    }
    let mut accounts = vec![(ADMIN.to_string(), "admin", password)];
    for p in coordinator.into_iter().chain(workers) {
        accounts.push((p.name, p.role, p.password));
    }
    Ok(accounts)
}

/// A desk user logged in through the login form, with the session's CSRF token.
struct Person {
    name: String,
    role: &'static str,
    password: Zeroizing<String>,
    desk: Desk,
    csrf: String,
}

impl Person {
    /// Logs in; with `new_password`, replaces the one-time password on the forced form.
    async fn log_in(
        base: &str,
        name: &str,
        password: &str,
        new_password: Option<&str>,
    ) -> Result<Person> {
        let mut desk = Desk::new(base)?;
        let login = desk.get("/desk/login").await?;
        desk.post(
            "/desk/login",
            &[
                ("csrf", &csrf_of(&login)?),
                ("username", name),
                ("password", password),
            ],
        )
        .await?;
        if !desk.cookies.contains_key(COOKIE) {
            return Err(demo_err(format!("the login of {name} was refused")));
        }
        desk.cookies.remove(LOGIN_COOKIE);
        let form = desk.get("/desk/account/password").await?;
        let csrf = csrf_of(&form)?;
        let kept = match new_password {
            Some(new) => {
                desk.post(
                    "/desk/account/password",
                    &[
                        ("csrf", &csrf),
                        ("current", password),
                        ("new", new),
                        ("again", new),
                    ],
                )
                .await?;
                new
            }
            None => password,
        };
        Ok(Person {
            name: name.to_string(),
            role: "",
            password: Zeroizing::new(kept.to_string()),
            desk,
            csrf,
        })
    }

    /// POSTs a form with this session's CSRF token.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Result<()> {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(form);
        self.desk.post(path, &all).await
    }
}

/// The demo team, when the desk has its users page: a coordinator and two caseworkers,
/// created by the admin through the page and logged in with their own new passwords.
async fn make_team(admin: &mut Person, base: &str) -> Result<Option<(Person, Vec<Person>)>> {
    let req = admin.desk.http.get(format!("{base}/desk/users"));
    let (status, _) = admin.desk.send(req).await?;
    if status == StatusCode::NOT_FOUND {
        eprintln!("this desk has no users page yet: every case is assigned to the admin");
        return Ok(None);
    }
    let people = [
        ("kartini", "coordinator", "Kartini (contoh)"),
        ("sari", "caseworker", "Sari (contoh)"),
        ("budi", "caseworker", "Budi (contoh)"),
    ];
    let mut made = Vec::new();
    for (name, role, display) in people {
        let form = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", admin.csrf.as_str()),
                ("username", name),
                ("display_name", display),
                ("office", "UPTD PPA Kabupaten Blora (contoh)"),
                ("email", ""),
                ("role", role),
            ])
            .finish();
        let req = admin
            .desk
            .http
            .post(format!("{base}/desk/users"))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form);
        let (status, page) = admin.desk.send(req).await?;
        let one_time = page
            .split("id=\"one-time-password\">")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .filter(|_| status == StatusCode::OK)
            .ok_or_else(|| {
                demo_err(format!(
                    "the users page did not create {name} (it answered {status})"
                ))
            })?
            .to_string();
        let own = Zeroizing::new(format!("demo-{}", keys::generate_password().to_lowercase()));
        let mut p = Person::log_in(base, name, &one_time, Some(&own)).await?;
        p.role = role;
        made.push(p);
    }
    let coordinator = made.remove(0);
    Ok(Some((coordinator, made)))
}

/// Moves one case through the stages of its plan, through the stage form.
async fn work_case(person: &mut Person, id: &str, p: &Plan, i: usize) -> Result<()> {
    let services = [
        "psychosocial",
        "health",
        "legal_aid",
        "shelter",
        "law_enforcement",
    ];
    let mut at = Stage::Received;
    while at < p.stage {
        let to = at.next().expect("a later stage");
        let mut form: Vec<(&str, &str)> = vec![("to", to.key())];
        let note = match to {
            Stage::Identified => {
                let risk = match (p.danger, i % 2) {
                    (true, _) => "high",
                    (false, 0) => "medium",
                    _ => "low",
                };
                form.push(("risk", risk));
                "CONTOH SINTETIS: korban dihubungi lewat telepon, identitas dan situasi dicatat."
            }
            Stage::Assessed => {
                "CONTOH SINTETIS: asesmen bio-psiko-sosial oleh pendamping dan psikolog."
            }
            Stage::Planned => {
                form.push(("consent", "1"));
                "CONTOH SINTETIS: rencana intervensi disepakati bersama korban dan wali."
            }
            Stage::Services => {
                form.push(("services", services[i % services.len()]));
                form.push(("services", services[(i + 2) % services.len()]));
                "CONTOH SINTETIS: layanan berjalan sesuai rencana."
            }
            Stage::Monitoring => "CONTOH SINTETIS: kunjungan rumah bulanan.",
            Stage::Terminated => {
                form.push(("reason", p.reason));
                "CONTOH SINTETIS: kasus ditutup."
            }
            Stage::Received => unreachable!("never a target"),
        };
        form.push(("note", note));
        person
            .post(&format!("/desk/cases/{id}/stage"), &form)
            .await?;
        at = to;
    }
    if p.stage == Stage::Services && i.is_multiple_of(2) {
        person
            .post(
                &format!("/desk/cases/{id}/refer"),
                &[
                    ("office", "UPTD PPA Provinsi Jawa Tengah"),
                    ("note", "CONTOH SINTETIS: rujukan untuk bantuan hukum."),
                ],
            )
            .await?;
    }
    Ok(())
}

/// Spreads a synthetic case's steps between its receipt and now: steps before the initial
/// assessment within the assessment delay, the rest after it.
fn retime(tx: &rusqlite::Transaction, id: &str, p: &Plan, now: i64) -> Result<()> {
    let received = now - p.age;
    let assessed = (p.stage >= Stage::Assessed).then(|| received + p.assess_after_h * HOUR);
    let end = match p.stage {
        Stage::Terminated => received + (now - received) * 2 / 3,
        _ => now - HOUR,
    };
    let events: Vec<(i64, Option<String>)> = {
        let mut st =
            tx.prepare("SELECT id, stage FROM case_events WHERE report = ?1 ORDER BY id")?;
        st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let split = events
        .iter()
        .position(|(_, s)| s.as_deref() == Some(Stage::Assessed.key()))
        .unwrap_or(events.len());
    let until = assessed.unwrap_or(now - 10 * 60).min(now - 10 * 60);
    let mut last = received;
    for (k, (event, _)) in events.iter().enumerate() {
        let at = if k < split {
            received + (until - received) * (k as i64 + 1) / (split as i64 + 1)
        } else if k == split {
            assessed.unwrap_or(until)
        } else {
            let after = events.len() - split - 1;
            let from = assessed.unwrap_or(until);
            from + (end - from) * (k - split) as i64 / after as i64
        };
        tx.execute(
            "UPDATE case_events SET at = ?2 WHERE id = ?1",
            params![event, at],
        )?;
        last = last.max(at);
    }
    tx.execute(
        "UPDATE cases SET received_at = ?2, due_at = ?3, assessed_at = ?4,
            closed_at = CASE WHEN stage = 'terminated' THEN ?5 ELSE NULL END, updated_at = ?6
         WHERE report = ?1",
        params![id, received, received + SLA_SECS, assessed, end, last],
    )?;
    Ok(())
}
