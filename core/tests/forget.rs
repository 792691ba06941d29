//! Forgetting a delivered report: the phone's copy (sealed parts, their rows, the summary)
//! is destroyed, searched for in every byte under the home afterwards, while the id, the
//! state, the server's receipt and the follow-up stay; a report not yet delivered is refused.

mod common;

use std::fs;

use berani_core::model::{Category, Contact, ContactMethod, FieldValue};
use berani_core::outbox::ReportState;
use berani_core::{CoreError, Reporter, forget};
use common::*;

const STORY: &str = "PENANDA-LUPA-3391 paman mengancam anak";
const NUMBER: &str = "0813 5566 7788";
const VOICE_MARK: &str = "PENANDA-SUARA-LUPA-8812";
const RECEIPT: &[u8] = br#"{"synthetic":"receipt for a test","report":"x"}"#;

fn submitted(r: &Reporter, voices: &std::path::Path) -> String {
    let d = r.create_draft().unwrap();
    for v in [
        FieldValue::Category(Some(Category::Physical)),
        FieldValue::District(Some("33.16.05".into())),
        FieldValue::Description(Some(STORY.into())),
        FieldValue::Contact(Some(Contact {
            method: ContactMethod::WhatsApp,
            number: NUMBER.into(),
        })),
    ] {
        r.update_draft(&d.id, v).unwrap();
    }
    r.attach_file(&d.id, &wav(voices, 1, VOICE_MARK), true, false)
        .unwrap();
    r.attach_file(&d.id, &fixture("photo.jpg"), false, false)
        .unwrap();
    r.submit(&d.id).unwrap().id
}

/// What the uploader does once the server confirmed every part and signed a receipt.
fn deliver(r: &Reporter, id: &str) {
    let report = r.outbox().get(id).unwrap().unwrap();
    for p in &report.parts {
        r.outbox().mark_part_done(id, p.idx).unwrap();
    }
    r.outbox().mark_delivered(id, RECEIPT).unwrap();
}

/// 64-byte samples from the start, middle and end of every sealed part of `id`.
fn part_samples(h: &Home, id: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for f in all_files(&h.data().join("outbox").join(id)) {
        let b = fs::read(&f).unwrap();
        assert!(b.len() > 200, "{}", f.display());
        for at in [0, b.len() / 2, b.len() - 64] {
            out.push(b[at..at + 64].to_vec());
        }
    }
    assert!(
        out.len() >= 9,
        "three parts: the report, a voice note, a photo"
    );
    out
}

#[test]
fn forgetting_a_delivered_report_keeps_only_id_state_receipt_and_followup() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    let id = submitted(&r, voices.path());
    let code = r.receipt_code(&id).unwrap().expect("a receipt code");
    let before = r.outbox().get(&id).unwrap().unwrap();
    assert_eq!(before.parts.len(), 3);

    // Not delivered yet: refused with a clear reason, nothing touched.
    let e = r.forget_delivered(&id).unwrap_err();
    assert!(
        matches!(e, CoreError::WrongState(forget::NOT_DELIVERED)),
        "{e:?}"
    );
    assert!(e.to_string().contains("would lose the report"), "{e}");
    assert!(
        e.message_id().contains("belum terkirim"),
        "{}",
        e.message_id()
    );
    assert_eq!(r.outbox().get(&id).unwrap().unwrap(), before);
    assert_eq!(all_files(&h.data().join("outbox").join(&id)).len(), 3);
    assert!(matches!(
        r.forget_delivered(&"ab".repeat(16)).unwrap_err(),
        CoreError::NotFound("report")
    ));

    deliver(&r, &id);
    // The test's own check: the agency still reads the story in the sealed part on the phone.
    let sealed = fs::read(h.data().join(format!("outbox/{id}/0.age"))).unwrap();
    let mut doc = Vec::new();
    berani_core::age::open(
        std::slice::from_ref(&h.agency.identity),
        &sealed[..],
        &mut doc,
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&doc).contains(STORY));
    let samples = part_samples(&h, &id);
    let sealed_summary: Vec<u8> = rusqlite::Connection::open(h.data().join("berani.db"))
        .unwrap()
        .query_row("SELECT summary FROM reports WHERE id = ?1", [&id], |r| {
            r.get(0)
        })
        .unwrap();

    r.forget_delivered(&id).unwrap();

    // The sealed parts and their folder are gone, and no byte of them is anywhere.
    assert!(!h.data().join("outbox").join(&id).exists());
    for s in &samples {
        let found = files_containing(h.path(), s);
        assert!(found.is_empty(), "part bytes still in {found:?}");
    }
    let found = files_containing(h.path(), &sealed_summary);
    assert!(found.is_empty(), "the old summary is still in {found:?}");
    for marker in [STORY, NUMBER, "081355667788", VOICE_MARK] {
        let found = files_containing(h.path(), marker.as_bytes());
        assert!(found.is_empty(), "{marker} in {found:?}");
    }
    // No older page image stays in the write-ahead log.
    let wal = h.data().join("berani.db-wal");
    assert!(!wal.exists() || fs::metadata(&wal).unwrap().len() == 0);

    // What stays: id, state, times, the receipt; the follow-up still works.
    let after = r.outbox().get(&id).unwrap().unwrap();
    assert_eq!(after.state, ReportState::Delivered);
    assert_eq!(after.receipt.as_deref().map(str::as_bytes), Some(RECEIPT));
    assert_eq!(after.queued_at, before.queued_at);
    assert!(after.parts.is_empty());
    assert_eq!(after.category, None, "the summary is not kept");
    assert_eq!(r.receipt_code(&id).unwrap(), Some(code.clone()));
    r.reply(&id, "Terima kasih, PENANDA-BALAS").unwrap();
    assert_eq!(r.queued_messages().unwrap(), 1);
    // Twice is harmless; a restart (with its sweep) keeps the report.
    r.forget_delivered(&id).unwrap();
    drop(r);
    let r = h.open();
    let again = r.outbox().get(&id).unwrap().unwrap();
    assert_eq!(again.receipt, after.receipt);
    assert_eq!(r.receipt_code(&id).unwrap(), Some(code));
}

#[test]
fn the_setting_is_off_by_default_and_forgets_what_is_delivered_when_turned_on() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    assert!(!r.forget_after_delivery().unwrap(), "off by default");
    let delivered = submitted(&r, voices.path());
    deliver(&r, &delivered);
    let queued = submitted(&r, voices.path());
    assert_eq!(r.set_forget_after_delivery(true).unwrap(), 1);
    assert!(r.forget_after_delivery().unwrap());
    assert!(!h.data().join("outbox").join(&delivered).exists());
    assert!(
        h.data().join("outbox").join(&queued).exists(),
        "a queued report is never touched"
    );
    assert_eq!(r.outbox().get(&queued).unwrap().unwrap().parts.len(), 3);
    drop(r);
    let r = h.open();
    assert!(r.forget_after_delivery().unwrap(), "kept across restarts");
    assert_eq!(r.set_forget_after_delivery(false).unwrap(), 0);
    assert!(!r.forget_after_delivery().unwrap());
}
