//! Relay through a volunteer: a queued report as one bundle file of sealed parts, and the
//! carrier's import of it (see `berani_core::relay` and docs/PROTOCOL.md#relay-bundles).

use std::path::Path;

use berani_core::relay as core;

use crate::error::Result;
use crate::reporter::Reporter;

/// What a bundle holds, or what an import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RelayBundle {
    /// The report id.
    pub report_id: String,
    /// Number of sealed parts.
    pub parts: u32,
    /// Their total size in bytes.
    pub bytes: u64,
    /// This phone's outbox already holds the report: nothing was (or would be) changed.
    pub already: bool,
}

impl From<core::RelayImport> for RelayBundle {
    fn from(r: core::RelayImport) -> Self {
        RelayBundle {
            report_id: r.report_id,
            parts: r.parts,
            bytes: r.bytes,
            already: r.already,
        }
    }
}

/// What a bundle is, for share sheets and intent filters, and what to tell the sender.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RelayInfo {
    /// The media type of a bundle.
    pub mime_type: String,
    /// The file name extension, without the dot.
    pub extension: String,
    /// Why the carrier cannot read it, in Indonesian.
    pub explanation_id: String,
    /// The same in English.
    pub explanation_en: String,
}

/// The bundle's media type, extension and the explanation shown with the share sheet.
#[uniffi::export]
pub fn relay_info() -> RelayInfo {
    RelayInfo {
        mime_type: core::MIME_TYPE.to_owned(),
        extension: core::EXTENSION.to_owned(),
        explanation_id: core::SHARE_EXPLANATION_ID.to_owned(),
        explanation_en: core::SHARE_EXPLANATION_EN.to_owned(),
    }
}

#[uniffi::export]
impl Reporter {
    /// Writes a queued report's sealed parts as one bundle file at `path` (nothing in it is
    /// readable). The report stays queued here too.
    pub fn relay_export(&self, report_id: String, path: String) -> Result<RelayBundle> {
        Ok(self
            .core()
            .relay_export(&report_id, Path::new(&path))?
            .into())
    }

    /// Checks a bundle through without storing anything: what the carrier confirms.
    pub fn relay_inspect(&self, path: String) -> Result<RelayBundle> {
        Ok(self.core().relay_inspect(Path::new(&path))?.into())
    }

    /// Imports a bundle into this phone's outbox as a carried report; sync delivers it.
    pub fn relay_import(&self, path: String) -> Result<RelayBundle> {
        Ok(self.core().relay_import(Path::new(&path))?.into())
    }
}
