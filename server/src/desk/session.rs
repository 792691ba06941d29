//! Desk sessions, held in memory only.
//!
//! A session is a random 256-bit token in an `HttpOnly`, `SameSite=Strict` cookie (`Secure`
//! when the desk is reached over HTTPS); the server keeps only the token's SHA-256. A session
//! carries the user's CSRF token and, for users who may read content, the intake identity
//! unwrapped at login. Nothing of it is written to disk: a restart logs everyone out, and a
//! logout or expiry drops the identity (x25519 secrets are zeroed on drop). Idle sessions
//! end after [`IDLE`], every session after [`ABSOLUTE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use berani_core::age::Identity;
use berani_core::crypto;

use super::Role;
use super::cases::Summary;
use crate::followup::ClientTag;

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after login, however busy.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);

/// The session cookie's name.
pub const COOKIE: &str = "berani_desk";
/// The login form's double-submit CSRF cookie (before there is a session).
pub const LOGIN_COOKIE: &str = "berani_login";

/// One logged-in user.
pub struct Session {
    /// The user name.
    pub user: String,
    /// The user's role at login.
    pub role: Role,
    /// The token every form must carry back.
    pub csrf: String,
    /// The intake identity, for users holding a wrapping; `None` for viewers and users whose
    /// access was not granted.
    pub identity: Option<Arc<Identity>>,
    /// The password must be changed before anything else (a generated one is in use).
    pub must_change: bool,
    /// Decrypted case summaries for the inbox, kept for this session only.
    pub summaries: HashMap<String, Arc<Summary>>,
    started: Instant,
    seen: Instant,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.seen) > IDLE || now.duration_since(self.started) > ABSOLUTE
    }
}

/// What a request sees of its session (cheap to clone; the live one stays in the store).
#[derive(Clone)]
pub struct View {
    /// The session token's hash (the store's key).
    pub key: String,
    /// The user name.
    pub user: String,
    /// The role.
    pub role: Role,
    /// The CSRF token.
    pub csrf: String,
    /// The unwrapped intake identity, if this user holds one.
    pub identity: Option<Arc<Identity>>,
    /// A password change is due.
    pub must_change: bool,
}

/// Every live session.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<String, Session>>,
}

/// A fresh random token (256 bits, base64url).
pub fn token() -> String {
    URL_SAFE_NO_PAD.encode(crypto::random::<32>())
}

fn key_of(token: &str) -> String {
    crypto::hex(&crypto::sha256(token.as_bytes()))
}

