//! The app PIN: the device key additionally wrapped under a key derived from a PIN.
//!
//! [`PinLock`] sits between the store and the platform's [`DeviceKeyStore`]. The platform's
//! key (on Android, the one the Keystore guards) becomes a *wrapping* key `W`; the device key
//! `D` that encrypts the store is kept in `device-key.wrap` in the home folder, sealed
//! (ChaCha20-Poly1305) under
//!
//! - without a PIN: `HKDF(W, salt, "berani/v1/pin-wrap/none")`;
//! - with a PIN: `HKDF(W, Argon2id(PIN, salt), "berani/v1/pin-wrap/pin")`, Argon2id at
//!   [`PIN_M_KIB`] KiB (19 MiB), [`PIN_T`] passes, one lane: the OWASP minimum, about a
//!   quarter of a second on a cheap phone and within its memory.
//!
//! So a phone taken unlocked still needs the PIN, and a copy of the files still needs the
//! platform key. Setting, changing or removing the PIN re-seals the same `D`: no data moves.
//! A wrong PIN fails with [`CoreError::WrongPin`] and changes nothing. The file also keeps
//! the failed-attempt counter (so it survives restarts) and the "wipe after N wrong PINs"
//! setting, readable without the PIN. Someone with root on the phone can reset the counter
//! by restoring an old file; the counter defends against guessing through the app.
//!
//! A home opened through a `PinLock` for the first time gets a fresh random `D`. A home made
//! before, whose data is under the platform key itself, keeps opening with `D = W`, but a
//! PIN cannot be set on it (the platform key alone would still open it): such a home must be
//! wiped (or its reports delivered) first.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use super::device_key::{DEVICE_KEY_LEN, DeviceKeyStore, KeyStoreError, shred_file};
use crate::crypto::{self, RecordKey};
use crate::error::{CoreError, Field, FieldError, Reason, Result};

/// The wrapped device key's file in the home folder.
pub const WRAP_FILE: &str = "device-key.wrap";
/// Argon2id memory for the PIN, in KiB (19 MiB).
pub const PIN_M_KIB: u32 = 19 * 1024;
/// Argon2id passes for the PIN.
pub const PIN_T: u32 = 2;
/// Argon2id lanes for the PIN.
pub const PIN_P: u32 = 1;
/// Fewest wrong PINs a "wipe after" setting may allow.
pub const MIN_WIPE_AFTER: u32 = 3;

const AAD: &[u8] = b"berani/v1/device-key";

#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct PinParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

#[derive(serde::Serialize, serde::Deserialize, Clone)]
struct WrapFile {
    v: u32,
    salt: String,
    pin: Option<PinParams>,
    wrapped: String,
    failed: u32,
    wipe_after: Option<u32>,
}

/// What the lock screen may know without the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PinStatus {
    /// A PIN is needed to open the home.
    pub pin_set: bool,
    /// Wrong PINs since the last right one.
    pub failed_attempts: u32,
    /// Wipe everything after this many wrong PINs in a row (`None`: never).
    pub wipe_after: Option<u32>,
}

/// Checks a PIN's form: 4 to 12 digits (the disguised calculator types it).
pub fn check_pin_format(pin: &str) -> Result<()> {
    if (4..=12).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(FieldError::new(Field::Pin, Reason::PinFormat).into())
    }
}

fn wrap_path(home: &Path) -> PathBuf {
    home.join(WRAP_FILE)
}

fn key_err(e: KeyStoreError) -> CoreError {
    CoreError::DeviceKey(e.0)
}

fn pin_kek(w: &[u8; 32], salt: &[u8], pin: &str, p: &PinParams) -> Result<Zeroizing<[u8; 32]>> {
    let params = Params::new(p.m_kib, p.t, p.p, Some(32)).map_err(|_| CoreError::RecordCorrupt)?;
    let mut stretched = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pin.as_bytes(), salt, stretched.as_mut())
        .map_err(|_| CoreError::RecordCorrupt)?;
    Ok(crypto::derive_key(
        w,
        stretched.as_ref(),
        b"berani/v1/pin-wrap/pin",
    ))
}

fn kek(w: &[u8; 32], salt: &[u8], pin: Option<(&str, &PinParams)>) -> Result<Zeroizing<[u8; 32]>> {
    match pin {
        Some((pin, p)) => pin_kek(w, salt, pin, p),
        None => Ok(crypto::derive_key(w, salt, b"berani/v1/pin-wrap/none")),
    }
}

