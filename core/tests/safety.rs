//! Device safety: the panic wipe leaves nothing recoverable (searched in every remaining file
//! and in the freed files still readable through descriptors held from before the wipe), keeps
//! queued reports deliverable when asked, and the PIN layer opens only with the right PIN and
//! wipes after too many wrong ones.

mod common;

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use berani_core::followup::{FollowupKeys, ReceiptCode};
use berani_core::model::{Category, Contact, ContactMethod, FieldValue};
use berani_core::outbox::ReportState;
use berani_core::store::pin::{self, PinStatus};
use berani_core::store::{DeviceKeyStore, KeyFile, PinLock};
use berani_core::{CoreError, Reporter, age, wipe};
use common::*;

const STORY: &str = "PENANDA-CERITA-7731 ayah tiri memukul setiap malam";
const QUEUED_STORY: &str = "PENANDA-TERKIRIM-5520 kejadian di sekolah";
const NUMBER: &str = "0812 9988 7766";
const NUMBER_NORMALISED: &str = "081299887766";
const VOICE_MARK: &str = "PENANDA-SUARA-4410";

fn fill(r: &Reporter, text: &str, voice_dir: &Path) -> String {
    let d = r.create_draft().unwrap();
    for v in [
        FieldValue::Category(Some(Category::Physical)),
        FieldValue::District(Some("33.16.05".into())),
        FieldValue::Village(Some("33.16.05.2001".into())),
        FieldValue::Description(Some(text.into())),
        FieldValue::Contact(Some(Contact {
            method: ContactMethod::WhatsApp,
            number: NUMBER.into(),
        })),
    ] {
        r.update_draft(&d.id, v).unwrap();
    }
    r.attach_file(&d.id, &wav(voice_dir, 1, VOICE_MARK), true, false)
        .unwrap();
    d.id
}

/// Every file under `dir`, opened now, so that its inode can still be read after an unlink.
fn hold_all(dir: &Path) -> Vec<(PathBuf, File)> {
    all_files(dir)
        .into_iter()
        .filter_map(|p| File::open(&p).ok().map(|f| (p, f)))
        .collect()
}

fn needles(key: &[u8]) -> Vec<Vec<u8>> {
    let mut n: Vec<Vec<u8>> = [
        "PENANDA-CERITA-7731",
        "PENANDA-TERKIRIM-5520",
        VOICE_MARK,
        NUMBER,
        NUMBER_NORMALISED,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    n.push(key.to_vec());
    n
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Searches the remaining files under `root` and the bytes behind every held descriptor.
fn assert_nothing_recoverable(root: &Path, held: &mut [(PathBuf, File)], needles: &[Vec<u8>]) {
    for n in needles {
        let found = files_containing(root, n);
        assert!(found.is_empty(), "found in {found:?}");
    }
    for (path, f) in held.iter_mut() {
        let mut bytes = Vec::new();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.read_to_end(&mut bytes).unwrap();
        for n in needles {
            assert!(
                !contains(&bytes, n),
                "readable through a descriptor held on {}",
                path.display()
            );
        }
    }
}

#[test]
fn a_wipe_leaves_no_marker_and_no_key_bytes_anywhere() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    fill(&r, STORY, voices.path());
    let queued = fill(&r, QUEUED_STORY, voices.path());
    r.submit(&queued).unwrap();
    let key = fs::read(h.key_file().path()).unwrap();
    assert_eq!(key.len(), 32);
    // The test's own check works: the agency can read the marker in the sealed part.
    let needles = needles(&key);
    assert!(h.data().join("berani.db-wal").exists());
    let mut held = hold_all(h.path());
    assert!(held.iter().any(|(p, _)| p.ends_with("berani.db")));
    assert!(held.iter().any(|(p, _)| p.ends_with("berani.db-wal")));
    assert!(held.iter().any(|(p, _)| p.ends_with("device.key")));

    let out = r.wipe(&h.key_file(), false).unwrap();
    assert_eq!(out.kept_reports, 0);

    assert!(!h.key_file().path().exists(), "the key file is gone");
    assert!(
        all_files(&h.data()).is_empty(),
        "no file left under the home"
    );
    assert_nothing_recoverable(h.path(), &mut held, &needles);
    // The key file's freed inode holds zeros.
    let (_, kf) = held
        .iter_mut()
        .find(|(p, _)| p.ends_with("device.key"))
        .unwrap();
    let mut bytes = Vec::new();
    kf.seek(SeekFrom::Start(0)).unwrap();
    kf.read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, [0u8; 32]);

    // The home opens again, empty, under a new key.
    let r = h.open();
    assert!(r.drafts().unwrap().is_empty());
    assert!(r.outbox().list().unwrap().is_empty());
    assert_ne!(fs::read(h.key_file().path()).unwrap(), key);
}

