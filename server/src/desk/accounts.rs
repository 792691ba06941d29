//! Desk accounts in the database: users, their passwords, second factors and key wrappings.
//!
//! The blocking functions here run inside [`crate::db::Db`] calls; Argon2id runs outside the
//! database lock (the callers hash first, then write).

use berani_core::age::Identity;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::Role;
use crate::keys::{self, Wrapped};

/// One desk user, as stored.
#[derive(Debug, Clone)]
pub struct User {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Argon2id PHC.
    pub password_hash: String,
    /// The password is a generated one (normalised form; must be changed).
    pub password_generated: bool,
    /// Name shown to colleagues.
    pub display_name: String,
    /// Office (UPTD PPA, Dinsos, a puskesmas…).
    pub office: String,
    /// Address for duty notifications.
    pub email: Option<String>,
    /// Receives new-report and SLA e-mails.
    pub on_duty: bool,
    /// TOTP secret (raw bytes), when a second factor is set.
    pub totp_secret: Option<Vec<u8>>,
    /// When the account was disabled.
    pub disabled_at: Option<i64>,
    /// Holds a wrapping of the intake identity.
    pub has_key: bool,
}

const COLUMNS: &str = "u.username, u.role, u.password_hash, u.password_generated, u.display_name,
    u.office, u.email, u.on_duty, u.totp_secret, u.disabled_at,
    EXISTS (SELECT 1 FROM key_wrappers w WHERE w.user = u.username)";

fn user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(1)?;
    Ok(User {
        username: r.get(0)?,
        role: Role::from_key(&role).unwrap_or(Role::Viewer),
        password_hash: r.get(2)?,
        password_generated: r.get(3)?,
        display_name: r.get(4)?,
        office: r.get(5)?,
        email: r.get(6)?,
        on_duty: r.get(7)?,
        totp_secret: r.get(8)?,
        disabled_at: r.get(9)?,
        has_key: r.get(10)?,
    })
}

/// One user by name.
pub fn find(c: &Connection, username: &str) -> rusqlite::Result<Option<User>> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM users u WHERE u.username = ?1"),
        [username],
        user,
    )
    .optional()
}

/// Every user, by name.
pub fn all(c: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut st = c.prepare(&format!(
        "SELECT {COLUMNS} FROM users u ORDER BY u.username"
    ))?;
    st.query_map([], user)?.collect()
}

/// The users a case can be assigned to: enabled caseworkers and coordinators (and admins)
/// who hold the key.
pub fn assignable(c: &Connection) -> rusqlite::Result<Vec<User>> {
    Ok(all(c)?
        .into_iter()
        .filter(|u| u.disabled_at.is_none() && u.role.reads_content() && u.has_key)
        .collect())
}

/// A user's wrapping of the intake identity.
pub fn wrapper(c: &Connection, username: &str) -> rusqlite::Result<Option<(String, Wrapped)>> {
    c.query_row(
        "SELECT recipient, salt, params, wrapped FROM key_wrappers WHERE user = ?1",
        [username],
        |r| {
            Ok((
                r.get(0)?,
                Wrapped {
                    salt: r.get(1)?,
                    params: r.get(2)?,
                    wrapped: r.get(3)?,
                },
            ))
        },
    )
    .optional()
}

/// The intake recipient (public key) this server seals to.
pub fn intake_recipient(c: &Connection) -> rusqlite::Result<String> {
    c.query_row(
        "SELECT value FROM settings WHERE key = 'intake_recipient'",
        [],
        |r| r.get(0),
    )
}

/// Stores (or replaces) a user's wrapping.
pub fn put_wrapper(
    tx: &Transaction,
    username: &str,
    recipient: &str,
    w: &Wrapped,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO key_wrappers (user, recipient, salt, params, wrapped, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (user) DO UPDATE SET recipient = ?2, salt = ?3, params = ?4,
            wrapped = ?5, created_at = ?6",
        params![username, recipient, w.salt, w.params, w.wrapped, now],
    )?;
    Ok(())
}

/// Deletes a user's wrapping; true if there was one.
pub fn delete_wrapper(tx: &Transaction, username: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("DELETE FROM key_wrappers WHERE user = ?1", [username])? == 1)
}

/// Sets a user's password hash.
pub fn set_password(
    tx: &Transaction,
    username: &str,
    phc: &str,
    generated: bool,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE users SET password_hash = ?2, password_generated = ?3 WHERE username = ?1",
        params![username, phc, generated],
    )?;
    Ok(())
}

/// Unwraps a user's identity with their password, checking it against the recipient.
pub fn unwrap_for(
    recipient: &str,
    w: &Wrapped,
    username: &str,
    password: &str,
    generated: bool,
) -> crate::error::Result<Identity> {
    let id = keys::unwrap_identity(w, username, password, generated)?;
    if id.to_public().to_string() != recipient {
        return Err(crate::error::ServerError::Key(
            "the unwrapped identity does not match its recipient".into(),
        ));
    }
    Ok(id)
}

/// Checks a new password a user chose: at least 12 characters, not all the same, not the
/// user name. Returns the reason in Indonesian and English.
pub fn check_new_password(username: &str, pw: &str) -> Result<(), (&'static str, &'static str)> {
    let n = pw.chars().count();
    if n < 12 {
        return Err((
            "minimal 12 karakter; sebuah kalimat pendek mudah diingat",
            "at least 12 characters; a short sentence is easy to remember",
        ));
    }
    if n > 256 {
        return Err(("paling banyak 256 karakter", "at most 256 characters"));
    }
    let first = pw.chars().next();
    if pw.chars().all(|c| Some(c) == first) {
        return Err((
            "tidak boleh satu huruf yang diulang",
            "must not be one character repeated",
        ));
    }
    if pw.to_lowercase().contains(&username.to_lowercase()) {
        return Err((
            "tidak boleh memuat nama pengguna",
            "must not contain the user name",
        ));
    }
    Ok(())
}

/// Checks a new user name: 2–32 lowercase letters, digits, `.`, `-`, `_`.
pub fn check_username(name: &str) -> Result<(), (&'static str, &'static str)> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if !(2..=32).contains(&name.len()) || !ok_chars {
        return Err((
            "2–32 huruf kecil, angka, titik, tanda hubung atau garis bawah",
            "2–32 lowercase letters, digits, dots, dashes or underscores",
        ));
    }
    Ok(())
}
