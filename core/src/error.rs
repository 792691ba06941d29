//! The core's error type.
//!
//! One rich error with `#[from]` conversions, mapped to a small public enum by the front ends.
//! No variant carries report text, contact numbers, file paths or key material, so an error
//! can be logged or shown without leaking what a reporter wrote.

use serde::Serialize;

use crate::age::AgeError;
use crate::profile::ProfileError;

/// The input a validation error points at, by its machine-readable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// What happened.
    Category,
    /// The victim's sex.
    VictimSex,
    /// The victim's age band.
    VictimAgeBand,
    /// Who is reporting.
    ReporterRole,
    /// Whether someone is in danger now.
    InDangerNow,
    /// When it happened.
    IncidentDate,
    /// The kecamatan code.
    District,
    /// The desa/kelurahan code.
    Village,
    /// Free-text detail of the place.
    LocationDetail,
    /// The kind of place.
    PlaceType,
    /// The perpetrator's relationship to the victim.
    PerpetratorRelationship,
    /// The description text.
    Description,
    /// The contact number.
    ContactNumber,
    /// An attachment.
    Attachment,
    /// The app PIN.
    Pin,
    /// A follow-up receipt code.
    Receipt,
    /// A follow-up message.
    Message,
    /// A volunteer's code.
    VolunteerCode,
}

impl Field {
    /// The fields of a report, in the order the form asks for them: the draft's answers, its
    /// contact number and its attachments. The other fields are the app's own inputs (PIN,
    /// receipt code, follow-up message, volunteer code).
    pub const REPORT: [Field; 14] = [
        Field::Category,
        Field::VictimSex,
        Field::VictimAgeBand,
        Field::ReporterRole,
        Field::InDangerNow,
        Field::IncidentDate,
        Field::District,
        Field::Village,
        Field::LocationDetail,
        Field::PlaceType,
        Field::PerpetratorRelationship,
        Field::Description,
        Field::ContactNumber,
        Field::Attachment,
    ];

    /// The machine-readable name, as in the report document.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Category => "category",
            Field::VictimSex => "victim_sex",
            Field::VictimAgeBand => "victim_age_band",
            Field::ReporterRole => "reporter_role",
            Field::InDangerNow => "in_danger_now",
            Field::IncidentDate => "incident_date",
            Field::District => "district",
            Field::Village => "village",
            Field::LocationDetail => "location_detail",
            Field::PlaceType => "place_type",
            Field::PerpetratorRelationship => "perpetrator_relationship",
            Field::Description => "description",
            Field::ContactNumber => "contact_number",
            Field::Attachment => "attachment",
            Field::Pin => "pin",
            Field::Receipt => "receipt",
            Field::Message => "message",
            Field::VolunteerCode => "volunteer_code",
        }
    }

    /// The field's own label in plain Indonesian, as the form shows it.
    pub fn label_id(self) -> &'static str {
        match self {
            Field::Category => "Jenis kejadian",
            Field::VictimSex => "Korban",
            Field::VictimAgeBand => "Umur korban",
            Field::ReporterRole => "Pelapor",
            Field::InDangerNow => "Ada yang dalam bahaya sekarang",
            Field::IncidentDate => "Waktu kejadian",
            Field::District => "Kecamatan",
            Field::Village => "Desa/kelurahan",
            Field::LocationDetail => "Keterangan tempat",
            Field::PlaceType => "Jenis tempat",
            Field::PerpetratorRelationship => "Hubungan pelaku",
            Field::Description => "Cerita kejadian",
            Field::ContactNumber => "Nomor kontak",
            Field::Attachment => "Lampiran",
            Field::Pin => "PIN",
            Field::Receipt => "Kode laporan",
            Field::Message => "Pesan",
            Field::VolunteerCode => "Kode relawan",
        }
    }

    /// The field's own label in plain English.
    pub fn label_en(self) -> &'static str {
        match self {
            Field::Category => "What happened",
            Field::VictimSex => "Victim",
            Field::VictimAgeBand => "Victim's age",
            Field::ReporterRole => "Reporter",
            Field::InDangerNow => "Someone in danger now",
            Field::IncidentDate => "When it happened",
            Field::District => "District",
            Field::Village => "Village",
            Field::LocationDetail => "Place details",
            Field::PlaceType => "Kind of place",
            Field::PerpetratorRelationship => "Perpetrator's relationship",
            Field::Description => "What happened, in words",
            Field::ContactNumber => "Contact number",
            Field::Attachment => "Attachment",
            Field::Pin => "PIN",
            Field::Receipt => "Report code",
            Field::Message => "Message",
            Field::VolunteerCode => "Volunteer code",
        }
    }
}

