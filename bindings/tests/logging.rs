//! The log sink: Berani's records reach it with level, target and message; other crates'
//! records, report content and a failing or re-entrant sink do not get through.
//!
//! One test function, because the subscriber is global to the process and each step changes
//! the sink.

mod common;

use std::sync::{Arc, Mutex};

use berani_ffi::{BeraniError, LogLevel, LogRecord, LogSink, init_logging};
use common::*;

#[derive(Default)]
struct Recorder(Mutex<Vec<LogRecord>>);

impl LogSink for Recorder {
    fn log(&self, record: LogRecord) -> Result<(), BeraniError> {
        self.0.lock().unwrap().push(record);
        Ok(())
    }
}

struct Panicking;

impl LogSink for Panicking {
    fn log(&self, _: LogRecord) -> Result<(), BeraniError> {
        panic!("sink bug")
    }
}

struct Failing;

impl LogSink for Failing {
    fn log(&self, _: LogRecord) -> Result<(), BeraniError> {
        Err(BeraniError::Internal {
            detail: "logcat gone".into(),
        })
    }
}

/// Logs again from inside the sink, as a Kotlin sink calling into Rust might.
#[derive(Default)]
struct Reentrant(Mutex<usize>);

impl LogSink for Reentrant {
    fn log(&self, _: LogRecord) -> Result<(), BeraniError> {
        *self.0.lock().unwrap() += 1;
        tracing::warn!(target: "berani_ffi::test", "from inside the sink");
        Ok(())
    }
}

const MARKER: &str = "MARKER-7f3a-ISI-LAPORAN";

#[test]
fn log_sink() {
    let rec = Arc::new(Recorder::default());
    init_logging(rec.clone(), LogLevel::Debug).unwrap();
    tracing::info!(target: "berani_ffi::test", reports = 3, "hello");
    tracing::debug!(target: "berani_ffi::test", "detail");
    tracing::trace!(target: "berani_ffi::test", "too fine");
    tracing::error!(target: "hyper::proto", "not ours");
    {
        let got = rec.0.lock().unwrap();
        let got: Vec<_> = got
            .iter()
            .map(|r| (r.level, r.target.as_str(), r.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (LogLevel::Info, "berani_ffi::test", "hello reports=3"),
                (LogLevel::Debug, "berani_ffi::test", "detail"),
            ]
        );
    }

    // A later call replaces the sink and the level.
    let quiet = Arc::new(Recorder::default());
    init_logging(quiet.clone(), LogLevel::Warn).unwrap();
    tracing::info!(target: "berani_ffi::test", "dropped");
    tracing::warn!(target: "berani_ffi::test", "kept");
    assert_eq!(quiet.0.lock().unwrap().len(), 1);

    // Failing and panicking sinks lose the record, nothing else.
    init_logging(Arc::new(Panicking), LogLevel::Info).unwrap();
    tracing::warn!(target: "berani_ffi::test", "into a panicking sink");
    init_logging(Arc::new(Failing), LogLevel::Info).unwrap();
    tracing::warn!(target: "berani_ffi::test", "into a failing sink");

    // A sink that logs is not called again from inside itself.
    let re = Arc::new(Reentrant::default());
    init_logging(re.clone(), LogLevel::Info).unwrap();
    tracing::warn!(target: "berani_ffi::test", "once");
    assert_eq!(*re.0.lock().unwrap(), 1);

    // A whole journey at the finest level: the sync is logged, the report's words are not.
    let all = Arc::new(Recorder::default());
    init_logging(all.clone(), LogLevel::Trace).unwrap();
    let s = Setup::new();
    let id = s.queue_report(&format!("CONTOH SINTETIS {MARKER}"));
    let summary = block_on(
        s.reporter
            .sync(60, Arc::new(Listener::default()))
            .unwrap()
            .wait(),
    )
    .unwrap();
    assert_eq!(summary.delivered, vec![id]);
    let records = all.0.lock().unwrap().clone();
    assert!(
        records
            .iter()
            .any(|r| r.target == "berani_ffi::sync" && r.message.starts_with("sync stopped")),
        "{records:?}"
    );
    for r in &records {
        assert!(!r.message.contains(MARKER), "{r:?}");
        assert!(r.target.starts_with("berani"), "{r:?}");
    }
}
