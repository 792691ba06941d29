//! [`Reporter`]: the one object front ends hold. It ties the store, the profile, drafts,
//! sealing and the outbox together; `berani-ffi` and the CLI call it with one line each.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use time::{Duration, OffsetDateTime};

use crate::age::{Encryptor, Recipient};
use crate::attach;
use crate::crypto::{self, Sha256};
use crate::error::{CoreError, Field, FieldError, Reason, Result};
use crate::gazetteer::{DEFAULT_REGENCY, Gazetteer};
use crate::model::validate::{self, MAX_ATTACHMENTS};
use crate::model::{
    Attachment, AttachmentRef, Draft, FieldValue, REPORT_SCHEMA_VERSION, ReportDocument,
    ReportFields,
};
use crate::outbox::{Outbox, OutboxReport, Summary};
use crate::profile::{self, AgencyProfile, ProfileError, ProfileKey};
use crate::store::schema::{PROFILE, PROFILE_KEY};
use crate::store::{
    DeviceKeyStore, KeyStoreError, PinLock, SealedMeta, Store, files, set_sealed_meta,
};
use crate::strip;
use crate::wipe::{self, WipeOutcome};

/// Attachment size limit before any profile is installed.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 100_000_000;

/// A device key already unwrapped (by [`PinLock::unlock`]), so the PIN is stretched once.
struct Unlocked(zeroize::Zeroizing<Vec<u8>>);

impl DeviceKeyStore for Unlocked {
    fn device_key(&self) -> std::result::Result<zeroize::Zeroizing<Vec<u8>>, KeyStoreError> {
        Ok(self.0.clone())
    }
    fn destroy(&self) -> std::result::Result<(), KeyStoreError> {
        Err(KeyStoreError(
            "an unwrapped key cannot be destroyed here".into(),
        ))
    }
}

/// A reporter's home: drafts, profile and outbox on this device.
pub struct Reporter {
    store: Store,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct DraftBody {
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    updated_at: OffsetDateTime,
    fields: ReportFields,
}

struct AttachmentRow {
    file: String,
    info: Attachment,
}

/// A file to add to a draft in a [`DraftEdit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The file; it is copied in, stripped and encrypted as by [`Reporter::attach_file`].
    pub path: PathBuf,
    /// A recording made as the report's voice note (counts as audio).
    pub voice_note: bool,
    /// Keep the file's identifying metadata: the reporter's expert choice (see
    /// [`Reporter::attach_file`]).
    pub keep_metadata: bool,
}

/// Several changes to one draft, applied by [`Reporter::edit_draft`] all together or not at
/// all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftEdit {
    /// Attachments to remove, by id; removed first.
    pub remove_attachments: Vec<String>,
    /// Field values, applied in this order; a `None` value clears its field.
    pub fields: Vec<FieldValue>,
    /// Files to attach, in this order, after the fields.
    pub attach: Vec<NewAttachment>,
}

impl DraftEdit {
    /// True when the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        self.remove_attachments.is_empty() && self.fields.is_empty() && self.attach.is_empty()
    }
}

/// Why a [`DraftEdit`] was refused. The draft is exactly as it was before: no field, no
/// removal and no file of the edit was kept.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct EditRefused {
    /// The index in [`DraftEdit::attach`] of the file that was refused, when the refusal is
    /// about one file. The core's errors carry no paths; a front end names the file from this.
    pub attachment: Option<usize>,
    /// What was wrong.
    pub error: CoreError,
}

impl From<CoreError> for EditRefused {
    fn from(error: CoreError) -> Self {
        EditRefused {
            attachment: None,
            error,
        }
    }
}

impl From<FieldError> for EditRefused {
    fn from(e: FieldError) -> Self {
        CoreError::from(e).into()
    }
}

impl From<rusqlite::Error> for EditRefused {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::from(e).into()
    }
}

impl From<EditRefused> for CoreError {
    fn from(e: EditRefused) -> Self {
        e.error
    }
}

/// An attachment file written (encrypted) by an edit that is not committed yet.
struct Staged {
    file: String,
    info: Attachment,
}

/// A [`DraftEdit`] checked against the draft as stored: the new body, the attachments to
/// remove (id, file) and how many attachments stay.
struct EditPlan {
    body: DraftBody,
    removed: Vec<(String, String)>,
    kept: usize,
}

