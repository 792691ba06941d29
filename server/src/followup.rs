//! Anonymous follow-up for reporters: `/v1/followup/status`, `/messages` and `/send`.
//!
//! A report registers its follow-up with part 0's metadata (`followup`, `followup_auth`,
//! see `docs/PROTOCOL.md`): the server keeps the lookup id and an Argon2id verifier of the
//! auth value ([`hash_auth`]), never the receipt code and never the auth value itself.
//!
//! Every request carries the lookup id and the auth value in its JSON body (never in the URL,
//! so they are in no access line). An unknown lookup id, a wrong auth value and a report whose
//! case has not opened yet all get the same 403 after the same work: one Argon2id verification
//! (against a dummy verifier when the lookup id is unknown). Requests are rate-limited per
//! client and overall before any hashing ([`RateLimiter`], 429 with `Retry-After`). The
//! client is told apart by a keyed hash of its address ([`ClientTag`]) kept in memory only;
//! the address itself is never stored or logged.
//!
//! What a reporter learns is the status in three plain words ([`CaseStatus`], from the
//! case's stage) and the thread's ciphertexts. Team replies are sealed to the reporter's key
//! and the intake key; the reporter's messages arrive sealed to the intake key and are kept
//! as they came.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use berani_core::followup::{
    self as core_fu, AuthBody, CaseStatus, MESSAGES_PATH, MessagesAnswer, SEND_PATH, STATUS_PATH,
    SendAnswer, SendBody, Sender, StatusAnswer, WireMessage,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::app::AppState;
use crate::db;
use crate::desk::cases::Stage;
use crate::error::{Result, ServerError};
use crate::tus::metadata::FollowupMeta;

/// Argon2id cost of the verifier: 19 MiB, 2 passes, 1 lane (OWASP's Argon2id minimum; the
/// auth value already carries 256 bits, so the cost is about a stolen database, not guessing).
pub const VERIFIER_M_KIB: u32 = 19 * 1024;
/// Argon2id passes of the verifier.
pub const VERIFIER_T: u32 = 2;
/// Argon2id lanes of the verifier.
pub const VERIFIER_P: u32 = 1;
/// Reporter messages one report may hold; more answer 429.
pub const MAX_REPORTER_MESSAGES: i64 = 500;

/// Requests one client may make at once (the bucket's size).
pub const CLIENT_BURST: f64 = 30.0;
/// Requests one client regains per second (30 a minute).
pub const CLIENT_PER_SEC: f64 = 0.5;
/// Requests the whole server may take at once.
pub const GLOBAL_BURST: f64 = 300.0;
/// Requests the whole server regains per second.
pub const GLOBAL_PER_SEC: f64 = 5.0;
/// Clients remembered at most; past this, clients with full buckets are forgotten.
const MAX_CLIENTS: usize = 100_000;

// ----- telling clients apart without keeping addresses -----------------------------------

/// A keyed hash of a client's address (IPv6: its /64), with a key made at start and held in
/// memory only: enough to rate-limit one client, useless for finding who it was. Put on each
/// request by the listener ([`crate::http`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientTag([u8; 16]);

impl ClientTag {
    /// The tag of an address.
    pub fn of(ip: IpAddr) -> Self {
        static KEY: OnceLock<[u8; 32]> = OnceLock::new();
        let key = KEY.get_or_init(berani_core::crypto::random::<32>);
        let bytes: Vec<u8> = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets()[..8].to_vec(),
            },
        };
        let mac = berani_core::crypto::hmac_sha256(key, &bytes);
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac[..16]);
        ClientTag(out)
    }
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket {
            tokens: burst,
            at: now,
        }
    }

    fn refill(&mut self, burst: f64, per_sec: f64, now: Instant) {
        let gained = now.duration_since(self.at).as_secs_f64() * per_sec;
        self.tokens = (self.tokens + gained).min(burst);
        self.at = now;
    }

    /// Takes one token, or says how long until one is there.
    fn take(
        &mut self,
        burst: f64,
        per_sec: f64,
        now: Instant,
    ) -> std::result::Result<(), Duration> {
        self.refill(burst, per_sec, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_sec))
        }
    }
}

/// Token buckets: one per client and one for the server.
pub struct RateLimiter {
    client_burst: f64,
    client_per_sec: f64,
    global_burst: f64,
    global_per_sec: f64,
    state: Mutex<(Bucket, HashMap<ClientTag, Bucket>)>,
}

impl RateLimiter {
    /// Buckets of `client_burst` refilled at `client_per_sec` per client, and of
    /// `global_burst` at `global_per_sec` overall.
    pub fn new(
        client_burst: f64,
        client_per_sec: f64,
        global_burst: f64,
        global_per_sec: f64,
    ) -> Self {
        RateLimiter {
            client_burst,
            client_per_sec,
            global_burst,
            global_per_sec,
            state: Mutex::new((Bucket::full(global_burst, Instant::now()), HashMap::new())),
        }
    }