fn load(home: &Path) -> Result<Option<WrapFile>> {
    let path = wrap_path(home);
    let parse = |p: &Path| -> Option<WrapFile> {
        let bytes = fs::read(p).ok()?;
        serde_json::from_slice::<WrapFile>(&bytes)
            .ok()
            .filter(|w| w.v == 1)
    };
    if let Some(w) = parse(&path) {
        return Ok(Some(w));
    }
    // A crash during a re-seal leaves the old file zeroed and the new one beside it.
    let tmp = path.with_extension("tmp");
    if let Some(w) = parse(&tmp) {
        fs::rename(&tmp, &path)?;
        File::open(home)?.sync_all()?;
        return Ok(Some(w));
    }
    if path.exists() {
        return Err(CoreError::DeviceKey(
            "the wrapped device key is damaged".into(),
        ));
    }
    Ok(None)
}

/// Writes the file atomically. With `shred_old`, the old file's bytes (the key sealed under
/// the old PIN, or under none) are zeroed in place before the new file replaces it.
fn save(home: &Path, w: &WrapFile, shred_old: bool) -> Result<()> {
    let path = wrap_path(home);
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&serde_json::to_vec(w).expect("wrap file serialises"))?;
    f.sync_all()?;
    drop(f);
    if shred_old && path.exists() {
        let len = fs::metadata(&path)?.len() as usize;
        let mut old = OpenOptions::new().write(true).open(&path)?;
        old.write_all(&vec![0u8; len])?;
        old.sync_all()?;
    }
    fs::rename(&tmp, &path)?;
    File::open(home)?.sync_all()?;
    Ok(())
}

/// The PIN state of a home, without the PIN or the key.
pub fn status(home: &Path) -> Result<PinStatus> {
    Ok(match load(home)? {
        Some(w) => PinStatus {
            pin_set: w.pin.is_some(),
            failed_attempts: w.failed,
            wipe_after: w.wipe_after,
        },
        None => PinStatus {
            pin_set: false,
            failed_attempts: 0,
            wipe_after: None,
        },
    })
}

/// The platform key store seen through the PIN: see the module documentation.
pub struct PinLock<'a> {
    inner: &'a dyn DeviceKeyStore,
    home: PathBuf,
    pin: Option<Zeroizing<String>>,
}

impl<'a> PinLock<'a> {
    /// The device key of `home`, wrapped under `inner`'s key and, if one is set, `pin`.
    pub fn new(inner: &'a dyn DeviceKeyStore, home: &Path, pin: Option<&str>) -> Self {
        PinLock {
            inner,
            home: home.to_path_buf(),
            pin: pin.map(|p| Zeroizing::new(p.to_owned())),
        }
    }

    fn platform_key(&self) -> Result<Zeroizing<[u8; 32]>> {
        let w = self.inner.device_key().map_err(key_err)?;
        let w: [u8; 32] = w
            .as_slice()
            .try_into()
            .map_err(|_| CoreError::DeviceKey("the device key must be 32 bytes".into()))?;
        Ok(Zeroizing::new(w))
    }

    fn open_wrap(
        &self,
        w: &[u8; 32],
        file: &WrapFile,
        pin: Option<&str>,
    ) -> Result<Zeroizing<Vec<u8>>> {
        let salt = B64
            .decode(&file.salt)
            .map_err(|_| CoreError::RecordCorrupt)?;
        let sealed = B64
            .decode(&file.wrapped)
            .map_err(|_| CoreError::RecordCorrupt)?;
        let k = match (&file.pin, pin) {
            (Some(p), Some(pin)) => kek(w, &salt, Some((pin, p)))?,
            (Some(_), None) => return Err(CoreError::WrongPin),
            (None, _) => kek(w, &salt, None)?,
        };
        match RecordKey::new(&k).open(AAD, &sealed) {
            Some(d) if d.len() == DEVICE_KEY_LEN => Ok(d),
            _ if file.pin.is_some() => Err(CoreError::WrongPin),
            _ => Err(CoreError::WrongDeviceKey),
        }
    }

    fn seal(w: &[u8; 32], d: &[u8], pin: Option<&str>, keep: &WrapFile) -> Result<WrapFile> {
        let salt = crypto::random::<16>();
        let params = pin.map(|_| PinParams {
            m_kib: PIN_M_KIB,
            t: PIN_T,
            p: PIN_P,
        });
        let k = kek(w, &salt, pin.zip(params.as_ref()))?;
        Ok(WrapFile {
            v: 1,
            salt: B64.encode(salt),
            pin: params,
            wrapped: B64.encode(RecordKey::new(&k).seal(AAD, d)),
            failed: 0,
            wipe_after: keep.wipe_after,
        })
    }

