//! The panic wipe: one call that makes everything on the phone unrecoverable.
//!
//! Everything the core keeps is encrypted under the device key, so destroying the key
//! (crypto-shredding) is what makes the data unreadable; deleting the files afterwards removes
//! the traces. [`wipe_home`] works even when the store cannot be opened (a wrong key, a damaged
//! database, a forgotten PIN); [`crate::Reporter::wipe`] is the same from an open home.
//!
//! With `keep_sending`, reports already queued keep going: their sealed parts (age files to
//! the agency, which the phone cannot read anyway) and only the state needed to deliver them
//! — ids, part sizes and hashes, upload URLs and offsets, client tokens, and the follow-up
//! registration part 0's metadata carries (lookup id and auth value, so that the report can
//! still be followed up with its receipt code once delivered) — move into a fresh store
//! under a **new** device key. The receipt code and the reporter's follow-up key are not
//! kept: whoever holds the phone afterwards cannot read the team's replies nor answer them. Drafts, attachments, delivered and failed reports (the
//! history) and the reporter's own summaries (category, dates) are destroyed with the old key.
//!
//! The order, and why a kill at any point is safe:
//! 1. Under the old key, read the outbox state to keep into memory (keep_sending only).
//! 2. Write the marker file `.wiping` (fsynced). From here on, opening the home finishes the
//!    wipe before anything else, so the app never shows old data nor "done" before it is.
//! 3. Move the kept reports' sealed part folders to `.kept/` (renames; fsynced).
//! 4. **Destroy the device key** (`DeviceKeyStore::destroy`: zeroed, fsynced, unlinked). From
//!    here nothing that was encrypted can be read, whatever remains on the flash.
//! 5. Zero and delete the database with its WAL and SHM files, then delete every other file
//!    and folder under the home except the marker and `.kept/`.
//! 6. keep_sending: open a fresh store (a new key is made), insert the kept state sealed under
//!    it in one transaction (with the agency profile and its pinned key, when both opened
//!    under the old key), move the part folders back into `outbox/`, remove `.kept/`.
//! 7. Remove the marker (fsynced). Only now does the call return `Ok`.
//!
//! A kill before step 4 leaves the data encrypted under a key that still exists, with the
//! marker present: the next open finishes the wipe. A kill after step 4 leaves only
//! ciphertext under a destroyed key. An interrupted wipe is always finished as a *full* wipe:
//! the kept tokens were only in memory, so queued reports are then lost too (they can be sent
//! again from another phone). Plaintext report content is never written anywhere by any step.

use std::fs::{self, File};
use std::path::Path;

use rusqlite::params;
use zeroize::Zeroizing;

use crate::error::{CoreError, Result};
use crate::outbox::Summary;
use crate::store::device_key::shred_file;
use crate::store::schema::SEALED_META;
use crate::store::{DB_FILE, DeviceKeyStore, SealedMeta, Store, read_sealed_meta, set_sealed_meta};

/// The marker of a wipe under way.
pub const MARKER: &str = ".wiping";
const KEPT: &str = ".kept";

/// What a wipe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WipeOutcome {
    /// Queued reports kept for delivery under the new key (0 for a full wipe).
    pub kept_reports: u32,
}

struct KeptPart {
    idx: u32,
    kind: String,
    size: i64,
    sha256: String,
    upload_url: Option<String>,
    sent: i64,
    done: bool,
}

struct KeptReport {
    id: String,
    state: String,
    queued_at: i64,
    updated_at: i64,
    part_count: u32,
    profile_version: i64,
    token: Option<Zeroizing<Vec<u8>>>,
    /// The follow-up registration (lookup id, auth value) part 0's metadata carries; never
    /// the receipt code nor the reporter's key.
    followup: Option<crate::followup::CarriedRegistration>,
    parts: Vec<KeptPart>,
    /// A report carried for someone else stays one, with its follow-up pair.
    carried: Option<crate::outbox::Carried>,
}

