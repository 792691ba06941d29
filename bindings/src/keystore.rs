//! The device key, supplied by the platform: on Android a key wrapped by the Android Keystore.
//!
//! The core encrypts drafts, attachments and the outbox at rest under 32 bytes it asks the
//! platform for when a home folder is opened. The app implements [`DeviceKeyStore`] in Kotlin;
//! the adapter here turns whatever the implementation does — a key, a `BeraniException`, any
//! other exception, or (for a Rust implementation) a panic — into the core's answer, so a
//! failing key store is an error for the caller and never a crash or an unwind through the
//! core.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use berani_core::store::{self as core, KeyStoreError};
use zeroize::Zeroizing;

use crate::error::{BeraniError, Result};

/// The platform's custody of the 32-byte device key.
///
/// Android: generate 32 random bytes once (or call [`new_device_key`]), keep them wrapped by an
/// Android Keystore key, and return them unwrapped here. Losing the key makes every draft and
/// queued report on the phone unreadable (that is how a panic wipe works).
#[uniffi::export(foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// Returns the device key (exactly 32 bytes), creating and keeping a new random one on
    /// first use. Throw `BeraniException` (or any exception) when it is unavailable, e.g.
    /// while the phone is locked; never put the key in an error.
    fn device_key(&self) -> Result<Vec<u8>>;

    /// Destroys the device key for good (the panic wipe's first step): delete the Keystore
    /// key and overwrite, sync and delete the wrapped copy, so nothing encrypted under it can
    /// be read again; the next `device_key` makes a new one. Succeeds when there is no key.
    /// (Not `destroy`: every generated Kotlin object already has a `destroy()`.)
    fn destroy_key(&self) -> Result<()>;
}

/// 32 fresh random bytes from the operating system's generator, for a new device key.
#[uniffi::export]
pub fn new_device_key() -> Vec<u8> {
    berani_core::crypto::random::<{ core::device_key::DEVICE_KEY_LEN }>().to_vec()
}

/// Presents a platform [`DeviceKeyStore`] to the core.
pub(crate) struct KeyStoreAdapter(pub(crate) Arc<dyn DeviceKeyStore>);

impl core::DeviceKeyStore for KeyStoreAdapter {
    fn device_key(&self) -> Result<Zeroizing<Vec<u8>>, KeyStoreError> {
        // A foreign implementation's exceptions already arrive as `Err` (see
        // `From<UnexpectedUniFFICallbackError>`); a Rust implementation could panic, and that
        // must not unwind through the store being opened.
        match catch_unwind(AssertUnwindSafe(|| self.0.device_key())) {
            Ok(Ok(key)) => Ok(Zeroizing::new(key)),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(BeraniError::panicked("the device key store").into()),
        }
    }

    fn destroy(&self) -> Result<(), KeyStoreError> {
        match catch_unwind(AssertUnwindSafe(|| self.0.destroy_key())) {
            Ok(r) => r.map_err(Into::into),
            Err(_) => Err(BeraniError::panicked("the device key store").into()),
        }
    }
}