    /// Counts one request of `client`; `Err` with the wait when it is over either limit
    /// (a refused request takes nothing from the other bucket).
    pub fn check(&self, client: ClientTag) -> std::result::Result<(), Duration> {
        let now = Instant::now();
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (global, clients) = &mut *g;
        if clients.len() >= MAX_CLIENTS && !clients.contains_key(&client) {
            let (burst, rate) = (self.client_burst, self.client_per_sec);
            clients.retain(|_, b| {
                b.refill(burst, rate, now);
                b.tokens < burst
            });
        }
        let mut mine = clients
            .get(&client)
            .copied()
            .unwrap_or_else(|| Bucket::full(self.client_burst, now));
        mine.take(self.client_burst, self.client_per_sec, now)?;
        let mut all = *global;
        all.take(self.global_burst, self.global_per_sec, now)?;
        *global = all;
        clients.insert(client, mine);
        Ok(())
    }
}

/// The follow-up's share of the server state.
pub struct FollowupState {
    /// Per-client and global request limits.
    pub limiter: RateLimiter,
    /// Argon2id runs at 19 MiB; at most two at once.
    kdf: Semaphore,
    /// A verifier of a random value, checked for unknown lookup ids so that they cost what a
    /// wrong auth value costs.
    dummy: String,
}

impl FollowupState {
    /// With the default limits.
    pub fn new() -> Result<Self> {
        Ok(FollowupState {
            limiter: RateLimiter::new(CLIENT_BURST, CLIENT_PER_SEC, GLOBAL_BURST, GLOBAL_PER_SEC),
            kdf: Semaphore::new(2),
            dummy: hash_auth(&berani_core::protocol::new_token())?,
        })
    }
}

// ----- verifiers -------------------------------------------------------------------------

fn argon2() -> Result<argon2::Argon2<'static>> {
    let params = argon2::Params::new(VERIFIER_M_KIB, VERIFIER_T, VERIFIER_P, Some(32))
        .map_err(|_| ServerError::Key("invalid Argon2id parameters".into()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

/// The Argon2id PHC string of an auth value, with a random salt.
pub fn hash_auth(auth: &str) -> Result<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(&berani_core::crypto::random::<16>())
        .map_err(|_| ServerError::Key("salt".into()))?;
    Ok(argon2()?
        .hash_password(auth.as_bytes(), &salt)
        .map_err(|_| ServerError::Key("hashing failed".into()))?
        .to_string())
}

/// True when `auth` matches the PHC string.
pub fn verify_auth(auth: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(auth.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

async fn blocking<T: Send + 'static>(s: &AppState, f: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = s
        .followup
        .kdf
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(f)
        .await
        .expect("a hashing task panicked")
}

// ----- registration (from the tus creation of part 0) ------------------------------------

/// The verifier to store for a part-0 creation carrying `meta`, or `None` when the report
/// is already registered under the same lookup id (a retried creation: nothing to hash).
pub async fn prepare(
    s: &AppState,
    report: &str,
    meta: &FollowupMeta,
) -> std::result::Result<Option<(String, String)>, &'static str> {
    let r = report.to_string();
    let existing: Option<String> =
        s.db.read_async(move |c| {
            c.query_row(
                "SELECT lookup FROM followups WHERE report = ?1",
                [&r],
                |row| row.get(0),
            )
            .optional()
        })
        .await
        .map_err(|_| "reading the follow-up registration failed")?;
    match existing {
        Some(l) if l == meta.lookup => Ok(None),
        Some(_) => Err("followup differs from the report's registration"),
        None => {
            let auth = meta.auth.clone();
            let v = blocking(s, move || hash_auth(&auth))
                .await
                .map_err(|_| "hashing the follow-up auth value failed")?;
            Ok(Some((meta.lookup.clone(), v)))
        }
    }
}

/// Stores a registration inside the creation's transaction (after the token was checked).
/// `Err` with a reason when the lookup id is already another report's.
pub fn register(
    tx: &Transaction,
    report: &str,
    lookup: &str,
    verifier: &str,
    now: i64,
) -> rusqlite::Result<std::result::Result<(), &'static str>> {
    let taken: Option<String> = tx
        .query_row(
            "SELECT report FROM followups WHERE lookup = ?1",
            [lookup],
            |r| r.get(0),
        )
        .optional()?;
    if taken.as_deref().is_some_and(|t| t != report) {
        return Ok(Err("followup is another report's"));
    }
    tx.execute(
        "INSERT INTO followups (report, lookup, verifier, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (report) DO NOTHING",
        params![report, lookup, verifier, now],
    )?;
    Ok(Ok(()))
}

