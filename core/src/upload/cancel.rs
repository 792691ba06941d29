//! Stopping a running sync from any thread, at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// Stops a running [`sync`](super::sync) at once: the request in flight is dropped (its
/// connection closed) and the sync returns with [`StopReason::Cancelled`](super::StopReason).
///
/// Clones share one flag, so a front end keeps a clone and calls [`cancel`](Self::cancel) from
/// any thread (a UI thread, a signal handler, an Android job's `onStopped`). Once cancelled, a
/// handle stays cancelled; make a new one for the next sync.
#[derive(Clone, Debug, Default)]
pub struct CancelHandle(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    notify: Notify,
}

impl CancelHandle {
    /// A handle that has not been cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels every sync holding a clone of this handle.
    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// True once [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Completes when the handle is cancelled (at once if it already is).
    pub async fn cancelled(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Register before checking the flag, so a cancel in between is not missed.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cancel_wakes_a_waiter_on_another_thread() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let h = CancelHandle::new();
        assert!(!h.is_cancelled());
        let other = h.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            other.cancel();
        });
        rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), h.cancelled())
                .await
                .expect("woken by cancel");
        });
        t.join().unwrap();
        assert!(h.is_cancelled());
        // Already cancelled: completes at once.
        rt.block_on(h.cancelled());
    }
}
