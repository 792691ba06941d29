//! The volunteer who passed the app on, as Kotlin sees it: the code typed on "Bagikan
//! aplikasi" and whether this install was counted.
//!
//! A code typed wrong is `InvalidInput` (field `volunteer_code`); the count is sent once per
//! install by `report_volunteer_install` (call it after a code is saved and on every sync
//! job: it returns at once when nothing is pending). An unknown code is `NotFound`
//! (`volunteer code`) and is not sent again; a network failure leaves the count pending.

use berani_core::volunteer as core;

use crate::error::Result;
use crate::reporter::Reporter;
use crate::runtime::on_runtime;

/// Where this install's volunteer count stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum VolunteerInstall {
    /// Not counted yet: tried again on the next sync.
    Pending,
    /// Counted by the agency's server.
    Counted,
    /// The agency does not know the code (or switched it off).
    Refused,
}

/// The volunteer code kept on this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Volunteer {
    /// The code as printed, e.g. `K7M-2QDV`.
    pub code: String,
    /// Whether the install was counted.
    pub install: VolunteerInstall,
}

impl From<core::VolunteerStatus> for Volunteer {
    fn from(v: core::VolunteerStatus) -> Self {
        Volunteer {
            code: v.code,
            install: match v.state {
                core::InstallState::Pending => VolunteerInstall::Pending,
                core::InstallState::Counted => VolunteerInstall::Counted,
                core::InstallState::Refused => VolunteerInstall::Refused,
            },
        }
    }
}

#[uniffi::export]
impl Reporter {
    /// The volunteer code kept on this phone, if any.
    pub fn volunteer(&self) -> Result<Option<Volunteer>> {
        Ok(self.core().volunteer()?.map(Into::into))
    }

    /// Keeps a volunteer code as typed (case, spaces and dashes do not matter).
    pub fn set_volunteer_code(&self, code: String) -> Result<Volunteer> {
        Ok(self.core().set_volunteer_code(&code)?.into())
    }
}

// Runs on the bindings' runtime: see runtime.rs.
#[uniffi::export]
impl Reporter {
    /// Sends a pending install count to the profile's server; true when counted now.
    pub async fn report_volunteer_install(&self) -> Result<bool> {
        let core = self.shared_core();
        on_runtime(async move { Ok(core.report_volunteer_install().await?) }).await
    }
}
