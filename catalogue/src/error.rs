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
    /// The store failed (database, index, disk).
    #[error("store: {0}")]
    Store(String),
    /// The on-device pipeline failed (image unreadable, model error).
    #[error("{0}")]
    Core(#[from] shoplook_core::Error),
    #[error("{0}")]
    Io(String),
}

pub type CatResult<T> = Result<T, CatError>;

impl CatError {
    pub fn store(e: impl Display) -> Self {
        CatError::Store(e.to_string())
    }
}

impl From<rusqlite::Error> for CatError {
    fn from(e: rusqlite::Error) -> Self {
        CatError::Store(format!("sqlite: {e}"))
    }
}

impl From<postgres::Error> for CatError {
    fn from(e: postgres::Error) -> Self {
        // The Display of postgres::Error hides the server's message; Debug-free detail here.
        let detail = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| e.to_string());
        CatError::Store(format!("postgres: {detail}"))
    }
}

impl From<std::io::Error> for CatError {
    fn from(e: std::io::Error) -> Self {
        CatError::Io(e.to_string())
    }
}
