//! Writes the seed corpora of the core's fuzz targets from real core output, sealed and signed
//! with the fixed keys of `berani_core::fuzzing`:
//!
//!   cargo run -p berani-core --features fuzzing --example fuzz-seeds -- .
//!
//! It writes `core/fuzz/corpus/*` and, from the headers the phone's uploader sends and the
//! form bodies the desk's pages post, `server/fuzz/corpus/*`. `core/fuzz/make-seeds` runs it
//! and adds files made by the reference `age` tool. Keys, tokens and receipt codes are
//! random, so some seeds change on every run.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use berani_core::age::{self, StreamWriter};
use berani_core::followup::{AuthBody, FollowupKeys, ReceiptCode, SendBody};
use berani_core::fuzzing;
use berani_core::model::{
    AgeBand, AttachmentKind, Category, ContactMethod, PlaceType, Relationship, ReporterRole,
    VictimSex,
};
use berani_core::model::{
    AttachmentRef, Contact, IncidentDate, Location, REPORT_SCHEMA_VERSION, ReportDocument,
    ReportFields,
};
use berani_core::outbox::{PartKind, PartStatus, PendingPart};
use berani_core::profile::{self, AgencyProfile, Hotline, PROFILE_SCHEMA_VERSION};
use time::{Duration, OffsetDateTime};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    fs::create_dir_all(&d).expect("corpus folder");
    fs::write(d.join(name), bytes).expect("seed file");
}

fn stream(plain: &[u8]) -> Vec<u8> {
    let mut w = StreamWriter::new(&fuzzing::STREAM_KEY, Vec::new());
    std::io::Write::write_all(&mut w, plain).expect("memory");
    w.finish().expect("memory")
}

fn sealed(recipients: &[age::Recipient], plain: &[u8]) -> Vec<u8> {
    age::seal(recipients, plain, Vec::new()).expect("sealing").1
}

fn profile(version: u64, full: bool) -> AgencyProfile {
    let issued = fuzzing::now() - Duration::days(1);
    AgencyProfile {
        schema_version: PROFILE_SCHEMA_VERSION,
        version,
        agency_name: "Dinsos P3A Kabupaten Blora".into(),
        regency_code: "33.16".into(),
        intake_url: "https://lapor.blorakab.example".into(),
        recipients: vec![fuzzing::age_identity().to_public().to_string()],
        tls_spki_sha256: full.then(|| "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".into()),
        hotlines: vec![Hotline {
            name: "SAPA 129".into(),
            number: "129".into(),
            whatsapp: Some("08111129129".into()),
        }],
        max_attachment_bytes: 50_000_000,
        issued_at: issued,
        expires_at: issued + Duration::days(3650),
        receipt_key: full.then(|| fuzzing::profile_signing_key().public()),
        download_url: full.then(|| "https://lapor.blorakab.example/unduh".into()),
    }
}

fn document(full: bool) -> ReportDocument {
    let at = OffsetDateTime::from_unix_timestamp(1_779_000_000).expect("time");
    let fields = if full {
        ReportFields {
            category: Some(Category::Physical),
            victim_sex: Some(VictimSex::Girl),
            victim_age_band: Some(AgeBand::Age13To17),
            reporter_role: Some(ReporterRole::Neighbour),
            in_danger_now: true,
            incident_date: Some(IncidentDate::Approximate {
                from: "2026-05-01".into(),
                to: "2026-05-10".into(),
            }),
            location: Location {
                district: Some("33.16.05".into()),
                village: Some("33.16.05.2001".into()),
                detail: Some("dekat masjid, dusun Krajan".into()),
            },
            place_type: Some(PlaceType::Household),
            perpetrator_relationship: Some(Relationship::StepParent),
            description: Some("Anak tetangga sering dipukul ayah tirinya. \"Tolong\" —\n😢".into()),
            contact: Some(Contact {
                method: ContactMethod::WhatsApp,
                number: "+6281234567890".into(),
            }),
        }
    } else {
        ReportFields {
            category: Some(Category::Neglect),
            incident_date: Some(IncidentDate::Unknown),
            ..Default::default()
        }
    };
    ReportDocument {
        schema_version: REPORT_SCHEMA_VERSION,
        report_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        regency: "33.16".into(),
        profile_version: 3,
        drafted_at: at,
        submitted_at: at + Duration::minutes(12),
        fields,
        attachments: if full {
            vec![
                AttachmentRef {
                    part: 1,
                    kind: AttachmentKind::Photo,
                    mime: "image/jpeg".into(),
                    size: 48_213,
                    sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                        .into(),
                },
                AttachmentRef {
                    part: 2,
                    kind: AttachmentKind::Audio,
                    mime: "audio/ogg".into(),
                    size: 120_000,
                    sha256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
                        .into(),
                },
            ]
        } else {
            Vec::new()
        },
        reporter_recipient: full.then(|| age::Identity::generate().to_public().to_string()),
    }
}