/// Why a field was refused, as a stable reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The field must be filled in.
    Required,
    /// Neither a description nor a voice note was given.
    TextOrVoiceNoteRequired,
    /// The value is not one of the allowed ones.
    UnknownValue,
    /// The area code is not in the gazetteer.
    UnknownCode,
    /// The village is not in the chosen district.
    NotInDistrict,
    /// The area is outside the agency's regency.
    OutsideRegion,
    /// Choose the district before the village.
    DistrictFirst,
    /// The text is longer than allowed.
    TooLong,
    /// The file is larger than the agency accepts.
    TooLarge,
    /// The file is of a type the agency does not accept.
    UnsupportedType,
    /// The file could not be read.
    Unreadable,
    /// The file is empty.
    Empty,
    /// The value is badly formed.
    InvalidFormat,
    /// The date lies in the future.
    InFuture,
    /// The start of a date range is after its end.
    InvalidRange,
    /// Too many attachments.
    TooMany,
    /// Identifying metadata (location, phone model) could not be removed from the file.
    MetadataNotRemoved,
    /// The PIN is not 4 to 12 digits.
    PinFormat,
    /// A character was mistyped: the check character does not fit.
    Mistyped,
}

impl Reason {
    /// The stable reason code, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Required => "required",
            Reason::TextOrVoiceNoteRequired => "text_or_voice_note_required",
            Reason::UnknownValue => "unknown_value",
            Reason::UnknownCode => "unknown_code",
            Reason::NotInDistrict => "not_in_district",
            Reason::OutsideRegion => "outside_region",
            Reason::DistrictFirst => "district_first",
            Reason::TooLong => "too_long",
            Reason::TooLarge => "too_large",
            Reason::UnsupportedType => "unsupported_type",
            Reason::Unreadable => "unreadable",
            Reason::Empty => "empty",
            Reason::InvalidFormat => "invalid_format",
            Reason::InFuture => "in_future",
            Reason::InvalidRange => "invalid_range",
            Reason::TooMany => "too_many",
            Reason::MetadataNotRemoved => "metadata_not_removed",
            Reason::PinFormat => "pin_format",
            Reason::Mistyped => "mistyped",
        }
    }
}

/// A refused input: which field, why, and how to say it to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{} (field `{}`: {})", self.message_en(), field.as_str(), reason.as_str())]
pub struct FieldError {
    /// The field.
    pub field: Field,
    /// The reason code.
    pub reason: Reason,
    /// The limit that was passed, for `TooLong` (characters), `TooLarge` (bytes) and `TooMany`.
    pub limit: Option<u64>,
}

impl FieldError {
    /// A field error without a limit.
    pub fn new(field: Field, reason: Reason) -> Self {
        Self {
            field,
            reason,
            limit: None,
        }
    }

    /// A field error with the limit that was passed.
    pub fn with_limit(field: Field, reason: Reason, limit: u64) -> Self {
        Self {
            field,
            reason,
            limit: Some(limit),
        }
    }

    fn limit_text(&self) -> String {
        match (self.reason, self.limit) {
            (Reason::TooLarge, Some(b)) => format!("{} MB", b.div_ceil(1_000_000)),
            (_, Some(n)) => n.to_string(),
            _ => String::new(),
        }
    }

    /// The message in plain Indonesian.
    pub fn message_id(&self) -> String {
        let l = self.limit_text();
        let why = match self.reason {
            Reason::Required => "wajib diisi".to_string(),
            Reason::TextOrVoiceNoteRequired => "tulis ceritanya atau rekam pesan suara".to_string(),
            Reason::UnknownValue => "pilihan tidak dikenal".to_string(),
            Reason::UnknownCode => "kode wilayah tidak dikenal".to_string(),
            Reason::NotInDistrict => "desa ini tidak ada di kecamatan yang dipilih".to_string(),
            Reason::OutsideRegion => "wilayah ini di luar daerah layanan".to_string(),
            Reason::DistrictFirst => "pilih kecamatan dulu".to_string(),
            Reason::TooLong => format!("terlalu panjang (paling banyak {l} huruf)"),
            Reason::TooLarge => format!("file terlalu besar (paling besar {l})"),
            Reason::UnsupportedType => {
                "jenis file tidak bisa dikirim (kirim foto, suara, video atau PDF)".to_string()
            }
            Reason::Unreadable => "file tidak bisa dibaca".to_string(),
            Reason::Empty => "file kosong".to_string(),
            Reason::InvalidFormat => "isinya tidak sesuai format".to_string(),
            Reason::InFuture => "tanggal belum terjadi".to_string(),
            Reason::InvalidRange => "tanggal awal sesudah tanggal akhir".to_string(),
            Reason::TooMany => format!("terlalu banyak (paling banyak {l})"),
            Reason::MetadataNotRemoved => "data lokasi dan jenis ponsel tidak bisa dihapus dari \
                file ini, jadi file tidak dilampirkan"
                .to_string(),
            Reason::PinFormat => "PIN harus 4 sampai 12 angka".to_string(),
            Reason::Mistyped => {
                "ada huruf yang salah ketik; periksa lagi setiap kelompok".to_string()
            }
        };
        format!("{}: {why}", self.field.label_id())
    }

