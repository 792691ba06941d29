//! Anonymous follow-up: the receipt code, the keys derived from it, and the sealed message
//! thread between a reporter and the handling team.
//!
//! At submit the core makes a **receipt code**: 100 random bits written as 20 Crockford
//! base32 characters plus one Crockford check character (mod 37), shown in groups of four
//! (`7K2Q-D9XR-T4M1-0B8S-HN3C-V`). From the code alone, on any phone, the core derives
//! (Argon2id with a fixed domain salt, then HKDF-SHA-256):
//!
//! - the **lookup id**, a public index the server files the report's follow-up under;
//! - the **auth value**, the proof the server checks against a slow-hash verifier;
//! - the reporter's **X25519 identity** (an age identity), whose recipient travels inside the
//!   sealed report so that the team can seal replies to it.
//!
//! The lookup id and the auth value ride in part 0's `Upload-Metadata`; the server never sees
//! the code. Replies from the team are sealed to the reporter's recipient and the intake
//! recipient; the reporter's own messages are sealed to the intake recipients only, queued in
//! the outbox's `messages` table and sent by [`crate::upload::sync`]. `docs/PROTOCOL.md`
//! ("Follow-up") is the contract.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::age::{self, Identity, Recipient};
use crate::crypto;
use crate::error::{CoreError, Field, FieldError, Reason, Result};
use crate::profile::ProfileError;
use crate::reporter::Reporter;

// ----- the receipt code ----------------------------------------------------------------------

/// Argon2id memory cost in KiB (19 MiB: OWASP's minimum for Argon2id, bearable on a cheap
/// phone; about a quarter to half a second there).
pub const KDF_M_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const KDF_T: u32 = 2;
/// Argon2id lanes.
pub const KDF_P: u32 = 1;
/// The fixed Argon2id salt: a domain separator. Every report's code is random, so a
/// per-report salt would add nothing, and a fresh phone must derive the same keys.
pub const KDF_SALT: &[u8] = b"berani/v1/followup-receipt";

pub(crate) const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Crockford's check symbols: the 32 digits and `*~$=U` (value mod 37).
pub(crate) const CHECK_SYMBOLS: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
/// Data characters in a code: 20 × 5 = 100 bits.
pub const CODE_CHARS: usize = 20;

/// A receipt code: 100 random bits. Kept in memory wiped on drop.
#[derive(Clone)]
pub struct ReceiptCode(Zeroizing<u128>);

impl std::fmt::Debug for ReceiptCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptCode(…)")
    }
}

impl ReceiptCode {
    /// A fresh random code.
    pub fn generate() -> Self {
        let bytes = Zeroizing::new(crypto::random::<16>());
        let v = u128::from_be_bytes(*bytes) >> 28;
        ReceiptCode(Zeroizing::new(v))
    }

    fn value(&self) -> u128 {
        *self.0
    }

    /// The 20 data characters, no check, no dashes: what the keys are derived from.
    fn canonical(&self) -> Zeroizing<String> {
        let v = self.value();
        Zeroizing::new(
            (0..CODE_CHARS)
                .map(|i| {
                    let shift = 5 * (CODE_CHARS - 1 - i);
                    CROCKFORD[((v >> shift) & 0x1f) as usize] as char
                })
                .collect(),
        )
    }

    fn check(&self) -> char {
        CHECK_SYMBOLS[(self.value() % 37) as usize] as char
    }

    /// The code as shown and written down: five groups of four, then the check character,
    /// e.g. `7K2Q-D9XR-T4M1-0B8S-HN3C-V`.
    pub fn display(&self) -> Zeroizing<String> {
        let c = self.canonical();
        let mut out = Zeroizing::new(String::with_capacity(26));
        for (i, ch) in c.chars().enumerate() {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            out.push(ch);
        }
        out.push('-');
        out.push(self.check());
        out
    }

    /// Reads a code as typed: case, spaces and dashes do not matter, and `O` is read as zero,
    /// `I` and `L` as one. A wrong length, a character outside the alphabet, or a check
    /// character that does not fit (a typo) is refused with field `receipt`.
    pub fn parse(typed: &str) -> Result<Self, FieldError> {
        let (v, check) = read_crockford(typed, CODE_CHARS, Field::Receipt)?;
        let code = ReceiptCode(Zeroizing::new(v));
        if check != code.check() as u8 {
            return Err(FieldError::new(Field::Receipt, Reason::Mistyped));
        }
        Ok(code)
    }
}

