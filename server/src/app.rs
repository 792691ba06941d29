//! The running intake: shared state, the routes, and [`start`], which the binary and the
//! tests both use.
//!
//! `start` binds first (so that port 0 works and the public URL can name the real port),
//! sets a new data folder up, re-signs a stale profile, and then serves until
//! [`Running::shutdown`]. Requests that arrive while stopping get 503 with `Retry-After`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use berani_core::jws::SigningKey;
use berani_core::protocol::{PROFILE_PATH, TUS_VERSION};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use zeroize::Zeroizing;

use crate::config::ServeConfig;
use crate::db::Db;
use crate::desk::notify::{self, Mailer};
use crate::error::{Result, ServerError};
use crate::http::{self, HttpOptions};
use crate::limits::{self, Limits};
use crate::profile::{self, Freshness, Wanted};
use crate::setup::{self, Folder};
use crate::tus::reply::{Reject, TUS_RESUMABLE};
use crate::tus::store::BlobStore;
use crate::{keys, log, receipt, tus};

/// How often a running server checks whether its profile needs re-signing.
const PROFILE_CHECK_EVERY: Duration = Duration::from_secs(3600);

/// What every request handler shares.
pub struct AppState {
    /// The database.
    pub db: Arc<Db>,
    /// Upload blobs.
    pub blobs: BlobStore,
    /// Appends in flight.
    pub limits: Arc<Limits>,
    /// Largest `Upload-Length` accepted.
    pub max_part: u64,
    /// Incomplete uploads expire after this long without progress.
    pub ttl: Duration,
    /// Longest pause inside a request body.
    pub body_idle: Duration,
    /// Signs receipts; its public key is the profile's `receipt_key`.
    pub receipt_key: SigningKey,
    /// Set once the server is stopping.
    pub stopping: AtomicBool,
    /// The case desk's sessions and throttles.
    pub desk: crate::desk::DeskState,
    /// Anonymous follow-up: rate limits and verifier hashing.
    pub followup: crate::followup::FollowupState,
    /// Volunteer counts: rate limits.
    pub volunteers: crate::volunteers::VolunteerState,
    /// `DATA/public/`: the APK offered on the public page.
    pub public_dir: std::path::PathBuf,
}

/// Every route, with the access log and the stopping guard.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(PROFILE_PATH, get(profile::get))
        .route("/v1/reports/{report}/receipt", get(receipt::get))
        .merge(tus::routes())
        .merge(crate::followup::routes())
        .merge(crate::volunteers::routes())
        .merge(crate::desk::routes())
        .merge(crate::public::routes())
        .fallback(|| async { Reject::not_found() })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_when_stopping,
        ))
        .layer(middleware::from_fn(log::access))
        .layer(middleware::from_fn(crate::headers::secure))
        .with_state(state)
}

async fn refuse_when_stopping(
    State(s): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if s.stopping.load(Ordering::Relaxed) {
        let mut resp = Reject::new(StatusCode::SERVICE_UNAVAILABLE, "the server is restarting")
            .with(header::RETRY_AFTER, HeaderValue::from_static("10"))
            .into_response();
        let h = resp.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        // Outside the tus router's own layer, so stamped here for tus clients.
        h.insert(TUS_RESUMABLE, HeaderValue::from_static(TUS_VERSION));
        return resp;
    }
    next.run(req).await
}

/// A started server.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The intake URL in its profile.
    pub public_url: String,
    /// The admin password, when this start set the data folder up; shown once.
    pub admin_password: Option<Zeroizing<String>>,
    state: Arc<AppState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// The shared state (for tests and tools in the same process).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Stops accepting, lets open requests finish briefly, and stops the background tasks.
    pub async fn shutdown(self) {
        self.state.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn public_url(cfg: &ServeConfig, addr: SocketAddr) -> Result<String> {
    let url = match &cfg.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let scheme = if cfg.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{addr}")
        }
    };
    if !(url.starts_with("http://") || url.starts_with("https://"))
        || url.contains(char::is_whitespace)
    {
        return Err(ServerError::Config(format!(
            "--public-url must be an http(s) URL, not {url:?}"
        )));
    }
    Ok(url)
}

/// The `--tls-pin` to publish, checked: only for an https intake URL, and, when this server
/// terminates TLS itself, only the pin of its own certificate's key (any other would make
/// every phone refuse to send).
fn tls_pin(cfg: &ServeConfig, url: &str) -> Result<Option<String>> {
    let Some(pin) = &cfg.tls_pin else {
        return Ok(None);
    };
    if !url.starts_with("https://") {
        return Err(ServerError::Config(format!(
            "--tls-pin needs an https intake URL, not {url:?}: set --public-url https://…"
        )));
    }
    if let Some(files) = &cfg.tls {
        let chain = http::certificate_chain(&files.cert)?;
        let own = berani_core::upload::tls::pin_of_certificate(&chain[0])
            .map_err(|e| ServerError::Tls(format!("{}: {e}", files.cert.display())))?;
        if &own != pin {
            return Err(ServerError::Config(format!(
                "--tls-pin {pin} is not the pin of {} ({own}): phones would refuse every \
                 upload; see `berani-server profile tls-pin --cert`",
                files.cert.display()
            )));
        }
    }
    Ok(Some(pin.clone()))
}

