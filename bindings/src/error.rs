//! The one public error type, [`BeraniError`], and the only place core errors are mapped to it.
//!
//! The core's `CoreError` is rich and internal; Kotlin sees a few actionable variants as typed
//! exceptions (`BeraniException.InvalidInput`, …). Every mapping between the two, and from a
//! failing platform callback, lives in this file. No variant carries report text, contact
//! numbers, receipts, key material or file paths: the core's errors do not hold them, and
//! nothing here adds them.

use berani_core::profile::ProfileError;
use berani_core::store::KeyStoreError;
use berani_core::{CoreError, FieldError};

/// One refused report field: which field, why, and what to tell the reporter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldProblem {
    /// The field's machine name, e.g. `district`, `description`, `attachment`.
    pub field: String,
    /// The reason code, e.g. `required`, `unknown_code`, `too_long`.
    pub reason: String,
    /// The limit that was passed, for `too_long` (characters), `too_large` (bytes) and
    /// `too_many`.
    pub limit: Option<u64>,
    /// What to tell the reporter, in Indonesian.
    pub message_id: String,
    /// What to tell the reporter, in English.
    pub message_en: String,
}

/// Why an agency profile was refused or is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProfileProblem {
    /// Not a signed profile, or a field is malformed.
    Malformed,
    /// The profile carries no signature (a bare profile JSON, or its signature removed).
    Unsigned,
    /// The signature does not verify under the trusted profile-signing key.
    BadSignature,
    /// The profile has expired: fetch a fresh one.
    Expired,
    /// The offered profile is older than the installed one.
    Older,
    /// No profile-signing key is trusted yet: pass `trust` on the first import.
    NoTrustedKey,
    /// A different profile-signing key is already trusted.
    KeyMismatch,
    /// The profile-signing key given is malformed.
    BadKey,
    /// No profile is installed yet: import one first.
    NotInstalled,
    /// This build has no map data for the profile's regency.
    UnknownRegency,
    /// The trusted key or the installed profile on this phone was changed outside the app:
    /// import the profile again, passing the agency's profile-signing key as `trust`.
    Tampered,
}

/// Everything that can go wrong, as Kotlin sees it (`BeraniException`).
// Not `flat_error` (the derive's default): Kotlin gets each variant's fields, typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum BeraniError {
    /// One input was refused; the draft or home is unchanged.
    #[error("invalid input: {message_en} (field `{field}`, reason `{reason}`)")]
    InvalidInput {
        /// The field's machine name, e.g. `district`.
        field: String,
        /// The reason code, e.g. `unknown_code`.
        reason: String,
        /// What to tell the reporter, in Indonesian.
        message_id: String,
        /// What to tell the reporter, in English.
        message_en: String,
    },
    /// The draft cannot be submitted yet; every missing or wrong field is listed.
    #[error("report is incomplete ({} problems)", problems.len())]
    Incomplete {
        /// Every problem, in field order.
        problems: Vec<FieldProblem>,
    },
    /// No such draft, report or attachment.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for: `draft`, `report`, `attachment`, `district`, …
        what: String,
    },
    /// The agency profile was refused, or none usable is installed.
    #[error("agency profile: {detail}")]
    Profile {
        /// What is wrong, as a code.
        problem: ProfileProblem,
        /// What is wrong, in English.
        detail: String,
    },
    /// The intake server could not be reached or answered badly (profile download). A sync
    /// does not fail with this: it stops and says so in its summary.
    #[error("network: {detail}")]
    Network {
        /// What failed, in English (no URL, token or content).
        detail: String,
    },
    /// The phone's storage failed, is full, or holds a damaged or newer database.
    #[error("storage: {detail}")]
    Storage {
        /// What failed, in English.
        detail: String,
    },
    /// Sealing or opening encrypted data failed.
    #[error("crypto: {detail}")]
    Crypto {
        /// What failed, in English.
        detail: String,
    },
    /// The device key does not open this home folder (wrong or replaced key).
    #[error("the device key does not open this data folder")]
    WrongDeviceKey,
    /// The PIN does not open this home (or none was given and one is set); nothing changed.
    #[error("wrong PIN")]
    WrongPin,
    /// The platform could not supply the device key (the key store failed or is locked).
    #[error("the device key is unavailable: {detail}")]
    DeviceKeyUnavailable {
        /// What the platform said, in English.
        detail: String,
    },
    /// The report is not in a state that allows this now.
    #[error("wrong state: {detail}")]
    WrongState {
        /// Which state it is in.
        detail: String,
    },
    /// A relay bundle was refused (another agency's, damaged or changed, an unknown version,
    /// not a bundle), or the report cannot go via a volunteer.
    #[error("relay: {message_en} (reason `{reason}`)")]
    Relay {
        /// Stable key: `not_a_bundle`, `unknown_version`, `other_agency`, `tampered`,
        /// `not_waiting`.
        reason: String,
        /// What to tell the person, in Indonesian.
        message_id: String,
        /// The same in English.
        message_en: String,
    },
    /// A bug or an unexpected failure, including a platform callback that threw something
    /// other than a `BeraniException`.
    #[error("internal error: {detail}")]
    Internal {
        /// What happened, in English.
        detail: String,
    },
}

/// Shorthand for the bindings' results.
pub type Result<T, E = BeraniError> = std::result::Result<T, E>;

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        FieldProblem {
            field: e.field.as_str().to_owned(),
            reason: e.reason.as_str().to_owned(),
            limit: e.limit,
            message_id: e.message_id(),
            message_en: e.message_en(),
        }
    }
}

