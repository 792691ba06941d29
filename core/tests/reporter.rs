//! The reporter core end to end on a real SQLite file: drafting, attaching, sealing (also to a
//! profile with several recipients, opened with the `age` crate and the reference `age` tool),
//! queueing, the outbox's transitions and order, and the refusal of bad input.

mod common;

use std::fs;
use std::io::Read;

use berani_core::age;
use berani_core::gazetteer::{DEFAULT_REGENCY, Gazetteer};
use berani_core::model::{
    AgeBand, AttachmentKind, Category, Contact, ContactMethod, FieldValue, ReportDocument,
    VictimSex,
};
use berani_core::outbox::{FailureReason, PartKind, ReportState};
use berani_core::profile::ProfileError;
use berani_core::{CoreError, DraftEdit, EditRefused, Field, NewAttachment, Reason};
use common::*;

fn open_part(h: &Home, report: &str, idx: u32) -> Vec<u8> {
    let sealed = fs::read(h.data().join(format!("outbox/{report}/{idx}.age"))).unwrap();
    let mut out = Vec::new();
    age::open(
        std::slice::from_ref(&h.agency.identity),
        &sealed[..],
        &mut out,
    )
    .unwrap();
    out
}

fn ready_draft(r: &berani_core::Reporter, text: &str) -> String {
    let d = r.create_draft().unwrap();
    r.update_draft(&d.id, FieldValue::Category(Some(Category::Physical)))
        .unwrap();
    r.update_draft(&d.id, FieldValue::District(Some("33.16.09".into())))
        .unwrap();
    r.update_draft(&d.id, FieldValue::Description(Some(text.into())))
        .unwrap();
    d.id
}

#[test]
fn a_draft_is_sealed_queued_and_opens_for_the_agency() {
    let (h, r) = home();
    let d = r.create_draft().unwrap();
    let id = d.id.clone();
    for v in [
        FieldValue::Category(Some(Category::Sexual)),
        FieldValue::VictimSex(Some(VictimSex::Girl)),
        FieldValue::VictimAgeBand(Some(AgeBand::Age13To17)),
        FieldValue::InDangerNow(true),
        FieldValue::District(Some("33.16.05".into())),
        FieldValue::Village(Some("33.16.05.2001".into())),
        FieldValue::Description(Some("Anak tetangga dipukul setiap malam.".into())),
        FieldValue::Contact(Some(Contact {
            method: ContactMethod::WhatsApp,
            number: "0812 3456 7890".into(),
        })),
    ] {
        r.update_draft(&id, v).unwrap();
    }
    let photo = r
        .attach_file(&id, &fixture("photo.jpg"), false, true)
        .unwrap();
    assert_eq!(
        (photo.kind, photo.mime.as_str()),
        (AttachmentKind::Photo, "image/jpeg")
    );
    let voice = wav(h.path(), 1, "");
    let note = r.attach_file(&id, &voice, true, false).unwrap();
    assert_eq!(note.kind, AttachmentKind::Audio);

    // Drafts survive closing and reopening the store.
    drop(r);
    let r = h.open();
    let saved = r.draft(&id).unwrap();
    assert_eq!(
        saved.fields.location.village.as_deref(),
        Some("33.16.05.2001")
    );
    assert_eq!(saved.attachments.len(), 2);

    let report = r.submit(&id).unwrap();
    assert_eq!(report.state, ReportState::Queued);
    assert_eq!(report.parts.len(), 3);
    assert_eq!(report.parts[0].kind, PartKind::Report);
    assert_eq!(report.category, Some(Category::Sexual));
    assert!(
        matches!(r.draft(&id), Err(CoreError::NotFound(_))),
        "draft is gone"
    );
    assert!(
        fs::read_dir(h.data().join("files"))
            .unwrap()
            .next()
            .is_none(),
        "files gone"
    );

    let doc = ReportDocument::from_json(&open_part(&h, &id, 0)).unwrap();
    assert_eq!(doc.report_id, id);
    assert_eq!(doc.regency, "33.16");
    assert_eq!(doc.fields.category, Some(Category::Sexual));
    assert!(doc.fields.in_danger_now);
    assert_eq!(doc.fields.contact.unwrap().number, "081234567890");
    assert_eq!(doc.attachments.len(), 2);
    let original = fs::read(fixture("photo.jpg")).unwrap();
    let opened = open_part(&h, &id, 1);
    assert_eq!(opened, original);
    assert_eq!(
        doc.attachments[0].sha256,
        berani_core::crypto::hex(&berani_core::crypto::sha256(&original))
    );
    assert_eq!(open_part(&h, &id, 2), fs::read(&voice).unwrap());
    // The outbox records the ciphertext hash of each part, as the server will check it.
    for p in &report.parts {
        let bytes = fs::read(h.data().join(format!("outbox/{id}/{}.age", p.idx))).unwrap();
        assert_eq!(p.size, bytes.len() as u64);
        assert_eq!(
            p.sha256,
            berani_core::crypto::hex(&berani_core::crypto::sha256(&bytes))
        );
    }

    // Submitting again (a retry) gives the same queued report, not a second one.
    let again = r.submit(&id).unwrap();
    assert_eq!(again.id, id);
    assert_eq!(r.outbox().list().unwrap().len(), 1);
}