impl Sessions {
    /// Starts a session; returns its token (for the cookie).
    pub fn start(
        &self,
        user: &str,
        role: Role,
        identity: Option<Identity>,
        must_change: bool,
    ) -> String {
        let t = token();
        let now = Instant::now();
        let s = Session {
            user: user.to_string(),
            role,
            csrf: token(),
            identity: identity.map(Arc::new),
            must_change,
            summaries: HashMap::new(),
            started: now,
            seen: now,
        };
        let mut map = self.lock();
        map.retain(|_, s| !s.expired(now));
        map.insert(key_of(&t), s);
        t
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The session of a cookie token, if live; touches it.
    pub fn get(&self, token: &str) -> Option<View> {
        let now = Instant::now();
        let key = key_of(token);
        let mut map = self.lock();
        let s = map.get_mut(&key)?;
        if s.expired(now) {
            map.remove(&key);
            return None;
        }
        s.seen = now;
        Some(View {
            key,
            user: s.user.clone(),
            role: s.role,
            csrf: s.csrf.clone(),
            identity: s.identity.clone(),
            must_change: s.must_change,
        })
    }

    /// Runs `f` on a live session (by key).
    pub fn with<T>(&self, key: &str, f: impl FnOnce(&mut Session) -> T) -> Option<T> {
        self.lock().get_mut(key).map(f)
    }

    /// Ends one session.
    pub fn end(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Ends every session of a user (disabled, password reset, role changed).
    pub fn end_user(&self, user: &str) {
        self.lock().retain(|_, s| s.user != user);
    }

    /// Drops expired sessions (and with them their identities).
    pub fn sweep(&self) {
        let now = Instant::now();
        self.lock().retain(|_, s| !s.expired(now));
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares two tokens in constant time (over their SHA-256, so lengths do not show).
pub fn same_token(a: &str, b: &str) -> bool {
    let (a, b) = (crypto::sha256(a.as_bytes()), crypto::sha256(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Login throttling per user name: after [`FREE_TRIES`] failures in a row, each further try
/// waits a lockout that doubles from one minute up to fifteen. Held in memory; counted
/// whether or not the user exists, so the answer does not tell.
#[derive(Default)]
pub struct Throttle {
    inner: Mutex<HashMap<String, (u32, Instant)>>,
}

/// Failures allowed before the lockout starts.
pub const FREE_TRIES: u32 = 5;

impl Throttle {
    /// `Some(wait)` while `user` is locked out.
    pub fn locked(&self, user: &str) -> Option<Duration> {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (fails, last) = *map.get(user)?;
        if fails < FREE_TRIES {
            return None;
        }
        let lock =
            Duration::from_secs(60 << (fails - FREE_TRIES).min(4)).min(Duration::from_secs(900));
        let since = last.elapsed();
        (since < lock).then(|| lock - since)
    }

    /// Records a failed login.
    pub fn failed(&self, user: &str) {
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.clear();
        }
        let e = map.entry(user.to_string()).or_insert((0, Instant::now()));
        e.0 += 1;
        e.1 = Instant::now();
    }

    /// Clears a user's failures after a successful login.
    pub fn succeeded(&self, user: &str) {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user);
    }
}

/// Failed logins one client (one address, as a keyed hash) may make before it is throttled.
pub const CLIENT_FREE_FAILURES: f64 = 10.0;
/// Failed logins a client regains per second (one every 30 seconds).
pub const CLIENT_REGAIN_PER_SEC: f64 = 1.0 / 30.0;

/// Login throttling per client, beside the one per user name, so that one address cannot try
/// one password against many names: a bucket of [`CLIENT_FREE_FAILURES`] failed logins that
/// refills at [`CLIENT_REGAIN_PER_SEC`]. An empty bucket refuses before any password check.
/// Keyed by [`ClientTag`] (never the address). Behind a reverse proxy every client shares the
/// proxy's address, so the proxy should limit per client too.
#[derive(Default)]
pub struct ClientThrottle {
    inner: Mutex<HashMap<ClientTag, (f64, Instant)>>,
}

impl ClientThrottle {
    fn level(entry: (f64, Instant), now: Instant) -> f64 {
        (entry.0 + now.duration_since(entry.1).as_secs_f64() * CLIENT_REGAIN_PER_SEC)
            .min(CLIENT_FREE_FAILURES)
    }

    /// True while `client` has used up its failed logins.
    pub fn locked(&self, client: ClientTag) -> bool {
        let map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&client)
            .is_some_and(|e| Self::level(*e, Instant::now()) < 1.0)
    }

    /// Records a failed login from `client`.
    pub fn failed(&self, client: ClientTag) {
        let now = Instant::now();
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, e| Self::level(*e, now) < CLIENT_FREE_FAILURES);
        }
        let left = map
            .get(&client)
            .map_or(CLIENT_FREE_FAILURES, |e| Self::level(*e, now));
        map.insert(client, ((left - 1.0).max(0.0), now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_start_find_and_end() {
        let s = Sessions::default();
        let t = s.start("ani", Role::Caseworker, None, false);
        let v = s.get(&t).unwrap();
        assert_eq!(v.user, "ani");
        assert!(s.get("not-a-token").is_none());
        s.end(&v.key);
        assert!(s.get(&t).is_none());
        let t2 = s.start("budi", Role::Viewer, None, false);
        s.end_user("budi");
        assert!(s.get(&t2).is_none());
    }

    #[test]
    fn throttle_locks_after_free_tries() {
        let th = Throttle::default();
        for _ in 0..FREE_TRIES - 1 {
            th.failed("x");
        }
        assert!(th.locked("x").is_none());
        th.failed("x");
        let wait = th.locked("x").unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(55));
        th.succeeded("x");
        assert!(th.locked("x").is_none());
    }
}