fn log_freshness(f: &Freshness) {
    match f {
        Freshness::Current => {}
        Freshness::Resigned { version, because } => {
            tracing::info!("profile re-signed as version {version} because {because}");
        }
        Freshness::NeedsSigning { because } => tracing::warn!(
            "the profile should be re-signed because {because}, but its signing key is not in \
             the data folder: run `berani-server profile sign --key KEY.pem`"
        ),
    }
}

/// Sets up (first start) or opens the data folder and starts serving.
pub async fn start(cfg: ServeConfig) -> Result<Running> {
    let tls = cfg.tls.as_ref().map(http::tls_acceptor).transpose()?;
    let mailer = cfg.notify.smtp.as_ref().map(Mailer::new).transpose()?;
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| ServerError::io(format!("cannot listen on {}", cfg.listen), e))?;
    let addr = listener.local_addr()?;
    let url = public_url(&cfg, addr)?;
    let wanted = Wanted {
        intake_url: url.clone(),
        tls_pin: tls_pin(&cfg, &url)?,
    };

    let folder = Folder::new(&cfg.data);
    let admin_password = if folder.is_set_up() {
        None
    } else {
        let (f, first, w) = (folder.clone(), cfg.first_start.clone(), wanted.clone());
        let created = tokio::task::spawn_blocking(move || setup::first_start(&f, &first, &w))
            .await
            .expect("setup task panicked")?;
        tracing::info!("data folder set up at {}", cfg.data.display());
        Some(created.admin_password)
    };
    let db = Arc::new(folder.open()?);
    let receipt_key = keys::read_signing_key(&folder.receipt_key())?;
    let freshness =
        profile::ensure_fresh(&db, &folder.profile_key(), &wanted, receipt_key.public())?;
    log_freshness(&freshness);
    let current = db.read(profile::load)?.profile()?;
    std::fs::create_dir_all(folder.uploads())
        .map_err(|e| ServerError::io(folder.uploads().display(), e))?;

    let state = Arc::new(AppState {
        db: db.clone(),
        blobs: BlobStore::new(folder.uploads()),
        limits: Limits::new(cfg.limits.patches_per_report, cfg.limits.patches_total),
        max_part: limits::max_part_size(current.max_attachment_bytes),
        ttl: cfg.upload_ttl,
        body_idle: cfg.limits.body_idle,
        receipt_key,
        stopping: AtomicBool::new(false),
        desk: crate::desk::DeskState::new(&url),
        followup: crate::followup::FollowupState::new()?,
        volunteers: Default::default(),
        public_dir: folder.root().join("public"),
    });
    let (stop, stop_rx) = watch::channel(false);
    let opts = HttpOptions {
        header_read_timeout: cfg.limits.header_read,
        tls,
    };
    let mut tasks = vec![tokio::spawn(http::serve(
        listener,
        router(state.clone()),
        opts,
        stop_rx.clone(),
    ))];
    tasks.push(tokio::spawn(tus::expiry::run(
        state.clone(),
        cfg.sweep_interval(),
        stop_rx.clone(),
    )));
    tasks.push(tokio::spawn(crate::desk::sweep_sessions(
        state.clone(),
        stop_rx.clone(),
    )));
    match mailer {
        Some(m) => {
            tracing::info!("e-mail notifications are on");
            tasks.push(tokio::spawn(notify::run(
                state.clone(),
                m,
                cfg.notify.interval,
                stop_rx.clone(),
            )));
        }
        None => tracing::info!("e-mail notifications are off: no --smtp-url"),
    }
    tasks.push(tokio::spawn(renew_profile(
        db,
        folder,
        wanted,
        state.receipt_key.public(),
        stop_rx,
    )));
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    tracing::info!("listening on {scheme}://{addr}, intake URL {url}");
    Ok(Running {
        addr,
        public_url: url,
        admin_password,
        state,
        stop,
        tasks,
    })
}

/// Keeps a long-running server's profile from expiring.
async fn renew_profile(
    db: Arc<Db>,
    folder: Folder,
    wanted: Wanted,
    receipt_key: berani_core::jws::PublicKey,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROFILE_CHECK_EVERY) => {}
            () = crate::http::stopped(&mut stop) => return,
        }
        let (db, key, wanted) = (db.clone(), folder.profile_key(), wanted.clone());
        let r = tokio::task::spawn_blocking(move || {
            profile::ensure_fresh(&db, &key, &wanted, receipt_key)
        })
        .await
        .expect("profile task panicked");
        match r {
            Ok(f) => log_freshness(&f),
            Err(e) => tracing::warn!("profile check failed: {e}"),
        }
    }
}
