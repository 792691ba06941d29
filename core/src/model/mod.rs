//! The report model: drafts as the reporter builds them, and the sealed report document.

pub mod choices;
pub mod document;
pub mod fields;
pub mod validate;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use choices::{
    AgeBand, AttachmentKind, Category, Choice, ContactMethod, PlaceType, Relationship,
    ReporterRole, VictimSex,
};
pub use document::{AttachmentRef, REPORT_SCHEMA_VERSION, ReportDocument};
pub use fields::{Contact, FieldValue, IncidentDate, Location, ReportFields};

/// A file attached to a draft. The file itself is stored encrypted beside the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Random id.
    pub id: String,
    /// Photo, audio, video or document.
    pub kind: AttachmentKind,
    /// The detected media type, e.g. `image/jpeg`.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was attached.
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

/// A report being written. Saved, encrypted, on every change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Random id; it becomes the report id at submit, so a retried submit is the same report.
    pub id: String,
    /// When the reporter started it.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// The answers so far.
    #[serde(flatten)]
    pub fields: ReportFields,
    /// Attached files, in the order added.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl Draft {
    /// True when a voice note (any audio attachment) is attached.
    pub fn has_voice_note(&self) -> bool {
        self.attachments
            .iter()
            .any(|a| a.kind == AttachmentKind::Audio)
    }
}
