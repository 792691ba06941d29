//! [`Reporter`]: the one object front ends hold. It ties the store, the profile, drafts,
//! sealing and the outbox together; `berani-ffi` and the CLI call it with one line each.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

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
use crate::store::{DeviceKeyStore, KeyStoreError, PinLock, Store, files, set_meta};
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

    /// The profile-signing key this home trusts, if one is pinned.
    pub fn trusted_profile_key(&self) -> Result<Option<ProfileKey>> {
        match self.store.meta("profile_key")? {
            Some(k) => Ok(Some(crate::jws::PublicKey(
                k.try_into().map_err(|_| CoreError::RecordCorrupt)?,
            ))),
            None => Ok(None),
        }
    }

    /// Verifies and installs a signed profile.
    ///
    /// `trust` pins a profile-signing key on first use; later imports must be signed by the
    /// pinned key. A profile older than the installed one, expired, or badly signed is
    /// refused and the installed profile stays.
    pub fn import_profile(
        &self,
        signed: &[u8],
        trust: Option<ProfileKey>,
    ) -> Result<AgencyProfile> {
        let key = match (self.trusted_profile_key()?, trust) {
            (Some(pinned), Some(t)) if pinned != t => return Err(ProfileError::KeyMismatch.into()),
            (Some(pinned), _) => pinned,
            (None, Some(t)) => t,
            (None, None) => return Err(ProfileError::NoTrustedKey.into()),
        };
        let offered = profile::verify(signed, &key, OffsetDateTime::now_utc())?;
        if let Some(installed) = self.profile_unchecked()?
            && offered.version < installed.version
        {
            return Err(ProfileError::Older {
                offered: offered.version,
                installed: installed.version,
            }
            .into());
        }
        self.store.write(|tx| {
            set_meta(tx, "profile_key", &key.0)?;
            set_meta(tx, "profile", signed)?;
            Ok(())
        })?;
        Ok(offered)
    }

    /// The installed profile, whether or not it has expired.
    fn profile_unchecked(&self) -> Result<Option<AgencyProfile>> {
        let (Some(signed), Some(key)) = (self.store.meta("profile")?, self.trusted_profile_key()?)
        else {
            return Ok(None);
        };
        // Verified at install; checked again against the pinned key in case the file changed,
        // with expiry ignored here (callers decide what expiry means for them).
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
        self.store.write(|tx| {
            let mut body = self.load_body(tx, id)?;
            body.fields.set(value, today())?;
            body.updated_at = now();
            tx.execute(
                "UPDATE drafts SET body = ?2, updated_at = ?3 WHERE id = ?1",
                params![
                    id,
                    self.seal_draft(id, &body),
                    body.updated_at.unix_timestamp()
                ],
            )?;
            Ok(())
        })?;
        self.draft(id)
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

    /// Deletes a draft and its attached files.
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
        self.remove_files(&files)
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
    /// Types the core cannot strip pass through unchanged.
    pub fn attach_file(
        &self,
        draft_id: &str,
        path: &Path,
        voice_note: bool,
        keep_metadata: bool,
    ) -> Result<Attachment> {
        let unreadable = || FieldError::new(Field::Attachment, Reason::Unreadable);
        let not_removed = || FieldError::new(Field::Attachment, Reason::MetadataNotRemoved);
        let unsupported = || FieldError::new(Field::Attachment, Reason::UnsupportedType);
        let max = self.max_attachment_bytes()?;
        // Fail early on a missing draft, before copying a large file.
        self.draft(draft_id)?;
        let mut src = File::open(path).map_err(|_| unreadable())?;
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
        let kind = attach::classify(mime, voice_note).ok_or_else(unsupported)?;
        src.seek(SeekFrom::Start(0)).map_err(|_| unreadable())?;
        let method = if keep_metadata {
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
        let result = (|| {
            let size = match copied {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
                    return Err(
                        FieldError::with_limit(Field::Attachment, Reason::TooLarge, max).into(),
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::StorageFull => return Err(e.into()),
                Err(_) => return Err(unreadable().into()),
            };
            if size == 0 {
                return Err(FieldError::new(Field::Attachment, Reason::Empty).into());
            }
            let info = Attachment {
                id: crypto::random_id(),
                kind,
                mime: mime.to_string(),
                size,
                added_at: now(),
            };
            self.store.sync_dir(&self.store.files_dir())?;
            let sealed = self.store.records().seal(
                format!("attachments:{}", info.id).as_bytes(),
                &serde_json::to_vec(&info).expect("attachment serialises"),
            );
            self.store.write(|tx| {
                let count: i64 = tx.query_row(
                    "SELECT count(*) FROM attachments WHERE draft_id = ?1",
                    [draft_id],
                    |r| r.get(0),
                )?;
                if count as usize >= MAX_ATTACHMENTS {
                    return Err(FieldError::with_limit(
                        Field::Attachment,
                        Reason::TooMany,
                        MAX_ATTACHMENTS as u64,
                    )
                    .into());
                }
                let mut body = self.load_body(tx, draft_id)?;
                body.updated_at = now();
                tx.execute(
                    "INSERT INTO attachments (id, draft_id, position, file, body)
                     VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM attachments
                                      WHERE draft_id = ?2), ?3, ?4)",
                    params![info.id, draft_id, file, sealed],
                )?;
                tx.execute(
                    "UPDATE drafts SET body = ?2, updated_at = ?3 WHERE id = ?1",
                    params![
                        draft_id,
                        self.seal_draft(draft_id, &body),
                        body.updated_at.unix_timestamp()
                    ],
                )?;
                Ok(())
            })?;
            Ok(info)
        })();
        if result.is_err() {
            let _ = files::remove(&dest);
        }
        result
    }

    /// Removes an attachment from a draft and deletes its file.
    pub fn remove_attachment(&self, draft_id: &str, attachment_id: &str) -> Result<Draft> {
        let file: String = self.store.write(|tx| {
            let file: String = tx
                .query_row(
                    "SELECT file FROM attachments WHERE id = ?1 AND draft_id = ?2",
                    [attachment_id, draft_id],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or(CoreError::NotFound("attachment"))?;
            tx.execute("DELETE FROM attachments WHERE id = ?1", [attachment_id])?;
            Ok(file)
        })?;
        self.remove_files(&[file])?;
        self.draft(draft_id)
    }

    // ----- submit ---------------------------------------------------------------------------

    /// Seals a draft into age parts and queues it, in one durable step.
    ///
    /// Part 0 is the report document; each attachment is one more part. The draft and its
    /// plaintext files are destroyed when the report is queued. Submitting a draft that was
    /// already queued (a retry after a crash or a double tap) returns the queued report.
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
