//! Whole-report checks made at submit: what must be present, and what the agency accepts.

use super::{AttachmentKind, Draft};
use crate::error::{Field, FieldError, Reason};

/// Most attachments one report may carry.
pub const MAX_ATTACHMENTS: usize = 20;

/// Lists every reason `draft` cannot be submitted to an agency serving `regency` that accepts
/// attachments up to `max_attachment_bytes`. Empty means ready.
///
/// Required: what happened (category), where (district), and either words or a voice note. A
/// voice note with no text is a complete report, for people who cannot write.
pub fn check_complete(draft: &Draft, regency: &str, max_attachment_bytes: u64) -> Vec<FieldError> {
    let f = &draft.fields;
    let mut errors = Vec::new();
    if f.category.is_none() {
        errors.push(FieldError::new(Field::Category, Reason::Required));
    }
    match &f.location.district {
        None => errors.push(FieldError::new(Field::District, Reason::Required)),
        Some(d) if d.get(..5) != Some(regency) || d.as_bytes().get(5) != Some(&b'.') => {
            errors.push(FieldError::new(Field::District, Reason::OutsideRegion))
        }
        Some(_) => {}
    }
    let has_voice = draft
        .attachments
        .iter()
        .any(|a| a.kind == AttachmentKind::Audio);
    if f.description.is_none() && !has_voice {
        errors.push(FieldError::new(
            Field::Description,
            Reason::TextOrVoiceNoteRequired,
        ));
    }
    if draft.attachments.len() > MAX_ATTACHMENTS {
        errors.push(FieldError::with_limit(
            Field::Attachment,
            Reason::TooMany,
            MAX_ATTACHMENTS as u64,
        ));
    }
    if draft
        .attachments
        .iter()
        .any(|a| a.size > max_attachment_bytes)
    {
        errors.push(FieldError::with_limit(
            Field::Attachment,
            Reason::TooLarge,
            max_attachment_bytes,
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attachment, Category, ReportFields};
    use time::OffsetDateTime;

    fn draft() -> Draft {
        Draft {
            id: "d".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            fields: ReportFields::default(),
            attachments: vec![],
        }
    }

    fn audio(size: u64) -> Attachment {
        Attachment {
            id: "a".into(),
            kind: AttachmentKind::Audio,
            mime: "audio/mp4".into(),
            size,
            added_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn lists_every_missing_field() {
        let reasons: Vec<_> = check_complete(&draft(), "33.16", 100)
            .into_iter()
            .map(|e| (e.field, e.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (Field::Category, Reason::Required),
                (Field::District, Reason::Required),
                (Field::Description, Reason::TextOrVoiceNoteRequired),
            ]
        );
    }

    #[test]
    fn a_voice_note_alone_is_enough() {
        let mut d = draft();
        d.fields.category = Some(Category::Physical);
        d.fields.location.district = Some("33.16.05".into());
        d.attachments.push(audio(10));
        assert!(check_complete(&d, "33.16", 100).is_empty());
        assert_eq!(
            check_complete(&d, "33.17", 100)[0].reason,
            Reason::OutsideRegion
        );
        d.attachments[0].size = 101;
        let e = &check_complete(&d, "33.16", 100)[0];
        assert_eq!(
            (e.field, e.reason, e.limit),
            (Field::Attachment, Reason::TooLarge, Some(100))
        );
    }
}