/// Reads a code typed by a person: case, spaces, dashes, `_` and `.` do not matter, `O` is
/// read as zero, `I` and `L` as one. Returns the value of the first `data` Crockford base32
/// characters and the check character after them; a wrong length or a character outside the
/// alphabet is refused with `field`. Used by receipt codes and volunteer codes.
pub(crate) fn read_crockford(
    typed: &str,
    data: usize,
    field: Field,
) -> Result<(u128, u8), FieldError> {
    debug_assert!(data * 5 <= 128);
    let chars: Zeroizing<Vec<u8>> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_' && *c != '.')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => b'0',
                'I' | 'L' => b'1',
                c if c.is_ascii() => c as u8,
                _ => b'?',
            })
            .collect(),
    );
    if chars.is_empty() {
        return Err(FieldError::new(field, Reason::Required));
    }
    if chars.len() != data + 1 {
        return Err(FieldError::with_limit(
            field,
            Reason::InvalidFormat,
            (data + 1) as u64,
        ));
    }
    let mut v: u128 = 0;
    for &c in &chars[..data] {
        let d = CROCKFORD
            .iter()
            .position(|&x| x == c)
            .ok_or(FieldError::new(field, Reason::InvalidFormat))?;
        v = (v << 5) | d as u128;
    }
    Ok((v, chars[data]))
}

/// What to tell the reporter beside a new receipt code, in Indonesian.
pub const RECEIPT_ADVICE_ID: &str = "Ini kode laporan Anda. Tulis dan simpan di tempat yang aman \
     dan tidak dilihat orang lain. Dengan kode ini Anda bisa melihat tanggapan petugas dan \
     membalasnya, juga dari ponsel lain. Siapa pun yang memegang kode ini bisa membaca balasan \
     petugas, jadi jangan berikan kepada siapa pun. Kode tidak bisa dikirim ulang bila hilang.";
/// What to tell the reporter beside a new receipt code, in English.
pub const RECEIPT_ADVICE_EN: &str = "This is your report's code. Write it down and keep it \
     somewhere safe where no one else will see it. With it you can read the team's replies and \
     answer them, from any phone. Anyone holding the code can read the team's replies, so do not \
     give it to anyone. A lost code cannot be sent again.";

/// The keys derived from a receipt code.
pub struct FollowupKeys {
    /// The public index: 32 lowercase hex characters.
    pub lookup: String,
    /// The proof: 43 base64url characters (32 bytes).
    pub auth: Zeroizing<String>,
    /// The reporter's age identity for this report.
    pub identity: Identity,
}

impl FollowupKeys {
    /// Derives the keys from a code: Argon2id (see [`KDF_M_KIB`], [`KDF_T`], [`KDF_P`],
    /// [`KDF_SALT`]) into a 32-byte master, then HKDF-SHA-256 with one label per key.
    pub fn derive(code: &ReceiptCode) -> Result<Self> {
        use argon2::{Algorithm, Argon2, Params, Version};
        let params = Params::new(KDF_M_KIB, KDF_T, KDF_P, Some(32))
            .map_err(|_| CoreError::Network("invalid Argon2id parameters".into()))?;
        let mut master = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(code.canonical().as_bytes(), KDF_SALT, master.as_mut())
            .map_err(|_| CoreError::Network("Argon2id failed".into()))?;
        let lookup = crypto::derive_key(&master[..], b"", b"berani/v1/followup/lookup");
        let auth = crypto::derive_key(&master[..], b"", b"berani/v1/followup/auth");
        let secret = crypto::derive_key(&master[..], b"", b"berani/v1/followup/x25519");
        Ok(FollowupKeys {
            lookup: crypto::hex(&lookup[..16]),
            auth: Zeroizing::new(URL_SAFE_NO_PAD.encode(&auth[..])),
            identity: Identity::from_bytes(*secret),
        })
    }
}

/// True for a well-formed lookup id (32 lowercase hex characters).
pub fn is_lookup_id(s: &str) -> bool {
    crate::protocol::is_report_id(s)
}

/// True for a well-formed auth value (43 base64url characters of 32 bytes).
pub fn is_auth_value(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32)
}

/// True for a well-formed message id (32 lowercase hex characters, made by the phone).
pub fn is_message_id(s: &str) -> bool {
    crate::protocol::is_report_id(s)
}