/// What a keep_sending wipe carries from the old store to the new one.
pub(crate) struct KeepSet {
    reports: Vec<KeptReport>,
    /// The pinned profile-signing key and the installed profile, opened under the old key, to
    /// be sealed again under the new one.
    meta: Vec<(&'static str, Zeroizing<Vec<u8>>)>,
}

/// True when a wipe was started in `home` and has not finished.
pub fn wipe_pending(home: &Path) -> bool {
    home.join(MARKER).exists()
}

/// Reads, under the old key, what is needed to keep delivering queued reports.
pub(crate) fn collect(store: &Store) -> Result<KeepSet> {
    store.read(|c| {
        let mut st = c.prepare(
            "SELECT id, state, queued_at, updated_at, part_count, profile_version, token,
                    summary
             FROM reports WHERE state IN ('queued', 'sending') ORDER BY seq",
        )?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, u32>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, Option<Vec<u8>>>(6)?,
                    r.get::<_, Vec<u8>>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut reports = Vec::with_capacity(rows.len());
        for (id, state, queued_at, updated_at, part_count, profile_version, token, summary) in rows
        {
            let carried = store
                .records()
                .open(format!("reports:{id}").as_bytes(), &summary)
                .and_then(|pt| serde_json::from_slice::<Summary>(&pt).ok())
                .and_then(|s| s.carried);
            let token = match token {
                Some(sealed) => Some(
                    store
                        .records()
                        .open(format!("reports-token:{id}").as_bytes(), &sealed)
                        .ok_or(CoreError::RecordCorrupt)?,
                ),
                None => None,
            };
            let mut pst = c.prepare(
                "SELECT idx, kind, size, sha256, upload_url, sent, done FROM parts
                 WHERE report_id = ?1 ORDER BY idx",
            )?;
            let parts = pst
                .query_map([&id], |r| {
                    Ok(KeptPart {
                        idx: r.get(0)?,
                        kind: r.get(1)?,
                        size: r.get(2)?,
                        sha256: r.get(3)?,
                        upload_url: r.get(4)?,
                        sent: r.get(5)?,
                        done: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let followup = crate::followup::registration_to_carry(c, store.records(), &id)?;
            reports.push(KeptReport {
                followup,
                id,
                state,
                queued_at,
                updated_at,
                part_count,
                profile_version,
                token,
                parts,
                carried,
            });
        }
        // The signed agency profile and its pinned key: needed to deliver. Carried only when
        // both open under the old key: rows changed outside the app are not sealed again
        // under the new key (that would make them trusted); the profile is then imported
        // again after the wipe.
        let mut meta = Vec::new();
        for key in SEALED_META {
            match read_sealed_meta(c, store.records(), key)? {
                SealedMeta::Opened(v) => meta.push((key, v)),
                SealedMeta::Absent => {}
                SealedMeta::Refused => {
                    meta.clear();
                    break;
                }
            }
        }
        Ok(KeepSet { reports, meta })
    })
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Wipes `home` (see the module documentation). With `keep_sending`, queued reports are
/// kept if the store still opens with `keys`; if it does not, this is a full wipe.
pub fn wipe_home(
    home: &Path,
    keys: &dyn DeviceKeyStore,
    keep_sending: bool,
) -> Result<WipeOutcome> {
    if keep_sending
        && !wipe_pending(home)
        && home.join(DB_FILE).exists()
        && let Ok(store) = Store::open(home, keys)
    {
        let keep = collect(&store).ok();
        return run(home, keys, keep, Some(store));
    }
    run(home, keys, None, None)
}

/// Steps 2 to 7. `open` is a store still open on the old key, closed once the key is gone.
pub(crate) fn run(
    home: &Path,
    keys: &dyn DeviceKeyStore,
    keep: Option<KeepSet>,
    open: Option<Store>,
) -> Result<WipeOutcome> {
    let destroy = |keys: &dyn DeviceKeyStore| {
        keys.destroy()
            .map_err(|e| CoreError::DeviceKey(format!("cannot destroy the device key: {}", e.0)))
    };
    if !home.exists() {
        destroy(keys)?;
        return Ok(WipeOutcome { kept_reports: 0 });
    }
    // 2. The marker.
    let marker = home.join(MARKER);
    File::create(&marker)?.sync_all()?;
    sync_dir(home)?;

    // 3. Set the kept reports' sealed parts aside.
    let kept_dir = home.join(KEPT);
    let mut keep = keep;
    if let Some(k) = &mut keep {
        fs::create_dir_all(&kept_dir)?;
        k.reports.retain(|r| {
            let from = home.join("outbox").join(&r.id);
            from.is_dir() && fs::rename(&from, kept_dir.join(&r.id)).is_ok()
        });
        sync_dir(&kept_dir)?;
        sync_dir(&home.join("outbox"))?;
    }

    // 4. The key first.
    destroy(keys)?;
    drop(open);

    // 5. The database (zeroed, as it holds ids, times and receipts in clear), then the rest.
    for name in [
        DB_FILE.to_owned(),
        format!("{DB_FILE}-wal"),
        format!("{DB_FILE}-shm"),
        format!("{DB_FILE}-journal"),
    ] {
        shred_file(&home.join(name))?;
    }
    for entry in fs::read_dir(home)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == MARKER || (keep.is_some() && name == KEPT) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    sync_dir(home)?;

    // 6. A fresh store under a new key for what keeps going.
    let mut kept_reports = 0;
    if let Some(k) = keep {
        kept_reports = restore(home, keys, k)?;
        fs::remove_dir_all(&kept_dir)?;
        sync_dir(home)?;
    }

    // 7. Done.
    fs::remove_file(&marker)?;
    sync_dir(home)?;
    Ok(WipeOutcome { kept_reports })
}

fn restore(home: &Path, keys: &dyn DeviceKeyStore, k: KeepSet) -> Result<u32> {
    let store = Store::open(home, keys)?;
    store.write(|tx| {
        for (key, value) in &k.meta {
            set_sealed_meta(tx, store.records(), key, value)?;
        }
        for r in &k.reports {
            // The reporter's own summary (category, draft date) is history: not kept.
            let summary = Summary {
                category: None,
                drafted_at: time::OffsetDateTime::from_unix_timestamp(r.queued_at)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
                carried: r.carried.clone(),
            };
            let summary = store.records().seal(
                format!("reports:{}", r.id).as_bytes(),
                &serde_json::to_vec(&summary).expect("summary serialises"),
            );
            let token = r.token.as_ref().map(|t| {
                store
                    .records()
                    .seal(format!("reports-token:{}", r.id).as_bytes(), t)
            });
            tx.execute(
                "INSERT INTO reports (id, state, queued_at, updated_at, part_count,
                                      profile_version, summary, token)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    r.id,
                    r.state,
                    r.queued_at,
                    r.updated_at,
                    r.part_count,
                    r.profile_version,
                    summary,
                    token
                ],
            )?;
            if let Some(f) = &r.followup {
                crate::followup::restore_registration(&store, tx, &r.id, f)?;
            }
            for p in &r.parts {
                tx.execute(
                    "INSERT INTO parts (report_id, idx, kind, size, sha256, upload_url, sent, done)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        r.id,
                        p.idx,
                        p.kind,
                        p.size,
                        p.sha256,
                        p.upload_url,
                        p.sent,
                        p.done
                    ],
                )?;
            }
        }
        Ok(())
    })?;
    let outbox = home.join("outbox");
    for r in &k.reports {
        fs::rename(home.join(KEPT).join(&r.id), outbox.join(&r.id))?;
    }
    sync_dir(&outbox)?;
    Ok(k.reports.len() as u32)
}
