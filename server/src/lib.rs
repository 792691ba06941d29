//! `berani-server`: the Berani intake server.
//!
//! Phones deliver sealed reports here over tus 1.0.0 (`docs/PROTOCOL.md`); the server stores
//! ciphertext it cannot read, checks every part against its hash, and signs a receipt when a
//! report is whole. It also serves the signed agency profile and keeps the agency's intake
//! identity wrapped under the admin credential. The binary (`main.rs`) is a thin shell over
//! [`run`]; tests start the server in-process with [`app::start`] or run the binary.

pub mod app;
pub mod audit;
pub mod cli;
pub mod commands;
pub mod config;
pub mod db;
pub mod demo;
pub mod desk;
pub mod error;
pub mod followup;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod headers;
pub mod http;
pub mod keys;
pub mod limits;
pub mod log;
pub mod profile;
pub mod public;
pub mod receipt;
pub mod schema;
pub mod setup;
pub mod tus;
pub mod volunteers;

use std::io::Write;

pub use app::{Running, start};
use cli::{Cli, Command, KeyCommand, ProfileCommand, UserCommand};
pub use config::ServeConfig;
pub use error::{Result, ServerError};

/// Runs one command line.
pub fn run(cli: Cli) -> Result<()> {
    let stdout = std::io::stdout();
    match cli.command {
        Command::Serve(args) => serve(args.into_config()),
        Command::Demo { data } => demo::run(&data, &mut stdout.lock()),
        Command::Key(KeyCommand::Export { data }) => {
            let password = commands::read_password()?;
            commands::key_export(&data, &password, &mut stdout.lock())
        }
        Command::Profile(ProfileCommand::Pubkey { data }) => {
            commands::profile_pubkey(&data, &mut stdout.lock())
        }
        Command::Profile(ProfileCommand::Sign {
            data,
            key,
            public_url,
            tls_pin,
        }) => commands::profile_sign(
            &data,
            key.as_deref(),
            &commands::ProfileChanges {
                public_url,
                tls_pin,
            },
            &mut stdout.lock(),
        ),
        Command::Profile(ProfileCommand::TlsPin { cert }) => {
            commands::profile_tls_pin(&cert, &mut stdout.lock())
        }
        Command::User(UserCommand::Add {
            data,
            name,
            role,
            display_name,
            office,
            email,
        }) => {
            let new = desk::users::NewUser::check(&name, &display_name, &office, &email, &role)
                .map_err(commands::desk_error)?;
            let password = commands::read_password()?;
            commands::user_add(&data, &password, &new, &mut stdout.lock())
        }
    }
}

/// `serve`: starts, prints the admin password after a first start, and runs until SIGTERM
/// or ctrl-c.
pub fn serve(cfg: ServeConfig) -> Result<()> {
    log::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let running = start(cfg).await?;
        if let Some(pw) = &running.admin_password {
            let mut out = std::io::stdout().lock();
            writeln!(out, "admin password: {}", pw.as_str())?;
            out.flush()?;
            tracing::warn!("write the admin password down now: it is shown only this once");
        }
        wait_for_signal().await;
        tracing::info!("stopping");
        running.shutdown().await;
        Ok(())
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