#[test]
fn keep_sending_keeps_only_the_sealed_outbox_under_a_new_key() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    fill(&r, STORY, voices.path());
    let queued = fill(&r, QUEUED_STORY, voices.path());
    let before = r.submit(&queued).unwrap();
    let token = r.outbox().client_token(&queued).unwrap();
    let key = fs::read(h.key_file().path()).unwrap();
    // The follow-up: the code and the reporter's key must not survive; the registration
    // (lookup id, auth value) is carried, sealed under the new key.
    let code = r.receipt_code(&queued).unwrap().expect("a receipt code");
    let fkeys = FollowupKeys::derive(&ReceiptCode::parse(&code).unwrap()).unwrap();
    let identity = fkeys.identity.to_secret_string().to_string();
    let mut held = hold_all(h.path());

    let out = r.wipe(&h.key_file(), true).unwrap();
    assert_eq!(out.kept_reports, 1);
    assert!(!wipe::wipe_pending(&h.data()));

    // Nothing readable: the markers are only inside the sealed parts (age, to the agency).
    let mut plain_needles = needles(&key);
    plain_needles.push(token.as_bytes().to_vec());
    plain_needles.push(code.as_bytes().to_vec());
    plain_needles.push(code.replace('-', "").as_bytes().to_vec());
    plain_needles.push(identity.as_bytes().to_vec());
    plain_needles.push(identity.to_lowercase().as_bytes().to_vec());
    plain_needles.push(fkeys.auth.as_bytes().to_vec());
    assert_nothing_recoverable(h.path(), &mut held, &plain_needles);

    let r = h.open();
    assert_ne!(fs::read(h.key_file().path()).unwrap(), key, "a new key");
    assert!(r.drafts().unwrap().is_empty(), "drafts are gone");
    let list = r.outbox().list().unwrap();
    assert_eq!(list.len(), 1);
    let after = &list[0];
    assert_eq!(after.id, before.id);
    assert_eq!(after.state, ReportState::Queued);
    assert_eq!(after.parts, before.parts, "ids, sizes and hashes kept");
    assert_eq!(after.category, None, "the reporter's summary is not kept");
    assert_eq!(
        r.outbox().client_token(&queued).unwrap(),
        token,
        "same token"
    );
    assert!(r.profile().unwrap().is_some(), "the agency profile stays");
    assert_eq!(
        r.trusted_profile_key().unwrap(),
        Some(h.agency.signing.public()),
        "and its pinned key, sealed under the new device key"
    );
    for p in &after.parts {
        let bytes = fs::read(h.data().join(format!("outbox/{}/{}.age", after.id, p.idx))).unwrap();
        assert_eq!(
            berani_core::crypto::hex(&berani_core::crypto::sha256(&bytes)),
            p.sha256
        );
    }
    assert_eq!(r.outbox().pending_parts().unwrap().len(), after.parts.len());
    // Whoever holds the phone now cannot get the code nor read the thread with it.
    assert_eq!(r.receipt_code(&queued).unwrap(), None);
    assert!(matches!(
        r.reply(&queued, "siapa?").unwrap_err(),
        CoreError::NotFound("receipt")
    ));
    let db = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
    let lookup: String = db
        .query_row(
            "SELECT lookup FROM followups WHERE report_id = ?1",
            [&queued],
            |r| r.get(0),
        )
        .expect("the registration is carried");
    assert_eq!(lookup, fkeys.lookup);
    // And the agency still reads what was sent.
    let sealed = fs::read(h.data().join(format!("outbox/{}/0.age", after.id))).unwrap();
    let mut doc = Vec::new();
    age::open(
        std::slice::from_ref(&h.agency.identity),
        &sealed[..],
        &mut doc,
    )
    .unwrap();
    assert!(contains(&doc, b"PENANDA-TERKIRIM-5520"));
}

