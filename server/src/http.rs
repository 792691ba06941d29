//! The listener: plain HTTP or TLS (rustls on ring), HTTP/1.1, with timeouts and a
//! graceful stop.
//!
//! `axum::serve` cannot set hyper's header read timeout, and a slow-loris client that
//! trickles its headers (or opens a connection and says nothing) would otherwise hold a
//! connection forever. So connections are served here with hyper's own builder: headers must
//! arrive within the header read timeout, TLS handshakes within the same time, and request
//! bodies are cut off by the PATCH handler's idle timeout. Peer addresses are dropped at
//! `accept`, unread. Plain HTTP is for running behind a reverse proxy that terminates TLS.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::TlsFiles;
use crate::error::{Result, ServerError};

/// How long in-flight requests may take to finish after a stop.
const GRACE: Duration = Duration::from_secs(10);

/// Connection settings.
#[derive(Clone)]
pub struct HttpOptions {
    /// Longest time to receive a request's headers (and a TLS handshake).
    pub header_read_timeout: Duration,
    /// TLS, when the server terminates it itself.
    pub tls: Option<TlsAcceptor>,
}

/// Reads a PEM certificate chain, leaf first; an empty or unreadable file is an error.
pub fn certificate_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ServerError::Tls(format!("{}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "{}: no certificate found",
            path.display()
        )));
    }
    Ok(certs)
}

/// Loads a certificate chain and key into a rustls acceptor using the ring provider.
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let certs = certificate_chain(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", files.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Resolves once `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves `app` on `listener` until `stop` turns true, then lets open requests finish for up
/// to ten seconds.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    opts: HttpOptions,
    mut stop: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(opts.header_read_timeout)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = stopped(&mut stop) => break,
        };
        let (stream, tag) = match accepted {
            // The peer address is dropped here on purpose: it is never logged or stored. Only
            // a keyed hash of it stays with the connection, for the follow-up rate limits.
            Ok((stream, peer)) => (stream, crate::followup::ClientTag::of(peer.ip())),
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = TowerToHyperService::new(app.clone().map_request(
            move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(tag);
                req
            },
        ));
        let builder = builder.clone();
        match &opts.tls {
            None => {
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), svc));
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let watcher = graceful.watcher();
                let limit = opts.header_read_timeout;
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(limit, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => return tracing::debug!("TLS handshake failed: {e}"),
                        Err(_) => return tracing::debug!("TLS handshake timed out"),
                    };
                    let conn = builder.serve_connection(TokioIo::new(tls), svc);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(GRACE) => tracing::warn!("stopping with requests still open"),
    }
}
