//! The bindings' tokio runtime: built once, on first use, and kept for the process's life.
//!
//! Syncs run here as tasks (see `sync.rs`), so Kotlin never has to provide an executor and a
//! sync outlives the call that started it. Two worker threads: one upload at a time needs
//! one, and the second keeps connections and timers moving while a Kotlin listener runs on
//! the first. The async methods Kotlin `await`s are marked `async_runtime = "tokio"` instead,
//! which gives them a tokio context wherever Kotlin polls them.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};

use crate::error::{BeraniError, Result};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime, built on first use.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("berani-sync")
        .enable_all()
        .build()
        .map_err(|e| BeraniError::Internal {
            detail: format!("cannot start the sync runtime: {}", e.kind()),
        })?;
    // Two first calls may race; the loser's runtime is dropped here, outside any task.
    Ok(RUNTIME.get_or_init(|| rt))
}