#[test]
fn an_interrupted_wipe_is_finished_at_the_next_open() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    fill(&r, STORY, voices.path());
    drop(r);
    // As if killed right after writing the marker.
    File::create(h.data().join(wipe::MARKER)).unwrap();
    assert!(wipe::wipe_pending(&h.data()));
    let key = fs::read(h.key_file().path()).unwrap();
    let r = h.open();
    assert!(r.drafts().unwrap().is_empty());
    assert!(!wipe::wipe_pending(&h.data()));
    assert_ne!(fs::read(h.key_file().path()).unwrap(), key);
}

#[test]
fn wipe_home_works_when_the_store_cannot_be_opened() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    fill(&r, STORY, voices.path());
    drop(r);
    let key = fs::read(h.key_file().path()).unwrap();
    // A damaged database: the store no longer opens.
    fs::write(
        h.data().join("berani.db"),
        b"not a database at all, not at all",
    )
    .unwrap();
    assert!(Reporter::open(&h.data(), &h.key_file()).is_err());
    let out = wipe::wipe_home(&h.data(), &h.key_file(), true).unwrap();
    assert_eq!(out.kept_reports, 0);
    assert!(all_files(&h.data()).is_empty());
    assert!(files_containing(h.path(), &key).is_empty());
}

fn pin_home() -> (tempfile::TempDir, PathBuf, KeyFile) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let keys = KeyFile::new(dir.path().join("platform.key"));
    (dir, home, keys)
}

#[test]
fn the_right_pin_opens_and_a_wrong_pin_fails_without_harm() {
    let (_d, home, keys) = pin_home();
    let r = Reporter::open_with_pin(&home, &keys, None).unwrap();
    let draft = r.create_draft().unwrap();
    r.update_draft(&draft.id, FieldValue::Description(Some(STORY.into())))
        .unwrap();
    drop(r);
    PinLock::new(&keys, &home, None)
        .set_pin(Some("2468"))
        .unwrap();
    assert!(pin::status(&home).unwrap().pin_set);

    for wrong in [None, Some("1357"), Some("24680")] {
        assert!(matches!(
            Reporter::open_with_pin(&home, &keys, wrong),
            Err(CoreError::WrongPin)
        ));
    }
    // The platform key alone does not open it either.
    assert!(Reporter::open(&home, &keys).is_err());
    let r = Reporter::open_with_pin(&home, &keys, Some("2468")).unwrap();
    assert_eq!(r.drafts().unwrap().len(), 1, "nothing harmed");
    drop(r);

    // Change, then remove.
    let bad = PinLock::new(&keys, &home, Some("1111")).set_pin(Some("9999"));
    assert!(matches!(bad, Err(CoreError::WrongPin)));
    PinLock::new(&keys, &home, Some("2468"))
        .set_pin(Some("975310"))
        .unwrap();
    assert!(Reporter::open_with_pin(&home, &keys, Some("2468")).is_err());
    Reporter::open_with_pin(&home, &keys, Some("975310")).unwrap();
    PinLock::new(&keys, &home, Some("975310"))
        .set_pin(None)
        .unwrap();
    let r = Reporter::open_with_pin(&home, &keys, None).unwrap();
    assert_eq!(r.drafts().unwrap().len(), 1);
    // A badly formed PIN is refused, naming the field.
    let e = PinLock::new(&keys, &home, None)
        .set_pin(Some("12a4"))
        .unwrap_err();
    assert!(e.to_string().contains("4 to 12 digits"), "{e}");
}

