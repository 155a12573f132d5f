//! Products and their vectors: what the ingest writes and the search reads.

use shoplook_core::ModelContract;
use shoplook_core::wire::{Product, SearchFilters};

use crate::error::CatResult;

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Added,
    Updated,
}

/// A product as stored, with the hash that decides whether re-ingest must re-embed it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProduct {
    pub product: Product,
    pub content_hash: String,
}

/// The catalogue's products with their vectors, searchable by cosine similarity. Blocking;
/// implementations are internally synchronised.
pub trait ProductIndex {
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
    /// Every product id, sorted.
    fn ids(&self) -> CatResult<Vec<String>>;
    /// Nearest products by cosine similarity, best first, among those that
    /// [`passes`](super::passes) `category` and `filters`.
    fn search(
        &self,
        query: &[f32],
        k: usize,
        category: Option<&str>,
        filters: &SearchFilters,
    ) -> CatResult<Vec<(Product, f32)>>;
    /// Persists derived state (the embedded ANN index). Called at the end of an ingest, on
    /// shutdown and periodically by the server.
    fn flush(&self) -> CatResult<()>;
}
