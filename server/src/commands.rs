//! The admin commands: `key export`, `profile pubkey`, `profile sign`, `profile tls-pin` and
//! `user add`.
//!
//! `key export` is the break-glass path: it prints the intake identity so that reports can
//! be opened with the stock `age` tool if this software is ever lost. It needs the admin
//! password, and records every successful export in the `audit` table before printing.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use berani_core::age::Identity;
use zeroize::Zeroizing;

use crate::config::PinChange;
use crate::db::Db;
use crate::desk::DeskError;
use crate::desk::users::{self, NewUser};
use crate::error::{Result, ServerError};
use crate::keys::{self, Wrapped};
use crate::profile;
use crate::setup::{ADMIN, Folder};

/// Environment variable holding the admin password for non-interactive use.
pub const PASSWORD_ENV: &str = "BERANI_ADMIN_PASSWORD";

/// The admin password from [`PASSWORD_ENV`], else one line of stdin.
pub fn read_password() -> Result<Zeroizing<String>> {
    if let Ok(pw) = std::env::var(PASSWORD_ENV) {
        return Ok(Zeroizing::new(pw));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("admin password: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = Zeroizing::new(String::new());
    stdin.lock().read_line(&mut line)?;
    Ok(Zeroizing::new(
        line.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// The intake identity, unwrapped from the `admin` user's wrapping with the admin password.
fn admin_identity(db: &Db, password: &str) -> Result<Identity> {
    let (phc, recipient, wrapped, generated) = db.read(|c| {
        c.query_row(
            "SELECT u.password_hash, w.recipient, w.salt, w.params, w.wrapped, u.password_generated
             FROM users u JOIN key_wrappers w ON w.user = u.username
             WHERE u.username = ?1 AND u.role = 'admin'",
            [ADMIN],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    Wrapped {
                        salt: r.get(2)?,
                        params: r.get(3)?,
                        wrapped: r.get(4)?,
                    },
                    r.get::<_, bool>(5)?,
                ))
            },
        )
    })?;
    if !keys::verify_password(password, &phc, generated) {
        return Err(ServerError::WrongPassword);
    }
    let identity = keys::unwrap_identity(&wrapped, ADMIN, password, generated)?;
    if identity.to_public().to_string() != recipient {
        return Err(ServerError::Key(
            "the unwrapped identity does not match its recipient".into(),
        ));
    }
    Ok(identity)
}

/// Prints the intake identity (`AGE-SECRET-KEY-1…`) after checking the admin password, and
/// records the export in `audit`.
pub fn key_export(data: &Path, password: &str, out: &mut impl Write) -> Result<()> {
    let db = Folder::new(data).open()?;
    let identity = admin_identity(&db, password)?;
    // Audited before it is shown: an export that printed is never missing from the log.
    db.write(|tx| {
        crate::audit::append(
            tx,
            ADMIN,
            crate::audit::action::KEY_EXPORT,
            "",
            "command line",
        )
    })?;
    writeln!(out, "{}", identity.to_secret_string().as_str())?;
    Ok(())
}

/// A desk refusal as the one line a failing command prints (the English reason).
pub fn desk_error(e: DeskError) -> ServerError {
    match e {
        DeskError::Invalid { field, en, .. } => ServerError::Config(format!("{field}: {en}")),
        DeskError::Internal(why) => ServerError::Config(why),
        other => ServerError::Config(format!("{other:?}")),
    }
}

/// `user add`: creates a desk account as `admin` (the intake identity unwrapped with the
/// admin password, for roles that read content) and prints its one-time password once.
pub fn user_add(data: &Path, password: &str, new: &NewUser, out: &mut impl Write) -> Result<()> {
    let db = Folder::new(data).open()?;
    let disabled: Option<i64> = db.read(|c| {
        c.query_row(
            "SELECT disabled_at FROM users WHERE username = ?1",
            [ADMIN],
            |r| r.get(0),
        )
    })?;
    if disabled.is_some() {
        return Err(ServerError::Config(format!(
            "the {ADMIN} account is disabled"
        )));
    }
    let identity = admin_identity(&db, password)?;
    let generated = users::create_blocking(&db, ADMIN, Some(&identity), new).map_err(desk_error)?;
    writeln!(out, "password: {}", generated.as_str())?;
    Ok(())
}

/// Prints the profile-signing public key.
pub fn profile_pubkey(data: &Path, out: &mut impl Write) -> Result<()> {
    let db = Folder::new(data).open()?;
    let stored = db.read(profile::load)?;
    writeln!(out, "{}", stored.signing_key)?;
    Ok(())
}

/// What `profile sign` changes besides the version, expiry and receipt key.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    /// A new intake URL.
    pub public_url: Option<String>,
    /// A new TLS pin, or its removal.
    pub tls_pin: Option<PinChange>,
}

/// Prints the TLS key pin of the first certificate in a PEM file.
pub fn profile_tls_pin(cert: &Path, out: &mut impl Write) -> Result<()> {
    let chain = crate::http::certificate_chain(cert)?;
    let pin = berani_core::upload::tls::pin_of_certificate(&chain[0])
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?;
    writeln!(out, "{pin}")?;
    Ok(())
}

/// Re-signs the profile as version + 1 with the folder's key, or with `key` (which then
/// becomes the profile key), applying `changes`.
pub fn profile_sign(
    data: &Path,
    key: Option<&Path>,
    changes: &ProfileChanges,
    out: &mut impl Write,
) -> Result<()> {
    let url = changes
        .public_url
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned());
    if let Some(u) = &url
        && (!(u.starts_with("http://") || u.starts_with("https://"))
            || u.contains(char::is_whitespace))
    {
        return Err(ServerError::Config(format!(
            "--public-url must be an http(s) URL, not {u:?}"
        )));
    }
    let folder = Folder::new(data);
    let db = folder.open()?;
    let stored = db.read(profile::load)?;
    let key = match key {
        Some(path) => keys::read_signing_key(path)?,
        None => {
            if !folder.profile_key().is_file() {
                return Err(ServerError::Key(
                    "the data folder holds no profile-signing key; pass --key".into(),
                ));
            }
            let k = keys::read_signing_key(&folder.profile_key())?;
            if k.public() != stored.signing_key {
                return Err(ServerError::Key(
                    "the profile is signed with a key kept outside the data folder; pass --key"
                        .into(),
                ));
            }
            k
        }
    };
    let receipt_key = keys::read_signing_key(&folder.receipt_key())?.public();
    let new = db.write(|tx| {
        let current = profile::load(tx)?.profile()?;
        let intake = url.as_deref().unwrap_or(&current.intake_url);
        let pinned = match &changes.tls_pin {
            Some(PinChange::Set(_)) => true,
            Some(PinChange::Remove) => false,
            None => current.tls_spki_sha256.is_some(),
        };
        if pinned && !intake.starts_with("https://") {
            return Err(ServerError::Config(format!(
                "a TLS pin needs an https intake URL, not {intake:?}"
            )));
        }
        profile::resign(tx, &key, |p| {
            p.receipt_key = Some(receipt_key);
            if let Some(u) = url {
                p.intake_url = u;
            }
            match &changes.tls_pin {
                Some(PinChange::Set(pin)) => p.tls_spki_sha256 = Some(pin.clone()),
                Some(PinChange::Remove) => p.tls_spki_sha256 = None,
                None => {}
            }
        })
    })?;
    if new.signing_key != stored.signing_key {
        eprintln!(
            "note: the profile key is now {}; apps that pin {} will refuse this profile",
            new.signing_key, stored.signing_key
        );
    }
    writeln!(
        out,
        "signed profile version {} with {}",
        new.version, new.signing_key
    )?;
    Ok(())
}
