//! [`Reporter`]: the one object the app holds, a facade over `berani_core::Reporter`.
//!
//! Every method is one call into the core plus type conversions; validation, sealing,
//! queueing and storage all happen in the core. A draft field is changed with its own typed
//! setter (`set_category`, `set_district`, …): each takes exactly its field's type, so a value
//! cannot land in the wrong field, and `None` clears the field. Methods are safe to call from
//! several threads at once; the core serialises writes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berani_core::model::FieldValue;
use berani_core::profile::ProfileKey;
use berani_core::{CoreError, upload};

use crate::choices::{AgeBand, Category, PlaceType, Relationship, ReporterRole, VictimSex};
use crate::draft::{Attachment, Contact, Draft, IncidentDate};
use crate::error::Result;
use crate::gazetteer::{Area, AreaMatch};
use crate::keystore::{DeviceKeyStore, KeyStoreAdapter};
use crate::outbox::OutboxReport;
use crate::profile::AgencyProfile;
use crate::runtime::on_runtime;
use crate::sync::{SyncHandle, SyncListener};

/// A reporter's home on this phone: drafts, the agency profile and the outbox.
///
/// Kotlin: `Reporter.open(dir, keys).use { … }`; closing it releases the database. A running
/// sync keeps its own reference until it stops.
#[derive(uniffi::Object)]
pub struct Reporter {
    inner: Arc<berani_core::Reporter>,
}

impl Reporter {
    fn set(&self, id: &str, value: FieldValue) -> Result<Draft> {
        Ok(self.inner.update_draft(id, value)?.into())
    }

    /// The core reporter, for Rust tests and benchmarks that compare the two layers.
    pub fn core(&self) -> &berani_core::Reporter {
        &self.inner
    }

    /// A shared handle on the core reporter, for work that runs as a task on the runtime.
    pub(crate) fn shared_core(&self) -> Arc<berani_core::Reporter> {
        self.inner.clone()
    }
}

fn trust_key(trust: Option<String>) -> Result<Option<ProfileKey>> {
    Ok(trust
        .as_deref()
        .map(str::parse::<ProfileKey>)
        .transpose()
        .map_err(CoreError::from)?)
}

#[uniffi::export]
impl Reporter {
    /// Opens the reporter home in `home_dir` (created if new) with the platform's device key.
    ///
    /// Throws `WrongDeviceKey` if the key does not open existing data, and
    /// `DeviceKeyUnavailable` if the key store fails.
    #[uniffi::constructor]
    pub fn open(home_dir: String, device_keys: Arc<dyn DeviceKeyStore>) -> Result<Arc<Self>> {
        let keys = KeyStoreAdapter(device_keys);
        let inner = berani_core::Reporter::open(Path::new(&home_dir), &keys)?;
        Ok(Arc::new(Reporter {
            inner: Arc::new(inner),
        }))
    }

    /// Opens the home through the app PIN layer: `pin` is needed once the reporter set one.
    /// Throws `WrongPin` for a wrong or missing PIN (nothing changes; call [`pin_failed`] if
    /// the attempt counts). The app opens every home this way, so a PIN can be set later.
    #[uniffi::constructor]
    pub fn open_with_pin(
        home_dir: String,
        device_keys: Arc<dyn DeviceKeyStore>,
        pin: Option<String>,
    ) -> Result<Arc<Self>> {
        let keys = KeyStoreAdapter(device_keys);
        let inner =
            berani_core::Reporter::open_with_pin(Path::new(&home_dir), &keys, pin.as_deref())?;
        Ok(Arc::new(Reporter {
            inner: Arc::new(inner),
        }))
    }

    // ----- agency profile ----------------------------------------------------------------

    /// Verifies and installs a signed profile (the bytes of `/v1/profile`).
    ///
    /// `trust` is the profile-signing public key (`ed25519:…`) to pin on first use; later
    /// imports must be signed by the pinned key. An older, expired or badly signed profile is
    /// refused and the installed one stays.
    pub fn import_profile_bytes(
        &self,
        bytes: Vec<u8>,
        trust: Option<String>,
    ) -> Result<AgencyProfile> {
        Ok(self.inner.import_profile(&bytes, trust_key(trust)?)?.into())
    }

