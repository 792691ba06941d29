//! Relay through a volunteer: a queued report leaves the phone as one **bundle file** that
//! anyone can carry to a place with signal, where a volunteer's Berani delivers it like its
//! own.
//!
//! The bundle is an uncompressed ustar archive (`.berani`, [`MIME_TYPE`]):
//!
//! ```text
//! manifest.json     the manifest (JSON, `format` "berani-relay", `version` 1)
//! parts/0.age       the sealed report document, byte for byte as queued
//! parts/1.age …     the sealed attachments
//! ```
//!
//! The parts are already age files sealed to the agency, so the carrier cannot read them. The
//! manifest carries only what delivery needs: the fingerprint of the agency's profile-signing
//! key, the report id, each part's index, kind, size and SHA-256, the report's client token
//! (so that the carrier's upload and the reporter's own are the same upload to the server) and
//! the follow-up lookup id and auth value the server registers with part 0 (so that the
//! reporter's receipt code works). Never the receipt code, the reporter's follow-up key, the
//! category or anything the reporter wrote. `docs/PROTOCOL.md` describes the format.
//!
//! Import checks everything before anything is stored: the manifest's format and version, the
//! fingerprint against the carrier's own trusted profile key, and every part's size and
//! SHA-256 as it is copied into a work folder. Only then are the parts moved into the outbox
//! and the report recorded, in one transaction: a crash leaves nothing (the work folder and an
//! unrecorded outbox folder are swept at the next open) or the whole report. Importing a report
//! the outbox already holds changes nothing.

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::crypto::{self, Sha256};
use crate::error::{CoreError, Result};
use crate::outbox::{Carried, PartKind, ReportState, Summary};
use crate::profile::{ProfileError, ProfileKey};
use crate::protocol::MAX_PARTS;
use crate::reporter::{HashingWriter, Reporter};

/// The manifest's `format`.
pub const FORMAT: &str = "berani-relay";
/// The manifest version this build writes and reads.
pub const VERSION: u32 = 1;
/// File name extension of a bundle, without the dot.
pub const EXTENSION: &str = "berani";
/// Media type of a bundle (for share sheets and intent filters).
pub const MIME_TYPE: &str = "application/vnd.berani.relay";
/// Name of the manifest entry, the archive's first.
pub const MANIFEST: &str = "manifest.json";
/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// What the person holding the phone is told before sharing a bundle (Indonesian).
pub const SHARE_EXPLANATION_ID: &str = "File ini berisi laporan yang sudah dikunci untuk \
    lembaga. Relawan yang membawanya tidak bisa membuka atau membacanya. Setelah relawan \
    mendapat sinyal, laporan dikirim ke lembaga. Kode tanda terima Anda tetap berlaku.";
/// The same in English.
pub const SHARE_EXPLANATION_EN: &str = "This file holds your report, locked for the agency. \
    The volunteer who carries it cannot open or read it. When the volunteer has signal, the \
    report goes to the agency. Your receipt code still works.";

/// Name of part `idx` inside a bundle.
pub fn part_name(idx: u32) -> String {
    format!("parts/{idx}.age")
}

/// The fingerprint a bundle carries: lowercase hex SHA-256 of the agency's profile-signing key.
pub fn profile_fingerprint(key: &ProfileKey) -> String {
    crypto::hex(&crypto::sha256(&key.0))
}

/// One sealed part in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestPart {
    /// Part index; 0 is the report document.
    pub part: u32,
    /// `report` for part 0, `attachment` otherwise.
    pub kind: PartKind,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the ciphertext.
    pub sha256: String,
}

/// The follow-up registration the server makes with part 0: the public half only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayFollowup {
    /// The follow-up lookup id.
    pub lookup: String,
    /// The follow-up auth value (the server keeps only a verifier of it).
    pub auth: String,
}

/// A bundle's manifest, version 1.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// [`profile_fingerprint`] of the profile key the report was sealed under.
    pub profile_fingerprint: String,
    /// The profile version the report was sealed with.
    pub profile_version: u64,
    /// The report id.
    pub report: String,
    /// Every part, in index order.
    pub parts: Vec<ManifestPart>,
    /// The report's client token, sent as the `token` upload metadata.
    pub token: String,
    /// The follow-up pair for part 0's metadata, when the report has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followup: Option<RelayFollowup>,
}

