//! The catalogue's error type. Failures of the libraries underneath (SQLite, PostgreSQL, the
//! ANN index, JSON, the OS, the on-device pipeline) keep their error as the `source()`, so
//! whoever reports an error (the HTTP layer logs it once per request; the CLI prints it) can
//! print the whole chain. There is no variant for "an error in words": a failure without an
//! error underneath says what it found in typed fields.

use std::num::ParseIntError;

use shoplook_core::ModelContract;

use crate::NORM_TOLERANCE;
use crate::keys::RoleError;

/// Why a request or input is refused (HTTP 400); the Display is the message clients see.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error(
        "`session_id` must be 8-64 characters of A-Z, a-z, 0-9, '-' and '_' (a random id per \
         app session)"
    )]
    SessionId,
    #[error("`position` is 1-based and at most 1000")]
    Position(u32),
    #[error(
        "`query_id` must be 1-64 characters of A-Z, a-z, 0-9, '-' and '_' (as the search \
         returned it)"
    )]
    QueryId,
    #[error("unknown quantization {0:?} (f32, f16, bf16, i8, b1)")]
    Quantization(String),
    #[error("--store {0:?}: only postgres:// URLs are supported (omit it for the embedded store)")]
    StoreUrl(String),
    #[error("give --data DIR (embedded store) or --store postgres://...")]
    NoStore,
    #[error("embedding value {index} is {value} (NaN or infinite)")]
    NotFinite { index: usize, value: f32 },
    #[error(
        "embedding must be unit length: its L2 norm is {norm:.4}, allowed 1 ± {NORM_TOLERANCE}"
    )]
    NotUnitLength { norm: f32 },
    /// A rule of the domain (search, events, campaigns, product batches) refused it: the
    /// domain's own typed error, kept as the source.
    #[error("{0}")]
    Rule(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A vector of another model contract or dimension (HTTP 422); the Display is the message
/// clients see.
#[derive(Debug, thiserror::Error)]
pub enum ContractMismatch {
    /// The catalogue holds vectors of `held`; products of `refused` are refused.
    #[error(
        "this catalogue holds {held} vectors ({} dims); refusing {refused} ({} dims)",
        held.dim,
        refused.dim
    )]
    Catalogue {
        held: Box<ModelContract>,
        refused: Box<ModelContract>,
    },
    /// A query or product names another model than the catalogue's.
    #[error("this catalogue holds {held} vectors; the query is {model:?}")]
    Model {
        held: Box<ModelContract>,
        model: String,
    },
    /// A vector of `got` values where the catalogue's model has `contract.dim`.
    #[error("embedding has {got} values; this catalogue's model {contract} has {}", contract.dim)]
    Dimension {
        got: usize,
        contract: Box<ModelContract>,
    },
    /// Product `index` of a batch does not fit.
    #[error("product {index}: {mismatch}")]
    InBatch {
        index: usize,
        #[source]
        mismatch: Box<ContractMismatch>,
    },
}

/// What was not found (HTTP 404): the kind of thing and its id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Missing {
    /// A product the store was asked to update: the bare id.
    #[error("{0}")]
    StoredProduct(String),
    /// A product, its id quoted and capped ([`quoted`]).
    #[error("product {}", quoted(.0))]
    Product(String),
    /// A product, its whole id quoted (`{:?}`, not capped).
    #[error("product {0:?}")]
    ProductId(String),
    /// A campaign, its id quoted and capped ([`quoted`]).
    #[error("campaign {}", quoted(.0))]
    Campaign(String),
}

/// An input quoted for a message: `{:?}`, cut to 64 characters with the full length said.
pub fn quoted(s: &str) -> String {
    const SHOWN: usize = 64;
    let n = s.chars().count();
    if n <= SHOWN {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{:?} ({n} characters)", format!("{head}…"))
    }
}