fn pending(idx: u32, count: u32, body: &[u8]) -> PendingPart {
    PendingPart {
        report_id: "0f1e2d3c4b5a69788796a5b4c3d2e1f0".into(),
        part_count: count,
        part: PartStatus {
            idx,
            kind: if idx == 0 {
                PartKind::Report
            } else {
                PartKind::Attachment
            },
            size: body.len() as u64,
            sha256: berani_core::crypto::hex(&berani_core::crypto::sha256(body)),
            sent: 0,
            done: false,
            upload_url: None,
        },
    }
}

/// A form body or query string, encoded as a browser encodes a form.
fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut u = reqwest::Url::parse("http://desk.invalid/").expect("url");
    u.query_pairs_mut().extend_pairs(pairs);
    u.query().unwrap_or_default().as_bytes().to_vec()
}

fn server_seeds(dir: &Path) {
    let token = berani_core::protocol::new_token();
    let keys = FollowupKeys::derive(&ReceiptCode::generate()).expect("derivation");
    let body = b"age-encryption.org/v1\n-> X25519 ...";
    let m0 = fuzzing::part_metadata(
        &pending(0, 3, body),
        &token,
        Some((keys.lookup.as_str(), keys.auth.as_str())),
    )
    .expect("fits");
    let m2 = fuzzing::part_metadata(&pending(2, 3, body), &token, None).expect("fits");
    write(dir, "tus_metadata", "part0-followup", m0.as_bytes());
    write(dir, "tus_metadata", "part2", m2.as_bytes());
    // tus_headers: the upload id line, then the headers of a creation with a first chunk,
    // a PATCH, and a HEAD, as the phone's uploader sends them.
    let id = "5d41402abc4b2a76b9719d911017c592";
    let create = format!(
        "\nTus-Resumable: 1.0.0\nUpload-Length: 48213\nUpload-Metadata: {m0}\n\
         Content-Type: application/offset+octet-stream\nContent-Length: {}\n\
         Upload-Checksum: {}\n",
        body.len(),
        fuzzing::checksum(body)
    );
    write(dir, "tus_headers", "create-with-upload", create.as_bytes());
    let patch = format!(
        "{id}\nTus-Resumable: 1.0.0\nUpload-Offset: 32768\n\
         Content-Type: application/offset+octet-stream\nContent-Length: {}\n\
         Upload-Checksum: {}\n",
        body.len(),
        fuzzing::checksum(body)
    );
    write(dir, "tus_headers", "patch", patch.as_bytes());
    write(
        dir,
        "tus_headers",
        "head",
        format!("{id}\nTus-Resumable: 1.0.0\n").as_bytes(),
    );
    write(
        dir,
        "tus_headers",
        "create-part2",
        format!("\nTus-Resumable: 1.0.0\nUpload-Length: 120000\nUpload-Metadata: {m2}\n")
            .as_bytes(),
    );
    // desk_forms: what the desk's pages post and the filters they link.
    let csrf = ("csrf", "q3V0c2lkZS10aGUtZGVzaw");
    let seeds: [(&str, Vec<u8>); 12] = [
        (
            "login",
            form(&[
                csrf,
                ("username", "koordinator"),
                ("password", "kalimat rahasia yang panjang"),
                ("code", "123456"),
            ]),
        ),
        (
            "password",
            form(&[
                csrf,
                ("current", "kata sandi lama sekali"),
                ("new", "Kalimat baru yang cukup panjang"),
                ("again", "Kalimat baru yang cukup panjang"),
            ]),
        ),
        (
            "totp",
            form(&[csrf, ("secret", "JBSWY3DPEHPK3PXP"), ("code", "492039")]),
        ),
        (
            "user-create",
            form(&[
                csrf,
                ("username", "sri.wahyuni"),
                ("display_name", "Sri Wahyuni"),
                ("office", "UPTD PPA Blora"),
                ("email", "sri@dinsos.blorakab.go.id"),
                ("role", "caseworker"),
            ]),
        ),
        (
            "user-update",
            form(&[
                csrf,
                ("display_name", "Budi Santoso"),
                ("office", "Dinsos P3A"),
                ("email", ""),
                ("role", "coordinator"),
                ("on_duty", "1"),
            ]),
        ),
        (
            "stage",
            form(&[
                csrf,
                ("to", "identified"),
                ("risk", "high"),
                ("consent", "1"),
                ("services", "health"),
                ("services", "legal_aid"),
                ("reason", ""),
                ("note", "Sudah ditelepon, korban aman di rumah nenek."),
            ]),
        ),
        ("assign", form(&[csrf, ("assignee", "sri.wahyuni")])),
        (
            "note",
            form(&[
                csrf,
                ("note", "Kunjungan rumah Senin pagi."),
                ("office", "Puskesmas Cepu"),
            ]),
        ),
        (
            "reply",
            form(&[
                csrf,
                (
                    "message",
                    "Terima kasih. Petugas kami akan menghubungi Anda besok.",
                ),
            ]),
        ),
        (
            "inbox",
            form(&[
                ("status", "all"),
                ("category", "physical"),
                ("district", "33.16.05"),
                ("assignee", "sri.wahyuni"),
                ("overdue", "1"),
                ("done", "assign"),
            ]),
        ),
        ("stats", form(&[("year", "2026"), ("month", "5")])),
        (
            "lang",
            form(&[
                ("to", "en"),
                (
                    "back",
                    "/desk/cases/0f1e2d3c4b5a69788796a5b4c3d2e1f0?done=stage",
                ),
            ]),
        ),
    ];
    for (name, bytes) in seeds {
        write(dir, "desk_forms", name, &bytes);
    }
    write(
        dir,
        "desk_forms",
        "audit",
        &form(&[
            ("actor", "admin"),
            ("action", "login"),
            ("subject", ""),
            ("before", "1780000000"),
        ]),
    );
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: fuzz-seeds REPO_ROOT"),
    );
    let dir = root.join("core/fuzz/corpus");
    server_seeds(&root.join("server/fuzz/corpus"));
    let me = fuzzing::age_identity().to_public();
    let other = age::Identity::generate().to_public();

    // age_stream: STREAM payloads: empty, short, one full chunk plus a short final one.
    write(&dir, "age_stream", "empty", &stream(b""));
    write(
        &dir,
        "age_stream",
        "short",
        &stream("isi laporan".as_bytes()),
    );
    let mut long = vec![0u8; age::stream::CHUNK + 5];
    long.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
    write(&dir, "age_stream", "chunk-and-5", &stream(&long));

    // age_file: whole age files sealed by the core to the fuzzing identity.
    write(&dir, "age_file", "core-empty", &sealed(&[me.clone()], b""));
    let doc = document(true).to_json();
    write(
        &dir,
        "age_file",
        "core-report",
        &sealed(&[me.clone()], &doc),
    );
    write(
        &dir,
        "age_file",
        "core-two-recipients",
        &sealed(&[other, me.clone()], b"halo"),
    );
    let full_chunk = vec![b'a'; age::stream::CHUNK];
    write(
        &dir,
        "age_file",
        "core-one-full-chunk",
        &sealed(&[me], &full_chunk),
    );

    // profile: signed profiles, their bare payloads, and a signed delivery receipt's shape.
    let key = fuzzing::profile_signing_key();
    for (name, p) in [("full", profile(7, true)), ("minimal", profile(1, false))] {
        let signed = profile::sign(&p, &key);
        profile::verify(&signed, &key.public(), fuzzing::now()).expect("seed profile verifies");
        write(&dir, "profile", &format!("signed-{name}"), &signed);
        write(
            &dir,
            "profile",
            &format!("payload-{name}"),
            &serde_json::to_vec(&p).expect("json"),
        );
    }

    // report_document: part 0 as the core writes it.
    for (name, full) in [("full", true), ("minimal", false)] {
        let json = document(full).to_json();
        ReportDocument::from_json(&json).expect("seed document parses");
        write(&dir, "report_document", name, &json);
    }

    // receipt_code: codes as shown, as typed in lower case with spaces, and the JSON bodies
    // of the follow-up requests.
    let code = ReceiptCode::generate();
    let shown = code.display();
    write(&dir, "receipt_code", "shown", shown.as_bytes());
    let typed = shown.to_lowercase().replace('-', " ");
    write(&dir, "receipt_code", "typed", typed.as_bytes());
    let keys = FollowupKeys::derive(&code).expect("derivation");
    let auth = AuthBody {
        lookup: keys.lookup.clone(),
        auth: keys.auth.to_string(),
    };
    write(
        &dir,
        "receipt_code",
        "auth-body",
        &serde_json::to_vec(&auth).expect("json"),
    );
    let send = SendBody {
        lookup: keys.lookup.clone(),
        auth: keys.auth.to_string(),
        message_id: "00112233445566778899aabbccddeeff".into(),
        sealed: base64::engine::general_purpose::STANDARD.encode(sealed(
            &[fuzzing::age_identity().to_public()],
            "Terima kasih, saya aman sekarang.".as_bytes(),
        )),
    };
    write(
        &dir,
        "receipt_code",
        "send-body",
        &serde_json::to_vec(&send).expect("json"),
    );
    println!("{}", fuzzing::age_identity().to_public());
}