/// Refuses adding `adding` files to a draft that keeps `kept`, naming the first file too many.
fn check_count(kept: usize, adding: usize) -> Result<(), EditRefused> {
    if adding > 0 && kept + adding > MAX_ATTACHMENTS {
        return Err(EditRefused {
            attachment: Some(MAX_ATTACHMENTS.saturating_sub(kept)),
            error: FieldError::with_limit(
                Field::Attachment,
                Reason::TooMany,
                MAX_ATTACHMENTS as u64,
            )
            .into(),
        });
    }
    Ok(())
}

fn now() -> OffsetDateTime {
    // Whole seconds: what is stored is what is shown.
    let n = OffsetDateTime::now_utc();
    n.replace_nanosecond(0).unwrap_or(n)
}

/// The reporter's date, for "not in the future" checks: the easternmost Indonesian time zone
/// (UTC+9), so that no reporter in Indonesia is told today is in the future.
fn today() -> time::Date {
    (OffsetDateTime::now_utc() + Duration::hours(9)).date()
}

/// Writes through to `inner` while hashing and counting what passes.
pub(crate) struct HashingWriter<W> {
    pub(crate) inner: W,
    pub(crate) hash: Sha256,
    pub(crate) len: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A sealed part file, ready to queue.
struct SealedPart {
    size: u64,
    sha256: String,
}

/// Seals `input` to `recipients` into a new file at `dest` (fsynced). Returns the part's
/// ciphertext size and hash, and the plaintext's size and hash.
fn seal_file(
    recipients: &[Recipient],
    input: &mut dyn Read,
    dest: &Path,
) -> Result<(SealedPart, u64, String)> {
    let out = HashingWriter {
        inner: BufWriter::with_capacity(128 * 1024, File::create_new(dest)?),
        hash: Sha256::default(),
        len: 0,
    };
    let mut enc = Encryptor::new(recipients, out)?;
    let mut plain_hash = Sha256::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut plain_len = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(crate::age::AgeError::from_io(e).into()),
        };
        plain_hash.update(&buf[..n]);
        plain_len += n as u64;
        enc.write_all(&buf[..n])?;
    }
    use zeroize::Zeroize;
    buf.zeroize();
    let out = enc.finish()?;
    let (size, hash) = (out.len, out.hash.finish());
    out.inner
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()?;
    Ok((
        SealedPart {
            size,
            sha256: crypto::hex(&hash),
        },
        plain_len,
        crypto::hex(&plain_hash.finish()),
    ))
}

impl Reporter {
    /// Opens the reporter home at `home`, creating it if new, with the platform's device key.
    ///
    /// A panic wipe that was interrupted (the app killed mid-way) is finished first, as a
    /// full wipe; the home then opens empty.
    pub fn open(home: &Path, keys: &dyn DeviceKeyStore) -> Result<Reporter> {
        if wipe::wipe_pending(home) {
            wipe::wipe_home(home, keys, false)?;
        }
        Ok(Reporter {
            store: Store::open(home, keys)?,
        })
    }

    /// Opens the home through the app PIN layer ([`PinLock`]): `keys` is the platform's key
    /// store, `pin` the PIN if the reporter set one. Without a PIN set, `pin` is ignored. A
    /// wrong or missing PIN is [`CoreError::WrongPin`] and changes nothing; the app decides
    /// whether it counts (see [`crate::store::pin::pin_failed`]). A right PIN resets the count.
    pub fn open_with_pin(
        home: &Path,
        keys: &dyn DeviceKeyStore,
        pin: Option<&str>,
    ) -> Result<Reporter> {
        if wipe::wipe_pending(home) {
            wipe::wipe_home(home, &PinLock::new(keys, home, None), false)?;
        }
        let key = PinLock::new(keys, home, pin).unlock()?;
        Ok(Reporter {
            store: Store::open(home, &Unlocked(key))?,
        })
    }

