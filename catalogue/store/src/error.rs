//! The catalogue's error type. Failures of the libraries underneath (SQLite, PostgreSQL, the
//! OS, the on-device pipeline) keep their error as the `source()`, so whoever logs an error
//! (the HTTP layer, once per request) can print the whole chain.

use std::fmt::Display;

/// Errors of the catalogue service.
#[derive(Debug, thiserror::Error)]
pub enum CatError {
    /// The request or input is malformed (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// A vector of another model contract or dimension (HTTP 422).
    #[error("{0}")]
    Contract(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The store failed and said why in words (index library, a stored value unreadable).
    #[error("store: {0}")]
    Store(String),
    /// SQLite failed (the embedded store).
    #[error("store: sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed. The message is the server's own words: the Display of
    /// `postgres::Error` alone says only "db error".
    #[error("store: postgres: {}", postgres_detail(.0))]
    Postgres(#[source] postgres::Error),
    /// The database's schema cannot be brought to this release's version: written by a newer
    /// release, or a migration failed (`migrations.rs`).
    #[error("store: {0}")]
    Migration(#[from] crate::migrations::MigrationError),
    /// A blocking store call on the server's worker pool panicked or was cancelled.
    #[error("store: task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The on-device pipeline failed (image unreadable, model error).
    #[error("{0}")]
    Core(#[from] shoplook_core::Error),
    /// An I/O failure described in words (no OS error to keep).
    #[error("{0}")]
    Io(String),
    /// An OS call failed (file, socket).
    #[error("{0}")]
    Os(#[from] std::io::Error),
    /// An OS call failed while doing `what` (`cannot listen on 127.0.0.1:8787`).
    #[error("{what}: {source}")]
    OsAt {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type CatResult<T> = Result<T, CatError>;

impl CatError {
    /// A store failure described by a message (index library, parse of a stored value).
    pub fn store(e: impl Display) -> Self {
        CatError::Store(e.to_string())
    }

    /// An OS error with what was being done.
    pub fn os_at(what: impl Into<String>, source: std::io::Error) -> Self {
        CatError::OsAt {
            what: what.into(),
            source,
        }
    }

    /// Whether the store could not be reached or failed (not the caller's fault).
    pub fn is_internal(&self) -> bool {
        !matches!(
            self,
            CatError::Invalid(_) | CatError::Contract(_) | CatError::NotFound(_)
        )
    }
}

impl From<postgres::Error> for CatError {
    fn from(e: postgres::Error) -> Self {
        CatError::Postgres(e)
    }
}

fn postgres_detail(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::error::Error;

    #[test]
    fn database_errors_keep_their_source_and_their_message() {
        let e = CatError::from(rusqlite::Error::InvalidQuery);
        assert!(e.to_string().starts_with("store: sqlite: "), "{e}");
        let db = e.source().expect("the rusqlite error");
        assert!(db.downcast_ref::<rusqlite::Error>().is_some());
        assert!(e.is_internal());
        assert!(!CatError::Invalid("x".into()).is_internal());
    }

    #[test]
    fn os_errors_keep_their_source() {
        let e = CatError::os_at(
            "cannot listen on 127.0.0.1:1",
            std::io::Error::from(std::io::ErrorKind::AddrInUse),
        );
        assert!(e.to_string().starts_with("cannot listen on 127.0.0.1:1: "));
        assert!(
            e.source()
                .unwrap()
                .downcast_ref::<std::io::Error>()
                .is_some()
        );
        let e: CatError = std::io::Error::other("disk full").into();
        assert_eq!(e.to_string(), "disk full");
    }
}
