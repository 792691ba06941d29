//! `berani-core`: everything a reporter's phone does, in plain Rust.
//!
//! The core drafts reports, keeps them encrypted on the device, seals them to the agency's
//! public keys in the age v1 format and queues the sealed parts in a durable outbox. It knows
//! nothing about FFI or UI: `berani-ffi` and the `berani` CLI are thin front ends over
//! [`Reporter`].

pub mod age;
pub mod attach;
pub mod crypto;
pub mod error;
pub mod followup;
pub mod forget;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod gazetteer;
pub mod jws;
pub mod model;
pub mod outbox;
pub mod profile;
pub mod protocol;
pub mod relay;
pub mod reporter;
pub mod store;
pub mod strip;
pub mod upload;
pub mod volunteer;
pub mod wipe;

pub use error::{CoreError, Field, FieldError, Reason};
pub use reporter::{DraftEdit, EditRefused, NewAttachment, Reporter};
