//! Volunteer codes: who passed the app on, counted without touching any report.
//!
//! A volunteer code is 6 Crockford base32 characters (30 bits) and one Crockford check
//! character (the value mod 37, as in the receipt code), written `K7M-2QDV`: short enough to
//! read aloud, write on a poster and type. Only codes whose check is one of the 32 letters and
//! digits are ever issued, so a code never holds `*~$=U` and fits a URL as it is; the mod-37
//! check still catches every single wrong character and every swap of two neighbours.
//!
//! A phone keeps the code a person typed on "Bagikan aplikasi" (sealed in the store's `meta`
//! table) and tells the agency's server **once per install** that the app was installed
//! through it: `POST /v1/volunteers/installs` with `{"code":"…"}`, nothing else. The request
//! carries no report id, no token and no device id, and is sent on its own, never inside a
//! report upload; the server counts it per code per day. Until the server has answered, the
//! install stays pending and is tried again ([`Reporter::report_volunteer_install`], called by
//! the front ends after a code is entered and on every sync); once counted, or refused as
//! unknown, it is never sent again.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Field, FieldError, Reason, Result};
use crate::followup::{CHECK_SYMBOLS, CROCKFORD, read_crockford};
use crate::profile::ProfileError;
use crate::reporter::Reporter;
use crate::store::set_meta;

/// Data characters in a code (30 bits).
pub const DATA_CHARS: usize = 6;
/// The public endpoint an install is counted at.
pub const INSTALLS_PATH: &str = "/v1/volunteers/installs";
/// The public endpoint a web-form report is counted at.
pub const WEB_REPORTS_PATH: &str = "/v1/volunteers/web-reports";

/// A volunteer code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VolunteerCode(u32);

impl VolunteerCode {
    /// A fresh random code (its check character is always a letter or digit).
    pub fn generate() -> Self {
        loop {
            let v = u32::from_be_bytes(crate::crypto::random::<4>()) >> 2;
            if v % 37 < 32 {
                return VolunteerCode(v);
            }
        }
    }

    /// The 7 characters without a dash, e.g. `K7M2QDV`: stored, and put in links.
    pub fn canonical(&self) -> String {
        let mut s: String = (0..DATA_CHARS)
            .map(|i| {
                let shift = 5 * (DATA_CHARS - 1 - i);
                CROCKFORD[((self.0 >> shift) & 0x1f) as usize] as char
            })
            .collect();
        s.push(CHECK_SYMBOLS[(self.0 % 37) as usize] as char);
        s
    }

    /// The code as printed and read aloud: `K7M-2QDV`.
    pub fn display(&self) -> String {
        let c = self.canonical();
        format!("{}-{}", &c[..3], &c[3..])
    }

    /// Reads a code as typed: case, spaces and dashes do not matter; `O` is zero, `I` and `L`
    /// are one. A wrong length or character, or a check character that does not fit, is
    /// refused with field `volunteer_code`.
    pub fn parse(typed: &str) -> std::result::Result<Self, FieldError> {
        let (v, typed_check) = read_crockford(typed, DATA_CHARS, Field::VolunteerCode)?;
        // DATA_CHARS characters of 5 bits each fit in a u32.
        let v = v as u32;
        let check = (v % 37) as usize;
        if check >= 32 || typed_check != CHECK_SYMBOLS[check] {
            return Err(FieldError::new(Field::VolunteerCode, Reason::Mistyped));
        }
        Ok(VolunteerCode(v))
    }
}

impl std::fmt::Display for VolunteerCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// The JSON body of both counting endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountBody {
    /// The canonical code.
    pub code: String,
}

/// Where this install's volunteer count stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallState {
    /// A code was entered; the server has not counted the install yet.
    Pending,
    /// The server counted the install.
    Counted,
    /// The server does not know the code (or it was switched off): not sent again.
    Refused,
}

/// The volunteer code kept on this phone and its install count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolunteerStatus {
    /// The code as printed (`K7M-2QDV`).
    pub code: String,
    /// Whether the install was counted.
    pub state: InstallState,
}