/// The sealed draft body as it is in the database now, read through a second connection.
fn sealed_draft_body(h: &Home, id: &str) -> Vec<u8> {
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    c.query_row("SELECT body FROM drafts WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

/// The header lines of an age file (up to and including the `---` MAC line).
fn age_header_lines(sealed: &[u8]) -> Vec<String> {
    let end = sealed
        .windows(5)
        .position(|w| w == b"\n--- ")
        .expect("an age header");
    String::from_utf8(sealed[..end].to_vec())
        .expect("the header is text")
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_profile_with_three_recipients_seals_every_part_to_each() {
    use ::age::secrecy::ExposeSecret;
    use std::process::Command;

    let h = Home {
        dir: tempfile::tempdir().unwrap(),
        agency: Agency::new(),
    };
    // Three officers' keys from three implementations: the core, the `age` crate and the
    // reference `age-keygen`.
    let crate_key = ::age::x25519::Identity::generate();
    let keygen = h.path().join("officer-3.txt");
    let o = Command::new("age-keygen")
        .arg("-o")
        .arg(&keygen)
        .output()
        .expect("the reference age tool is needed: apt-get install age");
    assert!(o.status.success());
    let keygen_secret = fs::read_to_string(&keygen)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .expect("age-keygen writes a secret key")
        .to_string();
    let secrets = [
        h.agency.identity.to_secret_string().as_str().to_string(),
        crate_key.to_string().expose_secret().to_string(),
        keygen_secret,
    ];
    let crate_ids: Vec<::age::x25519::Identity> =
        secrets.iter().map(|s| s.parse().unwrap()).collect();
    let recipients: Vec<String> = crate_ids
        .iter()
        .map(|i| i.to_public().to_string())
        .collect();
    let key_files: Vec<std::path::PathBuf> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let p = h.path().join(format!("officer-{i}.key"));
            fs::write(&p, format!("{s}\n")).unwrap();
            p
        })
        .collect();

    let r = h.open();
    let mut p = h.agency.profile(1);
    p.recipients = recipients.clone();
    r.import_profile(&h.agency.signed(&p), Some(h.agency.signing.public()))
        .unwrap();
    let id = ready_draft(&r, "Laporan untuk tiga petugas.");
    r.attach_file(&id, &fixture("photo.jpg"), false, false)
        .unwrap();
    let voice = wav(h.path(), 1, "");
    r.attach_file(&id, &voice, true, false).unwrap();
    let report = r.submit(&id).unwrap();
    assert_eq!(report.parts.len(), 3);

    let mut doc = None;
    for part in &report.parts {
        let path = h.data().join(format!("outbox/{id}/{}.age", part.idx));
        let sealed = fs::read(&path).unwrap();
        // One X25519 stanza per recipient in the profile, each with its own ephemeral share.
        let header = age_header_lines(&sealed);
        let stanzas: Vec<&String> = header.iter().filter(|l| l.starts_with("-> ")).collect();
        assert_eq!(stanzas.len(), 3, "part {}: {header:?}", part.idx);
        let mut shares: Vec<&str> = stanzas
            .iter()
            .map(|l| {
                let args: Vec<&str> = l.split(' ').collect();
                assert_eq!((args.len(), args[1]), (3, "X25519"), "{l}");
                args[2]
            })
            .collect();
        shares.sort();
        shares.dedup();
        assert_eq!(shares.len(), 3, "part {}: shares repeat", part.idx);

        // Every identity opens the part, with the `age` crate and with `age -d`, to the same
        // bytes.
        let mut opened = Vec::new();
        for (crate_id, key_file) in crate_ids.iter().zip(&key_files) {
            let dec = ::age::Decryptor::new(&sealed[..]).unwrap();
            let mut plain = Vec::new();
            std::io::Read::read_to_end(
                &mut dec
                    .decrypt(std::iter::once(crate_id as &dyn ::age::Identity))
                    .unwrap_or_else(|e| panic!("age crate, part {}: {e}", part.idx)),
                &mut plain,
            )
            .unwrap();
            let o = Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(key_file)
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "age -d, part {}: {}",
                part.idx,
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(o.stdout == plain, "age -d and the age crate differ");
            opened.push(plain);
        }
        assert!(opened.iter().all(|p| *p == opened[0]));
        let plain = opened.swap_remove(0);
        match part.kind {
            PartKind::Report => doc = Some(ReportDocument::from_json(&plain).unwrap()),
            _ => {
                let doc = doc.as_ref().expect("part 0 comes first");
                let a = doc
                    .attachments
                    .iter()
                    .find(|a| a.part == part.idx)
                    .expect("the report document lists the part");
                assert_eq!(
                    a.sha256,
                    berani_core::crypto::hex(&berani_core::crypto::sha256(&plain))
                );
                assert_eq!(a.size, plain.len() as u64);
            }
        }
    }
    let doc = doc.unwrap();
    assert_eq!(doc.report_id, id);
    assert_eq!(doc.attachments.len(), 2);
}

#[test]
fn no_plaintext_reaches_the_data_folder() {
    let (h, r) = home();
    let marker = "PENANDA-RAHASIA-7f3a91";
    let file_marker = "LAMPIRAN-RAHASIA-c0ffee";
    let d = r.create_draft().unwrap();
    // Every version of the sealed draft row, to look for its ciphertext after submit.
    let mut bodies = vec![sealed_draft_body(&h, &d.id)];
    for v in [
        FieldValue::Category(Some(Category::Psychological)),
        FieldValue::District(Some("33.16.01".into())),
        FieldValue::Description(Some(format!("cerita {marker} akhir"))),
        FieldValue::LocationDetail(Some(format!("dekat {marker}"))),
        FieldValue::Contact(Some(Contact {
            method: ContactMethod::Phone,
            number: "+62 811 2233 4455".into(),
        })),
    ] {
        r.update_draft(&d.id, v).unwrap();
        bodies.push(sealed_draft_body(&h, &d.id));
    }
    let voice = wav(h.path(), 2, file_marker);
    r.attach_file(&d.id, &voice, true, false).unwrap();
    bodies.push(sealed_draft_body(&h, &d.id));
    // The attachment's encrypted copy, held open so its bytes can be read after the unlink.
    let bin = all_files(&h.data().join("files"))
        .pop()
        .expect("the attached file");
    let mut held = fs::File::open(&bin).unwrap();
    let bin_len = held.metadata().unwrap().len();
    assert!(bin_len > 16_000);
    let wal = h.data().join("berani.db-wal");
    // The test's own check works: the sealed rows are in the log while the draft lives.
    assert!(
        bodies
            .iter()
            .any(|b| !files_containing(&h.data(), &b[16..48]).is_empty())
    );
    let needles: [&[u8]; 3] = [marker.as_bytes(), file_marker.as_bytes(), b"6281122334455"];
    // While a draft, and again once queued: nothing under the data folder holds the plaintext.
    for stage in ["draft", "queued"] {
        for n in needles {
            let hits = files_containing(&h.data(), n);
            assert!(hits.is_empty(), "{stage}: plaintext found in {hits:?}");
        }
        if stage == "draft" {
            r.submit(&d.id).unwrap();
        }
    }
    // Once queued, not even the draft's ciphertext is left: no version of the sealed row in
    // the database or its write-ahead log (checkpointed and truncated), and the attachment's
    // encrypted copy overwritten with zeros before it was unlinked.
    assert_eq!(
        fs::metadata(&wal).map_or(0, |m| m.len()),
        0,
        "WAL truncated"
    );
    for (i, b) in bodies.iter().enumerate() {
        let hits = files_containing(&h.data(), &b[16..48]);
        assert!(hits.is_empty(), "draft version {i} found in {hits:?}");
    }
    assert!(!bin.exists());
    let mut left = Vec::new();
    held.read_to_end(&mut left).unwrap();
    assert_eq!(left.len() as u64, bin_len);
    assert!(
        left.iter().all(|&b| b == 0),
        "the attachment file was zeroed"
    );
    // Still readable by the agency, so the test is not passing vacuously.
    let doc = open_part(&h, &d.id, 0);
    assert!(String::from_utf8_lossy(&doc).contains(marker));
    assert!(
        open_part(&h, &d.id, 1)
            .windows(file_marker.len())
            .any(|w| w == file_marker.as_bytes())
    );
}

#[test]
fn the_outbox_sends_every_report_text_before_any_attachment() {
    let (h, r) = home();
    let big = h.path().join("big.wav");
    fs::copy(wav(h.path(), 4, ""), &big).unwrap();
    let a = ready_draft(&r, "laporan pertama");
    r.attach_file(&a, &big, true, false).unwrap();
    r.attach_file(&a, &fixture("photo.jpg"), false, false)
        .unwrap();
    let b = ready_draft(&r, "laporan kedua");
    r.attach_file(&b, &fixture("photo.png"), false, false)
        .unwrap();
    r.submit(&a).unwrap();
    r.submit(&b).unwrap();
    let order: Vec<(String, u32)> = r
        .outbox()
        .pending_parts()
        .unwrap()
        .into_iter()
        .map(|p| (p.report_id, p.part.idx))
        .collect();
    assert_eq!(
        order,
        vec![
            (a.clone(), 0),
            (b.clone(), 0),
            (b.clone(), 1), // png, smallest
            (a.clone(), 2), // jpeg
            (a.clone(), 1), // the long voice note last
        ]
    );
}

#[test]
fn outbox_transitions_follow_the_states() {
    let (_h, r) = home();
    let id = ready_draft(&r, "teks");
    r.submit(&id).unwrap();
    let ob = r.outbox();
    ob.record_progress(&id, 0, "http://x/uploads/1", 10)
        .unwrap();
    let rep = ob.get(&id).unwrap().unwrap();
    assert_eq!(rep.state, ReportState::Sending);
    assert_eq!(rep.parts[0].sent, 10);
    assert!(matches!(
        ob.mark_delivered(&id, b"{}"),
        Err(CoreError::WrongState(_))
    ));
    ob.mark_part_done(&id, 0).unwrap();
    assert!(ob.pending_parts().unwrap().is_empty());
    ob.mark_delivered(&id, b"{\"receipt\":1}").unwrap();
    let rep = ob.get(&id).unwrap().unwrap();
    assert_eq!(rep.state, ReportState::Delivered);
    assert_eq!(rep.percent(), 100);
    assert_eq!(rep.receipt.as_deref(), Some("{\"receipt\":1}"));
    assert!(matches!(
        ob.mark_failed(&id, FailureReason::RejectedByServer),
        Err(CoreError::WrongState(_))
    ));

    let other = ready_draft(&r, "teks lain");
    r.submit(&other).unwrap();
    ob.mark_failed(&other, FailureReason::ProfileExpired)
        .unwrap();
    let rep = ob.get(&other).unwrap().unwrap();
    assert_eq!(
        (rep.state, rep.failure),
        (ReportState::Failed, Some(FailureReason::ProfileExpired))
    );
    assert!(
        ob.pending_parts().unwrap().is_empty(),
        "failed reports are not sent"
    );
}

#[test]
fn incomplete_drafts_list_every_missing_field_and_stay() {
    let (_h, r) = home();
    let d = r.create_draft().unwrap();
    match r.submit(&d.id) {
        Err(CoreError::Incomplete(errs)) => {
            let got: Vec<_> = errs.iter().map(|e| (e.field, e.reason)).collect();
            assert_eq!(
                got,
                vec![
                    (Field::Category, Reason::Required),
                    (Field::District, Reason::Required),
                    (Field::Description, Reason::TextOrVoiceNoteRequired),
                ]
            );
            assert!(errs[0].message_id().contains("wajib"));
            assert!(errs[0].message_en().contains("required"));
        }
        other => panic!("expected Incomplete, got {other:?}"),
    }
    assert!(r.draft(&d.id).is_ok());
    assert!(r.outbox().list().unwrap().is_empty());
}

#[test]
fn bad_attachments_are_refused_and_leave_the_draft_intact() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    r.attach_file(&id, &fixture("photo.jpg"), false, false)
        .unwrap();
    let before = r.draft(&id).unwrap();
    let files_before = fs::read_dir(h.data().join("files")).unwrap().count();

    let text = h.path().join("notes.txt");
    fs::write(&text, "just words").unwrap();
    let exe = h.path().join("app.exe");
    fs::write(&exe, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00").unwrap();
    let empty = h.path().join("empty.jpg");
    fs::write(&empty, b"").unwrap();
    let big = h.path().join("big.wav");
    fs::write(&big, vec![0u8; 5_000_001]).unwrap();
    let cases = [
        (text.as_path(), Reason::UnsupportedType),
        (exe.as_path(), Reason::UnsupportedType),
        (empty.as_path(), Reason::Empty),
        (big.as_path(), Reason::TooLarge),
        (
            h.path().join("missing.jpg").leak() as &std::path::Path,
            Reason::Unreadable,
        ),
        (h.path(), Reason::Unreadable),
    ];
    for (path, reason) in cases {
        match r.attach_file(&id, path, false, false) {
            Err(CoreError::InvalidInput(e)) => {
                assert_eq!((e.field, e.reason), (Field::Attachment, reason), "{path:?}")
            }
            other => panic!("{path:?}: expected {reason:?}, got {other:?}"),
        }
    }
    assert_eq!(r.draft(&id).unwrap(), before);
    assert_eq!(
        fs::read_dir(h.data().join("files")).unwrap().count(),
        files_before
    );
}

#[test]
fn a_wrong_device_key_is_refused_and_data_stays() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    drop(r);
    let other = berani_core::store::KeyFile::new(h.path().join("other.key"));
    assert!(matches!(
        berani_core::Reporter::open(&h.data(), &other),
        Err(CoreError::WrongDeviceKey)
    ));
    assert_eq!(
        h.open().draft(&id).unwrap().fields.description.as_deref(),
        Some("teks")
    );
}

