//! ShopLook catalogue lookup service.
//!
//! ```text
//! feed (JSONL/CSV) ──feed──▶ products ──ingest (core Engine: detect + embed)──▶ Store
//!                                                                   ├─ sqlite: SQLite rows (truth) + usearch HNSW (derived)
//!                                                                   └─ postgres: one table, pgvector HNSW
//! apps / `shoplook lookup` ──HTTP (api)──▶ search, products, events, metrics
//! ```
//!
//! Product images are embedded by exactly the same code and model as the phone (`shoplook-core`),
//! and every vector carries its model contract: a query under another contract is refused.

pub mod api;
pub mod auth;
pub mod cli;
pub mod error;
pub mod eval;
pub mod feed;
pub mod ingest;
pub mod metrics;
pub mod store;

pub use error::{CatError, CatResult};
pub use store::{Store, StoreConfig, open_store};

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

/// Seconds since the Unix epoch.
pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
