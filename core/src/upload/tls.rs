//! TLS for the uploader: rustls on the ring provider, the Mozilla roots from `webpki-roots`,
//! and the profile's optional SPKI pin.
//!
//! No platform verifier (it needs JNI set-up on Android) and no OpenSSL or aws-lc: the same
//! code verifies on a phone, in the CLI and in tests. With a pin, the server's certificate
//! must first pass ordinary web PKI verification; then the SHA-256 of its end-entity
//! SubjectPublicKeyInfo must equal the pin (the HPKP form: `openssl x509 -pubkey | openssl
//! pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore};

use crate::error::{CoreError, Result};
use crate::profile::ProfileError;

/// The pin did not match: the error a refused handshake carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server's TLS key does not match the pin in the agency profile (tls_spki_sha256)")]
pub struct PinMismatch;

/// Parses a pin: base64 of a SHA-256 digest, optionally prefixed `sha256/`, in the standard
/// or URL-safe alphabet, with or without padding.
pub fn parse_pin(s: &str) -> Result<[u8; 32]> {
    let s = s.trim();
    let s = s.strip_prefix("sha256/").unwrap_or(s);
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or(CoreError::Profile(ProfileError::Malformed(
            crate::profile::BAD_PIN,
        )))
}

/// The pin of a certificate (DER) as a profile carries it: standard base64 of the SHA-256 of
/// its SubjectPublicKeyInfo. The server prints it for the operator (`profile tls-pin`).
pub fn pin_of_certificate(der: &[u8]) -> Result<String> {
    let der = CertificateDer::from(der);
    let cert = ParsedCertificate::try_from(&der)
        .map_err(|e| CoreError::Network(format!("not a usable certificate: {e}")))?;
    Ok(STANDARD.encode(crate::crypto::sha256(
        cert.subject_public_key_info().as_ref(),
    )))
}

/// The ring provider, the only one the core uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The Mozilla root programme's trust anchors.
pub fn webpki_roots() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// The client TLS configuration for an intake server, pinned when `pin` is given.
pub fn client_config(pin: Option<&str>) -> Result<ClientConfig> {
    let pin = pin.map(parse_pin).transpose()?;
    config_with_roots(webpki_roots(), pin)
}

