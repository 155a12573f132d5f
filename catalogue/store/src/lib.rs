//! The catalogue's store: the domain's records (products, keys and roles, events, searches,
//! campaigns) and where they live. The bottom layer of the catalogue: it imports no other
//! catalogue crate (`shoplook-domain`, `shoplook-http` and the tools sit above it).
//!
//! Where products, their vectors, events and API keys live. Two implementations with the same
//! behaviour: [`sqlite::SqliteStore`] (embedded, one data directory, no server) and
//! [`postgres::PgStore`] (PostgreSQL + pgvector, for several stateless API servers).
//! The conformance suite (`store_conformance_suite!`, feature `conformance`) runs every
//! case against both (`tests/conformance.rs`); each keeps its schema in numbered migrations
//! ([`migrations`]).
//!
//! - [`ProductIndex`] (`index.rs`): products and their vectors, filtered nearest-neighbour search
//!   with the semantics of [`passes`].
//! - [`EventLog`] (`events.rs`): append-only events, scanned from a cursor.
//! - [`SearchLog`] (`searches.rs`): the searches (query embedding, list shown), and the
//!   retention purge of both logs.
//! - [`KeyStore`] (`keys.rs`): API keys (hashes only) and their [`Role`].
//! - [`CampaignStore`] (`campaigns.rs`): sponsored-product campaigns, the ads served, the
//!   clicks charged (atomically, within budget) and the spend per day.
//! - [`Store`]: all of them in one database, with `kind` and `stats`.

pub mod campaigns;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod events;
pub mod index;
pub mod keys;
pub mod migrations;
pub mod postgres;
pub mod searches;
pub mod sqlite;
pub mod trends;

use std::path::PathBuf;

use shoplook_core::ModelContract;
use shoplook_core::wire::{Product, SearchFilters};

pub use campaigns::CampaignStore;
pub use events::{EventLog, LoggedEvent};
pub use index::{ProductIndex, StoredProduct, Upserted};
pub use keys::{KeyInfo, KeyRecord, KeyStore, Revoked, Role, RoleError};
pub use searches::{LoggedSearch, Purged, SearchLog, SearchRecord};
pub use trends::TrendLog;

pub use error::{CatError, CatResult, ContractMismatch, Invalid, Missing};

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

/// How far a simulation moved this process's clock ahead (ms; see [`skip_clock_ahead`]).
static CLOCK_AHEAD_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Seconds since the Unix epoch (the clock every service reads).
pub fn now_s() -> i64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    (ms + CLOCK_AHEAD_MS.load(std::sync::atomic::Ordering::Relaxed)).div_euclid(1000)
}

/// Moves this process's clock ([`now_s`]) `ms` ahead, for good. For simulations only: the
/// simulator's shoppers take seconds to read and click (the click filter checks that they
/// do, `shoplook_domain::ads::fraud`) without the run waiting for them. No server calls it.
pub fn skip_clock_ahead(ms: i64) {
    CLOCK_AHEAD_MS.fetch_add(ms.max(0), std::sync::atomic::Ordering::Relaxed);
}

/// Size figures for `/metrics` and the benchmarks.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    pub products: u64,
    pub events: u64,
    /// Vectors in the ANN index.
    pub index_size: u64,
    /// Bytes of the ANN index (in memory for sqlite; on disk for postgres).
    pub index_bytes: u64,
}

