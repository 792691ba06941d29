//! What may be attached: photos, audio (voice notes), video and PDF documents, recognised by
//! their content rather than their file name.

use crate::model::AttachmentKind;

/// The attachment kind for a detected media type, or `None` when it is not accepted.
pub fn kind_of(mime: &str) -> Option<AttachmentKind> {
    Some(match mime {
        "image/jpeg" | "image/png" | "image/webp" | "image/heif" | "image/heic" | "image/gif" => {
            AttachmentKind::Photo
        }
        "audio/mp4" | "audio/m4a" | "audio/aac" | "audio/ogg" | "audio/opus" | "audio/mpeg"
        | "audio/x-wav" | "audio/wav" | "audio/amr" | "audio/x-flac" | "audio/webm" => {
            AttachmentKind::Audio
        }
        "video/mp4" | "video/3gpp" | "video/webm" | "video/quicktime" | "video/x-matroska"
        | "video/x-m4v" => AttachmentKind::Video,
        "application/pdf" => AttachmentKind::Document,
        _ => return None,
    })
}

/// Detects the media type from the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    infer::get(head).map(|t| t.mime_type())
}

/// The kind to record for a file: a recording made as a voice note stays audio even in an
/// MP4/3GP/WebM container, which type detection reports as video.
pub fn classify(mime: &str, voice_note: bool) -> Option<AttachmentKind> {
    let kind = kind_of(mime)?;
    match (voice_note, kind) {
        (false, k) => Some(k),
        (true, AttachmentKind::Audio) => Some(AttachmentKind::Audio),
        (true, AttachmentKind::Video)
            if matches!(mime, "video/mp4" | "video/3gpp" | "video/webm") =>
        {
            Some(AttachmentKind::Audio)
        }
        (true, _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_by_content() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0];
        assert_eq!(sniff(&jpeg), Some("image/jpeg"));
        assert_eq!(kind_of("image/jpeg"), Some(AttachmentKind::Photo));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(
            sniff(b"MZ\x90\x00\x03\x00\x00\x00"),
            Some("application/vnd.microsoft.portable-executable")
        );
        assert_eq!(
            kind_of("application/vnd.microsoft.portable-executable"),
            None
        );
        assert_eq!(sniff(b"plain words"), None);
    }

    #[test]
    fn voice_notes_stay_audio() {
        assert_eq!(classify("video/mp4", true), Some(AttachmentKind::Audio));
        assert_eq!(classify("video/mp4", false), Some(AttachmentKind::Video));
        assert_eq!(classify("image/png", true), None);
    }
}