#[test]
fn the_failed_pin_counter_persists_and_wipes_at_the_limit() {
    let (d, home, keys) = pin_home();
    let r = Reporter::open_with_pin(&home, &keys, None).unwrap();
    let draft = r.create_draft().unwrap();
    r.update_draft(&draft.id, FieldValue::Description(Some(STORY.into())))
        .unwrap();
    drop(r);
    let lock = PinLock::new(&keys, &home, Some("8080"));
    PinLock::new(&keys, &home, None)
        .set_pin(Some("8080"))
        .unwrap();
    lock.set_wipe_after(Some(3)).unwrap();
    let platform_key = keys.device_key().unwrap().to_vec();

    let f = pin::pin_failed(&home, &keys).unwrap();
    assert_eq!(
        (f.failed_attempts, f.remaining, f.wiped),
        (1, Some(2), false)
    );
    // The count survives a restart (a new lock, a new process) …
    let f = pin::pin_failed(&home, &keys).unwrap();
    assert_eq!((f.failed_attempts, f.remaining), (2, Some(1)));
    assert_eq!(
        pin::status(&home).unwrap(),
        PinStatus {
            pin_set: true,
            failed_attempts: 2,
            wipe_after: Some(3)
        }
    );
    // … a right PIN resets it …
    Reporter::open_with_pin(&home, &keys, Some("8080")).unwrap();
    assert_eq!(pin::status(&home).unwrap().failed_attempts, 0);
    for _ in 0..2 {
        pin::pin_failed(&home, &keys).unwrap();
    }
    let mut held = hold_all(d.path());
    // … and the third wrong PIN in a row wipes.
    let f = pin::pin_failed(&home, &keys).unwrap();
    assert_eq!((f.remaining, f.wiped), (Some(0), true));
    assert!(all_files(&home).is_empty());
    assert!(!keys.path().exists());
    assert_nothing_recoverable(d.path(), &mut held, &needles(&platform_key));
    // The home opens again, empty, with no PIN.
    let r = Reporter::open_with_pin(&home, &keys, None).unwrap();
    assert!(r.drafts().unwrap().is_empty());
    assert!(!pin::status(&home).unwrap().pin_set);
}

#[test]
fn a_wipe_through_the_pin_lock_destroys_both_keys() {
    let (d, home, keys) = pin_home();
    let r = Reporter::open_with_pin(&home, &keys, None).unwrap();
    let draft = r.create_draft().unwrap();
    r.update_draft(&draft.id, FieldValue::Description(Some(STORY.into())))
        .unwrap();
    let platform_key = keys.device_key().unwrap().to_vec();
    let mut held = hold_all(d.path());
    r.wipe(&PinLock::new(&keys, &home, None), false).unwrap();
    assert!(!keys.path().exists() && !home.join(pin::WRAP_FILE).exists());
    assert_nothing_recoverable(d.path(), &mut held, &needles(&platform_key));
}

#[test]
fn keep_sending_does_not_carry_a_profile_changed_outside_the_app() {
    let (h, r) = home();
    let voices = tempfile::tempdir().unwrap();
    let queued = fill(&r, QUEUED_STORY, voices.path());
    r.submit(&queued).unwrap();
    drop(r);
    // Someone without the device key writes their own key and profile into the database.
    let attacker = Agency::new();
    let evil_key = attacker.signing.public().0;
    let evil_signed = attacker.signed(&attacker.profile(9));
    {
        let c = rusqlite::Connection::open(h.data().join("berani.db")).unwrap();
        for (k, v) in [
            ("profile_key", &evil_key[..]),
            ("profile", &evil_signed[..]),
        ] {
            c.execute(
                "UPDATE meta SET value = ?2 WHERE key = ?1",
                rusqlite::params![k, v],
            )
            .unwrap();
        }
    }
    let r = h.open();
    assert!(r.profile().is_err());
    let out = r.wipe(&h.key_file(), true).unwrap();
    assert_eq!(out.kept_reports, 1, "the queued report is kept");

    // Sealing the rows again under the new key would have made them trusted: they are gone.
    let r = h.open();
    assert_eq!(r.trusted_profile_key().unwrap(), None);
    assert!(r.profile().unwrap().is_none());
    assert!(files_containing(&h.data(), &evil_key).is_empty());
    assert!(files_containing(&h.data(), &evil_signed[..64]).is_empty());
    // The agency's profile, imported again with its key, lets the kept report go.
    r.import_profile(
        &h.agency.signed(&h.agency.profile(1)),
        Some(h.agency.signing.public()),
    )
    .unwrap();
    assert_eq!(r.outbox().list().unwrap()[0].id, queued);
    assert_eq!(r.outbox().pending_parts().unwrap().len(), 2);
}