#[test]
fn a_corrupt_or_newer_database_is_refused_untouched() {
    let (h, r) = home();
    drop(r);
    let db = h.data().join("berani.db");

    // A newer schema.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    match berani_core::Reporter::open(&h.data(), &h.key_file()) {
        Err(CoreError::NewerSchema {
            found: 99,
            supported: 4,
        }) => {}
        Err(e) => panic!("expected NewerSchema, got {e:?}"),
        Ok(_) => panic!("expected NewerSchema, got Ok"),
    }

    // Garbage where the database should be.
    for ext in ["db-wal", "db-shm"] {
        let _ = fs::remove_file(h.data().join(format!("berani.{ext}")));
    }
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(&db, &garbage).unwrap();
    assert!(matches!(
        berani_core::Reporter::open(&h.data(), &h.key_file()),
        Err(CoreError::StorageCorrupt)
    ));
    assert_eq!(fs::read(&db).unwrap(), garbage, "the file was not changed");
}

#[test]
fn profiles_that_are_tampered_expired_older_or_foreign_are_refused() {
    let (h, r) = home();
    let installed = r.profile().unwrap().unwrap();

    let mut newer = h.agency.profile(5);
    let signed = h.agency.signed(&newer);
    let mut tampered: serde_json::Value = serde_json::from_slice(&signed).unwrap();
    newer.intake_url = "https://evil.example".into();
    tampered["payload"] = base64_url(&serde_json::to_vec(&newer).unwrap()).into();
    let tampered = serde_json::to_vec(&tampered).unwrap();

    let mut expired = h.agency.profile(6);
    expired.expires_at = expired.issued_at - time::Duration::seconds(1);
    let foreign = Agency::new();
    let mut stripped: serde_json::Value =
        serde_json::from_slice(&h.agency.signed(&h.agency.profile(7))).unwrap();
    stripped.as_object_mut().unwrap().remove("signature");
    let stripped = serde_json::to_vec(&stripped).unwrap();
    let bare = serde_json::to_vec(&h.agency.profile(7)).unwrap();
    let mut bad_pin = h.agency.profile(8);
    bad_pin.tls_spki_sha256 = Some("not-a-sha256-pin".into());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (tampered, "signature"),
        (h.agency.signed(&expired), "expired"),
        (foreign.signed(&foreign.profile(9)), "signature"),
        (b"not json".to_vec(), "malformed"),
        (stripped, "profile is not signed"),
        (bare, "profile is not signed"),
        (
            h.agency.signed(&bad_pin),
            "tls_spki_sha256 is not base64 of a SHA-256 digest",
        ),
    ];
    for (bytes, why) in cases {
        let err = r.import_profile(&bytes, None).unwrap_err();
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    // A different key than the pinned one is refused even when offered explicitly.
    let err = r
        .import_profile(
            &foreign.signed(&foreign.profile(9)),
            Some(foreign.signing.public()),
        )
        .unwrap_err();
    assert!(err.to_string().contains("different"), "{err}");

    let v3 = h.agency.profile(3);
    r.import_profile(&h.agency.signed(&v3), None).unwrap();
    let err = r
        .import_profile(&h.agency.signed(&h.agency.profile(2)), None)
        .unwrap_err();
    assert!(err.to_string().contains("older"), "{err}");
    assert_eq!(r.profile().unwrap().unwrap().version, 3);
    assert_ne!(installed.version, 3);
}