// ----- the wire ------------------------------------------------------------------------------

/// `POST` path: the case's status in plain words.
pub const STATUS_PATH: &str = "/v1/followup/status";
/// `POST` path: the thread's messages, sealed.
pub const MESSAGES_PATH: &str = "/v1/followup/messages";
/// `POST` path: a reporter's message, sealed to the intake key.
pub const SEND_PATH: &str = "/v1/followup/send";
/// Largest sealed message the server takes, in bytes.
pub const MAX_SEALED_BYTES: usize = 64 * 1024;
/// Longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// A member of the handling team, from the case desk.
    Team,
    /// The reporter.
    Reporter,
}

impl Sender {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            Sender::Team => "team",
            Sender::Reporter => "reporter",
        }
    }
}

/// A case's status, as the reporter sees it: three plain words, nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// *Diterima*: the report arrived and waits for the team.
    Received,
    /// *Sedang ditangani*: the team is working on it.
    InProgress,
    /// *Selesai*: the case is closed.
    Closed,
}

impl CaseStatus {
    /// Stable key.
    pub fn key(self) -> &'static str {
        match self {
            CaseStatus::Received => "received",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Closed => "closed",
        }
    }

    /// In Indonesian.
    pub fn label_id(self) -> &'static str {
        match self {
            CaseStatus::Received => "Diterima",
            CaseStatus::InProgress => "Sedang ditangani",
            CaseStatus::Closed => "Selesai",
        }
    }

    /// In English.
    pub fn label_en(self) -> &'static str {
        match self {
            CaseStatus::Received => "Received",
            CaseStatus::InProgress => "Being handled",
            CaseStatus::Closed => "Finished",
        }
    }
}

/// The proof every follow-up request carries in its JSON body (never in the URL).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthBody {
    /// The lookup id.
    pub lookup: String,
    /// The auth value.
    pub auth: String,
}

/// `POST /v1/followup/send`'s body.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendBody {
    /// The lookup id.
    pub lookup: String,
    /// The auth value.
    pub auth: String,
    /// The phone's id for the message: a retry with the same id never makes a second copy.
    pub message_id: String,
    /// The age file, base64 (standard, padded).
    pub sealed: String,
}

/// `status`'s answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// The report the receipt belongs to.
    pub report: String,
    /// The status.
    pub status: CaseStatus,
}

/// One message as the server keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireMessage {
    /// The server's id (team messages) or the phone's message id (reporter messages).
    pub id: String,
    /// Who wrote it.
    pub from: Sender,
    /// When the server stored it (Unix seconds).
    pub at: i64,
    /// The age file, base64.
    pub sealed: String,
}

/// `messages`' answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessagesAnswer {
    /// The report the receipt belongs to.
    pub report: String,
    /// Oldest first.
    pub messages: Vec<WireMessage>,
}

/// `send`'s answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendAnswer {
    /// The message id, as stored.
    pub id: String,
}

/// What a sealed message holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageBody {
    /// Format version, 1.
    pub v: u32,
    /// The report the message is about: a message moved to another thread is refused.
    pub report: String,
    /// Who wrote it.
    pub from: Sender,
    /// The text.
    pub text: String,
}

impl MessageBody {
    /// Seals the message to `recipients`.
    pub fn seal(&self, recipients: &[Recipient]) -> Result<Vec<u8>> {
        let json = Zeroizing::new(serde_json::to_vec(self).expect("a message serialises"));
        let (_, out) = age::seal(recipients, &json[..], Vec::new())?;
        Ok(out)
    }

    /// Opens a sealed message with `identity`; `None` when it does not open or is not JSON.
    pub fn open(identity: &Identity, sealed: &[u8]) -> Option<MessageBody> {
        let mut out = Zeroizing::new(Vec::new());
        age::open(std::slice::from_ref(identity), sealed, &mut *out).ok()?;
        serde_json::from_slice(&out).ok()
    }
}

/// Checks a message text: not blank, at most [`MAX_TEXT_CHARS`].
pub fn check_text(text: &str) -> Result<String, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(Field::Message, Reason::Required));
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(FieldError::with_limit(
            Field::Message,
            Reason::TooLong,
            MAX_TEXT_CHARS as u64,
        ));
    }
    Ok(t.to_string())
}

