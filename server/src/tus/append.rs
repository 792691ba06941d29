//! Appending a request body to an upload: the heart of resumable delivery.
//!
//! Without `Upload-Checksum`, bytes are written as they arrive and the stored offset follows
//! them about once a second, always after an fsync, so a 2G connection that drops mid-body
//! keeps what got through and a kill -9 never leaves the offset claiming bytes the file lacks.
//! With a checksum, the chunk counts only once it verifies. When the offset reaches the
//! length, the whole part is hashed against the metadata's `sha256` before it is complete.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use http_body_util::BodyExt;
use tokio::io::AsyncWriteExt;

use super::checksum::Expected;
use super::records::{self, Upload};
use super::reply::{Reject, checksum_mismatch};
use super::store::BlobStore;
use crate::app::AppState;
use crate::db;

/// How often an unchecked body's progress is made durable.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

enum End {
    Done,
    TooLong,
    Idle,
    Broken,
}

/// Appends `body` to `upload` at its stored offset and returns the upload as it now stands.
///
/// The caller holds the upload's append slot and has checked `Upload-Offset`.
pub async fn append(
    s: &AppState,
    upload: Upload,
    body: Body,
    checksum: Option<Expected>,
    content_length: Option<u64>,
) -> Result<Upload, Reject> {
    let remaining = upload.length - upload.offset;
    if content_length.is_some_and(|n| n > remaining) {
        return Err(too_long());
    }
    let start = upload.offset;
    let (mut file, at) = s
        .blobs
        .open_at(&upload.id, start)
        .await
        .map_err(|e| Reject::internal("opening an upload blob", e))?;
    if at < start {
        // Bytes the database counted are gone (disk trouble): let the phone resume from
        // what is really there.
        set_offset(s, &upload.id, at).await?;
        return Err(Reject::new(
            StatusCode::CONFLICT,
            "the upload's offset changed; ask with HEAD and resume",
        ));
    }

    let mut hasher = checksum.as_ref().map(Expected::hasher);
    let mut body = body;
    let mut written = 0u64;
    let mut committed = start;
    let mut last_commit = Instant::now();
    let mut idle_at = Instant::now() + s.body_idle;
    let end = loop {
        let at = start + written;
        // Bytes that stopped arriving are made durable while the body waits, so that HEAD
        // shows them even if the connection then hangs until the idle timeout.
        let unsaved = hasher.is_none() && at > committed && at < upload.length;
        let wake = if unsaved {
            idle_at.min(last_commit + CHECKPOINT_EVERY)
        } else {
            idle_at
        };
        let frame = match tokio::time::timeout_at(wake.into(), body.frame()).await {
            Err(_) if Instant::now() >= idle_at => break End::Idle,
            Err(_) => {
                sync(&mut file).await?;
                set_offset(s, &upload.id, at).await?;
                committed = at;
                last_commit = Instant::now();
                continue;
            }
            Ok(None) => break End::Done,
            Ok(Some(Err(_))) => break End::Broken,
            Ok(Some(Ok(frame))) => frame,
        };
        idle_at = Instant::now() + s.body_idle;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if written + data.len() as u64 > remaining {
            break End::TooLong;
        }
        if let Err(e) = file.write_all(&data).await {
            // Keep only what is known to be on disk.
            let keep = if hasher.is_some() { start } else { committed };
            let _ = cut(&mut file, keep).await;
            return Err(Reject::internal("writing an upload blob", e));
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&data);
        }
        written += data.len() as u64;
        let at = start + written;
        // Never checkpoint the full length: a part counts only after its hash is checked.
        if hasher.is_none() && at < upload.length && last_commit.elapsed() >= CHECKPOINT_EVERY {
            sync(&mut file).await?;
            set_offset(s, &upload.id, at).await?;
            committed = at;
            last_commit = Instant::now();
        }
    };

    match end {
        End::TooLong => {
            cut(&mut file, start).await?;
            if committed != start {
                set_offset(s, &upload.id, start).await?;
            }
            Err(too_long())
        }
        End::Idle | End::Broken if hasher.is_some() => {
            cut(&mut file, start).await?;
            Err(cut_off(end))
        }
        End::Idle | End::Broken => {
            let at = start + written;
            if at > committed {
                sync(&mut file).await?;
                drop(file);
                // Every byte arrived before the body broke off: the part can still complete.
                if at == upload.length {
                    return finish(s, upload).await;
                }
                set_offset(s, &upload.id, at).await?;
            }
            Err(cut_off(end))
        }
        End::Done => {
            if let (Some(expected), Some(h)) = (checksum.as_ref(), hasher)
                && !expected.matches(h)
            {
                cut(&mut file, start).await?;
                return Err(Reject::new(
                    checksum_mismatch(),
                    "Upload-Checksum does not match the body; nothing of it was kept",
                ));
            }
            let at = start + written;
            sync(&mut file).await?;
            drop(file);
            if at == upload.length {
                return finish(s, upload).await;
            }
            let now = db::now();
            if at != committed {
                set_offset(s, &upload.id, at).await?;
            }
            Ok(Upload {
                offset: at,
                progress_at: if at != start { now } else { upload.progress_at },
                ..upload
            })
        }
    }
}