impl std::fmt::Debug for Manifest {
    // The token and the follow-up auth value are credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manifest")
            .field("version", &self.version)
            .field("report", &self.report)
            .field("parts", &self.parts)
            .finish_non_exhaustive()
    }
}

/// Why a part or the manifest of a bundle was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TamperReason {
    /// The content's SHA-256 is not the one in the manifest.
    HashMismatch,
    /// The content is shorter or longer than the manifest says (a cut or edited file).
    SizeMismatch,
    /// It is missing.
    Missing,
    /// It is not expected here (an extra or out-of-order entry).
    Unexpected,
    /// It is not well-formed.
    Malformed,
}

impl TamperReason {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            TamperReason::HashMismatch => "hash_mismatch",
            TamperReason::SizeMismatch => "size_mismatch",
            TamperReason::Missing => "missing",
            TamperReason::Unexpected => "unexpected",
            TamperReason::Malformed => "malformed",
        }
    }
    fn id(self) -> &'static str {
        match self {
            TamperReason::HashMismatch => "isinya tidak cocok dengan sidik (SHA-256)",
            TamperReason::SizeMismatch => "ukurannya tidak sesuai (file terpotong atau diubah)",
            TamperReason::Missing => "tidak ada",
            TamperReason::Unexpected => "tidak semestinya ada",
            TamperReason::Malformed => "formatnya salah",
        }
    }
    fn en(self) -> &'static str {
        match self {
            TamperReason::HashMismatch => "its SHA-256 does not match",
            TamperReason::SizeMismatch => "its size is wrong (a cut or edited file)",
            TamperReason::Missing => "is missing",
            TamperReason::Unexpected => "should not be there",
            TamperReason::Malformed => "is not well-formed",
        }
    }
}

/// A relay bundle was refused, or a report cannot be relayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// The file is not a Berani bundle at all.
    #[error("not a Berani relay bundle")]
    NotABundle,
    /// A manifest version this build does not know.
    #[error("bundle version {0} is not known to this version of Berani; update the app")]
    UnknownVersion(u64),
    /// The bundle is for another agency (its profile key is not the one this phone trusts).
    #[error("the bundle is for another agency's profile, not the one on this phone")]
    OtherAgency,
    /// Something in the bundle does not match its manifest, or the manifest is malformed.
    #[error("the bundle is damaged or was changed: `{field}` {}", .reason.en())]
    Tampered {
        /// The entry or manifest field, e.g. `parts/1.age` or `manifest.json: token`.
        field: String,
        /// What is wrong with it.
        reason: TamperReason,
    },
    /// Only a report still waiting for delivery can be carried.
    #[error("the report is {0}; only a report waiting to be sent can go via a volunteer")]
    NotWaiting(&'static str),
}

impl RelayError {
    /// Stable key.
    pub fn key(&self) -> &'static str {
        match self {
            RelayError::NotABundle => "not_a_bundle",
            RelayError::UnknownVersion(_) => "unknown_version",
            RelayError::OtherAgency => "other_agency",
            RelayError::Tampered { .. } => "tampered",
            RelayError::NotWaiting(_) => "not_waiting",
        }
    }

    /// The message in plain Indonesian.
    pub fn message_id(&self) -> String {
        match self {
            RelayError::NotABundle => "Ini bukan file titipan Berani".into(),
            RelayError::UnknownVersion(v) => {
                format!("File titipan versi {v} belum dikenal; perbarui aplikasi")
            }
            RelayError::OtherAgency => {
                "File titipan ini untuk lembaga lain, bukan lembaga di ponsel ini; tidak diterima"
                    .into()
            }
            RelayError::Tampered { field, reason } => {
                format!("File titipan rusak atau diubah: `{field}` {}", reason.id())
            }
            RelayError::NotWaiting(_) => {
                "Hanya laporan yang masih menunggu dikirim yang bisa dititipkan".into()
            }
        }
    }

    /// The message in plain English.
    pub fn message_en(&self) -> String {
        self.to_string()
    }
}

fn tampered(field: impl Into<String>, reason: TamperReason) -> CoreError {
    RelayError::Tampered {
        field: field.into(),
        reason,
    }
    .into()
}

