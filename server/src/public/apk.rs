//! The Android app's download: an admin uploads the APK on the desk (`/desk/apk`), the public
//! page shows its size and SHA-256, and anyone downloads it from [`PUBLIC_PATH`].
//!
//! Files live in `DATA/public/`: the APK under a name carrying its hash
//! (`berani-<sha256 prefix>.apk`) and a sidecar `berani.apk.json` naming it with its SHA-256,
//! size and upload time. An upload is written to a temporary file (checked, hashed and
//! fsynced as it arrives), renamed into place, and only then made current by atomically
//! replacing the sidecar; a crash at any point leaves the previous APK served, never a file
//! and a hash that disagree. No database change is needed; the upload is audited.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::html;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::AppState;
use crate::audit;
use crate::desk::page::{self, csrf};
use crate::desk::{Ctx, DeskError, Role};

/// Where the APK is downloaded.
pub const PUBLIC_PATH: &str = "/berani.apk";
/// The sidecar's file name in `DATA/public/`.
const SIDECAR: &str = "berani.apk.json";
/// Largest APK accepted (200 MB).
pub const MAX_APK_BYTES: u64 = 200_000_000;
/// The audit action of an upload.
pub const AUDIT_ACTION: &str = audit::action::APK_UPLOAD;
const MIME: &str = "application/vnd.android.package-archive";

/// The current APK, as its sidecar records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApkInfo {
    /// The file name in `DATA/public/`.
    pub file: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was uploaded (Unix seconds).
    pub uploaded_at: i64,
    /// Who uploaded it (a desk user name).
    pub uploaded_by: String,
}

/// The current APK, if an admin uploaded one and its file is there.
pub async fn current(dir: &Path) -> Option<ApkInfo> {
    let json = tokio::fs::read(dir.join(SIDECAR)).await.ok()?;
    let info: ApkInfo = serde_json::from_slice(&json).ok()?;
    let safe = info.file.starts_with("berani-")
        && info.file.ends_with(".apk")
        && !info.file.contains(['/', '\\']);
    let meta = tokio::fs::metadata(dir.join(&info.file)).await.ok()?;
    (safe && meta.len() == info.size).then_some(info)
}

