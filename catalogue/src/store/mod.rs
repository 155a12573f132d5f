//! Where products, their vectors, events and API keys live. Two implementations with the same
//! behaviour: [`sqlite::SqliteStore`] (embedded, one data directory, no server) and
//! [`postgres::PgStore`] (PostgreSQL + pgvector, for several stateless API servers).

pub mod postgres;
pub mod sqlite;

use std::path::PathBuf;

use shoplook_core::ModelContract;
use shoplook_core::wire::{Event, Product, SearchFilters};

use crate::error::{CatError, CatResult};

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Added,
    Updated,
}

/// An API key as stored (only the hash of the secret is kept).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub name: String,
    pub admin: bool,
}

/// A product as stored, with the hash that decides whether re-ingest must re-embed it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProduct {
    pub product: Product,
    pub content_hash: String,
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

/// The storage interface the ingest and the API use. Blocking; the API calls it from
/// `spawn_blocking`. Implementations are internally synchronised.
pub trait Store: Send + Sync {
    fn kind(&self) -> &'static str;
    /// The model contract of the catalogue's vectors (`None` until the first product).
    fn contract(&self) -> CatResult<Option<ModelContract>>;
    /// Sets the contract of an empty catalogue or checks that it is `contract`.
    fn ensure_contract(&self, contract: &ModelContract) -> CatResult<()>;
    fn get(&self, id: &str) -> CatResult<Option<StoredProduct>>;
    /// Inserts or replaces a product and its vector in one transaction.
    fn upsert(&self, product: &Product, content_hash: &str, vector: &[f32]) -> CatResult<Upserted>;
    /// Replaces the fields of a product whose image did not change (keeps its vector).
    fn update_fields(&self, product: &Product) -> CatResult<()>;
    fn delete(&self, id: &str) -> CatResult<bool>;
    fn ids(&self) -> CatResult<Vec<String>>;
    /// Nearest products by cosine similarity, best first.
    fn search(
        &self,
        query: &[f32],
        k: usize,
        category: Option<&str>,
        filters: &SearchFilters,
    ) -> CatResult<Vec<(Product, f32)>>;
    fn record_event(&self, event: &Event, key_name: &str) -> CatResult<()>;
    fn create_key(&self, name: &str, key_hash: &str, admin: bool) -> CatResult<()>;
    fn find_key(&self, key_hash: &str) -> CatResult<Option<KeyInfo>>;
    fn stats(&self) -> CatResult<StoreStats>;
    /// Persists derived state (the embedded ANN index). Called at the end of an ingest, on
    /// shutdown and periodically by the server.
    fn flush(&self) -> CatResult<()>;
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
}

impl StoreConfig {
    pub fn new(data_dir: Option<PathBuf>, url: Option<String>) -> Self {
        StoreConfig {
            data_dir,
            url,
            read_url: None,
            quantization: sqlite::DEFAULT_QUANTIZATION.into(),
        }
    }
}

pub fn open_store(config: &StoreConfig) -> CatResult<Box<dyn Store>> {
    match (&config.url, &config.data_dir) {
        (Some(url), _) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(
            Box::new(postgres::PgStore::open(url, config.read_url.as_deref())?),
        ),
        (Some(url), _) => Err(CatError::Invalid(format!(
            "--store {url:?}: only postgres:// URLs are supported (omit it for the embedded store)"
        ))),
        (None, Some(dir)) => Ok(Box::new(sqlite::SqliteStore::open(
            dir,
            &config.quantization,
        )?)),
        (None, None) => Err(CatError::Invalid(
            "give --data DIR (embedded store) or --store postgres://...".into(),
        )),
    }
}

/// Checks a vector against a contract: dimension, finiteness, and (roughly) unit length.
pub fn check_vector(vector: &[f32], contract: &ModelContract) -> CatResult<()> {
    if vector.len() != contract.dim {
        return Err(CatError::Contract(format!(
            "embedding has {} values; this catalogue's model {contract} has {}",
            vector.len(),
            contract.dim
        )));
    }
    if let Some(i) = vector.iter().position(|v| !v.is_finite()) {
        return Err(CatError::Invalid(format!(
            "embedding value {i} is {} (NaN or infinite)",
            vector[i]
        )));
    }
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    if !(0.5..=1.5).contains(&norm) {
        return Err(CatError::Invalid(format!(
            "embedding must be unit length (L2 norm {norm:.3})"
        )));
    }
    Ok(())
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
