//! Platform callbacks that fail or panic become errors, never crashes.
//!
//! The traits are implemented in Rust here, so what runs is the bindings' own adapters: a
//! Rust panic in a trait object is an ordinary unwind (uniffi only turns panics into errors
//! at the exported function boundary, as Kotlin's `InternalException`), which the adapters
//! must catch before it reaches the core. A *foreign* implementation that throws something
//! other than `BeraniException` reaches Rust through uniffi's "unexpected callback error"
//! path, which is exercised here exactly as the generated scaffolding calls it; the Kotlin
//! tests (`bindings/kotlin`) throw from real Kotlin implementations.

mod common;

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berani_ffi::{BeraniError, ReportState, Reporter, StopReason, UniFfiTag};
use common::*;
use uniffi::{LiftReturn, Lower, RustBuffer, RustCallStatus, RustCallStatusCode};

#[test]
fn a_key_store_error_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Reporter::open(home(&dir), Arc::new(FailingKeys))
        .err()
        .unwrap();
    match err {
        BeraniError::DeviceKeyUnavailable { detail } => {
            assert!(detail.contains("keystore locked"), "{detail}")
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_panicking_key_store_is_an_error_not_an_unwind() {
    let dir = tempfile::tempdir().unwrap();
    let err = Reporter::open(home(&dir), Arc::new(PanickingKeys))
        .err()
        .unwrap();
    assert!(
        matches!(&err, BeraniError::DeviceKeyUnavailable { detail } if detail.contains("panicked")),
        "{err:?}"
    );
    // The home is still usable with a working key store.
    Reporter::open(home(&dir), MemoryKeys::fresh()).unwrap();
}

#[test]
fn short_and_wrong_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = Reporter::open(home(&dir), Arc::new(MemoryKeys(Mutex::new(vec![7; 31]))))
        .err()
        .unwrap();
    assert!(
        matches!(err, BeraniError::DeviceKeyUnavailable { .. }),
        "{err:?}"
    );
    let keys = MemoryKeys::fresh();
    let r = Reporter::open(home(&dir), keys.clone()).unwrap();
    let id = r.create_draft().unwrap().id;
    drop(r);
    let err = Reporter::open(home(&dir), MemoryKeys::fresh())
        .err()
        .unwrap();
    assert_eq!(err, BeraniError::WrongDeviceKey);
    // The draft is intact for the right key.
    let r = Reporter::open(home(&dir), keys).unwrap();
    assert_eq!(r.draft(id.clone()).unwrap().id, id);
}

/// What the generated scaffolding does when a Kotlin implementation throws an exception that
/// is not a `BeraniException`: the call status is "unexpected error" with the exception's
/// text, and the return value is lifted through `LiftReturn`. With our
/// `From<UnexpectedUniFFICallbackError>` that is an `Err`, where uniffi's default panics.
#[test]
fn a_foreign_exception_becomes_an_error() {
    let status = RustCallStatus {
        code: RustCallStatusCode::UnexpectedError,
        error_buf: ManuallyDrop::new(<String as Lower<UniFfiTag>>::lower(
            "java.lang.IllegalStateException: Keystore unavailable".into(),
        )),
    };
    let lifted = <Result<Vec<u8>, BeraniError> as LiftReturn<UniFfiTag>>::lift_foreign_return(
        RustBuffer::default(),
        status,
    );
    match lifted {
        Err(BeraniError::Internal { detail }) => {
            assert!(detail.contains("Keystore unavailable"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // Same for the listener's and the log sink's unit results.
    let status = RustCallStatus {
        code: RustCallStatusCode::UnexpectedError,
        error_buf: ManuallyDrop::new(<String as Lower<UniFfiTag>>::lower("boom".into())),
    };
    let lifted =
        <Result<(), BeraniError> as LiftReturn<UniFfiTag>>::lift_foreign_return((), status);
    assert!(matches!(lifted, Err(BeraniError::Internal { .. })));
}

#[test]
fn listeners_that_panic_or_fail_do_not_stop_delivery() {
    let s = Setup::new();
    let a = s.queue_report("CONTOH SINTETIS: pendengar yang panik");
    let panicking = Arc::new(Listener {
        panic: true,
        ..Listener::default()
    });
    let summary = block_on(s.reporter.sync(60, panicking.clone()).unwrap().wait()).unwrap();
    assert_eq!(summary.stopped, StopReason::Done, "{summary:?}");
    assert_eq!(summary.delivered, vec![a.clone()]);
    assert!(panicking.progress.load(Ordering::SeqCst) > 0);

    let b = s.queue_report("CONTOH SINTETIS: pendengar yang gagal");
    let failing = Arc::new(Listener {
        fail: true,
        ..Listener::default()
    });
    let summary = block_on(s.reporter.sync(60, failing.clone()).unwrap().wait()).unwrap();
    assert_eq!(summary.delivered, vec![b.clone()]);
    let states = failing.states.lock().unwrap().clone();
    assert_eq!(
        states.last(),
        Some(&(b.clone(), ReportState::Delivered)),
        "{states:?}"
    );
    for r in s.reporter.outbox().unwrap() {
        assert_eq!(r.state, ReportState::Delivered);
        assert!(r.receipt.is_some());
    }
}

#[test]
fn dropping_the_handle_stops_the_sync_and_a_later_one_resumes() {
    let s = Setup::new();
    let r = &s.reporter;
    let id = r.create_draft().unwrap().id;
    r.set_category(id.clone(), Some(berani_ffi::Category::Neglect))
        .unwrap();
    r.set_district(id.clone(), Some("33.16.05".into())).unwrap();
    r.set_description(id.clone(), Some("CONTOH SINTETIS".into()))
        .unwrap();
    // A big "photo": a JPEG header and 24 MB of noise.
    let photo = s.dir.path().join("big.jpg");
    let mut bytes = std::fs::read(fixture("photo.jpg")).unwrap();
    bytes.extend(berani_tests::peers::pseudo_random(24_000_000, 7));
    std::fs::write(&photo, bytes).unwrap();
    // Kept as it is: stripping would cut the noise after the image's end.
    r.attach_file(id.clone(), photo.to_string_lossy().into(), false, true)
        .unwrap();
    r.submit(id.clone()).unwrap();

    // The listener drops the only handle at the attachment's first progress: the sync must
    // stop there, with the part partly on the server.
    let listener = Arc::new(DropHandleListener::default());
    let handle = r.sync(60, listener.clone()).unwrap();
    *listener.handle.lock().unwrap() = Some(handle);
    let start = std::time::Instant::now();
    while !listener.dropped.load(Ordering::SeqCst) {
        assert!(start.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = listener.events_after_drop.load(Ordering::SeqCst);
    assert_eq!(after, 0, "no progress after the handle was dropped");
    let report = &r.outbox().unwrap()[0];
    assert_eq!(report.state, ReportState::Sending, "{report:?}");
    assert!(!report.parts[1].done, "{report:?}");

    let summary = block_on(r.sync(120, Arc::new(Listener::default())).unwrap().wait()).unwrap();
    assert_eq!(summary.delivered, vec![id]);
}

/// Drops the sync's only handle from inside the sync, at the attachment's first progress.
#[derive(Default)]
struct DropHandleListener {
    handle: std::sync::Mutex<Option<Arc<berani_ffi::SyncHandle>>>,
    dropped: std::sync::atomic::AtomicBool,
    events_after_drop: std::sync::atomic::AtomicUsize,
}

impl berani_ffi::SyncListener for DropHandleListener {
    fn on_part_progress(
        &self,
        _: String,
        part: u32,
        sent: u64,
        total: u64,
    ) -> Result<(), BeraniError> {
        if self.dropped.load(Ordering::SeqCst) {
            self.events_after_drop.fetch_add(1, Ordering::SeqCst);
        } else if part == 1 && sent < total {
            let handle = self.handle.lock().unwrap().take();
            if handle.is_some() {
                drop(handle);
                self.dropped.store(true, Ordering::SeqCst);
            }
        }
        Ok(())
    }

    fn on_report_state(&self, _: String, _: ReportState) -> Result<(), BeraniError> {
        Ok(())
    }
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures")
        .join(name)
}
