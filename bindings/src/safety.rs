//! Device safety: the panic wipe, the app PIN and the metadata warning, as free functions
//! over a home folder (they work whether or not a [`crate::Reporter`] is open; close it
//! first, and stop any sync, before a wipe).
//!
//! Every home is seen through the core's PIN layer (`PinLock`), as [`crate::Reporter`]'s
//! `open_with_pin` opens it, so `device_keys` is always the platform's key store.

use std::path::Path;
use std::sync::Arc;

use berani_core::store::{PinLock, pin};
use berani_core::{strip, wipe};

use crate::error::Result;
use crate::keystore::{DeviceKeyStore, KeyStoreAdapter};

/// A text every front end shows in the same words.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Message {
    /// In Indonesian.
    pub id: String,
    /// In English.
    pub en: String,
}

/// What a panic wipe did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct WipeOutcome {
    /// Queued reports kept for delivery under the new key (0 for a full wipe).
    pub kept_reports: u32,
}

/// What the lock screen may know without the PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PinStatus {
    /// A PIN is needed to open the home.
    pub pin_set: bool,
    /// Wrong PINs in a row since the last right one.
    pub failed_attempts: u32,
    /// Wipe after this many wrong PINs in a row; `None`: never.
    pub wipe_after: Option<u32>,
}

/// What happened after a wrong PIN was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PinFailure {
    /// Wrong PINs in a row so far.
    pub failed_attempts: u32,
    /// Tries left before the wipe, when "wipe after N wrong PINs" is on.
    pub remaining: Option<u32>,
    /// The limit was reached and everything was wiped.
    pub wiped: bool,
}

/// The warning to show before an attachment keeps its metadata ("keep metadata as evidence").
#[uniffi::export]
pub fn keep_metadata_warning() -> Message {
    Message {
        id: strip::KEEP_METADATA_WARNING_ID.into(),
        en: strip::KEEP_METADATA_WARNING_EN.into(),
    }
}

/// The panic wipe: destroys the device key first, then the database and every file of
/// `home_dir`. With `keep_sending` (and the right `pin`, if one is set), queued reports move
/// to a fresh store under a new key and keep being delivered; without it, or when the home
/// does not open, everything goes. An interrupted wipe is finished at the next open.
#[uniffi::export]
pub fn wipe_home(
    home_dir: String,
    device_keys: Arc<dyn DeviceKeyStore>,
    pin: Option<String>,
    keep_sending: bool,
) -> Result<WipeOutcome> {
    let keys = KeyStoreAdapter(device_keys);
    let home = Path::new(&home_dir);
    let lock = PinLock::new(&keys, home, pin.as_deref());
    let out = wipe::wipe_home(home, &lock, keep_sending)?;
    Ok(WipeOutcome {
        kept_reports: out.kept_reports,
    })
}

/// Whether a PIN is set, the failed-attempt count and the wipe setting.
#[uniffi::export]
pub fn pin_status(home_dir: String) -> Result<PinStatus> {
    let s = pin::status(Path::new(&home_dir))?;
    Ok(PinStatus {
        pin_set: s.pin_set,
        failed_attempts: s.failed_attempts,
        wipe_after: s.wipe_after,
    })
}

/// Sets, changes (`new_pin`) or removes (`None`) the PIN; `current_pin` must be the PIN set,
/// if any (`WrongPin` otherwise). A PIN is 4 to 12 digits (`InvalidInput`, field `pin`).
#[uniffi::export]
pub fn set_pin(
    home_dir: String,
    device_keys: Arc<dyn DeviceKeyStore>,
    current_pin: Option<String>,
    new_pin: Option<String>,
) -> Result<()> {
    let keys = KeyStoreAdapter(device_keys);
    let lock = PinLock::new(&keys, Path::new(&home_dir), current_pin.as_deref());
    Ok(lock.set_pin(new_pin.as_deref())?)
}

/// Wipe everything after `attempts` wrong PINs in a row (at least 3), or never (`None`).
/// Needs the PIN.
#[uniffi::export]
pub fn set_wipe_after(
    home_dir: String,
    device_keys: Arc<dyn DeviceKeyStore>,
    pin: String,
    attempts: Option<u32>,
) -> Result<()> {
    let keys = KeyStoreAdapter(device_keys);
    let lock = PinLock::new(&keys, Path::new(&home_dir), Some(&pin));
    Ok(lock.set_wipe_after(attempts)?)
}

/// Counts one wrong PIN, durably; wipes everything when the "wipe after" limit is reached.
#[uniffi::export]
pub fn pin_failed(home_dir: String, device_keys: Arc<dyn DeviceKeyStore>) -> Result<PinFailure> {
    let keys = KeyStoreAdapter(device_keys);
    let f = pin::pin_failed(Path::new(&home_dir), &keys)?;
    Ok(PinFailure {
        failed_attempts: f.failed_attempts,
        remaining: f.remaining,
        wiped: f.wiped,
    })
}
