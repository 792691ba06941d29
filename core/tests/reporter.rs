//! The reporter core end to end on a real SQLite file: drafting, attaching, sealing,
//! queueing, the outbox's transitions and order, and the refusal of bad input.

mod common;

use std::fs;

use berani_core::age;
use berani_core::gazetteer::{DEFAULT_REGENCY, Gazetteer};
use berani_core::model::{
    AgeBand, AttachmentKind, Category, Contact, ContactMethod, FieldValue, ReportDocument,
    VictimSex,
};
use berani_core::outbox::{FailureReason, PartKind, ReportState};
use berani_core::profile::ProfileError;
use berani_core::{CoreError, Field, Reason};
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

#[test]
fn no_plaintext_reaches_the_data_folder() {
    let (h, r) = home();
    let marker = "PENANDA-RAHASIA-7f3a91";
    let file_marker = "LAMPIRAN-RAHASIA-c0ffee";
    let d = r.create_draft().unwrap();
    r.update_draft(&d.id, FieldValue::Category(Some(Category::Psychological)))
        .unwrap();
    r.update_draft(&d.id, FieldValue::District(Some("33.16.01".into())))
        .unwrap();
    r.update_draft(
        &d.id,
        FieldValue::Description(Some(format!("cerita {marker} akhir"))),
    )
    .unwrap();
    r.update_draft(
        &d.id,
        FieldValue::LocationDetail(Some(format!("dekat {marker}"))),
    )
    .unwrap();
    r.update_draft(
        &d.id,
        FieldValue::Contact(Some(Contact {
            method: ContactMethod::Phone,
            number: "+62 811 2233 4455".into(),
        })),
    )
    .unwrap();
    let voice = wav(h.path(), 2, file_marker);
    r.attach_file(&d.id, &voice, true, false).unwrap();
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
            supported: 3,
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
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (tampered, "signature"),
        (h.agency.signed(&expired), "expired"),
        (foreign.signed(&foreign.profile(9)), "signature"),
        (b"not json".to_vec(), "malformed"),
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
    r.store()
        .write(|tx| berani_core::store::set_meta(tx, "profile", &signed))
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
    // Take the file back to what version 1 wrote.
    let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    c.execute_batch(
        "ALTER TABLE reports DROP COLUMN token; DROP TABLE followups; DROP TABLE messages;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(c);
    let r = h.open();
    assert_eq!(r.outbox().list().unwrap().len(), 1);
    assert_eq!(r.outbox().client_token(&id).unwrap().len(), 43);
}
