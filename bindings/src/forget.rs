//! After delivery: removing the phone's copy of a report except its receipt and follow-up
//! (`berani_core::forget`).

use crate::error::Result;
use crate::reporter::Reporter;

#[uniffi::export]
impl Reporter {
    /// Destroys this phone's copy of a **delivered** report (its sealed parts and summary),
    /// keeping the id, the state, the server's signed receipt and the follow-up (receipt code,
    /// messages). A report not yet delivered is refused with `WrongState` and nothing
    /// changes (it would be lost); say so with [`crate::forget_refused_message`].
    pub fn forget_delivered(&self, report_id: String) -> Result<()> {
        Ok(self.core().forget_delivered(&report_id)?)
    }

    /// True when reports are forgotten as soon as they are delivered (off by default).
    pub fn forget_after_delivery(&self) -> Result<bool> {
        Ok(self.core().forget_after_delivery()?)
    }

    /// Turns forgetting after delivery on or off; turning it on also forgets the reports
    /// already delivered. Returns how many were forgotten now.
    pub fn set_forget_after_delivery(&self, on: bool) -> Result<u32> {
        Ok(self.core().set_forget_after_delivery(on)?)
    }
}

/// What to tell the reporter when a report not yet delivered cannot be forgotten.
#[uniffi::export]
pub fn forget_refused_message() -> crate::safety::Message {
    let e = berani_core::CoreError::WrongState(berani_core::forget::NOT_DELIVERED);
    crate::safety::Message {
        id: e.message_id(),
        en: "This report has not been sent yet; its copy cannot be removed now, as the report \
             would be lost."
            .into(),
    }
}
