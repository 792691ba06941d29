//! The public pages' stylesheet and scripts, embedded in the binary and served under names
//! that carry the first 12 hex characters of their SHA-256 (`/static/lapor-1a2b….js`), so a
//! phone caches each for a year and fetches it again only when it changed.
//!
//! The scripts are the committed, minified bundles in `server/web/dist/` built by
//! `scripts/build-web` (CI checks that rebuilding gives the same bytes), so building the
//! server needs only Rust.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    /// The logical name, e.g. `lapor.js`.
    logical: &'static str,
    /// The served name, e.g. `lapor-1a2b3c4d5e6f.js`.
    served: String,
    mime: &'static str,
    bytes: &'static [u8],
    /// The same bytes gzipped (made once at start), for browsers that accept gzip: on a 2G
    /// link the form's script is a third of its size this way.
    gzipped: Vec<u8>,
}

/// Gzips `bytes` at the best compression.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "public.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/public.css"),
    ),
    (
        "exit.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/exit.js"),
    ),
    (
        "lapor.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/lapor.js"),
    ),
    (
        "cek.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/dist/cek.js"),
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(logical, mime, bytes)| {
            let hash = berani_core::crypto::hex(&berani_core::crypto::sha256(bytes));
            let (stem, ext) = logical.rsplit_once('.').expect("asset names have a dot");
            Asset {
                logical,
                served: format!("{stem}-{}.{ext}", &hash[..12]),
                mime,
                bytes,
                gzipped: gzip(bytes),
            }
        })
        .collect()
});

/// The URL path of an asset by its logical name (`lapor.js` → `/static/lapor-….js`).
pub fn asset_path(logical: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.logical == logical)
        .map(|a| format!("/static/{}", a.served))
        .expect("a known asset")
}

/// True when the request accepts a gzipped answer.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| {
            let mut it = e.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|q| matches!(q.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// `GET /static/{name}`.
pub async fn get(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.served == name) {
        Some(a) => {
            let common = [
                (header::CONTENT_TYPE, a.mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::VARY, "Accept-Encoding"),
            ];
            if accepts_gzip(&headers) {
                (
                    common,
                    [(header::CONTENT_ENCODING, "gzip")],
                    a.gzipped.clone(),
                )
                    .into_response()
            } else {
                (common, a.bytes).into_response()
            }
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "tidak ditemukan / not found",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_names_carry_the_hash() {
        let p = asset_path("public.css");
        assert!(
            p.starts_with("/static/public-") && p.ends_with(".css"),
            "{p}"
        );
        assert_eq!(p.len(), "/static/public-".len() + 12 + ".css".len());
        for f in FILES {
            assert!(!f.2.is_empty(), "{} is empty", f.0);
        }
    }

    #[test]
    fn gzip_only_when_accepted() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, v.parse().unwrap());
            m
        };
        assert!(accepts_gzip(&h("gzip, deflate, br")));
        assert!(accepts_gzip(&h("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&h("gzip;q=0")));
        assert!(!accepts_gzip(&h("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
        let a = &ASSETS[0];
        let mut d = flate2::read::GzDecoder::new(&a.gzipped[..]);
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut d, &mut out).unwrap();
        assert_eq!(out, a.bytes);
    }
}