const META_KEY: &str = "volunteer";
const AAD: &[u8] = b"meta:volunteer";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl Reporter {
    /// The volunteer code entered on this phone, if any.
    pub fn volunteer(&self) -> Result<Option<VolunteerStatus>> {
        let Some(sealed) = self.store().meta(META_KEY)? else {
            return Ok(None);
        };
        let pt = self
            .store()
            .records()
            .open(AAD, &sealed)
            .ok_or(CoreError::RecordCorrupt)?;
        serde_json::from_slice(&pt)
            .map(Some)
            .map_err(|_| CoreError::RecordCorrupt)
    }

    fn put_volunteer(&self, v: &VolunteerStatus) -> Result<()> {
        let json = serde_json::to_vec(v).expect("serialises");
        let sealed = self.store().records().seal(AAD, &json);
        self.store().write(|tx| set_meta(tx, META_KEY, &sealed))
    }

    /// Keeps the code a person typed, to be counted once. While the install has not been
    /// counted, a new code replaces the old one; after it was counted (or refused), the code
    /// is kept for display but the install is not counted again.
    pub fn set_volunteer_code(&self, typed: &str) -> Result<VolunteerStatus> {
        let code = VolunteerCode::parse(typed)?;
        let state = match self.volunteer()? {
            Some(old) if old.state == InstallState::Counted => InstallState::Counted,
            _ => InstallState::Pending,
        };
        let v = VolunteerStatus {
            code: code.display(),
            state,
        };
        self.put_volunteer(&v)?;
        Ok(v)
    }

    /// Sends a pending install count to the profile's server: `Ok(true)` when it was counted
    /// now, `Ok(false)` when there was nothing to send. An unknown code is marked refused
    /// (and not sent again) and reported as `NotFound("volunteer code")`; a network failure
    /// or a busy server leaves it pending for the next try.
    pub async fn report_volunteer_install(&self) -> Result<bool> {
        let Some(mut v) = self.volunteer()? else {
            return Ok(false);
        };
        if v.state != InstallState::Pending {
            return Ok(false);
        }
        let code = VolunteerCode::parse(&v.code)?;
        let profile = self.profile()?.ok_or(ProfileError::NotInstalled)?;
        let intake = crate::upload::tus::parse_intake(&profile.intake_url)
            .ok_or(ProfileError::Malformed("intake URL"))?;
        let config = crate::upload::tls::client_config(profile.tls_spki_sha256.as_deref())?;
        let http = crate::upload::client::http_client(config)?;
        let url = crate::upload::tus::endpoint(&intake, INSTALLS_PATH);
        let body = CountBody {
            code: code.canonical(),
        };
        let answer = http
            .post(url)
            .timeout(REQUEST_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&body).expect("serialises"))
            .send()
            .await
            .map_err(|e| {
                CoreError::Network(format!(
                    "volunteer count: {}",
                    crate::upload::client::describe(&e)
                ))
            })?;
        match answer.status().as_u16() {
            200 | 204 => {
                v.state = InstallState::Counted;
                self.put_volunteer(&v)?;
                Ok(true)
            }
            404 => {
                v.state = InstallState::Refused;
                self.put_volunteer(&v)?;
                Err(CoreError::NotFound("volunteer code"))
            }
            s => Err(CoreError::Network(format!(
                "volunteer count: the server answered HTTP {s}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_catch_typos() {
        for _ in 0..2000 {
            let c = VolunteerCode::generate();
            let s = c.canonical();
            assert_eq!(s.len(), 7);
            assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()), "{s}");
            assert_eq!(VolunteerCode::parse(&s).unwrap(), c);
            assert_eq!(VolunteerCode::parse(&c.display()).unwrap(), c);
            assert_eq!(
                VolunteerCode::parse(&format!(" {} ", c.display().to_lowercase())).unwrap(),
                c
            );
            // Every single wrong character is caught.
            let b = s.as_bytes();
            for i in 0..7 {
                for &x in CROCKFORD.iter() {
                    if x == b[i] {
                        continue;
                    }
                    let mut t = b.to_vec();
                    t[i] = x;
                    assert!(
                        VolunteerCode::parse(std::str::from_utf8(&t).unwrap()).is_err(),
                        "{s} -> {}",
                        String::from_utf8_lossy(&t)
                    );
                }
            }
            // So is a swap of two neighbours.
            for i in 0..6 {
                if b[i] == b[i + 1] {
                    continue;
                }
                let mut t = b.to_vec();
                t.swap(i, i + 1);
                assert!(VolunteerCode::parse(std::str::from_utf8(&t).unwrap()).is_err());
            }
        }
    }

    #[test]
    fn refusals_name_the_field() {
        for (typed, reason) in [
            ("", Reason::Required),
            ("ABC", Reason::InvalidFormat),
            ("ABCDEFGH", Reason::InvalidFormat),
            ("ABC-DE!F", Reason::InvalidFormat),
            ("ABCDÉFG", Reason::InvalidFormat),
        ] {
            let e = VolunteerCode::parse(typed).unwrap_err();
            assert_eq!(
                (e.field, e.reason),
                (Field::VolunteerCode, reason),
                "{typed}"
            );
        }
        let c = VolunteerCode::generate().canonical();
        let wrong = CROCKFORD
            .iter()
            .map(|&x| x as char)
            .find(|&x| x != c.chars().last().unwrap())
            .unwrap();
        let e = VolunteerCode::parse(&format!("{}{wrong}", &c[..6])).unwrap_err();
        assert_eq!(e.reason, Reason::Mistyped);
        assert_eq!(e.field.as_str(), "volunteer_code");
    }
}
