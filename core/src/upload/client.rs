//! The requests the uploader makes, one function each, over one HTTP client.
//!
//! Answers come back classified ([`Answer`]): the expected success, a [`Verdict`] for any
//! other status, or [`Answer::Lost`] when no answer came (connection refused or dropped,
//! timeout, TLS refused). Nothing here logs, and no error text carries a URL, a token or
//! report content.

use std::time::Duration;

use reqwest;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Client, Response, Url};
use time::OffsetDateTime;

use super::tls;
use super::tus::{self, Op, Verdict};
use crate::error::{CoreError, Result};
use crate::protocol::{TUS_VERSION, receipt_path};

/// How long to wait for a connection (TCP and TLS handshake).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long to wait for a request without a body (`HEAD`, a `POST` without data, a receipt).
pub const SMALL_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest receipt read.
const MAX_RECEIPT_BYTES: usize = 64 * 1024;
/// Largest signed profile read.
const MAX_PROFILE_BYTES: usize = 256 * 1024;
const OFFSET_STREAM: &str = "application/offset+octet-stream";

/// What came back from a request.
#[derive(Debug)]
pub enum Answer<T> {
    /// The expected success.
    Ok(T),
    /// Another status, classified.
    Verdict(Verdict),
    /// No answer: connection refused or dropped, timeout, TLS refused.
    Lost {
        /// What happened (no URL, no token).
        why: String,
        /// True when the request timed out: the link stalled (as opposed to a connection
        /// that could not be made or dropped, where what was measured of the link holds).
        stalled: bool,
    },
}

/// A new upload.
#[derive(Debug, Clone)]
pub struct Created {
    /// The upload's URL, resolved against the request URL, on the intake server.
    pub url: Url,
    /// The offset the server confirmed, when a first chunk went with the creation.
    pub offset: Option<u64>,
}

/// The server's view of an upload.
#[derive(Debug, Clone, Copy)]
pub struct Offset {
    /// Bytes the server holds.
    pub offset: u64,
    /// The upload's declared length, when the server says.
    pub length: Option<u64>,
}

/// A first chunk sent with the creation request (creation-with-upload).
pub struct FirstChunk {
    /// The bytes.
    pub data: Vec<u8>,
    /// Its `Upload-Checksum`.
    pub checksum: String,
}

/// The tus endpoints of one intake server.
#[derive(Debug, Clone)]
pub struct Tus {
    http: Client,
    intake: Url,
    uploads: Url,
}

/// A readable, URL-free description of a failed request.
pub fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_request() {
        "the connection dropped"
    } else {
        "the request failed"
    };
    let mut detail = None;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(t) = tls::describe_tls(s) {
            return format!("{what}: {t}");
        }
        detail = Some(s.to_string());
        src = s.source();
    }
    match detail {
        Some(d) if !d.is_empty() => format!("{what}: {d}"),
        _ => what.to_string(),
    }
}

fn lost<T>(e: reqwest::Error) -> Answer<T> {
    Answer::Lost {
        why: describe(&e),
        stalled: e.is_timeout(),
    }
}

fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn is_tus(h: &HeaderMap) -> bool {
    h.get("Tus-Resumable")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == TUS_VERSION)
}

fn verdict<T>(op: Op, r: &Response) -> Answer<T> {
    let h = r.headers();
    let after = h
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| tus::parse_retry_after(v, OffsetDateTime::now_utc()));
    Answer::Verdict(tus::classify(op, r.status().as_u16(), is_tus(h), after))
}

fn malformed<T>(why: &str) -> Answer<T> {
    Answer::Verdict(Verdict::Retry {
        after: None,
        why: why.to_string(),
    })
}

/// Reads a body of at most `max` bytes.
pub(crate) async fn read_limited(
    mut r: Response,
    max: usize,
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(|e| describe(&e))? {
        if out.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// An HTTP client over `config`: no redirects (tus does not redirect; a captive portal
/// does), no proxies from the environment, HTTP/1.1, bounded connection time.
pub fn http_client(config: rustls::ClientConfig) -> Result<Client> {
    Client::builder()
        .use_preconfigured_tls(config)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(60))
        .tcp_keepalive(Duration::from_secs(30))
        .build()
        .map_err(|e| CoreError::Network(format!("HTTP client set-up: {}", describe(&e))))
}

/// Fetches a signed profile from `url` (`/v1/profile` is appended when the URL has no
/// path), over web PKI TLS. The caller verifies it; nothing fetched is trusted here.
pub async fn fetch_profile(url: &str) -> Result<Vec<u8>> {
    let bad = || CoreError::Network("not an http(s) profile URL".into());
    let mut u = Url::parse(url).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(bad());
    }
    if u.path().is_empty() || u.path() == "/" {
        u.set_path(crate::protocol::PROFILE_PATH);
    }
    let http = http_client(tls::client_config(None)?)?;
    let r = http
        .get(u)
        .timeout(SMALL_REQUEST_TIMEOUT)
        .send()
        .await
        .map_err(|e| CoreError::Network(format!("profile: {}", describe(&e))))?;
    if r.status().as_u16() != 200 {
        return Err(CoreError::Network(format!(
            "profile: the server answered HTTP {}",
            r.status().as_u16()
        )));
    }
    read_limited(r, MAX_PROFILE_BYTES)
        .await
        .map_err(|e| CoreError::Network(format!("profile: {e}")))
}

