//! The bindings' one tokio runtime: built once, on first use, and kept for the process's life.
//!
//! Everything that needs tokio runs here: syncs as tasks (see `sync.rs`), so Kotlin never has
//! to provide an executor and a sync outlives the call that started it, and the async methods
//! Kotlin `await`s (`import_profile_url`, `followup`, `followup_with_receipt`,
//! `report_volunteer_install`), through [`on_runtime`]. Those methods are plain uniffi async
//! functions (no `async_runtime = "tokio"`): uniffi's tokio support would wrap each in
//! `async_compat`, which starts a second, hidden runtime of its own. `SyncHandle::wait` only
//! waits on a `tokio::sync::watch` channel, which needs no runtime at all.
//!
//! Two worker threads: one upload at a time needs one, and the second keeps connections and
//! timers moving while a Kotlin listener runs on the first.

use std::panic::resume_unwind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::error::{BeraniError, Result};

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
/// Held while the runtime is built, so two first callers never build two.
static BUILDING: Mutex<()> = Mutex::new(());
/// How many runtimes were built (1 at most; the tests check it).
static BUILT: AtomicUsize = AtomicUsize::new(0);

/// The runtime, built on first use. A failure to build it (the system refused the threads)
/// is returned and not remembered: the next call tries again.
pub(crate) fn runtime() -> Result<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _building = BUILDING.lock().unwrap_or_else(PoisonError::into_inner);
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
    BUILT.fetch_add(1, Ordering::Relaxed);
    // Only this thread can set it: every other first caller waits on `BUILDING`.
    Ok(RUNTIME.get_or_init(|| rt))
}

/// How many runtimes this process built (for the tests).
#[doc(hidden)]
pub fn runtimes_built() -> usize {
    BUILT.load(Ordering::Relaxed)
}

/// Aborts the task when dropped: the caller stopped waiting, so the work stops too.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `work` as a task on the runtime and waits for its result from wherever the caller
/// polls (Kotlin's coroutine threads have no tokio context). Keeps the meaning of an
/// ordinary future: dropping the returned future (Kotlin cancelled the coroutine) aborts the
/// task at its next await, and a panic in `work` resumes in the caller, where uniffi turns it
/// into an error as for any exported function.
pub(crate) async fn on_runtime<T, F>(work: F) -> Result<T>
where
    F: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut task = AbortOnDrop(runtime()?.spawn(work));
    match (&mut task.0).await {
        Ok(out) => out,
        Err(e) if e.is_panic() => resume_unwind(e.into_panic()),
        // Only `AbortOnDrop` aborts the task, and then nobody is waiting here.
        Err(_) => Err(BeraniError::Internal {
            detail: "the task was cancelled".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    #[test]
    fn racing_first_callers_share_one_runtime() {
        let n = 8;
        let start = Arc::new(Barrier::new(n));
        let threads: Vec<_> = (0..n)
            .map(|_| {
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    runtime().unwrap() as *const Runtime as usize
                })
            })
            .collect();
        let seen: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(seen.iter().all(|&p| p == seen[0]), "{seen:?}");
        assert_eq!(runtimes_built(), 1);
    }
}