// ----- what the phone keeps ------------------------------------------------------------------

/// A report's follow-up registration, as kept on the phone (sealed with the device key).
///
/// After a panic wipe that kept sending (see [`crate::wipe`]), a report not yet delivered
/// keeps only `auth` (with the lookup id in its row): what part 0's metadata needs to
/// register the follow-up with the server. The code and the reporter's key are destroyed
/// with the old device key, so the phone can no longer read the thread nor reply; typing the
/// code ([`Reporter::followup_with_receipt`]) brings them back. Once such a report is
/// delivered the row is deleted ([`registration_done`]).
#[derive(Serialize, Deserialize)]
struct Saved {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    auth: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<String>,
}

/// A new code and its keys, made at submit.
pub struct Registration {
    /// The code to show.
    pub code: ReceiptCode,
    /// Its keys.
    pub keys: FollowupKeys,
}

impl Registration {
    /// A fresh code and its keys.
    pub fn create() -> Result<Self> {
        let code = ReceiptCode::generate();
        let keys = FollowupKeys::derive(&code)?;
        Ok(Registration { code, keys })
    }
}

fn aad(report_id: &str) -> Vec<u8> {
    format!("followups:{report_id}").into_bytes()
}

/// Stores a registration for `report_id` inside the caller's transaction.
pub(crate) fn save(
    reporter: &Reporter,
    tx: &Transaction<'_>,
    report_id: &str,
    code: &ReceiptCode,
    keys: &FollowupKeys,
) -> Result<()> {
    let saved = Saved {
        code: Some(code.display().to_string()),
        auth: keys.auth.to_string(),
        identity: Some(keys.identity.to_secret_string().to_string()),
    };
    let json = Zeroizing::new(serde_json::to_vec(&saved).expect("serialises"));
    let sealed = reporter.store().records().seal(&aad(report_id), &json);
    tx.execute(
        "INSERT INTO followups (report_id, lookup, body) VALUES (?1, ?2, ?3)
         ON CONFLICT (report_id) DO UPDATE SET lookup = excluded.lookup, body = excluded.body",
        params![report_id, keys.lookup, sealed],
    )?;
    Ok(())
}

struct Loaded {
    code: Zeroizing<String>,
    keys: FollowupKeys,
}