    /// The device key, checking the PIN. A wrong or missing PIN is [`CoreError::WrongPin`]
    /// and changes nothing (the failure is counted by [`pin_failed`], which the caller
    /// decides to call). A right PIN resets the failed-attempt counter.
    pub fn unlock(&self) -> Result<Zeroizing<Vec<u8>>> {
        let w = self.platform_key()?;
        match load(&self.home)? {
            Some(file) => {
                let d = self.open_wrap(&w, &file, self.pin.as_deref().map(String::as_str))?;
                if file.failed > 0 {
                    save(&self.home, &WrapFile { failed: 0, ..file }, false)?;
                }
                Ok(d)
            }
            None if self.home.join(super::DB_FILE).exists() => {
                // Made before the PIN layer: the platform key is the device key.
                Ok(Zeroizing::new(w.to_vec()))
            }
            None => {
                fs::create_dir_all(&self.home)?;
                let d = Zeroizing::new(crypto::random::<DEVICE_KEY_LEN>().to_vec());
                let blank = WrapFile {
                    v: 1,
                    salt: String::new(),
                    pin: None,
                    wrapped: String::new(),
                    failed: 0,
                    wipe_after: None,
                };
                save(&self.home, &Self::seal(&w, &d, None, &blank)?, false)?;
                Ok(d)
            }
        }
    }

    /// Sets, changes (`new`) or removes (`None`) the PIN. When a PIN is set, this lock's PIN
    /// must be it. The device key stays the same; the old wrapping is zeroed.
    pub fn set_pin(&self, new: Option<&str>) -> Result<()> {
        if let Some(p) = new {
            check_pin_format(p)?;
        }
        let w = self.platform_key()?;
        let file = match load(&self.home)? {
            Some(f) => f,
            None => {
                if self.home.join(super::DB_FILE).exists() {
                    return Err(CoreError::WrongState(
                        "made before the PIN layer; wipe it before setting a PIN",
                    ));
                }
                self.unlock()?;
                load(&self.home)?.ok_or(CoreError::RecordCorrupt)?
            }
        };
        let d = self.open_wrap(&w, &file, self.pin.as_deref().map(String::as_str))?;
        save(&self.home, &Self::seal(&w, &d, new, &file)?, true)
    }

    /// Sets how many wrong PINs in a row wipe everything (`None`: never; at least
    /// [`MIN_WIPE_AFTER`]). Needs the right PIN, and a PIN set.
    pub fn set_wipe_after(&self, n: Option<u32>) -> Result<()> {
        let w = self.platform_key()?;
        let file = load(&self.home)?.ok_or(CoreError::WrongState("no PIN is set"))?;
        if file.pin.is_none() && n.is_some() {
            return Err(CoreError::WrongState("no PIN is set"));
        }
        self.open_wrap(&w, &file, self.pin.as_deref().map(String::as_str))?;
        let n = n.map(|n| n.max(MIN_WIPE_AFTER));
        save(
            &self.home,
            &WrapFile {
                wipe_after: n,
                ..file
            },
            false,
        )
    }
}

impl DeviceKeyStore for PinLock<'_> {
    fn device_key(&self) -> std::result::Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        self.unlock().map_err(|e| KeyStoreError(e.to_string()))
    }

    /// Zeroes and unlinks the wrapped key, then destroys the platform key: either alone
    /// already makes the device key unrecoverable.
    fn destroy(&self) -> std::result::Result<(), KeyStoreError> {
        let path = wrap_path(&self.home);
        for p in [path.with_extension("tmp"), path] {
            shred_file(&p)
                .map_err(|e| KeyStoreError(format!("cannot destroy wrapped key: {}", e.kind())))?;
        }
        self.inner.destroy()
    }
}

/// What happened after a wrong PIN was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PinFailure {
    /// Wrong PINs in a row so far.
    pub failed_attempts: u32,
    /// Tries left before the wipe, when "wipe after N wrong PINs" is on.
    pub remaining: Option<u32>,
    /// The limit was reached and the home was wiped.
    pub wiped: bool,
}

/// Counts one wrong PIN (durably, before returning). When "wipe after N" is on and this was
/// the N-th wrong PIN in a row, the home is wiped at once (a full wipe: without the PIN the
/// queued reports cannot be moved) and `wiped` is true.
pub fn pin_failed(home: &Path, keys: &dyn DeviceKeyStore) -> Result<PinFailure> {
    let Some(file) = load(home)? else {
        return Err(CoreError::WrongState("no PIN is set"));
    };
    let failed = file.failed.saturating_add(1);
    let limit = file.wipe_after;
    save(home, &WrapFile { failed, ..file }, false)?;
    let remaining = limit.map(|n| n.saturating_sub(failed));
    if remaining == Some(0) {
        crate::wipe::wipe_home(home, &PinLock::new(keys, home, None), false)?;
        return Ok(PinFailure {
            failed_attempts: failed,
            remaining,
            wiped: true,
        });
    }
    Ok(PinFailure {
        failed_attempts: failed,
        remaining,
        wiped: false,
    })
}