    /// The installed profile, expired or not; `None` before the first import.
    pub fn profile(&self) -> Result<Option<AgencyProfile>> {
        Ok(self.inner.profile()?.map(Into::into))
    }

    /// The pinned profile-signing key (`ed25519:…`), if any.
    pub fn trusted_profile_key(&self) -> Result<Option<String>> {
        Ok(self.inner.trusted_profile_key()?.map(|k| k.to_string()))
    }

    // ----- places ------------------------------------------------------------------------

    /// The districts (kecamatan) of the profile's regency (Blora before any profile), in code
    /// order.
    pub fn districts(&self) -> Result<Vec<Area>> {
        Ok(self
            .inner
            .gazetteer()?
            .districts()
            .iter()
            .map(Into::into)
            .collect())
    }

    /// The villages (desa/kelurahan) of one district, in code order.
    pub fn villages(&self, district: String) -> Result<Vec<Area>> {
        let vs = self
            .inner
            .gazetteer()?
            .villages(&district)
            .ok_or(CoreError::NotFound("district"))?;
        Ok(vs.iter().map(Into::into).collect())
    }

    /// Districts, then villages, whose name or one of its words starts with `query` (case,
    /// accents and punctuation ignored); at most 50.
    pub fn search_areas(&self, query: String) -> Result<Vec<AreaMatch>> {
        Ok(self
            .inner
            .gazetteer()?
            .search(&query)
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ----- drafts ------------------------------------------------------------------------

    /// Starts a new, empty draft.
    pub fn create_draft(&self) -> Result<Draft> {
        Ok(self.inner.create_draft()?.into())
    }

    /// One draft.
    pub fn draft(&self, id: String) -> Result<Draft> {
        Ok(self.inner.draft(&id)?.into())
    }

    /// Every draft, most recently changed first.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        Ok(self.inner.drafts()?.into_iter().map(Into::into).collect())
    }

    /// Deletes a draft and its attached files.
    pub fn delete_draft(&self, id: String) -> Result<()> {
        Ok(self.inner.delete_draft(&id)?)
    }

    /// Sets (or with `None` clears) what happened.
    pub fn set_category(&self, id: String, value: Option<Category>) -> Result<Draft> {
        self.set(&id, FieldValue::Category(value.map(Into::into)))
    }

    /// Sets who the victim is.
    pub fn set_victim_sex(&self, id: String, value: Option<VictimSex>) -> Result<Draft> {
        self.set(&id, FieldValue::VictimSex(value.map(Into::into)))
    }

    /// Sets the victim's age band.
    pub fn set_victim_age_band(&self, id: String, value: Option<AgeBand>) -> Result<Draft> {
        self.set(&id, FieldValue::VictimAgeBand(value.map(Into::into)))
    }

    /// Sets who is reporting.
    pub fn set_reporter_role(&self, id: String, value: Option<ReporterRole>) -> Result<Draft> {
        self.set(&id, FieldValue::ReporterRole(value.map(Into::into)))
    }

    /// Says whether someone is in danger now.
    pub fn set_in_danger_now(&self, id: String, value: bool) -> Result<Draft> {
        self.set(&id, FieldValue::InDangerNow(value))
    }

    /// Sets when it happened; a day in the future or a badly formed day is refused
    /// (`InvalidInput`, field `incident_date`).
    pub fn set_incident_date(&self, id: String, value: Option<IncidentDate>) -> Result<Draft> {
        self.set(&id, FieldValue::IncidentDate(value.map(Into::into)))
    }

    /// Sets the district by code; choosing another district clears a village outside it. An
    /// unknown code is refused (field `district`, reason `unknown_code`).
    pub fn set_district(&self, id: String, code: Option<String>) -> Result<Draft> {
        self.set(&id, FieldValue::District(code))
    }

    /// Sets the village by code; the district must be set first and must hold it.
    pub fn set_village(&self, id: String, code: Option<String>) -> Result<Draft> {
        self.set(&id, FieldValue::Village(code))
    }

    /// Sets the free-text place detail (at most 500 characters).
    pub fn set_location_detail(&self, id: String, text: Option<String>) -> Result<Draft> {
        self.set(&id, FieldValue::LocationDetail(text))
    }

    /// Sets the kind of place.
    pub fn set_place_type(&self, id: String, value: Option<PlaceType>) -> Result<Draft> {
        self.set(&id, FieldValue::PlaceType(value.map(Into::into)))
    }

    /// Sets the perpetrator's relationship to the victim.
    pub fn set_perpetrator_relationship(
        &self,
        id: String,
        value: Option<Relationship>,
    ) -> Result<Draft> {
        self.set(
            &id,
            FieldValue::PerpetratorRelationship(value.map(Into::into)),
        )
    }

    /// Sets what happened, in the reporter's words (at most 20,000 characters; blank clears).
    pub fn set_description(&self, id: String, text: Option<String>) -> Result<Draft> {
        self.set(&id, FieldValue::Description(text))
    }

    /// Sets how the team may contact the reporter (only with consent), or withdraws it.
    pub fn set_contact(&self, id: String, value: Option<Contact>) -> Result<Draft> {
        self.set(&id, FieldValue::Contact(value.map(Into::into)))
    }

    /// Copies the file at `path` into the draft, encrypted; the original may then be deleted.
    /// `voice_note` marks a recording made as the report's voice note. The type is recognised
    /// from the content (photo, audio, video, PDF), up to the profile's size limit. GPS
    /// position, phone model, serials and thumbnails are removed first (JPEG, PNG, WebP,
    /// MP4/3GP/M4A) unless `keep_metadata`, the per-attachment expert choice, off by default,
    /// offered only with [`keep_metadata_warning`]. A file whose metadata cannot be removed is
    /// refused (`InvalidInput`, reason `metadata_not_removed`).
    pub fn attach_file(
        &self,
        id: String,
        path: String,
        voice_note: bool,
        keep_metadata: bool,
    ) -> Result<Attachment> {
        Ok(self
            .inner
            .attach_file(&id, Path::new(&path), voice_note, keep_metadata)?
            .into())
    }

    /// Removes an attachment from a draft and deletes its file.
    pub fn remove_attachment(&self, id: String, attachment_id: String) -> Result<Draft> {
        Ok(self.inner.remove_attachment(&id, &attachment_id)?.into())
    }

    // ----- submit and outbox -------------------------------------------------------------

    /// Seals a draft to the agency and queues it, in one durable step; the draft is gone
    /// afterwards. Throws `Incomplete` listing every missing field. Submitting again (a retry,
    /// a double tap) returns the queued report.
    pub fn submit(&self, id: String) -> Result<OutboxReport> {
        Ok(self.inner.submit(&id)?.into())
    }

    /// Every report in the outbox, newest first.
    pub fn outbox(&self) -> Result<Vec<OutboxReport>> {
        Ok(self
            .inner
            .outbox()
            .list()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Starts delivering the outbox in the background for at most `budget_seconds`, and
    /// returns at once. Progress goes to `listener`; the handle cancels or waits. Dropping
    /// (closing) the handle stops the sync.
    pub fn sync(
        &self,
        budget_seconds: u32,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<SyncHandle>> {
        SyncHandle::start(
            self.inner.clone(),
            Duration::from_secs(budget_seconds.into()),
            listener,
        )
    }
}

// Async methods run on the bindings' runtime (`runtime::on_runtime`), not through uniffi's
// `async_runtime = "tokio"`, which would start a second runtime (see runtime.rs).
#[uniffi::export]
impl Reporter {
    /// Downloads the signed profile from an intake server (`https://host` or its
    /// `/v1/profile` URL) and installs it as [`Reporter::import_profile_bytes`] does.
    pub async fn import_profile_url(
        &self,
        url: String,
        trust: Option<String>,
    ) -> Result<AgencyProfile> {
        let (core, trust) = (self.shared_core(), trust_key(trust)?);
        on_runtime(async move {
            let signed = upload::fetch_profile(&url).await?;
            Ok(core.import_profile(&signed, trust)?.into())
        })
        .await
    }
}
