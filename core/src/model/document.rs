//! The report document: part 0 of every sealed report.
//!
//! It is JSON with a schema version, so the desk, the stock `age` tool plus any JSON reader,
//! and future versions of Berani can all read it. Attachments are referenced by part number
//! with their plaintext SHA-256, so the desk can check each part it opens.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{AttachmentKind, ReportFields};

/// The version of the report document this build writes.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One attachment of a sealed report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// The part that carries it (1-based; part 0 is this document).
    pub part: u32,
    /// Photo, audio, video or document.
    pub kind: AttachmentKind,
    /// The media type.
    pub mime: String,
    /// Plaintext size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the plaintext.
    pub sha256: String,
}

/// The sealed report's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDocument {
    /// Always [`REPORT_SCHEMA_VERSION`] when written by this build.
    pub schema_version: u32,
    /// The report id, as in the upload metadata.
    pub report_id: String,
    /// The regency the report is for (from the agency profile).
    pub regency: String,
    /// The agency profile version the report was sealed under.
    pub profile_version: u64,
    /// When the reporter started the draft.
    #[serde(with = "time::serde::rfc3339")]
    pub drafted_at: OffsetDateTime,
    /// When it was sealed.
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
    /// The answers.
    #[serde(flatten)]
    pub fields: ReportFields,
    /// The attachments, one part each.
    pub attachments: Vec<AttachmentRef>,
    /// The reporter's follow-up key for this report (an `age1…` recipient derived from the
    /// receipt code), so that the team can seal replies the reporter can open. Optional and
    /// ignored by older readers, so the schema version stays 1; absent in reports from
    /// builds without follow-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_recipient: Option<String>,
}

/// Why a report document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Not valid JSON for a report document.
    #[error("report document is malformed")]
    Malformed,
    /// Written by a newer version.
    #[error("report document has schema version {0}, newer than this build reads")]
    NewerSchema(u32),
}

impl ReportDocument {
    /// Serialises the document.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("report documents always serialise")
    }

    /// Parses a document opened from part 0.
    pub fn from_json(bytes: &[u8]) -> Result<Self, DocumentError> {
        // Read the version first, so a newer document gets a clear error, not a parse error.
        #[derive(Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let v: Version = serde_json::from_slice(bytes).map_err(|_| DocumentError::Malformed)?;
        if v.schema_version > REPORT_SCHEMA_VERSION {
            return Err(DocumentError::NewerSchema(v.schema_version));
        }
        serde_json::from_slice(bytes).map_err(|_| DocumentError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Category;

    #[test]
    fn round_trips_and_refuses_newer_or_malformed() {
        let doc = ReportDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            report_id: "abc".into(),
            regency: "33.16".into(),
            profile_version: 3,
            drafted_at: OffsetDateTime::UNIX_EPOCH,
            submitted_at: OffsetDateTime::UNIX_EPOCH,
            fields: ReportFields {
                category: Some(Category::Neglect),
                ..Default::default()
            },
            attachments: vec![],
            reporter_recipient: None,
        };
        let json = doc.to_json();
        assert_eq!(ReportDocument::from_json(&json).unwrap(), doc);
        let text = String::from_utf8(json).unwrap();
        assert!(text.contains("\"category\":\"neglect\""));
        let newer = text.replace("\"schema_version\":1", "\"schema_version\":2");
        assert!(matches!(
            ReportDocument::from_json(newer.as_bytes()),
            Err(DocumentError::NewerSchema(2))
        ));
        assert!(matches!(
            ReportDocument::from_json(b"{\"schema_version\":1}"),
            Err(DocumentError::Malformed)
        ));
    }
}