/// `GET /berani.apk`.
pub async fn download(State(s): State<Arc<AppState>>) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Aplikasi belum tersedia. / The app is not available yet.",
        )
            .into_response()
    };
    let Some(info) = current(&s.public_dir).await else {
        return not_found();
    };
    let Ok(file) = tokio::fs::File::open(s.public_dir.join(&info.file)).await else {
        return not_found();
    };
    let stream = futures_util::stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok::<_, std::io::Error>(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    });
    (
        [
            (header::CONTENT_TYPE, MIME.to_string()),
            (header::CONTENT_LENGTH, info.size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"berani.apk\"".to_string(),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
            (header::ETAG, format!("\"{}\"", info.sha256)),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The desk routes (admins only).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/desk/apk",
        get(page_get)
            .post(upload)
            .layer(DefaultBodyLimit::max(MAX_APK_BYTES as usize + 64 * 1024)),
    )
}

#[derive(Deserialize, Default)]
pub struct Done {
    #[serde(default)]
    done: String,
}

async fn page_get(ctx: Ctx, Query(q): Query<Done>) -> Response {
    if let Err(e) = ctx.require(Role::Admin) {
        return e.into_response_in(ctx.lang);
    }
    let l = ctx.lang;
    let info = current(&ctx.state.public_dir).await;
    let done = q.done == "uploaded";
    let body = html! {
        h1 { (l.t("Aplikasi Android untuk diunduh", "Android app for download")) }
        (page::notice(done.then_some(l.t("APK baru sudah dipasang di halaman publik.", "The new APK is on the public page."))))
        section.card {
            @match &info {
                Some(a) => {
                    p { (l.t("APK saat ini", "Current APK")) ": " a href=(PUBLIC_PATH) { (PUBLIC_PATH) } }
                    p { (l.t("Ukuran", "Size")) ": " span #apk-size { (a.size) } " byte" }
                    p { "SHA-256: " code #apk-sha256 { (a.sha256) } }
                    p { (l.t("Diunggah", "Uploaded")) ": " (page::when(a.uploaded_at)) " · " (a.uploaded_by) }
                }
                None => p { (l.t("Belum ada APK. Halaman publik belum menawarkan unduhan.", "No APK yet. The public page offers no download.")) },
            }
        }
        section.card {
            h2 { (l.t("Unggah APK baru", "Upload a new APK")) }
            form method="post" action="/desk/apk" enctype="multipart/form-data" {
                (csrf(&ctx))
                p {
                    label for="apk" { (l.t("File APK (paling besar 200 MB)", "APK file (at most 200 MB)")) }
                    input #apk type="file" name="apk" accept=".apk,application/vnd.android.package-archive" required;
                }
                button type="submit" { (l.t("Unggah", "Upload")) }
            }
        }
    };
    page::page(&ctx, l.t("Aplikasi", "App"), "/desk/apk", body)
}

fn invalid(id: &str, en: &str) -> DeskError {
    DeskError::invalid("APK", id, en)
}

/// `POST /desk/apk`. The body is taken as a possible multipart stream, so that the role is
/// checked (and refused) before anything about the body is.
async fn upload(ctx: Ctx, mp: Result<Multipart, MultipartRejection>) -> Response {
    let lang = ctx.lang;
    match upload_inner(&ctx, mp).await {
        Ok(r) => r,
        Err(e) => e.into_response_in(lang),
    }
}

/// Looks for the APK's manifest entry name across chunk boundaries.
struct Finder {
    tail: Vec<u8>,
    found: bool,
}

const MANIFEST: &[u8] = b"AndroidManifest.xml";

impl Finder {
    fn feed(&mut self, chunk: &[u8]) {
        if self.found {
            return;
        }
        self.tail.extend_from_slice(chunk);
        if self.tail.windows(MANIFEST.len()).any(|w| w == MANIFEST) {
            self.found = true;
        }
        let keep = MANIFEST.len() - 1;
        if self.tail.len() > keep {
            self.tail.drain(..self.tail.len() - keep);
        }
    }
}

async fn upload_inner(
    ctx: &Ctx,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, DeskError> {
    ctx.require(Role::Admin)?;
    let dir = ctx.state.public_dir.clone();
    let bad_form = || invalid("formulir tidak lengkap", "the form is incomplete");
    // The CSRF token comes first in the form, so nothing is written before it is checked; a
    // body that is not this multipart form does not carry it and is refused the same way.
    let mut mp = mp.map_err(|_| DeskError::Csrf)?;
    let mut field = mp
        .next_field()
        .await
        .map_err(|_| DeskError::Csrf)?
        .ok_or(DeskError::Csrf)?;
    if field.name() != Some("csrf") {
        return Err(DeskError::Csrf);
    }
    let token = field.text().await.map_err(|_| DeskError::Csrf)?;
    ctx.check_csrf(&token)?;
    field = mp
        .next_field()
        .await
        .map_err(|_| bad_form())?
        .ok_or_else(|| invalid("pilih file APK", "choose an APK file"))?;
    if field.name() != Some("apk") {
        return Err(bad_form());
    }
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| DeskError::Internal(format!("creating {}: {e}", dir.display())))?;
    let tmp = dir.join(format!(".upload-{}.tmp", berani_core::crypto::random_id()));
    let r = receive(&mut field, &tmp).await;
    let (sha256, size) = match r {
        Ok(v) => v,
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
    };
    let file = format!("berani-{}.apk", &sha256[..16]);
    let info = ApkInfo {
        file: file.clone(),
        sha256: sha256.clone(),
        size,
        uploaded_at: crate::db::now(),
        uploaded_by: ctx.user().to_string(),
    };
    let old = current(&dir).await;
    let d2 = dir.clone();
    tokio::task::spawn_blocking(move || commit(&d2, &tmp, &info))
        .await
        .expect("apk task panicked")
        .map_err(|e| DeskError::Internal(format!("storing the APK: {e}")))?;
    if let Some(old) = old.filter(|o| o.file != file) {
        let _ = tokio::fs::remove_file(dir.join(old.file)).await;
    }
    let (actor, detail) = (
        ctx.user().to_string(),
        format!("sha256 {sha256}, {size} bytes"),
    );
    ctx.state
        .db
        .write_async(move |tx| audit::append(tx, &actor, AUDIT_ACTION, "berani.apk", &detail))
        .await?;
    Ok(Redirect::to("/desk/apk?done=uploaded").into_response())
}

/// Writes the upload to `tmp`, checking as it arrives; returns its SHA-256 and size.
async fn receive(
    field: &mut axum::extract::multipart::Field<'_>,
    tmp: &Path,
) -> Result<(String, u64), DeskError> {
    let io = |e: std::io::Error| DeskError::Internal(format!("writing the APK: {e}"));
    let mut out = tokio::fs::File::create_new(tmp).await.map_err(io)?;
    let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
    let mut size = 0u64;
    let mut head = Vec::with_capacity(4);
    let mut finder = Finder {
        tail: Vec::new(),
        found: false,
    };
    while let Some(chunk) = field.chunk().await.map_err(|_| {
        invalid(
            "unggahan terputus atau lebih dari 200 MB",
            "the upload broke off or is over 200 MB",
        )
    })? {
        size += chunk.len() as u64;
        if size > MAX_APK_BYTES {
            return Err(invalid("file lebih dari 200 MB", "the file is over 200 MB"));
        }
        if head.len() < 4 {
            let need = 4 - head.len();
            head.extend_from_slice(&chunk[..need.min(chunk.len())]);
            if head.len() == 4 && head != b"PK\x03\x04" {
                return Err(invalid(
                    "file ini bukan APK (bukan arsip zip)",
                    "this file is not an APK (not a zip archive)",
                ));
            }
        }
        finder.feed(&chunk);
        hash.update(&chunk);
        out.write_all(&chunk).await.map_err(io)?;
    }
    if size == 0 {
        return Err(invalid("file kosong", "the file is empty"));
    }
    if head.len() < 4 || !finder.found {
        return Err(invalid(
            "file ini bukan APK (tidak ada AndroidManifest.xml)",
            "this file is not an APK (no AndroidManifest.xml)",
        ));
    }
    out.sync_all().await.map_err(io)?;
    drop(out);
    Ok((berani_core::crypto::hex(hash.finish().as_ref()), size))
}

/// Renames the checked upload into place and makes it current by replacing the sidecar.
fn commit(dir: &Path, tmp: &Path, info: &ApkInfo) -> std::io::Result<()> {
    let dest: PathBuf = dir.join(&info.file);
    std::fs::rename(tmp, &dest)?;
    let side_tmp = dir.join(format!(".{SIDECAR}.tmp"));
    let json = serde_json::to_vec_pretty(info).expect("sidecar serialises");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&side_tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&side_tmp, dir.join(SIDECAR))?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_manifest_across_chunks() {
        let mut f = Finder {
            tail: vec![],
            found: false,
        };
        f.feed(b"xxxxAndroidMani");
        assert!(!f.found);
        f.feed(b"fest.xmlyyy");
        assert!(f.found);
        let mut g = Finder {
            tail: vec![],
            found: false,
        };
        for c in b"no manifest here at all".chunks(3) {
            g.feed(c);
        }
        assert!(!g.found);
    }
}