impl Tus {
    /// The endpoints under `intake` (see [`tus::parse_intake`]), over `http`.
    pub fn new(http: Client, intake: Url) -> Self {
        let uploads = tus::endpoint(&intake, crate::protocol::UPLOADS_PATH);
        Self {
            http,
            intake,
            uploads,
        }
    }

    /// The intake URL.
    pub fn intake(&self) -> &Url {
        &self.intake
    }

    /// `POST /v1/uploads`: creates the upload of a part, with its first chunk when given.
    pub async fn create(
        &self,
        metadata: &str,
        length: u64,
        first: Option<FirstChunk>,
        timeout: Duration,
    ) -> Answer<Created> {
        let mut req = self
            .http
            .post(self.uploads.clone())
            .timeout(timeout)
            .header("Tus-Resumable", TUS_VERSION)
            .header("Upload-Length", length)
            .header("Upload-Metadata", metadata);
        let with_body = first.is_some();
        if let Some(f) = first {
            req = req
                .header(CONTENT_TYPE, OFFSET_STREAM)
                .header("Upload-Checksum", f.checksum)
                .body(f.data);
        }
        let r = match req.send().await {
            Ok(r) => r,
            Err(e) => return lost(e),
        };
        if r.status().as_u16() != 201 || !is_tus(r.headers()) {
            return verdict(Op::Create, &r);
        }
        let Some(url) = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| tus::resolve_location(&self.uploads, l))
        else {
            return malformed("the creation answer has no usable Location");
        };
        let offset = header_u64(r.headers(), "Upload-Offset")
            .or(if with_body { None } else { Some(0) })
            .map(|o| o.min(length));
        Answer::Ok(Created { url, offset })
    }

    /// `HEAD` of an upload: the server's offset.
    pub async fn head(&self, url: &Url) -> Answer<Offset> {
        let r = match self
            .http
            .head(url.clone())
            .timeout(SMALL_REQUEST_TIMEOUT)
            .header("Tus-Resumable", TUS_VERSION)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return lost(e),
        };
        if !matches!(r.status().as_u16(), 200 | 204) || !is_tus(r.headers()) {
            return verdict(Op::Head, &r);
        }
        match header_u64(r.headers(), "Upload-Offset") {
            Some(offset) => Answer::Ok(Offset {
                offset,
                length: header_u64(r.headers(), "Upload-Length"),
            }),
            None => malformed("the offset answer has no Upload-Offset"),
        }
    }

    /// `PATCH` of an upload: appends `chunk` at `offset`, with an `Upload-Checksum` when
    /// `checksum` is given; the server's new offset.
    pub async fn patch(
        &self,
        url: &Url,
        offset: u64,
        chunk: Vec<u8>,
        checksum: Option<String>,
        timeout: Duration,
    ) -> Answer<u64> {
        let mut req = self
            .http
            .patch(url.clone())
            .timeout(timeout)
            .header("Tus-Resumable", TUS_VERSION)
            .header(CONTENT_TYPE, OFFSET_STREAM)
            .header("Upload-Offset", offset);
        if let Some(checksum) = checksum {
            req = req.header("Upload-Checksum", checksum);
        }
        let r = match req.body(chunk).send().await {
            Ok(r) => r,
            Err(e) => return lost(e),
        };
        if !matches!(r.status().as_u16(), 200 | 204) || !is_tus(r.headers()) {
            return verdict(Op::Patch, &r);
        }
        match header_u64(r.headers(), "Upload-Offset") {
            Some(o) => Answer::Ok(o),
            None => malformed("the append answer has no Upload-Offset"),
        }
    }

    /// `GET /v1/reports/{id}/receipt`: the signed receipt, or `None` while the server has
    /// none to give (404: not complete yet, or unknown).
    pub async fn receipt(&self, report_id: &str, token: &str) -> Answer<Option<Vec<u8>>> {
        let url = tus::endpoint(&self.intake, &receipt_path(report_id));
        let r = match self
            .http
            .get(url)
            .timeout(SMALL_REQUEST_TIMEOUT)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return lost(e),
        };
        match r.status().as_u16() {
            200 => match read_limited(r, MAX_RECEIPT_BYTES).await {
                Ok(body) => Answer::Ok(Some(body)),
                Err(why) => Answer::Lost {
                    why: format!("receipt: {why}"),
                    stalled: true,
                },
            },
            404 => Answer::Ok(None),
            408 | 423 | 429 | 500..=599 => verdict(Op::Head, &r),
            s => malformed(&format!("receipt: unexpected answer (HTTP {s})")),
        }
    }
}
