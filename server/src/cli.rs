//! The `berani-server` command line.
//!
//! The jobs: `serve` (the intake), `key export` (break-glass recovery of the intake identity
//! for the stock `age` tool), `profile pubkey`, `profile sign`, `profile tls-pin` and `user add` (a desk
//! account, for operators and scripted set-ups). There is deliberately no
//! flag to log client addresses: confidentiality has no off switch.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use berani_core::profile::Hotline;
use clap::{Args, Parser, Subcommand};

use crate::config::{
    self, FirstStart, LimitConfig, NotifyConfig, PinChange, ServeConfig, SmtpConfig, TlsFiles,
};

/// Berani intake server.
#[derive(Debug, Parser)]
#[command(name = "berani-server", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the intake server (sets the data folder up on first start).
    Serve(Box<ServeArgs>),
    /// Set up a new data folder filled with synthetic cases (CONTOH SINTETIS) for a demo
    /// desk, sent by the real reporter core and worked through the desk's own forms.
    Demo {
        /// The data folder to create; it must not exist yet (or be empty).
        #[arg(long)]
        data: PathBuf,
    },
    /// The intake identity.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The signed agency profile.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Case desk accounts.
    #[command(subcommand)]
    User(UserCommand),
}

/// `user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a desk user with a generated one-time password, printed once as
    /// `password: …`; roles that read content get the intake identity wrapped for them.
    /// Audited as `admin`.
    ///
    /// The admin password is read from BERANI_ADMIN_PASSWORD, else one line on stdin.
    Add {
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
        /// The user name (2–32 lowercase letters, digits, `.`, `-`, `_`).
        #[arg(long)]
        name: String,
        /// admin, coordinator, caseworker or viewer.
        #[arg(long)]
        role: String,
        /// The name shown to colleagues [default: the user name].
        #[arg(long, default_value = "")]
        display_name: String,
        /// The user's office.
        #[arg(long, default_value = "")]
        office: String,
        /// The address for duty notifications.
        #[arg(long, default_value = "")]
        email: String,
    },
}

/// `key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print the intake identity (AGE-SECRET-KEY-1…) for recovery with `age -d -i`; audited.
    ///
    /// The admin password is read from BERANI_ADMIN_PASSWORD, else one line on stdin.
    Export {
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
}

/// `profile …`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Print the profile-signing public key (ed25519:…), to pin in the app.
    Pubkey {
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
    },
    /// Re-sign the profile (version + 1), with the folder's key or an offline one.
    Sign {
        /// The data folder.
        #[arg(long)]
        data: PathBuf,
        /// An Ed25519 PKCS#8 PEM key kept outside the folder; becomes the profile key.
        #[arg(long, value_name = "PEM")]
        key: Option<PathBuf>,
        /// The intake URL to write (as `serve --public-url`); unchanged without it.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
        /// The TLS key pin to write (as `serve --tls-pin`), or `none` to remove it;
        /// unchanged without it.
        #[arg(long, value_name = "SHA256|none", value_parser = config::parse_pin_change)]
        tls_pin: Option<PinChange>,
    },
    /// Print the TLS key pin of a certificate (the first in a PEM file), for `--tls-pin`.
    TlsPin {
        /// The certificate (PEM), e.g. fullchain.pem.
        #[arg(long, value_name = "PEM")]
        cert: PathBuf,
    },
}