/// What an import did, or what a bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelayImport {
    /// The report id.
    pub report_id: String,
    /// Number of sealed parts.
    pub parts: u32,
    /// Their total size in bytes.
    pub bytes: u64,
    /// The outbox already held this report: nothing was changed.
    pub already: bool,
}

struct HashingReader<R> {
    inner: R,
    hash: Sha256,
    len: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn header(path: &str, size: u64) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)?;
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    Ok(h)
}

/// Parses and checks a manifest against this phone's trusted profile key and limits.
fn parse_manifest(bytes: &[u8], trusted: &ProfileKey, max_part: u64) -> Result<Manifest> {
    #[derive(Deserialize)]
    struct Head {
        format: Option<String>,
        version: Option<serde_json::Value>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|_| RelayError::NotABundle)?;
    if head.format.as_deref() != Some(FORMAT) {
        return Err(RelayError::NotABundle.into());
    }
    match head.version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => return Err(RelayError::UnknownVersion(v).into()),
        None => return Err(tampered("manifest.json: version", TamperReason::Malformed)),
    }
    let m: Manifest = serde_json::from_slice(bytes)
        .map_err(|_| tampered("manifest.json", TamperReason::Malformed))?;
    let bad = |field: &str| tampered(format!("manifest.json: {field}"), TamperReason::Malformed);
    if !is_sha256_hex(&m.profile_fingerprint) {
        return Err(bad("profile_fingerprint"));
    }
    if m.profile_fingerprint != profile_fingerprint(trusted) {
        return Err(RelayError::OtherAgency.into());
    }
    if !crate::protocol::is_report_id(&m.report) {
        return Err(bad("report"));
    }
    if !crate::followup::is_auth_value(&m.token) {
        return Err(bad("token"));
    }
    if let Some(f) = &m.followup
        && (!crate::followup::is_lookup_id(&f.lookup) || !crate::followup::is_auth_value(&f.auth))
    {
        return Err(bad("followup"));
    }
    if m.parts.is_empty() || m.parts.len() > MAX_PARTS as usize {
        return Err(bad("parts"));
    }
    for (i, p) in m.parts.iter().enumerate() {
        let kind = if i == 0 {
            PartKind::Report
        } else {
            PartKind::Attachment
        };
        if p.part != i as u32
            || p.kind != kind
            || p.size == 0
            || p.size > max_part
            || !is_sha256_hex(&p.sha256)
        {
            return Err(bad(&format!("parts[{i}]")));
        }
    }
    Ok(m)
}

/// Reads a bundle through, checking every part against the manifest; with `stage`, each part
/// is written there as `N.age` (fsynced).
fn read_bundle(
    path: &Path,
    trusted: &ProfileKey,
    max_part: u64,
    stage: Option<&Path>,
) -> Result<Manifest> {
    let file = File::open(path)?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(128 * 1024, file));
    let mut entries = archive.entries().map_err(|_| RelayError::NotABundle)?;
    let mut first = match entries.next() {
        Some(Ok(e)) => e,
        _ => return Err(RelayError::NotABundle.into()),
    };
    let name_is = |e: &tar::Entry<'_, _>, want: &str| {
        e.header().entry_type() == tar::EntryType::Regular
            && e.path_bytes().as_ref() == want.as_bytes()
    };
    if !name_is(&first, MANIFEST) || first.size() > MAX_MANIFEST_BYTES {
        return Err(RelayError::NotABundle.into());
    }
    let mut bytes = Vec::new();
    (&mut first)
        .take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|_| tampered(MANIFEST, TamperReason::SizeMismatch))?;
    if bytes.len() as u64 != first.size() {
        return Err(tampered(MANIFEST, TamperReason::SizeMismatch));
    }
    drop(first);
    let m = parse_manifest(&bytes, trusted, max_part)?;
    for p in &m.parts {
        let name = part_name(p.part);
        let mut entry = match entries.next() {
            Some(Ok(e)) => e,
            Some(Err(_)) => return Err(tampered(name, TamperReason::SizeMismatch)),
            None => return Err(tampered(name, TamperReason::Missing)),
        };
        if !name_is(&entry, &name) {
            return Err(tampered(name, TamperReason::Unexpected));
        }
        if entry.size() != p.size {
            return Err(tampered(name, TamperReason::SizeMismatch));
        }
        let sink: Box<dyn Write> = match stage {
            Some(dir) => Box::new(BufWriter::with_capacity(
                128 * 1024,
                File::create_new(dir.join(format!("{}.age", p.part)))?,
            )),
            None => Box::new(io::sink()),
        };
        let mut out = HashingWriter {
            inner: sink,
            hash: Sha256::default(),
            len: 0,
        };
        // A cut file ends early here (or fails): the size check below refuses it.
        let copied = io::copy(&mut (&mut entry).take(p.size), &mut out);
        if copied.is_err() || out.len != p.size {
            return Err(tampered(name, TamperReason::SizeMismatch));
        }
        if crypto::hex(&out.hash.finish()) != p.sha256 {
            return Err(tampered(name, TamperReason::HashMismatch));
        }
        out.inner.flush()?;
    }
    // Nothing may follow the parts but the archive's end.
    if let Some(e) = entries.next() {
        let field = match e {
            Ok(e) => String::from_utf8_lossy(&e.path_bytes()).into_owned(),
            Err(_) => "bundle".to_string(),
        };
        return Err(tampered(field, TamperReason::Unexpected));
    }
    if let Some(dir) = stage {
        for p in &m.parts {
            File::open(dir.join(format!("{}.age", p.part)))?.sync_all()?;
        }
        File::open(dir)?.sync_all()?;
    }
    Ok(m)
}

