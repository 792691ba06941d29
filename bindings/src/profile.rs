//! The agency profile as Kotlin sees it: who receives reports, where, and whom to call.
//!
//! The core verifies and installs signed profiles; this is the read-only view the app shows
//! (agency name, hotlines, expiry). Keys and pins stay inside the core.

use std::time::SystemTime;

use berani_core::profile as core;

/// A hotline the reporter can call.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Hotline {
    /// Its name, e.g. "Dinsos P3A Blora".
    pub name: String,
    /// The number to call.
    pub number: String,
    /// A WhatsApp number, when there is one.
    pub whatsapp: Option<String>,
}

/// The installed agency profile.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgencyProfile {
    /// Increases with every new profile; an older one is refused.
    pub version: u64,
    /// The agency's name.
    pub agency_name: String,
    /// The regency it serves, e.g. `33.16` (Kabupaten Blora): the districts offered.
    pub regency_code: String,
    /// Base URL of the intake server.
    pub intake_url: String,
    /// Hotlines shown beside the national emergency numbers.
    pub hotlines: Vec<Hotline>,
    /// Largest attachment accepted, in bytes.
    pub max_attachment_bytes: u64,
    /// When it was issued.
    pub issued_at: SystemTime,
    /// After this, reports are not sealed under it: fetch a new one.
    pub expires_at: SystemTime,
    /// Where the app can be downloaded, for sharing.
    pub download_url: Option<String>,
}

impl From<core::AgencyProfile> for AgencyProfile {
    fn from(p: core::AgencyProfile) -> Self {
        AgencyProfile {
            version: p.version,
            agency_name: p.agency_name,
            regency_code: p.regency_code,
            intake_url: p.intake_url,
            hotlines: p
                .hotlines
                .into_iter()
                .map(|h| Hotline {
                    name: h.name,
                    number: h.number,
                    whatsapp: h.whatsapp,
                })
                .collect(),
            max_attachment_bytes: p.max_attachment_bytes,
            issued_at: p.issued_at.into(),
            expires_at: p.expires_at.into(),
            download_url: p.download_url,
        }
    }
}