/// Checks the whole part against its `sha256` and marks it complete.
async fn finish(s: &AppState, upload: Upload) -> Result<Upload, Reject> {
    let path = s.blobs.path(&upload.id);
    let (digest, len) = tokio::task::spawn_blocking(move || BlobStore::hash_blocking(&path))
        .await
        .expect("hashing task panicked")
        .map_err(|e| Reject::internal("hashing an upload blob", e))?;
    if len != upload.length || berani_core::crypto::hex(&digest) != upload.sha256 {
        s.blobs
            .truncate(&upload.id, 0)
            .await
            .map_err(|e| Reject::internal("resetting an upload blob", e))?;
        set_offset(s, &upload.id, 0).await?;
        return Err(Reject::new(
            checksum_mismatch(),
            "the part does not match its sha256; the upload was reset to offset 0",
        ));
    }
    s.blobs
        .sync_dir()
        .await
        .map_err(|e| Reject::internal("syncing the uploads folder", e))?;
    let now = db::now();
    let u = upload.clone();
    let received =
        s.db.write_async(move |tx| records::complete(tx, &u, now))
            .await
            .map_err(|e| Reject::internal("completing an upload", e))?;
    if received {
        tracing::info!("a report arrived whole");
    }
    Ok(Upload {
        offset: upload.length,
        progress_at: now,
        completed: true,
        report_received: received || upload.report_received,
        ..upload
    })
}

async fn sync(file: &mut tokio::fs::File) -> Result<(), Reject> {
    file.flush()
        .await
        .and(file.sync_data().await)
        .map_err(|e| Reject::internal("syncing an upload blob", e))
}

/// Cuts the blob back to `len` once writes in flight have landed.
async fn cut(file: &mut tokio::fs::File, len: u64) -> Result<(), Reject> {
    let _ = file.flush().await;
    file.set_len(len)
        .await
        .and(file.sync_data().await)
        .map_err(|e| Reject::internal("truncating an upload blob", e))
}

async fn set_offset(s: &AppState, id: &str, offset: u64) -> Result<(), Reject> {
    let id = id.to_owned();
    let now = db::now();
    s.db.write_async(move |tx| records::set_offset(tx, &id, offset, now))
        .await
        .map_err(|e| Reject::internal("recording upload progress", e))
}

fn too_long() -> Reject {
    Reject::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the body would pass Upload-Length; nothing of it was kept",
    )
}

fn cut_off(end: End) -> Reject {
    match end {
        End::Idle => Reject::new(
            StatusCode::REQUEST_TIMEOUT,
            "the request body stalled; closing the connection",
        )
        .with(header::CONNECTION, HeaderValue::from_static("close")),
        _ => Reject::new(StatusCode::BAD_REQUEST, "the request body broke off"),
    }
}