    /// The message in plain English.
    pub fn message_en(&self) -> String {
        let l = self.limit_text();
        let why = match self.reason {
            Reason::Required => "is required".to_string(),
            Reason::TextOrVoiceNoteRequired => "write what happened or record a voice note".into(),
            Reason::UnknownValue => "is not one of the choices".to_string(),
            Reason::UnknownCode => "area code is not known".to_string(),
            Reason::NotInDistrict => "this village is not in the chosen district".to_string(),
            Reason::OutsideRegion => "this area is outside the agency's region".to_string(),
            Reason::DistrictFirst => "choose the district first".to_string(),
            Reason::TooLong => format!("is too long (at most {l} characters)"),
            Reason::TooLarge => format!("file is too large (at most {l})"),
            Reason::UnsupportedType => {
                "this kind of file cannot be sent (send a photo, audio, video or PDF)".to_string()
            }
            Reason::Unreadable => "file cannot be read".to_string(),
            Reason::Empty => "file is empty".to_string(),
            Reason::InvalidFormat => "is not in the right format".to_string(),
            Reason::InFuture => "date is in the future".to_string(),
            Reason::InvalidRange => "start date is after the end date".to_string(),
            Reason::TooMany => format!("too many (at most {l})"),
            Reason::MetadataNotRemoved => "the location and phone model could not be removed \
                from this file, so it was not attached"
                .to_string(),
            Reason::PinFormat => "the PIN must be 4 to 12 digits".to_string(),
            Reason::Mistyped => "a character is mistyped; check each group again".to_string(),
        };
        format!("{}: {why}", self.field.label_en())
    }
}

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// One input was refused.
    #[error("{0}")]
    InvalidInput(#[from] FieldError),
    /// A draft cannot be submitted yet; every missing or wrong field is listed.
    #[error("report is incomplete: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Incomplete(Vec<FieldError>),
    /// No such draft, report or attachment.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The agency profile was refused or is missing.
    #[error("agency profile: {0}")]
    Profile(#[from] ProfileError),
    /// An age file could not be sealed or opened.
    #[error("{0}")]
    Age(#[from] AgeError),
    /// The device key does not open this store.
    #[error("the device key does not open this data folder (wrong or replaced key)")]
    WrongDeviceKey,
    /// The PIN does not open this home; nothing was changed.
    #[error("wrong PIN")]
    WrongPin,
    /// The platform could not supply the device key.
    #[error("the device key is unavailable: {0}")]
    DeviceKey(String),
    /// The database file is damaged or is not a Berani database.
    #[error("the database file is damaged or not a Berani database")]
    StorageCorrupt,
    /// The database was written by a newer version of Berani.
    #[error(
        "the database was written by a newer version of Berani (schema {found}, this build reads up to {supported})"
    )]
    NewerSchema {
        /// Version found in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// A stored record failed authentication: altered on disk.
    #[error("a stored record is damaged")]
    RecordCorrupt,
    /// SQLite failed (other than damage, which is [`CoreError::StorageCorrupt`]).
    #[error("database error: {0}")]
    Storage(#[source] rusqlite::Error),
    /// A file operation failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    /// A signed document or key was refused.
    #[error("{0}")]
    Signature(#[from] crate::jws::JwsError),
    /// The report is not in a state that allows the operation.
    #[error("report is {0}; that cannot be done now")]
    WrongState(&'static str),
    /// The network or the intake server failed in a way the caller has to hear about (the
    /// uploader itself retries and reports through its sync report). The text says what
    /// failed; it never holds report content, tokens or URLs.
    #[error("network: {0}")]
    Network(String),
    /// A relay bundle was refused, or the report cannot be relayed.
    #[error("relay: {0}")]
    Relay(#[from] crate::relay::RelayError),
}

impl CoreError {
    /// A one-line message in plain Indonesian, for the people who see errors.
    pub fn message_id(&self) -> String {
        match self {
            CoreError::InvalidInput(e) => e.message_id(),
            CoreError::Incomplete(es) => format!(
                "Laporan belum lengkap: {}",
                es.iter()
                    .map(FieldError::message_id)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            CoreError::NotFound(what) => format!("Tidak ditemukan ({what})"),
            CoreError::Profile(e) => format!("Profil lembaga ditolak: {}", e.message_id()),
            CoreError::Age(_) => "File terenkripsi rusak atau bukan untuk kunci ini".into(),
            CoreError::WrongDeviceKey => "Kunci perangkat tidak cocok dengan data ini".into(),
            CoreError::DeviceKey(_) => "Kunci perangkat tidak tersedia".into(),
            CoreError::WrongPin => "PIN salah".into(),
            CoreError::StorageCorrupt | CoreError::RecordCorrupt => {
                "Data di ponsel rusak; data tidak diubah".into()
            }
            CoreError::NewerSchema { .. } => {
                "Data dibuat oleh versi Berani yang lebih baru; perbarui aplikasi".into()
            }
            CoreError::Storage(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                "Gagal menyimpan; ruang penyimpanan penuh".into()
            }
            CoreError::Io(e) if e.kind() == std::io::ErrorKind::StorageFull => {
                "Gagal menyimpan; ruang penyimpanan penuh".into()
            }
            CoreError::Storage(_) | CoreError::Io(_) => {
                "Gagal membaca atau menyimpan data di ponsel; coba lagi".into()
            }
            CoreError::WrongState(crate::forget::NOT_DELIVERED) => {
                "Laporan belum terkirim; salinannya belum bisa dihapus karena laporan akan hilang"
                    .into()
            }
            CoreError::WrongState(_) => "Laporan tidak bisa diubah sekarang".into(),
            CoreError::Signature(_) => "Tanda tangan atau kunci tidak sah".into(),
            CoreError::Network(_) => "Tidak bisa menghubungi server lembaga".into(),
            CoreError::Relay(e) => e.message_id(),
        }
    }

    /// Maps SQLite's "not a database" and corruption codes to [`CoreError::StorageCorrupt`].
    /// Every SQLite error reaches the core's callers through here (it is the `From`
    /// conversion `?` uses), so damage found by any statement, not only the first one at open,
    /// is reported as damage.
    pub(crate) fn from_sqlite(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match e.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => CoreError::StorageCorrupt,
            _ => CoreError::Storage(e),
        }
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::from_sqlite(e)
    }
}

/// Shorthand for the core's results.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_match_their_serialised_form() {
        for r in [
            Reason::Required,
            Reason::TextOrVoiceNoteRequired,
            Reason::UnknownCode,
            Reason::NotInDistrict,
            Reason::TooLarge,
            Reason::InFuture,
            Reason::TooMany,
        ] {
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        let e = FieldError::new(Field::District, Reason::UnknownCode);
        assert_eq!(
            e.to_string(),
            "District: area code is not known (field `district`: unknown_code)"
        );
    }

    fn sqlite_error(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn every_sqlite_corruption_code_becomes_storage_corrupt() {
        fn through_question_mark(e: rusqlite::Error) -> Result<()> {
            Err(e)?;
            Ok(())
        }
        for code in [
            rusqlite::ffi::SQLITE_CORRUPT,
            rusqlite::ffi::SQLITE_NOTADB,
            rusqlite::ffi::SQLITE_CORRUPT_INDEX,
            rusqlite::ffi::SQLITE_CORRUPT_SEQUENCE,
        ] {
            let e = through_question_mark(sqlite_error(code)).unwrap_err();
            assert!(matches!(e, CoreError::StorageCorrupt), "{code}: {e:?}");
            assert_eq!(e.message_id(), "Data di ponsel rusak; data tidak diubah");
            assert!(e.to_string().contains("damaged"), "{e}");
        }
        // Other failures stay storage errors, and only a full disk says to free space.
        let busy = CoreError::from(sqlite_error(rusqlite::ffi::SQLITE_BUSY));
        assert!(matches!(busy, CoreError::Storage(_)), "{busy:?}");
        assert!(
            !busy.message_id().contains("penuh"),
            "{}",
            busy.message_id()
        );
        let full = CoreError::from(sqlite_error(rusqlite::ffi::SQLITE_FULL));
        assert!(full.message_id().contains("penuh"), "{}", full.message_id());
    }

    #[test]
    fn report_fields_have_their_own_distinct_labels() {
        let mut seen = std::collections::HashSet::new();
        for f in Field::REPORT {
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            assert!(
                !f.label_id().is_empty() && !f.label_en().is_empty(),
                "{f:?}"
            );
            assert!(
                seen.insert(f.label_id()),
                "{f:?}: Indonesian label repeated"
            );
            assert!(seen.insert(f.label_en()), "{f:?}: English label repeated");
        }
    }
}
