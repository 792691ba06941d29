//! The signed agency profile: made at first start, served byte for byte, re-signed when stale.
//!
//! The phone pins one profile-signing key and refuses older or expired profiles, so the
//! server keeps exactly one current signed document (table `profile`) and only ever replaces
//! it with a higher version. It re-signs by itself (with the data folder's key, and only when
//! that key is the pinned one) when the public URL changed, the receipt key changed, or the
//! profile expires within [`RENEW_BEFORE`]; a deployment that keeps the signing key offline
//! gets a warning instead and runs `profile sign --key`.

use std::path::Path;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use berani_core::jws::{PublicKey, SigningKey};
use berani_core::profile::{self, AgencyProfile, PROFILE_SCHEMA_VERSION};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use time::{Duration, OffsetDateTime};

use crate::app::AppState;
use crate::config::FirstStart;
use crate::db::Db;
use crate::error::{Result, ServerError};
use crate::keys;
use crate::tus::reply::Reject;

/// How long a newly signed profile is valid.
pub const VALIDITY: Duration = Duration::days(365);
/// Re-sign when the profile expires sooner than this.
pub const RENEW_BEFORE: Duration = Duration::days(30);

/// The profile as stored: its signed bytes and the key that signed them.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The profile version.
    pub version: u64,
    /// The profile-signing public key (the one the phones pin).
    pub signing_key: PublicKey,
    /// The flattened JWS, as served.
    pub signed: Vec<u8>,
}

impl Stored {
    /// The signed profile's contents (signature checked, expiry not).
    pub fn profile(&self) -> Result<AgencyProfile> {
        // Verifying "as of" the epoch checks signature and fields but accepts an expired
        // profile, which is exactly what a re-signing needs to read.
        profile::verify(&self.signed, &self.signing_key, OffsetDateTime::UNIX_EPOCH)
            .map_err(|e| ServerError::Key(format!("stored profile does not verify: {e}")))
    }
}

/// The first profile of a new data folder.
pub fn initial(
    first: &FirstStart,
    wanted: &Wanted,
    recipient: &str,
    receipt_key: PublicKey,
    now: OffsetDateTime,
) -> AgencyProfile {
    AgencyProfile {
        schema_version: PROFILE_SCHEMA_VERSION,
        version: 1,
        agency_name: first.agency_name.clone(),
        regency_code: first.regency_code.clone(),
        intake_url: wanted.intake_url.clone(),
        recipients: vec![recipient.to_owned()],
        tls_spki_sha256: wanted.tls_pin.clone(),
        hotlines: first.hotlines.clone(),
        max_attachment_bytes: first.max_attachment_bytes,
        issued_at: now,
        expires_at: now + VALIDITY,
        receipt_key: Some(receipt_key),
        download_url: None,
    }
}

/// Signs `p` and stores it as the current profile.
pub fn store(tx: &Transaction, p: &AgencyProfile, key: &SigningKey) -> Result<Stored> {
    let signed = profile::sign(p, key);
    // A signature that does not verify here would be refused by every phone.
    profile::verify(&signed, &key.public(), OffsetDateTime::UNIX_EPOCH)
        .map_err(|e| ServerError::Config(format!("profile: {e}")))?;
    tx.execute(
        "INSERT INTO profile (id, version, signing_key, signed, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET version = ?1, signing_key = ?2, signed = ?3,
                                        updated_at = ?4",
        params![
            p.version as i64,
            key.public().to_string(),
            signed,
            crate::db::now()
        ],
    )?;
    Ok(Stored {
        version: p.version,
        signing_key: key.public(),
        signed,
    })
}

/// The current profile.
pub fn load(conn: &Connection) -> Result<Stored> {
    let row: Option<(i64, String, Vec<u8>)> = conn
        .query_row(
            "SELECT version, signing_key, signed FROM profile WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (version, key, signed) =
        row.ok_or_else(|| ServerError::Folder("no signed profile is stored".into()))?;
    Ok(Stored {
        version: version as u64,
        signing_key: key
            .parse()
            .map_err(|_| ServerError::Key("stored profile key is malformed".into()))?,
        signed,
    })
}

/// Re-signs the current profile with `key` as version + 1, valid for a year from now, after
/// `change` adjusted it; `key` becomes the profile key.
pub fn resign(
    tx: &Transaction,
    key: &SigningKey,
    change: impl FnOnce(&mut AgencyProfile),
) -> Result<Stored> {
    let current = load(tx)?;
    let mut p = current.profile()?;
    change(&mut p);
    let now = OffsetDateTime::now_utc();
    p.version = current.version + 1;
    p.issued_at = now;
    p.expires_at = now + VALIDITY;
    store(tx, &p, key)
}

/// What the running server's settings say the profile must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The intake URL (`--public-url`, or derived from the listening address).
    pub intake_url: String,
    /// The TLS key pin (`--tls-pin`), normalised by [`crate::config::parse_tls_pin`].
    pub tls_pin: Option<String>,
}

