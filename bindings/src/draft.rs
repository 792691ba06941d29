//! A draft as Kotlin sees it: the answers so far and the attached files, as plain records.
//!
//! The core keeps drafts sealed on disk and checks every change; these records are read-only
//! snapshots of one draft, returned by every call that changes it. A field is changed with the
//! `Reporter.set…` method of that field (see `reporter.rs`).

use std::time::SystemTime;

use berani_core::model as core;

use crate::choices::{
    AgeBand, AttachmentKind, Category, ContactMethod, PlaceType, Relationship, ReporterRole,
    VictimSex,
};

/// When it happened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum IncidentDate {
    /// On a known day.
    Exact {
        /// The day, `YYYY-MM-DD`.
        date: String,
    },
    /// Some time between two days, both included.
    Approximate {
        /// The earliest day, `YYYY-MM-DD`.
        from: String,
        /// The latest day, `YYYY-MM-DD`.
        to: String,
    },
    /// Not known.
    Unknown,
}

impl From<core::IncidentDate> for IncidentDate {
    fn from(d: core::IncidentDate) -> Self {
        match d {
            core::IncidentDate::Exact { date } => IncidentDate::Exact { date },
            core::IncidentDate::Approximate { from, to } => IncidentDate::Approximate { from, to },
            core::IncidentDate::Unknown => IncidentDate::Unknown,
        }
    }
}

impl From<IncidentDate> for core::IncidentDate {
    fn from(d: IncidentDate) -> Self {
        match d {
            IncidentDate::Exact { date } => core::IncidentDate::Exact { date },
            IncidentDate::Approximate { from, to } => core::IncidentDate::Approximate { from, to },
            IncidentDate::Unknown => core::IncidentDate::Unknown,
        }
    }
}

/// How the team may contact the reporter: only with consent. The number exists only inside
/// the sealed report.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
#[uniffi::export(Debug)] // Kotlin's toString too hides the number
pub struct Contact {
    /// Phone or WhatsApp.
    pub method: ContactMethod,
    /// The number: digits with an optional leading `+`; spaces, dashes, dots and brackets are
    /// dropped when it is set.
    pub number: String,
}

impl std::fmt::Debug for Contact {
    // Never print the number, even in debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contact")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

impl From<core::Contact> for Contact {
    fn from(c: core::Contact) -> Self {
        Contact {
            method: c.method.into(),
            number: c.number,
        }
    }
}

impl From<Contact> for core::Contact {
    fn from(c: Contact) -> Self {
        core::Contact {
            method: c.method.into(),
            number: c.number,
        }
    }
}

/// A file attached to a draft, kept encrypted on the phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Attachment {
    /// Its id, for `Reporter.removeAttachment`.
    pub id: String,
    /// Photo, audio, video or document.
    pub kind: AttachmentKind,
    /// The detected media type, e.g. `image/jpeg`.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was attached.
    pub added_at: SystemTime,
}

impl From<core::Attachment> for Attachment {
    fn from(a: core::Attachment) -> Self {
        Attachment {
            id: a.id,
            kind: a.kind.into(),
            mime: a.mime,
            size: a.size,
            added_at: a.added_at.into(),
        }
    }
}

/// A report being written, as saved (encrypted) after its last change.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Draft {
    /// Its id; it becomes the report id at submit.
    pub id: String,
    /// When the reporter started it.
    pub created_at: SystemTime,
    /// When it last changed.
    pub updated_at: SystemTime,
    /// What happened.
    pub category: Option<Category>,
    /// Who the victim is.
    pub victim_sex: Option<VictimSex>,
    /// The victim's age band.
    pub victim_age_band: Option<AgeBand>,
    /// Who is reporting.
    pub reporter_role: Option<ReporterRole>,
    /// Someone is in danger now: show the emergency numbers first.
    pub in_danger_now: bool,
    /// When it happened.
    pub incident_date: Option<IncidentDate>,
    /// Kecamatan code, e.g. `33.16.05`.
    pub district: Option<String>,
    /// Desa/kelurahan code, e.g. `33.16.05.2001`.
    pub village: Option<String>,
    /// Free-text detail of the place.
    pub location_detail: Option<String>,
    /// The kind of place.
    pub place_type: Option<PlaceType>,
    /// The perpetrator's relationship to the victim.
    pub perpetrator_relationship: Option<Relationship>,
    /// What happened, in the reporter's words.
    pub description: Option<String>,
    /// Contact, only with consent.
    pub contact: Option<Contact>,
    /// Attached files, in the order added.
    pub attachments: Vec<Attachment>,
    /// A voice note (any audio attachment) is attached: with it, no text is needed.
    pub has_voice_note: bool,
}

impl From<core::Draft> for Draft {
    fn from(d: core::Draft) -> Self {
        let has_voice_note = d.has_voice_note();
        let f = d.fields;
        Draft {
            id: d.id,
            created_at: d.created_at.into(),
            updated_at: d.updated_at.into(),
            category: f.category.map(Into::into),
            victim_sex: f.victim_sex.map(Into::into),
            victim_age_band: f.victim_age_band.map(Into::into),
            reporter_role: f.reporter_role.map(Into::into),
            in_danger_now: f.in_danger_now,
            incident_date: f.incident_date.map(Into::into),
            district: f.location.district,
            village: f.location.village,
            location_detail: f.location.detail,
            place_type: f.place_type.map(Into::into),
            perpetrator_relationship: f.perpetrator_relationship.map(Into::into),
            description: f.description,
            contact: f.contact.map(Into::into),
            attachments: d.attachments.into_iter().map(Into::into).collect(),
            has_voice_note,
        }
    }
}
