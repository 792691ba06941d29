//! Shared set-up for the bindings' Rust tests: platform callbacks implemented in Rust (good,
//! failing and panicking ones), a live `berani-server` on loopback, and a ready report.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use berani_ffi::{
    BeraniError, Category, DeviceKeyStore, ReportState, Reporter, SyncListener, new_device_key,
};
use berani_tests::harness::Server;

/// A key store holding one key in memory, as a Keystore-backed one would; destroying it
/// forgets the key, and the next call makes a new one.
pub struct MemoryKeys(pub Mutex<Vec<u8>>);

impl MemoryKeys {
    pub fn fresh() -> Arc<Self> {
        Arc::new(MemoryKeys(Mutex::new(new_device_key())))
    }
}

impl DeviceKeyStore for MemoryKeys {
    fn device_key(&self) -> Result<Vec<u8>, BeraniError> {
        let mut k = self.0.lock().unwrap();
        if k.is_empty() {
            *k = new_device_key();
        }
        Ok(k.clone())
    }

    fn destroy_key(&self) -> Result<(), BeraniError> {
        let mut k = self.0.lock().unwrap();
        k.iter_mut().for_each(|b| *b = 0);
        k.clear();
        Ok(())
    }
}

/// A key store whose platform call fails.
pub struct FailingKeys;

impl DeviceKeyStore for FailingKeys {
    fn device_key(&self) -> Result<Vec<u8>, BeraniError> {
        Err(BeraniError::Internal {
            detail: "keystore locked".into(),
        })
    }

    fn destroy_key(&self) -> Result<(), BeraniError> {
        Err(BeraniError::Internal {
            detail: "keystore locked".into(),
        })
    }
}

/// A key store that panics.
pub struct PanickingKeys;

impl DeviceKeyStore for PanickingKeys {
    fn device_key(&self) -> Result<Vec<u8>, BeraniError> {
        panic!("key store bug")
    }

    fn destroy_key(&self) -> Result<(), BeraniError> {
        panic!("key store bug")
    }
}

/// Counts what a sync reports, and fails (panics or errs) on every call when asked to.
#[derive(Default)]
pub struct Listener {
    pub progress: AtomicUsize,
    pub states: Mutex<Vec<(String, ReportState)>>,
    pub panic: bool,
    pub fail: bool,
}

impl SyncListener for Listener {
    fn on_part_progress(
        &self,
        _report_id: String,
        _part: u32,
        _sent: u64,
        _total: u64,
    ) -> Result<(), BeraniError> {
        self.progress.fetch_add(1, Ordering::SeqCst);
        if self.panic {
            panic!("listener bug in on_part_progress");
        }
        if self.fail {
            return Err(BeraniError::Internal {
                detail: "UI gone".into(),
            });
        }
        Ok(())
    }

    fn on_report_state(&self, report_id: String, state: ReportState) -> Result<(), BeraniError> {
        self.states.lock().unwrap().push((report_id, state));
        if self.panic {
            panic!("listener bug in on_report_state");
        }
        if self.fail {
            return Err(BeraniError::Internal {
                detail: "UI gone".into(),
            });
        }
        Ok(())
    }
}

/// Runs a future the way Kotlin's coroutines do: polled on this thread, which has no tokio
/// context, and woken from whichever thread finishes the work.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    assert!(tokio::runtime::Handle::try_current().is_err());
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}

/// A live intake server and a reporter home with its profile installed.
pub struct Setup {
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub keys: Arc<MemoryKeys>,
    pub reporter: Arc<Reporter>,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&dir.path().join("server"), &[]);
        let keys = MemoryKeys::fresh();
        let reporter = Reporter::open(home(&dir), keys.clone()).unwrap();
        let p = block_on(reporter.import_profile_url(server.url(), Some(server.profile_key())))
            .unwrap();
        assert_eq!(p.regency_code, "33.16");
        Setup {
            server,
            dir,
            keys,
            reporter,
        }
    }

    /// A complete draft with `text` as its description, submitted; returns the report id.
    pub fn queue_report(&self, text: &str) -> String {
        let r = &self.reporter;
        let id = r.create_draft().unwrap().id;
        r.set_category(id.clone(), Some(Category::Physical))
            .unwrap();
        r.set_district(id.clone(), Some("33.16.09".into())).unwrap();
        r.set_description(id.clone(), Some(text.into())).unwrap();
        r.submit(id.clone()).unwrap().id
    }
}

pub fn home(dir: &tempfile::TempDir) -> String {
    dir.path().join("home").to_string_lossy().into_owned()
}
