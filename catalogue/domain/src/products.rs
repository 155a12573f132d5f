//! Products written and read one by one, as the API does it (`GET`/`DELETE /v1/products/{id}`,
//! `PUT /v1/products`): a batch of 1-[`MAX_BATCH`] products with their embeddings, validated as
//! a whole before anything is written, each with the content hash that tells a later ingest
//! whether it must embed the product again.

use std::sync::Arc;

use serde_json::Value;
use shoplook_core::ModelContract;
use shoplook_core::wire::Product;

use crate::error::{CatError, CatResult, ContractMismatch, Missing};
use crate::rules::{FieldError, check_product, may_exist};
use crate::store::{Store, Upserted};

/// Largest batch of `PUT /v1/products`.
pub const MAX_BATCH: usize = 1000;

/// A validated product, ready to be written with its vector.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedProduct {
    pub product: Product,
    /// [`content_hash`] of the embedding and its model.
    pub content_hash: String,
    pub embedding: Vec<f32>,
}

/// The content hash of a product sent with its embedding: SHA-256 of the vector's
/// little-endian bytes and the model's name (a new vector or model is a new content).
pub fn content_hash(embedding: &[f32], model: &str) -> String {
    let mut hashed: Vec<u8> = embedding.iter().flat_map(|v| v.to_le_bytes()).collect();
    hashed.extend_from_slice(model.as_bytes());
    crate::sha256_hex(&hashed)
}

/// Why a batch is refused; the Display is the message clients see.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("expected an array of products or {{\"products\":[...]}}")]
    NotABatch,
    #[error("a batch holds 1..={MAX_BATCH} products")]
    Size { count: usize },
    #[error("product {index}: {error}")]
    Product {
        index: usize,
        #[source]
        error: ProductError,
    },
}

/// Why one product of a batch is refused.
#[derive(Debug, thiserror::Error)]
pub enum ProductError {
    #[error("not an object")]
    NotAnObject,
    #[error("`embedding`: {0}")]
    Embedding(#[source] serde_json::Error),
    #[error("`embedding` is missing")]
    EmbeddingMissing,
    #[error("`model` is missing")]
    ModelMissing,
    /// The vector does not fit the catalogue's contract ([`crate::search::check_query`]).
    #[error(transparent)]
    Vector(CatError),
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The feed's own checks (`feed::validate_value`), which report in words.
    #[error("{0}")]
    Feed(String),
}

impl From<BatchError> for CatError {
    /// A vector of another contract stays a contract error (422); the rest is invalid (400).
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Product {
                index,
                error: ProductError::Vector(CatError::Contract(mismatch)),
            } => CatError::Contract(ContractMismatch::InBatch {
                index,
                mismatch: Box::new(mismatch),
            }),
            e => CatError::invalid(e),
        }
    }
}

/// Validates a whole batch (an array of products, or `{"products":[...]}`) before anything is
/// written: each product with its embedding checked against `contract` and its content hash.
/// Embeddings are expected at unit length already (the HTTP layer scales them).
pub fn validate_batch(
    contract: &ModelContract,
    value: Value,
) -> Result<Vec<CheckedProduct>, BatchError> {
    let items = match value {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("products") {
            Some(Value::Array(a)) => a,
            _ => return Err(BatchError::NotABatch),
        },
        _ => return Err(BatchError::NotABatch),
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(BatchError::Size { count: items.len() });
    }
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            validate_product(contract, item).map_err(|error| BatchError::Product { index, error })
        })
        .collect()
}

