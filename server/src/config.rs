//! Settings of a running server, and the parsers for the values people type.
//!
//! The command line ([`crate::cli`]) is one way to fill a [`ServeConfig`]; tests and the
//! end-to-end harness fill it directly and start the server in-process with
//! [`crate::app::start`]. Keeping the settings in one plain struct means every limit has
//! one name and one default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use berani_core::profile::Hotline;

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The data folder; created and set up at first start.
    pub data: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The intake URL written into the profile; `None` means `http(s)://<bound address>`.
    pub public_url: Option<String>,
    /// Certificate chain and key (PEM) for HTTPS; `None` serves plain HTTP (behind a proxy).
    pub tls: Option<TlsFiles>,
    /// The TLS key pin the profile carries (normalised by [`parse_tls_pin`]); `None` for no
    /// pin.
    pub tls_pin: Option<String>,
    /// Incomplete uploads without progress for this long are removed.
    pub upload_ttl: Duration,
    /// Values used only when the data folder is created.
    pub first_start: FirstStart,
    /// Timeouts and concurrency limits.
    pub limits: LimitConfig,
    /// E-mail notifications to the on-duty team.
    pub notify: NotifyConfig,
}

/// PEM files for HTTPS.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// What the first signed profile says about the agency.
#[derive(Debug, Clone)]
pub struct FirstStart {
    /// The agency's name.
    pub agency_name: String,
    /// The regency code, e.g. `33.16`; must be in the core's gazetteer.
    pub regency_code: String,
    /// Hotlines shown in the app.
    pub hotlines: Vec<Hotline>,
    /// Largest attachment, in bytes of plaintext.
    pub max_attachment_bytes: u64,
}

impl Default for FirstStart {
    fn default() -> Self {
        Self {
            agency_name: "Dinsos P3A Kabupaten Blora".into(),
            regency_code: "33.16".into(),
            hotlines: vec![Hotline {
                name: "SAPA".into(),
                number: "129".into(),
                whatsapp: Some("08111129129".into()),
            }],
            max_attachment_bytes: 100 * 1_000_000,
        }
    }
}

/// Timeouts and concurrency limits of the intake.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// Longest pause between two pieces of a request body before the connection is closed.
    pub body_idle: Duration,
    /// Longest time a client may take to send a request's headers (slow-loris).
    pub header_read: Duration,
    /// PATCHes in flight for one report.
    pub patches_per_report: usize,
    /// PATCHes in flight for the whole server.
    pub patches_total: usize,
    /// How often the expiry sweeper runs; `None` derives it from the upload TTL.
    pub sweep_interval: Option<Duration>,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            body_idle: Duration::from_secs(30),
            header_read: Duration::from_secs(30),
            patches_per_report: 4,
            patches_total: 256,
            sweep_interval: None,
        }
    }
}

/// E-mail notifications (see [`crate::desk::notify`]).
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The SMTP server and sender; `None` turns notifications off.
    pub smtp: Option<SmtpConfig>,
    /// How often the notifier looks for new and nearly overdue cases.
    pub interval: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp: None,
            interval: Duration::from_secs(30),
        }
    }
}

/// Where notifications are sent from.
#[derive(Clone)]
pub struct SmtpConfig {
    /// lettre's connection URL: `smtp://host:25`, `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`. It may hold a password, so it is never printed.
    pub url: String,
    /// The `From:` address.
    pub from: String,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &"(hidden)")
            .field("from", &self.from)
            .finish()
    }
}

impl ServeConfig {
    /// Defaults for a data folder: 127.0.0.1:8080, plain HTTP, a 7-day upload TTL.
    pub fn new(data: impl Into<PathBuf>) -> Self {
        Self {
            data: data.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            tls: None,
            tls_pin: None,
            upload_ttl: Duration::from_secs(7 * 24 * 3600),
            first_start: FirstStart::default(),
            limits: LimitConfig::default(),
            notify: NotifyConfig::default(),
        }
    }