/// The row of a report's registration, opened: (lookup id, what was saved).
fn load_saved(reporter: &Reporter, report_id: &str) -> Result<Option<(String, Saved)>> {
    let row: Option<(String, Vec<u8>)> = reporter.store().read(|c| {
        Ok(c.query_row(
            "SELECT lookup, body FROM followups WHERE report_id = ?1",
            [report_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
    })?;
    let Some((lookup, body)) = row else {
        return Ok(None);
    };
    let pt = reporter
        .store()
        .records()
        .open(&aad(report_id), &body)
        .ok_or(CoreError::RecordCorrupt)?;
    let saved: Saved = serde_json::from_slice(&pt).map_err(|_| CoreError::RecordCorrupt)?;
    Ok(Some((lookup, saved)))
}

/// A report's receipt code and keys; `None` when this phone does not hold them (never had
/// them, or keeps only the registration after a wipe).
fn load(reporter: &Reporter, report_id: &str) -> Result<Option<Loaded>> {
    let Some((lookup, saved)) = load_saved(reporter, report_id)? else {
        return Ok(None);
    };
    let (Some(code), Some(identity)) = (saved.code, saved.identity) else {
        return Ok(None);
    };
    let identity = identity.parse().map_err(|_| CoreError::RecordCorrupt)?;
    Ok(Some(Loaded {
        code: Zeroizing::new(code),
        keys: FollowupKeys {
            lookup,
            auth: Zeroizing::new(saved.auth),
            identity,
        },
    }))
}

/// A registration to carry through a wipe that keeps sending: (lookup id, auth value).
pub(crate) type CarriedRegistration = (String, Zeroizing<String>);

/// What a wipe keeping `report_id` in the outbox carries for its follow-up: only the lookup
/// id and the auth value (never the code nor the reporter's key).
pub(crate) fn registration_to_carry(
    c: &rusqlite::Connection,
    records: &crate::crypto::RecordKey,
    report_id: &str,
) -> Result<Option<CarriedRegistration>> {
    let row: Option<(String, Vec<u8>)> = c
        .query_row(
            "SELECT lookup, body FROM followups WHERE report_id = ?1",
            [report_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((lookup, body)) = row else {
        return Ok(None);
    };
    let pt = records
        .open(&aad(report_id), &body)
        .ok_or(CoreError::RecordCorrupt)?;
    let saved: Saved = serde_json::from_slice(&pt).map_err(|_| CoreError::RecordCorrupt)?;
    Ok(Some((lookup, Zeroizing::new(saved.auth))))
}

/// Stores a carried registration (lookup id and auth only) in a fresh store.
pub(crate) fn restore_registration(
    store: &crate::store::Store,
    tx: &Transaction<'_>,
    report_id: &str,
    carried: &CarriedRegistration,
) -> Result<()> {
    let saved = Saved {
        code: None,
        auth: carried.1.to_string(),
        identity: None,
    };
    let json = Zeroizing::new(serde_json::to_vec(&saved).expect("serialises"));
    let sealed = store.records().seal(&aad(report_id), &json);
    tx.execute(
        "INSERT INTO followups (report_id, lookup, body) VALUES (?1, ?2, ?3)",
        params![report_id, carried.0, sealed],
    )?;
    Ok(())
}

/// Once a report is delivered its follow-up is registered with the server: a
/// registration-only row (left by a wipe) has done its work and is deleted.
pub(crate) fn registration_done(reporter: &Reporter, report_id: &str) -> Result<()> {
    if let Some((_, saved)) = load_saved(reporter, report_id)?
        && saved.code.is_none()
    {
        reporter.store().write(|tx| {
            tx.execute("DELETE FROM followups WHERE report_id = ?1", [report_id])?;
            Ok(())
        })?;
    }
    Ok(())
}

/// The follow-up keys part 0's metadata carries: (lookup id, auth value).
pub(crate) fn upload_keys(
    reporter: &Reporter,
    report_id: &str,
) -> Result<Option<(String, Zeroizing<String>)>> {
    if let Some((lookup, saved)) = load_saved(reporter, report_id)? {
        return Ok(Some((lookup, Zeroizing::new(saved.auth))));
    }
    // A report carried for someone else has only the pair, from its relay bundle.
    reporter.outbox().carried_followup(report_id)
}

// ----- the thread ----------------------------------------------------------------------------

/// One message of a thread, as the reporter sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadMessage {
    /// The message id.
    pub id: String,
    /// Who wrote it.
    pub from: Sender,
    /// When the server stored it, or when the phone queued it (not yet sent).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The text; `None` for a reporter's message sent from another phone (sealed to the
    /// agency only, so no receipt opens it).
    pub text: Option<String>,
    /// On the server; `false` while it waits in this phone's outbox.
    pub sent: bool,
}

/// A report's follow-up: its status and messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Thread {
    /// The report.
    pub report_id: String,
    /// The status in plain words.
    pub status: CaseStatus,
    /// Oldest first.
    pub messages: Vec<ThreadMessage>,
}

/// A message queued on this phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedMessage {
    /// The message id (also the server's, once sent).
    pub id: String,
    /// The report.
    pub report_id: String,
}

/// One of this phone's own messages: id, text, time, sent.
type OwnMessage = (String, Zeroizing<String>, i64, bool);

fn ts(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn msg_aad(id: &str) -> Vec<u8> {
    format!("messages:{id}").into_bytes()
}

/// A small HTTP client for the follow-up endpoints of the installed profile's intake.
struct Api {
    http: reqwest::Client,
    intake: reqwest::Url,
}

/// How long one follow-up request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer read (a long thread of sealed messages).
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// What a follow-up request came back with.
enum Reply {
    Ok(Vec<u8>),
    /// Unknown or wrong receipt, or the report has not arrived yet (one answer for all).
    NotRecognised,
    /// Too many tries: wait this long.
    Wait(Option<Duration>),
    Other(String),
}

impl Api {
    fn new(reporter: &Reporter) -> Result<Self> {
        let profile = reporter.profile()?.ok_or(ProfileError::NotInstalled)?;
        let intake = crate::upload::tus::parse_intake(&profile.intake_url)
            .ok_or(ProfileError::Malformed("intake URL"))?;
        let config = crate::upload::tls::client_config(profile.tls_spki_sha256.as_deref())?;
        Ok(Api {
            http: crate::upload::client::http_client(config)?,
            intake,
        })
    }

    async fn post(&self, path: &str, body: &impl Serialize) -> Reply {
        let url = crate::upload::tus::endpoint(&self.intake, path);
        let r = match self
            .http
            .post(url)
            .timeout(REQUEST_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).expect("a request serialises"))
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return Reply::Other(crate::upload::client::describe(&e)),
        };
        let status = r.status().as_u16();
        let after = r
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| crate::upload::tus::parse_retry_after(v, OffsetDateTime::now_utc()));
        match status {
            200 | 201 => match crate::upload::client::read_limited(r, MAX_ANSWER_BYTES).await {
                Ok(b) => Reply::Ok(b),
                Err(e) => Reply::Other(e),
            },
            403 => Reply::NotRecognised,
            429 => Reply::Wait(after),
            s => Reply::Other(format!("the server answered HTTP {s}")),
        }
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T> {
        match self.post(path, body).await {
            Reply::Ok(b) => serde_json::from_slice(&b)
                .map_err(|_| CoreError::Network("follow-up: a malformed answer".into())),
            Reply::NotRecognised => Err(CoreError::NotFound("receipt")),
            Reply::Wait(after) => Err(CoreError::Network(format!(
                "follow-up: too many tries; wait {} s",
                after.map_or(60, |d| d.as_secs())
            ))),
            Reply::Other(why) => Err(CoreError::Network(format!("follow-up: {why}"))),
        }
    }
}

impl Reporter {
    /// The receipt code of a report submitted (or followed up) on this phone, as shown.
    pub fn receipt_code(&self, report_id: &str) -> Result<Option<String>> {
        Ok(load(self, report_id)?.map(|l| l.code.to_string()))
    }

    /// The status and messages of a report submitted (or followed up) on this phone: asks the
    /// server, opens the team's replies with the report's key, and adds this phone's own
    /// messages (sent or still queued).
    pub async fn followup(&self, report_id: &str) -> Result<Thread> {
        let l = load(self, report_id)?.ok_or(CoreError::NotFound("receipt"))?;
        self.fetch_thread(&l.keys, Some(report_id)).await
    }

    /// The same from a receipt code typed by hand, on any phone with the agency profile
    /// installed. The code is then kept on this phone (sealed), so that `followup` and
    /// `reply` work with the report id.
    pub async fn followup_with_receipt(&self, typed: &str) -> Result<Thread> {
        let code = ReceiptCode::parse(typed)?;
        let keys =
            tokio::task::spawn_blocking(move || FollowupKeys::derive(&code).map(|k| (code, k)))
                .await
                .map_err(|e| CoreError::Io(std::io::Error::other(e.to_string())))??;
        let (code, keys) = keys;
        let thread = self.fetch_thread(&keys, None).await?;
        let id = thread.report_id.clone();
        self.store().write(|tx| save(self, tx, &id, &code, &keys))?;
        Ok(thread)
    }

    async fn fetch_thread(&self, keys: &FollowupKeys, expect: Option<&str>) -> Result<Thread> {
        let api = Api::new(self)?;
        let auth = AuthBody {
            lookup: keys.lookup.clone(),
            auth: keys.auth.to_string(),
        };
        let status: StatusAnswer = api.call(STATUS_PATH, &auth).await?;
        let list: MessagesAnswer = api.call(MESSAGES_PATH, &auth).await?;
        let report = status.report.clone();
        if !crate::protocol::is_report_id(&report)
            || list.report != report
            || expect.is_some_and(|e| e != report)
        {
            return Err(CoreError::Network(
                "follow-up: the server named another report".into(),
            ));
        }
        let mine = self.own_messages(&report)?;
        let mut messages = Vec::new();
        for m in list.messages {
            let text = match m.from {
                Sender::Team => STANDARD
                    .decode(&m.sealed)
                    .ok()
                    .and_then(|s| MessageBody::open(&keys.identity, &s))
                    .filter(|b| b.report == report && b.from == Sender::Team)
                    .map(|b| b.text),
                Sender::Reporter => mine
                    .iter()
                    .find(|(id, _, _, _)| *id == m.id)
                    .map(|(_, t, _, _)| t.to_string()),
            };
            if m.from == Sender::Team && text.is_none() {
                // Not sealed to this report's key, or not for this report: not shown.
                continue;
            }
            messages.push(ThreadMessage {
                id: m.id,
                from: m.from,
                at: ts(m.at),
                text,
                sent: true,
            });
        }
        for (id, text, at, sent) in mine {
            if !messages.iter().any(|m| m.id == id) {
                messages.push(ThreadMessage {
                    id,
                    from: Sender::Reporter,
                    at: ts(at),
                    text: Some(text.to_string()),
                    sent,
                });
            }
        }
        messages.sort_by_key(|m| m.at);
        Ok(Thread {
            report_id: report,
            status: status.status,
            messages,
        })
    }

    /// This phone's own messages of a report: (id, text, time, sent).
    fn own_messages(&self, report_id: &str) -> Result<Vec<OwnMessage>> {
        let rows: Vec<(String, i64, String, Vec<u8>)> = self.store().read(|c| {
            let mut st = c.prepare(
                "SELECT id, created_at, state, body FROM messages WHERE report_id = ?1
                 ORDER BY created_at, id",
            )?;
            let rows = st.query_map([report_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        rows.into_iter()
            .map(|(id, at, state, body)| {
                let pt = self
                    .store()
                    .records()
                    .open(&msg_aad(&id), &body)
                    .ok_or(CoreError::RecordCorrupt)?;
                let text = Zeroizing::new(
                    String::from_utf8(pt.to_vec()).map_err(|_| CoreError::RecordCorrupt)?,
                );
                Ok((id, text, at, state == "sent"))
            })
            .collect()
    }

    /// Queues a message to the team about a report followed up on this phone: sealed to the
    /// agency's intake recipients at once, kept in the outbox, and sent by the next sync
    /// (offline first; a retry never sends it twice).
    pub fn reply(&self, report_id: &str, text: &str) -> Result<QueuedMessage> {
        let text = Zeroizing::new(check_text(text)?);
        load(self, report_id)?.ok_or(CoreError::NotFound("receipt"))?;
        let profile = self.profile()?.ok_or(ProfileError::NotInstalled)?;
        let recipients = profile
            .recipients()
            .ok_or(ProfileError::Malformed("invalid recipient key"))?;
        let body = MessageBody {
            v: 1,
            report: report_id.to_string(),
            from: Sender::Reporter,
            text: text.to_string(),
        };
        let sealed = body.seal(&recipients)?;
        drop(body);
        let id = crypto::random_id();
        let local = self.store().records().seal(&msg_aad(&id), text.as_bytes());
        let now = OffsetDateTime::now_utc().unix_timestamp();
        self.store().write(|tx| {
            tx.execute(
                "INSERT INTO messages (id, report_id, state, created_at, body, sealed)
                 VALUES (?1, ?2, 'queued', ?3, ?4, ?5)",
                params![id, report_id, now, local, sealed],
            )?;
            Ok(())
        })?;
        Ok(QueuedMessage {
            id,
            report_id: report_id.to_string(),
        })
    }

    /// Messages waiting to be sent.
    pub fn queued_messages(&self) -> Result<usize> {
        self.store().read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM messages WHERE state = 'queued'",
                [],
                |r| r.get::<_, i64>(0),
            )? as usize)
        })
    }
}

/// Sends every queued message once (oldest first); returns the ids sent and the last problem.
/// A message the server does not take yet (the report has not arrived, the server is busy or
/// unreachable) stays queued for the next sync.
pub(crate) async fn send_queued(reporter: &Reporter) -> Result<(Vec<String>, Option<String>)> {
    let rows: Vec<(String, String, Vec<u8>)> = reporter.store().read(|c| {
        let mut st = c.prepare(
            "SELECT id, report_id, sealed FROM messages WHERE state = 'queued'
             ORDER BY created_at, id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })?;
    if rows.is_empty() {
        return Ok((Vec::new(), None));
    }
    let api = Api::new(reporter)?;
    let mut sent = Vec::new();
    let mut last = None;
    for (id, report_id, sealed) in rows {
        let Some(l) = load(reporter, &report_id)? else {
            continue;
        };
        let body = SendBody {
            lookup: l.keys.lookup.clone(),
            auth: l.keys.auth.to_string(),
            message_id: id.clone(),
            sealed: STANDARD.encode(&sealed),
        };
        match api.post(SEND_PATH, &body).await {
            Reply::Ok(_) => {
                reporter.store().write(|tx| {
                    tx.execute("UPDATE messages SET state = 'sent' WHERE id = ?1", [&id])?;
                    Ok(())
                })?;
                sent.push(id);
            }
            Reply::NotRecognised => {
                last = Some("message: the server does not know the report yet".into());
            }
            Reply::Wait(_) => {
                last = Some("message: the server asks to wait".into());
                break;
            }
            Reply::Other(why) => {
                last = Some(format!("message: {why}"));
                break;
            }
        }
    }
    Ok((sent, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_forgive_typing() {
        for _ in 0..50 {
            let c = ReceiptCode::generate();
            let shown = c.display();
            assert_eq!(shown.len(), 26, "{}", shown.as_str());
            let back = ReceiptCode::parse(&shown).unwrap();
            assert_eq!(back.value(), c.value());
            let sloppy = shown
                .to_lowercase()
                .replace('-', " ")
                .replace('0', "o")
                .replace('1', "l");
            assert_eq!(ReceiptCode::parse(&sloppy).unwrap().value(), c.value());
        }
    }

    #[test]
    fn a_typo_or_a_wrong_length_is_refused_with_the_field() {
        let c = ReceiptCode(Zeroizing::new(0x0001_2345_6789_abcd_ef01_2345_u128));
        let shown = c.display().to_string();
        // Change one data character: the check no longer fits.
        let mut typo: Vec<char> = shown.chars().collect();
        typo[0] = if typo[0] == '7' { '8' } else { '7' };
        let typo: String = typo.into_iter().collect();
        let e = ReceiptCode::parse(&typo).unwrap_err();
        assert_eq!((e.field, e.reason), (Field::Receipt, Reason::Mistyped));
        // Swap two neighbours: caught too (mod 37 catches every transposition).
        let mut swapped: Vec<char> = shown.chars().collect();
        let (a, b) = (swapped[5], swapped[6]);
        if a != b {
            swapped.swap(5, 6);
            let swapped: String = swapped.into_iter().collect();
            assert!(ReceiptCode::parse(&swapped).is_err());
        }
        let e = ReceiptCode::parse(&shown[..20]).unwrap_err();
        assert_eq!((e.field, e.reason), (Field::Receipt, Reason::InvalidFormat));
        assert!(ReceiptCode::parse("ÄÄÄÄ-ÄÄÄÄ-ÄÄÄÄ-ÄÄÄÄ-ÄÄÄÄ-Ä").is_err());
        assert!(ReceiptCode::parse("UUUU-UUUU-UUUU-UUUU-UUUU-0").is_err());
    }

    #[test]
    fn keys_are_deterministic_and_separate() {
        let c = ReceiptCode(Zeroizing::new(42));
        assert_eq!(c.display().as_str(), "0000-0000-0000-0000-001A-5");
        let a = FollowupKeys::derive(&c).unwrap();
        let b = FollowupKeys::derive(&ReceiptCode::parse("oooo oooo oooo oooo oo1a 5").unwrap())
            .unwrap();
        assert_eq!(a.lookup, b.lookup);
        assert_eq!(a.auth.as_str(), b.auth.as_str());
        assert_eq!(a.identity.to_public(), b.identity.to_public());
        assert!(is_lookup_id(&a.lookup));
        assert!(is_auth_value(&a.auth));
        assert!(!a.auth.contains(&a.lookup));
        let other = FollowupKeys::derive(&ReceiptCode(Zeroizing::new(43))).unwrap();
        assert_ne!(a.lookup, other.lookup);
        assert_ne!(a.identity.to_public(), other.identity.to_public());
    }

    #[test]
    fn messages_open_only_with_their_key() {
        let me = Identity::generate();
        let intake = Identity::generate();
        let body = MessageBody {
            v: 1,
            report: "ab".repeat(16),
            from: Sender::Team,
            text: "Apakah anak aman malam ini?".into(),
        };
        let sealed = body.seal(&[me.to_public(), intake.to_public()]).unwrap();
        assert_eq!(
            MessageBody::open(&me, &sealed).unwrap().text,
            "Apakah anak aman malam ini?"
        );
        assert!(MessageBody::open(&intake, &sealed).is_some());
        assert!(MessageBody::open(&Identity::generate(), &sealed).is_none());
        assert_eq!(check_text("  ").unwrap_err().reason, Reason::Required);
        assert_eq!(
            check_text(&"a".repeat(MAX_TEXT_CHARS + 1))
                .unwrap_err()
                .reason,
            Reason::TooLong
        );
    }
}