/// True when a report has a follow-up registration (so its reporter can read replies).
pub fn is_registered(c: &Connection, report: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT EXISTS (SELECT 1 FROM followups WHERE report = ?1)",
        [report],
        |r| r.get(0),
    )
}

// ----- the API ---------------------------------------------------------------------------

/// The follow-up routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(STATUS_PATH, post(status))
        .route(MESSAGES_PATH, post(messages))
        .route(SEND_PATH, post(send))
        .layer(DefaultBodyLimit::max(core_fu::MAX_SEALED_BYTES * 2 + 4096))
}

fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    let mut r = (
        status,
        serde_json::to_vec(body).expect("an answer serialises"),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn error(status: StatusCode, why: &str) -> Response {
    json(status, &serde_json::json!({ "error": why }))
}

/// The one answer for an unknown receipt, a wrong one, and a report not yet arrived.
fn not_recognised() -> Response {
    error(StatusCode::FORBIDDEN, "receipt not recognised")
}

fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests; try again later",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    tracing::error!("follow-up: {what}: {e}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the server failed; try again later",
    )
}

/// Rate limit, then parse the body as `T`. (The refusal is the response to send.)
#[allow(clippy::result_large_err)]
fn admit<T: serde::de::DeserializeOwned>(
    s: &AppState,
    tag: Option<axum::Extension<ClientTag>>,
    body: &[u8],
) -> std::result::Result<T, Response> {
    // Without a listener (a router driven directly), every request is one client.
    let tag = tag.map_or(ClientTag([0; 16]), |t| t.0);
    s.followup.limiter.check(tag).map_err(too_many)?;
    serde_json::from_slice(body).map_err(|e| {
        let why = match e.classify() {
            serde_json::error::Category::Data => {
                "the body is missing a field or has a wrong one (lookup, auth, message_id, sealed)"
            }
            _ => "the body must be JSON",
        };
        error(StatusCode::BAD_REQUEST, why)
    })
}

/// The report a lookup id and auth value open, if any (after one Argon2id verification
/// whatever the outcome), with its case's stage.
#[allow(clippy::result_large_err)]
async fn authenticate(
    s: &Arc<AppState>,
    lookup: &str,
    auth: &str,
) -> std::result::Result<Option<(String, Stage)>, Response> {
    if !core_fu::is_lookup_id(lookup) || !core_fu::is_auth_value(auth) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "lookup must be 32 lowercase hex characters and auth 43 base64url characters",
        ));
    }
    let l = lookup.to_string();
    let row: Option<(String, String, Option<String>)> =
        s.db.read_async(move |c| {
            c.query_row(
                "SELECT f.report, f.verifier, c.stage FROM followups f
                 LEFT JOIN cases c ON c.report = f.report WHERE f.lookup = ?1",
                [&l],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
        })
        .await
        .map_err(|e| internal("reading a registration", e))?;
    let verifier = row
        .as_ref()
        .map_or_else(|| s.followup.dummy.clone(), |(_, v, _)| v.clone());
    let auth = Zeroizing::new(auth.to_string());
    let ok = blocking(s, move || verify_auth(&auth, &verifier)).await;
    Ok(match row {
        Some((report, _, Some(stage))) if ok => {
            Some((report, Stage::from_key(&stage).unwrap_or(Stage::Received)))
        }
        _ => None,
    })
}

/// The reporter's word for a stage: received, being handled, finished. Nothing else.
pub fn status_of(stage: Stage) -> CaseStatus {
    match stage {
        Stage::Received => CaseStatus::Received,
        Stage::Terminated => CaseStatus::Closed,
        _ => CaseStatus::InProgress,
    }
}