impl Reporter {
    /// Writes a queued report's sealed parts as one relay bundle at `dest` (replacing a file
    /// there only once the bundle is whole). The report stays queued here: whichever copy
    /// reaches the server first delivers it, and the other is the same upload.
    pub fn relay_export(&self, report_id: &str, dest: &Path) -> Result<RelayImport> {
        let report = self
            .outbox()
            .get(report_id)?
            .ok_or(CoreError::NotFound("report"))?;
        match report.state {
            ReportState::Queued | ReportState::Sending => {}
            ReportState::Delivered => return Err(RelayError::NotWaiting("delivered").into()),
            ReportState::Failed => return Err(RelayError::NotWaiting("failed").into()),
        }
        let key = self
            .trusted_profile_key()?
            .ok_or(ProfileError::NoTrustedKey)?;
        let profile_version: u64 = self.store().read(|c| {
            Ok(c.query_row(
                "SELECT profile_version FROM reports WHERE id = ?1",
                [report_id],
                |r| r.get(0),
            )?)
        })?;
        let token = self.outbox().client_token(report_id)?;
        let followup =
            crate::followup::upload_keys(self, report_id)?.map(|(lookup, auth)| RelayFollowup {
                lookup,
                auth: auth.to_string(),
            });
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            profile_fingerprint: profile_fingerprint(&key),
            profile_version,
            report: report.id.clone(),
            parts: report
                .parts
                .iter()
                .map(|p| ManifestPart {
                    part: p.idx,
                    kind: p.kind,
                    size: p.size,
                    sha256: p.sha256.clone(),
                })
                .collect(),
            token,
            followup,
        };
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
        );

        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
        let tmp: PathBuf = dest.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            crypto::random_id()
        ));
        let written = (|| -> Result<()> {
            let mut b = tar::Builder::new(BufWriter::with_capacity(
                128 * 1024,
                File::create_new(&tmp)?,
            ));
            b.append(&header(MANIFEST, json.len() as u64)?, &json[..])?;
            for p in &manifest.parts {
                let path = self.store().part_path(report_id, p.part);
                let mut r = HashingReader {
                    inner: File::open(&path)?.take(p.size),
                    hash: Sha256::default(),
                    len: 0,
                };
                b.append(&header(&part_name(p.part), p.size)?, &mut r)?;
                if r.len != p.size || crypto::hex(&r.hash.finish()) != p.sha256 {
                    return Err(CoreError::RecordCorrupt);
                }
            }
            let out = b.into_inner()?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            fs::rename(&tmp, dest)?;
            if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(RelayImport {
            report_id: manifest.report.clone(),
            parts: manifest.parts.len() as u32,
            bytes: manifest.parts.iter().map(|p| p.size).sum(),
            already: false,
        })
    }

    fn relay_limits(&self) -> Result<(ProfileKey, u64)> {
        let key = self
            .trusted_profile_key()?
            .ok_or(ProfileError::NoTrustedKey)?;
        let max = self
            .profile()?
            .ok_or(ProfileError::NotInstalled)?
            .max_attachment_bytes;
        // The age overhead: 16 bytes per 64 KiB chunk, and the header.
        let max_part = max.saturating_add(max / 65_536 * 16 + 16 + 1024);
        Ok((key, max_part))
    }

    fn holds_report(&self, id: &str) -> Result<bool> {
        self.store().read(|c| {
            Ok(
                c.query_row("SELECT 1 FROM reports WHERE id = ?1", [id], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// Checks a bundle through without storing anything: what the carrier is asked to confirm.
    /// `already` says the outbox holds the report.
    pub fn relay_inspect(&self, bundle: &Path) -> Result<RelayImport> {
        let (key, max_part) = self.relay_limits()?;
        let m = read_bundle(bundle, &key, max_part, None)?;
        Ok(RelayImport {
            already: self.holds_report(&m.report)?,
            report_id: m.report.clone(),
            parts: m.parts.len() as u32,
            bytes: m.parts.iter().map(|p| p.size).sum(),
        })
    }

    /// Imports a bundle into this phone's outbox as a carried report (see the module docs).
    pub fn relay_import(&self, bundle: &Path) -> Result<RelayImport> {
        let (key, max_part) = self.relay_limits()?;
        let stage = self
            .store()
            .tmp_dir()
            .join(format!("relay-{}", crypto::random_id()));
        fs::create_dir(&stage)?;
        let result = self.relay_import_staged(bundle, &key, max_part, &stage);
        if stage.exists() {
            let _ = fs::remove_dir_all(&stage);
        }
        result
    }

    fn relay_import_staged(
        &self,
        bundle: &Path,
        key: &ProfileKey,
        max_part: u64,
        stage: &Path,
    ) -> Result<RelayImport> {
        let m = read_bundle(bundle, key, max_part, Some(stage))?;
        let mut out = RelayImport {
            report_id: m.report.clone(),
            parts: m.parts.len() as u32,
            bytes: m.parts.iter().map(|p| p.size).sum(),
            already: false,
        };
        let id = m.report.as_str();
        let dest = self.store().outbox_dir(id);
        let summary = Summary {
            category: None,
            drafted_at: OffsetDateTime::now_utc(),
            carried: Some(Carried {
                followup: m.followup.clone(),
            }),
        };
        let records = self.store().records();
        let summary = records.seal(
            format!("reports:{id}").as_bytes(),
            &serde_json::to_vec(&summary).expect("summary serialises"),
        );
        let token = records.seal(format!("reports-token:{id}").as_bytes(), m.token.as_bytes());
        let moved = Cell::new(false);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let done = self.store().write(|tx| {
            // Checked under the write lock, so two imports of one bundle cannot both insert.
            let held = tx
                .query_row("SELECT 1 FROM reports WHERE id = ?1", [id], |_| Ok(()))
                .optional()?
                .is_some();
            if held {
                return Ok(true);
            }
            if dest.exists() {
                // Left by an import that crashed before its commit.
                fs::remove_dir_all(&dest)?;
            }
            fs::rename(stage, &dest)?;
            moved.set(true);
            self.store().sync_dir(&self.store().home().join("outbox"))?;
            tx.execute(
                "INSERT INTO reports (id, state, queued_at, updated_at, part_count,
                                      profile_version, summary, token)
                 VALUES (?1, 'queued', ?2, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    now,
                    m.parts.len() as u32,
                    m.profile_version,
                    summary,
                    token
                ],
            )?;
            for p in &m.parts {
                tx.execute(
                    "INSERT INTO parts (report_id, idx, kind, size, sha256)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, p.part, p.kind.key(), p.size, p.sha256],
                )?;
            }
            Ok(false)
        });
        match done {
            Ok(already) => {
                out.already = already;
                Ok(out)
            }
            Err(e) => {
                if moved.get() {
                    let _ = fs::remove_dir_all(&dest);
                }
                Err(e)
            }
        }
    }
}