/// One database behind the ingest and the API: the product index, the event log and the API
/// keys, plus what spans them. Blocking; the API calls it from `spawn_blocking`.
/// Implementations are internally synchronised. Code that needs only one part should take
/// that trait (`&dyn EventLog`, ...).
pub trait Store:
    ProductIndex + EventLog + SearchLog + KeyStore + TrendLog + CampaignStore + Send + Sync
{
    fn kind(&self) -> &'static str;
    fn stats(&self) -> CatResult<StoreStats>;
    /// Index files that opening the store passed over (it loaded an older one or rebuilt from
    /// the rows instead). The store prints nothing: whoever opened it reports these.
    fn ignored_index_files(&self) -> &[sqlite::IgnoredIndexFile] {
        &[]
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Data directory of the embedded store.
    pub data_dir: Option<PathBuf>,
    /// `postgres://...`: use PostgreSQL + pgvector instead.
    pub url: Option<String>,
    /// Optional read replica for searches and product reads (postgres only).
    pub read_url: Option<String>,
    /// Vector quantisation of the embedded ANN index (`f32`, `f16`, `i8`, `b1`), used when a
    /// new index is created.
    pub quantization: String,
    /// HNSW search breadth (ef_search) of either store. `None`: each store's own default,
    /// 512 embedded ([`sqlite::DEFAULT_EF_SEARCH`]) and 128 on PostgreSQL
    /// ([`postgres::DEFAULT_EF_SEARCH`]). They differ on purpose (docs/catalogue.md, Search):
    /// 512 is the embedded index's lowest setting measured at 0.95 recall@10 on 100k vectors;
    /// pgvector is about 5x slower per search, so its default stays lower.
    pub ef_search: Option<usize>,
}

impl StoreConfig {
    pub fn new(data_dir: Option<PathBuf>, url: Option<String>) -> Self {
        StoreConfig {
            data_dir,
            url,
            read_url: None,
            quantization: sqlite::DEFAULT_QUANTIZATION.into(),
            ef_search: None,
        }
    }
}

pub fn open_store(config: &StoreConfig) -> CatResult<Box<dyn Store>> {
    match (&config.url, &config.data_dir) {
        (Some(url), _) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Box::new(postgres::PgStore::open_with(
                url,
                config.read_url.as_deref(),
                config.ef_search.unwrap_or(postgres::DEFAULT_EF_SEARCH),
            )?))
        }
        (Some(url), _) => Err(CatError::Invalid(Invalid::StoreUrl(url.clone()))),
        (None, Some(dir)) => Ok(Box::new(sqlite::SqliteStore::open_with(
            dir,
            &config.quantization,
            sqlite::HnswParams {
                expansion_search: config.ef_search.unwrap_or(sqlite::DEFAULT_EF_SEARCH),
                ..sqlite::HnswParams::default()
            },
        )?)),
        (None, None) => Err(CatError::Invalid(Invalid::NoStore)),
    }
}

/// How far from 1 a stored or searched vector's L2 norm may be. The HTTP API scales what it
/// receives to unit length first (`http::extract::unit_embeddings`); this guards every other
/// way in (ingest, callers of the store), where a vector off by more is a bug.
pub const NORM_TOLERANCE: f32 = 0.01;

/// Checks a vector against a contract: dimension, finiteness, and unit length within
/// [`NORM_TOLERANCE`].
pub fn check_vector(vector: &[f32], contract: &ModelContract) -> CatResult<()> {
    if vector.len() != contract.dim {
        return Err(CatError::Contract(ContractMismatch::Dimension {
            got: vector.len(),
            contract: Box::new(contract.clone()),
        }));
    }
    if let Some(i) = vector.iter().position(|v| !v.is_finite()) {
        return Err(CatError::Invalid(Invalid::NotFinite {
            index: i,
            value: vector[i],
        }));
    }
    let norm = l2_norm(vector);
    if !((1.0 - NORM_TOLERANCE)..=(1.0 + NORM_TOLERANCE)).contains(&norm) {
        return Err(CatError::Invalid(Invalid::NotUnitLength { norm }));
    }
    Ok(())
}

fn l2_norm(v: &[f32]) -> f32 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt() as f32
}

/// True if a product passes the category and filters (the reference semantics both stores
/// implement).
pub fn passes(p: &Product, category: Option<&str>, f: &SearchFilters) -> bool {
    category.is_none_or(|c| p.category.eq_ignore_ascii_case(c))
        && f.max_price.is_none_or(|m| p.price <= m)
        && f.min_price.is_none_or(|m| p.price >= m)
        && f.brand
            .as_deref()
            .is_none_or(|b| p.brand.eq_ignore_ascii_case(b))
        && f.in_stock.is_none_or(|s| !s || p.in_stock)
}