async fn status(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<ClientTag>>,
    body: Bytes,
) -> Response {
    let req: AuthBody = match admit(&s, tag, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match authenticate(&s, &req.lookup, &req.auth).await {
        Err(r) => r,
        Ok(None) => not_recognised(),
        Ok(Some((report, stage))) => json(
            StatusCode::OK,
            &StatusAnswer {
                report,
                status: status_of(stage),
            },
        ),
    }
}

async fn messages(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<ClientTag>>,
    body: Bytes,
) -> Response {
    let req: AuthBody = match admit(&s, tag, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let report = match authenticate(&s, &req.lookup, &req.auth).await {
        Err(r) => return r,
        Ok(None) => return not_recognised(),
        Ok(Some((report, _))) => report,
    };
    let r = report.clone();
    let rows =
        s.db.read_async(move |c| {
            let mut st = c.prepare(
                "SELECT id, sender, client_id, at, sealed FROM followup_messages
                 WHERE report = ?1 ORDER BY id",
            )?;
            st.query_map([&r], |row| {
                let id: i64 = row.get(0)?;
                let sender: String = row.get(1)?;
                let client: Option<String> = row.get(2)?;
                let sealed: Vec<u8> = row.get(4)?;
                Ok(WireMessage {
                    id: client.unwrap_or_else(|| id.to_string()),
                    from: if sender == "team" {
                        Sender::Team
                    } else {
                        Sender::Reporter
                    },
                    at: row.get(3)?,
                    sealed: STANDARD.encode(sealed),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await;
    match rows {
        Ok(messages) => json(StatusCode::OK, &MessagesAnswer { report, messages }),
        Err(e) => internal("reading messages", e),
    }
}

/// True when `bytes` begin like an age file.
fn looks_like_age(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
}

async fn send(
    State(s): State<Arc<AppState>>,
    tag: Option<axum::Extension<ClientTag>>,
    body: Bytes,
) -> Response {
    let req: SendBody = match admit(&s, tag, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    if !core_fu::is_message_id(&req.message_id) {
        return error(
            StatusCode::BAD_REQUEST,
            "message_id must be 32 lowercase hex characters",
        );
    }
    let sealed = match STANDARD.decode(req.sealed.as_bytes()) {
        Ok(b) if b.len() <= core_fu::MAX_SEALED_BYTES && looks_like_age(&b) => b,
        Ok(b) if b.len() > core_fu::MAX_SEALED_BYTES => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "sealed is larger than 64 KiB",
            );
        }
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "sealed must be base64 of an age file",
            );
        }
    };
    let report = match authenticate(&s, &req.lookup, &req.auth).await {
        Err(r) => return r,
        Ok(None) => return not_recognised(),
        Ok(Some((report, _))) => report,
    };
    let id = req.message_id.clone();
    let stored = s
        .db
        .write_async(move |tx| {
            let n: i64 = tx.query_row(
                "SELECT count(*) FROM followup_messages WHERE report = ?1 AND sender = 'reporter'",
                [&report],
                |r| r.get(0),
            )?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM followup_messages WHERE report = ?1 AND client_id = ?2)",
                params![report, id],
                |r| r.get(0),
            )?;
            if exists {
                return Ok(Some(false));
            }
            if n >= MAX_REPORTER_MESSAGES {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO followup_messages (report, sender, client_id, at, sealed)
                 VALUES (?1, 'reporter', ?2, ?3, ?4)",
                params![report, id, db::now(), sealed],
            )?;
            Ok::<_, rusqlite::Error>(Some(true))
        })
        .await;
    let answer = SendAnswer { id: req.message_id };
    match stored {
        Ok(Some(true)) => {
            tracing::info!("follow-up: a reporter message arrived");
            json(StatusCode::CREATED, &answer)
        }
        Ok(Some(false)) => json(StatusCode::OK, &answer),
        Ok(None) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "this report's thread is full; call the agency's hotline",
        ),
        Err(e) => internal("storing a message", e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refuse_past_the_burst_and_say_how_long_to_wait() {
        let l = RateLimiter::new(3.0, 1.0, 5.0, 100.0);
        let a = ClientTag::of("192.0.2.1".parse().unwrap());
        let b = ClientTag::of("192.0.2.2".parse().unwrap());
        for _ in 0..3 {
            l.check(a).unwrap();
        }
        let wait = l.check(a).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        l.check(b).unwrap();
        l.check(b).unwrap();
        // The server's bucket (5) is now empty, whoever asks.
        assert!(
            l.check(ClientTag::of("192.0.2.3".parse().unwrap()))
                .is_err()
        );
    }

    #[test]
    fn tags_hide_addresses_and_group_an_ipv6_64() {
        let a = ClientTag::of("2001:db8::1".parse().unwrap());
        let b = ClientTag::of("2001:db8::2".parse().unwrap());
        let c = ClientTag::of("2001:db8:0:1::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            ClientTag::of("::ffff:192.0.2.1".parse().unwrap()),
            ClientTag::of("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn verifiers_check_and_stages_map_to_three_words() {
        let auth = berani_core::protocol::new_token();
        let phc = hash_auth(&auth).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(!phc.contains(&auth));
        assert!(verify_auth(&auth, &phc));
        assert!(!verify_auth(&berani_core::protocol::new_token(), &phc));
        assert_eq!(status_of(Stage::Received), CaseStatus::Received);
        for st in [
            Stage::Identified,
            Stage::Assessed,
            Stage::Planned,
            Stage::Services,
            Stage::Monitoring,
        ] {
            assert_eq!(status_of(st), CaseStatus::InProgress);
        }
        assert_eq!(status_of(Stage::Terminated), CaseStatus::Closed);
    }
}
