//! The server's one error type for start-up and the admin commands.
//!
//! HTTP handlers answer with their own short plain-text reasons (see [`crate::tus::reply`]);
//! this type is for what ends a command: a data folder that cannot be used, a key that does
//! not load, a wrong password. Messages name files and settings, never report content, keys
//! or passwords, so that they can be printed as the one line a failing command shows.

use std::io;

/// Why a command or the server start failed.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data folder is missing, foreign, half set up or from a newer version.
    #[error("data folder: {0}")]
    Folder(String),
    /// The database refused an operation.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The admin credential did not match.
    #[error("wrong password")]
    WrongPassword,
    /// A key file or stored key is unusable.
    #[error("key: {0}")]
    Key(String),
    /// A setting or flag is invalid.
    #[error("{0}")]
    Config(String),
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(String),
}

impl ServerError {
    /// An I/O error with the file or action it concerns.
    pub fn io(what: impl std::fmt::Display, e: io::Error) -> Self {
        ServerError::Io(io::Error::new(e.kind(), format!("{what}: {e}")))
    }
}

/// Shorthand for results of start-up and commands.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