#[test]
fn places_come_from_blora_before_a_profile_then_from_the_profile() {
    let h = Home {
        dir: tempfile::tempdir().unwrap(),
        agency: Agency::new(),
    };
    let r = h.open();
    assert!(r.profile().unwrap().is_none());
    let blora = Gazetteer::for_regency("33.16").unwrap();
    assert_eq!(DEFAULT_REGENCY, "33.16");
    assert!(std::ptr::eq(r.gazetteer().unwrap(), blora));
    assert!(r.gazetteer().unwrap().district("33.16.05").is_some());

    // Installed and later expired: the places stay those of the profile's regency.
    let mut p = h.agency.profile(1);
    p.expires_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
    r.import_profile(&h.agency.signed(&p), Some(h.agency.signing.public()))
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert!(r.current_profile().is_err());
    assert!(std::ptr::eq(r.gazetteer().unwrap(), blora));

    // A profile naming a regency this build has no map data for (left by a build that had it)
    // is not silently replaced by Blora.
    let mut elsewhere = h.agency.profile(2);
    elsewhere.regency_code = "35.78".into();
    let signed = h.agency.signed(&elsewhere);
    let records = r.store().records();
    r.store()
        .write(|tx| berani_core::store::set_sealed_meta(tx, records, "profile", &signed))
        .unwrap();
    match r.gazetteer() {
        Err(CoreError::Profile(ProfileError::UnknownRegency)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_expired_profile_stops_submit_and_keeps_the_draft() {
    let h = Home {
        dir: tempfile::tempdir().unwrap(),
        agency: Agency::new(),
    };
    let r = h.open();
    let mut p = h.agency.profile(1);
    p.expires_at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    r.import_profile(&h.agency.signed(&p), Some(h.agency.signing.public()))
        .unwrap();
    let id = ready_draft(&r, "teks");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let err = r.submit(&id).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    assert!(r.draft(&id).is_ok());
    assert!(
        fs::read_dir(h.data().join("outbox"))
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn leftovers_of_a_crashed_submit_are_swept_at_open() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    drop(r);
    // What a crash between sealing and queueing leaves: parts with no outbox row, and a
    // stray encrypted file with no attachment row.
    let stray_dir = h.data().join("outbox").join(&id);
    fs::create_dir_all(&stray_dir).unwrap();
    fs::write(stray_dir.join("0.age"), b"partial").unwrap();
    fs::write(h.data().join("files/deadbeef.bin"), b"partial").unwrap();
    fs::write(h.data().join("tmp/x"), b"partial").unwrap();
    let r = h.open();
    assert!(!stray_dir.exists());
    assert!(!h.data().join("files/deadbeef.bin").exists());
    assert!(!h.data().join("tmp/x").exists());
    // The draft is intact and still submits.
    assert_eq!(r.submit(&id).unwrap().parts.len(), 1);
}

#[test]
fn deleting_drafts_and_attachments_removes_their_files() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    let a = r
        .attach_file(&id, &fixture("photo.jpg"), false, false)
        .unwrap();
    let b = r
        .attach_file(&id, &fixture("photo.png"), false, false)
        .unwrap();
    let d = r.remove_attachment(&id, &a.id).unwrap();
    assert_eq!(d.attachments, vec![b]);
    assert_eq!(fs::read_dir(h.data().join("files")).unwrap().count(), 1);
    assert!(matches!(
        r.remove_attachment(&id, &a.id),
        Err(CoreError::NotFound(_))
    ));
    r.delete_draft(&id).unwrap();
    assert_eq!(fs::read_dir(h.data().join("files")).unwrap().count(), 0);
    assert!(r.drafts().unwrap().is_empty());
    assert!(matches!(r.delete_draft(&id), Err(CoreError::NotFound(_))));
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[test]
fn each_report_has_one_stable_client_token() {
    let (h, r) = home();
    let a = ready_draft(&r, "a");
    let b = ready_draft(&r, "b");
    r.submit(&a).unwrap();
    r.submit(&b).unwrap();
    let ta = r.outbox().client_token(&a).unwrap();
    assert_eq!(r.outbox().client_token(&a).unwrap(), ta);
    assert_ne!(r.outbox().client_token(&b).unwrap(), ta);
    drop(r);
    assert_eq!(
        h.open().outbox().client_token(&a).unwrap(),
        ta,
        "kept across reopen"
    );
    assert!(
        files_containing(&h.data(), ta.as_bytes()).is_empty(),
        "stored sealed"
    );
}

#[test]
fn a_version_1_database_is_upgraded_in_place() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks lama");
    r.submit(&id).unwrap();
    drop(r);
    to_old_layout(&h, 1);
    let r = h.open();
    assert_eq!(r.outbox().list().unwrap().len(), 1);
    assert_eq!(r.outbox().client_token(&id).unwrap().len(), 43);
    assert_eq!(r.profile().unwrap().unwrap().version, 1);
    drop(r);
    assert_eq!(user_version(&h), 4);
}

/// Writes the `meta` rows `profile_key` and `profile` with plain rusqlite, as anyone who can
/// write the database file (but lacks the device key) can.
fn write_profile_rows(h: &Home, key: &[u8], signed: &[u8]) {
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    for (k, v) in [("profile_key", key), ("profile", signed)] {
        c.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            rusqlite::params![k, v],
        )
        .unwrap();
    }
}

fn profile_rows(h: &Home) -> (Vec<u8>, Vec<u8>) {
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    let row = |k: &str| -> Vec<u8> {
        c.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
            .unwrap()
    };
    (row("profile_key"), row("profile"))
}

fn assert_tampered(e: CoreError) {
    assert!(
        matches!(
            e,
            CoreError::Profile(berani_core::profile::ProfileError::Tampered)
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("changed outside the app"), "{e}");
    assert!(
        e.to_string().contains("import the agency profile again"),
        "{e}"
    );
    assert!(
        e.message_id().contains("diubah di luar aplikasi"),
        "{}",
        e.message_id()
    );
    assert!(
        e.message_id().contains("pasang ulang profil"),
        "{}",
        e.message_id()
    );
}

#[test]
fn a_profile_key_and_profile_swapped_in_the_database_are_refused() {
    let attacker = Agency::new();
    let mut evil = attacker.profile(7);
    evil.agency_name = "EVIL".into();
    let evil_signed = attacker.signed(&evil);
    let evil_key = attacker.signing.public().0;
    // The same values sealed in the attacker's own Berani home, under the attacker's device
    // key: sealed is not the same as trusted.
    let other = Home {
        dir: tempfile::tempdir().unwrap(),
        agency: Agency::new(),
    };
    other
        .open()
        .import_profile(&evil_signed, Some(attacker.signing.public()))
        .unwrap();
    let (other_key_row, other_profile_row) = profile_rows(&other);

    for (case, key_row, profile_row) in [
        ("in clear", evil_key.to_vec(), evil_signed.clone()),
        ("sealed elsewhere", other_key_row, other_profile_row),
    ] {
        let (h, r) = home();
        let id = ready_draft(&r, "teks");
        drop(r);
        write_profile_rows(&h, &key_row, &profile_row);

        // The home still opens (drafts stay reachable), but nothing trusts the rows.
        let r = h.open();
        assert_tampered(r.profile().unwrap_err());
        assert_tampered(r.trusted_profile_key().unwrap_err());
        assert_tampered(r.current_profile().unwrap_err());
        assert_tampered(r.submit(&id).unwrap_err());
        // An import without the signing key cannot repair it, least of all the attacker's.
        assert_tampered(r.import_profile(&evil_signed, None).unwrap_err());
        // Nothing was sealed, to the attacker or anyone; the draft is intact.
        assert!(r.outbox().list().unwrap().is_empty(), "{case}");
        assert!(all_files(&h.data().join("outbox")).is_empty(), "{case}");
        assert_eq!(
            r.draft(&id).unwrap().fields.description.as_deref(),
            Some("teks")
        );

        // Importing the agency's profile again with its key replaces both rows.
        r.import_profile(
            &h.agency.signed(&h.agency.profile(1)),
            Some(h.agency.signing.public()),
        )
        .unwrap();
        assert_eq!(
            r.trusted_profile_key().unwrap(),
            Some(h.agency.signing.public())
        );
        assert_ne!(r.profile().unwrap().unwrap().agency_name, "EVIL");
        r.submit(&id).unwrap();
        let doc = ReportDocument::from_json(&open_part(&h, &id, 0)).unwrap();
        assert_eq!(doc.report_id, id, "{case}");
        let sealed = fs::read(h.data().join(format!("outbox/{id}/0.age"))).unwrap();
        assert!(
            age::open(
                std::slice::from_ref(&attacker.identity),
                &sealed[..],
                &mut Vec::new()
            )
            .is_err(),
            "{case}: the attacker cannot open the report"
        );
    }
}

#[test]
fn the_profile_rows_are_sealed_and_bound_to_their_row() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    drop(r);
    let (key_row, profile_row) = profile_rows(&h);
    assert_ne!(key_row, h.agency.signing.public().0.to_vec());
    assert!(
        !key_row
            .windows(32)
            .any(|w| w == h.agency.signing.public().0),
        "the key is not stored in clear"
    );
    assert!(
        !profile_row
            .windows(b"Dinsos P3A".len())
            .any(|w| w == b"Dinsos P3A"),
        "the profile is not stored in clear"
    );
    // Each row opens only as itself: the two sealed rows swapped are refused.
    write_profile_rows(&h, &profile_row, &key_row);
    let r = h.open();
    assert_tampered(r.profile().unwrap_err());
    assert_tampered(r.submit(&id).unwrap_err());
    drop(r);
    // Put back as they were, they open again.
    write_profile_rows(&h, &key_row, &profile_row);
    let r = h.open();
    assert_eq!(r.profile().unwrap().unwrap().version, 1);
    r.submit(&id).unwrap();
}

/// Takes a home back to the layout `version` wrote: the schema of that version, and the
/// pinned profile key and the installed profile in clear in `meta`, as versions 1 to 3 kept
/// them.
fn to_old_layout(h: &Home, version: i64) {
    let signed = h.agency.signed(&h.agency.profile(1));
    write_profile_rows(h, &h.agency.signing.public().0, &signed);
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    if version < 3 {
        c.execute_batch("DROP TABLE followups; DROP TABLE messages;")
            .unwrap();
    }
    if version < 2 {
        c.execute_batch("ALTER TABLE reports DROP COLUMN token;")
            .unwrap();
    }
    c.pragma_update(None, "user_version", version).unwrap();
}

fn user_version(h: &Home) -> i64 {
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    c.pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn a_version_3_home_gets_its_profile_sealed_at_open() {
    let (h, r) = home();
    let queued = ready_draft(&r, "sudah antre");
    r.submit(&queued).unwrap();
    let draft = ready_draft(&r, "masih draf");
    drop(r);
    to_old_layout(&h, 3);
    let plain = profile_rows(&h);
    assert_eq!(plain.0, h.agency.signing.public().0.to_vec());

    // A wrong device key is refused before anything is sealed under it.
    let other = berani_core::store::KeyFile::new(h.path().join("other.key"));
    assert!(matches!(
        berani_core::Reporter::open(&h.data(), &other),
        Err(CoreError::WrongDeviceKey)
    ));
    assert_eq!(profile_rows(&h), plain, "unchanged by the refused open");
    assert_eq!(user_version(&h), 3);

    let r = h.open();
    assert_eq!(
        r.trusted_profile_key().unwrap(),
        Some(h.agency.signing.public())
    );
    assert_eq!(r.profile().unwrap().unwrap().version, 1);
    assert_eq!(r.outbox().list().unwrap().len(), 1);
    r.submit(&draft).unwrap();
    let doc = ReportDocument::from_json(&open_part(&h, &draft, 0)).unwrap();
    assert_eq!(doc.fields.description.as_deref(), Some("masih draf"));
    drop(r);
    assert_eq!(user_version(&h), 4);
    let sealed = profile_rows(&h);
    assert_ne!(sealed.0, plain.0, "the key is sealed");
    assert_ne!(sealed.1, plain.1, "the profile is sealed");

    // Once sealed, clear values written over them are refused like any other change.
    write_profile_rows(&h, &plain.0, &plain.1);
    assert_tampered(h.open().profile().unwrap_err());
}

/// Every file under `dir` with its bytes, except SQLite's shared-memory index (`-shm`), which
/// holds no data and changes with every read.
fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    all_files(dir)
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with("-shm"))
        .map(|p| {
            let bytes = fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

#[test]
fn damage_inside_the_database_is_reported_as_damage_and_changes_nothing() {
    let (h, r) = home();
    // Enough drafts that their table spans many pages, its root an interior page.
    let long = "kejadian ".repeat(400);
    let drafts: Vec<String> = (0..12).map(|_| ready_draft(&r, &long)).collect();
    r.attach_file(&drafts[0], &fixture("photo.jpg"), false, false)
        .unwrap();
    let queued = ready_draft(&r, "sudah antre");
    let report = r.submit(&queued).unwrap();
    drop(r);

    // Overwrite the drafts table's root page: inside the file, far from the header, which
    // stays valid (so the file still opens as a database).
    let db = h.data().join("berani.db");
    let (root, page_size): (i64, i64) = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let root = c
            .query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name = 'drafts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let page_size = c
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .unwrap();
        (root, page_size)
    };
    let mut bytes = fs::read(&db).unwrap();
    let at = ((root - 1) * page_size) as usize;
    assert!(root > 1);
    assert_eq!(bytes[at], 0x05, "the root is an interior table page");
    for (i, b) in bytes[at..at + page_size as usize].iter_mut().enumerate() {
        *b = (i * 7 % 251) as u8;
    }
    fs::write(&db, &bytes).unwrap();
    let before = snapshot(h.path());

    let r = h.open();
    let corrupt = |what: &str, e: CoreError| {
        assert!(matches!(e, CoreError::StorageCorrupt), "{what}: {e:?}");
        assert!(e.to_string().contains("damaged"), "{what}: {e}");
        assert_eq!(e.message_id(), "Data di ponsel rusak; data tidak diubah");
    };
    corrupt("list", r.drafts().unwrap_err());
    corrupt("read", r.draft(&drafts[1]).unwrap_err());
    corrupt(
        "edit",
        r.update_draft(&drafts[1], FieldValue::Description(Some("baru".into())))
            .unwrap_err(),
    );
    corrupt("new", r.create_draft().unwrap_err());
    corrupt("submit", r.submit(&drafts[2]).unwrap_err());
    corrupt("delete", r.delete_draft(&drafts[3]).unwrap_err());
    // The queued report is in other pages: it is still listed and still goes.
    let listed = r.outbox().list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].parts, report.parts);
    assert_eq!(r.outbox().pending_parts().unwrap().len(), 1);
    let during = snapshot(h.path());
    drop(r);
    let after = snapshot(h.path());

    // Nothing in the home was changed by the failed operations: the database (byte for
    // byte), the attachment file, the sealed parts, the key file; the log holds no write.
    for snap in [&during, &after] {
        for (path, bytes) in snap {
            if path.ends_with("berani.db-wal") {
                assert!(bytes.is_empty(), "nothing was written to the log");
                continue;
            }
            assert!(
                before.get(path) == Some(bytes),
                "{} changed or appeared",
                path.display()
            );
        }
        let kept = before.keys().filter(|p| snap.contains_key(*p)).count();
        assert_eq!(kept, before.len(), "no file went missing");
    }
}

fn file_count(h: &Home) -> usize {
    fs::read_dir(h.data().join("files")).unwrap().count()
}

fn attach(path: std::path::PathBuf) -> NewAttachment {
    NewAttachment {
        path,
        voice_note: false,
        keep_metadata: false,
    }
}

#[test]
fn an_edit_is_saved_whole_or_not_at_all() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks asli");
    r.update_draft(&id, FieldValue::Village(Some("33.16.09.2001".into())))
        .unwrap();
    let kept = r
        .attach_file(&id, &fixture("photo.jpg"), false, false)
        .unwrap();
    let before = r.draft(&id).unwrap();
    let files_before = file_count(&h);
    let unsupported = h.path().join("notes.txt");
    fs::write(&unsupported, "just words").unwrap();

    // Each edit mixes valid changes with one refused change; the draft, its attachments and
    // its files stay exactly as they were.
    let refused: Vec<(DraftEdit, Option<usize>, Field, &str)> = vec![
        (
            DraftEdit {
                fields: vec![
                    FieldValue::Category(Some(Category::Sexual)),
                    FieldValue::District(Some("99.99.99".into())),
                ],
                ..DraftEdit::default()
            },
            None,
            Field::District,
            "unknown district after a valid category",
        ),
        (
            DraftEdit {
                fields: vec![
                    FieldValue::Description(None),
                    FieldValue::Village(Some("33.16.01.2001".into())),
                ],
                ..DraftEdit::default()
            },
            None,
            Field::Village,
            "a clear, then a village of another district",
        ),
        (
            DraftEdit {
                remove_attachments: vec![kept.id.clone()],
                fields: vec![FieldValue::IncidentDate(Some(
                    berani_core::model::IncidentDate::Exact {
                        date: "2999-01-01".into(),
                    },
                ))],
                ..DraftEdit::default()
            },
            None,
            Field::IncidentDate,
            "a removal, then a date in the future",
        ),
        (
            DraftEdit {
                fields: vec![FieldValue::Description(Some("DIUBAH".into()))],
                attach: vec![
                    attach(fixture("photo.png")),
                    attach(fixture("photo.jpg")),
                    attach(unsupported.clone()),
                ],
                ..DraftEdit::default()
            },
            Some(2),
            Field::Attachment,
            "two good files, then an unsupported one",
        ),
        (
            DraftEdit {
                remove_attachments: vec![kept.id.clone()],
                attach: vec![
                    attach(fixture("photo.png")),
                    attach(h.path().join("missing.jpg")),
                ],
                ..DraftEdit::default()
            },
            Some(1),
            Field::Attachment,
            "a removal and a good file, then a missing one",
        ),
    ];
    for (edit, at, field, what) in refused {
        match r.edit_draft(&id, &edit) {
            Err(EditRefused {
                attachment,
                error: CoreError::InvalidInput(e),
            }) => {
                assert_eq!((attachment, e.field), (at, field), "{what}");
            }
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
        assert_eq!(r.draft(&id).unwrap(), before, "{what}");
        assert_eq!(file_count(&h), files_before, "{what}: no file left behind");
    }

    // An unknown attachment id is refused before anything is copied.
    let err = r
        .edit_draft(
            &id,
            &DraftEdit {
                remove_attachments: vec!["nope".into()],
                fields: vec![FieldValue::Category(Some(Category::Other))],
                attach: vec![attach(fixture("photo.png"))],
            },
        )
        .unwrap_err();
    assert!(
        matches!(err.error, CoreError::NotFound("attachment")),
        "{err:?}"
    );
    assert_eq!(err.attachment, None);
    assert_eq!(r.draft(&id).unwrap(), before);
    assert_eq!(file_count(&h), files_before);

    // The same kinds of change, all valid, are saved together.
    let d = r
        .edit_draft(
            &id,
            &DraftEdit {
                remove_attachments: vec![kept.id.clone()],
                fields: vec![
                    FieldValue::Category(Some(Category::Sexual)),
                    FieldValue::Village(None),
                    FieldValue::District(Some("33.16.05".into())),
                    FieldValue::Description(Some("DIUBAH".into())),
                ],
                attach: vec![attach(fixture("photo.png")), attach(fixture("photo.jpg"))],
            },
        )
        .unwrap();
    assert_eq!(d.fields.category, Some(Category::Sexual));
    assert_eq!(d.fields.location.district.as_deref(), Some("33.16.05"));
    assert_eq!(d.fields.location.village, None);
    assert_eq!(d.fields.description.as_deref(), Some("DIUBAH"));
    let mimes: Vec<_> = d.attachments.iter().map(|a| a.mime.as_str()).collect();
    assert_eq!(mimes, ["image/png", "image/jpeg"]);
    assert!(d.attachments.iter().all(|a| a.id != kept.id));
    assert_eq!(
        file_count(&h),
        2,
        "the removed file went, the two new ones stay"
    );
    assert_eq!(r.draft(&id).unwrap(), d);
    assert_eq!(r.submit(&id).unwrap().parts.len(), 3);
}

#[test]
fn an_edit_past_the_attachment_limit_copies_nothing() {
    let (h, r) = home();
    let id = ready_draft(&r, "teks");
    let limit = berani_core::model::validate::MAX_ATTACHMENTS;
    let three = DraftEdit {
        attach: vec![attach(fixture("photo.png")); 3],
        ..DraftEdit::default()
    };
    for _ in 0..(limit - 2) / 3 {
        r.edit_draft(&id, &three).unwrap();
    }
    let before = r.draft(&id).unwrap();
    let have = before.attachments.len();
    assert_eq!(have, limit - 2);
    // Three more: the third is the one too many.
    match r.edit_draft(&id, &three) {
        Err(EditRefused {
            attachment: Some(2),
            error: CoreError::InvalidInput(e),
        }) => assert_eq!((e.field, e.reason), (Field::Attachment, Reason::TooMany)),
        other => panic!("expected too_many for the third file, got {other:?}"),
    }
    assert_eq!(r.draft(&id).unwrap(), before);
    assert_eq!(file_count(&h), have);
}
