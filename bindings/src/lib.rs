//! `berani-ffi`: the uniffi facade over `berani-core`, and the one native library the Android
//! app loads (`libberani_ffi.so`).
//!
//! Only this crate knows about FFI. It wraps the core's [`berani_core::Reporter`] in a
//! [`Reporter`] object whose methods are one call each, mirrors the core's types as uniffi
//! records and enums, and owns what a foreign caller needs besides: the public error type
//! ([`BeraniError`], mapped from core errors in `error.rs` only), the one tokio runtime that syncs
//! and awaited calls run on, logging to the platform, and the platform's capabilities as foreign traits
//! ([`DeviceKeyStore`], [`SyncListener`], [`LogSink`]). Kotlin is generated from the built
//! library in library mode (`scripts/test-kotlin`); the generated code is never committed.
//!
//! Where things live: `reporter.rs` the facade; `draft.rs`, `outbox.rs`, `profile.rs`,
//! `gazetteer.rs`, `choices.rs` the records; `keystore.rs` the device key; `safety.rs` the panic wipe, the PIN and the metadata warning; `sync.rs` delivery
//! and its handle; `logging.rs` the log sink; `runtime.rs` the runtime; `error.rs` errors.

mod choices;
mod draft;
mod error;
mod followup;
mod forget;
mod gazetteer;
mod keystore;
mod logging;
mod outbox;
mod profile;
mod relay;
mod reporter;
mod runtime;
mod safety;
mod sync;
mod volunteer;

pub use choices::*;
pub use draft::{Attachment, Contact, Draft, IncidentDate};
pub use error::{BeraniError, FieldProblem, ProfileProblem};
pub use followup::{CaseStatus, FollowupMessage, FollowupThread, MessageSender, ReceiptCode};
pub use forget::forget_refused_message;
pub use gazetteer::{Area, AreaLevel, AreaMatch};
pub use keystore::{DeviceKeyStore, new_device_key};
pub use logging::{LogLevel, LogRecord, LogSink, init_logging};
pub use outbox::{
    FailureReason, FailureReasonInfo, OutboxReport, PartKind, PartStatus, ReportState,
    failure_reasons,
};
pub use profile::{AgencyProfile, Hotline};
pub use relay::{RelayBundle, RelayInfo, relay_info};
pub use reporter::Reporter;
#[doc(hidden)]
pub use runtime::runtimes_built;
pub use safety::{
    Message, PinFailure, PinStatus, WipeOutcome, keep_metadata_warning, pin_failed, pin_status,
    set_pin, set_wipe_after, wipe_home,
};
pub use sync::{FailedReport, StopReason, SyncHandle, SyncListener, SyncSummary};
pub use volunteer::{Volunteer, VolunteerInstall};

uniffi::setup_scaffolding!();