/// [`client_config`] over other roots (tests use a throwaway CA).
pub fn config_with_roots(roots: RootCertStore, pin: Option<[u8; 32]>) -> Result<ClientConfig> {
    let tls_error = |e: rustls::Error| CoreError::Network(format!("TLS set-up: {e}"));
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let config = match pin {
        None => builder.with_root_certificates(roots).with_no_client_auth(),
        Some(pin) => {
            let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|e| CoreError::Network(format!("TLS set-up: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedVerifier { inner, pin }))
                .with_no_client_auth()
        }
    };
    Ok(config)
}

/// Web PKI verification, then the end-entity SPKI pin.
#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pin: [u8; 32],
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let cert = ParsedCertificate::try_from(end_entity)?;
        let spki = cert.subject_public_key_info();
        let hash = crate::crypto::sha256(spki.as_ref());
        // The pin is public; a plain comparison leaks nothing.
        if hash == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch)),
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A readable description of a TLS failure inside an error chain, if there is one.
pub(crate) fn describe_tls(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    // The rustls error travels inside one or more `io::Error`s, whose `source()` skips it.
    let mut e: &(dyn std::error::Error + 'static) = e;
    while let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        e = inner;
    }
    let tls = e.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(o))) => o.to_string(),
        rustls::Error::InvalidCertificate(c) => {
            format!("the server's certificate was refused: {c}")
        }
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::client::{describe, http_client};
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    struct Pki {
        ca_der: CertificateDer<'static>,
        leaf_der: CertificateDer<'static>,
        leaf_key: KeyPair,
        leaf_spki_sha256: [u8; 32],
    }

    /// A throwaway CA and a leaf certificate for 127.0.0.1 and localhost.
    fn pki() -> Pki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let leaf_spki_sha256 =
            crate::crypto::sha256(&rcgen::PublicKeyData::subject_public_key_info(&leaf_key));
        Pki {
            ca_der: ca_cert.der().clone(),
            leaf_der: leaf.der().clone(),
            leaf_key,
            leaf_spki_sha256,
        }
    }

    /// A TLS server on loopback that answers every request with 204.
    async fn serve(pki: &Pki) -> SocketAddr {
        let key = rustls::pki_types::PrivateKeyDer::try_from(pki.leaf_key.serialize_der()).unwrap();
        let cfg = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.leaf_der.clone()], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut buf = vec![0u8; 4096];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 204 No Content\r\nTus-Resumable: 1.0.0\r\n\
                              Upload-Offset: 0\r\nConnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        addr
    }

    async fn head(config: ClientConfig, addr: SocketAddr) -> std::result::Result<u16, String> {
        let http = http_client(config).unwrap();
        http.head(format!("https://127.0.0.1:{}/v1/uploads/x", addr.port()))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| describe(&e))
    }

    fn roots(pki: &Pki) -> RootCertStore {
        let mut r = RootCertStore::empty();
        r.add(pki.ca_der.clone()).unwrap();
        r
    }

    #[tokio::test]
    async fn a_matching_pin_connects_and_a_wrong_pin_is_refused_clearly() {
        let pki = pki();
        let addr = serve(&pki).await;

        // The CA is trusted: no pin and the right pin both connect.
        let plain = config_with_roots(roots(&pki), None).unwrap();
        assert_eq!(head(plain, addr).await, Ok(204));
        let pinned = config_with_roots(roots(&pki), Some(pki.leaf_spki_sha256)).unwrap();
        assert_eq!(head(pinned, addr).await, Ok(204));

        // The same pin, as the profile carries it.
        let b64 = STANDARD.encode(pki.leaf_spki_sha256);
        assert_eq!(parse_pin(&b64).unwrap(), pki.leaf_spki_sha256);

        // A wrong pin: the handshake fails and says why.
        let mut wrong = pki.leaf_spki_sha256;
        wrong[0] ^= 1;
        let cfg = config_with_roots(roots(&pki), Some(wrong)).unwrap();
        let err = head(cfg, addr).await.unwrap_err();
        assert!(
            err.contains("does not match the pin in the agency profile"),
            "{err}"
        );
        assert!(!err.contains("127.0.0.1"), "no URL in errors: {err}");

        // A pin of the CA's key is not the end entity's: refused too.
        let ca_spki = {
            let ca = ParsedCertificate::try_from(&pki.ca_der).unwrap();
            crate::crypto::sha256(ca.subject_public_key_info().as_ref())
        };
        let cfg = config_with_roots(roots(&pki), Some(ca_spki)).unwrap();
        assert!(head(cfg, addr).await.is_err());
    }

    #[test]
    fn the_printed_pin_is_the_one_the_verifier_checks() {
        let pki = pki();
        let pin = pin_of_certificate(&pki.leaf_der).unwrap();
        assert_eq!(parse_pin(&pin).unwrap(), pki.leaf_spki_sha256);
        assert!(pin_of_certificate(b"not a certificate").is_err());
    }

    #[tokio::test]
    async fn a_certificate_outside_web_pki_is_refused_even_with_a_matching_pin() {
        let pki = pki();
        let addr = serve(&pki).await;
        for pin in [None, Some(STANDARD.encode(pki.leaf_spki_sha256))] {
            let cfg = client_config(pin.as_deref()).unwrap();
            let err = head(cfg, addr).await.unwrap_err();
            assert!(
                err.contains("certificate was refused") && err.contains("UnknownIssuer"),
                "{err}"
            );
        }
    }

    #[test]
    fn pins_parse_in_every_base64_form_and_bad_ones_are_refused() {
        let d = [7u8; 32];
        for s in [
            STANDARD.encode(d),
            STANDARD_NO_PAD.encode(d),
            URL_SAFE_NO_PAD.encode(d),
            format!("sha256/{}", STANDARD.encode(d)),
        ] {
            assert_eq!(parse_pin(&s).unwrap(), d, "{s}");
        }
        for bad in ["", "abc", &STANDARD.encode([1u8; 31]), "!!!!"] {
            assert!(
                matches!(
                    parse_pin(bad),
                    Err(CoreError::Profile(ProfileError::Malformed(_)))
                ),
                "{bad}"
            );
        }
        assert!(client_config(Some("nope")).is_err());
        assert!(client_config(None).is_ok());
    }
}