/// One product of a batch: its embedding and model, the API's field rules (as the OpenAPI
/// document states them), then the feed's checks.
fn validate_product(
    contract: &ModelContract,
    mut item: Value,
) -> Result<CheckedProduct, ProductError> {
    let obj = item.as_object_mut().ok_or(ProductError::NotAnObject)?;
    let embedding: Vec<f32> = obj
        .remove("embedding")
        .map(serde_json::from_value)
        .transpose()
        .map_err(ProductError::Embedding)?
        .ok_or(ProductError::EmbeddingMissing)?;
    let model = obj
        .remove("model")
        .and_then(|m| m.as_str().map(str::to_string))
        .ok_or(ProductError::ModelMissing)?;
    crate::search::check_query(contract, &model, &embedding).map_err(ProductError::Vector)?;
    check_product(obj)?;
    let product =
        crate::feed::validate_value(item).map_err(|e| ProductError::Feed(e.to_string()))?;
    Ok(CheckedProduct {
        product,
        content_hash: content_hash(&embedding, &model),
        embedding,
    })
}

/// How many products of a batch were new and how many replaced one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub added: usize,
    pub updated: usize,
}

/// The products of one catalogue, read and written one by one. Blocking (store calls).
pub struct ProductService {
    store: Arc<dyn Store>,
}

fn not_found(id: &str) -> CatError {
    CatError::NotFound(Missing::Product(id.to_string()))
}

impl ProductService {
    pub fn new(store: Arc<dyn Store>) -> Self {
        ProductService { store }
    }

    /// The product `id`, or `NotFound`.
    pub fn get(&self, id: &str) -> CatResult<Product> {
        if !may_exist(id) {
            return Err(not_found(id));
        }
        match self.store.get(id)? {
            Some(p) => Ok(p.product),
            None => Err(not_found(id)),
        }
    }

    /// Deletes the product `id`, or `NotFound`.
    pub fn delete(&self, id: &str) -> CatResult<()> {
        if may_exist(id) && self.store.delete(id)? {
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    /// Writes a validated batch ([`validate_batch`]), in order.
    pub fn upsert(&self, batch: &[CheckedProduct]) -> CatResult<UpsertCounts> {
        let mut counts = UpsertCounts::default();
        for p in batch {
            match self
                .store
                .upsert(&p.product, &p.content_hash, &p.embedding)?
            {
                Upserted::Added => counts.added += 1,
                Upserted::Updated => counts.updated += 1,
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn contract() -> ModelContract {
        ModelContract {
            id: "m".into(),
            version: "1".into(),
            dim: 2,
        }
    }

    fn item(id: &str) -> Value {
        json!({"id": id, "title": "Red shoe", "price": 10.5, "currency": "EUR",
               "image": "p.jpg", "url": "https://example.com/p",
               "embedding": [0.6, 0.8], "model": "m@1"})
    }

    #[test]
    fn a_batch_is_validated_whole_and_hashed_by_vector_and_model() {
        let batch =
            validate_batch(&contract(), json!({"products": [item("a"), item("b")]})).unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(batch[0].product.id, "a");
        assert_eq!(batch[0].content_hash, content_hash(&[0.6, 0.8], "m@1"));
        assert_ne!(batch[0].content_hash, content_hash(&[0.8, 0.6], "m@1"));
        assert_ne!(batch[0].content_hash, content_hash(&[0.6, 0.8], "m@2"));
    }

    #[test]
    fn each_refusal_names_the_product_and_keeps_its_status() {
        let mut no_url = item("b");
        no_url.as_object_mut().unwrap().remove("url");
        let e = validate_batch(&contract(), json!([item("a"), no_url])).unwrap_err();
        assert_eq!(e.to_string(), "product 1: `url` is missing");
        assert!(matches!(CatError::from(e), CatError::Invalid(_)));

        let mut other_model = item("a");
        other_model["model"] = json!("other@1");
        let e = validate_batch(&contract(), json!([other_model])).unwrap_err();
        assert!(e.to_string().starts_with("product 0: "), "{e}");
        assert!(matches!(CatError::from(e), CatError::Contract(_)));

        let e = validate_batch(&contract(), json!([])).unwrap_err();
        assert_eq!(e.to_string(), "a batch holds 1..=1000 products");
        let e = validate_batch(&contract(), json!({"items": []})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "expected an array of products or {\"products\":[...]}"
        );
    }
}
