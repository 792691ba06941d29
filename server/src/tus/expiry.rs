//! The expiry sweeper: removes incomplete uploads that made no progress for the upload TTL.
//!
//! A phone that gave up (or was wiped) must not leave sealed bytes on the server forever.
//! Requests already treat an expired upload as gone (404, and a new POST replaces it); the
//! sweeper deletes the rows, then the blobs, and also blob files that no row names (left by a
//! crash between the two). An upload with an append in flight is never swept.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::records;
use crate::app::AppState;
use crate::db;

/// Runs [`sweep`] every `every` until `stop` turns true.
pub async fn run(state: Arc<AppState>, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            () = crate::http::stopped(&mut stop) => return,
        }
        match sweep(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("expired {n} incomplete upload(s)"),
            Err(e) => tracing::warn!("expiry sweep failed: {e}"),
        }
    }
}

/// Removes expired uploads and orphaned blobs; returns how many uploads expired.
pub async fn sweep(s: &Arc<AppState>) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let ttl = s.ttl.as_secs() as i64;
    let cutoff = db::now() - ttl;
    let expired =
        s.db.read_async(move |c| records::expired(c, cutoff))
            .await?;
    let mut removed = 0;
    for u in expired {
        let Some(_claim) = s.limits.claim(&u.id) else {
            continue;
        };
        let (id, report) = (u.id.clone(), u.report.clone());
        let gone =
            s.db.write_async(move |tx| {
                // Progress may have come in since the list was read.
                let still = records::find(tx, &id)?.is_some_and(|u| u.is_expired(ttl, db::now()));
                if still {
                    records::delete(tx, &id, &report)?;
                }
                Ok::<_, rusqlite::Error>(still)
            })
            .await?;
        if gone {
            s.blobs.remove(&u.id).await?;
            removed += 1;
        }
    }
    // Files first, then rows: a blob is only ever created for a row already committed.
    let files = s.blobs.ids().await?;
    let rows = s.db.read_async(records::ids).await?;
    let mut orphans = 0;
    for orphan in files.difference(&rows) {
        if let Some(_claim) = s.limits.claim(orphan) {
            s.blobs.remove(orphan).await?;
            orphans += 1;
        }
    }
    if removed + orphans > 0 {
        s.blobs.sync_dir().await?;
    }
    Ok(removed)
}