impl Wanted {
    /// Writes these values into `p`.
    pub fn apply(&self, p: &mut AgencyProfile) {
        p.intake_url = self.intake_url.clone();
        p.tls_spki_sha256 = self.tls_pin.clone();
    }
}

/// A pin as raw digest bytes, so that two spellings of one pin compare equal.
fn pin_digest(pin: Option<&str>) -> Option<Option<[u8; 32]>> {
    pin.map(|p| berani_core::upload::tls::parse_pin(p).ok())
}

/// Why the served profile should be re-signed, if it should.
pub fn stale_because(
    p: &AgencyProfile,
    wanted: &Wanted,
    receipt_key: PublicKey,
    now: OffsetDateTime,
) -> Option<&'static str> {
    if p.intake_url != wanted.intake_url {
        Some("the public URL changed")
    } else if pin_digest(p.tls_spki_sha256.as_deref()) != pin_digest(wanted.tls_pin.as_deref()) {
        Some("the TLS pin changed")
    } else if p.receipt_key != Some(receipt_key) {
        Some("the receipt key changed")
    } else if p.expires_at - now < RENEW_BEFORE {
        Some("it expires within 30 days")
    } else {
        None
    }
}

/// What [`ensure_fresh`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// The stored profile is current.
    Current,
    /// It was re-signed with the folder's key.
    Resigned {
        /// The new version.
        version: u64,
        /// Why.
        because: &'static str,
    },
    /// It is stale, but its key is not in the folder: run `profile sign --key`.
    NeedsSigning {
        /// Why.
        because: &'static str,
    },
}

/// Re-signs the profile when it is stale and the folder holds the pinned key.
pub fn ensure_fresh(
    db: &Db,
    folder_key: &Path,
    wanted: &Wanted,
    receipt_key: PublicKey,
) -> Result<Freshness> {
    let stored = db.read(load)?;
    let p = stored.profile()?;
    let Some(because) = stale_because(&p, wanted, receipt_key, OffsetDateTime::now_utc()) else {
        return Ok(Freshness::Current);
    };
    let key = match folder_key.is_file() {
        true => Some(keys::read_signing_key(folder_key)?),
        false => None,
    };
    let Some(key) = key.filter(|k| k.public() == stored.signing_key) else {
        return Ok(Freshness::NeedsSigning { because });
    };
    let new = db.write(|tx| {
        resign(tx, &key, |p| {
            wanted.apply(p);
            p.receipt_key = Some(receipt_key);
        })
    })?;
    Ok(Freshness::Resigned {
        version: new.version,
        because,
    })
}

/// `GET /v1/profile`: the stored signed bytes, unchanged.
pub async fn get(State(s): State<Arc<AppState>>) -> Result<Response, Reject> {
    let stored =
        s.db.read_async(load)
            .await
            .map_err(|e| Reject::internal("reading the profile", e))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        stored.signed,
    )
        .into_response())
}

/// The regency (kabupaten) code of the current profile, e.g. `33.16`.
pub fn regency(db: &Db) -> Result<String> {
    Ok(db.read(load)?.profile()?.regency_code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berani_core::age::Identity;

    #[test]
    fn staleness() {
        let now = OffsetDateTime::now_utc();
        let rk = SigningKey::generate().public();
        let rcpt = Identity::generate().to_public().to_string();
        let want = |url: &str, pin: Option<&str>| Wanted {
            intake_url: url.into(),
            tls_pin: pin.map(Into::into),
        };
        let pin = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let a = want("https://a", Some(pin));
        let p = initial(&FirstStart::default(), &a, &rcpt, rk, now);
        assert_eq!(p.tls_spki_sha256.as_deref(), Some(pin));
        assert_eq!(stale_because(&p, &a, rk, now), None);
        // The same pin spelled another way is the same pin.
        let unpadded = want(
            "https://a",
            Some(&format!("sha256/{}", pin.trim_end_matches('='))),
        );
        assert_eq!(stale_because(&p, &unpadded, rk, now), None);
        assert_eq!(
            stale_because(&p, &want("https://b", Some(pin)), rk, now),
            Some("the public URL changed")
        );
        assert_eq!(
            stale_because(&p, &want("https://a", None), rk, now),
            Some("the TLS pin changed")
        );
        let other_pin = "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert_eq!(
            stale_because(&p, &want("https://a", Some(other_pin)), rk, now),
            Some("the TLS pin changed")
        );
        let other = SigningKey::generate().public();
        assert!(stale_because(&p, &a, other, now).is_some());
        assert!(stale_because(&p, &a, rk, now + Duration::days(340)).is_some());
    }
}