/// `serve …`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The data folder; created and set up when new.
    #[arg(long)]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The intake URL written into the profile [default: http(s)://LISTEN-ADDRESS].
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// TLS certificate chain (PEM); plain HTTP without it, for running behind a proxy.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Pin the intake's TLS key in the profile: phones then refuse any other key, even one
    /// a public authority certified. The value is the base64 SHA-256 of the key, as
    /// `profile tls-pin --cert` prints it. Keep that key across certificate renewals
    /// (e.g. certbot --reuse-key); a new key needs a new pin, published before the switch.
    #[arg(long, value_name = "SHA256", value_parser = config::parse_tls_pin)]
    pub tls_pin: Option<String>,
    /// Remove incomplete uploads after this long without progress (s, m, h, d).
    #[arg(long, default_value = "7d", value_parser = config::parse_duration)]
    pub upload_ttl: Duration,
    /// First start only: the agency's name.
    #[arg(long)]
    pub agency_name: Option<String>,
    /// First start only: the regency code.
    #[arg(long)]
    pub regency: Option<String>,
    /// First start only: a hotline, NAME=NUMBER or NAME=NUMBER,WHATSAPP (repeatable).
    #[arg(long, value_parser = config::parse_hotline)]
    pub hotline: Vec<Hotline>,
    /// First start only: the largest attachment, in MB.
    #[arg(long, value_name = "MB")]
    pub max_attachment_mb: Option<u64>,
    /// Longest pause inside a request body before the connection is closed.
    #[arg(long, hide = true, default_value = "30s", value_parser = config::parse_duration)]
    pub body_idle_timeout: Duration,
    /// Longest time to send a request's headers.
    #[arg(long, hide = true, default_value = "30s", value_parser = config::parse_duration)]
    pub header_read_timeout: Duration,
    /// PATCHes in flight per report.
    #[arg(long, hide = true, default_value_t = 4)]
    pub max_patches_per_report: usize,
    /// PATCHes in flight overall.
    #[arg(long, hide = true, default_value_t = 256)]
    pub max_patches: usize,
    /// How often to sweep expired uploads.
    #[arg(long, hide = true, value_parser = config::parse_duration)]
    pub sweep_interval: Option<Duration>,
    /// SMTP server for e-mail to the on-duty coordinators when a report arrives and when a
    /// case is 4 h from its assessment deadline, e.g. smtp://host:25,
    /// smtp://user:pass@host:587?tls=required, smtps://user:pass@host:465. The e-mails hold a
    /// link to the case and nothing about the report. Without it, no e-mail is sent.
    #[arg(
        long,
        value_name = "URL",
        env = "BERANI_SMTP_URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// The sender address of notification e-mails (needed with --smtp-url), e.g.
    /// "Berani <berani@dinsos.example.go.id>".
    #[arg(long, value_name = "ADDRESS", env = "BERANI_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// How often to look for cases to notify about.
    #[arg(long, hide = true, default_value = "30s", value_parser = config::parse_duration)]
    pub notify_interval: Duration,
}

impl ServeArgs {
    /// The settings these flags describe.
    pub fn into_config(self) -> ServeConfig {
        let defaults = FirstStart::default();
        ServeConfig {
            data: self.data,
            listen: self.listen,
            public_url: self.public_url,
            tls_pin: self.tls_pin,
            tls: self
                .tls_cert
                .zip(self.tls_key)
                .map(|(cert, key)| TlsFiles { cert, key }),
            upload_ttl: self.upload_ttl,
            first_start: FirstStart {
                agency_name: self.agency_name.unwrap_or(defaults.agency_name),
                regency_code: self.regency.unwrap_or(defaults.regency_code),
                hotlines: if self.hotline.is_empty() {
                    defaults.hotlines
                } else {
                    self.hotline
                },
                max_attachment_bytes: self
                    .max_attachment_mb
                    .map_or(defaults.max_attachment_bytes, |mb| {
                        mb.saturating_mul(1_000_000)
                    }),
            },
            limits: LimitConfig {
                body_idle: self.body_idle_timeout,
                header_read: self.header_read_timeout,
                patches_per_report: self.max_patches_per_report.max(1),
                patches_total: self.max_patches.max(1),
                sweep_interval: self.sweep_interval,
            },
            notify: NotifyConfig {
                // A missing sender is refused at start, with a message naming the flag.
                smtp: self.smtp_url.map(|url| SmtpConfig {
                    url,
                    from: self.smtp_from.unwrap_or_default(),
                }),
                interval: self.notify_interval,
            },
        }
    }
}
