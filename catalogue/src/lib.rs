//! ShopLook catalogue lookup service.
//!
//! ```text
//! feed (JSONL/CSV) ──feed──▶ products ──ingest (core Engine: detect + embed)──▶ Store
//!                                                                   ├─ sqlite: SQLite rows (truth) + usearch HNSW (derived)
//!                                                                   └─ postgres: one table, pgvector HNSW
//! apps / `shoplook lookup` ──HTTP (http: one router per area)──▶ search pipeline, products, events, ops
//! ```
//!
//! Layers point one way: `http` -> `search` -> `store`; `ingest` and `eval` use the store and
//! `core`. Command-line parsing and printing live in the binaries (`cli/src/catalogue/`,
//! shared by `shoplook catalogue ...` and this crate's `shoplook-catalogue`), not here.
//!
//! Product images are embedded by exactly the same code and model as the phone (`shoplook-core`),
//! and every vector carries its model contract: a query under another contract is refused.

pub mod ads;
pub mod console;
pub mod error;
pub mod eval;
pub mod feed;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod learn;
pub mod metrics;
pub mod search;
pub mod store;
pub mod trends;

pub use error::{CatError, CatResult};
pub use store::{Store, StoreConfig, open_store};

/// The model directory when `--models` is not given (the binaries, tests, eval): the
/// `$SHOPLOOK_MODELS` variable if set, else the `models/` folder of this checkout. The core
/// library has no default: where the models live is its caller's business.
pub fn default_model_dir() -> std::path::PathBuf {
    std::env::var_os("SHOPLOOK_MODELS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models"))
}

/// Hex of SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `n` random bytes from the OS, as hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source failed");
    hex(&buf)
}

/// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01, proleptic Gregorian; Howard
/// Hinnant's `civil_from_days`). Trend reports and campaign reports both label days with it.
pub fn iso_date(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since the Unix epoch.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