    /// The panic wipe (see [`crate::wipe`]): destroys the device key held by `keys` (pass
    /// the same key store, or [`PinLock`], the home was opened with), then deletes the
    /// database and every file of the home. With `keep_sending`, queued reports move to a
    /// fresh store under a new key first and keep being delivered; everything else goes.
    /// Stop any sync before calling.
    pub fn wipe(self, keys: &dyn DeviceKeyStore, keep_sending: bool) -> Result<WipeOutcome> {
        let home = self.store.home().to_path_buf();
        let keep = if keep_sending {
            wipe::collect(&self.store).ok()
        } else {
            None
        };
        wipe::run(&home, keys, keep, Some(self.store))
    }

    /// The outbox, for listing and for the uploader's transitions.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { store: &self.store }
    }

    /// The store, for the uploader.
    pub fn store(&self) -> &Store {
        &self.store
    }

    // ----- agency profile -------------------------------------------------------------------

    /// The profile-signing key this home trusts, if one is pinned. A pinned key that does not
    /// open under the device key (changed outside the app) is [`ProfileError::Tampered`].
    pub fn trusted_profile_key(&self) -> Result<Option<ProfileKey>> {
        match self.store.sealed_meta(PROFILE_KEY)? {
            SealedMeta::Absent => Ok(None),
            SealedMeta::Opened(k) => Ok(Some(crate::jws::PublicKey(
                k.as_slice()
                    .try_into()
                    .map_err(|_| ProfileError::Tampered)?,
            ))),
            SealedMeta::Refused => Err(ProfileError::Tampered.into()),
        }
    }

    /// Verifies and installs a signed profile.
    ///
    /// `trust` pins a profile-signing key on first use; later imports must be signed by the
    /// pinned key. A profile older than the installed one, expired, or badly signed is
    /// refused and the installed profile stays. When the pinned key or the installed profile
    /// was changed outside the app ([`ProfileError::Tampered`]), neither is trusted: an
    /// import with `trust` replaces both, as on first use, and one without is refused.
    pub fn import_profile(
        &self,
        signed: &[u8],
        trust: Option<ProfileKey>,
    ) -> Result<AgencyProfile> {
        let pinned = match self.trusted_profile_key() {
            Err(CoreError::Profile(ProfileError::Tampered)) if trust.is_some() => None,
            other => other?,
        };
        let key = match (pinned, trust) {
            (Some(pinned), Some(t)) if pinned != t => return Err(ProfileError::KeyMismatch.into()),
            (Some(pinned), _) => pinned,
            (None, Some(t)) => t,
            (None, None) => return Err(ProfileError::NoTrustedKey.into()),
        };
        let offered = profile::verify(signed, &key, OffsetDateTime::now_utc())?;
        let installed = match self.profile_unchecked() {
            // A changed installed profile is replaced; its version is not to be believed.
            Err(CoreError::Profile(ProfileError::Tampered)) => None,
            other => other?,
        };
        if let Some(installed) = installed
            && offered.version < installed.version
        {
            return Err(ProfileError::Older {
                offered: offered.version,
                installed: installed.version,
            }
            .into());
        }
        let records = self.store.records();
        self.store.write(|tx| {
            set_sealed_meta(tx, records, PROFILE_KEY, &key.0)?;
            set_sealed_meta(tx, records, PROFILE, signed)?;
            Ok(())
        })?;
        Ok(offered)
    }

    /// The installed profile, whether or not it has expired.
    fn profile_unchecked(&self) -> Result<Option<AgencyProfile>> {
        let signed = match self.store.sealed_meta(PROFILE)? {
            SealedMeta::Absent => return Ok(None),
            SealedMeta::Opened(signed) => signed,
            SealedMeta::Refused => return Err(ProfileError::Tampered.into()),
        };
        let Some(key) = self.trusted_profile_key()? else {
            // A profile is only ever written with its key.
            return Err(ProfileError::Tampered.into());
        };
        // Verified at install; checked again against the pinned key, with expiry ignored here
        // (callers decide what expiry means for them).
        let p = profile::verify(&signed, &key, OffsetDateTime::UNIX_EPOCH)?;
        Ok(Some(p))
    }

    /// The installed profile.
    pub fn profile(&self) -> Result<Option<AgencyProfile>> {
        self.profile_unchecked()
    }

    /// The installed profile, refusing a missing or expired one.
    pub fn current_profile(&self) -> Result<AgencyProfile> {
        let p = self
            .profile_unchecked()?
            .ok_or(ProfileError::NotInstalled)?;
        if p.is_expired(OffsetDateTime::now_utc()) {
            return Err(ProfileError::Expired.into());
        }
        Ok(p)
    }

    /// The places a reporter picks from: the installed profile's regency (expired or not), or
    /// [`DEFAULT_REGENCY`] (Kabupaten Blora) before any profile is installed. Refused with
    /// [`ProfileError::UnknownRegency`] when this build has no map data for the regency.
    pub fn gazetteer(&self) -> Result<&'static Gazetteer> {
        let regency = self
            .profile_unchecked()?
            .map_or_else(|| DEFAULT_REGENCY.to_owned(), |p| p.regency_code);
        Ok(Gazetteer::for_regency(&regency).ok_or(ProfileError::UnknownRegency)?)
    }

    // ----- drafts ---------------------------------------------------------------------------

    fn seal_draft(&self, id: &str, body: &DraftBody) -> Vec<u8> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(body).expect("draft serialises"));
        self.store
            .records()
            .seal(format!("drafts:{id}").as_bytes(), &json)
    }

    fn load_body(&self, tx: &rusqlite::Connection, id: &str) -> Result<DraftBody> {
        let sealed: Vec<u8> = tx
            .query_row("SELECT body FROM drafts WHERE id = ?1", [id], |r| r.get(0))
            .optional()?
            .ok_or(CoreError::NotFound("draft"))?;
        let pt = self
            .store
            .records()
            .open(format!("drafts:{id}").as_bytes(), &sealed)
            .ok_or(CoreError::RecordCorrupt)?;
        serde_json::from_slice(&pt).map_err(|_| CoreError::RecordCorrupt)
    }

    fn load_attachments(&self, c: &rusqlite::Connection, id: &str) -> Result<Vec<AttachmentRow>> {
        let mut st = c.prepare(
            "SELECT id, file, body FROM attachments WHERE draft_id = ?1 ORDER BY position",
        )?;
        let rows = st
            .query_map([id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(aid, file, body)| {
                let pt = self
                    .store
                    .records()
                    .open(format!("attachments:{aid}").as_bytes(), &body)
                    .ok_or(CoreError::RecordCorrupt)?;
                let info = serde_json::from_slice(&pt).map_err(|_| CoreError::RecordCorrupt)?;
                Ok(AttachmentRow { file, info })
            })
            .collect()
    }

    fn load_draft(&self, c: &rusqlite::Connection, id: &str) -> Result<Draft> {
        let body = self.load_body(c, id)?;
        let attachments = self
            .load_attachments(c, id)?
            .into_iter()
            .map(|a| a.info)
            .collect();
        Ok(Draft {
            id: id.to_string(),
            created_at: body.created_at,
            updated_at: body.updated_at,
            fields: body.fields,
            attachments,
        })
    }

    /// Starts a new, empty draft.
    pub fn create_draft(&self) -> Result<Draft> {
        let id = crypto::random_id();
        let t = now();
        let body = DraftBody {
            created_at: t,
            updated_at: t,
            fields: ReportFields::default(),
        };
        let sealed = self.seal_draft(&id, &body);
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO drafts (id, created_at, updated_at, body) VALUES (?1, ?2, ?2, ?3)",
                params![id, t.unix_timestamp(), sealed],
            )?;
            Ok(())
        })?;
        self.draft(&id)
    }

    /// Sets one field of a draft, checking it first; the draft is saved at once. A refused
    /// value leaves the draft as it was.
    pub fn update_draft(&self, id: &str, value: FieldValue) -> Result<Draft> {
        let edit = DraftEdit {
            fields: vec![value],
            ..DraftEdit::default()
        };
        Ok(self.edit_draft(id, &edit)?)
    }

    /// Applies several changes to one draft as one: its removals, then its field values in
    /// order, then its files. Either all of them are saved, in one transaction, or none: a
    /// refused value, an unknown attachment id or a refused file leaves the draft exactly as
    /// it was, and the files this edit had already copied in are deleted again. The error
    /// says which file of [`DraftEdit::attach`] was refused, when it was one.
    ///
    /// Field values and removals are checked before any file is copied, so a wrong value does
    /// not cost copying a large video first.
    pub fn edit_draft(&self, id: &str, edit: &DraftEdit) -> Result<Draft, EditRefused> {
        self.apply_edit(id, edit)?;
        Ok(self.draft(id)?)
    }

    /// Loads the draft and applies `edit`'s removals and field values to it in memory,
    /// checking each; nothing is written.
    fn plan_edit(
        &self,
        c: &rusqlite::Connection,
        id: &str,
        edit: &DraftEdit,
        today: time::Date,
    ) -> Result<EditPlan> {
        let mut body = self.load_body(c, id)?;
        let mut removed: Vec<(String, String)> = Vec::new();
        for a in &edit.remove_attachments {
            let file: String = c
                .query_row(
                    "SELECT file FROM attachments WHERE id = ?1 AND draft_id = ?2",
                    [a, id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(CoreError::NotFound("attachment"))?;
            if !removed.iter().any(|(x, _)| x == a) {
                removed.push((a.clone(), file));
            }
        }
        for v in &edit.fields {
            body.fields.set(v.clone(), today)?;
        }
        let count: i64 = c.query_row(
            "SELECT count(*) FROM attachments WHERE draft_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        Ok(EditPlan {
            body,
            kept: usize::try_from(count)
                .unwrap_or(0)
                .saturating_sub(removed.len()),
            removed,
        })
    }

    fn apply_edit(&self, id: &str, edit: &DraftEdit) -> Result<Vec<Attachment>, EditRefused> {
        let today = today();
        // Checked first (and again in the transaction): a missing draft, an unknown
        // attachment, a refused value or one file too many costs no copying.
        let plan = self.store.read(|c| self.plan_edit(c, id, edit, today))?;
        if edit.is_empty() {
            return Ok(Vec::new());
        }
        check_count(plan.kept, edit.attach.len())?;
        let mut staged: Vec<Staged> = Vec::with_capacity(edit.attach.len());
        if !edit.attach.is_empty() {
            let max = self.max_attachment_bytes()?;
            for (i, a) in edit.attach.iter().enumerate() {
                match self.stage_attachment(a, max) {
                    Ok(s) => staged.push(s),
                    Err(error) => {
                        self.discard(&staged);
                        return Err(EditRefused {
                            attachment: Some(i),
                            error,
                        });
                    }
                }
            }
            if let Err(e) = self.store.sync_dir(&self.store.files_dir()) {
                self.discard(&staged);
                return Err(e.into());
            }
        }
        let mut refused_at = None;
        let committed = self.store.write(|tx| {
            // Planned again inside the transaction, on the draft as it is now.
            let mut plan = self.plan_edit(tx, id, edit, today)?;
            if let Err(e) = check_count(plan.kept, staged.len()) {
                refused_at = e.attachment;
                return Err(e.error);
            }
            for (aid, _) in &plan.removed {
                tx.execute("DELETE FROM attachments WHERE id = ?1", [aid])?;
            }
            for s in &staged {
                let sealed = self.store.records().seal(
                    format!("attachments:{}", s.info.id).as_bytes(),
                    &serde_json::to_vec(&s.info).expect("attachment serialises"),
                );
                tx.execute(
                    "INSERT INTO attachments (id, draft_id, position, file, body)
                     VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM attachments
                                      WHERE draft_id = ?2), ?3, ?4)",
                    params![s.info.id, id, s.file, sealed],
                )?;
            }
            plan.body.updated_at = now();
            tx.execute(
                "UPDATE drafts SET body = ?2, updated_at = ?3 WHERE id = ?1",
                params![
                    id,
                    self.seal_draft(id, &plan.body),
                    plan.body.updated_at.unix_timestamp()
                ],
            )?;
            Ok(plan.removed)
        });
        match committed {
            Ok(removed) => {
                if !removed.is_empty() {
                    let files: Vec<String> = removed.into_iter().map(|(_, f)| f).collect();
                    // The edit is saved; a file that cannot be deleted now is named by no
                    // row, so the next open sweeps it.
                    let _ = self.remove_files(&files);
                }
                Ok(staged.into_iter().map(|s| s.info).collect())
            }
            Err(error) => {
                self.discard(&staged);
                Err(EditRefused {
                    attachment: refused_at,
                    error,
                })
            }
        }
    }

    /// Deletes the files of an edit that was refused.
    fn discard(&self, staged: &[Staged]) {
        if staged.is_empty() {
            return;
        }
        let dir = self.store.files_dir();
        for s in staged {
            // One that cannot be deleted now is named by no row: the next open sweeps it.
            let _ = files::remove(&files::path_in(&dir, &s.file));
        }
        let _ = self.store.sync_dir(&dir);
    }

    /// One draft.
    pub fn draft(&self, id: &str) -> Result<Draft> {
        self.store.read(|c| self.load_draft(c, id))
    }

    /// Every draft, most recently changed first.
    pub fn drafts(&self) -> Result<Vec<Draft>> {
        self.store.read(|c| {
            let ids: Vec<String> = c
                .prepare("SELECT id FROM drafts ORDER BY updated_at DESC, id")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids.iter().map(|id| self.load_draft(c, id)).collect()
        })
    }

    /// Deletes a draft and its attached files (overwritten with zeros before they are
    /// unlinked); the write-ahead log is then checkpointed and truncated, so that no older
    /// page image of the sealed draft stays in it.
    pub fn delete_draft(&self, id: &str) -> Result<()> {
        let files = self.store.write(|tx| {
            let files: Vec<String> = tx
                .prepare("SELECT file FROM attachments WHERE draft_id = ?1")?
                .query_map([id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if tx.execute("DELETE FROM drafts WHERE id = ?1", [id])? == 0 {
                return Err(CoreError::NotFound("draft"));
            }
            Ok(files)
        })?;
        self.remove_files(&files)?;
        self.store.checkpoint()
    }

    fn remove_files(&self, files: &[String]) -> Result<()> {
        let dir = self.store.files_dir();
        for f in files {
            files::remove(&files::path_in(&dir, f))?;
        }
        self.store.sync_dir(&dir)
    }

    fn max_attachment_bytes(&self) -> Result<u64> {
        Ok(self
            .profile_unchecked()?
            .map_or(DEFAULT_MAX_ATTACHMENT_BYTES, |p| p.max_attachment_bytes))
    }

    /// Copies the file at `path` into the draft, encrypted. `voice_note` marks a recording
    /// made as the report's voice note: it counts as audio whatever its container.
    ///
    /// Identifying metadata (GPS position, time, phone model and serial, thumbnails; see
    /// [`crate::strip`]) is removed on the way in, before anything is stored, unless
    /// `keep_metadata` is set: the reporter's expert choice to keep it as evidence, which a
    /// front end offers only with [`crate::strip::KEEP_METADATA_WARNING_ID`] (or `_EN`).
    /// Types the core cannot strip pass through unchanged. A refused file leaves the draft as
    /// it was. To attach several files with other changes, all or nothing, see
    /// [`Reporter::edit_draft`].
    pub fn attach_file(
        &self,
        draft_id: &str,
        path: &Path,
        voice_note: bool,
        keep_metadata: bool,
    ) -> Result<Attachment> {
        let edit = DraftEdit {
            attach: vec![NewAttachment {
                path: path.to_path_buf(),
                voice_note,
                keep_metadata,
            }],
            ..DraftEdit::default()
        };
        self.apply_edit(draft_id, &edit)?
            .pop()
            .ok_or(CoreError::NotFound("attachment"))
    }

    /// Copies one file into the files folder, stripped and encrypted, without recording it
    /// anywhere yet. A refused file leaves nothing behind.
    fn stage_attachment(&self, a: &NewAttachment, max: u64) -> Result<Staged> {
        let unreadable = || FieldError::new(Field::Attachment, Reason::Unreadable);
        let not_removed = || FieldError::new(Field::Attachment, Reason::MetadataNotRemoved);
        let unsupported = || FieldError::new(Field::Attachment, Reason::UnsupportedType);
        let mut src = File::open(&a.path).map_err(|_| unreadable())?;
        let meta = src.metadata().map_err(|_| unreadable())?;
        if !meta.is_file() {
            return Err(unreadable().into());
        }
        if meta.len() > max {
            return Err(FieldError::with_limit(Field::Attachment, Reason::TooLarge, max).into());
        }
        // The type comes from the content, and decides how the file is stripped.
        let mut head = Vec::with_capacity(8192);
        (&mut src)
            .take(8192)
            .read_to_end(&mut head)
            .map_err(|_| unreadable())?;
        if head.is_empty() {
            return Err(FieldError::new(Field::Attachment, Reason::Empty).into());
        }
        let mime = attach::sniff(&head).ok_or_else(unsupported)?;
        let kind = attach::classify(mime, a.voice_note).ok_or_else(unsupported)?;
        src.seek(SeekFrom::Start(0)).map_err(|_| unreadable())?;
        let method = if a.keep_metadata {
            strip::Method::None
        } else {
            strip::method_for(mime)
        };
        // A stripped image lives only in memory (zeroed after), never in a plaintext file.
        let clean: zeroize::Zeroizing<Vec<u8>>;
        let mut reader: Box<dyn Read + '_> = match method {
            strip::Method::Image(format) => {
                if meta.len() > strip::MAX_IMAGE_BYTES {
                    return Err(not_removed().into());
                }
                let mut data = zeroize::Zeroizing::new(Vec::with_capacity(meta.len() as usize));
                src.read_to_end(&mut data).map_err(|_| unreadable())?;
                clean = zeroize::Zeroizing::new(
                    strip::strip_image(format, &data).map_err(|_| not_removed())?,
                );
                Box::new(&clean[..])
            }
            strip::Method::IsoMedia => {
                let plan =
                    strip::plan_iso_media(&mut src, meta.len()).map_err(|_| not_removed())?;
                src.seek(SeekFrom::Start(0)).map_err(|_| unreadable())?;
                Box::new(strip::Patched::new(BufReader::new(src), plan))
            }
            strip::Method::None => Box::new(BufReader::new(src)),
        };
        let file = format!("{}.bin", crypto::random_id());
        let dest = files::path_in(&self.store.files_dir(), &file);
        let copied = files::encrypt_into(
            self.store.file_key(),
            &mut reader,
            &dest,
            &mut Vec::new(),
            max,
        );
        drop(reader);
        let size = match copied {
            Ok(0) => Err(FieldError::new(Field::Attachment, Reason::Empty).into()),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
                Err(FieldError::with_limit(Field::Attachment, Reason::TooLarge, max).into())
            }
            Err(e) if e.kind() == io::ErrorKind::StorageFull => Err(e.into()),
            Err(_) => Err(unreadable().into()),
        };
        match size {
            Ok(size) => Ok(Staged {
                file,
                info: Attachment {
                    id: crypto::random_id(),
                    kind,
                    mime: mime.to_string(),
                    size,
                    added_at: now(),
                },
            }),
            Err(e) => {
                let _ = files::remove(&dest);
                Err(e)
            }
        }
    }

    /// Removes an attachment from a draft and deletes its file.
    pub fn remove_attachment(&self, draft_id: &str, attachment_id: &str) -> Result<Draft> {
        let edit = DraftEdit {
            remove_attachments: vec![attachment_id.to_string()],
            ..DraftEdit::default()
        };
        Ok(self.edit_draft(draft_id, &edit)?)
    }

    // ----- submit ---------------------------------------------------------------------------

    /// Seals a draft into age parts and queues it, in one durable step.
    ///
    /// Part 0 is the report document; each attachment is one more part. The draft and its
    /// files are destroyed when the report is queued: the draft row in the same transaction
    /// (SQLite's `secure_delete` zeroes it in the file), the attached files overwritten with
    /// zeros and unlinked, and the write-ahead log checkpointed and truncated, so that no older
    /// page image of the sealed draft stays in it. Submitting a draft that was already queued
    /// (a retry after a crash or a double tap) returns the queued report.
    pub fn submit(&self, draft_id: &str) -> Result<OutboxReport> {
        let loaded = self.store.read(|c| match self.load_draft(c, draft_id) {
            Ok(d) => Ok(Some((d, self.load_attachments(c, draft_id)?))),
            Err(CoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })?;
        let Some((draft, rows)) = loaded else {
            return self
                .outbox()
                .get(draft_id)?
                .ok_or(CoreError::NotFound("draft"));
        };
        let profile = self.current_profile()?;
        let errors =
            validate::check_complete(&draft, &profile.regency_code, profile.max_attachment_bytes);
        if !errors.is_empty() {
            return Err(CoreError::Incomplete(errors));
        }
        let recipients = profile
            .recipients()
            .ok_or(ProfileError::Malformed("invalid recipient key"))?;

        let dir = self.store.outbox_dir(&draft.id);
        if dir.exists() {
            // Left by an earlier attempt that crashed before queueing.
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        // The receipt code and its keys (Argon2id): the reporter's recipient goes inside the
        // sealed document, the code and keys into the outbox with the report.
        let followup = crate::followup::Registration::create()?;
        let reporter_recipient = followup.keys.identity.to_public().to_string();
        let sealed = self.seal_parts(&draft, &rows, &profile, &recipients, reporter_recipient);
        let sealed = match sealed {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        self.store.sync_dir(&dir)?;
        self.store.sync_dir(&self.store.home().join("outbox"))?;

        let summary = Summary {
            category: draft.fields.category,
            drafted_at: draft.created_at,
            carried: None,
        };
        let summary = self.store.records().seal(
            format!("reports:{}", draft.id).as_bytes(),
            &serde_json::to_vec(&summary).expect("summary serialises"),
        );
        // The client token is made with the report, so every copy of the queued report (a
        // restored backup, a relay) proves the same ownership to the server.
        let token = self.store.records().seal(
            format!("reports-token:{}", draft.id).as_bytes(),
            crate::protocol::new_token().as_bytes(),
        );
        let t = now().unix_timestamp();
        self.store.write(|tx| {
            tx.execute(
                "INSERT INTO reports (id, state, queued_at, updated_at, part_count,
                                      profile_version, summary, token)
                 VALUES (?1, 'queued', ?2, ?2, ?3, ?4, ?5, ?6)",
                params![
                    draft.id,
                    t,
                    sealed.len() as u32,
                    profile.version,
                    summary,
                    token
                ],
            )?;
            for (idx, p) in sealed.iter().enumerate() {
                tx.execute(
                    "INSERT INTO parts (report_id, idx, kind, size, sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        draft.id,
                        idx as u32,
                        if idx == 0 { "report" } else { "attachment" },
                        p.size,
                        p.sha256
                    ],
                )?;
            }
            crate::followup::save(self, tx, &draft.id, &followup.code, &followup.keys)?;
            tx.execute("DELETE FROM drafts WHERE id = ?1", [&draft.id])?;
            Ok(())
        })?;
        let files: Vec<String> = rows.into_iter().map(|r| r.file).collect();
        self.remove_files(&files)?;
        self.store.checkpoint()?;
        self.outbox()
            .get(&draft.id)?
            .ok_or(CoreError::NotFound("report"))
    }

    fn seal_parts(
        &self,
        draft: &Draft,
        rows: &[AttachmentRow],
        profile: &AgencyProfile,
        recipients: &[Recipient],
        reporter_recipient: String,
    ) -> Result<Vec<SealedPart>> {
        let mut parts = Vec::with_capacity(rows.len() + 1);
        let mut refs = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let idx = i as u32 + 1;
            let src = files::path_in(&self.store.files_dir(), &row.file);
            let mut reader = files::decrypt_reader(self.store.file_key(), &src)?;
            let dest = self.store.part_path(&draft.id, idx);
            let (part, plain_len, plain_hash) = seal_file(recipients, &mut reader, &dest)?;
            if plain_len != row.info.size {
                return Err(CoreError::RecordCorrupt);
            }
            refs.push(AttachmentRef {
                part: idx,
                kind: row.info.kind,
                mime: row.info.mime.clone(),
                size: plain_len,
                sha256: plain_hash,
            });
            parts.push(part);
        }
        let doc = ReportDocument {
            schema_version: REPORT_SCHEMA_VERSION,
            report_id: draft.id.clone(),
            regency: profile.regency_code.clone(),
            profile_version: profile.version,
            drafted_at: draft.created_at,
            submitted_at: now(),
            fields: draft.fields.clone(),
            attachments: refs,
            reporter_recipient: Some(reporter_recipient),
        };
        let json = zeroize::Zeroizing::new(doc.to_json());
        let (part, _, _) = seal_file(
            recipients,
            &mut &json[..],
            &self.store.part_path(&draft.id, 0),
        )?;
        parts.insert(0, part);
        Ok(parts)
    }
}