impl From<&ProfileError> for ProfileProblem {
    fn from(e: &ProfileError) -> Self {
        match e {
            ProfileError::Malformed(_) => ProfileProblem::Malformed,
            ProfileError::Unsigned => ProfileProblem::Unsigned,
            ProfileError::BadSignature => ProfileProblem::BadSignature,
            ProfileError::Expired => ProfileProblem::Expired,
            ProfileError::Older { .. } => ProfileProblem::Older,
            ProfileError::NoTrustedKey => ProfileProblem::NoTrustedKey,
            ProfileError::KeyMismatch => ProfileProblem::KeyMismatch,
            ProfileError::BadKey => ProfileProblem::BadKey,
            ProfileError::NotInstalled => ProfileProblem::NotInstalled,
            ProfileError::UnknownRegency => ProfileProblem::UnknownRegency,
            ProfileError::Tampered => ProfileProblem::Tampered,
        }
    }
}

fn profile(e: ProfileError) -> BeraniError {
    BeraniError::Profile {
        problem: (&e).into(),
        detail: e.to_string(),
    }
}

impl From<CoreError> for BeraniError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::InvalidInput(fe) => {
                let p = FieldProblem::from(&fe);
                BeraniError::InvalidInput {
                    field: p.field,
                    reason: p.reason,
                    message_id: p.message_id,
                    message_en: p.message_en,
                }
            }
            CoreError::Incomplete(es) => BeraniError::Incomplete {
                problems: es.iter().map(FieldProblem::from).collect(),
            },
            CoreError::NotFound(what) => BeraniError::NotFound {
                what: what.to_owned(),
            },
            CoreError::Profile(pe) => profile(pe),
            // A signed document or key string (the `trust` key) was refused: a profile matter.
            CoreError::Signature(je) => profile(je.into()),
            CoreError::Network(detail) => BeraniError::Network { detail },
            CoreError::Age(_) => BeraniError::Crypto {
                detail: e.to_string(),
            },
            CoreError::WrongDeviceKey => BeraniError::WrongDeviceKey,
            CoreError::WrongPin => BeraniError::WrongPin,
            CoreError::DeviceKey(detail) => BeraniError::DeviceKeyUnavailable { detail },
            CoreError::StorageCorrupt
            | CoreError::RecordCorrupt
            | CoreError::NewerSchema { .. }
            | CoreError::Storage(_)
            | CoreError::Io(_) => BeraniError::Storage {
                detail: e.to_string(),
            },
            CoreError::WrongState(state) => BeraniError::WrongState {
                detail: state.to_owned(),
            },
            CoreError::Relay(re) => BeraniError::Relay {
                reason: re.key().to_owned(),
                message_id: re.message_id(),
                message_en: re.message_en(),
            },
        }
    }
}

/// A platform callback threw something that is not a `BeraniException`, or broke the FFI
/// contract: an error for the caller, never a crash.
impl From<uniffi::UnexpectedUniFFICallbackError> for BeraniError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        BeraniError::Internal {
            detail: format!("a platform callback failed: {}", e.reason),
        }
    }
}

/// What the core hears when the platform's key store fails: the error's text, never a key.
impl From<BeraniError> for KeyStoreError {
    fn from(e: BeraniError) -> Self {
        KeyStoreError(e.to_string())
    }
}

impl BeraniError {
    /// For a Rust panic caught at a platform boundary (its payload is dropped unread: it may
    /// hold anything).
    pub(crate) fn panicked(what: &str) -> Self {
        BeraniError::Internal {
            detail: format!("{what} panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berani_core::{Field, Reason};

    #[test]
    fn field_errors_keep_field_reason_and_both_messages() {
        let e: BeraniError = CoreError::from(FieldError::with_limit(
            Field::Description,
            Reason::TooLong,
            5,
        ))
        .into();
        let BeraniError::InvalidInput {
            field,
            reason,
            message_id,
            message_en,
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(
            (field.as_str(), reason.as_str()),
            ("description", "too_long")
        );
        assert!(message_id.contains("paling banyak 5"), "{message_id}");
        assert!(message_en.contains("at most 5"), "{message_en}");
    }

    #[test]
    fn incomplete_lists_every_problem() {
        let e: BeraniError = CoreError::Incomplete(vec![
            FieldError::new(Field::Category, Reason::Required),
            FieldError::new(Field::Description, Reason::TextOrVoiceNoteRequired),
        ])
        .into();
        let BeraniError::Incomplete { problems } = e else {
            panic!()
        };
        let keys: Vec<_> = problems
            .iter()
            .map(|p| (p.field.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("category", "required"),
                ("description", "text_or_voice_note_required")
            ]
        );
    }

    #[test]
    fn profile_and_key_errors_are_typed() {
        let e: BeraniError = CoreError::Profile(ProfileError::Expired).into();
        assert!(matches!(
            e,
            BeraniError::Profile {
                problem: ProfileProblem::Expired,
                ..
            }
        ));
        let bad_key = "not a key"
            .parse::<berani_core::profile::ProfileKey>()
            .unwrap_err();
        let e: BeraniError = CoreError::from(bad_key).into();
        assert!(matches!(
            e,
            BeraniError::Profile {
                problem: ProfileProblem::BadKey,
                ..
            }
        ));
        let e: BeraniError = CoreError::Profile(ProfileError::Unsigned).into();
        assert!(matches!(
            e,
            BeraniError::Profile {
                problem: ProfileProblem::Unsigned,
                ref detail,
            } if detail.contains("not signed")
        ));
        assert_eq!(
            BeraniError::from(CoreError::WrongDeviceKey),
            BeraniError::WrongDeviceKey
        );
        let e: BeraniError = CoreError::Profile(ProfileError::Tampered).into();
        let BeraniError::Profile { problem, detail } = e else {
            panic!("{e:?}")
        };
        assert_eq!(problem, ProfileProblem::Tampered);
        assert!(detail.contains("changed outside the app"), "{detail}");
    }
}