/// Errors of the catalogue service.
#[derive(Debug, thiserror::Error)]
pub enum CatError {
    /// The request or input is malformed (HTTP 400).
    #[error(transparent)]
    Invalid(Invalid),
    /// A vector of another model contract or dimension (HTTP 422).
    #[error(transparent)]
    Contract(ContractMismatch),
    /// What was asked for does not exist (HTTP 404).
    #[error("not found: {0}")]
    NotFound(Missing),
    /// The ANN index library (usearch) failed while doing `what` (`add`, `search`, ...).
    #[error("store: index {what}: {source}")]
    Index {
        what: &'static str,
        #[source]
        source: cxx::Exception,
    },
    /// A value the store keeps as JSON (`what`: the model contract, a shown list) does not
    /// parse.
    #[error("store: unreadable {what} in the store: {source}")]
    StoredJson {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// The stored generation counter of the embedded store is not an integer.
    #[error("store: generation counter: {0}")]
    Generation(#[source] ParseIntError),
    /// A stored API key's role does not parse.
    #[error("store: role of a stored key: {0}")]
    StoredRole(#[source] RoleError),
    /// A stored name this version does not know (`what`: event type, campaign pacing...): the
    /// database was written by another version.
    #[error("store: unknown {what} {value:?} in the store")]
    UnknownStored { what: &'static str, value: String },
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
    /// `map_err` for a failed usearch call doing `what`.
    pub fn index(what: &'static str) -> impl FnOnce(cxx::Exception) -> Self {
        move |source| CatError::Index { what, source }
    }

    /// `map_err` for a stored JSON value (`what`) that does not parse.
    pub fn stored_json(what: &'static str) -> impl FnOnce(serde_json::Error) -> Self {
        move |source| CatError::StoredJson { what, source }
    }

    /// An OS error with what was being done.
    pub fn os_at(what: impl Into<String>, source: std::io::Error) -> Self {
        CatError::OsAt {
            what: what.into(),
            source,
        }
    }

    /// A domain rule's typed error (`SearchError`, `CampaignError`...) as [`CatError::Invalid`],
    /// kept as the source.
    pub fn invalid(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        CatError::Invalid(Invalid::Rule(Box::new(e)))
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

    /// One test for `quoted`, wherever it is re-exported (domain rules, HTTP extractors).
    #[test]
    fn quoted_inputs_are_capped() {
        assert_eq!(quoted("abc"), "\"abc\"");
        let q = quoted(&"a".repeat(100));
        assert!(q.ends_with("…\" (100 characters)"), "{q}");
        let q = quoted(&"x".repeat(10_000));
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("(10000 characters)"), "{q}");
    }

    use std::error::Error;

    #[test]
    fn database_errors_keep_their_source_and_their_message() {
        let e = CatError::from(rusqlite::Error::InvalidQuery);
        assert!(e.to_string().starts_with("store: sqlite: "), "{e}");
        let db = e.source().expect("the rusqlite error");
        assert!(db.downcast_ref::<rusqlite::Error>().is_some());
        assert!(e.is_internal());
        assert!(!CatError::Invalid(Invalid::NoStore).is_internal());
    }

    /// A stored value that does not parse keeps the JSON error as its source (the old
    /// `CatError::store` turned it into words: `source()` was `None`).
    #[test]
    fn an_unreadable_stored_value_keeps_its_json_error() {
        let e = crate::searches::shown_from_text("[\"p1\",").unwrap_err();
        assert!(
            matches!(
                e,
                CatError::StoredJson {
                    what: "shown list",
                    ..
                }
            ),
            "{e:?}"
        );
        let json = e.source().expect("the serde_json error");
        assert!(
            json.downcast_ref::<serde_json::Error>().is_some(),
            "{json:?}"
        );
        assert!(
            e.to_string()
                .starts_with("store: unreadable shown list in the store: "),
            "{e}"
        );
        assert!(e.is_internal());
    }

    /// Through the embedded store: a model contract and a key role that do not parse keep the
    /// error of their parser.
    #[test]
    fn the_embedded_store_keeps_the_source_of_what_it_cannot_read() {
        use crate::{KeyStore, ProductIndex, Role};

        let dir = std::env::temp_dir().join(format!("shoplook-error-{}", crate::random_hex(4)));
        let store =
            crate::sqlite::SqliteStore::open(&dir, crate::sqlite::DEFAULT_QUANTIZATION).unwrap();
        store.create_key("k", "hash-k", &Role::App).unwrap();
        let conn = rusqlite::Connection::open(dir.join("catalogue.db")).unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('contract', '{\"id\":')",
            [],
        )
        .unwrap();
        conn.execute(
            "UPDATE api_keys SET role = 'root' WHERE hash = 'hash-k'",
            [],
        )
        .unwrap();

        let e = store.contract().unwrap_err();
        let json = e.source().expect("the serde_json error");
        assert!(json.downcast_ref::<serde_json::Error>().is_some(), "{e:?}");

        let e = store.find_key("hash-k").unwrap_err();
        let role = e.source().expect("the role's parse error");
        assert_eq!(
            role.downcast_ref::<RoleError>(),
            Some(&RoleError::Unknown("root".into())),
            "{e:?}"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
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
