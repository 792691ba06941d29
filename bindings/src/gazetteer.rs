//! Districts and villages as Kotlin sees them: the offline place picker's data.
//!
//! The core ships the official Kemendagri codes and names of the regencies it serves; the
//! reporter picks a place without any network request. The lookups themselves are
//! `Reporter` methods, for the installed profile's regency.

use berani_core::gazetteer as core;

/// One administrative area: its Kemendagri code and official name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Area {
    /// Dot-separated code: `33.16.05` a district, `33.16.05.2001` a village.
    pub code: String,
    /// The official name, e.g. `Cepu`.
    pub name: String,
}

impl From<&core::Area> for Area {
    fn from(a: &core::Area) -> Self {
        Area {
            code: a.code.clone(),
            name: a.name.clone(),
        }
    }
}

/// Whether a search result is a district or a village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AreaLevel {
    /// A kecamatan.
    District,
    /// A desa or kelurahan.
    Village,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AreaMatch {
    /// District or village.
    pub level: AreaLevel,
    /// The matching area.
    pub area: Area,
    /// The district a village belongs to (none for a district): village names repeat
    /// across districts.
    pub district: Option<Area>,
}

impl From<core::AreaMatch> for AreaMatch {
    fn from(m: core::AreaMatch) -> Self {
        AreaMatch {
            level: match m.level {
                core::AreaLevel::District => AreaLevel::District,
                core::AreaLevel::Village => AreaLevel::Village,
            },
            area: (&m.area).into(),
            district: m.district.as_ref().map(Into::into),
        }
    }
}