    /// How often the sweeper looks for expired uploads.
    pub fn sweep_interval(&self) -> Duration {
        self.limits.sweep_interval.unwrap_or_else(|| {
            (self.upload_ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(600))
        })
    }
}

/// Parses `30s`, `10m`, `12h`, `7d` (a whole number and one unit).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let bad = || format!("invalid duration {s:?}: use a number and s, m, h or d, e.g. 7d");
    let unit = s.chars().last().ok_or_else(bad)?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let n: u64 = s[..s.len() - 1].parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    n.checked_mul(secs).map(Duration::from_secs).ok_or_else(bad)
}

/// Parses a TLS key pin (base64 of the SHA-256 of a SubjectPublicKeyInfo, optionally
/// `sha256/…`) into the standard base64 form the profile carries.
pub fn parse_tls_pin(s: &str) -> Result<String, String> {
    use base64::Engine;
    berani_core::upload::tls::parse_pin(s)
        .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
        .map_err(|_| {
            format!(
                "invalid TLS pin {s:?}: use the base64 SHA-256 of the key, as \
                 `berani-server profile tls-pin --cert PEM` prints it"
            )
        })
}

/// `profile sign --tls-pin`: a new pin, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinChange {
    /// Publish this pin (normalised).
    Set(String),
    /// Publish no pin.
    Remove,
}

/// Parses a pin or `none`.
pub fn parse_pin_change(s: &str) -> Result<PinChange, String> {
    match s.trim() {
        "none" => Ok(PinChange::Remove),
        pin => parse_tls_pin(pin).map(PinChange::Set),
    }
}

/// Parses `NAME=NUMBER` or `NAME=NUMBER,WHATSAPP`.
pub fn parse_hotline(s: &str) -> Result<Hotline, String> {
    let bad = || format!("invalid hotline {s:?}: use NAME=NUMBER or NAME=NUMBER,WHATSAPP");
    let (name, numbers) = s.split_once('=').ok_or_else(bad)?;
    let (number, whatsapp) = match numbers.split_once(',') {
        Some((n, w)) => (n.trim(), Some(w.trim())),
        None => (numbers.trim(), None),
    };
    let phone = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit() || b == b'+');
    if name.trim().is_empty() || !phone(number) || whatsapp.is_some_and(|w| !phone(w)) {
        return Err(bad());
    }
    Ok(Hotline {
        name: name.trim().into(),
        number: number.into(),
        whatsapp: whatsapp.map(Into::into),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_pins() {
        let pin = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert_eq!(parse_tls_pin(pin).unwrap(), pin);
        // Other spellings of the same digest are normalised.
        let unpadded = format!("sha256/{}", pin.trim_end_matches('='));
        assert_eq!(parse_tls_pin(&unpadded).unwrap(), pin);
        for bad in ["", "none", "abc", "AAECAwQF", "sha256/!!"] {
            let e = parse_tls_pin(bad).unwrap_err();
            assert!(e.contains("invalid TLS pin"), "{e}");
        }
        assert_eq!(parse_pin_change("none"), Ok(PinChange::Remove));
        assert_eq!(parse_pin_change(pin), Ok(PinChange::Set(pin.into())));
        assert!(parse_pin_change("nope").is_err());
    }

    #[test]
    fn durations_and_hotlines() {
        assert_eq!(parse_duration("7d").unwrap(), Duration::from_secs(604_800));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        for bad in ["", "d", "7", "7w", "-1d", "0s", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        let h = parse_hotline("Dinsos Blora=0296123456,08123").unwrap();
        assert_eq!(h.name, "Dinsos Blora");
        assert_eq!(h.number, "0296123456");
        assert_eq!(h.whatsapp.as_deref(), Some("08123"));
        assert_eq!(parse_hotline("SAPA=129").unwrap().whatsapp, None);
        for bad in ["SAPA", "=129", "SAPA=", "SAPA=12a", "SAPA=129,"] {
            assert!(parse_hotline(bad).is_err(), "{bad}");
        }
    }
}
