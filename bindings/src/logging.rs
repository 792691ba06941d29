//! Logging to the platform: `tracing` events from Berani's own code, handed to a Kotlin
//! [`LogSink`] (Android: `android.util.Log`).
//!
//! Only events whose target starts with `berani` reach the sink: third-party crates may put
//! URLs or header values in theirs. Berani's events carry ids, counts, states and error kinds,
//! never report text, contact numbers, receipts, tokens or keys (the core itself does not log
//! at all). A sink that throws or panics loses that one record; a sink that logs back into
//! Rust on the same thread is not called again from inside itself.

use std::cell::Cell;
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Once, RwLock};

use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::error::{BeraniError, Result};

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something went wrong and was worked around.
    Warn,
    /// What a sync did, in one line per sync.
    Info,
    /// More detail, for field diagnostics.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn of(level: &Level) -> LogLevel {
        match *level {
            Level::ERROR => LogLevel::Error,
            Level::WARN => LogLevel::Warn,
            Level::INFO => LogLevel::Info,
            Level::DEBUG => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }
}

/// One log record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LogRecord {
    /// Its level.
    pub level: LogLevel,
    /// Where it comes from, e.g. `berani_ffi::sync`.
    pub target: String,
    /// The message, with its fields as `name=value`.
    pub message: String,
}

/// Where log records go: the platform's log.
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// Takes one record. Called on whichever thread logged; keep it quick.
    fn log(&self, record: LogRecord) -> Result<()>;
}

/// The installed sink and level; swapped by [`init_logging`], read (and the sink's `Arc`
/// cloned out) before every call, so no lock is held while Kotlin runs.
static SINK: RwLock<Option<Arc<dyn LogSink>>> = RwLock::new(None);
/// The most verbose level let through, as `LogLevel as u8`.
static LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);
static INSTALL: Once = Once::new();

thread_local! {
    static IN_SINK: Cell<bool> = const { Cell::new(false) };
}

/// Sends Berani's log records at `level` and above to `sink`. Call it once at start-up;
/// calling it again replaces the sink and level.
#[uniffi::export]
pub fn init_logging(sink: Arc<dyn LogSink>, level: LogLevel) -> Result<()> {
    *SINK.write().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    LEVEL.store(level as u8, Ordering::Relaxed);
    let mut installed = Ok(());
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(SinkLayer);
        installed = tracing::subscriber::set_global_default(subscriber).map_err(|_| {
            BeraniError::Internal {
                detail: "another logger is already installed in this process".into(),
            }
        });
    });
    installed
}

fn wanted(meta: &Metadata<'_>) -> bool {
    meta.target().starts_with("berani")
        && LogLevel::of(meta.level()) as u8 <= LEVEL.load(Ordering::Relaxed)
}

/// Formats an event's fields: the message first, then `name=value` for the others.
#[derive(Default)]
struct Message {
    text: String,
    fields: String,
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.text.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.text, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

/// The `tracing` layer that feeds the sink.
struct SinkLayer;

impl<S: Subscriber> Layer<S> for SinkLayer {
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // "Sometimes", not cached: the level can change with a later `init_logging`.
        if meta.target().starts_with("berani") {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        wanted(meta)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if !wanted(meta) || IN_SINK.with(Cell::get) {
            return;
        }
        let Some(sink) = SINK.read().unwrap_or_else(|p| p.into_inner()).clone() else {
            return;
        };
        let mut m = Message::default();
        event.record(&mut m);
        let record = LogRecord {
            level: LogLevel::of(meta.level()),
            target: meta.target().to_owned(),
            message: m.text + &m.fields,
        };
        IN_SINK.with(|f| f.set(true));
        // A failing sink cannot be told about its own failure: the record is dropped.
        let _ = catch_unwind(AssertUnwindSafe(|| sink.log(record)));
        IN_SINK.with(|f| f.set(false));
    }
}
